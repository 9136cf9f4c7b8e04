import { timeoutArg } from '../args.js';
import type { Kernel } from '../kernel.js';
import { SimObject, type Footprint, type Op, type WaitInfo } from '../op.js';

/**
 * A flag processes can wait for, as `multiprocessing.Event`. `wait` returns the flag
 * when it wakes: true once set, false on timeout — and false too if the event was
 * set and cleared again before the waiter ran, exactly as in multiprocessing.
 *
 * @example
 * ```ts
 * const e = mp.Event();
 * await e.wait();       // blocks until some process calls e.set()
 * ```
 */
export class Event extends SimObject {
  /** @internal */ protected flag = false;
  /** @internal How many times `set` has run: a waiter issued before a `set` is woken by it. */
  protected sets = 0;

  /** @internal Use `mp.Event()`. */
  constructor(kernel: Kernel, kind = 'Event') {
    super(kernel, kind);
  }

  /** Set the flag and wake every waiter. */
  set(): Op<void> {
    return this.op('set', []);
  }
  /** Clear the flag. */
  clear(): Op<void> {
    return this.op('clear', []);
  }
  /** Whether the flag is set (Python's `is_set()`). */
  isSet(): Op<boolean> {
    return this.op('isSet', []);
  }
  /** Wait until the flag is set or `timeout` virtual seconds pass; resolves to the flag. */
  wait(timeout?: number | null): Op<boolean> {
    const t = timeoutArg(`${this.id}.wait(timeout)`, timeout);
    const op = this.op<boolean>('wait', t === undefined ? [] : [t], t === undefined ? Infinity : this.kernel.now + t);
    op.memo = this.sets;
    return op;
  }

  /** @internal `isSet` and `wait` only read the flag. */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    return [{ loc: this.id, write: op.name === 'set' || op.name === 'clear' }];
  }

  /** @internal */
  ready(op: Op<unknown>): boolean {
    return op.name !== 'wait' || this.flag || this.sets !== op.memo || this.kernel.now >= op.deadline;
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    switch (op.name) {
      case 'set':
        this.flag = true;
        this.sets++;
        return undefined;
      case 'clear':
        this.flag = false;
        return undefined;
      case 'isSet':
        return this.flag;
      case 'wait':
        return this.waitResult(op);
      default:
        throw new Error(`${this.id}: unknown operation ${op.name}`);
    }
  }

  /** @internal What a woken `wait` resolves to: multiprocessing re-reads the flag. */
  protected waitResult(_op: Op<unknown>): boolean {
    return this.flag;
  }

  /** @internal */
  override waitInfo(): WaitInfo {
    return { waitsOn: `waiting for ${this.id} to be set`, heldBy: [] };
  }
}
