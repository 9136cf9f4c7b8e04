import type { Op } from './op.js';
import type { ProcessView } from './process-state.js';
import { createRng } from './rng.js';

/** What a strategy knows when asked to choose. */
export interface ChoiceContext {
  /** Steps executed so far in this run (forced ones included). */
  readonly step: number;
  /** Virtual time now. */
  readonly time: number;
}

/**
 * Decides which runnable process takes the next step. One instance drives one run.
 * The kernel calls `choose` only when at least two processes can run; `enabled` is
 * sorted by pid and every process in it has an operation that can take effect.
 *
 * @example
 * ```ts
 * // Always run the lowest pid: a non-preemptive, deterministic baseline.
 * const lowestFirst: Strategy = { name: 'lowest-first', choose: () => 0 };
 * await run(prog, { strategy: lowestFirst });
 * ```
 */
export interface Strategy {
  /** Shown in reports. */
  readonly name: string;
  /** Return the index in `enabled` of the process to run. */
  choose(enabled: readonly ProcessView[], ctx: ChoiceContext): number;
  /** Optional: told about every step, forced ones included (exhaustive exploration needs them). */
  readonly observer?: StepObserver;
}

/** Sees every step of a run as it happens. */
export interface StepObserver {
  /** `p` is about to perform `op` as the next step. */
  beforeStep(p: ProcessView, op: Op<unknown>): void;
  /** `p` ended during the current step (its code finished, or it was terminated). */
  ended(p: ProcessView): void;
}

/**
 * The default strategy: a uniformly random runnable process at every choice,
 * drawn from a seeded stream. The same seed gives the same schedule.
 *
 * When to use: hunting for bugs quickly; reproducing a run from its seed.
 */
export function randomStrategy(seed: string | number): Strategy {
  const rng = createRng(`${seed}\u0000schedule`);
  return {
    name: `random(${JSON.stringify(seed)})`,
    choose: (enabled) => rng.below(enabled.length),
  };
}
