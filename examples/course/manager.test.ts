/**
 * The course's Manager programs (进程之间的数据共享): one child's change is seen by
 * the parent; 100 unlocked `dic['count'] -= 1` lose updates on some seed; with a
 * lock — acquire/release or `with lock:` — every seed ends at {'count': 0}.
 */
import { describe, expect, it } from 'vitest';
import { run, serializeTrace } from '@interleave/core';
import { PROCESSES, finalCount, firstLostUpdate, locked, modifyOnce, unlocked, withLock } from './manager.js';

describe('course/manager', () => {
  it("修改字典的值: the child and the parent both print {'count': 99}, on every seed", async () => {
    for (let seed = 0; seed < 20; seed++) {
      const r = await run(modifyOnce, { seed });
      expect(r.status).toBe('ok');
      expect(r.stdout).toBe("{'count': 99}\n{'count': 99}\n");
      // The first line is the child's, the second the parent's (after join).
      expect(r.output.map((l) => l.name)).toEqual(['Process-1', 'MainProcess']);
    }
  });

  it('循环修改: without a lock, some seed ends above 0, and the trace shows the lost update', async () => {
    let found: number | null = null;
    for (let seed = 0; seed < 20 && found === null; seed++) {
      const r = await run(unlocked, { seed });
      expect(r.status).toBe('ok');
      const count = finalCount(r.stdout);
      expect(count).not.toBeNull();
      expect(count).toBeGreaterThanOrEqual(0);
      if (count! > 0) found = seed;
    }
    expect(found).not.toBeNull();

    const r = await run(unlocked, { seed: found!, trace: true });
    const count = finalCount(r.stdout)!;
    expect(count).toBeGreaterThan(0);
    // Every process did read and write once: 100 decrements issued, `count` of them lost.
    const accesses = r.trace!.filter((e) => e.type === 'access' && e.loc === 'DictProxy#1["count"]');
    expect(accesses.filter((e) => e.type === 'access' && e.kind === 'write')).toHaveLength(PROCESSES);
    expect(accesses.filter((e) => e.type === 'access' && e.kind === 'read')).toHaveLength(PROCESSES + 1); // + print
    const lost = firstLostUpdate(r.trace!);
    expect(lost).not.toBeNull();
    // The writer's read happened before the other write, and it wrote read - 1 over it.
    expect(lost!.read.step).toBeLessThan(lost!.overwritten.step);
    expect(lost!.overwritten.step).toBeLessThan(lost!.write.step);
    expect(lost!.write.value).toBe((lost!.read.value as number) - 1);
    expect(lost!.overwritten.pid).not.toBe(lost!.writer);
    // Each update is two steps (read, then write) with other processes' steps allowed in between.
    const updates = r.trace!.filter((e) => e.type === 'done' && e.obj === 'DictProxy#1' && e.op === 'update' && e.pid === lost!.writer);
    expect(updates.map((e) => e.type === 'done' && e.phase)).toEqual([0, 1]);
  });

  it('循环修改: the same seed replays to the same output and trace, byte for byte', async () => {
    const a = await run(unlocked, { seed: 3, trace: true });
    const b = await run(unlocked, { seed: 3, trace: true });
    expect(b.stdout).toBe(a.stdout);
    expect(serializeTrace(b.trace!)).toBe(serializeTrace(a.trace!));
    // Different seeds lose different numbers of updates, as the course's five runs did.
    const counts = new Set<number | null>();
    for (let seed = 0; seed < 10; seed++) counts.add(finalCount((await run(unlocked, { seed })).stdout));
    expect(counts.size).toBeGreaterThan(1);
  });

  it("加锁 (acquire/release): every one of 50 seeds prints {'count': 0}", async () => {
    for (let seed = 0; seed < 50; seed++) {
      const r = await run(locked, { seed });
      expect(r.status).toBe('ok');
      expect(r.stdout, `seed ${seed}`).toBe("{'count': 0}\n");
    }
  });

  it("使用上下文管理 (with lock: → withLock): every one of 50 seeds prints {'count': 0}", async () => {
    for (let seed = 0; seed < 50; seed++) {
      const r = await run(withLock, { seed });
      expect(r.status).toBe('ok');
      expect(r.stdout, `seed ${seed}`).toBe("{'count': 0}\n");
    }
  });

  it('with a lock, the trace has no lost update', async () => {
    for (let seed = 0; seed < 5; seed++) {
      expect(firstLostUpdate((await run(withLock, { seed, trace: true })).trace!)).toBeNull();
    }
  });
});
