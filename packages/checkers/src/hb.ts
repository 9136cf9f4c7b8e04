/**
 * The happens-before engine shared by the race and lost-update checkers: vector
 * clocks per process, derived from core's event stream alone, with one edge per
 * guarantee a primitive documents (docs/checkers.md has the table):
 *
 * - `Process.start()`: parent → child; `join()`, `isAlive() === false` and the
 *   parent's own exit (which joins its children): child → parent.
 * - Lock, RLock, Semaphore and their Manager proxies: release → every later
 *   successful acquire. The lock's clock is a merge of every release, since a
 *   multiprocessing Lock may be released by any process.
 * - Event: `set` → `wait`/`isSet` returning true.
 * - Condition: `wait` releases its lock and re-acquires it (`notify` adds nothing).
 * - Barrier: every arrival of a generation → every departure of it.
 * - Queue / SimpleQueue / JoinableQueue / Manager Queue, Pipe: per-message clocks,
 *   put/send → the get/recv that returns that message (the feeder thread only
 *   forwards the message, so the put's clock is the one that arrives); for Queue,
 *   JoinableQueue and the Manager Queue, a get → every later put (CPython's
 *   queue semaphore, which is what makes a put on a full bounded queue wait for a
 *   get); `taskDone` → `JoinableQueue.join`; closing a Pipe end (explicitly or by
 *   exiting) → the EOFError it causes.
 * - With `atomicEdges`: atomic accesses synchronise too. A synchronized Value's
 *   access takes and gives back its lock (the event's `lock`); a Manager proxy
 *   write releases into its location, a read acquires from it.
 *
 * Sleeps, timeouts, failed or non-blocking attempts (`acquire` returning false,
 * `Empty`, `Full`), `qsize`/`empty`/`full`/`poll` and `notify` create no edge.
 *
 * @internal Used by the race and lost-update checkers; not part of the API.
 */
import type { AccessEvent, DoneEvent, IssueEvent, TraceEvent } from '@interleave/core';

/** A vector clock: entry i is what is known of process index i's own clock. */
export type VC = number[];

const EMPTY: readonly string[] = [];

/** The kernel's pid of the main process; background threads have pids from 100000. */
const MAIN_PID = 1000;
const THREAD_BASE = 100_000;

/** What the engine knows of one process (or background thread). */
export class Proc {
  readonly pid: number;
  /** Dense index into vector clocks. */
  readonly idx: number;
  name: string;
  clock: VC;
  /** The clock at exit: what a join learns. */
  final: VC | null = null;
  /** Locks held now (owner-based kinds), oldest first; replaced, never mutated, so it can be shared. */
  held: readonly string[] = EMPTY;
  /** The operation issued last: the one its next step performs. */
  op: IssueEvent | null = null;
  /** Where the user's code issued `op` (only when sources are captured). */
  site: Error | null = null;
  readonly children: Proc[] = [];
  /**
   * A Condition wait that released its lock and has not re-acquired it yet: the
   * candidate locks (edges) and those it owned, with their RLock depth (bookkeeping).
   */
  waiting: { readonly locks: readonly Obj[]; readonly owned: readonly (readonly [Obj, number])[] } | null = null;

  constructor(pid: number, idx: number, name: string, clock: VC) {
    this.pid = pid;
    this.idx = idx;
    this.name = name;
    this.clock = clock;
  }
}

const enum Kind {
  Other,
  Lock,
  Semaphore,
  Event,
  Condition,
  Barrier,
  Queue,
  Connection,
  Process,
}

const KINDS: Readonly<Record<string, Kind>> = {
  Lock: Kind.Lock,
  RLock: Kind.Lock,
  LockProxy: Kind.Lock,
  RLockProxy: Kind.Lock,
  Semaphore: Kind.Semaphore,
  BoundedSemaphore: Kind.Semaphore,
  SemaphoreProxy: Kind.Semaphore,
  BoundedSemaphoreProxy: Kind.Semaphore,
  Event: Kind.Event,
  EventProxy: Kind.Event,
  Condition: Kind.Condition,
  Barrier: Kind.Barrier,
  Queue: Kind.Queue,
  JoinableQueue: Kind.Queue,
  SimpleQueue: Kind.Queue,
  QueueProxy: Kind.Queue,
  Connection: Kind.Connection,
};

