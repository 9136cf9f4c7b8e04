/**
 * Lost updates and check-then-act: the course's Manager count, the ticket oversell
 * and `v.value += 1` are found (confirmed when this run lost an update, potential
 * when another schedule would); their locked versions are never reported, under
 * every schedule of a small instance.
 */
import { describe, expect, it } from 'vitest';
import { program, run, runSync, type Condition, type DictProxy, type Lock, type Op, type Queue, type RawValue, type Value, type World } from '@interleave/core';
import { exhaustive, explore, roundRobinStrategy } from '@interleave/sched';
import { lostUpdates, type Finding } from '../src/index.js';
import { finalCount, locked, unlocked, withLock } from '../../../examples/course/manager.js';
import { buyLocked, buyUnlocked, counterLocked, counterUnlocked, TICKET_FILES, type Ticket } from '../../../examples/course/ticket.js';

type Gen<T = void> = Generator<Op<unknown>, T, unknown>;
const untimed = { timing: 'untimed' } as const;

/** The course's Manager count with `n` processes: `dic['count'] -= 1`, with or without a lock. */
function managerCount(n: number, withTheLock: boolean) {
  return program(
    function* ({ mp, print }: World) {
      function* func(dic: DictProxy<string, number>, lock: Lock): Gen {
        if (withTheLock) yield* lock.acquire();
        yield* dic.update('count', (v) => v - 1);
        if (withTheLock) yield* lock.release();
      }
      const m = mp.Manager();
      const lock = mp.Lock();
      const dic = m.dict({ count: n });
      const ps = Array.from({ length: n }, () => mp.Process({ target: func, args: [dic, lock] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      yield* print(dic);
      return (yield* dic.get('count'));
    },
    { name: `manager-count-${n}-${withTheLock ? 'locked' : 'unlocked'}` },
  );
}

/** The course's buy-ticket program with `n` buyers, sleeps dropped (untimed exploration ignores them anyway). */
function buyTickets(n: number, withTheLock: boolean) {
  return program(
    function* ({ mp, fs }: World) {
      function* buy(l: Lock): Gen {
        if (withTheLock) yield* l.acquire();
        const t = (yield* fs.readJson<Ticket>('ticket'));
        if (t.count > 0) t.count -= 1;
        yield* fs.writeJson('ticket', t);
        if (withTheLock) yield* l.release();
      }
      const l = mp.Lock();
      const ps = Array.from({ length: n }, () => mp.Process({ target: buy, args: [l] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    },
    { name: `buy-${n}-${withTheLock ? 'locked' : 'unlocked'}`, files: TICKET_FILES },
  );
}

const LOST = /^Process-\d+ \(pid \d+\) read DictProxy#1\["count"\] = \d+ at step \d+; Process-\d+ \(pid \d+\) wrote \d+ at step \d+; Process-\d+ wrote \d+ at step \d+ — Process-\d+'s update was lost$/;

describe('the course Manager count', () => {
  it('unlocked, in a run that lost updates: a confirmed lost update, said plainly', async () => {
    const lu = lostUpdates({ failOn: 'never' });
    const r = await run(unlocked, { seed: 0, monitors: [lu] });
    expect(finalCount(r.stdout)).toBeGreaterThan(0);
    const f = lu.findings.find((x) => x.status === 'confirmed')!;
    expect(f.kind).toBe('lost-update');
    expect(f.message).toMatch(LOST);
    expect(f.events.map((e) => e.note)).toEqual([expect.stringMatching(/^read \d+, holding no lock$/), expect.stringMatching(/ — lost$/), expect.stringMatching(/computed from the stale read$/)]);
    expect(f.events.every((e) => e.op === 'DictProxy#1.update("count", fn)')).toBe(true);
    expect(f.fix).toMatch(/lock/);
    expect(f.data).toMatchObject({ location: 'DictProxy#1["count"]', object: 'DictProxy#1' });
    // One report for 100 processes running the same code.
    expect(lu.findings).toHaveLength(1);
    expect(f.data?.['occurrences']).toBeGreaterThan(10);
  });

  it('unlocked, in a run that lost nothing: still reported, as potential', async () => {
    const lu = lostUpdates({ failOn: 'never' });
    const r = await run(unlocked, { strategy: roundRobinStrategy(), monitors: [lu] });
    expect(r.status).toBe('ok');
    expect(finalCount(r.stdout)).toBe(0);
    expect(lu.findings).toHaveLength(1);
    expect(lu.findings[0]).toMatchObject({ kind: 'lost-update', status: 'potential' });
    expect(lu.findings[0]!.message).toMatch(/a schedule that runs it in between loses it$/);
  });

  it('by default only a confirmed lost update fails the run', async () => {
    const potentialOnly = await run(unlocked, { strategy: roundRobinStrategy(), monitors: [lostUpdates()] });
    expect(potentialOnly.status).toBe('ok');
    const confirmed = await run(unlocked, { seed: 0, monitors: [lostUpdates()] });
    expect(confirmed.status).toBe('error');
    if (confirmed.status === 'error') expect(confirmed.message).toMatch(/lost-updates: 1 finding\(s\) in this run\n\[lost-update, confirmed\]/);
    const strict = await run(unlocked, { strategy: roundRobinStrategy(), monitors: [lostUpdates({ failOn: 'potential' })] });
    expect(strict.status).toBe('error');
  });

  it('locked and with-lock versions: nothing, over seeds', async () => {
    for (let seed = 0; seed < 5; seed++) {
      for (const prog of [locked, withLock]) {
        const lu = lostUpdates();
        const r = await run(prog, { seed, monitors: [lu] });
        expect(r.status).toBe('ok');
        expect(lu.findings).toEqual([]);
      }
    }
  });

  it('a small locked instance: nothing under every schedule', async () => {
    const lu = lostUpdates({ failOn: 'never' });
    const report = await explore(managerCount(3, true), { strategy: exhaustive(), run: untimed, monitors: [lu] });
    expect(report.complete).toBe(true);
    expect(report.executions).toBeGreaterThan(1);
    expect(lu.distinct).toEqual([]);
  });

  it('a small unlocked instance: reported in every execution, confirmed exactly where an update was lost', async () => {
    const lu = lostUpdates({ failOn: 'never' });
    const seen: { count: number; statuses: string[] }[] = [];
    const report = await explore(managerCount(3, false), {
      strategy: exhaustive(),
      run: untimed,
      monitors: [lu],
      property: (r) => {
        seen.push({ count: r.status === 'ok' ? r.value : -1, statuses: lu.findings.map((f) => f.status) });
        return true;
      },
    });
    expect(report.complete).toBe(true);
    for (const s of seen) {
      expect(s.statuses.length).toBeGreaterThan(0);
      // A run that ended above 0 lost an update: it is confirmed there, and only there.
      expect(s.statuses.includes('confirmed')).toBe(s.count > 0);
    }
    expect(seen.some((s) => s.count === 0)).toBe(true);
    expect(seen.some((s) => s.count > 0)).toBe(true);
    // Distinct over the whole exploration: one situation, confirmed, with a token replaying it.
    expect(lu.distinct).toHaveLength(1);
    expect(lu.distinct[0]!.finding.status).toBe('confirmed');
    expect(lu.distinct[0]!.finding.token).toMatch(/^il1\./);
  });

  it('with sources: true, names the line of the course program', async () => {
    const lu = lostUpdates({ failOn: 'never', sources: true });
    await run(unlocked, { seed: 0, monitors: [lu] });
    for (const e of lu.findings[0]!.events) expect(e.source).toMatch(/^examples\/course\/manager\.ts:\d+:\d+$/);
  });
});

describe('shared memory and files', () => {
  it('v.value += 1 on a locked Value loses updates; with v.get_lock() it does not', async () => {
    const lu = lostUpdates({ failOn: 'never' });
    await run(counterUnlocked, { seed: 0, monitors: [lu] });
    expect(lu.findings.map((f) => [f.kind, f.data?.['location']])).toEqual([['lost-update', 'Value#1']]);
    expect(lu.findings[0]!.fix).toContain('v.get_lock()');
    for (let seed = 0; seed < 5; seed++) {
      const ok = lostUpdates();
      expect((await run(counterLocked, { seed, monitors: [ok] })).status).toBe('ok');
      expect(ok.findings).toEqual([]);
    }
  });

  it('the ticket oversell: every buyer read the one ticket, and their writes overwrite each other', async () => {
    for (let seed = 0; seed < 5; seed++) {
      const lu = lostUpdates({ failOn: 'never' });
      const r = await run(buyUnlocked, { seed, monitors: [lu] });
      expect(r.status).toBe('ok');
      const f = lu.findings.find((x) => x.status === 'confirmed');
      expect(f?.data?.['location']).toBe('file:ticket');
      expect(f?.message).toMatch(/read file:ticket = "\{\\"count\\":1\}" at step \d+; .* — Process-\d+'s update was lost$/);
      expect(f?.fix).toContain('加锁');
    }
  });

  it('the locked ticket program: nothing, over seeds and under every schedule of a small instance', async () => {
    for (let seed = 0; seed < 5; seed++) {
      const lu = lostUpdates();
      expect((await run(buyLocked, { seed, monitors: [lu] })).status).toBe('ok');
    }
    const lu = lostUpdates({ failOn: 'never' });
    const report = await explore(buyTickets(3, true), { strategy: exhaustive(), run: untimed, monitors: [lu] });
    expect(report.complete).toBe(true);
    expect(lu.distinct).toEqual([]);
    const racy = lostUpdates({ failOn: 'never' });
    await explore(buyTickets(2, false), { strategy: exhaustive(), run: untimed, monitors: [racy] });
    expect(racy.distinct.map((d) => d.finding.status)).toContain('confirmed');
  });

  it('mixed: an unlocked v.value += 1 can be broken by a locked one, never the reverse', async () => {
    const mixed = program(function* ({ mp }: World) {
      function* careful(v: Value): Gen {
        yield* v.withLock(function* () {
          yield* v.update((x) => x + 1);
        });
      }
      function* careless(v: Value): Gen {
        yield* v.update((x) => x + 1); // each access takes v's lock, the pair does not
      }
      const v = mp.Value('i', 0);
      const ps = [mp.Process({ target: careful, args: [v] }), mp.Process({ target: careless, args: [v] })];
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    });
    // The careful process first, entirely: nothing was lost, but the careless one's
    // read-modify-write could have been broken by it. (Sources tell the two sites
    // apart: by operation alone, both are Value#1.update.)
    const lu = lostUpdates({ failOn: 'never', sources: true });
    runSync(mixed, { strategy: { name: 'lowest-pid-first', choose: () => 0 }, monitors: [lu] });
    expect(lu.findings.map((f) => [f.status, f.events.find((e) => e.note?.startsWith('read'))?.pid])).toEqual([['potential', 1002]]);
    // And in no schedule is the careful one's read-modify-write reported as breakable.
    const all = lostUpdates({ failOn: 'never', sources: true });
    const report = await explore(mixed, { strategy: exhaustive(), run: untimed, monitors: [all] });
    expect(report.complete).toBe(true);
    expect(all.distinct.length).toBeGreaterThan(0);
    for (const { finding } of all.distinct) expect(finding.events.find((e) => e.note?.startsWith('read'))?.pid).toBe(1002);
  });

  it('holding the lock for the read, and again for the write, is not holding it across', () => {
    const twice = program(function* ({ mp }: World) {
      function* twoSections(v: Value): Gen {
        const x = (yield* v.withLock(function* () {
          return (yield* v.get());
        }));
        yield* v.withLock(function* () {
          yield* v.set(x + 1);
        });
      }
      function* careless(v: Value): Gen {
        yield* v.update((x) => x + 1);
      }
      const v = mp.Value('i', 0);
      const ps = [mp.Process({ target: twoSections, args: [v] }), mp.Process({ target: careless, args: [v] })];
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    });
    const lu = lostUpdates({ failOn: 'never', sources: true });
    runSync(twice, { strategy: { name: 'lowest-pid-first', choose: () => 0 }, monitors: [lu] });
    const spans = lu.findings.map((f) => f.events.find((e) => e.note?.startsWith('read'))?.pid);
    expect(spans).toContain(1001); // the careless write can land between the two critical sections
  });

  it('a read and a write as two separate calls (d[k] = d[k] - 1) is the same bug', () => {
    const lu = lostUpdates({ failOn: 'never' });
    const prog = program(function* ({ mp }: World) {
      function* dec(d: DictProxy<string, number>): Gen {
        const v = (yield* d.get('n'));
        yield* d.set('n', v - 1);
      }
      const d = mp.Manager().dict({ n: 2 });
      const ps = [0, 1].map(() => mp.Process({ target: dec, args: [d] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    });
    runSync(prog, { seed: 0, monitors: [lu] });
    expect(lu.findings).toHaveLength(1);
    expect(lu.findings[0]!.events.map((e) => e.op)).toEqual(expect.arrayContaining(['DictProxy#1.get("n")', 'DictProxy#1.set("n", 1)']));
  });

  it('not reported: one-call updates, writes the program itself orders, and writes under one lock', async () => {
    const prog = program(function* ({ mp }: World) {
      function* child(d: DictProxy<string, number>, l: Lock, v: RawValue): Gen {
        yield* d.setdefault('k', 1); // read and write in one server call
        yield* d.merge({ m: 2 });
        yield* l.acquire();
        yield* v.set(((yield* v.get())) + 1);
        yield* l.release();
      }
      const d = mp.Manager().dict<number>({ total: 0 });
      const l = mp.Lock();
      const v = mp.RawValue('i', 0);
      // The parent reads, lets two children write, joins them, then writes: the
      // children's writes are forced between its read and its write — by design.
      const before = (yield* d.get('total'));
      const ps = [0, 1].map(() => mp.Process({ target: child, args: [d, l, v] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      yield* d.set('total', before + ((yield* d.get('k'))));
    });
    const lu = lostUpdates({ failOn: 'never' });
    const report = await explore(prog, { strategy: exhaustive(), run: untimed, monitors: [lu] });
    expect(report.complete).toBe(true);
    expect(lu.distinct).toEqual([]);
  });
});

describe('check-then-act on a queue', () => {
  /** Two consumers of one item: `if not q.empty(): q.get()`. */
  const twoConsumers = program(
    function* ({ mp }: World) {
      function* consumer(q: Queue<number>): Gen {
        if (!(yield* q.empty())) yield* q.get();
      }
      const q = mp.Queue<number>();
      yield* q.put(1);
      const ps = [0, 1].map(() => mp.Process({ target: consumer, args: [q], daemon: true }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join(3);
    },
    { name: 'two-consumers-one-item' },
  );

  it('is confirmed where the other consumer took the item between the check and the get, potential elsewhere', async () => {
    const lu = lostUpdates({ failOn: 'never' });
    const byRun: Finding[][] = [];
    const report = await explore(twoConsumers, {
      strategy: exhaustive(),
      monitors: [lu],
      property: () => {
        byRun.push([...lu.findings]);
        return true;
      },
    });
    expect(report.complete).toBe(true);
    const confirmed = byRun.filter((fs) => fs.some((f) => f.status === 'confirmed'));
    expect(confirmed.length).toBeGreaterThan(0);
    expect(byRun.some((fs) => fs.length > 0 && fs.every((f) => f.status === 'potential'))).toBe(true);
    const f = lu.distinct.find((d) => d.finding.status === 'confirmed')!.finding;
    expect(f.kind).toBe('check-then-act');
    expect(f.message).toMatch(/checked Queue#1\.empty\(\) = false at step \d+; .* did a get at step \d+; Process-\d's get (waits forever|never completed): it was still blocked when (the run ended|the process was terminated) — it acted on a stale answer/);
    expect(f.fix).toContain('Empty');
  });

  it('the trap of the docs: non-daemonic consumers, so the loser deadlocks; the report survives the deadlock', async () => {
    const hang = program(function* ({ mp }: World) {
      function* consumer(q: Queue<number>): Gen {
        if (!(yield* q.empty())) yield* q.get();
      }
      const q = mp.Queue<number>();
      yield* q.put(1);
      const ps = [0, 1].map(() => mp.Process({ target: consumer, args: [q] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    });
    const lu = lostUpdates({ failOn: 'never' });
    let deadlocks = 0;
    await explore(hang, {
      strategy: exhaustive(),
      monitors: [lu],
      property: () => true,
      outcome: (r) => {
        if (r.status === 'deadlock') {
          deadlocks++;
          expect(lu.findings.map((f) => [f.kind, f.status])).toContainEqual(['check-then-act', 'confirmed']);
        }
        return r.status;
      },
    });
    expect(deadlocks).toBeGreaterThan(0);
  });

  it('one consumer, or a get with a timeout instead of a check: nothing', async () => {
    const safe = program(function* ({ mp }: World) {
      function* consumer(q: Queue<number>): Gen {
        try {
          yield* q.get(true, 0.1);
        } catch {
          // Empty: nothing for this consumer
        }
      }
      const q = mp.Queue<number>();
      yield* q.put(1);
      const ps = [0, 1].map(() => mp.Process({ target: consumer, args: [q] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    });
    const lu = lostUpdates({ failOn: 'never' });
    const report = await explore(safe, { strategy: exhaustive(), monitors: [lu] });
    expect(report.complete).toBe(true);
    expect(lu.distinct).toEqual([]);
  });
});

describe('lost updates after a Condition wait that returned at once', () => {
  it('a waitFor that gives up at its first step keeps the lock; the release after it is the real one, and ends its protection', () => {
    const prog = program(function* ({ mp }: World) {
      function* worker(c: Condition, v: RawValue): Gen {
        yield* c.acquire();
        // Timeout 0, the predicate falsy: returns at its first step, the lock never released.
        yield* c.waitFor(() => undefined, 0);
        yield* c.release();
        const x = (yield* v.get());
        yield* v.set(x + 1); // unprotected
      }
      const c = mp.Condition();
      const v = mp.RawValue('i', 0);
      const ps = [mp.Process({ target: worker, args: [c, v] }), mp.Process({ target: worker, args: [c, v] })];
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    });
    for (let seed = 0; seed < 8; seed++) {
      const lu = lostUpdates({ failOn: 'never' });
      runSync(prog, { seed, monitors: [lu] });
      expect(lu.findings.map((f) => f.kind)).toContain('lost-update');
      // Not "holding RLock#1": the wait's bookkeeping was taken back at the release, not after it.
      for (const f of lu.findings) for (const e of f.events) expect(e.note ?? '').not.toContain('holding RLock');
    }
  });
});
