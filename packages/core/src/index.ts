/**
 * @interleave/core — the kernel: simulated processes whose every operation is a
 * scheduling point, virtual time, Python-`multiprocessing` primitives, the typed
 * trace, and the Strategy and Monitor interfaces.
 */
export { program, run, runSync } from './run.js';
export type {
  Program,
  ProgramBody,
  RunOptions,
  RunResult,
  OkResult,
  ErrorResult,
  DeadlockResult,
  StepLimitResult,
  ProcessSummary,
} from './run.js';
export type { World, Mp, Time, Random, Os } from './world.js';
export type { AtomicBlock } from './atomic.js';
export type { OutputLine, BlockedProcess } from './kernel.js';
export { Op, SimObject } from './op.js';
export type { WaitInfo, Footprint } from './op.js';
export type { ProcessView } from './process-state.js';
export type { PassOvers } from './passes.js';
export { Process } from './primitives/process.js';
export type { ProcessOptions } from './primitives/process.js';
export { Lock, RLock, Acquirable } from './primitives/lock.js';
export { Semaphore } from './primitives/semaphore.js';
export { Event } from './primitives/event.js';
export { Condition } from './primitives/condition.js';
export { Barrier } from './primitives/barrier.js';
export { Queue, JoinableQueue, SimpleQueue } from './primitives/queue.js';
export { Pool, AsyncResult, IMapIterator } from './primitives/pool.js';
export type { PoolOptions, PoolFunction, TaskResult, PoolReturn, ApplyAsyncOptions, MapAsyncOptions } from './primitives/pool.js';
export { Connection } from './primitives/pipe.js';
export {
  Socket,
  Bytes,
  encode,
  AF_INET,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_KEEPALIVE,
  IPPROTO_TCP,
  TCP_NODELAY,
  SHUT_RD,
  SHUT_WR,
  SHUT_RDWR,
  SOMAXCONN,
} from './primitives/socket.js';
export type { SocketModule, Address } from './primitives/socket.js';
export { Value, RawValue, SharedArray, RawArray } from './primitives/value.js';
export type { Typecode, IntTypecode, FloatTypecode, CharTypecode, CValue, ArrayInit, Scalar, SharedOptions, SharedCtypes } from './primitives/value.js';
export { FileSystem } from './primitives/files.js';
export type { InitialFiles } from './primitives/files.js';
export {
  SyncManager,
  BaseProxy,
  DictProxy,
  ListProxy,
  NamespaceProxy,
  ValueProxy,
  LockProxy,
  RLockProxy,
  SemaphoreProxy,
  EventProxy,
  QueueProxy,
} from './primitives/manager.js';
export type { DictKey, DictInit } from './primitives/manager.js';
export { KeyError, AttributeError, TimeoutError } from './errors.js';
export type { BarrierOptions } from './primitives/barrier.js';
export { randomStrategy } from './strategy.js';
export type { Strategy, ChoiceContext, StepObserver } from './strategy.js';
export type { Monitor, MonitorContext, ExecutionInfo } from './monitor.js';
export { Schedule, PID_BASE } from './schedule.js';
export { serializeTrace, stableStringify } from './trace.js';
export { formatTrace } from './format.js';
export type { FormatTraceOptions } from './format.js';
export type {
  TraceEvent,
  SpawnEvent,
  IssueEvent,
  DoneEvent,
  BlockEvent,
  WakeEvent,
  SleepEvent,
  PrintEvent,
  ExitEvent,
  AccessEvent,
  SendEvent,
  RecvEvent,
  ClockEvent,
  ThreadStartEvent,
  ReapEvent,
  AtomicEvent,
} from './trace.js';
export { createRng } from './rng.js';
export type { Rng } from './rng.js';
export {
  SimulationError,
  PythonError,
  ValueError,
  PyAssertionError,
  RuntimeError,
  BrokenBarrierError,
  InvariantViolation,
  Empty,
  Full,
  EOFError,
  OSError,
  BrokenPipeError,
  ConnectionError,
  ConnectionRefusedError,
  ConnectionResetError,
  PyTypeError,
  IndexError,
  FileNotFoundError,
  JSONDecodeError,
} from './errors.js';
export type { SimulationErrorCode } from './errors.js';
