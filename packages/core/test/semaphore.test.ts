import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulationError, ValueError, program, run, type Op, type Semaphore } from '../src/index.js';
import { expectDeadlock, expectError, expectOk, holdersMonitor, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

/** `k` workers pass through a Semaphore(n), holding it across a scheduling point. */
const turnstileAsync = (n: number, k: number, bounded: boolean) =>
  program(async ({ mp, time, random }) => {
    const sem = bounded ? mp.BoundedSemaphore(n) : mp.Semaphore(n);
    const inside = { now: 0, peak: 0 };
    const work = async (): Promise<void> => {
      await sem.acquire();
      inside.now++;
      inside.peak = Math.max(inside.peak, inside.now);
      await time.sleep(random.random());
      inside.now--;
      await sem.release();
    };
    const ps = Array.from({ length: k }, () => mp.Process({ target: work }));
    for (const p of ps) await p.start();
    for (const p of ps) await p.join();
    return [inside.peak, await sem.getValue()];
  });

const turnstileGen = (n: number, k: number) =>
  program(function* ({ mp, time, random }) {
    const sem = mp.Semaphore(n);
    const inside = { now: 0, peak: 0 };
    function* work(): Gen {
      yield* sem.acquire();
      inside.now++;
      inside.peak = Math.max(inside.peak, inside.now);
      yield* time.sleep(random.random());
      inside.now--;
      yield* sem.release();
    }
    const ps = Array.from({ length: k }, () => mp.Process({ target: work }));
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
    return [inside.peak, yield* sem.getValue()];
  });

describe('Semaphore: counting', () => {
  it('async: never more than N holders at any step, for every seed, in both timing modes', async () => {
    for (const timing of ['timed', 'untimed'] as const) {
      let maxPeak = 0;
      for (const seed of seeds(200)) {
        const m = holdersMonitor('Semaphore#1', 3);
        const r = await run(turnstileAsync(3, 7, false), { seed, timing, monitors: [m] });
        expectOk(r);
        const [peak, value] = r.value as [number, number];
        expect(peak).toBeLessThanOrEqual(3);
        expect(m.peak).toBeLessThanOrEqual(3);
        expect(value).toBe(3);
        maxPeak = Math.max(maxPeak, peak);
      }
      expect(maxPeak).toBe(3); // the bound is reached, not just respected
    }
  });

  it('generator: never more than N holders at any step, for every seed', async () => {
    for (const seed of seeds(200)) {
      const m = holdersMonitor('Semaphore#1', 2);
      const r = await run(turnstileGen(2, 5), { seed, timing: 'untimed', monitors: [m] });
      expectOk(r);
      expect(m.peak).toBeLessThanOrEqual(2);
      const [peak, value] = r.value as [number, number];
      // Code between acquire and release sees no more holders than the operations do.
      expect(peak).toBeLessThanOrEqual(m.peak);
      expect(value).toBe(2);
    }
  });

  it('timed mode: the first N acquirers all get in at t=0, the rest wait for a release', async () => {
    for (const seed of seeds(50)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const sem = mp.BoundedSemaphore(2);
          const entered: number[] = [];
          const work = async (): Promise<void> => {
            await sem.acquire();
            entered.push(time.time());
            await time.sleep(1);
            await sem.release();
          };
          for (let i = 0; i < 5; i++) await mp.Process({ target: work }).start();
          return entered;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([0, 0, 1, 1, 2]);
      expect(r.time).toBe(3);
    }
  });

  it('law: with N slots and K workers, the peak number of holders is exactly min(N, K) in timed mode', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 8 }), fc.nat(1000), async (n, k, seed) => {
        const m = holdersMonitor('Semaphore#1', n);
        const r = await run(turnstileAsync(n, k, false), { seed, monitors: [m] });
        expectOk(r);
        // random.random() > 0 almost surely, so everyone admitted at t=0 is still inside.
        expect(m.peak).toBe(Math.min(n, k));
      }),
      { numRuns: 60 },
    );
  });

  it('default value is 1: a Semaphore() is a mutex', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const a = mp.Semaphore();
        const b = mp.BoundedSemaphore();
        return [await a.getValue(), await a.acquire(false), await a.acquire(false), await b.getValue()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([1, true, false, 1]);
  });

  it('getValue follows acquires and releases', async () => {
    const r = await run(
      program(function* ({ mp }) {
        const sem = mp.Semaphore(3);
        const vs: number[] = [yield* sem.getValue()];
        yield* sem.acquire();
        vs.push(yield* sem.getValue());
        yield* sem.acquire();
        yield* sem.acquire();
        vs.push(yield* sem.getValue());
        yield* sem.release();
        vs.push(yield* sem.getValue());
        return vs;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([3, 2, 0, 1]);
  });

  it('Semaphore(0) blocks acquirers until another process releases: a signal', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time, print }) => {
          const sem = mp.Semaphore(0);
          const res = [await sem.acquire(false)];
          const waiter = mp.Process({
            target: async () => {
              await sem.acquire();
              await print('signalled at', time.time());
            },
          });
          await waiter.start();
          await time.sleep(4);
          await sem.release(); // main never acquired it: semaphores have no owner
          await waiter.join();
          res.push(await sem.acquire(false));
          return res;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([false, false]);
      expect(r.stdout).toBe('signalled at 4\n');
    }
  });

  it('acquire(true, timeout) resolves to false after exactly the timeout when no unit is free', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const sem = mp.Semaphore(1);
        await sem.acquire();
        await time.sleep(0.5);
        return [await sem.acquire(true, 2), time.time(), await sem.getValue()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, 2.5, 0]);
  });

  it('an unbounded Semaphore may be released above its initial value', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const sem = mp.Semaphore(1);
        await sem.release();
        await sem.release();
        return await sem.getValue();
      }),
    );
    expectOk(r);
    expect(r.value).toBe(3);
  });

  it('a release wakes exactly one blocked acquirer', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const sem = mp.Semaphore(0);
          const got: number[] = [];
          const work = async (i: number): Promise<void> => {
            if (await sem.acquire(true, 10)) got.push(i);
          };
          for (let i = 0; i < 3; i++) await mp.Process({ target: work, args: [i] }).start();
          await time.sleep(1);
          await sem.release();
          await time.sleep(1);
          return [got.length, time.time()];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([1, 2]);
      expect(r.time).toBe(10); // the two others time out
    }
  });
});

