/**
 * The kernel's laws, checked over small random programs.
 *
 * A program is generated as plain data (a {@link Desc}: 2–4 processes, each a short
 * list of steps) and rendered twice by two mirror-image interpreters: once as async
 * functions (`await op`) and once as generator functions (`yield* op`). The laws:
 *
 *   (a) same description + seed + options ⇒ byte-identical trace and output;
 *   (b) the async and generator renderings give byte-identical traces;
 *   (c) only processes whose operation can take effect are chosen, checked against an
 *       independent model of the primitives rebuilt from the trace;
 *   (d) a process's random draws do not depend on other processes' draws (nor on
 *       the schedule);
 *   (e) Math.random, Date.now, new Date() and performance.now are deterministic per
 *       seed inside a run and restored after it, however the run ends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PID_BASE,
  program,
  randomStrategy,
  run,
  runSync,
  serializeTrace,
  type DoneEvent,
  type Event as SimEvent,
  type Lock,
  type Monitor,
  type Op,
  type ProcessView,
  type Program,
  type RunOptions,
  type RunResult,
  type Semaphore,
  type Strategy,
  type TraceEvent,
  type World,
} from '../src/index.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

// ------------------------------------------------------------ descriptions

type DrawKind = 'random' | 'uniform' | 'math';
type Pair = 0 | 1;

/** One step of a process, as data. `lock`/`sem` run `body` between acquire and release (if acquired). */
type Step =
  | { readonly k: 'print'; readonly text: string }
  | { readonly k: 'sleep'; readonly seconds: number }
  /** Draw u, print it, sleep u seconds. */
  | { readonly k: 'sleepRandom' }
  /** Draw one value of the process's stream and print it. */
  | { readonly k: 'draw'; readonly how: DrawKind }
  /** Print the virtual clock as time.time(), Date.now(), performance.now(), new Date(). */
  | { readonly k: 'clock' }
  | { readonly k: 'lock'; readonly lock: Pair; readonly block: boolean; readonly timeout: number | null; readonly body: readonly Step[] }
  | { readonly k: 'sem'; readonly block: boolean; readonly timeout: number | null; readonly body: readonly Step[] }
  | { readonly k: 'set'; readonly ev: Pair }
  | { readonly k: 'clear'; readonly ev: Pair }
  | { readonly k: 'wait'; readonly ev: Pair; readonly timeout: number | null }
  /** An uncaught exception: the process exits with code 1 (holding what it holds). */
  | { readonly k: 'raise' };

/** A program: the main process creates 2 locks, a semaphore and 2 events, starts one child per entry of `procs`, joins them all. */
interface Desc {
  readonly procs: readonly (readonly Step[])[];
  readonly semValue: number;
}

type Style = 'async' | 'gen';

interface Env {
  readonly w: World;
  readonly locks: readonly [Lock, Lock];
  readonly sem: Semaphore;
  readonly events: readonly [SimEvent, SimEvent];
}

function makeEnv(w: World, desc: Desc): Env {
  return {
    w,
    locks: [w.mp.Lock(), w.mp.Lock()],
    sem: w.mp.Semaphore(desc.semValue),
    events: [w.mp.Event(), w.mp.Event()],
  };
}

/** Every draw consumes exactly one value u of the process's stream and yields u itself. */
function draw(w: World, how: DrawKind): number {
  switch (how) {
    case 'random':
      return w.random.random();
    case 'uniform':
      return w.random.uniform(0, 1);
    case 'math':
      return Math.random();
  }
}

function clockReadings(w: World): unknown[] {
  return [w.time.time(), Date.now(), performance.now(), new Date().toISOString()];
}

async function stepsAsync(env: Env, me: number, steps: readonly Step[]): Promise<void> {
  const { w } = env;
  for (const s of steps) {
    switch (s.k) {
      case 'print':
        await w.print(`p${me}:`, s.text);
        break;
      case 'sleep':
        await w.time.sleep(s.seconds);
        break;
      case 'sleepRandom': {
        const u = w.random.random();
        await w.print(`p${me} draw`, u);
        await w.time.sleep(u);
        break;
      }
      case 'draw':
        await w.print(`p${me} draw`, draw(w, s.how));
        break;
      case 'clock':
        await w.print(`p${me} clock`, ...clockReadings(w));
        break;
      case 'lock':
      case 'sem': {
        const l = s.k === 'lock' ? env.locks[s.lock] : env.sem;
        if (await l.acquire(s.block, s.timeout)) {
          await stepsAsync(env, me, s.body);
          await l.release();
        }
        break;
      }
      case 'set':
        await env.events[s.ev].set();
        break;
      case 'clear':
        await env.events[s.ev].clear();
        break;
      case 'wait': {
        const flag = await env.events[s.ev].wait(s.timeout);
        await w.print(`p${me} waited`, flag);
        break;
      }
      case 'raise':
        throw new Error(`p${me} raised`);
    }
  }
}

