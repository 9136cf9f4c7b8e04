import { misuse } from './errors.js';
import type { Kernel } from './kernel.js';
import type { SimProcess } from './process-state.js';

/** What a blocked operation waits for, for block events and deadlock reports. */
export interface WaitInfo {
  /** Human-readable, e.g. `Lock#1 (held by Process-2, pid 1002)`. */
  readonly waitsOn: string;
  /** Pids that hold what the operation waits for, when known. */
  readonly heldBy: readonly number[];
}

/**
 * A location an operation may read or write. Two operations of different processes
 * are dependent — their order can matter — when they share a location and at least
 * one writes it. Exhaustive exploration reorders only dependent operations.
 */
export interface Footprint {
  readonly loc: string;
  readonly write: boolean;
  /**
   * On the write a release makes (to its own location, apart from the lock's): the
   * location of the lock it hands over. A blocking acquire of that lock cannot pass
   * the release it waits for; partial-order reduction uses this to pair them.
   */
  readonly releases?: string;
}

/** @internal The location a release of `lockId` writes (and try/timed acquires read). */
export function releasedLocation(lockId: string): string {
  return `${lockId}:released`;
}

/** @internal The footprint of releasing `lockId`. */
export function releaseFootprint(lockId: string): Footprint {
  return { loc: releasedLocation(lockId), write: true, releases: lockId };
}

/** Returned by {@link SimObject.perform} to keep the process parked on the same operation's next phase. */
export const NEXT_PHASE: unique symbol = Symbol('interleave.nextPhase');

/**
 * A simulated object: everything a process can operate on (locks, queues, the
 * clock, stdout, other processes). Objects belong to one kernel, i.e. one run.
 */
export abstract class SimObject {
  /** Deterministic id such as `Lock#3`, used in traces and reports. */
  readonly id: string;
  /** @internal */
  readonly kernel: Kernel;

  /** `singleton` objects (the clock, stdout) are named by their kind alone. */
  protected constructor(kernel: Kernel, kind: string, singleton = false) {
    this.kernel = kernel;
    this.id = singleton ? kind : kernel.newId(kind);
  }

  /**
   * @internal Whether `op` can take effect now. Must not mutate state. A timed
   * operation must report ready once `kernel.now >= op.deadline` (to time out),
   * unless it still needs something else (a Condition re-acquiring its lock).
   */
  abstract ready(op: Op<unknown>): boolean;
  /** @internal Take effect: return the value for the process, throw a PythonError, or return NEXT_PHASE. */
  abstract perform(op: Op<unknown>): unknown;
  /** @internal What a blocked `op` waits for. */
  waitInfo(_op: Op<unknown>): WaitInfo {
    return { waitsOn: this.id, heldBy: [] };
  }

  /**
   * @internal The locations `op` may touch, known before it runs. Default: writes
   * this object (always safe). Override to declare reads, which commute with each
   * other, or extra locations (a Condition also takes its lock).
   */
  footprint(_op: Op<unknown>): readonly Footprint[] {
    return [{ loc: this.id, write: true }];
  }

  /** @internal A child process was started with this object among its arguments. */
  inheritedBy(_child: SimProcess): void {}

  /** @internal Create and issue an operation of the current process on this object. */
  protected op<T>(name: string, args: readonly unknown[], deadline = Infinity): Op<T> {
    return new Op<T>(this, name, args, deadline);
  }

  /**
   * @internal An operation that only reads or writes shared data, each access told
   * by an `access` event: its issue and done events go only to monitors that ask
   * for data operations (`Monitor.dataOps`).
   */
  protected dataOp<T>(name: string, args: readonly unknown[]): Op<T> {
    return new Op<T>(this, name, args, Infinity, undefined, true);
  }

  /** Serialised as its id in traces. */
  toJSON(): string {
    return this.id;
  }

  /** What `print(obj)` shows: `<Lock#1>` unless the primitive mirrors Python's repr. */
  toString(): string {
    return `<${this.id}>`;
  }
}

/** @internal The arguments of an operation that takes none: shared, so issuing one allocates no array. */
export const NO_ARGS: readonly unknown[] = Object.freeze([]);

