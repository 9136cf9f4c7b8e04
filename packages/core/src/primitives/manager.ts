import { boolArg, deadlineOf, intArg, show, timeoutArg } from '../args.js';
import { deepCopy } from '../copy.js';
import { Fifo } from '../fifo.js';
import { AttributeError, Empty, Full, IndexError, KeyError, RuntimeError, ValueError, misuse } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { NEXT_PHASE, SimObject, type Footprint, type Op, type WaitInfo } from '../op.js';
import type { SimProcess } from '../process-state.js';
import { formatPython } from '../python-format.js';
import { Event } from './event.js';
import { Acquirable } from './lock.js';

/*
 * Python's `multiprocessing.Manager()`: shared objects that live in a server and
 * are reached through proxies.
 *
 * How the server is modelled. In Python, `Manager()` starts a server process that
 * owns the real objects (a dict, a list, a threading.Lock...). A proxy method call
 * pickles its arguments, sends them over a connection, and waits for the reply; the
 * server serves each connection in its own thread and runs the method on the real
 * object, so one call is one indivisible step on that object. Interleave keeps the
 * real objects inside the proxy objects below and makes each proxy call ONE
 * operation: the caller is parked on it (it is waiting for the reply), and the
 * method runs atomically when the scheduler picks the caller. A separate server
 * SimProcess would add nothing observable — its only job is to serve requests one
 * call at a time — so there is none: the server has no pid, does not appear in
 * `mp.activeChildren()`, and lives for the whole run (no `shutdown()`).
 *
 * What IS observable is kept: arguments and results are copies (pickling), each
 * call is a scheduling point, and a Python statement that makes two calls — like
 * `d['count'] -= 1`, a `__getitem__` then a `__setitem__` — is two steps, between
 * which other processes run. `update(...)` models exactly that, and is therefore
 * NOT atomic.
 */

type Action = (p: SimProcess) => unknown;

/** Proxy calls that only read the shared state. */
const READ_ONLY: ReadonlySet<string> = new Set(['get', 'getOr', 'has', 'keys', 'values', 'items', 'len', 'copy', 'count', 'index']);

/** State of a read-then-write operation between its two steps. */
interface ReadModifyWrite {
  readonly read: Action;
  /** The client's function, computing the value to write from the one read. */
  readonly fn: (value: unknown) => unknown;
  readonly write: (p: SimProcess, value: unknown) => void;
  next: unknown;
}

/**
 * What the data proxies (dict, list, Namespace, Value) share: every method call is
 * one always-ready operation whose server-side action travels in `op.memo`, and
 * `update` is a two-phase read-then-write operation.
 */
export abstract class BaseProxy extends SimObject {
  /** @internal Use the factories of {@link SyncManager}. */
  protected constructor(kernel: Kernel, kind: string) {
    super(kernel, kind);
  }

  /** @internal One proxy call: `action` runs at the server, atomically, when the step runs. */
  protected call<R>(name: string, args: readonly unknown[], action: (p: SimProcess) => R): Op<R> {
    const op = this.dataOp<R>(name, args);
    op.memo = action;
    return op;
  }

  /**
   * @internal Two proxy calls, as Python's `x[k] op= v`: a read step (which may
   * raise), the client computing `fn(value)` right after it, then a write step.
   */
  protected readModifyWrite<V>(
    name: string,
    args: readonly unknown[],
    read: (p: SimProcess) => V,
    fn: (value: V) => V,
    write: (p: SimProcess, value: V) => void,
  ): Op<V> {
    if (typeof fn !== 'function') {
      throw misuse('INVALID_ARGUMENT', `${this.id}.${name}(…, fn): fn must be a function, got ${show(fn)}.`, 'pass e.g. `(v) => v - 1`.');
    }
    const op = this.dataOp<V>(name, args);
    op.memo = {
      read,
      fn: fn as (value: unknown) => unknown,
      write: write as (p: SimProcess, v: unknown) => void,
      next: undefined,
    } satisfies ReadModifyWrite;
    return op;
  }

  /** The client computing the value an update writes: synchronously, or it is misuse. */
  private compute(op: Op<unknown>, fn: (value: unknown) => unknown, value: unknown): unknown {
    const next = fn(value);
    if (isAsyncResult(next)) {
      throw misuse('INVALID_ARGUMENT', `${this.id}.${op.name}(): fn returned a promise or generator; it must compute the new value synchronously.`, 'pass a plain function such as `(v) => v - 1`; do the awaiting before or after the update.');
    }
    return next;
  }

  /** @internal */
  ready(): boolean {
    return true;
  }

  /** @internal Reading calls commute with each other; `update` reads, then writes. */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    const write = op.name === 'update' ? op.phase > 0 : !READ_ONLY.has(op.name);
    return [{ loc: this.id, write }];
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    const m = op.memo;
    if (typeof m === 'function') return (m as Action)(op.proc);
    const rmw = m as ReadModifyWrite;
    if (op.phase === 0) {
      // The read reply arrives; the client computes the new value before its next call.
      rmw.next = this.compute(op, rmw.fn, rmw.read(op.proc));
      return NEXT_PHASE;
    }
    rmw.write(op.proc, rmw.next);
    return rmw.next;
  }

  /** @internal Record an access of this proxy's shared state (atomic: a proxy call cannot tear). */
  protected access(p: SimProcess, loc: string, kind: 'read' | 'write', value: unknown): void {
    this.kernel.access(p, this.id, loc, kind, value, true);
  }
}

function isAsyncResult(v: unknown): boolean {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return false;
  const o = v as { then?: unknown; next?: unknown; throw?: unknown };
  return typeof o.then === 'function' || (typeof o.next === 'function' && typeof o.throw === 'function');
}

