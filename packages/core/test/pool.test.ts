/**
 * mp.Pool: workers reused across tasks, apply/applyAsync/map/starmap/imap, the
 * AsyncResult queries, callbacks on the parent's result-handler thread, Python's
 * errors, maxtasksperchild, terminate, the with-block (`using`), spawnCost, both
 * process styles, and the message events that pair submit → worker → result
 * handler → get.
 *
 * Properties that hold for every schedule are checked over many seeds; races the
 * model exists to show (a callback interleaving with the main code) are found on
 * some seed and replayed.
 */
import { describe, expect, it } from 'vitest';
import {
  PyAssertionError,
  PyTypeError,
  SimulationError,
  TimeoutError,
  ValueError,
  program,
  run,
  runSync,
  serializeTrace,
  type AsyncResult,
  type Op,
  type RunResult,
  type TraceEvent,
  type World,
} from '../src/index.js';
import { expectDeadlock, expectError, expectOk, lines, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;
type SendEvent = Extract<TraceEvent, { type: 'send' }>;
type RecvEvent = Extract<TraceEvent, { type: 'recv' }>;

const MAIN = 1000;
/** Background threads (the result handler, the worker handler) get ids from here up. */
const FIRST_THREAD = 100000;
const SEEDS = 100;

/** A caught exception as `Name: message`, or null when the operation returned. Pass the call, or a thunk when the call itself may throw. */
async function raised(op: Op<unknown> | Promise<unknown> | (() => Op<unknown> | Promise<unknown>)): Promise<string | null> {
  try {
    await (typeof op === 'function' ? op() : op);
    return null;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** Exit codes of the real processes (not threads), by pid. */
const exitcodes = (r: RunResult): Record<number, number | null> =>
  Object.fromEntries(r.processes.filter((p) => p.pid < FIRST_THREAD).map((p) => [p.pid, p.exitcode]));

const workerPids = (r: RunResult): number[] => r.processes.filter((p) => p.pid !== MAIN && p.pid < FIRST_THREAD).map((p) => p.pid);

// ---------------------------------------------------------------- semantics

describe('Pool: workers are processes reused across tasks', () => {
  const applyLoop = program(async ({ mp, os, time, print }: World) => {
    async function work(n: number): Promise<number> {
      await print(`${os.getpid()} run ${n}`);
      await time.sleep(1);
      return n ** 2;
    }
    const p = mp.Pool(3);
    for (let i = 0; i < 10; i++) await print(await p.apply(work, [i]));
    return p.processes;
  }, { name: 'apply-loop' });

  it(`apply runs one task at a time and returns its value; 3 workers serve 10 tasks (${SEEDS} seeds)`, async () => {
    for (const seed of seeds(SEEDS)) {
      const r = await run(applyLoop, { seed });
      expectOk(r);
      const out = lines(r);
      expect(out).toHaveLength(20);
      const pids = new Set<number>();
      for (let i = 0; i < 10; i++) {
        const m = /^(\d+) run (\d+)$/.exec(out[2 * i]!);
        expect(m?.[2]).toBe(String(i));
        pids.add(Number(m![1]));
        expect(out[2 * i + 1]).toBe(String(i * i));
      }
      for (const pid of pids) expect([1001, 1002, 1003]).toContain(pid);
      // Sequential: each task sleeps 1 s after the previous one returned.
      expect(r.time).toBe(10);
      expect(r.value).toBe(3);
      expect(workerPids(r)).toEqual([1001, 1002, 1003]);
    }
  });

  it('workers are named SpawnPoolWorker-N, are daemonic children of the owner, and share its identity counter', async () => {
    const r = await run(
      program(async ({ mp, os, print }: World) => {
        const p = mp.Pool(2);
        const names = await p.map(() => `${mp.currentProcess().name} ${os.getppid()} ${String(mp.currentProcess().daemon)}`, [0, 1, 2, 3], 1);
        for (const n of new Set(names)) await print(n);
        await print(mp.activeChildren().map((c) => c.name).join(','));
        await print(mp.Process({}).name); // Python: the pool's workers took identities 1 and 2
        await print(p);
        await p.close();
        await print(p);
        await p.join();
      }),
      { seed: 3, trace: true },
    );
    expectOk(r);
    const out = lines(r);
    expect(out.slice(0, -4).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^SpawnPoolWorker-[12] 1000 true$/)]));
    expect(out.at(-4)).toBe('SpawnPoolWorker-1,SpawnPoolWorker-2');
    expect(out.at(-3)).toBe('Process-3');
    expect(out.at(-2)).toBe('<multiprocessing.pool.Pool state=RUN pool_size=2>');
    expect(out.at(-1)).toBe('<multiprocessing.pool.Pool state=CLOSE pool_size=2>');
    const spawns = r.trace!.filter((e) => e.type === 'spawn');
    expect(spawns.map((e) => [e.pid, e.child, e.name, e.daemon])).toEqual([
      [MAIN, 1001, 'SpawnPoolWorker-1', true],
      [MAIN, 1002, 'SpawnPoolWorker-2', true],
    ]);
    expect(exitcodes(r)).toEqual({ 1000: 0, 1001: 0, 1002: 0 });
  });

  it('processes defaults to mp.cpuCount(), set by the run option cpuCount', async () => {
    const prog = program(async ({ mp }: World) => {
      const p = mp.Pool();
      await p.close();
      await p.join();
      return [p.processes, mp.cpuCount()];
    });
    const r4 = await run(prog);
    expectOk(r4);
    expect(r4.value).toEqual([4, 4]);
    expect(workerPids(r4)).toEqual([1001, 1002, 1003, 1004]);
    const r2 = await run(prog, { cpuCount: 2 });
    expectOk(r2);
    expect(r2.value).toEqual([2, 2]);
    expect(workerPids(r2)).toEqual([1001, 1002]);
  });

  it('applyAsync returns at once; after close and join every result is ready, in submission order', async () => {
    const prog = program(async ({ mp, os, time, random }: World) => {
      async function work(n: number): Promise<[number, number]> {
        await time.sleep(random.random());
        return [n ** 2, os.getpid()];
      }
      const p = mp.Pool(3);
      const rs: AsyncResult<[number, number]>[] = [];
      for (let i = 0; i < 10; i++) rs.push(await p.applyAsync(work, [i]));
      const readyBefore = await rs[9]!.ready();
      await p.close();
      await p.join();
      const out: [number, number][] = [];
      for (const r of rs) {
        expect(await r.ready()).toBe(true);
        expect(await r.successful()).toBe(true);
        out.push(await r.get(0));
      }
      return { readyBefore, values: out.map((x) => x[0]), pids: [...new Set(out.map((x) => x[1]))].sort() };
    });
    for (const seed of seeds(SEEDS)) {
      const r = await run(prog, { seed });
      expectOk(r);
      expect(r.value.readyBefore).toBe(false);
      expect(r.value.values).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
      for (const pid of r.value.pids) expect([1001, 1002, 1003]).toContain(pid);
    }
  });

  it('map returns results in order; the default chunksize is Python\'s ceil(len / (4 * processes)); chunks run whole on one worker', async () => {
    const prog = program(async ({ mp, os }: World) => {
      const p = mp.Pool(5);
      const squares = await p.map((i: number) => i * i, [...Array(100).keys()]);
      const owners = await p.map(() => os.getpid(), [...Array(10).keys()], 5);
      const empty = await p.map((i: number) => i, []);
      await p.close();
      await p.join();
      return { squares, owners, empty };
    });
    for (const seed of seeds(30)) {
      const r = await run(prog, { seed, trace: true });
      expectOk(r);
      expect(r.value.squares).toEqual([...Array(100).keys()].map((i) => i * i));
      // chunksize 5: items 0-4 on one worker, 5-9 on one worker.
      expect(new Set(r.value.owners.slice(0, 5)).size).toBe(1);
      expect(new Set(r.value.owners.slice(5)).size).toBe(1);
      expect(r.value.empty).toEqual([]);
      // divmod(100, 5 * 4) = (5, 0): 20 tasks of 5; then 2 tasks of 5; the empty map submits none.
      const submits = r.trace!.filter((e) => e.type === 'send' && e.pid === MAIN && e.obj === 'Pool#1');
      expect(submits).toHaveLength(22);
    }
  });

  it('starmap, mapAsync with a callback, imap in order, imapUnordered in arrival order, imap chunks', async () => {
    const prog = program(async ({ mp, time, random, print }: World) => {
      async function slow(i: number): Promise<number> {
        await time.sleep(random.random());
        return i * 10;
      }
      const p = mp.Pool(3);
      const sums = await p.starmap((a: number, b: number) => a + b, [[1, 2], [3, 4], [5, 6]]);
      const mr = await p.mapAsync(slow, [1, 2, 3], { callback: async (xs: number[]) => { await print('callback', xs); } });
      const viaMapAsync = await mr.get();
      const ordered: number[] = [];
      for await (const v of await p.imap(slow, [1, 2, 3, 4])) ordered.push(v);
      const unordered: number[] = [];
      for await (const v of await p.imapUnordered(slow, [1, 2, 3, 4])) unordered.push(v);
      const chunked: number[] = [];
      for await (const v of await p.imap(slow, [1, 2, 3, 4, 5], 2)) chunked.push(v);
      const star = await (await p.starmapAsync((a: number, b: number) => a * b, [[2, 3]])).get();
      await p.close();
      await p.join();
      return { sums, viaMapAsync, ordered, unordered, chunked, star };
    });
    const orders = new Set<string>();
    for (const seed of seeds(SEEDS)) {
      const r = await run(prog, { seed });
      expectOk(r);
      expect(r.value.sums).toEqual([3, 7, 11]);
      expect(r.value.viaMapAsync).toEqual([10, 20, 30]);
      expect(lines(r)).toEqual(['callback [10, 20, 30]']);
      expect(r.value.ordered).toEqual([10, 20, 30, 40]);
      expect([...r.value.unordered].sort((a, b) => a - b)).toEqual([10, 20, 30, 40]);
      orders.add(r.value.unordered.join(','));
      expect(r.value.chunked).toEqual([10, 20, 30, 40, 50]);
      expect(r.value.star).toEqual([6]);
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('imap in a generator process: next() resolves to { done, value }; next(timeout) raises TimeoutError', () => {
    const r = runSync(
      program(function* ({ mp, time }: World): Gen<unknown[]> {
        function* slow(i: number): Gen<number> {
          yield* time.sleep(i);
          return i;
        }
        const p = mp.Pool(2);
        const it = yield* p.imap(slow, [2, 1]);
        const got: unknown[] = [];
        try {
          yield* it.next(0.5);
        } catch (e) {
          got.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
        for (let x = yield* it.next(); !x.done; x = yield* it.next()) got.push(x.value);
        got.push(yield* it.next());
        yield* p.close();
        yield* p.join();
        return got;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual(['TimeoutError: IMapIterator#1.next(0.5): no result within 0.5 virtual seconds', 2, 1, { done: true, value: undefined }]);
  });

  it('arguments and results are copies (pickled across the process boundary)', async () => {
    const r = await run(
      program(async ({ mp }: World) => {
        const p = mp.Pool(1);
        const arg = { n: [1, 2] };
        const back = await p.apply((o: { n: number[] }) => {
          o.n.push(3); // the worker's copy
          return o;
        }, [arg]);
        back.n.push(4);
        await p.close();
        await p.join();
        return [arg.n, back.n];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([[1, 2], [1, 2, 3, 4]]);
  });
});

// ---------------------------------------------------------------- AsyncResult

describe('AsyncResult: get, wait, ready, successful', () => {
  const prog = program(async ({ mp, time, print }: World) => {
    const p = mp.Pool(1);
    const r = await p.applyAsync(async () => {
      await time.sleep(2);
      return 'done';
    });
    await print(await r.ready());
    await print(await raised(r.successful()));
    await print(await raised(r.get(0.5)));
    await print(time.time());
    await r.wait(0.5);
    await print(time.time(), await r.ready());
    await r.wait();
    await print(time.time(), await r.ready(), await r.successful(), await r.get(), await r.get(0));
    await p.close();
    await p.join();
  });

  it('get(timeout) raises TimeoutError, wait(timeout) returns; successful() before ready raises ValueError (messages pinned)', async () => {
    const r = await run(prog);
    expectOk(r);
    expect(lines(r)).toEqual([
      'False',
      'ValueError: AsyncResult#1 not ready (successful() was called before the task finished: wait() or check ready() first)',
      'TimeoutError: AsyncResult#1.get(0.5): the result was not ready within 0.5 virtual seconds',
      '0.5',
      '1 False',
      '2 True True done done',
    ]);
    expect(new TimeoutError('x')).toBeInstanceOf(Error);
  });

  it("get re-raises the task's exception (same class and message) every time; errorCallback receives it; successful() is false", async () => {
    const r = await run(
      program(async ({ mp, print }: World) => {
        const p = mp.Pool(2);
        const r = await p.applyAsync(
          (x: number) => {
            if (x > 0) throw new ValueError(`bad ${x}`);
            return x;
          },
          [7],
          { callback: () => print('not called'), errorCallback: async (e: unknown) => { await print('errorCallback', (e as Error).name, e); } },
        );
        for (let i = 0; i < 2; i++) {
          try {
            await r.get();
          } catch (e) {
            await print('get raised', e instanceof ValueError, (e as Error).message);
          }
        }
        await print('successful', await r.successful());
        await print(await raised(p.apply(() => { throw new ValueError('in apply'); })));
        // map: every chunk comes back, then the first exception is raised.
        await print(await raised(p.map((i: number) => { if (i % 2) throw new ValueError(`odd ${i}`); return i; }, [0, 1, 2, 3], 1)));
        await p.close();
        await p.join();
      }),
      { seed: 5 },
    );
    expectOk(r);
    expect(lines(r)).toEqual([
      'errorCallback ValueError bad 7',
      'get raised True bad 7',
      'get raised True bad 7',
      'successful False',
      'ValueError: in apply',
      'ValueError: odd 1',
    ]);
    expect(r.stderr).toBe(''); // a task's exception is not a worker's traceback
  });
});

// ---------------------------------------------------------------- callbacks

describe('callbacks run on the parent\'s result-handler thread', () => {
  const racy = program(async ({ mp, os, print }: World) => {
    async function func1(n: number): Promise<number> {
      await print('in func1', os.getpid());
      return n * n;
    }
    async function func2(nn: number): Promise<void> {
      await print('in func2', os.getpid());
      await print(nn);
    }
    await print('主进程:', os.getpid());
    const p = mp.Pool(2);
    await p.applyAsync(func1, [10], { callback: func2 });
    await print('main 1');
    await print('main 2');
    await p.close();
    await p.join();
    await print('joined');
  }, { name: 'callback-race' });

  it(`os.getpid() in a callback is the parent's; its steps are the handler thread's; join waits for it (${SEEDS * 3} seeds)`, async () => {
    const orders = new Set<string>();
    let interleaved: number | null = null;
    for (const seed of seeds(SEEDS * 3)) {
      const r = await run(racy, { seed, trace: true });
      expectOk(r);
      const out = lines(r);
      expect(out[0]).toBe('主进程: 1000');
      expect(out).toContain('in func2 1000');
      expect(out.at(-1)).toBe('joined');
      expect(out.indexOf('100')).toBeGreaterThan(out.indexOf('in func2 1000'));
      expect(out.indexOf('in func1 1001') + out.indexOf('in func1 1002')).toBeGreaterThan(-2);
      const cbPrint = r.trace!.find((e) => e.type === 'print' && e.text === 'in func2 1000')!;
      expect(cbPrint.pid).toBe(FIRST_THREAD); // the PoolResultHandler thread, owned by pid 1000
      orders.add(out.filter((l) => l.startsWith('main') || l.startsWith('in func2')).join('|'));
      if (out.indexOf('in func2 1000') > out.indexOf('main 1') && out.indexOf('in func2 1000') < out.indexOf('main 2')) interleaved ??= seed;
    }
    // The callback races with the main code: it lands before, between or after the main prints.
    expect(orders.size).toBe(3);
    expect(interleaved).not.toBeNull();
    const a = await run(racy, { seed: interleaved!, trace: true });
    const b = await run(racy, { seed: interleaved!, trace: true });
    expect(serializeTrace(a.trace!)).toBe(serializeTrace(b.trace!));
    expect(lines(a)).toContain('in func2 1000');
    const handler = a.processes.find((p) => p.pid === FIRST_THREAD)!;
    expect([handler.name, handler.thread]).toEqual(['PoolResultHandler', true]);
  });

  it('a callback and the main code updating a shared Value without a lock lose an update on some seed', async () => {
    const prog = program(async ({ mp }: World) => {
      const v = mp.Value('i', 0);
      const p = mp.Pool(1);
      const bump = async (): Promise<void> => {
        const x = await v.get();
        await v.set(x + 1);
      };
      const r = await p.applyAsync(() => 1, [], { callback: bump });
      await bump();
      await r.wait();
      return await v.get();
    });
    const values = new Set<number>();
    for (const seed of seeds(SEEDS)) {
      const r = await run(prog, { seed });
      expectOk(r);
      values.add(r.value);
    }
    expect([...values].sort()).toEqual([1, 2]);
  });

  it('get() returns only after the callback has run (CPython sets the result ready after the callback)', async () => {
    const prog = program(async ({ mp, print }: World) => {
      const p = mp.Pool(2);
      const r = await p.applyAsync((x: number) => x + 1, [1], { callback: async (v: number) => { await print('callback', v); } });
      await print('got', await r.get());
    });
    for (const seed of seeds(SEEDS)) {
      const r = await run(prog, { seed });
      expectOk(r);
      expect(lines(r)).toEqual(['callback 2', 'got 2']);
    }
  });

  it('a callback that waits for another pool result deadlocks: the thread that would deliver it is the one waiting', async () => {
    const r = await run(
      program(async ({ mp }: World) => {
        const p = mp.Pool(2);
        const r = await p.applyAsync(() => 1, [], { callback: async () => { await p.apply(() => 2); } });
        await r.get();
      }),
    );
    expectDeadlock(r);
    expect(r.message).toContain(
      'PoolResultHandler (pid 100000) is blocked in Pool#1.apply(fn, […]): AsyncResult#2 is not ready: it never will be: ' +
        "a callback is waiting for it on Pool#1's result handler, the thread that would deliver it (callbacks must not wait for pool results)",
    );
  });

  it('a callback that raises kills the result handler (stderr, as Python\'s thread traceback); join then waits forever', async () => {
    const r = await run(
      program(async ({ mp }: World) => {
        const p = mp.Pool(1);
        await p.applyAsync(() => 1, [], { callback: () => { throw new ValueError('callback boom'); } });
        await p.close();
        await p.join();
      }),
    );
    expectDeadlock(r);
    expect(r.stderr).toBe('Exception in thread PoolResultHandler:\nTraceback (most recent call last):\nValueError: callback boom\n');
    expect(r.message).toContain('MainProcess (pid 1000) is blocked in Pool#1.join(): waiting for Pool#1 to finish: 1 unfinished result(s); ' +
      'its result handler thread died (a callback raised ValueError: callback boom), so they never will be');
  });
});

// ---------------------------------------------------------------- errors

describe("Python's errors", () => {
  it('submitting to a closed pool: ValueError "Pool not running"; join before close: ValueError "Pool is still running"', async () => {
    const r = await run(
      program(async ({ mp, print }: World) => {
        const p = mp.Pool(2);
        await print(await raised(p.join()));
        await p.close();
        await p.close(); // closing twice is fine
        for (const op of [() => p.apply(() => 1), () => p.applyAsync(() => 1), () => p.map((x: number) => x, [1]), () => p.imap((x: number) => x, [1])]) {
          await print(await raised(op));
        }
        await p.join();
        await p.terminate();
        await print(await raised(p.applyAsync(() => 1)));
        await print(await raised(p.using(() => 'inside')));
      }),
    );
    expectOk(r);
    expect(lines(r)).toEqual([
      'ValueError: Pool is still running',
      'ValueError: Pool not running',
      'ValueError: Pool not running',
      'ValueError: Pool not running',
      'ValueError: Pool not running',
      'ValueError: Pool not running',
      'ValueError: Pool not running',
    ]);
  });

  it('bad constructor arguments raise what Python raises', async () => {
    const r = await run(
      program(async ({ mp, print }: World) => {
        const attempts: (() => unknown)[] = [
          () => mp.Pool(0),
          () => mp.Pool(2, null, [], 0),
          () => mp.Pool({ processes: 2, maxtasksperchild: -1 }),
          () => mp.Pool(2, 42 as never),
        ];
        for (const f of attempts) {
          try {
            f();
          } catch (e) {
            await print(`${(e as Error).name}: ${(e as Error).message}`, e instanceof ValueError || e instanceof PyTypeError);
          }
        }
        const p = mp.Pool(1);
        await print(await raised(() => p.map((x: number) => x, [1], 0)));
        await p.terminate();
      }),
    );
    expectOk(r);
    expect(lines(r)).toEqual([
      'ValueError: Number of processes must be at least 1 True',
      'ValueError: maxtasksperchild must be a positive int or None True',
      'ValueError: maxtasksperchild must be a positive int or None True',
      'TypeError: initializer must be a callable True',
      'ValueError: Chunksize must be 1+, not 0',
    ]);
  });

  it('a daemonic process cannot create a pool (its workers would be its children): AssertionError', async () => {
    const r = await run(
      program(async ({ mp, print }: World) => {
        const q = mp.Queue<string>();
        const d = mp.Process({
          target: async (out: typeof q) => {
            try {
              mp.Pool(1);
            } catch (e) {
              await out.put(`${(e as Error).name}: ${(e as Error).message} ${String(e instanceof PyAssertionError)}`);
            }
          },
          args: [q],
          daemon: true,
        });
        await d.start();
        await print(await q.get());
        await d.join();
      }),
    );
    expectOk(r);
    expect(lines(r)).toEqual(['AssertionError: daemonic processes are not allowed to have children true']);
  });

  it('misuse fails the run with a message naming the API: a pool used from another process, a non-function task', async () => {
    const fromChild = await run(
      program(async ({ mp }: World) => {
        const p = mp.Pool(1);
        const c = mp.Process({ target: async (pool: typeof p) => { await pool.apply(() => 1); }, args: [p] });
        await c.start();
        await c.join();
      }),
    );
    expectError(fromChild);
    expect(fromChild.error).toBeInstanceOf(SimulationError);
    expect((fromChild.error as SimulationError).code).toBe('INVALID_ARGUMENT');
    expect(fromChild.message).toContain('Pool#1.apply(func, args) was called from Process-2 (pid 1001), but Pool#1 belongs to MainProcess (pid 1000)');
    expect(fromChild.message).toContain('NotImplementedError: pool objects cannot be passed between processes or pickled');

    const notAFunction = await run(program(async ({ mp }: World) => { await mp.Pool(1).applyAsync(5 as never); }));
    expectError(notAFunction);
    expect(notAFunction.message).toContain('Pool#1.applyAsync(func, args, options): func must be a function, got 5.');

    const badOption = run(program(async () => {}), { spawnCost: -1 });
    await expect(badOption).rejects.toThrow('spawnCost must be a finite number of virtual seconds >= 0, got -1');
  });

  it('an async task in a pool owned by a generator process is a misuse with a fix', () => {
    const r = runSync(
      program(function* ({ mp }: World): Gen {
        const p = mp.Pool(1);
        // eslint-disable-next-line @typescript-eslint/require-await -- the async task is the point
        yield* p.apply(async () => 1);
      }),
    );
    expectError(r);
    expect((r.error as SimulationError).code).toBe('ASYNC_IN_SYNC_RUN');
    expect(r.message).toContain('the task (anonymous) is async, but the pool belongs to MainProcess (pid 1000), a generator process');
    expect(r.message).toContain('How to fix: write it as a generator function');
  });
});

// ---------------------------------------------------------------- lifecycle

describe('maxtasksperchild, initializer, terminate, using, forgetting close/join', () => {
  it('maxtasksperchild=1: every task gets a fresh worker (a new pid); the replacements are started by the worker-handler thread', async () => {
    const prog = program(async ({ mp, os }: World) => {
      const p = mp.Pool(2, null, [], 1);
      const rs = [];
      for (let i = 0; i < 5; i++) rs.push(await p.applyAsync(() => os.getpid()));
      await p.close();
      await p.join();
      const pids = [];
      for (const r of rs) pids.push(await r.get());
      return pids;
    });
    for (const seed of seeds(SEEDS)) {
      const r = await run(prog, { seed, trace: true });
      expectOk(r);
      expect(new Set(r.value).size).toBe(5);
      const workers = r.processes.filter((p) => p.pid !== MAIN && !p.thread);
      expect(workers.map((w) => w.exitcode).every((c) => c === 0)).toBe(true);
      expect(workers.slice(0, 2).map((w) => w.name)).toEqual(['SpawnPoolWorker-1', 'SpawnPoolWorker-2']);
      expect(r.processes.some((p) => p.thread && p.name === 'PoolWorkerHandler')).toBe(true);
      // A replacement is spawned in a step of the worker-handler thread, as its parent's child.
      for (const e of r.trace!.filter((x) => x.type === 'spawn').slice(2)) expect(e.pid).toBeGreaterThanOrEqual(FIRST_THREAD);
    }
  });

  it('maxtasksperchild=2: a worker serves at most 2 tasks', async () => {
    const prog = program(async ({ mp, os }: World) => {
      const p = mp.Pool({ processes: 2, maxtasksperchild: 2 });
      const pids = await p.map(() => os.getpid(), [...Array(7).keys()], 1);
      await p.close();
      await p.join();
      return pids;
    });
    for (const seed of seeds(SEEDS)) {
      const r = await run(prog, { seed });
      expectOk(r);
      const counts = new Map<number, number>();
      for (const pid of r.value) counts.set(pid, (counts.get(pid) ?? 0) + 1);
      for (const c of counts.values()) expect(c).toBeLessThanOrEqual(2);
      expect(counts.size).toBeGreaterThanOrEqual(4);
    }
  });

  it('the initializer runs once in each worker, before its first task, with (copied) initargs', async () => {
    const prog = program(async ({ mp, os, print }: World) => {
      const p = mp.Pool(2, async (tag: string) => { await print('init', tag, os.getpid()); }, ['x']);
      await p.map(async (i: number) => { await print('task', i, os.getpid()); }, [1, 2, 3, 4], 1);
      await p.close();
      await p.join();
    });
    for (const seed of seeds(SEEDS)) {
      const r = await run(prog, { seed });
      expectOk(r);
      const out = lines(r);
      expect(out.filter((l) => l.startsWith('init')).sort()).toEqual(['init x 1001', 'init x 1002']);
      for (const pid of [1001, 1002]) {
        const first = out.findIndex((l) => l.endsWith(` ${pid}`));
        if (first >= 0) expect(out[first]).toBe(`init x ${pid}`);
      }
    }
  });

  it('an initializer that raises kills its worker (traceback on stderr); Python replaces it forever, so the run never ends', async () => {
    const r = await run(
      program(async ({ mp }: World) => {
        const p = mp.Pool(1, () => { throw new ValueError('init failed'); });
        await p.apply(() => 1);
      }),
      { maxSteps: 300 },
    );
    expect(r.status).toBe('step-limit');
    expect(r.stderr.startsWith('Process SpawnPoolWorker-1:\nTraceback (most recent call last):\nValueError: init failed\nProcess SpawnPoolWorker-2:\n')).toBe(true);
    expect(r.processes.filter((p) => p.exitcode === 1).length).toBeGreaterThan(10);
  });

  it('terminate with tasks in flight: workers exit -15, their results never become ready (get waits forever; get(timeout) raises)', async () => {
    const prog = program(async ({ mp, time, print }: World) => {
      const p = mp.Pool(2);
      const slow = await p.applyAsync(async () => { await time.sleep(5); return 'slow'; });
      const fast = await p.applyAsync(() => 'fast');
      await time.sleep(1);
      await p.terminate();
      await p.terminate(); // a second terminate does nothing
      await p.join();
      await print(await fast.get(), await slow.ready(), await raised(slow.get(3)));
      await slow.get();
    });
    for (const seed of seeds(30)) {
      const r = await run(prog, { seed });
      expectDeadlock(r);
      expect(lines(r)).toEqual(['fast False TimeoutError: AsyncResult#1.get(3): the result was not ready within 3 virtual seconds']);
      expect(r.message).toContain('MainProcess (pid 1000) is blocked in AsyncResult#1.get(): AsyncResult#1 is not ready: it never will be: Pool#1 was terminated with the task in flight');
      expect(exitcodes(r)).toMatchObject({ 1001: -15, 1002: -15 });
    }
  });

  it('using(): the body gets the pool and the pool is terminated afterwards, as `with Pool() as p:`', async () => {
    const prog = program(async ({ mp, time, print }: World) => {
      let late: AsyncResult<string> | null = null;
      const squares = await mp.Pool(2).using(async (p) => {
        late = await p.applyAsync(async () => { await time.sleep(10); return 'late'; });
        return await p.map((x: number) => x * x, [1, 2, 3]);
      });
      await print(squares, await late!.ready(), time.time());
      await print(mp.activeChildren().length);
    });
    for (const seed of seeds(30)) {
      const r = await run(prog, { seed });
      expectOk(r);
      expect(lines(r)).toEqual(['[1, 4, 9] False 0', '0']);
    }
    const gen = runSync(
      program(function* ({ mp }: World): Gen<number[]> {
        return yield* mp.Pool(2).using(function* (p) {
          return yield* p.map(function* (x: number): Gen<number> { return x + 1; }, [1, 2]);
        });
      }),
    );
    expectOk(gen);
    expect(gen.value).toEqual([2, 3]);
  });

  it('forgetting close/join: when the main code ends, the daemonic workers are terminated; on some seed a task never runs', async () => {
    const prog = program(async ({ mp, print }: World) => {
      const p = mp.Pool(2);
      for (let i = 0; i < 3; i++) await p.applyAsync(async (n: number) => { await print('task', n); }, [i]);
      await print('main done');
    });
    let lost: number | null = null;
    for (const seed of seeds(SEEDS)) {
      const r = await run(prog, { seed });
      expectOk(r);
      if (lines(r).length < 4) lost ??= seed;
      expect(exitcodes(r)).toMatchObject({ 1001: -15, 1002: -15 });
    }
    expect(lost).not.toBeNull();
  });
});

// ---------------------------------------------------------------- styles, events, cost

describe('async and generator styles, the trace, spawnCost', () => {
  const asyncStyle = program(async ({ mp, os, time, random, print }: World) => {
    async function work(n: number): Promise<number> {
      await print('work', n, os.getpid());
      await time.sleep(random.random());
      return n * 2;
    }
    const p = mp.Pool(2);
    const rs = [];
    for (let i = 0; i < 4; i++) rs.push(await p.applyAsync(work, [i], { callback: async (v: number) => { await print('cb', v); } }));
    await p.close();
    await p.join();
    for (const r of rs) await print(await r.get());
  });
  const genStyle = program(function* ({ mp, os, time, random, print }: World): Gen {
    function* work(n: number): Gen<number> {
      yield* print('work', n, os.getpid());
      yield* time.sleep(random.random());
      return n * 2;
    }
    const p = mp.Pool(2);
    const rs = [];
    for (let i = 0; i < 4; i++) rs.push(yield* p.applyAsync(work, [i], { callback: function* (v: number) { yield* print('cb', v); } }));
    yield* p.close();
    yield* p.join();
    for (const r of rs) yield* print(yield* r.get());
  });

  it('the same program in async and generator style gives the same run for every seed; runSync drives the generator one', async () => {
    for (const seed of seeds(50)) {
      const a = await run(asyncStyle, { seed, trace: true });
      const g = runSync(genStyle, { seed, trace: true });
      expectOk(a);
      expectOk(g);
      expect(g.stdout).toBe(a.stdout);
      expect(g.schedule.toArray()).toEqual(a.schedule.toArray());
      expect(lines(g).slice(-4)).toEqual(['0', '2', '4', '6']);
    }
  });

  it('an async pool runs generator tasks and callbacks, and plain functions returning an operation', async () => {
    const r = await run(
      program(async ({ mp, print }: World) => {
        const p = mp.Pool(1);
        await p.apply(function* (): Gen { yield* print('generator task'); });
        await p.apply(() => print('plain returning an op'));
        await (await p.applyAsync(() => 5, [], { callback: function* (v: number) { yield* print('generator callback', v); } })).wait();
        await p.close();
        await p.join();
      }),
    );
    expectOk(r);
    expect(lines(r)).toEqual(['generator task', 'plain returning an op', 'generator callback 5']);
  });

  it('each task is a message chain: submit → worker (Pool#1), worker → result handler (Pool#1), result handler → get (AsyncResult)', async () => {
    const r = await run(
      program(async ({ mp }: World) => {
        const p = mp.Pool(2);
        const a = await p.applyAsync((x: number) => x + 1, [1]);
        const b = await p.applyAsync((x: number) => x + 2, [1]);
        await a.get();
        await a.get();
        const m = await p.map((x: number) => x, [1, 2, 3], 2);
        await b.wait();
        await p.close();
        await p.join();
        return m;
      }),
      { seed: 4, trace: true },
    );
    expectOk(r);
    const t = r.trace!;
    const sends = t.filter((e): e is SendEvent => e.type === 'send');
    const recvs = t.filter((e): e is RecvEvent => e.type === 'recv');
    const worker = (pid: number): boolean => pid > MAIN && pid < FIRST_THREAD;
    // 4 tasks (2 applies, 2 map chunks): each submitted by main and received once by a worker...
    const submits = sends.filter((e) => e.obj === 'Pool#1' && e.pid === MAIN);
    expect(submits).toHaveLength(4);
    for (const s of submits) {
      const got = recvs.filter((x) => x.msg === s.msg);
      expect(got).toHaveLength(1);
      expect(worker(got[0]!.pid)).toBe(true);
      expect(got[0]!.step).toBeGreaterThan(s.step);
    }
    // ...each result sent back by a worker and received once by the result handler...
    const replies = sends.filter((e) => e.obj === 'Pool#1' && worker(e.pid));
    expect(replies).toHaveLength(4);
    for (const s of replies) expect(recvs.filter((x) => x.msg === s.msg).map((x) => x.pid)).toEqual([FIRST_THREAD]);
    // ...and each result object delivered once by the handler, received by every call that saw it ready.
    const deliveries = sends.filter((e) => e.obj.startsWith('AsyncResult#'));
    expect(deliveries.map((e) => [e.obj, e.pid])).toEqual(expect.arrayContaining([['AsyncResult#1', FIRST_THREAD], ['AsyncResult#2', FIRST_THREAD], ['AsyncResult#3', FIRST_THREAD]]));
    const byObj = (obj: string): number[] => recvs.filter((x) => x.obj === obj).map((x) => x.pid);
    expect(byObj('AsyncResult#1')).toEqual([MAIN, MAIN]); // two get() calls
    expect(byObj('AsyncResult#2')).toEqual([MAIN]); // wait()
    expect(byObj('AsyncResult#3')).toEqual([MAIN]); // map's return
    expect(r.value).toEqual([1, 2, 3]);
  });

  it('spawnCost: starting a process, and each pool worker, takes virtual time (timed mode only); 0 by default', async () => {
    const prog = program(async ({ mp, time }: World) => {
      const t0 = time.time();
      const p = mp.Pool(5);
      await p.map(() => undefined, [...Array(100).keys()]);
      const t1 = time.time();
      const ps = [];
      for (let i = 0; i < 10; i++) {
        const c = mp.Process({ target: () => undefined });
        await c.start();
        ps.push(c);
      }
      for (const c of ps) await c.join();
      return [t1 - t0, time.time() - t1];
    });
    const free = await run(prog);
    expectOk(free);
    expect(free.value).toEqual([0, 0]);
    const costly = await run(prog, { spawnCost: 0.25 });
    expectOk(costly);
    expect(costly.value).toEqual([1.25, 2.5]);
    const untimed = await run(prog, { spawnCost: 0.25, timing: 'untimed' });
    expectOk(untimed);
    expect(untimed.value).toEqual([0, 0]);
  });
});

describe('handles passed to pool tasks', () => {
  it('a pipe end in a task argument is usable in the worker, as pickling would make it', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const [reader, writer] = mp.Pipe<string>();
        const pool = mp.Pool(2);
        const send = async (w: typeof writer): Promise<void> => {
          await w.send('from the worker');
        };
        await pool.apply(send, [writer]);
        const got = await reader.recv();
        await pool.close();
        await pool.join();
        return got;
      }),
      { seed: 3 },
    );
    expect(r.status === 'ok' && r.value).toBe('from the worker');
  });
});
