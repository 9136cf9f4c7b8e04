/**
 * Every misuse of the simulator, with its message pinned: the messages are part of
 * the interface. Each names the API, says what was expected, and ends with a
 * "How to fix" line. A misuse fails the whole run (status `error`) wherever it
 * happens, or — outside a run, or for bad options — throws / rejects at once.
 */
import { describe, expect, it } from 'vitest';
import {
  SimulationError,
  ValueError,
  program,
  run,
  runSync,
  type Lock,
  type Monitor,
  type Op,
  type RunOptions,
  type RunResult,
  type SimulationErrorCode,
  type Strategy,
  type World,
} from '../src/index.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

/** The house style of a misuse message. */
const msg = (what: string, fix: string): string => `${what}\n  How to fix: ${fix}`;

/** The run failed with a SimulationError of `code`; returns its message (also checked against `result.message`). */
function misuseIn(r: RunResult, code: SimulationErrorCode): string {
  if (r.status !== 'error') throw new Error(`expected status error, got ${r.status}${r.status === 'ok' ? '' : `: ${r.message}`}`);
  expect(r.error).toBeInstanceOf(SimulationError);
  const e = r.error as SimulationError;
  expect(e.code).toBe(code);
  expect(r.message).toBe(`SimulationError: ${e.message}`);
  expect(e.message).toContain('\n  How to fix: ');
  return e.message;
}

/** `f` threw a SimulationError of `code`; returns its message. */
function thrownBy(f: () => unknown, code: SimulationErrorCode): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SimulationError);
    expect((e as SimulationError).code).toBe(code);
    return (e as SimulationError).message;
  }
  throw new Error(`expected a SimulationError ${code}, nothing was thrown`);
}

/** `p` rejected with a SimulationError of `code`; returns its message. */
async function rejectionOf(p: Promise<unknown>, code: SimulationErrorCode): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SimulationError);
    expect((e as SimulationError).code).toBe(code);
    return (e as SimulationError).message;
  }
  throw new Error(`expected run() to reject with ${code}, it resolved`);
}

const FORGOTTEN_FIX =
  'put `await` (async process) or `yield*` (generator process) before every Interleave operation; ' +
  'the @typescript-eslint/no-floating-promises lint rule catches this at edit time.';
const FORGOTTEN_AT_END_FIX = 'put `await` (async process) or `yield*` (generator process) before every Interleave operation.';

describe('FORGOTTEN_AWAIT', () => {
  const second = msg(
    'MainProcess (pid 1000) called stdout.print("b") while its previous operation stdout.print("a") was never awaited.',
    FORGOTTEN_FIX,
  );

  it('a second operation while one is pending (async)', async () => {
    const r = await run(
      program(async ({ print }) => {
        void print('a');
        await print('b');
      }),
    );
    expect(misuseIn(r, 'FORGOTTEN_AWAIT')).toBe(second);
  });

  it('a second operation while one is pending (generator)', () => {
    const r = runSync(
      program(function* ({ print }) {
        void print('a');
        yield* print('b');
      }),
    );
    expect(misuseIn(r, 'FORGOTTEN_AWAIT')).toBe(second);
  });

  it('a child process finishing with an unawaited operation (async)', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const lock = mp.Lock();
        const child = mp.Process({
          target: (l: Lock) => {
            void l.acquire(true, 0.5);
            return Promise.resolve();
          },
          args: [lock],
        });
        await child.start();
        await child.join();
      }),
    );
    expect(misuseIn(r, 'FORGOTTEN_AWAIT')).toBe(
      msg('Process-1 (pid 1001) finished while its operation Lock#1.acquire(true, 0.5) was never awaited.', FORGOTTEN_AT_END_FIX),
    );
  });

  it('the main process finishing with an unawaited operation (generator)', () => {
    const r = runSync(
      program(function* ({ mp }) {
        void mp.Event().wait();
      }),
    );
    expect(misuseIn(r, 'FORGOTTEN_AWAIT')).toBe(msg('MainProcess (pid 1000) finished while its operation Event#1.wait() was never awaited.', FORGOTTEN_AT_END_FIX));
  });
});

