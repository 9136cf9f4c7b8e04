import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Lock, PyAssertionError, RLock, SimulationError, program, run, type Op } from '../src/index.js';
import { expectDeadlock, expectError, expectOk, lines, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

describe('Condition: wait / notify', () => {
  it('async: a consumer waiting in a while-loop gets every item in order, for every seed', async () => {
    const prog = program(async ({ mp, time, random }) => {
      const c = mp.Condition();
      const items: number[] = [];
      const got: number[] = [];
      const consumer = mp.Process({
        target: async () => {
          for (let k = 0; k < 5; k++) {
            await c.acquire();
            while (items.length === 0) await c.wait();
            got.push(items.shift()!);
            await c.release();
          }
        },
      });
      await consumer.start();
      for (let k = 0; k < 5; k++) {
        await time.sleep(random.random());
        await c.acquire();
        items.push(k);
        await c.notify();
        await c.release();
      }
      await consumer.join();
      return got;
    });
    for (const timing of ['timed', 'untimed'] as const) {
      for (const seed of seeds(100)) {
        const r = await run(prog, { seed, timing });
        expectOk(r);
        expect(r.value).toEqual([0, 1, 2, 3, 4]);
      }
    }
  });

  it('generator: the same producer / consumer, for every seed', async () => {
    const prog = program(function* ({ mp, time }) {
      const c = mp.Condition(mp.Lock());
      const items: number[] = [];
      const got: number[] = [];
      const consumer = mp.Process({
        target: function* (): Gen {
          for (let k = 0; k < 5; k++) {
            yield* c.acquire();
            while (items.length === 0) yield* c.wait();
            got.push(items.shift()!);
            yield* c.release();
          }
        },
      });
      yield* consumer.start();
      for (let k = 0; k < 5; k++) {
        yield* time.sleep(0);
        yield* c.withLock(function* () {
          items.push(k);
          yield* c.notify();
        });
      }
      yield* consumer.join();
      return got;
    });
    for (const seed of seeds(200)) {
      const r = await run(prog, { seed, timing: 'untimed' });
      expectOk(r);
      expect(r.value).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it('notify() wakes the waiters in the order they started waiting (FIFO)', async () => {
    const prog = program(async ({ mp, time }) => {
      const c = mp.Condition();
      const waited: number[] = [];
      const woke: number[] = [];
      const waiter = async (i: number): Promise<void> => {
        await c.acquire();
        waited.push(i); // while holding the lock: the same order as the waits
        await c.wait();
        woke.push(i);
        await c.release();
      };
      for (let i = 0; i < 4; i++) await mp.Process({ target: waiter, args: [i] }).start();
      await time.sleep(1);
      for (let k = 0; k < 4; k++) {
        await c.acquire();
        await c.notify();
        await c.release();
        await time.sleep(1); // the woken one finishes before the next notify
      }
      return [waited, woke];
    });
    const orders = new Set<string>();
    for (const seed of seeds(100)) {
      const r = await run(prog, { seed });
      expectOk(r);
      const [waited, woke] = r.value as [number[], number[]];
      expect(waited).toHaveLength(4);
      expect(woke).toEqual(waited);
      orders.add(waited.join());
    }
    expect(orders.size).toBeGreaterThan(3); // the waiting order does vary with the seed
  });

  it('notify(n) wakes exactly n waiters; notify(0) none; notifyAll the rest', async () => {
    for (const seed of seeds(50)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const c = mp.Condition();
          let woke = 0;
          const waiter = async (): Promise<void> => {
            await c.acquire();
            await c.wait();
            woke++;
            await c.release();
          };
          for (let i = 0; i < 5; i++) await mp.Process({ target: waiter }).start();
          await time.sleep(1);
          const counts: number[] = [];
          for (const act of [() => c.notify(0), () => c.notify(2), () => c.notify(), () => c.notifyAll()]) {
            await c.acquire();
            await act();
            await c.release();
            await time.sleep(1);
            counts.push(woke);
          }
          return counts;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([0, 2, 3, 5]);
    }
  });

  it('law: notify(n) with k waiters wakes exactly min(n, k) of them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 6 }), fc.nat(10_000), async (k, n, seed) => {
        const r = await run(
          program(function* ({ mp, time }) {
            const c = mp.Condition();
            let woke = 0;
            function* waiter(): Gen {
              yield* c.acquire();
              if (yield* c.wait(10)) woke++;
              yield* c.release();
            }
            for (let i = 0; i < k; i++) yield* mp.Process({ target: waiter }).start();
            yield* time.sleep(1);
            yield* c.acquire();
            yield* c.notify(n);
            yield* c.release();
            yield* time.sleep(1);
            return woke;
          }),
          { seed },
        );
        expectOk(r);
        expect(r.value).toBe(Math.min(n, k));
      }),
      { numRuns: 100 },
    );
  });

  it('a notify with no waiter is lost: a later wait is not woken by it', async () => {
    const r = await run(
      program(function* ({ mp, time }) {
        const c = mp.Condition();
        yield* c.acquire();
        yield* c.notify();
        yield* c.notifyAll();
        const got = yield* c.wait(2);
        yield* c.release();
        return [got, time.time()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, 2]);
  });
});

describe('Condition: the lock', () => {
  it('wait releases the lock, and re-holds it when it returns', async () => {
    for (const seed of seeds(50)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const c = mp.Condition(mp.Lock());
          const seen: unknown[] = [];
          const other = mp.Process({
            target: async () => {
              await time.sleep(1);
              seen.push(['other got the lock during the wait', await c.acquire(false)]);
              await c.notify();
              await c.release();
              await time.sleep(1);
              seen.push(['other got the lock after the wait', await c.acquire(false)]);
            },
          });
          await c.acquire();
          await other.start();
          seen.push(['wait', await c.wait(), time.time()]);
          await time.sleep(5); // holding the lock again
          await c.release();
          await other.join();
          return seen;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([
        ['other got the lock during the wait', true],
        ['wait', true, 1],
        ['other got the lock after the wait', false],
      ]);
    }
  });

  for (const style of ['async', 'generator'] as const) {
    it(`${style}: a notified waiter stays blocked until the notifier releases the lock`, async () => {
      const prog =
        style === 'async'
          ? program(async ({ mp, time, print }) => {
              const c = mp.Condition();
              const p = mp.Process({
                target: async () => {
                  await c.acquire();
                  await c.wait();
                  await print('waiter resumed at', time.time());
                  await c.release();
                },
              });
              await p.start();
              await time.sleep(1);
              await c.acquire();
              await c.notify();
              await time.sleep(5); // still holding the lock
              await print('notifier releases at', time.time());
              await c.release();
            })
          : program(function* ({ mp, time, print }) {
              const c = mp.Condition();
              const p = mp.Process({
                target: function* (): Gen {
                  yield* c.acquire();
                  yield* c.wait();
                  yield* print('waiter resumed at', time.time());
                  yield* c.release();
                },
              });
              yield* p.start();
              yield* time.sleep(1);
              yield* c.acquire();
              yield* c.notify();
              yield* time.sleep(5);
              yield* print('notifier releases at', time.time());
              yield* c.release();
            });
      for (const seed of seeds(50)) {
        const r = await run(prog, { seed, trace: seed === 0 });
        expectOk(r);
        expect(r.stdout).toBe('notifier releases at 6\nwaiter resumed at 6\n');
        if (r.trace) {
          // The wait's second phase (re-acquiring) takes effect after the release.
          const release = r.trace.findIndex((e) => e.type === 'done' && e.pid === 1000 && e.op === 'release');
          const reacquire = r.trace.findIndex((e) => e.type === 'done' && e.pid === 1001 && e.op === 'wait' && e.phase === 1);
          expect(release).toBeGreaterThan(0);
          expect(reacquire).toBeGreaterThan(release);
        }
      }
    });
  }

  it('wait(timeout) resolves to false after exactly the timeout, holding the lock again', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const c = mp.Condition();
        await c.acquire();
        await time.sleep(0.5);
        const got = await c.wait(1.5);
        const t = time.time();
        const p = mp.Process({ target: async () => void (probe = await c.acquire(false)) });
        let probe: unknown = null;
        await p.start();
        await p.join();
        await c.release();
        return [got, t, probe];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, 2, false]);
  });

  it('a timed-out waiter still has to re-acquire the lock: it returns false once the holder releases', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const c = mp.Condition(mp.Lock());
        const res: unknown[] = [];
        const p = mp.Process({
          target: async () => {
            await c.acquire();
            res.push(await c.wait(1), time.time());
            await c.release();
          },
        });
        await p.start();
        await time.sleep(0.5);
        await c.acquire(); // the child is waiting, so the lock is free
        await time.sleep(3); // the child times out at t=1 but cannot re-take the lock
        await c.release();
        await p.join();
        return res;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, 3.5]);
  });

  for (const which of ['notify', 'notifyAll'] as const) {
    it(`a waiter that timed out does not absorb a later ${which}(): it returns false and the notification goes to the next`, async () => {
      // multiprocessing.Condition: a waiter whose wait_semaphore.acquire timed out no
      // longer counts as a sleeper, so notify() wakes the next one instead.
      for (const seed of seeds(30)) {
        const r = await run(
          program(async ({ mp, time, print }) => {
            const c = mp.Condition(mp.Lock());
            const a = mp.Process({
              target: async () => {
                await c.acquire();
                const ok = await c.wait(1);
                await print('A', ok, time.time());
                await c.release();
              },
            });
            const b = mp.Process({
              target: async () => {
                await time.sleep(0.1);
                await c.acquire();
                const ok = await c.wait();
                await print('B', ok, time.time());
                await c.release();
              },
            });
            await a.start();
            await b.start();
            await time.sleep(0.5);
            await c.acquire();
            await time.sleep(2); // A's timeout (t=1) passes while we hold the lock
            await (which === 'notify' ? c.notify() : c.notifyAll());
            await c.release();
          }),
          { seed },
        );
        expectOk(r);
        expect(lines(r).sort()).toEqual(['A False 2.5', 'B True 2.5']);
      }
    });
  }

  it('a waiter terminated while waiting does not absorb a notify(): the live waiter gets it', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time, print }) => {
          const c = mp.Condition();
          const waiter = async (name: string): Promise<void> => {
            await c.acquire();
            await c.wait();
            await print(name, 'woke at', time.time());
            await c.release();
          };
          const a = mp.Process({ target: waiter, args: ['A'] });
          const b = mp.Process({ target: waiter, args: ['B'] });
          await a.start();
          await time.sleep(0.1); // A waits first: it is the oldest waiter
          await b.start();
          await time.sleep(1);
          await a.terminate();
          await a.join();
          await c.acquire();
          await c.notify();
          await c.release();
          await b.join();
          return [a.exitcode, b.exitcode];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([-15, 0]);
      expect(r.stdout).toBe('B woke at 1.1\n');
    }
  });

  it('over an RLock held recursively, wait releases it fully and restores the depth', async () => {
    for (const seed of seeds(50)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const rl = mp.RLock();
          const c = mp.Condition(rl);
          const seen: unknown[] = [];
          const other = mp.Process({
            target: async () => {
              await time.sleep(1);
              seen.push(['other acquire during wait', await rl.acquire(false), rl.count]);
              await c.notify();
              await rl.release();
            },
          });
          await rl.acquire();
          await rl.acquire();
          await c.acquire(); // depth 3
          await other.start();
          seen.push(['wait', await c.wait(), rl.count]);
          await rl.release();
          await rl.release();
          await rl.release();
          try {
            await rl.release();
          } catch (e) {
            seen.push((e as Error).name);
          }
          await other.join();
          return seen;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([['other acquire during wait', true, 1], ['wait', true, 3], 'AssertionError']);
    }
  });

  it('mp.Condition() uses a new RLock; mp.Condition(lock) uses the given lock', async () => {
    const r = await run(
      program(({ mp }) => {
        const l = mp.Lock();
        const a = mp.Condition();
        const b = mp.Condition(l);
        return [a.lock instanceof RLock, b.lock === l, b.lock instanceof Lock];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([true, true, true]);
  });

  it('mp.Condition with something other than a lock is simulator misuse', async () => {
    const r = await run(
      program(({ mp }) => {
        mp.Condition(mp.Semaphore() as unknown as Lock);
      }),
    );
    expectError(r);
    expect(r.error).toBeInstanceOf(SimulationError);
    expect((r.error as SimulationError).code).toBe('INVALID_ARGUMENT');
  });

  it('withLock works on a Condition in both styles', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const c = mp.Condition(mp.Lock());
        const inside = await c.withLock(async () => await c.acquire(false));
        return [inside, await c.acquire(false)];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, true]);
    const g = await run(
      program(function* ({ mp }) {
        const c = mp.Condition(mp.Lock());
        const inside = yield* c.withLock(function* () {
          return yield* c.acquire(false);
        });
        return [inside, yield* c.acquire(false)];
      }),
    );
    expectOk(g);
    expect(g.value).toEqual([false, true]);
  });
});

