import { SimulationError, type Footprint, type Op, type ProcessView, type Strategy } from '@interleave/core';

/** Options of exhaustive exploration. */
export interface ExhaustiveOptions {
  /**
   * Explore only executions with at most this many preemptions (switching away from
   * a process that could have continued). Bounded search is incomplete: the report
   * says so when the bound cut anything off.
   */
  readonly preemptionBound?: number;
  /**
   * Delay bounding (Emmi, Qadeer, Rakamarić, POPL 2011): the default schedule is
   * round-robin (keep the last process, else the next pid after it); running the
   * process k places after the default costs k delays. Explore only executions with
   * at most this many delays. Incomplete, like the preemption bound.
   */
  readonly delayBound?: number;
  /**
   * Partial-order reduction on (default). Off, every interleaving is run — the
   * baseline that tests the reduction's soundness; exponential, for tiny programs.
   */
  readonly reduction?: boolean;
  /**
   * Branch on every runnable process at the first `splitDepth` choice points and use
   * the reduction below them. The subtrees under those choices are independent units
   * of work: what sharding distributes. Default 0 (reduction everywhere), or 2 when
   * the exploration is sharded.
   */
  readonly splitDepth?: number;
}

/** Thrown inside a run to abandon it: every runnable process is asleep (already covered). */
export class SleepBlocked extends Error {
  override readonly name = 'SleepBlocked';
  constructor() {
    super('exhaustive exploration abandoned a redundant execution');
  }
}

/** One state of the current execution: the choice made there and what is left to try. */
interface Node {
  readonly enabled: readonly number[];
  /** Footprints of each enabled process's next operation (choice points only). */
  readonly next: ReadonlyMap<number, readonly Access[]>;
  readonly sleep: ReadonlySet<number>;
  readonly backtrack: Set<number>;
  /** Choices fully explored from here. */
  readonly done: Set<number>;
  chosen: number;
  /** Preemptions on the path before this state. */
  readonly preemptions: number;
  /** Delays on the path before this state. */
  readonly delays: number;
  /** The process that took the previous step (for counting preemptions). */
  readonly previous: number;
  /** Choice points (two or more runnable processes) before this state. */
  readonly depth: number;
}

interface Access {
  readonly loc: number;
  readonly write: boolean;
}

interface Event {
  readonly pid: number;
  /** Index of the process in vector clocks. */
  readonly slot: number;
  readonly locs: Access[];
  /** This process's event count including this one (its vector-clock component). */
  readonly local: number;
  vc: number[];
}

/** Counters for the report. */
export interface ExhaustiveStats {
  /** Executions abandoned because every runnable process was asleep (already covered). */
  readonly sleepBlocked: number;
  /** Alternatives not explored because of the preemption bound. */
  readonly boundPruned: number;
}

/**
 * Stateless depth-first exploration with dynamic partial-order reduction: source
 * sets and sleep sets (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014). Each
 * execution re-runs the program from scratch following a prefix of earlier
 * choices; after it, every pair of dependent steps of different processes that are
 * not ordered by happens-before (a race) adds a backtrack point where the other
 * order can start. Two steps are dependent when they touch a common location and
 * one writes it (`Op.footprint`), so the executions explored are one per
 * Mazurkiewicz trace up to the redundancy source sets leave.
 *
 * @internal Used through `exhaustive()` and `explore()`.
 */
export class DporSearch {
  private readonly nodes: Node[] = [];
  /** Nodes below this index are replayed from the previous execution. */
  private replayed = 0;
  private events: Event[] = [];
  private readonly locIds = new Map<string, number>();
  private readonly slots = new Map<number, number>();
  private blocked = false;
  /** Step index at which `choose` last ran, to tell forced steps apart. */
  private choseAt = -1;
  private readonly counts = new Map<number, number>();
  private started = false;
  private finishedAll = false;
  sleepBlocked = 0;
  boundPruned = 0;
  private readonly bound: number;
  private readonly delayBound: number;
  private readonly reduction: boolean;
  private splitDepth: number;
  private shardIndex = 0;
  private shardCount = 1;
  /** Which subtree under the split the current execution belongs to (in DFS order). */
  private subtree = 0;
  /** Whether the last execution was run only to find the next subtree (another shard's). */
  skipped = false;

