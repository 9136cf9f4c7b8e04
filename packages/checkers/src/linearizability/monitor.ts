/**
 * The linearizability monitor: rebuilds each recorder's history from the event
 * stream (the recorder's `call` and `return` steps) and checks it when the run ends.
 * It needs nothing from the program but the recorder: no registry, no shared state
 * between the program and the monitor, and a kept trace carries the history too.
 */
import { PID_BASE, type ExecutionInfo, type IssueEvent, type MonitorContext, type TraceEvent } from '@interleave/core';
import { FindingLog, type Checker, type DistinctFinding } from '../checker.js';
import type { Finding } from '../report.js';
import { checkLinearizability, linearizabilityFinding, type LinearizabilityCheckOptions, type LinearizabilityResult } from './check.js';
import type { History, HistoryEvent } from './history.js';
import type { Model } from './models.js';

/** Options of {@link linearizable}. */
export interface LinearizableOptions extends Omit<LinearizabilityCheckOptions, 'object'> {
  /** Check only this recorder's history (its id, e.g. `History#2`). Default: every recorder's. */
  readonly history?: string;
  /** Fail the run when the search runs out of budget. Default false: `unknown` passes, and is kept in `results`. */
  readonly failOnUnknown?: boolean;
  /** Monitor name in failure messages. Default `linearizability`. */
  readonly name?: string;
}

/**
 * The monitor, with the verdicts of the run it last observed. As every checker, it
 * also keeps `findings` (kind `linearizability`) and, under an explorer, `distinct`
 * findings with replay tokens.
 */
export interface LinearizabilityMonitor extends Checker {
  /**
   * The verdicts of the most recent run, one per recorder checked. In an
   * exploration that failed, the last run is the explorer's replay of the reported
   * (minimised) failure, so these are its verdicts.
   */
  readonly results: readonly LinearizabilityResult[];
  /** Why the most recent run was not checked (it did not end normally), or null. */
  readonly skipped: string | null;
}

/**
 * A monitor that checks every recorded history against `model` when the run ends,
 * and fails the run with the checker's report when one is not linearizable. Runs
 * that do not end normally (deadlock, step limit, an error) are not checked: their
 * own failure is the clearer report.
 *
 * @example
 * ```ts
 * const r = await check(racyCounterProgram, {
 *   strategy: exhaustive(),
 *   monitors: [linearizable(counterModel())],
 *   run: { timing: 'untimed' },
 * });
 * r.passed;            // false
 * r.failure?.message;  // 'InvariantViolation: linearizability: History#1 (model: counter): NOT linearizable. ...'
 * ```
 */
export function linearizable<S>(model: Model<S>, options: LinearizableOptions = {}): LinearizabilityMonitor {
  return new LinearizabilityChecker(model, options);
}

/**
 * A class, not an object literal with getters: V8 keeps a literal's closure getters
 * in its hidden class, from where every run's histories stayed reachable through
 * minor collections until a full one (see CheckerBase).
 */
class LinearizabilityChecker<S> implements LinearizabilityMonitor {
  readonly name: string;
  private collector = new HistoryCollector();
  private latest: LinearizabilityResult[] = [];
  private whyNot: string | null = null;
  // The run is failed here, with the whole report; the log only keeps the findings.
  private readonly log = new FindingLog('never');

  constructor(
    private readonly model: Model<S>,
    private readonly options: LinearizableOptions,
  ) {
    this.name = options.name ?? 'linearizability';
  }

  get findings(): readonly Finding[] {
    return this.log.findings;
  }

  get distinct(): readonly DistinctFinding[] {
    return this.log.distinct;
  }

  get results(): readonly LinearizabilityResult[] {
    return this.latest;
  }

  get skipped(): string | null {
    return this.whyNot;
  }

  onStart(ctx: MonitorContext): void {
    this.log.start(ctx);
    this.collector = new HistoryCollector();
    this.latest = [];
    this.whyNot = null;
  }

  onEvent(e: TraceEvent): void {
    this.collector.add(e);
  }

  onEnd(ctx: MonitorContext): void {
    const { collector, options } = this;
    if (collector.running.size > 0) {
      this.whyNot = `the run ended with ${collector.running.size} process(es) still running`;
    } else {
      for (const [id, history] of collector.histories) {
        if (options.history !== undefined && id !== options.history) continue;
        const r = checkLinearizability(history, this.model, { ...options, object: id });
        this.latest.push(r);
        if (r.verdict === 'not-linearizable') this.log.add(linearizabilityFinding(r));
        if (r.verdict === 'not-linearizable' || (r.verdict === 'unknown' && options.failOnUnknown === true)) {
          ctx.fail(r.message);
          break;
        }
      }
    }
    this.log.end();
  }

  onExecution(info: ExecutionInfo): void {
    this.log.execution(info);
  }
}

/**
 * The recorded histories in a kept trace (`run(p, { trace: true })`), by recorder id.
 *
 * @example
 * ```ts
 * const r = await run(prog, { trace: true });
 * const h = historiesFromTrace(r.trace!).get('History#1')!;
 * checkLinearizability(h, queueModel());
 * ```
 */
export function historiesFromTrace(trace: readonly TraceEvent[]): ReadonlyMap<string, History> {
  const c = new HistoryCollector();
  for (const e of trace) c.add(e);
  return c.histories;
}

const RECORDER = 'History#';

/** Folds the event stream into histories. */
class HistoryCollector {
  readonly histories = new Map<string, HistoryEvent[]>();
  /** Processes started and not yet exited. */
  readonly running = new Set<number>([PID_BASE]);
  private readonly names = new Map<number, string>([[PID_BASE, 'MainProcess']]);
  /** Each process's issued recorder operation, until it is performed. */
  private readonly issued = new Map<number, IssueEvent>();

  add(e: TraceEvent): void {
    switch (e.type) {
      case 'spawn':
        this.names.set(e.child, e.name);
        this.running.add(e.child);
        return;
      case 'exit':
        this.running.delete(e.pid);
        return;
      case 'issue':
        if (e.obj.startsWith(RECORDER)) this.issued.set(e.pid, e);
        return;
      case 'done': {
        if (!e.obj.startsWith(RECORDER)) return;
        const issue = this.issued.get(e.pid);
        if (issue === undefined || issue.obj !== e.obj) return;
        this.issued.delete(e.pid);
        let h = this.histories.get(e.obj);
        if (h === undefined) this.histories.set(e.obj, (h = []));
        const process = this.names.get(e.pid);
        if (e.op === 'call') {
          const [id, op, args] = issue.args as [number, string, readonly unknown[]];
          h.push({ kind: 'call', id, pid: e.pid, ...(process === undefined ? {} : { process }), op, args, step: e.step, time: e.time });
        } else {
          const [id, outcome, value] = issue.args as [number, 'ok' | 'raised', unknown];
          h.push(outcome === 'raised' ? { kind: 'return', id, error: value as string, step: e.step, time: e.time } : { kind: 'return', id, value, step: e.step, time: e.time });
        }
        return;
      }
      default:
        return;
    }
  }
}