describe('OUTSIDE_PROCESS', () => {
  const outside = (api: string): string =>
    msg(
      `${api} was called outside a running simulated process (its run has already ended).`,
      'call it from the program body or from a process target, while the run is in progress; ' +
        'do not keep the world (mp, time, random, os, print) for use after run() returns.',
    );

  async function keptWorld(): Promise<World> {
    let kept: World | null = null;
    const r = await run(
      program(async (w) => {
        kept = w;
        await w.print('hello');
      }),
    );
    expect(r.status).toBe('ok');
    return kept!;
  }

  it('os.getpid(), print() and the other modules called after the run', async () => {
    const w = await keptWorld();
    expect(thrownBy(() => w.os.getpid(), 'OUTSIDE_PROCESS')).toBe(outside('os.getpid()'));
    expect(thrownBy(() => w.print('late'), 'OUTSIDE_PROCESS')).toBe(outside('print()'));
    expect(thrownBy(() => w.time.sleep(1), 'OUTSIDE_PROCESS')).toBe(outside('time.sleep()'));
    expect(thrownBy(() => w.random.random(), 'OUTSIDE_PROCESS')).toBe(outside('random.random()'));
    expect(thrownBy(() => w.mp.Lock(), 'OUTSIDE_PROCESS')).toBe(outside('mp.Lock()'));
  });

  it('a world kept from an earlier run, used inside a later run', async () => {
    const w = await keptWorld();
    const r = await run(
      program(async ({ print }) => {
        await print('pid', w.os.getpid());
      }),
    );
    expect(misuseIn(r, 'OUTSIDE_PROCESS')).toBe(outside('os.getpid()'));
  });
});

describe('FOREIGN_AWAIT (detected, never a hang)', () => {
  const foreign = (who: string, step: number): string =>
    msg(
      `${who} awaited something outside the simulation (a real timer, I/O, or a promise that no simulated operation settles) at step ${step}.`,
      'inside a process await only Interleave operations (and async functions that await only them); ' +
        'use `time.sleep(seconds)` for delays and simulated primitives for communication.',
    );

  it('awaiting a real setTimeout', { timeout: 2_000 }, async () => {
    const r = await run(
      program(async ({ print }) => {
        await print('before');
        await new Promise((resolve) => setTimeout(resolve, 30_000).unref());
        await print('after');
      }),
    );
    expect(misuseIn(r, 'FOREIGN_AWAIT')).toBe(foreign('MainProcess (pid 1000)', 2));
    expect(r.stdout).toBe('before\n');
  });

  it('a child awaiting a promise that never resolves', { timeout: 2_000 }, async () => {
    const r = await run(
      program(async ({ mp }) => {
        const child = mp.Process({ target: () => new Promise<void>(() => {}) });
        await child.start();
        await child.join();
      }),
    );
    expect(misuseIn(r, 'FOREIGN_AWAIT')).toBe(foreign('Process-1 (pid 1001)', 3));
  });

  it('awaiting already-settled promises is fine: they settle within the run', async () => {
    const r = await run(
      program(async ({ print }) => {
        await Promise.resolve();
        await print('a');
        await Promise.resolve().then(() => 'settled');
        await print('b');
      }),
    );
    expect(r.status).toBe('ok');
    expect(r.stdout).toBe('a\nb\n');
  });
});

describe('STALE_OBJECT', () => {
  const stale = (api: string): string =>
    msg(`${api} was used on an object from a run that has already ended.`, 'create simulated objects inside the program body, so every run gets fresh ones.');

  async function keptLock(): Promise<Lock> {
    let kept: Lock | null = null;
    const r = await run(
      program(async ({ mp }) => {
        kept = mp.Lock();
        await kept.acquire();
      }),
    );
    expect(r.status).toBe('ok');
    return kept!;
  }

  it('a Lock from a finished run, used outside any run', async () => {
    const lock = await keptLock();
    expect(thrownBy(() => lock.release(), 'STALE_OBJECT')).toBe(stale('Lock#1.release()'));
  });

  it('a Lock from a finished run, used inside a later run', async () => {
    const lock = await keptLock();
    const r = await run(
      program(async ({ mp }) => {
        mp.Lock(); // this run's own Lock#1
        await lock.acquire(true, 2);
      }),
    );
    expect(misuseIn(r, 'STALE_OBJECT')).toBe(stale('Lock#1.acquire(true, 2)'));
  });
});

describe('NOT_AN_OPERATION', () => {
  it('a generator process yielding a plain value', () => {
    const r = runSync(
      program(function* ({ print }) {
        yield* print('a');
        yield 42 as unknown as Op<unknown>;
      }),
    );
    expect(misuseIn(r, 'NOT_AN_OPERATION')).toBe(
      msg(
        'MainProcess (pid 1000) yielded 42, which is not the Interleave operation it issued.',
        'in a generator process write `yield* op` for every operation (e.g. `yield* lock.acquire()`); do not yield plain values.',
      ),
    );
    expect(r.stdout).toBe('a\n');
  });

  it('a child generator yielding an operation that is not the one it issued', () => {
    const r = runSync(
      program(function* ({ mp, print }) {
        const child = mp.Process({
          target: function* (): Gen {
            const first = print('a');
            yield* first;
            yield first; // already done
          },
        });
        yield* child.start();
        yield* child.join();
      }),
    );
    expect(misuseIn(r, 'NOT_AN_OPERATION')).toBe(
      msg(
        'Process-1 (pid 1001) yielded an object, which is not the Interleave operation it issued.',
        'in a generator process write `yield* op` for every operation (e.g. `yield* lock.acquire()`); do not yield plain values.',
      ),
    );
  });
});

