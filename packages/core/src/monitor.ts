import { show } from './args.js';
import { misuse } from './errors.js';
import type { Op } from './op.js';
import type { ProcessView } from './process-state.js';
import type { RunResult } from './run.js';
import type { IssueEvent, TraceEvent } from './trace.js';

/** Handed to a monitor when a run starts. */
export interface MonitorContext {
  /**
   * Declare the run wrong: it ends after the current event with status `error`
   * and an {@link InvariantViolation} naming this monitor.
   */
  fail(message: string): void;
  /**
   * The processes the scheduler could choose from at its latest decision — during a
   * step's events, the ones the step's process was chosen among; after a deadlock,
   * none. What `block` and `wake` events tell, without asking for them: a monitor
   * that only needs to know who could run declares `blocking: false` and reads
   * this. Do not keep the array: the kernel reuses it.
   *
   * @example
   * ```ts
   * // At each step, who was passed over.
   * onEvent(e, ctx) {
   *   if (e.type === 'done') for (const p of ctx.enabled()) if (p.pid !== e.pid) passed(p.pid);
   * }
   * ```
   */
  enabled(): readonly ProcessView[];
  /**
   * The `issue` event of the latest operation process `pid` issued — its pending one,
   * or while it runs the one it just completed — or null before its first (or for a
   * pid this run does not know). Built when asked (the same object each time, and the
   * same the trace holds), so a monitor that needs a process's operation only now
   * and then — for a report, at the end of a run — need not take an issue event at
   * every step. Where a wait begins is cheaper still: `ProcessView.issuedStep`.
   *
   * @example
   * ```ts
   * onEnd(ctx) {
   *   const op = ctx.issued(1001);
   *   if (op !== null) report(`Process-1 was last in ${op.obj}.${op.op}()`);
   * }
   * ```
   */
  issued(pid: number): IssueEvent | null;
  /**
   * The operation itself behind {@link issued}: the `Op` process `pid` issued last,
   * or null before its first (or for a pid this run does not know). Nothing is
   * built: the same object for as long as it is that process's latest operation,
   * so two calls name one operation exactly when they return the same object.
   *
   * When to use: a monitor that records the operation behind many events (every
   * shared-data access, say) and describes only a few of them later. `issued`
   * builds an event the first time it is asked for each operation; this does not.
   *
   * @example
   * ```ts
   * onEvent(e, ctx) {
   *   if (e.type === 'access') lastBy.set(e.pid, ctx.operation(e.pid)); // later: `${op.objectId}.${op.name}(…)`
   * }
   * ```
   */
  operation(pid: number): Op<unknown> | null;
}

/**
 * Observes the event stream of a run. The checkers package provides monitors for
 * races, lost updates and deadlocks; any object with `onEvent` is one.
 *
 * @example
 * ```ts
 * let inside = 0;
 * const capacity: Monitor = {
 *   name: 'ktv-capacity',
 *   onEvent(e, ctx) {
 *     if (e.type === 'print' && e.text.includes('in')) inside++;
 *     if (inside > 4) ctx.fail(`${inside} people inside`);
 *   },
 * };
 * await run(ktv, { monitors: [capacity] });
 * ```
 */