describe('Condition: misuse', () => {
  it('wait without holding the lock raises AssertionError', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const c = mp.Condition();
        const errs: unknown[] = [];
        for (const f of [() => c.wait(), () => c.wait(1), () => c.waitFor(() => false)]) {
          try {
            await f();
          } catch (e) {
            errs.push(e);
          }
        }
        return errs;
      }),
    );
    expectOk(r);
    expect(r.value).toHaveLength(3);
    for (const e of r.value) {
      expect(e).toBeInstanceOf(PyAssertionError);
      expect((e as Error).message).toMatch(/^must acquire\(\) condition before using wait\(\)/);
    }
    expect(r.time).toBe(0); // raised at once, even with a timeout
  });

  it('wait while another process holds the lock raises AssertionError too', async () => {
    const r = await run(
      program(function* ({ mp }) {
        const c = mp.Condition(mp.Lock());
        yield* c.acquire();
        let err: unknown = null;
        const p = mp.Process({
          target: function* (): Gen {
            try {
              yield* c.wait();
            } catch (e) {
              err = e;
            }
          },
        });
        yield* p.start();
        yield* p.join();
        return err;
      }),
    );
    expectOk(r);
    expect(r.value).toBeInstanceOf(PyAssertionError);
    expect((r.value as Error).message).toContain('by Process-1 (pid 1001) without holding its lock');
  });

  it('notify / notifyAll without holding the lock raise AssertionError "lock is not owned"', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const c = mp.Condition();
        const errs: unknown[] = [];
        for (const f of [() => c.notify(), () => c.notify(3), () => c.notifyAll()]) {
          try {
            await f();
          } catch (e) {
            errs.push(e);
          }
        }
        return errs;
      }),
    );
    expectOk(r);
    expect(r.value).toHaveLength(3);
    for (const e of r.value) {
      expect(e).toBeInstanceOf(PyAssertionError);
      expect((e as Error).message).toMatch(/^lock is not owned/);
    }
  });

  it('an uncaught wait without the lock ends a child with exit code 1', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const c = mp.Condition();
        const p = mp.Process({ target: async () => void (await c.wait()) });
        await p.start();
        await p.join();
        return p.exitcode;
      }),
    );
    expectOk(r);
    expect(r.value).toBe(1);
    expect(r.stderr).toContain('AssertionError: must acquire() condition before using wait()');
  });

  it('notify(n) with a bad n is simulator misuse', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const c = mp.Condition();
        await c.acquire();
        await c.notify(-1);
      }),
    );
    expectError(r);
    expect((r.error as SimulationError).code).toBe('INVALID_ARGUMENT');
  });
});

