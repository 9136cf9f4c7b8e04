import {
  formatTrace,
  run,
  runSync,
  stableStringify,
  SimulationError,
  type Monitor,
  type Program,
  type RunOptions,
  type RunResult,
  type Strategy,
} from '@interleave/core';
import { describe, misuse } from './misuse.js';
import { replayStrategy } from './replay.js';
import { countingPreemptions, lenientStrategy, shrinkSchedule, type ShrinkEnd, type Shrunk } from './shrink.js';
import { exhaustive, random, type ExplorationStrategy } from './strategies.js';
import { decodeToken, encodeToken } from './token.js';

/** Options that shape each run of an exploration (everything but the schedule). */
export type ExploreRunOptions = Omit<RunOptions, 'strategy' | 'monitors' | 'trace'>;

/**
 * The steps minimising one failure may spend on re-runs (its attempts and bounded
 * searches together): enough to shrink any failure of a few thousand steps fully,
 * and a bound on a failure a million steps long (a run cut at `maxSteps`), each of
 * whose re-runs is as long.
 */
const SHRINK_STEPS = 2_000_000;

/** The steps `options.shrink` allows minimising to spend, or null for none at all. */
function shrinkBudget(shrink: ExploreOptions<unknown>['shrink']): number | null {
  if (shrink === undefined || shrink === true) return SHRINK_STEPS;
  if (shrink === false) return null;
  const isObject = typeof shrink === 'object' && shrink !== null && !Array.isArray(shrink);
  const steps = isObject ? (shrink as { steps?: unknown }).steps : undefined;
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 0) {
    throw misuse(
      'INVALID_OPTION',
      'explore(program, { shrink })',
      `shrink must be true, false or { steps } with steps a non-negative integer, got ${isObject ? `steps = ${describe(steps)}` : describe(shrink)}.`,
      'leave it out (a budget of 2,000,000 steps), pass e.g. { shrink: { steps: 500_000 } }, or shrink: false to report the failure as found.',
    );
  }
  return steps;
}

/** The execution budget of strategies that never finish (random, PCT) when none is given. */
export const SEEDED_EXECUTIONS = 1000;

/** When to stop exploring. Whichever limit comes first ends it. */
export interface Budget {
  /**
   * Default 1,000 for seeded strategies, unlimited for exhaustive ones. Runs that
   * exhaustive search abandons (as redundant, `stats.redundant`, or to step over
   * another shard's subtree) count too: they cost as much, and a program can have
   * a hundred of them per execution.
   */
  readonly executions?: number;
  /** Total steps over all runs, abandoned ones included. */
  readonly steps?: number;
  /** Wall-clock milliseconds. Ending on it makes the count of executions machine-dependent. */
  readonly timeMs?: number;
}

/** Options of {@link explore} and {@link check}. */
export interface ExploreOptions<R> {
  /** How executions are chosen. Default: `random()`. */
  readonly strategy?: ExplorationStrategy;
  readonly budget?: Budget;
  /**
   * Judge a finished run: return false, or a string saying what is wrong, to fail it.
   * Runs that do not end `ok` (error, deadlock, step-limit) always fail.
   */
  readonly property?: (result: RunResult<R>) => boolean | string | undefined | void;
  /** Monitors attached to every run (e.g. from @interleave/checkers). */
  readonly monitors?: readonly Monitor[];
  /** Seed, timing, maxSteps... shared by every run. */
  readonly run?: ExploreRunOptions;
  /** Stop at the first failure. Default true for `check`, false for `explore`. */
  readonly stopOnFailure?: boolean;
  /** Groups runs into outcomes; default: status with the return value, else the last line printed. */
  readonly outcome?: (result: RunResult<R>) => string;
  /**
   * Minimise the first failing schedule before reporting it. Default true, within a
   * budget of 2,000,000 steps of re-runs (and 300 candidate schedules); `{ steps }`
   * sets the steps; false reports the failure as found. `Failure.shrinking` says
   * whether the budget cut it short. Not bounded by `budget.timeMs`, which bounds the
   * search: the failure reported must not depend on the machine's speed.
   *
   * @example
   * ```ts
   * // Runs cut at maxSteps are long: give their shrinking room for a few more re-runs.
   * await check(prog, { strategy: exhaustive(), run: { maxSteps: 1_000_000 }, shrink: { steps: 10_000_000 } });
   * ```
   */
  readonly shrink?: boolean | { readonly steps: number };
  /** Run only every `count`-th execution starting at `index` (seeded strategies): a CI shard. */
  readonly shard?: { readonly index: number; readonly count: number };
}

