/**
 * The happens-before engine shared by the race and lost-update checkers: vector
 * clocks per process, derived from core's event stream alone, with one edge per
 * guarantee a primitive documents (docs/checkers.md has the table):
 *
 * - `Process.start()`: parent → child; `join()`, `isAlive() === false`, reading the
 *   `exitcode` of a process that has exited, and the parent's own exit (which joins
 *   its children): child → parent. A Pool's `join()`: its workers' exits → the
 *   caller (submit → worker → result → `get` are messages, below).
 * - A background thread's start (a queue's feeder, a Pool's result or worker
 *   handler): the step that started it → the thread, as for a process.
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
 *
 * Two relations come out of one pass. `clock` orders by synchronisation alone: the
 * lost-update checker needs that, since a Manager call or a Value access must not
 * order the very read-modify-writes it judges. The race checker also counts atomic
 * accesses (through {@link HappensBefore.beforeAccess}/`afterAccess`): a
 * synchronized Value's access takes and gives back its lock (the event's `lock`),
 * a Manager proxy write releases into its location and a read acquires from it.
 * What a process learned that way is kept apart, in `atomic` (null until it learns
 * anything), and travels along every edge with `clock`: the race relation is
 * `clock ⊔ atomic`, and a program without atomic accesses pays nothing for it.
 *
 * Sleeps, timeouts, failed or non-blocking attempts (`acquire` returning false,
 * `Empty`, `Full`), `qsize`/`empty`/`full`/`poll` and `notify` create no edge.
 *
 * @internal Used by the race and lost-update checkers; not part of the API.
 */
import type { AccessEvent, DoneEvent, IssueEvent, MonitorContext, Op, ReapEvent, RecvEvent, SendEvent, SpawnEvent, ThreadStartEvent, TraceEvent } from '@interleave/core';

/** A vector clock: entry i is what is known of process index i's own clock. */
export type VC = number[];

const EMPTY: readonly string[] = [];
const EMPTY_VC: VC = [];

/** The kernel's pid of the main process; background threads have pids from 100000. */
const MAIN_PID = 1000;
const THREAD_BASE = 100_000;

/** What the engine knows of one process (or background thread). */
export class Proc {
  readonly pid: number;
  /** Dense index into vector clocks. */
  readonly idx: number;
  name: string;
  /** What it knows through synchronisation. */
  clock: VC;
  /** What it knows only through atomic accesses (race relation); null while nothing. */
  atomic: VC | null = null;
  /** Its knowledge at exit: what a join learns. */
  final: Snap | null = null;
  /** Locks held now (owner-based kinds), oldest first; replaced, never mutated, so it can be shared. */
  held: readonly string[] = EMPTY;
  /**
   * Bumped whenever it gives up a lock: a lock held at two accesses with the same
   * count was held all along in between.
   */
  holding = 0;
  /** Where the user's code issued `op` (only when sources are captured). */
  site: Error | null = null;
  readonly children: Proc[] = [];
  /**
   * A Condition wait that released its lock and has not re-acquired it yet: the
   * candidate locks (edges) and those it owned, with their RLock depth (bookkeeping).
   */
  waiting: { readonly cond: string; readonly locks: readonly Obj[]; readonly owned: readonly (readonly [Obj, number])[] } | null = null;

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
  Pool,
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
  Pool: Kind.Pool,
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
  cur: Clocks;
  readonly closed: Map<number, Clocks>;
  readonly arrivedIn: Map<number, number>;
}

/** A process's knowledge, frozen: at exit, in a message. */
export interface Snap {
  readonly c: VC;
  readonly a: VC | null;
}

/** Release clocks, for both relations: what synchronisation published, and what only atomic accesses did. */
class Clocks {
  clock: VC | null = null;
  atomic: VC | null = null;
}

/** What the engine keeps per simulated object: one record, one lookup per event. */
class Obj extends Clocks {
  readonly id: string;
  readonly kind: Kind;
  // Its release clocks (Clocks): a lock's or semaphore's releases, an Event's sets,
  // a queue's gets, a pipe end's closes.
  /** JoinableQueue: the `taskDone`s. */
  tasks: Clocks | null = null;
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
  /** Processes started by an operation on it: a Process handle's child, a Pool's workers. */
  spawned: Proc[] | null = null;

  constructor(id: string) {
    super();
    this.id = id;
    this.kind = kindOfId(id);
    this.single = [id];
    this.counted = this.kind === Kind.Queue && !id.startsWith('SimpleQueue#');
  }
}