  constructor(options: ExhaustiveOptions = {}) {
    this.bound = options.preemptionBound ?? Infinity;
    this.delayBound = options.delayBound ?? Infinity;
    this.reduction = options.reduction ?? true;
    this.splitDepth = options.splitDepth ?? 0;
  }

  /** Explore only the subtrees (under the split) numbered index, index + count, ... */
  setShard(index: number, count: number): void {
    this.shardIndex = index;
    this.shardCount = count;
    if (count > 1 && this.splitDepth === 0) this.splitDepth = 2;
  }

  private get owned(): boolean {
    return this.subtree % this.shardCount === this.shardIndex;
  }

  /** A state above the split: every runnable process is a branch there, without reduction. */
  private isTop(node: Node): boolean {
    return node.depth < this.splitDepth && node.enabled.length >= 2;
  }

  private depthAt(i: number): number {
    const parent = this.nodes[i - 1];
    return parent === undefined ? 0 : parent.depth + (parent.enabled.length >= 2 ? 1 : 0);
  }

  /** The strategy for the next execution, or null when the tree is exhausted. */
  next(): Strategy | null {
    if (this.started && !this.advance()) {
      this.finishedAll = true;
      return null;
    }
    this.started = true;
    this.events = [];
    this.blocked = false;
    this.choseAt = -1;
    this.counts.clear();
    return {
      name: 'exhaustive',
      choose: (enabled) => this.choose(enabled),
      observer: {
        beforeStep: (p, op) => this.beforeStep(p, op),
        ended: (p) => this.ended(p),
      },
    };
  }

  get complete(): boolean {
    return this.finishedAll;
  }

  /** Whether the execution just run was abandoned as redundant. */
  get lastWasRedundant(): boolean {
    return this.blocked;
  }

  /** After an execution: find races, then (on the next `next()`) move to the next branch. */
  finish(): void {
    this.skipped = !this.owned;
    if (this.skipped) return;
    if (this.blocked) {
      this.sleepBlocked++;
      return;
    }
    if (this.reduction) {
      this.analyse();
      this.disabledNeverRun();
    }
  }

  private choose(enabled: readonly ProcessView[]): number {
    if (this.blocked) throw new SleepBlocked();
    const i = this.events.length;
    this.choseAt = i;
    let node = this.nodes[i];
    if (i < this.replayed && node !== undefined) {
      const at = enabled.findIndex((p) => p.pid === node!.chosen);
      if (at < 0) throw nondeterminism(i, node.chosen, enabled);
      return at;
    }
    const pids = enabled.map((p) => p.pid);
    const next = new Map<number, Access[]>();
    for (const p of enabled) next.set(p.pid, this.intern(p.pending!.footprint(), p.handleId));
    const depth = this.depthAt(i);
    const top = depth < this.splitDepth;
    const sleep = this.reduction && !top ? this.sleepFor(i) : new Set<number>();
    const previous = this.nodes[i - 1]?.chosen ?? -1;
    const { preemptions, delays } = this.spentBefore(i);
    const within = (p: number): boolean => this.within(preemptions, delays, previous, p, pids);
    // Prefer to keep running the previous process: no preemption, and the first
    // execution is the plain sequential one.
    const order = pids.includes(previous) ? [previous, ...pids.filter((p) => p !== previous)] : pids;
    const pick = order.find((p) => !sleep.has(p) && within(p));
    if (pick === undefined) {
      this.blocked = true;
      throw new SleepBlocked();
    }
    // Without reduction (or above the split) every choice within the bound is a branch.
    const full = !this.reduction || top;
    const backtrack = new Set(full ? order.filter(within) : [pick]);
    if (full) this.boundPruned += pids.length - backtrack.size;
    node = { enabled: pids, next, sleep, backtrack, done: new Set(), chosen: pick, preemptions, delays, previous, depth };
    this.nodes[i] = node;
    return pids.indexOf(pick);
  }

