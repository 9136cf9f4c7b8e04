/**
 * The cost of the race and lost-update monitors: kernel steps per second with them
 * on versus off. One figure per line, `name: value unit`.
 *
 * With the checkers "on" as `races()` and `lostUpdates()`, and as `accessChecks()`
 * (both in one pass, one set of vector clocks).
 *
 * Two workloads, both 4 generator processes looping over a shared Lock:
 * - `kernel`: the kernel bench's own (acquire, bump a plain counter, release): what
 *   the checkers pay for following synchronisation alone;
 * - `shared`: the counter in a RawValue (acquire, get, set, release), so every
 *   iteration also carries two traced accesses through FastTrack and the
 *   read-modify-write tracker.
 * "Off" is one no-op monitor that, like the checkers, opts out of block/wake/sleep
 * events (`blocking: false`): the kernel builds and delivers the same events either
 * way, and the difference is the checkers' own work.
 *
 * `checkers.all`: every checker a user attaches to a run as it is, without writing
 * a predicate or a model — {@link ALL}: `accessChecks()` (races and lost updates in
 * one pass), `lockOrder()`, `starvation()`, `processLeaks()`, `joinBeforeDrain()`
 * and `assertions()` — against no monitor at all (the kernel then builds no event),
 * on the `shared` workload; `access-ratio` and `rest-ratio` split it into
 * `accessChecks()` alone and the five others alone, `with-atomicity-ratio` the six and
 * `atomicity()` (implicit read-modify-writes; no declared blocks here); `kernel-ratio` is all six on the
 * kernel workload (locks, no shared data); `many-ratio` all six on a hundred processes
 * (the course's locked Manager counter, many short runs). Left out: `always`, `atEnd`,
 * `sometimes`, `reachable` and `linearizable`, which need the user's predicate or
 * model, and `races()`/`lostUpdates()`, which `accessChecks()` runs in one pass.
 *
 * Throughput is steps per second of CPU time, best of 7 alternating runs: the
 * project machine is shared, and wall-clock figures there swing by a factor of two.
 *
 * Run alone: `pnpm bench` compiles first (bench/build.ts); from source,
 * `node --import tsx bench/checkers.ts` (tsx's per-function helper makes the
 * monitors look slower than they are).
 */
import { program, runSync, type DictProxy, type Lock, type Monitor, type Program, type RawValue, type World } from '@interleave/core';
import { accessChecks, assertions, atomicity, joinBeforeDrain, lockOrder, lostUpdates, processLeaks, races, starvation } from '@interleave/checkers';
import { generatorCounter } from './kernel.js';

const PROCS = 4;
const noopMonitor: Monitor = { name: 'noop', blocking: false, onEvent() {} };

/** The checkers a user attaches to a run without a predicate or a model of their own. */
const ALL: readonly (() => Monitor)[] = [accessChecks, lockOrder, starvation, processLeaks, joinBeforeDrain, assertions];

function sharedWorkload(rounds: number): Program<number> {
  return program(function* ({ mp }: World) {
    function* worker(lock: Lock, v: RawValue) {
      for (let i = 0; i < rounds; i++) {
        yield* lock.acquire();
        const x = (yield* v.get());
        yield* v.set(x + 1);
        yield* lock.release();
      }
    }
    const lock = mp.Lock();
    const v = mp.RawValue('i', 0);
    const ps = [];
    for (let i = 0; i < PROCS; i++) ps.push(mp.Process({ target: worker, args: [lock, v] }));
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
    return (yield* v.get());
  });
}

/**
 * The course's Manager counter with the lock (examples/course/manager.ts, `locked`),
 * as generator processes: `PROCS_MANY` processes each take a Lock, decrement a
 * Manager dict's count, release; about five steps a process. Where the four-process
 * workloads keep vector clocks and per-process records small, this one has a hundred
 * of each.
 */
const PROCS_MANY = 100;
const manyProcesses: Program<number> = program(function* ({ mp }: World) {
  function* func(dic: DictProxy<string, number>, lock: Lock) {
    yield* lock.acquire();
    yield* dic.update('count', (v) => v - 1);
    yield* lock.release();
  }
  const lock = mp.Lock();
  const dic = mp.Manager().dict<string, number>({ count: PROCS_MANY });
  const ps = [];
  for (let i = 0; i < PROCS_MANY; i++) {
    const p = mp.Process({ target: func, args: [dic, lock] });
    ps.push(p);
    yield* p.start();
  }
  for (const p of ps) yield* p.join();
  return yield* dic.get('count');
});

