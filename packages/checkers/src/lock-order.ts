/**
 * Potential deadlocks from the lock-order graph (lock-order inversion), as TSan's
 * `detect_deadlocks` and Linux's lockdep find them: an edge A → B whenever a
 * process asks for B while holding A; a cycle whose edges come from different
 * processes, could all be in progress at once, and are not serialised by a common
 * "gate" lock, is a deadlock some schedule can reach — even when this run did not
 * deadlock. Reported as *potential*, with lockdep's two-column "possible unsafe
 * locking scenario", and the acquire sites and ordering constraint a directed
 * schedule needs to make it happen; {@link confirmLockOrder} runs that search with
 * an explorer passed in (this package does not depend on @interleave/sched).
 */
import { createRng, type IssueEvent, type Monitor, type MonitorContext, type Program, type RunOptions, type RunResult, type Strategy, type TraceEvent } from '@interleave/core';
import { CheckerBase, FindingLog, type Checker, type FailOn } from './checker.js';
import { deadlockReport } from './deadlock.js';
import type { Finding, FindingEvent } from './report.js';
import { PidTable, VIEW_EVENTS, VIEW_OPS, isEnabled, opName, type RunView } from './run-view.js';

/** Options of {@link lockOrder}. */
export interface LockOrderOptions {
  /** Longest cycle looked for, in locks. Default 4. */
  readonly maxCycle?: number;
  /** Treat Semaphores and BoundedSemaphores as locks too (when used as mutexes). Default false. */
  readonly semaphores?: boolean;
  /** Default `never`: inversions are potential, and only confirmed findings should fail a check. */
  readonly failOn?: FailOn;
}

/** One acquire site of a lock-order cycle: `pid` took `holds`, then asked for `acquires`. */
export interface LockOrderSite {
  readonly pid: number;
  readonly name: string;
  readonly holds: string;
  readonly holdsAt: { readonly step: number; readonly time: number };
  readonly acquires: string;
  readonly acquiresAt: { readonly step: number; readonly time: number };
  /** The operation that took `acquires` for its own step, when not an acquire: a synchronized Value's access (`Value#1.update()`). */
  readonly via?: string;
  /** Other locks it held throughout (they did not serialise this cycle). */
  readonly alsoHeld: readonly string[];
}

/** What `finding.data` holds for a lock-order finding: enough to direct a schedule. */
export interface LockOrderData {
  /** The locks in cycle order: site i holds cycle[i] and asks for cycle[i + 1]. */
  readonly cycle: readonly string[];
  readonly sites: readonly LockOrderSite[];
  /**
   * The ordering constraint of the deadlock: every site's first acquire happens
   * before any site's second. A directed schedule pauses each process just before
   * its second acquire until all the others hold their first lock.
   */
  readonly constraint: string;
}

/** When a lock was taken, and the fork/join clock then. */
interface Taken {
  readonly step: number;
  readonly time: number;
  readonly vc: VC;
}

/**
 * Per process: a lock it holds. Reused once released (a program takes and gives
 * back locks at most of its steps), so an edge copies the {@link Taken} it needs.
 */
interface Held {
  lock: string;
  depth: number;
  step: number;
  time: number;
  vc: VC;
}

/** An edge instance: `pid` asked for `to` while holding `from`. */
interface Edge {
  readonly from: string;
  readonly to: string;
  readonly pid: number;
  readonly first: Taken;
  readonly step: number;
  readonly time: number;
  /** Its own fork/join clock component when it asked. */
  readonly clock: number;
  /** Locks held since before `from` was taken: a lock common to two edges keeps them apart. */
  readonly gates: readonly string[];
  /** The operation that took `to` implicitly (see LockOrderSite.via); undefined for an acquire. */
  readonly via: string | undefined;
}

/**
 * A process's fork/join clock, persistent: a spawn or a join makes one node pointing
 * at the clocks it combines, instead of copying them (a program that starts and
 * joins n processes copied n clocks of up to n entries, and the garbage was a third
 * of its run with the checkers on). Read only when a cycle is checked, by walking
 * what the clock was built from.
 */
class VC {
  constructor(
    /** The process whose clock this is, and its own entry. */
    readonly pid: number,
    readonly own: number,
    /** The clocks it was made from: its own previous one, a parent's at a spawn, a child's final one at a join. */
    private readonly from: readonly VC[],
  ) {}

