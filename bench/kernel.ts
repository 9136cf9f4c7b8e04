/**
 * Kernel throughput and memory. Each figure is one line `name: value unit`.
 *
 * The workload is the issue's: 4 processes each taking a Lock, updating a shared
 * counter and releasing, with event delivery to one no-op monitor switched on.
 */
import { program, runSync, run, type Lock, type Monitor, type Program, type World } from '@interleave/core';

const noopMonitor: Monitor = { name: 'noop', onEvent() {} };
const PROCS = 4;

/** The kernel workload: 4 generator processes looping acquire, bump a counter, release (the checkers bench reuses it). */
export function generatorCounter(rounds: number, probe?: () => void): Program<number> {
  return program(function* ({ mp }: World) {
    const state = { counter: 0 };
    function* worker(lock: Lock) {
      for (let i = 0; i < rounds; i++) {
        yield* lock.acquire();
        state.counter++;
        yield* lock.release();
        if (probe !== undefined && (i & 0xffff) === 0) probe();
      }
    }
    const lock = mp.Lock();
    const ps = [];
    for (let i = 0; i < PROCS; i++) ps.push(mp.Process({ target: worker, args: [lock] }));
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
    return state.counter;
  });
}

function asyncCounter(rounds: number): Program<number> {
  return program(async ({ mp }: World) => {
    const state = { counter: 0 };
    async function worker(lock: Lock): Promise<void> {
      for (let i = 0; i < rounds; i++) {
        await lock.acquire();
        state.counter++;
        await lock.release();
      }
    }
    const lock = mp.Lock();
    const ps = [];
    for (let i = 0; i < PROCS; i++) ps.push(mp.Process({ target: worker, args: [lock] }));
    for (const p of ps) await p.start();
    for (const p of ps) await p.join();
    return state.counter;
  });
}

function report(name: string, value: number, unit: string): void {
  console.log(`${name}: ${Math.round(value).toLocaleString('en-US').replace(/,/g, '_')} ${unit}`);
}

/** Best of `reps` timed runs, in steps per second. */
async function throughput(make: () => Promise<{ steps: number }>, reps: number): Promise<number> {
  let best = 0;
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    const r = await make();
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.max(best, r.steps / secs);
  }
  return best;
}

export async function benchKernel(): Promise<void> {
  const rounds = 100_000; // 4 x 100k x 2 ops ≈ 800k steps per run
  const gen = generatorCounter(rounds);
  const opts = { seed: 1, monitors: [noopMonitor], maxSteps: 10_000_000 };
  runSync(gen, opts); // warm-up
  report('kernel.generator', await throughput(() => Promise.resolve(runSync(gen, opts)), 5), 'steps/s');

  const asy = asyncCounter(rounds / 4);
  await run(asy, opts); // warm-up
  report('kernel.async', await throughput(() => run(asy, opts), 5), 'steps/s');

  report('kernel.memory', memoryGrowth(), 'MB');
}

/**
 * Peak growth of the live heap (measured after a forced GC at regular points) over a
 * 10-million-step generator run without trace or monitors. Needs --expose-gc.
 */
function memoryGrowth(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('kernel.memory needs node --expose-gc (pnpm bench passes it)');
  gc();
  const base = liveBytes();
  let peak = 0;
  const probe = (): void => {
    gc();
    peak = Math.max(peak, liveBytes() - base);
  };
  const steps = 10_000_000;
  const r = runSync(generatorCounter(steps / (2 * PROCS), probe), { seed: 2, maxSteps: steps + 100 });
  if (r.status !== 'ok') throw new Error(`memory run ended ${r.status}`);
  probe();
  return peak / 2 ** 20;
}

/** JS heap plus the array buffers the heap points to (schedules live in one). */
function liveBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
