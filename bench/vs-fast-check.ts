/**
 * The same lost-update scenario under fast-check's `fc.scheduler()` and under
 * Interleave (both async style): two workers each read a shared counter and write
 * it back minus one. Wall time from the start of the hunt until the property first
 * sees a failing schedule, per seed, no shrinking on either side (what each tool does
 * after that — fast-check's report, Interleave's traced re-run and replay token — is
 * not timed); the figure is the ratio of the means (theirs / ours), with medians.
 */
import fc from 'fast-check';
import { program, type DictProxy, type World } from '@interleave/core';
import { check, random } from '@interleave/sched';

const WORKERS = 2;

async function fastCheckTime(seed: number): Promise<number> {
  let found = 0;
  const t0 = performance.now();
  const out = await fc.check(
    fc.asyncProperty(fc.scheduler(), async (s) => {
      let count = WORKERS;
      const read = s.scheduleFunction(function read() {
        return Promise.resolve(count);
      });
      const write = s.scheduleFunction(function write(v: number) {
        count = v;
        return Promise.resolve();
      });
      const worker = async (): Promise<void> => {
        const v = await read();
        await write(v - 1);
      };
      const all = Promise.all(Array.from({ length: WORKERS }, worker));
      await s.waitAll();
      await all;
      if (count !== 0 && found === 0) found = performance.now();
      return count === 0;
    }),
    { seed, numRuns: 10_000, endOnFailure: true },
  );
  if (!out.failed) throw new Error('fast-check did not find the lost update');
  return found - t0;
}

async function worker(dic: DictProxy<string, number>): Promise<void> {
  await dic.update('count', (v) => v - 1); // read, then write: two steps
}

const counter = program(
  async ({ mp }: World) => {
    const d = mp.Manager().dict<string, number>({ count: WORKERS });
    const ps = Array.from({ length: WORKERS }, () => mp.Process({ target: worker, args: [d] }));
    for (const p of ps) await p.start();
    for (const p of ps) await p.join();
    return d.get('count');
  },
  { name: 'bench/lost-update' },
);

async function interleaveTime(seed: number): Promise<number> {
  let found = 0;
  const t0 = performance.now();
  const r = await check(counter, {
    strategy: random({ seed }),
    property: (x) => {
      const ok = x.status === 'ok' && x.value === 0;
      if (!ok && found === 0) found = performance.now();
      return ok;
    },
    run: { timing: 'untimed' },
    shrink: false,
    budget: { executions: 10_000 },
  });
  if (r.passed) throw new Error('Interleave did not find the lost update');
  return found - t0;
}

export async function benchVsFastCheck(): Promise<void> {
  const seeds = Array.from({ length: 400 }, (_, i) => 1 + i * 7919);
  // Warm both JITs on seeds that are not measured.
  for (const s of seeds) {
    await fastCheckTime(s + 1);
    await interleaveTime(s + 1);
  }
  const theirs: number[] = [];
  const ours: number[] = [];
  for (const s of seeds) {
    theirs.push(await fastCheckTime(s));
    ours.push(await interleaveTime(s));
  }
  const ratio = mean(theirs) / mean(ours);
  console.log(
    `vs-fast-check.first-failure: ${ratio.toFixed(2)} x (mean per hunt: fast-check ${mean(theirs).toFixed(3)} ms, Interleave ${mean(ours).toFixed(3)} ms; ` +
      `median ${median(theirs).toFixed(3)} ms vs ${median(ours).toFixed(3)} ms; ${seeds.length} seeds)`,
  );
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
