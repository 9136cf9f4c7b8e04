import { show, timeoutArg } from '../args.js';
import { deepCopy } from '../copy.js';
import { Fifo } from '../fifo.js';
import { PyAssertionError, PyTypeError, SimulationError, TimeoutError, ValueError, misuse } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { NEXT_PHASE, Op, SimObject, type Footprint, type WaitInfo } from '../op.js';
import type { SimProcess } from '../process-state.js';
import { bodyResult, bodyStyle } from '../generators.js';
import { Process, simObjectsIn, spawnCostOf } from './process.js';

/**
 * Python's `multiprocessing.Pool`, simulated.
 *
 * The model, and why:
 *
 * - Workers are real simulated processes (daemonic children of the pool's owner,
 *   named `SpawnPoolWorker-N` as under Python's spawn start method), started by the
 *   pool's first operation and reused task after task, so a pool of N serves every
 *   task from N pids. `maxtasksperchild` retires a worker after that many tasks; a
 *   `PoolWorkerHandler` thread of the owner starts its replacement (a new pid).
 * - Results travel back through a `PoolResultHandler` thread of the owner: it stores
 *   each result, runs the task's callback (so callbacks run in the parent, and can
 *   interleave with the parent's main code), and only then marks the result ready —
 *   CPython's order, so `get()` returns after the callback has run.
 * - Python's third thread, the task handler that moves submitted tasks into the
 *   workers' queue, is folded into the submitting step: a task is visible to workers
 *   as soon as `applyAsync` (or `map`...) takes effect.
 * - Every hand-over is a message in the trace: submit → worker (`send`/`recv` on the
 *   pool), worker → result handler (on the pool), result handler → the caller's
 *   `get`/`wait`/`ready`/`successful`/`map` return (on the AsyncResult; one send,
 *   received by every call that observes the result ready).
 *
 * Task functions, initializers and callbacks may be plain, async or generator
 * functions when the pool belongs to an async process; a pool created by a
 * generator process runs its workers and result handler as generators (so
 * `runSync` can drive them), and then takes generator or plain functions only.
 */

type Gen<R> = Generator<Op<unknown>, R, unknown>;
/** What the pool's own process bodies yield: operations, and (async pools only) user promises to await. */
type Body<R> = Generator<Op<unknown> | AwaitUser, R, unknown>;

/** A function a pool can run: a plain, `async` or generator function. */
export type PoolFunction = (...args: never[]) => unknown;

/** What a call of `F` finally gives: a generator's return value, a promise's value, or the value itself. */
export type TaskResult<F extends PoolFunction> = ReturnType<F> extends Generator<unknown, infer R, unknown> ? R : Awaited<ReturnType<F>>;

/** What a task function returning `R` may return: `R`, a promise of it (async), or a generator returning it. */
export type PoolReturn<R> = R | PromiseLike<R> | Generator<Op<unknown>, R, unknown>;

/** Options of `mp.Pool({...})`: Python's keyword arguments. */
export interface PoolOptions {
  /** Number of worker processes. Default: `mp.cpuCount()` (the run option `cpuCount`). */
  readonly processes?: number | null;
  /** Run in each worker when it starts, before its first task. */
  readonly initializer?: PoolFunction | null;
  readonly initargs?: readonly unknown[];
  /** Replace a worker after it has completed this many tasks. Default: never. */
  readonly maxtasksperchild?: number | null;
}

/** `apply_async(..., callback=, error_callback=)` */
export interface ApplyAsyncOptions<R> {
  /** Run in the parent's result-handler thread with the result, before the result is marked ready. */
  readonly callback?: ((result: R) => unknown) | null;
  /** Run in the parent's result-handler thread with the exception the task raised. */
  readonly errorCallback?: ((error: unknown) => unknown) | null;
}

/** `map_async(..., chunksize=, callback=, error_callback=)` */
export interface MapAsyncOptions<R> extends ApplyAsyncOptions<R[]> {
  /** Items per task. Default as Python's: `ceil(len / (4 * processes))`. */
  readonly chunksize?: number | null;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** One unit of work in the workers' queue: one call (apply) or a chunk of calls (map). */
class Task {
  /** Message id of the submit, paired with the worker's receive. */
  msg = 0;
  constructor(
    readonly target: PoolResult,
    readonly chunk: number,
    readonly func: PoolFunction,
    readonly calls: readonly (readonly unknown[])[],
    /** apply: the result is the call's value, not a list of values. */
    readonly single: boolean,
  ) {}
  /** How a task shows in traces. */
  toJSON(): unknown {
    return { result: this.target.id, chunk: this.chunk, func: this.func.name || '<lambda>' };
  }
}

/** A task's outcome in the result queue. */
interface Reply {
  readonly task: Task;
  readonly outcome: Outcome;
  readonly msg: number;
}

/** A callback the result handler must run before the result is final. */
interface Pending {
  readonly target: PoolResult;
  readonly callback: (arg: never) => unknown;
  readonly arg: unknown;
}

/** A user promise the async driver awaits on behalf of a pool body. */
class AwaitUser {
  constructor(readonly promise: PromiseLike<unknown>) {}
}

/** Per-operation state of the owner's pool operations. */
interface Call {
  /** Worker spawns this operation performs first (the pool's first operation starts it). */
  readonly spawns: number;
  result: PoolResult | null;
  /** Submitting operations: queue the work, as the step of the given process. */
  readonly submit: ((p: SimProcess) => PoolResult) | null;
  /** The *Async methods return the result object at once instead of waiting for it. */
  readonly returns: boolean;
}

type State = 'RUN' | 'CLOSE' | 'TERMINATE';

/**
 * A pool of worker processes, as Python's `multiprocessing.Pool`. Create it with
 * `mp.Pool(processes, initializer, initargs, maxtasksperchild)` (or an options
 * object); every method that submits, waits or changes the pool is an operation.
 *
 * @example
 * ```ts
 * async function work(n: number): Promise<number> {
 *   await print(`${os.getpid()} run`);
 *   await time.sleep(1);
 *   return n ** 2;
 * }
 * const p = mp.Pool(3);
 * const res = await p.apply(work, [4]);                   // 16, one task at a time
 * const rs = [];
 * for (let i = 0; i < 10; i++) rs.push(await p.applyAsync(work, [i]));
 * await p.close();
 * await p.join();
 * for (const r of rs) await print(await r.get());         // 0 1 4 ... 81
 * ```
 */
export class Pool extends SimObject {
  /** Number of worker processes (Python's `_processes`). */
  readonly processes: number;
  /** @internal The process the pool belongs to: only it (and its threads) may use the pool. */
  readonly owner: SimProcess;
  private readonly initializer: PoolFunction | null;
  private readonly initargs: readonly unknown[];
  private readonly maxtasks: number | null;
  private state: State = 'RUN';
  private started = false;
  private style: 'generator' | 'async' = 'async';
  /** Handles of the first workers, named at creation as Python's constructor names them. */
  private readonly initial: PoolWorkerHandle[] = [];
  /** Every worker started, in order. */
  private readonly workers: SimProcess[] = [];
  /** Workers that exited while the pool still needed them: the worker handler replaces them. */
  private missing = 0;
  private readonly inqueue = new Fifo<Task>();
  private readonly outqueue = new Fifo<Reply>();
  /** Results not final yet (Python's `_cache`). */
  private readonly cache = new Set<PoolResult>();
  private resultHandler: SimProcess | null = null;
  private workerHandler: SimProcess | null = null;
  /** The callback the result handler is running, if any. */
  private busy: Pending | null = null;
  /** Why the result handler thread died (a callback raised), as `Name: message`. */
  private handlerDeath: string | null = null;
  /** @internal */ readonly outLoc: string;