function* stepsGen(env: Env, me: number, steps: readonly Step[]): Gen {
  const { w } = env;
  for (const s of steps) {
    switch (s.k) {
      case 'print':
        yield* w.print(`p${me}:`, s.text);
        break;
      case 'sleep':
        yield* w.time.sleep(s.seconds);
        break;
      case 'sleepRandom': {
        const u = w.random.random();
        yield* w.print(`p${me} draw`, u);
        yield* w.time.sleep(u);
        break;
      }
      case 'draw':
        yield* w.print(`p${me} draw`, draw(w, s.how));
        break;
      case 'clock':
        yield* w.print(`p${me} clock`, ...clockReadings(w));
        break;
      case 'lock':
      case 'sem': {
        const l = s.k === 'lock' ? env.locks[s.lock] : env.sem;
        if (yield* l.acquire(s.block, s.timeout)) {
          yield* stepsGen(env, me, s.body);
          yield* l.release();
        }
        break;
      }
      case 'set':
        yield* env.events[s.ev].set();
        break;
      case 'clear':
        yield* env.events[s.ev].clear();
        break;
      case 'wait': {
        const flag = yield* env.events[s.ev].wait(s.timeout);
        yield* w.print(`p${me} waited`, flag);
        break;
      }
      case 'raise':
        throw new Error(`p${me} raised`);
    }
  }
}

/** The description as a program of async processes or of generator processes. */
function render(desc: Desc, style: Style): Program<void> {
  if (style === 'async') {
    return program(
      async (w) => {
        const env = makeEnv(w, desc);
        const ps = desc.procs.map((steps, i) => w.mp.Process({ target: (me: number) => stepsAsync(env, me, steps), args: [i] }));
        for (const p of ps) await p.start();
        for (const p of ps) await p.join();
        await w.print('exitcodes', ps.map((p) => p.exitcode));
      },
      { name: 'random-async' },
    );
  }
  return program(
    function* (w) {
      const env = makeEnv(w, desc);
      const ps = desc.procs.map((steps, i) => w.mp.Process({ target: (me: number) => stepsGen(env, me, steps), args: [i] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      yield* w.print('exitcodes', ps.map((p) => p.exitcode));
    },
    { name: 'random-gen' },
  );
}

// ------------------------------------------------------------- arbitraries

const pairArb: fc.Arbitrary<Pair> = fc.constantFrom(0, 1);
const timeoutArb = fc.constantFrom<number | null>(null, 0, 0.1, 0.25, 0.7, 1.5);
/** Mostly blocking acquires. */
const blockArb = fc.integer({ min: 0, max: 3 }).map((n) => n > 0);

const leafArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('print' as const), text: fc.constantFrom('a', 'b', 'c') }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('sleep' as const), seconds: fc.constantFrom(0, 0.1, 0.25, 0.5, 1) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'sleepRandom' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('draw' as const), how: fc.constantFrom<DrawKind>('random', 'uniform', 'math') }) },
  { weight: 1, arbitrary: fc.constant({ k: 'clock' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('set' as const), ev: pairArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('clear' as const), ev: pairArb }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('wait' as const), ev: pairArb, timeout: timeoutArb }) },
  { weight: 1, arbitrary: fc.constant({ k: 'raise' as const }) },
);

function stepArb(depth: number): fc.Arbitrary<Step> {
  if (depth === 0) return leafArb;
  const body = fc.array(stepArb(depth - 1), { maxLength: 3 });
  return fc.oneof(
    { weight: 5, arbitrary: leafArb },
    {
      weight: 3,
      arbitrary: fc.record({ k: fc.constant('lock' as const), lock: pairArb, block: blockArb, timeout: timeoutArb, body }),
    },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('sem' as const), block: blockArb, timeout: timeoutArb, body }) },
  );
}

