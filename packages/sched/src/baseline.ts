import type { Strategy } from '@interleave/core';

/**
 * Non-preemptive baseline: keep running the process that ran last while it can,
 * otherwise the next runnable pid after it (round robin). It switches only when a
 * process blocks, sleeps or exits — like a single CPU without time slicing.
 *
 * When to use: a deterministic "nothing unusual happens" run, and as the baseline
 * the randomized strategies are measured against.
 */
export function roundRobinStrategy(): Strategy {
  let last = -1;
  return {
    name: 'round-robin',
    choose(enabled) {
      let i = enabled.findIndex((p) => p.pid === last);
      if (i < 0) {
        i = enabled.findIndex((p) => p.pid > last);
        if (i < 0) i = 0;
      }
      last = enabled[i]!.pid;
      return i;
    },
  };
}
