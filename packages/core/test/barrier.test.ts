import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokenBarrierError, RuntimeError, SimulationError, program, run, type Mp, type Op } from '../src/index.js';
import { doneEvents, expectDeadlock, expectError, expectOk, lowestFirst, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('Barrier: one trip', () => {
  it('async: arrival indices are 0..n-1 in arrival order, and everyone leaves when the last arrives', async () => {
    const prog = program(async ({ mp, time, random }) => {
      const b = mp.Barrier(4);
      const got: [number, number, number][] = [];
      const work = async (i: number): Promise<void> => {
        await time.sleep(random.random());
        const index = await b.wait();
        got.push([i, index, time.time()]);
      };
      for (let i = 0; i < 4; i++) await mp.Process({ target: work, args: [i] }).start();
      return got;
    });
    for (const seed of seeds(100)) {
      const r = await run(prog, { seed, trace: true });
      expectOk(r);
      const got = r.value;
      expect(got.map((g) => g[1]).sort()).toEqual([0, 1, 2, 3]);
      const last = Math.max(...got.map((g) => g[2]));
      expect(got.every((g) => g[2] === last)).toBe(true);
      // The index is the arrival order: the order of the waits' first phase.
      const arrivals = doneEvents(r.trace)
        .filter((e) => e.op === 'wait' && e.phase === 0)
        .map((e) => e.pid);
      for (const [i, index] of got) expect(arrivals[index]).toBe(1001 + i);
    }
  });

  it('generator: the same, and nobody passes the barrier before the last arrival', async () => {
    const prog = program(function* ({ mp, print }) {
      const b = mp.Barrier(3);
      function* work(i: number): Gen {
        yield* print(`${i} before`);
        const index = yield* b.wait();
        yield* print(`${i} after ${index}`);
      }
      for (let i = 0; i < 3; i++) yield* mp.Process({ target: work, args: [i] }).start();
    });
    for (const seed of seeds(200)) {
      const r = await run(prog, { seed, timing: 'untimed' });
      expectOk(r);
      const out = r.stdout.trim().split('\n');
      const lastBefore = Math.max(...out.map((l, k) => (l.endsWith('before') ? k : -1)));
      const firstAfter = out.findIndex((l) => l.includes('after'));
      expect(lastBefore).toBeLessThan(firstAfter);
      expect(out.filter((l) => l.includes('after')).map((l) => l.split(' ')[2]).sort()).toEqual(['0', '1', '2']);
    }
  });

  it('the action runs once, in the last arriving process, before the others are released', async () => {
    for (const seed of seeds(100)) {
      const r = await run(
        program(async ({ mp, os }) => {
          const calls: number[] = [];
          const b = mp.Barrier(3, { action: () => void calls.push(os.getpid()) });
          const seen: [number, number, number][] = [];
          const work = async (): Promise<void> => {
            const index = await b.wait();
            seen.push([os.getpid(), index, calls.length]);
          };
          for (let i = 0; i < 3; i++) await mp.Process({ target: work }).start();
          return { calls, seen };
        }),
        { seed, timing: 'untimed' },
      );
      expectOk(r);
      const { calls, seen } = r.value;
      expect(calls).toHaveLength(1);
      expect(seen.every((s) => s[2] === 1)).toBe(true); // every party saw the action's effect
      expect(seen.find((s) => s[1] === 2)?.[0]).toBe(calls[0]); // run by the arrival with index n-1
    }
  });

  it('nWaiting counts the arrivals of the current generation', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const b = mp.Barrier(3);
        const counts = [await b.nWaiting()];
        for (let i = 0; i < 2; i++) {
          await mp.Process({ target: async () => void (await b.wait()) }).start();
          await time.sleep(1);
          counts.push(await b.nWaiting());
        }
        await b.wait();
        counts.push(await b.nWaiting());
        return [counts, await b.isBroken(), b.parties];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([[0, 1, 2, 0], false, 3]);
  });

  it('Barrier(1) never blocks', async () => {
    const r = await run(
      program(function* ({ mp }) {
        const b = mp.Barrier(1);
        return [yield* b.wait(), yield* b.wait(), yield* b.wait()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([0, 0, 0]);
  });

  it('parties must be an integer >= 1 and action a function', async () => {
    for (const f of [
      (mp: Mp) => mp.Barrier(0),
      (mp: Mp) => mp.Barrier(2.5),
      (mp: Mp) => mp.Barrier(2, { action: 'go' as unknown as () => void }),
    ]) {
      const r = await run(program(({ mp }) => void f(mp)));
      expectError(r);
      expect((r.error as SimulationError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('Barrier: reuse across generations', () => {
  it('each round gives indices 0..n-1 and runs the action once, for every seed', async () => {
    const prog = program(function* ({ mp, time, random }) {
      let actions = 0;
      const b = mp.Barrier(3, { action: () => void actions++ });
      const rounds: number[][] = [[], [], [], []];
      const actionsSeen: number[][] = [[], [], [], []];
      function* work(): Gen {
        for (let round = 0; round < 4; round++) {
          yield* time.sleep(random.random());
          rounds[round]!.push(yield* b.wait());
          actionsSeen[round]!.push(actions);
        }
      }
      const ps = range(3).map(() => mp.Process({ target: work }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return { rounds, actionsSeen, actions, waiting: yield* b.nWaiting(), broken: yield* b.isBroken() };
    });
    for (const timing of ['timed', 'untimed'] as const) {
      for (const seed of seeds(100)) {
        const r = await run(prog, { seed, timing });
        expectOk(r);
        const v = r.value;
        for (const round of v.rounds) expect([...round].sort()).toEqual([0, 1, 2]);
        expect(v.actionsSeen).toEqual([
          [1, 1, 1],
          [2, 2, 2],
          [3, 3, 3],
          [4, 4, 4],
        ]);
        expect([v.actions, v.waiting, v.broken]).toEqual([4, 0, false]);
      }
    }
  });

  it('law: with n parties and k rounds, every round is a permutation of 0..n-1', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.nat(10_000), async (n, k, seed) => {
        const r = await run(
          program(async ({ mp }) => {
            let trips = 0;
            const b = mp.Barrier(n, { action: () => void trips++ });
            const rounds: number[][] = range(k).map(() => []);
            const work = async (): Promise<void> => {
              for (let round = 0; round < k; round++) rounds[round]!.push(await b.wait());
            };
            const ps = range(n).map(() => mp.Process({ target: work }));
            for (const p of ps) await p.start();
            for (const p of ps) await p.join();
            return { rounds, trips };
          }),
          { seed, timing: 'untimed' },
        );
        expectOk(r);
        for (const round of r.value.rounds) expect([...round].sort()).toEqual(range(n));
        expect(r.value.trips).toBe(k);
      }),
      { numRuns: 80 },
    );
  });
});

describe('Barrier: breaking', () => {
  it('a timeout breaks it for everyone waiting, at the deadline, and for later arrivals', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const b = mp.Barrier(3);
          const res: unknown[] = [];
          const waiter = async (name: string, timeout: number | undefined): Promise<void> => {
            try {
              await b.wait(timeout);
              res.push([name, 'passed']);
            } catch (e) {
              res.push([name, (e as Error).name, time.time()]);
            }
          };
          const a = mp.Process({ target: waiter, args: ['patient', undefined] });
          const c = mp.Process({ target: waiter, args: ['impatient', 1.5] });
          await a.start();
          await c.start();
          await a.join();
          await c.join();
          const broken = await b.isBroken();
          await waiter('late', undefined);
          return [res, broken, await b.nWaiting()];
        }),
        { seed },
      );
      expectOk(r);
      const [res, broken, waiting] = r.value as [unknown[][], boolean, number];
      expect(res.slice(0, 2).sort()).toEqual([
        ['impatient', 'BrokenBarrierError', 1.5],
        ['patient', 'BrokenBarrierError', 1.5],
      ]);
      expect(res[2]).toEqual(['late', 'BrokenBarrierError', 1.5]);
      expect(broken).toBe(true);
      expect(waiting).toBe(0);
    }
  });

  it('BrokenBarrierError is a RuntimeError, and an uncaught one ends a child with exit code 1', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const b = mp.Barrier(2);
        const p = mp.Process({ target: async () => void (await b.wait(0.5)) });
        await p.start();
        await p.join();
        try {
          await b.wait();
        } catch (e) {
          return [e instanceof BrokenBarrierError, e instanceof RuntimeError, p.exitcode];
        }
        return null;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([true, true, 1]);
    expect(r.stderr).toContain('\nBrokenBarrierError: ');
  });

  it('the timeout option is the default timeout of wait()', async () => {
    const r = await run(
      program(function* ({ mp, time }) {
        const b = mp.Barrier(2, { timeout: 4 });
        try {
          yield* b.wait();
        } catch (e) {
          return [(e as Error).name, time.time()];
        }
        return null;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual(['BrokenBarrierError', 4]);
  });

  it('a wait that trips the barrier before its deadline succeeds', async () => {
    for (const seed of seeds(20)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const b = mp.Barrier(2);
          const res: unknown[] = [];
          const p = mp.Process({ target: async () => void res.push(['child', await b.wait(5), time.time()]) });
          await p.start();
          await time.sleep(4);
          res.push(['main', await b.wait(), time.time()]);
          await p.join();
          return res;
        }),
        { seed },
      );
      expectOk(r);
      expect([...r.value].sort()).toEqual([
        ['child', 0, 4],
        ['main', 1, 4],
      ]);
      expect(r.time).toBe(4);
    }
  });

  it('abort() breaks it: current waiters and later arrivals raise BrokenBarrierError', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const b = mp.Barrier(3);
          const res: unknown[] = [];
          const waiter = async (): Promise<void> => {
            try {
              await b.wait();
            } catch (e) {
              res.push([(e as Error).name, time.time()]);
            }
          };
          const ps = [mp.Process({ target: waiter }), mp.Process({ target: waiter })];
          for (const p of ps) await p.start();
          await time.sleep(2);
          await b.abort();
          for (const p of ps) await p.join();
          const broken = await b.isBroken();
          await waiter();
          return [res, broken];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([
        [
          ['BrokenBarrierError', 2],
          ['BrokenBarrierError', 2],
          ['BrokenBarrierError', 2],
        ],
        true,
      ]);
    }
  });

  it('nWaiting is 0 as soon as the barrier is broken, as in Python (n_waiting counts only while filling)', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const b = mp.Barrier(3);
        for (let i = 0; i < 2; i++) await mp.Process({ target: async () => void (await b.wait()) }).start();
        await time.sleep(1);
        const before = await b.nWaiting();
        await b.abort();
        return [before, await b.nWaiting()]; // lowest-first: before the waiters get to leave
      }),
      { strategy: lowestFirst },
    );
    expectOk(r);
    expect(r.value).toEqual([2, 0]);
  });

  it('reset() makes current waiters raise BrokenBarrierError but leaves the barrier usable', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const b = mp.Barrier(2);
          const res: unknown[] = [];
          const p = mp.Process({
            target: async () => {
              try {
                await b.wait();
              } catch (e) {
                res.push([(e as Error).name, time.time()]);
              }
              res.push(['second wait', await b.wait()]); // a fresh generation
            },
          });
          await p.start();
          await time.sleep(1);
          await b.reset();
          res.push(['broken after reset', await b.isBroken()]);
          await time.sleep(1);
          res.push(['main', await b.wait()]);
          await p.join();
          return res;
        }),
        { seed },
      );
      expectOk(r);
      // The second generation trips: the child arrives first (at t=1), main second (t=2).
      expect([...r.value].sort()).toEqual([
        ['BrokenBarrierError', 1],
        ['broken after reset', false],
        ['main', 1],
        ['second wait', 0],
      ]);
    }
  });

  it('reset() of a broken barrier makes it usable again', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const b = mp.Barrier(2);
        await b.abort();
        const broken = await b.isBroken();
        await b.reset();
        const p = mp.Process({ target: async () => void (await b.wait()) });
        await p.start();
        const index = await b.wait();
        await p.join();
        return [broken, await b.isBroken(), p.exitcode, typeof index];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([true, false, 0, 'number']);
  });

  it('an exception in the action goes to the last arrival; the others get BrokenBarrierError', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, os }) => {
          const b = mp.Barrier(3, {
            action: () => {
              throw new Error(`action failed in ${os.getpid()}`);
            },
          });
          const res: string[] = [];
          const work = async (): Promise<void> => {
            try {
              await b.wait();
              res.push('passed');
            } catch (e) {
              res.push((e as Error).name === 'Error' ? `${(e as Error).message} (me: ${os.getpid()})` : (e as Error).name);
            }
          };
          const ps = range(3).map(() => mp.Process({ target: work }));
          for (const p of ps) await p.start();
          for (const p of ps) await p.join();
          return [res, await b.isBroken()];
        }),
        { seed, timing: 'untimed' },
      );
      expectOk(r);
      const [res, broken] = r.value as [string[], boolean];
      expect(broken).toBe(true);
      expect(res.filter((x) => x === 'BrokenBarrierError')).toHaveLength(2);
      const own = res.find((x) => x.startsWith('action failed'))!;
      const [, runner, me] = /in (\d+) \(me: (\d+)\)/.exec(own)!;
      expect(runner).toBe(me);
    }
  });

  it('a barrier that can never fill is a deadlock naming how many have arrived', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const b = mp.Barrier(3);
        await b.wait();
      }),
    );
    expectDeadlock(r);
    expect(r.blocked).toEqual([{ pid: 1000, name: 'MainProcess', op: 'Barrier#1.wait()', waitsOn: 'Barrier#1 has 1 of 3 parties', heldBy: [] }]);
  });
});

describe('Barrier: misuse', () => {
  it('a bad timeout is simulator misuse', async () => {
    const r = await run(
      program(async ({ mp }) => {
        await mp.Barrier(2).wait('long' as unknown as number);
      }),
    );
    expectError(r);
    expect(r.error).toBeInstanceOf(SimulationError);
  });
});
