/**
 * Verdicts over a whole exploration: the Manager counter's lost update is
 * reachable (and the token of the first witness replays it); with the lock it is
 * not, over every execution of a small instance; `sometimes` over events.
 */
import { describe, expect, it } from 'vitest';
import { program, run, type DictProxy, type Lock, type Op, type TraceEvent, type World } from '@interleave/core';
import { exhaustive, explore, random, replay } from '@interleave/sched';
import { unlocked } from '../../../examples/course/manager.js';
import { reachable, sometimes } from '../src/index.js';

/** The counter's final value: the last write to a `["count"]` location. */
const lostUpdate = () =>
  reachable('lost update', () => {
    let count: unknown = null;
    return {
      observe: (e: TraceEvent) => {
        if (e.type === 'access' && e.kind === 'write' && e.loc.endsWith('["count"]')) count = e.value;
      },
      holds: () => (typeof count === 'number' && count > 0 ? `the count ended at ${count}` : false),
    };
  });

/** n processes doing `d['count'] -= 1`, optionally under a lock. */
function counter(n: number, locked: boolean) {
  return program(
    function* ({ mp }: World): Generator<Op<unknown>, void, unknown> {
      const d = mp.Manager().dict<string, number>({ count: n });
      const lock = mp.Lock();
      function* work(dic: DictProxy<string, number>, l: Lock): Generator<Op<unknown>, void, unknown> {
        if (locked) yield* l.acquire();
        yield* dic.update('count', (v) => v - 1);
        if (locked) yield* l.release();
      }
      const ps = Array.from({ length: n }, () => mp.Process({ target: work, args: [d, lock] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    },
    { name: `counter-${n}${locked ? '-locked' : ''}` },
  );
}

describe('reachable: the course Manager counter (100 processes, no lock)', () => {
  it('the lost update is reachable; the verdict counts executions and gives a token that replays it', async () => {
    const lost = lostUpdate();
    const report = await explore(unlocked, { strategy: random(), budget: { executions: 40 }, monitors: [lost] });
    const v = lost.verdict;
    expect(v.holds).toBe(true);
    expect(v.executions).toBe(report.executions);
    expect(v.reached).toBeGreaterThan(0);
    expect(v.reached).toBeLessThanOrEqual(40);
    expect(v.summary).toMatch(/^lost update: reached in \d+ of 40 executions; first in execution \d+ at step \d+ \(t=0s\); token il1\./);
    const again = await replay(unlocked, v.first!.token!);
    expect(again.stdout).toMatch(/^\{'count': [1-9]\d*\}\n$/);
    const f = lost.finding();
    expect(f).toMatchObject({ kind: 'reachable', status: 'confirmed', token: v.first!.token });
  });
});

describe('reachable: a small counter, every execution', () => {
  it('unlocked: reachable; the verdict ignores the explorer\'s own re-runs', async () => {
    const lost = lostUpdate();
    const report = await explore(counter(3, false), { strategy: exhaustive(), run: { timing: 'untimed' }, monitors: [lost] });
    expect(report.complete).toBe(true);
    expect(lost.verdict.executions).toBe(report.executions);
    expect(lost.verdict.holds).toBe(true);
    expect(lost.verdict.first?.event.note).toMatch(/^the count ended at [12]$/);
  });

  it('locked: unreachable in every execution; the finding says a complete exhaustive search is a proof', async () => {
    const lost = lostUpdate();
    const report = await explore(counter(3, true), { strategy: exhaustive(), run: { timing: 'untimed' }, monitors: [lost] });
    expect(report.complete).toBe(true);
    expect(lost.verdict).toMatchObject({ holds: false, reached: 0, executions: report.executions });
    expect(lost.verdict.summary).toBe(`lost update: reached in 0 of ${report.executions} executions`);
    expect(lost.finding().status).toBe('potential');
  });

  it('one instance over plain runs counts runs; reset() forgets them', async () => {
    const lost = lostUpdate();
    for (let seed = 0; seed < 5; seed++) await run(counter(2, true), { seed, monitors: [lost] });
    expect(lost.verdict.summary).toBe('lost update: reached in 0 of 5 runs');
    lost.reset();
    expect(lost.verdict.executions).toBe(0);
  });
});

describe('sometimes', () => {
  /** Two readers saw the same count: the read-read overlap that loses an update. */
  const sameRead = () =>
    sometimes('two processes read the same count', () => {
      const seen = new Map<unknown, number>();
      return (e) => {
        if (e.type !== 'access' || e.kind !== 'read' || !e.loc.endsWith('["count"]')) return false;
        const n = (seen.get(e.value) ?? 0) + 1;
        seen.set(e.value, n);
        return n >= 2;
      };
    });

  it('holds on the unlocked counter, at the second read, and never with the lock', async () => {
    const racy = sameRead();
    await explore(counter(2, false), { strategy: exhaustive(), run: { timing: 'untimed' }, monitors: [racy] });
    expect(racy.verdict.holds).toBe(true);
    expect(racy.verdict.first?.event.op).toMatch(/^read DictProxy#1\["count"\] = 2$/);
    expect(racy.verdict.summary).toMatch(/^two processes read the same count: reached in \d+ of \d+ executions; first in execution \d+ at step \d+ \(t=0s\), Process-2 \(pid 1002\) read/);
    const safe = sameRead();
    await explore(counter(2, true), { strategy: exhaustive(), run: { timing: 'untimed' }, monitors: [safe] });
    expect(safe.verdict.holds).toBe(false);
  });
});
