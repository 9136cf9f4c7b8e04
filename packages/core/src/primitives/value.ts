import { show } from '../args.js';
import { IndexError, PyTypeError, ValueError, misuse } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { NEXT_PHASE, SimObject, type Footprint, type Op, type WaitInfo } from '../op.js';
import type { SimProcess } from '../process-state.js';
import { formatPython } from '../python-format.js';
import { Lock, RLock } from './lock.js';
import type { GenOf } from '../generators.js';

/*
 * Shared memory, as Python's `multiprocessing.sharedctypes`: `Value`, `Array`,
 * `RawValue`, `RawArray`.
 *
 * How it is modelled. In Python these are ctypes objects in shared memory. Every
 * read and every write of `v.value` or `a[i]` is a separate bytecode-level access,
 * so each is one operation (one scheduling point) here: `await v.get()`,
 * `await v.set(x)`. A statement like `v.value += 1` is a read and then a write, and
 * other processes can run between them: `update(fn)` models it as ONE operation of
 * TWO steps (phases), so lost updates happen exactly as in Python.
 *
 * A synchronized object (`Value`, `Array`: `lock` true or a lock given) runs each
 * access inside `with self._lock:`. We make the acquire, the access and the release
 * one step, which is ready only when this process could take the lock: so an access
 * waits while another process holds the lock (`with v.get_lock(): ...`), and waits
 * forever — a deadlock — when the lock is a non-recursive Lock this process already
 * holds, as in Python. Taking and giving back the lock in the same step leaves the
 * lock's state as it was, so nothing else needs to change.
 */

/** Integer typecodes: signed/unsigned char, short, int, long, long long. */
export type IntTypecode = 'b' | 'B' | 'h' | 'H' | 'i' | 'I' | 'l' | 'L' | 'q' | 'Q';
/** Floating-point typecodes: C float (32 bits) and double. */
export type FloatTypecode = 'f' | 'd';
/** Character typecodes: `'c'` a byte (Python `bytes` of length 1), `'u'` a unicode character. */
export type CharTypecode = 'c' | 'u';
/** The typecodes of `multiprocessing.sharedctypes` (Python's `array` module letters). */
export type Typecode = IntTypecode | FloatTypecode | CharTypecode;
/** What a cell of typecode `C` holds: a one-character string for `'c'`/`'u'`, else a number. */
export type CValue<C extends Typecode> = C extends CharTypecode ? string : number;
/** What `mp.Array(typecode, …)` is initialised from: a size, the values, or (for `'c'`/`'u'`) a string. */
export type ArrayInit<C extends Typecode> = number | readonly CValue<C>[] | (C extends CharTypecode ? string : never);
/** A cell's value, whatever its typecode. */
export type Scalar = number | string;

/** The `lock` option of `mp.Value` / `mp.Array`, as Python's `lock=True`. */
export interface SharedOptions {
  /** `true` (default): a new RLock. `false`: a raw object, no lock. Or a Lock/RLock to use. */
  readonly lock?: boolean | Lock | RLock;
}

/** The ctypes type behind a typecode: its name (for reprs) and how values are coerced. */
interface CType {
  readonly name: string;
  readonly kind: 'int' | 'float' | 'char' | 'wchar';
  /** Width of an integer type: ctypes wraps out-of-range integers silently, like C. */
  readonly bits: number;
  readonly signed: boolean;
}

const int = (name: string, bits: number, signed: boolean): CType => ({ name, kind: 'int', bits, signed });

/** `multiprocessing.sharedctypes.typecode_to_type`, for a 64-bit Linux CPython. */
const CTYPES: Readonly<Record<Typecode, CType>> = {
  c: { name: 'c_char', kind: 'char', bits: 8, signed: false },
  u: { name: 'c_wchar', kind: 'wchar', bits: 32, signed: false },
  b: int('c_byte', 8, true),
  B: int('c_ubyte', 8, false),
  h: int('c_short', 16, true),
  H: int('c_ushort', 16, false),
  i: int('c_int', 32, true),
  I: int('c_uint', 32, false),
  l: int('c_long', 64, true),
  L: int('c_ulong', 64, false),
  // ctypes aliases c_longlong to c_long where both are 64 bits, so reprs say c_long.
  q: int('c_long', 64, true),
  Q: int('c_ulong', 64, false),
  f: { name: 'c_float', kind: 'float', bits: 32, signed: true },
  d: { name: 'c_double', kind: 'float', bits: 64, signed: true },
};