/** One distinct outcome and how often it was reached. */
export interface OutcomeCount {
  readonly key: string;
  readonly count: number;
  /** Replays the first execution that reached it. */
  readonly token: string;
  /** The number of that first execution, in the strategy's order (see {@link Failure.execution}). */
  readonly execution: number;
}

/** The first failing execution, already minimised. */
export interface Failure {
  /** `property` when the property rejected an `ok` run; otherwise the run's status. */
  readonly kind: 'property' | 'error' | 'deadlock' | 'step-limit';
  readonly message: string;
  /**
   * The number of the execution that failed, in the strategy's order: for seeded
   * strategies execution i runs seed + i, the same number in every shard; in a
   * sharded exhaustive search it numbers only that shard's runs.
   */
  readonly execution: number;
  /** Paste into `replay(program, token)` to re-run it exactly. */
  readonly token: string;
  readonly seed: string;
  /** The pids chosen at each choice point of the minimised run. */
  readonly schedule: readonly number[];
  /**
   * Preemptions in the reported run — choices of another process while the one that
   * took the last step could have continued — counted as it is re-run.
   */
  readonly preemptions: number;
  readonly steps: number;
  /**
   * How far minimising went: `complete` — every candidate it tries was tried;
   * `budget` — it stopped at its budget (by default 2,000,000 steps of re-runs, or
   * 300 candidates), so a smaller schedule may exist; `off` — `shrink: false`.
   */
  readonly shrinking: ShrinkEnd | 'off';
  /** The minimised run, with its trace. */
  readonly result: RunResult;
  /** The trace as one column per process. */
  readonly traceTable: string;
}

/** Which share of an exploration's work a report covers, for {@link mergeReports}. */
export interface ShardInfo {
  readonly index: number;
  readonly count: number;
  /**
   * How the work was split: `executions` — the explorer ran every `count`-th execution
   * (seeded strategies), so execution numbers are those of the unsharded run;
   * `strategy` — the strategy split its own work (exhaustive: subtrees of the search).
   */
  readonly by: 'executions' | 'strategy';
}

/** What an exploration found. */
export interface ExploreReport {
  readonly passed: boolean;
  readonly strategy: string;
  readonly executions: number;
  /** True when an exhaustive strategy ran every execution there is. */
  readonly complete: boolean;
  /**
   * The strategy was bounded (preemptions, delays): `complete` means complete within
   * the bound — and, when the bound cut nothing (`stats.boundPruned` is 0), complete
   * as an unbounded search is.
   */
  readonly bounded: boolean;
  /** A property judged the runs (else only their status did). */
  readonly hasProperty: boolean;
  /** `{ index: 0, count: 1 }` unless the `shard` option split the work. */
  readonly shard: ShardInfo;
  readonly outcomes: readonly OutcomeCount[];
  readonly failure?: Failure;
  readonly stats: {
    /** Steps of the executions counted in `executions` (abandoned runs' are in `abandoned`). */
    readonly steps: number;
    readonly elapsedMs: number;
    readonly executionsPerSecond: number;
    /** Exhaustive: executions abandoned as already covered. */
    readonly redundant: number;
    /**
     * Exhaustive: alternatives cut off by a preemption or delay bound — runs, branches
     * and race reversals it did not allow. 0 under a bound: the bound changed nothing.
     */
    readonly boundPruned: number;
    /**
     * Exhaustive: runs abandoned — as redundant, or run only to step over another
     * shard's subtree — and their steps. Not executions, but the budget counts them.
     */
    readonly abandoned: { readonly runs: number; readonly steps: number };
    /** What stopped the exploration. */
    readonly stoppedBy: 'complete' | 'failure' | 'executions' | 'steps' | 'time' | 'exhausted';
  };
  /** One paragraph for humans, e.g. the completeness statement. */
  readonly summary: string;
}