  /** @internal Use `mp.Pool()`. */
  constructor(kernel: Kernel, creator: SimProcess, options: PoolOptions) {
    const api = 'mp.Pool(processes, initializer, initargs, maxtasksperchild)';
    const { processes = null, initializer = null, initargs = [], maxtasksperchild = null } = options;
    if (processes !== null) {
      if (typeof processes !== 'number' || !Number.isInteger(processes)) {
        throw misuse('INVALID_ARGUMENT', `${api}: processes must be an integer or null, got ${show(processes)}.`, 'pass e.g. `mp.Pool(4)`, or omit it for mp.cpuCount() workers.');
      }
      if (processes < 1) throw new ValueError('Number of processes must be at least 1');
    }
    if (initializer !== null && typeof initializer !== 'function') throw new PyTypeError('initializer must be a callable');
    if (!Array.isArray(initargs)) {
      throw misuse('INVALID_ARGUMENT', `${api}: initargs must be an array, got ${show(initargs)}.`, 'pass the initializer\'s arguments as an array: `mp.Pool(3, init, [lock])`.');
    }
    if (maxtasksperchild !== null && (typeof maxtasksperchild !== 'number' || !Number.isInteger(maxtasksperchild) || maxtasksperchild <= 0)) {
      throw new ValueError('maxtasksperchild must be a positive int or None');
    }
    const owner = creator.owner;
    // Python starts the workers in the constructor; a daemonic process cannot have children.
    if (owner.daemon) throw new PyAssertionError('daemonic processes are not allowed to have children');
    super(kernel, 'Pool');
    this.outLoc = `${this.id}:results`;
    this.owner = owner;
    this.processes = processes ?? kernel.config.cpuCount;
    this.initializer = initializer;
    this.initargs = initargs as readonly unknown[];
    this.maxtasks = maxtasksperchild;
    for (let i = 0; i < this.processes; i++) this.initial.push(new PoolWorkerHandle(kernel, owner, this));
  }

  // ------------------------------------------------------------ public API

  /**
   * `apply(func, args)`: run `func(...args)` in a worker and wait for its result.
   * Tasks submitted this way run one at a time; a task's exception is raised here.
   *
   * @example
   * ```ts
   * const sq = await pool.apply(work, [3]);   // 9
   * ```
   */
  apply<F extends PoolFunction>(func: F, args?: Parameters<F>): Op<TaskResult<F>> {
    const api = `${this.id}.apply(func, args)`;
    const a = argsArg(api, args);
    this.fnArg(api, 'func', func);
    return this.ownerOp(api, 'apply', [func, a], (p) => this.submitApply(p, func, a, {}));
  }

  /**
   * `apply_async(func, args, callback=, error_callback=)`: submit one task and
   * return its {@link AsyncResult} at once. Callbacks run in this process's
   * result-handler thread, not in the worker.
   *
   * @example
   * ```ts
   * const r = await pool.applyAsync(work, [10], { callback: async (v) => { await print(v); } });
   * await r.get();   // 100, after the callback has run
   * ```
   */
  applyAsync<F extends PoolFunction>(func: F, args?: Parameters<F>, options: ApplyAsyncOptions<TaskResult<F>> = {}): Op<AsyncResult<TaskResult<F>>> {
    const api = `${this.id}.applyAsync(func, args, options)`;
    const a = argsArg(api, args);
    this.fnArg(api, 'func', func);
    const cbs = this.callbacksArg(api, options);
    return this.ownerOp(api, 'applyAsync', [func, a], (p) => this.submitApply(p, func, a, cbs), true);
  }

  /**
   * `map(func, iterable, chunksize)`: `func` on every item, in chunks spread over the
   * workers; waits for all and returns the results in order. The first exception
   * any item raised is raised here, once every chunk is back.
   *
   * @example
   * ```ts
   * const squares = await pool.map(square, [0, 1, 2, 3]);   // [0, 1, 4, 9]
   * ```
   */
  map<T, R>(func: (item: T) => PoolReturn<R>, iterable: Iterable<T>, chunksize?: number | null): Op<R[]> {
    const api = `${this.id}.map(func, iterable, chunksize)`;
    const calls = this.callsOf(api, func, iterable, false);
    const cs = chunksizeArg(api, chunksize);
    return this.ownerOp(api, 'map', [func, calls.length], (p) => this.submitMap(p, func, calls, cs, {}));
  }

  /** `map_async(func, iterable, chunksize, callback, error_callback)`: like `map`, returning an {@link AsyncResult} of the list. */
  mapAsync<T, R>(func: (item: T) => PoolReturn<R>, iterable: Iterable<T>, options: MapAsyncOptions<R> = {}): Op<AsyncResult<R[]>> {
    const api = `${this.id}.mapAsync(func, iterable, options)`;
    const calls = this.callsOf(api, func, iterable, false);
    const cs = chunksizeArg(api, options.chunksize);
    const cbs = this.callbacksArg(api, options);
    return this.ownerOp(api, 'mapAsync', [func, calls.length], (p) => this.submitMap(p, func, calls, cs, cbs), true);
  }

  /**
   * `starmap(func, iterable, chunksize)`: like `map`, but each item is an argument
   * list: `starmap(add, [[1, 2], [3, 4]])` gives `[add(1, 2), add(3, 4)]`.
   */
  starmap<A extends readonly unknown[], R>(func: (...args: A) => PoolReturn<R>, iterable: Iterable<A>, chunksize?: number | null): Op<R[]> {
    const api = `${this.id}.starmap(func, iterable, chunksize)`;
    const calls = this.callsOf(api, func, iterable, true);
    const cs = chunksizeArg(api, chunksize);
    return this.ownerOp(api, 'starmap', [func, calls.length], (p) => this.submitMap(p, func, calls, cs, {}));
  }

  /** `starmap_async(...)`: like `starmap`, returning an {@link AsyncResult} of the list. */
  starmapAsync<A extends readonly unknown[], R>(func: (...args: A) => PoolReturn<R>, iterable: Iterable<A>, options: MapAsyncOptions<R> = {}): Op<AsyncResult<R[]>> {
    const api = `${this.id}.starmapAsync(func, iterable, options)`;
    const calls = this.callsOf(api, func, iterable, true);
    const cs = chunksizeArg(api, options.chunksize);
    const cbs = this.callbacksArg(api, options);
    return this.ownerOp(api, 'starmapAsync', [func, calls.length], (p) => this.submitMap(p, func, calls, cs, cbs), true);
  }

