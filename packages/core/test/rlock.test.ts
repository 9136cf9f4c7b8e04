import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PyAssertionError, PythonError, program, run, type Op } from '../src/index.js';
import { expectDeadlock, expectOk, holdersMonitor, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

describe('RLock', () => {
  it('is re-entrant: the owner acquires it again and must release as many times (async)', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const rl = mp.RLock();
          const log: unknown[] = [];
          const other = mp.Process({
            target: async () => {
              // Polls while main holds the lock at depth 3, 2, 1, then 0.
              for (let i = 0; i < 4; i++) {
                const got = await rl.acquire(false);
                log.push(`t=${time.time()} other ${String(got)}`);
                if (got) await rl.release();
                await time.sleep(1);
              }
            },
          });
          log.push(await rl.acquire(), await rl.acquire(), await rl.acquire(false), rl.count);
          await other.start();
          await time.sleep(0.5);
          await rl.release();
          log.push(rl.count);
          await time.sleep(1);
          await rl.release();
          log.push(rl.count);
          await time.sleep(1);
          await rl.release();
          log.push(rl.count);
          await other.join();
          return log;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([true, true, true, 3, 't=0 other false', 2, 't=1 other false', 1, 't=2 other false', 0, 't=3 other true']);
    }
  });

  it('is re-entrant in generator style too, and a nested withLock keeps the depth', async () => {
    const r = await run(
      program(function* ({ mp }) {
        const rl = mp.RLock();
        const depths: number[] = [];
        yield* rl.withLock(function* () {
          depths.push(rl.count);
          yield* rl.withLock(function* () {
            depths.push(rl.count);
            yield* rl.withLock(function* () {
              depths.push(rl.count);
            });
            depths.push(rl.count);
          });
          depths.push(rl.count);
        });
        depths.push(rl.count);
        return depths;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([1, 2, 3, 2, 1, 0]);
  });

  it('async withLock nests and releases every level even when the innermost body throws', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const rl = mp.RLock();
        let caught = '';
        try {
          await rl.withLock(async () => {
            await rl.withLock(async () => {
              await rl.acquire();
              await rl.release();
              throw new Error('inner');
            });
          });
        } catch (e) {
          caught = (e as Error).message;
        }
        const depthAfter = rl.count;
        let childGot: unknown = null;
        const probe = mp.Process({
          target: async () => {
            childGot = await rl.acquire(false);
          },
        });
        await probe.start();
        await probe.join();
        return [caught, depthAfter, childGot];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual(['inner', 0, true]);
  });

  it('only one process holds it at a time, whatever the depth, for every seed', async () => {
    const prog = program(function* ({ mp, time }) {
      const rl = mp.RLock();
      function* work(depth: number): Gen {
        for (let i = 0; i < depth; i++) yield* rl.acquire();
        yield* time.sleep(0);
        for (let i = 0; i < depth; i++) yield* rl.release();
      }
      for (let d = 1; d <= 3; d++) yield* mp.Process({ target: work, args: [d] }).start();
    });
    for (const seed of seeds(200)) {
      // Count holder *processes*, not depth: a process entering at depth > 0 is the same holder.
      let owner = 0;
      let depth = 0;
      let bad = '';
      const r = await run(prog, {
        seed,
        timing: 'untimed',
        monitors: [
          {
            name: 'one-owner',
            onEvent(e) {
              if (e.type !== 'done' || e.obj !== 'RLock#1' || e.outcome !== 'ok') return;
              if (e.op === 'acquire') {
                if (depth > 0 && owner !== e.pid) bad = `pid ${e.pid} acquired while ${owner} holds it`;
                owner = e.pid;
                depth++;
              } else if (e.op === 'release') {
                if (owner !== e.pid) bad = `pid ${e.pid} released ${owner}'s lock`;
                depth--;
              }
            },
          },
        ],
      });
      expectOk(r);
      expect(bad).toBe('');
      expect(depth).toBe(0);
    }
  });

  it('release by a non-owner raises AssertionError "attempt to release recursive lock not owned by thread"', async () => {
    for (const seed of seeds(20)) {
      const r = await run(
        program(async ({ mp }) => {
          const rl = mp.RLock();
          const errors: unknown[] = [];
          try {
            await rl.release(); // nobody holds it
          } catch (e) {
            errors.push(e);
          }
          await rl.acquire();
          const p = mp.Process({
            target: async () => {
              try {
                await rl.release(); // main holds it
              } catch (e) {
                errors.push(e);
              }
            },
          });
          await p.start();
          await p.join();
          return [errors, rl.count];
        }),
        { seed },
      );
      expectOk(r);
      const [errors, count] = r.value as [unknown[], number];
      expect(count).toBe(1); // the failed release changed nothing
      expect(errors).toHaveLength(2);
      for (const e of errors) {
        expect(e).toBeInstanceOf(PyAssertionError);
        expect(e).toBeInstanceOf(PythonError);
        expect((e as Error).name).toBe('AssertionError');
        expect((e as Error).message).toMatch(/^attempt to release recursive lock not owned by thread/);
      }
      expect((errors[0] as Error).message).toContain('which nobody holds');
      expect((errors[1] as Error).message).toContain('by Process-1 (pid 1001), held by MainProcess (pid 1000)');
    }
  });

  it('releasing once more than acquired raises AssertionError and leaves it free', async () => {
    const r = await run(
      program(function* ({ mp }) {
        const rl = mp.RLock();
        yield* rl.acquire();
        yield* rl.acquire();
        yield* rl.release();
        yield* rl.release();
        let name = '';
        try {
          yield* rl.release();
        } catch (e) {
          name = (e as Error).name;
        }
        return [name, rl.count, yield* rl.acquire(false)];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual(['AssertionError', 0, true]);
  });

  it('an uncaught non-owner release gives the child exit code 1 and an AssertionError traceback', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const rl = mp.RLock();
        await rl.acquire();
        const p = mp.Process({ target: async () => await rl.release() });
        await p.start();
        await p.join();
        await rl.release();
        return p.exitcode;
      }),
    );
    expectOk(r);
    expect(r.value).toBe(1);
    expect(r.stderr).toMatch(/^Process Process-1:\nTraceback \(most recent call last\):\nAssertionError: attempt to release recursive lock not owned by thread/);
  });

  it('a non-owner times out on acquire(true, timeout) at exactly the deadline', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const rl = mp.RLock();
        await rl.acquire();
        await rl.acquire();
        const res: unknown[] = [];
        const p = mp.Process({
          target: async () => {
            res.push(await rl.acquire(true, 0.75), time.time());
          },
        });
        await p.start();
        await p.join();
        return res;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, 0.75]);
  });

  it('a waiter blocked on an RLock gets it only once the owner is back to depth 0', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time, print }) => {
          const rl = mp.RLock();
          await rl.acquire();
          await rl.acquire();
          const p = mp.Process({
            target: async () => {
              await rl.acquire();
              await print('child at', time.time(), 'count', rl.count);
              await rl.release();
            },
          });
          await p.start();
          await time.sleep(1);
          await rl.release();
          await time.sleep(1);
          await rl.release();
        }),
        { seed },
      );
      expectOk(r);
      expect(r.stdout).toBe('child at 2 count 1\n');
    }
  });

  it('deadlock report names the owner of an RLock', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const rl = mp.RLock();
        await rl.acquire();
        const p = mp.Process({ target: async () => await rl.acquire() });
        await p.start();
        await p.join();
      }),
    );
    expectDeadlock(r);
    const child = r.blocked.find((b) => b.pid === 1001);
    expect(child).toEqual({ pid: 1001, name: 'Process-1', op: 'RLock#1.acquire()', waitsOn: 'RLock#1 is held by MainProcess (pid 1000)', heldBy: [1000] });
  });

  it('law: after any sequence of acquire/release by its owner, count is the depth; a release at depth 0 raises', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { maxLength: 30 }), async (ops) => {
        const r = await run(
          program(function* ({ mp }) {
            const rl = mp.RLock();
            const seen: [number, boolean][] = [];
            for (const isAcquire of ops) {
              let raised = false;
              try {
                if (isAcquire) yield* rl.acquire();
                else yield* rl.release();
              } catch (e) {
                if (!(e instanceof PyAssertionError)) throw e;
                raised = true;
              }
              seen.push([rl.count, raised]);
            }
            return seen;
          }),
        );
        expectOk(r);
        let depth = 0;
        const expected = ops.map((isAcquire): [number, boolean] => {
          if (isAcquire) return [++depth, false];
          if (depth === 0) return [0, true];
          return [--depth, false];
        });
        expect(r.value).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('a holding-counting monitor sees at most one holding process for an RLock used at depth 1', async () => {
    const prog = program(async ({ mp, time }) => {
      const rl = mp.RLock();
      const work = async (): Promise<void> => {
        await rl.withLock(async () => await time.sleep(0));
      };
      for (let i = 0; i < 3; i++) await mp.Process({ target: work }).start();
    });
    for (const seed of seeds(50)) {
      const m = holdersMonitor('RLock#1', 1);
      const r = await run(prog, { seed, timing: 'untimed', monitors: [m] });
      expectOk(r);
      expect(m.peak).toBe(1);
    }
  });
});