/**
 * Run a program under many schedules and report every distinct outcome, and the
 * first failure (minimised, with a replay token) if there is one.
 *
 * @example
 * ```ts
 * const report = await explore(counter, { strategy: exhaustive(), run: { timing: 'untimed' } });
 * report.outcomes;  // [{ key: 'ok 0', count: 4, token }, { key: 'ok 1', count: 2, token }]
 * report.summary;   // 'all 6 distinct executions explored; 1 failed …'
 * ```
 */
export async function explore<R>(prog: Program<R>, options: ExploreOptions<R> = {}): Promise<ExploreReport> {
  return exploreWith(prog, options, options.stopOnFailure ?? false);
}

/**
 * Like {@link explore}, stopping at the first failure by default: the way to hunt a
 * bug or to prove a fix. `report.passed` says which.
 *
 * @example
 * ```ts
 * const r = await check(lockedCounter, { strategy: exhaustive(), property: (r) => r.value === 0 });
 * expect(r.passed).toBe(true);  // r.summary: 'all 24 distinct executions explored; the property holds in every one'
 * ```
 */
export async function check<R>(prog: Program<R>, options: ExploreOptions<R> = {}): Promise<ExploreReport> {
  return exploreWith(prog, options, options.stopOnFailure ?? true);
}

/**
 * Re-run the execution a token describes, exactly. Throws a SimulationError with a
 * clear message for a malformed token or one from another program; a run whose
 * schedule cannot be followed (the program changed) ends with status `error` and a
 * `REPLAY_DIVERGED` error naming the step.
 */
export async function replay<R>(prog: Program<R>, token: string, options: { readonly trace?: boolean; readonly monitors?: readonly Monitor[] } = {}): Promise<RunResult<R>> {
  const t = decodeToken(token, prog);
  const strategy = replayStrategy(t.schedule);
  const result = await run(prog, {
    seed: t.seed,
    timing: t.timing,
    queueFeeder: t.queueFeeder,
    cpuCount: t.cpuCount,
    spawnCost: t.spawnCost,
    maxSteps: t.maxSteps,
    strategy,
    trace: options.trace ?? true,
    ...(options.monitors === undefined ? {} : { monitors: options.monitors }),
  });
  const unused = strategy.unused();
  if (unused > 0 && result.status !== 'error') {
    throw new SimulationError(
      'REPLAY_DIVERGED',
      `replay(${prog.name}, token): the run ended at step ${result.steps} with ${unused} of the token's ${t.schedule.length} choices unused, ` +
        'so it is not the execution the token recorded.\n' +
        '  How to fix: replay with the same program (and version of it) that produced the token.',
    );
  }
  return result;
}

