import { SimulationError, type Footprint, type Op, type ProcessView, type Strategy } from '@interleave/core';
import { LockHandovers, NO_SECTIONS, inSection } from './lock-handovers.js';
import { coveredHere, dependent, insertWakeup, runnableInitial, type Access, type PendingFootprints, type WakeupNode } from './wakeup-tree.js';

/** Which partial-order reduction exhaustive exploration uses. */
export type Reduction = 'optimal' | 'source';

/** Options of exhaustive exploration. */
export interface ExhaustiveOptions {
  /**
   * Explore only executions with at most this many preemptions (switching away from
   * a process that could have continued). Bounded search is incomplete: the report
   * says so when the bound cut anything off (`stats.boundPruned`), and is a proof
   * when it cut nothing.
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
   * Partial-order reduction (default on). `'optimal'` (the default without a bound):
   * optimal DPOR with wakeup trees, one execution per Mazurkiewicz trace, none
   * abandoned as redundant unless steps wait for each other. `'source'` (the default, and
   * the only choice, with a preemption or delay bound): source sets and sleep sets,
   * which may abandon some executions as redundant. `false`: every interleaving is
   * run — the baseline that tests the reduction's soundness; exponential, for tiny
   * programs.
   */
  readonly reduction?: boolean | Reduction;
  /**
   * Branch on every runnable process at the first `splitDepth` choice points and use
   * the reduction below them. The subtrees under those choices are independent units
   * of work: what sharding distributes. Default 0 (reduction everywhere), or 2 when
   * the exploration is sharded.
   */
  readonly splitDepth?: number;
}

/**
 * The pending footprints of a choice point, beside its `enabled` list. A long
 * execution keeps one per state until it is analysed: a parallel array costs a
 * fraction of a Map's memory, and `enabled` is short.
 */
class Footprints implements PendingFootprints {
  constructor(
    readonly pids: readonly number[],
    private readonly accesses: readonly (readonly Access[])[],
  ) {}

  /** Whether these are the footprints of `enabled` (the same lists, as pendingAccess shares them). */
  matches(enabled: readonly ProcessView[], accesses: readonly (readonly Access[])[]): boolean {
    if (enabled.length !== this.pids.length) return false;
    for (let k = 0; k < enabled.length; k++) if (enabled[k]!.pid !== this.pids[k] || accesses[k] !== this.accesses[k]) return false;
    return true;
  }

  get(pid: number): readonly Access[] | undefined {
    const at = this.pids.indexOf(pid);
    return at < 0 ? undefined : this.accesses[at];
  }
}

/** A forced step's footprints, and the empty sleep and done sets: shared, never written. */
const NO_ACCESSES: PendingFootprints = new Footprints([], []);
const NO_SLEEPERS: ReadonlySet<number> = new Set();

/**
 * Whether sleeper `r` of state `parent` stays asleep after step `e`: it commutes with
 * the step, and the step did not change what its pending operation touches (`now`;
 * undefined: not known, unchanged).
 */
function stillAsleep(parent: Node, e: Event, r: number, now: (pid: number) => readonly Access[] | undefined): boolean {
  if (r === e.pid) return false;
  const fp = parent.next.get(r);
  if (fp === undefined || dependent(fp, e.locs)) return false;
  const current = now(r);
  return current === undefined || sameAccesses(fp, current);
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
  readonly next: PendingFootprints;
  readonly sleep: ReadonlySet<number>;
  /**
   * The sleepers that prove their orders covered: put to sleep by explorations the
   * bound cut nothing from (see `clean`). Without a bound, `sleep` itself.
   */
  readonly firm: ReadonlySet<number>;
  /** Source DPOR (and above the split): the choices to explore here. */
  readonly backtrack: Set<number>;
  /** Choices fully explored from here (NO_SLEEPERS until the first; see withChoice). */
  done: ReadonlySet<number>;
  /**
   * The done choices whose exploration the bound cut nothing from: no run below them
   * was cut short, no race below them went unreversed for the bound. They cover
   * their orders as in the unbounded search. Without a bound, `done` itself.
   */
  clean: ReadonlySet<number>;
  /** Whether the bound cut anything from the exploration of `chosen` so far. */
  cut: boolean;
  chosen: number;
  /** Optimal DPOR: the branches still to explore here, in order (a wakeup tree). */
  readonly wakeup: WakeupNode[];
  /** Optimal DPOR: what the wakeup tree schedules after `chosen`, until the next state takes it. */
  guide: readonly WakeupNode[];
  /** Preemptions on the path before this state. */
  readonly preemptions: number;
  /** Delays on the path before this state. */
  readonly delays: number;
  /** The process that took the previous step (for counting preemptions). */
  readonly previous: number;
  /** Choice points (two or more runnable processes) before this state. */
  readonly depth: number;
}

