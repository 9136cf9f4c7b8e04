/**
 * `always`: an invariant over the event stream, checked after every event it looks
 * at; with `events`, it looks at those types only, and the run is the same.
 */
import { describe, expect, it } from 'vitest';
import { program, runSync, type Op, type TraceEvent, type World } from '@interleave/core';
import { always } from '../src/index.js';

/** Three workers print `in`, then `out`: at some point two are inside together. */
const room = program(function* ({ mp, print, time }: World) {
  function* visit(): Generator<Op<unknown>, void, unknown> {
    yield* print('in');
    yield* time.sleep(1);
    yield* print('out');
  }
  const ps = [0, 1, 2].map(() => mp.Process({ target: visit }));
  for (const p of ps) yield* p.start();
  for (const p of ps) yield* p.join();
});

/** At most `n` inside, counting prints; records the types its predicate saw. */
function capacity(n: number, seen: Set<TraceEvent['type']>, events?: readonly TraceEvent['type'][]) {
  return always(
    `at most ${n} inside`,
    () => {
      let inside = 0;
      return (e) => {
        seen.add(e.type);
        if (e.type === 'print') inside += e.text === 'in' ? 1 : -1;
        return inside <= n;
      };
    },
    events === undefined ? {} : { events },
  );
}

describe('always', () => {
  it('with events, its predicate sees only those types, and it fails the run exactly as without', () => {
    const everything = new Set<TraceEvent['type']>();
    const prints = new Set<TraceEvent['type']>();
    const a = runSync(room, { seed: 2, monitors: [capacity(1, everything)] });
    const b = runSync(room, { seed: 2, monitors: [capacity(1, prints, ['print'])] });
    expect(everything.size).toBeGreaterThan(1);
    expect([...prints]).toEqual(['print']);
    expect(a.status).toBe('error');
    expect(b.status === 'error' && b.message).toBe(a.status === 'error' && a.message);
    expect(b.steps).toBe(a.steps);
  });

  it('when the run keeps its trace, the predicate still sees only its types', () => {
    const prints = new Set<TraceEvent['type']>();
    const r = runSync(room, { seed: 2, trace: true, monitors: [capacity(3, prints, ['print'])] });
    expect(r.status).toBe('ok');
    expect([...prints]).toEqual(['print']);
  });
});