describe('AWAITED_TWICE', () => {
  it('awaiting an operation again after it completed', async () => {
    const r = await run(
      program(async ({ print }) => {
        const op = print('a');
        await op;
        await op;
      }),
    );
    expect(misuseIn(r, 'AWAITED_TWICE')).toBe(
      msg('MainProcess (pid 1000) awaited stdout.print("a") after it had already completed.', 'await each operation exactly once; call the method again for a new operation.'),
    );
    expect(r.stdout).toBe('a\n');
  });

  it('calling .then on an operation from a generator process', () => {
    const r = runSync(
      program(function* ({ print }) {
        const op = print('a');
        void op.then(() => undefined);
        yield* op;
      }),
    );
    expect(misuseIn(r, 'AWAITED_TWICE')).toBe(
      msg(
        'MainProcess (pid 1000) awaited stdout.print("a") twice (or awaited it from a generator process).',
        'await each operation exactly once; in a generator process use `yield*` instead of await.',
      ),
    );
  });
});

describe('NOT_PROMISE_CHAIN', () => {
  const chained = msg(
    'An Interleave operation was chained with .then(...).then(...); operations are scheduling points, not promises.',
    'write `const v = await op;` (async process) or `const v = yield* op;` (generator process) and continue from there.',
  );

  it('op.then(f).then(g) at the first step', async () => {
    const r = await run(
      program(async ({ print }) => {
        await print('a')
          .then(() => 1)
          .then((n) => n + 1);
      }),
    );
    expect(misuseIn(r, 'NOT_PROMISE_CHAIN')).toBe(chained);
  });

  it('op.then(f).then(g) later in a child process', async () => {
    const r = await run(
      program(async ({ mp, print }) => {
        const child = mp.Process({
          target: async () => {
            await print('first');
            await print('second')
              .then(() => 1)
              .then((n) => n + 1);
          },
        });
        await child.start();
        await child.join();
      }),
    );
    expect(misuseIn(r, 'NOT_PROMISE_CHAIN')).toBe(chained);
  });
});

