/**
 * Sequential models: the specification a history is checked against. A model is a
 * pure step function from a state and an invocation to the next state and the
 * output the operation should have, plus optional hashing, equality and a partition
 * function (P-compositionality). Built-in models cover a register, a key-value
 * store, a FIFO queue, a stack, a counter and a set.
 */
import { SimulationError } from '@interleave/core';
import { Raised, raised, show, type Invocation } from './history.js';

/**
 * The result of applying one operation to a state.
 *
 * - `ok: false`: the operation cannot take effect in this state at all (a blocking
 *   dequeue on an empty queue, a precondition). `why` says so in reports.
 * - `ok: true` with `output`: it takes effect and must have returned `output`
 *   (compared with what it did return by `equalOutput`, default structural).
 * - `ok: true` without an `output` property: it takes effect whatever it returned
 *   (a write whose return value does not matter), as long as it did not raise.
 */
export interface StepResult<S> {
  readonly ok: boolean;
  readonly state: S;
  readonly output?: unknown;
  readonly why?: string;
}

/**
 * A sequential specification. `step` must be pure: it may not modify `state`.
 *
 * @example
 * ```ts
 * // A register holding a number; reads must see the last write.
 * const reg: Model<number> = {
 *   name: 'register',
 *   init: () => 0,
 *   step: (s, { op, args }) => (op === 'write' ? { ok: true, state: args[0] as number } : { ok: true, state: s, output: s }),
 * };
 * checkLinearizability(history, reg).verdict; // 'linearizable' | 'not-linearizable' | 'unknown'
 * ```
 */
export interface Model<S = unknown> {
  /** Shown in reports, e.g. `queue`. */
  readonly name: string;
  /** The initial state. */
  init(): S;
  /**
   * Apply `input` to `state`. `output` is what the operation actually returned (a
   * {@link Raised} if it raised; undefined for a pending operation): models of
   * nondeterministic objects may use it to choose among allowed outcomes.
   */
  step(state: S, input: Invocation, output: unknown): StepResult<S>;
  /** A hash of a state, consistent with `equal`; speeds up memoisation. Default: a canonical serialisation. */
  hash?(state: S): number | string;
  /** State equality. Default: structural (arrays, plain objects, Map, Set). */
  equal?(a: S, b: S): boolean;
  /**
   * P-compositionality: the partition an operation belongs to (a key-value store's
   * key). When every operation has one, each partition is checked on its own — a
   * history is linearizable iff every partition is. Return undefined for an
   * operation that touches everything (`size()`): the history is then checked whole.
   */
  partition?(input: Invocation): string | number | undefined;
  /** A state for reports, e.g. `[1, 2]`. Default: JSON. */
  describe?(state: S): string;
  /** Compare the expected output with the observed one. Default: {@link outputsEqual}. */
  equalOutput?(expected: unknown, actual: unknown): boolean;
}

/** What an operation returning nothing (or anything) steps to: no output to compare. */
function to<S>(state: S): StepResult<S> {
  return { ok: true, state };
}
function out<S>(state: S, output: unknown): StepResult<S> {
  return { ok: true, state, output };
}

function unknownOp(model: string, input: Invocation, known: readonly string[]): SimulationError {
  return new SimulationError(
    'INVALID_ARGUMENT',
    `linearizability: the ${model} model has no operation ${input.op}(); it knows ${known.join(', ')}.\n` +
      '  How to fix: name the recorded methods as the model does, or write a model for this object (see docs/checkers.md).',
  );
}

/** What a dequeue or pop does on an empty container. */
export type EmptyBehaviour =
  /** It returns this value (e.g. `null`, `undefined`, `-1`). */
  | { readonly returns: unknown }
  /** It raises this exception, e.g. `Empty` (the course's `getNowait()`). */
  | { readonly raises: string }
  /** It waits until there is an element: it cannot take effect while empty. */
  | 'blocks';

