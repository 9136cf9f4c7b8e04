/**
 * @internal What the deadlock, lock-order, liveness and leak checkers need to know
 * about each process, rebuilt from the event stream: names, children, the operations
 * each one issued and completed last, which handle belongs to which child. One view per run,
 * shared by every checker of that run ({@link sharedView}), so each event is applied
 * once however many checkers follow it. Who could run at a step is not here: the
 * kernel says it (`MonitorContext.enabled()`) without block and wake events, the
 * costliest ones.
 */
import type { IssueEvent, MonitorContext, TraceEvent } from '@interleave/core';
import type { FindingEvent } from './report.js';

/** The main process's pid (core's PID_BASE). */
const MAIN_PID = 1000;
/** Background threads (queue feeders) are scheduled under ids from here (core's THREAD_BASE). */
export const THREAD_PID_BASE = 100_000;

/**
 * The event types a {@link RunView} follows. A checker feeds the view the ones it
 * declares (`Monitor.events`), and reads only what those keep current: names and
 * children come from `spawn`, handles and joins from the `done` events of
 * {@link VIEW_OPS}, exits from `exit`. The operation a process performs or waits
 * to perform is the kernel's to tell ({@link RunView.issued}): an issue or done
 * event at every step would cost more than all the rest.
 */
export const VIEW_EVENTS: readonly TraceEvent['type'][] = ['spawn', 'done', 'exit'];

/** The operations whose `done` events a {@link RunView} reads (`Monitor.ops`). */
export const VIEW_OPS: readonly string[] = ['start', 'join'];

/**
 * @internal Per-pid slots in arrays rather than a Map: pids are dense from
 * {@link MAIN_PID} (processes) and from {@link THREAD_PID_BASE} (threads), and the
 * checkers look one up at nearly every event.
 */
export class PidTable<T> {
  private readonly procs: (T | undefined)[] = [];
  private readonly threads: (T | undefined)[] = [];
  /** Pid 0 (the kernel) and anything else below MAIN_PID. */
  private readonly other = new Map<number, T>();

  get(pid: number): T | undefined {
    if (pid >= THREAD_PID_BASE) return this.threads[pid - THREAD_PID_BASE];
    return pid >= MAIN_PID ? this.procs[pid - MAIN_PID] : this.other.get(pid);
  }

  set(pid: number, value: T): void {
    if (pid >= THREAD_PID_BASE) this.fill(this.threads, pid - THREAD_PID_BASE)[pid - THREAD_PID_BASE] = value;
    else if (pid >= MAIN_PID) this.fill(this.procs, pid - MAIN_PID)[pid - MAIN_PID] = value;
    else this.other.set(pid, value);
  }

  /** Grow `list` with explicit `undefined`s up to `i`: a holey array would be slower to read. */
  private fill(list: (T | undefined)[], i: number): (T | undefined)[] {
    while (list.length < i) list.push(undefined);
    return list;
  }
}

/** @internal One process (or background thread) as the event stream shows it. */
export class ProcInfo {
  /** Its Process handle's id (`Process-1`), once its `start()` completed. */
  handle: string | null = null;
  live = true;
  exited: { readonly step: number; readonly time: number; readonly reason: 'returned' | 'raised' | 'terminated'; readonly exitcode: number } | null = null;
  /** Joined by its parent (a `join` that returned after it exited). */
  joined = false;
  readonly children: number[] = [];

  constructor(
    readonly pid: number,
    readonly name: string,
    readonly daemon: boolean,
  ) {}
}

/**
 * @internal Follows one run's events. Call {@link see} for every event the checker
 * gets, in order (types outside {@link VIEW_EVENTS} only move `step` and `time`);
 * an event already applied (by another checker sharing the view) is skipped.
 */
export class RunView {
  private last: TraceEvent | null = null;
  /** The run's kernel, for pending operations; null for a view that follows no run. */
  private ctx: MonitorContext | null = null;
  private readonly procs = new PidTable<ProcInfo>();
  private readonly all: ProcInfo[] = [];
  private readonly byHandle = new Map<string, number>();
  private readonly lastSpawn = new Map<number, number>();

  constructor(ctx?: MonitorContext) {
    this.ctx = ctx ?? null;
    this.add(MAIN_PID, 'MainProcess', false).handle = 'MainProcess';
    this.byHandle.set('MainProcess', MAIN_PID);
  }

  /** Follow the run of `ctx` (a view that saw no event of the previous run is handed to the next). */
  follow(ctx: MonitorContext): void {
    this.ctx = ctx;
  }