export interface Monitor {
  readonly name: string;
  /**
   * Whether the monitor needs `block`, `wake` and `sleep` events. Default true. These
   * are the costly ones: when a lock with n waiters is released, n processes wake and
   * n − 1 block again, so a monitor that never looks at them should say `false`.
   */
  readonly blocking?: boolean;
  /**
   * Whether the monitor reads `ProcessView.passes` — how often each process was
   * passed over in its current wait. Default false: the kernel counts pass-overs
   * (one look at each runnable process per decision) only when a monitor of the run
   * asks, and once for all of them however many do. Read once per run.
   *
   * @example
   * ```ts
   * const patience: Monitor = {
   *   name: 'patience',
   *   passes: true,
   *   events: ['done'],
   *   onEvent(e, ctx) {
   *     for (const p of ctx.enabled()) if (p.passes?.count === 50) ctx.fail(`${p.name} waited 50 turns`);
   *   },
   * };
   * ```
   */
  readonly passes?: boolean;
  /**
   * With {@link onPassLimit}: how many pass-overs in one wait make the kernel call
   * it — once per wait, at the decision that passes the process over that many
   * times. The kernel counts pass-overs then (as with `passes: true`), and the
   * monitor need not take an event at every step to watch the counts.
   *
   * @example
   * ```ts
   * const patience: Monitor = {
   *   name: 'patience',
   *   passLimit: 50,
   *   onPassLimit: (p, at, ctx) => ctx.fail(`${p.name} was passed over 50 times by step ${at.step}`),
   *   onEvent() {},
   * };
   * ```
   */
  readonly passLimit?: number;
  /**
   * Called when a process has been passed over {@link passLimit} times in its current
   * wait: `p.passes` has the details; `at` is the step being chosen for (the one that
   * passed it over) and the virtual time. Called at the decision, before that step
   * runs and before its events: a `ctx.fail` here ends the run after the step, and
   * names this monitor even if another fails during the step. Must not throw; use
   * `ctx.fail`.
   */
  onPassLimit?(p: ProcessView, at: { readonly step: number; readonly time: number }, ctx: MonitorContext): void;
  /**
   * The event types the monitor needs; default every type. The kernel does not
   * build an event that neither a monitor nor the trace wants, and calls each
   * monitor only for the types it wants — so a monitor of locks that declares
   * `['issue', 'done']` costs nothing on access events. A declaration, not a
   * filter: when the run keeps its trace, every monitor gets every event, so
   * `onEvent` still switches on `type`. `blocking: false` leaves out `block`,
   * `wake` and `sleep` even when listed here. Read once per run, before `onStart`
   * (and so is `onEvent`).
   *
   * @example
   * ```ts
   * const spawns: Monitor = { name: 'spawns', events: ['spawn'], onEvent(e) { if (e.type === 'spawn') n++; } };
   * ```
   */
  readonly events?: readonly TraceEvent['type'][];
  /**
   * The operations whose `issue`, `done`, `block` and `wake` events the monitor
   * needs, by name; default every operation. One of these comes with nearly every
   * step, so a monitor that only follows joins and process starts says
   * `['join', 'start']` and is not called at the other steps. A declaration like
   * {@link events}: when the run keeps its trace, it gets every event. Read once per
   * run, before `onStart`.
   *
   * @example
   * ```ts
   * const joins: Monitor = { name: 'joins', events: ['done'], ops: ['join'], onEvent(e) { if (e.type === 'done') joined.add(e.obj); } };
   * ```
   */
  readonly ops?: readonly string[];
  /**
   * Whether the monitor needs the `issue`, `done`, `block` and `wake` events of
   * operations on shared data — Value, Array and their raw kinds, and the Manager's
   * dict, list, namespace and value proxies — whose reads and writes `access`
   * events already tell. Default true. On a shared-memory program such operations
   * are every other step: a monitor that follows data through `access` events and
   * synchronisation through the rest says `false`, and the kernel builds none of
   * those events for it. A declaration like {@link events}: when the run keeps its
   * trace, it gets every event. Read once per run, before `onStart`.
   *
   * When to use: a happens-before or lock-discipline monitor that reads data
   * through `access` events; not one that counts a process's steps from its `done`
   * events. What it then does not see: a synchronized Value's or Array's wait for
   * its own lock (its `block` and `wake`; the lock the access took is in the access
   * event's `lock`), and a data operation that reads nothing or raises before it
   * reads (`len()` of an empty list, an index out of range), which leaves no access
   * event either.
   *
   * @example
   * ```ts
   * const hb: Monitor = { name: 'hb', dataOps: false, events: ['done', 'access'], onEvent(e) { follow(e); } };
   * ```
   */
  readonly dataOps?: boolean;
  /**
   * Which `access` events the monitor needs: `'all'` (default), or `'locked'` — only
   * those of synchronized accesses, which take a lock for their step (the event's
   * `lock`: a `Value` or `Array` made with its lock). On a shared-memory program
   * accesses are half the steps and most take no lock, so a monitor of locks that
   * follows them only for the lock they take says `'locked'`, and is not called for
   * the rest. A declaration like {@link events}: when the run keeps its trace, it
   * gets every event. Read once per run, before `onStart`.
   *
   * @example
   * ```ts
   * const locks: Monitor = { name: 'locks', accesses: 'locked', events: ['done', 'access'], onEvent(e) { if (e.type === 'access') took(e.pid, e.lock!); } };
   * ```
   */
  readonly accesses?: 'all' | 'locked';
  /** Called once per run before any event. Reset per-run state here. */
  onStart?(ctx: MonitorContext): void;
  /** Called for every event, in order. Must not throw; use `ctx.fail`. */
  onEvent(event: TraceEvent, ctx: MonitorContext): void;
  /** Called once when the run has ended. */
  onEnd?(ctx: MonitorContext): void;
  /**
   * Called by an explorer (`@interleave/sched`) after each execution it counts,
   * after `onEnd`: lets a monitor that judges a whole exploration (how many
   * executions reached a state, and a token replaying the first) tell counted
   * executions from the explorer's internal re-runs (shrinking, pruned runs).
   */
  onExecution?(execution: ExecutionInfo): void;
}