/**
 * `into ⊔ from`: `into` itself, joined in place, or — when `from` is longer — a
 * copy of exactly `from`'s length. Growing `into` by pushes made it reallocate
 * over and over, a hundred processes' clocks a hundred entries each, and leave
 * room it never used.
 */
function joined(into: VC, from: VC): VC {
  if (into.length < from.length) {
    const out = from.slice();
    for (let i = 0; i < into.length; i++) {
      const v = into[i]!;
      if (v > out[i]!) out[i] = v;
    }
    return out;
  }
  for (let i = 0; i < from.length; i++) {
    const v = from[i]!;
    if (v > into[i]!) into[i] = v;
  }
  return into;
}

/** `into ⊔ from`, allocating `into` when there is none yet. */
function merged(into: VC | null, from: VC): VC {
  return into === null ? from.slice() : joined(into, from);
}

/**
 * `A ⊔ from` for a process's atomic clock `A`, or `A` itself when its clock `C`
 * and `A` already know all of `from`. The race relation is `C ⊔ A` wherever `A`
 * is read or passed on, and both only grow, so what `C` knows need not be copied
 * into `A`: an atomic read of a location (or a synchronized access to a lock)
 * that the process's own synchronisation already orders — the locked Manager
 * counter — allocates nothing.
 */
function learned(C: VC, A: VC | null, from: VC): VC | null {
  for (let i = 0; i < from.length; i++) {
    const v = from[i]!;
    if (v > (C[i] ?? 0) && (A === null || v > (A[i] ?? 0))) return merged(A, from);
  }
  return A;
}

function without(held: readonly string[], lock: string): readonly string[] {
  return held.length === 1 && held[0] === lock ? EMPTY : held.filter((l) => l !== lock);
}

/** An engine for the run `ctx` starts (null: a placeholder until the monitor's first run). */
export function engineFor(sources: boolean, ctx: MonitorContext | null): HappensBefore {
  return new HappensBefore({ sources, run: ctx });
}

/** Options of the engine. */
export interface EngineOptions {
  /**
   * Capture `new Error()` at every issue, for source locations in reports: the
   * monitor must then ask for issue events, which the engine needs for nothing else.
   */
  readonly sources: boolean;
  /** The context of the run it follows (null: none yet): what a report asks of it at the end. */
  readonly run: MonitorContext | null;
  /**
   * Told before the engine joins a clock into a process's synchronisation clock (an
   * acquire, a message, a join): the atomicity checker turns what is new in it into
   * edges between transactions.
   */
  readonly onJoin?: (p: Proc, from: VC) => void;
}

/**
 * Vector clocks over one run. Feed it every event with {@link event}; around each
 * access event call {@link beforeAccess} and {@link afterAccess}.
 */
export class HappensBefore {
  private readonly opts: EngineOptions;
  private readonly onJoin: ((p: Proc, from: VC) => void) | null;
  /**
   * The operation the process of the event being applied performs, or waits to
   * perform (`MonitorContext.operation` when the event happened): the monitor sets
   * it before each event, and the access records it builds name it. Asked of the
   * kernel when the event happened, not when it is applied: a monitor may apply a
   * batch of events after the processes have moved on.
   */
  op: Op<unknown> | null = null;
  /** Processes by `pid - 1000` (a dense array: the lookup is on every event); threads by pid. */
  private readonly byPid: (Proc | undefined)[] = [];
  private readonly threads = new Map<number, Proc>();
  private readonly order: Proc[] = [];
  private readonly objects = new Map<string, Obj>();
  /** Per atomic location: everything its writers knew (race relation only). */
  private readonly atomics = new Map<string, VC>();
  private readonly messages = new Map<number, { readonly snap: Snap; readonly obj: string }>();
  /** Children spawned in the current step, not yet attributed to the object whose operation spawned them. */
  private spawns: Proc[] = [];
  private spawnStep = -1;
  private last: Obj | null = null;
  private previous: Obj | null = null;

  constructor(opts: EngineOptions) {
    this.opts = opts;
    this.onJoin = opts.onJoin ?? null;
  }

  /** The process with this pid, created on first sight. */
  proc(pid: number): Proc {
    const p = pid < THREAD_BASE ? this.byPid[pid - MAIN_PID] : this.threads.get(pid);
    return p ?? this.admit(pid, pid === MAIN_PID ? 'MainProcess' : pid >= THREAD_BASE ? `Thread-${pid}` : `pid ${pid}`, null);
  }

  /**
   * The issue event of the operation `pid` issued last (MonitorContext.issued): built
   * when asked, so only for reports. The kernel's answer now, so only for the end of
   * a run, once every event has been applied.
   */
  issued(pid: number): IssueEvent | null {
    return this.opts.run === null ? null : this.opts.run.issued(pid);
  }