/** `nested`: a search inside shrinking, whose executions monitors are not told about (they are not the user's). */
async function exploreWith<R>(prog: Program<R>, options: ExploreOptions<R>, stopOnFailure: boolean, nested = false): Promise<ExploreReport> {
  const source = options.strategy ?? random();
  // Strategies that can finish (they report `complete`) run until they do by default.
  const exhaustiveLike = source.complete !== undefined;
  const budget = options.budget ?? {};
  const maxExecutions = budget.executions ?? (exhaustiveLike ? Infinity : SEEDED_EXECUTIONS);
  const maxSteps = budget.steps ?? Infinity;
  const maxTime = budget.timeMs ?? Infinity;
  // A copy: the runs, and the tokens encoded from them (some on first read, after the
  // exploration), must not see the caller change the object meanwhile.
  const runOptions: ExploreRunOptions = Object.freeze(Object.assign({}, options.run));
  const monitors = options.monitors ?? [];
  const shard = options.shard ?? { index: 0, count: 1 };
  validateShard(shard);
  const shrinkSteps = shrinkBudget(options.shrink);
  if (source.shard !== undefined) source.shard(shard.index, shard.count);
  const outcomeOf = options.outcome ?? defaultOutcome;
  const counts = new Map<string, { count: number; execution: number; first: TokenSource }>();

  // The clock starts before the probe run (once per program): `budget.timeMs` covers it.
  const started = performance.now();
  // Generator-only programs run synchronously: no promise per execution.
  const sync = isGeneratorOnly(prog, runOptions);
  // Not async: a run's own promise is awaited directly, without a wrapping promise
  // (two more microtask turns per execution), and a generator-only program's result
  // is returned as it is.
  const once = (strategy: Strategy, seed: string | number | undefined, trace: boolean): Promise<RunResult<R>> | RunResult<R> => {
    // Object.assign, not object spread: V8 builds spread results slowly (about 6 µs
    // a run here, a quarter of a short execution).
    const opts: Mutable<RunOptions> = Object.assign({}, runOptions);
    if (seed !== undefined) opts.seed = seed;
    opts.strategy = strategy;
    opts.monitors = monitors;
    opts.trace = trace;
    return sync ? runSync(prog, opts) : run(prog, opts);
  };

  let executions = 0;
  let index = 0;
  let steps = 0;
  /** Runs the strategy abandoned, and their steps: not executions, but work the budget bounds. */
  let abandoned = 0;
  let abandonedSteps = 0;
  let failed: FirstFailure<R> | null = null;
  let stoppedBy: ExploreReport['stats']['stoppedBy'] = 'exhausted';
  let lastYield = started;
  for (;;) {
    // Synchronous runs never give the event loop a turn; let timers and I/O (a test
    // runner's heartbeat) through every few dozen milliseconds.
    const now = performance.now();
    if (now - lastYield > 50) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
    // A search inside shrinking counts only its executions against its small cap: its
    // abandoned runs' steps are charged to shrinking's own allowance (see minimise).
    if (executions + (nested ? 0 : abandoned) >= maxExecutions) {
      stoppedBy = 'executions';
      break;
    }
    if (steps + abandonedSteps >= maxSteps) {
      stoppedBy = 'steps';
      break;
    }
    if (now - started >= maxTime) {
      stoppedBy = 'time';
      break;
    }
    const i = index++;
    const exec = source.next(i);
    if (exec === null) {
      stoppedBy = source.complete === true ? 'complete' : 'exhausted';
      break;
    }
    if (shard.count > 1 && source.shard === undefined && i % shard.count !== shard.index) continue;
    const result = await once(exec.strategy, exec.seed, false);
    source.finished?.(result);
    if (source.isArtefact?.(result) === true) {
      abandoned++;
      abandonedSteps += result.steps;
      continue;
    }
    if (result.status === 'error' && result.error instanceof SimulationError && result.error.code !== 'REPLAY_DIVERGED') {
      // Misuse of the simulator is a bug in the test: report it as is, at once.
      throw result.error;
    }
    executions++;
    steps += result.steps;
    const key = outcomeOf(result);
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { count: 1, execution: i, first: { seed: result.seed, timing: result.timing, schedule: result.schedule } });
    else entry.count++;
    // Monitors that judge the whole exploration (checkers' sometimes/reachable) learn
    // which runs count, and can ask for a token; shrinking re-runs are not told.
    let token: string | undefined;
    if (!nested) for (const m of monitors) m.onExecution?.({ index: executions - 1, result, token: () => (token ??= encodeToken(result, prog, runOptions)) });
    const verdict = judge(result, options.property);
    if (verdict !== null && failed === null) {
      failed = { result, execution: i, ...verdict };
      if (stopOnFailure) {
        stoppedBy = 'failure';
        break;
      }
    }
  }
  const elapsedMs = performance.now() - started;

  let failure: Failure | undefined;
  if (failed !== null) failure = await minimise(prog, failed, options, runOptions, once, shrinkSteps, nested);
  const complete = source.complete === true && stoppedBy !== 'failure' && (stoppedBy === 'complete' || stoppedBy === 'exhausted');
  const pruned = source.pruned ?? { redundant: 0, byBound: 0 };
  const outcomes = [...counts].map(([key, v]) => outcomeCount(key, v.count, v.execution, prog, runOptions, v.first)).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
  return {
    passed: failure === undefined,
    strategy: source.name,
    executions,
    complete,
    bounded: source.bounded === true,
    hasProperty: options.property !== undefined,
    shard: { index: shard.index, count: shard.count, by: source.shard === undefined ? 'executions' : 'strategy' },
    outcomes,
    ...(failure === undefined ? {} : { failure }),
    stats: {
      steps,
      elapsedMs,
      executionsPerSecond: elapsedMs > 0 ? (executions * 1000) / elapsedMs : executions,
      redundant: pruned.redundant,
      boundPruned: pruned.byBound,
      abandoned: { runs: abandoned, steps: abandonedSteps },
      stoppedBy: complete ? 'complete' : stoppedBy,
    },
    summary: summarise(source, executions, complete, pruned.byBound, failure, outcomes.length, stoppedBy, options.property !== undefined),
  };
}