interface Event {
  readonly pid: number;
  /** Index of the process in vector clocks. */
  readonly slot: number;
  locs: readonly Access[];
  /** This process's event count including this one (its vector-clock component). */
  readonly local: number;
  vc: number[];
}

/**
 * Stateless depth-first exploration with dynamic partial-order reduction
 * (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014). Each execution re-runs the
 * program from scratch following a prefix of earlier choices; after it, every pair
 * of dependent steps of different processes that are not ordered by happens-before
 * (a race) makes the state before the first step also explore an order where the
 * second comes first. Two steps are dependent when they touch a common location
 * and one writes it (`Op.footprint`).
 *
 * Source DPOR adds one process that can start that order (a source set) and relies
 * on sleep sets against redundancy: some executions end with every runnable process
 * asleep and are abandoned. Optimal DPOR inserts the whole reversing sequence into
 * the state's wakeup tree and follows it, so every execution it starts is a new
 * Mazurkiewicz trace — exactly one per trace when no step ever waits.
 *
 * @internal Used through `exhaustive()` and `explore()`.
 */
export class DporSearch {
  private readonly nodes: Node[] = [];
  /** Nodes below this index are replayed from the previous execution. */
  private replayed = 0;
  private events: Event[] = [];
  private readonly locIds = new Map<string, number>();
  /** The lock each release location hands over (`Footprint.releases`; see LockHandovers). */
  private readonly releaseOf = new Map<number, number>();
  private readonly slots = new Map<number, number>();
  private blocked = false;
  /** Steps taken before the execution became redundant (when `blocked`). */
  private blockedAt = 0;
  /** Step index at which `choose` last ran, to tell forced steps apart. */
  private choseAt = -1;
  private readonly counts = new Map<number, number>();
  /** Each process's last pending footprint, and its last step's accesses (see sharedList). */
  private readonly pendingOf = new Map<number, readonly Access[]>();
  private readonly stepOf = new Map<number, readonly Access[]>();
  private readonly accessObjects: Access[] = [];
  private lastFootprints: Footprints | null = null;
  /** Every process that stepped in this execution, to find the operations left pending at its end. */
  private readonly views = new Map<number, ProcessView>();
  private started = false;
  private finishedAll = false;
  sleepBlocked = 0;
  boundPruned = 0;
  private readonly bound: number;
  private readonly delayBound: number;
  private readonly mode: Reduction | 'none';
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
    this.mode = reductionOf(options);
    this.splitDepth = options.splitDepth ?? 0;
  }

  /** Which reduction runs: `optimal`, `source`, or `none`. */
  get reduction(): Reduction | 'none' {
    return this.mode;
  }

  private get reducing(): boolean {
    return this.mode !== 'none';
  }

  private get bounded(): boolean {
    return this.bound !== Infinity || this.delayBound !== Infinity;
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
    this.pendingOf.clear();
    this.stepOf.clear();
    this.lastFootprints = null;
    this.views.clear();
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
      // Its prefix is a real execution whose races may be found nowhere else
      // (source DPOR analyses every step as it runs; Abdulla et al. 2014, Alg. 1).
      this.events.length = this.blockedAt;
      this.nodes.length = Math.min(this.nodes.length, this.blockedAt);
      if (this.reducing) this.analyse();
      return;
    }
    if (this.reducing) {
      this.disabledNeverRun();
      this.pendingAtEnd();
      this.analyse();
    }
  }

  /**
   * Operations still pending when the execution ended (processes left waiting in a
   * deadlock) never ran, yet they conflict with what ran instead: the `get` of an
   * item another process took first. Each becomes a last step of the analysed
   * execution, without a state of its own, so its races are reversed like any
   * other: the state before the conflicting step also runs the waiting process.
   */
  private pendingAtEnd(): void {
    for (const [pid, p] of this.views) {
      if (p.done || p.pending === null) continue;
      const slot = this.slots.get(pid);
      if (slot === undefined) continue;
      const local = (this.counts.get(pid) ?? 0) + 1;
      this.events.push({ pid, slot, locs: this.intern(p.pending.footprint(), p.handleId), local, vc: [] });
    }
  }

  private block(i: number): void {
    if (this.blocked) return;
    this.blocked = true;
    this.blockedAt = i;
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
    const accesses = enabled.map((p) => this.pendingAccess(p));
    // Processes that wait through many states (a spin loop beside them) give the
    // same list at each: shared, so a long execution keeps one.
    const next = this.lastFootprints?.matches(enabled, accesses) === true ? this.lastFootprints : new Footprints(enabled.map((p) => p.pid), accesses);
    this.lastFootprints = next;
    const pids = next.pids;
    const depth = this.depthAt(i);
    const top = depth < this.splitDepth;
    const sleep = this.reducing && !top ? this.sleepFor(i, (r) => next.get(r)) : NO_SLEEPERS;
    const firm = this.bounded && this.reducing && !top ? this.sleepFor(i, (r) => next.get(r), true) : sleep;
    const previous = this.nodes[i - 1]?.chosen ?? -1;
    const { preemptions, delays } = this.spentBefore(i);
    const within = (p: number): boolean => this.within(preemptions, delays, previous, p, pids);
    // Follow the wakeup tree where it leads; branches that cannot run here (the
    // program blocked differently than the race analysis foresaw) are dropped: they
    // only guided the search, the races of what runs instead are analysed anew.
    const plan = this.plannedAt(i);
    const planned = plan.length === 0 ? plan : plan.filter((b) => pids.includes(b.pid) && !sleep.has(b.pid));
    const first = planned[0];
    // Otherwise prefer to keep running the previous process: no preemption, and the
    // first execution is the plain sequential one. Under a delay bound, prefer the
    // cheapest, in round-robin order from the default: a first choice that spends
    // delays on a step that races with nothing leaves none for the races under it,
    // and nothing would send the search back to choose differently.
    const order =
      this.delayBound !== Infinity
        ? [...pids].sort((a, b) => delay(previous, a, pids) - delay(previous, b, pids))
        : pids.includes(previous)
          ? [previous, ...pids.filter((p) => p !== previous)]
          : pids;
    // Under a bound the explorations that put some sleepers to sleep may have been cut
    // short by it: when all are asleep, run on with one that is not firmly asleep.
    const pick = first?.pid ?? order.find((p) => !sleep.has(p) && within(p)) ?? order.find((p) => !firm.has(p) && within(p));
    if (pick === undefined) {
      // Abandoned for the bound, not for the sleep sets, if it kept a process from running.
      if (pids.some((p) => !firm.has(p))) this.cutAt(i, 1);
      this.block(i);
      throw new SleepBlocked();
    }
    // Without reduction (or above the split) every choice within the bound is a branch.
    const full = !this.reducing || top;
    const backtrack = new Set(full ? order.filter(within) : [pick]);
    if (full && backtrack.size < pids.length) this.cutAt(i, pids.length - backtrack.size);
    node = {
      enabled: pids,
      next,
      sleep,
      firm,
      backtrack,
      done: NO_SLEEPERS,
      clean: NO_SLEEPERS,
      cut: false,
      chosen: pick,
      wakeup: planned.length > 1 ? planned.slice(1) : [],
      guide: first?.children ?? NO_BRANCHES,
      preemptions,
      delays,
      previous,
      depth,
    };
    this.nodes[i] = node;
    return pids.indexOf(pick);
  }

  /** The wakeup branches scheduled for state i by the state before it (taken once). */
  private plannedAt(i: number): readonly WakeupNode[] {
    const parent = this.nodes[i - 1];
    if (parent === undefined) return NO_BRANCHES;
    const planned = parent.guide;
    parent.guide = NO_BRANCHES;
    return planned;
  }

  private beforeStep(p: ProcessView, op: Op<unknown>): void {
    this.views.set(p.pid, p);
    const i = this.events.length;
    if (this.choseAt !== i && (i >= this.replayed || this.nodes[i] === undefined)) {
      // A forced step: only one process could run, so nothing to branch on here.
      // (Fields spelled out, not spread: this runs at most steps of every execution.)
      const { preemptions, delays } = this.spentBefore(i);
      this.nodes[i] = {
        enabled: [p.pid],
        next: NO_ACCESSES,
        sleep: NO_SLEEPERS,
        firm: NO_SLEEPERS,
        backtrack: new Set([p.pid]),
        done: NO_SLEEPERS,
        clean: NO_SLEEPERS,
        cut: false,
        chosen: p.pid,
        wakeup: [],
        guide: this.plannedAt(i).find((b) => b.pid === p.pid)?.children ?? NO_BRANCHES,
        preemptions,
        delays,
        previous: this.nodes[i - 1]?.chosen ?? -1,
        depth: this.depthAt(i),
      };
      // Asleep means "explored from an earlier state" — but under a bound that
      // exploration may have been cut short: a bounded search runs on unless it was not.
      if (this.reducing && this.asleep(i, p.pid, () => this.pendingAccess(p, op), this.bounded)) this.block(i);
    }
    let slot = this.slots.get(p.pid);
    if (slot === undefined) {
      slot = this.slots.size;
      this.slots.set(p.pid, slot);
    }
    const local = (this.counts.get(p.pid) ?? 0) + 1;
    this.counts.set(p.pid, local);
    this.events.push({ pid: p.pid, slot, locs: sharedList(this.stepOf, p.pid, this.intern(op.footprint(), p.handleId)), local, vc: [] });
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
    // A copy: the step's list may be shared with the process's earlier steps (sharedList).
    e.locs = [...e.locs, this.access(this.locId(p.handleId), true)];
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
      if (this.isTop(node) || node.firm.has(p) || node.backtrack.has(p)) continue;
      if (this.mode === 'optimal') {
        if (!node.done.has(p) && !node.wakeup.some((b) => b.pid === p)) node.wakeup.push({ pid: p, locs: node.next.get(p) ?? [], children: [] });
      } else if (this.within(node.preemptions, node.delays, node.previous, p, node.enabled)) node.backtrack.add(p);
      else this.cutAt(i, 1);
    }
  }

  private intern(fp: readonly Footprint[], self: string): Access[] {
    const out: Access[] = [this.access(this.locId(self), false)];
    for (const f of fp) {
      const loc = this.locId(f.loc);
      out.push(this.access(loc, f.write));
      if (f.releases !== undefined && !this.releaseOf.has(loc)) this.releaseOf.set(loc, this.locId(f.releases));
    }
    return out;
  }

  /** The one Access object of a location and mode: a long execution keeps millions of references, not millions of objects. */
  private access(loc: number, write: boolean): Access {
    const k = 2 * loc + (write ? 1 : 0);
    let a = this.accessObjects[k];
    if (a === undefined) this.accessObjects[k] = a = { loc, write };
    return a;
  }


  private locId(loc: string): number {
    let id = this.locIds.get(loc);
    if (id === undefined) {
      id = this.locIds.size;
      this.locIds.set(loc, id);
    }
    return id;
  }

  /**
   * Sleep set at state i: what slept or was explored at i-1 and commutes with step
   * i-1. A footprint can depend on the state (which connection a `recv` reads, whether
   * a compare-and-swap writes): if step i-1 changed what a sleeper's pending
   * operation touches (`now`, its footprint at state i), it affected that operation,
   * so the sleeper wakes.
   */
  private sleepFor(i: number, now: (pid: number) => readonly Access[] | undefined, firm = false): ReadonlySet<number> {
    const parent = this.nodes[i - 1];
    const e = this.events[i - 1];
    if (parent === undefined || e === undefined) return NO_SLEEPERS;
    let out: Set<number> | null = null;
    const keep = (r: number): void => {
      if (stillAsleep(parent, e, r, now)) (out ??= new Set()).add(r);
    };
    (firm ? parent.firm : parent.sleep).forEach(keep);
    (firm ? parent.clean : parent.done).forEach(keep);
    return out ?? NO_SLEEPERS;
  }

  /**
   * Whether `pid` is in the sleep set at state i (see {@link sleepFor}), or in its firm
   * part, without building the set: a forced step asks for one process.
   */
  private asleep(i: number, pid: number, now: () => readonly Access[], firm: boolean): boolean {
    const parent = this.nodes[i - 1];
    const e = this.events[i - 1];
    if (parent === undefined || e === undefined) return false;
    if (firm ? !parent.firm.has(pid) && !parent.clean.has(pid) : !parent.sleep.has(pid) && !parent.done.has(pid)) return false;
    return stillAsleep(parent, e, pid, now);
  }

  /**
   * The bound cut something at state i: a run, a branch, or the reversal of a race
   * (`alternatives` of them, counted in `boundPruned`: a search that counts none is
   * as complete as one without the bound). The explorations of the choices that led
   * here are no longer proof that their orders are covered. (Marks are closed
   * upwards: an ancestor of a cut state is cut.)
   */
  private cutAt(i: number, alternatives: number): void {
    this.boundPruned += alternatives;
    for (let k = Math.min(i, this.nodes.length) - 1; k >= 0; k--) {
      const node = this.nodes[k]!;
      if (node.cut) return;
      node.cut = true;
    }
  }

  /**
   * The locations a pending operation touches. Whether it ends its process (and so
   * writes the handle that joins, and sockets the process holds, read) is known only
   * after it runs: assume it might.
   *
   * A waiting process's footprint is asked for at every state it waits through, and
   * each state keeps it until the analysis: an unchanged one is shared, not kept
   * again (a footprint may change while its operation waits, so it is compared, not
   * assumed).
   */
  private pendingAccess(p: ProcessView, op: Op<unknown> = p.pending!): readonly Access[] {
    const out = this.intern(op.footprint(), p.handleId);
    out.push(this.access(out[0]!.loc, true));
    return sharedList(this.pendingOf, p.pid, out);
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

  /** Vector clocks over program order and dependence; every race adds a backtrack point (source) or a wakeup sequence (optimal). */
  private analyse(): void {
    const n = this.slots.size;
    const last = new Map<number, number[]>();
    const lastIndex = new Map<number, number>();
    const history = new Map<number, LocHistory>();
    const events = this.events;
    const handovers = this.releaseOf.size > 0 ? new LockHandovers(events, this.releaseOf) : null;
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
      const sections = handovers?.before(j, c) ?? NO_SECTIONS;
      const candidates: number[] = [];
      for (const a of ej.locs) {
        const h = history.get(a.loc);
        if (h !== undefined) h.unordered(ej.slot, a.write, scan, candidates);
      }
      // Latest first, each once: a step touching several shared locations is one candidate.
      candidates.sort((x, y) => y - x);
      for (let ci = 0; ci < candidates.length; ci++) {
        const i = candidates[ci]!;
        if (ci > 0 && candidates[ci - 1] === i) continue;
        const ei = events[i]!;
        const node = this.nodes[i];
        // Two operations left pending at the end never ran: no order of theirs to reverse.
        if (node === undefined || (sections.length > 0 && inSection(sections, ei.pid, i))) continue;
        const s = ei.slot;
        // Ordered already: i happens before a step `scan` holds, whose clock (merged
        // into both) covers i's, so there is nothing to merge.
        if ((scan[s] ?? 0) >= ei.local) continue;
        const pendingAt = previous < i;
        const runnable = node.enabled.includes(ej.pid);
        // j's operation pending before i but not runnable there cannot go first (a
        // join of the child that i ended, the first step of the process i started):
        // both reductions leave that race alone (a backtrack for it only leads source
        // DPOR into executions where everyone is asleep).
        const handled = (!pendingAt || runnable) && (this.mode === 'optimal' ? this.reverse(i, j) : this.race(i, j));
        const reversed = handled && pendingAt && runnable;
        for (let k = 0; k < n; k++) {
          c[k] = Math.max(c[k] ?? 0, ei.vc[k] ?? 0);
          if (reversed) scan[k] = Math.max(scan[k] ?? 0, ei.vc[k] ?? 0);
        }
      }
      c[ej.slot] = ej.local;
      ej.vc = c;
      handovers?.after(j);
      last.set(ej.pid, c);
      lastIndex.set(ej.pid, j);
      for (const a of ej.locs) {
        let h = history.get(a.loc);
        if (h === undefined) history.set(a.loc, (h = new LocHistory(events)));
        h.add(j, ej.slot, a.write);
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
    // The initials of v: the processes whose first step in v follows no other step of v.
    const first = new Map<number, number>(); // slot -> local index of its first step in v
    const initials: number[] = [];
    for (const ek of this.notAfter(i, j)) {
      const sk = ek.slot;
      if (first.has(sk)) continue;
      let initial = true;
      for (const [s, local] of first) if ((ek.vc[s] ?? 0) >= local) initial = false;
      first.set(sk, ek.local);
      if (initial) initials.push(ek.pid);
    }
    const candidates = initials.filter((p) => node.enabled.includes(p));
    if (candidates.length === 0) return false;
    if (!this.bounded) {
      if (candidates.some((p) => node.backtrack.has(p))) return true;
      const pick = candidates.find((p) => !node.sleep.has(p));
      if (pick !== undefined) node.backtrack.add(pick);
      return true;
    }
    // Under a bound, the runs behind a backtrack choice or a sleeper may have been cut
    // short by it. A choice explored with nothing cut, or a firm sleeper, covers this
    // order as in the unbounded search; anything else is reversed now. (Waiting for a
    // choice still to explore, and reversing only if its exploration turned out cut,
    // lost an outcome under a preemption bound together with postponed conservative
    // branches.)
    if (candidates.some((p) => node.clean.has(p)) || candidates.every((p) => node.firm.has(p))) return true;
    this.reverseBounded(i, candidates, node.chosen);
    return true;
  }

  /**
   * Bounded search: reverse the race at state i that one of `candidates` can start,
   * where no choice explored here is known to cover it.
   */
  private reverseBounded(i: number, candidates: readonly number[], runner: number): void {
    const node = this.nodes[i]!;
    const live = candidates.filter((p) => !node.firm.has(p));
    if (live.length === 0) return;
    // Any initial can start the reversed order: prefer one the bound allows here.
    const allowed = (p: number): boolean => this.within(node.preemptions, node.delays, node.previous, p, node.enabled);
    const pick = live.find((p) => !node.sleep.has(p) && allowed(p)) ?? live.find((p) => !node.sleep.has(p)) ?? live[0]!;
    if (allowed(pick)) {
      node.backtrack.add(pick);
      this.conservative(i, pick, runner);
      return;
    }
    this.cutAt(i, 1);
    this.conservative(i, pick, runner);
    // Under a delay bound another process can make the reversal cheaper: run first (a
    // step that commutes with the reversed order), it may block or end, and the
    // round-robin default moves on to `pick`. So try every process the bound allows
    // here, as DPOR tries every runnable process where the one it wants cannot run.
    for (const q of node.enabled) if (allowed(q)) node.backtrack.add(q);
    // The bound forbids switching here. As bounded POR does (Coons, Musuvathi,
    // McKinley, OOPSLA 2013), also try the latest earlier state where running
    // `pick` costs no more: extra branches are always safe, only slower.
    for (let k = i - 1; k >= 0; k--) {
      const earlier = this.nodes[k]!;
      if (!earlier.enabled.includes(pick)) continue;
      if (!this.within(earlier.preemptions, earlier.delays, earlier.previous, pick, earlier.enabled)) continue;
      earlier.backtrack.add(pick);
      return;
    }
  }

  /**
   * Bounded POR's conservative branch (Coons, Musuvathi, McKinley, OOPSLA 2013):
   * also try `pick` where the block of steps containing state i began — the latest
   * state at or before i where the scheduler switched process. Switching to `pick`
   * there instead costs what the switch it replaces cost. Added at once, even when
   * nothing under that state's current choice turns out cut: the branch starts with
   * another process, which an uncut exploration of the current one does not cover
   * (postponing it until a cut was seen lost an outcome under a preemption bound).
   */
  private conservative(i: number, pick: number, runner: number): void {
    let k = i;
    while (k > 0 && this.nodes[k - 1]!.chosen === runner) k--;
    const start = this.nodes[k]!;
    if (k === i || !start.enabled.includes(pick) || start.enabled.length < 2) return;
    if (!this.within(start.preemptions, start.delays, start.previous, pick, start.enabled)) return;
    start.backtrack.add(pick);
  }

  /**
   * Optimal DPOR: steps i and j race. Let v be the steps after i that do not happen
   * after it, then j: the state before i must explore an execution starting with
   * v. Nothing to do when a process asleep or explored there is a weak initial of v
   * (that execution is covered); otherwise v goes into the state's wakeup tree.
   * Returns false when no initial of v could run there (not reversible here).
   */
  private reverse(i: number, j: number): boolean {
    const node = this.nodes[i];
    if (node === undefined || node.enabled.length < 2) return false;
    // Above the split every order is explored already, and each subtree below it
    // must not depend on the others (each shard explores its own).
    if (this.isTop(node)) return true;
    const v = this.notAfter(i, j);
    if (coveredHere(node, v)) return true;
    // The sequence must start with a step that can run here: with blocking, the
    // first step of v may wait for one that does not happen before j.
    const start = runnableInitial(node, v);
    if (start < 0) return false;
    if (start > 0) v.unshift(...v.splice(start, 1));
    insertWakeup(node.wakeup, v);
    return true;
  }

  /** v for the race of steps i and j: the steps between them that do not happen after i, then j. */
  private notAfter(i: number, j: number): Event[] {
    const events = this.events;
    const ei = events[i]!;
    const v: Event[] = [];
    for (let k = i + 1; k < j; k++) if ((events[k]!.vc[ei.slot] ?? 0) < ei.local) v.push(events[k]!);
    v.push(events[j]!);
    return v;
  }

  /** Move to the deepest state with an unexplored backtrack choice. Returns false when none is left. */
  private advance(): boolean {
    const skipSubtree = !this.owned;
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i]!;
      node.done = withChoice(node.done, node.chosen);
      if (this.bounded && !node.cut) node.clean = withChoice(node.clean, node.chosen);
      // Another shard's subtree: leave it at once, branching only above the split.
      if (skipSubtree && !this.isTop(node)) continue;
      const branch = this.mode === 'optimal' && !this.isTop(node) ? nextBranch(node) : nextChoice(node);
      if (branch !== null) {
        node.chosen = branch.pid;
        node.cut = false;
        node.guide = branch.children;
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

const NO_BRANCHES: readonly WakeupNode[] = [];

/**
 * The steps that touched one location, per process, split by whether they wrote it.
 * A step's races at the location are the other processes' steps there (their writes
 * only, if it reads) that its clock does not yet cover. A process's steps are in
 * program order, so walking its list back stops at the first one covered: the
 * analysis costs the races it finds, not the length of the execution (a spin loop
 * that reads one location a million times would otherwise rescan every read).
 */
class LocHistory {
  /** Per vector-clock slot: indices of its steps here, and of its writes here, ascending. */
  private readonly all: number[][] = [];
  private readonly writes: number[][] = [];

  constructor(private readonly events: readonly Event[]) {}

  add(j: number, slot: number, write: boolean): void {
    push(this.all, slot, j);
    if (write) push(this.writes, slot, j);
  }

  /** Append to `out` the steps of other processes here that conflict with an access by `slot` and are not covered by `clock`. */
  unordered(slot: number, write: boolean, clock: readonly number[], out: number[]): void {
    const lists = write ? this.all : this.writes;
    for (let s = 0; s < lists.length; s++) {
      const list = lists[s];
      if (s === slot || list === undefined) continue;
      const covered = clock[s] ?? 0;
      for (let k = list.length - 1; k >= 0; k--) {
        const i = list[k]!;
        if (this.events[i]!.local <= covered) break;
        out.push(i);
      }
    }
  }
}

/** Append `j` to the list of `slot`, once (a step may touch a location twice: read it, then write it). */
function push(lists: number[][], slot: number, j: number): void {
  const list = lists[slot];
  if (list === undefined) lists[slot] = [j];
  else if (list[list.length - 1] !== j) list.push(j);
}

/** The reduction an `exhaustive()` call asks for; `optimal` is not defined under a bound. */
function reductionOf(options: ExhaustiveOptions): Reduction | 'none' {
  const r = options.reduction ?? true;
  const bounded = options.preemptionBound !== undefined || options.delayBound !== undefined;
  if (r !== true && r !== false && r !== 'optimal' && r !== 'source') {
    throw new SimulationError(
      'INVALID_OPTION',
      `exhaustive({ reduction }): reduction must be 'optimal', 'source', true or false, got ${JSON.stringify(r)}.\n` +
        "  How to fix: leave it out (optimal DPOR, or source DPOR under a bound), or pass 'source' to compare, or false for the unreduced baseline.",
    );
  }
  if (r === 'optimal' && bounded) {
    throw new SimulationError(
      'INVALID_OPTION',
      "exhaustive({ reduction: 'optimal' }) with a preemption or delay bound: optimal DPOR explores one execution per Mazurkiewicz trace, " +
        'but a bound cuts traces by the schedule that reaches them, so there is no optimal bounded search here.\n' +
        "  How to fix: drop `reduction` (a bounded search uses source DPOR), pass reduction: 'source', or remove the bound.",
    );
  }
  if (r === false) return 'none';
  if (r === true) return bounded ? 'source' : 'optimal';
  return r;
}

/** `set` with `pid` added: NO_SLEEPERS is shared, so the first addition makes a set of its own. */
function withChoice(set: ReadonlySet<number>, pid: number): ReadonlySet<number> {
  if (set === NO_SLEEPERS) return new Set([pid]);
  (set as Set<number>).add(pid);
  return set;
}

/** Source DPOR: the next backtrack choice not yet explored here. */
function nextChoice(node: Node): { pid: number; children: readonly WakeupNode[] } | null {
  // Under a bound only a firm sleeper is skipped: the exploration that put another to sleep may have been cut short.
  for (const p of node.backtrack) if (!node.done.has(p) && !node.firm.has(p)) return { pid: p, children: NO_BRANCHES };
  return null;
}

/** Optimal DPOR: the leftmost wakeup branch not yet explored here, taken out of the tree. */
function nextBranch(node: Node): WakeupNode | null {
  for (let b = node.wakeup.shift(); b !== undefined; b = node.wakeup.shift()) if (!node.done.has(b.pid) && !node.sleep.has(b.pid)) return b;
  return null;
}

/**
 * `list`, or the equal one `pid` had last in `cache`: a loop repeating one operation
 * (or a process waiting through many states) keeps one list, not one per step.
 */
function sharedList(cache: Map<number, readonly Access[]>, pid: number, list: readonly Access[]): readonly Access[] {
  const before = cache.get(pid);
  if (before !== undefined && sameAccesses(before, list)) return before;
  cache.set(pid, list);
  return list;
}

function sameAccesses(a: readonly Access[], b: readonly Access[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k]!.loc !== b[k]!.loc || a[k]!.write !== b[k]!.write) return false;
  return true;
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
