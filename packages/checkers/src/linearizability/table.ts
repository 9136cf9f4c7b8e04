/**
 * A history as one column per process (Lincheck's layout), with time running down:
 * a row per call or return, `│` while an operation is in flight, so overlapping
 * operations are visibly side by side.
 */
import { describeCall, describeOutput, type ClientId, type Operation } from './history.js';

/** One column: a process (or client). */
export interface HistoryColumn {
  readonly pid: ClientId;
  /** `Process-1 (1001)`, or the client id. */
  readonly label: string;
}

/** One row: a call, a return, or both when nothing happened in between. */
export interface HistoryRow {
  /** Position in the history's real-time order. */
  readonly position: number;
  /** The scheduling step, for recorded histories. */
  readonly step?: number;
  /** One cell per column; null where that process has nothing on this row. */
  readonly cells: readonly (string | null)[];
}

/** The table, structured and as text. */
export interface HistoryTable {
  readonly columns: readonly HistoryColumn[];
  readonly rows: readonly HistoryRow[];
  /** Rows left out of `rows` and `text` before and after the window shown. */
  readonly omitted: { readonly before: number; readonly after: number };
  readonly text: string;
}

/** Options of {@link historyTable}. */
export interface HistoryTableOptions {
  /** Operation indices of a linearization (prefix), marked `[1]`, `[2]`... at their calls. */
  readonly prefix?: readonly number[];
  /** Operation index marked `✗` (cannot be placed); the window shown ends near it. */
  readonly blocked?: number;
  /** Most rows shown. Default: all. */
  readonly maxRows?: number;
  /** Widest a cell may get; longer ones are cut with `…`. Default 40. */
  readonly width?: number;
}

/**
 * Lay out operations as one column per process.
 *
 * @example
 * ```ts
 * console.log(historyTable(toOperations(history)).text);
 * // step | Process-1 (1001) | Process-2 (1002)
 * // -----|------------------|-----------------
 * // 4    | enqueue(1)       |
 * // 6    | │                | dequeue()
 * // 9    | → null           | │
 * // 11   |                  | → 1
 * ```
 */
export function historyTable(ops: readonly Operation[], options: HistoryTableOptions = {}): HistoryTable {
  const width = options.width ?? 40;
  const rank = new Map<number, number>();
  (options.prefix ?? []).forEach((index, k) => rank.set(index, k + 1));
  const pids = [...new Set(ops.map((o) => o.pid))].sort(comparePids);
  const col = new Map<ClientId, number>(pids.map((p, i) => [p, i]));
  const columns = pids.map((pid): HistoryColumn => {
    const name = ops.find((o) => o.pid === pid && o.process !== undefined)?.process;
    return { pid, label: name === undefined ? (typeof pid === 'number' ? `pid ${pid}` : pid) : `${name} (${pid})` };
  });

  interface Point {
    readonly op: Operation;
    readonly call: boolean;
    readonly pos: number;
  }
  const points: Point[] = [];
  for (const op of ops) {
    points.push({ op, call: true, pos: op.call });
    if (!op.pending) points.push({ op, call: false, pos: op.return });
  }
  points.sort((a, b) => a.pos - b.pos || (a.call === b.call ? 0 : a.call ? -1 : 1) || a.op.index - b.op.index);

  const callText = (o: Operation): string => {
    const mark = o.index === options.blocked ? '✗ ' : rank.has(o.index) ? `[${rank.get(o.index)}] ` : '';
    return mark + describeCall(o);
  };
  const returnText = (o: Operation): string => describeOutput(o.output).trim() || 'returns';
  const rows: HistoryRow[] = [];
  const byIndex = new Map(ops.map((o) => [o.index, o]));
  const inFlight = new Set<number>();
  let blockedRow = -1;
  for (let k = 0; k < points.length; k++) {
    const p = points[k]!;
    const c = col.get(p.op.pid)!;
    const cells: (string | null)[] = pids.map(() => null);
    let step = p.call ? p.op.callStep : p.op.returnStep;
    if (p.call) {
      const nextPoint = points[k + 1];
      if (nextPoint !== undefined && nextPoint.op === p.op) {
        // Nothing happened between its call and its return: one row says both.
        cells[c] = `${callText(p.op)} ${returnText(p.op)}`;
        step = p.op.callStep;
        k++;
      } else {
        cells[c] = callText(p.op);
        inFlight.add(p.op.index);
      }
    } else {
      cells[c] = returnText(p.op);
      inFlight.delete(p.op.index);
    }
    for (const i of inFlight) {
      const ci = col.get(byIndex.get(i)!.pid)!;
      cells[ci] ??= '│';
    }
    if (p.op.index === options.blocked) blockedRow = rows.length;
    rows.push({ position: p.pos, ...(step === undefined ? {} : { step }), cells: cells.map((x) => (x === null ? null : cut(x, width))) });
  }

  let start = 0;
  let end = rows.length;
  const max = options.maxRows ?? Infinity;
  if (rows.length > max) {
    end = blockedRow < 0 ? rows.length : Math.min(rows.length, blockedRow + 3);
    start = Math.max(0, end - max);
    end = Math.min(rows.length, start + max);
  }
  const shown = rows.slice(start, end);
  const stepped = ops.some((o) => o.callStep !== undefined);
  const header = [stepped ? 'step' : 'at', ...columns.map((c) => c.label)];
  const body = shown.map((r) => [String(stepped ? (r.step ?? '') : r.position), ...r.cells.map((x) => x ?? '')]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => r.map((x, i) => x.padEnd(widths[i]!)).join(' | ').trimEnd();
  const text = [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...(start > 0 ? [`… ${start} earlier row(s)`] : []),
    ...body.map(line),
    ...(end < rows.length ? [`… ${rows.length - end} later row(s)`] : []),
  ].join('\n');
  return { columns, rows: shown, omitted: { before: start, after: rows.length - end }, text: text + '\n' };
}

function comparePids(a: ClientId, b: ClientId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function cut(s: string, width: number): string {
  return s.length <= width ? s : s.slice(0, width - 1) + '…';
}
