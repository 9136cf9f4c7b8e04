/**
 * Lock hand-overs for the race analysis of both reductions (see LockHandovers). A release
 * writes a location of its own, apart from the lock's (`Footprint.releases` in core
 * names the lock it hands over): a blocking acquire cannot pass the release it waits
 * for, so the two are not a race to reverse.
 */
import type { Access } from './wakeup-tree.js';

/** An analysed step: its process, the locations it touched, its vector clock. */
export interface ClockedStep {
  readonly pid: number;
  readonly locs: readonly Access[];
  readonly vc: readonly number[];
}

/** A critical section: steps of `pid` after `from` (the acquire) up to `to` (the release). */
export interface Section {
  readonly pid: number;
  readonly from: number;
  readonly to: number;
}

export const NO_SECTIONS: readonly Section[] = [];

export function inSection(sections: readonly Section[], pid: number, i: number): boolean {
  for (const s of sections) if (s.pid === pid && i > s.from && i <= s.to) return true;
  return false;
}

/**
 * How locks passed from one holder to the next in the execution being
 * analysed. A step that needs a lock (acquires it, or reads or writes through it)
 * happens after the lock's last release by another process, though it does not
 * conflict with it: that edge goes into the step's clock, so what its process does
 * next is ordered after the previous critical section. The step's own race scan
 * does not take the edge; it skips the steps inside that critical section instead:
 * they cannot be reversed with it (the lock was held), and without the edge each
 * would be reversed with a sequence that cannot run. The race with the acquire that
 * opened the section stays: it reverses the two critical sections.
 */
export class LockHandovers {
  /** Per lock location: its last release and the acquire that section started with. */
  private readonly last = new Map<number, Section>();

  constructor(
    private readonly events: readonly ClockedStep[],
    private readonly releaseOf: ReadonlyMap<number, number>,
  ) {}

  /** Before analysing step j: merge the releases it waits for into `c`; return their sections. */
  before(j: number, c: number[]): readonly Section[] {
    let out: Section[] | null = null;
    const ej = this.events[j]!;
    for (const a of ej.locs) {
      const s = this.last.get(a.loc);
      if (s === undefined || s.pid === ej.pid || this.mayFail(ej, a.loc)) continue;
      const vk = this.events[s.to]!.vc;
      for (let x = 0; x < vk.length; x++) c[x] = Math.max(c[x] ?? 0, vk[x] ?? 0);
      (out ??= []).push(s);
    }
    return out ?? NO_SECTIONS;
  }

  /**
   * A non-blocking or timed acquire reads the lock's release location: it can run
   * while the lock is held (and fail), so it waits for no release.
   */
  private mayFail(e: ClockedStep, lock: number): boolean {
    for (const a of e.locs) if (!a.write && this.releaseOf.get(a.loc) === lock) return true;
    return false;
  }

  /** After analysing step j: record the locks it released. */
  after(j: number): void {
    const ej = this.events[j]!;
    for (const a of ej.locs) {
      const lock = a.write ? this.releaseOf.get(a.loc) : undefined;
      if (lock === undefined) continue;
      let from = j - 1;
      while (from >= 0 && !(this.events[from]!.pid === ej.pid && writes(this.events[from]!, lock))) from--;
      this.last.set(lock, { pid: ej.pid, from, to: j });
    }
  }
}

/** Whether step `e` writes location `loc`. */
export function writes(e: { readonly locs: readonly Access[] }, loc: number): boolean {
  for (const b of e.locs) if (b.loc === loc && b.write) return true;
  return false;
}