  /** The operation `pid` issued last (MonitorContext.operation), as {@link issued}: for the end of a run. */
  operation(pid: number): Op<unknown> | null {
    return this.opts.run === null ? null : this.opts.run.operation(pid);
  }

  /** The process making access `e`, with the locks it holds up to date for a record of it. */
  accessBy(e: AccessEvent): Proc {
    const p = this.proc(e.pid);
    if (p.waiting !== null) this.unwait(p);
    return p;
  }

  /** Whether `id` is a queue (Queue, JoinableQueue, SimpleQueue, Manager Queue). */
  isQueue(id: string): boolean {
    return this.obj(id).kind === Kind.Queue;
  }

  private admit(pid: number, name: string, parent: Proc | null): Proc {
    const idx = this.order.length;
    // The parent's entries, zeros, its own: allocated once, at its length.
    const from = parent === null ? EMPTY_VC : parent.clock;
    const clock: VC = new Array<number>(Math.max(from.length, idx + 1));
    for (let i = 0; i < clock.length; i++) clock[i] = i < from.length ? from[i]! : 0;
    clock[idx] = 1;
    const p = new Proc(pid, idx, name, clock);
    if (parent?.atomic != null) p.atomic = parent.atomic.slice();
    if (pid < THREAD_BASE) {
      while (this.byPid.length < pid - MAIN_PID) this.byPid.push(undefined);
      this.byPid[pid - MAIN_PID] = p;
    } else {
      this.threads.set(pid, p);
    }
    this.order.push(p);
    return p;
  }

  /** Two most recent objects: steps alternate between a lock and the data it guards. */
  private obj(id: string): Obj {
    const a = this.last;
    if (a !== null && a.id === id) return a;
    const b = this.previous;
    if (b !== null && b.id === id) {
      this.previous = a;
      this.last = b;
      return b;
    }
    let o = this.objects.get(id);
    if (o === undefined) this.objects.set(id, (o = new Obj(id)));
    this.previous = a;
    this.last = o;
    return o;
  }

  /** `S := S ⊔ C_p; C_p[p]++` — merge-release, sound whoever releases (both relations). */
  private release(p: Proc, s: Clocks): void {
    s.clock = merged(s.clock, p.clock);
    if (p.atomic !== null) s.atomic = merged(s.atomic, p.atomic);
    p.clock[p.idx]!++;
  }

  /** `C_p := C_p ⊔ S` (both relations). */
  private acquire(p: Proc, s: Clocks | null): void {
    if (s === null) return;
    if (s.clock !== null) {
      this.onJoin?.(p, s.clock);
      p.clock = joined(p.clock, s.clock);
    }
    if (s.atomic !== null) p.atomic = learned(p.clock, p.atomic, s.atomic);
  }

  /** `C_p := C_p ⊔ K` for a frozen knowledge (a message, an exited process). */
  private learn(p: Proc, k: Snap | null): void {
    if (k === null) return;
    this.onJoin?.(p, k.c);
    p.clock = joined(p.clock, k.c);
    if (k.a !== null) p.atomic = learned(p.clock, p.atomic, k.a);
  }

  private snap(p: Proc): Snap {
    return { c: p.clock.slice(), a: p.atomic === null ? null : p.atomic.slice() };
  }

  /**
   * Whether `p` knows epoch `c@t` in the race relation (synchronisation and atomic
   * accesses): the access it stands for happens before `p`'s next step.
   */
  knows(p: Proc, t: number, c: number): boolean {
    return c <= (p.clock[t] ?? 0) || (p.atomic !== null && c <= (p.atomic[t] ?? 0));
  }

