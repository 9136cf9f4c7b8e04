/**
 * Lock-order inversion: reported as potential from a run that did not deadlock,
 * with lockdep's two-column scenario and the sites a directed schedule needs;
 * confirmed by an exploration (sched's explore, passed in); filtered when a gate
 * lock or process start/join keeps the acquisitions apart; and never reported on
 * programs that take their locks in one global order (a fast-check property).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { program, run, runSync, type Lock, type Op, type RLock, type Value, type World } from '@interleave/core';

type Gen = Generator<Op<unknown>, void, unknown>;
import { explore, replay, roundRobinStrategy } from '@interleave/sched';
import { confirmLockOrder, directedExploration, formatFinding, lockOrder, lockOrderData, lockOrderStrategy, type Finding } from '../src/index.js';
import { twoLocks } from './two-locks.js';


/** A run of `twoLocks` that does not deadlock: round-robin runs each worker through. */
async function potentialFinding(): Promise<Finding> {
  const order = lockOrder();
  const r = await run(twoLocks, { strategy: roundRobinStrategy(), monitors: [order] });
  expect(r.status).toBe('ok');
  expect(order.findings).toHaveLength(1);
  return order.findings[0]!;
}

describe('lockOrder: a two-lock inversion in a run that did not deadlock', () => {
  it('is reported once, as potential, with the sites and the ordering constraint', async () => {
    const f = await potentialFinding();
    expect(f.kind).toBe('lock-order');
    expect(f.status).toBe('potential');
    expect(f.message).toBe(
      'possible circular locking (lock-order inversion): Process-1 (pid 1001) takes Lock#1 then Lock#2; Process-2 (pid 1002) takes Lock#2 then Lock#1',
    );
    expect(f.fix).toBe('acquire locks in one global order: every process takes Lock#1 before Lock#2 (or guard both with one lock).');
    const data = lockOrderData(f)!;
    expect(data.cycle).toEqual(['Lock#1', 'Lock#2']);
    expect(data.sites.map((s) => [s.pid, s.holds, s.acquires])).toEqual([
      [1001, 'Lock#1', 'Lock#2'],
      [1002, 'Lock#2', 'Lock#1'],
    ]);
    expect(data.constraint).toContain('Process-1 holds Lock#1 and Process-2 holds Lock#2 before any of them asks for its second lock');
    expect(f.events.map((e) => `${e.pid} ${e.op} ${e.note ?? ''}`)).toEqual([
      '1001 Lock#1.acquire() takes Lock#1',
      '1001 Lock#2.acquire() asks for Lock#2 while holding Lock#1',
      '1002 Lock#2.acquire() takes Lock#2',
      '1002 Lock#1.acquire() asks for Lock#1 while holding Lock#2',
    ]);
    expect(JSON.parse(JSON.stringify(f))).toEqual(f);
  });

  it("shows lockdep's possible unsafe locking scenario, one column per process", async () => {
    const f = await potentialFinding();
    expect(f.details).toBe(
      [
        'WARNING: possible circular locking dependency detected',
        'Chain exists of: Lock#1 --> Lock#2 --> Lock#1',
        '',
        ' Possible unsafe locking scenario:',
        '',
        '       Process-1 (pid 1001)    Process-2 (pid 1002)',
        '       --------------------    --------------------',
        '       lock(Lock#1);',
        '                               lock(Lock#2);',
        '                               lock(Lock#1);',
        '       lock(Lock#2);',
        '',
        ' *** DEADLOCK ***',
      ].join('\n'),
    );
    expect(formatFinding(f)).toContain('[lock-order, potential]');
  });

  it('is confirmed by a directed exploration, with a token that replays the deadlock', async () => {
    const f = await potentialFinding();
    const c = await confirmLockOrder(twoLocks, f, explore);
    expect(c.status).toBe('confirmed');
    expect(c.message).toMatch(/^lock-order inversion confirmed: a directed schedule deadlocks: /);
    expect(c.token).toMatch(/^il1\./);
    expect(c.details).toContain('Confirmed by a directed schedule:');
    expect(c.details).toContain('"Process-1" (pid 1001): waiting in Lock#2.acquire() for Lock#2, which is held by "Process-2" (pid 1002)');
    const again = await replay(twoLocks, c.token!);
    expect(again.status).toBe('deadlock');
    expect(again.status === 'deadlock' && again.blocked.map((b) => `${b.pid} ${b.op}`)).toEqual(['1000 Process-1.join()', '1001 Lock#2.acquire()', '1002 Lock#1.acquire()']);
  });

  it('the directed strategy realises it on every seed tried, where random schedules mostly do not', async () => {
    const f = await potentialFinding();
    let directed = 0;
    let random = 0;
    for (let seed = 0; seed < 20; seed++) {
      if ((await run(twoLocks, { seed, strategy: lockOrderStrategy(f, seed) })).status === 'deadlock') directed++;
      if ((await run(twoLocks, { seed })).status === 'deadlock') random++;
    }
    expect(directed).toBe(20);
    expect(random).toBeLessThan(20);
    expect(directedExploration(f, { executions: 2 }).next(2)).toBeNull();
  });

  it('a run that did deadlock on the cycle upgrades the report to confirmed, without hiding the deadlock status', async () => {
    const f = await potentialFinding();
    const order = lockOrder();
    const r = await run(twoLocks, { strategy: lockOrderStrategy(f), monitors: [order] });
    expect(r.status).toBe('deadlock');
    expect(order.findings.map((x) => x.status)).toEqual(['confirmed']);
    expect(order.findings[0]!.message).toMatch(/^lock-order deadlock \(this run\)/);
  });

  it('counts a request that never took effect: a daemon killed while it waited for its second lock', () => {
    const killedWaiting = program(function* ({ mp, time }: World) {
      function* forward(a: Lock, b: Lock): Gen {
        yield* a.acquire();
        yield* b.acquire();
        yield* b.release();
        yield* a.release();
      }
      function* backward(a: Lock, b: Lock): Gen {
        yield* time.sleep(1);
        yield* b.acquire();
        yield* time.sleep(2);
        yield* a.acquire(); // main holds a from t=2 on: waits until main's end kills it
      }
      const a = mp.Lock();
      const b = mp.Lock();
      const p1 = mp.Process({ target: forward, args: [a, b] });
      yield* p1.start();
      yield* mp.Process({ target: backward, args: [a, b], daemon: true }).start();
      yield* time.sleep(2);
      yield* a.acquire();
      yield* time.sleep(5);
      yield* p1.join();
    });
    const order = lockOrder();
    const r = runSync(killedWaiting, { seed: 0, monitors: [order] });
    expect(r.status).toBe('ok');
    expect(order.findings).toHaveLength(1);
    const data = lockOrderData(order.findings[0]!)!;
    expect(data.sites.map((s) => `${s.name} holds ${s.holds}, asks for ${s.acquires} at step ${s.acquiresAt.step}`)).toEqual([
      'Process-1 holds Lock#1, asks for Lock#2 at step 6',
      'Process-2 holds Lock#2, asks for Lock#1 at step 14',
    ]);
  });

  it('over an exploration, one distinct report with how many executions showed it and a token', async () => {
    const order = lockOrder();
    const ex = await explore(twoLocks, { budget: { executions: 30 }, monitors: [order] });
    expect(order.distinct).toHaveLength(1);
    const d = order.distinct[0]!;
    expect(d.runs).toBeGreaterThan(0);
    expect(d.runs).toBeLessThanOrEqual(ex.executions);
    expect(d.finding.token).toMatch(/^il1\./);
  });
});

