/**
 * Final-state invariants (`atEnd`) and assertion failures inside processes: a
 * Python-style `pyAssert` helper, and a monitor that turns an uncaught
 * `AssertionError` (or any uncaught exception) in a child process into a finding.
 * A child that raises only ends with exit code 1 — the run itself still ends `ok`
 * — so without this monitor an assertion in a worker goes unnoticed.
 */
import { PyAssertionError, type Monitor, type TraceEvent } from '@interleave/core';
import { CheckerBase, FindingLog, type Checker, type FailOn } from './checker.js';
import type { Finding } from './report.js';
import { RunView, VIEW_OPS, opName, sharedView } from './run-view.js';

/** A predicate over a run's final state, built from the events it saw. */
export interface FinalCheck {
  /** Sees every event of the run, in order. */
  observe?(event: TraceEvent): void;
  /** True if the final state is right; false, or a string saying what is wrong, if not. */
  holds(): boolean | string;
}

/**
 * A monitor that judges the final state of every run that ends with all processes
 * exited, and fails the run (naming the check) when it does not hold. Runs that end
 * otherwise (deadlock, step limit, an error) are not judged: they fail already, and
 * judging them would hide why. Keep per-run state in the closure `make` returns.
 *
 * @example
 * ```ts
 * // Every item put into a queue was taken out by the end.
 * const drained = atEnd('queues drained', () => {
 *   let inFlight = 0;
 *   return {
 *     observe: (e) => { if (e.type === 'send') inFlight++; if (e.type === 'recv') inFlight--; },
 *     holds: () => inFlight === 0 || `${inFlight} item(s) never taken out`,
 *   };
 * });
 * const r = await run(prog, { monitors: [drained] });
 * ```
 */
export function atEnd(name: string, make: () => FinalCheck): Monitor {
  let check: FinalCheck = { holds: () => true };
  let view = new RunView();
  return {
    name,
    onStart(ctx) {
      check = make();
      view = sharedView(ctx);
    },
    onEvent(event) {
      view.see(event);
      check.observe?.(event);
    },
    onEnd(ctx) {
      if (!view.allExited) return;
      const v = check.holds();
      if (v === true) return;
      // The kernel prefixes the monitor's name, which is the check's.
      ctx.fail(`does not hold at the end of the run (step ${view.step}, t=${view.time}s)${typeof v === 'string' ? `: ${v}` : ''}`);
    },
  };
}

/**
 * Python's `assert condition, message`: throws `AssertionError` into the running
 * process when `condition` is falsy. Uncaught in a child, it ends that child with
 * exit code 1 and a traceback; {@link assertions} reports it as a finding. In the
 * main process it ends the run with status `error`.
 *
 * @example
 * ```ts
 * async function worker(q: Queue<number>) {
 *   const item = await q.get();
 *   pyAssert(item >= 0, `negative item ${item}`);
 * }
 * ```
 */
export function pyAssert(condition: unknown, message?: string): asserts condition {
  if (!condition) throw new PyAssertionError(message ?? '');
}

/** Options of {@link assertions}. */
export interface AssertionsOptions {
  /** `assertions` (default): uncaught AssertionErrors only; `all`: every uncaught exception. */
  readonly exceptions?: 'assertions' | 'all';
  /** Default `confirmed`: an uncaught assertion fails the run. */
  readonly failOn?: FailOn;
}

/**
 * A monitor that reports every child process that ended on an uncaught
 * `AssertionError` (with `exceptions: 'all'`, on any uncaught exception): which
 * process, at which step and time, the message, and its last operation. It fails
 * the run by default, so an exploration stops at the first schedule where a worker's
 * assertion breaks.
 *
 * @example
 * ```ts
 * const asserts = assertions();
 * const r = await run(prog, { monitors: [asserts] });
 * asserts.findings[0]?.message; // 'Process-2 (pid 1002) raised AssertionError: negative item -1'
 * ```
 */
export function assertions(options: AssertionsOptions = {}): Checker {
  return new AssertionChecker(options.exceptions === 'all', new FindingLog(options.failOn ?? 'confirmed'));
}

class AssertionChecker extends CheckerBase {
  readonly name = 'assertions';
  /** Per pid: the last line of the traceback the kernel wrote to stderr. */
  private traceback = new Map<number, string>();

  constructor(
    private readonly all: boolean,
    log: FindingLog,
  ) {
    // Its exception's last operation comes from the kernel (the view's `issued`).
    super(log, ['spawn', 'done', 'exit', 'print'], VIEW_OPS);
  }

  protected reset(): void {
    this.traceback = new Map();
  }

  onEvent(e: TraceEvent): void {
    const view = this.view;
    view.see(e);
    if (e.type === 'print') {
      // The kernel's traceback of a child ends with `Name: message` (see process-model.md).
      if (e.stream === 'stderr' && /^[A-Za-z_][\w.]*(: |$)/.test(e.text) && !e.text.startsWith('Process ') && !e.text.startsWith('Traceback')) this.traceback.set(e.pid, e.text);
      return;
    }
    if (e.type !== 'exit' || e.reason !== 'raised') return;
    const text = this.traceback.get(e.pid) ?? 'an exception';
    const isAssertion = text.startsWith('AssertionError');
    if (!isAssertion && !this.all) return;
    const who = view.label(e.pid);
    const p = view.proc(e.pid);
    const events = [view.at(e.pid, 'exit (uncaught exception)', text, e.step, e.time)];
    const last = view.issued(e.pid);
    if (last !== null) events.unshift(view.at(e.pid, opName(last.obj, last.op), 'its last operation (issued at this step)', last.step, last.time));
    const f: Finding = {
      kind: isAssertion ? 'assertion' : 'uncaught-exception',
      status: 'confirmed',
      message: `${who} raised ${text}`,
      why: isAssertion
        ? `an assertion in ${who} failed and nothing caught it, so the process ended with exit code 1; the rest of the run went on (a child's exception does not stop its parent), so only its traceback on stderr shows it.`
        : `an exception escaped ${who}'s target, so the process ended with exit code 1 while the others went on.`,
      fix: isAssertion
        ? 'make the asserted condition hold on every schedule: protect the shared state it reads (take the lock around read-and-check), or wait for the event that makes it true.'
        : 'catch the exception where it can be handled, or make the operation that raised it valid on every schedule.',
      events,
      data: { pid: e.pid, exception: text },
      key: `${isAssertion ? 'assertion' : 'uncaught'}:${p.name}:${text}`,
    };
    this.log.add(f);
  }
}