describe('INVALID_ARGUMENT', () => {
  const TIMEOUT_FIX = 'pass e.g. `0.5`, or omit it to wait forever.';
  const cases: readonly { readonly call: string; readonly body: (w: World) => unknown; readonly message: string }[] = [
    {
      call: 'time.sleep(-1)',
      body: ({ time }) => time.sleep(-1),
      message: msg('time.sleep(seconds): sleep length must be non-negative.', 'pass 0 or a positive number of virtual seconds.'),
    },
    {
      call: 'time.sleep(NaN)',
      body: ({ time }) => time.sleep(NaN),
      message: msg('time.sleep(seconds): seconds must be a number, got NaN.', 'pass a number of virtual seconds, e.g. `time.sleep(0.5)`.'),
    },
    {
      call: "time.sleep('1')",
      body: ({ time }) => time.sleep('1' as unknown as number),
      message: msg('time.sleep(seconds): seconds must be a number, got "1".', 'pass a number of virtual seconds, e.g. `time.sleep(0.5)`.'),
    },
    {
      call: "lock.acquire(true, 'x')",
      body: ({ mp }) => mp.Lock().acquire(true, 'x' as unknown as number),
      message: msg('Lock#1.acquire(block, timeout): timeout must be a number of virtual seconds or undefined, got "x".', TIMEOUT_FIX),
    },
    {
      call: "lock.acquire('yes')",
      body: ({ mp }) => mp.Lock().acquire('yes' as unknown as boolean),
      message: msg('Lock#1.acquire(block, timeout): block must be a boolean, got "yes".', 'pass true or false for block.'),
    },
    {
      call: 'semaphore.acquire(true, NaN)',
      body: ({ mp }) => mp.Semaphore(2).acquire(true, NaN),
      message: msg('Semaphore#1.acquire(block, timeout): timeout must be a number of virtual seconds or undefined, got NaN.', TIMEOUT_FIX),
    },
    {
      call: 'event.wait(NaN)',
      body: ({ mp }) => mp.Event().wait(NaN),
      message: msg('Event#1.wait(timeout): timeout must be a number of virtual seconds or undefined, got NaN.', TIMEOUT_FIX),
    },
    {
      call: "process.join('x') (the child's own child is Process-1:1)",
      body: ({ mp }) => mp.Process({}).join('x' as unknown as number),
      message: msg('Process-1:1.join(timeout): timeout must be a number of virtual seconds or undefined, got "x".', TIMEOUT_FIX),
    },
    {
      call: 'mp.Semaphore(1.5)',
      body: ({ mp }) => mp.Semaphore(1.5),
      message: msg('mp.Semaphore(value): value must be an integer >= 0, got 1.5.', 'pass a whole number of at least 0.'),
    },
    {
      call: "mp.Semaphore('2')",
      body: ({ mp }) => mp.Semaphore('2' as unknown as number),
      message: msg('mp.Semaphore(value): value must be an integer >= 0, got "2".', 'pass a whole number of at least 0.'),
    },
    {
      call: 'mp.BoundedSemaphore(0.5)',
      body: ({ mp }) => mp.BoundedSemaphore(0.5),
      message: msg('mp.BoundedSemaphore(value): value must be an integer >= 0, got 0.5.', 'pass a whole number of at least 0.'),
    },
    {
      call: 'mp.Process(undefined)',
      body: ({ mp }) => mp.Process(undefined as unknown as object),
      message: msg('mp.Process(): expected an options object, got undefined.', 'pass `{ target: myFunction, args: [...] }`.'),
    },
    {
      call: 'mp.Process({ target: 1 })',
      body: ({ mp }) => mp.Process({ target: 1 as unknown as () => void }),
      message: msg('mp.Process(): target must be a function, got 1.', 'pass `{ target: myFunction, args: [...] }`.'),
    },
    {
      call: 'mp.Process({ args: 1 })',
      body: ({ mp }) => mp.Process({ target: () => undefined, args: 1 as unknown as [] }),
      message: msg('mp.Process(): args must be an array, got 1.', 'pass the arguments as an array: `args: [i, lock]`.'),
    },
    {
      call: 'mp.Process({ name: 5 })',
      body: ({ mp }) => mp.Process({ name: 5 as unknown as string }),
      message: msg('mp.Process(): name must be a string, got 5.', "pass e.g. `name: 'worker-1'`, or omit it for Python's default Process-N."),
    },
    {
      call: "mp.Process({ daemon: 'yes' })",
      body: ({ mp }) => mp.Process({ daemon: 'yes' as unknown as boolean }),
      message: msg('mp.Process(): daemon must be true or false, got "yes".', "pass `daemon: true`, or omit it to inherit the parent's flag."),
    },
    {
      call: 'mp.Barrier(0)',
      body: ({ mp }) => mp.Barrier(0),
      message: msg('mp.Barrier(parties): parties must be an integer >= 1, got 0.', 'pass a whole number of at least 1.'),
    },
    {
      call: 'mp.Condition({})',
      body: ({ mp }) => mp.Condition({} as unknown as Lock),
      message: msg('mp.Condition(lock): lock must be an mp.Lock() or mp.RLock(), got an object.', 'pass a lock made by mp.Lock()/mp.RLock(), or nothing.'),
    },
    {
      call: 'condition.notify(-1)',
      body: ({ mp }) => mp.Condition().notify(-1),
      message: msg('Condition#1.notify(n): n must be an integer >= 0, got -1.', 'pass a whole number of at least 0.'),
    },
    {
      call: 'random.randint(3, 1)',
      body: ({ random }) => random.randint(3, 1),
      message: msg('random.randint(a, b): expected integers a <= b, got a=3, b=1.', 'pass the bounds in increasing order, e.g. randint(1, 3).'),
    },
    {
      call: 'random.choice([])',
      body: ({ random }) => random.choice([]),
      message: msg('random.choice(seq): cannot choose from an empty sequence.', 'pass a non-empty array.'),
    },
  ];

  for (const c of cases) {
    it(c.call, async () => {
      // Called in a child, awaited if it is an operation: the misuse fails the whole run.
      const r = await run(
        program(async ({ mp, ...w }) => {
          const child = mp.Process({
            target: async () => {
              const v = c.body({ mp, ...w });
              if (v instanceof Promise || (typeof v === 'object' && v !== null && 'then' in v)) await (v as Op<unknown>);
            },
          });
          await child.start();
          await child.join();
        }),
      );
      expect(misuseIn(r, 'INVALID_ARGUMENT')).toBe(c.message);
    });
  }

  it('mp.Semaphore(-1) raises Python\'s ValueError in the process, as multiprocessing does', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const child = mp.Process({ target: () => void mp.Semaphore(-1) });
        await child.start();
        await child.join();
        return child.exitcode;
      }),
    );
    expect(r.status).toBe('ok');
    expect(r.status === 'ok' && r.value).toBe(1);
    expect(r.stderr).toBe('Process Process-1:\nTraceback (most recent call last):\nValueError: semaphore initial value must be >= 0\n');
    const main = await run(program(({ mp }) => void mp.Semaphore(-1)));
    expect(main.status === 'error' && main.error).toBeInstanceOf(ValueError);
  });
});

