/**
 * Liveness: runs that did not terminate within their step budget (the kernel's
 * `step-limit` status, turned into a finding that names the looping processes and
 * what they repeat), and starvation — a process that could have run at many steps
 * and was never chosen, as a lock waiter is under a releaser that always re-takes
 * the lock. Starvation is measured under the strategy the run used: under a fair
 * one (round-robin, which never skips a runnable process forever on its own), a
 * starved process points at the program, e.g. at Python locks being unfair.
 */
import { SimulationError, type PassOvers, type ProcessView, type RunResult, type TraceEvent } from '@interleave/core';
import { CheckerBase, FindingLog, type Checker, type FailOn } from './checker.js';
import type { Finding, FindingEvent } from './report.js';
import { THREAD_PID_BASE, VIEW_EVENTS, VIEW_OPS, opName } from './run-view.js';

// ------------------------------------------------------------------ step limit

/**
 * The finding for a run that ended with status `step-limit`, or null for any
 * other run. Names the processes still taking steps and, when the run kept its
 * trace (`trace: true`, as explorers' failures do), the operations each one
 * repeats, and tells an endless loop (virtual time advances) from a busy-wait
 * (it does not, while others wait).
 *
 * @example
 * ```ts
 * const r = await run(flagToggle, { maxSteps: 20, trace: true });
 * stepLimitReport(r)?.message;
 * // 'did not terminate within 20 steps: MainProcess (pid 1000) loops over stdout.print() → time.sleep() (virtual time reached 10s)'
 * ```
 */
