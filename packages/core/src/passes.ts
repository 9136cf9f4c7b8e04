/**
 * How often a process was passed over — runnable at a scheduling decision while
 * another was chosen — in one wait: the measure of starvation. Kept by the kernel,
 * which has the decision's runnable processes at hand, when a monitor declares
 * `passes: true`; a monitor counting them itself would look every process up again
 * at every step (and each monitor that wanted them would do it again).
 */

import type { Schedule } from './schedule.js';

/** A process's pass-overs while it waits to perform its pending operation. */
export interface PassOvers {
  /** Decisions that chose another process while this one could have run. */
  readonly count: number;
  /** The step at which the wait began: where it issued the operation it waits to perform. */
  readonly since: number;
  /** The virtual time at which the wait began. */
  readonly sinceTime: number;
  /** The longest run of consecutive steps at which it was passed over. */
  readonly longestInARow: number;
  /**
   * Who was chosen instead, as `[pid, times]`, most first (ties: lower pid first).
   * Read back from the run's schedule, in time proportional to the wait: ask it for a
   * report, not at every step.
   */
  runners(): [number, number][];
}

/** @internal The kernel's record behind {@link PassOvers}: one per process, reused from wait to wait. */
export class PassCount implements PassOvers {
  count = 0;
  since = 0;
  sinceTime = 0;
  longestInARow = 0;
  /** The process's step count when this wait began: once it has run again, the record is stale. */
  atSteps = -1;
  private inARow = 0;
  private lastStep = -1;
  /**
   * Who ran instead is in the schedule: each decision that passed this process over
   * recorded its choice there. Kept here as runs of consecutive decisions — the byte
   * where a run starts and its length, in pairs — rather than a tally per runner,
   * which with a hundred processes grew to a hundred entries each and was scanned at
   * every pass-over. A process runnable all through its wait has one run.
   */
  private readonly runs: number[] = [];
  /** Where this wait's runs end in `runs`: the array is reused from wait to wait, never truncated. */
  private ends = 0;
  /** The decision after the current run's last: a pass-over there extends it. */
  private nextDecision = -1;

  constructor(private readonly schedule: Schedule) {}

  /**
   * Passed over at `step` by the latest decision — the `decision`-th of the
   * schedule, recorded from byte `at` — while it had taken `steps` steps of its own
   * and waited since `since`: a new wait when it has run since the last one.
   */
  pass(steps: number, since: number, sinceTime: number, step: number, decision: number, at: number): void {
    const runs = this.runs;
    if (this.atSteps !== steps) {
      // The first pass-over of a new wait: with waiters on a lock, most are.
      this.atSteps = steps;
      this.since = since;
      this.sinceTime = sinceTime;
      this.count = 1;
      this.inARow = 1;
      this.longestInARow = 1;
      this.lastStep = step;
      runs[0] = at;
      runs[1] = 1;
      this.ends = 2;
    } else {
      this.count++;
      this.inARow = this.lastStep === step - 1 ? this.inARow + 1 : 1;
      if (this.inARow > this.longestInARow) this.longestInARow = this.inARow;
      this.lastStep = step;
      if (decision === this.nextDecision) runs[this.ends - 1]!++;
      else {
        runs[this.ends] = at;
        runs[this.ends + 1] = 1;
        this.ends += 2;
      }
    }
    this.nextDecision = decision + 1;
  }

  runners(): [number, number][] {
    const times = new Map<number, number>();
    const runs = this.runs;
    for (let i = 0; i < this.ends; i += 2) this.schedule.forEachIn(runs[i]!, runs[i + 1]!, (pid) => times.set(pid, (times.get(pid) ?? 0) + 1));
    return [...times].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  }
}