  /**
   * Apply the ordering effect of one event (access events: see beforeAccess/afterAccess).
   * `type` is `e.type`, read once by the caller: events come in a dozen shapes, so
   * every read of a shared property is a megamorphic load, and the monitors see
   * every event of every step.
   */
  event(e: TraceEvent, type: TraceEvent['type']): void {
    switch (type) {
      case 'block':
      case 'wake':
        return;
      case 'issue':
        // Asked for only to capture where the user's code issued each operation.
        if (this.opts.sources) this.proc(e.pid).site = captureSite();
        return;
      case 'done':
        this.done(e as DoneEvent);
        return;
      case 'spawn': {
        const s = e as SpawnEvent;
        const parent = this.proc(s.pid);
        const child = this.admit(s.child, s.name, parent);
        parent.children.push(child);
        parent.clock[parent.idx]!++;
        // The operation performing this step (its done event comes next) started it.
        if (this.spawnStep !== s.step) this.spawns = [];
        this.spawnStep = s.step;
        this.spawns.push(child);
        return;
      }
      case 'send': {
        const m = e as SendEvent;
        const p = this.proc(m.pid);
        this.messages.set(m.msg, { snap: this.snap(p), obj: m.obj });
        p.clock[p.idx]!++;
        return;
      }
      case 'recv': {
        const r = e as RecvEvent;
        const p = this.proc(r.pid);
        const m = this.messages.get(r.msg);
        const o = this.obj(r.obj);
        if (m !== undefined) {
          this.learn(p, m.snap);
          // A queue item or pipe message is received once; a Pool result by every
          // get/wait/ready that observes it, so those clocks stay.
          if (o.kind === Kind.Queue || o.kind === Kind.Connection) this.messages.delete(r.msg);
          if (m.obj !== r.obj) {
            this.obj(m.obj).peer = r.obj;
            o.peer = m.obj;
          }
        }
        // A get gives back a unit of the queue's semaphore, which every put takes: the
        // bounded queue's "a put waits for room" (SimpleQueue has no semaphore).
        if (o.counted) this.release(p, o);
        return;
      }
      case 'exit': {
        const p = this.proc(e.pid);
        p.final = { c: p.clock, a: p.atomic };
        return;
      }
      case 'thread-start': {
        const t = e as ThreadStartEvent;
        const by = this.proc(t.pid);
        this.admit(t.thread, `Thread-${t.thread}`, by);
        by.clock[by.idx]!++;
        return;
      }
      case 'reap': {
        const r = e as ReapEvent;
        this.learn(this.proc(r.pid), this.proc(r.child).final);
        return;
      }
      default:
        return;
    }
  }

  /**
   * Race relation, before the check of an access: a synchronized access takes its
   * lock, an atomic read acquires its location — into `atomic`, so the lock's and
   * the location's knowledge reaches the race relation only.
   */
  beforeAccess(e: AccessEvent, p: Proc): void {
    if (!e.atomic) return;
    if (e.lock !== undefined) {
      const l = this.obj(e.lock);
      if (l.clock !== null) p.atomic = learned(p.clock, p.atomic, l.clock);
      if (l.atomic !== null) p.atomic = learned(p.clock, p.atomic, l.atomic);
    } else if (e.kind === 'read') {
      const s = this.atomics.get(e.loc);
      if (s !== undefined) p.atomic = learned(p.clock, p.atomic, s);
    }
  }

  /**
   * Race relation, after the check: a synchronized access gives its lock back, an
   * atomic write releases into its location. Call it after every checker has looked
   * at the access: the process's epoch moves on.
   */
  afterAccess(e: AccessEvent, p: Proc): void {
    if (!e.atomic) return;
    if (e.lock !== undefined) {
      const l = this.obj(e.lock);
      l.atomic = this.published(l.atomic, p);
    } else if (e.kind === 'write') {
      const s = this.atomics.get(e.loc);
      const into = this.published(s ?? null, p);
      if (into !== s) this.atomics.set(e.loc, into);
    } else {
      return;
    }
    p.clock[p.idx]!++;
  }

  /** `into ⊔ C_p ⊔ A_p`: what an atomic release of `p` leaves in a lock or a location. */
  private published(into: VC | null, p: Proc): VC {
    const c = merged(into, p.clock);
    return p.atomic === null ? c : joined(c, p.atomic);
  }

