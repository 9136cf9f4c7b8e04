import { timeoutArg } from '../args.js';
import type { Kernel } from '../kernel.js';
import { NEXT_PHASE, SimObject, type Footprint, type Op, type WaitInfo } from '../op.js';

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
  /** @internal How many times `set` has run: a `set` after a waiter's first step wakes it. */
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
  /**
   * Wait until the flag is set or `timeout` virtual seconds pass; resolves to the flag.
   * One step when the flag is set; otherwise two, as multiprocessing's wait on its
   * condition: the first finds the flag clear and starts waiting, the second returns
   * once a `set` made after the first woke it (or the timeout passed).
   */
  wait(timeout?: number | null): Op<boolean> {
    const t = timeoutArg(`${this.id}.wait(timeout)`, timeout);
    return this.op<boolean>('wait', t === undefined ? [] : [t], t === undefined ? Infinity : this.kernel.now + t);
  }

  /** @internal `isSet` and `wait` only read the flag. */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    return [{ loc: this.id, write: op.name === 'set' || op.name === 'clear' }];
  }

  /** @internal A waiting wait (its second step) runs once a set after its first step woke it, or it timed out. */
  ready(op: Op<unknown>): boolean {
    return op.name !== 'wait' || op.phase === 0 || this.flag || this.sets !== op.memo || this.kernel.now >= op.deadline;
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
        if (op.phase > 0) return this.waitResult(op);
        if (this.flag) return true;
        if (this.kernel.now >= op.deadline) return false;
        // Not set: wait for a set from now on. The count is taken in this step, not
        // when the wait was issued: a set and clear between the two (another process
        // ran in between) happened before the wait began, and do not wake it.
        op.memo = this.sets;
        return NEXT_PHASE;
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