/**
 * One operation on a simulated object: a scheduling point. It is issued when
 * called and takes effect when the scheduler picks its process. Await it in an
 * `async` process (`await lock.acquire()`) or delegate to it in a generator
 * process (`yield* lock.acquire()`); it resolves to the operation's result.
 *
 * @example
 * ```ts
 * await print('hello');                 // async style
 * const got: boolean = yield* l.acquire(); // generator style
 * ```
 */
export class Op<T> implements PromiseLike<T>, Iterator<Op<unknown>, T, unknown> {
  /** @internal */ readonly obj: SimObject;
  /** Operation name, e.g. `acquire`. */
  readonly name: string;
  /** The arguments it was called with, as the issue event and reports show them. */
  readonly args: readonly unknown[];
  /** @internal Virtual time after which a timed wait gives up (Infinity if none). */
  deadline: number;
  /** @internal The issuing process. */
  readonly proc: SimProcess;
  /** @internal Which step of a multi-step operation comes next. */
  phase = 0;
  /** @internal Per-operation scratch state for multi-step operations. */
  memo: unknown = undefined;
  /** @internal Only reads or writes shared data (see SimObject.dataOp). */
  readonly data: boolean;
  private yielded = false;

  /**
   * @internal Use SimObject.op(). Issues the operation for the running process, or,
   * for the kernel's own bookkeeping operations, for `proc`.
   */
  constructor(obj: SimObject, name: string, args: readonly unknown[], deadline: number, proc?: SimProcess, data = false) {
    this.obj = obj;
    this.name = name;
    this.args = args.length === 0 ? NO_ARGS : args;
    this.deadline = deadline;
    this.data = data;
    this.proc = proc ?? obj.kernel.issue(this);
  }

  /** Id of the object operated on. */
  get objectId(): string {
    return this.obj.id;
  }

  /** The locations this operation may read or write (for partial-order reduction). */
  footprint(): readonly Footprint[] {
    return this.obj.footprint(this);
  }

  /**
   * Part of the `await` protocol. Interleave operations are scheduling points, not
   * promise chains: `await` them; a `.then(...).then(...)` chain is rejected.
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): PromiseLike<R1 | R2> {
    this.obj.kernel.park(
      this,
      (onfulfilled ?? identity) as (v: unknown) => unknown,
      (onrejected ?? rethrow),
    );
    return NOT_A_CHAIN as PromiseLike<R1 | R2>;
  }

  /** Part of the `yield*` protocol. */
  [Symbol.iterator](): Iterator<Op<unknown>, T, unknown> {
    return this;
  }

  /** @internal First call yields the operation to the kernel; the second returns its result. */
  next(value?: unknown): IteratorResult<Op<unknown>, T> {
    if (!this.yielded) {
      this.yielded = true;
      return { value: this, done: false };
    }
    return { value: value as T, done: true };
  }

  /** @internal The kernel throws an operation's exception into a generator through here. */
  throw(error?: unknown): IteratorResult<Op<unknown>, T> {
    throw error;
  }

  /** @internal */
  return(value?: unknown): IteratorResult<Op<unknown>, T> {
    return { value: value as T, done: true };
  }

  /** `Lock#1.acquire(true, 0.5)` */
  toString(): string {
    return `${this.obj.id}.${this.name}(${this.args.map(formatArg).join(', ')})`;
  }
}

function identity(v: unknown): unknown {
  return v;
}
function rethrow(e: unknown): never {
  throw e;
}

function formatArg(a: unknown): string {
  if (typeof a === 'string') return JSON.stringify(a);
  if (a instanceof SimObject) return a.id;
  if (typeof a === 'function') return a.name || 'fn';
  if (typeof a === 'object' && a !== null) return Array.isArray(a) ? '[…]' : '{…}';
  return String(a);
}

/** What `op.then(...)` returns: chaining further is a misuse with a clear message. */
const NOT_A_CHAIN: PromiseLike<unknown> = {
  then(): never {
    throw misuse(
      'NOT_PROMISE_CHAIN',
      'An Interleave operation was chained with .then(...).then(...); operations are scheduling points, not promises.',
      'write `const v = await op;` (async process) or `const v = yield* op;` (generator process) and continue from there.',
    );
  },
};
