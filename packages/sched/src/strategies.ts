import { createRng, randomStrategy, type ProcessView, type RunResult, type Strategy } from '@interleave/core';
import { DporSearch, SleepBlocked, type ExhaustiveOptions } from './dpor.js';
import { roundRobinStrategy } from './baseline.js';

/** What one execution of an exploration runs with. */
export interface Execution {
  readonly strategy: Strategy;
  /**
   * The run's seed: the program's `random` streams (and the schedule, for random).
   * Omitted: the seed given in the exploration's run options.
   */
  readonly seed?: string | number;
}

/**
 * A way of choosing many executions of one program: the explorer asks for the next
 * one until the budget runs out or the source is exhausted (`null`).
 */
export interface ExplorationStrategy {
  readonly name: string;
  /** Execution number `index` (0-based), or null when there is nothing left to run. */
  next(index: number): Execution | null;
  /** Told how each execution ended, before `next` is asked again. */
  finished?(result: RunResult): void;
  /** True once every execution there is has been run (exhaustive strategies only). */
  readonly complete?: boolean;
  /** Executions dropped as redundant and alternatives cut by a bound (exhaustive only). */
  readonly pruned?: { readonly redundant: number; readonly byBound: number };
  /**
   * Restrict this strategy to shard `index` of `count` (the explorer calls it for the
   * `shard` option). Seeded strategies are sharded by the explorer instead.
   */
  shard?(index: number, count: number): void;
  /** A preemption or delay bound limits what "complete" means (exhaustive only). */
  readonly bounded?: boolean;
  /** Whether a failed run is an artefact of the strategy, not of the program. */
  isArtefact?(result: RunResult): boolean;
}

/** Options shared by the seeded strategies. */
export interface SeededOptions {
  /** First seed; execution i uses seed + i (numbers) or `${seed}/${i}` (strings). Default 0. */
  readonly seed?: string | number;
}

function seedOf(base: string | number, i: number): string | number {
  return typeof base === 'number' ? base + i : `${base}/${i}`;
}

/**
 * Uniformly random schedules, one seed per execution: a failure found at seed S is
 * reproduced by `run(program, { seed: S })`.
 *
 * When to use: the default for hunting; cheap, finds most shallow bugs.
 */
export function random(options: SeededOptions = {}): ExplorationStrategy {
  const base = options.seed ?? 0;
  return {
    name: 'random',
    next: (i) => {
      const seed = seedOf(base, i);
      return { seed, strategy: randomStrategy(seed) };
    },
  };
}

/** Options of {@link pct}. */
export interface PctOptions extends SeededOptions {
  /** Bug depth d: d − 1 priority change points per execution. Default 3. */
  readonly depth?: number;
  /** Initial guess of the number of steps per execution; refined from the runs. Default 100. */
  readonly steps?: number;
}

/**
 * Probabilistic Concurrency Testing (Burckhardt, Kothari, Musuvathi, Nagarakatte,
 * ASPLOS 2010): each process gets a random distinct priority, the highest-priority
 * runnable process always runs, and at d − 1 random steps the running process drops
 * to a priority below all others. A bug of depth d is found with probability at
 * least 1/(n·k^(d−1)) per execution for n processes and k steps; k is learned as
 * the longest execution seen so far.
 *
 * When to use: bugs that need a few specific preemptions (ordering bugs, atomicity
 * violations) that uniform random scheduling rarely hits.
 */
export function pct(options: PctOptions = {}): ExplorationStrategy {
  const base = options.seed ?? 0;
  const depth = options.depth ?? 3;
  // The guess is used until a run shows the real length; then k is the longest seen.
  let k = options.steps ?? 100;
  let learned = false;
  return {
    name: `pct(depth ${depth})`,
    next: (i) => {
      const seed = seedOf(base, i);
      return { seed, strategy: pctStrategy(seed, depth, k) };
    },
    finished: (r) => {
      k = learned ? Math.max(k, r.steps) : r.steps;
      learned = true;
    },
  };
}