/** What an explorer tells monitors about one counted execution. */
export interface ExecutionInfo {
  /** 0-based: the how-manieth counted execution of this exploration. */
  readonly index: number;
  readonly result: RunResult;
  /** A replay token for this execution; encoded on first call. */
  token(): string;
}

/** Every event type, once: the kernel's dispatch table has one entry per key. */
const EVENT_TYPES: Readonly<Record<TraceEvent['type'], true>> = {
  spawn: true,
  issue: true,
  done: true,
  block: true,
  wake: true,
  sleep: true,
  print: true,
  exit: true,
  access: true,
  send: true,
  recv: true,
  clock: true,
  'thread-start': true,
  reap: true,
  'atomic-begin': true,
  'atomic-end': true,
};

/** @internal One monitor as the kernel calls it: `onEvent` read once per run, with the monitor's own context. */
export interface Listener {
  readonly monitor: Monitor;
  readonly onEvent: Monitor['onEvent'];
  readonly ctx: MonitorContext;
  /** `Monitor.ops`, read once: null for every operation. */
  readonly ops: ReadonlySet<string> | null;
  /** `Monitor.dataOps`, read once. */
  readonly dataOps: boolean;
}

/** @internal For each event type, the monitors it goes to, in the order they were given. */
export type Listeners = Readonly<Record<TraceEvent['type'], readonly Listener[]>>;

/**
 * @internal Who gets each event type: the monitors that want it (see
 * {@link Monitor.events} and {@link Monitor.blocking}), or every monitor when the
 * trace is kept. `ctxs[i]` is `monitors[i]`'s context.
 */
