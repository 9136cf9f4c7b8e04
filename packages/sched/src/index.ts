/**
 * @interleave/sched — strategies and the explorer. Now: schedule replay and the
 * non-preemptive round-robin baseline. Coming (issue: exploration): PCT,
 * exhaustive search with DPOR, replay tokens, shrinking, fast-check integration.
 * Depends on @interleave/core only.
 */
export { replayStrategy } from './replay.js';
export { roundRobinStrategy } from './baseline.js';