  /**
   * `imap(func, iterable, chunksize=1)`: submit every item now and return an
   * iterator over the results in order; each `next()` waits for the next one.
   *
   * @example
   * ```ts
   * for await (const sq of await pool.imap(square, [1, 2, 3])) await print(sq);
   * // generator process:
   * const it = yield* pool.imap(square, [1, 2, 3]);
   * for (let r = yield* it.next(); !r.done; r = yield* it.next()) yield* print(r.value);
   * ```
   */
  imap<T, R>(func: (item: T) => PoolReturn<R>, iterable: Iterable<T>, chunksize = 1): Op<IMapIterator<R>> {
    return this.imapOp('imap', func, iterable, chunksize, true);
  }

  /** `imap_unordered(func, iterable, chunksize=1)`: like `imap`, yielding results as they arrive. */
  imapUnordered<T, R>(func: (item: T) => PoolReturn<R>, iterable: Iterable<T>, chunksize = 1): Op<IMapIterator<R>> {
    return this.imapOp('imapUnordered', func, iterable, chunksize, false);
  }

  /**
   * `close()`: accept no more tasks. Workers finish what was submitted, then exit
   * once every result is back; `join()` waits for that.
   */
  close(): Op<void> {
    return this.ownerOp(`${this.id}.close()`, 'close', [], null);
  }

  /**
   * `join()`: wait until the workers have exited and every result has been handled
   * (callbacks included). Only after `close()` or `terminate()`: otherwise it raises
   * `ValueError: Pool is still running`.
   */
  join(): Op<void> {
    return this.ownerOp(`${this.id}.join()`, 'join', [], null);
  }

  /**
   * `terminate()`: stop the workers at once (exit code -15). Tasks in flight are
   * lost: their results never become ready, so a `get()` without timeout on them
   * waits forever, as in Python. Waits for a callback the result handler is running.
   */
  terminate(): Op<void> {
    return this.ownerOp(`${this.id}.terminate()`, 'terminate', [], null);
  }

  /**
   * Python's `with Pool(...) as p:` — run `body` with the pool, then `terminate()` it
   * (what `Pool.__exit__` does: work not collected inside the block is lost). Pass an
   * async function from an async process, or a generator function (and `yield*` the
   * result) from a generator process.
   *
   * @example
   * ```ts
   * const res = await mp.Pool(4).using(async (p) => await p.map(square, [1, 2, 3]));
   * const res2 = yield* mp.Pool(4).using(function* (p) { return yield* p.map(square, [1, 2, 3]); });
   * ```
   */
  using<R>(body: (pool: this) => Gen<R>): Gen<R>;
  using<R>(body: (pool: this) => Promise<R> | R): Promise<R>;
  using<R>(body: (pool: this) => Gen<R> | Promise<R> | R): Gen<R> | Promise<R> {
    if (typeof body !== 'function') {
      throw misuse('INVALID_ARGUMENT', `${this.id}.using(body): body must be a function, got ${show(body)}.`, 'pass `async (pool) => { ... }` (or a generator function in a generator process).');
    }
    const api = `${this.id}.using(body)`;
    const caller = this.checkCaller(api);
    // As withLock: a generator process needs a generator back, whatever the body looks like.
    if (bodyStyle(api, body, caller.gen !== null) === 'generator') return usingGen(this, api, body as (pool: this) => Gen<R> | R);
    return usingAsync(this, body as (pool: this) => Promise<R> | R);
  }

  /** @internal `Pool.__enter__`: only a running pool can be entered. */
  checkRunningNow(): void {
    if (this.state !== 'RUN') throw new ValueError('Pool not running');
  }

  /** Python's repr: `<multiprocessing.pool.Pool state=RUN pool_size=3>`. */
  override toString(): string {
    return `<multiprocessing.pool.Pool state=${this.state} pool_size=${this.processes}>`;
  }

  // ------------------------------------------------------------ argument checks

  private checkCaller(api: string): SimProcess {
    const p = this.kernel.requireCurrent(api);
    if (p.owner !== this.owner) {
      throw misuse(
        'INVALID_ARGUMENT',
        `${api} was called from ${p.owner.label}, but ${this.id} belongs to ${this.owner.label}. ` +
          'Python cannot pass a pool to another process (NotImplementedError: pool objects cannot be passed between processes or pickled).',
        'create and use the pool in one process; send work and results between processes through a Queue or Pipe.',
      );
    }
    return p;
  }

  private fnArg(api: string, name: string, f: unknown): void {
    if (typeof f !== 'function') {
      throw misuse('INVALID_ARGUMENT', `${api}: ${name} must be a function, got ${show(f)}.`, `pass the function itself, e.g. \`pool.apply(work, [1])\`.`);
    }
  }

  private callbacksArg<R>(api: string, options: ApplyAsyncOptions<R>): ApplyAsyncOptions<R> {
    if (typeof options !== 'object' || options === null) {
      throw misuse('INVALID_ARGUMENT', `${api}: options must be an object, got ${show(options)}.`, 'pass e.g. `{ callback: onResult }`, or omit it.');
    }
    for (const key of ['callback', 'errorCallback'] as const) {
      const f = options[key];
      if (f !== undefined && f !== null && typeof f !== 'function') {
        throw misuse('INVALID_ARGUMENT', `${api}: ${key} must be a function, got ${show(f)}.`, `pass a function: \`{ ${key}: (x) => ... }\`, or omit it.`);
      }
    }
    return options;
  }