/** Python's `==` for the values a proxy compares (`list.remove`, `x in l`): structural for data. */
function pyEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof SimObject || b instanceof SimObject) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map) || !(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !pyEquals(v, b.get(k))) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && pyEquals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** `'count'` / `3`: Python's repr, as KeyError messages and reprs show keys. */
const repr = (v: unknown): string => formatPython(v, true);

// ---------------------------------------------------------------------- dict

/** Keys a {@link DictProxy} accepts: Python's str and int (tuples and other hashables are not modelled). */
export type DictKey = string | number;

/** What `m.dict(...)` accepts: a plain object, a Map, or `[key, value]` pairs. */
export type DictInit<K extends DictKey, V> = Readonly<Record<K & string, V>> | ReadonlyMap<K, V> | Iterable<readonly [K, V]>;

/**
 * A dict shared through a manager, as Python's `DictProxy` (`m.dict()`). Each
 * method is ONE atomic call at the manager's server (an operation: `await` it or
 * `yield*` it). Values go in and come out as copies: mutating an object read
 * from the dict changes nothing shared until it is stored back with `set`.
 *
 * `update(key, fn)` is Python's `d[key] = fn(d[key])` — two calls, so NOT atomic.
 *
 * @example
 * ```ts
 * const dic = m.dict({ count: 100 });
 * await dic.set('count', (await dic.get('count')) - 1);  // dic['count'] = dic['count'] - 1
 * await dic.update('count', (v) => v - 1);              // dic['count'] -= 1 (two steps!)
 * await print(dic);                                      // {'count': 98}
 * ```
 */
export class DictProxy<K extends DictKey = string, V = unknown> extends BaseProxy {
  private readonly data = new Map<K, V>();

  /** @internal Use `m.dict()`. */
  constructor(kernel: Kernel, init: Iterable<readonly [K, V]>) {
    super(kernel, 'DictProxy');
    for (const [k, v] of init) this.data.set(checkKey(k, 'm.dict()'), deepCopy(v));
  }

  /** `d[key]`: raises KeyError when the key is missing. */
  get(key: K): Op<V> {
    checkKey(key, 'get(key)', this);
    return this.call('get', [key], (p) => this.read(p, key));
  }
  /** `d.get(key, default=None)`: `fallback` (undefined, printed as None) when the key is missing. */
  getOr<D = undefined>(key: K, fallback?: D): Op<V | D> {
    checkKey(key, 'getOr(key)', this);
    const dflt = deepCopy(fallback) as D;
    return this.call('getOr', [key, dflt], (p) => {
      this.access(p, this.loc(key), 'read', this.data.get(key));
      return this.data.has(key) ? deepCopy(this.data.get(key) as V) : dflt;
    });
  }
  /** `d[key] = value` (a copy of `value` is stored). */
  set(key: K, value: V): Op<void> {
    checkKey(key, 'set(key, value)', this);
    const v = deepCopy(value);
    return this.call('set', [key, v], (p) => this.write(p, key, v));
  }
  /** `del d[key]`: raises KeyError when the key is missing. */
  delete(key: K): Op<void> {
    checkKey(key, 'delete(key)', this);
    return this.call('delete', [key], (p) => {
      this.read(p, key);
      this.remove(p, key);
    });
  }
  /** `key in d` */
  has(key: K): Op<boolean> {
    checkKey(key, 'has(key)', this);
    return this.call('has', [key], (p) => {
      this.access(p, this.loc(key), 'read', this.data.get(key));
      return this.data.has(key);
    });
  }
  /** `d.pop(key[, default])`: removes and returns the value; KeyError when missing and no default is given. */
  pop(key: K): Op<V>;
  pop<D>(key: K, fallback: D): Op<V | D>;
  pop(key: K, ...fallback: unknown[]): Op<unknown> {
    checkKey(key, 'pop(key)', this);
    const dflt = deepCopy(fallback);
    return this.call('pop', [key, ...dflt], (p) => {
      if (!this.data.has(key) && dflt.length > 0) {
        this.access(p, this.loc(key), 'read', undefined);
        return dflt[0];
      }
      const v = this.read(p, key);
      this.remove(p, key);
      return v;
    });
  }
  /** `d.popitem()`: removes and returns the last `[key, value]` pair; KeyError when empty. */
  popitem(): Op<[K, V]> {
    return this.call('popitem', [], (p) => {
      const last = [...this.data.keys()].pop();
      if (last === undefined) throw new KeyError("'popitem(): dictionary is empty'");
      const v = this.read(p, last);
      this.remove(p, last);
      return [last, v];
    });
  }
  /** `d.setdefault(key, default)`: ONE call, so an atomic insert-if-absent. Returns the value now stored. */
  setdefault(key: K, fallback: V): Op<V> {
    checkKey(key, 'setdefault(key, default)', this);
    const dflt = deepCopy(fallback);
    return this.call('setdefault', [key, dflt], (p) => {
      if (!this.data.has(key)) {
        this.access(p, this.loc(key), 'read', undefined);
        this.write(p, key, dflt);
      }
      return this.read(p, key);
    });
  }
  /** Python's `d.update(other)`: ONE call storing every pair (named `merge` because `update` is the read-then-write helper). */
  merge(other: DictInit<K, V>): Op<void> {
    const pairs = entriesOf<K, V>(`${this.id}.merge(other)`, other).map(([k, v]) => [k, deepCopy(v)] as const);
    return this.call('merge', [pairs.length], (p) => {
      for (const [k, v] of pairs) this.write(p, k, v);
    });
  }
  /** `d.clear()` */
  clear(): Op<void> {
    return this.call('clear', [], (p) => {
      for (const k of [...this.data.keys()]) this.remove(p, k);
    });
  }
  /** `list(d.keys())`, in insertion order. */
  keys(): Op<K[]> {
    return this.call('keys', [], (p) => (this.readAll(p), [...this.data.keys()]));
  }
  /** `list(d.values())` (copies). */
  values(): Op<V[]> {
    return this.call('values', [], (p) => (this.readAll(p), deepCopy([...this.data.values()])));
  }
  /** `list(d.items())`: `[key, value]` pairs (copies). */
  items(): Op<[K, V][]> {
    return this.call('items', [], (p) => (this.readAll(p), deepCopy([...this.data.entries()])));
  }
  /** `len(d)` */
  len(): Op<number> {
    return this.call('len', [], (p) => (this.readAll(p), this.data.size));
  }
  /** `d.copy()`: a plain (unshared) copy, as a Map to keep Python's key types and order. */
  copy(): Op<Map<K, V>> {
    return this.call('copy', [], (p) => (this.readAll(p), deepCopy(this.data)));
  }

