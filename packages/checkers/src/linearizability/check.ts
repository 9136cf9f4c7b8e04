/**
 * The linearizability checker: Wing & Gong's search with Lowe's memoisation, over
 * P-compositional partitions, as Porcupine does (`checker.go`, `checkSingle`).
 *
 * The search walks a doubly linked list of call and return entries in real-time
 * order. At a call entry it tries to linearize that operation next: apply it to the
 * model, and if the model accepts it and the configuration (set of linearized
 * operations, model state) was not seen before, lift the call and its return out of
 * the list and start again from the head. Reaching a return entry means the
 * operation it belongs to had to be linearized before anything that follows: the
 * search backtracks, undoing the last choice. Memoising configurations is what makes
 * this practical (Lowe): a configuration reached by two orders is explored once.
 */
import { SimulationError } from '@interleave/core';
import type { Finding, FindingEvent } from '../report.js';
import { describeCall, describeClient, describeOperation, fromIntervals, Raised, show, toOperations, type History, type Operation, type OperationInput } from './history.js';
import { canonical, deepEqual, fnv, outputsEqual, type Model } from './models.js';
import { historyTable, type HistoryTable } from './table.js';

/** Limits that make the search answer `unknown` instead of running on. */
export interface LinearizabilityBudget {
  /**
   * Search steps (operations tried) over all partitions. Default 1,000,000: from
   * about a second (small states) to a few tens of seconds (a whole key-value store
   * per step). Deterministic, unlike `timeMs`.
   */
  readonly steps?: number;
  /** Wall-clock milliseconds. The verdict then depends on the machine. */
  readonly timeMs?: number;
}

/** Options of {@link checkLinearizability}. */
export interface LinearizabilityCheckOptions {
  readonly budget?: LinearizabilityBudget;
  /** Use the model's `partition` function when it has one. Default true. */
  readonly partition?: boolean;
  /** Name of the object checked, for reports (a recorder's `History#1`). */
  readonly object?: string;
  /** Most rows of the history table in the text report. Default 40. */
  readonly maxRows?: number;
}

/** Search effort, for tuning budgets. */
export interface LinearizabilityStats {
  /** Operations tried (the unit of `budget.steps`). */
  readonly steps: number;
  /** Configurations skipped because they were already explored (Lowe's cache). */
  readonly cacheHits: number;
  /** Backtracks. */
  readonly backtracks: number;
  readonly partitions: number;
  /** Wall-clock time of the check; the only machine-dependent field. */
  readonly elapsedMs: number;
}

interface ResultBase {
  readonly model: string;
  readonly object?: string;
  /** Operations in the history (pending ones included). */
  readonly operations: number;
  readonly stats: LinearizabilityStats;
  /** One paragraph (linearizable, unknown) or the full report (not linearizable). */
  readonly message: string;
}

/** One step of a linearization: the operation and the model state after it. */
export interface LinearizedStep {
  readonly op: Operation;
  /** The model's state after the operation, as the model describes it. */
  readonly state: string;
}

/** The history is linearizable. */
export interface Linearizable extends ResultBase {
  readonly verdict: 'linearizable';
  /**
   * A witness: every completed operation (and each pending one that had to take
   * effect) in an order that respects real time and the model. Partitions are
   * merged by their earliest linearization points.
   */
  readonly linearization: readonly Operation[];
}

/** What an operation that might have come next would do after the longest prefix. */
export interface LinearizationCandidate {
  readonly op: Operation;
  /**
   * `rejected`: the model cannot take it there (`why`); `mismatch`: the model
   * returns `expected`, it returned something else; `dead-end`: the model accepts
   * it, but no order of the remaining operations completes the history.
   */
  readonly verdict: 'rejected' | 'mismatch' | 'dead-end';
  readonly expected?: unknown;
  readonly why: string;
}