export function listenersOf(monitors: readonly Monitor[], ctxs: readonly MonitorContext[], trace: boolean): Listeners {
  // Exploration builds a kernel per execution, most without monitors: share that table.
  if (monitors.length === 0) return (noListeners ??= tableOf([], false));
  const fix = (): string => `list types from ${Object.keys(EVENT_TYPES).join(', ')}, or omit events to get all of them.`;
  for (const m of monitors) {
    const ops: unknown = m.ops;
    const fixOps = "name operations as in trace events ('acquire', 'join'), or omit ops to get all of them.";
    if (ops !== undefined && !Array.isArray(ops)) throw misuse('INVALID_OPTION', `Monitor "${m.name}": ops must be an array of operation names, got ${show(ops)}.`, fixOps);
    const badOp = Array.isArray(ops) ? ops.findIndex((o) => typeof o !== 'string') : -1;
    if (badOp >= 0) throw misuse('INVALID_OPTION', `Monitor "${m.name}": ops lists ${show((ops as unknown[])[badOp])}, which is not an operation name.`, fixOps);
    const dataOps: unknown = m.dataOps;
    if (dataOps !== undefined && typeof dataOps !== 'boolean') {
      throw misuse('INVALID_OPTION', `Monitor "${m.name}": dataOps must be true or false, got ${show(dataOps)}.`, 'set dataOps: false to leave out the events of operations on shared data (their access events stay), or omit it.');
    }
    const accesses: unknown = m.accesses;
    if (accesses !== undefined && accesses !== 'all' && accesses !== 'locked') {
      throw misuse('INVALID_OPTION', `Monitor "${m.name}": accesses must be 'all' or 'locked', got ${show(accesses)}.`, "set accesses: 'locked' to get only the access events of synchronized Values and Arrays (those with a lock), or omit it.");
    }
    const passes: unknown = m.passes;
    if (passes !== undefined && typeof passes !== 'boolean') {
      throw misuse('INVALID_OPTION', `Monitor "${m.name}": passes must be true or false, got ${show(passes)}.`, 'set passes: true to have the kernel count pass-overs (ProcessView.passes), or omit it.');
    }
    const limit: unknown = m.passLimit;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- only its type is looked at
    const onLimit: unknown = m.onPassLimit;
    const fixLimit = 'give both passLimit (how many pass-overs in one wait) and onPassLimit(p, at, ctx), or neither.';
    if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
      throw misuse('INVALID_OPTION', `Monitor "${m.name}": passLimit must be a positive whole number, got ${show(limit)}.`, fixLimit);
    }
    if (onLimit !== undefined && typeof onLimit !== 'function') {
      throw misuse('INVALID_OPTION', `Monitor "${m.name}": onPassLimit must be a function, got ${show(onLimit)}.`, fixLimit);
    }
    if ((limit === undefined) !== (onLimit === undefined)) {
      throw misuse('INVALID_OPTION', `Monitor "${m.name}": passLimit and onPassLimit come together, got ${limit === undefined ? 'no passLimit and an onPassLimit' : `passLimit ${show(limit)} and no onPassLimit`}.`, fixLimit);
    }
    const events: unknown = m.events;
    if (events === undefined) continue;
    if (!Array.isArray(events)) throw misuse('INVALID_OPTION', `Monitor "${m.name}": events must be an array of trace event types, got ${show(events)}.`, fix());
    const bad = events.findIndex((t) => typeof t !== 'string' || !Object.hasOwn(EVENT_TYPES, t));
    if (bad >= 0) throw misuse('INVALID_OPTION', `Monitor "${m.name}": events lists ${show(events[bad])}, which is not a trace event type.`, fix());
  }
  // One record per monitor, shared by its types; its handler is read here, so the
  // kernel's call site loads no `onEvent` property from a dozen classes of monitor.
  return tableOf(
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the kernel calls it with the monitor as `this`
    monitors.map((monitor, i): Listener => ({ monitor, onEvent: monitor.onEvent, ctx: ctxs[i]!, ops: monitor.ops === undefined ? null : new Set(monitor.ops), dataOps: monitor.dataOps !== false })),
    trace,
  );
}

let noListeners: Listeners | undefined;

function tableOf(all: readonly Listener[], trace: boolean): Listeners {
  const table = {} as Record<TraceEvent['type'], Listener[]>;
  for (const type of Object.keys(EVENT_TYPES) as TraceEvent['type'][]) {
    const blocking = type === 'block' || type === 'wake' || type === 'sleep';
    table[type] = all.filter(({ monitor: m }) => trace || ((m.events === undefined || m.events.includes(type)) && !(blocking && m.blocking === false)));
  }
  return table;
}

