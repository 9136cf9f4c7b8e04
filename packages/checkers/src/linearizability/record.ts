/**
 * Recording histories inside a simulation. A recorder is a simulated object of its
 * own (`History#1`): marking a call and marking a return are each an operation on
 * it, so each is a scheduling point, and other processes can run between the call,
 * the method's own operations and the return. That is what lets interleavings
 * *inside* an operation happen — and what makes the recorded real-time order part
 * of the schedule that exploration enumerates.
 *
 * The linearization window of a recorded operation:
 *
 * - it opens at the **call step**: the recorder's `call` operation, performed
 *   before the method's code starts (so before its first operation is issued);
 * - it closes at the **return step**: the recorder's `return` operation, performed
 *   after the method's last operation has taken effect and its code has returned
 *   (or thrown).
 *
 * Every step of the method lies strictly inside the window; another process's step
 * in between is concurrent with the operation. Call steps read the recorder and
 * return steps write it, so partial-order reduction keeps every call/return order
 * that can change the verdict (two calls, which commute, are not reordered).
 */
import { Op, SimObject, SimulationError, type Footprint, type World } from '@interleave/core';
import { describeCall, describeOperation, parseRaised, type History, type HistoryEvent } from './history.js';

/** What a recorded method resolves to: the method's own result type, unwrapped. */
export type ResultOf<R> = R extends Op<infer T> ? T : R extends Generator<unknown, infer T, unknown> ? T : R extends PromiseLike<infer T> ? T : R;

/** Names of an object's methods. */
export type MethodKeys<O> = { [K in keyof O]: O[K] extends (...args: never[]) => unknown ? K : never }[keyof O] & string;

/** `O` with the methods in `M` recorded: each returns a {@link RecordedCall}. */
export type Recorded<O, M extends keyof O = MethodKeys<O>> = {
  readonly [K in keyof O]: K extends M ? (O[K] extends (...args: infer A) => infer R ? (...args: A) => RecordedCall<ResultOf<R>> : O[K]) : O[K];
};

/** Records the calls made on wrapped objects; one per object under test. */
export interface HistoryRecorder {
  /** The recorder's id in traces and reports, e.g. `History#1`. */
  readonly id: string;
  /** Everything recorded so far, in order. Also reconstructed by monitors from the trace. */
  readonly history: History;
  /**
   * Wrap an object: calls of its methods (all of them, or `methods`) are recorded.
   * The method runs with the original object as `this`, so its calls to its own
   * methods are not recorded separately; a recorded call made while the same process
   * is inside another recorded call of this recorder is not recorded either.
   */
  wrap<O extends object, M extends MethodKeys<O> = MethodKeys<O>>(target: O, methods?: readonly M[]): Recorded<O, M>;
  /** One recorded operation from a function (an async function, a generator function, or one returning an operation). */
  operation<A extends unknown[], R>(name: string, fn: (...args: A) => R): (...args: A) => RecordedCall<ResultOf<R>>;
}

/**
 * Start recording a history in the running simulation. Call it inside the program
 * body (every run gets a fresh recorder); check the history with the
 * {@link linearizable} monitor, or read `recorder.history`.
 *
 * @example
 * ```ts
 * const prog = program(async (world) => {
 *   const { mp } = world;
 *   const q = recordHistory(world).wrap(new LockedQueue(mp));   // methods use mp primitives
 *   const worker = async (v: number) => { await q.put(v); await q.get(); };
 *   const ps = [1, 2].map((v) => mp.Process({ target: worker, args: [v] }));
 *   for (const p of ps) await p.start();
 *   for (const p of ps) await p.join();
 * });
 * await check(prog, { strategy: exhaustive(), monitors: [linearizable(queueModel())] });
 * ```
 */
export function recordHistory(world: World): HistoryRecorder {
  // The current process's handle is a simulated object of this run: through it the
  // recorder joins the run (and `currentProcess()` insists on being inside one).
  const kernel = world.mp.currentProcess().kernel;
  const h = new HistoryObject(kernel);
  return {
    id: h.id,
    history: h.events,
    wrap<O extends object, M extends MethodKeys<O>>(target: O, methods?: readonly M[]): Recorded<O, M> {
      if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
        throw new SimulationError('INVALID_ARGUMENT', `${h.id}.wrap(target): target must be an object, got ${String(target)}.`);
      }
      const only = methods === undefined ? null : new Set<PropertyKey>(methods);
      const cache = new Map<PropertyKey, unknown>();
      return new Proxy(target, {
        get(t, key) {
          // The target as receiver: getters and methods that use private fields (#x)
          // must see the object itself, not the proxy.
          const v: unknown = Reflect.get(t, key);
          if (typeof v !== 'function' || typeof key === 'symbol' || key === 'constructor' || (only !== null && !only.has(key))) return v;
          let w = cache.get(key);
          if (w === undefined) {
            const fn = v as (...args: unknown[]) => unknown;
            w = (...args: unknown[]) => new RecordedCall(h, key, args, () => fn.apply(t, args));
            cache.set(key, w);
          }
          return w;
        },
      }) as unknown as Recorded<O, M>;
    },
    operation<A extends unknown[], R>(name: string, fn: (...args: A) => R): (...args: A) => RecordedCall<ResultOf<R>> {
      if (typeof fn !== 'function') throw new SimulationError('INVALID_ARGUMENT', `${h.id}.operation(name, fn): fn must be a function.`);
      return (...args: A) => new RecordedCall<ResultOf<R>>(h, name, args, () => fn(...args));
    },
  };
}

type Kernel = SimObject['kernel'];

