import type { Kernel } from './kernel.js';

/** Undo what {@link installGlobals} did. */
export type RestoreGlobals = () => void;

/** The kernel whose clock and random streams the patched globals read. */
let kernel: Kernel | null = null;

const RealDate = globalThis.Date;
const realRandom = Math.random;
const perf = globalThis.performance;
const ownPerfNow = Object.prototype.hasOwnProperty.call(perf, 'now');
// eslint-disable-next-line @typescript-eslint/unbound-method -- kept only to be put back on `perf`
const realPerfNow = perf.now;

function virtualMs(): number {
  return kernel === null ? realPerfNow.call(perf) : Math.round(kernel.now * 1e6) / 1e3;
}

function simRandom(): number {
  return kernel === null ? realRandom() : kernel.rngOf(kernel.current).next();
}

/** A Date whose "now" is virtual; every other form of the constructor is untouched. */
function SimDate(this: unknown, ...args: unknown[]): Date | string {
  if (!new.target) return new RealDate(virtualMs()).toString();
  return args.length === 0 ? new RealDate(virtualMs()) : new (RealDate as unknown as new (...a: unknown[]) => Date)(...args);
}
SimDate.prototype = RealDate.prototype;
SimDate.now = virtualMs;
SimDate.parse = RealDate.parse;
SimDate.UTC = RealDate.UTC;

function restore(): void {
  kernel = null;
  Math.random = realRandom;
  globalThis.Date = RealDate;
  if (ownPerfNow) perf.now = realPerfNow;
  else delete (perf as { now?: unknown }).now;
}

/**
 * Route the ambient sources of nondeterminism to the simulation for the length of
 * a run, so library code a process calls stays reproducible:
 * - `Math.random()` draws from the running process's seeded stream;
 * - `Date.now()`, `new Date()` and `performance.now()` read the virtual clock
 *   (milliseconds; `Date` starts at the Unix epoch).
 * Real timers are not patched: awaiting one is detected as awaiting the outside world.
 * The replacements are built once; a run only swaps them in and out.
 */
export function installGlobals(k: Kernel): RestoreGlobals {
  kernel = k;
  Math.random = simRandom;
  globalThis.Date = SimDate as unknown as DateConstructor;
  perf.now = virtualMs;
  return restore;
}
