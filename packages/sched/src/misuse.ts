import { SimulationError, type SimulationErrorCode } from '@interleave/core';

/** A misuse error in the house style: the API and what went wrong, then what to do. */
export function misuse(code: SimulationErrorCode, api: string, what: string, fix: string): SimulationError {
  return new SimulationError(code, `${api}: ${what}\n  How to fix: ${fix}`);
}

/** A short description of a value the caller passed, for error messages. */
export function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (typeof x === 'function') return 'a function';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return `an object with keys ${JSON.stringify(Object.keys(x))}`;
  return `${typeof x} ${JSON.stringify(x)}`;
}
