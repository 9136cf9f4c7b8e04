/**
 * The worker-thread side of {@link exploreParallel}: load the job, explore one shard,
 * and answer with a report that survives structured cloning.
 */
import { parentPort } from 'node:worker_threads';
import type { RunResult } from '@interleave/core';
import { defaultOutcome, explore, SEEDED_EXECUTIONS, type Budget, type ExploreOptions, type Failure } from './explore.js';
import { loadJob, type ExploreJob } from './job.js';
import type { ShardReport } from './merge.js';
import { describe, misuse } from './misuse.js';
import { random, type ExplorationStrategy } from './strategies.js';
import { encodeToken } from './token.js';

/** What the main thread asks a worker to do (its `workerData`). */
export interface ShardTask {
  readonly api: string;
  /** Register tsx first, then import `entry` (this module), whose `runShard` does the work. */
  readonly tsx: boolean;
  readonly entry: string;
  readonly module: string;
  readonly exportName: string;
  readonly index: number;
  readonly count: number;
  /** The default when the job's options do not say: false for explore, true for check. */
  readonly stopOnFailure: boolean;
  /**
   * One Int32: the lowest execution number at which any worker has failed. Workers
   * stopping at their first failure run nothing numbered above it.
   */
  readonly firstFailure: SharedArrayBuffer;
}

/** A failure without its run: the run holds functions and class instances, which cannot cross threads. */
export type FailureFacts = Omit<Failure, 'result' | 'traceTable'>;

/**
 * Every execution a worker counted, by number, with its outcome: what the main thread
 * needs to cut the merged exploration exactly at the first failure.
 */
export interface ExecutionLog {
  readonly index: number[];
  readonly key: number[];
  readonly steps: number[];
  /** Outcome keys by id, and the token of the first execution of this worker that reached each. */
  readonly keys: string[];
  readonly tokens: string[];
}

/** Sent as soon as a worker that stops at its first failure meets it, before minimising it. */
export interface FailedMessage {
  readonly type: 'failed';
  /** How the work is split: which of two failures comes first in the unsharded order. */
  readonly by: 'executions' | 'strategy';
  /** The failing execution's number (the unsharded one for a split by executions, else this shard's). */
  readonly execution: number;
  readonly log?: ExecutionLog;
}

export interface ReportMessage {
  readonly type: 'report';
  readonly report: ShardReport<FailureFacts>;
  readonly log?: ExecutionLog;
}

/** No failure yet: the largest Int32. */
export const NO_FAILURE = 0x7fffffff;

/** Explore the task's shard. Errors are thrown: Node hands them to the main thread's `error` listener with their name, message and code. */
export async function runShard(task: ShardTask): Promise<ReportMessage> {
  const found = await loadJob(task.module, task.exportName, task.api);
  const options: unknown = found.options();
  if (typeof options !== 'object' || options === null) {
    throw misuse('INVALID_ARGUMENT', task.api, `the job's options() must return an options object, got ${describe(options)}.`, 'return e.g. { strategy: random(), property }.');
  }
  const given = options as ExploreOptions<unknown>;
  if (given.shard !== undefined) {
    throw misuse('INVALID_OPTION', task.api, `the job's options set shard ${JSON.stringify(given.shard)}, but each worker explores a shard of its own.`, 'remove `shard` from the job; use it only with explore() in CI matrices.');
  }
  const stopOnFailure = given.stopOnFailure ?? task.stopOnFailure;
  const watch = stopOnFailure ? watchFailures(given, found.program, task) : null;
  const report = await explore(found.program, {
    ...given,
    ...watch?.options,
    shard: { index: task.index, count: task.count },
    stopOnFailure,
    ...shareOf(given, task.index, task.count),
  });
  const { failure, ...rest } = report;
  const log = watch?.log;
  return { type: 'report', report: failure === undefined ? rest : { ...rest, failure: factsOf(failure) }, ...(log === undefined ? {} : { log }) };
}

/**
 * For a worker that stops at its first failure: tell the main thread at once (so it
 * can stop workers that no longer matter), and, when the work is split by execution
 * number, stop before any execution numbered above another worker's failure and log
 * every execution so the merge can cut at the first failure exactly.
 *
 * It hooks only public contracts: `next(i)` is asked for execution i and `null` ends
 * the exploration; `outcome` is asked once per counted execution, before the
 * property judges it.
 */
