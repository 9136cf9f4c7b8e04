/**
 * Linearizability checking throughput: a 10,000-operation history of a key-value
 * store (100 keys, 8 processes, random overlaps), checked with the key partitioning
 * (P-compositionality); and, as a baseline, a shorter history checked whole. One line
 * per figure: `name: value unit`.
 *
 * Run alone with `node --import tsx bench/linearizability.ts`.
 */
import { createRng } from '@interleave/core';
import { checkLinearizability, kvModel, type History, type HistoryEvent } from '@interleave/checkers';

function report(name: string, value: number, unit: string, digits = 0): void {
  console.log(`${name}: ${value.toFixed(digits).replace(/\B(?=(\d{3})+(?!\d))/g, '_')} ${unit}`);
}

/**
 * A linearizable history by construction: each process calls operations one after
 * another with random pauses and durations (so calls of different processes overlap
 * at random), each taking effect at a random point inside its interval; results
 * are what a real store returns when the operations take effect in that order.
 */
export function kvHistory(operations: number, keys: number, processes: number, seed: string): History {
  const rng = createRng(seed);
  const clock = new Array<number>(processes).fill(0);
  const ops: { id: number; pid: number; op: string; args: unknown[]; call: number; ret: number; point: number; value?: unknown }[] = [];
  for (let id = 0; id < operations; id++) {
    const pid = rng.below(processes);
    const call = clock[pid]! + rng.below(5);
    const ret = call + 1 + rng.below(20);
    clock[pid] = ret + 1;
    const key = `k${rng.below(keys)}`;
    const write = rng.below(2) === 0;
    ops.push({ id, pid, op: write ? 'put' : 'get', args: write ? [key, id] : [key], call, ret, point: call + rng.next() * (ret - call) });
  }
  const store = new Map<string, unknown>();
  for (const o of [...ops].sort((a, b) => a.point - b.point)) {
    const key = o.args[0] as string;
    if (o.op === 'put') store.set(key, o.args[1]);
    else o.value = store.get(key) ?? null;
  }
  const events: { t: number; call: boolean; e: HistoryEvent }[] = [];
  for (const o of ops) {
    events.push({ t: o.call, call: true, e: { kind: 'call', id: o.id, pid: 1000 + o.pid, op: o.op, args: o.args } });
    events.push({ t: o.ret, call: false, e: o.op === 'get' ? { kind: 'return', id: o.id, value: o.value } : { kind: 'return', id: o.id } });
  }
  // Calls before returns at equal times: touching intervals overlap, as the search assumes.
  events.sort((a, b) => a.t - b.t || Number(b.call) - Number(a.call));
  return events.map((x) => x.e);
}

export function benchLinearizability(): void {
  const history = kvHistory(10_000, 100, 8, 'bench/linearizability');
  const model = kvModel();
  for (let i = 0; i < 3; i++) checkLinearizability(history, model); // warm up the JIT
  let best = Infinity;
  let steps = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = checkLinearizability(history, model);
    const ms = performance.now() - t0;
    if (r.verdict !== 'linearizable') throw new Error(`bench/linearizability: expected linearizable, got ${r.message}`);
    steps = r.stats.steps;
    best = Math.min(best, ms);
  }
  report('linearizability.kv', best, `ms to check 10,000 operations (key-value store, 100 keys, 8 processes, partitioned by key; ${steps} search steps)`);

  // The baseline: without partitioning the search is exponential in the number of
  // operations in flight, so it gets a 2,000-operation history.
  const small = kvHistory(2_000, 100, 8, 'bench/linearizability');
  const t0 = performance.now();
  const r = checkLinearizability(small, kvModel({ partition: false }));
  const ms = performance.now() - t0;
  if (r.verdict !== 'linearizable') throw new Error(`bench/linearizability: expected linearizable unpartitioned, got ${r.message}`);
  report('linearizability.kv-whole', ms, `ms to check 2,000 operations of the same store without partitioning (${r.stats.steps} search steps)`);
}

if (import.meta.url === `file://${process.argv[1]}`) benchLinearizability();
