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

describe('a result joins stdout on first read', () => {
  it('as a plain enumerable property afterwards, and still when the result was frozen first', async () => {
    const hello = program(async ({ print }) => {
      await print('hello');
    });
    const r = await run(hello);
    expect(r.stdout).toBe('hello\n');
    expect(Object.getOwnPropertyDescriptor(r, 'stdout')).toMatchObject({ value: 'hello\n', enumerable: true });
    const frozen = Object.freeze(await run(hello));
    expect(frozen.stdout).toBe('hello\n');
    expect((JSON.parse(JSON.stringify(frozen)) as { stdout: string }).stdout).toBe('hello\n');
  });
});