  /** Entries already read (a clock never changes). */
  private read: Map<number, number> | null = null;

  /** Entry `pid`: the highest own entry of that process among the clocks this one was built from. */
  get(pid: number): number {
    const known = this.read?.get(pid);
    if (known !== undefined) return known;
    let best = 0;
    const seen = new Set<VC>();
    const todo: VC[] = [this];
    for (let c = todo.pop(); c !== undefined; c = todo.pop()) {
      if (seen.has(c)) continue;
      seen.add(c);
      if (c.pid === pid && c.own > best) best = c.own;
      for (const f of c.from) todo.push(f);
    }
    (this.read ??= new Map()).set(pid, best);
    return best;
  }
}

/** Per process: the locks it holds, and its fork/join clock (replaced, never changed, when it moves on). */
class Holder {
  readonly held: Held[] = [];
  constructor(public vc: VC) {}
}

/** What the checker knows of an object that was acquired or released. */
interface LockInfo {
  readonly isLock: boolean;
  /** The process whose acquire took it last, while it holds it; -1 for none. */
  owner: number;
}

const LOCKS = /^(Lock|RLock|LockProxy|RLockProxy)#\d+$/;
const LOCKS_AND_SEMAPHORES = /^(Lock|RLock|LockProxy|RLockProxy|Semaphore|BoundedSemaphore|SemaphoreProxy|BoundedSemaphoreProxy)#\d+$/;

/**
 * A monitor that builds the lock-order graph of each run and reports every cycle
 * that could deadlock as a *potential* `lock-order` finding (confirmed when this
 * very run deadlocked on it). Filters, as GoodLock/iGoodlock do: the edges of a
 * cycle come from distinct processes, share no gate lock, and are not ordered by
 * process start/join (a child started after its parent released cannot overlap).
 * Locks that a process always takes in one global order never produce a report.
 *
 * @example
 * ```ts
 * const order = lockOrder();
 * const r = await run(twoLocks, { seed: 0, monitors: [order] });
 * r.status;                     // 'ok': this schedule did not deadlock
 * order.findings[0]?.status;    // 'potential'
 * console.log(order.findings[0]?.details); // the "possible unsafe locking scenario"
 * ```
 */
export function lockOrder(options: LockOrderOptions = {}): Checker {
  return new LockOrderChecker(options);
}

class LockOrderChecker extends CheckerBase {
  readonly name = 'lock-order';
  private readonly maxCycle: number;
  private readonly isLock: RegExp;
  private holders = new PidTable<Holder>();
  /** The process of the last lookup: a release is by the process whose acquire came just before, as a rule. */
  private lastPid = -1;
  private lastHolder: Holder | null = null;
  /** Released records, for the next acquire by anyone. */
  private spare: Held[] = [];
  private locks = new Map<string, LockInfo>();
  /** from → to → edge instances (the first per process). */
  private edges = new Map<string, Map<string, Edge[]>>();
  /** The edges reversed, by lock: which locks some process held while it asked for it. */
  private into = new Map<string, Set<string>>();
  private found = new Map<string, Edge[]>();
  /** The object the last acquire or release named, and its record: a program loops over a few locks, so most lookups end here. */
  private lastObj = '';
  private lastLock: LockInfo = { isLock: false, owner: -1 };
  /** Of the accesses, only those that take a lock for their step. */
  readonly accesses = 'locked';

  constructor(options: LockOrderOptions) {
    // Its own, and the view's: not the data operations and prints of most steps.
    // Access events too: a synchronized Value's or Array's access takes its lock for its step.
    super(new FindingLog(options.failOn ?? 'never'), [...VIEW_EVENTS, 'access'], [...VIEW_OPS, 'acquire', 'release', 'isAlive']);
    this.maxCycle = options.maxCycle ?? 4;
    this.isLock = options.semaphores === true ? LOCKS_AND_SEMAPHORES : LOCKS;
  }

  protected reset(): void {
    this.holders = new PidTable();
    this.lastPid = -1;
    this.lastHolder = null;
    this.spare = [];
    this.locks = new Map();
    this.lastObj = '';
    this.edges = new Map();
    this.into = new Map();
    this.found = new Map();
  }

