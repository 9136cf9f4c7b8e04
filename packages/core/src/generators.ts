import type { Op } from './op.js';

type GenOf<R> = Generator<Op<unknown>, R, unknown>;

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
