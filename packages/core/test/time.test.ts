import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulationError, program, run, serializeTrace, type Op } from '../src/index.js';
import { expectError, expectOk, lines, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

/** Sleepers with the given durations, started in the given order; each prints when it wakes. */
const sleepers = (durations: readonly number[]) =>
  program(async ({ mp, time, print }) => {
    const sleeper = async (i: number, d: number): Promise<void> => {
      await time.sleep(d);
      await print(i, time.time());
    };
    for (const [i, d] of durations.entries()) await mp.Process({ target: sleeper, args: [i, d] }).start();
  });

describe('timed mode (default)', () => {
  it('sleepers wake in deadline order, at their deadlines, whatever the start order and seed', async () => {
    const durations = [3, 0.5, 2, 1, 2.5];
    for (const seed of seeds(100)) {
      const r = await run(sleepers(durations), { seed });
      expectOk(r);
      expect(lines(r)).toEqual(['1 0.5', '3 1', '2 2', '4 2.5', '0 3']);
      expect(r.time).toBe(3);
      expect(r.timing).toBe('timed');
    }
  });

  it('generator sleepers wake in deadline order too', async () => {
    const prog = program(function* ({ mp, time, print }) {
      function* sleeper(d: number): Gen {
        yield* time.sleep(d);
        yield* print(d);
      }
      for (const d of [0.3, 0.1, 0.2]) yield* mp.Process({ target: sleeper, args: [d] }).start();
    });
    for (const seed of seeds(50)) {
      const r = await run(prog, { seed });
      expectOk(r);
      expect(r.stdout).toBe('0.1\n0.2\n0.3\n');
    }
  });

  it('law: wake order is sorted by duration and each wakes at exactly its duration', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 6 }),
        fc.nat(1000),
        async (ms, seed) => {
          const durations = ms.map((m) => m / 1000);
          const r = await run(sleepers(durations), { seed });
          expectOk(r);
          const expected = durations
            .map((d, i) => ({ d, i }))
            .sort((a, b) => a.d - b.d)
            .map(({ d, i }) => `${i} ${d}`);
          expect(lines(r)).toEqual(expected);
          expect(r.time).toBe(Math.max(...durations));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('sleepers with the same deadline can wake in either order', async () => {
    const orders = new Set<string>();
    for (const seed of seeds(100)) {
      const r = await run(sleepers([1, 1]), { seed });
      expectOk(r);
      orders.add(r.stdout);
    }
    expect(orders).toEqual(new Set(['0 1\n1 1\n', '1 1\n0 1\n']));
  });

  it('time advances only when nothing can run: a busy process finishes all its steps at t=0 first', async () => {
    const prog = program(async ({ mp, time, print }) => {
      const sleeper = mp.Process({
        target: async () => {
          await time.sleep(0.001);
          await print('sleeper woke');
        },
      });
      const busy = mp.Process({
        target: async () => {
          for (let i = 0; i < 100; i++) await print('busy', i);
        },
      });
      await sleeper.start();
      await busy.start();
    });
    for (const seed of seeds(50)) {
      const r = await run(prog, { seed });
      expectOk(r);
      expect(r.output).toHaveLength(101);
      expect(r.output.slice(0, 100).every((l) => l.time === 0 && l.text.startsWith('busy'))).toBe(true);
      expect(r.output[100]).toMatchObject({ text: 'sleeper woke', time: 0.001, pid: 1001, name: 'Process-1', stream: 'stdout' });
    }
  });

  it('sleeps add up; time, monotonic and perfCounter agree; sleep(0) takes no time', async () => {
    const r = await run(
      program(function* ({ time }) {
        const seen: number[][] = [];
        for (const d of [0.5, 0, 0.25, 1]) {
          yield* time.sleep(d);
          seen.push([time.time(), time.monotonic(), time.perfCounter()]);
        }
        return seen;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([
      [0.5, 0.5, 0.5],
      [0.5, 0.5, 0.5],
      [0.75, 0.75, 0.75],
      [1.75, 1.75, 1.75],
    ]);
    expect(r.time).toBe(1.75);
  });

  it('Date.now / performance.now / new Date() read the virtual clock during a run', async () => {
    const r = await run(
      program(async ({ time }) => {
        await time.sleep(2.5);
        return [Date.now(), performance.now(), new Date().getTime()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([2500, 2500, 2500]);
    expect(Date.now()).toBeGreaterThan(1e12); // restored afterwards
  });

  it('a negative or non-numeric sleep is simulator misuse', async () => {
    for (const d of [-1, Number.NaN, '1' as unknown as number]) {
      const r = await run(
        program(async ({ time }) => {
          await time.sleep(d);
        }),
      );
      expectError(r);
      expect(r.error).toBeInstanceOf(SimulationError);
      expect((r.error as SimulationError).code).toBe('INVALID_ARGUMENT');
      expect(r.message).toContain('time.sleep(seconds)');
    }
  });

  it('the trace records sleep and clock events', async () => {
    const r = await run(
      program(async ({ time }) => {
        await time.sleep(2);
      }),
      { trace: true },
    );
    expectOk(r);
    const t = r.trace ?? [];
    expect(t.find((e) => e.type === 'sleep')).toMatchObject({ pid: 1000, until: 2, time: 0 });
    expect(t.find((e) => e.type === 'clock')).toMatchObject({ pid: 0, from: 0, time: 2 });
  });
});

describe('untimed mode', () => {
  it('a sleep is only a scheduling point: across seeds both orders of two sleepers happen, at t=0', async () => {
    const orders = new Set<string>();
    for (const seed of seeds(200)) {
      const r = await run(sleepers([1, 2]), { seed, timing: 'untimed' });
      expectOk(r);
      expect(r.time).toBe(0);
      expect(r.timing).toBe('untimed');
      expect(r.output.every((l) => l.time === 0)).toBe(true);
      orders.add(lines(r).map((l) => l.split(' ')[0]).join());
    }
    expect(orders).toEqual(new Set(['0,1', '1,0']));
  });

  it('the longer sleeper can finish first even with a large gap, in generator style too', async () => {
    const prog = program(function* ({ mp, time, print }) {
      function* sleeper(d: number): Gen {
        yield* time.sleep(d);
        yield* print(d);
      }
      yield* mp.Process({ target: sleeper, args: [0.001] }).start();
      yield* mp.Process({ target: sleeper, args: [1000] }).start();
    });
    const firsts = new Set<string>();
    for (const seed of seeds(100)) {
      const r = await run(prog, { seed, timing: 'untimed' });
      expectOk(r);
      firsts.add(lines(r)[0]!);
    }
    expect(firsts).toEqual(new Set(['0.001', '1000']));
  });

  it('time.sleep does not advance the clock', async () => {
    const r = await run(
      program(async ({ time }) => {
        await time.sleep(100);
        return time.time();
      }),
      { timing: 'untimed' },
    );
    expectOk(r);
    expect(r.value).toBe(0);
  });

  // Design question (reported, not pinned): in untimed mode sleeps take no time but
  // operation timeouts (acquire/wait/join with timeout) still wait virtual time, so a
  // timeout can only fire once every other process is blocked — e.g. a holder that
  // "sleeps 10 s" before releasing always beats an `acquire(true, 0.1)`. Should
  // untimed mode let a timeout fire at any scheduling point instead?
  it.todo('untimed mode: whether operation timeouts may fire at any scheduling point');
});

describe('determinism', () => {
  const noisy = program(async ({ mp, time, random, print }) => {
    const l = mp.Lock();
    const work = async (i: number): Promise<void> => {
      for (let k = 0; k < 3; k++) {
        await time.sleep(random.random());
        await l.withLock(async () => await print(i, k, Math.random().toFixed(6)));
      }
    };
    for (let i = 0; i < 4; i++) await mp.Process({ target: work, args: [i] }).start();
  });

  it('law: the same seed and options give the same run, byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.nat(), fc.string()), fc.constantFrom('timed' as const, 'untimed' as const), async (seed, timing) => {
        const a = await run(noisy, { seed, timing, trace: true });
        const b = await run(noisy, { seed, timing, trace: true });
        expectOk(a);
        expectOk(b);
        expect(b.stdout).toBe(a.stdout);
        expect(b.schedule.toArray()).toEqual(a.schedule.toArray());
        expect(serializeTrace(b.trace ?? [])).toBe(serializeTrace(a.trace ?? []));
      }),
      { numRuns: 30 },
    );
  });

  it('different seeds give different runs', async () => {
    const outs = new Set<string>();
    for (const seed of seeds(20)) {
      const r = await run(noisy, { seed });
      expectOk(r);
      outs.add(r.stdout);
    }
    expect(outs.size).toBeGreaterThan(15);
  });
});
