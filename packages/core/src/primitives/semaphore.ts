import { intArg } from '../args.js';
import { ValueError } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { releasedLocation, type Footprint, type Op } from '../op.js';
import type { SimProcess } from '../process-state.js';
import { Acquirable } from './lock.js';

/**
 * A counting semaphore, as `multiprocessing.Semaphore(value)`: `acquire` takes one
 * unit (blocking at zero), `release` gives one back. Semaphores have no owner: any
 * process may release. `BoundedSemaphore` refuses to go above its initial value.
 *
 * @example
 * ```ts
 * const sem = mp.Semaphore(4);
 * await sem.acquire();   // at most 4 processes get past this point at once
 * await sem.release();
 * ```
 */
export class Semaphore extends Acquirable {
  private value: number;
  private readonly bound: number;
  /** Pids that acquired and have not released, oldest first (reports only). */
  private readonly takers: number[] = [];

  /** @internal Use `mp.Semaphore()` / `mp.BoundedSemaphore()`. */
  constructor(kernel: Kernel, value: number, bounded: boolean) {
    const api = bounded ? 'mp.BoundedSemaphore(value)' : 'mp.Semaphore(value)';
    if (typeof value === 'number' && Number.isInteger(value) && value < 0) throw new ValueError('semaphore initial value must be >= 0');
    intArg(api, 'value', value, 0);
    super(kernel, bounded ? 'BoundedSemaphore' : 'Semaphore');
    this.value = value;
    this.bound = bounded ? value : Infinity;
  }

  /** The current value (Python's `get_value()`). An operation: the value is shared state. */
  getValue(): Op<number> {
    return this.op('getValue', []);
  }

  /** @internal */ canTake(): boolean {
    return this.value > 0;
  }
  /** @internal Several processes may hold a semaphore at once: a release is no hand-over. */
  protected override get handsOver(): boolean {
    return false;
  }

  /** @internal As for locks; `getValue` reads both the count and the releases. */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    if (op.name !== 'getValue') return super.footprint(op);
    return [
      { loc: this.id, write: false },
      { loc: releasedLocation(this.id), write: false },
    ];
  }
  /** @internal */ take(p: SimProcess): void {
    this.value--;
    this.takers.push(p.pid);
  }
  /** @internal */ give(p: SimProcess): void {
    if (this.value >= this.bound) {
      throw new ValueError(
        `semaphore or lock released too many times (${this.id}.release() would raise the value above its initial ${this.bound}: ` +
          'release only what you acquired)',
      );
    }
    this.value++;
    const i = this.takers.indexOf(p.pid);
    this.takers.splice(i >= 0 ? i : 0, 1);
  }
  /** @internal */ holders(): readonly number[] {
    return [...new Set(this.takers)];
  }
  /** @internal */ releasesOwn(): boolean {
    return this.value < this.bound;
  }
  /** @internal */
  protected override performOther(op: Op<unknown>): unknown {
    if (op.name === 'getValue') return this.value;
    return super.performOther(op);
  }
}