  onEvent(ev: TraceEvent): void {
    // The view follows starts, joins and exits: most of this checker's events — a
    // lock's acquires and releases, synchronized accesses — tell it nothing.
    if (ev.type === 'done' ? ev.op !== 'acquire' && ev.op !== 'release' : ev.type !== 'access') this.view.see(ev);
    switch (ev.type) {
      case 'spawn': {
        const parent = this.holder(ev.pid);
        const before = parent.vc;
        // Made with its clock: a holder made by a lookup would first get one of its own.
        const vc = new VC(ev.child, 1, [before]);
        const child = this.holders.get(ev.child);
        if (child === undefined) this.holders.set(ev.child, new Holder(vc));
        else child.vc = vc;
        parent.vc = new VC(ev.pid, before.own + 1, [before]);
        break;
      }
      case 'done': {
        const op = ev.op;
        if (op === 'acquire' || op === 'release') {
          const obj = ev.obj;
          const lock = this.lock(obj);
          if (!lock.isLock) break;
          if (op === 'acquire') {
            if (ev.value !== true) break;
            const me = this.holder(ev.pid);
            const mine = me.held;
            if (mine.length > 0) this.requested(ev.pid, obj);
            const i = indexOf(mine, obj);
            if (i >= 0) mine[i]!.depth++;
            else mine.push(this.take(obj, ev.step, ev.time, me.vc));
            lock.owner = ev.pid;
          } else if (ev.outcome === 'ok') {
            // A multiprocessing Lock may be released by another process than its holder.
            let list = this.holder(ev.pid).held;
            let i = indexOf(list, obj);
            if (i < 0 && lock.owner >= 0) {
              list = this.holder(lock.owner).held;
              i = indexOf(list, obj);
            }
            if (i < 0) lock.owner = -1;
            else if (--list[i]!.depth === 0) {
              this.spare.push(i === list.length - 1 ? list.pop()! : list.splice(i, 1)[0]!);
              lock.owner = -1;
            }
          }
        } else if ((op === 'join' && ev.outcome === 'ok') || (op === 'isAlive' && ev.value === false)) {
          const child = this.view.pidOfHandle(ev.obj);
          if (child !== undefined && this.view.proc(child).exited !== null) {
            const me = this.holder(ev.pid);
            me.vc = new VC(ev.pid, me.vc.own, [me.vc, this.holder(child).vc]);
          }
        }
        break;
      }
      case 'access': {
        // A synchronized access waits for its object's lock like an acquire: while
        // holding others, that is an ordering (`with a: v.value += 1` against
        // `with v.get_lock(): with a:`). Its step releases the lock again.
        const lock = ev.lock;
        if (lock === undefined || this.holder(ev.pid).held.length === 0 || !this.lock(lock).isLock) break;
        const op = this.view.issued(ev.pid);
        this.edgesTo(ev.pid, lock, ev.step, ev.time, op === null ? `${ev.obj} access` : opName(op.obj, op.op));
        break;
      }
      case 'exit': {
        // Killed while it waited for a lock: the request counts all the same.
        const waiting = ev.reason === 'terminated' ? this.waitingFor(ev.pid) : null;
        if (waiting !== null) this.requested(waiting.pid, waiting.obj);
        this.holder(ev.pid).held.length = 0;
        break;
      }
      default:
        break;
    }
  }

  override onEnd(ctx: MonitorContext): void {
    // Requests that never took effect (the run deadlocked on them, or ended first), in the order they were made.
    const waiting = this.view
      .processes()
      .filter((p) => p.live)
      .map((p) => this.waitingFor(p.pid))
      .filter((op): op is IssueEvent => op !== null)
      .sort((a, b) => a.step - b.step || a.pid - b.pid);
    for (const op of waiting) this.requested(op.pid, op.obj);
    // This run deadlocked on a cycle when every process of it is still waiting for
    // its second lock: upgrade that report (without failing the run: the deadlock
    // status says it already).
    const enabled = ctx.enabled();
    for (const [key, cyc] of this.found) {
      const stuck = cyc.every((e) => {
        const issued = this.view.issued(e.pid);
        return this.view.proc(e.pid).live && !isEnabled(enabled, e.pid) && issued?.obj === e.to && issued.op === 'acquire';
      });
      if (stuck) this.log.replace(lockOrderFinding(cyc, this.view, 'confirmed', key));
    }
    super.onEnd(ctx);
  }

