import { extname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SimulationError, type SimulationErrorCode } from '@interleave/core';
import { replay, withTraceTable, type ExploreReport, type Failure } from './explore.js';
import { loadJob, moduleHref, type ExploreJob } from './job.js';
import { Failures } from './first-failure.js';
import { describe, misuse } from './misuse.js';
import { NO_FAILURE, type FailedMessage, type FailureFacts, type ReportMessage, type ShardTask } from './worker.js';

/** Options of {@link exploreParallel} and {@link checkParallel}. */
export interface ParallelOptions {
  /**
   * Worker threads, each exploring one shard. Required, not guessed from the machine:
   * the number of shards decides how an exhaustive search is split (see docs).
   */
  readonly workers: number;
  /**
   * Register tsx's loader in each worker, so that it can import TypeScript (worker
   * threads get no loader from the main thread: Node 20 does not run `--import` in
   * them, and vitest compiles without one). tsx is resolved from the current
   * directory, as `node --import tsx` resolves it. Default: true when this package or
   * the job's module is TypeScript source; pass false for compiled JavaScript.
   */
  readonly tsx?: boolean;
}

/**
 * Explore a job on worker threads, one shard per worker, and merge their reports
 * with {@link mergeReports}: run to completion, the result equals `explore(program,
 * options)` in one thread (for `exhaustive()`, with `splitDepth: 2` when there are
 * two or more workers). For seeded strategies the job's `budget.executions` is the
 * whole exploration's, split between the workers; for exhaustive ones it is each
 * worker's. `budget.steps` and `budget.timeMs` always apply to each worker.
 *
 * `module` is imported in every worker and in this thread (to check the export, and
 * to re-run the failure, if any, with its trace). Monitors run in the workers: an
 * exploration-wide verdict such as checkers' `sometimes` sees one shard.
 *
 * @example
 * ```ts
 * // counter.job.ts
 * export const survey = job(counter(3, false), () => ({ strategy: exhaustive(), run: { timing: 'untimed' } }));
 * // main.ts
 * const report = await exploreParallel(new URL('./counter.job.ts', import.meta.url), 'survey', { workers: 2 });
 * report.outcomes; // as explore() gives in one thread
 * ```
 */
export async function exploreParallel(module: URL | string, exportName: string, options: ParallelOptions): Promise<ExploreReport> {
  return inWorkers(module, exportName, options, false, `exploreParallel(module, ${JSON.stringify(exportName)}, options)`);
}

/**
 * {@link exploreParallel} that stops at the first failure by default, as {@link check}
 * does — in every worker: a failure stops the workers whose remaining work comes
 * after it. For seeded strategies the report is exactly `check`'s in one thread (the
 * same failure, executions and outcomes); for `exhaustive()` it covers the shards up
 * to the first failing one, in shard order. Either way it does not depend on which
 * worker was faster.
 *
 * @example
 * ```ts
 * const r = await checkParallel(new URL('./counter.job.ts', import.meta.url), 'hunt', { workers: 4 });
 * if (!r.passed) console.log(r.failure?.token);
 * ```
 */
export async function checkParallel(module: URL | string, exportName: string, options: ParallelOptions): Promise<ExploreReport> {
  return inWorkers(module, exportName, options, true, `checkParallel(module, ${JSON.stringify(exportName)}, options)`);
}

/**
 * Runs each worker: register the loader, then import the worker module and explore.
 * An evaluated script, because the worker module itself may need the loader. (tsx's
 * `tsx` entry does not register itself in worker threads on Node 20; its API does.)
 */
const BOOT = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) {
    const api = await import('tsx/esm/api').catch((e) => {
      throw Object.assign(new Error(e.message), { code: 'TSX_NOT_FOUND' });
    });
    api.register();
  }
  const { runShard } = await import(workerData.entry);
  parentPort.postMessage(await runShard(workerData));
})();
`;

const OWN_EXTENSION = extname(new URL(import.meta.url).pathname);
const ENTRY = new URL(`./worker${OWN_EXTENSION}`, import.meta.url).href;
const TYPESCRIPT = /\.[cm]?ts$/;

async function inWorkers(module: URL | string, exportName: string, options: ParallelOptions, stopOnFailure: boolean, api: string): Promise<ExploreReport> {
  const href = moduleHref(module, api);
  if (typeof exportName !== 'string' || exportName === '') {
    throw misuse('INVALID_ARGUMENT', api, `exportName must be the name of the module's job export, got ${describe(exportName)}.`, "pass e.g. 'survey' for export const survey = job(...).");
  }
  const { workers: count, tsx } = checkOptions(options, href, api);
  const found = await loadJob(href, exportName, api);
  const started = performance.now();
  const firstFailure = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  new Int32Array(firstFailure)[0] = NO_FAILURE;
  const failures = new Failures();
  const runs: ShardRun[] = [];
  let replies: (ReportMessage | null)[];
  try {
    // Started inside the try: if starting worker k throws, workers 0…k−1 are stopped too.
    for (let index = 0; index < count; index++) {
      const task: ShardTask = { api, tsx, entry: ENTRY, module: href, exportName, index, count, stopOnFailure, firstFailure };
      runs.push(new ShardRun(new Worker(BOOT, { eval: true, workerData: task }), index, count, api, (m) => failures.add(index, m, runs)));
    }
    replies = await Promise.all(runs.map((r) => r.reply));
  } finally {
    // On the first error the others are stopped at once (dropped: their exit is no
    // second error, even for workers no one awaits yet); after success a no-op.
    await Promise.all(runs.map((r) => r.drop()));
  }
  const merged = failures.merge(replies, api);
  const elapsedMs = performance.now() - started;
  const { failure, ...rest } = merged;
  return {
    ...rest,
    ...(failure === undefined ? {} : { failure: await rebuild(found, failure) }),
    stats: { ...rest.stats, elapsedMs, executionsPerSecond: elapsedMs > 0 ? (rest.executions * 1000) / elapsedMs : rest.executions },
  };
}