const TYPECODES = Object.keys(CTYPES).map((c) => `'${c}'`).join(', ');

/** The ctype of a typecode, or Python's TypeError for an unknown one. */
function ctypeOf(api: string, typecode: unknown): CType {
  if (typeof typecode === 'string' && Object.hasOwn(CTYPES, typecode)) return CTYPES[typecode as Typecode];
  throw new PyTypeError(`this type has no size (${api}: unknown typecode ${show(typecode)}; use one of ${TYPECODES})`);
}

/** Python's type name of a JavaScript value, for TypeError messages. */
function pyType(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'string':
      return 'str';
    case 'boolean':
      return 'bool';
    case 'undefined':
      return 'NoneType';
    case 'function':
      return 'function';
    default:
      if (v === null) return 'NoneType';
      if (Array.isArray(v)) return 'list';
      if (v instanceof SimObject) return v.constructor.name;
      return 'dict';
  }
}

/**
 * Store `v` into a cell of type `ct` as ctypes does, or throw Python's TypeError.
 * Integers wrap to the type's width (ctypes does not check overflow); floats are
 * rounded to 32 bits for `'f'`; booleans count as 0/1 (Python's bool is an int).
 * JavaScript cannot tell `2.0` from `2`, so an integral float is accepted as an int.
 */
function coerce(ct: CType, v: unknown, where: string): Scalar {
  switch (ct.kind) {
    case 'int': {
      let n: bigint;
      if (typeof v === 'boolean') n = v ? 1n : 0n;
      else if (typeof v === 'bigint') n = v;
      else if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
      else {
        throw new PyTypeError(`'${pyType(v)}' object cannot be interpreted as an integer (${where} holds ${ct.name}: store an integer${typeof v === 'number' ? ", or use typecode 'd' for floats" : ''})`);
      }
      return Number(ct.signed ? BigInt.asIntN(ct.bits, n) : BigInt.asUintN(ct.bits, n));
    }
    case 'float': {
      let x: number;
      if (typeof v === 'number') x = v;
      else if (typeof v === 'boolean') x = v ? 1 : 0;
      else if (typeof v === 'bigint') x = Number(v);
      else throw new PyTypeError(`must be real number, not ${pyType(v)} (${where} holds ${ct.name})`);
      return ct.bits === 32 ? Math.fround(x) : x;
    }
    case 'char':
      // c_char holds one byte: Python's b'a' is the one-character string 'a' here.
      if (typeof v === 'string' && v.length === 1 && v.charCodeAt(0) <= 0xff) return v;
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff) return String.fromCharCode(v);
      throw new PyTypeError(`one character bytes, bytearray or integer expected (${where} holds c_char: store a one-character string with a code below 256, got ${show(v)})`);
    case 'wchar':
      if (typeof v !== 'string') throw new PyTypeError(`unicode string expected instead of ${pyType(v)} instance (${where} holds c_wchar)`);
      if ([...v].length !== 1) throw new PyTypeError(`one character unicode string expected (${where} holds c_wchar, got ${show(v)})`);
      return v;
  }
}

/** Python's repr of a cell value inside a ctypes repr: `c_int(5)`, `c_double(1.0)`, `c_char(b'a')`. */
function ctypeRepr(ct: CType, v: Scalar): string {
  switch (ct.kind) {
    case 'float': {
      const x = v as number;
      return `${ct.name}(${Number.isInteger(x) ? `${x}.0` : formatPython(x, true)})`;
    }
    case 'char':
      return `${ct.name}(b${formatPython(v, true)})`;
    case 'wchar':
      return `${ct.name}(${formatPython(v, true)})`;
    default:
      return `${ct.name}(${v})`;
  }
}

function zeroOf(ct: CType): Scalar {
  return ct.kind === 'char' || ct.kind === 'wchar' ? '\0' : 0;
}

function isAsyncResult(v: unknown): boolean {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return false;
  const o = v as { then?: unknown; next?: unknown; throw?: unknown };
  return typeof o.then === 'function' || (typeof o.next === 'function' && typeof o.throw === 'function');
}