/** The history is not linearizable. */
export interface NotLinearizable extends ResultBase {
  readonly verdict: 'not-linearizable';
  /** The partition (key) that failed, when the model partitions. */
  readonly partition?: string | number;
  /**
   * The operation that cannot be placed: the first to return among those left out
   * of the longest linearizable prefix. Every order must place it before anything
   * called after it returned, and no order can.
   */
  readonly op: Operation;
  /** The longest linearizable prefix found (of this partition), with states. */
  readonly prefix: readonly LinearizedStep[];
  /** The model state after the prefix. */
  readonly state: string;
  /** Each operation that could have come next, and why it cannot. */
  readonly candidates: readonly LinearizationCandidate[];
  /** The history (of this partition) as one column per process. */
  readonly table: HistoryTable;
}

/** The search ran out of budget before deciding. */
export interface LinearizabilityUnknown extends ResultBase {
  readonly verdict: 'unknown';
  /** Why: which budget ran out, and where. */
  readonly reason: string;
  readonly partition?: string | number;
}

/** Switch on `verdict`. Every field is plain data: `JSON.stringify` gives the structured form. */
export type LinearizabilityResult = Linearizable | NotLinearizable | LinearizabilityUnknown;

/**
 * Decide whether a history is linearizable with respect to a sequential model.
 * Accepts a history of call/return events (recorded, or from another tool) or
 * operations already paired (see {@link toOperations}, {@link fromIntervals}).
 *
 * @example
 * ```ts
 * const h: History = [
 *   { kind: 'call', id: 1, pid: 1, op: 'enqueue', args: [1] },
 *   { kind: 'return', id: 1 },
 *   { kind: 'call', id: 2, pid: 2, op: 'dequeue', args: [] },
 *   { kind: 'return', id: 2, value: 2 },
 * ];
 * const r = checkLinearizability(h, queueModel());
 * r.verdict;            // 'not-linearizable'
 * console.log(r.message); // names dequeue() → 2, the longest prefix, a column per process
 * ```
 */
export function checkLinearizability<S>(history: History | readonly Operation[], model: Model<S>, options: LinearizabilityCheckOptions = {}): LinearizabilityResult {
  const started = performance.now();
  const ops = isOperations(history) ? history : toOperations(history);
  validateModel(model);
  const budget = { left: options.budget?.steps ?? 1_000_000, deadline: options.budget?.timeMs === undefined ? Infinity : started + options.budget.timeMs, steps: 0, cacheHits: 0, backtracks: 0 };
  if (!(budget.left >= 0)) throw new SimulationError('INVALID_OPTION', `linearizability: budget.steps must be a non-negative number, got ${String(budget.left)}.`);
  const parts = partitionOps(ops, model, options.partition ?? true);
  const base = { model: model.name, ...(options.object === undefined ? {} : { object: options.object }), operations: ops.length };
  const stats = (): LinearizabilityStats => ({ steps: budget.steps, cacheHits: budget.cacheHits, backtracks: budget.backtracks, partitions: parts.length, elapsedMs: performance.now() - started });
  const orders: Operation[][] = [];
  let unknown: { key: string | number | undefined; reason: string } | null = null;
  for (const part of parts) {
    const r = search(model, part.ops, budget);
    if (r.kind === 'ok') {
      orders.push(r.order.map((i) => part.ops[i]!));
    } else if (r.kind === 'illegal') {
      return failure(model, part, r, base, stats(), options);
    } else {
      // Keep going: another partition may still prove the history wrong.
      unknown ??= { key: part.key, reason: r.reason };
      if (budget.left <= 0 || performance.now() >= budget.deadline) break;
    }
  }
  if (unknown !== null) {
    const where = unknown.key === undefined ? '' : ` (partition ${show(unknown.key)})`;
    const reason = `${unknown.reason}${where}`;
    return {
      verdict: 'unknown',
      ...base,
      reason,
      ...(unknown.key === undefined ? {} : { partition: unknown.key }),
      stats: stats(),
      message:
        `${title(base)}: unknown — ${reason}. No violation was found in what was searched.\n` +
        '  How to fix: raise budget.steps, check a shorter history (fewer operations in flight at once), or give the model a partition function.',
    };
  }
  const linearization = merge(orders);
  const s = stats();
  return {
    verdict: 'linearizable',
    ...base,
    linearization,
    stats: s,
    message: `${title(base)}: linearizable — ${ops.length} operation(s)${parts.length > 1 ? ` in ${parts.length} partitions` : ''}, ${s.steps} search step(s).`,
  };
}

