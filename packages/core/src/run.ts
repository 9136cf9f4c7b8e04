import { show } from './args.js';
import { misuse } from './errors.js';
import { Kernel, type BlockedProcess, type KernelConfig, type Outcome, type OutputLine } from './kernel.js';
import type { Monitor } from './monitor.js';
import type { Op } from './op.js';
import { Process } from './primitives/process.js';
import type { Schedule } from './schedule.js';
import { randomStrategy, type Strategy } from './strategy.js';
import type { TraceEvent } from './trace.js';
import { createWorld, type World } from './world.js';
import { checkInitialFiles, type InitialFiles } from './primitives/files.js';

/** The body of a program: the main process's code. Async or generator function. */
export type ProgramBody<R> = (world: World) => Promise<R> | Generator<Op<unknown>, R, unknown> | R;

/**
 * A concurrent program: a factory of fresh simulated worlds. Each run calls the body
 * anew with new modules, so nothing leaks between runs.
 */
export interface Program<R = unknown> {
  readonly name: string;
  /** @internal */
  readonly body: ProgramBody<R>;
  /** The files on the simulated disk (`fs`) when each run starts: path → text. */
  readonly files?: InitialFiles;
}

/**
 * Define a program. The body is the main process (Python's `if __name__ == '__main__':`
 * block); it receives the simulated modules `mp`, `time`, `random`, `os`, `print` and
 * `fs`. `options.files` puts files on the simulated disk at the start of every run.
 *
 * @example
 * ```ts
 * const hello = program(async ({ mp, os, print }) => {
 *   const p = mp.Process({ target: async () => { await print('child', os.getpid()); } });
 *   await p.start();
 *   await p.join();
 * });
 * const r = await run(hello, { seed: 1 });
 * r.stdout; // 'child 1001\n'
 * ```
 */
export function program<R>(body: ProgramBody<R>, options: { readonly name?: string; readonly files?: InitialFiles } = {}): Program<R> {
  if (typeof body !== 'function') {
    throw misuse('INVALID_ARGUMENT', 'program(body): body must be a function.', 'pass an async function or a generator function: program(async ({ mp, print }) => { ... }).');
  }
  const name = options.name ?? (body.name || 'program');
  // Checked and frozen once: every run starts from the same disk.
  return options.files === undefined ? { name, body } : { name, body, files: checkInitialFiles(options.files) };
}

/** Options of {@link run}. Same program + same options = the same run, byte for byte. */
export interface RunOptions {
  /** Seeds the default schedule and every process's `random` stream. Default 0. */
  readonly seed?: string | number;
  /** Who picks the next process. Default: `randomStrategy(seed)`. */
  readonly strategy?: Strategy;
  /**
   * `timed` (default): sleeps take virtual time and wake in deadline order, as the
   * course's printed outputs show. `untimed`: a sleep is only a scheduling point, so
   * any order of sleepers can happen — what race hunting wants.
   */
  readonly timing?: 'timed' | 'untimed';
  /** Stop with status `step-limit` after this many steps. Default 1,000,000. */
  readonly maxSteps?: number;
  /** Keep every event in `result.trace`. Default false (no per-step memory). */
  readonly trace?: boolean;
  /** Observers of the event stream (the checkers package provides them). */
  readonly monitors?: readonly Monitor[];
  /** What `mp.cpuCount()` returns. Default 4. */
  readonly cpuCount?: number;
  /**
   * Route `Math.random`, `Date.now`, `new Date()` and `performance.now` to the
   * simulation during the run. Default true.
   */
  readonly patchGlobals?: boolean;
  /**
   * Model CPython's Queue feeder thread: `put` returns once the item is in the
   * process's buffer, and a background thread moves it into the queue in a later
   * step, so `empty()` can be true just after another process's `put`. Default
   * true; false makes every put visible at once.
   */
  readonly queueFeeder?: boolean;
  /**
   * Virtual seconds it takes to create a process: `p.start()` and each Pool worker
   * wait this long before the child exists (timed mode only). Default 0: instant.
   * Set it to compare process-per-task with a Pool, as the course does.
   */
  readonly spawnCost?: number;
}

/** Final state of one process. */
export interface ProcessSummary {
  readonly pid: number;
  readonly name: string;
  readonly exitcode: number | null;
  readonly steps: number;
  /** A background thread (a Queue's feeder), scheduled like a process but not one. */
  readonly thread: boolean;
}

interface ResultBase {
  readonly program: string;
  readonly seed: string;
  readonly strategy: string;
  readonly timing: 'timed' | 'untimed';
  /** Steps executed. */
  readonly steps: number;
  /** Virtual time at the end, in seconds. */
  readonly time: number;
  /** The choices made: enough to replay the run exactly. */
  readonly schedule: Schedule;
  /** Every printed line, in order, with its process and time. */
  readonly output: readonly OutputLine[];
  /** The stdout lines joined, each followed by a newline. */
  readonly stdout: string;
  /** The stderr lines (tracebacks of failed children) joined the same way. */
  readonly stderr: string;
  readonly processes: readonly ProcessSummary[];
  /** Present when the run was asked to keep it. */
  readonly trace?: readonly TraceEvent[];
}