  /**
   * `pid` asked for `obj` (its latest operation, an acquire) while holding locks: a
   * blocking, untimed acquire is a request that can wait forever, an edge from every
   * lock held. Try-acquires and timed ones cannot deadlock. Judged when the acquire
   * took effect, or at the end of the run for one that never did: the locks held
   * are the same as when it was asked for, since the process did nothing in between.
   */
  private requested(pid: number, obj: string): void {
    const ev = this.view.issued(pid);
    if (ev === null || ev.args.length > 0 || !this.lock(obj).isLock) return;
    this.edgesTo(pid, obj, ev.step, ev.time);
  }

  /** `pid` asked for lock `obj` at `step`: an edge from every lock it holds (none if it holds `obj` itself). */
  private edgesTo(pid: number, obj: string, step: number, time: number, via?: string): void {
    const me = this.holder(pid);
    const mine = me.held;
    if (mine.length === 0 || indexOf(mine, obj) >= 0) return; // re-entrant (RLock) or self-deadlock: not an ordering
    const clock = me.vc.own;
    for (let i = 0; i < mine.length; i++) {
      const h = mine[i]!;
      this.addEdge({ from: h.lock, to: obj, pid, first: { step: h.step, time: h.time, vc: h.vc }, step, time, clock, gates: mine.slice(0, i).map((g) => g.lock), via });
    }
  }

  /**
   * The acquire `pid` waits in, if any. Asked only of a process that was terminated
   * or is alive at the end of the run: its latest operation is then one that never
   * took effect (after a step a process issues its next operation in the same step).
   */
  private waitingFor(pid: number): IssueEvent | null {
    const op = this.view.issued(pid);
    return op !== null && op.op === 'acquire' ? op : null;
  }

  private lock(obj: string): LockInfo {
    if (obj === this.lastObj) return this.lastLock;
    let info = this.locks.get(obj);
    if (info === undefined) this.locks.set(obj, (info = { isLock: this.isLock.test(obj), owner: -1 }));
    this.lastObj = obj;
    this.lastLock = info;
    return info;
  }

  private holder(pid: number): Holder {
    if (pid === this.lastPid) return this.lastHolder!;
    let h = this.holders.get(pid);
    if (h === undefined) this.holders.set(pid, (h = new Holder(new VC(pid, 1, []))));
    this.lastPid = pid;
    this.lastHolder = h;
    return h;
  }

  private take(lock: string, step: number, time: number, vc: VC): Held {
    const h = this.spare.pop();
    if (h === undefined) return { lock, depth: 1, step, time, vc };
    h.lock = lock;
    h.depth = 1;
    h.step = step;
    h.time = time;
    h.vc = vc;
    return h;
  }

  private addEdge(e: Edge): void {
    let out = this.edges.get(e.from);
    if (out === undefined) this.edges.set(e.from, (out = new Map<string, Edge[]>()));
    let list = out.get(e.to);
    if (list === undefined) {
      out.set(e.to, (list = []));
      let from = this.into.get(e.to);
      if (from === undefined) this.into.set(e.to, (from = new Set()));
      from.add(e.from);
    }
    if (list.some((x) => x.pid === e.pid)) return;
    list.push(e);
    // Look for a path back from e.to to e.from made of compatible edges — only
    // through locks from which e.from can be reached at all: without that, a program
    // taking many locks in one global order (no cycle anywhere) would have every
    // chain of compatible edges enumerated, exponentially many.
    const back = this.reaching(e.from);
    if (back.has(e.to)) this.search(e, e.to, [e], new Set([e.from, e.to]), back);
  }

  /** The locks with a path of edges to `target`. */
  private reaching(target: string): Set<string> {
    const seen = new Set<string>();
    const todo = [target];
    for (let t = todo.pop(); t !== undefined; t = todo.pop()) {
      for (const from of this.into.get(t) ?? []) {
        if (seen.has(from)) continue;
        seen.add(from);
        todo.push(from);
      }
    }
    return seen;
  }

  private search(e: Edge, cur: string, chain: Edge[], locks: Set<string>, back: ReadonlySet<string>): void {
    if (chain.length >= this.maxCycle) return;
    for (const [to, insts] of this.edges.get(cur) ?? []) {
      if (to !== e.from && (locks.has(to) || !back.has(to))) continue;
      for (const inst of insts) {
        if (!compatible(inst, chain)) continue;
        chain.push(inst);
        if (to === e.from) this.record([...chain]);
        else {
          locks.add(to);
          this.search(e, to, chain, locks, back);
          locks.delete(to);
        }
        chain.pop();
      }
    }
  }