function checkOptions(options: ParallelOptions, href: string, api: string): { workers: number; tsx: boolean } {
  if (typeof options !== 'object' || options === null) {
    throw misuse('INVALID_OPTION', api, `options must be an object, got ${describe(options)}.`, 'pass e.g. { workers: 2 }.');
  }
  const n: unknown = options.workers;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw misuse('INVALID_OPTION', api, `workers must be a positive integer, got ${describe(n)}.`, 'pass e.g. { workers: 2 }; os.availableParallelism() tells how many cores there are.');
  }
  const tsx: unknown = options.tsx ?? (TYPESCRIPT.test(OWN_EXTENSION) || TYPESCRIPT.test(new URL(href).pathname));
  if (typeof tsx !== 'boolean') {
    throw misuse('INVALID_OPTION', api, `tsx must be a boolean, got ${describe(tsx)}.`, 'omit it, or pass false when the job and this package are compiled JavaScript.');
  }
  return { workers: n, tsx };
}

/** One worker: its report, null once it is dropped (its shard no longer matters), or a clear error if it threw or died. */
class ShardRun {
  readonly reply: Promise<ReportMessage | null>;
  private dropped = false;
  private stopped: Promise<unknown> | null = null;

  constructor(
    readonly worker: Worker,
    readonly index: number,
    count: number,
    api: string,
    onFailed: (m: FailedMessage) => void,
  ) {
    const which = `the worker exploring shard ${index} of ${count}`;
    this.reply = new Promise((resolve, reject) => {
      worker.on('message', (m: FailedMessage | ReportMessage) => (m.type === 'failed' ? onFailed(m) : resolve(m)));
      worker.once('error', (e: Error & { code?: unknown }) => reject(fromWorker(e, which, api)));
      worker.once('exit', (code) => {
        if (this.dropped) resolve(null);
        else reject(misuse('WORKER_FAILED', api, `${which} exited (code ${code}) before reporting.`, 'the job must not call process.exit; explore it in one thread to see why it stops.'));
      });
    });
  }

  /** Stop the worker, its exit no error; once, however often asked. */
  drop(): Promise<unknown> {
    if (this.stopped === null) {
      this.dropped = true;
      this.stopped = this.worker.terminate();
    }
    return this.stopped;
  }
}

/** @internal What a worker's error means to the caller of `api` (exported for its tests). */
export function fromWorker(e: Error & { code?: unknown }, which: string, api: string): SimulationError {
  if (e.name === 'SimulationError' && typeof e.code === 'string') {
    // Misuse found in the worker (a bad job, a program misusing the simulator): as in one thread.
    return new SimulationError(e.code as SimulationErrorCode, `${e.message}\n  (in ${which})`);
  }
  if (e.code === 'ERR_UNKNOWN_FILE_EXTENSION') {
    return misuse('WORKER_FAILED', api, `${which} could not load a module: ${e.message}. Worker threads get no TypeScript loader from the main thread.`, 'omit `tsx: false` (tsx then loads TypeScript in the workers), or compile the job and this package to JavaScript.');
  }
  if (e.code === 'TSX_NOT_FOUND') {
    return misuse('WORKER_FAILED', api, `${which} could not load tsx to run TypeScript: ${e.message}`, 'install tsx (npm i -D tsx) and run from the project directory, or compile to JavaScript and pass `tsx: false`.');
  }
  return misuse('WORKER_FAILED', api, `${which} failed: ${e.name}: ${e.message}`, "the job's module, its options() or its program threw outside a simulated process; explore it in one thread to see the stack.");
}

/** The failure with its run: re-run from the token in this thread, with the job's monitors, as the worker ran it. */
async function rebuild(found: ExploreJob, facts: FailureFacts): Promise<Failure> {
  const monitors = found.options().monitors;
  const result = await replay(found.program, facts.token, monitors === undefined ? {} : { monitors });
  return withTraceTable({ ...facts, result });
}