/** Object ids are `Kind#n`; process handles are `MainProcess` and `Process-1:2`. */
function kindOfId(id: string): Kind {
  const hash = id.indexOf('#');
  if (hash < 0) return id === 'MainProcess' || id.startsWith('Process-') ? Kind.Process : Kind.Other;
  return KINDS[id.slice(0, hash)] ?? Kind.Other;
}

/** One barrier's generations: arrivals merge into `cur`; departures acquire their generation's clock. */
interface BarrierState {
  gen: number;
  cur: VC | null;
  readonly closed: Map<number, VC>;
  readonly arrivedIn: Map<number, number>;
}

/** What the engine keeps per simulated object: one record, one lookup per event. */
class Obj {
  readonly id: string;
  readonly kind: Kind;
  /** Release clock: a lock's or semaphore's releases, an Event's sets, a queue's gets, a pipe end's closes. */
  clock: VC | null = null;
  /** JoinableQueue: the `taskDone`s. */
  tasks: VC | null = null;
  /** Owner-based locks: who holds it, how deep (RLock). */
  owner: Proc | null = null;
  count = 0;
  /** `[id]`, shared: holding one lock at a time allocates nothing. */
  readonly single: readonly string[];
  /** A queue with a semaphore (not SimpleQueue). */
  readonly counted: boolean;
  /** Condition: the locks it may use. Pipe end: its peer. */
  condLocks: readonly Obj[] | null = null;
  peer: string | null = null;
  /** Pipe end: processes that used it (their exit closes their handle). */
  users: Set<Proc> | null = null;
  barrier: BarrierState | null = null;

  constructor(id: string) {
    this.id = id;
    this.kind = kindOfId(id);
    this.single = [id];
    this.counted = this.kind === Kind.Queue && !id.startsWith('SimpleQueue#');
  }
}

/** `into := into ⊔ from` */
export function join(into: VC, from: VC): void {
  while (into.length < from.length) into.push(0);
  for (let i = 0; i < from.length; i++) {
    const v = from[i]!;
    if (v > into[i]!) into[i] = v;
  }
}

function without(held: readonly string[], lock: string): readonly string[] {
  return held.length === 1 && held[0] === lock ? EMPTY : held.filter((l) => l !== lock);
}

/** Options of the engine. */
export interface EngineOptions {
  /** Atomic accesses (Manager proxies, synchronized Values) order what follows them. */
  readonly atomicEdges: boolean;
  /** Capture `new Error()` at every issue, for source locations in reports. */
  readonly sources: boolean;
}

/**
 * Vector clocks over one run. Feed it every event with {@link event}; around each
 * access event call {@link beforeAccess} and {@link afterAccess}.
 */
export class HappensBefore {
  private readonly opts: EngineOptions;
  /** Processes by `pid - 1000` (a dense array: the lookup is on every event); threads by pid. */
  private readonly byPid: (Proc | undefined)[] = [];
  private readonly threads = new Map<number, Proc>();
  private readonly order: Proc[] = [];
  private readonly objects = new Map<string, Obj>();
  /** Release clocks of atomic locations (atomicEdges only). */
  private readonly atomics = new Map<string, VC>();
  private readonly messages = new Map<number, { readonly clock: VC; readonly obj: string }>();
  /** Process handle id → pid. */
  private readonly handles = new Map<string, number>();
  private lastSpawn: Proc | null = null;
  private last: Obj | null = null;

  constructor(opts: EngineOptions) {
    this.opts = opts;
  }

  /** The process with this pid, created on first sight. */
  proc(pid: number): Proc {
    const p = pid < THREAD_BASE ? this.byPid[pid - MAIN_PID] : this.threads.get(pid);
    return p ?? this.admit(pid, pid === MAIN_PID ? 'MainProcess' : pid >= THREAD_BASE ? `Thread-${pid}` : `pid ${pid}`, null);
  }

  private known(pid: number): Proc | undefined {
    return pid < THREAD_BASE ? this.byPid[pid - MAIN_PID] : this.threads.get(pid);
  }

  /** Whether `id` is a queue (Queue, JoinableQueue, SimpleQueue, Manager Queue). */
  isQueue(id: string): boolean {
    return this.obj(id).kind === Kind.Queue;
  }