describe('INVALID_OPTION', () => {
  const hello = program(function* ({ print }) {
    yield* print('hello');
  });
  const cases: readonly { readonly name: string; readonly options: unknown; readonly message: string }[] = [
    {
      name: 'an unknown option',
      options: { sed: 1 },
      message: msg(
        'run(program, options): unknown option "sed".',
        'use only seed, strategy, timing, maxSteps, trace, monitors, cpuCount, patchGlobals, queueFeeder, spawnCost.',
      ),
    },
    {
      name: 'options that are not an object',
      options: null,
      message: msg('run(program, options): options must be an object, got null.', 'pass e.g. `{ seed: 42 }`, or omit the options.'),
    },
    {
      name: 'a NaN seed',
      options: { seed: NaN },
      message: msg('run(program, options): seed must be a string or a finite number, got NaN.', 'pass e.g. `{ seed: 42 }`.'),
    },
    {
      name: 'an object seed',
      options: { seed: { n: 1 } },
      message: msg('run(program, options): seed must be a string or a finite number, got an object.', 'pass e.g. `{ seed: 42 }`.'),
    },
    {
      name: 'a bad timing',
      options: { timing: 'fast' },
      message: msg(
        "run(program, options): timing must be 'timed' or 'untimed', got \"fast\".",
        "pass `{ timing: 'untimed' }` to explore every order of sleepers.",
      ),
    },
    {
      name: 'maxSteps 0',
      options: { maxSteps: 0 },
      message: msg('run(program, options): maxSteps must be a positive integer, got 0.', 'pass e.g. `{ maxSteps: 10_000 }`.'),
    },
    {
      name: 'a fractional maxSteps',
      options: { maxSteps: 1.5 },
      message: msg('run(program, options): maxSteps must be a positive integer, got 1.5.', 'pass e.g. `{ maxSteps: 10_000 }`.'),
    },
    {
      name: 'a string maxSteps',
      options: { maxSteps: '100' },
      message: msg('run(program, options): maxSteps must be a positive integer, got 100.', 'pass e.g. `{ maxSteps: 10_000 }`.'),
    },
    {
      name: 'cpuCount 0',
      options: { cpuCount: 0 },
      message: msg('run(program, options): cpuCount must be a positive integer, got 0.', 'pass e.g. `{ cpuCount: 8 }`.'),
    },
    {
      name: 'a strategy without choose',
      options: { strategy: { name: 'x' } },
      message: msg('run(program, options): strategy must have a choose(enabled, ctx) method.', 'pass a Strategy, e.g. randomStrategy(seed).'),
    },
    {
      name: 'monitors that are not an array of monitors',
      options: { monitors: { onEvent: () => undefined } },
      message: msg(
        'run(program, options): monitors must be an array of monitors, each with an onEvent(event, ctx) method.',
        'pass e.g. `{ monitors: [always(...)] }`, or omit the option.',
      ),
    },
    {
      name: "a monitor's events that are not an array",
      options: { monitors: [{ name: 'spawns', events: 'spawn', onEvent: () => undefined }] },
      message: msg(
        'Monitor "spawns": events must be an array of trace event types, got "spawn".',
        'list types from spawn, issue, done, block, wake, sleep, print, exit, access, send, recv, clock, thread-start, reap, atomic-begin, atomic-end, or omit events to get all of them.',
      ),
    },
    {
      name: "a monitor's events with an unknown type",
      options: { monitors: [{ name: 'accesses', events: ['done', 'acces'], onEvent: () => undefined }] },
      message: msg(
        'Monitor "accesses": events lists "acces", which is not a trace event type.',
        'list types from spawn, issue, done, block, wake, sleep, print, exit, access, send, recv, clock, thread-start, reap, atomic-begin, atomic-end, or omit events to get all of them.',
      ),
    },
    {
      name: "a monitor's ops that are not an array",
      options: { monitors: [{ name: 'joins', ops: 'join', onEvent: () => undefined }] },
      message: msg('Monitor "joins": ops must be an array of operation names, got "join".', "name operations as in trace events ('acquire', 'join'), or omit ops to get all of them."),
    },
    {
      name: "a monitor's passes that is not a boolean",
      options: { monitors: [{ name: 'patience', passes: 'yes', onEvent: () => undefined }] },
      message: msg('Monitor "patience": passes must be true or false, got "yes".', 'set passes: true to have the kernel count pass-overs (ProcessView.passes), or omit it.'),
    },
    {
      name: "a monitor's dataOps that is not a boolean",
      options: { monitors: [{ name: 'sync-only', dataOps: 0, onEvent: () => undefined }] },
      message: msg('Monitor "sync-only": dataOps must be true or false, got 0.', 'set dataOps: false to leave out the events of operations on shared data (their access events stay), or omit it.'),
    },
    {
      name: "a monitor's accesses that is neither 'all' nor 'locked'",
      options: { monitors: [{ name: 'locks', accesses: 'synchronized', onEvent: () => undefined }] },
      message: msg("Monitor \"locks\": accesses must be 'all' or 'locked', got \"synchronized\".", "set accesses: 'locked' to get only the access events of synchronized Values and Arrays (those with a lock), or omit it."),
    },
    {
      name: "a monitor's passLimit that is not a positive whole number",
      options: { monitors: [{ name: 'patience', passLimit: 0, onPassLimit: () => undefined, onEvent: () => undefined }] },
      message: msg('Monitor "patience": passLimit must be a positive whole number, got 0.', 'give both passLimit (how many pass-overs in one wait) and onPassLimit(p, at, ctx), or neither.'),
    },
    {
      name: "a monitor's onPassLimit that is not a function",
      options: { monitors: [{ name: 'patience', passLimit: 5, onPassLimit: 'fail', onEvent: () => undefined }] },
      message: msg('Monitor "patience": onPassLimit must be a function, got "fail".', 'give both passLimit (how many pass-overs in one wait) and onPassLimit(p, at, ctx), or neither.'),
    },
    {
      name: 'a monitor with a passLimit and no onPassLimit',
      options: { monitors: [{ name: 'patience', passLimit: 5, onEvent: () => undefined }] },
      message: msg('Monitor "patience": passLimit and onPassLimit come together, got passLimit 5 and no onPassLimit.', 'give both passLimit (how many pass-overs in one wait) and onPassLimit(p, at, ctx), or neither.'),
    },
    {
      name: 'a monitor with an onPassLimit and no passLimit',
      options: { monitors: [{ name: 'patience', onPassLimit: () => undefined, onEvent: () => undefined }] },
      message: msg('Monitor "patience": passLimit and onPassLimit come together, got no passLimit and an onPassLimit.', 'give both passLimit (how many pass-overs in one wait) and onPassLimit(p, at, ctx), or neither.'),
    },
    {
      name: "a monitor's ops with something else than a name",
      options: { monitors: [{ name: 'joins', ops: ['join', 3], onEvent: () => undefined }] },
      message: msg('Monitor "joins": ops lists 3, which is not an operation name.', "name operations as in trace events ('acquire', 'join'), or omit ops to get all of them."),
    },
    {
      name: 'a non-boolean trace',
      options: { trace: 'yes' },
      message: msg('run(program, options): trace must be true or false, got "yes".', 'pass `{ trace: true }` or `{ trace: false }`, or omit it.'),
    },
    {
      name: 'a non-boolean patchGlobals',
      options: { patchGlobals: 0 },
      message: msg('run(program, options): patchGlobals must be true or false, got 0.', 'pass `{ patchGlobals: true }` or `{ patchGlobals: false }`, or omit it.'),
    },
  ];

  for (const c of cases) {
    it(`${c.name}: run() rejects, runSync() throws`, async () => {
      expect(await rejectionOf(run(hello, c.options as RunOptions), 'INVALID_OPTION')).toBe(c.message);
      expect(thrownBy(() => runSync(hello, c.options as RunOptions), 'INVALID_OPTION')).toBe(c.message);
    });
  }

  it('a rejected run leaves nothing behind: the next run works', async () => {
    await expect(run(hello, { maxSteps: -1 })).rejects.toBeInstanceOf(SimulationError);
    expect((await run(hello)).stdout).toBe('hello\n');
  });
});

