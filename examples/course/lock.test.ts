/**
 * The course's Lock programs (锁), checked over many seeds: without the lock the
 * lines of different processes interleave on some seed; with it, never; with
 * `join` in the loop the processes run in order; a seed replays byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { run, serializeTrace } from '@interleave/core';
import { interleaves, joined, locked, unlocked } from './lock.js';

const SEEDS = 300;

describe('course/lock', () => {
  it('without the lock, some seed interleaves "is running"/"is done" of different processes (多进程抢占输出资源)', async () => {
    let found: number | null = null;
    for (let seed = 0; seed < SEEDS && found === null; seed++) {
      const r = await run(unlocked, { seed });
      expect(r.status).toBe('ok');
      if (interleaves(r.stdout)) found = seed;
    }
    expect(found).not.toBeNull();
  });

  it(`with the lock, none of ${SEEDS} seeds interleaves, and all 5 processes finish (用锁)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(locked, { seed });
      expect(r.status).toBe('ok');
      expect(interleaves(r.stdout), `seed ${seed}:\n${r.stdout}`).toBe(false);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(10);
      // Each process prints its pair back to back: line 2k is "n: pid is running", 2k+1 "n:pid is done".
      for (let k = 0; k < 5; k++) {
        const m = /^(\d): (\d+) is running$/.exec(lines[2 * k]!);
        expect(m, `seed ${seed}, line ${2 * k}`).not.toBeNull();
        expect(lines[2 * k + 1]).toBe(`${m![1]}:${m![2]} is done`);
      }
    }
  });

  it('the lock makes the order of processes vary (锁执行时是无序的)', async () => {
    const firsts = new Set<string>();
    for (let seed = 0; seed < 50; seed++) firsts.add((await run(locked, { seed })).stdout.split(':')[0]!);
    expect(firsts.size).toBeGreaterThan(1);
  });

  it(`with join in the loop, every one of ${SEEDS} seeds runs processes 0..4 strictly in order (join是有序的)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(joined, { seed });
      expect(r.status).toBe('ok');
      const expected = [0, 1, 2, 3, 4].flatMap((n) => [`${n}: ${1001 + n} is running`, `${n}:${1001 + n} is done`]);
      expect(r.stdout, `seed ${seed}`).toBe(expected.join('\n') + '\n');
    }
  });

  it('the same seed gives the same stdout, and the same trace byte for byte', async () => {
    for (let seed = 0; seed < 20; seed++) {
      const a = await run(unlocked, { seed, trace: true });
      const b = await run(unlocked, { seed, trace: true });
      expect(b.stdout).toBe(a.stdout);
      expect(serializeTrace(b.trace!)).toBe(serializeTrace(a.trace!));
    }
    // ... and different seeds do not all give the same output.
    const outs = new Set<string>();
    for (let seed = 0; seed < 20; seed++) outs.add((await run(unlocked, { seed })).stdout);
    expect(outs.size).toBeGreaterThan(1);
  });
});
