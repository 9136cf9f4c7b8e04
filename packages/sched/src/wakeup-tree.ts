/**
 * Wakeup trees (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014): at a state of the
 * current execution, the ordered set of step sequences still to explore from there.
 * A sequence is inserted when a race is found whose reversal no explored or
 * scheduled branch already covers (`coveredHere`, `insertWakeup`); following it
 * exactly is what keeps the optimal search from ever being blocked by its sleep sets.
 */

/** One location a step touches (an interned `Footprint`). */
export interface Access {
  readonly loc: number;
  readonly write: boolean;
}

/** A step of a sequence: which process, touching what. */
export interface Step {
  readonly pid: number;
  readonly locs: readonly Access[];
}

/** What the search knows of a state on the current path, to decide a race's reversal there. */
export interface StateView {
  readonly enabled: readonly number[];
  /** Processes asleep here: explored from an earlier state, commuting with every step since. */
  readonly sleep: ReadonlySet<number>;
  /** Processes already explored from here. */
  readonly done: ReadonlySet<number>;
  /** The footprint of each runnable process's pending operation. */
  readonly next: PendingFootprints;
}

/** The footprint of each runnable process's pending operation at a state, by pid. */
export interface PendingFootprints {
  get(pid: number): readonly Access[] | undefined;
}

/** A branch of a wakeup tree: run `pid`'s next step, then one of `children`. */
export interface WakeupNode extends Step {
  readonly children: WakeupNode[];
}

/** Two steps of different processes are dependent when they share a location and one writes it. */
export function dependent(a: readonly Access[], b: readonly Access[]): boolean {
  for (const x of a) for (const y of b) if (x.loc === y.loc && (x.write || y.write)) return true;
  return false;
}

/**
 * Insert sequence `v` (executable from the state) into `branches`, the branches
 * still to explore there, unless a scheduled branch already starts an execution
 * equivalent to some extension of `v`.
 *
 * At each level, a branch whose process is a weak initial of what is left of `v`
 * absorbs it: either that process's first step in `v` (removed from `v`), or a
 * step of a process absent from `v` that commutes with all of it. Reaching a leaf
 * means an execution that covers `v` is already scheduled; finding no branch means
 * `v`'s remainder becomes a new rightmost branch. `branches` itself is the level of
 * a state on the current path, never a leaf: the branch being explored there is not
 * in it.
 */
export function insertWakeup(branches: WakeupNode[], v: readonly Step[]): void {
  // What is left of `v`: absorbed steps are marked, not spliced out — a sequence
  // thousands of steps long (a race across a long execution) would otherwise be
  // copied once per level it descends.
  const taken = new Uint8Array(v.length);
  let left = v.length;
  let first = 0; // every step before it is taken
  let level = branches;
  let top = true;
  for (;;) {
    if (!top && level.length === 0) return;
    top = false;
    let next: WakeupNode | null = null;
    for (const b of level) {
      const at = absorbs(b, v, taken, first);
      if (at === CONFLICT) continue;
      if (at >= 0) {
        // The last step of `v` is already followed by more scheduled steps.
        if (left === 1 && b.children.length > 0) return;
        taken[at] = 1;
        left--;
        while (first < v.length && taken[first] === 1) first++;
      }
      next = b;
      break;
    }
    if (next === null) {
      level.push(chain(v, taken, first));
      return;
    }
    level = next.children;
  }
}

const CONFLICT = -2;
const INDEPENDENT = -1;

/** Where `b`'s process first occurs in what is left of `v` if no earlier step conflicts with it; INDEPENDENT if absent and commuting with all of it. */
function absorbs(b: Step, v: readonly Step[], taken: Uint8Array, first: number): number {
  for (let k = first; k < v.length; k++) {
    if (taken[k] === 1) continue;
    const s = v[k]!;
    if (s.pid === b.pid) return k;
    if (dependent(s.locs, b.locs)) return CONFLICT;
  }
  return INDEPENDENT;
}

/** The steps of `v` left (not `taken`), as a chain of branches. */
function chain(v: readonly Step[], taken: Uint8Array, first: number): WakeupNode {
  let node: WakeupNode | null = null;
  for (let k = v.length - 1; k >= first; k--) {
    if (taken[k] === 1) continue;
    const s = v[k]!;
    node = { pid: s.pid, locs: s.locs, children: node === null ? [] : [node] };
  }
  return node!;
}

/**
 * Whether a process asleep or already explored at `state` is a weak initial of `v`:
 * its first step in v follows no other step of v, or it is absent from v and its
 * pending step commutes with all of v. Then an equivalent execution was explored.
 */
export function coveredHere(state: StateView, v: readonly Step[]): boolean {
  if (state.sleep.size === 0 && state.done.size === 0) return false;
  const asleep = (p: number): boolean => state.sleep.has(p) || state.done.has(p);
  const seen = new Set<number>();
  for (let k = 0; k < v.length; k++) {
    const s = v[k]!;
    if (seen.has(s.pid)) continue;
    seen.add(s.pid);
    if (asleep(s.pid) && isInitial(v, k)) return true;
  }
  for (const q of [...state.sleep, ...state.done]) {
    if (seen.has(q)) continue;
    const fp = state.next.get(q);
    if (fp !== undefined && !v.some((s) => dependent(s.locs, fp))) return true;
  }
  return false;
}

/** The first step of a process in v that follows no other step of v and can run at `state`, or -1. */
export function runnableInitial(state: StateView, v: readonly Step[]): number {
  const seen = new Set<number>();
  for (let k = 0; k < v.length; k++) {
    const p = v[k]!.pid;
    if (seen.has(p)) continue;
    seen.add(p);
    if (state.enabled.includes(p) && isInitial(v, k)) return k;
  }
  return -1;
}

/** Whether step k of v (the first of its process there) depends on no earlier step of v. */
function isInitial(v: readonly Step[], k: number): boolean {
  const s = v[k]!;
  for (let m = 0; m < k; m++) if (dependent(v[m]!.locs, s.locs)) return false;
  return true;
}
