/**
 * The course's KTV program (信号量): Semaphore(4), 6 people. Checked at every step
 * by monitors over many seeds: never more than 4 inside; everyone gets in.
 */
import { describe, expect, it } from 'vitest';
import { always } from '@interleave/checkers';
import { InvariantViolation, run, runSync, type Monitor, type TraceEvent } from '@interleave/core';
import { IN, OUT, ktv, ktvGenerator } from './semaphore.js';

const SEEDS = 300;

/** People inside as the printed lines say: +1 on "进来唱歌了", -1 on "从ktv出去了". */
function printedInside(limit: number): Monitor {
  return always(`at most ${limit} inside (printed)`, () => {
    let inside = 0;
    return (e: TraceEvent) => {
      if (e.type === 'print') inside += e.text.endsWith(IN) ? 1 : e.text.endsWith(OUT) ? -1 : 0;
      return inside <= limit;
    };
  });
}

/** Holders of the semaphore as its operations say: +1 per successful acquire, -1 per release. */
function holders(limit: number, seen: { max: number }): Monitor {
  return always(`at most ${limit} hold Semaphore#1`, () => {
    let held = 0;
    return (e: TraceEvent) => {
      if (e.type === 'done' && e.obj === 'Semaphore#1' && e.outcome === 'ok') {
        if (e.op === 'acquire' && e.value === true) held++;
        if (e.op === 'release') held--;
        seen.max = Math.max(seen.max, held);
      }
      return held <= limit;
    };
  });
}

describe('course/semaphore (KTV)', () => {
  it(`never more than 4 inside, at every step of ${SEEDS} seeds; the booths do fill up`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const seen = { max: 0 };
      const r = await run(ktv, { seed, monitors: [printedInside(4), holders(4, seen)] });
      expect(r.status, `seed ${seed}: ${r.status === 'error' ? r.message : ''}`).toBe('ok');
      // All 6 start at t=0 and nobody sleeps before acquiring: exactly 4 get in at once.
      expect(seen.max).toBe(4);
    }
  });

  it('the monitors are not vacuous: a limit of 3 is broken, naming the step', async () => {
    const r = await run(ktv, { seed: 0, monitors: [printedInside(3)] });
    expect(r.status).toBe('error');
    if (r.status !== 'error') return;
    expect(r.error).toBeInstanceOf(InvariantViolation);
    expect(r.message).toMatch(/at most 3 inside \(printed\).*broken at step \d+/);
  });

  it(`all 6 people get in, and out, in each of ${SEEDS} seeds; the 5th and 6th wait outside`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(ktv, { seed, trace: true });
      expect(r.status).toBe('ok');
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(12);
      for (let p = 0; p < 6; p++) {
        const inAt = lines.indexOf(`person ${p} ${IN}`);
        const outAt = lines.indexOf(`person ${p} ${OUT}`);
        expect(inAt, `seed ${seed}: person ${p} never got in`).toBeGreaterThanOrEqual(0);
        expect(outAt).toBeGreaterThan(inAt);
      }
      // Exactly two people found the booths full and waited outside, blocked in acquire()
      // (a waiter can block more than once: a release wakes every waiter, one gets in).
      const waited = new Set(r.trace!.filter((e) => e.type === 'block' && e.obj === 'Semaphore#1').map((e) => e.pid));
      expect(waited.size).toBe(2);
    }
  });

  it('the generator variant gives the same output as the async one for the same seed, under runSync', async () => {
    for (let seed = 0; seed < 50; seed++) {
      const a = await run(ktv, { seed });
      const g = runSync(ktvGenerator, { seed, monitors: [printedInside(4)] });
      expect(g.status).toBe('ok');
      expect(g.stdout).toBe(a.stdout);
      expect(g.steps).toBe(a.steps);
    }
  });

  it('runSync refuses the async variant with ASYNC_IN_SYNC_RUN', () => {
    const r = runSync(ktv, { seed: 0 });
    expect(r.status).toBe('error');
    expect(r.status === 'error' && (r.error as { code?: string }).code).toBe('ASYNC_IN_SYNC_RUN');
  });
});
