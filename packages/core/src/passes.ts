/**
 * How often a process was passed over — runnable at a scheduling decision while
 * another was chosen — in one wait: the measure of starvation. Kept by the kernel,
 * which has the decision's runnable processes at hand, when a monitor declares
 * `passes: true`; a monitor counting them itself would look every process up again
 * at every step (and each monitor that wanted them would do it again).
 */

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
  /** Who was chosen instead, as `[pid, times]`, most first (ties: lower pid first). */
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
  /** Who ran instead, and how often: the first `n` entries of parallel lists, kept from wait to wait. */
  private readonly pids: number[] = [];
  private readonly times: number[] = [];
  private n = 0;
  private lastRunner = -1;

  /**
   * Passed over at `step` in favour of `runner`, while it had taken `steps` steps of
   * its own and waited since `since`: a new wait when it has run since the last one.
   */
  pass(steps: number, since: number, sinceTime: number, step: number, runner: number): void {
    if (this.atSteps !== steps) {
      this.atSteps = steps;
      this.since = since;
      this.sinceTime = sinceTime;
      this.count = 0;
      this.inARow = 0;
      this.longestInARow = 0;
      this.lastStep = -1;
      this.n = 0;
      this.lastRunner = -1;
    }
    this.count++;
    this.inARow = this.lastStep === step - 1 ? this.inARow + 1 : 1;
    if (this.inARow > this.longestInARow) this.longestInARow = this.inARow;
    this.lastStep = step;
    let i = this.lastRunner;
    if (i < 0 || this.pids[i] !== runner) {
      i = 0;
      while (i < this.n && this.pids[i] !== runner) i++;
      if (i === this.n) {
        this.pids[i] = runner;
        this.times[i] = 0;
        this.n++;
      }
      this.lastRunner = i;
    }
    this.times[i]!++;
  }

  runners(): [number, number][] {
    const r: [number, number][] = [];
    for (let i = 0; i < this.n; i++) r.push([this.pids[i]!, this.times[i]!]);
    return r.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  }
}