/** The run finished: every process exited. */
export interface OkResult<R> extends ResultBase {
  readonly status: 'ok';
  /** The main body's return value. */
  readonly value: R;
}
/** The main process raised, the simulator was misused, or a monitor failed the run. */
export interface ErrorResult extends ResultBase {
  readonly status: 'error';
  readonly error: unknown;
  readonly message: string;
}
/** Every live process was blocked with no timer pending. */
export interface DeadlockResult extends ResultBase {
  readonly status: 'deadlock';
  readonly blocked: readonly BlockedProcess[];
  readonly message: string;
}
/** The run hit `maxSteps`. */
export interface StepLimitResult extends ResultBase {
  readonly status: 'step-limit';
  readonly message: string;
}

/** How a run ended. Switch on `status`. */
export type RunResult<R = unknown> = OkResult<R> | ErrorResult | DeadlockResult | StepLimitResult;

/**
 * Run a program once under a schedule, in virtual time.
 *
 * @example
 * ```ts
 * const r = await run(prog, { seed: 42 });
 * if (r.status !== 'ok') console.log(r.message);
 * console.log(r.stdout);
 * ```
 */
export function run<R>(prog: Program<R>, options: RunOptions = {}): Promise<RunResult<R>> {
  return new Promise((resolve, reject) => {
    try {
      launch(prog, options, resolve);
    } catch (e) {
      // Bad options and overlapping runs are reported as a rejected run().
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
}

/**
 * Run a program whose processes are all generator functions, synchronously: no
 * promise, no microtask per step — the fastest path, used by exploration.
 * Throws if a process turns out to be async.
 */
export function runSync<R>(prog: Program<R>, options: RunOptions = {}): RunResult<R> {
  let result: RunResult<R> | null = null;
  const k = launch(prog, options, (r) => (result = r));
  if (result === null) {
    k.fail(
      misuse(
        'ASYNC_IN_SYNC_RUN',
        `runSync(${prog.name}) met an async process; it can only drive generator functions.`,
        'use `await run(...)` for programs with async processes, or write every process as a generator function.',
      ),
    );
  }
  return result!;
}

function launch<R>(prog: Program<R>, options: RunOptions, done: (r: RunResult<R>) => void): Kernel {
  const config = resolveOptions(options);
  const k = new Kernel(config);
  const world = createWorld(k, prog.files);
  const mainHandle = new Process(k, null, { target: () => prog.body(world), name: 'MainProcess' }, true);
  const main = mainHandle.createMainState();
  k.start(main, (o) => done(assemble<R>(prog, k, o)));
  return k;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['seed', 'strategy', 'timing', 'maxSteps', 'trace', 'monitors', 'cpuCount', 'patchGlobals', 'queueFeeder', 'spawnCost']);

function resolveOptions(o: RunOptions): KernelConfig {
  if (typeof o !== 'object' || o === null) {
    throw misuse('INVALID_OPTION', `run(program, options): options must be an object, got ${show(o)}.`, 'pass e.g. `{ seed: 42 }`, or omit the options.');
  }
  // `for in`, not Object.keys: explorers resolve options once per execution.
  for (const key in o) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw misuse('INVALID_OPTION', `run(program, options): unknown option "${key}".`, `use only ${[...KNOWN_OPTIONS].join(', ')}.`);
    }
  }
  const seed = o.seed ?? 0;
  if (typeof seed !== 'string' && !(typeof seed === 'number' && Number.isFinite(seed))) {
    throw misuse('INVALID_OPTION', `run(program, options): seed must be a string or a finite number, got ${show(seed)}.`, 'pass e.g. `{ seed: 42 }`.');
  }
  const timing = o.timing ?? 'timed';
  if (timing !== 'timed' && timing !== 'untimed') {
    throw misuse('INVALID_OPTION', `run(program, options): timing must be 'timed' or 'untimed', got ${JSON.stringify(timing)}.`, "pass `{ timing: 'untimed' }` to explore every order of sleepers.");
  }
  const maxSteps = o.maxSteps ?? 1_000_000;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) {
    throw misuse('INVALID_OPTION', `run(program, options): maxSteps must be a positive integer, got ${String(maxSteps)}.`, 'pass e.g. `{ maxSteps: 10_000 }`.');
  }
  const cpuCount = o.cpuCount ?? 4;
  if (!Number.isInteger(cpuCount) || cpuCount < 1) {
    throw misuse('INVALID_OPTION', `run(program, options): cpuCount must be a positive integer, got ${String(cpuCount)}.`, 'pass e.g. `{ cpuCount: 8 }`.');
  }
  const spawnCost = o.spawnCost ?? 0;
  if (typeof spawnCost !== 'number' || !Number.isFinite(spawnCost) || spawnCost < 0) {
    throw misuse('INVALID_OPTION', `run(program, options): spawnCost must be a finite number of virtual seconds >= 0, got ${show(spawnCost)}.`, 'pass e.g. `{ spawnCost: 0.03 }`, or omit it for instant process creation.');
  }
  const strategy = o.strategy ?? randomStrategy(seed);
  if (typeof strategy.choose !== 'function') {
    throw misuse('INVALID_OPTION', 'run(program, options): strategy must have a choose(enabled, ctx) method.', 'pass a Strategy, e.g. randomStrategy(seed).');
  }
  const monitors = o.monitors ?? NO_MONITORS;
  if (!Array.isArray(monitors) || !monitors.every(isMonitor)) {
    throw misuse('INVALID_OPTION', 'run(program, options): monitors must be an array of monitors, each with an onEvent(event, ctx) method.', 'pass e.g. `{ monitors: [always(...)] }`, or omit the option.');
  }
  return {
    seed: typeof seed === 'string' ? seed : String(seed),
    strategy,
    timed: timing === 'timed',
    maxSteps,
    monitors,
    trace: flag('trace', o.trace, false),
    cpuCount,
    patchGlobals: flag('patchGlobals', o.patchGlobals, true),
    queueFeeder: flag('queueFeeder', o.queueFeeder, true),
    spawnCost,
  };
}

