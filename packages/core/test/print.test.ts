import { describe, expect, it } from 'vitest';
import { program, run } from '../src/index.js';

describe('print formats values as Python would', () => {
  it('shows plain data with Python syntax', async () => {
    const r = await run(
      program(async ({ print }) => {
        await print({ count: 99 }, [1, null, true, 'a'], undefined);
        await print(new Map<unknown, unknown>([['k', 1.5]]), new Set(), "it's", 'x');
        await print();
      }),
    );
    expect(r.stdout).toBe(`{'count': 99} [1, None, True, 'a'] None\n{'k': 1.5} set() it's x\n\n`);
  });

  it('shows simulated objects by their repr instead of walking their internals', async () => {
    const r = await run(
      program(async ({ mp, print }) => {
        const l = mp.Lock();
        await print(l);
        await l.acquire();
        await print(l, mp.RLock(), mp.Event(), [mp.Queue()]);
      }),
    );
    expect(r.status).toBe('ok');
    expect(r.stdout).toBe('<Lock(owner=None)>\n<Lock(owner=MainProcess)> <RLock(None, 0)> <Event#1> [<Queue#1>]\n');
  });
});

describe('a result joins stdout at once for a few lines, on first read for more', () => {
  // 1 line is joined when the result is assembled, 40 on first read: both must look the same.
  it.each([1, 40])('%i line(s): a plain enumerable property once read, and still when the result was frozen first', async (lines) => {
    const hello = program(async ({ print }) => {
      for (let i = 0; i < lines; i++) await print('hello', i);
      await print('done');
    });
    const text = Array.from({ length: lines }, (_, i) => `hello ${i}\n`).join('') + 'done\n';
    const r = await run(hello);
    expect(r.stdout).toBe(text);
    expect(r.stderr).toBe('');
    expect(Object.getOwnPropertyDescriptor(r, 'stdout')).toMatchObject({ value: text, enumerable: true, writable: true, configurable: true });
    expect(Object.keys(r).slice(0, 12)).toEqual(['status', 'program', 'seed', 'strategy', 'timing', 'steps', 'time', 'schedule', 'output', 'stdout', 'stderr', 'processes']);
    const frozen = Object.freeze(await run(hello));
    expect(frozen.stdout).toBe(text);
    expect((JSON.parse(JSON.stringify(frozen)) as { stdout: string }).stdout).toBe(text);
    expect({ ...(await run(hello)) }.stdout).toBe(text);
  });
});
