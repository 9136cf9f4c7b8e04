import { boolArg, deadlineOf, intArg, timeoutArg } from '../args.js';
import { deepCopy } from '../copy.js';
import { Fifo } from '../fifo.js';
import { Empty, Full, OSError, ValueError } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { SimObject, type Footprint, type Op, type WaitInfo } from '../op.js';
import type { SimProcess } from '../process-state.js';

/** An item in flight, with the message id that pairs its put with its get. */
interface Message {
  value: unknown;
  readonly msg: number;
}

/**
 * What Queue, JoinableQueue and SimpleQueue share: a FIFO "pipe" of items visible
 * to `get`, and the optional per-process feeder buffers that CPython's Queue puts
 * items into first. With feeders on (the default, run option `queueFeeder`), `put`
 * returns as soon as the item is in the putting process's buffer; a background
 * "QueueFeederThread" moves it into the pipe — and pickles it — in a later step of
 * its own. Until then `empty()` is still true and `getNowait()` raises Empty, and
 * mutating the object after `put` changes what is received: both as in CPython.
 */
abstract class QueueBase<T> extends SimObject {
  readonly maxsize: number;
  /** Items in the pipe, oldest first. */
  private readonly pipe = new Fifo<Message>();
  /** Items put and not yet got, buffered ones included (qsize, full). */
  private count = 0;
  private readonly buffers = new Map<SimProcess, Fifo<Message>>();
  private readonly closedIn = new Set<SimProcess>();
  private readonly feeders: boolean;

  protected constructor(kernel: Kernel, kind: string, maxsize: number, feeders: boolean) {
    super(kernel, kind);
    this.maxsize = maxsize;
    this.feeders = feeders && kernel.config.queueFeeder;
  }

  /** @internal */
  protected putOp(obj: T, block: boolean, timeout: number | null | undefined): Op<void> {
    const api = `${this.id}.put(obj, block, timeout)`;
    boolArg(api, 'block', block);
    const t = timeoutArg(api, timeout);
    const args = t === undefined ? (block ? [obj] : [obj, false]) : [obj, block, t];
    return this.op('put', args, deadlineOf(this.kernel.now, block, t));
  }

  /** @internal */
  protected getOp(block: boolean, timeout: number | null | undefined): Op<T> {
    const api = `${this.id}.get(block, timeout)`;
    boolArg(api, 'block', block);
    const t = timeoutArg(api, timeout);
    const args = t === undefined ? (block ? [] : [false]) : [block, t];
    return this.op('get', args, deadlineOf(this.kernel.now, block, t));
  }

  private hasRoom(): boolean {
    return this.maxsize <= 0 || this.count < this.maxsize;
  }

