/**
 * Mazurkiewicz traces, computed independently of the search: record every step of
 * every execution an exploration counts (process, its k-th step, the operation and
 * the locations it touches), and name each execution by its Foata normal form.
 * Two executions are the same trace exactly when their Foata forms are equal.
 *
 * The dependency relation is the one documented for exhaustive exploration: two
 * steps of different processes are dependent when they share a location and one
 * writes it; every step of a process reads its handle and its last step writes it.
 */
import type { Footprint, ProcessView } from '@interleave/core';
import type { ExplorationStrategy } from '../src/index.js';

interface Recorded {
  readonly pid: number;
  readonly label: string;
  readonly locs: Footprint[];
}

/** An exploration strategy that also names every counted execution by its trace. */
export interface TraceRecorder {
  readonly strategy: ExplorationStrategy;
  /** One Foata form per counted execution, in exploration order. */
  readonly traces: readonly string[];
  /** The steps of each counted execution, as `pid#k` labels in execution order. */
  readonly runs: readonly string[];
}

/** Wrap `source`: same executions, each counted one recorded as a trace. */
export function recordTraces(source: ExplorationStrategy): TraceRecorder {
  const traces: string[] = [];
  const runs: string[] = [];
  let steps: Recorded[] = [];
  let counts = new Map<number, number>();
  const strategy: ExplorationStrategy = {
    name: source.name,
    next: (index) => {
      const exec = source.next(index);
      if (exec === null) return null;
      steps = [];
      counts = new Map();
      const inner = exec.strategy.observer;
      const observer = {
        beforeStep: (p: ProcessView, op: Parameters<NonNullable<typeof inner>['beforeStep']>[1]): void => {
          inner?.beforeStep(p, op);
          const k = (counts.get(p.pid) ?? 0) + 1;
          counts.set(p.pid, k);
          steps.push({ pid: p.pid, label: `${p.pid}#${k} ${op.toString()}`, locs: [{ loc: p.handleId, write: false }, ...op.footprint()] });
        },
        ended: (p: ProcessView): void => {
          inner?.ended(p);
          steps[steps.length - 1]?.locs.push({ loc: p.handleId, write: true });
        },
      };
      return { ...exec, strategy: { ...exec.strategy, choose: exec.strategy.choose.bind(exec.strategy), observer } };
    },
    finished: (result) => {
      source.finished?.(result);
      if (source.isArtefact?.(result) !== true) {
        traces.push(foata(steps));
        runs.push(steps.map((s) => s.label).join('; '));
      }
    },
    get complete() {
      return source.complete === true;
    },
    get pruned() {
      return source.pruned ?? { redundant: 0, byBound: 0 };
    },
    isArtefact: (r) => source.isArtefact?.(r) === true,
  };
  return { strategy, traces, runs };
}

/** The Foata normal form: steps grouped by their depth in the dependency order, each group sorted. */
export function foata(steps: readonly Recorded[]): string {
  const level: number[] = [];
  for (let k = 0; k < steps.length; k++) {
    let l = 0;
    for (let m = 0; m < k; m++) if (level[m]! >= l && (steps[m]!.pid === steps[k]!.pid || conflict(steps[m]!.locs, steps[k]!.locs))) l = level[m]! + 1;
    level.push(l);
  }
  const groups: string[][] = [];
  for (let k = 0; k < steps.length; k++) (groups[level[k]!] ??= []).push(`${steps[k]!.label} ${describe(steps[k]!.locs)}`);
  return groups.map((g) => g.sort().join(' | ')).join('\n');
}

function conflict(a: readonly Footprint[], b: readonly Footprint[]): boolean {
  for (const x of a) for (const y of b) if (x.loc === y.loc && (x.write || y.write)) return true;
  return false;
}

function describe(locs: readonly Footprint[]): string {
  return locs.map((f) => `${f.write ? 'w' : 'r'}:${f.loc}`).join(',');
}
