/**
 * accessChecks(): races and lost updates from one pass and one set of vector
 * clocks. It must find exactly what the two separate monitors find — in particular
 * where the two relations differ: an atomic access (a Manager call, a locked Value)
 * orders data for the race checker, never for the lost-update checker.
 */
import { describe, expect, it } from 'vitest';
import { program, run, runSync, type DictProxy, type Op, type Program, type RawValue, type Value, type World } from '@interleave/core';
import { accessChecks, atomicity, lostUpdates, races, type Finding } from '../src/index.js';
import { locked, unlocked } from '../../../examples/course/manager.js';
import { buyLocked, buyUnlocked, counterLocked, counterUnlocked } from '../../../examples/course/ticket.js';

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