  /**
   * `d[key] = fn(d[key])`, i.e. Python's `d[key] -= 1` — **NOT ATOMIC**, exactly as
   * in Python: it is TWO proxy calls, a read step then a write step, and other
   * processes may run in between. Two processes that both read 5 both write 4:
   * one update is lost. Hold a lock around it to make it safe. Raises KeyError at
   * the read step when the key is missing. Resolves to the value written.
   *
   * @example
   * ```ts
   * await dic.update('count', (v) => v - 1);                         // racy
   * await lock.withLock(() => dic.update('count', (v) => v - 1));     // safe
   * ```
   */
  update(key: K, fn: (value: V) => V): Op<V> {
    checkKey(key, 'update(key, fn)', this);
    return this.readModifyWrite('update', [key, fn], (p) => this.read(p, key), fn, (p, v) => this.write(p, key, deepCopy(v)));
  }

  /**
   * Python's `str(d)`, e.g. `{'count': 99}`: the shared state now. `print(d)`
   * calls it during its step, which records a read of every key.
   */
  override toString(): string {
    const p = this.kernel.printing;
    if (p !== null) this.readAll(p);
    return formatPython(this.data, true);
  }

  /**
   * The key named last, and its location: a read-modify-write names one key twice,
   * a loop over one key at every step, and the monitors that read the name compare
   * and hash one string instead of a fresh one each time.
   */
  private locKey: K | undefined = undefined;
  private locName = '';
  private loc(key: K): string {
    // Only access events name it: skip quoting the key (a tenth of a proxy call) when nobody records them.
    if (!this.kernel.tracksAccesses) return '';
    if (key !== this.locKey) {
      this.locKey = key;
      this.locName = `${this.id}[${JSON.stringify(key)}]`;
    }
    return this.locName;
  }
  private read(p: SimProcess, key: K): V {
    const v = this.data.get(key);
    this.access(p, this.loc(key), 'read', v);
    if (!this.data.has(key)) throw new KeyError(repr(key));
    return deepCopy(v as V);
  }
  private write(p: SimProcess, key: K, v: V): void {
    this.data.set(key, v);
    this.access(p, this.loc(key), 'write', v);
  }
  private remove(p: SimProcess, key: K): void {
    this.data.delete(key);
    this.access(p, this.loc(key), 'write', undefined);
  }
  private readAll(p: SimProcess): void {
    // One access per entry: skipped when nothing listens, or len() would cost O(size).
    if (this.kernel.tracksAccesses) for (const [k, v] of this.data) this.access(p, this.loc(k), 'read', v);
  }
}

/** `api` names a method of `proxy` when one is given: the name is only built for the error (dict calls check every key). */
function checkKey<K>(key: K, api: string, proxy?: SimObject): K {
  if (typeof key !== 'string' && !(typeof key === 'number' && Number.isFinite(key))) {
    throw misuse('INVALID_ARGUMENT', `${proxy === undefined ? '' : `${proxy.id}.`}${api}: dict keys must be strings or finite numbers, got ${show(key)}.`, 'use a string or number key (encode tuples as strings, e.g. `${a},${b}`).');
  }
  return key;
}

function entriesOf<K extends DictKey, V>(api: string, init: unknown): (readonly [K, V])[] {
  if (init === undefined || init === null) return [];
  if (init instanceof Map) return [...(init as Map<K, V>).entries()];
  if (typeof init === 'object' && typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return [...(init as Iterable<unknown>)].map((pair) => {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw misuse('INVALID_ARGUMENT', `${api}: expected [key, value] pairs, got an element ${show(pair)}.`, 'pass a plain object, a Map, or an array of [key, value] pairs.');
      }
      return [checkKey(pair[0] as K, api), pair[1] as V] as const;
    });
  }
  if (typeof init === 'object' && !(init instanceof SimObject)) return Object.entries(init) as unknown as (readonly [K, V])[];
  throw misuse('INVALID_ARGUMENT', `${api}: expected a plain object, a Map or [key, value] pairs, got ${show(init)}.`, 'pass e.g. `{ count: 100 }`.');
}

// ---------------------------------------------------------------------- list

/**
 * A list shared through a manager, as Python's `ListProxy` (`m.list()`). Each
 * method is ONE atomic call at the server; values are copies. Indices may be
 * negative, as in Python. `update(i, fn)` is `l[i] = fn(l[i])` — two calls, NOT atomic.
 *
 * @example
 * ```ts
 * const l = m.list([1, 2]);
 * await l.append(3);              // atomic: concurrent appends never get lost
 * await l.get(-1);                // 3
 * await print(l);                 // [1, 2, 3]
 * ```
 */
export class ListProxy<T = unknown> extends BaseProxy {
  private readonly data: T[];

  /** @internal Use `m.list()`. */
  constructor(kernel: Kernel, init: Iterable<T>) {
    super(kernel, 'ListProxy');
    this.data = deepCopy([...init]);
  }

