/**
 * One property suite, run against every strategy (the pure-rand habit: one law
 * set, every implementation). For randomStrategy (core), roundRobinStrategy and
 * replayStrategy:
 *
 * - only enabled processes are chosen: the strategy is asked only among two or more
 *   runnable processes, returns a valid index, the chosen pid takes the next step,
 *   and every operation that takes effect could (a blocking acquire never fails, a
 *   timed wait gives up only after its deadline, a sleep ends only after its time...);
 * - the same strategy construction gives the same trace;
 * - replaying `result.schedule` with replayStrategy gives the same trace (round
 *   trip), from either rendering of the program;
 * - a replay whose recorded pid cannot run fails with status `error` and a
 *   REPLAY_DIVERGED SimulationError naming the choice and the step; so does a
 *   schedule that runs out.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SimulationError,
  program,
  randomStrategy,
  run,
  runSync,
  serializeTrace,
  type Event as SimEvent,
  type Lock,
  type Op,
  type Program,
  type RunOptions,
  type RunResult,
  type Semaphore,
  type Strategy,
  type TraceEvent,
  type World,
} from '@interleave/core';
import { exhaustive, pct, replayStrategy, roundRobinStrategy, ScheduleChoices } from '../src/index.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

// ------------------------------------------------------ random programs

type Pair = 0 | 1;
type Step =
  | { readonly k: 'print'; readonly text: string }
  | { readonly k: 'sleep'; readonly seconds: number }
  | { readonly k: 'draw' }
  | { readonly k: 'lock'; readonly lock: Pair; readonly body: readonly Step[] }
  | { readonly k: 'sem'; readonly timeout: number | null; readonly body: readonly Step[] }
  | { readonly k: 'set'; readonly ev: Pair }
  | { readonly k: 'wait'; readonly ev: Pair; readonly timeout: number | null };
type Desc = readonly (readonly Step[])[];

interface Env {
  readonly w: World;
  readonly locks: readonly [Lock, Lock];
  readonly sem: Semaphore;
  readonly events: readonly [SimEvent, SimEvent];
}

async function stepsAsync(env: Env, me: number, steps: readonly Step[]): Promise<void> {
  for (const s of steps) {
    switch (s.k) {
      case 'print':
        await env.w.print(`p${me}`, s.text);
        break;
      case 'sleep':
        await env.w.time.sleep(s.seconds);
        break;
      case 'draw':
        await env.w.print(`p${me} drew`, env.w.random.random());
        break;
      case 'lock':
        await env.locks[s.lock].acquire();
        await stepsAsync(env, me, s.body);
        await env.locks[s.lock].release();
        break;
      case 'sem':
        if (await env.sem.acquire(true, s.timeout)) {
          await stepsAsync(env, me, s.body);
          await env.sem.release();
        }
        break;
      case 'set':
        await env.events[s.ev].set();
        break;
      case 'wait':
        await env.w.print(`p${me} waited`, await env.events[s.ev].wait(s.timeout));
        break;
    }
  }
}

function* stepsGen(env: Env, me: number, steps: readonly Step[]): Gen {
  for (const s of steps) {
    switch (s.k) {
      case 'print':
        yield* env.w.print(`p${me}`, s.text);
        break;
      case 'sleep':
        yield* env.w.time.sleep(s.seconds);
        break;
      case 'draw':
        yield* env.w.print(`p${me} drew`, env.w.random.random());
        break;
      case 'lock':
        yield* env.locks[s.lock].acquire();
        yield* stepsGen(env, me, s.body);
        yield* env.locks[s.lock].release();
        break;
      case 'sem':
        if (yield* env.sem.acquire(true, s.timeout)) {
          yield* stepsGen(env, me, s.body);
          yield* env.sem.release();
        }
        break;
      case 'set':
        yield* env.events[s.ev].set();
        break;
      case 'wait': {
        const flag = yield* env.events[s.ev].wait(s.timeout);
        yield* env.w.print(`p${me} waited`, flag);
        break;
      }
    }
  }
}

const envOf = (w: World): Env => ({ w, locks: [w.mp.Lock(), w.mp.Lock()], sem: w.mp.Semaphore(1), events: [w.mp.Event(), w.mp.Event()] });

function render(desc: Desc, style: 'async' | 'gen'): Program<void> {
  if (style === 'async') {
    return program(async (w) => {
      const env = envOf(w);
      const ps = desc.map((steps, i) => w.mp.Process({ target: () => stepsAsync(env, i, steps) }));
      for (const p of ps) await p.start();
      for (const p of ps) await p.join();
    });
  }
  return program(function* (w) {
    const env = envOf(w);
    const ps = desc.map((steps, i) => w.mp.Process({ target: () => stepsGen(env, i, steps) }));
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  });
}

const pairArb = fc.constantFrom<Pair>(0, 1);
const timeoutArb = fc.constantFrom<number | null>(null, 0.2, 1);
const leafArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ k: fc.constant('print' as const), text: fc.constantFrom('x', 'y') }),
  fc.record({ k: fc.constant('sleep' as const), seconds: fc.constantFrom(0, 0.1, 0.5) }),
  fc.constant({ k: 'draw' as const }),
  fc.record({ k: fc.constant('set' as const), ev: pairArb }),
  fc.record({ k: fc.constant('wait' as const), ev: pairArb, timeout: timeoutArb }),
);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: leafArb },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('lock' as const), lock: pairArb, body: fc.array(leafArb, { maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('sem' as const), timeout: timeoutArb, body: fc.array(leafArb, { maxLength: 2 }) }) },
);
const descArb: fc.Arbitrary<Desc> = fc.array(fc.array(stepArb, { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 4 });
const seedArb = fc.oneof(fc.integer(), fc.string({ maxLength: 4 }));
const timingArb = fc.constantFrom('timed' as const, 'untimed' as const);

// ------------------------------------------------------ the strategies

interface Subject {
  readonly name: string;
  /** A fresh strategy for one run of `prog` under `options` (replay records a random run first). */
  make(prog: Program<void>, options: RunOptions): Strategy;
}