function watchFailures(given: ExploreOptions<unknown>, prog: ExploreJob['program'], task: ShardTask): { options: Partial<ExploreOptions<unknown>>; log?: ExecutionLog } {
  const source = given.strategy;
  const byExecution = source?.shard === undefined;
  const first = new Int32Array(task.firstFailure);
  let current = -1;
  let failed = false;
  const log: ExecutionLog | undefined = byExecution ? { index: [], key: [], steps: [], keys: [], tokens: [] } : undefined;
  const ids = new Map<string, number>();
  const fail = (): void => {
    failed = true;
    if (byExecution) {
      // Lower the shared bound to this execution unless another worker's is lower.
      for (let seen = Atomics.load(first, 0); current < seen; seen = Atomics.load(first, 0)) {
        if (Atomics.compareExchange(first, 0, seen, current) === seen) break;
      }
    }
    const message: FailedMessage = { type: 'failed', by: byExecution ? 'executions' : 'strategy', execution: current, ...(log === undefined ? {} : { log }) };
    parentPort?.postMessage(message);
  };
  const outcomeOf = given.outcome ?? defaultOutcome;
  const runOptions = given.run ?? {};
  const options: { strategy?: ExplorationStrategy; outcome: (r: RunResult<unknown>) => string; property?: NonNullable<ExploreOptions<unknown>['property']> } = {
    outcome: (r) => {
      const key = outcomeOf(r);
      // After the first failure the explorer only minimises it: those runs are not the exploration's.
      if (failed) return key;
      if (log !== undefined) {
        let id = ids.get(key);
        if (id === undefined) {
          id = log.keys.length;
          ids.set(key, id);
          log.keys.push(key);
          log.tokens.push(encodeToken(r, prog, runOptions));
        }
        log.index.push(current);
        log.key.push(id);
        log.steps.push(r.steps);
      }
      if (r.status !== 'ok') fail();
      return key;
    },
  };
  const property = given.property;
  if (property !== undefined) {
    options.property = (r) => {
      const verdict = property(r);
      if (!failed && (verdict === false || typeof verdict === 'string')) fail();
      return verdict;
    };
  }
  const strategy = source ?? random();
  options.strategy = cutAtFirstFailure(strategy, (i) => {
    if (byExecution && i > Atomics.load(first, 0)) return false;
    current = i;
    return true;
  });
  return log === undefined ? { options } : { options, log };
}

/**
 * The budget of one shard. For a split by execution number, the job's budget is the
 * whole exploration's: shard i of n runs the executions below it numbered i mod n,
 * so the shards together run exactly the executions the unsharded run would. A
 * strategy that splits itself (exhaustive) keeps the budget per shard.
 */
function shareOf(options: ExploreOptions<unknown>, index: number, count: number): { budget?: Budget } {
  const strategy = options.strategy;
  const total = options.budget?.executions ?? (strategy?.complete !== undefined ? Infinity : SEEDED_EXECUTIONS);
  if (strategy?.shard !== undefined || !Number.isFinite(total)) return options.budget === undefined ? {} : { budget: options.budget };
  return { budget: { ...options.budget, executions: Math.max(0, Math.ceil((total - index) / count)) } };
}

function factsOf(f: Failure): FailureFacts {
  return { kind: f.kind, message: f.message, execution: f.execution, token: f.token, seed: f.seed, schedule: f.schedule, preemptions: f.preemptions, steps: f.steps, shrinking: f.shrinking };
}

/**
 * The job's strategy with a gate on `next` (no execution past the first failure any
 * worker found). Every other member is forwarded to the strategy itself — and only
 * those it has, since the explorer reads their presence (`complete` marks an
 * exhaustive strategy) — so a strategy that keeps state on `this` keeps it in one place.
 */
function cutAtFirstFailure(s: ExplorationStrategy, admit: (index: number) => boolean): ExplorationStrategy {
  const view: { -readonly [K in keyof ExplorationStrategy]: ExplorationStrategy[K] } = {
    name: s.name,
    next: (i) => (admit(i) ? s.next(i) : null),
  };
  if (s.finished !== undefined) view.finished = (r) => s.finished!(r);
  if (s.isArtefact !== undefined) view.isArtefact = (r) => s.isArtefact!(r);
  if (s.shard !== undefined) view.shard = (index, count) => s.shard!(index, count);
  if (s.bounded !== undefined) view.bounded = s.bounded;
  if (s.complete !== undefined) Object.defineProperty(view, 'complete', { enumerable: true, get: () => s.complete });
  if (s.pruned !== undefined) Object.defineProperty(view, 'pruned', { enumerable: true, get: () => s.pruned });
  return view;
}
