/**
 * The course's ticket programs (查票 / 购票), checked over many seeds: checking is
 * harmless; buying without a lock oversells the single ticket (the file still says
 * 0 left); with the lock exactly one person buys on every seed. Plus the shared-
 * memory counter: `v.value += 1` loses updates unless the Value's lock is held.
 */
import { describe, expect, it } from 'vitest';
import { run, serializeTrace, type AccessEvent } from '@interleave/core';
import {
  INCREMENTS,
  WORKERS,
  bought,
  buyLocked,
  buyUnlocked,
  buyers,
  checkTicket,
  counterLocked,
  counterUnlocked,
  failed,
} from './ticket.js';

const SEEDS = 300;

describe('course/ticket: 查票 (check the ticket)', () => {
  it('five processes each print the count, 1, in a schedule-dependent order', async () => {
    const orders = new Set<string>();
    for (let seed = 0; seed < 50; seed++) {
      const r = await run(checkTicket, { seed });
      expect(r.status).toBe('ok');
      const lines = r.stdout.trimEnd().split('\n');
      expect([...lines].sort()).toEqual(['person0 1', 'person1 1', 'person2 1', 'person3 1', 'person4 1']);
      orders.add(r.stdout);
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('each check is one read of file:ticket, recorded in the trace', async () => {
    const r = await run(checkTicket, { seed: 7, trace: true });
    const reads = r.trace!.filter((e): e is AccessEvent => e.type === 'access');
    expect(reads).toHaveLength(5);
    for (const e of reads) expect(e).toMatchObject({ obj: 'fs', loc: 'file:ticket', kind: 'read', value: '{"count":1}', atomic: false });
    expect(new Set(reads.map((e) => e.pid))).toEqual(new Set([1001, 1002, 1003, 1004, 1005]));
  });
});

describe('course/ticket: 购票 (buy the ticket)', () => {
  it('without the lock, the single ticket is oversold: 2+ buyers while the file ends at count 0 (有错)', async () => {
    let oversold = 0;
    let witness: number | null = null;
    for (let seed = 0; seed < 100; seed++) {
      const r = await run(buyUnlocked, { seed });
      expect(r.status).toBe('ok');
      if (r.status !== 'ok') continue;
      const who = buyers(r.stdout);
      if (who.length > 1) oversold++;
      if (who.length >= 2 && r.value.count === 0) witness ??= seed;
    }
    expect(oversold).toBeGreaterThan(0);
    expect(witness).not.toBeNull();
  });

  it('in timed mode all five buy on every seed, as the course printed: everyone reads at t=0, before any sleep ends', async () => {
    for (let seed = 0; seed < 50; seed++) {
      const r = await run(buyUnlocked, { seed });
      expect(r.status).toBe('ok');
      expect([...buyers(r.stdout)].sort(), `seed ${seed}`).toEqual([0, 1, 2, 3, 4]);
      expect(r.status === 'ok' && r.value).toEqual({ count: 0 });
    }
  });

  it('untimed, the number of buyers varies, and a buyer can read the file mid-write: JSONDecodeError from the truncated file', async () => {
    const counts = new Set<number>();
    let midWrite: string | null = null;
    for (let seed = 0; seed < 100; seed++) {
      const r = await run(buyUnlocked, { seed, timing: 'untimed' });
      expect(r.status).toBe('ok');
      counts.add(buyers(r.stdout).length);
      if (r.stderr !== '') midWrite ??= r.stderr;
    }
    expect(counts.has(1)).toBe(true);
    expect(Math.max(...counts)).toBeGreaterThan(1);
    expect(midWrite).toMatch(/^Process Process-\d:\nTraceback \(most recent call last\):\nJSONDecodeError: Expecting value: line 1 column 1 \(char 0\)\n$/);
  });

  it(`with the lock, exactly one person buys on every one of ${SEEDS} seeds and the file ends at count 0 (加锁)`, async () => {
    const winners = new Set<number>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(buyLocked, { seed });
      expect(r.status).toBe('ok');
      if (r.status !== 'ok') continue;
      const who = buyers(r.stdout);
      expect(who, `seed ${seed}:\n${r.stdout}`).toHaveLength(1);
      const lines = r.stdout.trimEnd().split('\n');
      // The buyer is the first to print (it held the lock first); the rest fail.
      expect(lines[0]).toBe(bought(who[0]!));
      expect(lines.slice(1).sort()).toEqual([0, 1, 2, 3, 4].filter((i) => i !== who[0]).map(failed).sort());
      expect(r.value).toEqual({ count: 0 });
      winners.add(who[0]!);
    }
    expect(winners.size).toBeGreaterThan(1); // whoever gets the lock first: 锁执行时是无序的
  });

  it('the file is written as Python writes it: {"count": 0}, truncated first', async () => {
    const r = await run(buyLocked, { seed: 3, trace: true });
    const writes = r.trace!.filter((e): e is AccessEvent => e.type === 'access' && e.kind === 'write');
    expect(writes).toHaveLength(10);
    for (let i = 0; i < 10; i += 2) {
      expect(writes[i]).toMatchObject({ loc: 'file:ticket', value: '' });
      expect(writes[i + 1]).toMatchObject({ loc: 'file:ticket', value: '{"count": 0}', pid: writes[i]!.pid });
    }
  });

  it('the same seed gives the same run, byte for byte', async () => {
    for (let seed = 0; seed < 10; seed++) {
      const a = await run(buyUnlocked, { seed, timing: 'untimed', trace: true });
      const b = await run(buyUnlocked, { seed, timing: 'untimed', trace: true });
      expect(b.stdout).toBe(a.stdout);
      expect(serializeTrace(b.trace!)).toBe(serializeTrace(a.trace!));
    }
  });
});

describe('course/ticket: the same lesson in shared memory (mp.Value)', () => {
  const expected = WORKERS * INCREMENTS;

  it(`v.value += 1 without holding the lock loses updates on some seed (total < ${expected})`, async () => {
    let lost: number | null = null;
    for (let seed = 0; seed < 50 && lost === null; seed++) {
      const r = await run(counterUnlocked, { seed });
      expect(r.status).toBe('ok');
      if (r.status === 'ok' && r.value < expected) lost = r.value;
    }
    expect(lost).not.toBeNull();
    expect(lost).toBeGreaterThan(0);
  });

  it(`with v.withLock(...) around it, every one of ${SEEDS} seeds counts to ${expected}`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(counterLocked, { seed });
      expect(r.status === 'ok' && r.value, `seed ${seed}`).toBe(expected);
      expect(r.stdout).toBe(`${expected}\n`);
    }
  });
});
