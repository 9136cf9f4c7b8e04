import { summarise, type ExploreReport, type Failure, type OutcomeCount } from './explore.js';
import { describe, misuse } from './misuse.js';

/** What merging reads of a failure: enough to order failures and to summarise. */
export type MergeableFailure = Pick<Failure, 'kind' | 'message' | 'execution' | 'token' | 'preemptions' | 'steps' | 'shrinking'>;

/** A report whose failure may be only its facts (as it crosses from a worker thread). */
export type ShardReport<F extends MergeableFailure> = Omit<ExploreReport, 'failure'> & { readonly failure?: F };

/**
 * Merge the reports of every shard of one exploration (`shard: { index, count }`
 * for index = 0 … count − 1, in any order) into the report of the whole exploration.
 *
 * What the merged report equals, when every shard ran to completion (no
 * `stopOnFailure` stop):
 * - seeded strategies (random, PCT): the unsharded exploration with `count` times the
 *   shards' `budget.executions` — the same executions, outcomes and counts; each
 *   outcome's token and the failure are those of the lowest execution number, which
 *   the unsharded run reaches first. (PCT learns its step count from the runs it sees,
 *   so its shards choose slightly different schedules than one unsharded PCT run.)
 * - `exhaustive()`: the unsharded search with the same `splitDepth` (2 when sharded
 *   and not given) — the same executions, outcomes and counts; complete only if every
 *   shard is. A shard does not know where its executions fall in the unsharded
 *   depth-first order, so tokens and the failure come from the lowest-numbered shard
 *   that has them: a failure of the same tree, not necessarily the one an unsharded
 *   run would report first.
 *
 * Steps, redundant and bound-pruned counts add up; `elapsedMs` is the longest shard's
 * (shards run side by side).
 *
 * @example
 * ```ts
 * const shards = await Promise.all([0, 1, 2].map((index) => explore(prog, { strategy: random(), budget: { executions: 100 }, shard: { index, count: 3 } })));
 * const all = mergeReports(shards);  // = explore(prog, { strategy: random(), budget: { executions: 300 } })
 * ```
 */
export function mergeReports(reports: readonly ExploreReport[]): ExploreReport {
  return mergeShards(reports, 'mergeReports(reports)');
}

/** {@link mergeReports} over reports whose failures may be bare facts. */
export function mergeShards<F extends MergeableFailure>(reports: readonly ShardReport<F>[], api: string): ShardReport<F> {
  return combine(inShardOrder(reports, api));
}

/**
 * Combine the reports of shards 0 … k − 1, in order, unchecked: every shard, or (for a
 * search stopped at a failure) the shards up to the first failing one.
 */