  private beforeStep(p: ProcessView, op: Op<unknown>): void {
    const i = this.events.length;
    if (this.choseAt !== i && (i >= this.replayed || this.nodes[i] === undefined)) {
      // A forced step: only one process could run, so nothing to branch on here.
      this.nodes[i] = {
        enabled: [p.pid],
        next: new Map(),
        sleep: new Set(),
        backtrack: new Set([p.pid]),
        done: new Set(),
        chosen: p.pid,
        ...this.spentBefore(i),
        previous: this.nodes[i - 1]?.chosen ?? -1,
        depth: this.depthAt(i),
      };
      if (this.reduction && this.sleepFor(i).has(p.pid)) this.blocked = true;
    }
    let slot = this.slots.get(p.pid);
    if (slot === undefined) {
      slot = this.slots.size;
      this.slots.set(p.pid, slot);
    }
    const local = (this.counts.get(p.pid) ?? 0) + 1;
    this.counts.set(p.pid, local);
    this.events.push({ pid: p.pid, slot, locs: this.intern(op.footprint(), p.handleId), local, vc: [] });
  }

  /**
   * A process ended during the current step: that step wrote its handle's location
   * (what `join` and `isAlive` read). Every other step of a process only reads it, so
   * a join depends on its child's last step alone, while `terminate` (a write)
   * conflicts with every step of the process it kills.
   */
  private ended(p: ProcessView): void {
    const e = this.events[this.events.length - 1];
    if (e === undefined) return;
    e.locs.push({ loc: this.locId(p.handleId), write: true });
  }

  /**
   * Pending steps that never ran. A process runnable at state i and not at i + 1
   * was disabled by step i (which took what it waited for, terminated it, ended the
   * run...). If it never stepped again, no race involves that pending step — the
   * analysis sees executed steps only — so the order "it runs before step i" would
   * be lost: a Pool terminated before a worker ran, a result handler stopped with a
   * result in hand. Let state i also run it first; there it becomes a real step
   * whose races are analysed like any other.
   */
  private disabledNeverRun(): void {
    const disabledAt = new Map<number, number>();
    const events = this.events;
    for (let i = 0; i < events.length; i++) {
      const node = this.nodes[i];
      if (node === undefined) continue;
      const stepper = events[i]!.pid;
      disabledAt.delete(stepper);
      // After the last step nothing runs any more: every process left runnable was disabled by it.
      const after = this.nodes[i + 1]?.enabled ?? [];
      for (const p of node.enabled) if (p !== stepper && !after.includes(p)) disabledAt.set(p, i);
    }
    for (const [p, i] of disabledAt) {
      const node = this.nodes[i]!;
      if (this.isTop(node) || node.sleep.has(p) || node.backtrack.has(p)) continue;
      if (this.within(node.preemptions, node.delays, node.previous, p, node.enabled)) node.backtrack.add(p);
      else this.boundPruned++;
    }
  }

  private intern(fp: readonly Footprint[], self: string): Access[] {
    const out: Access[] = [{ loc: this.locId(self), write: false }];
    for (const f of fp) out.push({ loc: this.locId(f.loc), write: f.write });
    return out;
  }

  private locId(loc: string): number {
    let id = this.locIds.get(loc);
    if (id === undefined) {
      id = this.locIds.size;
      this.locIds.set(loc, id);
    }
    return id;
  }

  /** Sleep set at state i: what slept or was explored at i-1 and commutes with step i-1. */
  private sleepFor(i: number): Set<number> {
    const parent = this.nodes[i - 1];
    const e = this.events[i - 1];
    const out = new Set<number>();
    if (parent === undefined || e === undefined) return out;
    for (const r of [...parent.sleep, ...parent.done]) {
      if (r === e.pid) continue;
      const fp = parent.next.get(r);
      if (fp !== undefined && !dependent(fp, e.locs)) out.add(r);
    }
    return out;
  }