/**
 * What Value, RawValue, SharedArray and RawArray share: typed cells, the optional
 * lock, and one operation per access (`get`, `set`, the two-step `update`, and
 * `slice` for arrays). Operation args are `[index?, value?]`: values have no index.
 */
abstract class SharedCells extends SimObject {
  /** The typecode given at creation, e.g. `'i'`. */
  readonly typecode: Typecode;
  /** @internal */ readonly ctype: CType;
  /** @internal */ readonly cells: Scalar[];
  /** @internal null for a raw object. */ readonly sync: Lock | RLock | null;
  /** Whether operations take an index (arrays) or not (values). */
  private readonly indexed: boolean;

  protected constructor(kernel: Kernel, kind: string, typecode: Typecode, cells: Scalar[], lock: Lock | RLock | null, indexed: boolean) {
    super(kernel, kind);
    this.typecode = typecode;
    this.ctype = CTYPES[typecode];
    this.cells = cells;
    this.sync = lock;
    this.indexed = indexed;
  }

  /** @internal The trace location of cell `i`: `Value#1`, `Array#1[3]`. */
  protected loc(i: number): string {
    return this.indexed ? `${this.id}[${i}]` : this.id;
  }

  /** @internal Record an access. */
  private access(p: SimProcess, i: number, kind: 'read' | 'write', value: unknown): void {
    // atomic: a synchronized object's single get or set runs under its lock, so it
    // cannot tear (a data-race checker need not flag it), though `update` — two such
    // accesses — can still lose updates. A raw object's accesses are plain memory
    // accesses: not atomic, they race.
    this.kernel.access(p, this.id, this.loc(i), kind, value, this.sync !== null, this.sync?.id);
  }

  /** @internal The cell an operation's index designates (negative counts from the end), or null if invalid. */
  private cellIndex(op: Op<unknown>): number | null {
    if (!this.indexed) return 0;
    const raw = op.args[0];
    if (typeof raw !== 'number' || !Number.isInteger(raw)) return null;
    const i = raw < 0 ? raw + this.cells.length : raw;
    return i >= 0 && i < this.cells.length ? i : null;
  }

  /** @internal Python's `a[start:end]` bounds, clamped. */
  private sliceRange(op: Op<unknown>): [number, number] {
    const n = this.cells.length;
    const norm = (v: unknown, dflt: number): number => {
      if (v === undefined || v === null) return dflt;
      const x = v as number;
      return x < 0 ? Math.max(0, x + n) : Math.min(x, n);
    };
    const from = norm(op.args[0], 0);
    return [from, Math.max(from, norm(op.args[1], n))];
  }

  /** @internal The cell of `op`, or the IndexError/TypeError Python raises. */
  private requireCell(op: Op<unknown>): number {
    const i = this.cellIndex(op);
    if (i !== null) return i;
    const raw = op.args[0];
    if (typeof raw !== 'number' || !Number.isInteger(raw)) {
      throw new PyTypeError(`indices must be integers (${this.id}[${show(raw)}])`);
    }
    const n = this.cells.length;
    throw new IndexError(`invalid index (${this.id}[${raw}]: it has ${n} cell${n === 1 ? '' : 's'}, valid indices are ${n === 0 ? 'none' : `${-n}..${n - 1}`})`);
  }

  /** @internal Issue an access operation; `slice` bounds are checked here, being plain numbers. */
  protected accessOp<R>(name: 'get' | 'set' | 'update' | 'slice' | 'compareAndSwap' | 'exchange' | 'fetchAdd', args: readonly unknown[]): Op<R> {
    if (name === 'update') {
      const fn = args[args.length - 1];
      if (typeof fn !== 'function') {
        throw misuse('INVALID_ARGUMENT', `${this.id}.update(${this.indexed ? 'i, ' : ''}fn): fn must be a function, got ${show(fn)}.`, 'pass e.g. `(x) => x + 1`.');
      }
    }
    if (name === 'slice') {
      for (const b of args) {
        if (b !== undefined && b !== null && (typeof b !== 'number' || !Number.isInteger(b))) {
          throw misuse('INVALID_ARGUMENT', `${this.id}.slice(start, end): bounds must be integers or undefined, got ${show(b)}.`, 'pass e.g. `slice(0, 3)`, or nothing for the whole array.');
        }
      }
    }
    return this.dataOp<R>(name, args);
  }