  private record(chain: Edge[]): void {
    // Canonical order: start at the smallest lock id, so each cycle is one report.
    let k = 0;
    for (let i = 1; i < chain.length; i++) if (chain[i]!.from < chain[k]!.from) k = i;
    const cyc = [...chain.slice(k), ...chain.slice(0, k)];
    const key = `lock-order:${cyc.map((c) => c.from).join('>')}`;
    if (this.found.has(key)) return;
    this.found.set(key, cyc);
    this.log.add(lockOrderFinding(cyc, this.view, 'potential', key));
  }
}

/** Where `lock` is in a process's held list, or -1. */
function indexOf(held: readonly Held[], lock: string): number {
  for (let i = 0; i < held.length; i++) if (held[i]!.lock === lock) return i;
  return -1;
}

/** Whether edge x's request happens before y's first acquire in every schedule. */
function before(x: Edge, y: Edge): boolean {
  return x.clock <= y.first.vc.get(x.pid);
}

function compatible(e: Edge, chain: readonly Edge[]): boolean {
  for (const c of chain) {
    if (c.pid === e.pid) return false;
    if (e.gates.some((g) => c.gates.includes(g))) return false;
    if (before(e, c) || before(c, e)) return false;
  }
  return true;
}

function lockOrderFinding(cyc: readonly Edge[], view: RunView, status: 'potential' | 'confirmed', key: string): Finding {
  const locks = cyc.map((e) => e.from);
  const sites: LockOrderSite[] = cyc.map((e) => ({
    pid: e.pid,
    name: view.proc(e.pid).name,
    holds: e.from,
    holdsAt: { step: e.first.step, time: e.first.time },
    acquires: e.to,
    acquiresAt: { step: e.step, time: e.time },
    ...(e.via === undefined ? {} : { via: e.via }),
    alsoHeld: e.gates,
  }));
  const events: FindingEvent[] = [];
  for (const s of sites) {
    events.push({ pid: s.pid, name: s.name, step: s.holdsAt.step, time: s.holdsAt.time, op: `${s.holds}.acquire()`, note: `takes ${s.holds}` });
    events.push({
      pid: s.pid,
      name: s.name,
      step: s.acquiresAt.step,
      time: s.acquiresAt.time,
      op: s.via ?? `${s.acquires}.acquire()`,
      note: `asks for ${s.acquires}${s.via === undefined ? '' : ` (its synchronized access takes it)`} while holding ${s.holds}`,
    });
  }
  const orders = sites.map((s) => `${s.name} (pid ${s.pid}) takes ${s.holds} then ${s.acquires}`).join('; ');
  const data: LockOrderData = {
    cycle: locks,
    sites,
    constraint:
      sites.map((s) => `${s.name} holds ${s.holds}`).join(' and ') +
      ' before any of them asks for its second lock: pause each process just before its second acquire until all the others hold their first.',
  };
  return {
    kind: 'lock-order',
    status,
    message:
      status === 'confirmed'
        ? `lock-order deadlock (this run): ${orders}`
        : `possible circular locking (lock-order inversion): ${orders}`,
    why:
      `the processes take ${locks.join(' and ')} in different orders. If each takes its first lock before any takes its second, ` +
      `each then waits for a lock another holds, around the cycle ${[...locks, locks[0]!].join(' → ')}, and none can go on` +
      (status === 'potential' ? ' — this schedule happened not to interleave them that way.' : '.'),
    fix: `acquire locks in one global order: every process takes ${[...locks].sort().join(' before ')} (or guard both with one lock).`,
    events,
    details: lockdepScenario(sites),
    data: data as unknown as Record<string, unknown>,
    key,
  };
}

/**
 * Linux lockdep's "possible unsafe locking scenario", one column per process:
 * every first acquire, then every second acquire in reverse order.
 *
 * @example
 * ```ts
 * lockdepScenario(data.sites);
 * //  Possible unsafe locking scenario:
 * //
 * //        Process-1 (pid 1001)    Process-2 (pid 1002)
 * //        --------------------    --------------------
 * //   lock(Lock#1);
 * //                                lock(Lock#2);
 * //                                lock(Lock#1);
 * //   lock(Lock#2);
 * //
 * //  *** DEADLOCK ***
 * ```
 */
