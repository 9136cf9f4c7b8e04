/**
 * Shared helpers of the core test suites (not a test file itself).
 */
import { assert, expect } from 'vitest';
import type { DeadlockResult, ErrorResult, Monitor, OkResult, RunResult, Strategy, TraceEvent } from '../src/index.js';

/** `0, 1, …, n-1`: the seeds a schedule-independent property is checked over. */
export function seeds(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Assert a run ended `ok`, showing its message otherwise. */
export function expectOk<R>(r: RunResult<R>): asserts r is OkResult<R> {
  if (r.status !== 'ok') assert.fail(`expected status ok (seed ${r.seed}), got ${r.status}: ${r.message}`);
}

/** Assert a run ended with `error`. */
export function expectError<R>(r: RunResult<R>): asserts r is ErrorResult {
  if (r.status !== 'error') assert.fail(`expected status error (seed ${r.seed}), got ${r.status}${r.status === 'ok' ? '' : `: ${r.message}`}`);
}

/** Assert a run ended in a deadlock. */
export function expectDeadlock<R>(r: RunResult<R>): asserts r is DeadlockResult {
  if (r.status !== 'deadlock') assert.fail(`expected status deadlock (seed ${r.seed}), got ${r.status}${r.status === 'ok' ? '' : `: ${r.message}`}`);
}

/** The stdout of a run as lines (without the trailing empty one). */
export function lines(r: RunResult): string[] {
  return r.stdout === '' ? [] : r.stdout.slice(0, -1).split('\n');
}

/** Always run the lowest pid that can run: a deterministic, non-preemptive schedule. */
export const lowestFirst: Strategy = { name: 'lowest-first', choose: () => 0 };
/** Always run the highest pid that can run. */
export const highestFirst: Strategy = { name: 'highest-first', choose: (enabled) => enabled.length - 1 };

/**
 * A monitor counting, at every step, how many processes hold `objId` (a Lock,
 * RLock or Semaphore), from the `done` events of its acquire/release operations.
 * It fails the run when the count exceeds `max`, and remembers the peak.
 */
export function holdersMonitor(objId: string, max: number): Monitor & { peak: number; held: number } {
  const m = {
    name: `at-most-${max}-holders-of-${objId}`,
    peak: 0,
    held: 0,
    onStart(): void {
      m.peak = 0;
      m.held = 0;
    },
    onEvent(e: TraceEvent, ctx: { fail(message: string): void }): void {
      if (e.type !== 'done' || e.obj !== objId || e.outcome !== 'ok') return;
      if (e.op === 'acquire' && e.value === true) m.held++;
      else if (e.op === 'release') m.held--;
      else return;
      m.peak = Math.max(m.peak, m.held);
      if (m.held > max) ctx.fail(`${m.held} holders of ${objId} at step ${e.step}`);
    },
  };
  return m;
}

/** The `done` events of a trace. */
export function doneEvents(trace: readonly TraceEvent[] | undefined): Extract<TraceEvent, { type: 'done' }>[] {
  expect(trace).toBeDefined();
  return (trace ?? []).filter((e): e is Extract<TraceEvent, { type: 'done' }> => e.type === 'done');
}