export function combine<F extends MergeableFailure>(shards: readonly ShardReport<F>[]): ShardReport<F> {
  const first = shards[0]!;
  // Which of two finds the unsharded run meets first: by execution number when those
  // are global, else by shard.
  const byExecution = first.shard.by === 'executions';
  const earlier = (a: { shard: number; execution: number }, b: { shard: number; execution: number }): boolean =>
    byExecution ? a.execution < b.execution : a.shard < b.shard || (a.shard === b.shard && a.execution < b.execution);

  const counts = new Map<string, { count: number; token: string; execution: number; shard: number }>();
  let failure: { value: F; shard: number; execution: number } | undefined;
  for (const [shard, r] of shards.entries()) {
    for (const o of r.outcomes) {
      const seen = counts.get(o.key);
      const here = { count: o.count, token: o.token, execution: o.execution, shard };
      if (seen === undefined) counts.set(o.key, here);
      else counts.set(o.key, { ...(earlier(here, seen) ? here : seen), count: seen.count + o.count });
    }
    const f = r.failure;
    if (f !== undefined && (failure === undefined || earlier({ shard, execution: f.execution }, failure))) failure = { value: f, shard, execution: f.execution };
  }
  const outcomes: OutcomeCount[] = [...counts]
    .map(([key, v]) => ({ key, count: v.count, token: v.token, execution: v.execution }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));

  const executions = sum(shards, (r) => r.executions);
  const complete = shards.every((r) => r.complete);
  const elapsedMs = Math.max(...shards.map((r) => r.stats.elapsedMs));
  const boundPruned = sum(shards, (r) => r.stats.boundPruned);
  // A stop for a failure explains the result best; otherwise the first shard's reason to stop early.
  const stopped = shards.find((r) => r.stats.stoppedBy === 'failure') ?? shards.find((r) => !r.complete) ?? first;
  const stoppedBy = complete ? 'complete' : stopped.stats.stoppedBy;
  return {
    passed: failure === undefined,
    strategy: first.strategy,
    executions,
    complete,
    bounded: first.bounded,
    hasProperty: first.hasProperty,
    shard: { index: 0, count: 1, by: first.shard.by },
    outcomes,
    ...(failure === undefined ? {} : { failure: failure.value }),
    stats: {
      steps: sum(shards, (r) => r.stats.steps),
      elapsedMs,
      executionsPerSecond: elapsedMs > 0 ? (executions * 1000) / elapsedMs : executions,
      redundant: sum(shards, (r) => r.stats.redundant),
      boundPruned,
      abandoned: { runs: sum(shards, (r) => r.stats.abandoned.runs), steps: sum(shards, (r) => r.stats.abandoned.steps) },
      stoppedBy,
    },
    summary: summarise({ name: first.strategy, bounded: first.bounded }, executions, complete, boundPruned, failure?.value, outcomes.length, stoppedBy, first.hasProperty),
  };
}

/** Check that `reports` are shards 0 … n − 1 of n of one exploration, and sort them. */
function inShardOrder<R extends Omit<ExploreReport, 'failure'>>(reports: readonly R[], api: string): R[] {
  const fix = 'pass the reports of one exploration, one per shard { index, count } for index = 0 … count − 1.';
  const given: unknown = reports;
  if (!Array.isArray(given) || given.length === 0) throw misuse('INVALID_ARGUMENT', api, `expected a non-empty array of reports, got ${describe(reports)}.`, fix);
  const reportsShard = (r: unknown): ExploreReport['shard'] | undefined => (typeof r === 'object' && r !== null ? (r as Partial<ExploreReport>).shard : undefined);
  const shard0 = reportsShard(reports[0]);
  if (shard0 === undefined) throw misuse('INVALID_ARGUMENT', api, `reports[0] is not an ExploreReport (it has no shard), got ${describe(reports[0])}.`, fix);
  const count = shard0.count;
  const byIndex = new Array<R | undefined>(count).fill(undefined);
  for (const [i, r] of reports.entries()) {
    const s = reportsShard(r);
    if (s === undefined) throw misuse('INVALID_ARGUMENT', api, `reports[${i}] is not an ExploreReport (it has no shard), got ${describe(r)}.`, fix);
    if (s.count !== count) throw misuse('INVALID_ARGUMENT', api, `reports[0] is shard ${shard0.index} of ${count} but reports[${i}] is shard ${s.index} of ${s.count}: they come from different splits.`, fix);
    if (r.strategy !== reports[0]!.strategy) throw misuse('INVALID_ARGUMENT', api, `reports[0] comes from ${reports[0]!.strategy} but reports[${i}] from ${r.strategy}.`, fix);
    if (byIndex[s.index] !== undefined) throw misuse('INVALID_ARGUMENT', api, `shard ${s.index} of ${count} is given twice.`, fix);
    byIndex[s.index] = r;
  }
  const missing = byIndex.flatMap((r, i) => (r === undefined ? [i] : []));
  if (missing.length > 0) throw misuse('INVALID_ARGUMENT', api, `shard(s) ${missing.join(', ')} of ${count} are missing: a merge of some shards is not the whole exploration.`, fix);
  return byIndex as R[];
}

function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  let n = 0;
  for (const x of xs) n += f(x);
  return n;
}
