import type { ProcessView, RunResult, Schedule, StepObserver, Strategy } from '@interleave/core';

/**
 * Counts preemptions as a strategy chooses: a choice of another process while the
 * one that took the last step (forced steps included) could have continued.
 */
class PreemptionCount {
  /** The process that took the last step. */
  last = -1;
  count = 0;

  chose(enabled: readonly ProcessView[], i: number): void {
    if (enabled[i]!.pid !== this.last && enabled.some((p) => p.pid === this.last)) this.count++;
  }

  readonly observer: StepObserver = {
    beforeStep: (p) => {
      this.last = p.pid;
    },
    ended() {},
  };
}

/**
 * Follow `pids` at each choice while the recorded process can run; after that (or
 * when it cannot), keep running the process that took the last step if it can, else
 * the lowest pid. Used to try shorter and less preemptive variants of a failing
 * schedule: every variant is a real execution, whatever the list says.
 */
export function lenientStrategy(pids: readonly number[]): Strategy & { readonly preemptions: () => number } {
  let at = 0;
  const counted = new PreemptionCount();
  return {
    name: 'shrink',
    choose(enabled: readonly ProcessView[]): number {
      const wanted = pids[at++];
      let i = wanted === undefined ? -1 : enabled.findIndex((p) => p.pid === wanted);
      if (i < 0) i = enabled.findIndex((p) => p.pid === counted.last);
      if (i < 0) i = 0;
      counted.chose(enabled, i);
      return i;
    },
    observer: counted.observer,
    preemptions: () => counted.count,
  };
}

/** `strategy` (which has no observer of its own), counting the preemptions of the run it makes. */
export function countingPreemptions(strategy: Strategy): Strategy & { readonly preemptions: () => number } {
  const counted = new PreemptionCount();
  return {
    name: strategy.name,
    choose(enabled, ctx): number {
      const i = strategy.choose(enabled, ctx);
      counted.chose(enabled, i);
      return i;
    },
    observer: counted.observer,
    preemptions: () => counted.count,
  };
}

/** A candidate schedule that still fails, with what it costs. */
export interface Shrunk {
  readonly result: RunResult;
  readonly preemptions: number;
}

/** What stopped a shrink: nothing (every candidate tried), or its budget. */
export type ShrinkEnd = 'complete' | 'budget';

/**
 * Minimise a failing schedule: fewer preemptions first, then fewer steps, keeping
 * the same kind of failure. `attempt` runs a candidate list of pids (leniently) and
 * returns the run and its preemption count when it fails the same way, else null.
 * Greedy; stops after `maxAttempts` runs, or when `exhausted()` says the caller's
 * budget is spent.
 */
export async function shrinkSchedule(
  start: Shrunk,
  attempt: (pids: readonly number[]) => Promise<Shrunk | null>,
  exhausted: () => boolean = () => false,
  maxAttempts = 300,
): Promise<{ best: Shrunk; end: ShrinkEnd }> {
  let best = start;
  let attempts = 0;
  const spent = (): boolean => attempts >= maxAttempts || exhausted();
  const better = (c: Shrunk): boolean =>
    c.preemptions < best.preemptions || (c.preemptions === best.preemptions && c.result.steps < best.result.steps);
  /** 'better', 'same' (the run was `best` again), or 'no'. */
  const tryPids = async (pids: readonly number[]): Promise<'better' | 'same' | 'no'> => {
    attempts++;
    const c = await attempt(pids);
    if (c === null) return 'no';
    if (better(c)) {
      best = c;
      return 'better';
    }
    return sameSchedule(c.result.schedule, best.result.schedule) ? 'same' : 'no';
  };
  let improved = true;
  let cut = false;
  while (improved) {
    improved = false;
    const pids = best.result.schedule.toArray();
    // 1. The shortest prefix that still fails when the rest runs without preemption.
    // Once a prefix runs `best` again, every longer one does too (the rest of `best`
    // is what running without preemption chooses): none of them can be better.
    for (let len = 0; len < pids.length; len++) {
      if ((cut = spent())) break;
      const r = await tryPids(pids.slice(0, len));
      if (r === 'same') break;
      if (r === 'better') {
        improved = true;
        break;
      }
    }
    if (improved || cut) continue;
    // 2. Drop single context switches, latest first: continue the previous process instead.
    for (let k = pids.length - 1; k > 0; k--) {
      if (pids[k] === pids[k - 1]) continue;
      if ((cut = spent())) break;
      const variant = [...pids];
      variant[k] = pids[k - 1]!;
      if ((await tryPids(variant)) === 'better') {
        improved = true;
        break;
      }
    }
  }
  return { best, end: cut ? 'budget' : 'complete' };
}

function sameSchedule(a: Schedule, b: Schedule): boolean {
  if (a.length !== b.length) return false;
  const x = a.toBytes();
  const y = b.toBytes();
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}
