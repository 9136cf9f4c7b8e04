import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { program, run, Schedule, SimulationError, type DictProxy, type Event, type Lock, type Monitor, type Op, type RunResult, type World } from '@interleave/core';
import { check, decodeToken, encodeToken, exhaustive, explore, pct, random, replay, schedules, ScheduleChoices } from '../src/index.js';
import { requireFastCheck } from '../src/arbitrary.js';

/** n processes each doing `d['count'] -= 1` (two steps) on a Manager dict; returns the final count. */
function counter(n: number, locked: boolean) {
  return program(
    function* ({ mp }: World) {
      const m = mp.Manager();
      const d = m.dict<string, number>({ count: n });
      const lock = mp.Lock();
      function* work(dic: DictProxy<string, number>, l: Lock): Generator<Op<unknown>, void, unknown> {
        if (locked) yield* l.acquire();
        yield* dic.update('count', (v) => v - 1);
        if (locked) yield* l.release();
      }
      const ps = Array.from({ length: n }, () => mp.Process({ target: work, args: [d, lock] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return yield* d.get('count');
    },
    { name: `counter-${n}${locked ? '-locked' : ''}` },
  );
}

const toZero = (r: RunResult<number>): boolean | string =>
  (r.status === 'ok' && r.value === 0) || `count ended at ${r.status === 'ok' ? r.value : r.status}, not 0: an update was lost`;
const untimed = { timing: 'untimed' } as const;

describe('hunting with random schedules', () => {
  it('finds the lost update, minimises it, and the token replays it exactly', async () => {
    const prog = counter(3, false);
    const r = await check(prog, { strategy: random(), property: toZero, run: untimed });
    expect(r.passed).toBe(false);
    const f = r.failure!;
    expect(f.kind).toBe('property');
    expect(f.message).toMatch(/count ended at [12], not 0/);
    expect(f.preemptions).toBe(1); // one context switch between a read and its write suffices
    expect(f.token).toMatch(/^il1\.[A-Za-z0-9_-]+$/);
    expect(f.traceTable).toContain('DictProxy');
    const again = await replay(prog, f.token);
    expect(again.status).toBe('ok');
    expect(again.status === 'ok' && again.value).toBe(f.result.status === 'ok' && f.result.value);
    expect(again.schedule.toArray()).toEqual(f.schedule);
    expect(r.summary).toContain('replay with: il1.');
  });

  it('the failing seed of an unshrunk random run reproduces with run({ seed })', async () => {
    const prog = counter(3, false);
    const r = await check(prog, { strategy: random({ seed: 100 }), property: toZero, run: untimed, shrink: false });
    const seed = Number(r.failure!.seed);
    const again = await run(prog, { seed, ...untimed });
    expect(again.status === 'ok' && again.value).not.toBe(0);
  });

  it('PCT finds it too, and explore() counts every outcome', async () => {
    const prog = counter(3, false);
    const viaPct = await check(prog, { strategy: pct({ depth: 2 }), property: toZero, run: untimed });
    expect(viaPct.passed).toBe(false);
    const all = await explore(prog, { strategy: random(), property: toZero, run: untimed, budget: { executions: 300 } });
    expect(all.executions).toBe(300);
    expect(all.outcomes.reduce((n, o) => n + o.count, 0)).toBe(300);
    expect(all.outcomes.map((o) => o.key)).toContain('ok 0');
    expect(all.outcomes.some((o) => o.key !== 'ok 0')).toBe(true);
  });

  it('sharding splits seeds: the shards together equal the unsharded run', async () => {
    const prog = counter(3, false);
    const opts = { strategy: random(), run: untimed, budget: { executions: 60 } } as const;
    const whole = await explore(prog, opts);
    const shards = await Promise.all([0, 1, 2].map((index) => explore(prog, { ...opts, budget: { executions: 20 }, shard: { index, count: 3 } })));
    const merged = new Map<string, number>();
    for (const s of shards) for (const o of s.outcomes) merged.set(o.key, (merged.get(o.key) ?? 0) + o.count);
    expect(merged).toEqual(new Map(whole.outcomes.map((o) => [o.key, o.count])));
  });

  it('rejects a malformed shard', async () => {
    await expect(explore(counter(2, false), { shard: { index: 3, count: 3 } })).rejects.toThrow(/0 <= index < count/);
  });
});

describe('proving with exhaustive exploration', () => {
  it('lists every reachable final count of the unlocked counter', async () => {
    const r = await explore(counter(3, false), { strategy: exhaustive(), run: untimed });
    expect(r.complete).toBe(true);
    expect(new Set(r.outcomes.map((o) => o.key))).toEqual(new Set(['ok 0', 'ok 1', 'ok 2']));
    for (const o of r.outcomes) {
      const again = await replay(counter(3, false), o.token);
      expect(`ok ${String(again.status === 'ok' ? again.value : '?')}`).toBe(o.key);
    }
  });

  it('outcomes are plain objects, as a parallel exploration clones them: key, count, token, execution', async () => {
    const r = await explore(counter(3, false), { strategy: exhaustive(), run: untimed });
    const o = r.outcomes[0]!;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['key', 'count', 'token', 'execution']);
    // Cloned before and after the token is first read (it is encoded then).
    expect(r.outcomes).toStrictEqual(structuredClone(r.outcomes));
    expect(JSON.parse(JSON.stringify(o))).toStrictEqual({ key: o.key, count: o.count, token: o.token, execution: o.execution });
  });

  it('proves the locked counter: every execution ends at 0, and says so', async () => {
    const r = await check(counter(3, true), { strategy: exhaustive(), property: toZero, run: untimed });
    expect(r.passed).toBe(true);
    expect(r.complete).toBe(true);
    expect(r.outcomes).toEqual([expect.objectContaining({ key: 'ok 0' })]);
    expect(r.summary).toMatch(/^exhaustive: all \d+ distinct executions explored \(complete up to partial-order equivalence\); the property holds in every one/);
  });

  it('explores async programs too', async () => {
    const asyncCounter = program(
      async ({ mp }: World) => {
        const d = mp.Manager().dict<string, number>({ count: 2 });
        const work = async (dic: DictProxy<string, number>): Promise<void> => {
          await dic.update('count', (v) => v - 1);
        };
        const ps = [mp.Process({ target: work, args: [d] }), mp.Process({ target: work, args: [d] })];
        for (const p of ps) await p.start();
        for (const p of ps) await p.join();
        return d.get('count');
      },
      { name: 'async-counter' },
    );
    const r = await explore(asyncCounter, { strategy: exhaustive(), run: untimed });
    expect(r.complete).toBe(true);
    expect(new Set(r.outcomes.map((o) => o.key))).toEqual(new Set(['ok 0', 'ok 1']));
  });
});

/**
 * A process spins on an Event the main process sets. Depth-first search keeps the
 * spinner running once it is chosen before the set: that execution runs to maxSteps.
 */
const spinUntilSet = program(
  function* ({ mp }: World) {
    const flag = mp.Event();
    function* spinner(f: Event): Generator<Op<unknown>, void, unknown> {
      while (!(yield* f.isSet()));
    }
    const p = mp.Process({ target: spinner, args: [flag] });
    yield* p.start();
    yield* flag.set();
    yield* p.join();
  },
  { name: 'spin-until-set' },
);

/** A monitor counting every step of every run it is attached to, shrinking's re-runs included. */
function stepCounter(): Monitor & { steps: number } {
  return {
    name: 'step-counter',
    steps: 0,
    events: ['done'],
    onEvent(e) {
      if (e.type === 'done') this.steps++; // a run that keeps its trace sends every event
    },
  };
}

describe('shrinking a failure cut at maxSteps', () => {
  const maxSteps = 20_000;
  const options = { strategy: exhaustive(), run: { ...untimed, maxSteps } } as const;

  it('stops trying longer prefixes once one re-runs the failure itself', async () => {
    const counted = stepCounter();
    const r = await check(spinUntilSet, { ...options, strategy: exhaustive(), monitors: [counted] });
    const f = r.failure!;
    expect(f.kind).toBe('step-limit');
    expect(f.preemptions).toBe(1);
    expect(f.shrinking).toBe('complete');
    // The hunt, the first attempt, the prefix that runs the failure again and the
    // final re-run: four long runs. Trying all 300 prefixes took 300.
    expect(counted.steps).toBeLessThan(4.1 * maxSteps);
    expect(r.summary).toContain('minimised to 1 preemption(s)');
  });

  it('stops at its step budget and says so', async () => {
    const counted = stepCounter();
    const r = await check(spinUntilSet, { ...options, strategy: exhaustive(), monitors: [counted], shrink: { steps: maxSteps / 2 } });
    const f = r.failure!;
    expect(f.kind).toBe('step-limit');
    expect(f.shrinking).toBe('budget');
    // The hunt's run, one attempt (which spends the budget) and the final re-run.
    expect(counted.steps).toBeLessThan(3.1 * maxSteps);
    expect(r.summary).toContain('minimised (until the shrinking budget ran out) to');
  });

  it('shrink: false reports the failure as found', async () => {
    const r = await check(spinUntilSet, { ...options, strategy: exhaustive(), shrink: false });
    expect(r.failure!.shrinking).toBe('off');
    // Counted on the run, not guessed from the choices: the one switch from the main
    // process to the spinner happens at a choice, then the spinner is chosen again and again.
    expect(r.failure!.preemptions).toBe(1);
    expect(r.summary).toContain('not minimised (shrink: false): 1 preemption(s)');
  });

  it("reports a token of a few dozen characters, which replays the whole run", async () => {
    const r = await check(spinUntilSet, options);
    const f = r.failure!;
    expect(f.schedule.length).toBeGreaterThan(maxSteps - 10);
    expect(f.token).toMatch(/^il2\./); // one pid, thousands of times: run-length encoded
    expect(f.token.length).toBeLessThan(60);
    const again = await replay(spinUntilSet, f.token);
    expect(again.status).toBe('step-limit');
    expect(again.schedule.toArray()).toEqual(f.schedule);
  });

  it('rejects a malformed shrink option, saying what it expects', async () => {
    await expect(explore(spinUntilSet, { shrink: { steps: -1 } })).rejects.toThrow(
      'explore(program, { shrink }): shrink must be true, false or { steps } with steps a non-negative integer, got steps = number -1.\n' +
        '  How to fix: leave it out (a budget of 2,000,000 steps), pass e.g. { shrink: { steps: 500_000 } }, or shrink: false to report the failure as found.',
    );
    await expect(explore(spinUntilSet, { shrink: 'yes' as unknown as boolean })).rejects.toThrow(/got string "yes"\./);
  });
});

describe('shrinking after a time budget', () => {
  it('shrinks a failure found by an exploration that ran until its time was up, as without one', async () => {
    const r = await explore(counter(3, false), { property: toZero, run: untimed, budget: { executions: 1e9, timeMs: 150 } });
    expect(r.stats.stoppedBy).toBe('time');
    expect(r.failure!.shrinking).toBe('complete');
    expect(r.failure!.preemptions).toBe(1);
  });
});

describe('replay tokens', () => {
  const prog = counter(2, false);
  const token = async (): Promise<string> => (await explore(prog, { budget: { executions: 1 } })).outcomes[0]!.token;

  it('round-trips the options that shape a run', async () => {
    const t = decodeToken((await explore(prog, { budget: { executions: 1 }, run: { timing: 'untimed', cpuCount: 8, maxSteps: 500 } })).outcomes[0]!.token, prog);
    expect(t).toMatchObject({ timing: 'untimed', cpuCount: 8, maxSteps: 500, queueFeeder: true });
  });

  it('encodes the options the runs had, even when read after the caller changed them', async () => {
    const run = { maxSteps: 1000 };
    const report = await explore(prog, { budget: { executions: 3 }, run });
    run.maxSteps = 3; // after the exploration, before any token was read
    for (const o of report.outcomes) {
      expect(decodeToken(o.token, prog).maxSteps).toBe(1000);
      expect((await replay(prog, o.token)).status).toBe('ok');
    }
  });

  it('rejects a string that is not a token', async () => {
    await expect(replay(prog, 'hello')).rejects.toThrow(/"hello" is not a replay token \(expected il1\. followed by base64url\)[\s\S]*How to fix: paste the whole token/);
  });

  it('rejects a token of another format version', async () => {
    await expect(replay(prog, 'il9.AAAA')).rejects.toThrow(/format version 9, but this version of Interleave reads versions 1 and 2\./);
  });

  it('round-trips any schedule; long runs of one pid are written as il2, the rest as il1', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1000, max: 1400 }), fc.integer({ min: 1, max: 300 })), { maxLength: 30 }), (runs) => {
        const pids = runs.flatMap(([pid, n]) => Array.from({ length: n }, () => pid));
        const t = encodeToken({ seed: '7', timing: 'untimed', schedule: new Schedule(pids) }, prog);
        expect(decodeToken(t, prog).schedule.toArray()).toEqual(pids);
        // Short schedules, and those that run-length encoding would not halve, keep version 1.
        if (new Schedule(pids).toBytes().length < 64 || runs.every(([, n]) => n <= 2)) expect(t.startsWith('il1.')).toBe(true);
      }),
    );
    const spin = encodeToken({ seed: '7', timing: 'untimed', schedule: new Schedule(new Array<number>(1_000_000).fill(1001)) }, prog);
    expect(spin).toMatch(/^il2\.[A-Za-z0-9_-]{20,40}$/);
  });

  it("checks a token's version with its checksum: il1 and il2 swapped is corruption, not another schedule", async () => {
    const long = encodeToken({ seed: '7', timing: 'untimed', schedule: new Schedule(new Array<number>(500).fill(1001)) }, prog);
    const short = await token();
    expect(long).toMatch(/^il2\./);
    expect(short).toMatch(/^il1\./);
    for (const swapped of [long.replace('il2.', 'il1.'), short.replace('il1.', 'il2.')]) {
      await expect(replay(prog, swapped)).rejects.toThrow(/the token is corrupted \(its checksum does not match\)/);
    }
  });

  it('rejects malformed run-length schedules even under a valid checksum', () => {
    // An il2 token built by hand: name hash, flags (untimed), cpuCount, maxSteps, seed, runs, checksum.
    const fnv = (bytes: readonly number[], h = 0x811c9dc5): number => {
      for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
      return h;
    };
    const u32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    const forge = (runs: readonly number[]): string => {
      const body = [...u32(fnv([...Buffer.from(prog.name)])), 1, 4, 100, 1, 0x37, ...runs];
      return 'il2.' + Buffer.from([...body, ...u32(fnv(body, fnv([2])))]).toString('base64url');
    };
    expect(decodeToken(forge([1, 3, 2, 4]), prog).schedule.toArray()).toEqual([1001, 1001, 1001, 1002, 1002, 1002, 1002]);
    const malformed = /the token is truncated or corrupted \(its schedule does not decode\)/;
    expect(() => decodeToken(forge([1, 0]), prog)).toThrow(malformed); // an empty run
    expect(() => decodeToken(forge([1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), prog)).toThrow(malformed); // a varint over 31 bits
    expect(() => decodeToken(forge([1, 60, 2, 60]), prog)).toThrow(malformed); // 120 choices, maxSteps 100
    expect(() => decodeToken(forge([1]), prog)).toThrow(malformed); // cut short
  });

  it('rejects an il2 token whose schedule holds more choices than maxSteps allows', () => {
    const t = encodeToken({ seed: '7', timing: 'untimed', schedule: new Schedule(new Array<number>(600).fill(1001)) }, prog, { maxSteps: 500 });
    expect(() => decodeToken(t, prog)).toThrow(/the token is truncated or corrupted \(its schedule does not decode\)/);
  });

  it('rejects a corrupted token', async () => {
    const t = await token();
    const flipped = t.slice(0, -3) + (t.at(-3) === 'A' ? 'B' : 'A') + t.slice(-2);
    await expect(replay(prog, flipped)).rejects.toThrow(/corrupted \(its checksum does not match\)/);
    await expect(replay(prog, t.slice(0, 8))).rejects.toThrow(/truncated|corrupted/);
  });

  it('rejects a token recorded from another program', async () => {
    const t = await token();
    await expect(replay(counter(3, false), t)).rejects.toThrow(/recorded from another program, not "counter-3"/);
    await expect(replay(counter(3, false), t)).rejects.toBeInstanceOf(SimulationError);
  });

  it('a schedule that no longer fits the program fails loudly, naming the step', async () => {
    const t = await token();
    // Same name, different program: the recorded processes are not there to run.
    const changed = program(function* ({ print }: World) {
      yield* print('changed');
    }, { name: 'counter-2' });
    await expect(replay(changed, t)).rejects.toThrow(/the run ended at step 2 with \d+ of the token's \d+ choices unused/);
  });
});