describe('CONCURRENT_RUN', () => {
  const concurrent = msg(
    'run() or runSync() was called while another simulation run is in progress.',
    'await each run() before starting the next (runs patch Math.random and Date, so they cannot overlap).',
  );
  const slow = program(async ({ time, print }) => {
    await time.sleep(1);
    await print('done');
  });

  it('two overlapping run() calls: the second rejects, the first completes', async () => {
    const first = run(slow);
    const second = run(slow);
    expect(await rejectionOf(second, 'CONCURRENT_RUN')).toBe(concurrent);
    const r = await first;
    expect(r.status).toBe('ok');
    expect(r.stdout).toBe('done\n');
    expect((await run(slow)).status).toBe('ok');
  });

  it('runSync() while an async run is in progress throws', async () => {
    const first = run(slow);
    expect(thrownBy(() => runSync(program(function* () {})), 'CONCURRENT_RUN')).toBe(concurrent);
    expect((await first).status).toBe('ok');
  });

  it('a run started from inside a simulated process fails the outer run', async () => {
    const r = await run(
      program(async ({ print }) => {
        runSync(program(function* () {}));
        await print('unreachable');
      }),
    );
    expect(misuseIn(r, 'CONCURRENT_RUN')).toBe(concurrent);
    expect((await run(slow)).status).toBe('ok');
  });
});

