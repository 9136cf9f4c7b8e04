import { show } from './args.js';
import { InvariantViolation, SimulationError, misuse } from './errors.js';
import { isGeneratorObject } from './generators.js';
import { installGlobals, type RestoreGlobals } from './globals.js';
import { listenersOf, opRouteOf, wantsOf, type Listener, type Listeners, type Monitor, type MonitorContext, type OpRoute } from './monitor.js';
import { Clock } from './primitives/io.js';
import { NEXT_PHASE, NO_ARGS, Op } from './op.js';
import { SimProcess } from './process-state.js';
import { PassCount } from './passes.js';
import { createRng, subSeed, type Rng } from './rng.js';
import { PID_BASE, Schedule, THREAD_BASE } from './schedule.js';
import { Thread } from './primitives/thread.js';
import type { ChoiceContext, StepObserver, Strategy } from './strategy.js';
import type { IssueEvent, TraceEvent } from './trace.js';

/** One line of captured output. */
export interface OutputLine {
  readonly step: number;
  readonly time: number;
  readonly pid: number;
  /** Process name at the time of printing, e.g. `Process-2`. */
  readonly name: string;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** What a blocked process waits for when a run deadlocks. */
export interface BlockedProcess {
  readonly pid: number;
  readonly name: string;
  /** The operation it is stuck in, e.g. `Lock#1.acquire()`. */
  readonly op: string;
  readonly waitsOn: string;
  readonly heldBy: readonly number[];
}

/** How a run ended, before the result is assembled. */
export type Outcome =
  | { readonly status: 'ok'; readonly value: unknown }
  | { readonly status: 'error'; readonly error: unknown; readonly message: string }
  | { readonly status: 'deadlock'; readonly blocked: readonly BlockedProcess[]; readonly message: string }
  | { readonly status: 'step-limit'; readonly message: string };

/** The kernel's settings for one run, already validated. */
export interface KernelConfig {
  readonly seed: string;
  readonly strategy: Strategy;
  readonly timed: boolean;
  readonly maxSteps: number;
  readonly monitors: readonly Monitor[];
  readonly trace: boolean;
  readonly cpuCount: number;
  readonly patchGlobals: boolean;
  /** Model CPython's Queue feeder thread (put becomes visible one step later). */
  readonly queueFeeder: boolean;
  /** Virtual seconds a process creation takes (Process.start, Pool workers); 0 = instant. */
  readonly spawnCost: number;
}

const NO_CONTEXTS: readonly MonitorContext[] = [];
const NO_WATCHERS: readonly PassWatcher[] = [];

/** A monitor with a Monitor.passLimit, and its context. */
interface PassWatcher {
  readonly limit: number;
  readonly monitor: Monitor;
  readonly ctx: MonitorContext;
}

/** The one kernel that is running, if any: runs patch globals, so they cannot overlap. */
let active: Kernel | null = null;

const originalSetImmediate = globalThis.setImmediate;
const originalSetTimeout = globalThis.setTimeout;

/**
 * The discrete-event scheduler of one run. Every live process is parked on exactly
 * one pending operation; at each step the kernel asks which pending operations can
 * take effect, lets the strategy pick one process, performs its operation, and
 * resumes that process until it issues its next operation. Generator processes are
 * resumed synchronously in the loop; async processes are resumed by resolving their
 * `await`, and the loop continues when they park again (in `park`).
 *
 * @internal Users reach it through `run()`.
 */
export class Kernel implements ChoiceContext {
  readonly config: KernelConfig;
  /** Virtual seconds since the start of the run. */
  now = 0;
  /** Steps executed so far. */
  step = 0;
  /** The process whose code is running (or about to run) now. */
  current: SimProcess | null = null;
  /**
   * The process whose print step is formatting its values now: a Manager proxy or a
   * Value/Array formatted then records reads of its state, as that step's. Only
   * then — not whenever a print is pending (user code may format an object between
   * issuing a print and awaiting it; the print reads it when it runs).
   */
  printing: SimProcess | null = null;
  readonly schedule = new Schedule();
  readonly output: OutputLine[] = [];
  readonly events: TraceEvent[] | null;
  readonly processes: SimProcess[] = [];
  readonly live: SimProcess[] = [];
  main: SimProcess | null = null;