const subjects: readonly Subject[] = [
  { name: 'randomStrategy(seed)', make: (_prog, o) => randomStrategy(o.seed ?? 0) },
  { name: 'roundRobinStrategy()', make: () => roundRobinStrategy() },
  {
    name: 'replayStrategy(schedule)',
    // The generator rendering runs synchronously, so the recording is ready before the run.
    make: (prog, o) => replayStrategy(runSync(prog, { ...o, strategy: randomStrategy(`recorded:${String(o.seed)}`) }).schedule),
  },
  { name: 'pct({ depth: 3 })', make: (_prog, o) => pct({ depth: 3, seed: o.seed ?? 0 }).next(0)!.strategy },
  exhaustiveSubject('optimal'),
  exhaustiveSubject('source'),
  { name: 'schedules() arbitrary value', make: (_prog, o) => new ScheduleChoices(choicesFor(o.seed)).strategy() },
];

/** exhaustive() with the given reduction, at its fourth execution (or its last). */
function exhaustiveSubject(reduction: 'optimal' | 'source'): Subject {
  return {
    name: `exhaustive({ reduction: '${reduction}' }) (its fourth execution, or its last)`,
    make: (prog, o) => {
      // The latest of the first four executions that is not abandoned as redundant,
      // re-derived from a fresh search each time, so every construction is the same.
      const upTo = (stop: number): { strategy: Strategy; real: number } => {
        const source = exhaustive({ reduction });
        let strategy = source.next(0)!.strategy;
        let real = 0;
        for (let i = 1; i <= stop; i++) {
          const r = runSync(prog, { ...o, strategy });
          source.finished?.(r);
          if (source.isArtefact?.(r) !== true) real = i - 1;
          const next = source.next(i);
          if (next === null) break;
          strategy = next.strategy;
        }
        return { strategy, real };
      };
      return upTo(upTo(4).real).strategy;
    },
  };
}

/** A fixed choice list derived from the seed. */
function choicesFor(seed: string | number | undefined): number[] {
  const s = String(seed ?? 0);
  return Array.from({ length: 12 }, (_, i) => ((s.charCodeAt(i % Math.max(1, s.length)) || 0) + i) % 4);
}

interface Choice {
  readonly step: number;
  readonly enabled: readonly number[];
  readonly index: number;
}

function recording(inner: Strategy): { readonly strategy: Strategy; readonly choices: Choice[] } {
  const choices: Choice[] = [];
  return {
    choices,
    strategy: {
      name: inner.name,
      choose(enabled, ctx) {
        const index = inner.choose(enabled, ctx);
        choices.push({ step: ctx.step, enabled: enabled.map((p) => p.pid), index });
        return index;
      },
      // Strategies that watch every step (exhaustive search, schedule choices) need it.
      ...(inner.observer === undefined ? {} : { observer: inner.observer }),
    },
  };
}

/**
 * Only enabled processes are chosen. Checked from the choices and the trace: the
 * strategy is asked only among ≥2 processes, sorted by pid, returns a valid index,
 * the chosen pid performs the next step; and every operation that took effect could
 * take effect at that time.
 */
