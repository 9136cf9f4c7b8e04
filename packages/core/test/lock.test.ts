import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PythonError,
  SimulationError,
  ValueError,
  program,
  run,
  runSync,
  type Lock,
  type Op,
} from '../src/index.js';
import { expectDeadlock, expectError, expectOk, holdersMonitor, lines, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

/** Three processes each add 1 three times with a read / scheduling point / write. */
const asyncCounter = (useLock: boolean) =>
  program(async ({ mp, time }) => {
    const lock = mp.Lock();
    const box = { n: 0 };
    async function inc(times: number): Promise<void> {
      for (let i = 0; i < times; i++) {
        if (useLock) await lock.acquire();
        const v = box.n;
        await time.sleep(0); // a scheduling point between the read and the write
        box.n = v + 1;
        if (useLock) await lock.release();
      }
    }
    const ps = [0, 1, 2].map(() => mp.Process({ target: inc, args: [3] }));
    for (const p of ps) await p.start();
    for (const p of ps) await p.join();
    return box.n;
  });

const genCounter = (useLock: boolean) =>
  program(function* ({ mp, time }) {
    const lock = mp.Lock();
    const box = { n: 0 };
    function* inc(times: number): Gen {
      for (let i = 0; i < times; i++) {
        if (useLock) yield* lock.acquire();
        const v = box.n;
        yield* time.sleep(0);
        box.n = v + 1;
        if (useLock) yield* lock.release();
      }
    }
    const ps = [0, 1, 2].map(() => mp.Process({ target: inc, args: [3] }));
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
    return box.n;
  });

describe('Lock: mutual exclusion', () => {
  for (const [style, make] of [
    ['async', asyncCounter],
    ['generator', genCounter],
  ] as const) {
    it(`${style}: no update is lost under the lock, for every seed, and never two holders`, async () => {
      for (const seed of seeds(200)) {
        const m = holdersMonitor('Lock#1', 1);
        const r = await run(make(true), { seed, timing: 'untimed', monitors: [m] });
        expectOk(r);
        expect(r.value).toBe(9);
        expect(m.peak).toBe(1);
        expect(m.held).toBe(0);
      }
    });

    it(`${style}: without the lock some seed loses an update (the test can fail)`, async () => {
      const values = new Set<number>();
      for (const seed of seeds(200)) {
        const r = await run(make(false), { seed, timing: 'untimed' });
        expectOk(r);
        values.add(r.value);
      }
      expect(values.has(9)).toBe(true);
      expect([...values].some((v) => v < 9)).toBe(true);
    });
  }

  it('law: for any number of processes, iterations and seed, no increment is lost under a Lock', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.nat(100_000), (procs, iters, seed) => {
        const prog = program(function* ({ mp, time }) {
          const lock = mp.Lock();
          const box = { n: 0 };
          function* inc(): Gen {
            for (let i = 0; i < iters; i++) {
              yield* lock.withLock(function* () {
                const v = box.n;
                yield* time.sleep(0);
                box.n = v + 1;
              });
            }
          }
          const ps = Array.from({ length: procs }, () => mp.Process({ target: inc }));
          for (const p of ps) yield* p.start();
          for (const p of ps) yield* p.join();
          return box.n;
        });
        const r = runSync(prog, { seed, timing: 'untimed' });
        expectOk(r);
        expect(r.value).toBe(procs * iters);
      }),
      { numRuns: 150 },
    );
  });

  it('runSync drives the generator version to the same result as run', async () => {
    for (const seed of seeds(20)) {
      const a = runSync(genCounter(false), { seed, timing: 'untimed' });
      const b = await run(genCounter(false), { seed, timing: 'untimed' });
      expectOk(a);
      expectOk(b);
      expect(a.value).toBe(b.value);
      expect(a.schedule.toArray()).toEqual(b.schedule.toArray());
    }
  });
});