/**
 * Probe once, without counting: does every process of this program run as a
 * generator? (A program whose async processes appear only under some schedules is
 * caught too: runSync then fails with ASYNC_IN_SYNC_RUN, reported as misuse.)
 */
function isGeneratorOnly(prog: Program, runOptions: ExploreRunOptions): boolean {
  let known = styleOf.get(prog);
  if (known === undefined) {
    const probe = runSync(prog, { ...runOptions, strategy: { name: 'probe', choose: () => 0 } });
    known = !(probe.status === 'error' && probe.error instanceof SimulationError && probe.error.code === 'ASYNC_IN_SYNC_RUN');
    styleOf.set(prog, known);
  }
  return known;
}

/** Programs already probed: a program's style does not change between explorations. */
const styleOf = new WeakMap<Program, boolean>();

function judge<R>(r: RunResult<R>, property: ExploreOptions<R>['property']): { kind: Failure['kind']; message: string } | null {
  if (r.status !== 'ok') return { kind: r.status, message: r.message };
  if (property === undefined) return null;
  const v = property(r);
  if (v === false) return { kind: 'property', message: 'the property returned false' };
  if (typeof v === 'string') return { kind: 'property', message: v };
  return null;
}

/** The outcome key when none is given; also what parallel workers log executions by. */
export function defaultOutcome(r: RunResult): string {
  if (r.status !== 'ok') return `${r.status}: ${r.message.split('\n')[0]}`;
  if (r.value !== undefined) return `ok ${stableStringify(r.value)}`;
  return `ok ${JSON.stringify(lastStdoutLine(r.output))}`;
}

/**
 * The last non-blank line of stdout (as `stdout.trimEnd()` would end), read from the
 * end of the output: joining all of stdout for every execution cost more than the run.
 */
function lastStdoutLine(output: RunResult['output']): string {
  let tail = '';
  for (let i = output.length - 1; i >= 0; i--) {
    const line = output[i]!;
    if (line.stream !== 'stdout') continue;
    tail = `${line.text}\n${tail}`;
    const trimmed = tail.trimEnd();
    if (trimmed !== '') return trimmed.slice(trimmed.lastIndexOf('\n') + 1);
  }
  return '';
}

/** The first failing execution as found, before minimising. */
interface FirstFailure<R> {
  readonly result: RunResult<R>;
  readonly execution: number;
  readonly kind: Failure['kind'];
  readonly message: string;
}