  /** @internal Known before the step runs: the cells touched, and the lock a synchronized access takes. */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    const out: Footprint[] = [];
    if (op.name === 'slice') {
      const [from, to] = this.sliceRange(op);
      for (let i = from; i < to; i++) out.push({ loc: this.loc(i), write: false });
    } else {
      const i = this.cellIndex(op);
      if (i !== null) out.push({ loc: this.loc(i), write: this.writes(op, i) });
    }
    // Whether this step can run depends on who holds the lock; it does not change it.
    if (this.sync !== null) out.push({ loc: this.sync.id, write: false });
    return out;
  }

  /** Whether `op` will write cell `i`: a compare-and-swap that is going to fail only reads. */
  private writes(op: Op<unknown>, i: number): boolean {
    switch (op.name) {
      case 'set':
      case 'exchange':
      case 'fetchAdd':
        return true;
      case 'update':
        return op.phase === 1;
      case 'compareAndSwap':
        return this.cells[i] === op.args[this.indexed ? 1 : 0];
      default:
        return false;
    }
  }

  /** @internal A synchronized access waits until this process could take the lock. */
  ready(op: Op<unknown>): boolean {
    return this.sync === null || this.sync.canTake(op.proc);
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    const p = op.proc;
    const off = this.indexed ? 1 : 0;
    switch (op.name) {
      case 'get': {
        const i = this.requireCell(op);
        const v = this.cells[i]!;
        this.access(p, i, 'read', v);
        return v;
      }
      case 'set': {
        const i = this.requireCell(op);
        const v = coerce(this.ctype, op.args[off], this.loc(i));
        this.cells[i] = v;
        this.access(p, i, 'write', v);
        return undefined;
      }
      case 'update': {
        const i = this.requireCell(op);
        if (op.phase === 0) {
          // Step 1, the read (`v.value` on the right of `+=`); the process computes
          // the new value right after it, before its next step.
          const old = this.cells[i]!;
          this.access(p, i, 'read', old);
          const next = (op.args[off] as (x: Scalar) => unknown)(old);
          if (isAsyncResult(next)) {
            throw misuse('INVALID_ARGUMENT', `${this.id}.update(): fn returned a promise or generator; it must compute the new value synchronously.`, 'pass a plain function such as `(x) => x + 1`; do any awaiting before or after the update.');
          }
          op.memo = next;
          return NEXT_PHASE;
        }
        // Step 2, the write, with whatever the value was read as: a write by another
        // process in between is overwritten (the lost update).
        const v = coerce(this.ctype, op.memo, this.loc(i));
        this.cells[i] = v;
        this.access(p, i, 'write', v);
        return v;
      }
      case 'compareAndSwap': {
        // One indivisible step, like Atomics.compareExchange: read, and write only on a match.
        const i = this.requireCell(op);
        const old = this.cells[i]!;
        this.kernel.access(p, this.id, this.loc(i), 'read', old, true);
        if (old !== op.args[off]) return false;
        const v = coerce(this.ctype, op.args[off + 1], this.loc(i));
        this.cells[i] = v;
        this.kernel.access(p, this.id, this.loc(i), 'write', v, true);
        return true;
      }
      case 'exchange':
      case 'fetchAdd': {
        const i = this.requireCell(op);
        const old = this.cells[i]!;
        const arg = op.args[off];
        const v = coerce(this.ctype, op.name === 'exchange' ? arg : (old as number) + (arg as number), this.loc(i));
        this.kernel.access(p, this.id, this.loc(i), 'read', old, true);
        this.cells[i] = v;
        this.kernel.access(p, this.id, this.loc(i), 'write', v, true);
        return old;
      }
      case 'slice': {
        const [from, to] = this.sliceRange(op);
        const out = this.cells.slice(from, to);
        for (let i = from; i < to; i++) this.access(p, i, 'read', this.cells[i]);
        return out;
      }
      default:
        throw new Error(`${this.id}: unknown operation ${op.name}`);
    }
  }

  /** @internal */
  override waitInfo(op: Op<unknown>): WaitInfo {
    const lock = this.sync!;
    const h = lock.holders();
    if (h.includes(op.proc.pid) && lock instanceof Lock) {
      return {
        waitsOn: `${this.id}.${op.name}() needs ${lock.id}, which ${op.proc.label} itself holds: a Lock is not re-entrant (use the default RLock, or access the value outside the with-block)`,
        heldBy: h,
      };
    }
    return { waitsOn: `${this.id}.${op.name}() needs ${lock.id}, held by ${h.map((pid) => this.kernel.labelOf(pid)).join(', ')}`, heldBy: h };
  }

  /** @internal Record the reads of a print of this object. */
  protected printed(): void {
    const p = this.kernel.printing;
    if (p !== null) for (let i = 0; i < this.cells.length; i++) this.access(p, i, 'read', this.cells[i]);
  }

  /** @internal The lock of a synchronized object (its subclasses always have one). */
  protected lockOf(): Lock | RLock {
    return this.sync!;
  }
}

