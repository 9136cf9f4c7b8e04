import { SimulationError, type Strategy } from '@interleave/core';

/**
 * Replay a recorded schedule (`result.schedule`): at each choice, run the recorded
 * pid. If that process cannot run there — the program or options changed — the run
 * fails with a SimulationError naming the step, never silently taking another path.
 *
 * When to use: reproducing a run exactly without its seed or strategy.
 *
 * @example
 * ```ts
 * const first = await run(prog, { seed: 7 });
 * const again = await run(prog, { strategy: replayStrategy(first.schedule) });
 * again.stdout === first.stdout; // true
 * ```
 */
export function replayStrategy(schedule: Iterable<number>): Strategy & { readonly unused: () => number } {
  // Read as it is followed: a long schedule (a run cut at maxSteps) is not copied.
  const pids = schedule[Symbol.iterator]();
  let at = 0;
  let unused: number | null = null;
  return {
    name: 'replay',
    /** Recorded choices the run did not reach: more than 0 means it ended early (diverged). */
    unused: () => {
      if (unused === null) for (unused = 0; pids.next().done !== true; ) unused++;
      return unused;
    },
    choose(enabled, ctx) {
      const next = pids.next();
      const pid = next.done === true ? undefined : next.value;
      if (pid === undefined) {
        throw new SimulationError(
          'REPLAY_DIVERGED',
          `replayStrategy: the recorded schedule has ${at} choices, but the run needs more at step ${ctx.step}.\n` +
            '  How to fix: replay with the same program and options that produced the schedule.',
        );
      }
      const i = enabled.findIndex((p) => p.pid === pid);
      if (i < 0) {
        throw new SimulationError(
          'REPLAY_DIVERGED',
          `replayStrategy: choice ${at + 1} at step ${ctx.step} recorded pid ${pid}, which cannot run there ` +
            `(runnable: ${enabled.map((p) => p.pid).join(', ')}).\n` +
            '  How to fix: replay with the same program and options that produced the schedule.',
        );
      }
      at++;
      return i;
    },
  };
}
