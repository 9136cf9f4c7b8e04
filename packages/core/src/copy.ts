import { SimObject } from './op.js';

/**
 * What crossing a process boundary does to a value in Python: it is pickled and
 * unpickled, so the receiver gets a copy. Plain data (arrays, plain objects, Map,
 * Set, Date) is copied deeply, keeping class prototypes; simulated objects (locks,
 * queues, connections, proxies) and functions travel by reference, as handles do.
 * Shared sub-objects stay shared within one copy, and cycles are preserved.
 */
export function deepCopy<T>(value: T): T {
  // Primitives, most of what crosses a boundary, need neither a copy nor the table of
  // objects already copied.
  if (typeof value !== 'object' || value === null || value instanceof SimObject) return value;
  return copyInto(value, new Map()) as T;
}

function copyInto(v: unknown, seen: Map<object, unknown>): unknown {
  if (typeof v !== 'object' || v === null || v instanceof SimObject) return v;
  const done = seen.get(v);
  if (done !== undefined) return done;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const x of v) out.push(copyInto(x, seen));
    return out;
  }
  if (v instanceof Map) {
    const out = new Map<unknown, unknown>();
    seen.set(v, out);
    for (const [k, x] of v) out.set(copyInto(k, seen), copyInto(x, seen));
    return out;
  }
  if (v instanceof Set) {
    const out = new Set<unknown>();
    seen.set(v, out);
    for (const x of v) out.add(copyInto(x, seen));
    return out;
  }
  if (v instanceof Date) return new Date(v.getTime());
  if (v instanceof Error) {
    // An exception pickles with its message: `message` and `stack` are not enumerable.
    const out = Object.create(Object.getPrototypeOf(v) as object | null) as Record<string, unknown>;
    seen.set(v, out);
    for (const k of ['message', 'stack'] as const) {
      if (Object.prototype.hasOwnProperty.call(v, k)) Object.defineProperty(out, k, { value: v[k], writable: true, configurable: true, enumerable: false });
    }
    for (const k of Object.keys(v)) out[k] = copyInto((v as unknown as Record<string, unknown>)[k], seen);
    return out;
  }
  if (ArrayBuffer.isView(v)) return (v as unknown as { slice(): unknown }).slice();
  const out = Object.create(Object.getPrototypeOf(v) as object | null) as Record<string, unknown>;
  seen.set(v, out);
  for (const k of Object.keys(v)) out[k] = copyInto((v as Record<string, unknown>)[k], seen);
  return out;
}