// ---------------------------------------------------------------------- values

/** Operations of a single shared value; the raw and synchronized kinds add their own. */
abstract class ValueBase<T extends Scalar> extends SharedCells {
  /** Read the value: Python's `v.value` (one step). */
  get(): Op<T> {
    return this.accessOp('get', []);
  }
  /** Write the value: Python's `v.value = x` (one step). Raises TypeError for a value the typecode cannot hold. */
  set(value: T): Op<void> {
    return this.accessOp('set', [value]);
  }
  /**
   * Python's `v.value = fn(v.value)`, e.g. `v.value += 1`: **two steps**, a read then
   * a write, between which other processes run — so concurrent updates can be lost,
   * even on a synchronized Value, unless the process holds the lock around it.
   * Resolves to the value written.
   *
   * @example
   * ```ts
   * await v.update((x) => x + 1);                                   // racy, like v.value += 1
   * await v.withLock(async () => { await v.update((x) => x + 1); }); // safe
   * ```
   */
  update(fn: (value: T) => T): Op<T> {
    return this.accessOp('update', [fn]);
  }
  /**
   * Atomic compare-and-swap, beyond Python's vocabulary (as `Atomics.compareExchange`
   * on a SharedArrayBuffer): in ONE step, if the value is `expected` write
   * `replacement` and resolve to true; otherwise only read and resolve to false.
   *
   * @example
   * ```ts
   * while (!(yield* v.compareAndSwap(old, old + 1))) old = yield* v.get(); // a lock-free increment
   * ```
   */
  compareAndSwap(expected: T, replacement: T): Op<boolean> {
    return this.accessOp('compareAndSwap', [expected, replacement]);
  }
  /** Atomic exchange (as `Atomics.exchange`): write `value` and resolve to the old value, in one step. */
  exchange(value: T): Op<T> {
    return this.accessOp('exchange', [value]);
  }
  /** Atomic fetch-and-add (as `Atomics.add`): add `delta` and resolve to the old value, in one step. */
  fetchAdd(delta: number): Op<number> {
    return this.accessOp('fetchAdd', [delta]);
  }
}

/**
 * A value in shared memory without a lock, as `multiprocessing.RawValue(typecode,
 * init)` (or `Value(..., lock=False)`). Each `get` and `set` is one step; its
 * accesses are recorded as non-atomic, so they race.
 *
 * @example
 * ```ts
 * const v = mp.RawValue('i', 0);
 * await v.set(5);
 * await v.get(); // 5
 * ```
 */
export class RawValue<T extends Scalar = number> extends ValueBase<T> {
  /** @internal Use `mp.RawValue()` or `mp.Value(..., { lock: false })`. */
  constructor(kernel: Kernel, typecode: Typecode, value: Scalar) {
    super(kernel, 'RawValue', typecode, [value], null, false);
  }
  /** Python's repr: `c_int(5)`. */
  override toString(): string {
    this.printed();
    return ctypeRepr(this.ctype, this.cells[0]!);
  }
}

/**
 * A value in shared memory guarded by a lock, as `multiprocessing.Value(typecode,
 * init, lock=True)`. Each `get` and `set` takes the lock for its step, so it waits
 * while another process holds the lock; `update` (`+=`) is still two steps and can
 * lose updates unless the process holds the lock around it (`withLock`).
 *
 * @example
 * ```ts
 * const counter = mp.Value('i', 0);
 * await counter.withLock(async () => {
 *   await counter.update((x) => x + 1);
 * });
 * await print(await counter.get());
 * ```
 */