  private callsOf(api: string, func: unknown, iterable: unknown, star: boolean): (readonly unknown[])[] {
    this.fnArg(api, 'func', func);
    if (typeof iterable !== 'object' || iterable === null || typeof (iterable as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw misuse('INVALID_ARGUMENT', `${api}: iterable must be iterable (an array, a Set, a generator...), got ${show(iterable)}.`, 'pass e.g. `[0, 1, 2]` or `[...Array(10).keys()]` for range(10).');
    }
    const calls: (readonly unknown[])[] = [];
    for (const item of iterable as Iterable<unknown>) {
      if (star && !Array.isArray(item)) {
        throw misuse('INVALID_ARGUMENT', `${api}: every item must be an argument array, got ${show(item)}.`, 'pass e.g. `[[1, 2], [3, 4]]` to call func(1, 2) and func(3, 4).');
      }
      calls.push(star ? (item as readonly unknown[]) : [item]);
    }
    return calls;
  }

  private imapOp<R>(name: 'imap' | 'imapUnordered', func: PoolFunction, iterable: unknown, chunksize: unknown, ordered: boolean): Op<IMapIterator<R>> {
    const api = `${this.id}.${name}(func, iterable, chunksize)`;
    const calls = this.callsOf(api, func, iterable, false);
    const cs = chunksizeArg(api, chunksize) ?? 1;
    return this.ownerOp(api, name, [func, calls.length], (p) => this.submitImap(p, func, calls, cs, ordered), true);
  }

  // ------------------------------------------------------------ submitting

  /**
   * Issue an operation of the owner. The pool's first operation first starts the
   * workers, one step each (taking `spawnCost` each), as Python's constructor does.
   * `submit` queues the work; `returns` makes the operation return its result
   * object at once (the *Async methods) instead of waiting for it.
   */
  private ownerOp<T>(api: string, name: string, args: readonly unknown[], submit: ((p: SimProcess) => PoolResult) | null, returns = false): Op<T> {
    this.checkCaller(api);
    const spawns = this.started ? 0 : this.initial.length;
    this.started = true;
    const cost = spawnCostOf(this.kernel);
    const op = this.op<T>(name, args, spawns > 0 && cost > 0 ? this.kernel.now + cost : Infinity);
    op.memo = { spawns, result: null, submit, returns } satisfies Call;
    return op;
  }

  private submitApply(p: SimProcess, func: PoolFunction, args: readonly unknown[], cbs: ApplyAsyncOptions<never>): PoolResult {
    const r = new AsyncResult(this, 1, 1, true, cbs);
    this.enqueue(p, r, func, [[...args]], true);
    return r;
  }

  private submitMap(p: SimProcess, func: PoolFunction, calls: (readonly unknown[])[], chunksize: number | null, cbs: ApplyAsyncOptions<never>): PoolResult {
    const cs = calls.length === 0 ? 0 : (chunksize ?? defaultChunksize(calls.length, this.processes));
    const r = new AsyncResult(this, cs === 0 ? 0 : Math.ceil(calls.length / cs), cs, false, cbs, calls.length);
    for (let i = 0; i < calls.length; i += cs) this.enqueue(p, r, func, calls.slice(i, i + cs), false);
    return r;
  }

  private submitImap(p: SimProcess, func: PoolFunction, calls: (readonly unknown[])[], chunksize: number, ordered: boolean): PoolResult {
    const chunks = Math.ceil(calls.length / chunksize);
    const it = new IMapIterator(this, chunks, chunksize, ordered);
    for (let i = 0; i < calls.length; i += chunksize) this.enqueue(p, it, func, calls.slice(i, i + chunksize), false);
    return it;
  }

  private enqueue(p: SimProcess, target: PoolResult, func: PoolFunction, calls: (readonly unknown[])[], single: boolean): void {
    // Arguments are pickled on the way to the worker: the worker gets copies.
    const task = new Task(target, target.queued++, func, deepCopy(calls), single);
    task.msg = this.kernel.send(p, this.id, { result: target.id, chunk: task.chunk, func: func.name || '<lambda>', args: single ? task.calls[0] : task.calls });
    this.inqueue.push(task);
    this.cache.add(target);
  }

  // ------------------------------------------------------------ workers and threads

  /** The body of a worker process: Python's `multiprocessing.pool.worker`. */
  private *workerLoop(): Body<void> {
    // initargs are pickled for each worker, as under the spawn start method.
    if (this.initializer !== null) yield* this.callUser(this.initializer, deepCopy(this.initargs), 'initializer');
    let completed = 0;
    while (this.maxtasks === null || completed < this.maxtasks) {
      const task = yield* this.op<Task | null>('getTask', []);
      if (task === null) return; // the sentinel: the pool is closed and every result is back
      // Handles in the task's arguments (pipe ends, sockets) reach the worker as they
      // would by pickling: the worker holds its own copy until it closes it or exits.
      const worker = this.kernel.requireCurrent(`${this.id} worker`);
      for (const args of task.calls) for (const o of simObjectsIn(args)) o.inheritedBy(worker);
      let outcome: Outcome;
      try {
        const values: unknown[] = [];
        for (const args of task.calls) values.push(yield* this.callUser(task.func, args, 'task'));
        outcome = { ok: true, value: task.single ? values[0] : values };
      } catch (e) {
        if (e instanceof SimulationError) throw e;
        outcome = { ok: false, error: e };
      }
      completed++;
      const put = this.op<void>('putResult', [task.target, task.chunk]);
      put.memo = { task, outcome, last: completed === this.maxtasks };
      yield* put;
    }
  }

  /** The result-handler thread: deliver results, run callbacks, then mark results ready. */
  private *handlerLoop(): Body<void> {
    for (;;) {
      yield* this.op<void>('handleResult', []);
      const pending = this.busy;
      if (pending === null) continue;
      try {
        yield* this.callUser(pending.callback, [pending.arg], 'callback');
      } catch (e) {
        if (e instanceof SimulationError) throw e;
        this.handlerDied(e);
        return;
      }
      yield* this.op<void>('finishResult', [pending.target]);
    }
  }

  /** The worker-handler thread: start replacements for workers that exited (maxtasksperchild). */
  private *maintainLoop(): Gen<void> {
    for (;;) yield* this.op<void>('maintain', []);
  }

  /**
   * Run user code (a task, initializer or callback) in a pool process: generator
   * functions are delegated to, promises awaited (async pools only).
   */
  private *callUser(fn: PoolFunction, args: readonly unknown[], what: string): Body<unknown> {
    if (this.style === 'generator' && isAsyncFunction(fn)) throw this.asyncInGeneratorPool(fn, what);
    const r = (fn as (...a: readonly unknown[]) => unknown)(...args);
    if (r instanceof Op) return yield* (r as Op<unknown>);
    if (isGenerator(r)) return yield* r;
    if (isThenable(r)) {
      if (this.style === 'generator') throw this.asyncInGeneratorPool(fn, what);
      return yield new AwaitUser(r);
    }
    return r;
  }

  private asyncInGeneratorPool(fn: PoolFunction, what: string): SimulationError {
    return misuse(
      'ASYNC_IN_SYNC_RUN',
      `${this.id}: the ${what} ${fn.name || '(anonymous)'} is async, but the pool belongs to ${this.owner.label}, a generator process, ` +
        'so its workers and result handler run as generators and cannot await.',
      `write ${fn.name || 'it'} as a generator function (\`function*\`, with \`yield*\` before each operation), ` +
        'or write the process that creates the pool as an async function.',
    );
  }

  /** @internal A worker process's body, in the pool's style. */
  workerBody(): unknown {
    return this.body(() => this.workerLoop())();
  }

  /** A body for one of the pool's processes, in the pool's style. */
  private body(make: () => Body<void>): () => unknown {
    return () => (this.style === 'generator' ? make() : drive(this.kernel, make()));
  }

  private spawnWorker(handle: PoolWorkerHandle | undefined, actor: SimProcess): void {
    const h = handle ?? new PoolWorkerHandle(this.kernel, this.owner, this);
    const w = h.launch(this.owner, actor);
    w.finalizers.push(() => this.workerExited());
    this.workers.push(w);
  }

  private workerExited(): void {
    // When the owner's code has ended its daemonic workers are terminated, as
    // Python's exit handler terminates the pool: nothing is replaced then.
    if (!this.needsWorkers()) return;
    this.missing++;
    this.workerHandler ??= this.kernel.startThread(this.owner, 'PoolWorkerHandler', () => this.maintainLoop());
  }

  /** While the pool runs, or is closed with work left, and its owner's code has not ended. */
  private needsWorkers(): boolean {
    return !this.owner.bodyEnded && (this.state === 'RUN' || (this.state === 'CLOSE' && this.cache.size > 0));
  }

  private handlerDied(e: unknown): void {
    this.handlerDeath = describe(e);
    this.busy = null;
    const t = this.kernel.current!;
    // Python: the exception escapes `_handle_results`, which ends; nothing is delivered any more.
    this.kernel.write(t, 'stderr', `Exception in thread ${t.name}:`);
    this.kernel.write(t, 'stderr', 'Traceback (most recent call last):');
    this.kernel.write(t, 'stderr', this.handlerDeath);
  }

  /**
   * After terminate the result-handler thread ends, as Python's does when it sees
   * TERMINATE (unless it is the caller: a callback that terminates the pool
   * finishes first). Ended, not left blocked: see 'maintain' in ready().
   */
  private stopResultHandler(caller: SimProcess): void {
    const h = this.resultHandler;
    if (h !== null && h !== caller && !h.done) this.kernel.kill(h);
  }

  /** Workers receive the sentinel once the pool is closed and every result is final. */
  private sentinel(): boolean {
    return this.state !== 'RUN' && this.cache.size === 0 && this.inqueue.length === 0;
  }

  private joinable(): boolean {
    if (this.state === 'RUN' || this.busy !== null) return false;
    if (this.missing > 0 && this.needsWorkers()) return false;
    if (this.state === 'CLOSE' && this.cache.size > 0) return false;
    for (const w of this.workers) if (!w.done) return false;
    return true;
  }

  /** @internal Called when `r` becomes final. */
  jobDone(r: PoolResult): void {
    this.cache.delete(r);
  }

  // ------------------------------------------------------------ the operations

  /** @internal */
  ready(op: Op<unknown>): boolean {
    const k = this.kernel;
    switch (op.name) {
      case 'getTask':
        return this.inqueue.length > 0 || this.sentinel();
      case 'putResult':
      case 'finishResult':
        return true;
      case 'handleResult':
        return this.outqueue.length > 0 && this.state !== 'TERMINATE';
      case 'maintain':
        // Not disabled when replacements stop being needed (the pool closed with no
        // work left, the owner's code ended): it runs and does nothing. Exploration
        // sees every step that runs; a step that could never run again would be lost.
        return op.phase === 0 ? this.missing > 0 : op.deadline === Infinity || k.now >= op.deadline;
      default: {
        const m = op.memo as Call;
        // A deadline of Infinity means no spawnCost: the spawn takes effect at once.
        if (op.phase < m.spawns) return op.deadline === Infinity || k.now >= op.deadline;
        const q = op.phase - m.spawns;
        switch (op.name) {
          case 'apply':
          case 'map':
          case 'starmap':
            return q === 0 || m.result!.isFinal();
          case 'join':
            return this.state === 'RUN' || this.joinable();
          case 'terminate':
            return q === 0 || this.busy === null || op.proc === this.resultHandler;
          default:
            return true;
        }
      }
    }
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    const p = op.proc;
    const k = this.kernel;
    switch (op.name) {
      case 'getTask': {
        const task = this.inqueue.shift();
        if (task === undefined) return null;
        k.receive(p, this.id, task.msg, task.single ? task.calls[0] : task.calls);
        return task;
      }
      case 'putResult': {
        const { task, outcome } = op.memo as { task: Task; outcome: Outcome };
        // Pickled by the worker on the way back: the parent gets a copy.
        const sent: Outcome = outcome.ok ? { ok: true, value: deepCopy(outcome.value) } : { ok: false, error: deepCopy(outcome.error) };
        const msg = k.send(p, this.id, sent.ok ? sent.value : describe(sent.error));
        this.outqueue.push({ task, outcome: sent, msg });
        return undefined;
      }
      case 'handleResult': {
        const reply = this.outqueue.shift()!;
        k.receive(p, this.id, reply.msg, reply.outcome.ok ? reply.outcome.value : describe(reply.outcome.error));
        const target = reply.task.target;
        const cb = target.store(reply.task.chunk, reply.outcome, reply.task.single, p);
        if (cb === undefined) return undefined; // more chunks to come
        if (cb === null) {
          target.finish(p);
          this.jobDone(target);
        } else {
          this.busy = { target, callback: cb, arg: target.callbackArg() };
        }
        return undefined;
      }
      case 'finishResult': {
        const target = op.args[0] as PoolResult;
        target.finish(p);
        this.jobDone(target);
        this.busy = null;
        return undefined;
      }
      case 'maintain': {
        const cost = spawnCostOf(k);
        if (op.phase === 0 && cost > 0) {
          op.deadline = k.now + cost;
          return NEXT_PHASE;
        }
        op.deadline = Infinity;
        if (!this.needsWorkers()) {
          this.missing = 0;
          return undefined;
        }
        this.missing--;
        this.spawnWorker(undefined, p);
        return undefined;
      }
      default:
        return this.performOwner(op);
    }
  }

  private performOwner(op: Op<unknown>): unknown {
    const m = op.memo as Call;
    const k = this.kernel;
    if (op.phase < m.spawns) {
      if (op.phase === 0) this.style = op.proc.gen !== null ? 'generator' : 'async';
      this.spawnWorker(this.initial[op.phase], op.proc);
      if (op.phase === m.spawns - 1) {
        this.resultHandler = k.startThread(this.owner, 'PoolResultHandler', this.body(() => this.handlerLoop()));
        op.deadline = Infinity;
      } else {
        const cost = spawnCostOf(k);
        op.deadline = cost > 0 ? k.now + cost : Infinity;
      }
      return NEXT_PHASE;
    }
    const q = op.phase - m.spawns;
    if (m.submit !== null) {
      if (q === 0) {
        if (this.state !== 'RUN') throw new ValueError('Pool not running');
        m.result = m.submit(op.proc);
        return m.returns ? m.result : NEXT_PHASE;
      }
      return m.result!.take(op.proc);
    }
    switch (op.name) {
      case 'close':
        if (this.state === 'RUN') this.state = 'CLOSE';
        return undefined;
      case 'join':
        if (this.state === 'RUN') throw new ValueError('Pool is still running');
        return undefined;
      case 'terminate':
        if (q > 0) {
          this.stopResultHandler(op.proc);
          return undefined;
        }
        if (this.state !== 'TERMINATE') {
          this.state = 'TERMINATE';
          this.inqueue.clear();
          this.outqueue.clear();
          this.missing = 0;
          for (const w of this.workers) if (!w.done) k.kill(w);
          if (this.workerHandler !== null && this.workerHandler !== op.proc) k.kill(this.workerHandler);
        }
        // Python's terminate joins the result handler: a callback in progress finishes first.
        if (this.busy !== null && op.proc !== this.resultHandler) return NEXT_PHASE;
        this.stopResultHandler(op.proc);
        return undefined;
      default:
        throw new Error(`${this.id}: unknown operation ${op.name}`);
    }
  }

  /**
   * @internal Locations: `Pool#N` is the pool's state (running/closed, the task
   * queue, the unfinished results, the handler's callback), `Pool#N:results` the
   * queue of results going back. A result object's own id is its readiness. Worker
   * processes read `Pool#N` in their first step, so the step that starts one is
   * ordered before everything it does.
   */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    const pool = { loc: this.id, write: true };
    const out = { loc: this.outLoc, write: true };
    switch (op.name) {
      case 'getTask':
        return [pool];
      case 'putResult':
        // A worker's last task (maxtasksperchild) also makes it missing from the pool.
        return (op.memo as { last: boolean }).last ? [out, pool] : [out];
      case 'handleResult': {
        const head = this.outqueue.peek();
        return head === undefined ? [out, pool] : [out, pool, { loc: head.task.target.id, write: true }];
      }
      case 'finishResult':
        return [pool, { loc: (op.args[0] as PoolResult).id, write: true }];
      case 'maintain':
        // Enabled by a worker's exit, which writes that worker's handle.
        return [pool, ...this.workers.map((w) => ({ loc: w.handleId, write: false }))];
      default: {
        const m = op.memo as Call;
        if (op.phase < m.spawns) return [pool, { loc: this.initial[op.phase]?.id ?? this.id, write: true }];
        const q = op.phase - m.spawns;
        if (m.submit !== null && q > 0) return [{ loc: m.result!.id, write: false }];
        if (op.name === 'join') return [{ loc: this.id, write: false }, ...this.workers.map((w) => ({ loc: w.handleId, write: false }))];
        if (op.name === 'terminate') {
          const threads = [this.resultHandler, this.workerHandler].filter((t): t is SimProcess => t !== null && !t.done).map((t) => ({ loc: t.handleId, write: true }));
          if (q > 0) return [{ loc: this.id, write: false }, ...threads];
          return [pool, out, ...this.workers.filter((w) => !w.done).map((w) => ({ loc: w.handleId, write: true })), ...threads];
        }
        return [pool];
      }
    }
  }