const descArb: fc.Arbitrary<Desc> = fc.record({
  procs: fc.array(fc.array(stepArb(2), { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 4 }),
  semValue: fc.integer({ min: 1, max: 2 }),
});

const seedArb: fc.Arbitrary<string | number> = fc.oneof(fc.integer(), fc.string({ maxLength: 6 }));

interface Opts {
  readonly timing: 'timed' | 'untimed';
  readonly maxSteps: number | null;
}
/** Sometimes a small maxSteps, so step-limited runs are covered too. */
const optsArb: fc.Arbitrary<Opts> = fc.record({
  timing: fc.constantFrom('timed' as const, 'untimed' as const),
  maxSteps: fc.option(fc.integer({ min: 3, max: 60 }), { nil: null, freq: 4 }),
});

const styleArb = fc.constantFrom<Style>('async', 'gen');

function runOptions(seed: string | number, o: Opts, extra: RunOptions = {}): RunOptions {
  return { seed, timing: o.timing, ...(o.maxSteps === null ? {} : { maxSteps: o.maxSteps }), ...extra };
}

// ----------------------------------------------------------------- running

/** INTERLEAVE_FC_SCALE=20 runs every property twenty times as often (a deeper local search). */
const scale = Number(process.env['INTERLEAVE_FC_SCALE'] ?? '1');
const runs = (n: number): number => Math.max(1, Math.round(n * scale));

const realRandom = Math.random;
const RealDate = Date;
const realPerfNow = performance.now; // eslint-disable-line @typescript-eslint/unbound-method -- compared by identity only
const perfNowWasOwn = Object.prototype.hasOwnProperty.call(performance, 'now');

/** Law (e), checked after every run of this file: the ambient globals are back. */
function expectGlobalsRestored(): void {
  expect(Math.random).toBe(realRandom);
  expect(globalThis.Date).toBe(RealDate);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- compared by identity only
  expect(performance.now).toBe(realPerfNow);
  expect(Object.prototype.hasOwnProperty.call(performance, 'now')).toBe(perfNowWasOwn);
}

/** Run `prog`; generator programs alternate between run() and runSync() (law (b) checks they agree). */
async function runChecked<R>(prog: Program<R>, options: RunOptions, sync = false): Promise<RunResult<R>> {
  const r = sync ? runSync(prog, options) : await run(prog, options);
  expectGlobalsRestored();
  return r;
}

/** Everything observable about a run, serialised: equal fingerprints = byte-identical runs. */
function fingerprint(r: RunResult): string {
  return JSON.stringify({
    status: r.status,
    message: r.status === 'ok' ? null : r.message,
    value: r.status === 'ok' ? r.value : null,
    steps: r.steps,
    time: r.time,
    schedule: r.schedule.toArray(),
    stdout: r.stdout,
    stderr: r.stderr,
    processes: r.processes,
    trace: r.trace === undefined ? null : serializeTrace(r.trace),
  });
}

/** Our programs never misuse the simulator: a run ends ok, deadlocked or at the step limit. */
function expectNoError(r: RunResult): void {
  if (r.status === 'error') throw new Error(`unexpected error: ${r.message}`);
}

// ------------------------------------------------------ the scheduling model

/** What a recording strategy saw at one choice. */
interface Choice {
  readonly step: number;
  readonly time: number;
  readonly enabled: readonly number[];
  /** Every enabled process had a pending operation (ProcessView.pending !== null). */
  readonly allPending: boolean;
  readonly index: number;
}

/** Wrap a strategy so that it records each choice. */
function recording(inner: Strategy): { readonly strategy: Strategy; readonly choices: Choice[] } {
  const choices: Choice[] = [];
  return {
    choices,
    strategy: {
      name: inner.name,
      choose(enabled, ctx) {
        const index = inner.choose(enabled, ctx);
        choices.push({
          step: ctx.step,
          time: ctx.time,
          enabled: enabled.map((p) => p.pid),
          allPending: enabled.every((p) => p.pending !== null),
          index,
        });
        return index;
      },
    },
  };
}

interface Pending {
  readonly obj: string;
  readonly op: string;
  readonly args: readonly unknown[];
  /** Virtual time when issued: deadlines are measured from here. */
  readonly time: number;
  /** Event.wait: 1 once its first step found the flag clear and it began waiting. */
  readonly phase: 0 | 1;
  /** Event.wait: how many times the event had been set when it began waiting. */
  readonly sets: number;
}

/**
 * Law (c). Rebuild the state of every lock, semaphore, event and process from the
 * trace alone, and check at every step that:
 * - the strategy was asked exactly when two or more processes could take a step,
 *   with exactly those processes (in pid order), and returned a valid index;
 * - the process that took the step is the chosen one (or the only runnable one),
 *   and its operation could take effect under the model;
 * - block/wake/sleep events agree with the model, results agree with the model
 *   (an acquire gives up only when the object is taken, wait returns the flag);
 * - every choice is followed by its step, and the schedule is the chosen pids.
 */
function checkScheduling(desc: Desc, r: RunResult, choices: readonly Choice[], timed: boolean, maxSteps: number | null): void {
  const trace = r.trace;
  if (trace === undefined) throw new Error('run without a trace');
  const fail = (step: number, msg: string): never => {
    throw new Error(`step ${step}: ${msg}`);
  };

  const pending = new Map<number, Pending | null>([[PID_BASE, { obj: 'MainProcess', op: 'begin', args: [], time: 0, phase: 0, sets: 0 }]]);
  const blocked = new Map<number, boolean>([[PID_BASE, false]]);
  const pidOf = new Map<string, number>();
  const exited = new Set<number>();
  const lockOwner = new Map<string, number>();
  let sem = desc.semValue;
  const flags = new Map<string, boolean>();
  const sets = new Map<string, number>();
  let now = 0;
  let step = 0;
  let nextChoice = 0;

  const free = (obj: string): boolean => (obj.startsWith('Lock#') ? !lockOwner.has(obj) : sem > 0);
  const ready = (p: Pending): boolean => {
    switch (p.op) {
      case 'begin':
      case 'start':
      case 'print':
      case 'release':
      case 'set':
      case 'clear':
        return true;
      case 'acquire': {
        const [block = true, timeout] = p.args as [boolean?, number?];
        return !block || free(p.obj) || (timeout !== undefined && now >= p.time + timeout);
      }
      case 'wait': {
        const [timeout] = p.args as [number?];
        // The first step always runs (it finds the flag clear or not); then a set made since wakes it.
        return p.phase === 0 || flags.get(p.obj) === true || (sets.get(p.obj) ?? 0) !== p.sets || (timeout !== undefined && now >= p.time + timeout);
      }
      case 'sleep':
        return !timed || now >= p.time + (p.args[0] as number);
      case 'join':
        return exited.has(pidOf.get(p.obj) ?? -1);
      default:
        return fail(step, `unexpected operation ${p.obj}.${p.op}`);
    }
  };
  const runnable = (): number[] => {
    const out: number[] = [];
    for (const [pid, p] of pending) {
      if (p === null) fail(step, `live pid ${pid} has no pending operation`);
      else if (ready(p)) out.push(pid);
    }
    return out.sort((a, b) => a - b);
  };

  const executor = new Map<number, number>();
  for (const e of trace) if (e.type === 'done' && !executor.has(e.step)) executor.set(e.step, e.pid);

  const beginStep = (s: number): void => {
    if (s !== step + 1) fail(s, `the trace jumps from step ${step} to step ${s}`);
    const can = runnable();
    for (const [pid] of pending) {
      if (blocked.get(pid) === can.includes(pid)) fail(s, `pid ${pid}: block/wake events say ${blocked.get(pid) ? 'blocked' : 'runnable'}, the model disagrees`);
    }
    const who = executor.get(s);
    if (who === undefined) return fail(s, 'events of a step without its done event');
    if (!can.includes(who)) fail(s, `pid ${who} took a step, but only [${can.join(', ')}] could`);
    const c = choices[nextChoice];
    const asked = c !== undefined && c.step === s - 1;
    if (can.length >= 2) {
      if (!asked) return fail(s, `[${can.join(', ')}] could run but the strategy was not asked`);
      if (c.enabled.join() !== can.join()) fail(s, `the strategy was offered [${c.enabled.join(', ')}], but [${can.join(', ')}] could run`);
      if (!c.allPending) fail(s, 'the strategy was offered a process without a pending operation');
      if (c.time !== now) fail(s, `the strategy saw time ${c.time}, the trace says ${now}`);
      if (!Number.isInteger(c.index) || c.index < 0 || c.index >= c.enabled.length) fail(s, `invalid index ${c.index}`);
      if (c.enabled[c.index] !== who) fail(s, `the strategy chose pid ${c.enabled[c.index]}, but pid ${who} took the step`);
      nextChoice++;
    } else if (asked) {
      fail(s, `the strategy was asked to choose among [${c.enabled.join(', ')}] when only [${can.join(', ')}] could run`);
    }
    step = s;
  };

  const apply = (e: TraceEvent): void => {
    if (e.time < now) fail(e.step, `time went back from ${now} to ${e.time}`);
    now = e.time;
    switch (e.type) {
      case 'issue':
        if (pending.get(e.pid) !== null) fail(e.step, `pid ${e.pid} issued ${e.obj}.${e.op} while not running`);
        pending.set(e.pid, { obj: e.obj, op: e.op, args: e.args, time: e.time, phase: 0, sets: 0 });
        break;
      case 'spawn':
        pending.set(e.child, { obj: e.name, op: 'begin', args: [], time: e.time, phase: 0, sets: 0 });
        blocked.set(e.child, false);
        pidOf.set(e.name, e.child);
        break;
      case 'exit':
        pending.delete(e.pid);
        blocked.delete(e.pid);
        exited.add(e.pid);
        break;
      case 'block':
      case 'sleep':
        blocked.set(e.pid, true);
        break;
      case 'wake':
        blocked.set(e.pid, false);
        break;
      case 'done': {
        const p = pending.get(e.pid);
        if (p === undefined || p === null || p.obj !== e.obj || p.op !== e.op) {
          return fail(e.step, `pid ${e.pid} performed ${e.obj}.${e.op}, but its pending operation was ${p ? `${p.obj}.${p.op}` : 'none'}`);
        }
        if (e.outcome !== 'ok' || e.phase !== p.phase) fail(e.step, `unexpected ${e.outcome} phase ${e.phase} of ${e.obj}.${e.op}`);
        if (e.op === 'wait' && p.phase === 0) {
          const [timeout] = p.args as [number?];
          const flag = flags.get(e.obj) ?? false;
          const expired = timeout !== undefined && now >= p.time + timeout;
          if (!flag && !expired) {
            // Found the flag clear: it waits for a set from now on (a second step returns).
            if (e.value !== undefined) fail(e.step, `${e.obj}.wait() returned ${JSON.stringify(e.value)} at once, but the flag was clear`);
            pending.set(e.pid, { ...p, phase: 1, sets: sets.get(e.obj) ?? 0 });
            break;
          }
        }
        if (e.op === 'acquire') {
          if (e.value === true) {
            if (!free(e.obj)) fail(e.step, `pid ${e.pid} acquired ${e.obj}, which was taken`);
            if (e.obj.startsWith('Lock#')) lockOwner.set(e.obj, e.pid);
            else sem--;
          } else if (free(e.obj)) {
            fail(e.step, `pid ${e.pid} gave up on ${e.obj}, which was free`);
          }
        } else if (e.op === 'release') {
          if (e.obj.startsWith('Lock#')) {
            if (lockOwner.get(e.obj) !== e.pid) fail(e.step, `pid ${e.pid} released ${e.obj} it did not hold`);
            lockOwner.delete(e.obj);
          } else {
            sem++;
          }
        } else if (e.op === 'set') {
          flags.set(e.obj, true);
          sets.set(e.obj, (sets.get(e.obj) ?? 0) + 1);
        } else if (e.op === 'clear') {
          flags.set(e.obj, false);
        } else if (e.op === 'wait' && e.value !== (flags.get(e.obj) ?? false)) {
          fail(e.step, `${e.obj}.wait() returned ${String(e.value)}, but the flag is ${String(flags.get(e.obj) ?? false)}`);
        }
        pending.set(e.pid, null);
        break;
      }
      default:
        break;
    }
  };

  for (const e of trace) {
    if (e.step < step) fail(e.step, `event ${e.type} of step ${e.step} after step ${step}`);
    if (e.step > step) beginStep(e.step);
    apply(e);
  }

  if (nextChoice !== choices.length) {
    const c = choices[nextChoice]!;
    fail(c.step, `the strategy was asked to choose among [${c.enabled.join(', ')}] (and chose pid ${c.enabled[c.index]}), but no step followed`);
  }
  expect(r.schedule.toArray()).toEqual(choices.map((c) => c.enabled[c.index]));
  expect(r.steps).toBe(step);
  switch (r.status) {
    case 'ok':
      expect([...pending.keys()]).toEqual([]);
      break;
    case 'deadlock':
      expect(runnable()).toEqual([]);
      expect(r.blocked.map((b) => b.pid).sort()).toEqual([...pending.keys()].sort());
      break;
    case 'step-limit':
      expect(r.steps).toBe(maxSteps);
      expect(runnable()).not.toEqual([]);
      break;
    case 'error':
      throw new Error(`unexpected error: ${r.message}`);
  }
}

// ---------------------------------------------------------------- the laws

describe('kernel laws over random programs', () => {
  it('(a) same description, seed and options ⇒ byte-identical trace and stdout; tracing does not perturb the run', async () => {
    await fc.assert(
      fc.asyncProperty(descArb, seedArb, optsArb, styleArb, async (desc, seed, opts, style) => {
        const prog = render(desc, style);
        const first = await runChecked(prog, runOptions(seed, opts, { trace: true }));
        const again = await runChecked(render(desc, style), runOptions(seed, opts, { trace: true }));
        expectNoError(first);
        expect(fingerprint(again)).toBe(fingerprint(first));
        // The same run without a trace: only the trace is missing.
        const untraced = await runChecked(prog, runOptions(seed, opts));
        expect(untraced.trace).toBeUndefined();
        expect(fingerprint({ ...untraced, trace: first.trace } as RunResult)).toBe(fingerprint(first));
      }),
      { numRuns: runs(200) },
    );
  });

  it('(b) the async and generator renderings give byte-identical traces (run and runSync alike)', async () => {
    await fc.assert(
      fc.asyncProperty(descArb, seedArb, optsArb, async (desc, seed, opts) => {
        const options = runOptions(seed, opts, { trace: true });
        const viaAsync = await runChecked(render(desc, 'async'), options);
        const viaGen = await runChecked(render(desc, 'gen'), options);
        const viaSync = await runChecked(render(desc, 'gen'), options, true);
        expectNoError(viaAsync);
        expect(serializeTrace(viaGen.trace!)).toBe(serializeTrace(viaAsync.trace!));
        expect(fingerprint(viaGen)).toBe(fingerprint(viaAsync));
        expect(fingerprint(viaSync)).toBe(fingerprint(viaAsync));
      }),
      { numRuns: runs(200) },
    );
  });

  it('(c) only processes whose operation can take effect are chosen, and the chosen one takes the next step', async () => {
    await fc.assert(
      fc.asyncProperty(descArb, seedArb, optsArb, styleArb, async (desc, seed, opts, style) => {
        const rec = recording(randomStrategy(seed));
        const r = await runChecked(render(desc, style), runOptions(seed, opts, { trace: true, strategy: rec.strategy }), style === 'gen');
        checkScheduling(desc, r, rec.choices, opts.timing === 'timed', opts.maxSteps);
      }),
      { numRuns: runs(300) },
    );
  });

  it('(c) holds for the extreme strategies too (always lowest pid, always highest pid)', async () => {
    const extremes: readonly Strategy[] = [
      { name: 'lowest', choose: () => 0 },
      { name: 'highest', choose: (enabled) => enabled.length - 1 },
    ];
    await fc.assert(
      fc.asyncProperty(descArb, seedArb, optsArb, fc.constantFrom(0, 1), async (desc, seed, opts, which) => {
        const rec = recording(extremes[which]!);
        const r = await runChecked(render(desc, 'gen'), runOptions(seed, opts, { trace: true, strategy: rec.strategy }), true);
        checkScheduling(desc, r, rec.choices, opts.timing === 'timed', opts.maxSteps);
      }),
      { numRuns: runs(100) },
    );
  });

  describe('(d) random streams are per process', () => {
    /** The values process `i` drew, in order (every draw is printed as `p<i> draw <u>`). */
    const drawsOf = (r: RunResult, i: number): string[] =>
      r.output.filter((l) => l.stream === 'stdout' && l.text.startsWith(`p${i} draw `)).map((l) => l.text.slice(`p${i} draw `.length));
    const commonPrefix = (a: readonly string[], b: readonly string[]): void => {
      const n = Math.min(a.length, b.length);
      expect(b.slice(0, n)).toEqual(a.slice(0, n));
    };
    /** Steps whose outcome depends on the schedule decide whether later steps run. */
    const branches = (steps: readonly Step[]): boolean =>
      steps.some((s) => ((s.k === 'lock' || s.k === 'sem') && (!s.block || s.timeout !== null)) || ((s.k === 'lock' || s.k === 'sem') && branches(s.body)));
    /** Make sure the observed process draws at all. */
    const withDraws = (desc: Desc, a: number): Desc => ({
      ...desc,
      procs: desc.procs.map((steps, i) => (i === a ? [{ k: 'draw', how: 'random' }, ...steps, { k: 'draw', how: 'math' }] : steps)),
    });
    const extraDrawsArb = fc.array(fc.record({ at: fc.nat(), how: fc.constantFrom<DrawKind>('random', 'uniform', 'math') }), {
      minLength: 1,
      maxLength: 4,
    });

    it("adding draws to other processes leaves a process's draws unchanged", async () => {
      await fc.assert(
        fc.asyncProperty(descArb, seedArb, fc.nat(), extraDrawsArb, styleArb, async (base, seed, pick, extra, style) => {
          const a = pick % base.procs.length;
          const desc = withDraws(base, a);
          const more: Desc = {
            ...desc,
            procs: desc.procs.map((steps, i) => {
              if (i === a) return steps;
              const out = [...steps];
              for (const x of extra) out.splice(x.at % (out.length + 1), 0, { k: 'draw', how: x.how });
              return out;
            }),
          };
          const r1 = await runChecked(render(desc, style), { seed });
          const r2 = await runChecked(render(more, style), { seed });
          expectNoError(r1);
          expectNoError(r2);
          const d1 = drawsOf(r1, a);
          const d2 = drawsOf(r2, a);
          // Each run's draws are a prefix of the same stream: the schedule decides only how far A got.
          commonPrefix(d1, d2);
          if (r1.status === 'ok' && r2.status === 'ok' && !branches(desc.procs[a]!)) expect(d2).toEqual(d1);
        }),
        { numRuns: runs(150) },
      );
    });

    it("a process's draws do not depend on the schedule, only on the seed and its pid", async () => {
      await fc.assert(
        fc.asyncProperty(descArb, seedArb, fc.nat(), async (base, seed, pick) => {
          const a = pick % base.procs.length;
          const desc = withDraws(base, a);
          const byRandom = await runChecked(render(desc, 'gen'), { seed }, true);
          const byLowest = await runChecked(render(desc, 'gen'), { seed, strategy: { name: 'lowest', choose: () => 0 } }, true);
          const byHighest = await runChecked(render(desc, 'async'), { seed, strategy: { name: 'highest', choose: (e) => e.length - 1 } });
          commonPrefix(drawsOf(byRandom, a), drawsOf(byLowest, a));
          commonPrefix(drawsOf(byRandom, a), drawsOf(byHighest, a));
          commonPrefix(drawsOf(byLowest, a), drawsOf(byHighest, a));
          expect(drawsOf(byRandom, a).length).toBeGreaterThan(0);
        }),
        { numRuns: runs(100) },
      );
    });
  });
});

// ------------------------------------------------------------ (f) pass-overs

/** Pass-overs counted by hand at every step, from the decision's runnable processes: what ProcessView.passes must equal. */
class HandCount {
  count = 0;
  since = 0;
  sinceTime = 0;
  longestInARow = 0;
  private inARow = 0;
  private lastStep = -1;
  readonly runners = new Map<number, number>();

  constructor(since: number, sinceTime: number) {
    this.since = since;
    this.sinceTime = sinceTime;
  }

  pass(step: number, runner: number): void {
    this.count++;
    this.inARow = this.lastStep === step - 1 ? this.inARow + 1 : 1;
    this.longestInARow = Math.max(this.longestInARow, this.inARow);
    this.lastStep = step;
    this.runners.set(runner, (this.runners.get(runner) ?? 0) + 1);
  }

  /** As PassOvers.runners() orders them: most first, then by pid. */
  ranking(): [number, number][] {
    return [...this.runners].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  }
}

/**
 * A monitor that counts pass-overs by hand from each step's decision (`ctx.enabled()`)
 * and hands every passed-over process, with its count, to `check`; it declares
 * `passes: true`, so the kernel counts them too. `chosen` sees the process that ran.
 */
function countingByHand(check: (p: ProcessView, h: HandCount, e: DoneEvent) => void, chosen?: (p: ProcessView) => void): Monitor {
  const hand = new Map<number, HandCount>();
  return {
    name: 'by-hand',
    passes: true,
    blocking: false,
    events: ['done'],
    onStart: () => hand.clear(),
    onEvent(e, ctx) {
      if (e.type !== 'done') return;
      hand.delete(e.pid); // it ran: its wait is over
      for (const p of ctx.enabled()) {
        if (p.pid === e.pid) {
          chosen?.(p);
          continue;
        }
        let h = hand.get(p.pid);
        if (h === undefined) hand.set(p.pid, (h = new HandCount(p.issuedStep, p.issuedTime)));
        h.pass(e.step, e.pid);
        check(p, h, e);
      }
    },
  };
}

describe('(f) pass-overs', () => {
  it("ProcessView.passes equals counting, at every step, each runnable process the decision did not choose", async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(descArb, seedArb, optsArb, async (desc, seed, opts) => {
        const checker = countingByHand(
          (p, h) => {
            const got = p.passes;
            expect(got).not.toBeNull();
            expect({ count: got!.count, since: got!.since, sinceTime: got!.sinceTime, longestInARow: got!.longestInARow, runners: got!.runners() }).toEqual({
              count: h.count,
              since: h.since,
              sinceTime: h.sinceTime,
              longestInARow: h.longestInARow,
              runners: h.ranking(),
            });
            compared++;
          },
          (p) => expect(p.passes).toBeNull(),
        );
        const r = await runChecked(render(desc, 'gen'), runOptions(seed, opts, { monitors: [checker] }), true);
        expectNoError(r);
      }),
      { numRuns: runs(200) },
    );
    expect(compared).toBeGreaterThan(200);
  });

  it('onPassLimit is called once for every wait that reaches passLimit, at the decision that makes it, for each limit asked', async () => {
    let calls = 0;
    await fc.assert(
      fc.asyncProperty(descArb, seedArb, optsArb, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), async (desc, seed, opts, low, high) => {
        const expected: string[] = [];
        const byHand = countingByHand((p, h, e) => {
          for (const limit of [low, high]) if (h.count === limit) expected.push(`${limit}:${p.pid}@${e.step}/${e.time}`);
        });
        const got: string[] = [];
        const watcher = (limit: number): Monitor => ({
          name: `limit-${limit}`,
          passLimit: limit,
          onPassLimit(p, at) {
            expect(p.passes?.count).toBe(limit);
            got.push(`${limit}:${p.pid}@${at.step}/${at.time}`);
          },
          events: [],
          onEvent() {},
        });
        // The watchers first: at a step, the limit is reached before its done event.
        const r = await runChecked(render(desc, 'gen'), runOptions(seed, opts, { monitors: [watcher(low), watcher(high), byHand] }), true);
        expectNoError(r);
        const order = (xs: string[]): string[] => [...xs].sort();
        expect(order(got)).toEqual(order(expected));
        calls += got.length;
      }),
      { numRuns: runs(200) },
    );
    expect(calls).toBeGreaterThan(50);
  });

  it('name who ran instead right when pids take more than one byte of the schedule (over 128 processes)', () => {
    let compared = 0;
    const checker = countingByHand((p, h) => {
      if (p.pid % 17 !== 0) return; // a sample: runners() decodes the schedule
      expect(p.passes!.runners()).toEqual(h.ranking());
      compared++;
    });
    const crowd = program(function* ({ mp, print }: World) {
      function* chatter(i: number) {
        yield* print(`hello ${i}`);
        yield* print(`bye ${i}`);
      }
      const ps = [];
      for (let i = 0; i < 150; i++) {
        const p = mp.Process({ target: chatter, args: [i] });
        ps.push(p);
        yield* p.start();
      }
      for (const p of ps) yield* p.join();
    });
    expect(runSync(crowd, { seed: 5, monitors: [checker] }).status).toBe('ok');
    expect(compared).toBeGreaterThan(100);
  });

  it('are null for a process that has exited (it waits for nothing)', () => {
    const seen = new Set<ProcessView>();
    let checked = 0;
    const keeper: Monitor = {
      name: 'keeper',
      passes: true,
      events: ['done'],
      onEvent(_e, ctx) {
        for (const p of ctx.enabled()) seen.add(p);
      },
      onEnd() {
        for (const p of seen) {
          if (!p.done) continue;
          expect(p.passes).toBeNull();
          checked++;
        }
      },
    };
    // A spinner killed while it could run: passed over at the very step that kills it.
    const killed = program(function* ({ mp, print }: World) {
      function* spin() {
        for (;;) yield* print('spin');
      }
      const p = mp.Process({ target: spin, daemon: true });
      yield* p.start();
      for (let i = 0; i < 3; i++) yield* print('main');
      yield* p.terminate();
      yield* print('done');
    });
    for (let seed = 0; seed < 5; seed++) expect(runSync(killed, { seed, monitors: [keeper] }).status).toBe('ok');
    expect(checked).toBeGreaterThan(5);
  });

  it('are not counted unless a monitor declares passes: true', () => {
    let seen = 0;
    const looker: Monitor = {
      name: 'looker',
      events: ['done'],
      onEvent(_e, ctx) {
        for (const p of ctx.enabled()) {
          expect(p.passes).toBeNull();
          seen++;
        }
      },
    };
    const desc: Desc = { procs: [[{ k: 'print', text: 'a' }, { k: 'print', text: 'b' }], [{ k: 'print', text: 'c' }]], semValue: 1 };
    runSync(render(desc, 'gen'), { seed: 3, monitors: [looker] });
    expect(seen).toBeGreaterThan(4);
  });
});