export class Value<T extends Scalar = number> extends ValueBase<T> {
  /** @internal Use `mp.Value()`. */
  constructor(kernel: Kernel, typecode: Typecode, value: Scalar, lock: Lock | RLock) {
    super(kernel, 'Value', typecode, [value], lock, false);
  }
  /** Python's `get_lock()`: the lock (an RLock unless one was given). */
  getLock(): Lock | RLock {
    return this.lockOf();
  }
  /** Acquire the lock, as Python's `v.acquire()`. */
  acquire(block = true, timeout?: number | null): Op<boolean> {
    return this.lockOf().acquire(block, timeout);
  }
  /** Release the lock, as Python's `v.release()`. */
  release(): Op<void> {
    return this.lockOf().release();
  }
  /** `with v.get_lock():` (or `with v:`) — see {@link Lock.withLock}. */
  withLock<R>(body: () => GenOf<R>): GenOf<R>;
  withLock<R>(body: () => Promise<R> | R): Promise<R>;
  withLock<R>(body: () => GenOf<R> | Promise<R> | R): GenOf<R> | Promise<R> {
    return this.lockOf().withLock(body as () => Promise<R>);
  }
  /** Python's repr: `<Synchronized wrapper for c_int(5)>`. */
  override toString(): string {
    this.printed();
    return `<Synchronized wrapper for ${ctypeRepr(this.ctype, this.cells[0]!)}>`;
  }
}

/** The initial value from Python's `*args`: zero (or NUL) when none is given. */
function initialValue(api: string, typecode: unknown, init: unknown): Scalar {
  const ct = ctypeOf(api, typecode);
  return init === undefined ? zeroOf(ct) : coerce(ct, init, api);
}

// ---------------------------------------------------------------------- arrays

/** Operations of a shared array; the raw and synchronized kinds add their own. */
abstract class ArrayBase<T extends Scalar> extends SharedCells {
  /** Number of cells, Python's `len(a)`: fixed at creation, so reading it is not a step. */
  get length(): number {
    return this.cells.length;
  }
  /** Read cell `i`: Python's `a[i]` (one step; negative `i` counts from the end). Raises IndexError out of range. */
  get(i: number): Op<T> {
    return this.accessOp('get', [i]);
  }
  /** Write cell `i`: Python's `a[i] = x` (one step). Raises IndexError or TypeError. */
  set(i: number, value: T): Op<void> {
    return this.accessOp('set', [i, value]);
  }
  /** Python's `a[i] = fn(a[i])`, e.g. `a[i] += 1`: **two steps**, see {@link Value.update}. Resolves to the value written. */
  update(i: number, fn: (value: T) => T): Op<T> {
    return this.accessOp('update', [i, fn]);
  }
  /** Atomic compare-and-swap on cell `i`, in one step: see {@link RawValue.compareAndSwap}. */
  compareAndSwap(i: number, expected: T, replacement: T): Op<boolean> {
    return this.accessOp('compareAndSwap', [i, expected, replacement]);
  }
  /** Atomic exchange on cell `i`: resolves to the old value. */
  exchange(i: number, value: T): Op<T> {
    return this.accessOp('exchange', [i, value]);
  }
  /** Atomic fetch-and-add on cell `i`: resolves to the old value. */
  fetchAdd(i: number, delta: number): Op<number> {
    return this.accessOp('fetchAdd', [i, delta]);
  }
  /**
   * Python's `a[start:end]`: a copy of the cells, read in ONE step (a synchronized
   * array holds its lock for the whole copy). Bounds are clamped; negative ones count
   * from the end. `slice()` reads every cell.
   */
  slice(start?: number, end?: number): Op<T[]> {
    return this.accessOp('slice', end === undefined ? (start === undefined ? [] : [start]) : [start, end]);
  }
}

/**
 * An array in shared memory without a lock, as `multiprocessing.RawArray(typecode,
 * sizeOrInit)` (or `Array(..., lock=False)`). Each cell access is one step.
 *
 * @example
 * ```ts
 * const a = mp.RawArray('i', 3);      // [0, 0, 0]
 * await a.set(0, 7);
 * await a.slice();                    // [7, 0, 0]
 * ```
 */
