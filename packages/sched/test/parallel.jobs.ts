/** Jobs for parallel.test.ts: a module, because worker threads load jobs by module. */
import { isMainThread, workerData } from 'node:worker_threads';
import { program, type DictProxy, type Op, type Program, type RunResult, type World } from '@interleave/core';
import { exhaustive, job, random } from '../src/index.js';

/** n processes each doing `d['count'] -= 1` (two steps) on a Manager dict; returns the final count. */
export function counter(n: number): Program<number> {
  return program(
    function* ({ mp }: World) {
      const d = mp.Manager().dict<string, number>({ count: n });
      function* work(dic: DictProxy<string, number>): Generator<Op<unknown>, void, unknown> {
        yield* dic.update('count', (v) => v - 1);
      }
      const ps = Array.from({ length: n }, () => mp.Process({ target: work, args: [d] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return yield* d.get('count');
    },
    { name: `parallel-counter-${n}` },
  );
}

export const toZero = (r: RunResult<number>): boolean | string => (r.status === 'ok' && r.value === 0) || 'an update was lost';
const untimed = { timing: 'untimed' } as const;

export const survey = job(counter(3), () => ({ strategy: exhaustive({ splitDepth: 2 }), run: untimed }));
export const hunt = job(counter(3), () => ({ strategy: random({ seed: 11 }), property: toZero, run: untimed, budget: { executions: 60 } }));

/**
 * A hunt with a budget no one would wait for: it ends only if workers stop each other
 * at the failure, which this seed first meets at execution 23 (three of four updates lost).
 */
export const longHunt = job(counter(4), () => ({
  strategy: random({ seed: 11 }),
  property: (r: RunResult<number>) => (r.status === 'ok' && r.value !== 3) || 'three updates were lost',
  run: untimed,
  budget: { executions: 1e9 },
}));
export const exhaustiveHunt = job(counter(3), () => ({ strategy: exhaustive({ splitDepth: 2 }), property: toZero, run: untimed }));

export const notAJob = { program: 'counter-3', options: {} };
export const throwsInOptions = job(counter(2), () => {
  throw new Error('options exploded');
});
export const exits = job(counter(2), () => {
  if (!isMainThread) process.exit(3);
  return {};
});
export const setsShard = job(counter(2), () => ({ shard: { index: 0, count: 2 } }));
export const optionsNotAnObject = job(counter(2), () => 42 as never);
export const misusesSimulator = job(
  program(function* () {
    yield 5 as never;
  }),
);
/** Shard 1 fails at once; shard 0 would run for hours unless it is stopped. */
export const oneShardBreaks = job(counter(3), () => {
  if ((workerData as { index?: number } | null)?.index === 1) throw new Error('shard 1 broke');
  return { strategy: random(), run: untimed, budget: { executions: 1e9 } };
});