/** Steps per CPU-second of `runs` short runs (seeds 0, 1, …), best of `reps`, alternating with and without the six. */
function compareMany(runs: number, reps: number): { none: number; all: number } {
  const batch = (monitors: () => Monitor[]): number => {
    const t0 = process.cpuUsage();
    let steps = 0;
    for (let seed = 0; seed < runs; seed++) steps += runSync(manyProcesses, { seed, monitors: monitors() }).steps;
    const t = process.cpuUsage(t0);
    return steps / ((t.user + t.system) / 1e6);
  };
  const best = { none: 0, all: 0 };
  for (let i = 0; i < reps; i++) {
    best.none = Math.max(best.none, batch(() => []));
    best.all = Math.max(best.all, batch(() => ALL.map((make) => make())));
  }
  return best;
}

function report(name: string, value: number, unit: string): void {
  console.log(`${name}: ${Math.round(value).toLocaleString('en-US').replace(/,/g, '_')} ${unit}`);
}

/** Steps per CPU-second of one run (CPU time: the machine may be shared, and other jobs' time is not ours). */
function once(prog: Program<number>, monitors: Monitor[]): number {
  const t0 = process.cpuUsage();
  const r = runSync(prog, { seed: 1, monitors, maxSteps: 10_000_000 });
  const t = process.cpuUsage(t0);
  if (r.status !== 'ok') throw new Error(`bench run ended ${r.status}: ${r.message}`);
  return r.steps / ((t.user + t.system) / 1e6);
}

/**
 * Best of `reps` runs with the checkers off, on as two monitors, and on as one
 * (`accessChecks`), alternating so that all see the same machine: steps per CPU-second.
 */
function compare(prog: Program<number>, reps: number): { off: number; on: number; one: number } {
  let off = 0;
  let on = 0;
  let one = 0;
  for (let i = 0; i < reps; i++) {
    off = Math.max(off, once(prog, [noopMonitor]));
    on = Math.max(on, once(prog, [races(), lostUpdates()]));
    one = Math.max(one, once(prog, [accessChecks()]));
  }
  return { off, on, one };
}

/**
 * Best of `reps` runs with no monitor, with {@link ALL}, with `accessChecks()` alone
 * and with the others alone, alternating: steps per CPU-second.
 */
function compareAll(prog: Program<number>, reps: number): { none: number; all: number; access: number; rest: number; atomicity: number } {
  const best = { none: 0, all: 0, access: 0, rest: 0, atomicity: 0 };
  for (let i = 0; i < reps; i++) {
    best.none = Math.max(best.none, once(prog, []));
    best.all = Math.max(best.all, once(prog, ALL.map((make) => make())));
    best.access = Math.max(best.access, once(prog, [accessChecks()]));
    best.rest = Math.max(best.rest, once(prog, ALL.slice(1).map((make) => make())));
    best.atomicity = Math.max(best.atomicity, once(prog, [...ALL.map((make) => make()), atomicity()]));
  }
  return best;
}

export function benchCheckers(): void {
  for (const [name, prog] of [
    ['kernel', generatorCounter(100_000)], // ≈ 800k steps per run
    ['shared', sharedWorkload(50_000)], // ≈ 800k steps per run
  ] as const) {
    compare(prog, 1); // warm-up, both paths
    const { off, on, one } = compare(prog, 7);
    report(`checkers.${name}.off`, off, 'steps/s');
    report(`checkers.${name}.on`, on, 'steps/s');
    report(`checkers.${name}.ratio`, (100 * on) / off, '%');
    report(`checkers.${name}.one-pass`, one, 'steps/s');
    report(`checkers.${name}.one-pass-ratio`, (100 * one) / off, '%');
  }
  const prog = sharedWorkload(50_000);
  compareAll(prog, 1); // warm-up, every path
  const { none, all, access, rest, atomicity: withAtomicity } = compareAll(prog, 7);
  report('checkers.all.none', none, 'steps/s');
  report('checkers.all.on', all, 'steps/s');
  report('checkers.all.ratio', (100 * all) / none, '%');
  report('checkers.all.access-ratio', (100 * access) / none, '%');
  report('checkers.all.rest-ratio', (100 * rest) / none, '%');
  report('checkers.all.with-atomicity-ratio', (100 * withAtomicity) / none, '%');
  // The kernel bench's own workload (locks, no shared data): what they cost a program
  // that synchronises but shares no memory, against no monitor at all again.
  const locks = compareAll(generatorCounter(100_000), 7);
  report('checkers.all.kernel-ratio', (100 * locks.all) / locks.none, '%');
  // A hundred processes (the course's Manager counter): clocks and records grow with them.
  compareMany(20, 1); // warm-up
  const many = compareMany(40, 7);
  report('checkers.all.many-none', many.none, 'steps/s');
  report('checkers.all.many-ratio', (100 * many.all) / many.none, `% (${PROCS_MANY} processes, the course's locked Manager counter)`);
}

if (import.meta.url === `file://${process.argv[1]}`) benchCheckers();
