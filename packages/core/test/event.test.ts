import { describe, expect, it } from 'vitest';
import { program, run, type Op, type Strategy } from '../src/index.js';
import { expectDeadlock, expectOk, lines, lowestFirst, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

/** Pick the given pids in order whenever they can run; otherwise the lowest pid. */
function scripted(pids: number[]): Strategy {
  const queue = [...pids];
  return {
    name: 'scripted',
    choose(enabled) {
      const i = queue.length > 0 ? enabled.findIndex((p) => p.pid === queue[0]) : -1;
      if (i < 0) return 0;
      queue.shift();
      return i;
    },
  };
}

describe('Event: flag', () => {
  it('set / clear / isSet (async)', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const e = mp.Event();
        const seen = [await e.isSet()];
        await e.set();
        seen.push(await e.isSet());
        await e.set(); // idempotent
        seen.push(await e.isSet());
        await e.clear();
        seen.push(await e.isSet());
        await e.clear();
        seen.push(await e.isSet());
        return seen;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, true, true, false, false]);
  });

  it('set / clear / isSet (generator), and the flag is shared between processes', async () => {
    for (const seed of seeds(20)) {
      const r = await run(
        program(function* ({ mp }) {
          const e = mp.Event();
          const p = mp.Process({ target: function* (): Gen { yield* e.set(); } });
          yield* p.start();
          yield* p.join();
          const a = yield* e.isSet();
          const q = mp.Process({ target: function* (): Gen { yield* e.clear(); } });
          yield* q.start();
          yield* q.join();
          return [a, yield* e.isSet()];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([true, false]);
    }
  });
});

describe('Event: wait', () => {
  for (const style of ['async', 'generator'] as const) {
    it(`${style}: wait blocks until set, then every waiter resolves to true at the time of the set`, async () => {
      const prog =
        style === 'async'
          ? program(async ({ mp, time, print }) => {
              const e = mp.Event();
              const waiter = async (i: number): Promise<void> => {
                const v = await e.wait();
                await print(i, v, time.time());
              };
              for (let i = 0; i < 3; i++) await mp.Process({ target: waiter, args: [i] }).start();
              await time.sleep(2.5);
              await e.set();
            })
          : program(function* ({ mp, time, print }) {
              const e = mp.Event();
              function* waiter(i: number): Gen {
                const v = yield* e.wait();
                yield* print(i, v, time.time());
              }
              for (let i = 0; i < 3; i++) yield* mp.Process({ target: waiter, args: [i] }).start();
              yield* time.sleep(2.5);
              yield* e.set();
            });
      for (const seed of seeds(50)) {
        const r = await run(prog, { seed });
        expectOk(r);
        expect(lines(r).sort()).toEqual(['0 True 2.5', '1 True 2.5', '2 True 2.5']);
      }
    });
  }

  it('wait on a set event resolves to true at once', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const e = mp.Event();
        await e.set();
        return [await e.wait(), await e.wait(0), await e.wait(5), time.time()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([true, true, true, 0]);
  });

  it('wait(timeout) resolves to false after exactly `timeout` virtual seconds', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const e = mp.Event();
        const a = await e.wait(1.25);
        const t1 = time.time();
        const b = await e.wait(0);
        const c = await e.wait(-3); // negative: 0
        return [a, t1, b, c, time.time()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, 1.25, false, false, 1.25]);
  });

  it('wait(timeout) resolves to true at the set when the set comes first (generator)', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(function* ({ mp, time }) {
          const e = mp.Event();
          const res: unknown[] = [];
          const p = mp.Process({
            target: function* (): Gen {
              res.push(yield* e.wait(10), time.time());
            },
          });
          yield* p.start();
          yield* time.sleep(3);
          yield* e.set();
          yield* p.join();
          return res;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([true, 3]);
    }
  });

  it('a wait that timed out is not revived by a later set', async () => {
    const r = await run(
      program(async ({ mp, time, print }) => {
        const e = mp.Event();
        const p = mp.Process({
          target: async () => {
            await print('wait ->', await e.wait(1), 'at', time.time());
          },
        });
        await p.start();
        await time.sleep(2);
        await e.set();
      }),
    );
    expectOk(r);
    expect(r.stdout).toBe('wait -> False at 1\n');
  });

  it('a set on which nobody waited is a flag, not a pulse: a clear before the wait makes the wait block', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const e = mp.Event();
        await e.set();
        await e.clear();
        return [await e.wait(0.5), time.time()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, 0.5]);
  });
});

