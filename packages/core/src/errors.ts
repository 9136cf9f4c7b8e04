/**
 * Two families of errors cross the simulator's boundary.
 *
 * - {@link SimulationError}: the simulator was used wrongly (a forgotten `await`,
 *   a bad option, a program that awaited real I/O). These fail the whole run,
 *   whichever process caused them: they are bugs in the test, not behaviours of the
 *   program under test.
 * - {@link PythonError} and its subclasses: the exceptions Python's
 *   `multiprocessing` would raise inside the simulated process (releasing an
 *   unlocked Lock, joining a process that was never started...). They are thrown
 *   into the process at the operation's `await`/`yield*`, can be caught there, and
 *   when uncaught end that process with exit code 1, as in Python.
 */

/** Stable identifiers for every kind of simulator misuse, pinned by tests. */
export type SimulationErrorCode =
  | 'FORGOTTEN_AWAIT'
  | 'OUTSIDE_PROCESS'
  | 'NOT_AN_OPERATION'
  | 'AWAITED_TWICE'
  | 'FOREIGN_AWAIT'
  | 'STALE_OBJECT'
  | 'INVALID_ARGUMENT'
  | 'INVALID_OPTION'
  | 'CONCURRENT_RUN'
  | 'ASYNC_IN_SYNC_RUN'
  | 'BAD_STRATEGY_CHOICE'
  | 'NOT_PROMISE_CHAIN'
  | 'REPLAY_DIVERGED'
  | 'BAD_TOKEN'
  | 'MONITOR_THREW'
  | 'WORKER_FAILED';

/**
 * Thrown when the simulator is used in a way it cannot honour. The message names
 * the API, what was expected, and how to fix it.
 *
 * @example
 * ```ts
 * const r = await run(program(async ({ mp }) => { mp.Lock().acquire(); }));
 * r.status;                                   // 'error'
 * (r.error as SimulationError).code;          // 'FORGOTTEN_AWAIT'
 * ```
 */
export class SimulationError extends Error {
  override readonly name = 'SimulationError';
  readonly code: SimulationErrorCode;
  constructor(code: SimulationErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Build a misuse error in the house style: what happened, then what to do. */
export function misuse(code: SimulationErrorCode, what: string, fix: string): SimulationError {
  return new SimulationError(code, `${what}\n  How to fix: ${fix}`);
}

/** Base class of the exceptions Python's `multiprocessing` raises inside a process. */
export class PythonError extends Error {
  /** The Python exception class name, used in tracebacks on stderr. */
  get pythonName(): string {
    return this.name;
  }
}

/** Python's `ValueError` (e.g. a Lock released too many times). */
export class ValueError extends PythonError {
  override readonly name: string = 'ValueError';
}

/** Python's `AssertionError`, which `multiprocessing` uses for many misuses. */
export class PyAssertionError extends PythonError {
  override readonly name: string = 'AssertionError';
}

/** Python's `RuntimeError`. */
export class RuntimeError extends PythonError {
  override readonly name: string = 'RuntimeError';
}

/** Python's `threading.BrokenBarrierError`. */
export class BrokenBarrierError extends RuntimeError {
  override readonly name: string = 'BrokenBarrierError';
}

/**
 * A monitor or invariant declared the run wrong. The run ends with status `error`
 * at the step that broke it.
 */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
  /** Name of the monitor or invariant that failed. */
  readonly monitor: string;
  constructor(monitor: string, message: string) {
    super(`${monitor}: ${message}`);
    this.monitor = monitor;
  }
}

/** Python's `queue.Empty`: a non-blocking or timed-out `get` found nothing. */
export class Empty extends PythonError {
  override readonly name: string = 'Empty';
}

/** Python's `queue.Full`: a non-blocking or timed-out `put` found no room. */
export class Full extends PythonError {
  override readonly name: string = 'Full';
}

/** Python's `EOFError`: `recv` on a pipe whose write ends are all closed and whose buffer is empty. */
export class EOFError extends PythonError {
  override readonly name: string = 'EOFError';
}

/** Python's `OSError` (e.g. using a closed connection handle). */
export class OSError extends PythonError {
  override readonly name: string = 'OSError';
}

/** Python's `ConnectionError`: the base of the connection errors below (an OSError). */
export class ConnectionError extends OSError {
  override readonly name: string = 'ConnectionError';
}

/** Python's `BrokenPipeError`: sending into a pipe whose read end is closed everywhere, or on a socket shut down for writing. */
export class BrokenPipeError extends ConnectionError {
  override readonly name: string = 'BrokenPipeError';
}

/** Python's `ConnectionRefusedError` (errno 111): a socket connect() to a port nobody listens on. */
export class ConnectionRefusedError extends ConnectionError {
  override readonly name: string = 'ConnectionRefusedError';
}

/** Python's `ConnectionResetError` (errno 104): the other end of a socket reset the connection. */
export class ConnectionResetError extends ConnectionError {
  override readonly name: string = 'ConnectionResetError';
}

/**
 * Python's `TypeError` (e.g. a float stored into an integer `mp.Value`). Named with
 * a `Py` prefix so importing it never shadows JavaScript's global `TypeError`.
 */
export class PyTypeError extends PythonError {
  override readonly name: string = 'TypeError';
}

/** Python's `IndexError`: an `mp.Array` index out of range. */
export class IndexError extends PythonError {
  override readonly name: string = 'IndexError';
}

/** Python's `FileNotFoundError` (errno 2): reading or removing a simulated file that does not exist. */
export class FileNotFoundError extends OSError {
  override readonly name: string = 'FileNotFoundError';
  /** The path, as Python's `e.filename`. */
  readonly filename: string;
  constructor(filename: string, message: string) {
    super(message);
    this.filename = filename;
  }
}

/** Python's `json.JSONDecodeError` (a ValueError): a simulated file's text is not JSON. */
export class JSONDecodeError extends ValueError {
  override readonly name: string = 'JSONDecodeError';
}

/** Python's `KeyError`: a manager dict has no such key. Its message is the key's repr, e.g. `'count'`. */
export class KeyError extends PythonError {
  override readonly name: string = 'KeyError';
}

/** Python's `AttributeError`: a manager Namespace has no such attribute. */
export class AttributeError extends PythonError {
  override readonly name: string = 'AttributeError';
}

/**
 * Python's `multiprocessing.TimeoutError`: `AsyncResult.get(timeout)` or a Pool
 * iterator's `next(timeout)` found no result within `timeout` virtual seconds.
 */
export class TimeoutError extends PythonError {
  override readonly name: string = 'TimeoutError';
}
