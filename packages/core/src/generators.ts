import { misuse } from './errors.js';
import { Op } from './op.js';

/** @internal A generator process's body or helper, returning R. */
export type GenOf<R> = Generator<Op<unknown>, R, unknown>;

/** %GeneratorPrototype%: every generator object has it two links up its prototype chain. */
const GENERATOR_PROTOTYPE: unknown = Object.getPrototypeOf(function* () {}.prototype);
/** %GeneratorFunction.prototype%: the prototype of every generator function. */
const GENERATOR_FUNCTION_PROTOTYPE: unknown = Object.getPrototypeOf(function* () {});

/**
 * Whether `v` is a generator object (what calling a `function*` returns). Two
 * prototype reads rather than a `Symbol.toStringTag` lookup, which walks the chain:
 * the kernel asks at every process start.
 */
export function isGeneratorObject<R>(v: unknown): v is GenOf<R> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto !== null && Object.getPrototypeOf(proto) === GENERATOR_PROTOTYPE;
}

/** Whether `f` is a generator function (`function* () {}`). */
export function isGeneratorFunction(f: unknown): boolean {
  return typeof f === 'function' && Object.getPrototypeOf(f) === GENERATOR_FUNCTION_PROTOTYPE;
}

/**
 * @internal How an API that runs a body for the calling process (`withLock`,
 * `atomic`) must run it: as a generator when the process is a generator (it will
 * `yield*` the result, whatever the body looks like) or the body is a generator
 * function; else as an async function. A generator function from an async process
 * would come back unrun (awaiting a generator object yields it as a value): misuse.
 */
export function bodyStyle(api: string, body: unknown, callerIsGenerator: boolean | null): 'generator' | 'async' {
  if (callerIsGenerator === true) return 'generator';
  if (!isGeneratorFunction(body)) return 'async';
  if (callerIsGenerator === null) return 'generator';
  throw misuse(
    'INVALID_ARGUMENT',
    `${api}: body is a generator function, but the calling process is async and cannot run it (awaiting the generator would skip the body).`,
    'pass an async function (`async () => { ... }`) from an async process, or write the process as a generator function and `yield*` the call.',
  );
}

/**
 * @internal What a body run for a generator process (`withLock`, `atomic`,
 * `pool.using`) gave back, as that process receives it: a generator is delegated to,
 * one operation (`() => v.get()`) performed, a plain value returned. A promise
 * cannot be awaited there: misuse, named after `api`.
 */
export function* bodyResult<R>(api: string, r: unknown): GenOf<R> {
  if (isGeneratorObject<R>(r)) return yield* r;
  if (r instanceof Op) return (yield* r) as R;
  if (typeof (r as { then?: unknown } | null)?.then === 'function') {
    throw misuse(
      'INVALID_ARGUMENT',
      `${api}: body returned a promise in a generator process, which cannot await it.`,
      'pass a generator function (`function* () { ... }`) and use `yield*` inside it.',
    );
  }
  return r as R;
}
