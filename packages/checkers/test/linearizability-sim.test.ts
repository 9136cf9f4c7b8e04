import { describe, expect, it } from 'vitest';
import { program, run, type Lock, type Mp, type Op, type RawArray, type RawValue, type World } from '@interleave/core';
import { check, exhaustive, explore, random } from '@interleave/sched';
import {
  checkLinearizability,
  counterModel,
  historiesFromTrace,
  kvModel,
  linearizable,
  queueModel,
  recordHistory,
  type CallEvent,
  type History,
  type ReturnEvent,
} from '../src/index.js';

const untimed = { timing: 'untimed' } as const;
type Gen<T> = Generator<Op<unknown>, T, unknown>;

/** A counter whose inc() reads then writes an unlocked shared value: two steps. */
class Counter {
  constructor(
    private readonly v: RawValue<number>,
    private readonly lock: Lock | null,
  ) {}
  async inc(): Promise<number> {
    if (this.lock !== null) await this.lock.acquire();
    const x = await this.v.get();
    await this.v.set(x + 1);
    if (this.lock !== null) await this.lock.release();
    return x + 1;
  }
  async get(): Promise<number> {
    return await this.v.get();
  }
}

function counterProgram(locked: boolean, workers = 2) {
  return program(
    async (world: World) => {
      const { mp } = world;
      const c = recordHistory(world).wrap(new Counter(mp.RawValue('i', 0), locked ? mp.Lock() : null));
      const worker = async (): Promise<void> => {
        await c.inc();
      };
      const ps = Array.from({ length: workers }, () => mp.Process({ target: worker }));
      for (const p of ps) await p.start();
      for (const p of ps) await p.join();
      await c.get();
    },
    { name: locked ? 'locked-counter' : 'racy-counter' },
  );
}

/**
 * A bounded FIFO queue over shared memory — a ring buffer with head and tail
 * indices — written as generator methods. Unlocked, two enqueuers can read the same
 * tail and one element is lost.
 */
class ArrayQueue {
  private readonly buf: RawArray<number>;
  private readonly head: RawValue<number>;
  private readonly tail: RawValue<number>;
  constructor(
    mp: Mp,
    private readonly lock: Lock | null,
  ) {
    this.buf = mp.RawArray('i', 8);
    this.head = mp.RawValue('i', 0);
    this.tail = mp.RawValue('i', 0);
  }
  *enqueue(x: number): Gen<void> {
    if (this.lock !== null) yield* this.lock.acquire();
    const t = yield* this.tail.get();
    yield* this.buf.set(t % 8, x);
    yield* this.tail.set(t + 1);
    if (this.lock !== null) yield* this.lock.release();
  }
  *dequeue(): Gen<number | null> {
    if (this.lock !== null) yield* this.lock.acquire();
    const h = yield* this.head.get();
    const t = yield* this.tail.get();
    let x: number | null = null;
    if (h !== t) {
      x = yield* this.buf.get(h % 8);
      yield* this.head.set(h + 1);
    }
    if (this.lock !== null) yield* this.lock.release();
    return x;
  }
}

