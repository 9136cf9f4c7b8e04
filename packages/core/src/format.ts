import type { ProcessSummary } from './run.js';
import { stableStringify, type TraceEvent } from './trace.js';

/** Options of {@link formatTrace}. */
export interface FormatTraceOptions {
  /** Widest a column may get; longer cells are cut with `…`. Default 36. */
  readonly width?: number;
}

/**
 * Render a trace as a table with one column per process (Lincheck's layout): a row
 * per step, the operation in the column of the process that performed it, with its
 * result. Blocked, woken and exited processes are noted in their own columns.
 *
 * @example
 * ```ts
 * const r = await run(prog, { seed: 3, trace: true });
 * console.log(formatTrace(r.trace!, r.processes));
 * ```
 */
export function formatTrace(trace: readonly TraceEvent[], processes: readonly ProcessSummary[], options: FormatTraceOptions = {}): string {
  const width = options.width ?? 36;
  const pids = processes.map((p) => p.pid);
  const col = new Map(pids.map((pid, i) => [pid, i]));
  const rows: string[][] = [];
  // An operation that read or wrote shared data is shown by its accesses, which
  // carry the values; its own 'done' line would only repeat it.
  let accessed = '';
  for (const e of trace) {
    if (e.type === 'access') accessed = `${e.step}/${e.pid}`;
    else if (e.type === 'done' && accessed === `${e.step}/${e.pid}`) continue;
    const text = cellOf(e);
    const i = col.get(e.pid);
    if (text === null || i === undefined) continue;
    const row = [String(e.step), fmt(e.time), ...pids.map(() => '')];
    row[i + 2] = cut(text, width);
    rows.push(row);
  }
  const header = ['step', 'time', ...processes.map((p) => `${p.name} (${p.pid})`)];
  // A loop, not Math.max(...rows): a run cut at maxSteps has a million rows, past the call stack.
  const widths = header.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < r.length; i++) if (r[i]!.length > widths[i]!) widths[i] = r[i]!.length;
  const line = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n') + '\n';
}

function cellOf(e: TraceEvent): string | null {
  switch (e.type) {
    case 'done': {
      if (e.op === 'begin') return 'begins';
      if (e.op === 'print' || e.op === 'feed') return null; // shown by the print event / internal
      const result = e.outcome === 'raised' ? ` raises ${String(e.value)}` : e.value === undefined ? '' : ` → ${stableStringify(e.value)}`;
      return `${e.obj}.${e.op}${e.phase > 0 ? `#${e.phase + 1}` : ''}${result}`;
    }
    case 'print':
      return `${e.stream === 'stderr' ? 'stderr' : 'print'} ${JSON.stringify(e.text)}`;
    case 'access':
      return `${e.kind} ${e.loc} ${stableStringify(e.value)}`;
    case 'block':
      return `blocked: ${e.waitsOn}`;
    case 'sleep':
      return `sleeps until ${fmt(e.until)}`;
    case 'exit':
      return `exits (${e.exitcode}${e.reason === 'terminated' ? ', terminated' : ''})`;
    case 'atomic-begin':
      return `atomic ${JSON.stringify(e.label)} {`;
    case 'atomic-end':
      return `} atomic ${JSON.stringify(e.label)}`;
    case 'thread-start':
      return `starts ${e.name}`;
    case 'reap':
      return `reads exitcode of pid ${e.child} → ${e.exitcode}`;
    default:
      return null;
  }
}

function fmt(t: number): string {
  return String(Number(t.toFixed(4)));
}

function cut(s: string, width: number): string {
  return s.length <= width ? s : s.slice(0, width - 1) + '…';
}
