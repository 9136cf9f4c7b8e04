import { misuse } from './errors.js';

/**
 * Argument checks shared by the primitives. Bad arguments are simulator misuse
 * (a SimulationError naming the API), except where Python itself defines the error.
 */

/** `timeout` in virtual seconds: undefined/null for none, else a finite number (negative counts as 0, as in Python). */
export function timeoutArg(api: string, timeout: number | null | undefined): number | undefined {
  if (timeout === undefined || timeout === null) return undefined;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
    throw misuse('INVALID_ARGUMENT', `${api}: timeout must be a number of virtual seconds or undefined, got ${show(timeout)}.`, 'pass e.g. `0.5`, or omit it to wait forever.');
  }
  return Math.max(0, timeout);
}

/** Deadline for a blocking call issued at `now`: immediate when not blocking, `Infinity` when no timeout. */
export function deadlineOf(now: number, block: boolean, timeout: number | undefined): number {
  if (!block) return now;
  return timeout === undefined ? Infinity : now + timeout;
}

export function boolArg(api: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') {
    throw misuse('INVALID_ARGUMENT', `${api}: ${name} must be a boolean, got ${show(v)}.`, `pass true or false for ${name}.`);
  }
  return v;
}

export function intArg(api: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw misuse('INVALID_ARGUMENT', `${api}: ${name} must be an integer >= ${min}, got ${show(v)}.`, `pass a whole number of at least ${min}.`);
  }
  return v;
}

export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && v !== null) return 'an object';
  return String(v);
}