describe('Event: set() immediately followed by clear()', () => {
  /** Two processes wait; main sets and clears back to back, then records what they got. */
  const setThenClear = program(async ({ mp, time }) => {
    const e = mp.Event();
    const got: unknown[] = [];
    const waiter = async (): Promise<void> => {
      got.push(await e.wait());
    };
    const ps = [mp.Process({ target: waiter }), mp.Process({ target: waiter })];
    for (const p of ps) await p.start();
    await time.sleep(1); // both are waiting by now
    await e.set();
    await e.clear();
    for (const p of ps) await p.join();
    return [got, time.time()];
  });

  it('wakes the existing waiters, which then resolve to false (the multiprocessing subtlety)', async () => {
    // lowest-first runs main's clear() before either waiter gets to run.
    const r = await run(setThenClear, { strategy: lowestFirst });
    expectOk(r);
    expect(r.value).toEqual([[false, false], 1]);
  });

  it('never leaves an existing waiter blocked, for every seed; both outcomes happen', async () => {
    const outcomes = new Set<string>();
    for (const seed of seeds(200)) {
      const r = await run(setThenClear, { seed });
      expectOk(r); // no deadlock: the set woke them even though the flag is clear again
      const [got, t] = r.value as [boolean[], number];
      expect(t).toBe(1);
      for (const g of got) outcomes.add(String(g));
    }
    expect(outcomes).toEqual(new Set(['true', 'false']));
  });

  it('generator style: the same subtlety', async () => {
    const r = await run(
      program(function* ({ mp, time }) {
        const e = mp.Event();
        let got: unknown = null;
        const p = mp.Process({
          target: function* (): Gen {
            got = yield* e.wait();
          },
        });
        yield* p.start();
        yield* time.sleep(1);
        yield* e.set();
        yield* e.clear();
        yield* p.join();
        return got;
      }),
      { strategy: lowestFirst },
    );
    expectOk(r);
    expect(r.value).toBe(false);
  });

  it('a waiter that arrives after the set/clear pair is not woken by it', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const e = mp.Event();
        const got: unknown[] = [];
        const early = mp.Process({ target: async () => void got.push(['early', await e.wait(), time.time()]) });
        const late = mp.Process({
          target: async () => {
            await time.sleep(2);
            got.push(['late', await e.wait(3), time.time()]);
          },
        });
        await early.start();
        await late.start();
        await time.sleep(1);
        await e.set();
        await e.clear();
        await early.join();
        await late.join();
        return got;
      }),
      { strategy: lowestFirst },
    );
    expectOk(r);
    expect(r.value).toEqual([
      ['early', false, 1],
      ['late', false, 5],
    ]);
  });

  it('a wait issued while the flag was set but not yet taken effect blocks if the flag is cleared first', async () => {
    // Step by step: main set()s and start()s the child; the child's first step issues
    // wait() while the flag is set; then main clear()s before the wait takes effect.
    const r = await run(
      program(async ({ mp, time }) => {
        const e = mp.Event();
        const res: unknown[] = [];
        const p = mp.Process({ target: async () => void res.push(await e.wait(), time.time()) });
        await e.set();
        await p.start();
        await e.clear();
        await time.sleep(1);
        await e.set();
        await p.join();
        return res;
      }),
      { strategy: scripted([1001]), trace: true },
    );
    expectOk(r);
    expect(r.value).toEqual([true, 1]); // woken by the second set, not the first
    // The scenario really happened: set, then the child's wait issued, then clear.
    const trace = r.trace ?? [];
    const at = (pred: (e: (typeof trace)[number]) => boolean): number => trace.findIndex(pred);
    const set1 = at((e) => e.type === 'done' && e.op === 'set');
    const issued = at((e) => e.type === 'issue' && e.pid === 1001 && e.op === 'wait');
    const cleared = at((e) => e.type === 'done' && e.op === 'clear');
    expect(set1).toBeGreaterThanOrEqual(0);
    expect(set1).toBeLessThan(issued);
    expect(issued).toBeLessThan(cleared);
  });
});

describe('Event: deadlock', () => {
  it('a wait on an Event nobody sets is reported as a deadlock', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const e = mp.Event();
        await e.wait();
      }),
    );
    expectDeadlock(r);
    expect(r.blocked).toEqual([{ pid: 1000, name: 'MainProcess', op: 'Event#1.wait()', waitsOn: 'waiting for Event#1 to be set', heldBy: [] }]);
  });
});