  /** @internal `qsize`, `empty` and `full` only read. */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    return [{ loc: this.id, write: op.name !== 'qsize' && op.name !== 'empty' && op.name !== 'full' }];
  }

  /** @internal */
  ready(op: Op<unknown>): boolean {
    switch (op.name) {
      // After close() in this process, put/get raise at once (CPython checks
      // `_closed` before blocking): without the closedIn test a put on a full queue,
      // or a get on an empty one, waited forever instead of raising.
      case 'put':
        return this.hasRoom() || this.kernel.now >= op.deadline || this.closedIn.has(op.proc.owner);
      case 'get':
        return this.pipe.length > 0 || this.kernel.now >= op.deadline || this.closedIn.has(op.proc.owner);
      case 'feed':
        return (this.buffers.get(op.proc.owner)?.length ?? 0) > 0;
      default:
        return this.readyOther(op);
    }
  }

  /** @internal */
  protected readyOther(_op: Op<unknown>): boolean {
    return true;
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    const p = op.proc;
    switch (op.name) {
      case 'put':
        this.checkOpen(p, 'put');
        if (!this.hasRoom()) throw new Full(`${this.id} is full (maxsize ${this.maxsize}): put timed out or was non-blocking`);
        this.enqueue(p, op.args[0]);
        return undefined;
      case 'get': {
        this.checkOpen(p, 'get');
        const m = this.pipe.shift();
        if (m === undefined) throw new Empty(`${this.id} is empty: get timed out or was non-blocking`);
        this.count--;
        this.kernel.receive(p, this.id, m.msg, m.value);
        this.onGot();
        return m.value;
      }
      case 'feed': {
        const m = this.buffers.get(p.owner)!.shift()!;
        m.value = deepCopy(m.value); // pickled by the feeder thread, now
        this.pipe.push(m);
        return undefined;
      }
      case 'qsize':
        return this.count;
      case 'empty':
        return this.pipe.length === 0;
      case 'full':
        return !this.hasRoom();
      case 'close':
        this.closedIn.add(p.owner);
        return undefined;
      default:
        return this.performOther(op);
    }
  }

  /** @internal */
  protected performOther(op: Op<unknown>): unknown {
    throw new Error(`${this.id}: unknown operation ${op.name}`);
  }

  /** @internal Hook for JoinableQueue's task counting. */
  protected onPut(): void {}
  /** @internal */
  protected onGot(): void {}

  private enqueue(p: SimProcess, value: unknown): void {
    this.count++;
    this.onPut();
    const msg = this.kernel.send(p, this.id, value);
    if (!this.feeders) {
      this.pipe.push({ value: deepCopy(value), msg });
      return;
    }
    const owner = p.owner;
    let buffer = this.buffers.get(owner);
    if (buffer === undefined) {
      buffer = new Fifo<Message>();
      this.buffers.set(owner, buffer);
      this.kernel.startThread(owner, 'QueueFeederThread', () => this.feederBody());
    }
    buffer.push({ value, msg });
  }

  private *feederBody(): Generator<Op<unknown>, void, unknown> {
    for (;;) yield* this.op('feed', []);
  }

  /** @internal */
  protected checkOpen(p: SimProcess, what: string): void {
    if (this.closedIn.has(p.owner)) throw this.closedError(p, what);
  }

  /** @internal What using the queue after close() in this process raises: Queue's ValueError. */
  protected closedError(p: SimProcess, what: string): Error {
    return new ValueError(`Queue ${this.id} is closed (${what}() after close() in ${p.owner.label})`);
  }

  /** @internal */
  override waitInfo(op: Op<unknown>): WaitInfo {
    if (op.name === 'put') return { waitsOn: `${this.id} is full (${this.count} of ${this.maxsize})`, heldBy: [] };
    if (op.name === 'get') {
      const buffered = [...this.buffers.values()].reduce((n, b) => n + b.length, 0);
      return { waitsOn: `waiting for an item in ${this.id} (empty${buffered > 0 ? `, ${buffered} in feeder buffers` : ''})`, heldBy: [] };
    }
    // An idle feeder shows up in deadlock reports: say what it is rather than just the queue's id.
    if (op.name === 'feed') return { waitsOn: `idle: ${op.proc.owner.label} has nothing left to flush into ${this.id}`, heldBy: [] };
    return super.waitInfo(op);
  }
}

/**
 * A process-safe FIFO queue, as `multiprocessing.Queue(maxsize=0)` (0: unbounded).
 * `qsize`, `empty` and `full` are racy by nature, as in Python: the answer may be
 * stale by the time the process acts on it.
 *
 * @example
 * ```ts
 * const q = mp.Queue<string>(3);
 * await q.put('a');
 * const item = await q.get();            // blocks until an item arrives
 * await q.get(true, 0.5);                // raises Empty after 0.5 virtual seconds
 * ```
 */