describe('lockOrder: three processes around a cycle (dining philosophers)', () => {
  const philosophers = program(async ({ mp, print }: World) => {
    async function eat(left: Lock, right: Lock, i: number): Promise<void> {
      await left.acquire();
      await right.acquire();
      await print(`philosopher ${i} eats`);
      await right.release();
      await left.release();
    }
    const forks = [mp.Lock(), mp.Lock(), mp.Lock()];
    const ps = forks.map((_, i) => mp.Process({ target: eat, args: [forks[i]!, forks[(i + 1) % 3]!, i] }));
    for (const p of ps) await p.start();
    for (const p of ps) await p.join();
  }, { name: 'philosophers' });

  it('reports the three-lock cycle with three columns, and confirms it', async () => {
    const order = lockOrder();
    expect((await run(philosophers, { strategy: roundRobinStrategy(), monitors: [order] })).status).toBe('ok');
    expect(order.findings).toHaveLength(1);
    const f = order.findings[0]!;
    expect(lockOrderData(f)!.cycle).toEqual(['Lock#1', 'Lock#2', 'Lock#3']);
    expect(f.details).toContain('Chain exists of: Lock#1 --> Lock#2 --> Lock#3 --> Lock#1');
    expect(f.details).toContain('Process-1 (pid 1001)    Process-2 (pid 1002)    Process-3 (pid 1003)');
    const c = await confirmLockOrder(philosophers, f, explore);
    expect(c.status).toBe('confirmed');
  });
});

