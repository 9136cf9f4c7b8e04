/**
 * accessChecks(): races and lost updates from one pass and one set of vector
 * clocks. It must find exactly what the two separate monitors find — in particular
 * where the two relations differ: an atomic access (a Manager call, a locked Value)
 * orders data for the race checker, never for the lost-update checker.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { program, run, runSync, type DictProxy, type Lock, type Op, type Program, type Queue, type RawValue, type Value, type World } from '@interleave/core';
import { accessChecks, atomicity, lostUpdates, races, type Finding } from '../src/index.js';
import { locked, unlocked } from '../../../examples/course/manager.js';
import { buyLocked, buyUnlocked, counterLocked, counterUnlocked } from '../../../examples/course/ticket.js';
import { blockingProgram, blockingSpec, sharedMemoryProgram, sharedSpec } from '../../sched/test/random-programs.js';

type Gen<T = void> = Generator<Op<unknown>, T, unknown>;

/** Atomic flags over raw data: ordered for races; the flag's own updates are racy read-modify-writes. */
const flags = program(
  function* ({ mp }: World) {
    function* writer(d: DictProxy<string, number>, v: RawValue, n: Value): Gen {
      yield* v.set(3);
      yield* d.set('ready', 1);
      yield* n.update((x) => x + 1); // locked Value, unlocked read-modify-write
    }
    function* reader(d: DictProxy<string, number>, v: RawValue, n: Value): Gen {
      let seen = 0;
      for (let i = 0; i < 3 && seen === 0; i++) seen = (yield* d.get('ready'));
      if (seen === 1) yield* v.get();
      yield* n.update((x) => x + 1);
      yield* d.update('ready', (x) => x + 1);
    }
    const d = mp.Manager().dict({ ready: 0 });
    const v = mp.RawValue('i', 0);
    const n = mp.Value('i', 0);
    const ps = [mp.Process({ target: reader, args: [d, v, n] }), mp.Process({ target: writer, args: [d, v, n] })];
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  },
  { name: 'flags' },
);

/**
 * A lock taken explicitly by one process, then by another only for one Value access:
 * the lost-update relation must not learn the explicit release through that access.
 */
const lockThenData = program(
  function* ({ mp }: World) {
    function* first(d: DictProxy<string, number>, v: Value): Gen {
      yield* d.update('n', (x) => x + 1);
      yield* v.withLock(function* () {
        yield* v.set(1);
      });
    }
    function* second(d: DictProxy<string, number>, v: Value): Gen {
      yield* v.get();
      yield* d.update('n', (x) => x + 1);
    }
    const d = mp.Manager().dict({ n: 0 });
    const v = mp.Value('i', 0);
    const ps = [mp.Process({ target: first, args: [d, v] }), mp.Process({ target: second, args: [d, v] })];
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  },
  { name: 'lock-then-data' },
);

function keys(fs: readonly Finding[]): string[] {
  return fs.map((f) => `${f.status} ${f.key ?? ''}`).sort();
}

async function compare(prog: Program, seed: number): Promise<void> {
  const r = races({ failOn: 'never' });
  const lu = lostUpdates({ failOn: 'never' });
  const both = accessChecks({ failOn: 'never' });
  await run(prog, { seed, monitors: [r, lu] });
  await run(prog, { seed, monitors: [both] });
  expect(keys(both.findings)).toEqual(keys([...r.findings, ...lu.findings]));
  // With the trace kept, every monitor also gets every issue event; the operations
  // named in reports come from the kernel either way, and must be the same.
  const traced = accessChecks({ failOn: 'never' });
  await run(prog, { seed, monitors: [traced], trace: true });
  expect(JSON.stringify(traced.findings)).toBe(JSON.stringify(both.findings));
}