  /** Whether an event has been applied yet: a view that has is no longer shared with the next run. */
  get started(): boolean {
    return this.last !== null;
  }

  /** Step of the last event seen. */
  get step(): number {
    return this.last === null ? 0 : this.last.step;
  }

  /** Virtual time of the last event seen. */
  get time(): number {
    return this.last === null ? 0 : this.last.time;
  }

  /** The process's record, created on first sight (background threads are not announced). */
  proc(pid: number): ProcInfo {
    return this.procs.get(pid) ?? this.add(pid, defaultName(pid), true);
  }

  /** `Process-2 (pid 1002)` */
  label(pid: number): string {
    const name = this.procs.get(pid)?.name;
    if (name === undefined && pid < THREAD_PID_BASE) return `pid ${pid}`;
    return `${name ?? defaultName(pid)} (pid ${pid})`;
  }

  /** The operation `pid` issued last (it stays after the operation completes, until the next); null before its first. */
  issued(pid: number): IssueEvent | null {
    return this.ctx === null ? null : this.ctx.issued(pid);
  }

  /** The pid of the child whose handle has this id (`Process-1`), if started. */
  pidOfHandle(handle: string): number | undefined {
    return this.byHandle.get(handle);
  }

  /** Every process and thread seen, in order of appearance. */
  processes(): readonly ProcInfo[] {
    return this.all;
  }

  /** Whether the main process's code ran to the end and every process exited: the run ended `ok`. */
  get allExited(): boolean {
    for (const p of this.all) if (p.live && p.pid < THREAD_PID_BASE) return false;
    return this.proc(MAIN_PID).exited !== null;
  }

  /** A finding event for `pid` doing `op` at the current (or given) step. */
  at(pid: number, op: string, note?: string, step = this.step, time = this.time): FindingEvent {
    const name = this.procs.get(pid)?.name ?? defaultName(pid);
    return note === undefined ? { pid, name, step, time, op } : { pid, name, step, time, op, note };
  }

  see(e: TraceEvent): void {
    if (e === this.last) return;
    this.last = e;
    switch (e.type) {
      case 'spawn': {
        this.proc(e.pid).children.push(e.child);
        this.add(e.child, e.name, e.daemon);
        this.lastSpawn.set(e.pid, e.child);
        break;
      }
      case 'done': {
        if (e.outcome !== 'ok') break;
        if (e.op === 'start') {
          const child = this.lastSpawn.get(e.pid);
          if (child !== undefined) {
            this.byHandle.set(e.obj, child);
            this.proc(child).handle = e.obj;
            this.lastSpawn.delete(e.pid);
          }
        } else if (e.op === 'join') {
          const child = this.byHandle.get(e.obj);
          if (child !== undefined && this.proc(child).exited !== null) this.proc(child).joined = true;
        }
        break;
      }
      case 'exit': {
        const p = this.proc(e.pid);
        p.live = false;
        p.exited = { step: e.step, time: e.time, reason: e.reason, exitcode: e.exitcode };
        break;
      }
      default:
        break;
    }
  }

  private add(pid: number, name: string, daemon: boolean): ProcInfo {
    const p = new ProcInfo(pid, name, daemon);
    this.procs.set(pid, p);
    this.all.push(p);
    return p;
  }
}

/** The view of the run whose monitors are starting, or of the run in progress. */
let latest: RunView | null = null;

/**
 * The view to follow the run about to start, shared with the other checkers of
 * that run: call it from `onStart` with the monitor's context. Every monitor of a run starts before the run's
 * first event, and runs never overlap (core refuses a second one while one is in
 * progress), so a view that has not applied an event yet belongs to this run.
 */
export function sharedView(ctx: MonitorContext): RunView {
  if (latest === null || latest.started) latest = new RunView(ctx);
  else latest.follow(ctx);
  return latest;
}

/** What a process not announced by a spawn event is called: a background thread (queue feeder, pool handler), or a pid. */
function defaultName(pid: number): string {
  return pid >= THREAD_PID_BASE ? `Thread-${pid}` : `pid ${pid}`;
}

/** `Lock#1.acquire()` from a pending operation (arguments elided: they can be large). */
export function opName(obj: string, op: string): string {
  return `${obj}.${op}()`;
}

/** Whether `pid` is among the processes the kernel could choose from at its latest decision. */
export function isEnabled(enabled: readonly { readonly pid: number }[], pid: number): boolean {
  for (let i = 0; i < enabled.length; i++) if (enabled[i]!.pid === pid) return true;
  return false;
}