async function minimise<R>(
  prog: Program<R>,
  failed: FirstFailure<R>,
  options: ExploreOptions<R>,
  /** The exploration's copy of `options.run`. */
  runOptions: ExploreRunOptions,
  once: (s: Strategy, seed: string | number | undefined, trace: boolean) => Promise<RunResult<R>> | RunResult<R>,
  /**
   * Steps of re-runs allowed (null: do not shrink). Not wall-clock time: the failure
   * reported must be the same on every machine.
   */
  allowed: number | null,
  /** A search inside shrinking, which wants only the failing schedule: no traced re-run. */
  nested: boolean,
): Promise<Failure> {
  const seed = failed.result.seed;
  let spent = 0;
  const exhausted = (): boolean => spent >= (allowed ?? 0);
  const attempt = async (pids: readonly number[]): Promise<Shrunk | null> => {
    const strategy = lenientStrategy(pids);
    const r = await once(strategy, seed, false);
    spent += r.steps;
    const v = judge(r, options.property);
    return v !== null && v.kind === failed.kind ? { result: r, preemptions: strategy.preemptions() } : null;
  };
  const shrink = allowed !== null;
  const start = shrink && !exhausted() ? await attempt(failed.result.schedule.toArray()) : null;
  let best: Shrunk = start ?? { result: failed.result, preemptions: Infinity };
  let shrinking: Failure['shrinking'] = !shrink ? 'off' : start === null && exhausted() ? 'budget' : 'complete';
  if (start !== null) {
    // The search for fewer preemptions covers the whole bounded tree, not this shard's
    // part of it: a shard minimises a failure exactly as the unsharded run would.
    const { shard: _shard, ...unsharded } = options;
    // Fewest preemptions first: iterative context bounding (as CHESS does) — the
    // bounded exhaustive search with 0, 1, 2… preemptions, each within a small budget.
    for (let bound = 0; bound < best.preemptions; bound++) {
      if (exhausted()) {
        shrinking = 'budget';
        break;
      }
      const budget = { executions: 2000, steps: allowed! - spent };
      const bounded = await exploreWith(prog, { ...unsharded, strategy: exhaustive({ preemptionBound: bound }), shrink: false, budget, run: { ...runOptions, seed } }, true, true);
      spent += bounded.stats.steps + bounded.stats.abandoned.steps;
      const found = bounded.failure;
      if (found !== undefined && found.kind === failed.kind) {
        const c = await attempt(found.schedule);
        if (c !== null && c.preemptions < best.preemptions) best = c;
        break;
      }
    }
    const shrunk = await shrinkSchedule(best, attempt, exhausted);
    best = shrunk.best;
    if (shrunk.end === 'budget') shrinking = 'budget';
  }
  // Re-run the chosen schedule exactly, with its trace, for the report (a nested
  // search does not shrink: its failure is the run it found).
  const replayed = countingPreemptions(replayStrategy(best.result.schedule));
  const final = nested ? failed.result : await once(replayed, seed, true);
  const verdict = judge(final, options.property) ?? { kind: failed.kind, message: failed.message };
  const failure: Omit<Failure, 'traceTable'> = {
    kind: verdict.kind,
    message: verdict.message,
    execution: failed.execution,
    token: encodeToken(final, prog, runOptions),
    seed,
    schedule: final.schedule.toArray(),
    // A nested search's failure is only searched for its schedule (which shrinking
    // then runs and counts): it has no count of its own.
    preemptions: nested ? best.preemptions : replayed.preemptions(),
    steps: final.steps,
    shrinking,
    result: final,
  };
  return withTraceTable(failure);
}

/** @internal Give a failure its lazily rendered `traceTable`. */
export function withTraceTable(failure: Omit<Failure, 'traceTable'>): Failure {
  return Object.defineProperty(failure, 'traceTable', LAZY_TRACE_TABLE) as Failure;
}

/**
 * `traceTable`, rendered on first read: hunts that only want the token do not pay for
 * it. One shared getter rather than a closure in the literal, which V8 would keep in
 * the object's hidden class (and with it every hunt's run) until a full GC.
 */
const LAZY_TRACE_TABLE: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: { result: RunResult }): string {
    const r = this.result;
    const table = r.trace === undefined ? '' : formatTrace(r.trace, r.processes);
    if (!Object.isFrozen(this)) Object.defineProperty(this, 'traceTable', { value: table, enumerable: true });
    return table;
  },
};

/** What an outcome's token is encoded from: copied out of its first run, so the run (its output, its value) is not kept. */
type TokenSource = Pick<RunResult, 'seed' | 'timing' | 'schedule'>;

/**
 * An outcome whose `token` is encoded on first read: most hunts never read one, and
 * encoding one per new outcome while exploring cost as much as a short execution.
 */