export class RawArray<T extends Scalar = number> extends ArrayBase<T> {
  /** @internal Use `mp.RawArray()` or `mp.Array(..., { lock: false })`. */
  constructor(kernel: Kernel, typecode: Typecode, cells: Scalar[]) {
    super(kernel, 'RawArray', typecode, cells, null, true);
  }
  /** Like Python's repr, without the address: `<c_int_Array_3 object>`. */
  override toString(): string {
    this.printed();
    return `<${this.ctype.name}_Array_${this.cells.length} object>`;
  }
}

/**
 * An array in shared memory guarded by a lock, as `multiprocessing.Array(typecode,
 * sizeOrInit, lock=True)`. Each cell access takes the lock for its step; `a[i] += 1`
 * (`update`) is two steps and needs `withLock` to be safe.
 *
 * @example
 * ```ts
 * const a = mp.Array('d', [0.5, 1.5]);
 * await a.withLock(async () => { await a.update(0, (x) => x * 2); });
 * a.length;           // 2
 * await a.get(-1);    // 1.5
 * ```
 */
export class SharedArray<T extends Scalar = number> extends ArrayBase<T> {
  /** @internal Use `mp.Array()`. */
  constructor(kernel: Kernel, typecode: Typecode, cells: Scalar[], lock: Lock | RLock) {
    super(kernel, 'Array', typecode, cells, lock, true);
  }
  /** Python's `get_lock()`. */
  getLock(): Lock | RLock {
    return this.lockOf();
  }
  /** Acquire the lock, as Python's `a.acquire()`. */
  acquire(block = true, timeout?: number | null): Op<boolean> {
    return this.lockOf().acquire(block, timeout);
  }
  /** Release the lock, as Python's `a.release()`. */
  release(): Op<void> {
    return this.lockOf().release();
  }
  /** `with a.get_lock():` — see {@link Lock.withLock}. */
  withLock<R>(body: () => GenOf<R>): GenOf<R>;
  withLock<R>(body: () => Promise<R> | R): Promise<R>;
  withLock<R>(body: () => GenOf<R> | Promise<R> | R): GenOf<R> | Promise<R> {
    return this.lockOf().withLock(body as () => Promise<R>);
  }
  /** Like Python's repr, without the address: `<SynchronizedArray wrapper for c_int_Array_3>`. */
  override toString(): string {
    this.printed();
    return `<SynchronizedArray wrapper for ${this.ctype.name}_Array_${this.cells.length}>`;
  }
}

/** Cells from Python's `size_or_initializer`: a size (zeros) or a sequence (a string for 'c'/'u'). */
function initialCells(api: string, typecode: unknown, init: unknown): Scalar[] {
  const ct = ctypeOf(api, typecode);
  if (typeof init === 'number' && Number.isInteger(init)) {
    if (init < 0) throw new ValueError(`Array length must be >= 0, not ${init}`);
    return new Array<Scalar>(init).fill(zeroOf(ct));
  }
  let items: readonly unknown[];
  if (Array.isArray(init)) items = init as readonly unknown[];
  else if (typeof init === 'string') items = [...init];
  else throw new PyTypeError(`object of type '${pyType(init)}' has no len() (${api}: pass a size or an array of initial values)`);
  return items.map((v, i) => coerce(ct, v, `${api}[${i}]`));
}

// ------------------------------------------------------------------- factories

