/**
 * The report type every checker returns: one shape for races, lost updates,
 * deadlocks, lock-order inversions, liveness and assertions, so a test, a grader
 * or a CLI handles all of them alike. A finding is plain data (JSON-ready);
 * {@link formatFinding} renders the text beside it.
 *
 * Shared by several checkers: keep it small, and add fields only when two
 * checkers need them.
 */

/**
 * `confirmed`: it happened in this execution. `potential`: predicted from what
 * happened (another schedule, or another environment, would show it). Only
 * confirmed findings fail a check by default.
 */
export type FindingStatus = 'confirmed' | 'potential';

/** One operation or moment a finding points at. */
export interface FindingEvent {
  readonly pid: number;
  /** Process name, e.g. `Process-2`. */
  readonly name: string;
  readonly step: number;
  /** Virtual time, in seconds. */
  readonly time: number;
  /** What it did or is doing, e.g. `Lock#2.acquire()`. */
  readonly op: string;
  /** Its role in the finding, e.g. `holds Lock#1`, `waits for Lock#2`. */
  readonly note?: string;
  /** A value read, written or returned, where it matters. */
  readonly value?: unknown;
  /** Where the user's code issued the operation (`file.ts:12:7`), when the checker captured it. */
  readonly source?: string;
}

/**
 * One distinct problem (or, for exploration verdicts, one observation).
 *
 * @example
 * ```ts
 * const f: Finding = deadlockReport(result)!;
 * f.kind;    // 'deadlock'
 * f.status;  // 'confirmed'
 * console.log(formatFinding(f));
 * JSON.stringify(f); // the structured form
 * ```
 */
export interface Finding {
  /** Which check found it, e.g. `deadlock`, `lock-order`, `data-race`, `lost-update`. */
  readonly kind: string;
  readonly status: FindingStatus;
  /** One line: what is wrong. */
  readonly message: string;
  /** Why it happens (or can happen). */
  readonly why: string;
  /** One line naming the idiom that fixes it. */
  readonly fix: string;
  /** The operations involved, in step order where that means something. */
  readonly events: readonly FindingEvent[];
  /** Replays the execution that shows it (from an explorer). */
  readonly token?: string;
  /** Longer text for humans: a wait-for graph, a two-column scenario. */
  readonly details?: string;
  /** Checker-specific structured facts (graphs, cycles, counts). */
  readonly data?: Readonly<Record<string, unknown>>;
  /** Identifies the situation: findings with equal keys are one report. */
  readonly key?: string;
}

/**
 * The finding as text: a headline, the events, the details, why and how to fix.
 *
 * @example
 * ```ts
 * console.log(formatFinding(f));
 * // [deadlock, confirmed] Process-2 (pid 1002) waits for itself: ...
 * //   step 69 t=6.337053s Process-2 (pid 1002) Connection#1.recv() — waits for Connection#2 ...
 * //   why: ...
 * //   fix: close the pipe end you do not use ...
 * ```
 */
export function formatFinding(f: Finding): string {
  const lines = [`[${f.kind}, ${f.status}] ${f.message}`];
  for (const e of f.events) lines.push(`  ${formatEvent(e)}`);
  if (f.details !== undefined && f.details !== '') lines.push(...f.details.split('\n').map((l) => (l === '' ? '' : `  ${l}`)));
  lines.push(`  why: ${f.why}`);
  lines.push(`  fix: ${f.fix}`);
  if (f.token !== undefined) lines.push(`  replay: ${f.token}`);
  return lines.join('\n');
}

/** `step 12 t=0.5s Process-2 (pid 1002) Lock#1.acquire() — holds Lock#2` */
export function formatEvent(e: FindingEvent): string {
  return (
    `step ${e.step} t=${Number(e.time.toFixed(6))}s ${e.name} (pid ${e.pid}) ${e.op}${e.note === undefined ? '' : ` — ${e.note}`}` +
    (e.source === undefined ? '' : ` [${e.source}]`)
  );
}