/** Check operations given as intervals (Porcupine's form); see {@link fromIntervals}. */
export function checkOperations<S>(operations: readonly OperationInput[], model: Model<S>, options: LinearizabilityCheckOptions = {}): LinearizabilityResult {
  return checkLinearizability(fromIntervals(operations), model, options);
}

function isOperations(h: History | readonly Operation[]): h is readonly Operation[] {
  const first = h[0] as Partial<Operation> | undefined;
  return first !== undefined && typeof first.index === 'number' && typeof first.call === 'number' && 'pending' in first;
}

function validateModel(model: Model<unknown>): void {
  if (typeof model !== 'object' || model === null || typeof model.init !== 'function' || typeof model.step !== 'function') {
    throw new SimulationError('INVALID_ARGUMENT', 'linearizability: the model must be an object with init() and step(state, input, output) methods (see queueModel(), kvModel()...).');
  }
}

function title(b: { model: string; object?: string }): string {
  return `${b.object ?? 'the history'} (model: ${b.model})`;
}

// ----------------------------------------------------------------- partitions

interface Part {
  readonly key: string | number | undefined;
  readonly ops: readonly Operation[];
}

function partitionOps(ops: readonly Operation[], model: Model<unknown>, use: boolean): Part[] {
  if (!use || model.partition === undefined) return [{ key: undefined, ops }];
  const groups = new Map<string | number, Operation[]>();
  for (const o of ops) {
    const key = model.partition({ op: o.op, args: o.args });
    // An operation that spans every partition (size(), a scan) makes the
    // decomposition unsound: check the history whole.
    if (key === undefined) return [{ key: undefined, ops }];
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(o);
  }
  // Smallest first: a short partition that is wrong is found before a long one
  // spends the budget (the sort is stable: ties keep first-appearance order).
  return [...groups].map(([key, g]) => ({ key, ops: g })).sort((a, b) => a.ops.length - b.ops.length);
}

/** Merge per-partition orders into one: sort by each operation's earliest linearization point. */
function merge(orders: readonly (readonly Operation[])[]): Operation[] {
  if (orders.length === 1) return [...orders[0]!];
  const points: { op: Operation; lp: number; part: number; k: number }[] = [];
  orders.forEach((order, part) => {
    let lp = -Infinity;
    order.forEach((op, k) => {
      // In a valid order an operation never returns before an earlier one's call,
      // so this point lies within its interval; real-time order is kept because
      // a.return < b.call implies lp(a) <= a.return < b.call <= lp(b).
      lp = Math.max(lp, op.call);
      points.push({ op, lp, part, k });
    });
  });
  points.sort((a, b) => a.lp - b.lp || a.part - b.part || a.k - b.k);
  return points.map((p) => p.op);
}

// --------------------------------------------------------------------- search

type SearchResult =
  | { readonly kind: 'ok'; readonly order: readonly number[] }
  | { readonly kind: 'illegal'; readonly prefix: readonly number[]; readonly blocker: number }
  | { readonly kind: 'unknown'; readonly reason: string };

interface Budget {
  left: number;
  readonly deadline: number;
  steps: number;
  cacheHits: number;
  backtracks: number;
}

/**
 * A memoised configuration: which operations are linearized, and the model state.
 * The set is kept compactly. With `f` the first return entry left in the list (the
 * earliest return of an operation not yet linearized), every operation that returned
 * before `f` is linearized and none called after `f` is; so the set is `f` plus which
 * of the operations in flight at `f` are linearized — at most one per process, instead
 * of a bitset over the whole history per configuration.
 */