  /** Preemptions and delays spent on the path to state i. */
  private spentBefore(i: number): { preemptions: number; delays: number } {
    const parent = this.nodes[i - 1];
    if (parent === undefined) return { preemptions: 0, delays: 0 };
    return {
      preemptions: parent.preemptions + cost(parent.previous, parent.chosen, parent.enabled),
      delays: parent.delays + delay(parent.previous, parent.chosen, parent.enabled),
    };
  }

  /** Whether running `next` from a state that already spent this much stays within the bounds. */
  private within(preemptions: number, delays: number, previous: number, next: number, enabled: readonly number[]): boolean {
    return preemptions + cost(previous, next, enabled) <= this.bound && delays + delay(previous, next, enabled) <= this.delayBound;
  }

  /** Vector clocks over program order and dependence; every race adds a backtrack point. */
  private analyse(): void {
    const n = this.slots.size;
    const last = new Map<number, number[]>();
    const lastIndex = new Map<number, number>();
    const byLoc = new Map<number, number[]>();
    const events = this.events;
    for (let j = 0; j < events.length; j++) {
      const ej = events[j]!;
      const c = [...(last.get(ej.pid) ?? new Array<number>(n).fill(0))];
      while (c.length < n) c.push(0);
      // `c` is the true happens-before clock of j. `scan` only absorbs races that
      // surely reverse there: j's own operation was pending and runnable in the state
      // before i. A dependent step that j's process could not have preceded (it was
      // blocked, e.g. on a lock the other process held) must not hide the earlier step
      // that can be reversed (the acquire that took that lock).
      const scan = [...c];
      const previous = lastIndex.get(ej.pid) ?? -1;
      const candidates: number[] = [];
      for (const a of ej.locs) {
        const list = byLoc.get(a.loc);
        if (list === undefined) continue;
        for (const i of list) {
          const ei = events[i]!;
          if (ei.pid !== ej.pid && (a.write || writes(ei, a.loc))) candidates.push(i);
        }
      }
      // Latest first, each once: a step touching several shared locations is one candidate.
      if (ej.locs.length > 1) candidates.sort((x, y) => y - x);
      else candidates.reverse();
      for (let ci = 0; ci < candidates.length; ci++) {
        const i = candidates[ci]!;
        if (ci > 0 && candidates[ci - 1] === i) continue;
        const ei = events[i]!;
        const s = ei.slot;
        const ordered = (scan[s] ?? 0) >= ei.local;
        const reversed = !ordered && this.race(i, j) && previous < i && this.nodes[i]!.enabled.includes(ej.pid);
        for (let k = 0; k < n; k++) {
          c[k] = Math.max(c[k] ?? 0, ei.vc[k] ?? 0);
          if (ordered || reversed) scan[k] = Math.max(scan[k] ?? 0, ei.vc[k] ?? 0);
        }
      }
      c[ej.slot] = ej.local;
      ej.vc = c;
      last.set(ej.pid, c);
      lastIndex.set(ej.pid, j);
      for (const a of ej.locs) {
        const list = byLoc.get(a.loc);
        if (list === undefined) byLoc.set(a.loc, [j]);
        else if (list[list.length - 1] !== j) list.push(j);
      }
    }
  }

