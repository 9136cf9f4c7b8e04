import { createRequire } from 'node:module';
import type * as FastCheck from 'fast-check';
import { SimulationError, type ProcessView, type Strategy } from '@interleave/core';
import { misuse } from './misuse.js';

/**
 * fast-check's own key for how a value prints in a counterexample: a registered
 * symbol, so it is the same whichever copy of fast-check the user's property runs.
 */
const TO_STRING_METHOD = Symbol.for('fast-check/toStringMethod');

let fastCheck: typeof FastCheck | null = null;

/**
 * fast-check, loaded on first use rather than when this package is imported: it
 * takes longer to load than all of Interleave (a tax on every import, and on every
 * worker of a parallel exploration), and only {@link schedules} needs it at run
 * time. Its CommonJS build, which `require` can load at once; its values are checked
 * by shape and its symbols are registered ones, so arbitraries made here work in
 * properties built with its ES module build.
 */
function loadFastCheck(): typeof FastCheck {
  return (fastCheck ??= requireFastCheck((id) => createRequire(import.meta.url)(id)));
}

/** @internal `require('fast-check')`, or the error saying how to get it. */
export function requireFastCheck(require: (id: string) => unknown): typeof FastCheck {
  try {
    return require('fast-check') as typeof FastCheck;
  } catch (e) {
    throw misuse(
      'INVALID_ARGUMENT',
      'schedules(options)',
      `it needs fast-check, which could not be loaded (${e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)}).`,
      'install it beside Interleave (npm install --save-dev fast-check, version 3): it is a peer dependency, used only by schedules().',
    );
  }
}

/**
 * A schedule as fast-check sees it: at the k-th choice, 0 means "keep running the
 * process that took the last step" (no preemption) and c > 0 means "switch to the
 * ((c − 1) mod m)-th other runnable process". Past the end of the list every choice
 * is 0. So fast-check's shrinking — shorter lists, smaller numbers — removes
 * preemptions, and every value is a real execution.
 */
export class ScheduleChoices {
  readonly choices: readonly number[];
  constructor(choices: readonly number[]) {
    if (!Array.isArray(choices) || choices.some((c) => !Number.isInteger(c) || c < 0)) {
      throw new SimulationError(
        'INVALID_ARGUMENT',
        `new ScheduleChoices(choices): expected an array of integers >= 0, got ${JSON.stringify(choices)}.\n` +
          '  How to fix: paste the list fast-check printed, e.g. new ScheduleChoices([0, 2, 0, 1]).',
      );
    }
    this.choices = choices;
  }

  /** A fresh strategy following these choices (one per run). */
  strategy(): Strategy {
    const choices = this.choices;
    let at = 0;
    let last = -1;
    return {
      name: `schedule(${choices.join(',')})`,
      choose(enabled: readonly ProcessView[]): number {
        const c = choices[at++] ?? 0;
        const current = enabled.findIndex((p) => p.pid === last);
        if (c === 0) return current >= 0 ? current : 0;
        const others = enabled.map((_, i) => i).filter((i) => i !== current);
        return others[(c - 1) % others.length]!;
      },
      observer: {
        beforeStep(p) {
          last = p.pid;
        },
        ended() {},
      },
    };
  }

  toString(): string {
    return `schedule([${this.choices.join(', ')}])`;
  }

  /** How fast-check prints a counterexample: paste it back as `new ScheduleChoices([...])`. */
  [TO_STRING_METHOD](): string {
    return this.toString();
  }
}

/** Options of {@link schedules}. */
export interface ScheduleArbitraryOptions {
  /** Most choices recorded (later ones are 0). Default 50. */
  readonly maxLength?: number;
  /** Largest choice value: how far a switch may reach among the runnable processes. Default 8. */
  readonly maxChoice?: number;
  /** Relative weight of preemptive choices; low values keep schedules mostly sequential. Default: 1 in 4. */
  readonly preemptionRate?: number;
}

/**
 * A fast-check Arbitrary of schedules. Combine it with input arbitraries so a
 * failure shrinks both the input and the schedule.
 *
 * @example
 * ```ts
 * await fc.assert(fc.asyncProperty(fc.nat(5), schedules(), async (n, s) => {
 *   const r = await run(counter(n), { strategy: s.strategy() });
 *   return r.status === 'ok' && r.value === n;
 * }));
 * ```
 */
export function schedules(options: ScheduleArbitraryOptions = {}): FastCheck.Arbitrary<ScheduleChoices> {
  const fc = loadFastCheck();
  const maxChoice = options.maxChoice ?? 8;
  const rate = options.preemptionRate ?? 0.25;
  const zeroWeight = Math.max(1, Math.round((1 - rate) * 100));
  const switchWeight = Math.max(1, Math.round(rate * 100));
  const choice = fc.oneof({ arbitrary: fc.constant(0), weight: zeroWeight }, { arbitrary: fc.integer({ min: 1, max: maxChoice }), weight: switchWeight });
  return fc
    .array(choice, { maxLength: options.maxLength ?? 50 })
    .map(
      (cs: number[]) => new ScheduleChoices(cs),
      (v: unknown) => {
        if (!(v instanceof ScheduleChoices)) throw new Error('not a ScheduleChoices');
        return [...v.choices];
      },
    );
}