  /** Someone wants block/wake/sleep events (the trace, or a monitor that did not opt out). */
  private readonly observedBlocking: boolean;
  /** A monitor reads ProcessView.passes: each decision counts the runnable processes it passed over. */
  private readonly countsPasses: boolean;
  /** Monitors told when a process's pass-overs reach their Monitor.passLimit; empty in most runs. */
  private readonly passWatchers: readonly PassWatcher[];
  /** The lowest and highest of their limits: outside them (a process starving on and on), a pass-over concerns none of them. */
  private readonly lowestPassLimit: number;
  private readonly highestPassLimit: number;
  /** Someone wants access events: primitives skip naming the location when nobody does. */
  readonly tracksAccesses: boolean;
  /** Per event type, whether the trace or a monitor wants it: an event nobody wants is not built. */
  private readonly wants: Readonly<Record<TraceEvent['type'], boolean>>;
  /** Per event type, the monitors it goes to (Monitor.events). */
  private readonly listeners: Listeners;
  /** The access events of accesses that take no lock go to these (Monitor.accesses); `listeners.access` get the rest. */
  private readonly plainAccess: readonly Listener[];
  /** Per operation, for monitors that narrow by it (Monitor.ops); null when none of a type's does. */
  private readonly issueRoute: OpRoute | null;
  private readonly doneRoute: OpRoute | null;
  private readonly blockRoute: OpRoute | null;
  private readonly wakeRoute: OpRoute | null;
  private readonly ids = new Map<string, number>();
  private nextPid = PID_BASE;
  private nextTid = THREAD_BASE;
  /** Processes by `pid - PID_BASE` (dense: a monitor may ask `issued(pid)` at every access); threads by pid. */
  private readonly byPid: SimProcess[] = [];
  /** Created with the first thread: most runs start none. */
  private threadsByPid: Map<number, SimProcess> | null = null;
  /** What the next scheduling turn fills; then it becomes `chosenFrom`, and `chosenFrom` the next buffer. */
  private enabledBuf: SimProcess[] = [];
  /** The processes the latest decision chose among (MonitorContext.enabled): complete even while the next turn fills its buffer. */
  private chosenFrom: SimProcess[] = [];
  /** An async process that was resumed and has not parked or finished yet. */
  private awaiting: SimProcess | null = null;
  private outcome: Outcome | null = null;
  /** Set by a monitor's `fail` (or a monitor that threw): ends the run after the current step. */
  private violation: Error | null = null;
  private restoreGlobals: RestoreGlobals | null = null;
  private onFinish: ((o: Outcome) => void) | null = null;
  private mainValue: unknown = undefined;
  private messages = 0;
  private kernelRng: Rng | null = null;
  private readonly observer: StepObserver | null;
  /** One context per monitor, so a failure names the monitor that raised it. */
  private readonly monitorCtxs: readonly MonitorContext[];

  constructor(config: KernelConfig) {
    this.config = config;
    // Most runs of an exploration have no monitors: they share the empty tables
    // rather than allocate a handful of empty arrays per run.
    const monitored = config.monitors.length > 0;
    this.monitorCtxs = !monitored ? NO_CONTEXTS : config.monitors.map((m) => ({
      fail: (message: string) => {
        this.violation ??= new InvariantViolation(m.name, message);
      },
      enabled: () => this.chosenFrom,
      issued: (pid: number) => this.issueEventOf(pid),
      operation: (pid: number) => this.processOf(pid)?.lastOp ?? null,
    }));
    const listeners = listenersOf(config.monitors, this.monitorCtxs, config.trace);
    const wants = wantsOf(listeners, config.trace);
    this.listeners = listeners;
    const locked = (l: Listener): boolean => l.monitor.accesses === 'locked';
    this.plainAccess = config.trace || !listeners.access.some(locked) ? listeners.access : listeners.access.filter((l) => !locked(l));
    this.issueRoute = opRouteOf(listeners, 'issue', config.trace);
    this.doneRoute = opRouteOf(listeners, 'done', config.trace);
    this.blockRoute = opRouteOf(listeners, 'block', config.trace);
    this.wakeRoute = opRouteOf(listeners, 'wake', config.trace);
    this.wants = wants;
    this.observedBlocking = wants.block || wants.wake || wants.sleep;
    this.passWatchers = !monitored ? NO_WATCHERS : config.monitors.flatMap((monitor, i) => (monitor.passLimit === undefined ? [] : [{ limit: monitor.passLimit, monitor, ctx: this.monitorCtxs[i]! }]));
    this.lowestPassLimit = !monitored ? Infinity : Math.min(...this.passWatchers.map((w) => w.limit));
    this.highestPassLimit = !monitored ? -Infinity : Math.max(...this.passWatchers.map((w) => w.limit));
    this.countsPasses = this.passWatchers.length > 0 || config.monitors.some((m) => m.passes === true);
    this.tracksAccesses = wants.access;
    this.events = config.trace ? [] : null;
    this.observer = config.strategy.observer ?? null;
  }

