/**
 * The trace events the checkers' atomicity and happens-before relations read:
 * `world.atomic(label, body)` marks a block (async and generator processes, nested
 * blocks, exceptions) without changing the run; a background thread's start and a
 * read of a finished child's `exitcode` are traced. Misuses of `atomic` are pinned.
 */
import { describe, expect, it } from 'vitest';
import { SimulationError, formatTrace, program, run, runSync, type Op, type RawValue, type TraceEvent, type World } from '../src/index.js';
import { expectOk, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

/** The atomic markers and the steps of a trace, as `pid:what` strings. */
function marks(trace: readonly TraceEvent[]): string[] {
  const out: string[] = [];
  for (const e of trace) {
    if (e.type === 'atomic-begin' || e.type === 'atomic-end') out.push(`${e.pid}:${e.type} ${e.label}`);
    else if (e.type === 'done' && e.obj.startsWith('RawValue')) out.push(`${e.pid}:${e.obj}.${e.op}`);
  }
  return out;
}

/** Two workers each moving 10 between two RawValues, with or without declaring the move atomic. */
function mover(declared: boolean) {
  return program(
    function* ({ mp, atomic }: World) {
      function* move(a: RawValue, b: RawValue): Gen {
        const body = function* (): Gen {
          yield* a.set((yield* a.get()) - 10);
          yield* b.set((yield* b.get()) + 10);
        };
        if (declared) yield* atomic('move', body);
        else yield* body();
      }
      const a = mp.RawValue('i', 100);
      const b = mp.RawValue('i', 0);
      const ps = [0, 1].map(() => mp.Process({ target: move, args: [a, b] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return [yield* a.get(), yield* b.get()];
    },
    { name: `mover-${declared ? 'declared' : 'plain'}` },
  );
}

describe('world.atomic', () => {
  it('marks the block in the trace around its operations (generator process)', () => {
    const r = runSync(mover(true), { seed: 0, trace: true });
    expectOk(r);
    const ms = marks(r.trace!).filter((m) => m.startsWith('1001:'));
    expect(ms).toEqual([
      '1001:atomic-begin move',
      '1001:RawValue#1.get',
      '1001:RawValue#1.set',
      '1001:RawValue#2.get',
      '1001:RawValue#2.set',
      '1001:atomic-end move',
    ]);
    expect(formatTrace(r.trace!, r.processes)).toContain('atomic "move" {');
  });

  it('is not a lock and not a step: the run is the same with and without it, for every seed', () => {
    for (const seed of seeds(20)) {
      const plain = runSync(mover(false), { seed, trace: true });
      const declared = runSync(mover(true), { seed, trace: true });
      expectOk(plain);
      expectOk(declared);
      expect(declared.schedule).toEqual(plain.schedule);
      expect(declared.value).toEqual(plain.value);
      const steps = (t: readonly TraceEvent[]) => t.filter((e) => e.type === 'done').map((e) => `${e.step}:${e.pid}`);
      expect(steps(declared.trace!)).toEqual(steps(plain.trace!));
    }
  });

  it('async processes: await atomic(label, async body) returns its value; a throw still ends the block', async () => {
    const r = await run(
      program(async ({ mp, atomic }) => {
        const v = mp.RawValue('i', 1);
        const got = await atomic('read', async () => await v.get());
        let caught = '';
        try {
          await atomic('fail', async () => {
            await v.set(2);
            throw new Error('boom');
          });
        } catch (e) {
          caught = (e as Error).message;
        }
        const plain = await atomic('plain', () => 5);
        return [got, caught, plain];
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toEqual([1, 'boom', 5]);
    expect(marks(r.trace!)).toEqual([
      '1000:atomic-begin read',
      '1000:RawValue#1.get',
      '1000:atomic-end read',
      '1000:atomic-begin fail',
      '1000:RawValue#1.set',
      '1000:atomic-end fail',
      '1000:atomic-begin plain',
      '1000:atomic-end plain',
    ]);
  });

  it('nested blocks are traced as written (the checker counts them as the outermost)', () => {
    const r = runSync(
      program(function* ({ mp, atomic }) {
        const v = mp.RawValue('i', 0);
        return yield* atomic('outer', function* () {
          yield* v.set(1);
          // A body that returns a generator (not a generator function) works in a generator process.
          return yield* (atomic('inner', () => v.get()) as unknown as Gen<number>);
        });
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toBe(1);
    expect(marks(r.trace!)).toEqual(['1000:atomic-begin outer', '1000:RawValue#1.set', '1000:atomic-begin inner', '1000:RawValue#1.get', '1000:atomic-end inner', '1000:atomic-end outer']);
  });

  it('misuses are reported with the API, what was expected and how to fix it', async () => {
    const error = (r: { status: string; error?: unknown }): string => {
      expect(r.status).toBe('error');
      expect(r.error).toBeInstanceOf(SimulationError);
      expect((r.error as SimulationError).code).toBe('INVALID_ARGUMENT');
      return (r.error as SimulationError).message;
    };
    expect(error(await run(program(({ atomic }) => atomic('', () => 1))))).toBe(
      'atomic(label, body): label must be a non-empty string, got "".\n  How to fix: name what the block does, e.g. `atomic(\'withdraw\', ...)`: reports use it.',
    );
    expect(error(await run(program(({ atomic }) => atomic(7 as unknown as string, () => 1))))).toBe(
      "atomic(label, body): label must be a non-empty string, got 7.\n  How to fix: name what the block does, e.g. `atomic('withdraw', ...)`: reports use it.",
    );
    expect(error(await run(program(({ atomic }) => atomic('x', 3 as unknown as () => number))))).toBe(
      "atomic(label, body): body must be a function, got 3.\n  How to fix: pass the block as a function: `await atomic('withdraw', async () => { ... })`.",
    );
    const inGenerator = runSync(
      program(function* ({ atomic }) {
        yield* atomic('x', () => Promise.resolve(1)) as unknown as Gen<number>;
      }),
    );
    expect(error(inGenerator)).toBe(
      'atomic(label, body): body returned a promise in a generator process, which cannot await it.\n  How to fix: pass a generator function (`function* () { ... }`) and use `yield*` inside it.',
    );
    let kept: World['atomic'] | null = null;
    await run(program(({ atomic }) => void (kept = atomic)));
    try {
      void kept!('late', () => 1);
      expect.unreachable();
    } catch (e) {
      expect((e as SimulationError).code).toBe('OUTSIDE_PROCESS');
      expect((e as Error).message).toMatch(/^atomic\(label, body\) was called outside a running simulated process \(its run has already ended\)\./);
    }
  });
});

describe('other traced observations', () => {
  it("reading a finished child's exitcode is traced as a reap by the reader; a running one's is not", () => {
    const r = runSync(
      program(function* ({ mp, time }) {
        const p = mp.Process({ target: function* () {} });
        yield* p.start();
        const early = p.exitcode; // may still run: no event unless it has exited
        while (p.exitcode === null) yield* time.sleep(0.1);
        return [early, p.exitcode];
      }),
      { trace: true, seed: 0 },
    );
    expectOk(r);
    const reaps = r.trace!.filter((e) => e.type === 'reap');
    expect(reaps.length).toBeGreaterThanOrEqual(2);
    for (const e of reaps) expect(e).toMatchObject({ type: 'reap', pid: 1000, child: 1001, exitcode: 0 });
  });

  it("a background thread's start is traced, in the step of the process that needed it", () => {
    const r = runSync(
      program(function* ({ mp }) {
        const q = mp.Queue<number>();
        yield* q.put(1);
        return yield* q.get();
      }),
      { trace: true, queueFeeder: true },
    );
    expectOk(r);
    const starts = r.trace!.filter((e) => e.type === 'thread-start');
    expect(starts).toEqual([expect.objectContaining({ pid: 1000, owner: 1000, name: 'QueueFeederThread' })]);
    const t = starts[0]!;
    expect(t.type === 'thread-start' && r.processes.find((p) => p.pid === t.thread)?.name).toBe('QueueFeederThread');
    expect(formatTrace(r.trace!, r.processes)).toContain('starts QueueFeederThread');
  });
});

describe('formatTrace on a long run', () => {
  it('lays out a trace of 200,000 rows (more arguments than a call can take)', () => {
    const spin = program(function* ({ mp }: World) {
      const v = mp.RawValue('i', 0);
      for (let i = 0; i < 200_000; i++) yield* v.get();
    });
    const r = runSync(spin, { maxSteps: 1_000_000, trace: true });
    expect(r.status).toBe('ok');
    const table = formatTrace(r.trace!, r.processes);
    expect(table.split('\n').length).toBeGreaterThan(200_000);
    expect(table.split('\n', 1)[0]).toMatch(/^step {3}\| time \| MainProcess \(1000\)$/); // steps run to six digits
  });
});
