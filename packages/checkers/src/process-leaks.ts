/**
 * What is left behind when a process's code ends — children it never joined,
 * daemonic children killed mid-wait — and the course's queue trap, joining a
 * producer before draining its queue, in the form Interleave cannot make hang:
 * CPython's child blocks at exit while its feeder thread waits for room in a full
 * OS pipe, but Interleave models no pipe capacity (its feeder always flushes), so
 * the join returns. The pattern — items still in the queue when the join returned,
 * got by the joiner only afterwards — is reported as a *potential* deadlock. (With
 * a bounded queue, `Queue(maxsize)`, the trap does hang in Interleave, and
 * `deadlockReport` names it `join-before-drain`.)
 */
import type { MonitorContext, TraceEvent } from '@interleave/core';
import { CheckerBase, FindingLog, type Checker, type FailOn } from './checker.js';
import type { FindingEvent } from './report.js';
import { THREAD_PID_BASE, VIEW_EVENTS, VIEW_OPS, isEnabled, opName, type ProcInfo } from './run-view.js';

/** Options of {@link processLeaks} and {@link joinBeforeDrain}. */
export interface LeakOptions {
  /** Default `never`: these findings are potential. */
  readonly failOn?: FailOn;
}

/**
 * A monitor that reports, for a process whose code has ended, the non-daemonic
 * children it started and never joined (Python joins them for it at exit, so nothing
 * hangs — but their exit codes go unchecked and the parent's last steps race with
 * them), and the daemonic children killed at that moment while still blocked or
 * working. One finding per parent, `potential`, dated at the step its code ended;
 * made when the process exits (or when the run ends with it still waiting for its
 * children), so with `failOn: 'potential'` the run fails then.
 *
 * @example
 * ```ts
 * const leaks = processLeaks();
 * await run(prog, { monitors: [leaks] });
 * leaks.findings[0]?.message; // 'MainProcess (pid 1000) ended without joining Process-1 (pid 1001)'
 * ```
 */
export function processLeaks(options: LeakOptions = {}): Checker {
  return new LeakChecker(new FindingLog(options.failOn ?? 'never'));
}

/** No children to report. */
const NONE: readonly ProcInfo[] = [];

/** Where a daemon was when its parent's exit killed it. */
interface Killed {
  /** Its pending operation (`Lock#1.acquire()`), or null before its first step. */
  readonly op: string | null;
  readonly blocked: boolean;
}

class LeakChecker extends CheckerBase {
  readonly name = 'process-leaks';
  private ended = new Set<number>();
  /** Daemons terminated by a terminate() call rather than by their parent's exit. */
  private byCall = new Set<number>();
  private killedIn = new Map<number, Killed>();

  constructor(log: FindingLog) {
    super(log, VIEW_EVENTS, [...VIEW_OPS, 'terminate']);
  }

  protected reset(): void {
    this.ended = new Set();
    this.byCall = new Set();
    this.killedIn = new Map();
  }

  onEvent(e: TraceEvent, ctx: MonitorContext): void {
    const view = this.view;
    view.see(e);
    switch (e.type) {
      case 'exit':
        if (e.reason !== 'terminated') {
          if (!this.waitedAtExit(e.pid)) this.parentEnded(e.pid, e.step, e.time);
        } else {
          const op = view.issued(e.pid);
          // The kernel's latest decision still says whether it could have run.
          this.killedIn.set(e.pid, { op: op === null ? null : opName(op.obj, op.op), blocked: !isEnabled(ctx.enabled(), e.pid) });
        }
        break;
      case 'done':
        if (e.op === 'terminate') {
          const c = view.pidOfHandle(e.obj);
          if (c !== undefined) this.byCall.add(c);
        }
        break;
      default:
        break;
    }
  }

  override onEnd(ctx: MonitorContext): void {
    // Still waiting at exit for its children when the run ended (they deadlocked, or the step budget ran out).
    for (const p of this.view.processes()) if (p.live) this.waitedAtExit(p.pid);
    super.onEnd(ctx);
  }