  /** ChoiceContext: the virtual time. */
  get time(): number {
    return this.now;
  }

  get ended(): boolean {
    return this.outcome !== null;
  }

  /** Deterministic object ids: `Lock#1`, `Lock#2`, `Queue#1`... */
  newId(kind: string): string {
    const n = (this.ids.get(kind) ?? 0) + 1;
    this.ids.set(kind, n);
    return `${kind}#${n}`;
  }

  /** `Process-2 (pid 1002)` for a pid of this run. */
  labelOf(pid: number): string {
    return this.processOf(pid)?.label ?? `pid ${pid}`;
  }

  allocatePid(): number {
    return this.nextPid++;
  }

  /**
   * Start a background thread of `owner` (a Queue's feeder, a Pool's result
   * handler). Threads are scheduled like processes, under ids from THREAD_BASE up so
   * process pids stay 1000, 1001, ...; they never keep a run alive and die with
   * their owner, whose exit waits until none of them can run.
   */
  startThread(owner: SimProcess, name: string, body: () => unknown): SimProcess {
    const t = new SimProcess(this.nextTid++, name, true, owner, new Thread(this), owner.identity, body, owner);
    owner.threads.push(t);
    this.admit(t);
    if (this.wants['thread-start']) {
      // In the step of the process that needed it (the owner, or a worker whose exit
      // made the pool start its worker handler): the thread's start is ordered after it.
      const by = this.current ?? owner;
      this.emit({ type: 'thread-start', step: this.step, time: this.now, pid: by.pid, thread: t.pid, name, owner: owner.pid });
    }
    return t;
  }

  /** `reader` saw that `child` had exited (its `exitcode` getter): traced, not a step. */
  reaped(child: SimProcess): void {
    const reader = this.current;
    if (reader === null || this.outcome !== null || !this.wants.reap) return;
    this.emit({ type: 'reap', step: this.step, time: this.now, pid: reader.pid, child: child.pid, exitcode: child.exitcode ?? 0 });
  }

  /** `p` entered or left a block its code declares atomic (`world.atomic`): traced, not a step. */
  markAtomic(p: SimProcess, type: 'atomic-begin' | 'atomic-end', label: string): void {
    if (this.outcome !== null || !this.wants[type]) return;
    this.emit({ type, step: this.step, time: this.now, pid: p.pid, label });
  }

  /** A process's private random stream: its draws never shift another's. */
  rngOf(p: SimProcess | null): Rng {
    if (p === null) return (this.kernelRng ??= createRng(subSeed(this.config.seed, 'kernel')));
    return (p.rng ??= createRng(subSeed(this.config.seed, `random/${p.pid}`)));
  }

  /** The process running now; operations and process-local APIs need one. */
  requireCurrent(api: string): SimProcess {
    const p = this.current;
    // After the run ended this is OUTSIDE_PROCESS, not STALE_OBJECT: `os.getpid()` or
    // `print()` kept past run() is a call from outside any process, not an object
    // misuse (STALE_OBJECT's advice, "create objects inside the body", does not apply).
    if (p === null || this.outcome !== null) {
      throw misuse(
        'OUTSIDE_PROCESS',
        `${api} was called outside a running simulated process${this.outcome === null ? '' : ' (its run has already ended)'}.`,
        'call it from the program body or from a process target, while the run is in progress; ' +
          'do not keep the world (mp, time, random, os, print) for use after run() returns.',
      );
    }
    return p;
  }

  // ---------------------------------------------------------------- running

