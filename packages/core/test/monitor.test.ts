import { describe, expect, it } from 'vitest';
import { program, runSync, type Monitor, type Op, type TraceEvent, type World } from '../src/index.js';

const contended = program(function* ({ mp, time }: World) {
  const lock = mp.Lock();
  function* worker(): Generator<Op<unknown>, void, unknown> {
    yield* lock.acquire();
    yield* time.sleep(1);
    yield* lock.release();
  }
  const ps = Array.from({ length: 4 }, () => mp.Process({ target: worker }));
  for (const p of ps) yield* p.start();
  for (const p of ps) yield* p.join();
});

function collecting(blocking?: boolean): Monitor & { readonly types: Set<TraceEvent['type']> } {
  const types = new Set<TraceEvent['type']>();
  return { name: 'collect', ...(blocking === undefined ? {} : { blocking }), types, onEvent: (e) => void types.add(e.type) };
}

describe('monitors', () => {
  it('get block, wake and sleep events unless they opt out with blocking: false', () => {
    const all = collecting();
    const lean = collecting(false);
    const a = runSync(contended, { seed: 1, monitors: [all] });
    runSync(contended, { seed: 1, monitors: [lean] });
    for (const t of ['block', 'wake', 'sleep'] as const) {
      expect(all.types.has(t)).toBe(true);
      expect(lean.types.has(t)).toBe(false);
    }
    expect([...lean.types].sort()).toEqual([...all.types].filter((t) => t !== 'block' && t !== 'wake' && t !== 'sleep').sort());
    // Opting out changes what is delivered, not the run.
    expect(runSync(contended, { seed: 1, monitors: [collecting(false)] }).schedule.toArray()).toEqual(a.schedule.toArray());
  });

  it('a monitor that opts out still gets them when the trace is kept', () => {
    const lean = collecting(false);
    const r = runSync(contended, { seed: 1, monitors: [lean], trace: true });
    expect(r.trace!.some((e) => e.type === 'block')).toBe(true);
    expect(lean.types.has('block')).toBe(true);
  });
});