  /**
   * Whether `pid`'s code ended while its children still ran, so that it waited for
   * them at exit (its latest operation is `exit`, issued the step its code ended):
   * judged, and dated, from that step. Asked at its exit, or at the end of the run:
   * taking the issue events of exit waits would route every step's issue event.
   */
  private waitedAtExit(pid: number): boolean {
    const issued = this.view.issued(pid);
    if (issued === null || issued.op !== 'exit') return false;
    this.parentEnded(pid, issued.step, issued.time);
    return true;
  }

  /** `pid`'s code ended at `step`: what did it leave behind? */
  private parentEnded(pid: number, step: number, time: number): void {
    const { view, ended, byCall, killedIn } = this;
    if (ended.has(pid) || pid >= THREAD_PID_BASE) return;
    ended.add(pid);
    const p = view.proc(pid);
    // Lists only when there is something to report: every process exits through here.
    let unjoinedOrNull: ProcInfo[] | null = null;
    let killedOrNull: ProcInfo[] | null = null;
    for (const child of p.children) {
      const c = view.proc(child);
      if (!c.daemon) {
        if (!c.joined) (unjoinedOrNull ??= []).push(c);
      } else if (c.exited?.reason === 'terminated' && c.exited.step === step && !byCall.has(c.pid) && killedIn.has(c.pid)) {
        // Its code's end terminated its daemonic children in that same step.
        (killedOrNull ??= []).push(c);
      }
    }
    if (unjoinedOrNull === null && killedOrNull === null) return;
    const unjoined = unjoinedOrNull ?? NONE;
    const killed = killedOrNull ?? NONE;
    const events: FindingEvent[] = [view.at(pid, 'end of its code', unjoined.length > 0 ? `never joined ${unjoined.map((c) => c.name).join(', ')}` : undefined, step, time)];
    const killedText = killed.map((c) => {
      const k = killedIn.get(c.pid)!;
      const where = k.op === null ? 'before its first step' : `${k.blocked ? 'blocked in' : 'about to run'} ${k.op}`;
      events.push(view.at(c.pid, 'terminated (daemon)', where, c.exited!.step, c.exited!.time));
      return `${view.label(c.pid)} ${where}`;
    });
    const parts: string[] = [];
    if (unjoined.length > 0) parts.push(`ended without joining ${unjoined.map((c) => view.label(c.pid)).join(', ')}`);
    if (killed.length > 0) parts.push(`killed daemonic ${killedText.join(', ')}`);
    const why: string[] = [];
    if (unjoined.length > 0) {
      why.push(
        "Python's exit handler joins non-daemonic children for the parent, so the run did not hang; but without an explicit join the parent never checks their exit codes, and its last steps are unordered with theirs.",
      );
    }
    if (killed.length > 0) {
      why.push('A daemonic child is terminated wherever it is the moment its parent\'s code ends: whatever it was waiting to do is lost, and any lock it held stays held.');
    }
    this.log.add({
      kind: 'process-leak',
      status: 'potential',
      message: `${view.label(pid)} ${parts.join('; ')}`,
      why: why.join(' '),
      fix: 'join() every process you start (after draining its queues); make a child a daemon only if its work may be cut short.',
      events,
      data: { parent: pid, unjoined: unjoined.map((c) => c.pid), killedDaemons: killed.map((c) => c.pid) },
      key: `process-leak:${p.name}:${unjoined.map((c) => c.name).join(',')}:${killed.map((c) => c.name).join(',')}`,
    });
  }
}

const QUEUES = /^(Queue|JoinableQueue|SimpleQueue)#\d+$/;

/**
 * A monitor for the course's trap of joining a producer before draining its queue,
 * in the form CPython hangs on and Interleave cannot: the join returned while items
 * the child put were still in the queue, and the joining process got them only
 * afterwards (or nobody did). In CPython the child does not exit until its feeder
 * thread has written those items into the OS pipe; items larger than the pipe
 * buffer (about 64 KiB on Linux) block it there, and the join never returns.
 *
 * @example
 * ```ts
 * const trap = joinBeforeDrain();
 * await run(joinThenGet, { monitors: [trap] });
 * trap.findings[0]?.message;
 * // 'MainProcess (pid 1000) joined Process-1 (pid 1001) while 3 item(s) it put into Queue#1 were still in the queue, and got them only afterwards'
 * ```
 */
export function joinBeforeDrain(options: LeakOptions = {}): Checker {
  return new DrainChecker(new FindingLog(options.failOn ?? 'never'));
}

