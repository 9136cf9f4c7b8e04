/**
 * Linearizability checking throughput: a 10,000-operation history of a key-value
 * store (100 keys, 8 processes, random overlaps), checked with the key partitioning
 * (P-compositionality); as a baseline, a shorter history checked whole; and a
 * 16,000-operation FIFO queue history, which no partitioning helps. One line per
 * figure: `name: value unit`.
 *
 * Run alone with `node --import tsx bench/linearizability.ts`.
 */
import { createRng } from '@interleave/core';
import { checkLinearizability, kvModel, queueModel, type History, type HistoryEvent } from '@interleave/checkers';

function report(name: string, value: number, unit: string, digits = 0): void {
  console.log(`${name}: ${value.toFixed(digits).replace(/\B(?=(\d{3})+(?!\d))/g, '_')} ${unit}`);
}

/** One operation of a generated history: its interval, and the point inside it where it takes effect. */
interface Timed {
  readonly id: number;
  readonly pid: number;
  readonly op: string;
  readonly args: unknown[];
  readonly call: number;
  readonly ret: number;
  readonly point: number;
  /** Its result (for the operations that return one), once applied. */
  value?: unknown;
}

/**
 * A linearizable history by construction: each process calls operations one after
 * another with random pauses and durations (so calls of different processes overlap
 * at random), each taking effect at a random point inside its interval; `apply`
 * runs them in that order on a real object and returns each result (undefined for
 * an operation whose result the model does not compare).
 */
function linearizableHistory(
  operations: number,
  processes: number,
  seed: string,
  pick: (id: number, pid: number, rng: ReturnType<typeof createRng>) => { op: string; args: unknown[] },
  apply: (o: Timed) => unknown,
): History {
  const rng = createRng(seed);
  const clock = new Array<number>(processes).fill(0);
  const ops: Timed[] = [];
  for (let id = 0; id < operations; id++) {
    const pid = rng.below(processes);
    const call = clock[pid]! + rng.below(5);
    const ret = call + 1 + rng.below(20);
    clock[pid] = ret + 1;
    ops.push({ id, pid, ...pick(id, pid, rng), call, ret, point: call + rng.next() * (ret - call) });
  }
  for (const o of [...ops].sort((a, b) => a.point - b.point)) o.value = apply(o);
  const events: { t: number; call: boolean; e: HistoryEvent }[] = [];
  for (const o of ops) {
    events.push({ t: o.call, call: true, e: { kind: 'call', id: o.id, pid: 1000 + o.pid, op: o.op, args: o.args } });
    events.push({ t: o.ret, call: false, e: o.value === undefined ? { kind: 'return', id: o.id } : { kind: 'return', id: o.id, value: o.value } });
  }
  // Calls before returns at equal times: touching intervals overlap, as the search assumes.
  events.sort((a, b) => a.t - b.t || Number(b.call) - Number(a.call));
  return events.map((x) => x.e);
}

/** A key-value store's history: `put(key, id)` and `get(key)` on `keys` keys, half each. */
export function kvHistory(operations: number, keys: number, processes: number, seed: string): History {
  const store = new Map<string, unknown>();
  return linearizableHistory(
    operations,
    processes,
    seed,
    (id, _pid, rng) => {
      const key = `k${rng.below(keys)}`;
      return rng.below(2) === 0 ? { op: 'put', args: [key, id] } : { op: 'get', args: [key] };
    },
    (o) => {
      const key = o.args[0] as string;
      if (o.op === 'get') return store.get(key) ?? null;
      store.set(key, o.args[1]);
      return undefined;
    },
  );
}

/**
 * A FIFO queue's history: one producer calling `enqueue(id)`, the other processes
 * `dequeue()` (null when empty) or, as often, `peek()` — so the queue grows to
 * thousands of elements. Two enqueues never overlap: the search's states
 * would then differ by the order of elements that stay queued for long, and the
 * number of orders it must tell apart grows exponentially with the history (the
 * price of a generic search on a queue, which peers' Wing & Gong checkers share).
 */
export function queueHistory(operations: number, processes: number, seed: string): History {
  const items: unknown[] = [];
  let head = 0;
  return linearizableHistory(
    operations,
    processes,
    seed,
    (id, pid, rng) => (pid === 0 ? { op: 'enqueue', args: [id] } : { op: rng.below(2) === 0 ? 'dequeue' : 'peek', args: [] }),
    (o) => {
      if (o.op === 'dequeue') return head < items.length ? items[head++] : null;
      if (o.op === 'peek') return head < items.length ? items[head] : null;
      items.push(o.args[0]);
      return undefined;
    },
  );
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

  // A queue cannot be partitioned: the whole history is one search, every step of it
  // on a state of up to thousands of elements.
  const queue = queueHistory(16_000, 2, 'bench/linearizability');
  const q0 = performance.now();
  const q = checkLinearizability(queue, queueModel());
  const qms = performance.now() - q0;
  if (q.verdict !== 'linearizable') throw new Error(`bench/linearizability: expected a linearizable queue, got ${q.message}`);
  report('linearizability.queue', qms, `ms to check 16,000 operations of a FIFO queue (a producer, a consumer; one search: ${q.stats.steps} search steps)`);
}

if (import.meta.url === `file://${process.argv[1]}`) benchLinearizability();