  /** `l[i]`: IndexError when out of range. */
  get(i: number): Op<T> {
    intIndex(`${this.id}.get(i)`, i);
    return this.call('get', [i], (p) => {
      const j = this.at(i, 'list index out of range');
      this.access(p, this.loc(j), 'read', this.data[j]);
      return deepCopy(this.data[j] as T);
    });
  }
  /** `l[i] = value`: IndexError when out of range. */
  set(i: number, value: T): Op<void> {
    intIndex(`${this.id}.set(i, value)`, i);
    const v = deepCopy(value);
    return this.call('set', [i, v], (p) => this.put(p, this.at(i, 'list assignment index out of range'), v));
  }
  /** `del l[i]`: IndexError when out of range. */
  delete(i: number): Op<void> {
    intIndex(`${this.id}.delete(i)`, i);
    return this.call('delete', [i], (p) => void this.removeAt(p, this.at(i, 'list assignment index out of range')));
  }
  /** `l.append(x)`: ONE call, so concurrent appends are never lost. */
  append(x: T): Op<void> {
    const v = deepCopy(x);
    return this.call('append', [v], (p) => this.put(p, this.data.length, v));
  }
  /** `l.extend(xs)` */
  extend(xs: Iterable<T>): Op<void> {
    const vs = deepCopy([...xs]);
    return this.call('extend', [vs], (p) => {
      for (const v of vs) this.put(p, this.data.length, v);
    });
  }
  /** `l.insert(i, x)`: like Python, an index beyond either end inserts at that end. */
  insert(i: number, x: T): Op<void> {
    intIndex(`${this.id}.insert(i, x)`, i);
    const v = deepCopy(x);
    return this.call('insert', [i, v], (p) => {
      const n = this.data.length;
      const j = Math.min(Math.max(i < 0 ? i + n : i, 0), n);
      this.data.splice(j, 0, v);
      this.writeFrom(p, j);
    });
  }
  /** `l.pop(i=-1)`: IndexError `pop from empty list` / `pop index out of range`. */
  pop(i = -1): Op<T> {
    intIndex(`${this.id}.pop(i)`, i);
    return this.call('pop', i === -1 ? [] : [i], (p) => {
      if (this.data.length === 0) throw new IndexError('pop from empty list');
      return this.removeAt(p, this.at(i, 'pop index out of range'));
    });
  }
  /** `l.remove(x)`: removes the first element equal to `x`; ValueError when there is none. */
  remove(x: T): Op<void> {
    return this.call('remove', [x], (p) => {
      const j = this.find(p, x);
      if (j < 0) throw new ValueError('list.remove(x): x not in list');
      this.removeAt(p, j);
    });
  }
  /** `l.index(x)`: ValueError `<x> is not in list`. */
  index(x: T): Op<number> {
    return this.call('index', [x], (p) => {
      const j = this.find(p, x);
      if (j < 0) throw new ValueError(`${repr(x)} is not in list`);
      return j;
    });
  }
  /** `l.count(x)` */
  count(x: T): Op<number> {
    return this.call('count', [x], (p) => (this.readAll(p), this.data.filter((y) => pyEquals(y, x)).length));
  }
  /** `x in l` */
  has(x: T): Op<boolean> {
    return this.call('has', [x], (p) => this.find(p, x) >= 0);
  }
  /** `len(l)` */
  len(): Op<number> {
    return this.call('len', [], (p) => (this.readAll(p), this.data.length));
  }
  /** `l[:]`: a plain (unshared) copy. */
  copy(): Op<T[]> {
    return this.call('copy', [], (p) => (this.readAll(p), deepCopy(this.data)));
  }
  /** `l.reverse()` */
  reverse(): Op<void> {
    return this.call('reverse', [], (p) => {
      this.data.reverse();
      this.writeFrom(p, 0);
    });
  }
  /**
   * `l[i] = fn(l[i])`, i.e. Python's `l[i] += 1` — **NOT ATOMIC**: a read step then
   * a write step, other processes may run in between (see {@link DictProxy.update}).
   * Resolves to the value written.
   */
  update(i: number, fn: (value: T) => T): Op<T> {
    intIndex(`${this.id}.update(i, fn)`, i);
    return this.readModifyWrite(
      'update',
      [i, fn],
      (p) => {
        const j = this.at(i, 'list index out of range');
        this.access(p, this.loc(j), 'read', this.data[j]);
        return deepCopy(this.data[j] as T);
      },
      fn,
      (p, v) => this.put(p, this.at(i, 'list assignment index out of range'), deepCopy(v)),
    );
  }

  /** Python's `str(l)`, e.g. `[1, 2, 3]`; inside `print` it records a read of every element. */
  override toString(): string {
    const p = this.kernel.printing;
    if (p !== null) this.readAll(p);
    return formatPython(this.data, true);
  }

  private loc(j: number): string {
    return `${this.id}[${j}]`;
  }
  /** Python's index normalisation: negative counts from the end; out of range raises `message`. */
  private at(i: number, message: string): number {
    const j = i < 0 ? i + this.data.length : i;
    if (j < 0 || j >= this.data.length) throw new IndexError(message);
    return j;
  }
  private put(p: SimProcess, j: number, v: T): void {
    this.data[j] = v;
    this.access(p, this.loc(j), 'write', v);
  }
  /** Remove element `j`: it is read, and every later element moves down one place. */
  private removeAt(p: SimProcess, j: number): T {
    const v = this.data[j] as T;
    this.access(p, this.loc(j), 'read', v);
    this.data.splice(j, 1);
    this.writeFrom(p, j);
    this.access(p, this.loc(this.data.length), 'write', undefined);
    return deepCopy(v);
  }
  private writeFrom(p: SimProcess, j: number): void {
    if (this.kernel.tracksAccesses) for (let k = j; k < this.data.length; k++) this.access(p, this.loc(k), 'write', this.data[k]);
  }
  private find(p: SimProcess, x: T): number {
    for (let j = 0; j < this.data.length; j++) {
      this.access(p, this.loc(j), 'read', this.data[j]);
      if (pyEquals(this.data[j], x)) return j;
    }
    return -1;
  }
  private readAll(p: SimProcess): void {
    // One access per element: skipped when nothing listens, or len() would cost O(size).
    if (this.kernel.tracksAccesses) for (let j = 0; j < this.data.length; j++) this.access(p, this.loc(j), 'read', this.data[j]);
  }
}