/** The recorder as a simulated object: `call` and `return` are its operations. */
class HistoryObject extends SimObject {
  readonly events: HistoryEvent[] = [];
  private nextId = 1;
  /** Pid → id of its recorded call in progress: nested calls are not recorded. */
  private readonly open = new Map<number, number>();
  private readonly calls = new Map<number, { op: string; args: readonly unknown[] }>();

  constructor(kernel: Kernel) {
    super(kernel, 'History');
  }

  /** The calling process's pid, or null when it is already inside a recorded call. */
  begin(name: string): { pid: number; id: number } | null {
    const pid = this.kernel.requireCurrent(`${this.id}: recorded ${name}()`).pid;
    if (this.open.has(pid)) return null;
    const id = this.nextId++;
    this.open.set(pid, id);
    return { pid, id };
  }

  end(pid: number): void {
    this.open.delete(pid);
  }

  call(id: number, name: string, args: readonly unknown[]): Op<unknown> {
    return this.op('call', [id, name, args]);
  }

  ret(id: number, outcome: 'ok' | 'raised', value: unknown): Op<unknown> {
    return this.op('return', [id, outcome, value]);
  }

  /** @internal Marking never waits. */
  ready(): boolean {
    return true;
  }

  /** @internal Record the event with this step's position; the step's value is a label for traces. */
  perform(op: Op<unknown>): unknown {
    const k = this.kernel;
    const p = op.proc;
    if (op.name === 'call') {
      const [id, name, args] = op.args as [number, string, readonly unknown[]];
      this.calls.set(id, { op: name, args });
      this.events.push({ kind: 'call', id, pid: p.pid, process: p.name, op: name, args, step: k.step, time: k.now });
      return describeCall({ op: name, args });
    }
    const [id, outcome, value] = op.args as [number, 'ok' | 'raised', unknown];
    const c = this.calls.get(id)!;
    this.calls.delete(id);
    this.events.push(outcome === 'raised' ? { kind: 'return', id, error: value as string, step: k.step, time: k.now } : { kind: 'return', id, value, step: k.step, time: k.now });
    return describeOperation({ ...c, output: outcome === 'raised' ? parseRaised(value as string) : value, pending: false });
  }

  /** @internal Calls read the recorder, returns write it: see the module comment. */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    return [{ loc: this.id, write: op.name === 'return' }];
  }
}

/**
 * One recorded call, not yet started: `await` it in an async process or `yield*`
 * it in a generator process. Either way it performs the call step, runs the
 * method (an async method, a generator method, or one returning an operation),
 * then performs the return step, and resolves to the method's result — or
 * rethrows its exception after recording it.
 */
export class RecordedCall<T> implements PromiseLike<T> {
  private readonly h: HistoryObject;
  private readonly name: string;
  private readonly args: readonly unknown[];
  private readonly invoke: () => unknown;

  /** @internal Made by a recorder's `wrap` or `operation`. */
  constructor(h: HistoryObject, name: string, args: readonly unknown[], invoke: () => unknown) {
    this.h = h;
    this.name = name;
    this.args = args;
    this.invoke = invoke;
  }

  /** The generator protocol: `const v = yield* q.get();` */
  *[Symbol.iterator](): Generator<Op<unknown>, T, unknown> {
    const h = this.h;
    const at = h.begin(this.name);
    if (at === null) return (yield* runIn(this.invoke(), this.name)) as T;
    yield* h.call(at.id, this.name, this.args);
    let value: unknown;
    try {
      value = yield* runIn(this.invoke(), this.name);
    } catch (e) {
      if (e instanceof SimulationError) throw e;
      yield* h.ret(at.id, 'raised', errorText(e));
      h.end(at.pid);
      throw e;
    }
    yield* h.ret(at.id, 'ok', value);
    h.end(at.pid);
    return value as T;
  }

  /** The await protocol: `const v = await q.get();` */
  then<R1 = T, R2 = never>(onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null, onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null): PromiseLike<R1 | R2> {
    return this.runAsync().then(onfulfilled, onrejected);
  }

  private async runAsync(): Promise<T> {
    const h = this.h;
    const at = h.begin(this.name);
    if (at === null) return (await awaitIn(this.invoke())) as T;
    await h.call(at.id, this.name, this.args);
    let value: unknown;
    try {
      value = await awaitIn(this.invoke());
    } catch (e) {
      if (e instanceof SimulationError) throw e;
      await h.ret(at.id, 'raised', errorText(e));
      h.end(at.pid);
      throw e;
    }
    await h.ret(at.id, 'ok', value);
    h.end(at.pid);
    return value as T;
  }
}

/** Run a method's result in a generator process: delegate to its operations. */
function* runIn(out: unknown, name: string): Generator<Op<unknown>, unknown, unknown> {
  if (out instanceof Op) {
    const v: unknown = yield* out;
    return v;
  }
  if (isGenerator(out)) return yield* out;
  if (isThenable(out)) {
    throw new SimulationError(
      'NOT_AN_OPERATION',
      `recorded ${name}() is an async method, called with yield* from a generator process.\n` +
        '  How to fix: write the method as a generator function (function*) for generator processes, or use async processes and `await` the call.',
    );
  }
  return out;
}

/** Run a method's result in an async process: await its operations. */
async function awaitIn(out: unknown): Promise<unknown> {
  if (!isGenerator(out)) return await out;
  // A generator method in an async process: drive it, awaiting each operation it yields.
  let r = out.next();
  while (r.done !== true) {
    let v: unknown;
    try {
      v = await r.value;
    } catch (e) {
      r = out.throw(e);
      continue;
    }
    r = out.next(v);
  }
  return r.value;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `Error: ${String(e)}`;
}

/** A generator object; the ones a recorded method returns yield operations. */
function isGenerator(v: unknown): v is Generator<Op<unknown>, unknown, unknown> {
  return typeof v === 'object' && v !== null && (v as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Generator';
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}
