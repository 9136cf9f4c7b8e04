/**
 * Atomicity by conflict-serialisability: the course's Manager count (a
 * read-modify-write broken exactly in the executions that lost an update, never in
 * its locked version), a bank transfer declared atomic with `world.atomic` (broken
 * exactly in the executions where the audit saw money missing or doubled, never
 * with the lock), the lock held for the read and again for the write, a block that
 * waits for another process, nested blocks, tokens and failing the run.
 */
import { describe, expect, it } from 'vitest';
import { program, run, runSync, type DictProxy, type Lock, type Op, type ProcessView, type Queue, type RawValue, type RunResult, type Strategy, type Value, type World } from '@interleave/core';
import { exhaustive, explore, replay } from '@interleave/sched';
import { atomicity, formatFinding, lostUpdates, type Finding } from '../src/index.js';
import { finalCount, locked, unlocked, withLock } from '../../../examples/course/manager.js';
import { buyLocked, buyUnlocked } from '../../../examples/course/ticket.js';

type Gen<T = void> = Generator<Op<unknown>, T, unknown>;
const untimed = { timing: 'untimed' } as const;

/** The course's Manager count with `n` processes: `dic['count'] -= 1`, with or without a lock. */
function managerCount(n: number, withTheLock: boolean) {
  return program(
    function* ({ mp }: World) {
      function* func(dic: DictProxy<string, number>, lock: Lock): Gen {
        if (withTheLock) yield* lock.acquire();
        yield* dic.update('count', (v) => v - 1);
        if (withTheLock) yield* lock.release();
      }
      const lock = mp.Lock();
      const dic = mp.Manager().dict({ count: n });
      const ps = Array.from({ length: n }, () => mp.Process({ target: func, args: [dic, lock] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return yield* dic.get('count');
    },
    { name: `manager-count-${n}-${withTheLock ? 'locked' : 'unlocked'}` },
  );
}

/**
 * One transfer of 10 from account A to B, declared atomic, and one audit that reads
 * both balances in a block of its own; `locked`: each block holds the lock.
 */
function bank(locked: boolean) {
  return program(
    function* ({ mp, atomic }: World) {
      function* guarded<T>(l: Lock, body: () => Gen<T>): Gen<T> {
        if (!locked) return yield* body();
        return yield* l.withLock(body);
      }
      function* transfer(a: RawValue, b: RawValue, l: Lock): Gen {
        yield* guarded(l, () =>
          atomic('transfer', function* () {
            yield* a.set((yield* a.get()) - 10);
            yield* b.set((yield* b.get()) + 10);
          }),
        );
      }
      function* audit(a: RawValue, b: RawValue, l: Lock, seen: RawValue): Gen {
        const total = yield* guarded(l, () =>
          atomic('audit', function* () {
            return (yield* a.get()) + (yield* b.get());
          }),
        );
        yield* seen.set(total);
      }
      const [a, b, seen] = [mp.RawValue('i', 100), mp.RawValue('i', 0), mp.RawValue('i', -1)];
      const l = mp.Lock();
      const ps = [mp.Process({ target: transfer, args: [a, b, l] }), mp.Process({ target: audit, args: [a, b, l, seen] })];
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return yield* seen.get();
    },
    { name: `bank-${locked ? 'locked' : 'unlocked'}` },
  );
}

/** Over every schedule: what each execution returned, and the statuses of the findings it had. */
async function everySchedule(prog: ReturnType<typeof program>, monitor: ReturnType<typeof atomicity>) {
  const seen: { value: unknown; statuses: string[] }[] = [];
  const report = await explore(prog, {
    strategy: exhaustive(),
    run: untimed,
    monitors: [monitor],
    property: (r: RunResult) => {
      seen.push({ value: r.status === 'ok' ? r.value : r.status, statuses: monitor.findings.map((f) => f.status) });
      return true;
    },
  });
  expect(report.complete).toBe(true);
  return seen;
}

const RMW = /^T1 \(Process-\d+ \(pid \d+\)'s read-modify-write of DictProxy#1\["count"\], steps \d+–\d+\) is not serialisable: it read \d+ at step \d+ before Process-\d+ \(pid \d+\) wrote \d+ at step \d+, and wrote \d+ at step \d+ after it — no serial order of T1 and Process-\d+'s write gives this run: Process-\d+'s update was lost$/;

describe('read-modify-writes: the course Manager count', () => {
  it('unlocked, in a run that lost updates: a confirmed violation, said plainly', async () => {
    const at = atomicity({ failOn: 'never' });
    const r = await run(unlocked, { seed: 0, monitors: [at] });
    expect(finalCount(r.stdout)).toBeGreaterThan(0);
    expect(at.findings).toHaveLength(1);
    const f = at.findings[0]!;
    expect(f).toMatchObject({ kind: 'atomicity-violation', status: 'confirmed' });
    expect(f.message).toMatch(RMW);
    expect(f.events.map((e) => e.note)).toEqual([
      expect.stringMatching(/^in T1: read \d+, holding no lock$/),
      expect.stringMatching(/^wrote \d+ — between T1's read and write$/),
      expect.stringMatching(/^in T1: wrote \d+, computed from the read before it$/),
    ]);
    expect(f.fix).toMatch(/lock/);
    expect(f.data).toMatchObject({ location: 'DictProxy#1["count"]', transaction: { kind: 'read-modify-write' } });
  });

  it('locked and with-lock versions: nothing, over seeds', async () => {
    for (let seed = 0; seed < 5; seed++) {
      for (const prog of [locked, withLock]) {
        const at = atomicity();
        expect((await run(prog, { seed, monitors: [at] })).status).toBe('ok');
        expect(at.findings).toEqual([]);
      }
    }
  });

  it('a small unlocked instance: violated in exactly the executions that lost an update', async () => {
    const at = atomicity({ failOn: 'never' });
    const seen = await everySchedule(managerCount(3, false), at);
    for (const s of seen) expect(s.statuses.length > 0).toBe((s.value as number) > 0);
    expect(seen.some((s) => s.value === 0)).toBe(true);
    expect(seen.some((s) => (s.value as number) > 0)).toBe(true);
    expect(at.distinct).toHaveLength(1);
    expect(at.distinct[0]!.finding.token).toMatch(/^il1\./);
  });

  it('a small locked instance: nothing under every schedule', async () => {
    const at = atomicity({ failOn: 'never' });
    const seen = await everySchedule(managerCount(3, true), at);
    expect(seen.length).toBeGreaterThan(1);
    expect(at.distinct).toEqual([]);
  });

  it('the ticket oversell is found; the locked ticket program is not', async () => {
    for (let seed = 0; seed < 5; seed++) {
      const at = atomicity({ failOn: 'never' });
      await run(buyUnlocked, { seed, monitors: [at] });
      expect(at.findings.map((f) => f.data?.['location'])).toContain('file:ticket');
      const ok = atomicity();
      expect((await run(buyLocked, { seed, monitors: [ok] })).status).toBe('ok');
    }
  });

  it('holding the lock for the read and again for the write: confirmed where another write came between, which lostUpdates leaves out', async () => {
    const twice = program(function* ({ mp }: World) {
      function* twoSections(v: Value): Gen {
        const x = yield* v.withLock(function* () {
          return yield* v.get();
        });
        yield* v.withLock(function* () {
          yield* v.set(x + 1);
        });
      }
      const v = mp.Value('i', 0);
      const ps = [0, 1].map(() => mp.Process({ target: twoSections, args: [v] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return yield* v.get();
    });
    const at = atomicity({ failOn: 'never' });
    const lu = lostUpdates({ failOn: 'never' });
    const seen: { value: unknown; atomicity: boolean; lost: boolean }[] = [];
    const report = await explore(twice, {
      strategy: exhaustive(),
      run: untimed,
      monitors: [at, lu],
      property: (r) => {
        seen.push({ value: r.status === 'ok' ? r.value : r.status, atomicity: at.findings.length > 0, lost: lu.findings.some((f) => f.status === 'confirmed') });
        return true;
      },
    });
    expect(report.complete).toBe(true);
    for (const s of seen) {
      expect(s.atomicity).toBe(s.value === 1);
      expect(s.lost).toBe(false); // the other write was ordered between by the lock: "the program's own doing"
    }
    expect(seen.some((s) => s.value === 1)).toBe(true);
    expect(at.distinct[0]!.finding.why).toMatch(/released its lock between them/);
  });

  it('implicit: false judges declared blocks only', async () => {
    const at = atomicity({ implicit: false });
    expect((await run(unlocked, { seed: 0, monitors: [at] })).status).toBe('ok');
    expect(at.findings).toEqual([]);
  });
});

const BLOCK = /^T1 \(Process-\d \(pid \d+\)'s atomic "(transfer|audit)", steps \d+–\d+\) is not serialisable: .* — no serial order of T1 and T2 gives this run$/;

describe('declared blocks: a bank transfer and an audit', () => {
  it('unlocked: violated in exactly the executions where the audit saw a wrong total', async () => {
    const at = atomicity({ failOn: 'never' });
    const seen = await everySchedule(bank(false), at);
    for (const s of seen) expect(s.statuses.includes('confirmed')).toBe(s.value !== 100);
    expect(seen.some((s) => s.value === 100)).toBe(true);
    expect(seen.some((s) => s.value === 90)).toBe(true);
    expect(seen.some((s) => s.value === 110)).toBe(true);
    for (const { finding } of at.distinct) {
      expect(finding.message).toMatch(BLOCK);
      expect(finding.data?.['transactions']).toEqual([expect.objectContaining({ name: 'T1' }), expect.objectContaining({ name: 'T2' })]);
      expect(finding.fix).toMatch(/^hold one lock across the whole block "(transfer|audit)"/);
    }
  });

  it('the report names the operations of the cycle, step by step', () => {
    // The transfer (pid 1001) runs until its read of B; the audit (pid 1002) runs; then the transfer ends.
    const pendingOf = (p: ProcessView): string => (p.pending === null ? '' : `${p.pending.obj.id}.${p.pending.name}`);
    const between: Strategy = {
      name: 'audit-inside-transfer',
      choose: (enabled) => {
        const t = enabled.findIndex((p) => p.pid === 1001 && pendingOf(p) !== 'RawValue#2.get');
        if (t >= 0) return t;
        const a = enabled.findIndex((p) => p.pid === 1002);
        return a >= 0 ? a : 0;
      },
    };
    const at = atomicity({ failOn: 'never' });
    const r = runSync(bank(false), { monitors: [at], strategy: between });
    expect(r.status === 'ok' && r.value).toBe(90);
    expect(at.findings).toHaveLength(1);
    const f = at.findings[0]!;
    expect(f.message).toMatch(
      /^T1 \(Process-1 \(pid 1001\)'s atomic "transfer", steps \d+–\d+\) is not serialisable: T1 wrote 90 to RawValue#1 at step \d+ before T2 read RawValue#1 = 90 at step \d+; T2 read RawValue#2 = 0 at step \d+ before T1 wrote 10 to RawValue#2 at step \d+ — no serial order of T1 and T2 gives this run$/,
    );
    expect(f.events.map((e) => `${e.pid} ${e.op} ${e.note}`)).toEqual([
      '1001 RawValue#1.set(90) in T1 ("transfer"): wrote 90',
      '1002 RawValue#1.get() in T2 ("audit"): read 90',
      '1002 RawValue#2.get() in T2 ("audit"): read 0',
      '1001 RawValue#2.set(10) in T1 ("transfer"): wrote 10',
    ]);
    expect(f.why).toMatch(/^A transaction must look as if it ran alone: .* Here T2 had to come after T1, whose step \d+ came first, and before T1, whose step \d+ came after: T1 fits neither before nor after/);
    expect(formatFinding(f)).toContain('  T2: Process-2 (pid 1002), atomic "audit", steps');
  });

  it('locked: nothing under every schedule', async () => {
    const at = atomicity({ failOn: 'never' });
    const seen = await everySchedule(bank(true), at);
    expect(seen.every((s) => s.value === 100)).toBe(true);
    expect(at.distinct).toEqual([]);
  });

  it('async processes: the same, with await atomic(label, async () => ...)', async () => {
    const asyncBank = program(async ({ mp, atomic }: World) => {
      const [a, b] = [mp.RawValue('i', 100), mp.RawValue('i', 0)];
      async function transfer(): Promise<void> {
        await atomic('transfer', async () => {
          await a.set((await a.get()) - 10);
          await b.set((await b.get()) + 10);
        });
      }
      async function audit(): Promise<number> {
        return await atomic('audit', async () => (await a.get()) + (await b.get()));
      }
      const p = mp.Process({ target: transfer });
      await p.start();
      const total = await audit();
      await p.join();
      return total;
    });
    let wrong = 0;
    for (let seed = 0; seed < 30; seed++) {
      const at = atomicity({ failOn: 'never' });
      const r = await run(asyncBank, { seed, monitors: [at] });
      expect(r.status).toBe('ok');
      expect(at.findings.length > 0).toBe(r.status === 'ok' && r.value !== 100);
      if (r.status === 'ok' && r.value !== 100) wrong++;
    }
    expect(wrong).toBeGreaterThan(0);
  });

  it('fails the run by default, with the report in the message; the token replays it', async () => {
    const at = atomicity();
    const report = await explore(bank(false), { strategy: exhaustive(), run: untimed, monitors: [at], property: (r) => r.status === 'ok' });
    expect(report.failure).toBeDefined();
    expect(report.failure!.result.status).toBe('error');
    expect(report.failure!.result.status === 'error' && report.failure!.result.message).toMatch(/atomicity: 1 finding\(s\) in this run\n\[atomicity-violation, confirmed\] T1/);
    const token = at.distinct[0]!.finding.token!;
    const again = atomicity({ failOn: 'never' });
    await replay(bank(false), token, { monitors: [again] });
    expect(again.findings.map((f) => f.key)).toEqual([at.distinct[0]!.finding.key]);
  });
});

describe('declared blocks: other shapes', () => {
  it('nested blocks count as one transaction', () => {
    const prog = program(function* ({ mp, atomic }: World) {
      const v = mp.RawValue('i', 0);
      function* inc(): Gen {
        yield* atomic('outer', function* () {
          const x = yield* atomic('read', function* () {
            return yield* v.get();
          });
          yield* atomic('write', function* () {
            yield* v.set(x + 1);
          });
        });
      }
      const ps = [0, 1].map(() => mp.Process({ target: inc }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return yield* v.get();
    });
    let found = 0;
    for (let seed = 0; seed < 20; seed++) {
      const at = atomicity({ failOn: 'never' });
      const r = runSync(prog, { seed, monitors: [at] });
      expect(at.findings.length > 0).toBe(r.status === 'ok' && r.value !== 2);
      for (const f of at.findings) {
        expect(f.message).toMatch(/^T1 \(Process-\d \(pid \d+\)'s atomic "outer"/);
        found++;
      }
    }
    expect(found).toBeGreaterThan(0);
  });

  it('a block that waits for another process to answer it is not atomic: the edges through messages close the cycle', () => {
    const prog = program(function* ({ mp, atomic }: World) {
      function* server(req: Queue<number>, rep: Queue<number>): Gen {
        yield* rep.put((yield* req.get()) + 1);
      }
      const [req, rep] = [mp.Queue<number>(), mp.Queue<number>()];
      const p = mp.Process({ target: server, args: [req, rep] });
      yield* p.start();
      const answer = yield* atomic('ask', function* () {
        yield* req.put(1);
        return yield* rep.get();
      });
      yield* p.join();
      return answer;
    });
    const at = atomicity({ failOn: 'never' });
    runSync(prog, { seed: 0, monitors: [at] });
    expect(at.findings).toHaveLength(1);
    const f: Finding = at.findings[0]!;
    expect(f.message).toMatch(/^T1 \(MainProcess \(pid 1000\)'s atomic "ask", steps \d+–\d+\) is not serialisable: T1 ran Queue#1\.put\(1\) at step \d+ before Process-1 \(pid 1001\) ran Queue#1\.get\(\) at step \d+; Process-1 \(pid 1001\) ran Queue#2\.put\(2\) at step \d+ before T1 ran Queue#2\.get\(\) at step \d+ — no serial order of T1 and Process-1 \(pid 1001\)'s steps \d+, \d+ gives this run$/);
  });

  it('blocks that only read, or touch data no one else does, are never reported', () => {
    const prog = program(function* ({ mp, atomic }: World) {
      const shared = mp.RawValue('i', 7);
      function* worker(own: RawValue): Gen {
        yield* atomic('work', function* () {
          yield* own.set((yield* own.get()) + (yield* shared.get()));
        });
      }
      const ps = [0, 1, 2].map(() => mp.Process({ target: worker, args: [mp.RawValue('i', 0)] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    });
    for (let seed = 0; seed < 20; seed++) {
      const at = atomicity();
      expect(runSync(prog, { seed, monitors: [at] }).status).toBe('ok');
    }
  });
});