function intIndex(api: string, i: unknown): void {
  if (typeof i !== 'number' || !Number.isInteger(i)) {
    throw misuse('INVALID_ARGUMENT', `${api}: list indices must be integers, got ${show(i)}.`, 'pass a whole number (negative counts from the end, as in Python).');
  }
}

// ----------------------------------------------------------------- Namespace

/**
 * A shared attribute bag, as Python's `NamespaceProxy` (`m.Namespace()`): `ns.x`
 * is `await ns.get('x')`, `ns.x = 1` is `await ns.set('x', 1)`, each one atomic
 * call. `ns.x += 1` is `await ns.update('x', (v) => v + 1)` — two calls, NOT atomic.
 * Reading `ns.lst` gives a copy: `ns.lst.append(1)` in Python changes nothing
 * shared, and neither does pushing onto the array `get` returned.
 *
 * @example
 * ```ts
 * const ns = m.Namespace<{ x: number }>({ x: 1 });
 * await ns.set('x', (await ns.get('x')) + 1);
 * await print(ns);                                 // Namespace(x=2)
 * ```
 */
export class NamespaceProxy<T extends Record<string, unknown> = Record<string, unknown>> extends BaseProxy {
  private readonly attrs = new Map<string, unknown>();

  /** @internal Use `m.Namespace()`. */
  constructor(kernel: Kernel, init: Readonly<Record<string, unknown>>) {
    super(kernel, 'NamespaceProxy');
    for (const [k, v] of Object.entries(init)) this.attrs.set(attrName('m.Namespace()', k), deepCopy(v));
  }

  /** `ns.name`: AttributeError when it was never set. */
  get<N extends keyof T & string>(name: N): Op<T[N]> {
    attrName(`${this.id}.get(name)`, name);
    return this.call('get', [name], (p) => this.read(p, name) as T[N]);
  }
  /** `ns.name = value` */
  set<N extends keyof T & string>(name: N, value: T[N]): Op<void> {
    attrName(`${this.id}.set(name, value)`, name);
    const v = deepCopy(value);
    return this.call('set', [name, v], (p) => this.write(p, name, v));
  }
  /** `del ns.name`: AttributeError when it was never set. */
  delete<N extends keyof T & string>(name: N): Op<void> {
    attrName(`${this.id}.delete(name)`, name);
    return this.call('delete', [name], (p) => {
      this.read(p, name);
      this.attrs.delete(name);
      this.access(p, this.loc(name), 'write', undefined);
    });
  }
  /** `hasattr(ns, name)` */
  has(name: string): Op<boolean> {
    attrName(`${this.id}.has(name)`, name);
    return this.call('has', [name], (p) => {
      this.access(p, this.loc(name), 'read', this.attrs.get(name));
      return this.attrs.has(name);
    });
  }
  /** `ns.name = fn(ns.name)`, i.e. `ns.x += 1` — **NOT ATOMIC** (two calls, see {@link DictProxy.update}). */
  update<N extends keyof T & string>(name: N, fn: (value: T[N]) => T[N]): Op<T[N]> {
    attrName(`${this.id}.update(name, fn)`, name);
    return this.readModifyWrite('update', [name, fn], (p) => this.read(p, name) as T[N], fn, (p, v) => this.write(p, name, deepCopy(v)));
  }

  /** Python's repr, e.g. `Namespace(a=1, b='x')` (names sorted, as Python does). */
  override toString(): string {
    const p = this.kernel.printing;
    const names = [...this.attrs.keys()].sort();
    if (p !== null) for (const n of names) this.access(p, this.loc(n), 'read', this.attrs.get(n));
    return `Namespace(${names.map((n) => `${n}=${repr(this.attrs.get(n))}`).join(', ')})`;
  }

  private loc(name: string): string {
    return `${this.id}.${name}`;
  }
  private read(p: SimProcess, name: string): unknown {
    const v = this.attrs.get(name);
    this.access(p, this.loc(name), 'read', v);
    if (!this.attrs.has(name)) throw new AttributeError(`'Namespace' object has no attribute '${name}'`);
    return deepCopy(v);
  }
  private write(p: SimProcess, name: string, v: unknown): void {
    this.attrs.set(name, v);
    this.access(p, this.loc(name), 'write', v);
  }
}

function attrName(api: string, name: unknown): string {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw misuse('INVALID_ARGUMENT', `${api}: an attribute name must be an identifier string, got ${show(name)}.`, 'use a name such as "x" or "total".');
  }
  if (name.startsWith('_')) {
    throw misuse(
      'INVALID_ARGUMENT',
      `${api}: "${name}" starts with an underscore; Python's NamespaceProxy keeps such attributes local to the proxy, not shared.`,
      'use a name without a leading underscore for shared state.',
    );
  }
  return name;
}

// --------------------------------------------------------------------- Value

/**
 * A shared single value, as Python's manager `Value(typecode, value)` (a
 * `ValueProxy`): `v.value` is `await v.get()`, `v.value = x` is `await v.set(x)`.
 * Unlike `multiprocessing.Value` it has no lock and does not check the typecode
 * (neither does Python's). `v.value += 1` is `await v.update((x) => x + 1)` — two
 * calls, NOT atomic.
 *
 * @example
 * ```ts
 * const v = m.Value('i', 0);
 * await v.update((x) => x + 1);   // racy across processes, like v.value += 1
 * await print(v);                 // Value('i', 1)
 * ```
 */
