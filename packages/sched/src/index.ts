/**
 * @interleave/sched — strategies and the explorer: seeded random, PCT, exhaustive
 * search with dynamic partial-order reduction, replay tokens and shrinking.
 * Depends on @interleave/core only; monitors come in as parameters.
 */
export { explore, check, replay } from './explore.js';
export type { ExploreOptions, ExploreReport, ExploreRunOptions, Budget, Failure, OutcomeCount, ShardInfo } from './explore.js';
export { mergeReports } from './merge.js';
export { job } from './job.js';
export type { ExploreJob } from './job.js';
export { exploreParallel, checkParallel } from './parallel.js';
export type { ParallelOptions } from './parallel.js';
export { random, pct, exhaustive, roundRobin } from './strategies.js';
export type { ExplorationStrategy, Execution, SeededOptions, PctOptions } from './strategies.js';
export type { ExhaustiveOptions, Reduction } from './dpor.js';
export { encodeToken, decodeToken } from './token.js';
export type { TokenContents } from './token.js';
export { replayStrategy } from './replay.js';
export { roundRobinStrategy } from './baseline.js';
export { lenientStrategy } from './shrink.js';
export { schedules, ScheduleChoices } from './arbitrary.js';
export type { ScheduleArbitraryOptions } from './arbitrary.js';