describe('Condition: waitFor', () => {
  it('returns the predicate value once it is truthy, re-checking after every wake-up', async () => {
    for (const seed of seeds(50)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const c = mp.Condition();
          const box = { x: 0, calls: 0 };
          const res: unknown[] = [];
          const waiter = mp.Process({
            target: async () => {
              await c.acquire();
              res.push(
                await c.waitFor(() => {
                  box.calls++;
                  return box.x >= 3 ? `x=${box.x}` : 0;
                }),
                time.time(),
              );
              await c.release();
            },
          });
          await waiter.start();
          for (let k = 0; k < 4; k++) {
            await time.sleep(1);
            await c.acquire();
            box.x++;
            await c.notifyAll();
            await c.release();
          }
          await waiter.join();
          return [...res, box.calls];
        }),
        { seed },
      );
      expectOk(r);
      // Called once at first, then after each of the 3 notifications it needed.
      expect(r.value).toEqual(['x=3', 3, 4]);
    }
  });

  it('a predicate already true returns at once, without waiting or even needing the lock (as in Python)', async () => {
    const r = await run(
      program(function* ({ mp, time }) {
        const c = mp.Condition();
        const v = yield* c.waitFor(() => 'ready');
        return [v, time.time()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual(['ready', 0]);
  });

  it('waitFor(predicate, timeout) returns the falsy predicate value after exactly the timeout', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const c = mp.Condition();
        let calls = 0;
        await c.acquire();
        const v = await c.waitFor(() => {
          calls++;
          return '';
        }, 2.5);
        const t = time.time();
        await c.release();
        return [v, t, calls];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual(['', 2.5, 2]); // checked before sleeping and once at the timeout
  });

  it('waitFor(predicate, 0) checks once and returns without the lock (Python breaks before waiting)', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const c = mp.Condition();
        return await c.waitFor(() => null, 0);
      }),
    );
    expectOk(r);
    expect(r.value).toBeNull();
  });

  it('notifications that do not satisfy the predicate before the deadline lead to the falsy result', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(function* ({ mp, time }) {
          const c = mp.Condition(mp.Lock());
          const box = { x: 0 };
          const res: unknown[] = [];
          const waiter = mp.Process({
            target: function* (): Gen {
              yield* c.acquire();
              res.push(yield* c.waitFor(() => box.x >= 10, 3), time.time());
              yield* c.release();
            },
          });
          yield* waiter.start();
          for (let k = 0; k < 5; k++) {
            yield* time.sleep(1);
            yield* c.acquire();
            box.x++;
            yield* c.notify();
            yield* c.release();
          }
          yield* waiter.join();
          return res;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([false, 3]);
    }
  });
});