describe('ASYNC_IN_SYNC_RUN', () => {
  const fix = 'use `await run(...)` for programs with async processes, or write every process as a generator function.';

  it('runSync on an async program', () => {
    const r = runSync(
      program(
        async ({ print }) => {
          await print('a');
        },
        { name: 'asyncMain' },
      ),
    );
    expect(misuseIn(r, 'ASYNC_IN_SYNC_RUN')).toBe(msg('runSync(asyncMain) met an async process; it can only drive generator functions.', fix));
  });

  it('runSync on a generator program with an async child', async () => {
    const r = runSync(
      program(
        function* ({ mp, print }) {
          const child = mp.Process({ target: () => Promise.resolve() });
          yield* child.start();
          yield* print('started');
          yield* child.join();
        },
        { name: 'mixed' },
      ),
    );
    expect(misuseIn(r, 'ASYNC_IN_SYNC_RUN')).toBe(msg('runSync(mixed) met an async process; it can only drive generator functions.', fix));
    // The abandoned async process cannot disturb later runs.
    await Promise.resolve();
    expect((await run(program(async ({ print }) => print('next')))).stdout).toBe('next\n');
  });
});

describe('step limit', () => {
  const spin = program(function* ({ mp, print }) {
    const child = mp.Process({
      target: function* (): Gen {
        for (;;) yield* print('spin');
      },
    });
    yield* child.start();
    yield* child.join();
  });

  it('names the looping process, its next operation, and the maxSteps fix', () => {
    const r = runSync(spin, { maxSteps: 30 });
    expect(r.status).toBe('step-limit');
    expect(r.steps).toBe(30);
    expect(r.status === 'step-limit' && r.message).toBe(
      'The run did not terminate within 30 steps (t=0s). Still running: Process-1 (pid 1001) after 28 steps, next stdout.print("spin"); ' +
        'MainProcess (pid 1000) after 2 steps, next Process-1.join().\n' +
        '  How to fix: look for a loop that never exits, or raise the `maxSteps` option if the program is just long.',
    );
  });

  it('records no choice for the step it did not take', () => {
    const busy = program(function* ({ mp, print }) {
      const child = mp.Process({
        target: function* (): Gen {
          for (;;) yield* print('child');
        },
      });
      yield* child.start();
      for (;;) yield* print('main');
    });
    let asked = 0;
    const counting: Strategy = {
      name: 'counting',
      choose: () => {
        asked++;
        return 0;
      },
    };
    const r = runSync(busy, { maxSteps: 10, strategy: counting });
    expect(r.status).toBe('step-limit');
    expect(r.steps).toBe(10);
    // Steps 1 and 2 are forced (only the main process exists); steps 3..10 were chosen.
    expect(asked).toBe(8);
    expect(r.schedule.length).toBe(8);
  });
});

describe('BAD_STRATEGY_CHOICE', () => {
  const two = program(function* ({ mp, print }) {
    yield* mp.Process({ target: function* (): Gen {} }).start();
    yield* print('main');
  });
  for (const index of [2, -1, 0.5, NaN]) {
    it(`a strategy returning ${index}`, () => {
      const r = runSync(two, { strategy: { name: 'broken', choose: () => index } });
      expect(misuseIn(r, 'BAD_STRATEGY_CHOICE')).toBe(
        msg(`Strategy "broken" chose index ${index} among 2 runnable processes at step 2.`, 'return an integer in [0, 1] from Strategy.choose().'),
      );
    });
  }
});