  /** @internal */
  override waitInfo(op: Op<unknown>): WaitInfo {
    const live = this.workers.filter((w) => !w.done);
    switch (op.name) {
      case 'getTask':
        return { waitsOn: `idle: waiting for a task from ${this.id}`, heldBy: [] };
      case 'handleResult':
        return { waitsOn: this.state === 'TERMINATE' ? `stopped: ${this.id} was terminated` : `idle: no result of ${this.id} to handle`, heldBy: [] };
      case 'maintain':
        return { waitsOn: op.phase === 0 ? `idle: no worker of ${this.id} to replace` : `creating a worker for ${this.id} (spawnCost)`, heldBy: [] };
      default: {
        const m = op.memo as Call;
        if (op.phase < m.spawns) return { waitsOn: `creating ${this.initial[op.phase]?.name ?? 'a worker'} of ${this.id} (spawnCost: process creation takes virtual time)`, heldBy: [] };
        if (m.submit !== null && m.result !== null) return m.result.waitInfoFor(op.proc);
        if (op.name === 'terminate') return { waitsOn: `waiting for ${this.id}'s result handler to finish a callback`, heldBy: [] };
        if (op.name === 'join') return { waitsOn: this.joinWaitsOn(live), heldBy: live.map((w) => w.pid) };
        return super.waitInfo(op);
      }
    }
  }