  private done(e: DoneEvent): void {
    if (this.spawnStep === e.step && this.spawns.length > 0) {
      const o = this.obj(e.obj);
      // The step's list becomes the object's, when it has none yet: one array per start().
      if (o.spawned === null) o.spawned = this.spawns;
      else o.spawned.push(...this.spawns);
      this.spawnStep = -1; // the next spawn starts a new list
    }
    // Tell an operation by its name before looking its object up: a lock's acquire and
    // release, the commonest here, first; then what moves no clock (queries, sleeps,
    // prints, and data operations when sources are captured). (`set` is also
    // Value.set: only Events count.)
    switch (e.op) {
      case 'acquire':
      case 'release':
        break;
      case 'get':
      case 'print':
      case 'sleep':
        return;
      case 'set':
        if (e.obj.charCodeAt(0) !== 69 /* E: Event, EventProxy */) return;
        break;
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
      case 'isAlive':
      case 'exit':
        break;
      default:
        return;
    }
    const p = this.proc(e.pid);
    // A Condition wait that returned at its first step (waitFor's predicate held, or
    // it timed out) never released its lock: whatever it does next other than the
    // wait's second step says so — take the bookkeeping back.
    if (p.waiting !== null && !(e.phase > 0 && e.obj === p.waiting.cond)) this.unwait(p);
    const o = this.obj(e.obj);
    switch (o.kind) {
      case Kind.Lock:
      case Kind.Semaphore:
        if (e.op === 'acquire') {
          if (e.value !== true) return; // failed or timed out: no edge
          this.acquire(p, o);
          this.took(p, o);
        } else if (e.op === 'release' && e.outcome === 'ok') {
          this.release(p, o);
          this.gave(o);
        }
        return;
      case Kind.Event:
        if (e.outcome !== 'ok') return;
        if (e.op === 'set') this.release(p, o);
        else if ((e.op === 'wait' || e.op === 'isSet') && e.value === true) this.acquire(p, o);
        return;
      case Kind.Condition:
        this.condition(e, p, o);
        return;
      case Kind.Barrier:
        this.barrier(e, p, o);
        return;
      case Kind.Queue:
        if (e.outcome !== 'ok') return; // Full, Empty: no edge
        if (e.op === 'put') this.acquire(p, o);
        else if (e.op === 'taskDone') this.release(p, (o.tasks ??= new Clocks()));
        else if (e.op === 'join') this.acquire(p, o.tasks);
        return;
      case Kind.Connection:
        this.connection(e, p, o);
        return;
      case Kind.Process:
        this.process(e, p, o);
        return;
      case Kind.Pool:
        // join() returns once every worker has exited.
        if (e.op === 'join' && e.outcome === 'ok') for (const w of o.spawned ?? []) this.learn(p, w.final);
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
    if (o.owner !== null) {
      o.owner.held = without(o.owner.held, o.id);
      o.owner.holding++;
    }
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
    owner.holding++;
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
      // undefined as it timed out: the process's next step takes that back).
      if (e.value === undefined) this.sleep(p, cond.id, locks);
      return;
    }
    // Woken (or timed out): the lock is back, released by whoever had it.
    const w = p.waiting;
    if (w === null) return;
    for (const lock of w.locks) this.acquire(p, lock);
    this.unwait(p);
    if (e.value === undefined && e.outcome === 'ok') this.sleep(p, cond.id, w.locks); // waitFor sleeps again
  }

  /**
   * The wait's first step released the lock. If the wait in fact returned at once
   * (the next step of its process is not the wait's second), `unwait` takes the
   * bookkeeping back; the release edge stays, which can only hide a race.
   */
  private sleep(p: Proc, cond: string, locks: readonly Obj[]): void {
    const owned: (readonly [Obj, number])[] = [];
    for (const lock of locks) {
      this.release(p, lock);
      if (lock.owner === p) {
        owned.push([lock, lock.count]);
        lock.count = 1;
        this.gave(lock);
      }
    }
    p.waiting = { cond, locks, owned };
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
    let b = o.barrier;
    if (b === null) b = o.barrier = { gen: 0, cur: new Clocks(), closed: new Map<number, Clocks>(), arrivedIn: new Map<number, number>() };
    if (e.op === 'reset' || e.op === 'abort') {
      // Whoever waits now is broken out: their arrivals order nothing.
      if (e.outcome === 'ok') this.nextGeneration(b);
      return;
    }
    if (e.op !== 'wait' || e.outcome !== 'ok') return;
    if (e.phase === 0) {
      this.release(p, b.cur);
      if (e.value === undefined) {
        b.arrivedIn.set(p.pid, b.gen);
        return;
      }
      // The last to arrive departs at once: the generation is complete.
      b.closed.set(b.gen, b.cur);
      this.acquire(p, b.cur);
      this.nextGeneration(b);
      return;
    }
    const g = b.arrivedIn.get(p.pid);
    if (g === undefined) return;
    b.arrivedIn.delete(p.pid);
    this.acquire(p, b.closed.get(g) ?? null);
  }

  private nextGeneration(b: BarrierState): void {
    b.gen++;
    b.cur = new Clocks();
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
    this.acquire(p, peer);
    for (const u of peer.users ?? []) this.learn(p, u.final);
  }

  private process(e: DoneEvent, p: Proc, handle: Obj): void {
    switch (e.op) {
      case 'join':
      case 'isAlive': {
        if (e.outcome !== 'ok' || (e.op === 'isAlive' && e.value !== false)) return;
        // join(timeout) may return while the child lives: only a finished child orders anything.
        this.learn(p, handle.spawned?.[0]?.final ?? null);
        return;
      }
      case 'exit':
        // Python's exit handler joins the non-daemonic children.
        for (const c of p.children) this.learn(p, c.final);
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
