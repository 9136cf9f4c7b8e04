/**
 * The course's first programs (锁 / "Lock"): three processes print "is running",
 * sleep a random time, print "is done". Without a lock the lines of different
 * processes interleave; with one, each process's pair is printed together; with
 * `join` in the loop, the processes even run in order.
 */
import { program, type Lock, type World } from '@interleave/core';

/** `work(n)` without a lock (多进程抢占输出资源). */
export const unlocked = program(async ({ mp, os, time, random, print }: World) => {
  async function work(n: number): Promise<void> {
    await print(`${n}: ${os.getpid()} is running`);
    await time.sleep(random.random());
    await print(`${n}:${os.getpid()} is done`);
  }
  for (let i = 0; i < 3; i++) {
    const p = mp.Process({ target: work, args: [i] });
    await p.start();
  }
}, { name: 'course/lock/unlocked' });

/** `work(n, l)` holding a Lock around both prints (用锁), five processes. */
export const locked = program(async ({ mp, os, time, random, print }: World) => {
  async function work(n: number, l: Lock): Promise<void> {
    await l.acquire(); // 取得锁
    await print(`${n}: ${os.getpid()} is running`);
    await time.sleep(random.random());
    await print(`${n}:${os.getpid()} is done`);
    await l.release(); // 释放锁
  }
  const lock = mp.Lock(); // 创建锁
  for (let i = 0; i < 5; i++) {
    const p = mp.Process({ target: work, args: [i, lock] });
    await p.start();
  }
}, { name: 'course/lock/locked' });

/** `p.start(); p.join()` in the loop: the five processes run one after another. */
export const joined = program(async ({ mp, os, time, random, print }: World) => {
  async function work(n: number): Promise<void> {
    await print(`${n}: ${os.getpid()} is running`);
    await time.sleep(random.random());
    await print(`${n}:${os.getpid()} is done`);
  }
  for (let i = 0; i < 5; i++) {
    const p = mp.Process({ target: work, args: [i] });
    await p.start();
    await p.join();
  }
}, { name: 'course/lock/joined' });

/**
 * Whether some other process printed between a process's "is running" and its
 * "is done" — the interleaving the lock prevents.
 */
export function interleaves(stdout: string): boolean {
  const open = new Set<string>();
  for (const line of stdout.split('\n')) {
    const m = /^(\d+):\s?\d+ is (running|done)$/.exec(line);
    if (m === null) continue;
    const [, n, what] = m as unknown as [string, string, string];
    if (what === 'running') {
      if (open.size > 0) return true;
      open.add(n);
    } else {
      open.delete(n);
    }
  }
  return false;
}