describe('BoundedSemaphore', () => {
  it('release above the initial value raises ValueError and leaves the value unchanged', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const sem = mp.BoundedSemaphore(2);
        const out: unknown[] = [];
        try {
          await sem.release();
        } catch (e) {
          out.push(e);
        }
        out.push(await sem.getValue());
        await sem.acquire();
        await sem.release(); // back to 2: fine
        out.push(await sem.getValue());
        return out;
      }),
    );
    expectOk(r);
    const [e, v1, v2] = r.value as [Error, number, number];
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toContain('semaphore or lock released too many times');
    expect(e.message).toContain('BoundedSemaphore#1.release() would raise the value above its initial 2');
    expect(e.message).toContain('release only what you acquired');
    expect([v1, v2]).toEqual([2, 2]);
  });

  it('generator style: the over-release raises at the yield*', async () => {
    const r = await run(
      program(function* ({ mp }) {
        const sem = mp.BoundedSemaphore(1);
        yield* sem.acquire();
        yield* sem.release();
        try {
          yield* sem.release();
        } catch (e) {
          return (e as Error).name;
        }
        return 'no error';
      }),
    );
    expectOk(r);
    expect(r.value).toBe('ValueError');
  });

  it('any process may release a unit another process acquired', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const sem = mp.BoundedSemaphore(1);
        await sem.acquire();
        const p = mp.Process({ target: async () => await sem.release() });
        await p.start();
        await p.join();
        return [p.exitcode, await sem.getValue()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([0, 1]);
  });

  it('law: a model of the value predicts every acquire(false), release and ValueError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 }),
        fc.boolean(),
        fc.array(fc.boolean(), { maxLength: 25 }),
        async (initial, bounded, ops) => {
          const r = await run(
            program(function* ({ mp }) {
              const sem: Semaphore = bounded ? mp.BoundedSemaphore(initial) : mp.Semaphore(initial);
              const seen: unknown[] = [];
              for (const isAcquire of ops) {
                if (isAcquire) {
                  seen.push(yield* sem.acquire(false));
                } else {
                  try {
                    yield* sem.release();
                    seen.push('released');
                  } catch (e) {
                    seen.push((e as Error).name);
                  }
                }
                seen.push(yield* sem.getValue());
              }
              return seen;
            }),
          );
          expectOk(r);
          let v = initial;
          const expected: unknown[] = [];
          for (const isAcquire of ops) {
            if (isAcquire) {
              expected.push(v > 0);
              if (v > 0) v--;
            } else if (bounded && v >= initial) {
              expected.push('ValueError');
            } else {
              v++;
              expected.push('released');
            }
            expected.push(v);
          }
          expect(r.value).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Semaphore: construction', () => {
  it('a negative initial value raises ValueError in the creating process', async () => {
    for (const make of ['Semaphore', 'BoundedSemaphore'] as const) {
      const r = await run(
        program(({ mp }) => {
          try {
            mp[make](-1);
          } catch (e) {
            return e;
          }
          return null;
        }),
      );
      expectOk(r);
      expect(r.value).toBeInstanceOf(ValueError);
      expect((r.value as Error).message).toBe('semaphore initial value must be >= 0');
    }
  });

  it('an uncaught negative initial value in the main process makes the run fail with that ValueError', async () => {
    const r = await run(
      program(({ mp }) => {
        mp.Semaphore(-3);
      }),
    );
    expectError(r);
    expect(r.error).toBeInstanceOf(ValueError);
    expect(r.message).toBe('ValueError: semaphore initial value must be >= 0');
  });

  it('a non-integer initial value is simulator misuse', async () => {
    for (const v of [1.5, Number.NaN, '2' as unknown as number]) {
      const r = await run(
        program(({ mp }) => {
          mp.Semaphore(v);
        }),
      );
      expectError(r);
      expect(r.error).toBeInstanceOf(SimulationError);
      expect((r.error as SimulationError).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('ids distinguish Semaphore and BoundedSemaphore, and a deadlock names the holders', async () => {
    const r = await run(
      program(async ({ mp }) => {
        mp.Semaphore(1);
        const sem = mp.BoundedSemaphore(2);
        const hog = async (): Promise<void> => {
          await sem.acquire();
          await mp.Event().wait();
        };
        await mp.Process({ target: hog }).start();
        await mp.Process({ target: hog }).start();
        const p = mp.Process({ target: async () => await sem.acquire() });
        await p.start();
        await p.join();
      }),
      { seed: 3 },
    );
    expectDeadlock(r);
    const third = r.blocked.find((b) => b.name === 'Process-3');
    expect(third?.op).toBe('BoundedSemaphore#1.acquire()');
    expect([...(third?.heldBy ?? [])].sort()).toEqual([1001, 1002]);
    expect(third?.waitsOn).toMatch(/^BoundedSemaphore#1 is held by Process-\d \(pid 100\d\), Process-\d \(pid 100\d\)$/);
  });
});