interface Config<S> {
  readonly frontier: number;
  /** The operations in flight at `frontier` that are linearized, in `alive` order. */
  readonly linearized: readonly number[];
  readonly state: S;
}

/**
 * Wing & Gong over one partition, with Lowe's cache. Entries are numbered
 * 1..2n in real-time order (0 is the list head); the list is kept in typed arrays.
 */
function search<S>(model: Model<S>, ops: readonly Operation[], budget: Budget): SearchResult {
  const n = ops.length;
  let completed = 0;
  for (const o of ops) if (!o.pending) completed++;
  if (completed === 0) return { kind: 'ok', order: [] };

  // Real-time order of the entries: by position; at equal positions calls first
  // (closed intervals: touching operations overlap).
  const order: number[] = [];
  for (let i = 0; i < n; i++) order.push(2 * i, 2 * i + 1);
  const posOf = (x: number): number => (x & 1 ? ops[x >> 1]!.return : ops[x >> 1]!.call);
  order.sort((a, b) => posOf(a) - posOf(b) || (a & 1) - (b & 1) || (a >> 1) - (b >> 1));
  const size = 2 * n + 1;
  const next = new Int32Array(size);
  const prev = new Int32Array(size);
  const opOf = new Int32Array(size);
  const isCall = new Uint8Array(size);
  const match = new Int32Array(size);
  const entryOfCall = new Int32Array(n);
  const entryOfReturn = new Int32Array(n);
  order.forEach((x, k) => {
    const e = k + 1;
    opOf[e] = x >> 1;
    isCall[e] = x & 1 ? 0 : 1;
    if (x & 1) entryOfReturn[x >> 1] = e;
    else entryOfCall[x >> 1] = e;
  });
  for (let i = 0; i < n; i++) {
    match[entryOfCall[i]!] = entryOfReturn[i]!;
    match[entryOfReturn[i]!] = entryOfCall[i]!;
  }
  for (let e = 0; e < size; e++) {
    next[e] = e + 1 < size ? e + 1 : -1;
    prev[e] = e - 1;
  }
  const lift = (e: number): void => {
    next[prev[e]!] = next[e]!;
    if (next[e]! >= 0) prev[next[e]!] = prev[e]!;
    const m = match[e]!;
    next[prev[m]!] = next[m]!;
    if (next[m]! >= 0) prev[next[m]!] = prev[m]!;
  };
  const unlift = (e: number): void => {
    const m = match[e]!;
    next[prev[m]!] = m;
    if (next[m]! >= 0) prev[next[m]!] = m;
    next[prev[e]!] = e;
    if (next[e]! >= 0) prev[next[e]!] = e;
  };
  // For each return entry: the other operations in flight there (called before it,
  // returning after it), flattened: alive[aliveStart[e] .. aliveStart[e + 1]).
  const aliveStart = new Int32Array(size + 1);
  const aliveList: number[] = [];
  {
    const open = new Set<number>();
    for (let e = 1; e < size; e++) {
      aliveStart[e] = aliveList.length;
      const i = opOf[e]!;
      if (isCall[e] === 1) {
        open.add(i);
      } else {
        open.delete(i);
        for (const j of open) aliveList.push(j);
      }
    }
    aliveStart[size] = aliveList.length;
  }
  const alive = Int32Array.from(aliveList);

  const inputs = ops.map((o) => ({ op: o.op, args: o.args }));
  const equalOutput = model.equalOutput?.bind(model) ?? outputsEqual;
  const hashState = stateHasher(model);
  const equalState = model.equal?.bind(model) ?? deepEqual;
  const bits = new Uint8Array(n);
  const zobrist = new Uint32Array(n);
  for (let i = 0; i < n; i++) zobrist[i] = mix32(i + 1);
  let zob = 0;
  const cache = new Map<number, Config<S>[]>();
  /** Whether the current configuration (after a lift) was explored before; records it if not. */
  const seenBefore = (state: S): boolean => {
    // Some completed operation is not linearized yet, so a return entry is left.
    let f = next[0]!;
    while (isCall[f] === 1) f = next[f]!;
    const lo = aliveStart[f]!;
    const hi = aliveStart[f + 1]!;
    const h = (zob ^ hashState(state)) >>> 0;
    const bucket = cache.get(h);
    if (bucket !== undefined) {
      for (const c of bucket) {
        if (c.frontier !== f) continue;
        let j = 0;
        let same = true;
        for (let k = lo; k < hi && same; k++) {
          const x = alive[k]!;
          if (bits[x] === 1) same = c.linearized[j++] === x;
        }
        if (same && j === c.linearized.length && equalState(c.state, state)) return true;
      }
    }
    const linearized: number[] = [];
    for (let k = lo; k < hi; k++) if (bits[alive[k]!] === 1) linearized.push(alive[k]!);
    const config = { frontier: f, linearized, state };
    if (bucket === undefined) cache.set(h, [config]);
    else bucket.push(config);
    return false;
  };

  const stackEntry: number[] = [];
  const stackState: S[] = [];
  let state = model.init();
  let linearizedCompleted = 0;
  // The longest prefix so far, and how much of it the stack still shares: copying
  // only the part that differs keeps recording it linear overall.
  let bestDepth = -1;
  const bestPrefix: number[] = [];
  let common = 0;
  let blocker = -1;
  let entry = next[0]!;
  for (;;) {
    if (entry >= 0 && isCall[entry] === 1) {
      if (budget.left <= 0) return { kind: 'unknown', reason: `the search gave up after ${budget.steps} steps (budget.steps)` };
      budget.left--;
      budget.steps++;
      if ((budget.steps & 4095) === 0 && performance.now() >= budget.deadline) {
        return { kind: 'unknown', reason: `the search gave up after ${budget.steps} steps: out of time (budget.timeMs)` };
      }
      const i = opOf[entry]!;
      const o = ops[i]!;
      const r = model.step(state, inputs[i]!, o.output);
      if (r.ok && fits(r, o, equalOutput)) {
        bits[i] = 1;
        zob ^= zobrist[i]!;
        lift(entry);
        if (!o.pending) linearizedCompleted++;
        if (linearizedCompleted === completed) {
          stackEntry.push(entry);
          return { kind: 'ok', order: stackEntry.map((e) => opOf[e]!) };
        }
        if (!seenBefore(r.state)) {
          stackEntry.push(entry);
          stackState.push(state);
          state = r.state;
          entry = next[0]!;
          continue;
        }
        budget.cacheHits++;
        unlift(entry);
        if (!o.pending) linearizedCompleted--;
        bits[i] = 0;
        zob ^= zobrist[i]!;
      }
      entry = next[entry]!;
      continue;
    }
    // A return entry (or the end): the operation it closes had to be linearized by now.
    if (stackEntry.length > bestDepth) {
      bestDepth = stackEntry.length;
      bestPrefix.length = common;
      for (let k = common; k < stackEntry.length; k++) bestPrefix.push(opOf[stackEntry[k]!]!);
      common = stackEntry.length;
      blocker = entry >= 0 ? opOf[entry]! : -1;
    }
    if (stackEntry.length === 0) return { kind: 'illegal', prefix: bestPrefix, blocker };
    budget.backtracks++;
    const e = stackEntry.pop()!;
    if (stackEntry.length < common) common = stackEntry.length;
    state = stackState.pop()!;
    const i = opOf[e]!;
    bits[i] = 0;
    zob ^= zobrist[i]!;
    if (!ops[i]!.pending) linearizedCompleted--;
    unlift(e);
    entry = next[e]!;
  }
}