export function stepLimitReport(result: RunResult, token?: string): Finding | null {
  if (result.status !== 'step-limit') return null;
  const names = new Map(result.processes.map((p) => [p.pid, p.name]));
  const running = result.processes.filter((p) => p.exitcode === null && !p.thread);
  const trace = result.trace;
  const loops: { pid: number; cycle: string[]; steps: number; last: FindingEvent }[] = [];
  let windowStart = 0;
  let windowTime = 0;
  if (trace !== undefined) {
    // Look at the last stretch of the run: the processes stepping there are the loopers.
    const window = Math.max(8, Math.min(400, Math.floor(result.steps / 2)));
    windowStart = result.steps - window;
    const byPid = new Map<number, { ops: string[]; last: FindingEvent }>();
    const firstSeen = new Map<string, number>();
    let started = false;
    for (const e of trace) {
      if (e.type !== 'done') continue;
      const key = `${e.pid}:${opName(e.obj, e.op)}`;
      if (!firstSeen.has(key)) firstSeen.set(key, e.step);
      if (e.step <= windowStart) continue;
      if (!started) {
        started = true;
        windowTime = e.time;
      }
      const op = opName(e.obj, e.op);
      const name = names.get(e.pid) ?? `pid ${e.pid}`;
      const entry = byPid.get(e.pid) ?? { ops: [], last: { pid: e.pid, name, step: e.step, time: e.time, op } };
      entry.ops.push(op);
      entry.last = { pid: e.pid, name, step: e.step, time: e.time, op };
      byPid.set(e.pid, entry);
    }
    for (const [pid, v] of byPid) {
      if (pid >= THREAD_PID_BASE) continue;
      loops.push({ pid, cycle: period(v.ops, (op) => firstSeen.get(`${pid}:${op}`) ?? Infinity), steps: v.ops.length, last: v.last });
    }
    loops.sort((a, b) => b.steps - a.steps || a.pid - b.pid);
  } else {
    for (const p of [...running].sort((a, b) => b.steps - a.steps)) {
      loops.push({ pid: p.pid, cycle: [], steps: p.steps, last: { pid: p.pid, name: p.name, step: result.steps, time: result.time, op: 'still running' } });
    }
  }
  const sleeping = loops.some((l) => l.cycle.some((op) => op === 'time.sleep()'));
  const timeMoved = trace !== undefined && result.time > windowTime;
  const waiting = running.filter((p) => !loops.some((l) => l.pid === p.pid));
  const label = (pid: number): string => `${names.get(pid) ?? `pid ${pid}`} (pid ${pid})`;
  const describeLoop = (l: (typeof loops)[number]): string =>
    l.cycle.length === 0 ? `${label(l.pid)} still running after ${l.steps} steps` : `${label(l.pid)} loops over ${l.cycle.join(' → ')}`;
  const top = loops.slice(0, 3);
  const busy = trace !== undefined && !timeMoved && !sleeping;
  const message =
    `did not terminate within ${result.steps} steps: ` +
    (top.length === 0 ? 'processes still running' : `${top.map(describeLoop).join('; ')}`) +
    (loops.length > top.length ? ` and ${loops.length - top.length} more` : '') +
    (trace === undefined ? '' : busy ? ' (virtual time stands still: a busy-wait)' : ` (virtual time reached ${fmt(result.time)})`);
  const why = busy
    ? `in the last ${result.steps - windowStart} steps only ${top.map((l) => label(l.pid)).join(', ')} ran, never blocking or sleeping, while the clock stood at ${fmt(result.time)}` +
      (waiting.length > 0 ? `; ${waiting.map((p) => label(p.pid)).join(', ')} waited meanwhile` : '') +
      ': a loop that polls without blocking keeps taking steps and, if what it polls for needs another process, may never see it.'
    : trace === undefined
      ? `the run was stopped by its step budget (maxSteps) while these processes were still running; run with trace: true to see what they repeat.`
      : `the loop${top.length > 1 ? 's' : ''} never reach${top.length > 1 ? '' : 'es'} an exit: each turn does the same operations again` +
        (timeMoved ? ' and the clock moves on, so this is an endless loop rather than a stuck one' : '') +
        '.';
  const fix = busy
    ? 'replace the busy-wait with a blocking wait (Event.wait(), Queue.get(), Condition.wait_for()) so the process it waits for can run.'
    : 'give the loop an exit (a condition, a sentinel, or an Event another process sets: while not stop.is_set()), or raise maxSteps if the program is just long.';
  return {
    kind: 'non-termination',
    status: 'confirmed',
    message,
    why,
    fix,
    events: top.map((l) => ({ ...l.last, note: l.cycle.length > 0 ? `loop of ${l.cycle.length} operation${l.cycle.length > 1 ? 's' : ''}` : 'still running' })),
    ...(token === undefined ? {} : { token }),
    data: {
      maxSteps: result.steps,
      time: result.time,
      busyWait: busy,
      loops: loops.map((l) => ({ pid: l.pid, name: names.get(l.pid) ?? null, cycle: l.cycle, stepsInWindow: l.steps })),
      waiting: waiting.map((p) => p.pid),
    },
    key: `non-termination:${loops.map((l) => `${l.pid}:${l.cycle.join(',')}`).join('|')}`,
  };
}

/**
 * The shortest cycle the tail of `ops` repeats (at least twice), starting at the
 * operation the process first performed earliest — the top of its loop, usually —
 * or the last few operations when nothing repeats.
 */
function period(ops: readonly string[], firstStep: (op: string) => number): string[] {
  const n = ops.length;
  for (let p = 1; p <= Math.min(16, Math.floor(n / 2)); p++) {
    let ok = true;
    for (let i = n - 2 * p; i < n - p && ok; i++) if (ops[i] !== ops[i + p]) ok = false;
    if (!ok) continue;
    const cycle = ops.slice(n - p);
    let best = 0;
    for (let i = 1; i < cycle.length; i++) if (firstStep(cycle[i]!) < firstStep(cycle[best]!)) best = i;
    return [...cycle.slice(best), ...cycle.slice(0, best)];
  }
  return ops.slice(Math.max(0, n - 4));
}

function fmt(t: number): string {
  return `${Number(t.toFixed(6))}s`;
}

// ------------------------------------------------------------------ starvation

/** Options of {@link starvation}. */
export interface StarvationOptions {
  /**
   * How many steps a process may be runnable, in one operation, without being
   * chosen before it counts as starved. Default 100.
   */
  readonly limit?: number;
  /** Default `confirmed`: a starved process fails the run. */
  readonly failOn?: FailOn;
}