describe('lockOrder: no report when nothing can interleave', () => {
  it('a gate lock held around both orders serialises them', async () => {
    const gated = program(async ({ mp }: World) => {
      async function w(g: Lock, x: Lock, y: Lock): Promise<void> {
        await g.acquire();
        await x.acquire();
        await y.acquire();
        await y.release();
        await x.release();
        await g.release();
      }
      const [g, a, b] = [mp.Lock(), mp.Lock(), mp.Lock()];
      const ps = [mp.Process({ target: w, args: [g, a, b] }), mp.Process({ target: w, args: [g, b, a] })];
      for (const p of ps) await p.start();
      for (const p of ps) await p.join();
    });
    const order = lockOrder();
    await run(gated, { monitors: [order] });
    expect(order.findings).toEqual([]);
  });

  it('a child started after its parent released, or a parent that takes the other order after join', async () => {
    const ordered = program(async ({ mp }: World) => {
      async function child(a: Lock, b: Lock): Promise<void> {
        await b.acquire();
        await a.acquire();
        await a.release();
        await b.release();
      }
      const [a, b] = [mp.Lock(), mp.Lock()];
      await a.acquire();
      await b.acquire();
      await b.release();
      await a.release();
      const p = mp.Process({ target: child, args: [a, b] });
      await p.start();
      await p.join();
      await a.acquire();
      await b.acquire();
      await b.release();
      await a.release();
    });
    const order = lockOrder();
    await run(ordered, { monitors: [order] });
    expect(order.findings).toEqual([]);
  });

  it('re-entrant RLock acquires and try-acquires add no order', async () => {
    const prog = program(async ({ mp }: World) => {
      async function w(r: RLock, l: Lock): Promise<void> {
        await r.acquire();
        await l.acquire();
        await r.acquire(); // re-entrant: it cannot wait
        await r.release();
        await l.release();
        await r.release();
      }
      async function v(r: RLock, l: Lock): Promise<void> {
        await l.acquire();
        if (await r.acquire(false)) await r.release(); // a try-acquire cannot deadlock
        await l.release();
      }
      const [r, l] = [mp.RLock(), mp.Lock()];
      const ps = [mp.Process({ target: w, args: [r, l] }), mp.Process({ target: v, args: [r, l] })];
      for (const p of ps) await p.start();
      for (const p of ps) await p.join();
    });
    for (let seed = 0; seed < 20; seed++) {
      const order = lockOrder();
      await run(prog, { seed, monitors: [order] });
      expect(order.findings).toEqual([]);
    }
  });
});