  private admit(pid: number, name: string, parent: Proc | null): Proc {
    const idx = this.order.length;
    const clock: VC = parent === null ? [] : parent.clock.slice();
    while (clock.length <= idx) clock.push(0);
    clock[idx] = 1;
    const p = new Proc(pid, idx, name, clock);
    if (pid < THREAD_BASE) {
      while (this.byPid.length < pid - MAIN_PID) this.byPid.push(undefined);
      this.byPid[pid - MAIN_PID] = p;
    } else {
      this.threads.set(pid, p);
    }
    this.order.push(p);
    return p;
  }

  private obj(id: string): Obj {
    const last = this.last;
    if (last !== null && last.id === id) return last;
    let o = this.objects.get(id);
    if (o === undefined) this.objects.set(id, (o = new Obj(id)));
    this.last = o;
    return o;
  }

  /** `S := S ⊔ C_p; C_p[p]++` — merge-release, sound whoever releases. */
  private release(p: Proc, o: Obj): void {
    if (o.clock === null) o.clock = p.clock.slice();
    else join(o.clock, p.clock);
    p.clock[p.idx]!++;
  }

  private acquire(p: Proc, clock: VC | null): void {
    if (clock !== null) join(p.clock, clock);
  }

  /** Apply the ordering effect of one event (access events: see beforeAccess/afterAccess). */
  event(e: TraceEvent): void {
    switch (e.type) {
      case 'issue': {
        const p = this.proc(e.pid);
        p.op = e;
        if (this.opts.sources) p.site = captureSite();
        // A Condition wait that returned at its first step (waitFor's predicate held,
        // or it timed out) never released its lock: take the bookkeeping back.
        if (p.waiting !== null) this.unwait(p);
        return;
      }
      case 'done':
        this.done(e);
        return;
      case 'block':
      case 'wake':
        return;
      case 'spawn': {
        const parent = this.proc(e.pid);
        const child = this.admit(e.child, e.name, parent);
        parent.children.push(child);
        parent.clock[parent.idx]!++;
        this.lastSpawn = child;
        return;
      }
      case 'send': {
        const p = this.proc(e.pid);
        this.messages.set(e.msg, { clock: p.clock.slice(), obj: e.obj });
        p.clock[p.idx]!++;
        return;
      }
      case 'recv': {
        const p = this.proc(e.pid);
        const m = this.messages.get(e.msg);
        if (m !== undefined) {
          join(p.clock, m.clock);
          this.messages.delete(e.msg);
          if (m.obj !== e.obj) {
            this.obj(m.obj).peer = e.obj;
            this.obj(e.obj).peer = m.obj;
          }
        }
        // A get gives back a unit of the queue's semaphore, which every put takes: the
        // bounded queue's "a put waits for room" (SimpleQueue has no semaphore).
        const o = this.obj(e.obj);
        if (o.counted) this.release(p, o);
        return;
      }
      case 'exit': {
        const p = this.proc(e.pid);
        p.final = p.clock;
        return;
      }
      default:
        return;
    }
  }

  /** Before the check of an access: a synchronized access takes its lock; an atomic read acquires its location. */
  beforeAccess(e: AccessEvent, p: Proc): void {
    if (!this.opts.atomicEdges || !e.atomic) return;
    if (e.lock !== undefined) this.acquire(p, this.obj(e.lock).clock);
    else if (e.kind === 'read') this.acquire(p, this.atomics.get(e.loc) ?? null);
  }

  /** After the check: a synchronized access gives its lock back; an atomic write releases into its location. */
  afterAccess(e: AccessEvent, p: Proc): void {
    if (!this.opts.atomicEdges || !e.atomic) return;
    if (e.lock !== undefined) {
      this.release(p, this.obj(e.lock));
    } else if (e.kind === 'write') {
      const s = this.atomics.get(e.loc);
      if (s === undefined) this.atomics.set(e.loc, p.clock.slice());
      else join(s, p.clock);
      p.clock[p.idx]!++;
    }
  }