function checkOnlyEnabledChosen(r: RunResult, choices: readonly Choice[], timed: boolean): void {
  const trace: readonly TraceEvent[] = r.trace ?? [];
  const doneAt = new Map<number, Extract<TraceEvent, { type: 'done' }>>();
  for (const e of trace) if (e.type === 'done' && !doneAt.has(e.step)) doneAt.set(e.step, e);
  for (const c of choices) {
    expect(c.enabled.length).toBeGreaterThanOrEqual(2);
    expect([...c.enabled].sort((a, b) => a - b)).toEqual(c.enabled);
    expect(new Set(c.enabled).size).toBe(c.enabled.length);
    expect(Number.isInteger(c.index) && c.index >= 0 && c.index < c.enabled.length).toBe(true);
    expect(doneAt.get(c.step + 1)?.pid).toBe(c.enabled[c.index]);
  }
  expect(r.schedule.toArray()).toEqual(choices.map((c) => c.enabled[c.index]));

  // Every operation that took effect was able to.
  const issued = new Map<number, Extract<TraceEvent, { type: 'issue' }>>();
  const exitedAt = new Map<string, number>();
  const nameOf = new Map<number, string>();
  const setSteps = new Map<string, number[]>();
  const waitingSince = new Map<number, number>();
  for (const e of trace) {
    if (e.type === 'issue') issued.set(e.pid, e);
    else if (e.type === 'spawn') nameOf.set(e.child, e.name);
    else if (e.type === 'exit') exitedAt.set(nameOf.get(e.pid) ?? 'MainProcess', e.step);
    else if (e.type === 'done') {
      const i = issued.get(e.pid);
      // The first step of a wait that found the flag clear: the wait goes on from here.
      if (e.op === 'wait' && e.phase === 0 && e.value === undefined && e.outcome === 'ok') {
        expect(i, `step ${e.step}: pid ${e.pid} began ${e.obj}.wait without issuing it`).toBeDefined();
        waitingSince.set(e.pid, e.step);
        continue;
      }
      issued.delete(e.pid);
      if (e.op === 'begin') continue;
      expect(i, `step ${e.step}: pid ${e.pid} performed ${e.obj}.${e.op} without issuing it`).toBeDefined();
      const timeout = i!.args.length === 0 ? undefined : (i!.args[i!.args.length - 1] as number);
      const timedOut = timeout !== undefined && e.time >= i!.time + timeout;
      const where = `step ${e.step}: pid ${e.pid} ${e.obj}.${e.op}`;
      if (e.op === 'acquire' && e.value !== true) expect(timedOut, `${where} gave up before its deadline`).toBe(true);
      if (e.op === 'wait' && e.value !== true) {
        // Woken by a set made after it began waiting (and cleared since), or timed out.
        const since = waitingSince.get(e.pid) ?? i!.step;
        const setSince = (setSteps.get(e.obj) ?? []).some((s) => s > since);
        expect(timedOut || setSince, `${where} returned false before its deadline and without a set`).toBe(true);
      }
      waitingSince.delete(e.pid);
      if (e.op === 'sleep' && timed) expect(e.time, `${where} woke early`).toBeGreaterThanOrEqual(i!.time + (i!.args[0] as number));
      if (e.op === 'join') expect(exitedAt.get(e.obj), `${where} returned before the child exited`).toBeLessThan(e.step);
      if (e.op === 'set') setSteps.set(e.obj, [...(setSteps.get(e.obj) ?? []), e.step]);
    }
  }
}

// ------------------------------------------------------------- the suite

/** INTERLEAVE_FC_SCALE=20 runs every property twenty times as often (a deeper local search). */
const scale = Number(process.env['INTERLEAVE_FC_SCALE'] ?? '1');
const runs = (n: number): number => Math.max(1, Math.round(n * scale));

