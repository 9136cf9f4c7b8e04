import seedrandom from 'seedrandom';

/**
 * The one wrapper around seedrandom. Every random draw in a run — the schedule,
 * each process's `random` module, the patched `Math.random` — comes from an
 * {@link Rng} built here from a string seed, so a run is a pure function of its seed.
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  below(n: number): number;
}

/** Alea: fast, good enough for scheduling, and identical on every platform. */
export function createRng(seed: string): Rng {
  const draw = seedrandom.alea(seed);
  return {
    next: () => draw(),
    below: (n: number) => Math.floor(draw() * n),
  };
}

/** Derive a sub-seed so independent streams (schedule, pid 1001, ...) never overlap. */
export function subSeed(seed: string, purpose: string): string {
  return `${seed}\u0000${purpose}`;
}