function pctStrategy(seed: string | number, depth: number, steps: number): Strategy {
  const rng = createRng(`${seed}\u0000pct`);
  const change: number[] = [];
  for (let i = 0; i < depth - 1; i++) change.push(1 + rng.below(Math.max(1, steps)));
  change.sort((a, b) => a - b);
  let nextChange = 0;
  const priority = new Map<number, number>();
  const top = (enabled: readonly ProcessView[]): number => {
    let best = 0;
    for (let i = 1; i < enabled.length; i++) {
      if (priority.get(enabled[i]!.pid)! > priority.get(enabled[best]!.pid)!) best = i;
    }
    return best;
  };
  return {
    name: `pct(${JSON.stringify(seed)}, depth ${depth})`,
    choose(enabled, ctx) {
      // New processes get random priorities above the d − 1 reserved low ones.
      for (const p of enabled) if (!priority.has(p.pid)) priority.set(p.pid, depth + rng.next());
      let best = top(enabled);
      while (nextChange < change.length && change[nextChange]! <= ctx.step) {
        priority.set(enabled[best]!.pid, depth - 1 - nextChange);
        nextChange++;
        best = top(enabled);
      }
      return best;
    },
  };
}

/**
 * Every execution up to partial-order equivalence: stateless depth-first search with
 * dynamic partial-order reduction — optimal DPOR (wakeup trees) by default, one
 * execution per Mazurkiewicz trace; source DPOR (source sets and sleep sets) under a
 * preemption or delay bound, or with `reduction: 'source'`. When it completes, every
 * distinct interleaving of dependent operations has been run once — the basis of a
 * proof that a property holds in all of them.
 *
 * When to use: small programs (a few processes, a few operations each), to prove a
 * fix or to list every reachable outcome. Use `timing: 'untimed'` so sleeps do not
 * hide orders.
 *
 * @example
 * ```ts
 * const r = await explore(prog, { strategy: exhaustive(), run: { timing: 'untimed' } });
 * const s = await explore(prog, { strategy: exhaustive({ reduction: 'source' }), run: { timing: 'untimed' } });
 * r.executions === s.executions; // one per Mazurkiewicz trace, both
 * s.stats.redundant;               // runs source DPOR abandoned half-way; r's is 0 unless steps wait
 * ```
 */
export function exhaustive(options: ExhaustiveOptions = {}): ExplorationStrategy {
  const search = new DporSearch(options);
  const bounds = [
    ...(options.preemptionBound === undefined ? [] : [`preemptions ≤ ${options.preemptionBound}`]),
    ...(options.delayBound === undefined ? [] : [`delays ≤ ${options.delayBound}`]),
  ];
  const kind = search.reduction === 'none' ? 'exhaustive-no-reduction' : search.reduction === 'source' && bounds.length === 0 ? 'exhaustive-source' : 'exhaustive';
  const name = kind + (bounds.length > 0 ? `(${bounds.join(', ')})` : '');
  return new ExhaustiveExploration(name, search, bounds.length > 0);
}

/**
 * `exhaustive()`'s exploration. A class, so `complete` and `pruned` are prototype
 * getters: getters in an object literal are closures V8 keeps in the hidden class,
 * which holds every exploration (and its last run) until a full GC, a cost that
 * `check` in a property test loop pays once per input.
 */
class ExhaustiveExploration implements ExplorationStrategy {
  readonly bounded: boolean;

  constructor(
    readonly name: string,
    private readonly search: DporSearch,
    bounded: boolean,
  ) {
    this.bounded = bounded;
  }

  next(): Execution | null {
    const strategy = this.search.next();
    return strategy === null ? null : { strategy };
  }

  finished(): void {
    this.search.finish();
  }

  get complete(): boolean {
    return this.search.complete;
  }

  get pruned(): { readonly redundant: number; readonly byBound: number } {
    return { redundant: this.search.sleepBlocked, byBound: this.search.boundPruned };
  }

  isArtefact(r: RunResult): boolean {
    // A run can end asleep without throwing: a forced last step by a sleeping process.
    const s = this.search;
    return s.skipped || s.lastWasRedundant || (r.status === 'error' && r.error instanceof SleepBlocked);
  }

  shard(index: number, count: number): void {
    this.search.setShard(index, count);
  }
}

/** The non-preemptive round-robin baseline, as a one-execution exploration. */
export function roundRobin(): ExplorationStrategy {
  return {
    name: 'round-robin',
    next: (i) => (i === 0 ? { strategy: roundRobinStrategy() } : null),
    complete: false,
  };
}