describe('fast-check integration', () => {
  it('a schedule arbitrary finds the lost update and shrinks it to one preemption', async () => {
    const prog = counter(2, false);
    const failure = await fc.check(
      fc.asyncProperty(schedules(), async (s) => {
        const r = await run(prog, { strategy: s.strategy(), ...untimed });
        return r.status === 'ok' && r.value === 0;
      }),
      { seed: 42, numRuns: 500 },
    );
    expect(failure.failed).toBe(true);
    const [shrunk] = failure.counterexample as [ScheduleChoices];
    expect(shrunk.choices.filter((c) => c !== 0)).toHaveLength(1);
    expect(fc.stringify(shrunk)).toMatch(/^schedule\(\[[\d, ]*\]\)$/);
  });

  it('input and schedule shrink together', async () => {
    const failure = await fc.check(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), schedules(), async (n, s) => {
        const r = await run(counter(n, false), { strategy: s.strategy(), ...untimed });
        return r.status === 'ok' && r.value === 0;
      }),
      { seed: 7, numRuns: 500 },
    );
    expect(failure.failed).toBe(true);
    const [n, s] = failure.counterexample as [number, ScheduleChoices];
    expect(n).toBe(2); // the smallest input that can lose an update
    expect(s.choices.filter((c) => c !== 0)).toHaveLength(1);
  });

  it('rejects a malformed choice list with the fix', () => {
    expect(() => new ScheduleChoices([0, -1, 0.5])).toThrow(
      /new ScheduleChoices\(choices\): expected an array of integers >= 0, got \[0,-1,0\.5\][\s\S]*How to fix: paste the list fast-check printed/,
    );
  });

  it('replays a printed counterexample', async () => {
    const prog = counter(2, false);
    const a = await run(prog, { strategy: new ScheduleChoices([0, 0, 0, 1]).strategy(), ...untimed, trace: true });
    const b = await run(prog, { strategy: new ScheduleChoices([0, 0, 0, 1]).strategy(), ...untimed, trace: true });
    expect(JSON.stringify(a.trace)).toBe(JSON.stringify(b.trace));
  });
});

describe('fast-check is loaded only by schedules()', () => {
  it('no module of the package imports it when the package is imported', () => {
    const dir = new URL('../src/', import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      expect(source, file).not.toMatch(/^import (?!type\b)[^;]*from 'fast-check'/m);
    }
  });

  it('says how to install it when it cannot be loaded', () => {
    const missing = (): never => {
      throw new Error("Cannot find module 'fast-check'\nRequire stack: ...");
    };
    expect(() => requireFastCheck(missing)).toThrow(
      "schedules(options): it needs fast-check, which could not be loaded (Cannot find module 'fast-check').\n" +
        '  How to fix: install it beside Interleave (npm install --save-dev fast-check, version 3): it is a peer dependency, used only by schedules().',
    );
  });
});