describe('lockOrder and the lock a synchronized Value takes for each access', () => {
  /** `with a: v.value += 1` in one process, `with v.get_lock(): with a:` in the other. */
  const valueLockInversion = (hold: boolean) =>
    program(async ({ mp }: World) => {
      async function bump(a: Lock, v: Value<number>): Promise<void> {
        await a.acquire();
        await v.update((x) => x + 1); // takes v's lock for each of its two steps
        await a.release();
      }
      async function nested(a: Lock, v: Value<number>): Promise<void> {
        const l = v.getLock();
        if (hold) await l.acquire();
        await a.acquire();
        await a.release();
        if (hold) await l.release();
      }
      const [a, v] = [mp.Lock(), mp.Value('i', 0)];
      const ps = [mp.Process({ target: bump, args: [a, v] }), mp.Process({ target: nested, args: [a, v] })];
      for (const p of ps) await p.start();
      for (const p of ps) await p.join();
    });

  it('is an ordering like an acquire: the inversion with an explicit acquire of it is reported, naming the access', async () => {
    const order = lockOrder();
    await run(valueLockInversion(true), { seed: 0, strategy: roundRobinStrategy(), monitors: [order] });
    expect(order.findings).toHaveLength(1);
    const f = order.findings[0]!;
    expect(f.status).toBe('potential');
    expect(f.message).toMatch(/^possible circular locking \(lock-order inversion\): Process-1 \(pid 1001\) takes Lock#1 then RLock#\d+; Process-2 \(pid 1002\) takes RLock#\d+ then Lock#1$/);
    expect(f.events.map((e) => e.op)).toContain('Value#1.update()');
    expect(f.events.find((e) => e.op === 'Value#1.update()')?.note).toMatch(/^asks for RLock#\d+ \(its synchronized access takes it\) while holding Lock#1$/);
  });

  it('alone, with no other order of those locks, is none', async () => {
    for (let seed = 0; seed < 10; seed++) {
      const order = lockOrder();
      await run(valueLockInversion(false), { seed, monitors: [order] });
      expect(order.findings).toEqual([]);
    }
  });
});

describe('lockOrder precision: programs that take their locks in one global order', () => {
  /** Per process, critical sections; each section nests an ascending subset of the locks. */
  type Section = { readonly locks: readonly number[]; readonly releaseInOrder: boolean; readonly reenter: boolean };
  const sectionArb: fc.Arbitrary<Section> = fc.record({
    locks: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }).map((xs) => [...xs].sort((a, b) => a - b)),
    releaseInOrder: fc.boolean(),
    reenter: fc.boolean(),
  });
  const programArb = fc.array(fc.array(sectionArb, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 4 });

  const build = (spec: readonly (readonly Section[])[], rlocks: boolean) =>
    program(function* ({ mp, print }: World): Generator<Op<unknown>, void, unknown> {
      const locks = [0, 1, 2, 3].map(() => (rlocks ? mp.RLock() : mp.Lock()));
      function* worker(sections: readonly Section[]): Generator<Op<unknown>, void, unknown> {
        for (const s of sections) {
          for (const i of s.locks) yield* locks[i]!.acquire();
          if (rlocks && s.reenter) {
            yield* locks[s.locks[0]!]!.acquire();
            yield* locks[s.locks[0]!]!.release();
          }
          yield* print('in');
          const order = s.releaseInOrder ? s.locks : [...s.locks].reverse();
          for (const i of order) yield* locks[i]!.release();
        }
      }
      const ps = spec.map((sections) => mp.Process({ target: worker, args: [sections] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    });

  it('never reports a lock-order inversion (fast-check over random programs and schedules)', () => {
    fc.assert(
      fc.property(programArb, fc.boolean(), fc.integer(), (spec, rlocks, seed) => {
        const order = lockOrder();
        const r = runSync(build(spec, rlocks), { seed, timing: 'untimed', monitors: [order] });
        expect(r.status).toBe('ok');
        expect(order.findings).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('and does report once one process reverses its order (the property is not vacuous)', () => {
    const spec: Section[][] = [
      [{ locks: [0, 2], releaseInOrder: false, reenter: false }],
      [{ locks: [2, 0], releaseInOrder: false, reenter: false }],
    ];
    const order = lockOrder();
    runSync(build(spec, false), { seed: 0, strategy: { name: 'first', choose: () => 0 }, monitors: [order] });
    expect(order.findings.map((f) => lockOrderData(f)?.cycle)).toEqual([['Lock#1', 'Lock#3']]);
  });
});
