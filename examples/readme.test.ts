/** The README's examples, run as written (keeps the front page true). */
import { describe, expect, it } from 'vitest';
import { program, run, type DictProxy, type RunResult } from '@interleave/core';
import { check, exhaustive, random, replay } from '@interleave/sched';

const counter = (n: number, locked: boolean) =>
  program(
    async ({ mp, print }) => {
      const lock = mp.Lock();
      async function func(dic: DictProxy<string, number>): Promise<void> {
        if (locked) await lock.acquire();
        await dic.update('count', (v) => v - 1);
        if (locked) await lock.release();
      }
      const dic = mp.Manager().dict({ count: n });
      const ps = Array.from({ length: n }, () => mp.Process({ target: func, args: [dic] }));
      for (const p of ps) await p.start();
      for (const p of ps) await p.join();
      await print(dic);
      return dic.get('count');
    },
    { name: `counter-${n}${locked ? '-locked' : ''}` },
  );

describe('README', () => {
  it('seed 0 of the 100-process counter prints the count it documents', async () => {
    const r = await run(counter(100, false), { seed: 0 });
    expect(r.stdout).toBe("{'count': 58}\n");
  });

  it('hunts, replays and proves as documented', async () => {
    const property = (r: RunResult<number>): boolean | string => (r.status === 'ok' && r.value === 0) || 'an update was lost';
    const hunt = await check(counter(3, false), { strategy: random(), property });
    expect(hunt.failure?.token).toMatch(/^il1\./);
    const again = await replay(counter(3, false), hunt.failure!.token);
    expect(again.stdout).toBe(hunt.failure!.result.stdout);
    const proof = await check(counter(3, true), { strategy: exhaustive(), property, run: { timing: 'untimed' } });
    expect(proof.summary).toBe(
      'exhaustive: all 6 distinct executions explored (complete up to partial-order equivalence); the property holds in every one; 1 distinct outcome(s).',
    );
  });
});
