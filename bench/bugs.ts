/**
 * Bug-finding on the benchmarks of the literature (bench/sctbench.ts): per benchmark
 * and strategy, the mean number of schedules until the first failure over 50 seeds
 * (random, PCT with d = 2 and 3), and the executions of iterative preemption and
 * delay bounding (bounds 0, 1, … until the bug, as CHESS and SCTBench count them) and
 * of the unbounded exhaustive search (optimal DPOR) until the bug. One line per
 * figure, `name: value unit`; docs/performance.md has the table.
 *
 * Run alone: `npx tsx bench/build.ts && node dist/bench-build/bench/group.js bugs`.
 */
import type { Program } from '@interleave/core';
import { check, exhaustive, pct, random, type ExplorationStrategy } from '@interleave/sched';
import { assertionsHold, fibBench, fixedSize, reorder, twostage, wronglock, type BugBenchmark } from './sctbench.js';

const run = { timing: 'untimed' } as const;
/** Seeds per seeded strategy. */
const TRIALS = 50;
/** Schedules per hunt of a seeded strategy. */
const BUDGET = 10_000;
/** Executions per systematic search (all its bounds together). */
const SEARCH = 6_000;
/** A seeded strategy that misses this many hunts is stopped: the bug is out of its reach here. */
const MISSES = 2;

function report(name: string, value: string, unit: string): void {
  console.log(`${name}: ${value} ${unit}`);
}

const fmt = (x: number, digits = 0): string => x.toFixed(digits).replace(/\B(?=(\d{3})+(?!\d))/g, '_');

async function hunt(prog: Program, strategy: ExplorationStrategy, executions: number): Promise<number | null> {
  const r = await check(prog, { strategy, property: assertionsHold, run, budget: { executions }, shrink: false });
  return r.passed ? null : r.executions;
}

/**
 * Mean schedules to the first failure over `TRIALS` seeds. A strategy that misses
 * `MISSES` hunts is stopped there: the line says how many of its hunts found the bug.
 */
async function seeded(name: string, prog: Program, make: (seed: number) => ExplorationStrategy): Promise<void> {
  let total = 0;
  let found = 0;
  let missed = 0;
  for (let t = 0; t < TRIALS && missed < MISSES; t++) {
    const n = await hunt(prog, make(t * 100_003), BUDGET);
    if (n === null) missed++;
    else {
      found++;
      total += n;
    }
  }
  if (missed === 0) report(name, fmt(total / found, 1), `schedules (mean to the first failure over ${TRIALS} seeds)`);
  else report(name, `missed`, `(found in ${found} of ${found + missed} hunts of ${fmt(BUDGET)} schedules${found > 0 ? `, mean ${fmt(total / found, 1)} when found` : ''})`);
}

/** Iterative bounding: every execution of bounds 0 … k−1, then bound k's until the bug. */
async function iterative(name: string, prog: Program, kind: 'preemptionBound' | 'delayBound'): Promise<void> {
  let total = 0;
  for (let k = 0; total < SEARCH; k++) {
    const r = await check(prog, { strategy: exhaustive({ [kind]: k }), property: assertionsHold, run, budget: { executions: SEARCH - total }, shrink: false });
    total += r.executions + r.stats.redundant;
    if (!r.passed) {
      report(name, fmt(total), `executions (bounds 0 to ${k}; the bug at bound ${k})`);
      return;
    }
    if (!r.complete) break;
  }
  report(name, 'missed', `(not found within ${fmt(SEARCH)} executions)`);
}

async function unbounded(name: string, prog: Program): Promise<void> {
  const n = await hunt(prog, exhaustive(), SEARCH);
  report(name, n === null ? 'missed' : fmt(n), n === null ? `(not found within ${fmt(SEARCH)} executions)` : 'executions (optimal DPOR, depth-first, until the bug)');
}

/** The suite at its own sizes, but for the ones a bounded search cannot reach here in seconds. */
function benchmarks(): BugBenchmark[] {
  return [
    reorder(3),
    reorder(5),
    reorder(10),
    twostage(),
    twostage(9, 1),
    wronglock(),
    ...fixedSize(),
    fibBench(2),
    fibBench(5),
  ];
}

export async function benchBugs(): Promise<void> {
  for (const b of benchmarks()) {
    const key = `bugs.${b.name.replace(/^(CS|SV-COMP)\./, '').replace(/[(), ]+/g, '_').replace(/_$/, '')}`;
    report(`${key}.needs`, `${b.preemptions}`, `preemption(s), ${b.delays} delay(s)`);
    await seeded(`${key}.random`, b.program, (seed) => random({ seed }));
    await seeded(`${key}.pct2`, b.program, (seed) => pct({ depth: 2, seed }));
    await seeded(`${key}.pct3`, b.program, (seed) => pct({ depth: 3, seed }));
    await iterative(`${key}.ipb`, b.program, 'preemptionBound');
    await iterative(`${key}.idb`, b.program, 'delayBound');
    await unbounded(`${key}.dfs`, b.program);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchBugs();
