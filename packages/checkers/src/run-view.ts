/**
 * @internal What the deadlock, lock-order and liveness checkers need to know about
 * each process, rebuilt from the event stream alone: names, parents, the operation
 * each one waits in, whether it can run, which handle belongs to which child, and
 * the set of processes the kernel chose among at every step.
 */
import type { TraceEvent } from '@interleave/core';
import type { FindingEvent } from './report.js';

/** The main process's pid (core's PID_BASE). */
export const MAIN_PID = 1000;
/** Background threads (queue feeders) are scheduled under ids from here (core's THREAD_BASE). */
export const THREAD_PID_BASE = 100_000;

/** An operation a process has issued and not yet completed. */
export interface PendingOp {
  readonly obj: string;
  readonly op: string;
  readonly args: readonly unknown[];
  readonly step: number;
  readonly time: number;
}

/** @internal One process (or background thread) as the event stream shows it. */
export interface ProcInfo {
  readonly pid: number;
  name: string;
  readonly parent: number | null;
  readonly daemon: boolean;
  /** Its Process handle's id (`Process-1`), once its `start()` completed. */
  handle: string | null;
  live: boolean;
  /** Whether its pending operation can take effect now, as far as events tell. */
  enabled: boolean;
  /** Null between a completed operation and the next issue (or the exit). */
  pending: PendingOp | null;
  /** What a `block` event said it waits on. */
  waitsOn: string | null;
  heldBy: readonly number[];
  exited: { readonly step: number; readonly time: number; readonly reason: 'returned' | 'raised' | 'terminated'; readonly exitcode: number } | null;
  /** Joined by its parent (a `join` that returned after it exited). */
  joined: boolean;
  readonly children: number[];
  /** Steps it performed. */
  steps: number;
}

/**
 * @internal Follows one run's events. Call {@link see} for every event, in order;
 * `onChoice` is told, at every step, which processes could have run and which did.
 */
export class RunView {
  readonly procs = new Map<number, ProcInfo>();
  /** Step of the last event seen. */
  step = 0;
  time = 0;
  private readonly byHandle = new Map<string, number>();
  private lastSpawn = new Map<number, number>();
  private choiceSet: number[] | null = null;

  constructor(private readonly onChoice?: (enabled: readonly number[], chosen: number, step: number) => void) {
    this.add(MAIN_PID, 'MainProcess', null, false);
    this.byHandle.set('MainProcess', MAIN_PID);
    this.procs.get(MAIN_PID)!.handle = 'MainProcess';
  }

  /** The process's record, created on first sight (background threads are not announced). */
  proc(pid: number): ProcInfo {
    return this.procs.get(pid) ?? this.add(pid, pid >= THREAD_PID_BASE ? `Thread-${pid}` : `pid ${pid}`, null, true);
  }

  /** `Process-2 (pid 1002)` */
  label(pid: number): string {
    const p = this.procs.get(pid);
    return p === undefined ? `pid ${pid}` : `${p.name} (pid ${pid})`;
  }

  /** The pid of the child whose handle has this id (`Process-1`), if started. */
  pidOfHandle(handle: string): number | undefined {
    return this.byHandle.get(handle);
  }

  /** Whether the main process's code ran to the end and every process exited: the run ended `ok`. */
  get allExited(): boolean {
    for (const p of this.procs.values()) if (p.live && p.pid < THREAD_PID_BASE) return false;
    return this.procs.get(MAIN_PID)!.exited !== null;
  }

  /** A finding event for `pid` doing `op` at the current (or given) step. */
  at(pid: number, op: string, note?: string, step = this.step, time = this.time): FindingEvent {
    const name = this.procs.get(pid)?.name ?? `pid ${pid}`;
    return note === undefined ? { pid, name, step, time, op } : { pid, name, step, time, op, note };
  }

  see(e: TraceEvent): void {
    if (e.step !== this.step && this.onChoice !== undefined) {
      // The first event of a new step: the enabled set now is the one the kernel
      // chose from (block and wake events of the previous loop turn came before).
      this.choiceSet = [];
      for (const p of this.procs.values()) if (p.live && p.enabled) this.choiceSet.push(p.pid);
    }
    this.step = e.step;
    this.time = e.time;
    switch (e.type) {
      case 'spawn': {
        const parent = this.proc(e.pid);
        parent.children.push(e.child);
        this.add(e.child, e.name, e.pid, e.daemon);
        this.lastSpawn.set(e.pid, e.child);
        break;
      }
      case 'issue': {
        const p = this.proc(e.pid);
        p.pending = { obj: e.obj, op: e.op, args: e.args, step: e.step, time: e.time };
        p.enabled = true;
        p.waitsOn = null;
        p.heldBy = [];
        break;
      }
      case 'block': {
        const p = this.proc(e.pid);
        p.enabled = false;
        p.waitsOn = e.waitsOn;
        p.heldBy = e.heldBy;
        p.pending ??= { obj: e.obj, op: e.op, args: [], step: e.step, time: e.time };
        break;
      }
      case 'sleep': {
        const p = this.proc(e.pid);
        p.enabled = false;
        p.waitsOn = `sleeping until t=${e.until}s`;
        break;
      }
      case 'wake': {
        const p = this.proc(e.pid);
        p.enabled = true;
        p.waitsOn = null;
        p.heldBy = [];
        break;
      }
      case 'done': {
        const p = this.proc(e.pid);
        p.steps++;
        if (this.choiceSet !== null && this.onChoice !== undefined) {
          this.onChoice(this.choiceSet, e.pid, e.step);
          this.choiceSet = null;
        }
        if (e.op === 'start' && e.outcome === 'ok') {
          const child = this.lastSpawn.get(e.pid);
          if (child !== undefined) {
            this.byHandle.set(e.obj, child);
            this.proc(child).handle = e.obj;
            this.lastSpawn.delete(e.pid);
          }
        } else if (e.op === 'join' && e.outcome === 'ok') {
          const child = this.byHandle.get(e.obj);
          if (child !== undefined && this.proc(child).exited !== null) this.proc(child).joined = true;
        }
        // Still blocked-or-enabled on the same operation if it has more phases; the
        // next issue, block or exit event says which.
        p.enabled = true;
        break;
      }
      case 'exit': {
        const p = this.proc(e.pid);
        p.live = false;
        p.enabled = false;
        p.exited = { step: e.step, time: e.time, reason: e.reason, exitcode: e.exitcode };
        break;
      }
      default:
        break;
    }
  }

  private add(pid: number, name: string, parent: number | null, daemon: boolean): ProcInfo {
    const p: ProcInfo = {
      pid,
      name,
      parent,
      daemon,
      handle: null,
      live: true,
      enabled: true,
      pending: null,
      waitsOn: null,
      heldBy: [],
      exited: null,
      joined: false,
      children: [],
      steps: 0,
    };
    this.procs.set(pid, p);
    return p;
  }
}

/** `Lock#1.acquire()` from a pending operation (arguments elided: they can be large). */
export function opName(obj: string, op: string): string {
  return `${obj}.${op}()`;
}