export class ValueProxy<T = unknown> extends BaseProxy {
  /** The typecode given at creation (Python stores it, unchecked). */
  readonly typecode: string;
  private value: T;

  /** @internal Use `m.Value()`. */
  constructor(kernel: Kernel, typecode: string, value: T) {
    super(kernel, 'ValueProxy');
    this.typecode = typecode;
    this.value = deepCopy(value);
  }

  /** `v.value` (Python's `v.get()`). */
  get(): Op<T> {
    return this.call('get', [], (p) => this.read(p));
  }
  /** `v.value = x` (Python's `v.set(x)`). */
  set(value: T): Op<void> {
    const v = deepCopy(value);
    return this.call('set', [v], (p) => this.write(p, v));
  }
  /** `v.value = fn(v.value)`, i.e. `v.value += 1` — **NOT ATOMIC** (two calls, see {@link DictProxy.update}). */
  update(fn: (value: T) => T): Op<T> {
    return this.readModifyWrite('update', [fn], (p) => this.read(p), fn, (p, v) => this.write(p, deepCopy(v)));
  }

  /** Python's repr of the referent, e.g. `Value('i', 5)`. */
  override toString(): string {
    const p = this.kernel.printing;
    if (p !== null) this.access(p, this.loc(), 'read', this.value);
    return `Value(${repr(this.typecode)}, ${repr(this.value)})`;
  }

  private loc(): string {
    return `${this.id}.value`;
  }
  private read(p: SimProcess): T {
    this.access(p, this.loc(), 'read', this.value);
    return deepCopy(this.value);
  }
  private write(p: SimProcess, v: T): void {
    this.value = v;
    this.access(p, this.loc(), 'write', v);
  }
}

// ------------------------------------------------------------ synchronisation

/**
 * A lock made by `m.Lock()`: a proxy to a `threading.Lock` in the server (Python's
 * `AcquirerProxy`). Same API as `mp.Lock()`, including `withLock`; any process may
 * release it, and releasing it unlocked raises RuntimeError (threading's error),
 * not ValueError.
 */
export class LockProxy extends Acquirable {
  private owner: SimProcess | null = null;

  /** @internal Use `m.Lock()`. */
  constructor(kernel: Kernel) {
    super(kernel, 'LockProxy');
  }
  /** @internal */ canTake(): boolean {
    return this.owner === null;
  }
  /** @internal */ take(p: SimProcess): void {
    this.owner = p;
  }
  /** @internal */ give(): void {
    if (this.owner === null) throw new RuntimeError(`release unlocked lock (${this.id}.release() on an unlocked manager Lock: release only after a successful acquire(), or use withLock())`);
    this.owner = null;
  }
  /** @internal */ holders(): readonly number[] {
    return this.owner === null ? [] : [this.owner.pid];
  }
  /** @internal */ releasesOwn(p: SimProcess): boolean {
    return this.owner === p;
  }
  /** Python's repr, with the proxy id where Python shows an address. */
  override toString(): string {
    return `<${this.owner === null ? 'unlocked' : 'locked'} _thread.lock object at ${this.id}>`;
  }
}

/** A re-entrant lock made by `m.RLock()` (a `threading.RLock` in the server): only its owner may release it. */
export class RLockProxy extends Acquirable {
  private owner: SimProcess | null = null;
  private count = 0;

  /** @internal Use `m.RLock()`. */
  constructor(kernel: Kernel) {
    super(kernel, 'RLockProxy');
  }
  /** @internal */ canTake(p: SimProcess): boolean {
    return this.owner === null || this.owner === p;
  }
  /** @internal */ take(p: SimProcess): void {
    this.owner = p;
    this.count++;
  }
  /** @internal */ give(p: SimProcess): void {
    if (this.owner !== p) {
      throw new RuntimeError(`cannot release un-acquired lock (${this.id}.release() by ${p.label}, ${this.owner === null ? 'which nobody holds' : `held by ${this.owner.label}`})`);
    }
    if (--this.count === 0) this.owner = null;
  }
  /** @internal */ holders(): readonly number[] {
    return this.owner === null ? [] : [this.owner.pid];
  }
  /** @internal */ releasesOwn(p: SimProcess): boolean {
    return this.owner === p;
  }
  /** Python's repr, with the proxy id where Python shows an address. */
  override toString(): string {
    return `<${this.owner === null ? 'unlocked' : 'locked'} _thread.RLock object owner=${this.owner?.pid ?? 0} count=${this.count} at ${this.id}>`;
  }
}

/**
 * A semaphore made by `m.Semaphore(n)` / `m.BoundedSemaphore(n)` (a
 * `threading.Semaphore` in the server). Releasing a plain one never fails; a
 * bounded one raises ValueError above its initial value. No `getValue()`: the
 * proxy does not expose one in Python either.
 */
export class SemaphoreProxy extends Acquirable {
  private value: number;
  private readonly bound: number;
  private readonly takers: number[] = [];