// ------------------------------------------------------------ (e) globals

describe('(e) ambient globals are simulated during a run and restored after it', () => {
  /** Read every patched global from inside a process: async and generator flavours. */
  const readingsAsync = program(async ({ mp, time, print }) => {
    const child = mp.Process({
      target: async () => {
        for (const dt of [0.25, 1.5, 0.001]) {
          await time.sleep(dt);
          await print(Math.random(), Date.now(), performance.now(), new Date().getTime(), new Date().toISOString(), time.time());
        }
      },
    });
    await child.start();
    await print(Math.random(), Date.now());
    await child.join();
  });

  it('Math.random, Date.now, new Date() and performance.now are deterministic per seed', async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, async (seed) => {
        const a = await runChecked(readingsAsync, { seed });
        const b = await runChecked(readingsAsync, { seed });
        expect(a.status).toBe('ok');
        expect(b.stdout).toBe(a.stdout);
        expect(b.schedule.toArray()).toEqual(a.schedule.toArray());
      }),
      { numRuns: runs(50) },
    );
    const s1 = await runChecked(readingsAsync, { seed: 1 });
    const s2 = await runChecked(readingsAsync, { seed: 2 });
    expect(s1.stdout).not.toBe(s2.stdout);
  });

  it('the clocks read virtual time; Date with arguments is the real Date', async () => {
    const seen: unknown[][] = [];
    const prog = program(function* ({ time }) {
      for (const dt of [0, 0.25, 1.5]) {
        yield* time.sleep(dt);
        const d = new Date();
        seen.push([time.time(), Date.now(), performance.now(), d.getTime(), d instanceof RealDate, new Date(86_400_000).toISOString(), Date.UTC(2020, 0, 1)]);
      }
    });
    const r = await runChecked(prog, {}, true);
    expect(r.status).toBe('ok');
    expect(seen).toEqual([
      [0, 0, 0, 0, true, '1970-01-02T00:00:00.000Z', RealDate.UTC(2020, 0, 1)],
      [0.25, 250, 250, 250, true, '1970-01-02T00:00:00.000Z', RealDate.UTC(2020, 0, 1)],
      [1.75, 1750, 1750, 1750, true, '1970-01-02T00:00:00.000Z', RealDate.UTC(2020, 0, 1)],
    ]);
  });

  it('Math.random and random.random() share the process stream', async () => {
    const order = (mathFirst: boolean) =>
      program(function* ({ random, print }) {
        const xs = mathFirst ? [Math.random(), random.random(), Math.random()] : [random.random(), Math.random(), random.random()];
        yield* print(...xs);
      });
    const a = await runChecked(order(true), { seed: 'shared' }, true);
    const b = await runChecked(order(false), { seed: 'shared' }, true);
    expect(a.stdout).toBe(b.stdout);
  });

  it('patchGlobals: false leaves the real globals in place during the run', async () => {
    let inside: unknown = null;
    const r = await runChecked(
      program(function* ({ print }) {
        inside = [Math.random === realRandom, globalThis.Date === RealDate, performance.now === realPerfNow];
        yield* print('x');
      }),
      { patchGlobals: false },
      true,
    );
    expect(r.status).toBe('ok');
    expect(inside).toEqual([true, true, true]);
  });

  /** One program per way a run can end; globals must be restored after each. */
  const endings: readonly { readonly name: string; readonly go: () => Promise<RunResult> }[] = [
    { name: 'ok', go: () => run(readingsAsync, { seed: 3 }) },
    {
      name: 'main raises',
      go: () =>
        run(
          program(async ({ print }) => {
            await print(Math.random());
            throw new Error('boom');
          }),
        ),
    },
    {
      name: 'deadlock',
      go: () =>
        run(
          program(async ({ mp }) => {
            await mp.Event().wait();
          }),
        ),
    },
    {
      name: 'step-limit',
      go: () =>
        run(
          program(async ({ print }) => {
            for (;;) await print(Date.now());
          }),
          { maxSteps: 10 },
        ),
    },
    {
      name: 'misuse (forgotten await)',
      go: () =>
        run(
          program(async ({ print }) => {
            void print('a');
            await print('b');
          }),
        ),
    },
    {
      name: 'foreign await',
      go: () =>
        run(
          program(async ({ print }) => {
            await print('a');
            await new Promise((resolve) => setTimeout(resolve, 5));
          }),
        ),
    },
    {
      name: 'runSync on an async program',
      go: () =>
        Promise.resolve(
          runSync(
            program(async ({ print }) => {
              await print('a');
            }),
          ),
        ),
    },
    {
      name: 'strategy throws',
      go: () =>
        run(
          program(function* ({ mp, print }) {
            yield* mp.Process({ target: function* () {} }).start();
            yield* print('x');
          }),
          {
            strategy: {
              name: 'throws',
              choose: () => {
                throw new Error('strategy failed');
              },
            },
          },
        ),
    },
    {
      name: 'monitor fails the run',
      go: () => run(readingsAsync, { monitors: [{ name: 'no', onEvent: (_e, ctx) => ctx.fail('nope') } satisfies Monitor] }),
    },
  ];

  for (const { name, go } of endings) {
    it(`restored after a run that ends with: ${name}`, async () => {
      const r = await go();
      expectGlobalsRestored();
      // A fresh run afterwards is unaffected.
      const after = await runChecked(readingsAsync, { seed: 3 });
      expect(after.status).toBe('ok');
      if (name === 'ok') expect(r.stdout).toBe(after.stdout);
      else expect(r.status).not.toBe('ok');
    });
  }
});