const NO_MONITORS: readonly Monitor[] = [];

function isMonitor(m: Partial<Monitor> | null): boolean {
  return typeof m?.onEvent === 'function';
}

function flag(key: 'trace' | 'patchGlobals' | 'queueFeeder', value: boolean | undefined, byDefault: boolean): boolean {
  if (value === undefined) return byDefault;
  if (typeof value !== 'boolean') {
    throw misuse('INVALID_OPTION', `run(program, options): ${key} must be true or false, got ${show(value)}.`, `pass \`{ ${key}: true }\` or \`{ ${key}: false }\`, or omit it.`);
  }
  return value;
}

function assemble<R>(prog: Program<R>, k: Kernel, o: Outcome): RunResult<R> {
  const output = k.output;
  // A handful of lines is joined at once: that costs less than defining the lazy
  // accessors (a few lines: 0.1 µs; the two accessors: 0.8 µs), and most executions
  // of an exploration print little or nothing.
  const eager = output.length <= EAGER_JOIN_LINES;
  const result: Record<string, unknown> = {
    status: o.status,
    program: prog.name,
    seed: k.config.seed,
    strategy: k.config.strategy.name,
    timing: k.config.timed ? 'timed' : 'untimed',
    steps: k.step,
    time: k.now,
    schedule: k.schedule,
    output,
    stdout: eager ? joinLines(output, 'stdout') : '',
    stderr: eager ? joinLines(output, 'stderr') : '',
    processes: k.processes.map((p) => ({ pid: p.pid, name: p.name, exitcode: p.exitcode, steps: p.steps, thread: p.isThread })),
  };
  // Longer output is joined on first read: exploration assembles a result per
  // execution and rarely looks at it. The getters are shared functions, not
  // closures in the literal: a closure getter becomes part of the object's hidden
  // class and keeps every finished run reachable until a full GC.
  if (!eager) Object.defineProperties(result, LAZY_STREAMS);
  if (k.events !== null) result['trace'] = k.events;
  if (o.status === 'ok') result['value'] = o.value;
  else result['message'] = o.message;
  if (o.status === 'error') result['error'] = o.error;
  if (o.status === 'deadlock') result['blocked'] = o.blocked;
  return result as unknown as RunResult<R>;
}

/** Up to this many lines of output, a result's stdout and stderr are joined when it is assembled. */
const EAGER_JOIN_LINES = 16;

/** `stdout`/`stderr` accessors that replace themselves with the joined text on first read. */
const LAZY_STREAMS: PropertyDescriptorMap = Object.fromEntries(
  (['stdout', 'stderr'] as const).map((stream) => [
    stream,
    {
      enumerable: true,
      configurable: true,
      get(this: { output: readonly OutputLine[] }): string {
        const text = joinLines(this.output, stream);
        // Cached by becoming a plain property, like the eagerly joined ones (unless the caller froze the result).
        if (!Object.isFrozen(this)) Object.defineProperty(this, stream, { value: text, enumerable: true, writable: true, configurable: true });
        return text;
      },
    },
  ]),
);

function joinLines(output: readonly OutputLine[], stream: 'stdout' | 'stderr'): string {
  let s = '';
  for (const l of output) if (l.stream === stream) s += l.text + '\n';
  return s;
}