  private joinWaitsOn(live: readonly SimProcess[]): string {
    const parts: string[] = [];
    if (this.cache.size > 0 && this.state === 'CLOSE') parts.push(`${this.cache.size} unfinished result(s)`);
    if (this.handlerDeath !== null) parts.push(`its result handler thread died (a callback raised ${this.handlerDeath}), so they never will be`);
    if (this.busy !== null) parts.push('its result handler is running a callback');
    if (live.length > 0) parts.push(`workers still running: ${live.map((w) => w.label).join(', ')}`);
    return `waiting for ${this.id} to finish: ${parts.join('; ') || 'its workers to exit'}`;
  }

  /** @internal Why a result is not ready yet, for reports. */
  pendingReason(waiter: SimProcess): string {
    if (waiter === this.resultHandler) {
      return `it never will be: a callback is waiting for it on ${this.id}'s result handler, the thread that would deliver it (callbacks must not wait for pool results)`;
    }
    if (this.state === 'TERMINATE') return `it never will be: ${this.id} was terminated with the task in flight`;
    if (this.handlerDeath !== null) return `it never will be: ${this.id}'s result handler thread died (a callback raised ${this.handlerDeath})`;
    const live = this.workers.filter((w) => !w.done).length;
    if (live === 0 && this.owner.bodyEnded) return `it never will be: ${this.id}'s workers were terminated when ${this.owner.name}'s code ended`;
    return `its task is queued or running in ${this.id}`;
  }
}

/** A worker's handle: a Process named `SpawnPoolWorker-N`, whose first step reads the pool's state. */
class PoolWorkerHandle extends Process {
  private readonly pool: Pool;
  constructor(kernel: Kernel, owner: SimProcess, pool: Pool) {
    // Python renames the worker's default name: SpawnProcess-N → SpawnPoolWorker-N.
    const name = `SpawnPoolWorker-${[...owner.identity, owner.childCount + 1].join(':')}`;
    super(kernel, owner, { target: () => pool.workerBody(), name, daemon: true });
    this.pool = pool;
  }
  /** @internal The step that started the worker wrote the pool's state: order it before the worker. */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    if (op.name === 'begin') return [{ loc: this.pool.id, write: false }];
    return super.footprint(op);
  }
}

/** What AsyncResult and IMapIterator share: the result handler fills them chunk by chunk. */
abstract class PoolResult extends SimObject {
  /** @internal */ readonly pool: Pool;
  /** @internal Chunks queued so far (the next chunk's index). */
  queued = 0;

  protected constructor(pool: Pool, kind: string) {
    super(pool.kernel, kind);
    this.pool = pool;
  }

  /**
   * @internal Store one chunk's outcome. Returns undefined while chunks are missing;
   * once the last is in, the callback to run before it is final, or null.
   */
  abstract store(chunk: number, outcome: Outcome, single: boolean, handler: SimProcess): ((arg: never) => unknown) | null | undefined;
  /** @internal What the callback receives. */
  callbackArg(): unknown {
    return undefined;
  }
  /** @internal Mark it final (ready), as the step of `handler`. */
  abstract finish(handler: SimProcess): void;
  /** @internal */
  abstract isFinal(): boolean;
  /** @internal `apply`/`map`: the value for the caller, or the task's exception. */
  take(_p: SimProcess): unknown {
    throw new Error(`${this.id}: not a blocking result`);
  }
  /** @internal */
  abstract waitInfoFor(waiter: SimProcess): WaitInfo;

