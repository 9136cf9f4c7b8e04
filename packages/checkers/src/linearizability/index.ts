/**
 * Linearizability of user objects: record call/return histories inside a run,
 * check them against a sequential model (Wing & Gong, Lowe's memoisation,
 * P-compositional partitions), report failures as one column per process.
 */
export { recordHistory, RecordedCall } from './record.js';
export type { HistoryRecorder, Recorded, ResultOf, MethodKeys } from './record.js';
export { linearizable, historiesFromTrace } from './monitor.js';
export type { LinearizableOptions, LinearizabilityMonitor } from './monitor.js';
export { checkLinearizability, checkOperations, linearizabilityFinding } from './check.js';
export type { LinearizabilityCheckOptions, LinearizabilityBudget, LinearizabilityStats, LinearizabilityResult, Linearizable, NotLinearizable, LinearizabilityUnknown, LinearizedStep, LinearizationCandidate } from './check.js';
export { registerModel, kvModel, queueModel, stackModel, counterModel, setModel, outputsEqual } from './models.js';
export { KvState, SequenceState } from './models.js';
export type { Model, StepResult, EmptyBehaviour, KvOptions, ContainerOptions, CounterOptions, SetState } from './models.js';
export { toOperations, fromIntervals, raised, Raised, describeOperation } from './history.js';
export type { History, HistoryEvent, CallEvent, ReturnEvent, Invocation, Operation, OperationInput, ClientId } from './history.js';
export { historyTable } from './table.js';
export type { HistoryTable, HistoryColumn, HistoryRow, HistoryTableOptions } from './table.js';
