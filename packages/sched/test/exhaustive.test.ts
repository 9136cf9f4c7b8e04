import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { program, type Event, type Op, type World } from '@interleave/core';
import { exhaustive, explore } from '../src/index.js';
import { blockingProgram, blockingSpec, sharedMemoryProgram } from './random-programs.js';
import { fibBench, reorder } from '../../../bench/sctbench.js';

const untimed = { timing: 'untimed' } as const;

/** How random programs are compared: untimed, no feeder threads, the outcome read when the run ends (after every child has logged). */
const comparison = {
  run: { timing: 'untimed', queueFeeder: false },
  outcome: (r: { status: string; value?: unknown }): string => `${r.status} ${JSON.stringify(r.value)}`,
} as const;

/** One writer and n readers of one Event: every reader sees it set or not — 2^n traces. */
function writerReaders(n: number) {
  return program(
    function* ({ mp }: World) {
      const e = mp.Event();
      const seen: string[] = [];
      function* writer(ev: Event): Generator<Op<unknown>, void, unknown> {
        yield* ev.set();
      }
      function* reader(ev: Event, k: number): Generator<Op<unknown>, void, unknown> {
        seen[k] = (yield* ev.isSet()) ? '1' : '0';
      }
      const ps = [mp.Process({ target: writer, args: [e] })];
      for (let k = 0; k < n; k++) ps.push(mp.Process({ target: reader, args: [e, k] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return seen.join('');
    },
    { name: `writer+${n}-readers` },
  );
}

/** n processes each setting its own Event: nothing depends on anything — one trace. */
function disjointWriters(n: number) {
  return program(
    function* ({ mp }: World) {
      const events = Array.from({ length: n }, () => mp.Event());
      function* writer(ev: Event): Generator<Op<unknown>, void, unknown> {
        yield* ev.set();
      }
      const ps = events.map((ev) => mp.Process({ target: writer, args: [ev] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    },
    { name: `disjoint-${n}` },
  );
}

describe('exhaustive exploration with partial-order reduction', () => {
  it.each([1, 2, 3, 4, 5])('one writer and %i readers give exactly 2^n executions, each a different outcome', async (n) => {
    const r = await explore(writerReaders(n), { strategy: exhaustive(), run: untimed });
    expect(r.complete).toBe(true);
    expect(r.executions).toBe(2 ** n);
    expect(r.outcomes).toHaveLength(2 ** n);
    expect(r.summary).toContain(`all ${2 ** n} distinct executions explored`);
  });

  it.each([1, 2, 4, 6])('%i processes writing disjoint objects give exactly 1 execution', async (n) => {
    const r = await explore(disjointWriters(n), { strategy: exhaustive(), run: untimed });
    expect(r.complete).toBe(true);
    expect(r.executions).toBe(1);
  });

  it('without reduction explores every interleaving (many more executions, same outcomes)', async () => {
    const reduced = await explore(writerReaders(2), { strategy: exhaustive(), run: untimed });
    const full = await explore(writerReaders(2), { strategy: exhaustive({ reduction: false }), run: untimed });
    expect(full.complete).toBe(true);
    expect(full.executions).toBeGreaterThan(reduced.executions);
    expect(new Set(full.outcomes.map((o) => o.key))).toEqual(new Set(reduced.outcomes.map((o) => o.key)));
  });

  it('finds the lost wakeup of a Condition notified before the waiter waits', async () => {
    const lostWakeup = program(
      function* ({ mp }: World) {
        const cond = mp.Condition(mp.Lock());
        function* waiter(): Generator<Op<unknown>, void, unknown> {
          yield* cond.acquire();
          yield* cond.wait();
          yield* cond.release();
        }
        function* notifier(): Generator<Op<unknown>, void, unknown> {
          yield* cond.acquire();
          yield* cond.notify();
          yield* cond.release();
        }
        const ps = [mp.Process({ target: waiter }), mp.Process({ target: notifier })];
        for (const p of ps) yield* p.start();
        for (const p of ps) yield* p.join();
      },
      { name: 'lost-wakeup' },
    );
    const r = await explore(lostWakeup, { strategy: exhaustive(), run: untimed });
    expect(r.complete).toBe(true);
    expect(r.outcomes.map((o) => (o.key.startsWith('deadlock') ? 'deadlock' : o.key.split(' ')[0])).sort()).toEqual(['deadlock', 'ok']);
  });

  it('a preemption bound of 0 runs only non-preemptive executions and says it is not a proof', async () => {
    // The readers are two processes, each needing a preemption of the other to read
    // before the write; without preemptions only the orders chosen when a process
    // blocks or ends remain.
    const r = await explore(writerReaders(3), { strategy: exhaustive({ preemptionBound: 0 }), run: untimed });
    const every = await explore(writerReaders(3), { strategy: exhaustive({ reduction: false, preemptionBound: 0 }), run: untimed });
    expect(r.executions).toBeLessThan(every.executions);
    expect(r.executions).toBeGreaterThan(1);
    // Every outcome a non-preemptive execution reaches.
    expect(new Set(r.outcomes.map((o) => o.key))).toEqual(new Set(every.outcomes.map((o) => o.key)));
    expect(r.summary).toContain(`exhaustive(preemptions ≤ 0): the bounded search finished after ${r.executions} execution(s)`);
    expect(r.summary).toContain('may skip some within it (reduction: false runs every one): not a proof.');
  });

  it.each([1, 2])('a preemption bound of %i reaches every outcome the unreduced search reaches within it (conservative branches)', async (bound) => {
    // Reversing a race where the bound forbids the switch: bounded POR also tries the
    // other process where the block of steps containing the race began (Coons,
    // Musuvathi, McKinley, OOPSLA 2013). Found by a differential over random programs.
    const prog = sharedMemoryProgram([
      [
        { kind: 'cas', cell: 1, expected: 0, value: 1 },
        { kind: 'get', cell: 2, value: 2 },
        { kind: 'cas', cell: 2, expected: 2, value: 1 },
      ],
      [
        { kind: 'exchange', cell: 1, value: 0 },
        { kind: 'exchange', cell: 2, value: 2 },
        { kind: 'flag', op: 'clear' },
      ],
    ]);
    const reduced = await explore(prog, { strategy: exhaustive({ preemptionBound: bound }), run: untimed });
    const every = await explore(prog, { strategy: exhaustive({ reduction: false, preemptionBound: bound }), run: untimed });
    expect(new Set(reduced.outcomes.map((o) => o.key))).toEqual(new Set(every.outcomes.map((o) => o.key)));
    expect(reduced.executions).toBeLessThan(every.executions);
  });

  it('a preemption bound of 1 reaches the outcome only a conservative branch reaches, even when nothing under its state is cut', async () => {
    // helper-38's differential: postponing the conservative branch until the block
    // start's current choice turned out cut (and a race until the choice it relied on
    // did) lost the run P2, P2, P0 (all), P1 (all), P2 — one preemption.
    const prog = sharedMemoryProgram([
      [
        { kind: 'fetchAdd', cell: 0, value: 0 },
        { kind: 'flag', op: 'set' },
      ],
      [
        { kind: 'cas', cell: 1, expected: 1, value: 2 },
        { kind: 'flag', op: 'isSet' },
      ],
      [
        { kind: 'fetchAdd', cell: 0, value: 1 },
        { kind: 'fetchAdd', cell: 1, value: 1 },
        { kind: 'exchange', cell: 1, value: 0 },
      ],
    ]);
    const outcome = (r: { status: string; value?: unknown }): string => `${r.status} ${JSON.stringify(r.value)}`;
    const reduced = await explore(prog, { strategy: exhaustive({ preemptionBound: 1 }), run: untimed, outcome });
    const every = await explore(prog, { strategy: exhaustive({ reduction: false, preemptionBound: 1 }), run: untimed, outcome });
    expect(reduced.outcomes.map((o) => o.key)).toContain('ok [["1"],["true","true"],["0","0","2"]]');
    expect(new Set(reduced.outcomes.map((o) => o.key))).toEqual(new Set(every.outcomes.map((o) => o.key)));
  });

  it('a delay bound reverses a race through an initial it can afford: the read before the write', async () => {
    // The race of P2's write and P3's read could be reversed by running main (its join
    // comes first in the sequence to replay) or P3 first; main costs two delays there,
    // P3 one. Picking main, the bound of 1 pruned the reversal and missed v=0.
    const prog = blockingProgram({ processes: [[{ kind: 'put', value: 9 }], [{ kind: 'vset', value: 6 }], [{ kind: 'vget' }]], join: true });
    const run = { ...untimed, queueFeeder: false } as const;
    const reduced = await explore(prog, { strategy: exhaustive({ delayBound: 1 }), run });
    const every = await explore(prog, { strategy: exhaustive({ reduction: false, delayBound: 1 }), run });
    expect(every.outcomes).toHaveLength(2);
    expect(new Set(reduced.outcomes.map((o) => o.key))).toEqual(new Set(every.outcomes.map((o) => o.key)));
  });

  it.each([2, 3])('a delay bound of %i reaches the try-lock that fails while the other holds the lock (cheapest choice first)', async (delayBound) => {
    // P1 puts, P2 and P3 try the same lock; main joins all three. P2 failing needs P3's
    // acquire, then P2's try, then P3's release. The bounded search first ran main where
    // P1 ended: two delays on a join that races with nothing, so no reversal of P2 and P3
    // under it fitted in the bound, and nothing sent the search back there. Within two
    // delays the outcome is reached only through main: after P3's acquire, main (one
    // delay) joins P1 and blocks on P2, and the round-robin default falls on P2.
    const prog = blockingProgram({ processes: [[{ kind: 'put', value: 8 }], [{ kind: 'tryLock', lock: 0 }], [{ kind: 'tryLock', lock: 0 }]], join: true });
    const run = { ...untimed, queueFeeder: false } as const;
    const reduced = await explore(prog, { strategy: exhaustive({ delayBound }), run });
    const every = await explore(prog, { strategy: exhaustive({ reduction: false, delayBound }), run });
    expect(every.outcomes.map((o) => o.key)).toContain('ok [[],["try:false"],["try:true"]]');
    expect(new Set(reduced.outcomes.map((o) => o.key))).toEqual(new Set(every.outcomes.map((o) => o.key)));
    expect(reduced.executions).toBeLessThan(every.executions);
  });

  // Known miss, not yet understood: under a delay bound of 2 the reduced search never
  // reaches P0 reading the event set and finding the queue empty while P1 gets the item
  // (unreduced: 71 runs; reduced: 37). Found by a differential with two-step processes,
  // after the rules above; the rule that would reach it is not known. `it.fails` keeps it
  // visible: when a fix reaches the outcome, this fails and becomes a plain `it`.
  it.fails('a delay bound of 2 reaches every outcome of three two-step processes over a lock, an event and a queue (known miss)', async () => {
    const prog = blockingProgram({
      processes: [
        [{ kind: 'locked', lock: 0, inner: 'read', event: 0 }, { kind: 'get' }],
        [{ kind: 'tryLock', lock: 0 }, { kind: 'get' }],
        [{ kind: 'put', value: 1 }, { kind: 'set', event: 0 }],
      ],
      join: false,
    });
    const run = { ...untimed, queueFeeder: false } as const;
    const reduced = await explore(prog, { strategy: exhaustive({ delayBound: 2 }), run });
    const every = await explore(prog, { strategy: exhaustive({ reduction: false, delayBound: 2 }), run });
    expect(new Set(reduced.outcomes.map((o) => o.key))).toEqual(new Set(every.outcomes.map((o) => o.key)));
  });

  it('under a bound that cuts nothing, sleepers are firm: no run is abandoned, none repeated', async () => {
    // P0 = cas(c, 1→1), P1 = exchange(c, 1), P2 = cas(c, 1→1): every order is free of
    // preemptions. P0 and P1, run first from the state where all three could start,
    // are asleep when P2 runs first there; the runs that put them to sleep were not cut
    // by the bound, so they prove their orders covered, as in the unbounded search.
    const prog = sharedMemoryProgram([
      [{ kind: 'cas', cell: 1, expected: 1, value: 1 }],
      [{ kind: 'exchange', cell: 1, value: 1 }],
      [{ kind: 'cas', cell: 1, expected: 1, value: 1 }],
    ]);
    const bounded = await explore(prog, { strategy: exhaustive({ preemptionBound: 0 }), run: untimed });
    expect([bounded.executions, bounded.stats.redundant]).toEqual([6, 0]);
    const unbounded = await explore(prog, { strategy: exhaustive({ reduction: 'source' }), run: untimed });
    expect(unbounded.stats.redundant).toBe(0);
  });
});

describe('bounded search where the bound cuts nothing', () => {
  // A sleeper or an explored choice proves its orders covered when the bound cut
  // nothing below it: then the bounded search is the unbounded source DPOR search.
  it.each([
    ['reorder(4) fixed, preemptions ≤ 9', reorder(4).fixed!, { preemptionBound: 9 }],
    ['fib_bench(2) fixed, preemptions ≤ 9', fibBench(2).fixed!, { preemptionBound: 9 }],
    ['fib_bench(2), delays ≤ 40', fibBench(2).program, { delayBound: 40 }],
  ] as const)('%s explores as many executions as unbounded source DPOR', async (_, prog, bound) => {
    const bounded = await explore(prog, { strategy: exhaustive(bound), run: untimed });
    const unbounded = await explore(prog, { strategy: exhaustive({ reduction: 'source' }), run: untimed });
    expect(bounded.stats.boundPruned).toBe(0);
    expect(bounded.executions).toBe(unbounded.executions);
    expect(new Set(bounded.outcomes.map((o) => o.key))).toEqual(new Set(unbounded.outcomes.map((o) => o.key)));
  });
});

// Soundness: reduction must not lose any outcome. Small random programs over locks,
// semaphores, conditions, events, a queue and joins (random-programs.ts), explored with
// and without reduction, reach the same outcomes.

describe('delay bounding', () => {
  it('0 delays is the round-robin execution alone; more delays reach more outcomes, up to all of them', async () => {
    const prog = writerReaders(3);
    const counts = [];
    for (const delayBound of [0, 1, 2, 8]) {
      const r = await explore(prog, { strategy: exhaustive({ delayBound }), run: untimed });
      expect(r.summary).toContain(`delays ≤ ${delayBound}`);
      counts.push(r.outcomes.length);
    }
    expect(counts[0]).toBe(1);
    expect(counts[1]!).toBeGreaterThan(counts[0]!);
    for (let i = 1; i < counts.length; i++) expect(counts[i]!).toBeGreaterThanOrEqual(counts[i - 1]!);
    expect(counts[3]).toBe(8); // enough delays: every outcome of the unbounded search
  });
});

describe('soundness of the reduction', () => {
  it.each(['optimal', 'source'] as const)('%s DPOR reaches exactly the outcomes of unreduced search, for random small programs', async (reduction) => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(blockingSpec, async (spec) => {
        const prog = blockingProgram(spec);
        const reduced = await explore(prog, { strategy: exhaustive({ reduction }), ...comparison });
        const full = await explore(prog, { strategy: exhaustive({ reduction: false }), ...comparison, budget: { executions: 5_000 } });
        fc.pre(full.complete); // the unreduced baseline must finish for the comparison to mean anything
        expect(reduced.complete).toBe(true);
        expect(new Set(reduced.outcomes.map((o) => o.key))).toEqual(new Set(full.outcomes.map((o) => o.key)));
        expect(reduced.executions).toBeLessThanOrEqual(full.executions);
        compared++;
      }),
      { numRuns: 30, seed: 20261128, maxSkipsPerRun: 1000 },
    );
    expect(compared).toBeGreaterThanOrEqual(20); // most generated programs are small enough to compare
  });
});

describe('a bound that cuts nothing', () => {
  it('leaves a proof: the summary says every distinct execution was explored, and a bound that cuts says it is not one', async () => {
    const loose = await explore(writerReaders(3), { strategy: exhaustive({ preemptionBound: 10 }), run: untimed });
    const unbounded = await explore(writerReaders(3), { strategy: exhaustive({ reduction: 'source' }), run: untimed });
    expect(loose.stats.boundPruned).toBe(0);
    expect(loose.executions).toBe(unbounded.executions);
    expect(loose.summary).toBe(`exhaustive(preemptions ≤ 10): all ${loose.executions} distinct executions explored (complete up to partial-order equivalence; the bound cut nothing); every run ended ok in every one; ${loose.outcomes.length} distinct outcome(s).`);
    const tight = await explore(writerReaders(3), { strategy: exhaustive({ preemptionBound: 0 }), run: untimed });
    expect(tight.stats.boundPruned).toBeGreaterThan(0);
    expect(tight.summary).toContain(`(${tight.stats.boundPruned} alternative(s) cut)`);
  });

  it.each([
    ['preemption', { preemptionBound: 1 }],
    ['delay', { delayBound: 1 }],
  ] as const)('under a %s bound, a search that counts nothing cut reaches every outcome of the unbounded, unreduced search (random programs)', async (_, bound) => {
    let proofs = 0;
    let cut = 0;
    await fc.assert(
      fc.asyncProperty(blockingSpec, async (spec) => {
        const prog = blockingProgram(spec);
        const bounded = await explore(prog, { strategy: exhaustive(bound), ...comparison, budget: { executions: 5_000 } });
        fc.pre(bounded.complete);
        if (bounded.stats.boundPruned > 0) {
          cut++;
          return;
        }
        const full = await explore(prog, { strategy: exhaustive({ reduction: false }), ...comparison, budget: { executions: 5_000 } });
        fc.pre(full.complete);
        expect(new Set(bounded.outcomes.map((o) => o.key))).toEqual(new Set(full.outcomes.map((o) => o.key)));
        // A run that deadlocks or raises makes the summary a failure's; the others say it is a proof.
        if (bounded.failure === undefined) expect(bounded.summary).toContain('the bound cut nothing');
        proofs++;
      }),
      { numRuns: 30, seed: 20261129, maxSkipsPerRun: 1000 },
    );
    // Both kinds occur: the law is not vacuous, and the bound does cut some programs.
    expect(proofs).toBeGreaterThanOrEqual(5);
    expect(cut).toBeGreaterThanOrEqual(3);
  });
});

describe('reduction and blocking', () => {
  it('reverses two critical sections even when the first takes a re-entrant lock twice', async () => {
    // The second acquire of the holder hides the first from a naive race check: the
    // reader was blocked there, so that race cannot be reversed, but the first can.
    const prog = program(
      function* ({ mp }: World) {
        const l = mp.RLock();
        const e = mp.Event();
        let seen = '?';
        function* holder(): Generator<Op<unknown>, void, unknown> {
          yield* l.acquire();
          yield* l.acquire();
          yield* e.set();
          yield* l.release();
          yield* l.release();
        }
        function* reader(): Generator<Op<unknown>, void, unknown> {
          yield* l.acquire();
          seen = (yield* e.isSet()) ? 'after' : 'before';
          yield* l.release();
        }
        const ps = [mp.Process({ target: holder }), mp.Process({ target: reader })];
        for (const p of ps) yield* p.start();
        for (const p of ps) yield* p.join();
        return seen;
      },
      { name: 'rlock-sections' },
    );
    const reduced = await explore(prog, { strategy: exhaustive(), run: untimed });
    const full = await explore(prog, { strategy: exhaustive({ reduction: false }), run: untimed });
    expect(new Set(reduced.outcomes.map((o) => o.key))).toEqual(new Set(['ok "after"', 'ok "before"']));
    expect(new Set(reduced.outcomes.map((o) => o.key))).toEqual(new Set(full.outcomes.map((o) => o.key)));
  });

  it('a synchronized Value read races a locked write', async () => {
    const prog = program(
      function* ({ mp }: World) {
        const v = mp.Value('i', 0);
        let seen = -1;
        function* writer(): Generator<Op<unknown>, void, unknown> {
          yield* v.acquire();
          yield* v.set(1);
          yield* v.release();
        }
        function* reader(): Generator<Op<unknown>, void, unknown> {
          seen = yield* v.get();
        }
        const ps = [mp.Process({ target: writer }), mp.Process({ target: reader })];
        for (const p of ps) yield* p.start();
        for (const p of ps) yield* p.join();
        return seen;
      },
      { name: 'value-sections' },
    );
    const r = await explore(prog, { strategy: exhaustive(), run: untimed });
    expect(new Set(r.outcomes.map((o) => o.key))).toEqual(new Set(['ok 0', 'ok 1']));
  });

  it.each(['optimal', 'source'] as const)('%s DPOR reaches every outcome of releasing a Lock another process holds, or nobody does', async (reduction) => {
    // Any process may release a multiprocessing Lock, and releasing an unlocked one
    // raises: such a release is not independent of the acquires and of a Condition's
    // ownership checks around it, as the owner's release is.
    type Gen = Generator<Op<unknown>, void, unknown>;
    const attempt = function* (out: string[], who: string, op: () => Op<unknown>): Gen {
      try {
        yield* op();
        out.push(`${who} ok`);
      } catch (e) {
        out.push(`${who} ${(e as Error).name}`);
      }
    };
    const steal = program(
      function* ({ mp }: World) {
        const l = mp.Lock();
        const out: string[] = [];
        function* taker(): Gen {
          yield* l.acquire();
          out.push('taken');
        }
        function* releaser(): Gen {
          yield* attempt(out, 'release', () => l.release());
        }
        for (const target of [taker, releaser]) yield* mp.Process({ target }).start();
        return out;
      },
      { name: 'lock-steal' },
    );
    const notify = program(
      function* ({ mp }: World) {
        const l = mp.Lock();
        const c = mp.Condition(l);
        const out: string[] = [];
        function* waiter(): Gen {
          yield* l.acquire();
          yield* attempt(out, 'wait', () => c.wait());
        }
        function* notifier(): Gen {
          yield* l.acquire();
          yield* attempt(out, 'notify', () => c.notify());
        }
        function* releaser(): Gen {
          yield* attempt(out, 'release', () => l.release());
        }
        for (const target of [waiter, notifier, releaser]) yield* mp.Process({ target }).start();
        return out;
      },
      { name: 'condition-steal' },
    );
    for (const prog of [steal, notify]) {
      const reduced = await explore(prog, { strategy: exhaustive({ reduction }), run: untimed });
      const full = await explore(prog, { strategy: exhaustive({ reduction: false }), run: untimed });
      expect(new Set(reduced.outcomes.map((o) => o.key))).toEqual(new Set(full.outcomes.map((o) => o.key)));
    }
    const full = await explore(steal, { strategy: exhaustive({ reduction: false }), run: untimed });
    expect(new Set(full.outcomes.map((o) => o.key))).toEqual(new Set(['ok ["taken","release ok"]', 'ok ["release ValueError","taken"]']));
  });

  it.each(['optimal', 'source'] as const)('%s DPOR finds the waiter that begins waiting after a set and clear: it waits forever', async (reduction) => {
    // A wait takes in the state of the event when it begins waiting — in a step of
    // its own, which the set and the clear conflict with. Taken in when the wait was
    // issued instead (at the end of the waiter's previous, unrelated step), the
    // reductions never ran the flicker before it, and missed the deadlock.
    const prog = program(
      function* ({ mp }: World) {
        const e = mp.Event();
        const gate = mp.Semaphore(1);
        function* waiter(): Generator<Op<unknown>, void, unknown> {
          yield* e.wait();
        }
        function* flicker(): Generator<Op<unknown>, void, unknown> {
          yield* gate.acquire();
          yield* e.set();
          yield* e.clear();
          yield* gate.release();
        }
        for (const target of [waiter, flicker]) yield* mp.Process({ target }).start();
      },
      { name: 'event-flicker' },
    );
    const reduced = await explore(prog, { strategy: exhaustive({ reduction }), run: untimed });
    const full = await explore(prog, { strategy: exhaustive({ reduction: false }), run: untimed });
    expect(new Set(full.outcomes.map((o) => o.key.split(':')[0]))).toEqual(new Set(['ok ""', 'deadlock']));
    expect(new Set(reduced.outcomes.map((o) => o.key))).toEqual(new Set(full.outcomes.map((o) => o.key)));
  });
});

describe('sharding exhaustive exploration', () => {
  it('splits the tree: the shards together reach the unsharded outcomes, with the same total at the same split', async () => {
    const prog = writerReaders(3);
    const whole = await explore(prog, { strategy: exhaustive({ splitDepth: 2 }), run: untimed });
    const shards = [];
    for (let index = 0; index < 3; index++) shards.push(await explore(prog, { strategy: exhaustive(), run: untimed, shard: { index, count: 3 } }));
    expect(whole.complete).toBe(true);
    for (const s of shards) expect(s.complete).toBe(true);
    const merged = new Map<string, number>();
    for (const s of shards) for (const o of s.outcomes) merged.set(o.key, (merged.get(o.key) ?? 0) + o.count);
    expect(merged).toEqual(new Map(whole.outcomes.map((o) => [o.key, o.count])));
    expect(shards.reduce((n, s) => n + s.executions, 0)).toBe(whole.executions);
    expect(shards.filter((s) => s.executions > 0).length).toBeGreaterThan(1); // the work is really split
    const unsplit = await explore(prog, { strategy: exhaustive(), run: untimed });
    expect(new Set(merged.keys())).toEqual(new Set(unsplit.outcomes.map((o) => o.key)));
  });
});
