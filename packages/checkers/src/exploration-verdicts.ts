/**
 * Verdicts over a whole exploration rather than one run: `sometimes(pred)` — some
 * event of some execution satisfies it — and `reachable(check)` — some execution
 * ends in a final state that satisfies it. One instance accumulates over every run
 * it is attached to, so pass the same instance to `explore` and read `verdict`
 * afterwards: "reached in 3 of 120 executions; first: execution 7 …, token il1.…".
 */
import type { ExecutionInfo, Monitor, TraceEvent } from '@interleave/core';
import type { FinalCheck } from './assertions.js';
import type { Finding, FindingEvent } from './report.js';
import { RunView, sharedView } from './run-view.js';

/** Where a verdict's predicate first held. */
export interface Witness {
  /** 0-based execution (or run) number among those counted. */
  readonly execution: number;
  /** The event at which it held (for `reachable`: the run's last step). */
  readonly event: FindingEvent;
  /** Replays that execution; present when an explorer supplied it. */
  readonly token?: string;
}

/** The accumulated answer. */
export interface Verdict {
  readonly name: string;
  readonly kind: 'sometimes' | 'reachable';
  /** Executions counted: an explorer's counted executions, else every run seen. */
  readonly executions: number;
  /** Of those, how many reached it. */
  readonly reached: number;
  /** reached > 0. */
  readonly holds: boolean;
  readonly first?: Witness;
  /** One line, e.g. `lost update: reached in 3 of 120 executions; first in execution 7 at step 412 (t=0s); token il1.…`. */
  readonly summary: string;
}

/** A monitor whose verdict spans every run it observed. */
export interface ExplorationVerdict extends Monitor {
  readonly verdict: Verdict;
  /** The verdict as a finding (kind `sometimes`/`reachable`, confirmed when reached). */
  finding(): Finding;
  /** Forget every run seen so far. */
  reset(): void;
}

/**
 * Holds if, in some execution, some event satisfies the predicate `make()` returns
 * (a fresh predicate per run, so it may keep per-run state). Never fails a run.
 *
 * @example
 * ```ts
 * // Can two workers be inside the critical section at once?
 * const both = sometimes('two inside', () => {
 *   let inside = 0;
 *   return (e) => {
 *     if (e.type === 'print') inside += e.text === 'in' ? 1 : e.text === 'out' ? -1 : 0;
 *     return inside >= 2;
 *   };
 * });
 * await explore(prog, { strategy: exhaustive(), monitors: [both] });
 * both.verdict.summary; // 'two inside: reached in 0 of 24 executions'
 * ```
 */
export function sometimes(name: string, make: () => (event: TraceEvent) => boolean): ExplorationVerdict {
  let pred: (event: TraceEvent) => boolean = () => false;
  let view = new RunView();
  let hit: FindingEvent | null = null;
  const acc = new Accumulator(name, 'sometimes');
  return {
    name: `sometimes: ${name}`,
    get verdict() {
      return acc.verdict();
    },
    finding: () => acc.finding(),
    reset: () => acc.reset(),
    onStart(ctx) {
      pred = make();
      view = sharedView(ctx);
      hit = null;
    },
    onEvent(e) {
      view.see(e);
      if (hit === null && pred(e)) hit = view.at(e.pid, describe(e), `"${name}" holds`, e.step, e.time);
    },
    onEnd() {
      acc.runEnded(hit);
    },
    onExecution(info) {
      acc.execution(info);
    },
  };
}

/**
 * Holds if some execution ends (every process exited) in a final state that
 * satisfies the check `make()` returns — e.g. "the lost update is reachable": some
 * schedule ends with the counter above 0. Runs that end otherwise are counted but
 * cannot reach it. Never fails a run.
 *
 * @example
 * ```ts
 * const lost = reachable('lost update', () => {
 *   let count = 0;
 *   return {
 *     observe: (e) => { if (e.type === 'access' && e.kind === 'write') count = e.value as number; },
 *     holds: () => count > 0,
 *   };
 * });
 * await explore(counter, { strategy: random(), budget: { executions: 120 }, monitors: [lost] });
 * lost.verdict.summary; // 'lost update: reached in 3 of 120 executions; first in execution 7 …; token il1.…'
 * ```
 */