describe('Lock: acquire', () => {
  it('acquire() resolves to true; acquire(false) resolves to false at once while another process holds it', async () => {
    for (const seed of seeds(20)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const lock = mp.Lock();
          const got: unknown[] = [await lock.acquire()];
          const p = mp.Process({
            target: async () => {
              got.push(await lock.acquire(false), time.time());
            },
          });
          await p.start();
          await p.join();
          await lock.release();
          got.push(await lock.acquire(false));
          return got;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([true, false, 0, true]);
    }
  });

  it('acquire(false) by the holder itself is false: a Lock is not re-entrant', async () => {
    const r = await run(
      program(function* ({ mp }) {
        const lock = mp.Lock();
        return [yield* lock.acquire(false), yield* lock.acquire(false), yield* lock.acquire(true, 1)];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([true, false, false]);
  });

  it('acquire(true, timeout) resolves to false after exactly `timeout` virtual seconds (async)', async () => {
    for (const seed of seeds(20)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const lock = mp.Lock();
          await lock.acquire();
          const res: unknown[] = [];
          const p = mp.Process({
            target: async () => {
              await time.sleep(1.5);
              const ok = await lock.acquire(true, 0.25);
              res.push(ok, time.time());
            },
          });
          await p.start();
          await p.join(); // holding the lock all along
          res.push(time.time());
          return res;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([false, 1.75, 1.75]);
    }
  });

  it('acquire(true, timeout) resolves to false after exactly `timeout` virtual seconds (generator)', async () => {
    const r = await run(
      program(function* ({ mp, time }) {
        const lock = mp.Lock();
        yield* lock.acquire();
        const res: unknown[] = [];
        const p = mp.Process({
          target: function* (): Gen {
            const ok = yield* lock.acquire(true, 3);
            res.push(ok, time.time());
          },
        });
        yield* p.start();
        yield* p.join();
        return res;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, 3]);
    expect(r.time).toBe(3);
  });

  it('acquire(true, timeout) resolves to true as soon as the lock is released before the deadline', async () => {
    for (const seed of seeds(20)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const lock = mp.Lock();
          await lock.acquire();
          const res: unknown[] = [];
          const p = mp.Process({
            target: async () => {
              res.push(await lock.acquire(true, 2), time.time());
            },
          });
          await p.start();
          await time.sleep(1);
          await lock.release();
          await p.join();
          return res;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([true, 1]);
    }
  });

  it('a negative timeout counts as 0, as in Python', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const lock = mp.Lock();
        await lock.acquire();
        return [await lock.acquire(true, -5), time.time()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, 0]);
  });

  it('law: a timed acquire of a held lock fails at exactly issue time + timeout', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        async (start, timeout) => {
          const r = await run(
            program(async ({ mp, time }) => {
              const lock = mp.Lock();
              await lock.acquire();
              await time.sleep(start);
              const issued = time.time();
              const ok = await lock.acquire(true, timeout);
              return [ok, time.time() === issued + timeout];
            }),
          );
          expectOk(r);
          expect(r.value).toEqual([false, true]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('bad arguments are simulator misuse that fails the run', async () => {
    const bad: ((l: Lock) => Op<boolean>)[] = [
      (l) => l.acquire('yes' as unknown as boolean),
      (l) => l.acquire(true, Number.NaN),
      (l) => l.acquire(true, 'soon' as unknown as number),
    ];
    for (const f of bad) {
      const r = await run(
        program(async ({ mp }) => {
          await f(mp.Lock());
        }),
      );
      expectError(r);
      expect(r.error).toBeInstanceOf(SimulationError);
      expect((r.error as SimulationError).code).toBe('INVALID_ARGUMENT');
      expect(r.message).toContain('Lock#1.acquire(block, timeout)');
    }
  });

  it('acquiring a Lock twice in one process deadlocks on itself', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const lock = mp.Lock();
        await lock.acquire();
        await lock.acquire();
      }),
    );
    expectDeadlock(r);
    expect(r.blocked).toEqual([
      { pid: 1000, name: 'MainProcess', op: 'Lock#1.acquire()', waitsOn: 'Lock#1 is held by MainProcess (pid 1000)', heldBy: [1000] },
    ]);
  });
});

describe('Lock: release', () => {
  it('release of an unlocked Lock raises ValueError into the process, with guidance', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const lock = mp.Lock();
        const errors: unknown[] = [];
        try {
          await lock.release();
        } catch (e) {
          errors.push(e);
        }
        await lock.acquire();
        await lock.release();
        try {
          await lock.release(); // once too many
        } catch (e) {
          errors.push(e);
        }
        return errors;
      }),
    );
    expectOk(r);
    expect(r.value).toHaveLength(2);
    for (const e of r.value) {
      expect(e).toBeInstanceOf(ValueError);
      expect(e).toBeInstanceOf(PythonError);
      expect(e).not.toBeInstanceOf(SimulationError);
      const err = e as ValueError;
      expect(err.name).toBe('ValueError');
      expect(err.message).toContain('semaphore or lock released too many times');
      expect(err.message).toContain('Lock#1.release() on an unlocked Lock');
      expect(err.message).toContain('release only after a successful acquire(), or use withLock()');
    }
  });

  it('in generator style the ValueError is thrown at the yield*', async () => {
    const r = await run(
      program(function* ({ mp }) {
        const lock = mp.Lock();
        try {
          yield* lock.release();
          return 'no error';
        } catch (e) {
          return (e as Error).name;
        }
      }),
    );
    expectOk(r);
    expect(r.value).toBe('ValueError');
  });

  it('an uncaught over-release ends a child with exit code 1 and a traceback on stderr', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const lock = mp.Lock();
        const p = mp.Process({ target: async () => await lock.release() });
        await p.start();
        await p.join();
        return p.exitcode;
      }),
    );
    expectOk(r);
    expect(r.value).toBe(1);
    const err = r.stderr.split('\n');
    expect(err[0]).toBe('Process Process-1:');
    expect(err[2]).toMatch(/^ValueError: semaphore or lock released too many times/);
  });

  it('any process may release a multiprocessing Lock (unlike threading.Lock)', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp }) => {
          const lock = mp.Lock();
          await lock.acquire();
          const p = mp.Process({ target: async () => await lock.release() });
          await p.start();
          await p.join();
          const again = await lock.acquire(false);
          return [p.exitcode, again];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([0, true]);
    }
  });

  it('a release by another process wakes a blocked acquirer', async () => {
    const r = await run(
      program(async ({ mp, time, print }) => {
        const lock = mp.Lock();
        await lock.acquire();
        const waiter = mp.Process({
          target: async () => {
            await lock.acquire();
            await print('waiter got it at', time.time());
          },
        });
        const releaser = mp.Process({
          target: async () => {
            await time.sleep(2);
            await lock.release();
          },
        });
        await waiter.start();
        await releaser.start();
      }),
    );
    expectOk(r);
    expect(r.stdout).toBe('waiter got it at 2\n');
  });

  it('a terminated holder keeps the Lock held, as in Python', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const lock = mp.Lock();
        const p = mp.Process({
          target: async () => {
            await lock.acquire();
            await time.sleep(100);
            await lock.release();
          },
        });
        await p.start();
        await time.sleep(1);
        await p.terminate();
        await p.join();
        return [p.exitcode, await lock.acquire(true, 5), time.time()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([-15, false, 6]);
  });
});