  /** @internal Use `m.Semaphore()` / `m.BoundedSemaphore()`. */
  constructor(kernel: Kernel, value: number, bounded: boolean) {
    intArg(bounded ? 'm.BoundedSemaphore(value)' : 'm.Semaphore(value)', 'value', value, 0);
    super(kernel, bounded ? 'BoundedSemaphoreProxy' : 'SemaphoreProxy');
    this.value = value;
    this.bound = bounded ? value : Infinity;
  }
  /** @internal */ canTake(): boolean {
    return this.value > 0;
  }
  /** @internal */ take(p: SimProcess): void {
    this.value--;
    this.takers.push(p.pid);
  }
  /** @internal */ give(p: SimProcess): void {
    if (this.value >= this.bound) throw new ValueError(`Semaphore released too many times (${this.id} is back at its initial value ${this.bound})`);
    this.value++;
    const i = this.takers.indexOf(p.pid);
    if (this.takers.length > 0) this.takers.splice(i >= 0 ? i : 0, 1);
  }
  /** @internal */ holders(): readonly number[] {
    return [...new Set(this.takers)];
  }
  /** @internal */ releasesOwn(): boolean {
    return this.value < this.bound;
  }
  /** Python's repr, with the proxy id where Python shows an address. */
  override toString(): string {
    return `<threading.${this.bound === Infinity ? 'Semaphore' : 'BoundedSemaphore'} at ${this.id}: value=${this.value}>`;
  }
}

/**
 * An event made by `m.Event()` (a `threading.Event` in the server). Like
 * `mp.Event()`, except that `wait` resolves to true when a `set` woke it even if
 * the flag was cleared again before the waiter ran — threading's semantics.
 */
export class EventProxy extends Event {
  /** @internal Use `m.Event()`. */
  constructor(kernel: Kernel) {
    super(kernel, 'EventProxy');
  }
  /** @internal threading's `wait` returns true once a `set` woke it, whatever the flag is now. */
  protected override waitResult(op: Op<unknown>): boolean {
    return this.flag || this.sets !== op.memo;
  }
  /** Python's repr, with the proxy id where Python shows an address. */
  override toString(): string {
    return `<threading.Event at ${this.id}: ${this.flag ? 'set' : 'unset'}>`;
  }
}

/**
 * A queue made by `m.Queue(maxsize)` (a `queue.Queue` in the server). Unlike
 * `mp.Queue` there is no feeder thread: `put` is one synchronous call that puts a
 * copy of the item in the server's queue, so it is visible to `get` and `empty()`
 * as soon as `put` returns. It also has `taskDone()` and `join()` (Python's
 * manager Queue and JoinableQueue are the same `queue.Queue`), and no `close()`.
 *
 * @example
 * ```ts
 * const q = m.Queue<number>();
 * await q.put(1);
 * await q.empty();   // false, at once
 * ```
 */
export class QueueProxy<T = unknown> extends SimObject {
  readonly maxsize: number;
  private readonly items = new Fifo<{ readonly value: unknown; readonly msg: number }>();
  private unfinished = 0;

  /** @internal Use `m.Queue()`. */
  constructor(kernel: Kernel, maxsize: number) {
    intArg('m.Queue(maxsize)', 'maxsize', maxsize, Number.MIN_SAFE_INTEGER);
    super(kernel, 'QueueProxy');
    this.maxsize = maxsize;
  }

  /** `put(obj, block=True, timeout=None)`: raises Full when there is no room in time. */
  put(obj: T, block = true, timeout?: number | null): Op<void> {
    const api = `${this.id}.put(obj, block, timeout)`;
    boolArg(api, 'block', block);
    const t = timeoutArg(api, timeout);
    const v = deepCopy(obj); // pickled by the call, now
    return this.op('put', t === undefined ? (block ? [v] : [v, false]) : [v, block, t], deadlineOf(this.kernel.now, block, t));
  }
  /** `get(block=True, timeout=None)`: raises Empty when nothing arrives in time. */
  get(block = true, timeout?: number | null): Op<T> {
    const api = `${this.id}.get(block, timeout)`;
    boolArg(api, 'block', block);
    const t = timeoutArg(api, timeout);
    return this.op('get', t === undefined ? (block ? [] : [false]) : [block, t], deadlineOf(this.kernel.now, block, t));
  }
  /** `put_nowait(obj)` */
  putNowait(obj: T): Op<void> {
    return this.put(obj, false);
  }
  /** `get_nowait()` */
  getNowait(): Op<T> {
    return this.get(false);
  }
  /** Items in the queue now. Racy by nature, as in Python. */
  qsize(): Op<number> {
    return this.op('qsize', []);
  }
  /** Whether the queue is empty now. Racy. */
  empty(): Op<boolean> {
    return this.op('empty', []);
  }
  /** Whether `put` would block now. Racy. */
  full(): Op<boolean> {
    return this.op('full', []);
  }
  /** `task_done()`: ValueError when called more times than items were put. */
  taskDone(): Op<void> {
    return this.op('taskDone', []);
  }
  /** Block until every item put has been marked done. */
  join(): Op<void> {
    return this.op('join', []);
  }

  private hasRoom(): boolean {
    return this.maxsize <= 0 || this.items.length < this.maxsize;
  }

  /** @internal `qsize`, `empty` and `full` only read. */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    return [{ loc: this.id, write: op.name !== 'qsize' && op.name !== 'empty' && op.name !== 'full' }];
  }

  /** @internal */
  ready(op: Op<unknown>): boolean {
    switch (op.name) {
      case 'put':
        return this.hasRoom() || this.kernel.now >= op.deadline;
      case 'get':
        return this.items.length > 0 || this.kernel.now >= op.deadline;
      case 'join':
        return this.unfinished === 0;
      default:
        return true;
    }
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    const p = op.proc;
    switch (op.name) {
      case 'put': {
        if (!this.hasRoom()) throw new Full(`${this.id} is full (maxsize ${this.maxsize}): put timed out or was non-blocking`);
        const value = op.args[0];
        this.items.push({ value, msg: this.kernel.send(p, this.id, value) });
        this.unfinished++;
        return undefined;
      }
      case 'get': {
        const m = this.items.shift();
        if (m === undefined) throw new Empty(`${this.id} is empty: get timed out or was non-blocking`);
        this.kernel.receive(p, this.id, m.msg, m.value);
        return m.value;
      }
      case 'qsize':
        return this.items.length;
      case 'empty':
        return this.items.length === 0;
      case 'full':
        return !this.hasRoom();
      case 'taskDone':
        if (this.unfinished <= 0) throw new ValueError(`task_done() called too many times (${this.id} has no unfinished task)`);
        this.unfinished--;
        return undefined;
      case 'join':
        return undefined;
      default:
        throw new Error(`${this.id}: unknown operation ${op.name}`);
    }
  }

  /** @internal */
  override waitInfo(op: Op<unknown>): WaitInfo {
    if (op.name === 'put') return { waitsOn: `${this.id} is full (${this.items.length} of ${this.maxsize})`, heldBy: [] };
    if (op.name === 'get') return { waitsOn: `waiting for an item in ${this.id} (empty)`, heldBy: [] };
    return { waitsOn: `${this.id} has ${this.unfinished} unfinished task(s) (taskDone() not called yet)`, heldBy: [] };
  }
  /** Python's repr, with the proxy id where Python shows an address. */
  override toString(): string {
    return `<queue.Queue object at ${this.id}>`;
  }
}