export function lockdepScenario(sites: readonly LockOrderSite[]): string {
  const heads = sites.map((s) => `${s.name} (pid ${s.pid})`);
  const width = Math.max(16, ...heads.map((h) => h.length)) + 4;
  const lines = [
    'WARNING: possible circular locking dependency detected',
    `Chain exists of: ${[...sites.map((s) => s.holds), sites[0]?.holds ?? ''].join(' --> ')}`,
    '',
    ' Possible unsafe locking scenario:',
    '',
    '       ' + heads.map((h) => h.padEnd(width)).join('').trimEnd(),
    '       ' + heads.map((h) => '-'.repeat(h.length).padEnd(width)).join('').trimEnd(),
  ];
  const at = (col: number, text: string): string => '  ' + ' '.repeat(5 + col * width) + text;
  sites.forEach((s, i) => lines.push(at(i, `lock(${s.holds});`)));
  for (let i = sites.length - 1; i >= 0; i--) lines.push(at(i, `lock(${sites[i]!.acquires});`));
  lines.push('', ' *** DEADLOCK ***');
  return lines.join('\n');
}

// ------------------------------------------------------------- confirmation

/** The shape of an exploration strategy (`@interleave/sched`'s `ExplorationStrategy`). */
export interface DirectedExploration {
  readonly name: string;
  next(index: number): { readonly strategy: Strategy } | null;
}

/**
 * A scheduling strategy that tries to realise one lock-order finding
 * (DeadlockFuzzer's second stage): it follows a seeded random schedule, except that
 * a process about to ask for its second lock of the cycle while holding its first
 * is paused until every other process of the cycle holds its own first lock.
 *
 * @example
 * ```ts
 * const r = await run(twoLocks, { strategy: lockOrderStrategy(finding, 3) });
 * r.status; // 'deadlock' when the directed schedule realised it
 * ```
 */
export function lockOrderStrategy(finding: Finding, seed: string | number = 0): Strategy {
  const data = lockOrderData(finding);
  const sites = data?.sites ?? [];
  const rng = createRng(`${seed}\u0000lock-order`);
  const holds = new Map<number, Map<string, number>>();
  const ended = new Set<number>();
  const holding = (pid: number, lock: string): boolean => (holds.get(pid)?.get(lock) ?? 0) > 0;
  return {
    name: `lock-order-directed(${JSON.stringify(seed)})`,
    observer: {
      beforeStep(p, op) {
        let m = holds.get(p.pid);
        if (m === undefined) holds.set(p.pid, (m = new Map<string, number>()));
        // A blocking acquire takes effect only when it can take the lock; a try-acquire
        // that fails is counted as taken too — a harmless over-approximation here.
        if (op.name === 'acquire') m.set(op.objectId, (m.get(op.objectId) ?? 0) + 1);
        else if (op.name === 'release') m.set(op.objectId, Math.max(0, (m.get(op.objectId) ?? 0) - 1));
      },
      ended(p) {
        ended.add(p.pid);
        holds.delete(p.pid);
      },
    },
    choose(enabled) {
      const paused = (pid: number, obj: string | undefined, op: string | undefined): boolean =>
        sites.some(
          (s) =>
            s.pid === pid &&
            op === 'acquire' &&
            obj === s.acquires &&
            holding(pid, s.holds) &&
            sites.some((o) => o.pid !== pid && !ended.has(o.pid) && !holding(o.pid, o.holds)),
        );
      const free: number[] = [];
      for (let i = 0; i < enabled.length; i++) {
        const p = enabled[i]!;
        if (!paused(p.pid, p.pending?.objectId, p.pending?.name)) free.push(i);
      }
      const pool = free.length > 0 ? free : enabled.map((_, i) => i);
      return pool[rng.below(pool.length)]!;
    },
  };
}

/**
 * `executions` directed schedules for a lock-order finding, shaped as an
 * exploration strategy for `@interleave/sched`'s `explore`.
 *
 * @example
 * ```ts
 * import { explore } from '@interleave/sched';
 * const report = await explore(twoLocks, { strategy: directedExploration(finding), stopOnFailure: true });
 * report.failure?.kind; // 'deadlock'
 * ```
 */
