/**
 * @interleave/checkers — monitors over core's event stream, and reports of how runs
 * end: invariants and assertions, exploration verdicts (sometimes/reachable),
 * deadlocks and lock-order inversions, liveness (non-termination, starvation), data
 * races and lost updates, atomicity (serialisability), linearizability. Every finding has one shape (`Finding`,
 * report.ts). Depends on @interleave/core only; the explorer is passed in where
 * needed (`confirmLockOrder`).
 */
export { always } from './invariant.js';
export type { AlwaysOptions } from './invariant.js';
// Reports shared by every checker; invariants, deadlocks, lock order, liveness.
export { formatFinding, formatEvent } from './report.js';
export type { Finding, FindingEvent, FindingStatus } from './report.js';
export type { Checker, DistinctFinding, FailOn } from './checker.js';
export { atEnd, pyAssert, assertions } from './assertions.js';
export type { FinalCheck, AssertionsOptions } from './assertions.js';
export { sometimes, reachable } from './exploration-verdicts.js';
export type { ExplorationVerdict, Verdict, Witness } from './exploration-verdicts.js';
export { deadlockReport, waitForGraph } from './deadlock.js';
export type { BlockedInfo, WaitForGraph, DeadlockCause } from './deadlock.js';
export { lockOrder, lockdepScenario, lockOrderStrategy, directedExploration, confirmLockOrder, lockOrderData } from './lock-order.js';
export type { LockOrderOptions, LockOrderSite, LockOrderData, DirectedExploration, ConfirmExploreOptions, ConfirmExploreReport } from './lock-order.js';
export { stepLimitReport, starvation } from './liveness.js';
export type { StarvationOptions } from './liveness.js';
export { processLeaks, joinBeforeDrain } from './process-leaks.js';
export type { LeakOptions } from './process-leaks.js';
export { resultFindings } from './result-findings.js';
// Linearizability: recorded call/return histories, sequential models, the checker (WGL + Lowe + partitions) and its monitor.
export * from './linearizability/index.js';
// Data races (happens-before, FastTrack) and lost updates / check-then-act (atomicity).
export { races } from './races.js';
export type { RaceMonitor, RaceOptions } from './races.js';
export { lostUpdates } from './lost-updates.js';
export type { LostUpdateMonitor, LostUpdateOptions } from './lost-updates.js';
export { accessChecks } from './access-checks.js';
// Atomicity: conflict-serialisability of declared blocks (world.atomic) and read-modify-writes.
export { atomicity } from './atomicity.js';
export type { AtomicityMonitor, AtomicityOptions } from './atomicity.js';
export type { AccessChecker, AccessCheckerOptions } from './access-findings.js';
