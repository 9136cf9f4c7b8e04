import { describe, expect, it } from 'vitest';
import { program, type Op, type RawValue, type World } from '@interleave/core';
import { exhaustive, explore } from '../src/index.js';

const untimed = { timing: 'untimed' } as const;

/** n processes each running `body` on one shared RawValue starting at `init`; returns the final value. */
function shared(n: number, init: number, body: (v: RawValue) => Generator<Op<unknown>, void, unknown>, name: string) {
  return program(
    function* ({ mp }: World) {
      const v = mp.RawValue('i', init);
      const ps = Array.from({ length: n }, () => mp.Process({ target: body, args: [v] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return yield* v.get();
    },
    { name },
  );
}

describe('atomic operations on shared cells (beyond Python: as Atomics on a SharedArrayBuffer)', () => {
  it('compareAndSwap, exchange and fetchAdd return what Atomics would', async () => {
    const r = await explore(
      program(function* ({ mp }: World) {
        const v = mp.RawValue('i', 5);
        const a = mp.RawArray('i', [1, 2, 3]);
        return [
          yield* v.compareAndSwap(4, 9), // fails: only reads
          yield* v.get(),
          yield* v.compareAndSwap(5, 9),
          yield* v.exchange(11),
          yield* v.fetchAdd(4),
          yield* v.get(),
          yield* a.fetchAdd(-1, 10),
          yield* a.compareAndSwap(0, 1, 7),
          yield* a.slice(),
        ];
      }, { name: 'atomics-basics' }),
      { strategy: exhaustive(), run: untimed },
    );
    expect(r.outcomes.map((o) => o.key)).toEqual(['ok [false,5,true,9,11,15,3,true,[7,2,13]]']);
  });

  it('failed compare-and-swaps only read, so they commute: exactly one execution', async () => {
    const r = await explore(
      shared(3, 0, function* (v) {
        yield* v.compareAndSwap(5, 6);
      }, 'failing-cas'),
      { strategy: exhaustive(), run: untimed },
    );
    expect(r.complete).toBe(true);
    expect(r.executions).toBe(1);
  });

  it('successful compare-and-swaps conflict: one execution per winner order', async () => {
    const r = await explore(
      shared(2, 0, function* (v) {
        yield* v.compareAndSwap(0, 1);
      }, 'racing-cas'),
      { strategy: exhaustive(), run: untimed },
    );
    expect(r.executions).toBe(2);
    expect(r.outcomes.map((o) => o.key)).toEqual(['ok 1']);
  });

  it('fetchAdd never loses an update, while a plain read-then-write does', async () => {
    const atomic = await explore(
      shared(3, 0, function* (v) {
        yield* v.fetchAdd(1);
        yield* v.fetchAdd(1);
      }, 'fetch-add'),
      { strategy: exhaustive(), run: untimed },
    );
    expect(atomic.complete).toBe(true);
    expect(atomic.outcomes.map((o) => o.key)).toEqual(['ok 6']);
    const plain = await explore(
      shared(2, 0, function* (v) {
        yield* v.update((x) => x + 1);
      }, 'plain-increment'),
      { strategy: exhaustive(), run: untimed },
    );
    expect(new Set(plain.outcomes.map((o) => o.key))).toEqual(new Set(['ok 1', 'ok 2']));
  });

  it('a lock-free increment with a compare-and-swap retry loop is proven correct', async () => {
    const r = await explore(
      shared(2, 0, function* (v) {
        let old = yield* v.get();
        while (!(yield* v.compareAndSwap(old, old + 1))) old = yield* v.get();
      }, 'cas-loop'),
      { strategy: exhaustive(), run: untimed },
    );
    expect(r.complete).toBe(true);
    expect(r.outcomes.map((o) => o.key)).toEqual(['ok 2']);
    expect(r.executions).toBeGreaterThan(1);
  });
});
