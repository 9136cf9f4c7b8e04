/**
 * The world object itself: its modules (fs, socket and atomic too) are plain
 * properties — enumerable, kept by spread and rest destructuring.
 */
import { describe, expect, it } from 'vitest';
import { program, run, type World } from '@interleave/core';
import { expectOk } from './helpers.js';

describe('world', () => {
  it('fs, socket and atomic survive rest destructuring and spread, and are built once', async () => {
    const r = await run(
      program(async ({ mp, ...rest }: World) => {
        const spread = { ...rest };
        await rest.fs.writeText('a.txt', 'x');
        return {
          keys: Object.keys(rest).sort(),
          sameFs: spread.fs === rest.fs,
          sameSocket: spread.socket === rest.socket,
          read: await spread.fs.readText('a.txt'),
          hasMp: typeof mp.Lock,
        };
      }),
    );
    expectOk(r);
    expect(r.value).toEqual({ keys: ['atomic', 'fs', 'os', 'print', 'random', 'socket', 'time'], sameFs: true, sameSocket: true, read: 'x', hasMp: 'function' });
  });
});