  /**
   * Steps i and j race: let the state before i also try an initial of "j first".
   * Returns false when no initial of that order could run there (not reversible here).
   */
  private race(i: number, j: number): boolean {
    const node = this.nodes[i];
    if (node === undefined || node.enabled.length < 2) return false;
    if (this.isTop(node)) return true; // every order is explored there already
    const events = this.events;
    const ei = events[i]!;
    const si = ei.slot;
    // v = the steps after i that do not depend on i, then j; its initials are the
    // processes whose first step in v follows no other step of v.
    const first = new Map<number, number>(); // slot -> local index of its first step in v
    const initials: number[] = [];
    const consider = (k: number): void => {
      const ek = events[k]!;
      const sk = ek.slot;
      if (first.has(sk)) return;
      let initial = true;
      for (const [s, local] of first) if ((ek.vc[s] ?? 0) >= local) initial = false;
      first.set(sk, ek.local);
      if (initial) initials.push(ek.pid);
    };
    for (let k = i + 1; k < j; k++) if ((events[k]!.vc[si] ?? 0) < ei.local) consider(k);
    consider(j);
    const candidates = initials.filter((p) => node.enabled.includes(p));
    if (candidates.length === 0) return false;
    if (candidates.some((p) => node.backtrack.has(p))) return true;
    const pick = candidates.find((p) => !node.sleep.has(p));
    if (pick === undefined) return true;
    if (this.within(node.preemptions, node.delays, node.previous, pick, node.enabled)) {
      node.backtrack.add(pick);
      return true;
    }
    // The bound forbids switching here. As bounded POR does (Coons, Musuvathi,
    // McKinley, OOPSLA 2013), also try the latest earlier state where running
    // `pick` costs no more: extra branches are always safe, only slower.
    for (let k = i - 1; k >= 0; k--) {
      const earlier = this.nodes[k]!;
      if (!earlier.enabled.includes(pick) || earlier.sleep.has(pick)) continue;
      if (!this.within(earlier.preemptions, earlier.delays, earlier.previous, pick, earlier.enabled)) continue;
      earlier.backtrack.add(pick);
      return true;
    }
    this.boundPruned++;
    return true;
  }

  /** Move to the deepest state with an unexplored backtrack choice. Returns false when none is left. */
  private advance(): boolean {
    const skipSubtree = !this.owned;
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i]!;
      node.done.add(node.chosen);
      // Another shard's subtree: leave it at once, branching only above the split.
      if (skipSubtree && !this.isTop(node)) continue;
      const next = [...node.backtrack].find((p) => !node.done.has(p) && !node.sleep.has(p));
      if (next !== undefined) {
        node.chosen = next;
        this.nodes.length = i + 1;
        this.replayed = i + 1;
        if (this.isTop(node)) this.subtree++;
        return true;
      }
    }
    this.nodes.length = 0;
    return false;
  }
}

function writes(e: Event, loc: number): boolean {
  for (const b of e.locs) if (b.loc === loc && b.write) return true;
  return false;
}

function dependent(a: readonly Access[], b: readonly Access[]): boolean {
  for (const x of a) for (const y of b) if (x.loc === y.loc && (x.write || y.write)) return true;
  return false;
}

/**
 * Delays of running `next`: its distance, in round-robin order, from the default
 * choice (`previous` if it can run, else the first runnable pid after it, wrapping).
 */
function delay(previous: number, next: number, enabled: readonly number[]): number {
  let start = enabled.indexOf(previous);
  if (start < 0) {
    start = enabled.findIndex((p) => p > previous);
    if (start < 0) start = 0;
  }
  const at = enabled.indexOf(next);
  return (at - start + enabled.length) % enabled.length;
}

/** 1 when switching from `previous` to `next` preempts a process that could have continued. */
function cost(previous: number, next: number, enabled: readonly number[]): number {
  return previous !== next && enabled.includes(previous) ? 1 : 0;
}

function nondeterminism(step: number, pid: number, enabled: readonly ProcessView[]): SimulationError {
  return new SimulationError(
    'REPLAY_DIVERGED',
    `exhaustive exploration: re-running the program did not reach the same state: at step ${step} pid ${pid} ` +
      `should be runnable, but only ${enabled.map((p) => p.pid).join(', ')} are.\n` +
      '  How to fix: the program must depend only on the simulation (no real time, I/O, or state kept between runs); ' +
      'create everything inside the program body.',
  );
}