  /** Start the run; `done` receives the outcome (synchronously for generator-only programs). */
  start(main: SimProcess, done: (o: Outcome) => void): void {
    if (active !== null) {
      throw misuse(
        'CONCURRENT_RUN',
        'run() or runSync() was called while another simulation run is in progress.',
        'await each run() before starting the next (runs patch Math.random and Date, so they cannot overlap).',
      );
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the module-level registry of the one active run
    active = this;
    this.onFinish = done;
    try {
      if (this.config.patchGlobals) this.restoreGlobals = installGlobals(this);
      // Loops, here and in finish, not forEach: its callback would be a closure allocated per run.
      const monitors = this.config.monitors;
      for (let i = 0; i < monitors.length; i++) monitors[i]!.onStart?.(this.monitorCtxs[i]!);
      this.main = main;
      this.admit(main);
      this.loop();
    } catch (e) {
      // User code called from here (a monitor's onStart or onEvent) threw. End the run
      // with that error: escaping instead left this run registered as active, so every
      // later run() failed with CONCURRENT_RUN, and Math.random/Date stayed patched.
      this.fail(e);
    }
  }

  /** Register a process and park it on its first step (running its body). */
  admit(p: SimProcess): void {
    this.processes.push(p);
    if (p.pid >= THREAD_BASE) (this.threadsByPid ??= new Map()).set(p.pid, p);
    else this.byPid[p.pid - PID_BASE] = p;
    // Keep `live` sorted by pid: strategies see runnable processes in pid order. Moved
    // by hand: splice allocates an array of what it removed, at every process start.
    const live = this.live;
    let i = live.length;
    live.push(p);
    for (; i > 0 && live[i - 1]!.pid > p.pid; i--) live[i] = live[i - 1]!;
    live[i] = p;
    p.pending = new Op(p.handle, 'begin', NO_ARGS, Infinity, p);
    // Not issued (no issue event, `lastOp` stays null), but waiting to run from now.
    p.issuedStep = this.step;
    p.issuedTime = this.now;
  }

  /**
   * Called from an operation's constructor: the running process issues `op`.
   * Returns the issuing process.
   */
  issue(op: Op<unknown>): SimProcess {
    if (op.obj.kernel !== this || this.outcome !== null) throw staleObject(op.toString());
    const p = this.current;
    if (p === null) {
      throw misuse(
        'OUTSIDE_PROCESS',
        `${op.toString()} was called outside a running simulated process.`,
        'call operations from the program body or a process target while the run is in progress.',
      );
    }
    if (p.pending !== null) {
      throw misuse(
        'FORGOTTEN_AWAIT',
        `${p.label} called ${op.toString()} while its previous operation ${p.pending.toString()} was never awaited.`,
        'put `await` (async process) or `yield*` (generator process) before every Interleave operation; ' +
          'the @typescript-eslint/no-floating-promises lint rule catches this at edit time.',
      );
    }
    this.issued(p, op);
    return p;
  }

  /**
   * `op` is `p`'s next operation. Its issue event is built now only if the trace or a
   * monitor listens for issue events; a monitor that needs one now and then asks
   * {@link MonitorContext.issued}, which builds it from what is kept here.
   */
  private issued(p: SimProcess, op: Op<unknown>): void {
    p.pending = op;
    p.lastOp = op;
    p.issuedStep = this.step;
    p.issuedTime = this.now;
    const to = !this.wants.issue ? null : this.issueRoute === null ? this.listeners.issue : this.issueRoute.of(op);
    if (to !== null && (to.length > 0 || this.events !== null)) {
      const e: IssueEvent = { type: 'issue', step: this.step, time: this.now, pid: p.pid, obj: op.obj.id, op: op.name, args: op.args };
      p.issueEvent = e;
      this.deliver(to, e);
    } else {
      p.issueEvent = null;
    }
  }

  private processOf(pid: number): SimProcess | undefined {
    return pid >= THREAD_BASE ? this.threadsByPid?.get(pid) : this.byPid[pid - PID_BASE];
  }

  /** MonitorContext.issued: the issue event of `pid`'s latest operation, the one traced if it was. */
  private issueEventOf(pid: number): IssueEvent | null {
    const p = this.processOf(pid);
    const op = p?.lastOp;
    if (p === undefined || op == null) return null;
    return (p.issueEvent ??= { type: 'issue', step: p.issuedStep, time: p.issuedTime, pid, obj: op.obj.id, op: op.name, args: op.args });
  }

  /** Called when an async process awaits its pending operation: it has stopped running. */
  park(op: Op<unknown>, resolve: (v: unknown) => unknown, reject: (e: unknown) => unknown): void {
    if (this.outcome !== null) return;
    const p = op.proc;
    if (p.pending !== op) {
      this.fail(
        misuse(
          'AWAITED_TWICE',
          `${p.label} awaited ${op.toString()} after it had already completed.`,
          'await each operation exactly once; call the method again for a new operation.',
        ),
      );
      return;
    }
    if (p.resolve !== null || p.gen !== null) {
      this.fail(
        misuse(
          'AWAITED_TWICE',
          `${p.label} awaited ${op.toString()} twice (or awaited it from a generator process).`,
          'await each operation exactly once; in a generator process use `yield*` instead of await.',
        ),
      );
      return;
    }
    p.resolve = resolve;
    p.reject = reject;
    if (this.awaiting === p) {
      this.awaiting = null;
      this.loop();
    }
  }

  /** The scheduling loop. Returns when the run ends or an async process must be awaited. */
  private loop(): void {
    const live = this.live;
    const strategy = this.config.strategy;
    const blockingObserved = this.observedBlocking;
    while (this.outcome === null) {
      if (this.violation !== null) {
        this.fail(this.violation);
        return;
      }
      const enabled = this.enabledBuf;
      // Overwrite in place and set the length only when it changed: truncating the
      // array at every step cost a few per cent of a step.
      let count = 0;
      const now = this.now;
      for (let i = 0; i < live.length; i++) {
        const p = live[i]!;
        const op = p.pending!;
        if (op.obj.ready(op)) {
          enabled[count++] = p;
          if (p.blocked) {
            p.blocked = false;
            if (blockingObserved) {
              const to = this.wakeRoute === null ? this.listeners.wake : this.wakeRoute.of(op);
              if (to.length > 0 || this.events !== null) this.deliver(to, { type: 'wake', step: this.step, time: now, pid: p.pid, obj: op.obj.id, op: op.name });
            }
          }
        } else if (!p.blocked) {
          p.blocked = true;
          if (blockingObserved) this.emitBlock(p, op);
        }
      }
      if (enabled.length !== count) enabled.length = count;
      this.enabledBuf = this.chosenFrom;
      this.chosenFrom = enabled;
      let chosen: SimProcess;
      if (enabled.length === 0) {
        if (!this.advanceClock()) return;
        continue;
      }
      // Check the step limit before consulting the strategy: checking it after the
      // choice recorded a choice for a step that never ran (a phantom last entry in
      // result.schedule, and a strategy call with no step after it).
      if (this.step >= this.config.maxSteps) {
        this.finishStepLimit();
        return;
      }
      if (enabled.length === 1) {
        chosen = enabled[0]!;
      } else {
        let i: number;
        try {
          i = strategy.choose(enabled, this);
        } catch (e) {
          this.fail(e); // e.g. a replayed schedule that diverged
          return;
        }
        const pick = enabled[i];
        if (pick === undefined) {
          this.fail(
            misuse(
              'BAD_STRATEGY_CHOICE',
              `Strategy "${strategy.name}" chose index ${String(i)} among ${enabled.length} runnable processes at step ${this.step}.`,
              `return an integer in [0, ${enabled.length - 1}] from Strategy.choose().`,
            ),
          );
          return;
        }
        chosen = pick;
        this.schedule.push(chosen.pid);
        if (this.countsPasses) this.passOver(enabled, chosen);
      }
      if (this.execute(chosen)) return;
    }
  }

  /** The coming step runs `chosen`: every other process of `enabled` is passed over. */
  private passOver(enabled: readonly SimProcess[], chosen: SimProcess): void {
    const step = this.step + 1;
    const decision = this.schedule.length - 1;
    const at = this.schedule.lastChoiceAt;
    for (let i = 0; i < enabled.length; i++) {
      const p = enabled[i]!;
      if (p === chosen) continue;
      const c = (p.passCount ??= new PassCount(this.schedule));
      c.pass(p.steps, p.issuedStep, p.issuedTime, step, decision, at);
      if (c.count >= this.lowestPassLimit && c.count <= this.highestPassLimit) this.passLimitReached(p, c.count, step);
    }
  }

  /** `p` has just been passed over for the `count`-th time in its wait, at the decision for `step`. */
  private passLimitReached(p: SimProcess, count: number, step: number): void {
    const at = { step, time: this.now };
    for (const w of this.passWatchers) {
      if (w.limit !== count) continue;
      try {
        w.monitor.onPassLimit!(p, at, w.ctx);
      } catch (err) {
        this.violation ??= monitorThrew(w.monitor, 'onPassLimit', err);
      }
    }
  }

  /**
   * Perform `p`'s pending operation as one step and resume `p`. Returns true when
   * `p` is an async process that must now be awaited.
   */
  private execute(p: SimProcess): boolean {
    const op = p.pending!;
    this.observer?.beforeStep(p, op);
    this.step++;
    p.steps++;
    this.current = p;
    let value: unknown;
    let threw = false;
    try {
      value = op.obj.perform(op);
    } catch (e) {
      // Python exceptions, and errors from user callbacks run inside an operation
      // (a waitFor predicate, a Barrier action), belong to the process.
      if (e instanceof SimulationError) {
        this.fail(e);
        return false;
      }
      threw = true;
      value = e;
    }
    const to = !this.wants.done ? null : this.doneRoute === null ? this.listeners.done : this.doneRoute.of(op);
    if (to !== null && (to.length > 0 || this.events !== null)) {
      this.deliver(to, {
        type: 'done',
        step: this.step,
        time: this.now,
        pid: p.pid,
        obj: op.obj.id,
        op: op.name,
        phase: op.phase,
        outcome: threw ? 'raised' : 'ok',
        value: threw ? `${(value as Error).name}: ${(value as Error).message}` : value === NEXT_PHASE ? undefined : value,
      });
    }
    if (value === NEXT_PHASE) {
      op.phase++;
      return false;
    }
    if (p.done || this.outcome !== null) return false;
    p.pending = null;
    if (!p.started) return this.startBody(p);
    if (p.bodyEnded) {
      // The exit wait for non-daemon children completed.
      this.finalizeExit(p);
      return false;
    }
    if (p.gen !== null) {
      this.resumeGenerator(p, threw, value);
      return false;
    }
    const settle = threw ? p.reject! : p.resolve!;
    p.resolve = p.reject = null;
    this.awaiting = p;
    this.armWatchdog();
    settle(value);
    return true;
  }

  private startBody(p: SimProcess): boolean {
    p.started = true;
    let result: unknown;
    try {
      result = p.body();
    } catch (e) {
      this.bodyEnded(p, true, e);
      return false;
    }
    if (isGeneratorObject(result)) {
      p.gen = result;
      this.resumeGenerator(p, false, undefined);
      return false;
    }
    if (isThenable(result)) {
      this.awaiting = p;
      this.armWatchdog();
      result.then(
        (v) => this.asyncBodySettled(p, false, v),
        (e: unknown) => this.asyncBodySettled(p, true, e),
      );
      return true;
    }
    this.bodyEnded(p, false, result);
    return false;
  }

  private resumeGenerator(p: SimProcess, threw: boolean, value: unknown): void {
    let r: IteratorResult<unknown, unknown>;
    try {
      r = threw ? p.gen!.throw(value) : p.gen!.next(value);
    } catch (e) {
      this.bodyEnded(p, true, e);
      return;
    }
    if (r.done === true) {
      this.bodyEnded(p, false, r.value);
    } else if (p.pending === null || r.value !== p.pending) {
      this.fail(
        misuse(
          'NOT_AN_OPERATION',
          `${p.label} yielded ${show(r.value)}, which is not the Interleave operation it issued.`,
          'in a generator process write `yield* op` for every operation (e.g. `yield* lock.acquire()`); ' +
            'do not yield plain values.',
        ),
      );
    }
  }

  private asyncBodySettled(p: SimProcess, threw: boolean, value: unknown): void {
    if (this.outcome !== null || p.done) return;
    if (this.awaiting === p) this.awaiting = null;
    this.bodyEnded(p, threw, value);
    this.loop();
  }

  /** The user's code of `p` returned or threw. */
  private bodyEnded(p: SimProcess, threw: boolean, value: unknown): void {
    if (this.outcome !== null) return;
    p.bodyEnded = true;
    if (!threw && p.pending !== null) {
      threw = true;
      value = misuse(
        'FORGOTTEN_AWAIT',
        `${p.label} finished while its operation ${p.pending.toString()} was never awaited.`,
        'put `await` (async process) or `yield*` (generator process) before every Interleave operation.',
      );
    }
    p.pending = null;
    if (threw) {
      // Misuse of the simulator fails the run wherever it happens; so does an
      // exception escaping the main process. A child just exits with code 1.
      if (value instanceof SimulationError || p === this.main) {
        this.fail(value);
        return;
      }
      p.error = value;
      p.exitStatus = 1;
      this.writeTraceback(p, value);
    } else if (p === this.main) {
      this.mainValue = value;
    }
    // As Python's exit handler does: terminate daemonic children, then wait for the rest.
    for (const c of p.children) if (!c.done && c.daemon) this.kill(c);
    if (!p.mayExit()) {
      // Issued like any operation: a monitor sees the code end without asking for block events.
      this.issued(p, new Op(p.handle, 'exit', NO_ARGS, Infinity, p));
    } else {
      this.finalizeExit(p);
    }
  }

  private finalizeExit(p: SimProcess): void {
    this.retire(p, p.exitStatus, p.exitStatus === 0 ? 'returned' : 'raised');
  }

  /** Terminate `p` (SIGTERM): it stops where it is, holding whatever it held. */
  kill(p: SimProcess): void {
    if (p.done) return;
    p.pending = null;
    p.resolve = p.reject = null;
    this.retire(p, -15, 'terminated');
  }

  private retire(p: SimProcess, exitcode: number, reason: 'returned' | 'raised' | 'terminated'): void {
    p.done = true;
    p.exitcode = exitcode;
    p.pending = null;
    const live = this.live;
    const i = live.indexOf(p);
    if (i >= 0) {
      // By hand, as in admit: no array of the removed process per exit.
      for (let j = i + 1; j < live.length; j++) live[j - 1] = live[j]!;
      live.pop();
    }
    if (this.wants.exit) this.emit({ type: 'exit', step: this.step, time: this.now, pid: p.pid, exitcode, reason });
    this.observer?.ended(p);
    for (const t of p.threads) if (!t.done) this.retire(t, 0, 'terminated');
    for (const f of p.finalizers) f();
  }

  private writeTraceback(p: SimProcess, error: unknown): void {
    const e = error as Error;
    this.write(p, 'stderr', `Process ${p.name}:`);
    this.write(p, 'stderr', 'Traceback (most recent call last):');
    this.write(p, 'stderr', `${e.name}: ${e.message}`);
  }

  /** Record a shared-data access made by the operation being performed. */
  access(p: SimProcess, obj: string, loc: string, kind: 'read' | 'write', value: unknown, atomic: boolean, lock?: string): void {
    // Two literals, not a spread: access events are the most frequent kind on shared-memory programs.
    if (lock === undefined) {
      const to = this.plainAccess;
      if (to.length > 0 || this.events !== null) this.deliver(to, { type: 'access', step: this.step, time: this.now, pid: p.pid, obj, loc, kind, value, atomic });
    } else if (this.wants.access) {
      this.deliver(this.listeners.access, { type: 'access', step: this.step, time: this.now, pid: p.pid, obj, loc, kind, value, atomic, lock });
    }
  }

  /** Record a message entering a channel; returns its run-unique id for the matching receive. */
  send(p: SimProcess, obj: string, value: unknown): number {
    const msg = ++this.messages;
    if (this.wants.send) this.emit({ type: 'send', step: this.step, time: this.now, pid: p.pid, obj, msg, value });
    return msg;
  }

  /** Record a message leaving a channel. */
  receive(p: SimProcess, obj: string, msg: number, value: unknown): void {
    if (this.wants.recv) this.emit({ type: 'recv', step: this.step, time: this.now, pid: p.pid, obj, msg, value });
  }

  emitSpawn(parent: SimProcess, child: SimProcess): void {
    if (this.wants.spawn) {
      this.emit({ type: 'spawn', step: this.step, time: this.now, pid: parent.pid, child: child.pid, name: child.name, daemon: child.daemon });
    }
  }

  /** Append a line of output (the effect of a print operation). */
  write(p: SimProcess, stream: 'stdout' | 'stderr', text: string): void {
    this.output.push({ step: this.step, time: this.now, pid: p.pid, name: p.name, stream, text });
    if (this.wants.print) this.emit({ type: 'print', step: this.step, time: this.now, pid: p.pid, stream, text });
  }

  /** Nothing can run: jump the clock to the next timer, or end the run. Returns true to continue. */
  private advanceClock(): boolean {
    const live = this.live;
    if (live.length === 0) {
      this.finish({ status: 'ok', value: this.mainValue });
      return false;
    }
    // Deadlines already passed belong to operations that still cannot proceed
    // (a timed-out Condition.wait waiting for its lock): they are not timers.
    let next = Infinity;
    const now = this.now;
    for (const p of live) {
      const d = p.pending!.deadline;
      if (d > now && d < next) next = d;
    }
    if (next === Infinity) {
      this.finishDeadlock();
      return false;
    }
    const from = this.now;
    this.now = next;
    if (this.wants.clock) this.emit({ type: 'clock', step: this.step, time: next, pid: 0, from });
    return true;
  }

  private finishDeadlock(): void {
    const blocked: BlockedProcess[] = this.live.map((p) => {
      const op = p.pending!;
      const info = op.obj.waitInfo(op);
      return { pid: p.pid, name: p.name, op: op.toString(), waitsOn: info.waitsOn, heldBy: info.heldBy };
    });
    const lines = blocked.map((b) => `  ${b.name} (pid ${b.pid}) is blocked in ${b.op}: ${b.waitsOn}`);
    this.finish({
      status: 'deadlock',
      blocked,
      message:
        `Deadlock at step ${this.step} (t=${fmtTime(this.now)}): every live process is blocked and no timer is pending.\n` +
        lines.join('\n'),
    });
  }

  private finishStepLimit(): void {
    const busiest = [...this.live].sort((a, b) => b.steps - a.steps || a.pid - b.pid).slice(0, 3);
    this.finish({
      status: 'step-limit',
      message:
        `The run did not terminate within ${this.config.maxSteps} steps (t=${fmtTime(this.now)}). ` +
        `Still running: ${busiest.map((p) => `${p.label} after ${p.steps} steps, next ${p.pending!.toString()}`).join('; ')}` +
        (this.live.length > busiest.length ? ` and ${this.live.length - busiest.length} more` : '') +
        '.\n  How to fix: look for a loop that never exits, or raise the `maxSteps` option if the program is just long.',
    });
  }

  /** End the run with an error. */
  fail(error: unknown): void {
    if (this.outcome !== null) return;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : `Thrown value: ${String(error)}`;
    this.finish({ status: 'error', error, message });
  }

  private finish(outcome: Outcome): void {
    if (this.outcome !== null) return;
    this.outcome = outcome;
    this.current = null;
    this.awaiting = null;
    if (active === this) active = null;
    this.restoreGlobals?.();
    this.restoreGlobals = null;
    const monitors = this.config.monitors;
    for (let i = 0; i < monitors.length; i++) {
      const m = monitors[i]!;
      try {
        m.onEnd?.(this.monitorCtxs[i]!);
      } catch (e) {
        this.violation ??= monitorThrew(m, 'onEnd', e);
      }
    }
    if (outcome.status !== 'error' && this.violation !== null) {
      this.outcome = { status: 'error', error: this.violation, message: `${this.violation.name}: ${this.violation.message}` };
    }
    this.onFinish?.(this.outcome);
  }

  // ----------------------------------------------------------------- events

  private emit(e: TraceEvent): void {
    this.deliver(this.listeners[e.type], e);
  }

  /**
   * Record `e` and hand it to `to`, the monitors of its type. The frequent events'
   * callers name their list: looking it up by `e.type` reads a property of a dozen
   * shapes of event (a megamorphic load), which cost a fifth of a monitored step.
   */
  private deliver(to: readonly Listener[], e: TraceEvent): void {
    this.events?.push(e);
    for (let i = 0; i < to.length; i++) {
      const l = to[i]!;
      try {
        l.onEvent.call(l.monitor, e, l.ctx);
      } catch (err) {
        // Never let a monitor's exception land in the process that happened to run.
        this.violation ??= monitorThrew(l.monitor, 'onEvent', err);
      }
    }
  }

  private emitBlock(p: SimProcess, op: Op<unknown>): void {
    if (op.obj instanceof Clock) {
      this.deliver(this.listeners.sleep, { type: 'sleep', step: this.step, time: this.now, pid: p.pid, until: op.deadline });
      return;
    }
    const to = this.blockRoute === null ? this.listeners.block : this.blockRoute.of(op);
    if (to.length === 0 && this.events === null) return;
    const info = op.obj.waitInfo(op);
    this.deliver(to, {
      type: 'block',
      step: this.step,
      time: this.now,
      pid: p.pid,
      obj: op.obj.id,
      op: op.name,
      waitsOn: info.waitsOn,
      heldBy: info.heldBy,
    });
  }

  /** Let the stuck-process detector look once the microtask queue drains. */
  private armWatchdog(): void {
    if (!watchdogArmed) {
      watchdogArmed = true;
      originalSetImmediate(watchdog);
      originalSetTimeout(watchdog, 0);
    }
  }

  /** The watchdog found this run still going after the microtask queue drained. */
  stalled(): void {
    const p = this.awaiting;
    const who = p === null ? 'A process' : p.label;
    this.fail(
      misuse(
        'FOREIGN_AWAIT',
        `${who} awaited something outside the simulation (a real timer, I/O, or a promise that no simulated operation settles) at step ${this.step}.`,
        'inside a process await only Interleave operations (and async functions that await only them); ' +
          'use `time.sleep(seconds)` for delays and simulated primitives for communication.',
      ),
    );
  }
}

/**
 * One watchdog for all runs. A run that only awaits simulated operations completes
 * within one microtask checkpoint, so a run still active when any macrotask gets to
 * run has awaited the outside world. Shared, so it holds no run alive: a loop of
 * thousands of async runs does not keep thousands of finished kernels reachable.
 */
let watchdogArmed = false;
function watchdog(): void {
  watchdogArmed = false;
  active?.stalled();
}

function monitorThrew(m: Monitor, hook: string, e: unknown): SimulationError {
  const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return misuse('MONITOR_THREW', `Monitor "${m.name}" threw in ${hook}: ${why}.`, 'monitors must not throw; call ctx.fail(message) to fail the run.');
}

function staleObject(api: string): SimulationError {
  return misuse(
    'STALE_OBJECT',
    `${api} was used on an object from a run that has already ended.`,
    'create simulated objects inside the program body, so every run gets fresh ones.',
  );
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}

/** `1.5s` */
export function fmtTime(t: number): string {
  return `${Number(t.toFixed(6))}s`;
}
