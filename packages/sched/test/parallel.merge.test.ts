import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { program, SimulationError, type Event, type Program, type RunResult, type World } from '@interleave/core';
import { check, exhaustive, explore, mergeReports, random, type ExploreOptions, type ExploreReport } from '../src/index.js';

const untimed = { timing: 'untimed' } as const;

/** A process's steps on two shared events; each process logs what its reads saw. */
type Step = { readonly op: 'set' | 'clear' | 'read'; readonly event: 0 | 1 };
const stepArb: fc.Arbitrary<Step> = fc.record({ op: fc.constantFrom('set' as const, 'clear' as const, 'read' as const), event: fc.constantFrom(0 as const, 1 as const) });
const specArb = fc.array(fc.array(stepArb, { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 3 });

function build(spec: readonly (readonly Step[])[]): Program<string> {
  return program(
    function* ({ mp }: World) {
      const events: Event[] = [mp.Event(), mp.Event()];
      // One log per process: a shared one would record the order of reads, which commute.
      const logs = spec.map((): string[] => []);
      const ps = spec.map((steps, k) =>
        mp.Process({
          target: function* () {
            for (const s of steps) {
              const e = events[s.event]!;
              if (s.op === 'set') yield* e.set();
              else if (s.op === 'clear') yield* e.clear();
              else logs[k]!.push(`${k}:${(yield* e.isSet()) ? 1 : 0}`);
            }
          },
        }),
      );
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return logs.flat().join(' ');
    },
    { name: 'merge-property' },
  );
}

/** Fails the runs in which some read saw an event clear: gives failures to merge. */
const property = (r: RunResult<string>): boolean | string => r.status !== 'ok' || !r.value.includes(':0') || `a read saw a clear event: ${r.value}`;

/** Every shard of an exploration, each with options of its own (a strategy is used once). */
async function shardsOf(prog: Program<string>, count: number, options: () => ExploreOptions<string>, run = explore<string>): Promise<ExploreReport[]> {
  const out: ExploreReport[] = [];
  for (let index = 0; index < count; index++) out.push(await run(prog, { ...options(), shard: { index, count } }));
  return out;
}

const counts = (r: ExploreReport): Map<string, number> => new Map(r.outcomes.map((o) => [o.key, o.count]));

describe('mergeReports', () => {
  it('exhaustive: the merged shards equal the unsharded search at the same split', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.integer({ min: 1, max: 4 }), async (spec, count) => {
        const prog = build(spec);
        const options = (): ExploreOptions<string> => ({ strategy: exhaustive({ splitDepth: 2 }), run: untimed, property });
        const whole = await explore(prog, options());
        const merged = mergeReports(await shardsOf(prog, count, options));
        expect(merged.complete).toBe(whole.complete);
        expect(merged.executions).toBe(whole.executions);
        expect(counts(merged)).toEqual(counts(whole));
        expect(merged.stats.steps).toBe(whole.stats.steps);
        expect(merged.passed).toBe(whole.passed);
        expect(merged.shard).toEqual({ index: 0, count: 1, by: 'strategy' });
        if (merged.passed) expect(merged.summary).toBe(whole.summary);
        // The split changes no outcome: the plain search reaches the same ones.
        const plain = await explore(prog, { strategy: exhaustive(), run: untimed });
        expect(new Set(counts(merged).keys())).toEqual(new Set(counts(plain).keys()));
      }),
      { numRuns: 25 },
    );
  });

  it('random: the merged shards equal the unsharded exploration, tokens and failure included', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.nat(1000), async (spec, count, perShard, seed) => {
        const prog = build(spec);
        const options = (): ExploreOptions<string> => ({ strategy: random({ seed }), run: untimed, property, budget: { executions: perShard } });
        const whole = await explore(prog, { ...options(), budget: { executions: count * perShard } });
        const merged = mergeReports(await shardsOf(prog, count, options));
        expect(merged.executions).toBe(whole.executions);
        expect(merged.outcomes).toEqual(whole.outcomes);
        expect(merged.failure?.token).toBe(whole.failure?.token);
        expect(merged.failure?.execution).toBe(whole.failure?.execution);
        expect(merged.stats.steps).toBe(whole.stats.steps);
        expect(merged.stats.stoppedBy).toBe(whole.stats.stoppedBy);
        expect(merged.summary).toBe(whole.summary);
        // check: each shard stops at its first failure; the merged one is the one check reports.
        const first = await check(prog, { ...options(), budget: { executions: count * perShard } });
        const mergedCheck = mergeReports(await shardsOf(prog, count, options, check<string>));
        expect(mergedCheck.passed).toBe(first.passed);
        expect(mergedCheck.failure?.token).toBe(first.failure?.token);
      }),
      { numRuns: 40 },
    );
  });

  it('takes the shards in any order', async () => {
    const prog = build([[{ op: 'set', event: 0 }], [{ op: 'read', event: 0 }]]);
    const shards = await shardsOf(prog, 3, () => ({ strategy: random(), run: untimed, budget: { executions: 4 } }));
    expect(mergeReports([...shards].reverse())).toEqual(mergeReports(shards));
  });

  it('merges reports saved as JSON, as CI jobs pass them on', async () => {
    const prog = build([[{ op: 'set', event: 0 }], [{ op: 'read', event: 0 }, { op: 'read', event: 1 }]]);
    const shards = await shardsOf(prog, 2, () => ({ strategy: random(), run: untimed, property, budget: { executions: 10 } }));
    const revived = mergeReports(JSON.parse(JSON.stringify(shards)) as ExploreReport[]);
    const live = mergeReports(shards);
    expect(live.passed).toBe(false);
    expect(revived.summary).toBe(live.summary);
    expect(revived.outcomes).toEqual(live.outcomes);
    expect(revived.failure?.token).toBe(live.failure?.token);
  });

  it('is complete only if every shard is', async () => {
    const prog = build([[{ op: 'set', event: 0 }, { op: 'clear', event: 0 }], [{ op: 'read', event: 0 }, { op: 'read', event: 0 }]]);
    const [a, b] = [0, 1].map((index) => explore(prog, { strategy: exhaustive(), run: untimed, shard: { index, count: 2 } }));
    const cut = await explore(prog, { strategy: exhaustive(), run: untimed, shard: { index: 1, count: 2 }, budget: { executions: 1 } });
    const merged = mergeReports([await a!, cut]);
    expect((await b!).complete).toBe(true);
    expect(merged.complete).toBe(false);
    expect(merged.stats.stoppedBy).toBe('executions');
    expect(merged.summary).toMatch(/^exhaustive: \d+ execution\(s\), no failure \(stopped by executions\).*This is evidence, not a proof\.$/);
  });

  describe('errors', () => {
    const prog = build([[{ op: 'set', event: 0 }], [{ op: 'read', event: 0 }]]);
    const shard = (index: number, count: number, strategy = random()): Promise<ExploreReport> => explore(prog, { strategy, run: untimed, budget: { executions: 2 }, shard: { index, count } });
    const messageOf = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(SimulationError);
        expect((e as SimulationError).code).toBe('INVALID_ARGUMENT');
        return (e as SimulationError).message;
      }
      throw new Error('expected mergeReports to throw');
    };
    const fix = '\n  How to fix: pass the reports of one exploration, one per shard { index, count } for index = 0 … count − 1.';

    it('rejects no reports', () => {
      expect(messageOf(() => mergeReports([]))).toBe(`mergeReports(reports): expected a non-empty array of reports, got an array.${fix}`);
      expect(messageOf(() => mergeReports(undefined as never))).toBe(`mergeReports(reports): expected a non-empty array of reports, got undefined.${fix}`);
    });

    it('rejects something that is not a report', async () => {
      expect(messageOf(() => mergeReports([{ executions: 3 } as never]))).toBe(`mergeReports(reports): reports[0] is not an ExploreReport (it has no shard), got an object with keys ["executions"].${fix}`);
      const s0 = await shard(0, 2);
      expect(messageOf(() => mergeReports([s0, 7 as never]))).toBe(`mergeReports(reports): reports[1] is not an ExploreReport (it has no shard), got number 7.${fix}`);
    });

    it('rejects a missing shard, a duplicate, mixed splits and mixed strategies', async () => {
      const [s0, s1, s2] = await Promise.all([shard(0, 3), shard(1, 3), shard(2, 3)]);
      expect(messageOf(() => mergeReports([s0, s2]))).toBe(`mergeReports(reports): shard(s) 1 of 3 are missing: a merge of some shards is not the whole exploration.${fix}`);
      expect(messageOf(() => mergeReports([s0, s1, s1]))).toBe(`mergeReports(reports): shard 1 of 3 is given twice.${fix}`);
      const ofTwo = await shard(1, 2);
      expect(messageOf(() => mergeReports([s0, s1, ofTwo]))).toBe(`mergeReports(reports): reports[0] is shard 0 of 3 but reports[2] is shard 1 of 2: they come from different splits.${fix}`);
      const other = await explore(prog, { strategy: exhaustive(), run: untimed, shard: { index: 2, count: 3 } });
      expect(messageOf(() => mergeReports([s0, s1, other]))).toBe(`mergeReports(reports): reports[0] comes from random but reports[2] from exhaustive.${fix}`);
    });
  });
});