/** Whether the model's output for `o` matches what `o` did. */
function fits(r: { readonly output?: unknown }, o: Operation, equalOutput: (a: unknown, b: unknown) => boolean): boolean {
  if (o.pending) return true;
  if (!('output' in r)) return !(o.output instanceof Raised);
  return equalOutput(r.output, o.output);
}

/**
 * The model's state hash, as 32 bits, remembered per state object: states are
 * immutable, and an operation that does not change the state (a read) returns the
 * same object, whose hash is then not recomputed.
 */
function stateHasher<S>(model: Model<S>): (s: S) => number {
  const h = model.hash?.bind(model) ?? canonical;
  const of = (s: S): number => {
    const v = h(s);
    return typeof v === 'number' ? mix32(Math.floor(v) ^ Math.floor(v / 4294967296)) : fnv(v);
  };
  const memo = new WeakMap<object, number>();
  return (s) => {
    if (typeof s !== 'object' || s === null) return of(s);
    let v = memo.get(s);
    if (v === undefined) memo.set(s, (v = of(s)));
    return v;
  };
}

/** A 32-bit integer mixer (murmur3's finaliser): Zobrist keys and numeric hashes. */
function mix32(x: number): number {
  let h = x | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// -------------------------------------------------------------------- failure

/** Prefix steps listed in the text report. */
const PREFIX_LINES = 12;

function failure<S>(
  model: Model<S>,
  part: Part,
  r: { readonly prefix: readonly number[]; readonly blocker: number },
  base: { model: string; object?: string; operations: number },
  stats: LinearizabilityStats,
  options: LinearizabilityCheckOptions,
): NotLinearizable {
  const ops = part.ops;
  const describeState = (s: S): string => (model.describe === undefined ? show(s) : model.describe(s));
  let state = model.init();
  const prefix: LinearizedStep[] = [];
  for (const i of r.prefix) {
    const o = ops[i]!;
    state = model.step(state, { op: o.op, args: o.args }, o.output).state;
    prefix.push({ op: o, state: describeState(state) });
  }
  const placed = new Set(r.prefix);
  // The search always stops at a return entry, so the blocker exists; the fallback is defensive.
  const blocked = ops[r.blocker] ?? ops.find((o, i) => !placed.has(i) && !o.pending)!;
  const equalOutput = model.equalOutput?.bind(model) ?? outputsEqual;
  const candidates: LinearizationCandidate[] = [];
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    if (placed.has(i) || o.call > blocked.return) continue;
    const s = model.step(state, { op: o.op, args: o.args }, o.output);
    if (!s.ok) {
      candidates.push({ op: o, verdict: 'rejected', why: s.why ?? `the ${model.name} model cannot take ${describeCall(o)} here` });
    } else if (!fits(s, o, equalOutput)) {
      candidates.push({ op: o, verdict: 'mismatch', ...('output' in s ? { expected: s.output } : {}), why: mismatchWhy(s, o) });
    } else {
      candidates.push({ op: o, verdict: 'dead-end', why: 'the model takes it here, but no order of the remaining operations then completes the history' });
    }
  }
  const table = historyTable(ops, {
    prefix: r.prefix.map((i) => ops[i]!.index),
    blocked: blocked.index,
    maxRows: options.maxRows ?? 40,
  });
  const where = part.key === undefined ? '' : ` for ${describeKey(model, part)}`;
  const lines: string[] = [];
  lines.push(`${title(base)}: NOT linearizable${where}.`);
  lines.push(`  Cannot place: ${describeOperation(blocked)} by ${describeClient(blocked)}${span(blocked)}.`);
  lines.push(
    prefix.length === 0
      ? '  Longest linearizable prefix: empty — no operation can go first.'
      : `  Longest linearizable prefix (${prefix.length} of ${ops.filter((o) => !o.pending).length} completed operation(s)${part.key === undefined ? '' : ' of this partition'}):`,
  );
  // The text keeps the end of a long prefix, where it got stuck; `prefix` has it all.
  const shownFrom = Math.max(0, prefix.length - PREFIX_LINES);
  if (shownFrom > 0) lines.push(`    … ${shownFrom} earlier operation(s)`);
  for (let k = shownFrom; k < prefix.length; k++) lines.push(`    ${k + 1}. ${describeOperation(prefix[k]!.op)} by ${describeClient(prefix[k]!.op)}   state: ${prefix[k]!.state}`);
  lines.push(`  After it the state is ${describeState(state)}; what could come next:`);
  for (const c of candidates) lines.push(`    ${describeOperation(c.op)} by ${describeClient(c.op)}: ${c.why}`);
  lines.push(`  History${part.key === undefined ? '' : ' of this partition'}, one column per process (✗ cannot be placed, [k] k-th in the prefix):`);
  lines.push(...table.text.trimEnd().split('\n').map((l) => `    ${l}`));
  return {
    verdict: 'not-linearizable',
    ...base,
    ...(part.key === undefined ? {} : { partition: part.key }),
    op: blocked,
    prefix,
    state: describeState(state),
    candidates,
    table,
    stats,
    message: lines.join('\n'),
  };
}

