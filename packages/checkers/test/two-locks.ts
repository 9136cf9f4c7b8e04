/** The lock-order inversion the deadlock and lock-order tests share. */
import { program, type Lock, type Program, type World } from '@interleave/core';

/**
 * Process-1 takes a then b, Process-2 b then a, with nothing between the two
 * acquires: some schedules deadlock, the others (round-robin among them) do not.
 */
export const twoLocks: Program = program(
  async ({ mp, print }: World) => {
    async function both(first: Lock, second: Lock, name: string): Promise<void> {
      await first.acquire();
      await second.acquire();
      await print(name);
      await second.release();
      await first.release();
    }
    const a = mp.Lock();
    const b = mp.Lock();
    const p1 = mp.Process({ target: both, args: [a, b, 'w1'] });
    const p2 = mp.Process({ target: both, args: [b, a, 'w2'] });
    await p1.start();
    await p2.start();
    await p1.join();
    await p2.join();
  },
  { name: 'two-locks' },
);
