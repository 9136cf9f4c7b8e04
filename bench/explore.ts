/**
 * Exploration throughput and bug-finding figures. Each figure is one line `name: value unit`.
 */
import { program, type Event, type Op, type Program, type Queue, type World } from '@interleave/core';
import { check, exhaustive, explore, exploreParallel, job, pct, random, type ExplorationStrategy } from '@interleave/sched';

function report(name: string, value: number, unit: string, digits = 0): void {
  console.log(`${name}: ${value.toFixed(digits).replace(/\B(?=(\d{3})+(?!\d))/g, '_')} ${unit}`);
}

type EventWorker = (ev: Event) => Generator<Op<unknown>, void, unknown>;

/** Three processes running `worker` on one Event: every pair of operations conflicts. */
function threeOnOneEvent(name: string, worker: EventWorker): Program {
  return program(
    function* ({ mp }: World) {
      const e = mp.Event();
      for (let i = 0; i < 3; i++) yield* mp.Process({ target: worker, args: [e] }).start();
    },
    { name },
  );
}

function* setCheckClear(ev: Event): Generator<Op<unknown>, void, unknown> {
  yield* ev.set();
  yield* ev.isSet();
  yield* ev.clear();
}

/** 3 processes, 3 operations each. */
const threeByThree = threeOnOneEvent('bench/3x3', setCheckClear);

export async function benchExplore(): Promise<void> {
  // Warm up the JIT: short explorations are dominated by compilation otherwise.
  for (let i = 0; i < 10; i++) await explore(threeByThree, { strategy: exhaustive(), run: { timing: 'untimed' } });
  // One exploration takes ~20 ms: take the best of many, by CPU time (the project
  // machine is shared, and other jobs' time is not ours).
  let best = 0;
  let executions = 0;
  for (let i = 0; i < 30; i++) {
    const t0 = process.cpuUsage();
    const r = await explore(threeByThree, { strategy: exhaustive(), run: { timing: 'untimed' } });
    const t = process.cpuUsage(t0);
    if (!r.complete) throw new Error('bench/3x3 did not complete');
    executions = r.executions;
    best = Math.max(best, r.executions / ((t.user + t.system) / 1e6));
  }
  report('explore.exhaustive', best, `executions/s of CPU time (3 processes x 3 ops, ${executions} executions, best of 30)`);
  await benchLongExecution();
}

/**
 * Exhaustive search over long executions: daemon workers busy-wait on `q.empty()`
 * for the items the main process puts, and depth-first search keeps the first
 * spinner running, so the second execution runs to `maxSteps` with every step a
 * choice among five processes. The race analysis and the states kept for
 * backtracking must cost per step, not per step squared.
 */
async function benchLongExecution(): Promise<void> {
  const maxSteps = 200_000;
  const spin = program(
    function* ({ mp }: World) {
      const q = mp.Queue<number>();
      function* consumer(queue: Queue<number>): Generator<Op<unknown>, void, unknown> {
        for (;;) if (!(yield* queue.empty())) yield* queue.get();
      }
      for (let i = 0; i < 4; i++) yield* mp.Process({ target: consumer, args: [q], daemon: true }).start();
      for (let i = 0; i < 3; i++) yield* q.put(i);
    },
    { name: 'bench/busy-wait' },
  );
  const t0 = process.cpuUsage();
  const r = await explore(spin, { strategy: exhaustive(), run: { timing: 'untimed', maxSteps }, budget: { executions: 2 }, shrink: false });
  const t = process.cpuUsage(t0);
  if (r.stats.steps < maxSteps) throw new Error('bench/busy-wait: no execution ran to maxSteps');
  report('explore.exhaustive.long', r.stats.steps / ((t.user + t.system) / 1e6), `steps/s of CPU time (2 executions, ${r.stats.steps} steps, one busy-waiting to maxSteps)`);
}

/**
 * A bug of depth 2 (Burckhardt et al.'s shape): B must run all `k` of its checks
 * between two consecutive operations of A (A sets a flag, then clears it). Random
 * scheduling needs about k coin flips in a row to go B's way; PCT needs one
 * priority change at the right step.
 */
function narrowWindow(k: number) {
  return program(
    function* ({ mp }: World) {
      const flag = mp.Event();
      function* a(f: Event): Generator<Op<unknown>, void, unknown> {
        yield* f.set();
        yield* f.clear();
      }
      let seen = 0;
      function* b(f: Event): Generator<Op<unknown>, void, unknown> {
        for (let i = 0; i < k; i++) if (yield* f.isSet()) seen++;
      }
      const ps = [mp.Process({ target: a, args: [flag] }), mp.Process({ target: b, args: [flag] })];
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return seen < k;
    },
    { name: `bench/narrow-window-${k}` },
  );
}

/** Mean number of executions until the first failure, over `trials` independent hunts. */
async function meanToFailure(make: (trial: number) => ExplorationStrategy, k: number, trials: number): Promise<number> {
  let total = 0;
  for (let t = 0; t < trials; t++) {
    const r = await check(narrowWindow(k), { strategy: make(t), property: (x) => x.status === 'ok' && x.value === true, run: { timing: 'untimed' }, budget: { executions: 100_000 }, shrink: false });
    if (r.passed) throw new Error('bug not found within budget');
    total += r.executions;
  }
  return total / trials;
}

export async function benchBugFinding(): Promise<void> {
  const k = 10;
  const trials = 40;
  const unit = `schedules (mean to first failure over ${trials} hunts; B must run ${k} steps inside A's window)`;
  report('random.depth2', await meanToFailure((t) => random({ seed: t * 100_003 }), k, trials), unit, 1);
  report('pct.depth2', await meanToFailure((t) => pct({ depth: 2, seed: t * 100_003 }), k, trials), unit, 1);
}

/** 3 processes, 4 operations each. */
const threeByFour = threeOnOneEvent('bench/3x4', function* (ev) {
  yield* setCheckClear(ev);
  yield* ev.isSet();
});

/**
 * The job the parallel figure's workers load from this module. Random schedules split
 * evenly across workers; an exhaustive split can be lopsided (docs/exploration.md).
 */
export const threeByFourJob = job(threeByFour, () => ({ strategy: random(), run: { timing: 'untimed' }, budget: { executions: 200_000 } }));

export async function benchParallel(): Promise<void> {
  const workers = 2;
  const one = await explore(threeByFour, threeByFourJob.options());
  const many = await exploreParallel(new URL(import.meta.url), 'threeByFourJob', { workers });
  if (many.executions !== one.executions || many.outcomes.length !== one.outcomes.length) throw new Error('bench/3x4: the parallel exploration differs from the single-thread one');
  const what = `random schedules, 3 processes x 4 ops, ${many.executions} executions`;
  report('explore.parallel', many.stats.executionsPerSecond, `executions/s (${workers} workers, start-up included; ${what})`);
  report('explore.parallel.one-thread', one.stats.executionsPerSecond, 'executions/s (the same exploration in one thread)');
}
