import { boolArg, deadlineOf, timeoutArg } from '../args.js';
import { PyAssertionError, ValueError } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { SimObject, releaseFootprint, releasedLocation, type Footprint, type Op, type WaitInfo } from '../op.js';
import type { SimProcess } from '../process-state.js';
import { bodyResult, bodyStyle, type GenOf } from '../generators.js';


/**
 * What Lock, RLock and Semaphore share: `acquire(block, timeout)`, `release()`,
 * and the with-block equivalent `withLock(fn)`. Subclasses say when a process may
 * take the object and what taking and giving back do.
 */
export abstract class Acquirable extends SimObject {
  /** @internal */ abstract canTake(p: SimProcess): boolean;
  /** @internal */ abstract take(p: SimProcess): void;
  /** @internal Throws the Python exception for a bad release. */
  abstract give(p: SimProcess): void;
  /** @internal Pids holding it, for reports. */
  abstract holders(): readonly number[];
  /**
   * @internal Whether `p` releasing now gives back what it holds — a Lock's or an
   * RLock's owner, a semaphore below its bound — rather than taking a lock another
   * process holds, or raising.
   */
  abstract releasesOwn(p: SimProcess): boolean;

  /**
   * Acquire, as Python's `acquire(block=True, timeout=None)`: resolves to true when
   * acquired, false when `block` is false and it is taken, or the timeout passed.
   */
  acquire(block = true, timeout?: number | null): Op<boolean> {
    const api = `${this.id}.acquire(block, timeout)`;
    boolArg(api, 'block', block);
    const t = timeoutArg(api, timeout);
    const args = t === undefined ? (block ? [] : [false]) : [block, t];
    return this.op('acquire', args, deadlineOf(this.kernel.now, block, t));
  }

  /** Release. */
  release(): Op<void> {
    return this.op('release', []);
  }

  /**
   * Python's `with lock:` — acquire, run `body`, release even if it throws. Pass an
   * async function from an async process, or a generator function (and `yield*` the
   * result) from a generator process.
   *
   * @example
   * ```ts
   * await lock.withLock(async () => { await print('inside'); });
   * yield* lock.withLock(function* () { yield* print('inside'); });
   * ```
   */
  withLock<R>(body: () => GenOf<R>): GenOf<R>;
  withLock<R>(body: () => Promise<R> | R): Promise<R>;
  withLock<R>(body: () => GenOf<R> | Promise<R> | R): GenOf<R> | Promise<R> {
    // A generator process needs a generator back (it will `yield*` it), whatever the
    // body looks like: `() => inner()` returning a generator is as good as `function*`.
    const caller = this.kernel.current;
    if (bodyStyle(`${this.id}.withLock(body)`, body, caller === null ? null : caller.gen !== null) === 'generator') return withLockGen(this, body as () => GenOf<R> | R);
    return withLockAsync(this, body as () => Promise<R> | R);
  }

  /**
   * @internal Acquires conflict with acquires. A release conflicts only with
   * acquires that may fail (non-blocking or timed), through a separate location:
   * a blocking acquire cannot run before the release it waits for, and treating the
   * release as independent is what lets exploration reverse two critical sections
   * (the classic treatment of locks in partial-order reduction). A release of what
   * the process does not hold (a multiprocessing Lock another process holds, one
   * nobody holds, a bounded semaphore at its bound) reads and writes the object:
   * whether it succeeds or raises depends on the acquires around it.
   */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    if (op.name === 'release' && !this.releasesOwn(op.proc)) {
      // Like a non-blocking acquire, it waits for nothing: it also reads the releases.
      return [
        { loc: this.id, write: true },
        { loc: releasedLocation(this.id), write: false },
      ];
    }
    // A re-entrant acquire or an inner release by the owner changes nothing others see.
    if (this.reentrant(op)) return [];
    if (op.name === 'release') return [this.handsOver ? releaseFootprint(this.id) : { loc: releasedLocation(this.id), write: true }];
    if (op.name !== 'acquire') return [{ loc: this.id, write: true }];
    return op.deadline === Infinity
      ? [{ loc: this.id, write: true }]
      : [
          { loc: this.id, write: true },
          { loc: releasedLocation(this.id), write: false },
        ];
  }

  /**
   * @internal Whether a release hands the object over to the one process that can
   * take it next (a lock: one holder at a time). A semaphore's count can admit
   * several holders at once, so its releases are plain writes.
   */
  protected get handsOver(): boolean {
    return true;
  }

  /** @internal Whether `op` only changes the owner's recursion depth (RLock). */
  protected reentrant(_op: Op<unknown>): boolean {
    return false;
  }

  /** @internal */
  ready(op: Op<unknown>): boolean {
    return op.name !== 'acquire' || this.canTake(op.proc) || this.kernel.now >= op.deadline;
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    if (op.name === 'acquire') {
      if (!this.canTake(op.proc)) return false;
      this.take(op.proc);
      return true;
    }
    return this.performOther(op);
  }

  /** @internal Operations beyond acquire. */
  protected performOther(op: Op<unknown>): unknown {
    if (op.name === 'release') {
      this.give(op.proc);
      return undefined;
    }
    throw new Error(`${this.id}: unknown operation ${op.name}`);
  }

  /** @internal */
  override waitInfo(): WaitInfo {
    const h = this.holders();
    return { waitsOn: h.length ? `${this.id} is held by ${h.map((pid) => this.kernel.labelOf(pid)).join(', ')}` : `${this.id} is unavailable`, heldBy: h };
  }
}

