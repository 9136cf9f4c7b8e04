import type { Op } from './op.js';
import type { Rng } from './rng.js';
import type { SimObject } from './op.js';
import type { IssueEvent } from './trace.js';
import type { PassCount, PassOvers } from './passes.js';

/** A process as strategies and monitors see it: read-only. */
export interface ProcessView {
  readonly pid: number;
  readonly name: string;
  /** The operation it will perform when scheduled (null only while it runs). */
  readonly pending: Op<unknown> | null;
  /** Id of its handle (`Process-1`, `MainProcess`): the location its own steps write. */
  readonly handleId: string;
  readonly done: boolean;
  /**
   * The step at which it issued its latest operation (`pending`, or while it runs the
   * one it just completed): where a wait for that operation begins. 0 before its first.
   */
  readonly issuedStep: number;
  /** The virtual time at which it issued its latest operation. */
  readonly issuedTime: number;
  /**
   * How often scheduling decisions passed it over — it could have run, another was
   * chosen — since it last ran: how many, since when, the longest run of them in a
   * row, and who ran instead. Null when none did yet, or once it has exited; counted
   * only when a monitor of the run declares `passes: true` or a `passLimit` (null
   * otherwise). The kernel's own record, which goes on counting: copy what you keep.
   *
   * @example
   * ```ts
   * // In a monitor declaring passes: true, at a done event:
   * for (const p of ctx.enabled()) if (p.passes?.count === 100) report(p.pid, p.passes.runners());
   * ```
   */
  readonly passes: PassOvers | null;
}

/** The kernel's record of one live or finished process. */
export class SimProcess implements ProcessView {
  readonly pid: number;
  readonly name: string;
  readonly daemon: boolean;
  readonly parent: SimProcess | null;
  /** The object its `begin`/`exit` steps operate on: its Process handle, or a Thread. */
  readonly handle: SimObject;
  /**
   * The process it belongs to: itself, or for a background thread (a Queue's feeder,
   * a Pool's result handler) the process that started it. `os.getpid()` is the owner's.
   */
  readonly owner: SimProcess;
  /** Background threads it started; they die with it. */
  readonly threads: SimProcess[] = [];
  /** Run when it exits or is terminated: closing its pipe ends, for instance. */
  readonly finalizers: (() => void)[] = [];
  /** Python's `_identity`: (1,) for Process-1, (1, 2) for its second child. */
  readonly identity: readonly number[];
  readonly children: SimProcess[] = [];
  /** Runs the body; called once, at the process's first step. */
  readonly body: () => unknown;

  started = false;
  /** The user's code has returned or thrown; the process may still wait for children. */
  bodyEnded = false;
  done = false;
  exitcode: number | null = null;
  /** Exit code decided when the body ended, applied once children are waited for. */
  exitStatus = 0;
  error: unknown = undefined;
  pending: Op<unknown> | null = null;
  /** Its latest operation, kept after it completes (MonitorContext.issued). */
  lastOp: Op<unknown> | null = null;
  issuedStep = 0;
  issuedTime = 0;
  /** `lastOp` as an issue event, once built (by the trace, or for a monitor that asked). */
  issueEvent: IssueEvent | null = null;
  gen: Generator<unknown, unknown, unknown> | null = null;
  resolve: ((v: unknown) => unknown) | null = null;
  reject: ((e: unknown) => unknown) | null = null;
  /** Its pass-overs, when a monitor counts them (see `passes`). */
  passCount: PassCount | null = null;
  /** Last block/wake state reported, so each transition is traced once. */
  blocked = false;
  steps = 0;
  childCount = 0;
  rng: Rng | null = null;

  constructor(
    pid: number,
    name: string,
    daemon: boolean,
    parent: SimProcess | null,
    handle: SimObject,
    identity: readonly number[],
    body: () => unknown,
    owner?: SimProcess,
  ) {
    this.pid = pid;
    this.name = name;
    this.daemon = daemon;
    this.parent = parent;
    this.handle = handle;
    this.identity = identity;
    this.body = body;
    this.owner = owner ?? this;
  }

  /**
   * Whether a process whose code has ended may exit now: as Python's exit handler,
   * it first waits for its non-daemonic children and for its queue feeder threads
   * to flush what it put (a thread that cannot run has nothing left to do).
   */
  mayExit(): boolean {
    for (const c of this.children) if (!c.done) return false;
    for (const t of this.threads) if (!t.done && t.pending!.obj.ready(t.pending!)) return false;
    return true;
  }

  get passes(): PassOvers | null {
    const c = this.passCount;
    return c !== null && c.atSteps === this.steps && !this.done ? c : null;
  }

  get handleId(): string {
    return this.handle.id;
  }

  /** Whether this is a background thread rather than a process. */
  get isThread(): boolean {
    return this.owner !== this;
  }

  /** `Process-2 (pid 1002)`, or `QueueFeederThread of Process-2 (pid 1002)`. */
  get label(): string {
    return this.isThread ? `${this.name} of ${this.owner.label}` : `${this.name} (pid ${this.pid})`;
  }
}