/**
 * @internal Which event types anyone listens to. Runs without monitors share one
 * answer per trace setting.
 */
export function wantsOf(listeners: Listeners, trace: boolean): Readonly<Record<TraceEvent['type'], boolean>> {
  if (listeners === noListeners) return trace ? (wantAll ??= wantsFor(listeners, true)) : (wantNone ??= wantsFor(listeners, false));
  return wantsFor(listeners, trace);
}

/** @internal The event types that name an operation, which {@link Monitor.ops} narrows. */
export type OpEventType = 'issue' | 'done' | 'block' | 'wake';

/**
 * @internal For one event type, per operation, the monitors an event of that
 * operation goes to: built on first sight of each name, apart for data operations
 * ({@link Monitor.dataOps}). A program's steps cycle through a few names (acquire,
 * get, set, release), so the first few are looked up by a scan of the names seen
 * (and the two looked up last before that); a map lookup at every step
 * would cost a tenth of a monitored step.
 */
export class OpRoute {
  private readonly sync: RouteTable;
  private readonly data: RouteTable;

  constructor(all: readonly Listener[]) {
    this.sync = new RouteTable(all);
    this.data = new RouteTable(all.filter((l) => l.dataOps));
  }

  of(op: Op<unknown>): readonly Listener[] {
    return (op.data ? this.data : this.sync).of(op.name);
  }
}

/** Routes by operation name among `all`. */
class RouteTable {
  private readonly names: string[] = [];
  private readonly routes: (readonly Listener[])[] = [];
  private readonly byOp = new Map<string, readonly Listener[]>();
  /**
   * The two names looked up last, and their routes: a lock's acquire and release
   * alternate here while the data operations between them have their own table. A
   * lookup without a loop is compiled into the kernel's step; the scan was not, and
   * cost a monitored step about 15 ns.
   */
  private name0: string | null = null;
  private route0: readonly Listener[] = NO_LISTENERS;
  private name1: string | null = null;
  private route1: readonly Listener[] = NO_LISTENERS;

  constructor(private readonly all: readonly Listener[]) {}

  of(op: string): readonly Listener[] {
    if (op === this.name0) return this.route0;
    if (op === this.name1) return this.route1;
    const to = this.scan(op);
    this.name1 = this.name0;
    this.route1 = this.route0;
    this.name0 = op;
    this.route0 = to;
    return to;
  }

  private scan(op: string): readonly Listener[] {
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === op) return this.routes[i]!;
    let to = this.byOp.get(op);
    if (to === undefined) {
      to = this.all.filter((l) => l.ops === null || l.ops.has(op));
      this.byOp.set(op, to);
      if (names.length < FAST_ROUTES) {
        names.push(op);
        this.routes.push(to);
      }
    }
    return to;
  }
}

const NO_LISTENERS: readonly Listener[] = [];

/** How many operation names an {@link OpRoute} finds by a scan: beyond that, by a map. */
const FAST_ROUTES = 8;

/** @internal The route of events of `type` by operation, or null when no monitor of them narrows by operation (or the trace hands them every event). */
export function opRouteOf(listeners: Listeners, type: OpEventType, trace: boolean): OpRoute | null {
  const all = listeners[type];
  return trace || !all.some((l) => l.ops !== null || !l.dataOps) ? null : new OpRoute(all);
}

let wantAll: Readonly<Record<TraceEvent['type'], boolean>> | undefined;
let wantNone: Readonly<Record<TraceEvent['type'], boolean>> | undefined;

function wantsFor(listeners: Listeners, trace: boolean): Record<TraceEvent['type'], boolean> {
  const wants = {} as Record<TraceEvent['type'], boolean>;
  for (const type of Object.keys(listeners) as TraceEvent['type'][]) wants[type] = trace || listeners[type].length > 0;
  return wants;
}