async function withLockAsync<R>(lock: Acquirable, body: () => Promise<R> | R): Promise<R> {
  await lock.acquire();
  try {
    return await body();
  } finally {
    await lock.release();
  }
}

function* withLockGen<R>(lock: Acquirable, body: () => GenOf<R> | R): GenOf<R> {
  yield* lock.acquire();
  try {
    return yield* bodyResult<R>(`${lock.id}.withLock(body)`, body());
  } finally {
    yield* lock.release();
  }
}

const TOO_MANY = 'semaphore or lock released too many times';

/**
 * A non-recursive lock, as `multiprocessing.Lock`: any process may release it
 * (unlike threading's), but releasing it when unlocked raises ValueError.
 *
 * @example
 * ```ts
 * const lock = mp.Lock();
 * await lock.acquire();
 * try { await print('critical'); } finally { await lock.release(); }
 * ```
 */
export class Lock extends Acquirable {
  /** @internal */ owner: SimProcess | null = null;

  /** @internal Use `mp.Lock()`. */
  constructor(kernel: Kernel) {
    super(kernel, 'Lock');
  }
  /** @internal */ canTake(): boolean {
    return this.owner === null;
  }
  /** @internal */ take(p: SimProcess): void {
    this.owner = p;
  }
  /** @internal */ give(): void {
    if (this.owner === null) {
      throw new ValueError(`${TOO_MANY} (${this.id}.release() on an unlocked Lock: release only after a successful acquire(), or use withLock())`);
    }
    this.owner = null;
  }
  /** @internal */ holders(): readonly number[] {
    return this.owner === null ? [] : [this.owner.pid];
  }
  /** Python's repr: `<Lock(owner=None)>`, `<Lock(owner=Process-1)>`. */
  override toString(): string {
    return `<Lock(owner=${this.owner?.name ?? 'None'})>`;
  }

  /** @internal For Condition: release fully, returning what `restore` needs. */
  releaseAll(): number {
    this.owner = null;
    return 1;
  }
  /** @internal */ restore(p: SimProcess): void {
    this.owner = p;
  }
  /** @internal */ isMine(p: SimProcess): boolean {
    return this.owner === p;
  }
  /** @internal */ releasesOwn(p: SimProcess): boolean {
    return this.owner === p;
  }
}

/**
 * A re-entrant lock, as `multiprocessing.RLock`: its owner may acquire it again and
 * must release it as many times; only the owner may release.
 */
export class RLock extends Acquirable {
  /** @internal */ owner: SimProcess | null = null;
  /** @internal */ count = 0;

  /** @internal Use `mp.RLock()`. */
  constructor(kernel: Kernel) {
    super(kernel, 'RLock');
  }
  /** @internal */ canTake(p: SimProcess): boolean {
    return this.owner === null || this.owner === p;
  }
  /** @internal */
  protected override reentrant(op: Op<unknown>): boolean {
    if (this.owner !== op.proc) return false;
    return op.name === 'acquire' || (op.name === 'release' && this.count > 1);
  }
  /** @internal */ take(p: SimProcess): void {
    this.owner = p;
    this.count++;
  }
  /** @internal */ give(p: SimProcess): void {
    if (this.owner !== p) {
      throw new PyAssertionError(
        `attempt to release recursive lock not owned by thread (${this.id}.release() by ${p.label}, ` +
          `${this.owner === null ? 'which nobody holds' : `held by ${this.owner.label}`}: only the owner may release an RLock)`,
      );
    }
    if (--this.count === 0) this.owner = null;
  }
  /** @internal */ holders(): readonly number[] {
    return this.owner === null ? [] : [this.owner.pid];
  }
  /** Python's repr: `<RLock(None, 0)>`, `<RLock(MainProcess, 2)>`. */
  override toString(): string {
    return `<RLock(${this.owner?.name ?? 'None'}, ${this.count})>`;
  }

  /** @internal */ releaseAll(): number {
    const n = this.count;
    this.owner = null;
    this.count = 0;
    return n;
  }
  /** @internal */ restore(p: SimProcess, count: number): void {
    this.owner = p;
    this.count = count;
  }
  /** @internal */ isMine(p: SimProcess): boolean {
    return this.owner === p;
  }
  /** @internal */ releasesOwn(p: SimProcess): boolean {
    return this.owner === p;
  }
}