  private done(e: DoneEvent): void {
    // Most steps are data operations, queries, sleeps and prints: tell them by their
    // name before looking the object up. (`set` is also Value.set: only Events count.)
    switch (e.op) {
      case 'set':
        if (e.obj.charCodeAt(0) !== 69 /* E: Event, EventProxy */) return;
        break;
      case 'acquire':
      case 'release':
      case 'wait':
      case 'isSet':
      case 'waitFor':
      case 'notify':
      case 'notifyAll':
      case 'reset':
      case 'abort':
      case 'put':
      case 'taskDone':
      case 'join':
      case 'close':
      case 'recv':
      case 'begin':
      case 'start':
      case 'isAlive':
      case 'exit':
        break;
      default:
        return;
    }
    const p = this.proc(e.pid);
    const o = this.obj(e.obj);
    switch (o.kind) {
      case Kind.Lock:
      case Kind.Semaphore:
        if (e.op === 'acquire') {
          if (e.value !== true) return; // failed or timed out: no edge
          this.acquire(p, o.clock);
          this.took(p, o);
        } else if (e.op === 'release' && e.outcome === 'ok') {
          this.release(p, o);
          this.gave(o);
        }
        return;
      case Kind.Event:
        if (e.outcome !== 'ok') return;
        if (e.op === 'set') this.release(p, o);
        else if ((e.op === 'wait' || e.op === 'isSet') && e.value === true) this.acquire(p, o.clock);
        return;
      case Kind.Condition:
        this.condition(e, p, o);
        return;
      case Kind.Barrier:
        this.barrier(e, p, o);
        return;
      case Kind.Queue:
        if (e.outcome !== 'ok') return; // Full, Empty: no edge
        if (e.op === 'put') {
          this.acquire(p, o.clock);
        } else if (e.op === 'taskDone') {
          if (o.tasks === null) o.tasks = p.clock.slice();
          else join(o.tasks, p.clock);
          p.clock[p.idx]!++;
        } else if (e.op === 'join') {
          this.acquire(p, o.tasks);
        }
        return;
      case Kind.Connection:
        this.connection(e, p, o);
        return;
      case Kind.Process:
        this.process(e, p);
        return;
      default:
        return;
    }
  }

  private took(p: Proc, o: Obj): void {
    if (o.kind !== Kind.Lock) return; // semaphores have no owner
    if (o.owner === p) {
      o.count++;
      return;
    }
    if (o.owner !== null) o.owner.held = without(o.owner.held, o.id);
    o.owner = p;
    o.count = 1;
    p.held = p.held.length === 0 ? o.single : [...p.held, o.id];
  }

  private gave(o: Obj): void {
    const owner = o.owner;
    if (owner === null) return;
    // A multiprocessing Lock may be released by another process: its owner loses it.
    if (--o.count > 0) return;
    owner.held = without(owner.held, o.id);
    o.owner = null;
  }

  /**
   * The core events do not say which lock a Condition uses; its waiters and
   * notifiers must hold it, so it is among the mp locks they hold. The candidates
   * shrink to the intersection over every wait and notify; releasing into and
   * acquiring from every candidate can only add edges, never a false report.
   */
  private candidates(cond: Obj, p: Proc): readonly Obj[] {
    const held: Obj[] = [];
    for (const l of p.held) if (l.startsWith('Lock#') || l.startsWith('RLock#')) held.push(this.obj(l));
    const known = cond.condLocks;
    let next: readonly Obj[] = held;
    if (known !== null) {
      const both = known.filter((l) => held.includes(l));
      next = both.length > 0 ? both : known;
    }
    cond.condLocks = next;
    return next;
  }

  private condition(e: DoneEvent, p: Proc, cond: Obj): void {
    if (e.op === 'notify' || e.op === 'notifyAll') {
      if (e.outcome === 'ok') this.candidates(cond, p);
      return;
    }
    if (e.op !== 'wait' && e.op !== 'waitFor') return;
    if (e.phase === 0) {
      if (e.outcome !== 'ok') return; // not holding the lock: AssertionError
      const locks = this.candidates(cond, p);
      // undefined: it went to sleep, releasing the lock (or waitFor's predicate gave
      // undefined as it timed out: the next issue event takes that back).
      if (e.value === undefined) this.sleep(p, locks);
      return;
    }
    // Woken (or timed out): the lock is back, released by whoever had it.
    const w = p.waiting;
    if (w === null) return;
    for (const lock of w.locks) this.acquire(p, lock.clock);
    this.unwait(p);
    if (e.value === undefined && e.outcome === 'ok') this.sleep(p, w.locks); // waitFor sleeps again
  }