// ------------------------------------------------------------------- manager

/**
 * What `mp.Manager()` returns, as Python's `SyncManager`: factories of shared
 * objects living in the manager's server, each reached through a proxy that any
 * process may be given (pass it in `args`, as in Python). Every proxy method call
 * is one atomic operation at the server; values cross as copies.
 *
 * The server process is modelled, not simulated: the objects live in the proxies
 * and each call runs atomically at the caller's step (see the module comment of
 * `primitives/manager.ts`), so the server has no pid and needs no shutdown.
 *
 * @example
 * ```ts
 * const m = mp.Manager();                 // Python: m = Manager()
 * const dic = m.dict({ count: 100 });     // dic = m.dict({'count': 100})
 * const lock = m.Lock();
 * const work = async () => { await lock.withLock(() => dic.update('count', (v) => v - 1)); };
 * ```
 */
export class SyncManager {
  private readonly kernel: Kernel;

  /** @internal Use `mp.Manager()`. */
  constructor(kernel: Kernel) {
    this.kernel = kernel;
  }

  /**
   * `m.dict(init)`: from a plain object, `[key, value]` pairs or a Map (number keys
   * keep their type and order there); the values are copied in.
   */
  dict<V = unknown>(init?: Readonly<Record<string, V>> | Iterable<readonly [string, V]>): DictProxy<string, V>;
  dict<V = unknown>(init: Iterable<readonly [number, V]>): DictProxy<number, V>;
  dict<K extends DictKey, V>(init?: DictInit<K, V>): DictProxy<K, V>;
  dict(init?: unknown): DictProxy<DictKey, unknown> {
    this.here('m.dict()');
    return new DictProxy(this.kernel, entriesOf('m.dict(init)', init));
  }
  /** `m.list(init)`: copied in. */
  list<T = unknown>(init: Iterable<T> = []): ListProxy<T> {
    this.here('m.list()');
    if (typeof (init as Partial<Iterable<T>> | null)?.[Symbol.iterator] !== 'function') {
      throw misuse('INVALID_ARGUMENT', `m.list(init): init must be iterable (an array), got ${show(init)}.`, 'pass e.g. `[1, 2, 3]`, or nothing for an empty list.');
    }
    return new ListProxy<T>(this.kernel, init);
  }
  /** `m.Namespace(**attrs)` */
  Namespace<T extends Record<string, unknown> = Record<string, unknown>>(attrs: Partial<T> = {}): NamespaceProxy<T> {
    this.here('m.Namespace()');
    return new NamespaceProxy<T>(this.kernel, attrs);
  }
  /** `m.Value(typecode, value)`: no lock and no typecode check, as in Python's manager. */
  Value<T>(typecode: string, value: T): ValueProxy<T> {
    this.here('m.Value()');
    if (typeof typecode !== 'string') {
      throw misuse('INVALID_ARGUMENT', `m.Value(typecode, value): typecode must be a string such as 'i' or 'd', got ${show(typecode)}.`, "pass e.g. `m.Value('i', 0)`.");
    }
    return new ValueProxy<T>(this.kernel, typecode, value);
  }
  /** `m.Lock()`: a `threading.Lock` in the server. */
  Lock(): LockProxy {
    this.here('m.Lock()');
    return new LockProxy(this.kernel);
  }
  /** `m.RLock()`: a `threading.RLock` in the server. */
  RLock(): RLockProxy {
    this.here('m.RLock()');
    return new RLockProxy(this.kernel);
  }
  /** `m.Semaphore(value=1)` */
  Semaphore(value = 1): SemaphoreProxy {
    this.here('m.Semaphore()');
    return new SemaphoreProxy(this.kernel, value, false);
  }
  /** `m.BoundedSemaphore(value=1)` */
  BoundedSemaphore(value = 1): SemaphoreProxy {
    this.here('m.BoundedSemaphore()');
    return new SemaphoreProxy(this.kernel, value, true);
  }
  /** `m.Event()` */
  Event(): EventProxy {
    this.here('m.Event()');
    return new EventProxy(this.kernel);
  }
  /** `m.Queue(maxsize=0)`: no feeder thread, `put` is one synchronous call. */
  Queue<T = unknown>(maxsize = 0): QueueProxy<T> {
    this.here('m.Queue()');
    return new QueueProxy<T>(this.kernel, maxsize);
  }
  /** `m.JoinableQueue(maxsize=0)`: the same `queue.Queue` as `m.Queue` in Python. */
  JoinableQueue<T = unknown>(maxsize = 0): QueueProxy<T> {
    this.here('m.JoinableQueue()');
    return new QueueProxy<T>(this.kernel, maxsize);
  }

  private here(api: string): void {
    this.kernel.requireCurrent(api);
  }
}