describe('a monitor that throws (it must use ctx.fail instead)', () => {
  it('from onStart: the run fails with its error, and later runs are unaffected', async () => {
    const realRandom = Math.random;
    const thrower: Monitor = {
      name: 'thrower',
      onStart() {
        throw new Error('monitor broke');
      },
      onEvent() {},
    };
    const r = await run(program(async ({ print }) => print('x')), { monitors: [thrower] });
    expect(r.status).toBe('error');
    expect(r.status === 'error' && r.message).toBe('Error: monitor broke');
    // Before the fix, the failed start left the run registered: this rejected with CONCURRENT_RUN.
    const next = await run(program(async ({ print }) => print('x')));
    expect(next.status).toBe('ok');
    expect(Math.random).toBe(realRandom);
  });

  it('from onEvent in a generator run: same', () => {
    const thrower: Monitor = {
      name: 'thrower',
      onEvent() {
        throw new Error('monitor broke');
      },
    };
    const r = runSync(
      program(function* ({ print }) {
        yield* print('x');
      }),
      { monitors: [thrower] },
    );
    expect(r.status === 'error' && r.message).toBe(
      'SimulationError: Monitor "thrower" threw in onEvent: Error: monitor broke.\n' +
        '  How to fix: monitors must not throw; call ctx.fail(message) to fail the run.',
    );
    expect(r.status === 'error' && (r.error as SimulationError).code).toBe('MONITOR_THREW');
    expect(runSync(program(function* () {})).status).toBe('ok');
  });

  it('from onEvent in an async run: the run fails instead of the exception landing in a process', async () => {
    const thrower: Monitor = {
      name: 'thrower',
      onEvent(e) {
        if (e.type === 'print') throw new Error('monitor broke');
      },
    };
    const r = await run(
      program(async ({ print }) => {
        try {
          await print('x');
          await print('y');
        } catch {
          // a process must never see a monitor's exception
        }
        return 'caught nothing';
      }),
      { monitors: [thrower] },
    );
    expect(r.status).toBe('error');
    expect(r.status === 'error' && (r.error as SimulationError).code).toBe('MONITOR_THREW');
  });

  it('from onPassLimit: the run fails, the step under way completes, nothing lands in a process', () => {
    const thrower: Monitor = {
      name: 'thrower',
      passLimit: 1,
      onPassLimit() {
        throw new Error('monitor broke');
      },
      onEvent() {},
    };
    const r = runSync(
      program(function* ({ mp, print }) {
        function* chatty() {
          for (let i = 0; i < 3; i++) yield* print(`child ${i}`);
        }
        const p = mp.Process({ target: chatty });
        yield* p.start();
        for (let i = 0; i < 3; i++) yield* print(`main ${i}`);
        yield* p.join();
      }),
      { seed: 1, monitors: [thrower] },
    );
    expect(r.status === 'error' && r.message).toBe(
      'SimulationError: Monitor "thrower" threw in onPassLimit: Error: monitor broke.\n' +
        '  How to fix: monitors must not throw; call ctx.fail(message) to fail the run.',
    );
    expect(r.status === 'error' && (r.error as SimulationError).code).toBe('MONITOR_THREW');
  });

  it('from onEnd: the run fails and run() still resolves', async () => {
    const thrower: Monitor = {
      name: 'thrower',
      onEvent() {},
      onEnd() {
        throw new Error('end broke');
      },
    };
    const r = await run(program(async ({ print }) => print('x')), { monitors: [thrower] });
    expect(r.status === 'error' && r.message).toContain('Monitor "thrower" threw in onEnd: Error: end broke');
  });
});

describe('INVALID_ARGUMENT: a generator body from an async process', () => {
  const generatorBody = (api: string): string =>
    msg(
      `${api}: body is a generator function, but the calling process is async and cannot run it (awaiting the generator would skip the body).`,
      'pass an async function (`async () => { ... }`) from an async process, or write the process as a generator function and `yield*` the call.',
    );

  it('withLock and atomic refuse it rather than return the body unrun', async () => {
    const viaLock = await run(
      program(async ({ mp, print }) => {
        const l = mp.Lock();
        // The mistake under test: the overload for a generator body returns a generator,
        // which an async process would `await` as a plain value. The call itself throws.
        l.withLock(function* () {
          yield* print('never');
        });
        await print('not reached');
      }),
    );
    expect(misuseIn(viaLock, 'INVALID_ARGUMENT')).toBe(generatorBody('Lock#1.withLock(body)'));
    const viaAtomic = await run(
      program(async ({ atomic, print }) => {
        atomic('block', function* () {
          yield* print('never');
        });
        await print('not reached');
      }),
    );
    expect(misuseIn(viaAtomic, 'INVALID_ARGUMENT')).toBe(generatorBody('atomic(label, body)'));
  });

  it('so does Pool.using; from a generator process, it refuses a body that gives back a promise', async () => {
    const viaPool = await run(
      program(async ({ mp, print }) => {
        mp.Pool(2).using(function* () {
          yield* print('never');
        });
        await print('not reached');
      }),
    );
    expect(misuseIn(viaPool, 'INVALID_ARGUMENT')).toBe(generatorBody('Pool#1.using(body)'));
    const promised = runSync(
      program(function* ({ mp }) {
        // Typed for async callers; a generator caller gets a generator back, which runs the body.
        yield* mp.Pool(2).using(() => Promise.resolve(1)) as unknown as Generator<Op<unknown>, number, unknown>;
      }),
    );
    expect(misuseIn(promised, 'INVALID_ARGUMENT')).toBe(
      msg('Pool#1.using(body): body returned a promise in a generator process, which cannot await it.', 'pass a generator function (`function* () { ... }`) and use `yield*` inside it.'),
    );
  });
});