describe('accessChecks: one pass, the same findings as races() and lostUpdates()', () => {
  it.each([
    ['course manager count, unlocked', unlocked],
    ['course manager count, locked', locked],
    ['ticket, unlocked', buyUnlocked],
    ['ticket, locked', buyLocked],
    ['Value counter, unlocked', counterUnlocked],
    ['Value counter, locked', counterLocked],
    ['atomic flags over raw data', flags],
    ['an explicit lock, then the same lock for one access', lockThenData],
  ] as const)('%s', async (_, prog) => {
    for (let seed = 0; seed < 12; seed++) await compare(prog, seed);
  });

  it('an atomic flag orders the raw data for races, and does not hide the flag’s own lost updates', () => {
    let racesFound = 0;
    let lostFound = 0;
    for (let seed = 0; seed < 30; seed++) {
      const both = accessChecks({ failOn: 'never' });
      runSync(flags, { seed, monitors: [both] });
      racesFound += both.findings.filter((f) => f.kind === 'data-race').length;
      lostFound += both.findings.filter((f) => f.kind === 'lost-update').length;
    }
    expect(racesFound).toBe(0);
    expect(lostFound).toBeGreaterThan(0);
  });

  it('fails the run on a confirmed finding, by default', async () => {
    const r = await run(unlocked, { seed: 0, monitors: [accessChecks()] });
    expect(r.status).toBe('error');
    if (r.status === 'error') expect(r.message).toMatch(/^InvariantViolation: .*access-checks: \d+ finding\(s\) in this run/s);
  });
});

describe('the events the access checkers ask for', () => {
  it('declare what they read (accesses, messages, process starts and ends; atomicity also its blocks), not prints, clocks, block/wake or an issue per step', () => {
    for (const m of [accessChecks(), races(), lostUpdates(), atomicity()]) {
      expect(m.events).toEqual(expect.arrayContaining(['spawn', 'thread-start', 'done', 'access', 'send', 'recv', 'exit', 'reap']));
      for (const unread of ['print', 'clock', 'block', 'wake', 'sleep', 'issue'] as const) expect(m.events).not.toContain(unread);
    }
  });

  it('ask for issue events only to capture source locations (where the user\'s code issued each operation)', () => {
    for (const m of [accessChecks({ sources: true }), races({ sources: true }), lostUpdates({ sources: true })]) expect(m.events).toContain('issue');
  });
});

