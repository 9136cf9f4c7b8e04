import { intArg, timeoutArg } from '../args.js';
import { PyAssertionError } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { NEXT_PHASE, SimObject, releaseFootprint, type Footprint, type Op, type WaitInfo } from '../op.js';
import type { SimProcess } from '../process-state.js';
import type { Lock, RLock } from './lock.js';
import type { GenOf } from '../generators.js';

/** Per-waiter state of a wait in progress. */
interface Waiter {
  /** Lock recursion depth to restore on wake-up. */
  saved: number;
  notified: boolean;
  /** For waitFor: the predicate to re-check after each wake-up. */
  readonly predicate: (() => unknown) | null;
}

/**
 * A condition variable, as `multiprocessing.Condition(lock)` (default lock: an
 * RLock). `wait` takes two steps: it releases the lock and sleeps (one step), then
 * once notified — or timed out — re-acquires the lock (a second step, which blocks
 * while another process holds the lock). `notify` adds no ordering by itself.
 *
 * @example
 * ```ts
 * await cond.acquire();
 * while (!ready) await cond.wait();
 * await cond.release();
 * ```
 */
export class Condition extends SimObject {
  /** The underlying lock. */
  readonly lock: Lock | RLock;
  private readonly waiters: Op<unknown>[] = [];

  /** @internal Use `mp.Condition(lock?)`. */
  constructor(kernel: Kernel, lock: Lock | RLock) {
    super(kernel, 'Condition');
    this.lock = lock;
  }

  /** Acquire the underlying lock. */
  acquire(block = true, timeout?: number | null): Op<boolean> {
    return this.lock.acquire(block, timeout);
  }
  /** Release the underlying lock. */
  release(): Op<void> {
    return this.lock.release();
  }
  /** `with cond:` — see {@link Lock.withLock}. */
  withLock<R>(body: () => GenOf<R>): GenOf<R>;
  withLock<R>(body: () => Promise<R> | R): Promise<R>;
  withLock<R>(body: () => GenOf<R> | Promise<R> | R): GenOf<R> | Promise<R> {
    return this.lock.withLock(body as () => Promise<R>);
  }

  /** Release the lock, wait for a notify (or the timeout), re-acquire. Resolves to false on timeout. */
  wait(timeout?: number | null): Op<boolean> {
    return this.waitOp('wait', null, timeout) as Op<boolean>;
  }

  /**
   * Wait until `predicate()` is truthy, re-checking after each wake-up; resolves to
   * its last value (falsy on timeout). The predicate runs inside the simulation's
   * atomic steps, holding the lock.
   */
  waitFor<T>(predicate: () => T, timeout?: number | null): Op<T> {
    return this.waitOp('waitFor', predicate, timeout) as Op<T>;
  }

  /** Wake up to `n` waiters (oldest first). The lock must be held. */
  notify(n = 1): Op<void> {
    intArg(`${this.id}.notify(n)`, 'n', n, 0);
    return this.op('notify', [n]);
  }
  /** Wake every waiter. The lock must be held. */
  notifyAll(): Op<void> {
    return this.op('notifyAll', []);
  }

  private waitOp(name: string, predicate: (() => unknown) | null, timeout: number | null | undefined): Op<unknown> {
    const t = timeoutArg(`${this.id}.${name}(timeout)`, timeout);
    const op = this.op<unknown>(name, t === undefined ? [] : [t], t === undefined ? Infinity : this.kernel.now + t);
    op.memo = { saved: 0, notified: false, predicate } satisfies Waiter;
    return op;
  }

  /**
   * @internal The first step of a wait releases the lock (a release: see
   * Acquirable.footprint); re-acquiring it is an acquire. Notify checks ownership only.
   */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    const cond = { loc: this.id, write: true };
    // Both raise unless the process holds the lock: they read who does (a
    // multiprocessing Lock may be released by another process in between).
    const ownership = { loc: this.lock.id, write: false };
    if (op.name === 'notify' || op.name === 'notifyAll') return [cond, ownership];
    if (op.phase === 0) return this.lock.isMine(op.proc) ? [cond, releaseFootprint(this.lock.id), ownership] : [cond, ownership];
    return [cond, { loc: this.lock.id, write: true }];
  }

  /** @internal */
  ready(op: Op<unknown>): boolean {
    if (op.phase === 0) return true;
    // Woken (or timed out) and able to re-take the lock.
    const w = op.memo as Waiter;
    return (w.notified || this.kernel.now >= op.deadline) && this.lock.canTake(op.proc);
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    const p = op.proc;
    switch (op.name) {
      case 'notify':
      case 'notifyAll': {
        if (!this.lock.isMine(p)) throw new PyAssertionError(`lock is not owned (${this.id}.${op.name}() requires holding its lock: acquire() first)`);
        let n = op.name === 'notify' ? (op.args[0] as number) : Infinity;
        while (n > 0 && this.waiters.length > 0) {
          const w = this.waiters.shift()!;
          // A waiter whose timeout has passed stopped sleeping then (its wait resolves to
          // false), even if it is still waiting to re-take the lock: as multiprocessing's
          // notify() discounts timed-out sleepers, it must not absorb the notification,
          // which goes to the next waiter instead (else that one is never woken). The
          // same for a waiter whose process was terminated: in Python the released
          // wait semaphore is taken by a live sleeper.
          if (w.proc.done || this.kernel.now >= w.deadline) continue;
          (w.memo as Waiter).notified = true;
          n--;
        }
        return undefined;
      }
      case 'wait':
      case 'waitFor':
        return op.phase === 0 ? this.beginWait(op, p) : this.endWait(op, p);
      default:
        throw new Error(`${this.id}: unknown operation ${op.name}`);
    }
  }

  private beginWait(op: Op<unknown>, p: SimProcess): unknown {
    const w = op.memo as Waiter;
    if (w.predicate !== null) {
      const r = w.predicate();
      if (r || this.kernel.now >= op.deadline) return r;
    }
    if (!this.lock.isMine(p)) {
      throw new PyAssertionError(`must acquire() condition before using wait() (${this.id}.${op.name}() by ${p.label} without holding its lock)`);
    }
    this.sleep(op);
    return NEXT_PHASE;
  }

  private endWait(op: Op<unknown>, p: SimProcess): unknown {
    const w = op.memo as Waiter;
    this.lock.restore(p, w.saved);
    const i = this.waiters.indexOf(op);
    if (i >= 0) void this.waiters.splice(i, 1); // the removed operations are not awaited: they are bookkeeping
    if (w.predicate === null) return w.notified;
    const r = w.predicate();
    if (r || this.kernel.now >= op.deadline) return r;
    this.sleep(op);
    return NEXT_PHASE;
  }

  private sleep(op: Op<unknown>): void {
    const w = op.memo as Waiter;
    w.saved = this.lock.releaseAll();
    w.notified = false;
    this.waiters.push(op);
  }

  /** @internal */
  override waitInfo(op: Op<unknown>): WaitInfo {
    const w = op.memo as Waiter;
    if (w.notified || this.kernel.now >= op.deadline) {
      const h = this.lock.holders();
      return { waitsOn: `re-acquiring ${this.lock.id}, held by ${h.map((pid) => this.kernel.labelOf(pid)).join(', ')}`, heldBy: h };
    }
    return { waitsOn: `waiting for ${this.id}.notify()`, heldBy: [] };
  }
}
