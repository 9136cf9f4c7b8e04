/**
 * The same lost-update scenario under fast-check's `fc.scheduler()` and under
 * Interleave (both async style): two workers each read a shared counter and write
 * it back minus one. Wall time until the first failing schedule, per seed, no
 * shrinking on either side; the figure is the ratio of the means (theirs / ours).
 */
import fc from 'fast-check';
import { program, type DictProxy, type World } from '@interleave/core';
import { check, random } from '@interleave/sched';

const WORKERS = 2;

async function fastCheckTime(seed: number): Promise<number> {
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
      return count === 0;
    }),
    { seed, numRuns: 10_000, endOnFailure: true },
  );
  if (!out.failed) throw new Error('fast-check did not find the lost update');
  return performance.now() - t0;
}

const counter = program(
  async ({ mp }: World) => {
    const d = mp.Manager().dict<string, number>({ count: WORKERS });
    const worker = async (dic: DictProxy<string, number>): Promise<void> => {
      await dic.update('count', (v) => v - 1); // read, then write: two steps
    };
    const ps = Array.from({ length: WORKERS }, () => mp.Process({ target: worker, args: [d] }));
    for (const p of ps) await p.start();
    for (const p of ps) await p.join();
    return d.get('count');
  },
  { name: 'bench/lost-update' },
);

async function interleaveTime(seed: number): Promise<number> {
  const t0 = performance.now();
  const r = await check(counter, {
    strategy: random({ seed }),
    property: (x) => x.status === 'ok' && x.value === 0,
    run: { timing: 'untimed' },
    shrink: false,
    budget: { executions: 10_000 },
  });
  if (r.passed) throw new Error('Interleave did not find the lost update');
  return performance.now() - t0;
}

export async function benchVsFastCheck(): Promise<void> {
  const seeds = Array.from({ length: 200 }, (_, i) => 1 + i * 7919);
  for (const s of seeds.slice(0, 20)) {
    await fastCheckTime(s);
    await interleaveTime(s);
  }
  let theirs = 0;
  let ours = 0;
  for (const s of seeds) {
    theirs += await fastCheckTime(s);
    ours += await interleaveTime(s);
  }
  console.log(`vs-fast-check.first-failure: ${(theirs / ours).toFixed(2)} x (fast-check ${(theirs / seeds.length).toFixed(3)} ms, Interleave ${(ours / seeds.length).toFixed(3)} ms mean per hunt, ${seeds.length} seeds)`);
}
