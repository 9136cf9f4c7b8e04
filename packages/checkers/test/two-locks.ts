/** The lock-order inversion the deadlock and lock-order tests share. */
import { program, type Lock, type Program, type World } from '@interleave/core';

/**
 * Process-1 takes a then b, Process-2 b then a, with nothing between the two
 * acquires: some schedules deadlock, the others (round-robin among them) do not.
 */
export const twoLocks: Program = program(
  async ({ mp, print }: World) => {
    async function w1(a: Lock, b: Lock): Promise<void> {
      await a.acquire();
      await b.acquire();
      await print('w1');
      await b.release();
      await a.release();
    }
    async function w2(a: Lock, b: Lock): Promise<void> {
      await b.acquire();
      await a.acquire();
      await print('w2');
      await a.release();
      await b.release();
    }
    const a = mp.Lock();
    const b = mp.Lock();
    const p1 = mp.Process({ target: w1, args: [a, b] });
    const p2 = mp.Process({ target: w2, args: [a, b] });
    await p1.start();
    await p2.start();
    await p1.join();
    await p2.join();
  },
  { name: 'two-locks' },
);