function mismatchWhy(s: { readonly output?: unknown }, o: Operation): string {
  const expected = !('output' in s) ? 'returns normally' : s.output instanceof Raised ? `raises ${s.output.toString()}` : `returns ${show(s.output)}`;
  const actual = o.output instanceof Raised ? `raised ${o.output.toString()}` : `returned ${show(o.output)}`;
  return `the model ${expected} here, but it ${actual}`;
}

function describeKey(model: Model<unknown>, part: Part): string {
  const first = part.ops[0];
  return first === undefined ? `partition ${show(part.key)}` : `key ${show(first.args[0])} (partition of ${model.name})`;
}

function span(o: Operation): string {
  if (o.callStep === undefined) return '';
  return o.returnStep === undefined ? `, called at step ${o.callStep}, never returned` : `, steps ${o.callStep}–${o.returnStep}`;
}

// ------------------------------------------------------------------- findings

/**
 * A failed check as the checkers' common {@link Finding}: kind `linearizability`,
 * confirmed (the history happened), the operation that cannot be placed and those
 * that could have come instead as its events, the report text as details.
 *
 * @example
 * ```ts
 * const r = checkLinearizability(h, queueModel());
 * if (r.verdict === 'not-linearizable') console.log(formatFinding(linearizabilityFinding(r)));
 * ```
 */