/** An item put into a queue and not yet got. */
interface Sent {
  readonly obj: string;
  readonly pid: number;
  readonly step: number;
  readonly time: number;
}

/** A join that returned while items the child put were still in a queue. */
interface Candidate {
  readonly joiner: number;
  readonly child: number;
  readonly obj: string;
  readonly join: FindingEvent;
  readonly firstPut: FindingEvent;
  readonly items: Set<number>;
  reported: boolean;
}

class DrainChecker extends CheckerBase {
  readonly name = 'join-before-drain';
  private inFlight = new Map<number, Sent>();
  private candidates: Candidate[] = [];

  constructor(log: FindingLog) {
    // No issue events: it reads no pending operation.
    super(log, ['spawn', 'done', 'exit', 'send', 'recv'], VIEW_OPS);
  }

  protected reset(): void {
    this.inFlight = new Map();
    this.candidates = [];
  }

  onEvent(e: TraceEvent): void {
    const view = this.view;
    view.see(e);
    switch (e.type) {
      case 'send':
        if (QUEUES.test(e.obj)) this.inFlight.set(e.msg, { obj: e.obj, pid: e.pid, step: e.step, time: e.time });
        break;
      case 'recv': {
        if (!this.inFlight.delete(e.msg)) break;
        for (const c of this.candidates) {
          if (!c.items.has(e.msg)) continue;
          // Another process draining the queue would have let the child's feeder finish.
          if (!c.reported && c.joiner === e.pid) this.report(c, view.at(e.pid, `${e.obj}.get()`, 'gets the items only after the join', e.step, e.time));
          c.reported = true;
          c.items.delete(e.msg);
        }
        break;
      }
      case 'done': {
        if (e.op !== 'join' || e.outcome !== 'ok') break;
        const child = view.pidOfHandle(e.obj);
        if (child === undefined || view.proc(child).exited === null) break;
        // Made for the first of the child's items still in flight: most joins find none.
        let byQueue: Map<string, { first: Sent; items: Set<number> }> | null = null;
        for (const [msg, s] of this.inFlight) {
          if (s.pid !== child) continue;
          byQueue ??= new Map();
          const q = byQueue.get(s.obj) ?? { first: s, items: new Set<number>() };
          q.items.add(msg);
          byQueue.set(s.obj, q);
        }
        if (byQueue === null) break;
        for (const [obj, q] of byQueue) {
          this.candidates.push({
            joiner: e.pid,
            child,
            obj,
            join: view.at(e.pid, `${e.obj}.join()`, `returns with ${q.items.size} of ${view.proc(child).name}'s items still in ${obj}`, e.step, e.time),
            firstPut: view.at(child, `${obj}.put()`, 'puts an item', q.first.step, q.first.time),
            items: q.items,
            reported: false,
          });
        }
        break;
      }
      default:
        break;
    }
  }

  override onEnd(ctx: MonitorContext): void {
    for (const c of this.candidates) if (!c.reported && c.items.size > 0) this.report(c, null);
    super.onEnd(ctx);
  }

  private report(c: Candidate, got: FindingEvent | null): void {
    const view = this.view;
    c.reported = true;
    const n = c.items.size;
    const events = [c.firstPut, c.join];
    if (got !== null) events.push(got);
    this.log.add({
      kind: 'join-before-drain',
      status: 'potential',
      message:
        `${view.label(c.joiner)} joined ${view.label(c.child)} while ${n} item(s) it put into ${c.obj} were still in the queue, and ` +
        (got === null ? 'nobody ever got them' : 'got them only afterwards'),
      why:
        `in CPython a process that put items on a Queue does not exit until its feeder thread has written them all into the OS pipe; ` +
        `if they do not fit in the pipe's buffer (about 64 KiB on Linux), ${view.proc(c.child).name} blocks at exit until someone reads, ` +
        `while ${view.proc(c.joiner).name} waits in join() before reading: a deadlock. Interleave models no pipe capacity, so this run went on; with larger items the real program hangs.`,
      fix: 'drain the queue before join: get every item the child puts (or its results), then join it.',
      events,
      data: { joiner: c.joiner, child: c.child, queue: c.obj, items: n },
      key: `join-before-drain:${view.proc(c.joiner).name}:${c.obj}`,
    });
  }
}