export class Queue<T = unknown> extends QueueBase<T> {
  /** @internal Use `mp.Queue()`. */
  constructor(kernel: Kernel, maxsize = 0, kind = 'Queue') {
    intArg(`mp.${kind}(maxsize)`, 'maxsize', maxsize, Number.MIN_SAFE_INTEGER);
    super(kernel, kind, maxsize, true);
  }
  /** `put(obj, block=True, timeout=None)`: raises Full when there is no room in time. */
  put(obj: T, block = true, timeout?: number | null): Op<void> {
    return this.putOp(obj, block, timeout);
  }
  /** `get(block=True, timeout=None)`: raises Empty when nothing arrives in time. */
  get(block = true, timeout?: number | null): Op<T> {
    return this.getOp(block, timeout);
  }
  /** `put(obj, False)` */
  putNowait(obj: T): Op<void> {
    return this.putOp(obj, false, undefined);
  }
  /** `get(False)` */
  getNowait(): Op<T> {
    return this.getOp(false, undefined);
  }
  /** Items put and not yet got (including those still in feeder buffers). Racy. */
  qsize(): Op<number> {
    return this.op('qsize', []);
  }
  /** Whether the pipe holds no item now (items still in a feeder buffer do not count). Racy. */
  empty(): Op<boolean> {
    return this.op('empty', []);
  }
  /** Whether `put` would block now. Racy. */
  full(): Op<boolean> {
    return this.op('full', []);
  }
  /** Close this process's end: further put/get here raise ValueError. Buffered items are still flushed. */
  close(): Op<void> {
    return this.op('close', []);
  }
}

/**
 * A Queue whose consumers report completion, as `multiprocessing.JoinableQueue`:
 * every `put` adds an unfinished task, `taskDone()` finishes one (more calls than
 * items raise ValueError), and `join()` blocks until none is unfinished.
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  private unfinished = 0;

  /** @internal Use `mp.JoinableQueue()`. */
  constructor(kernel: Kernel, maxsize = 0) {
    super(kernel, maxsize, 'JoinableQueue');
  }
  /** Mark one item got earlier as processed. */
  taskDone(): Op<void> {
    return this.op('taskDone', []);
  }
  /** Block until every item put has been marked done. */
  join(): Op<void> {
    return this.op('join', []);
  }
  /** @internal */
  protected override onPut(): void {
    this.unfinished++;
  }
  /** @internal */
  protected override readyOther(op: Op<unknown>): boolean {
    return op.name !== 'join' || this.unfinished === 0;
  }
  /** @internal */
  protected override performOther(op: Op<unknown>): unknown {
    if (op.name === 'taskDone') {
      if (this.unfinished <= 0) throw new ValueError(`task_done() called too many times (${this.id} has no unfinished task)`);
      this.unfinished--;
      return undefined;
    }
    if (op.name === 'join') return undefined;
    return super.performOther(op);
  }
  /** @internal */
  override waitInfo(op: Op<unknown>): WaitInfo {
    if (op.name === 'join') return { waitsOn: `${this.id} has ${this.unfinished} unfinished task(s) (taskDone() not called yet)`, heldBy: [] };
    return super.waitInfo(op);
  }
}

/**
 * `multiprocessing.SimpleQueue`: unbounded, no feeder thread — put writes straight
 * into the pipe. `close()` closes this process's ends of that pipe, so put, get and
 * empty there raise OSError("handle is closed") afterwards, as in CPython.
 */
export class SimpleQueue<T = unknown> extends QueueBase<T> {
  /** @internal Use `mp.SimpleQueue()`. */
  constructor(kernel: Kernel) {
    super(kernel, 'SimpleQueue', 0, false);
  }
  /**
   * @internal CPython's SimpleQueue.close() closes its reader and writer
   * Connections, so later use raises OSError, not Queue's ValueError.
   */
  protected override closedError(p: SimProcess, what: string): Error {
    return new OSError(`handle is closed (${this.id}.${what}() after close() in ${p.owner.label})`);
  }
  /** @internal `empty()` polls the closed reader: OSError too. */
  override perform(op: Op<unknown>): unknown {
    if (op.name === 'empty') this.checkOpen(op.proc, 'empty');
    return super.perform(op);
  }
  put(obj: T): Op<void> {
    return this.putOp(obj, true, undefined);
  }
  get(): Op<T> {
    return this.getOp(true, undefined);
  }
  /** Whether no item is in the queue now. Racy. */
  empty(): Op<boolean> {
    return this.op('empty', []);
  }
  close(): Op<void> {
    return this.op('close', []);
  }
}