  protected checkCaller(api: string): void {
    const p = this.kernel.requireCurrent(api);
    if (p.owner !== this.pool.owner) {
      throw misuse(
        'INVALID_ARGUMENT',
        `${api} was called from ${p.owner.label}, but ${this.id} belongs to ${this.pool.owner.label}, which submitted the task.`,
        'read results in the process that owns the pool; send them on to other processes through a Queue or Pipe.',
      );
    }
  }
}

/**
 * The result of `applyAsync` or `mapAsync`, as Python's `AsyncResult`. `get`,
 * `wait`, `ready` and `successful` are operations.
 *
 * @example
 * ```ts
 * const r = await pool.applyAsync(work, [3]);
 * await r.wait(0.5);              // at most 0.5 virtual seconds
 * if (await r.ready()) await print(await r.successful());
 * const v = await r.get();        // re-raises the task's exception, if it raised
 * ```
 */
export class AsyncResult<T> extends PoolResult {
  private left: number;
  private readonly chunksize: number;
  private value: unknown;
  private success = true;
  private final = false;
  private msg = 0;
  private readonly callback: ((arg: never) => unknown) | null;
  private readonly errorCallback: ((arg: never) => unknown) | null;

  /** @internal Use `pool.applyAsync()` or `pool.mapAsync()`. */
  constructor(pool: Pool, chunks: number, chunksize: number, single: boolean, cbs: ApplyAsyncOptions<never>, length = 0) {
    super(pool, 'AsyncResult');
    this.left = chunks;
    this.chunksize = chunksize;
    this.value = single ? undefined : new Array<unknown>(length).fill(undefined);
    this.callback = (cbs.callback as ((arg: never) => unknown) | null | undefined) ?? null;
    this.errorCallback = (cbs.errorCallback as ((arg: never) => unknown) | null | undefined) ?? null;
    // Python's MapResult of an empty iterable is ready at once, without callback.
    if (chunks === 0) this.final = true;
  }

  /**
   * `get(timeout=None)`: wait for the result and return it, or raise the exception
   * the task raised. Raises `TimeoutError` when it is not ready within `timeout`
   * virtual seconds.
   */
  get(timeout?: number | null): Op<T> {
    const api = `${this.id}.get(timeout)`;
    this.checkCaller(api);
    const t = timeoutArg(api, timeout);
    return this.op('get', t === undefined ? [] : [t], t === undefined ? Infinity : this.kernel.now + t);
  }

  /** `wait(timeout=None)`: wait until the result is ready, or `timeout` virtual seconds pass. */
  wait(timeout?: number | null): Op<void> {
    const api = `${this.id}.wait(timeout)`;
    this.checkCaller(api);
    const t = timeoutArg(api, timeout);
    return this.op('wait', t === undefined ? [] : [t], t === undefined ? Infinity : this.kernel.now + t);
  }

  /** `ready()`: whether the task has finished (and its callback has run). */
  ready(): Op<boolean>;
  /** @internal The kernel's readiness test of an operation on this result. */
  ready(op: Op<unknown>): boolean;
  ready(op?: Op<unknown>): Op<boolean> | boolean {
    if (op === undefined) {
      this.checkCaller(`${this.id}.ready()`);
      return this.op<boolean>('ready', []);
    }
    return op.name === 'ready' || op.name === 'successful' || this.final || this.kernel.now >= op.deadline;
  }

  /** `successful()`: whether the task returned without raising. Raises ValueError if it is not ready yet. */
  successful(): Op<boolean> {
    this.checkCaller(`${this.id}.successful()`);
    return this.op('successful', []);
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    switch (op.name) {
      case 'ready':
        if (this.final) this.received(op.proc);
        return this.final;
      case 'successful':
        if (!this.final) throw new ValueError(`${this.id} not ready (successful() was called before the task finished: wait() or check ready() first)`);
        this.received(op.proc);
        return this.success;
      case 'wait':
        if (this.final) this.received(op.proc);
        return undefined;
      case 'get': {
        if (!this.final) {
          throw new TimeoutError(`${this.id}.get(${String(op.args[0])}): the result was not ready within ${String(op.args[0])} virtual seconds`);
        }
        return this.take(op.proc);
      }
      default:
        throw new Error(`${this.id}: unknown operation ${op.name}`);
    }
  }

  /** @internal */
  override take(p: SimProcess): unknown {
    this.received(p);
    if (this.success) return this.value;
    throw this.value;
  }

  private received(p: SimProcess): void {
    if (this.msg !== 0) this.kernel.receive(p, this.id, this.msg, this.success ? this.value : describe(this.value));
  }

  /** @internal */
  store(chunk: number, outcome: Outcome, single: boolean): ((arg: never) => unknown) | null | undefined {
    // Delivered (sent to the caller) only when final: see finish().
    this.left--;
    if (outcome.ok && this.success) {
      if (single) this.value = outcome.value;
      else (this.value as unknown[]).splice(chunk * this.chunksize, (outcome.value as unknown[]).length, ...(outcome.value as unknown[]));
    } else if (!outcome.ok && this.success) {
      // Only the first exception is kept, as Python's MapResult does.
      this.success = false;
      this.value = outcome.error;
    }
    if (this.left > 0) return undefined;
    return this.success ? this.callback : this.errorCallback;
  }

  /** @internal */
  override callbackArg(): unknown {
    return this.value;
  }

  /** @internal */
  finish(handler: SimProcess): void {
    this.final = true;
    this.msg = this.kernel.send(handler, this.id, this.success ? this.value : describe(this.value));
  }

  /** @internal */
  isFinal(): boolean {
    return this.final;
  }

  /** @internal Queries read the result; the result handler's delivery writes it. */
  override footprint(_op: Op<unknown>): readonly Footprint[] {
    return [{ loc: this.id, write: false }];
  }

  /** @internal */
  override waitInfo(op: Op<unknown>): WaitInfo {
    return this.waitInfoFor(op.proc);
  }

  /** @internal */
  waitInfoFor(waiter: SimProcess): WaitInfo {
    return { waitsOn: `${this.id} is not ready: ${this.pool.pendingReason(waiter)}`, heldBy: [] };
  }
}

/**
 * The iterator `imap` and `imapUnordered` return: `next(timeout)` is an operation
 * resolving to `{ done, value }`; in an async process `for await` works too.
 * A task's exception is raised by the `next()` that reaches it.
 *
 * @example
 * ```ts
 * const it = await pool.imap(square, [1, 2, 3]);
 * for await (const v of it) await print(v);
 * ```
 */
export class IMapIterator<T> extends PoolResult {
  private readonly chunks: (Outcome | undefined)[];
  private readonly msgs: number[];
  /** Unordered: chunks in arrival order. */
  private readonly arrived: number[] = [];
  private readonly ordered: boolean;
  private readonly chunksize: number;
  /** Ordered: the chunk being consumed; unordered: the index into `arrived`. */
  private pos = 0;
  private item = 0;
  private delivered = 0;
  /** Python's chunked imap is a generator: after it raises, it is exhausted. */
  private dead = false;

