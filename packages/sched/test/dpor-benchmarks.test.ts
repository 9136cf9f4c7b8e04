/**
 * Benchmarks of the DPOR literature (dpor-programs.ts) with the number of
 * Mazurkiewicz traces optimal DPOR explores pinned, none abandoned as redundant.
 *
 * Published Optimal-DPOR counts (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014, as
 * reproduced by Concuerror's test suite, tests/suites/dpor_tests/results):
 * lastzero(5) = 64, filesystem(16) = 8, readers(6) = 64; our model gives the same.
 * filesystem(n) has 2^(n-13) traces (one per order of each of the n - 13 contended
 * block locks), so filesystem(14) = 2. indexer(n) (Flanagan & Godefroid, POPL 2005)
 * has no hash collision below 12 threads; indexer(11..13) = 1, 8, 64 are our counts.
 */
import { describe, expect, it } from 'vitest';
import type { Monitor, Program, RunResult } from '@interleave/core';
import { check, exhaustive, explore, random } from '../src/index.js';
import { filesystem, indexer, lastzero, readers } from './dpor-programs.js';

const untimed = { timing: 'untimed' } as const;

describe('trace counts of published DPOR benchmarks', () => {
  it.each<{ name: string; prog: Program; traces: number }>([
    { name: 'lastzero(5)', prog: lastzero(5), traces: 64 },
    { name: 'filesystem(14)', prog: filesystem(14), traces: 2 },
    { name: 'filesystem(16)', prog: filesystem(16), traces: 8 },
    { name: 'readers(6)', prog: readers(6), traces: 64 },
    { name: 'indexer(11)', prog: indexer(11), traces: 1 },
    { name: 'indexer(12)', prog: indexer(12), traces: 8 },
    { name: 'indexer(13)', prog: indexer(13), traces: 64 },
  ])('$name: optimal DPOR runs $traces executions, none redundant', async ({ prog, traces }) => {
    const r = await explore(prog, { strategy: exhaustive(), run: untimed });
    expect(r.complete).toBe(true);
    expect(r.executions).toBe(traces);
    expect(r.stats.redundant).toBe(0);
  });

  it('source DPOR reaches the same 64 traces of lastzero(5), abandoning 33 executions on the way (its control flow depends on the values read)', async () => {
    const r = await explore(lastzero(5), { strategy: exhaustive({ reduction: 'source' }), run: untimed });
    expect([r.executions, r.stats.redundant, r.complete]).toEqual([64, 33, true]);
  });

  it.each<{ name: string; prog: Program; traces: number }>([
    { name: 'filesystem(16)', prog: filesystem(16), traces: 8 },
    { name: 'filesystem(20)', prog: filesystem(20), traces: 128 },
    { name: 'readers(6)', prog: readers(6), traces: 64 },
    { name: 'indexer(13)', prog: indexer(13), traces: 64 },
  ])('$name: source DPOR runs the $traces traces and abandons none', async ({ prog, traces }) => {
    // A race whose second step could not run first (it waited for a lock the first
    // step's critical section held, or for the process the first step started) is
    // not reversed there: a backtrack for its process only leads to executions where
    // everyone is asleep (filesystem(20) would abandon 21,729 of them).
    const r = await explore(prog, { strategy: exhaustive({ reduction: 'source' }), run: untimed });
    expect([r.executions, r.stats.redundant, r.complete]).toEqual([traces, 0, true]);
  });
});

describe('budgets bound the runs exhaustive search abandons, too', () => {
  it('lastzero(5) under source DPOR: 64 executions and 33 redundant runs, so a budget of 70 runs stops it', async () => {
    const whole = await explore(lastzero(5), { strategy: exhaustive({ reduction: 'source' }), run: untimed });
    expect([whole.executions, whole.stats.redundant, whole.complete]).toEqual([64, 33, true]);
    const cut = await explore(lastzero(5), { strategy: exhaustive({ reduction: 'source' }), run: untimed, budget: { executions: 70 } });
    expect(cut.executions + cut.stats.redundant).toBe(70);
    expect(cut.executions).toBeLessThan(64);
    expect(cut.stats.abandoned.runs).toBe(cut.stats.redundant); // not sharded: every abandoned run was redundant
    expect(cut.stats.abandoned.steps).toBeGreaterThan(0);
    expect(cut.complete).toBe(false);
    expect(cut.stats.stoppedBy).toBe('executions');
    const bySteps = await explore(lastzero(5), { strategy: exhaustive({ reduction: 'source' }), run: untimed, budget: { steps: whole.stats.steps } });
    expect(bySteps.complete).toBe(false); // the redundant runs' steps count as well
    expect(bySteps.stats.stoppedBy).toBe('steps');
  });

  it("shrinking's allowance covers the runs its bounded searches abandon", async () => {
    // Shrinking looks for fewer preemptions with preemption-bounded source DPOR: the
    // steps of its runs, abandoned ones included, are charged to the allowance.
    let steps = 0;
    let last = 0;
    const meter: Monitor = {
      name: 'steps',
      events: ['done'],
      onStart: () => void (last = 0),
      onEvent: (e) => void (e.type === 'done' && (last = e.step)),
      onEnd: () => void (steps += last),
    };
    const property = (r: RunResult<number | undefined>): boolean => r.status === 'ok' && r.value === 2;
    const r = await check(filesystem(18, { lostUpdate: true }), { strategy: random({ seed: 1 }), property, run: untimed, monitors: [meter], shrink: { steps: 20_000 } });
    expect(r.failure!.shrinking).toBe('budget');
    // The hunt (a few hundred steps), 20,000 of shrinking plus at most one run past it, the final re-run.
    expect(steps).toBeLessThan(23_000);
  });
});
