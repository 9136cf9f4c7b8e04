import type { RunResult } from './run.js';
import type { TraceEvent } from './trace.js';

/** Handed to a monitor when a run starts. */
export interface MonitorContext {
  /**
   * Declare the run wrong: it ends after the current event with status `error`
   * and an {@link InvariantViolation} naming this monitor.
   */
  fail(message: string): void;
}

/**
 * Observes the event stream of a run. The checkers package provides monitors for
 * races, lost updates and deadlocks; any object with `onEvent` is one.
 *
 * @example
 * ```ts
 * let inside = 0;
 * const capacity: Monitor = {
 *   name: 'ktv-capacity',
 *   onEvent(e, ctx) {
 *     if (e.type === 'print' && e.text.includes('in')) inside++;
 *     if (inside > 4) ctx.fail(`${inside} people inside`);
 *   },
 * };
 * await run(ktv, { monitors: [capacity] });
 * ```
 */
export interface Monitor {
  readonly name: string;
  /**
   * Whether the monitor needs `block`, `wake` and `sleep` events. Default true. These
   * are the costly ones: when a lock with n waiters is released, n processes wake and
   * n − 1 block again, so a monitor that never looks at them should say `false`.
   */
  readonly blocking?: boolean;
  /** Called once per run before any event. Reset per-run state here. */
  onStart?(ctx: MonitorContext): void;
  /** Called for every event, in order. Must not throw; use `ctx.fail`. */
  onEvent(event: TraceEvent, ctx: MonitorContext): void;
  /** Called once when the run has ended. */
  onEnd?(ctx: MonitorContext): void;
  /**
   * Called by an explorer (`@interleave/sched`) after each execution it counts,
   * after `onEnd`: lets a monitor that judges a whole exploration (how many
   * executions reached a state, and a token replaying the first) tell counted
   * executions from the explorer's internal re-runs (shrinking, pruned runs).
   */
  onExecution?(execution: ExecutionInfo): void;
}

/** What an explorer tells monitors about one counted execution. */
export interface ExecutionInfo {
  /** 0-based: the how-manieth counted execution of this exploration. */
  readonly index: number;
  readonly result: RunResult;
  /** A replay token for this execution; encoded on first call. */
  token(): string;
}