describe('applied in batches', () => {
  /**
   * Long enough to span several batches: read-modify-writes of a raw Value under a
   * lock and without it, of a Manager dict and of a synchronized Value, and a queue
   * checked before each get — every kind of event the checkers turn into a record.
   */
  function busy(workers: number, rounds: number): Program {
    return program(
      function* ({ mp }: World) {
        function* worker(v: RawValue, d: DictProxy<string, number>, n: Value, q: ReturnType<typeof mp.Queue<number>>, i: number, lock: Lock): Gen {
          for (let k = 0; k < rounds; k++) {
            // A lock's acquire and release: applied at once when nothing is queued, else queued.
            yield* lock.acquire();
            yield* v.set((yield* v.get()) + 1);
            yield* lock.release();
            yield* v.set((yield* v.get()) + 1);
            yield* d.set('n', (yield* d.get('n')) + 1);
            yield* n.update((x) => x + 1);
            yield* q.put(i);
            if (!(yield* q.empty())) yield* q.getNowait();
          }
        }
        const v = mp.RawValue('i', 0);
        const d = mp.Manager().dict({ n: 0 });
        const n = mp.Value('i', 0);
        const q = mp.Queue<number>();
        const lock = mp.Lock();
        const ps = Array.from({ length: workers }, (_, i) => mp.Process({ target: worker, args: [v, d, n, q, i, lock] }));
        for (const p of ps) yield* p.start();
        for (const p of ps) yield* p.join();
      },
      { name: 'busy' },
    );
  }

  /** A monitor that reads `checker`'s findings at every event: the checker then applies each event as it comes. */
  function eager(checker: { readonly findings: readonly Finding[] }): { name: string; onEvent(): void } {
    return { name: 'eager', onEvent: () => void checker.findings };
  }

  it.each([
    ['accessChecks', () => accessChecks({ failOn: 'never' })],
    ['races', () => races({ failOn: 'never' })],
    ['lostUpdates', () => lostUpdates({ failOn: 'never' })],
    ['atomicity', () => atomicity({ failOn: 'never' })],
  ] as const)('%s reports the same, to the word, however its events are batched', (_, make) => {
    for (const [workers, rounds, seed] of [
      [3, 40, 1],
      [5, 25, 2],
      [2, 120, 3],
    ] as const) {
      const batched = make();
      const applied = make();
      const r = runSync(busy(workers, rounds), { seed, monitors: [batched], trace: true });
      runSync(busy(workers, rounds), { seed, monitors: [applied, eager(applied)] });
      const trace = r.trace ?? [];
      expect(trace.length).toBeGreaterThan(4 * 512); // several batches
      expect(batched.findings.length).toBeGreaterThan(0);
      expect(JSON.stringify(batched.distinct)).toBe(JSON.stringify(applied.distinct));
      // Each access in a report names the operation its process performed at that
      // step (kept with the event), not the one it went on to issue.
      const performed = new Map(trace.flatMap((e) => (e.type === 'done' ? [[`${e.pid}@${e.step}`, `${e.obj}.${e.op}(`] as const] : [])));
      const named = batched.findings.flatMap((f) => f.events.filter((e) => performed.has(`${e.pid}@${e.step}`)));
      expect(named.length).toBeGreaterThan(0);
      for (const e of named) expect(e.op.startsWith(performed.get(`${e.pid}@${e.step}`)!), `${e.op} at step ${e.step}`).toBe(true);
    }
  });

  it('a program that changes objects it passed reports the same, batched or applied event by event', () => {
    // Consumers check, get, and change the item they got (their own copy, as a
    // pickled item is in Python); producers check, put, and change what they put.
    // An event that carries an object is applied at once, so reports show objects
    // as they were then, as when each event is applied as it comes.
    const mutating = program(
      function* ({ mp }: World) {
        function* consumer(q: Queue<{ n: number }>): Gen {
          if (!(yield* q.empty())) (yield* q.get()).n = 99;
        }
        function* producer(q: Queue<{ n: number }>, k: number): Gen {
          const o = { n: k };
          if (!(yield* q.full())) yield* q.putNowait(o);
          o.n = 99;
        }
        const q = mp.Queue<{ n: number }>(2);
        yield* q.put({ n: 1 });
        const ps = [
          ...[0, 1].map(() => mp.Process({ target: consumer, args: [q] })),
          ...[2, 3].map((k) => mp.Process({ target: producer, args: [q, k] })),
        ];
        for (const p of ps) yield* p.start();
        for (const p of ps) yield* p.join();
      },
      { name: 'mutating' },
    );
    let objects = 0;
    for (let seed = 0; seed < 40; seed++) {
      const batched = accessChecks({ failOn: 'never' });
      const applied = accessChecks({ failOn: 'never' });
      runSync(mutating, { seed, monitors: [batched] });
      runSync(mutating, { seed, monitors: [applied, eager(applied)] });
      expect(JSON.stringify(batched.findings)).toBe(JSON.stringify(applied.findings));
      objects += batched.findings.flatMap((f) => f.events).filter((e) => /\{"n"/.test(`${JSON.stringify(e.value)} ${e.op}`)).length;
    }
    expect(objects).toBeGreaterThan(0);
  });

  it('law: over random programs and seeds, every access checker reports the same batched or applied event by event', () => {
    // Small programs (locks, a synchronized Value, a semaphore, a condition, events, a
    // queue and joins; or shared cells with compare-and-swap, exchange and
    // fetch-and-add): events queued and events applied at once interleave in one run.
    const makers = [
      () => accessChecks({ failOn: 'never' }),
      () => races({ failOn: 'never' }),
      () => lostUpdates({ failOn: 'never' }),
      () => atomicity({ failOn: 'never' }),
    ];
    const same = (prog: Program, seed: number): void => {
      for (const make of makers) {
        const batched = make();
        const applied = make();
        runSync(prog, { seed, timing: 'untimed', monitors: [batched] });
        runSync(prog, { seed, timing: 'untimed', monitors: [applied, eager(applied)] });
        expect(JSON.stringify(batched.findings)).toBe(JSON.stringify(applied.findings));
      }
    };
    fc.assert(
      fc.property(blockingSpec, fc.nat(1000), (spec, seed) => same(blockingProgram(spec), seed)),
      { numRuns: 150 },
    );
    fc.assert(
      fc.property(sharedSpec, fc.nat(1000), (spec, seed) => same(sharedMemoryProgram(spec), seed)),
      { numRuns: 150 },
    );
  });

  it('a run that fails on a finding fails the same way, with the same message', () => {
    const a = runSync(busy(3, 40), { seed: 7, monitors: [accessChecks()] });
    const checks = accessChecks();
    const b = runSync(busy(3, 40), { seed: 7, monitors: [checks, eager(checks)] });
    expect(a.status).toBe('error');
    expect(a.status === 'error' && b.status === 'error' ? [a.message, a.steps] : null).toEqual(b.status === 'error' ? [b.message, b.steps] : undefined);
  });
});