function onEmpty<S>(state: S, empty: EmptyBehaviour, what: string): StepResult<S> {
  if (empty === 'blocks') return { ok: false, state, why: `the ${what} is empty, so it would still be waiting` };
  return 'raises' in empty ? out(state, raised(empty.raises)) : out(state, empty.returns);
}

// ------------------------------------------------------------------ register

/**
 * A single read/write register. Operations: `read()`/`get()` → the value;
 * `write(v)`/`set(v)`; `cas(expected, update)`/`compareAndSet` → whether it swapped.
 *
 * @example
 * ```ts
 * checkLinearizability(history, registerModel(0));
 * ```
 */
export function registerModel<T = unknown>(initial: T | null = null): Model<T | null> {
  const ops = ['read', 'get', 'write', 'set', 'cas', 'compareAndSet'];
  return {
    name: 'register',
    init: () => initial,
    step(s, input) {
      switch (input.op) {
        case 'read':
        case 'get':
          return out(s, s);
        case 'write':
        case 'set':
          return to(input.args[0] as T);
        case 'cas':
        case 'compareAndSet':
          return outputsEqual(s, input.args[0]) ? out(input.args[1] as T, true) : out(s, false);
        default:
          throw unknownOp('register', input, ops);
      }
    },
    hash: (s) => canonical(s),
    equal: (a, b) => outputsEqual(a, b),
  };
}

// ------------------------------------------------------------------ key-value

/** Options of {@link kvModel}. */
export interface KvOptions {
  /** What `get` of a missing key returns. Default `null` (Python's `d.get(k)`). */
  readonly missing?: unknown;
  /** Partition by key (P-compositionality). Default true. */
  readonly partition?: boolean;
}

/**
 * A key-value store's state: canonical key → value, never mutated. It carries its
 * hash, updated per write, so a store of many keys is not re-serialised at every
 * step of an unpartitioned search.
 */
