import type { ProcessView, RunResult, Strategy } from '@interleave/core';

/**
 * Follow `pids` at each choice while the recorded process can run; after that (or
 * when it cannot), keep running the process that took the last step if it can, else
 * the lowest pid. Used to try shorter and less preemptive variants of a failing
 * schedule: every variant is a real execution, whatever the list says.
 */
export function lenientStrategy(pids: readonly number[]): Strategy & { readonly preemptions: () => number } {
  let at = 0;
  let last = -1;
  let preemptions = 0;
  return {
    name: 'shrink',
    choose(enabled: readonly ProcessView[]): number {
      const wanted = pids[at++];
      let i = wanted === undefined ? -1 : enabled.findIndex((p) => p.pid === wanted);
      if (i < 0) i = enabled.findIndex((p) => p.pid === last);
      if (i < 0) i = 0;
      if (enabled[i]!.pid !== last && enabled.some((p) => p.pid === last)) preemptions++;
      return i;
    },
    observer: {
      beforeStep(p) {
        last = p.pid;
      },
      ended() {},
    },
    preemptions: () => preemptions,
  };
}

/** A candidate schedule that still fails, with what it costs. */
export interface Shrunk {
  readonly result: RunResult;
  readonly preemptions: number;
}

/**
 * Minimise a failing schedule: fewer preemptions first, then fewer steps, keeping
 * the same kind of failure. `attempt` runs a candidate list of pids (leniently) and
 * returns the run and its preemption count when it fails the same way, else null.
 * Greedy and bounded by `maxAttempts` runs.
 */
export async function shrinkSchedule(
  start: Shrunk,
  attempt: (pids: readonly number[]) => Promise<Shrunk | null>,
  maxAttempts = 300,
): Promise<Shrunk> {
  let best = start;
  let attempts = 0;
  const better = (c: Shrunk): boolean =>
    c.preemptions < best.preemptions || (c.preemptions === best.preemptions && c.result.steps < best.result.steps);
  const tryPids = async (pids: readonly number[]): Promise<boolean> => {
    if (attempts++ >= maxAttempts) return false;
    const c = await attempt(pids);
    if (c !== null && better(c)) {
      best = c;
      return true;
    }
    return false;
  };
  let improved = true;
  while (improved && attempts < maxAttempts) {
    improved = false;
    const pids = best.result.schedule.toArray();
    // 1. The shortest prefix that still fails when the rest runs without preemption.
    for (let len = 0; len < pids.length && attempts < maxAttempts; len++) {
      if (await tryPids(pids.slice(0, len))) {
        improved = true;
        break;
      }
    }
    if (improved) continue;
    // 2. Drop single context switches, latest first: continue the previous process instead.
    for (let k = pids.length - 1; k > 0 && attempts < maxAttempts; k--) {
      if (pids[k] === pids[k - 1]) continue;
      const variant = [...pids];
      variant[k] = pids[k - 1]!;
      if (await tryPids(variant)) {
        improved = true;
        break;
      }
    }
  }
  return best;
}