describe.each(subjects)('$name', (subject) => {
  it('only enabled processes are chosen', async () => {
    await fc.assert(
      fc.asyncProperty(descArb, seedArb, timingArb, fc.boolean(), async (desc, seed, timing, sync) => {
        const prog = render(desc, sync ? 'gen' : 'async');
        const options: RunOptions = { seed, timing, trace: true };
        const rec = recording(subject.make(render(desc, 'gen'), options));
        const r = sync ? runSync(prog, { ...options, strategy: rec.strategy }) : await run(prog, { ...options, strategy: rec.strategy });
        if (r.status === 'error') throw new Error(`unexpected error: ${r.message}`);
        checkOnlyEnabledChosen(r, rec.choices, timing === 'timed');
      }),
      { numRuns: runs(150) },
    );
  });

  it('the same strategy construction gives the same trace', async () => {
    await fc.assert(
      fc.asyncProperty(descArb, seedArb, timingArb, async (desc, seed, timing) => {
        const options: RunOptions = { seed, timing, trace: true };
        const gen = render(desc, 'gen');
        const a = await run(render(desc, 'async'), { ...options, strategy: subject.make(gen, options) });
        const b = await run(render(desc, 'async'), { ...options, strategy: subject.make(gen, options) });
        const c = runSync(gen, { ...options, strategy: subject.make(gen, options) });
        expect(serializeTrace(b.trace!)).toBe(serializeTrace(a.trace!));
        expect(serializeTrace(c.trace!)).toBe(serializeTrace(a.trace!));
        expect(b.stdout).toBe(a.stdout);
        expect(b.schedule.toArray()).toEqual(a.schedule.toArray());
      }),
      { numRuns: runs(100) },
    );
  });

  it('replaying result.schedule gives the same trace (round trip), from either rendering', async () => {
    await fc.assert(
      fc.asyncProperty(descArb, seedArb, timingArb, fc.option(fc.integer({ min: 5, max: 40 }), { nil: undefined }), async (desc, seed, timing, maxSteps) => {
        const options: RunOptions = { seed, timing, trace: true, ...(maxSteps === undefined ? {} : { maxSteps }) };
        const gen = render(desc, 'gen');
        const original = await run(render(desc, 'async'), { ...options, strategy: subject.make(gen, options) });
        const replayed = await run(render(desc, 'async'), { ...options, strategy: replayStrategy(original.schedule) });
        const replayedSync = runSync(gen, { ...options, strategy: replayStrategy(original.schedule.toArray()) });
        for (const again of [replayed, replayedSync]) {
          expect(again.status).toBe(original.status);
          expect(serializeTrace(again.trace!)).toBe(serializeTrace(original.trace!));
          expect(again.stdout).toBe(original.stdout);
          expect(again.schedule.toArray()).toEqual(original.schedule.toArray());
        }
      }),
      { numRuns: runs(100) },
    );
  });

  it('a replay whose recorded pid cannot run fails with REPLAY_DIVERGED naming the choice and the step', async () => {
    await fc.assert(
      fc.asyncProperty(descArb, seedArb, timingArb, fc.nat(), fc.nat(), async (desc, seed, timing, pickChoice, pickPid) => {
        const options: RunOptions = { seed, timing, trace: true };
        const gen = render(desc, 'gen');
        const rec = recording(subject.make(gen, options));
        const original = runSync(gen, { ...options, strategy: rec.strategy });
        fc.pre(rec.choices.length > 0);
        const j = pickChoice % rec.choices.length;
        const at = rec.choices[j]!;
        // A pid of this run that cannot run at choice j, or one that never exists.
        const pids = original.processes.map((p) => p.pid).filter((pid) => !at.enabled.includes(pid));
        const bad = pids.length > 0 ? pids[pickPid % pids.length]! : 1999;
        const corrupted = original.schedule.toArray();
        corrupted[j] = bad;

        const r = await run(render(desc, 'async'), { ...options, strategy: replayStrategy(corrupted) });
        expect(r.status).toBe('error');
        if (r.status !== 'error') return;
        expect(r.error).toBeInstanceOf(SimulationError);
        expect((r.error as SimulationError).code).toBe('REPLAY_DIVERGED');
        expect((r.error as SimulationError).message).toBe(
          `replayStrategy: choice ${j + 1} at step ${at.step} recorded pid ${bad}, which cannot run there ` +
            `(runnable: ${at.enabled.join(', ')}).\n` +
            '  How to fix: replay with the same program and options that produced the schedule.',
        );
        expect(r.message).toBe(`SimulationError: ${(r.error as SimulationError).message}`);
        // It stopped right there, never taking another path.
        expect(r.steps).toBe(at.step);
        expect(serializeTrace(original.trace!).startsWith(serializeTrace(r.trace!))).toBe(true);
        expect(original.stdout.startsWith(r.stdout)).toBe(true);
      }),
      { numRuns: runs(100) },
    );
  });

  it('a replayed schedule that runs out fails with REPLAY_DIVERGED naming the step', () => {
    fc.assert(
      fc.property(descArb, seedArb, fc.nat(), (desc, seed, pickCut) => {
        const options: RunOptions = { seed, trace: true };
        const gen = render(desc, 'gen');
        const rec = recording(subject.make(gen, options));
        const original = runSync(gen, { ...options, strategy: rec.strategy });
        fc.pre(rec.choices.length > 0);
        const keep = pickCut % rec.choices.length;
        const r = runSync(gen, { ...options, strategy: replayStrategy(original.schedule.toArray().slice(0, keep)) });
        expect(r.status === 'error' && (r.error as SimulationError).code).toBe('REPLAY_DIVERGED');
        expect(r.status === 'error' && r.message).toBe(
          `SimulationError: replayStrategy: the recorded schedule has ${keep} choices, but the run needs more at step ${rec.choices[keep]!.step}.\n` +
            '  How to fix: replay with the same program and options that produced the schedule.',
        );
      }),
      { numRuns: runs(100) },
    );
  });
});