describe('Lock: withLock', () => {
  it('async: returns the body value, releases after the body, and releases when the body throws', async () => {
    const r = await run(
      program(async ({ mp, print }) => {
        const lock = mp.Lock();
        const out: unknown[] = [];
        out.push(
          await lock.withLock(async () => {
            await print('inside');
            out.push(await lock.acquire(false)); // held inside the body
            return 42;
          }),
        );
        out.push(await lock.acquire(false)); // released after it
        await lock.release();
        try {
          await lock.withLock(async () => {
            await print('about to throw');
            throw new Error('boom');
          });
        } catch (e) {
          out.push((e as Error).message);
        }
        out.push(await lock.acquire(false)); // released although the body threw
        await lock.release();
        // A body that throws before its first operation, and a synchronous body.
        try {
          // (The return annotation picks the async overload: a body typed `never` matches the generator one.)
          await lock.withLock((): number => {
            throw new Error('sync boom');
          });
        } catch (e) {
          out.push((e as Error).message);
        }
        out.push(await lock.withLock(() => 7));
        out.push(await lock.acquire(false));
        return out;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, 42, true, 'boom', true, 'sync boom', 7, true]);
    expect(r.stdout).toBe('inside\nabout to throw\n');
  });

  it('generator: returns the body value, and releases when the body throws', async () => {
    const r = await run(
      program(function* ({ mp, print }) {
        const lock = mp.Lock();
        const out: unknown[] = [];
        out.push(
          yield* lock.withLock(function* () {
            yield* print('inside');
            out.push(yield* lock.acquire(false));
            return 42;
          }),
        );
        out.push(yield* lock.acquire(false));
        yield* lock.release();
        try {
          yield* lock.withLock(function* () {
            yield* print('about to throw');
            throw new Error('boom');
          });
        } catch (e) {
          out.push((e as Error).message);
        }
        out.push(yield* lock.acquire(false));
        return out;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, 42, true, 'boom', true]);
    expect(r.stdout).toBe('inside\nabout to throw\n');
  });

  it('generator: a Python exception raised by an operation inside the body still releases the lock', async () => {
    const r = await run(
      program(function* ({ mp }) {
        const lock = mp.Lock();
        const other = mp.Lock();
        let caught = '';
        try {
          yield* lock.withLock(function* () {
            yield* other.release(); // ValueError
          });
        } catch (e) {
          caught = (e as Error).name;
        }
        return [caught, yield* lock.acquire(false)];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual(['ValueError', true]);
  });

  for (const style of ['async', 'generator'] as const) {
    it(`${style}: withLock sections of different processes never interleave, for every seed`, async () => {
      const prog =
        style === 'async'
          ? program(async ({ mp, print, time }) => {
              const lock = mp.Lock();
              const work = async (n: number): Promise<void> => {
                await lock.withLock(async () => {
                  await print(`${n} in`);
                  await time.sleep(0.1 * n);
                  await print(`${n} out`);
                });
              };
              for (let i = 0; i < 4; i++) await mp.Process({ target: work, args: [i] }).start();
            })
          : program(function* ({ mp, print, time }) {
              const lock = mp.Lock();
              function* work(n: number): Gen {
                yield* lock.withLock(function* () {
                  yield* print(`${n} in`);
                  yield* time.sleep(0.1 * n);
                  yield* print(`${n} out`);
                });
              }
              for (let i = 0; i < 4; i++) yield* mp.Process({ target: work, args: [i] }).start();
            });
      const firsts = new Set<string>();
      for (const seed of seeds(100)) {
        const m = holdersMonitor('Lock#1', 1);
        const r = await run(prog, { seed, timing: 'untimed', monitors: [m] });
        expectOk(r);
        const out = lines(r);
        expect(out).toHaveLength(8);
        for (let i = 0; i < 8; i += 2) {
          const n = out[i]!.split(' ')[0];
          expect(out[i]).toBe(`${n} in`);
          expect(out[i + 1]).toBe(`${n} out`);
        }
        firsts.add(out[0]!);
        expect(m.peak).toBe(1);
      }
      expect(firsts.size).toBeGreaterThan(1); // the schedule does vary
    });
  }
});

describe('withLock in a generator process', () => {
  it('accepts a body that returns a generator (an arrow around a generator function)', () => {
    const r = runSync(
      program(function* ({ mp, print }) {
        const l = mp.Lock();
        function* inside(): Generator<Op<unknown>, string, unknown> {
          yield* print('inside');
          return 'done';
        }
        const v = yield* l.withLock(() => inside());
        const free = yield* l.acquire(false);
        return [v, free];
      }),
    );
    expect(r.status === 'ok' && r.value).toEqual(['done', true]);
    expect(r.stdout).toBe('inside\n');
  });

  it('a plain body works too, and an async body gets a clear error (the lock is released)', () => {
    const ok = runSync(
      program(function* ({ mp }) {
        // Typed for async callers; at run time a generator caller gets a generator back.
        return yield* mp.Lock().withLock(() => 7) as unknown as Generator<Op<unknown>, number, unknown>;
      }),
    );
    expect(ok.status === 'ok' && ok.value).toBe(7);
    const bad = runSync(
      program(function* ({ mp }) {
        yield* mp.Lock().withLock(() => Promise.resolve(1)) as unknown as Generator<Op<unknown>, number, unknown>;
      }),
    );
    expect(bad.status).toBe('error');
    const caught = runSync(
      program(function* ({ mp }) {
        const l = mp.Lock();
        try {
          yield* l.withLock(() => Promise.resolve(1)) as unknown as Generator<Op<unknown>, number, unknown>;
        } catch (e) {
          return [(e as Error).message.split('\n')[0], yield* l.acquire(false)];
        }
        return null;
      }),
    );
    expect(caught.status === 'ok' && caught.value).toEqual([
      'Lock#1.withLock(body): body returned a promise in a generator process, which cannot await it.',
      true, // released on the way out
    ]);
    expect(bad.status === 'error' && bad.message).toContain('body returned a promise in a generator process');
  });

  it('from a generator process, a body that returns one operation has it performed under the lock', () => {
    const r = runSync(
      program(function* ({ mp }) {
        const v = mp.RawValue('i', 5);
        const l = mp.Lock();
        // `with lock: return v.value` — the body's operation, not a promise to await.
        return yield* l.withLock(() => v.get()) as unknown as Generator<Op<unknown>, number, unknown>;
      }),
      { trace: true },
    );
    expect(r.status === 'ok' && r.value).toBe(5);
    expect(r.trace!.filter((e) => e.type === 'done').map((e) => e.type === 'done' && `${e.obj}.${e.op}`)).toEqual(['MainProcess.begin', 'Lock#1.acquire', 'RawValue#1.get', 'Lock#1.release']);
  });
});
