/**
 * Two happens-before edges, each shown necessary: a program that is race-free only
 * thanks to it gets no report, under every schedule; the same program with the
 * edge's event hidden from the checker gets one; and a variant of the program that
 * the edge does not order races.
 *
 * - A background thread starts with what the step that started it knew (a Pool's
 *   worker handler, started when a worker retires, spawns the replacement worker).
 * - Reading the `exitcode` of a process that has exited orders what it did before
 *   the reader's next step, as `join()` does.
 */
import { describe, expect, it } from 'vitest';
import { program, runSync, type Monitor, type Op, type RawValue, type TraceEvent, type World } from '@interleave/core';
import { exhaustive, explore } from '@interleave/sched';
import { races, type Finding } from '../src/index.js';

type Gen<T = void> = Generator<Op<unknown>, T, unknown>;
const untimed = { timing: 'untimed' } as const;

/** `m`, blind to the events of type `type`: the checker as it was without that edge. */
function without(m: Monitor, type: TraceEvent['type']): Monitor {
  return { name: m.name, blocking: false, onStart: (ctx) => m.onStart?.(ctx), onEvent: (e, ctx) => (e.type === type ? undefined : m.onEvent(e, ctx)), onEnd: (ctx) => m.onEnd?.(ctx) };
}

/** Every distinct race over every schedule of `prog`, with `wrap` applied to the race monitor. */
async function racesIn(prog: ReturnType<typeof program>, wrap: (m: Monitor) => Monitor = (m) => m): Promise<readonly Finding[]> {
  const r = races({ failOn: 'never' });
  const report = await explore(prog, { strategy: exhaustive(), run: untimed, monitors: [wrap(r)] });
  expect(report.complete).toBe(true);
  expect(report.executions).toBeGreaterThan(1);
  return r.distinct.map((d) => d.finding);
}

describe('thread start: a Pool worker handler knows what the step that started it knew', () => {
  /**
   * The initializer of every worker reads `v`. With `maxtasksperchild: 1` the second
   * task runs in a replacement worker, spawned by the pool's worker-handler thread,
   * which is started when the first worker retires. `late`: main writes `v` after the
   * first task instead of before creating the pool.
   */
  const pool = (late: boolean) =>
    program(
      function* ({ mp }: World) {
        const v = mp.RawValue('i', 0);
        function* init(x: RawValue): Gen {
          yield* x.get();
        }
        function* task(n: number): Gen<number> {
          return n;
        }
        if (!late) yield* v.set(1);
        const p = mp.Pool({ processes: 1, initializer: init, initargs: [v], maxtasksperchild: 1 });
        yield* (yield* p.applyAsync(task, [1])).get();
        if (late) yield* v.set(1);
        yield* (yield* p.applyAsync(task, [2])).get();
        yield* p.close();
        yield* p.join();
      },
      { name: `pool-initializer-${late ? 'late' : 'early'}` },
    );

  it('written before the pool: no race under any schedule, though the replacement worker reads it', async () => {
    expect(await racesIn(pool(false))).toEqual([]);
  });

  it('without the thread-start edge the replacement worker would race', async () => {
    const found = await racesIn(pool(false), (m) => without(m, 'thread-start'));
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]!.events.map((e) => e.op)).toEqual(['RawValue#1.set(1)', 'RawValue#1.get()']);
  });

  it('written after the first task: the replacement worker races with the write', async () => {
    const found = await racesIn(pool(true));
    expect(found.map((f) => f.kind)).toEqual(['data-race']);
    expect(found[0]!.events.map((e) => e.name)).toEqual(['MainProcess', expect.stringMatching(/^SpawnPoolWorker-/)]);
  });
});

describe("exitcode: seeing a child's exit orders what it did", () => {
  /**
   * The child writes `v`; the parent polls a few times until the child has exited
   * (`exitcode`), joining it if it has not by then, or just sleeps as long; then reads `v`.
   */
  const poll = (byExitcode: boolean) =>
    program(
      function* ({ mp, time }: World) {
        function* child(v: RawValue): Gen {
          yield* v.set(42);
        }
        const v = mp.RawValue('i', 0);
        const p = mp.Process({ target: child, args: [v] });
        yield* p.start();
        for (let i = 0; i < 3 && (!byExitcode || p.exitcode === null); i++) yield* time.sleep(0.1);
        if (byExitcode && p.exitcode === null) yield* p.join();
        yield* v.get();
        yield* p.join();
      },
      { name: `poll-${byExitcode ? 'exitcode' : 'sleep'}` },
    );

  /**
   * Over seeds, not exhaustively: `exitcode` is not a step, so partial-order reduction
   * does not see that the poll depends on the child's exit and explores one order only.
   */
  function racesOverSeeds(prog: ReturnType<typeof program>, wrap: (m: Monitor) => Monitor = (m) => m): { readonly found: readonly Finding[]; readonly sawExit: number } {
    const r = races({ failOn: 'never' });
    let sawExit = 0;
    for (let seed = 0; seed < 40; seed++) {
      const res = runSync(prog, { seed, timing: 'untimed', monitors: [wrap(r)], trace: true });
      expect(res.status).toBe('ok');
      // The poll saw the exit before the read (rather than giving up and joining).
      const read = res.trace!.findIndex((e) => e.type === 'done' && e.op === 'get');
      if (res.trace!.slice(0, read).some((e) => e.type === 'reap')) sawExit++;
    }
    return { found: r.distinct.map((d) => d.finding), sawExit };
  }

  it('polling exitcode until the child exited (else joining it): no race, over seeds where the poll saw the exit', () => {
    const { found, sawExit } = racesOverSeeds(poll(true));
    expect(sawExit).toBeGreaterThan(5);
    expect(found).toEqual([]);
  });

  it('without the reap edge the read would race with the child', () => {
    const { found } = racesOverSeeds(poll(true), (m) => without(m, 'reap'));
    expect(found.map((f) => f.kind)).toEqual(['data-race']);
  });

  it('sleeping instead: a sleep orders nothing, the read races', () => {
    const { found } = racesOverSeeds(poll(false));
    expect(found.map((f) => f.kind)).toEqual(['data-race']);
    expect(found[0]!.events.map((e) => e.op).sort()).toEqual(['RawValue#1.get()', 'RawValue#1.set(42)']);
  });
});
