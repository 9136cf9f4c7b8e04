import { combine, mergeShards, type ShardReport } from './merge.js';
import type { ExecutionLog, FailedMessage, FailureFacts, ReportMessage } from './worker.js';

/** A worker that can be stopped because its shard no longer matters. */
export interface Droppable {
  readonly index: number;
  drop(): void;
}

/**
 * The failures workers meet when they stop at their first one, and what follows: the
 * first failure in the unsharded order wins, and workers whose shard can no longer
 * matter are stopped. Which failure wins does not depend on timing: with a split by
 * execution number no worker runs past the lowest failing number (the shared bound),
 * so every execution below it runs, whoever fails first; with a split by the strategy
 * only shards after a failing one are dropped, and every earlier shard runs in full.
 */
export class Failures {
  private best: { readonly index: number; readonly message: FailedMessage } | null = null;
  private readonly logs = new Map<number, ExecutionLog>();

  add(index: number, m: FailedMessage, runs: readonly Droppable[]): void {
    if (m.log !== undefined) this.logs.set(index, m.log);
    const best = this.best;
    const first = best === null || (m.by === 'executions' ? m.execution < best.message.execution : index < best.index);
    if (!first) {
      runs[index]!.drop();
      return;
    }
    this.best = { index, message: m };
    if (best !== null) runs[best.index]!.drop();
    if (m.by === 'strategy') for (const r of runs) if (r.index > index) r.drop();
  }

  /** The merged report: of every shard, or cut at the first failure as one thread's `check` would stop there. */
  merge(replies: readonly (ReportMessage | null)[], api: string): ShardReport<FailureFacts> {
    const best = this.best;
    if (best === null) return mergeShards(replies.map((r) => r!.report), api);
    const winner = replies[best.index]!.report;
    if (best.message.by === 'strategy') return combine(replies.slice(0, best.index + 1).map((r) => r!.report));
    const logs = replies.map((r, i) => this.logs.get(i) ?? r!.log!);
    return combine([cutAt(winner, logs, best.message.execution)]);
  }
}

/** The exploration of executions numbered up to `last` (the first failure), from every worker's log. */
function cutAt(winner: ShardReport<FailureFacts>, logs: readonly ExecutionLog[], last: number): ShardReport<FailureFacts> {
  const counts = new Map<string, { count: number; token: string; execution: number }>();
  let executions = 0;
  let steps = 0;
  for (const log of logs) {
    for (let k = 0; k < log.index.length && log.index[k]! <= last; k++) {
      const i = log.index[k]!;
      const id = log.key[k]!;
      executions++;
      steps += log.steps[k]!;
      const key = log.keys[id]!;
      const seen = counts.get(key);
      // A log's token for a key is its first execution's: the one to keep when it comes first overall.
      if (seen === undefined || i < seen.execution) counts.set(key, { count: (seen?.count ?? 0) + 1, token: log.tokens[id]!, execution: i });
      else seen.count++;
    }
  }
  const outcomes = [...counts].map(([key, v]) => ({ key, ...v })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
  return { ...winner, executions, complete: false, outcomes, stats: { ...winner.stats, steps, stoppedBy: 'failure' } };
}
