/**
 * What the deadlock, lock-order, liveness and assertion monitors share: findings
 * of the last run, and the distinct findings over every run (or every execution of
 * an exploration) the same instance saw, each with a replay token when an explorer
 * supplied one.
 */
import type { ExecutionInfo, Monitor, MonitorContext, TraceEvent } from '@interleave/core';
import type { Finding, FindingStatus } from './report.js';
import { RunView, sharedView } from './run-view.js';

/** Which findings make a monitor fail the run (`ctx.fail`). */
export type FailOn = 'confirmed' | 'potential' | 'never';

/** One distinct finding over many runs. */
export interface DistinctFinding {
  /** The first occurrence, with the token of its execution when explored. */
  readonly finding: Finding;
  /** In how many runs (explored executions, under an explorer) it showed up. */
  readonly runs: number;
}

/**
 * A monitor that reports findings. Pass one instance to `run` (read `findings`
 * afterwards) or to `explore` (read `distinct`: each situation once, with how many
 * executions showed it and a token replaying the first).
 *
 * @example
 * ```ts
 * const order = lockOrder();
 * await run(prog, { monitors: [order] });
 * order.findings.map(formatFinding);
 * ```
 */
export interface Checker extends Monitor {
  /** The last run's findings, one per distinct situation. */
  readonly findings: readonly Finding[];
  /** Every distinct finding over all runs this instance saw. */
  readonly distinct: readonly DistinctFinding[];
}

/**
 * @internal What the checkers that follow a {@link RunView} and keep a
 * {@link FindingLog} share. A class, not an object literal with getters: V8 keeps
 * a literal's closure getters in its hidden class, which would keep every run's
 * state reachable until a full collection.
 */
export abstract class CheckerBase implements Checker {
  abstract readonly name: string;
  /** Who could run comes from `ctx.enabled()`: none of them needs block, wake or sleep events, the costliest kind. */
  readonly blocking = false;
  protected view = new RunView();

  /** The operations whose done events it reads, when not all of them: the view's, and its own. */
  readonly ops?: readonly string[];

  constructor(
    protected readonly log: FindingLog,
    /** The view's event types, and whatever else the checker looks at. */
    readonly events: readonly TraceEvent['type'][],
    ops?: readonly string[],
  ) {
    if (ops !== undefined) this.ops = ops;
  }

  get findings(): readonly Finding[] {
    return this.log.findings;
  }

  get distinct(): readonly DistinctFinding[] {
    return this.log.distinct;
  }

  onStart(ctx: MonitorContext): void {
    this.log.start(ctx);
    this.view = sharedView(ctx);
    this.reset();
  }

  /** Forget the last run's state. */
  protected abstract reset(): void;

  abstract onEvent(event: TraceEvent, ctx: MonitorContext): void;

  onEnd(_ctx: MonitorContext): void {
    this.log.end();
  }

  onExecution(info: ExecutionInfo): void {
    this.log.execution(info);
  }
}

/** @internal Keeps findings per run and across runs; decides when to fail the run. */
export class FindingLog {
  private current = new Map<string, Finding>();
  private readonly all = new Map<string, { finding: Finding; runs: number }>();
  /** Keys first seen in the run that just ended, waiting for its token. */
  private fresh: string[] = [];
  private explored = false;
  private ctx: MonitorContext | null = null;

  constructor(private readonly failOn: FailOn) {}

  get findings(): readonly Finding[] {
    return [...this.current.values()];
  }

  get distinct(): readonly DistinctFinding[] {
    return [...this.all.values()].map((d) => ({ finding: d.finding, runs: d.runs }));
  }

  start(ctx: MonitorContext): void {
    this.current = new Map();
    this.ctx = ctx;
  }

  /** Record `f` (once per key per run); fails the run at once when `failOn` says so. */
  add(f: Finding): void {
    const key = f.key ?? `${f.kind}:${f.message}`;
    if (this.current.has(key)) return;
    this.current.set(key, f);
    if (shouldFail(this.failOn, f.status)) this.ctx?.fail(`[${f.kind}] ${f.message}`);
  }

  /** Replace the finding with `f.key` (e.g. a potential one this run confirmed), without failing the run. */
  replace(f: Finding): void {
    this.current.set(f.key ?? `${f.kind}:${f.message}`, f);
  }

  /** The run ended: fold its findings into the distinct ones (unless an explorer will). */
  end(): void {
    this.fresh = [];
    if (this.explored) return;
    this.fold();
  }

  /** An explorer counted the run that just ended: fold it, with tokens for new situations. */
  execution(info: ExecutionInfo): void {
    if (!this.explored) {
      // The first counted execution was already folded at its end, without a token.
      this.explored = true;
      for (const key of this.fresh) {
        const d = this.all.get(key);
        if (d !== undefined) d.finding = { ...d.finding, token: info.token() };
      }
      return;
    }
    this.fold(info);
  }

  private fold(info?: ExecutionInfo): void {
    for (const [key, f] of this.current) {
      const d = this.all.get(key);
      if (d !== undefined) {
        d.runs++;
        continue;
      }
      this.all.set(key, { finding: info === undefined ? f : { ...f, token: info.token() }, runs: 1 });
      this.fresh.push(key);
    }
  }
}

function shouldFail(failOn: FailOn, status: FindingStatus): boolean {
  return failOn === 'potential' || (failOn === 'confirmed' && status === 'confirmed');
}