  /** @internal Use `pool.imap()` or `pool.imapUnordered()`. */
  constructor(pool: Pool, chunks: number, chunksize: number, ordered: boolean) {
    super(pool, 'IMapIterator');
    this.chunks = new Array<Outcome | undefined>(chunks).fill(undefined);
    this.msgs = new Array<number>(chunks).fill(0);
    this.ordered = ordered;
    this.chunksize = chunksize;
  }

  /** `next(timeout=None)`: the next result; `{ done: true }` after the last. Raises TimeoutError after `timeout` virtual seconds. */
  next(timeout?: number | null): Op<IteratorResult<T, undefined>> {
    const api = `${this.id}.next(timeout)`;
    this.checkCaller(api);
    const t = timeoutArg(api, timeout);
    return this.op('next', t === undefined ? [] : [t], t === undefined ? Infinity : this.kernel.now + t);
  }

  /** `for await (const v of it)` in an async process. */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return { next: async (): Promise<IteratorResult<T, undefined>> => await this.next() };
  }

  private current(): number | undefined {
    return this.ordered ? this.pos : this.arrived[this.pos];
  }

  private exhausted(): boolean {
    return this.dead || this.pos >= this.chunks.length;
  }

  /** @internal */
  ready(op: Op<unknown>): boolean {
    if (this.exhausted() || this.kernel.now >= op.deadline) return true;
    const c = this.current();
    return c !== undefined && this.chunks[c] !== undefined;
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    if (this.exhausted()) return { done: true, value: undefined };
    const c = this.current();
    const got = c === undefined ? undefined : this.chunks[c];
    if (c === undefined || got === undefined) {
      throw new TimeoutError(`${this.id}.next(${String(op.args[0])}): no result within ${String(op.args[0])} virtual seconds`);
    }
    this.kernel.receive(op.proc, this.id, this.msgs[c]!, got.ok ? got.value : describe(got.error));
    if (!got.ok) {
      this.pos++;
      this.item = 0;
      if (this.chunksize > 1) this.dead = true;
      throw got.error;
    }
    const values = got.value as unknown[];
    const value = values[this.item++];
    if (this.item >= values.length) {
      this.pos++;
      this.item = 0;
    }
    return { done: false, value };
  }

  /** @internal Each chunk is delivered to the caller as it arrives. */
  store(chunk: number, outcome: Outcome, _single: boolean, handler: SimProcess): null | undefined {
    this.chunks[chunk] = outcome;
    this.msgs[chunk] = this.kernel.send(handler, this.id, outcome.ok ? outcome.value : describe(outcome.error));
    this.arrived.push(chunk);
    this.delivered++;
    return this.delivered === this.chunks.length ? null : undefined;
  }

  /** @internal The iterator is final with its last chunk, already delivered by store(). */
  override finish(): void {}

  /** @internal */
  isFinal(): boolean {
    return this.delivered === this.chunks.length;
  }

  /** @internal `next` consumes, so it writes. */
  override footprint(): readonly Footprint[] {
    return [{ loc: this.id, write: true }];
  }

  /** @internal */
  override waitInfo(op: Op<unknown>): WaitInfo {
    return this.waitInfoFor(op.proc);
  }

  /** @internal */
  waitInfoFor(waiter: SimProcess): WaitInfo {
    return { waitsOn: `${this.id} has no next result yet: ${this.pool.pendingReason(waiter)}`, heldBy: [] };
  }
}

// ------------------------------------------------------------ helpers

/** `mp.Pool(...)`: positional arguments as Python's, or one options object. */
export function createPool(k: Kernel, creator: SimProcess, args: readonly unknown[]): Pool {
  const first = args[0];
  if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
    if (args.length > 1) {
      throw misuse('INVALID_ARGUMENT', 'mp.Pool(options): pass either an options object or positional arguments, not both.', 'write `mp.Pool({ processes: 3, maxtasksperchild: 1 })` or `mp.Pool(3, null, [], 1)`.');
    }
    return new Pool(k, creator, first);
  }
  const [processes, initializer, initargs, maxtasksperchild] = args as [number?, PoolFunction?, unknown[]?, number?];
  return new Pool(k, creator, {
    processes: processes ?? null,
    initializer: initializer ?? null,
    initargs: initargs ?? [],
    maxtasksperchild: maxtasksperchild ?? null,
  });
}

/** Python's default: `chunksize, extra = divmod(len, processes * 4); if extra: chunksize += 1`. */
function defaultChunksize(length: number, processes: number): number {
  const cs = Math.floor(length / (processes * 4));
  return length % (processes * 4) === 0 ? cs : cs + 1;
}

function chunksizeArg(api: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw misuse('INVALID_ARGUMENT', `${api}: chunksize must be an integer or null, got ${show(v)}.`, 'pass e.g. `4`, or omit it for the default.');
  }
  if (v < 1) throw new ValueError(`Chunksize must be 1+, not ${v}`);
  return v;
}

function argsArg(api: string, args: unknown): readonly unknown[] {
  if (args === undefined) return [];
  if (!Array.isArray(args)) {
    throw misuse('INVALID_ARGUMENT', `${api}: args must be an array, got ${show(args)}.`, 'pass the arguments as an array: `pool.apply(work, [i])`.');
  }
  return args;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

async function usingAsync<P extends Pool, R>(pool: P, body: (pool: P) => Promise<R> | R): Promise<R> {
  pool.checkRunningNow();
  try {
    return await body(pool);
  } finally {
    await pool.terminate();
  }
}

function* usingGen<P extends Pool, R>(pool: P, api: string, body: (pool: P) => Gen<R> | R): Gen<R> {
  pool.checkRunningNow();
  try {
    return yield* bodyResult<R>(api, body(pool));
  } finally {
    yield* pool.terminate();
  }
}

/**
 * Run a pool body in an async process: operations are awaited, user promises
 * (async tasks and callbacks) too. Anything else yielded is a misuse, as the
 * kernel reports it for generator processes.
 */
async function drive(k: Kernel, gen: Body<unknown>): Promise<unknown> {
  let input: unknown = undefined;
  let threw = false;
  for (;;) {
    const r = threw ? gen.throw(input) : gen.next(input);
    if (r.done === true) return r.value;
    const y = r.value;
    if (!(y instanceof AwaitUser) && !(y instanceof Op && y.proc === k.current && y.proc.pending === y)) {
      throw misuse(
        'NOT_AN_OPERATION',
        `${k.current?.label ?? 'A pool process'} yielded ${show(y)}, which is not the Interleave operation it issued.`,
        'in a generator function write `yield* op` for every operation (e.g. `yield* lock.acquire()`); do not yield plain values.',
      );
    }
    try {
      input = y instanceof AwaitUser ? await y.promise : await y;
      threw = false;
    } catch (e) {
      input = e;
      threw = true;
    }
  }
}

const AsyncFunction = Object.getPrototypeOf(async function () {}) as object;

function isAsyncFunction(f: unknown): boolean {
  return typeof f === 'function' && Object.getPrototypeOf(f) === AsyncFunction;
}

function isGenerator(v: unknown): v is Gen<unknown> {
  return typeof v === 'object' && v !== null && (v as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Generator';
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}