/** `mp.Value`, `mp.Array`, `mp.RawValue`, `mp.RawArray`: part of the {@link Mp} module. */
export interface SharedCtypes {
  /**
   * `Value(typecode, init=0, lock=True)`: a shared value with a new RLock, the lock
   * given, or none (`{ lock: false }` returns a {@link RawValue}).
   *
   * @example
   * ```ts
   * const n = mp.Value('i', 0);
   * const raw = mp.Value('d', 1.5, { lock: false });
   * ```
   */
  Value<C extends Typecode>(typecode: C, init?: CValue<C>, options?: { readonly lock?: true | Lock | RLock }): Value<CValue<C>>;
  Value<C extends Typecode>(typecode: C, init: CValue<C> | undefined, options: { readonly lock: false }): RawValue<CValue<C>>;
  Value<C extends Typecode>(typecode: C, init?: CValue<C>, options?: SharedOptions): Value<CValue<C>> | RawValue<CValue<C>>;
  /** `RawValue(typecode, init=0)`: a shared value without a lock. */
  RawValue<C extends Typecode>(typecode: C, init?: CValue<C>): RawValue<CValue<C>>;
  /**
   * `Array(typecode, size_or_initializer, lock=True)`: a shared array of `n` zeros or
   * of the values given, with a lock (`{ lock: false }` returns a {@link RawArray}).
   *
   * @example
   * ```ts
   * const a = mp.Array('i', 5);              // five zeros
   * const b = mp.Array('i', [1, 2, 3]);
   * const c = mp.Array('c', 'hello');        // Python: Array('c', b'hello')
   * ```
   */
  Array<C extends Typecode>(typecode: C, sizeOrInit: ArrayInit<C>, options?: { readonly lock?: true | Lock | RLock }): SharedArray<CValue<C>>;
  Array<C extends Typecode>(typecode: C, sizeOrInit: ArrayInit<C>, options: { readonly lock: false }): RawArray<CValue<C>>;
  Array<C extends Typecode>(typecode: C, sizeOrInit: ArrayInit<C>, options?: SharedOptions): SharedArray<CValue<C>> | RawArray<CValue<C>>;
  /** `RawArray(typecode, size_or_initializer)`: a shared array without a lock. */
  RawArray<C extends Typecode>(typecode: C, sizeOrInit: ArrayInit<C>): RawArray<CValue<C>>;
}

/** @internal Build the shared-memory factories of one run's `mp` module. */
export function createSharedCtypes(k: Kernel, current: (api: string) => unknown): SharedCtypes {
  /** The lock a synchronized object uses, or null for a raw one. */
  const lockFor = (api: string, options: unknown): Lock | RLock | null => {
    if (options === undefined) return new RLock(k);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw misuse('INVALID_ARGUMENT', `${api}: options must be an object such as { lock: false }, got ${show(options)}.`, 'pass `{ lock: true }`, `{ lock: false }` or `{ lock: someLock }`, or nothing.');
    }
    for (const key of Object.keys(options)) {
      if (key !== 'lock') throw misuse('INVALID_ARGUMENT', `${api}: unknown option "${key}".`, 'the only option is `lock`.');
    }
    const lock = (options as { lock?: unknown }).lock;
    if (lock === undefined || lock === true) return new RLock(k);
    if (lock === false) return null;
    if (lock instanceof Lock || lock instanceof RLock) {
      if (lock.kernel !== k) {
        throw misuse('STALE_OBJECT', `${api}: the lock ${lock.id} belongs to another run.`, 'create the lock inside the program body, in the same run.');
      }
      return lock;
    }
    throw misuse('INVALID_ARGUMENT', `${api}: lock must be true, false, an mp.Lock() or an mp.RLock(), got ${show(lock)}.`, 'pass `{ lock: mp.Lock() }`, or omit it for a new RLock.');
  };

  return {
    Value: ((typecode: Typecode, init?: Scalar, options?: SharedOptions) => {
      current('mp.Value()');
      const v = initialValue('mp.Value()', typecode, init);
      const lock = lockFor('mp.Value(typecode, init, options)', options);
      return lock === null ? new RawValue(k, typecode, v) : new Value(k, typecode, v, lock);
    }) as SharedCtypes['Value'],
    RawValue: (typecode, init) => {
      current('mp.RawValue()');
      return new RawValue(k, typecode, initialValue('mp.RawValue()', typecode, init));
    },
    Array: ((typecode: Typecode, sizeOrInit: unknown, options?: SharedOptions) => {
      current('mp.Array()');
      const cells = initialCells('mp.Array()', typecode, sizeOrInit);
      const lock = lockFor('mp.Array(typecode, sizeOrInit, options)', options);
      return lock === null ? new RawArray(k, typecode, cells) : new SharedArray(k, typecode, cells, lock);
    }) as SharedCtypes['Array'],
    RawArray: (typecode, sizeOrInit) => {
      current('mp.RawArray()');
      return new RawArray(k, typecode, initialCells('mp.RawArray()', typecode, sizeOrInit));
    },
  };
}