export function linearizabilityFinding(r: NotLinearizable, token?: string): Finding {
  const ev = (o: Operation, note: string): FindingEvent => ({
    pid: typeof o.pid === 'number' ? o.pid : -1,
    name: o.process ?? String(o.pid),
    step: o.callStep ?? o.call,
    time: o.callTime ?? 0,
    op: describeOperation(o),
    note,
    ...(o.pending ? {} : { value: o.output }),
  });
  const events = [ev(r.op, 'cannot be placed'), ...r.candidates.filter((c) => c.op !== r.op).map((c) => ev(c.op, `could come next: ${c.verdict}`))];
  return {
    kind: 'linearizability',
    status: 'confirmed',
    message: `${r.object ?? 'the object'} is not linearizable (model: ${r.model}): ${describeOperation(r.op)} by ${describeClient(r.op)} cannot be placed after ${r.prefix.length} operation(s)`,
    why:
      'no order of the operations that respects real time (an operation that returned before another was called comes first) gives the results the sequential model gives; ' +
      'some operation took effect in more than one step, so others saw it half done',
    fix: 'make each operation take effect at one step: hold one lock from its first read to its last write, or build it on an atomic primitive',
    events,
    details: r.message,
    data: { result: r },
    key: `linearizability:${r.object ?? ''}:${r.op.op}`,
    ...(token === undefined ? {} : { token }),
  };
}