  /**
   * The wait's first step released the lock. If the wait in fact returned at once
   * (its next event is an issue, not its second step), `unwait` takes the
   * bookkeeping back; the release edge stays, which can only hide a race.
   */
  private sleep(p: Proc, locks: readonly Obj[]): void {
    const owned: (readonly [Obj, number])[] = [];
    for (const lock of locks) {
      this.release(p, lock);
      if (lock.owner === p) {
        owned.push([lock, lock.count]);
        lock.count = 1;
        this.gave(lock);
      }
    }
    p.waiting = { locks, owned };
  }

  /** The locks a wait released are held again (it re-acquired them, or never slept). */
  private unwait(p: Proc): void {
    const w = p.waiting!;
    p.waiting = null;
    for (const [lock, count] of w.owned) {
      this.took(p, lock);
      lock.count = count;
    }
  }

  private barrier(e: DoneEvent, p: Proc, o: Obj): void {
    const b = (o.barrier ??= { gen: 0, cur: null, closed: new Map(), arrivedIn: new Map() });
    if (e.op === 'reset' || e.op === 'abort') {
      // Whoever waits now is broken out: their arrivals order nothing.
      if (e.outcome === 'ok') {
        b.gen++;
        b.cur = null;
      }
      return;
    }
    if (e.op !== 'wait' || e.outcome !== 'ok') return;
    if (e.phase === 0) {
      if (b.cur === null) b.cur = p.clock.slice();
      else join(b.cur, p.clock);
      p.clock[p.idx]!++;
      if (e.value === undefined) {
        b.arrivedIn.set(p.pid, b.gen);
        return;
      }
      // The last to arrive departs at once: the generation is complete.
      b.closed.set(b.gen, b.cur);
      join(p.clock, b.cur);
      b.gen++;
      b.cur = null;
      return;
    }
    const g = b.arrivedIn.get(p.pid);
    if (g === undefined) return;
    b.arrivedIn.delete(p.pid);
    this.acquire(p, b.closed.get(g) ?? null);
  }

  private connection(e: DoneEvent, p: Proc, o: Obj): void {
    (o.users ??= new Set()).add(p);
    if (e.op === 'close') {
      if (e.outcome === 'ok') this.release(p, o);
      return;
    }
    if (e.op !== 'recv' || e.outcome !== 'raised' || typeof e.value !== 'string' || !e.value.startsWith('EOFError')) return;
    // End of file: every handle on the other end was closed, explicitly or by exiting.
    const peer = this.obj(o.peer ?? peerById(o.id));
    this.acquire(p, peer.clock);
    for (const u of peer.users ?? []) if (u.final !== null) join(p.clock, u.final);
  }

  private process(e: DoneEvent, p: Proc): void {
    switch (e.op) {
      case 'begin':
        this.handles.set(e.obj, e.pid);
        return;
      case 'start':
        if (e.outcome === 'ok' && this.lastSpawn !== null) this.handles.set(e.obj, this.lastSpawn.pid);
        return;
      case 'join':
      case 'isAlive': {
        if (e.outcome !== 'ok' || (e.op === 'isAlive' && e.value !== false)) return;
        const pid = this.handles.get(e.obj);
        const child = pid === undefined ? undefined : this.known(pid);
        // join(timeout) may return while the child lives: only a finished child orders anything.
        if (child?.final != null) join(p.clock, child.final);
        return;
      }
      case 'exit':
        // Python's exit handler joins the non-daemonic children.
        for (const c of p.children) if (c.final !== null) join(p.clock, c.final);
        return;
      default:
        return;
    }
  }
}

/** The other end of a pipe when no message told: the id `Pipe()` gave it (ends are made in pairs). */
function peerById(end: string): string {
  const n = Number(end.slice(end.indexOf('#') + 1));
  return `Connection#${n % 2 === 1 ? n + 1 : n - 1}`;
}

/** A stack captured where the user's code issued an operation; formatted only if reported. */
export function captureSite(): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const e = new Error('issued here');
  Error.stackTraceLimit = limit;
  return e;
}