export function directedExploration(finding: Finding, options: { readonly executions?: number; readonly seed?: number } = {}): DirectedExploration {
  const executions = options.executions ?? 50;
  const seed = options.seed ?? 0;
  return {
    name: 'lock-order-directed',
    next: (i) => (i < executions ? { strategy: lockOrderStrategy(finding, seed + i) } : null),
  };
}

/** Options an explorer is called with by {@link confirmLockOrder}. */
export interface ConfirmExploreOptions {
  readonly strategy: DirectedExploration;
  readonly budget: { readonly executions: number };
  readonly stopOnFailure: boolean;
  readonly shrink?: boolean;
  readonly run?: Omit<RunOptions, 'strategy' | 'monitors' | 'trace'>;
  readonly monitors?: readonly Monitor[];
}

/** What {@link confirmLockOrder} needs back from the explorer (a subset of sched's `ExploreReport`). */
export interface ConfirmExploreReport {
  readonly executions: number;
  readonly failure?: { readonly kind: string; readonly token: string; readonly result: RunResult };
}

/**
 * Try to turn a potential lock-order finding into a confirmed deadlock: run
 * directed schedules with the explorer you pass in (`explore` from
 * `@interleave/sched`), and on a deadlock in which every process of the cycle waits
 * for its second lock, return the finding as `confirmed`, with the replay token and
 * the deadlock report in `details`. Otherwise return it unchanged but for
 * `data.confirmation`, saying how many schedules were tried.
 *
 * @example
 * ```ts
 * import { explore } from '@interleave/sched';
 * const order = lockOrder();
 * await run(twoLocks, { monitors: [order] });
 * const f = await confirmLockOrder(twoLocks, order.findings[0]!, explore);
 * f.status; // 'confirmed'
 * f.token;  // 'il1.…' — replay(twoLocks, f.token) deadlocks
 * ```
 */
export async function confirmLockOrder<R>(
  prog: Program<R>,
  finding: Finding,
  explore: (prog: Program<R>, options: ConfirmExploreOptions) => Promise<ConfirmExploreReport>,
  options: { readonly executions?: number; readonly seed?: number; readonly shrink?: boolean; readonly run?: ConfirmExploreOptions['run'] } = {},
): Promise<Finding> {
  const data = lockOrderData(finding);
  if (data === null || finding.status === 'confirmed') return finding;
  const executions = options.executions ?? 50;
  const report = await explore(prog, {
    strategy: directedExploration(finding, { executions, ...(options.seed === undefined ? {} : { seed: options.seed }) }),
    budget: { executions },
    stopOnFailure: true,
    shrink: options.shrink ?? false,
    ...(options.run === undefined ? {} : { run: options.run }),
  });
  const failure = report.failure;
  const result = failure?.result;
  if (failure !== undefined && result !== undefined && result.status === 'deadlock') {
    const stuck = data.sites.every((s) => result.blocked.some((b) => b.pid === s.pid && b.op.startsWith(`${s.acquires}.acquire(`)));
    if (stuck) {
      const dl = deadlockReport(result, failure.token);
      return {
        ...finding,
        status: 'confirmed',
        message: finding.message.replace(/^possible circular locking \(lock-order inversion\)/, 'lock-order inversion confirmed: a directed schedule deadlocks'),
        why: `${finding.why.replace(/ — this schedule happened not to interleave them that way\.$/, '.')} A directed schedule (execution ${report.executions} of the search) makes it happen.`,
        token: failure.token,
        details: `${finding.details ?? ''}\n\nConfirmed by a directed schedule:\n${dl?.details ?? ''}`,
        data: { ...finding.data, confirmation: { found: true, executions: report.executions, deadlock: dl?.data ?? null } },
      };
    }
  }
  return { ...finding, data: { ...finding.data, confirmation: { found: false, executions: report.executions } } };
}

/** The lock-order data of a finding, or null if it is not a lock-order finding. */
export function lockOrderData(finding: Finding): LockOrderData | null {
  if (finding.kind !== 'lock-order' || finding.data === undefined) return null;
  const d = finding.data as unknown as Partial<LockOrderData>;
  return Array.isArray(d.cycle) && Array.isArray(d.sites) ? (d as LockOrderData) : null;
}