export class KvState {
  /** Canonical key (see {@link canonical}) → value. */
  readonly entries: ReadonlyMap<string, unknown>;
  /** XOR of the entries' hashes: equal stores have equal hashes. */
  readonly hash: number;
  constructor(entries: ReadonlyMap<string, unknown> = new Map(), hash = 0) {
    this.entries = entries;
    this.hash = hash;
  }
  has(key: string): boolean {
    return this.entries.has(key);
  }
  get(key: string): unknown {
    return this.entries.get(key);
  }
  with(key: string, value: unknown): KvState {
    const m = new Map(this.entries);
    const old = this.entries.has(key) ? entryHash(key, this.entries.get(key)) : 0;
    m.set(key, value);
    return new KvState(m, (this.hash ^ old ^ entryHash(key, value)) >>> 0);
  }
  without(key: string): KvState {
    if (!this.entries.has(key)) return this;
    const m = new Map(this.entries);
    m.delete(key);
    return new KvState(m, (this.hash ^ entryHash(key, this.entries.get(key))) >>> 0);
  }
  equals(other: KvState): boolean {
    if (this === other) return true;
    if (this.hash !== other.hash || this.entries.size !== other.entries.size) return false;
    for (const [k, v] of this.entries) if (!other.entries.has(k) || !deepEqual(v, other.entries.get(k))) return false;
    return true;
  }
  /** `{"x": 1, "y": 2}`, keys sorted. */
  toString(): string {
    return `{${[...this.entries.keys()]
      .sort()
      .map((k) => `${k}: ${show(this.entries.get(k))}`)
      .join(', ')}}`;
  }
  toJSON(): Record<string, unknown> {
    return Object.fromEntries([...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

function entryHash(key: string, value: unknown): number {
  return fnv(`${key}\u0000${canonical(value)}`);
}

/**
 * A key-value store, partitioned by key. Operations: `get(k)` → value (or
 * `missing`); `put(k, v)`/`set(k, v)`; `delete(k)`/`del(k)`; `has(k)`/`contains(k)` →
 * boolean; `cas(k, expected, update)` → whether it swapped; `append(k, s)` (string
 * or list append, as Jepsen's etcd tests); `incr(k, by = 1)` → the new value.
 *
 * @example
 * ```ts
 * const r = checkLinearizability(history, kvModel());   // each key checked on its own
 * ```
 */
export function kvModel(options: KvOptions = {}): Model<KvState> {
  const missing = 'missing' in options ? options.missing : null;
  const ops = ['get', 'put', 'set', 'delete', 'del', 'has', 'contains', 'cas', 'append', 'incr'];
  const model: Model<KvState> = {
    name: 'kv',
    init: () => new KvState(),
    step(s, input) {
      const k = canonical(input.args[0]);
      const has = s.has(k);
      const cur = has ? s.get(k) : missing;
      switch (input.op) {
        case 'get':
          return out(s, cur);
        case 'put':
        case 'set':
          return to(s.with(k, input.args[1]));
        case 'delete':
        case 'del':
          return to(s.without(k));
        case 'has':
        case 'contains':
          return out(s, has);
        case 'cas':
          return outputsEqual(cur, input.args[1]) ? out(s.with(k, input.args[2]), true) : out(s, false);
        case 'append': {
          const v = input.args[1];
          const next = Array.isArray(cur) ? [...(cur as unknown[]), v] : typeof cur === 'string' ? cur + String(v) : cur === missing ? (typeof v === 'string' ? v : [v]) : [cur, v];
          return to(s.with(k, next));
        }
        case 'incr': {
          const by = (input.args[1] as number | undefined) ?? 1;
          const v = (typeof cur === 'number' ? cur : 0) + by;
          return out(s.with(k, v), v);
        }
        default:
          throw unknownOp('kv', input, ops);
      }
    },
    hash: (s) => s.hash,
    equal: (a, b) => a.equals(b),
    describe: (s) => s.toString(),
  };
  if (options.partition !== false) return { ...model, partition: (input) => canonical(input.args[0]) };
  return model;
}

// ---------------------------------------------------------------------- queue

/** Options of {@link queueModel} and {@link stackModel}. */
export interface ContainerOptions {
  /** What a dequeue (pop) does when empty. Default `{ returns: null }`. */
  readonly empty?: EmptyBehaviour;
  /** With a capacity, an enqueue on a full container waits (cannot take effect). */
  readonly capacity?: number;
}

/**
 * A queue's or a stack's contents, never mutated: a window `[start, end)` of a
 * buffer shared with the states it was derived from. Appending where the buffer
 * ends pushes in place (no other state can see past its own end), so a step costs
 * O(1) rather than a copy of the contents; the state carries a polynomial hash of
 * its contents, updated per step. With arrays copied and re-serialised at every
 * step, checking an unpartitioned queue history was quadratic: 16,000 operations
 * took 33 s and 2.7 GB.
 */
export class SequenceState {
  private constructor(
    /** The shared buffer, and each element's hash beside it. */
    private readonly items: unknown[],
    private readonly hashes: number[],
    private readonly start: number,
    private readonly end: number,
    /** `Σ hash(x_i) · B^i` over the window, mod 2^32: equal contents, equal hashes. */
    readonly hash: number,
    /** `B^size`, mod 2^32. */
    private readonly pow: number,
  ) {}

  /** An empty sequence with a buffer of its own: a shared one would keep every check's elements. */
  static empty(): SequenceState {
    return new SequenceState([], [], 0, 0, 0, 1);
  }

  get size(): number {
    return this.end - this.start;
  }

  /** The oldest element (a queue's next); undefined when empty. */
  first(): unknown {
    return this.end > this.start ? this.items[this.start] : undefined;
  }

  /** The newest element (a stack's top); undefined when empty. */
  last(): unknown {
    return this.end > this.start ? this.items[this.end - 1] : undefined;
  }

  append(x: unknown): SequenceState {
    let items = this.items;
    let hashes = this.hashes;
    let start = this.start;
    if (items.length !== this.end) {
      // Another state appended here first: this branch gets a buffer of its own.
      items = items.slice(start, this.end);
      hashes = hashes.slice(start, this.end);
      start = 0;
    }
    const h = fnv(canonical(x));
    items.push(x);
    hashes.push(h);
    return new SequenceState(items, hashes, start, items.length, (this.hash + Math.imul(h, this.pow)) >>> 0, Math.imul(this.pow, BASE));
  }

  dropFirst(): SequenceState {
    this.requireElement('dropFirst');
    const h = this.hashes[this.start]!;
    return new SequenceState(this.items, this.hashes, this.start + 1, this.end, Math.imul((this.hash - h) | 0, BASE_INVERSE) >>> 0, Math.imul(this.pow, BASE_INVERSE));
  }

  dropLast(): SequenceState {
    this.requireElement('dropLast');
    const pow = Math.imul(this.pow, BASE_INVERSE);
    return new SequenceState(this.items, this.hashes, this.start, this.end - 1, (this.hash - Math.imul(this.hashes[this.end - 1]!, pow)) >>> 0, pow);
  }

  private requireElement(api: string): void {
    if (this.end > this.start) return;
    throw new SimulationError(
      'INVALID_ARGUMENT',
      `SequenceState.${api}(): the sequence is empty, there is nothing to drop.\n  How to fix: check \`size\` first, as queueModel() and stackModel() do (their \`empty\` option says what an empty container does).`,
    );
  }

  /** Equal contents, element by element as {@link canonical} tells them apart. */
  equals(other: SequenceState): boolean {
    if (this === other) return true;
    const n = this.size;
    if (n !== other.size || this.hash !== other.hash) return false;
    if (this.items === other.items && this.start === other.start) return true;
    for (let i = 0; i < n; i++) {
      const a = this.items[this.start + i];
      const b = other.items[other.start + i];
      if (a !== b && (this.hashes[this.start + i] !== other.hashes[other.start + i] || canonical(a) !== canonical(b))) return false;
    }
    return true;
  }

  /** The contents, oldest first. */
  toArray(): unknown[] {
    return this.items.slice(this.start, this.end);
  }

  toJSON(): unknown[] {
    return this.toArray();
  }

  /** `[1, 2]`, oldest first. */
  toString(): string {
    return show(this.toArray());
  }
}

/** The polynomial hash's base (odd, so invertible mod 2^32) and its inverse. */
const BASE = 0x01000193;
const BASE_INVERSE = inverse32(BASE);

/** `x⁻¹ mod 2^32` for odd `x`, by Newton's iteration (each doubles the correct low bits). */
function inverse32(x: number): number {
  let y = x;
  for (let i = 0; i < 5; i++) y = Math.imul(y, 2 - Math.imul(x, y));
  return y;
}

/** @internal FNV-1a, 32 bits. */
export function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** What a queue and a stack share: the state, its hash and equality, how reports show it. */
const SEQUENCE = {
  init: (): SequenceState => SequenceState.empty(),
  hash: (s: SequenceState): number => s.hash,
  equal: (a: SequenceState, b: SequenceState): boolean => a.equals(b),
  describe: (s: SequenceState): string => s.toString(),
};

/**
 * A FIFO queue. Operations: `put(x)`/`enqueue(x)`/`offer(x)`/`putNowait(x)`;
 * `get()`/`dequeue()`/`poll()`/`take()`/`getNowait()` → the oldest element (or the
 * `empty` behaviour); `peek()`; `size()`/`qsize()`/`len()` → length; `empty()`/`isEmpty()`.
 * The state is a {@link SequenceState} (`toArray()`: oldest first).
 *
 * @example
 * ```ts
 * checkLinearizability(history, queueModel());                                // dequeue on empty returns null
 * checkLinearizability(history, queueModel({ empty: { raises: 'Empty' } }));  // the course's getNowait()
 * ```
 */
export function queueModel(options: ContainerOptions = {}): Model<SequenceState> {
  const empty = options.empty ?? { returns: null };
  const capacity = options.capacity ?? Infinity;
  const ops = ['put', 'enqueue', 'offer', 'putNowait', 'get', 'dequeue', 'poll', 'take', 'getNowait', 'peek', 'size', 'qsize', 'len', 'empty', 'isEmpty'];
  return {
    name: 'queue',
    ...SEQUENCE,
    step(s, input) {
      switch (input.op) {
        case 'put':
        case 'enqueue':
        case 'offer':
        case 'putNowait':
          if (s.size >= capacity) return { ok: false, state: s, why: 'the queue is full, so it would still be waiting' };
          return to(s.append(input.args[0]));
        case 'get':
        case 'dequeue':
        case 'poll':
        case 'take':
        case 'getNowait':
          return s.size === 0 ? onEmpty(s, empty, 'queue') : out(s.dropFirst(), s.first());
        case 'peek':
          return s.size === 0 ? onEmpty(s, empty, 'queue') : out(s, s.first());
        case 'size':
        case 'qsize':
        case 'len':
          return out(s, s.size);
        case 'empty':
        case 'isEmpty':
          return out(s, s.size === 0);
        default:
          throw unknownOp('queue', input, ops);
      }
    },
  };
}

// ---------------------------------------------------------------------- stack

/**
 * A LIFO stack. Operations: `push(x)`; `pop()` → the newest element (or the
 * `empty` behaviour); `peek()`/`top()`; `size()`/`len()`; `empty()`/`isEmpty()`.
 * The state is a {@link SequenceState} (`toArray()`: bottom first).
 *
 * @example
 * ```ts
 * checkLinearizability(history, stackModel({ empty: { returns: undefined } }));
 * ```
 */
export function stackModel(options: ContainerOptions = {}): Model<SequenceState> {
  const empty = options.empty ?? { returns: null };
  const capacity = options.capacity ?? Infinity;
  const ops = ['push', 'pop', 'peek', 'top', 'size', 'len', 'empty', 'isEmpty'];
  return {
    name: 'stack',
    ...SEQUENCE,
    step(s, input) {
      switch (input.op) {
        case 'push':
          if (s.size >= capacity) return { ok: false, state: s, why: 'the stack is full, so it would still be waiting' };
          return to(s.append(input.args[0]));
        case 'pop':
          return s.size === 0 ? onEmpty(s, empty, 'stack') : out(s.dropLast(), s.last());
        case 'peek':
        case 'top':
          return s.size === 0 ? onEmpty(s, empty, 'stack') : out(s, s.last());
        case 'size':
        case 'len':
          return out(s, s.size);
        case 'empty':
        case 'isEmpty':
          return out(s, s.size === 0);
        default:
          throw unknownOp('stack', input, ops);
      }
    },
  };
}

// -------------------------------------------------------------------- counter

/** Options of {@link counterModel}. */
export interface CounterOptions {
  /** Initial value. Default 0. */
  readonly initial?: number;
  /**
   * What `inc`/`dec`/`add` return: the value after (`new`, Java's
   * `incrementAndGet`, Lincheck's counter), before (`old`, `getAndIncrement`), or
   * nothing that matters (`none`). Default `new`.
   */
  readonly returns?: 'new' | 'old' | 'none';
}

/**
 * A counter. Operations: `inc()`/`increment()`, `dec()`/`decrement()`, `add(n)` —
 * returning per `returns` — `get()`/`read()`/`value()` → the count, `set(n)`/`reset(n = 0)`.
 *
 * @example
 * ```ts
 * // Lincheck's classic: two concurrent inc() both returning 1 is not linearizable.
 * checkLinearizability(history, counterModel());
 * ```
 */
export function counterModel(options: CounterOptions = {}): Model<number> {
  const initial = options.initial ?? 0;
  const returns = options.returns ?? 'new';
  const ops = ['inc', 'increment', 'dec', 'decrement', 'add', 'get', 'read', 'value', 'set', 'reset'];
  const change = (s: number, by: number): StepResult<number> => {
    const v = s + by;
    return returns === 'none' ? to(v) : out(v, returns === 'new' ? v : s);
  };
  return {
    name: 'counter',
    init: () => initial,
    step(s, input) {
      switch (input.op) {
        case 'inc':
        case 'increment':
          return change(s, 1);
        case 'dec':
        case 'decrement':
          return change(s, -1);
        case 'add':
          return change(s, (input.args[0] as number | undefined) ?? 1);
        case 'get':
        case 'read':
        case 'value':
          return out(s, s);
        case 'set':
        case 'reset':
          return to((input.args[0] as number | undefined) ?? 0);
        default:
          throw unknownOp('counter', input, ops);
      }
    },
    hash: (s) => s,
    equal: (a, b) => a === b,
  };
}

// ------------------------------------------------------------------------ set

/** A set's state: canonical element → present. Never mutated. */
export type SetState = Readonly<Record<string, true>>;

/**
 * A set, partitioned by element. Operations: `add(x)` and `remove(x)`/`delete(x)`/
 * `discard(x)` (return values not compared), `has(x)`/`contains(x)` → boolean.
 *
 * @example
 * ```ts
 * checkLinearizability(history, setModel());
 * ```
 */
export function setModel(): Model<SetState> {
  const ops = ['add', 'remove', 'delete', 'discard', 'has', 'contains'];
  return {
    name: 'set',
    init: () => ({}),
    step(s, input) {
      const k = canonical(input.args[0]);
      const has = Object.prototype.hasOwnProperty.call(s, k);
      switch (input.op) {
        case 'add':
          return to(has ? s : { ...s, [k]: true as const });
        case 'remove':
        case 'delete':
        case 'discard': {
          if (!has) return to(s);
          const next = { ...s };
          delete next[k];
          return to(next);
        }
        case 'has':
        case 'contains':
          return out(s, has);
        default:
          throw unknownOp('set', input, ops);
      }
    },
    hash: (s) => canonical(s),
    equal: sameCanonical,
    partition: (input) => canonical(input.args[0]),
    describe: (s) => `{${Object.keys(s).sort().join(', ')}}`,
  };
}

// ------------------------------------------------------------------ equality

/** States are immutable: remember each one's canonical form. */
const canonicalMemo = new WeakMap<object, string>();
function memoCanonical(v: object): string {
  let c = canonicalMemo.get(v);
  if (c === undefined) canonicalMemo.set(v, (c = canonical(v)));
  return c;
}
function sameCanonical(a: object, b: object): boolean {
  return a === b || memoCanonical(a) === memoCanonical(b);
}

/**
 * The default output comparison: structural equality, where an expected
 * {@link Raised} matches an observed one of the same name (and message, if the
 * expected one gives it). `-0` equals `0`; `NaN` equals `NaN`.
 */
export function outputsEqual(expected: unknown, actual: unknown): boolean {
  if (expected instanceof Raised || actual instanceof Raised) {
    if (!(expected instanceof Raised) || !(actual instanceof Raised)) return false;
    return expected.name === actual.name && (expected.message === undefined || expected.message === actual.message);
  }
  return deepEqual(expected, actual);
}

/** Structural equality over primitives, arrays, plain objects, Map and Set. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (a instanceof Map || b instanceof Map || a instanceof Set || b instanceof Set) return canonical(a) === canonical(b);
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * A canonical serialisation: equal structures give equal strings (object keys and
 * Set/Map entries sorted), so it serves as a key for states and partitions.
 */
export function canonical(v: unknown): string {
  switch (typeof v) {
    case 'undefined':
      return 'u';
    case 'number':
      return Object.is(v, -0) ? '0' : String(v);
    case 'bigint':
      return `${v}n`;
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'symbol':
      return v.toString();
    case 'function':
      return `[Function ${v.name}]`;
    default:
      break;
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v instanceof Raised) return `!${v.toString()}`;
  if (v instanceof Map) return `Map{${[...v].map(([k, x]) => `${canonical(k)}:${canonical(x)}`).sort().join(',')}}`;
  if (v instanceof Set) return `Set{${[...v].map(canonical).sort().join(',')}}`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}