export function reachable(name: string, make: () => FinalCheck): ExplorationVerdict {
  let check: FinalCheck = { holds: () => false };
  let view = new RunView();
  const acc = new Accumulator(name, 'reachable');
  return {
    name: `reachable: ${name}`,
    get verdict() {
      return acc.verdict();
    },
    finding: () => acc.finding(),
    reset: () => acc.reset(),
    onStart(ctx) {
      check = make();
      view = sharedView(ctx);
    },
    onEvent(e) {
      view.see(e);
      check.observe?.(e);
    },
    onEnd() {
      const v = view.allExited ? check.holds() : false;
      const ok = v === true || (typeof v === 'string' && v !== '');
      acc.runEnded(ok ? view.at(0, 'end of run', typeof v === 'string' ? v : `"${name}" holds in the final state`) : null);
    },
    onExecution(info) {
      acc.execution(info);
    },
  };
}

/**
 * Counts runs. Without an explorer every run counts when it ends; once an explorer
 * reports executions (`onExecution`), only those count — its internal re-runs
 * (shrinking, pruned executions) do not — and the first witness gets its token.
 */
class Accumulator {
  private runs = 0;
  private runsReached = 0;
  private runFirst: Witness | undefined;
  private executions = 0;
  private reached = 0;
  private first: Witness | undefined;
  private last: FindingEvent | null = null;

  constructor(
    private readonly name: string,
    private readonly kind: 'sometimes' | 'reachable',
  ) {}

  runEnded(hit: FindingEvent | null): void {
    this.last = hit;
    if (hit !== null) {
      this.runsReached++;
      this.runFirst ??= { execution: this.runs, event: hit };
    }
    this.runs++;
  }

  execution(info: ExecutionInfo): void {
    if (this.last !== null) {
      this.reached++;
      this.first ??= { execution: info.index, event: this.last, token: info.token() };
    }
    this.executions++;
    this.last = null;
  }

  reset(): void {
    this.runs = this.runsReached = this.executions = this.reached = 0;
    this.runFirst = this.first = undefined;
    this.last = null;
  }

  verdict(): Verdict {
    const explored = this.executions > 0;
    const executions = explored ? this.executions : this.runs;
    const reached = explored ? this.reached : this.runsReached;
    const first = explored ? this.first : this.runFirst;
    const unit = explored ? 'executions' : 'runs';
    let summary = `${this.name}: reached in ${reached} of ${executions} ${unit}`;
    if (first !== undefined) {
      const e = first.event;
      summary += `; first in ${explored ? 'execution' : 'run'} ${first.execution} at step ${e.step} (t=${Number(e.time.toFixed(6))}s)`;
      if (e.pid !== 0) summary += `, ${e.name} (pid ${e.pid}) ${e.op}`;
      if (first.token !== undefined) summary += `; token ${first.token}`;
    }
    return { name: this.name, kind: this.kind, executions, reached, holds: reached > 0, ...(first === undefined ? {} : { first }), summary };
  }

  finding(): Finding {
    const v = this.verdict();
    const what = this.kind === 'sometimes' ? 'some event of some execution satisfies it' : 'some execution ends in a state that satisfies it';
    return {
      kind: this.kind,
      status: v.holds ? 'confirmed' : 'potential',
      message: v.summary,
      why: v.holds
        ? `${what}: the schedule of the first witness leads there.`
        : `none of the ${v.executions} executions explored got there; an exhaustive exploration that completes makes this a proof, a sampled one does not.`,
      fix: v.holds
        ? 'if this state must be impossible, replay the token and protect the steps that lead to it (a lock around the read-modify-write, a join before the read).'
        : 'if this state must be possible, explore more (exhaustive() or a larger budget) or check the predicate.',
      events: v.first === undefined ? [] : [v.first.event],
      ...(v.first?.token === undefined ? {} : { token: v.first.token }),
      data: { executions: v.executions, reached: v.reached },
      key: `${this.kind}:${this.name}`,
    };
  }
}

function describe(e: TraceEvent): string {
  switch (e.type) {
    case 'done':
    case 'issue':
      return `${e.obj}.${e.op}()`;
    case 'print':
      return `print ${JSON.stringify(e.text)}`;
    case 'access':
      return `${e.kind} ${e.loc} = ${JSON.stringify(e.value)}`;
    default:
      return e.type;
  }
}