describe('Condition: deadlock reports', () => {
  it('a wait nobody notifies', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const c = mp.Condition();
        await c.acquire();
        await c.wait();
      }),
    );
    expectDeadlock(r);
    expect(r.blocked).toEqual([
      { pid: 1000, name: 'MainProcess', op: 'Condition#1.wait()', waitsOn: 'waiting for Condition#1.notify()', heldBy: [] },
    ]);
  });

  it('a notified waiter that cannot re-acquire the lock names the holder', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const c = mp.Condition(mp.Lock());
        const p = mp.Process({
          target: async () => {
            await c.acquire();
            await c.wait();
            await c.release();
          },
        });
        await p.start();
        await time.sleep(1);
        await c.acquire();
        await c.notify();
        await p.join(); // holding the lock: the child can never re-take it
      }),
    );
    expectDeadlock(r);
    expect(r.blocked).toEqual([
      { pid: 1000, name: 'MainProcess', op: 'Process-1.join()', waitsOn: 'waiting for Process-1 (pid 1001) to exit', heldBy: [1001] },
      {
        pid: 1001,
        name: 'Process-1',
        op: 'Condition#1.wait()',
        waitsOn: 're-acquiring Lock#1, held by MainProcess (pid 1000)',
        heldBy: [1000],
      },
    ]);
  });
});
