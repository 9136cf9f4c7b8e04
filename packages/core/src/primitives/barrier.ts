import { intArg, timeoutArg } from '../args.js';
import { BrokenBarrierError, misuse } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { NEXT_PHASE, SimObject, type Footprint, type Op, type WaitInfo } from '../op.js';

/** Options of `mp.Barrier(parties, options)`. */
export interface BarrierOptions {
  /** Run by the last process to arrive, before the others are released. */
  readonly action?: () => void;
  /** Default timeout of `wait()`, in virtual seconds. */
  readonly timeout?: number;
}

interface Arrival {
  readonly generation: number;
  readonly epoch: number;
  readonly index: number;
}

/**
 * A barrier for `parties` processes, as `multiprocessing.Barrier`. `wait` resolves
 * to the arrival index (0 … parties-1) once all have arrived. A timeout, `abort()`
 * or `reset()` while processes wait breaks it: they get BrokenBarrierError, as does
 * any later `wait` until `reset()`.
 *
 * @example
 * ```ts
 * const b = mp.Barrier(3);
 * const i = await b.wait();
 * ```
 */
export class Barrier extends SimObject {
  readonly parties: number;
  private readonly action: (() => void) | undefined;
  private readonly defaultTimeout: number | undefined;
  private count = 0;
  private generation = 0;
  /** Bumped by reset(): waiters from an older epoch are broken out. */
  private epoch = 0;
  private broken = false;

  /** @internal Use `mp.Barrier()`. */
  constructor(kernel: Kernel, parties: number, options: BarrierOptions) {
    intArg('mp.Barrier(parties)', 'parties', parties, 1);
    if (options.action !== undefined && typeof options.action !== 'function') {
      throw misuse('INVALID_ARGUMENT', 'mp.Barrier(parties, { action }): action must be a function.', 'pass a synchronous function, or omit it.');
    }
    super(kernel, 'Barrier');
    this.parties = parties;
    this.action = options.action;
    this.defaultTimeout = timeoutArg('mp.Barrier(parties, { timeout })', options.timeout);
  }

  /** Wait for all parties; resolves to this process's arrival index. */
  wait(timeout?: number | null): Op<number> {
    const t = timeoutArg(`${this.id}.wait(timeout)`, timeout) ?? this.defaultTimeout;
    return this.op('wait', t === undefined ? [] : [t], t === undefined ? Infinity : this.kernel.now + t);
  }
  /** Put the barrier in the broken state: current and future waiters raise BrokenBarrierError. */
  abort(): Op<void> {
    return this.op('abort', []);
  }
  /** Return to the initial state; processes waiting now raise BrokenBarrierError. */
  reset(): Op<void> {
    return this.op('reset', []);
  }
  /** Whether the barrier is broken. */
  isBroken(): Op<boolean> {
    return this.op('isBroken', []);
  }
  /** How many processes are waiting now. */
  nWaiting(): Op<number> {
    return this.op('nWaiting', []);
  }

  /** @internal `isBroken` and `nWaiting` only read. */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    return [{ loc: this.id, write: op.name !== 'isBroken' && op.name !== 'nWaiting' }];
  }

  /** @internal */
  ready(op: Op<unknown>): boolean {
    if (op.name !== 'wait' || op.phase === 0) return true;
    const a = op.memo as Arrival;
    return a.generation !== this.generation || a.epoch !== this.epoch || this.broken || this.kernel.now >= op.deadline;
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    switch (op.name) {
      case 'wait':
        return op.phase === 0 ? this.arrive(op) : this.depart(op);
      case 'abort':
        this.broken = true;
        return undefined;
      case 'reset':
        if (this.count > 0) this.epoch++;
        this.count = 0;
        this.broken = false;
        return undefined;
      case 'isBroken':
        return this.broken;
      case 'nWaiting':
        // Python's n_waiting is 0 unless the barrier is filling: a broken barrier whose
        // waiters have not all left yet still counts them internally.
        return this.broken ? 0 : this.count;
      default:
        throw new Error(`${this.id}: unknown operation ${op.name}`);
    }
  }

  private arrive(op: Op<unknown>): unknown {
    if (this.broken) throw new BrokenBarrierError(`${this.id} is broken (reset() it before waiting again)`);
    const index = this.count++;
    if (this.count === this.parties) {
      try {
        this.action?.();
      } catch (e) {
        this.broken = true;
        throw e;
      }
      this.count = 0;
      this.generation++;
      return index;
    }
    op.memo = { generation: this.generation, epoch: this.epoch, index } satisfies Arrival;
    return NEXT_PHASE;
  }

  private depart(op: Op<unknown>): unknown {
    const a = op.memo as Arrival;
    if (a.generation !== this.generation) return a.index;
    if (a.epoch === this.epoch) {
      // Broken by abort() or by this waiter's own timeout: it leaves the count.
      this.broken = true;
      this.count = Math.max(0, this.count - 1);
    }
    throw new BrokenBarrierError(`${this.id} was broken while waiting (timeout, abort() or reset())`);
  }

  /** @internal */
  override waitInfo(): WaitInfo {
    return { waitsOn: `${this.id} has ${this.count} of ${this.parties} parties`, heldBy: [] };
  }
}