function outcomeCount(key: string, count: number, execution: number, prog: Program, runOptions: ExploreRunOptions, first: TokenSource): OutcomeCount {
  // A plain object, as a parallel exploration's outcomes (cloned from a worker) are:
  // the token an accessor in its place between count and execution (defined as data
  // and then redefined, every outcome became a slow dictionary-mode object), what it
  // is encoded from under a symbol that enumeration, JSON and cloning leave out (a
  // WeakMap's insertion was about 3 % of the CPU time of a one-execution check).
  const o = { key, count } as Mutable<OutcomeCount>;
  Object.defineProperty(o, 'token', LAZY_TOKEN);
  o.execution = execution;
  Object.defineProperty(o, ORIGIN, { value: { prog, runOptions, first } satisfies TokenOrigin });
  return o;
}

/** What an outcome's token is encoded from. */
interface TokenOrigin {
  readonly prog: Program;
  readonly runOptions: ExploreRunOptions;
  readonly first: TokenSource;
}

const ORIGIN = Symbol('interleave.tokenOrigin');

/** The shared getter of every outcome's token (see LAZY_TRACE_TABLE for why not a closure). */
const LAZY_TOKEN: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: OutcomeCount & { readonly [ORIGIN]: TokenOrigin }): string {
    const { prog, runOptions, first } = this[ORIGIN];
    const token = encodeToken(first, prog, runOptions);
    if (!Object.isFrozen(this)) Object.defineProperty(this, 'token', { value: token, enumerable: true });
    return token;
  },
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function minimised(failure: Pick<Failure, 'shrinking'>): string {
  if (failure.shrinking === 'off') return 'not minimised (shrink: false):';
  return failure.shrinking === 'budget' ? 'minimised (until the shrinking budget ran out) to' : 'minimised to';
}

/** The report's one paragraph; also what {@link mergeReports} rebuilds for the merged report. */
export function summarise(
  source: Pick<ExplorationStrategy, 'name' | 'bounded'>,
  executions: number,
  complete: boolean,
  boundPruned: number,
  failure: Pick<Failure, 'kind' | 'message' | 'preemptions' | 'steps' | 'token' | 'shrinking'> | undefined,
  outcomes: number,
  stoppedBy: string,
  hasProperty: boolean,
): string {
  const strategy = source.name;
  const what = hasProperty ? 'the property holds' : 'every run ended ok';
  if (failure !== undefined) {
    return (
      `${strategy}: failed after ${executions} execution(s): ${failure.kind}: ${failure.message.split('\n')[0]}\n` +
      `  ${minimised(failure)} ${failure.preemptions} preemption(s), ${failure.steps} steps; replay with: ${failure.token}`
    );
  }
  if (complete && source.bounded === true && boundPruned > 0) {
    return (
      `${strategy}: the bounded search finished after ${executions} execution(s); ${what} in every one; ${outcomes} distinct outcome(s). ` +
      `Executions beyond the bound were not run (${boundPruned} alternative(s) cut), and partial-order reduction under a bound ` +
      'may skip some within it (reduction: false runs every one): not a proof.'
    );
  }
  if (complete) {
    // A bound that cut nothing leaves the search what it would be without it: a proof.
    const uncut = source.bounded === true ? '; the bound cut nothing' : '';
    return `${strategy}: all ${executions} distinct executions explored (complete up to partial-order equivalence${uncut}); ${what} in every one; ${outcomes} distinct outcome(s).`;
  }
  const bound = boundPruned > 0 ? `; the bound cut off ${boundPruned} alternative(s), so this is not a proof` : '';
  return `${strategy}: ${executions} execution(s), no failure (stopped by ${stoppedBy}${bound}); ${outcomes} distinct outcome(s). This is evidence, not a proof.`;
}

function validateShard(s: { readonly index: number; readonly count: number }): void {
  if (!Number.isInteger(s.count) || s.count < 1 || !Number.isInteger(s.index) || s.index < 0 || s.index >= s.count) {
    throw new SimulationError(
      'INVALID_OPTION',
      `explore(program, { shard }): shard must be { index, count } with 0 <= index < count, got ${JSON.stringify(s)}.\n` +
        '  How to fix: for CI job i of n (1-based) pass { index: i - 1, count: n }.',
    );
  }
}