function queueProgram(locked: boolean) {
  return program(
    function* (world: World): Gen<void> {
      const { mp } = world;
      const q = recordHistory(world).wrap(new ArrayQueue(mp, locked ? mp.Lock() : null));
      function* producer(x: number): Gen<void> {
        yield* q.enqueue(x);
      }
      const ps = [1, 2].map((x) => mp.Process({ target: producer, args: [x] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      yield* q.dequeue();
      yield* q.dequeue();
    },
    { name: locked ? 'locked-queue' : 'racy-queue' },
  );
}

describe('recording', () => {
  it('records pid, process name, operation, arguments, result and step/time positions', async () => {
    const prog = program(async (world: World) => {
      const { mp } = world;
      const rec = recordHistory(world);
      const c = rec.wrap(new Counter(mp.RawValue('i', 0), mp.Lock()));
      const p = mp.Process({ target: async () => void (await c.inc()), name: 'worker' });
      await p.start();
      await p.join();
      expect(await c.get()).toBe(1);
      return rec.history;
    });
    const r = await run(prog, { seed: 1, trace: true });
    if (r.status !== 'ok') throw new Error(r.message);
    const h = r.value;
    expect(h.map((e) => (e.kind === 'call' ? `call ${e.op} by ${e.process}` : `return ${String(e.value)}`))).toEqual(['call inc by worker', 'return 1', 'call get by MainProcess', 'return 1']);
    const [call] = h as [CallEvent, ReturnEvent];
    expect(call).toMatchObject({ kind: 'call', pid: 1001, process: 'worker', op: 'inc', args: [], time: 0 });
    // The monitor's view, rebuilt from the trace, is the same history.
    expect(historiesFromTrace(r.trace!).get('History#1')).toEqual(h);
  });

  it('opens the window at the call step, before the method’s first operation, and closes it after its last', async () => {
    const prog = program(async (world: World) => {
      const { mp } = world;
      const rec = recordHistory(world);
      const c = rec.wrap(new Counter(mp.RawValue('i', 0), mp.Lock()));
      await c.inc();
      return rec.history;
    });
    const r = await run(prog, { trace: true });
    if (r.status !== 'ok') throw new Error(r.message);
    const [call, ret] = r.value as [CallEvent, ReturnEvent];
    const steps = r.trace!.filter((e) => e.type === 'done' && e.pid === 1000 && !e.obj.startsWith('History')).map((e) => e.step);
    const inside = steps.filter((s) => s > call.step! && s < ret.step!);
    expect(inside).toHaveLength(4); // acquire, get, set, release
    expect(r.trace!.filter((e) => e.type === 'done' && e.obj === 'History#1').map((e) => (e.type === 'done' ? `${e.op} ${String(e.value)}` : ''))).toEqual(['call inc()', 'return inc() → 1']);
  });

  it('works in generator processes (yield*) and with generator methods in async processes (await)', async () => {
    const gen = program(function* (world: World): Gen<History> {
      const rec = recordHistory(world);
      const q = rec.wrap(new ArrayQueue(world.mp, null));
      yield* q.enqueue(4);
      expect(yield* q.dequeue()).toBe(4);
      return rec.history;
    });
    const asy = program(async (world: World) => {
      const rec = recordHistory(world);
      const q = rec.wrap(new ArrayQueue(world.mp, null));
      await q.enqueue(4);
      expect(await q.dequeue()).toBe(4);
      return rec.history;
    });
    for (const prog of [gen, asy]) {
      const r = await run(prog);
      if (r.status !== 'ok') throw new Error(r.message);
      expect(checkLinearizability(r.value, queueModel()).verdict).toBe('linearizable');
      expect(r.value.filter((e) => e.kind === 'return').map((e) => e.value)).toEqual([undefined, 4]);
    }
  });

  it('records an exception as the result, and rethrows it to the caller', async () => {
    const prog = program(async (world: World) => {
      const rec = recordHistory(world);
      const q = rec.wrap(world.mp.Queue<number>(), ['getNowait', 'put']);
      let caught = '';
      try {
        await q.getNowait();
      } catch (e) {
        caught = (e as Error).name;
      }
      return { caught, history: rec.history };
    });
    const r = await run(prog);
    if (r.status !== 'ok') throw new Error(r.message);
    expect(r.value.caught).toBe('Empty');
    expect((r.value.history[1] as ReturnEvent).error).toMatch(/^Empty/);
    expect(checkLinearizability(r.value.history, queueModel({ empty: { raises: 'Empty' } })).verdict).toBe('linearizable');
    expect(checkLinearizability(r.value.history, queueModel()).verdict).toBe('not-linearizable');
  });

  it('records only the outermost of nested recorded calls', async () => {
    const prog = program(async (world: World) => {
      const rec = recordHistory(world);
      const v = world.mp.RawValue('i', 0);
      const read = rec.operation('read', () => v.get());
      const bump = rec.operation('bump', async () => {
        const x = await read();
        await v.set(x + 1);
      });
      await bump();
      return rec.history.map((e) => (e.kind === 'call' ? e.op : 'return'));
    });
    const r = await run(prog);
    expect(r.status === 'ok' && r.value).toEqual(['bump', 'return']);
  });

  it('an async method called with yield* is a clear misuse', async () => {
    const prog = program(function* (world: World): Gen<void> {
      const c = recordHistory(world).wrap(new Counter(world.mp.RawValue('i', 0), null));
      yield* c.inc();
    });
    const r = await run(prog);
    expect(r.status).toBe('error');
    if (r.status === 'error') expect(r.message).toContain('is an async method, called with yield* from a generator process');
  });

  it('a terminated process leaves its call pending: it may or may not have taken effect', async () => {
    const prog = program(async (world: World) => {
      const { mp } = world;
      const rec = recordHistory(world);
      const v = mp.RawValue('i', 0);
      const never = mp.Event();
      const write = rec.operation('write', async (x: number) => {
        await v.set(x);
        await never.wait();
      });
      const read = rec.operation('read', () => v.get());
      const p = mp.Process({ target: async () => void (await write(7)) });
      await p.start();
      while ((await v.get()) !== 7) await world.time.sleep(0.1);
      await p.terminate();
      await p.join();
      await read();
    });
    const reg = linearizable({ name: 'register', init: () => 0, step: (s: number, i) => (i.op === 'write' ? { ok: true, state: i.args[0] as number } : { ok: true, state: s, output: s }) });
    const r = await run(prog, { monitors: [reg] });
    expect(r.status).toBe('ok');
    expect(reg.results[0]!.verdict).toBe('linearizable');
    expect(reg.results[0]!.operations).toBe(2);
  });
});

describe('the monitor', () => {
  it('finds the racy counter non-linearizable under exhaustive exploration, with a replay token and the report', async () => {
    const monitor = linearizable(counterModel());
    const r = await check(counterProgram(false), { strategy: exhaustive(), monitors: [monitor], run: untimed });
    expect(r.passed).toBe(false);
    const f = r.failure!;
    expect(f.message).toContain('linearizability: History#1 (model: counter): NOT linearizable.');
    expect(f.message).toContain('the model returns 2 here, but it returned 1');
    expect(f.token).toMatch(/^il1\./);
    // The last run is the replay of the reported failure: its verdict is kept.
    expect(monitor.results[0]!.verdict).toBe('not-linearizable');
  });

  it('keeps its findings like every checker: distinct over an exploration, each with a replay token', async () => {
    const monitor = linearizable(counterModel());
    const r = await explore(counterProgram(false), { strategy: exhaustive(), monitors: [monitor], run: untimed });
    expect(r.executions).toBeGreaterThan(1);
    expect(monitor.distinct).toHaveLength(1);
    const d = monitor.distinct[0]!;
    expect(d.finding).toMatchObject({ kind: 'linearizability', status: 'confirmed' });
    expect(d.finding.token).toMatch(/^il1\./);
    expect(d.runs).toBe(r.outcomes.find((o) => o.key.includes('NOT linearizable'))!.count);
  });

  it('proves the locked counter linearizable in every execution', async () => {
    const r = await check(counterProgram(true), { strategy: exhaustive(), monitors: [linearizable(counterModel())], run: untimed });
    expect(r.passed).toBe(true);
    expect(r.complete).toBe(true);
  });

  it('finds the lost enqueue of the unlocked ring-buffer queue, and proves the locked one', async () => {
    const racy = await check(queueProgram(false), { strategy: exhaustive(), monitors: [linearizable(queueModel())], run: untimed });
    expect(racy.passed).toBe(false);
    expect(racy.failure!.message).toMatch(/Cannot place: dequeue\(\) → null by MainProcess/);
    const locked = await check(queueProgram(true), { strategy: exhaustive(), monitors: [linearizable(queueModel())], run: untimed });
    expect(locked.passed).toBe(true);
    expect(locked.complete).toBe(true);
  });

  it('partial-order reduction keeps every verdict: the same outcomes as running every interleaving', async () => {
    const outcome = (res: { status: string; message?: string }): string => (res.status === 'ok' ? 'linearizable' : (res.message ?? '').split('\n')[0]!);
    const monitors = [linearizable(counterModel())];
    const reduced = await explore(counterProgram(false), { strategy: exhaustive(), monitors, run: untimed, outcome });
    const full = await explore(counterProgram(false), { strategy: exhaustive({ reduction: false }), monitors, run: untimed, outcome });
    expect(full.executions).toBeGreaterThan(reduced.executions);
    expect(new Set(reduced.outcomes.map((o) => o.key))).toEqual(new Set(full.outcomes.map((o) => o.key)));
    expect(reduced.outcomes.map((o) => o.key).sort()).toEqual(['InvariantViolation: linearizability: History#1 (model: counter): NOT linearizable.', 'linearizable']);
  });

  it('checks a key-value store over a Manager dict, by key; read-then-write increments lose updates', async () => {
    const kv = (locked: boolean) =>
      program(async (world: World) => {
        const { mp } = world;
        const d = mp.Manager().dict<string, number>();
        const lock = mp.Lock();
        const store = recordHistory(world).wrap({
          async incr(k: string): Promise<number> {
            if (locked) await lock.acquire();
            const v = ((await d.has(k)) ? await d.get(k) : 0) + 1;
            await d.set(k, v);
            if (locked) await lock.release();
            return v;
          },
          async get(k: string): Promise<number | null> {
            return (await d.has(k)) ? await d.get(k) : null;
          },
        });
        const worker = async (k: string): Promise<void> => {
          await store.incr(k);
          await store.incr('shared');
        };
        const ps = ['a', 'b', 'c'].map((k) => mp.Process({ target: worker, args: [k] }));
        for (const p of ps) await p.start();
        for (const p of ps) await p.join();
        await store.get('shared');
      });
    const racy = await check(kv(false), { strategy: random(), budget: { executions: 200 }, monitors: [linearizable(kvModel())], run: untimed });
    expect(racy.passed).toBe(false);
    expect(racy.failure!.message).toContain('NOT linearizable for key "shared"');
    const locked = await check(kv(true), { strategy: random(), budget: { executions: 200 }, monitors: [linearizable(kvModel())], run: untimed });
    expect(locked.passed).toBe(true);
  });

  it('leaves runs that did not end normally to their own report', async () => {
    const prog = program(async (world: World) => {
      const c = recordHistory(world).wrap({ wait: () => world.mp.Event().wait() });
      await c.wait();
    });
    const m = linearizable(counterModel());
    const r = await run(prog, { monitors: [m] });
    expect(r.status).toBe('deadlock');
    expect(m.skipped).toBe('the run ended with 1 process(es) still running');
  });

  it('checks one recorder when asked, and can fail on unknown', async () => {
    const prog = program(async (world: World) => {
      const v = world.mp.RawValue('i', 0);
      const a = recordHistory(world).operation('inc', async () => {
        const x = await v.get();
        await v.set(x + 1);
        return x + 1;
      });
      const b = recordHistory(world).operation('get', () => v.get());
      await a();
      await b();
    });
    const only2 = linearizable(counterModel(), { history: 'History#2' });
    await run(prog, { monitors: [only2] });
    expect(only2.results.map((x) => x.object)).toEqual(['History#2']);
    expect(only2.results[0]!.verdict).toBe('not-linearizable'); // History#2 alone: get() → 1 with no inc
    const strict = linearizable(counterModel(), { history: 'History#1', budget: { steps: 0 }, failOnUnknown: true });
    const r = await run(prog, { monitors: [strict] });
    expect(r.status).toBe('error');
    if (r.status === 'error') expect(r.message).toContain('unknown — the search gave up after 0 steps');
  });
});

describe('wrapping', () => {
  it('keeps private fields, getters and unrecorded methods working', async () => {
    class Box {
      #v: RawValue<number>;
      constructor(v: RawValue<number>) {
        this.#v = v;
      }
      get raw(): RawValue<number> {
        return this.#v;
      }
      async put(x: number): Promise<void> {
        await this.#v.set(x);
      }
      async take(): Promise<number> {
        return await this.#v.get();
      }
      label(): string {
        return 'box';
      }
    }
    const prog = program(async (world: World) => {
      const rec = recordHistory(world);
      const b = rec.wrap(new Box(world.mp.RawValue('i', 0)), ['put', 'take']);
      await b.put(3);
      const got = await b.take();
      return { got, label: b.label(), raw: b.raw.id, ops: rec.history.filter((e) => e.kind === 'call').map((e) => e.op) };
    });
    const r = await run(prog);
    expect(r.status === 'ok' && r.value).toEqual({ got: 3, label: 'box', raw: 'RawValue#1', ops: ['put', 'take'] });
  });
});