/**
 * A monitor that reports a process that could have run at `limit` steps while
 * waiting in one operation, and was never chosen: starvation (bounded bypass).
 * The kernel counts the pass-overs and calls it when a wait reaches the limit
 * (`Monitor.passLimit`): it takes no event per step, and keeps no per-process record
 * of its own. Meaningful under a fair strategy
 * (round-robin), where the only way to starve is the program's own doing — a
 * releaser that always re-takes an unfair lock, or a busy-wait that never yields.
 *
 * @example
 * ```ts
 * const starved = starvation({ limit: 50 });
 * await run(lockHog, { strategy: roundRobinStrategy(), monitors: [starved] });
 * starved.findings[0]?.message;
 * // 'Process-2 (pid 1002) starved in Lock#1.acquire(): runnable at 50 steps since step 6, never chosen; Process-1 (pid 1001) ran instead'
 * ```
 */
export function starvation(options: StarvationOptions = {}): Checker {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new SimulationError(
      'INVALID_OPTION',
      `starvation(): limit must be a positive whole number of steps, got ${String(limit)}.\n  How to fix: pass how many pass-overs in one wait count as starvation, e.g. starvation({ limit: 100 }) (the default).`,
    );
  }
  return new StarvationChecker(limit, new FindingLog(options.failOn ?? 'confirmed'));
}

class StarvationChecker extends CheckerBase {
  readonly name = 'starvation';

  constructor(
    /** The kernel counts pass-overs and tells it when a wait reaches this many: it takes no event per step. */
    readonly passLimit: number,
    log: FindingLog,
  ) {
    // The view's events only: names, handles and exits, for the report.
    super(log, VIEW_EVENTS, VIEW_OPS);
  }

  protected reset(): void {}

  onEvent(e: TraceEvent): void {
    this.view.see(e);
  }

  onPassLimit(p: ProcessView, at: { readonly step: number; readonly time: number }): void {
    this.log.add(this.report(p.pid, p.passes!, at.step, at.time));
  }

  private report(pid: number, w: PassOvers, step: number, time: number): Finding {
    const view = this.view;
    const p = view.proc(pid);
    const pending = view.issued(pid);
    const op = pending === null ? 'its first step' : opName(pending.obj, pending.op);
    const runners = w.runners();
    const acquire = pending !== null && pending.op === 'acquire';
    const events: FindingEvent[] = [view.at(pid, op, `waiting since step ${w.since}`, w.since, w.sinceTime)];
    for (const [r, n] of runners.slice(0, 3)) events.push(view.at(r, 'ran instead', `${n} time${n > 1 ? 's' : ''} while ${p.name} could have run`, step, time));
    return {
      kind: 'starvation',
      status: 'confirmed',
      message:
        `${view.label(pid)} starved ${pending === null ? 'before its first step' : `in ${op}`}: runnable at ${w.count} step${w.count === 1 ? '' : 's'} since step ${w.since} (up to ${w.longestInARow} in a row), never chosen; ` +
        `${runners.slice(0, 3).map(([r]) => view.label(r)).join(', ')} ran instead`,
      why: acquire
        ? `each time ${pending.obj} was released ${p.name} became runnable, but the releaser went on and took it again first: ` +
          'multiprocessing locks promise no fairness (no queue of waiters), so a process that releases and re-acquires in a loop can keep the others out forever.'
        : `${p.name} could take its step all along, but the schedule kept running ${runners.length > 1 ? 'other processes' : view.label(runners[0]?.[0] ?? pid)}, which never blocked or slept to give it a turn.`,
      fix: acquire
        ? 'do not rely on lock fairness: hand over explicitly (a Condition or Semaphore per turn, or a work queue), or do the slow work outside the lock.'
        : 'make the busy process block or sleep while it waits (Event.wait(), Queue.get(), time.sleep()) instead of polling in a tight loop.',
      events,
      data: { pid, op, since: w.since, passed: w.count, longestInARow: w.longestInARow, runners: Object.fromEntries(runners) },
      key: `starvation:${p.name}:${op}`,
    };
  }
}
