/**
 * Queue, JoinableQueue and SimpleQueue: FIFO order, bounded blocking, timeouts in
 * virtual time, the racy size queries, CPython's feeder-thread model (put lands in
 * a per-process buffer; a background QueueFeederThread moves it into the queue in a
 * later step), close, task counting, and the send/recv message events.
 *
 * Properties that must hold for every schedule are checked over many seeds; the
 * races the feeder model exists to show are found on some seed and replayed.
 */
import { describe, expect, it } from 'vitest';
import {
  Empty,
  Full,
  OSError,
  SimulationError,
  ValueError,
  program,
  run,
  runSync,
  serializeTrace,
  type JoinableQueue,
  type Monitor,
  type Mp,
  type Op,
  type Queue,
  type RunResult,
  type SimpleQueue,
  type TraceEvent,
} from '../src/index.js';
import { expectDeadlock, expectOk, lines, lowestFirst, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;
type SendEvent = Extract<TraceEvent, { type: 'send' }>;
type RecvEvent = Extract<TraceEvent, { type: 'recv' }>;

const MAIN = 1000;
const CHILD1 = 1001;
/** Background threads (queue feeders) get ids from here up, in the order they start. */
const FIRST_THREAD = 100000;

/** A caught exception as `Name: message`, or null when the operation returned. */
async function raised(op: Op<unknown>): Promise<string | null> {
  try {
    await op;
    return null;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/**
 * A monitor bounding the items put and not yet got of `objId`, counted from the
 * send/recv message events (what `qsize()` reports). Remembers the peak.
 */
function inFlightMonitor(objId: string, max: number): Monitor & { peak: number } {
  let now = 0;
  const m = {
    name: `at-most-${max}-in-${objId}`,
    peak: 0,
    onStart(): void {
      now = 0;
      m.peak = 0;
    },
    onEvent(e: TraceEvent, ctx: { fail(message: string): void }): void {
      if ((e.type !== 'send' && e.type !== 'recv') || e.obj !== objId) return;
      now += e.type === 'send' ? 1 : -1;
      m.peak = Math.max(m.peak, now);
      if (now > max) ctx.fail(`${now} items in ${objId} at step ${e.step}`);
    },
  };
  return m;
}

/** Every send of the trace has exactly one recv with the same msg id, object and value, after it. */
function expectSendRecvPairs(r: RunResult, objId: string, count: number): void {
  const trace = r.trace ?? [];
  const sends = trace.filter((e): e is SendEvent => e.type === 'send' && e.obj === objId);
  const recvs = trace.filter((e): e is RecvEvent => e.type === 'recv' && e.obj === objId);
  expect(sends).toHaveLength(count);
  expect(recvs).toHaveLength(count);
  expect(new Set(sends.map((s) => s.msg)).size).toBe(count);
  for (const s of sends) {
    const matching = recvs.filter((x) => x.msg === s.msg);
    expect(matching, `msg ${s.msg}`).toHaveLength(1);
    expect(matching[0]!.value).toEqual(s.value);
    expect(matching[0]!.step).toBeGreaterThanOrEqual(s.step);
  }
}

// ------------------------------------------------------------------ FIFO

/** `producers` children put `n` tagged items each; main gets them all. */
const fanIn = (producers: number, n: number) =>
  program(async ({ mp, time, random }) => {
    const q = mp.Queue<[number, number]>();
    const producer = async (id: number, q: Queue<[number, number]>): Promise<void> => {
      for (let i = 0; i < n; i++) {
        await q.put([id, i]);
        if (random.random() < 0.5) await time.sleep(random.random());
      }
    };
    for (let id = 0; id < producers; id++) await mp.Process({ target: producer, args: [id, q] }).start();
    const got: [number, number][] = [];
    for (let i = 0; i < producers * n; i++) got.push(await q.get());
    return got;
  });

describe('Queue: FIFO order', () => {
  it('one process: items come out in the order they were put, feeders on and off', async () => {
    for (const queueFeeder of [true, false]) {
      for (const seed of seeds(20)) {
        const r = await run(
          program(async ({ mp }) => {
            const q = mp.Queue<number>();
            for (let i = 0; i < 10; i++) await q.put(i);
            const out: number[] = [];
            for (let i = 0; i < 10; i++) out.push(await q.get());
            return out;
          }),
          { seed, queueFeeder },
        );
        expectOk(r);
        expect(r.value).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      }
    }
  });

  it("async: with 3 producers, each producer's items arrive in its put order, none lost or duplicated (200 seeds)", async () => {
    let interleaved = false;
    for (const seed of seeds(200)) {
      const r = await run(fanIn(3, 6), { seed });
      expectOk(r);
      const got = r.value;
      expect(got).toHaveLength(18);
      for (let id = 0; id < 3; id++) expect(got.filter(([p]) => p === id).map(([, i]) => i)).toEqual([0, 1, 2, 3, 4, 5]);
      if (got.slice(0, 6).some(([p]) => p !== got[0]![0])) interleaved = true;
    }
    expect(interleaved).toBe(true); // the producers really do interleave
  });

  it("generator: the same per-producer FIFO property, also under runSync (200 seeds)", () => {
    const prog = program(function* ({ mp }): Gen<[number, number][]> {
      const q = mp.Queue<[number, number]>();
      function* producer(id: number, q: Queue<[number, number]>): Gen {
        for (let i = 0; i < 5; i++) yield* q.put([id, i]);
      }
      for (let id = 0; id < 3; id++) yield* mp.Process({ target: producer, args: [id, q] }).start();
      const got: [number, number][] = [];
      for (let i = 0; i < 15; i++) got.push(yield* q.get());
      return got;
    });
    for (const seed of seeds(200)) {
      const r = runSync(prog, { seed, timing: 'untimed' });
      expectOk(r);
      for (let id = 0; id < 3; id++) expect(r.value.filter(([p]) => p === id).map(([, i]) => i)).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it('the receiver gets a copy: mutating what was got does not touch the sender', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.Queue<{ n: number }>(0);
        const sent = { n: 1 };
        await q.put(sent);
        const got = await q.get();
        got.n = 99;
        return [sent.n, got === sent];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([1, false]);
  });
});

// ----------------------------------------------------------- maxsize blocking

describe('Queue(maxsize): blocking when full', () => {
  /** A fast producer puts 8 items into Queue(2); a slow consumer gets them. */
  const boundedAsync = program(async ({ mp, time, random }) => {
    const q = mp.Queue<number>(2);
    const producer = async (q: Queue<number>): Promise<void> => {
      for (let i = 0; i < 8; i++) await q.put(i);
    };
    const p = mp.Process({ target: producer, args: [q] });
    await p.start();
    const got: number[] = [];
    for (let i = 0; i < 8; i++) {
      await time.sleep(random.random());
      got.push(await q.get());
    }
    await p.join();
    return got;
  });

  it('async: never more than maxsize items put and not yet got, at every step of 200 seeds; the bound is reached', async () => {
    let peak = 0;
    for (const seed of seeds(200)) {
      const m = inFlightMonitor('Queue#1', 2);
      const r = await run(boundedAsync, { seed, monitors: [m] });
      expectOk(r);
      expect(r.value).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      peak = Math.max(peak, m.peak);
    }
    expect(peak).toBe(2);
  });

  it('generator, untimed: the same bound, with feeders on and off (200 seeds)', () => {
    const prog = program(function* ({ mp }): Gen<number[]> {
      const q = mp.Queue<number>(3);
      function* producer(q: Queue<number>): Gen {
        for (let i = 0; i < 10; i++) yield* q.put(i);
      }
      yield* mp.Process({ target: producer, args: [q] }).start();
      yield* mp.Process({ target: producer, args: [q] }).start();
      const got: number[] = [];
      for (let i = 0; i < 20; i++) got.push(yield* q.get());
      return got;
    });
    for (const queueFeeder of [true, false]) {
      for (const seed of seeds(200)) {
        const m = inFlightMonitor('Queue#1', 3);
        const r = runSync(prog, { seed, timing: 'untimed', queueFeeder, monitors: [m] });
        expectOk(r);
        expect([...r.value].sort((a, b) => a - b)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
      }
    }
  });

  it('a put on a full queue returns only after a get made room (timed: at the consumer\'s first get, t=1)', async () => {
    for (const seed of seeds(50)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const q = mp.Queue<number>(1);
          const times: number[] = [];
          const producer = async (q: Queue<number>): Promise<void> => {
            await q.put(1);
            times.push(time.time());
            await q.put(2); // blocks until main gets 1
            times.push(time.time());
          };
          await mp.Process({ target: producer, args: [q] }).start();
          await time.sleep(1);
          const a = await q.get();
          const b = await q.get();
          return [a, b, times];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([1, 2, [0, 1]]);
    }
  });

  it('maxsize 0 or negative means unbounded', async () => {
    for (const maxsize of [0, -1]) {
      const r = await run(
        program(async ({ mp }) => {
          const q = mp.Queue<number>(maxsize);
          for (let i = 0; i < 100; i++) await q.putNowait(i);
          return [await q.full(), await q.qsize()];
        }),
      );
      expectOk(r);
      expect(r.value).toEqual([false, 100]);
    }
  });

  it('joining a producer before draining a bounded queue deadlocks; the report names the full queue', async () => {
    const prog = (drainFirst: boolean) =>
      program(async ({ mp }) => {
        const q = mp.Queue<number>(2);
        const producer = async (q: Queue<number>): Promise<void> => {
          for (let i = 0; i < 5; i++) await q.put(i);
        };
        const p = mp.Process({ target: producer, args: [q] });
        await p.start();
        const got: number[] = [];
        if (drainFirst) for (let i = 0; i < 5; i++) got.push(await q.get());
        await p.join();
        if (!drainFirst) for (let i = 0; i < 5; i++) got.push(await q.get());
        return got;
      });
    for (const seed of seeds(50)) {
      const bad = await run(prog(false), { seed });
      expectDeadlock(bad);
      expect(bad.blocked.find((b) => b.pid === MAIN)).toMatchObject({ op: 'Process-1.join()', heldBy: [CHILD1] });
      expect(bad.blocked.find((b) => b.pid === CHILD1)).toMatchObject({ op: 'Queue#1.put(2)', waitsOn: 'Queue#1 is full (2 of 2)' });
      const good = await run(prog(true), { seed });
      expectOk(good);
      expect(good.value).toEqual([0, 1, 2, 3, 4]);
    }
  });
});

// ------------------------------------------------ non-blocking and timeouts

describe('Queue: block=false, timeouts, putNowait/getNowait', () => {
  it('get(false) and getNowait() on an empty queue raise Empty at once; put(x, false) and putNowait(x) on a full one raise Full', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const q = mp.Queue<number>(1);
        const out = [await raised(q.get(false)), await raised(q.getNowait())];
        await q.putNowait(7);
        out.push(await raised(q.put(8, false)), await raised(q.putNowait(9)), await raised(q.put(10, false, 5)));
        return [out, time.time(), await q.qsize()];
      }),
      { queueFeeder: false },
    );
    expectOk(r);
    const [out, t, size] = r.value as [(string | null)[], number, number];
    expect(out[0]).toMatch(/^Empty: /);
    expect(out[1]).toMatch(/^Empty: /);
    expect(out.slice(2)).toEqual(out.slice(2).map(() => expect.stringMatching(/^Full: Queue#1 is full \(maxsize 1\)/) as unknown));
    expect(t).toBe(0); // none of them waited
    expect(size).toBe(1);
  });

  it('the exceptions are the exported Empty and Full classes', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.Queue<number>(1);
        const kinds: boolean[] = [];
        try {
          await q.getNowait();
        } catch (e) {
          kinds.push(e instanceof Empty);
        }
        await q.put(1);
        try {
          await q.putNowait(2);
        } catch (e) {
          kinds.push(e instanceof Full);
        }
        return kinds;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([true, true]);
  });

  it('get(true, t) on an empty queue raises Empty after exactly t virtual seconds, for every seed (async)', async () => {
    for (const seed of seeds(100)) {
      const r = await run(
        program(async ({ mp, time, random }) => {
          const q = mp.Queue<number>();
          // Another process keeps the scheduler busy meanwhile.
          await mp.Process({ target: async () => { for (let i = 0; i < 5; i++) await time.sleep(random.random() * 0.2); } }).start();
          const t0 = time.time();
          const e = await raised(q.get(true, 0.75));
          return [e, time.time() - t0];
        }),
        { seed },
      );
      expectOk(r);
      const [e, waited] = r.value as [string, number];
      expect(e).toMatch(/^Empty: Queue#1 is empty/);
      expect(waited).toBe(0.75);
    }
  });

  it('put(x, true, t) on a full queue raises Full after exactly t virtual seconds, for every seed (generator)', () => {
    for (const seed of seeds(100)) {
      const r = runSync(
        program(function* ({ mp, time }): Gen<[string | null, number]> {
          const q = mp.Queue<number>(2);
          yield* q.put(1);
          yield* q.put(2);
          yield* time.sleep(0.5);
          let e: string | null = null;
          try {
            yield* q.put(3, true, 1.25);
          } catch (err) {
            e = `${(err as Error).name}`;
          }
          return [e, time.time()];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual(['Full', 1.75]);
    }
  });

  it('a timed get returns the item when it arrives before the deadline, at the time it arrives', async () => {
    for (const seed of seeds(50)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const q = mp.Queue<string>();
          const late = async (q: Queue<string>): Promise<void> => {
            await time.sleep(0.3);
            await q.put('x');
          };
          await mp.Process({ target: late, args: [q] }).start();
          const v = await q.get(true, 1);
          return [v, time.time()];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual(['x', 0.3]);
    }
  });

  it('a negative timeout counts as 0; a timeout of null waits forever', async () => {
    const r = await run(
      program(async ({ mp, time, print }) => {
        const q = mp.Queue<number>();
        await print(await raised(q.get(true, -3)), time.time());
        await q.get(true, null);
      }),
    );
    expectDeadlock(r); // the get(true, null) never returns
    expect(lines(r)).toEqual([expect.stringMatching(/^Empty: .* 0$/)]);
    expect(r.blocked).toEqual([
      { pid: MAIN, name: 'MainProcess', op: 'Queue#1.get()', waitsOn: 'waiting for an item in Queue#1 (empty)', heldBy: [] },
    ]);
  });

  it('bad block/timeout/maxsize arguments are simulator misuse, naming the API', async () => {
    const bad = [
      (mp: Mp) => mp.Queue(1.5),
      (mp: Mp) => mp.Queue().get('yes' as unknown as boolean),
      (mp: Mp) => mp.Queue().put(1, true, 'soon' as unknown as number),
    ];
    for (const f of bad) {
      const r = await run(
        program(async ({ mp }) => {
          await f(mp);
        }),
      );
      expect(r.status).toBe('error');
      if (r.status !== 'error') return;
      expect(r.error).toBeInstanceOf(SimulationError);
      expect((r.error as SimulationError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

// ------------------------------------------------------ qsize / empty / full

describe('Queue: qsize, empty, full', () => {
  it('without feeders they answer from the queue at once', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.Queue<number>(2);
        const states: unknown[] = [];
        const look = async (): Promise<void> => {
          states.push([await q.qsize(), await q.empty(), await q.full()]);
        };
        await look();
        await q.put(1);
        await look();
        await q.put(2);
        await look();
        await q.get();
        await look();
        await q.get();
        await look();
        return states;
      }),
      { queueFeeder: false },
    );
    expectOk(r);
    expect(r.value).toEqual([
      [0, true, false],
      [1, false, false],
      [2, false, true],
      [1, false, false],
      [0, true, false],
    ]);
  });

  it('with feeders, qsize and full count a buffered item while empty() is still true, until the feeder runs', async () => {
    // lowest-first never runs the feeder thread (pid 100000) while MainProcess can run.
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.Queue<number>(1);
        await q.put(1);
        const before = [await q.qsize(), await q.empty(), await q.full(), await raised(q.getNowait())];
        const v = await q.get(); // blocks; now the feeder flushes
        return [before, v, await q.qsize(), await q.empty()];
      }),
      { strategy: lowestFirst },
    );
    expectOk(r);
    const [before, v, size, empty] = r.value as [unknown[], number, number, boolean];
    expect(before.slice(0, 3)).toEqual([1, true, true]);
    expect(before[3]).toMatch(/^Empty: /);
    expect([v, size, empty]).toEqual([1, 0, true]);
  });
});

// ------------------------------------------------------------ feeder model

describe('Queue: the feeder thread', () => {
  /** A child puts, then sets an Event; main waits for the Event and asks empty(). */
  const emptyAfterPut = program(async ({ mp }) => {
    const q = mp.Queue<number>();
    const e = mp.Event();
    const child = async (q: Queue<number>): Promise<void> => {
      await q.put(1); // returns once the item is in this process's buffer
      await e.set();
    };
    await mp.Process({ target: child, args: [q] }).start();
    await e.wait();
    const wasEmpty = await q.empty();
    const got = await q.get();
    return [wasEmpty, got];
  });

  it("empty() can be true just after another process's put returned: some seed shows it", async () => {
    let found: number | null = null;
    for (let seed = 0; seed < 200 && found === null; seed++) {
      const r = await run(emptyAfterPut, { seed });
      expectOk(r);
      if ((r.value as [boolean])[0]) found = seed;
    }
    expect(found).not.toBeNull();
    // ...and the same seed shows it again.
    const again = await run(emptyAfterPut, { seed: found! });
    expectOk(again);
    expect(again.value).toEqual([true, 1]);
  });

  it('with queueFeeder: false, empty() is never true after a put returned (200 seeds)', async () => {
    for (const seed of seeds(200)) {
      const r = await run(emptyAfterPut, { seed, queueFeeder: false });
      expectOk(r);
      expect(r.value).toEqual([false, 1]);
    }
  });

  /** `if not q.empty(): q.get()` in two consumers of a single item. */
  const checkThenGet = program(async ({ mp, print }) => {
    const q = mp.Queue<string>();
    await q.put('only one');
    const consumer = async (q: Queue<string>): Promise<void> => {
      if (!(await q.empty())) {
        await print('got', await q.get());
      }
    };
    for (let i = 0; i < 2; i++) await mp.Process({ target: consumer, args: [q] }).start();
  });

  it('check-then-act: `if not q.empty(): q.get()` hangs a consumer on some seed, and the seed replays it', async () => {
    let bad: RunResult | null = null;
    let fine = 0;
    for (let seed = 0; seed < 300; seed++) {
      const r = await run(checkThenGet, { seed, trace: true });
      if (r.status === 'deadlock') bad ??= r;
      else {
        expectOk(r);
        fine++;
      }
    }
    expect(bad).not.toBeNull();
    expect(fine).toBeGreaterThan(0);
    expectDeadlock(bad!);
    // Both consumers saw a non-empty queue; one got the item, the other waits forever.
    expect(bad.message).toMatch(/Process-\d \(pid 100\d\) is blocked in Queue#1\.get\(\): waiting for an item in Queue#1 \(empty\)/);
    expect(lines(bad)).toEqual(['got only one']);
    const replay = await run(checkThenGet, { seed: bad.seed, trace: true });
    expect(replay.status).toBe('deadlock');
    expect(serializeTrace(replay.trace!)).toBe(serializeTrace(bad.trace!));
  });

  it('check-then-act with getNowait: a consumer that saw a non-empty queue can still raise Empty (some seed)', async () => {
    const prog = program(async ({ mp }) => {
      const q = mp.Queue<string>();
      await q.put('only one');
      const consumer = async (q: Queue<string>): Promise<void> => {
        if (!(await q.empty())) await q.getNowait();
      };
      const ps = [0, 1].map(() => mp.Process({ target: consumer, args: [q] }));
      for (const p of ps) await p.start();
      for (const p of ps) await p.join();
      return ps.map((p) => p.exitcode);
    });
    let found: RunResult | null = null;
    for (let seed = 0; seed < 300 && found === null; seed++) {
      const r = await run(prog, { seed });
      expectOk(r);
      if ((r.value as number[]).includes(1)) found = r;
    }
    expect(found).not.toBeNull();
    expect(found!.stderr).toMatch(/^Process Process-\d:\nTraceback \(most recent call last\):\nEmpty: /);
  });

  /** Main puts a dict, takes one more step, then mutates it; the child gets it. */
  const mutateAfterPut = (stepBetween: boolean) =>
    program(async ({ mp, print }) => {
      const q = mp.Queue<{ n: number }>();
      let received: number | null = null;
      const child = async (q: Queue<{ n: number }>): Promise<void> => {
        received = (await q.get()).n;
      };
      const c = mp.Process({ target: child, args: [q] });
      await c.start();
      const obj = { n: 1 };
      await q.put(obj);
      if (stepBetween) await print('put done');
      obj.n = 2;
      await c.join();
      return received;
    });

  it('mutating an object after put changes what is received when the feeder has not flushed yet (some seeds 1, some 2)', async () => {
    const seen = new Set<unknown>();
    for (const seed of seeds(200)) {
      const r = await run(mutateAfterPut(true), { seed });
      expectOk(r);
      seen.add(r.value);
    }
    expect([...seen].sort()).toEqual([1, 2]);
  });

  it('a mutation with no scheduling point after put is always received (the feeder cannot run in between)', async () => {
    for (const seed of seeds(100)) {
      const r = await run(mutateAfterPut(false), { seed });
      expectOk(r);
      expect(r.value).toBe(2);
    }
  });

  it('with queueFeeder: false the item is copied at put: the mutation is never received', async () => {
    for (const seed of seeds(200)) {
      for (const between of [true, false]) {
        const r = await run(mutateAfterPut(between), { seed, queueFeeder: false });
        expectOk(r);
        expect(r.value).toBe(1);
      }
    }
  });

  it("a child that puts and exits never loses the item: its exit waits for its feeder, so after join() getNowait() succeeds (300 seeds)", async () => {
    for (const seed of seeds(300)) {
      const r = await run(
        program(async ({ mp }) => {
          const q = mp.Queue<number>();
          const child = async (q: Queue<number>): Promise<void> => {
            for (let i = 0; i < 3; i++) await q.put(i);
          };
          const c = mp.Process({ target: child, args: [q] });
          await c.start();
          await c.join();
          return [await q.getNowait(), await q.getNowait(), await q.getNowait(), c.exitcode];
        }),
        { seed, trace: true },
      );
      expectOk(r);
      expect(r.value).toEqual([0, 1, 2, 0]);
      const trace = r.trace!;
      const lastFeed = trace.filter((e) => e.type === 'done' && e.pid === FIRST_THREAD && e.op === 'feed').at(-1);
      const childExit = trace.find((e) => e.type === 'exit' && e.pid === CHILD1);
      expect(lastFeed).toBeDefined();
      expect(childExit).toMatchObject({ exitcode: 0, reason: 'returned' });
      expect(childExit!.step).toBeGreaterThan(lastFeed!.step);
    }
  });

  it('generator style: the child puts and returns; main always gets every item (200 seeds, runSync)', () => {
    const prog = program(function* ({ mp }): Gen<number[]> {
      const q = mp.Queue<number>();
      function* child(q: Queue<number>): Gen {
        yield* q.put(10);
        yield* q.put(20);
      }
      const c = mp.Process({ target: child, args: [q] });
      yield* c.start();
      yield* c.join();
      return [yield* q.get(false), yield* q.get(false)];
    });
    for (const seed of seeds(200)) {
      const r = runSync(prog, { seed, timing: 'untimed' });
      expectOk(r);
      expect(r.value).toEqual([10, 20]);
    }
  });

  it('the main process, too, waits at exit for its feeder: a run never ends with an item still buffered', async () => {
    for (const seed of seeds(100)) {
      const r = await run(
        program(async ({ mp }) => {
          const q = mp.Queue<number>();
          await q.put(1);
        }),
        { seed, trace: true },
      );
      expectOk(r);
      const feeds = r.trace!.filter((e) => e.type === 'done' && e.op === 'feed');
      expect(feeds).toHaveLength(1);
      const mainExit = r.trace!.find((e) => e.type === 'exit' && e.pid === MAIN)!;
      expect(mainExit.step).toBeGreaterThan(feeds[0]!.step);
    }
  });

  it('a process terminated before its feeder flushed loses the item; qsize() still counts it, as CPython\'s semaphore does', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const q = mp.Queue<number>();
        const e = mp.Event();
        const child = async (q: Queue<number>): Promise<void> => {
          await q.put(1);
          await e.set();
          await time.sleep(100);
        };
        const c = mp.Process({ target: child, args: [q] });
        await c.start();
        await e.wait();
        await c.terminate(); // lowest-first: before the child's feeder (pid 100000) gets a step
        return [await raised(q.get(true, 1)), await q.qsize(), c.exitcode];
      }),
      { strategy: lowestFirst },
    );
    expectOk(r);
    expect(r.value).toEqual([expect.stringMatching(/^Empty: /), 1, -15]);
  });

  it('an idle feeder thread in a deadlock report says what it is', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.Queue<number>();
        await q.put(1);
        await q.get();
        await q.get(); // nothing more will come
      }),
    );
    expectDeadlock(r);
    expect(r.message).toContain('MainProcess (pid 1000) is blocked in Queue#1.get(): waiting for an item in Queue#1 (empty)');
    expect(r.blocked.find((b) => b.pid === FIRST_THREAD)).toMatchObject({
      name: 'QueueFeederThread',
      op: 'Queue#1.feed()',
      waitsOn: 'idle: MainProcess (pid 1000) has nothing left to flush into Queue#1',
    });
  });
});

// ------------------------------------------------------------------ close

describe('Queue: close', () => {
  it('put and get after close() raise ValueError in that process — at once, even where they would block', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const q = mp.Queue<number>(1);
        await q.put(1);
        await q.close();
        await q.close(); // closing twice is harmless
        // A put on a full queue and a get would both block; they raise instead.
        const out = [await raised(q.put(2)), await raised(q.get()), await raised(q.putNowait(3)), await raised(q.getNowait())];
        return [out, time.time()];
      }),
    );
    expectOk(r);
    const [out, t] = r.value as [string[], number];
    for (const e of out) expect(e).toMatch(/^ValueError: Queue Queue#1 is closed \((put|get)\(\) after close\(\) in MainProcess \(pid 1000\)\)$/);
    expect(t).toBe(0);
  });

  it('a get blocked on an empty queue is not woken by close() in another process (closing is per process)', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.Queue<number>();
        const closer = async (q: Queue<number>): Promise<void> => {
          await q.close();
        };
        await mp.Process({ target: closer, args: [q] }).start();
        await q.get(); // no data will ever come; close() elsewhere is no end-of-data signal
      }),
    );
    expectDeadlock(r);
    expect(r.blocked).toEqual([
      { pid: MAIN, name: 'MainProcess', op: 'Queue#1.get()', waitsOn: 'waiting for an item in Queue#1 (empty)', heldBy: [] },
    ]);
  });

  it("close() in one process does not affect another's put and get; items put before close are still flushed (200 seeds)", async () => {
    for (const seed of seeds(200)) {
      const r = await run(
        program(async ({ mp }) => {
          const q = mp.Queue<string>();
          const child = async (q: Queue<string>): Promise<string | null> => {
            await q.put('before close');
            await q.close(); // buffered item still goes through
            return await raised(q.put('after close'));
          };
          let childError: string | null = null;
          const c = mp.Process({ target: async (q: Queue<string>) => (childError = await child(q)), args: [q] });
          await c.start();
          const got = await q.get();
          await q.put('main still puts');
          const back = await q.get();
          await c.join();
          return [got, back, childError];
        }),
        { seed },
      );
      expectOk(r);
      const [got, back, childError] = r.value as [string, string, string];
      expect(got).toBe('before close');
      expect(back).toBe('main still puts');
      expect(childError).toMatch(/^ValueError: Queue Queue#1 is closed \(put\(\) after close\(\) in Process-1 \(pid 1001\)\)$/);
    }
  });

  it('ValueError is the exported class, catchable as such', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.Queue();
        await q.close();
        try {
          await q.get();
          return false;
        } catch (e) {
          return e instanceof ValueError;
        }
      }),
    );
    expectOk(r);
    expect(r.value).toBe(true);
  });
});

// ------------------------------------------------------------ JoinableQueue

describe('JoinableQueue', () => {
  const workers = (consumers: number, items: number) =>
    program(async ({ mp, time, random }) => {
      const q = mp.JoinableQueue<number>();
      const done: number[] = [];
      const consumer = async (q: JoinableQueue<number>): Promise<void> => {
        while (true) {
          const x = await q.get();
          await time.sleep(random.random());
          done.push(x);
          await q.taskDone();
        }
      };
      for (let i = 0; i < consumers; i++) await mp.Process({ target: consumer, args: [q], daemon: true }).start();
      for (let i = 0; i < items; i++) await q.put(i);
      await q.join();
      return [...done];
    });

  it('join() returns only after taskDone() for every item put (200 seeds); daemon consumers end with main', async () => {
    for (const seed of seeds(200)) {
      const r = await run(workers(3, 8), { seed, trace: true });
      expectOk(r);
      expect([...r.value].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      const trace = r.trace!;
      const joinDone = trace.find((e) => e.type === 'done' && e.op === 'join' && e.obj === 'JoinableQueue#1')!;
      const taskDones = trace.filter((e) => e.type === 'done' && e.op === 'taskDone');
      expect(taskDones).toHaveLength(8);
      for (const t of taskDones) expect(t.step).toBeLessThan(joinDone.step);
      expect(r.processes.filter((p) => p.pid !== MAIN && p.pid < FIRST_THREAD).map((p) => p.exitcode)).toEqual([-15, -15, -15]);
    }
  });

  it('generator style: the same, under runSync in untimed mode (200 seeds)', () => {
    const prog = program(function* ({ mp }): Gen<number> {
      const q = mp.JoinableQueue<number>(2);
      let handled = 0;
      function* consumer(q: JoinableQueue<number>): Gen {
        while (true) {
          yield* q.get();
          handled++;
          yield* q.taskDone();
        }
      }
      for (let i = 0; i < 2; i++) yield* mp.Process({ target: consumer, args: [q], daemon: true }).start();
      for (let i = 0; i < 6; i++) yield* q.put(i);
      yield* q.join();
      return handled;
    });
    for (const seed of seeds(200)) {
      const r = runSync(prog, { seed, timing: 'untimed' });
      expectOk(r);
      expect(r.value).toBe(6);
    }
  });

  it('join() with nothing put returns at once', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.JoinableQueue();
        await q.join();
        return 'joined';
      }),
    );
    expectOk(r);
    expect(r.value).toBe('joined');
  });

  it('taskDone() called more times than items were put raises ValueError', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.JoinableQueue<number>();
        await q.put(1);
        await q.get();
        await q.taskDone();
        try {
          await q.taskDone();
          return null;
        } catch (e) {
          return [e instanceof ValueError, (e as Error).message];
        }
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([true, 'task_done() called too many times (JoinableQueue#1 has no unfinished task)']);
  });

  it('a consumer that forgets taskDone() leaves join() hanging: the report counts the unfinished tasks', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.JoinableQueue<number>();
        const consumer = async (q: JoinableQueue<number>): Promise<void> => {
          await q.get();
          await q.taskDone();
          await q.get(); // ... and no taskDone() for this one
        };
        await mp.Process({ target: consumer, args: [q] }).start();
        await q.put(1);
        await q.put(2);
        await q.join();
      }),
      { seed: 3 },
    );
    expectDeadlock(r);
    expect(r.blocked.find((b) => b.pid === MAIN)).toMatchObject({
      op: 'JoinableQueue#1.join()',
      waitsOn: 'JoinableQueue#1 has 1 unfinished task(s) (taskDone() not called yet)',
    });
  });

  it('JoinableQueue is a Queue: maxsize, timeouts and close behave the same', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const q = mp.JoinableQueue<number>(1);
        await q.put(1);
        const full = await raised(q.put(2, true, 0.5));
        const t = time.time();
        await q.close();
        const closed = await raised(q.get());
        return [full, t, closed];
      }),
    );
    expectOk(r);
    const [full, t, closed] = r.value as [string, number, string];
    expect(full).toMatch(/^Full: JoinableQueue#1 is full/);
    expect(t).toBe(0.5);
    expect(closed).toMatch(/^ValueError: Queue JoinableQueue#1 is closed/);
  });
});

// -------------------------------------------------------------- SimpleQueue

describe('SimpleQueue', () => {
  it('FIFO across processes, get blocks until an item arrives (async, 100 seeds)', async () => {
    for (const seed of seeds(100)) {
      const r = await run(
        program(async ({ mp, time, random }) => {
          const q = mp.SimpleQueue<number>();
          const producer = async (q: SimpleQueue<number>): Promise<void> => {
            for (let i = 0; i < 5; i++) {
              await time.sleep(random.random());
              await q.put(i);
            }
          };
          await mp.Process({ target: producer, args: [q] }).start();
          const got: number[] = [];
          for (let i = 0; i < 5; i++) got.push(await q.get());
          return got;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it('has no feeder thread: empty() is never true after another process\'s put returned (200 seeds)', async () => {
    for (const seed of seeds(200)) {
      const r = await run(
        program(async ({ mp }) => {
          const q = mp.SimpleQueue<number>();
          const e = mp.Event();
          const child = async (q: SimpleQueue<number>): Promise<void> => {
            await q.put(1);
            await e.set();
          };
          await mp.Process({ target: child, args: [q] }).start();
          await e.wait();
          return [await q.empty(), await q.get()];
        }),
        { seed, trace: true },
      );
      expectOk(r);
      expect(r.value).toEqual([false, 1]);
      expect(r.trace!.some((e) => e.type === 'done' && e.op === 'feed')).toBe(false);
    }
  });

  it('after close() in a process, put, get and empty raise OSError("handle is closed") there, as CPython\'s closed pipe ends do', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.SimpleQueue<number>();
        const other = async (q: SimpleQueue<number>): Promise<void> => {
          await q.put(42); // this process's handles are still open
        };
        await q.close();
        const out = [await raised(q.put(1)), await raised(q.get()), await raised(q.empty())];
        let isOSError = false;
        try {
          await q.get();
        } catch (e) {
          isOSError = e instanceof OSError;
        }
        const c = mp.Process({ target: other, args: [q] });
        await c.start();
        await c.join();
        return [out, isOSError, c.exitcode];
      }),
    );
    expectOk(r);
    const [out, isOSError, exitcode] = r.value as [string[], boolean, number];
    expect(out).toEqual([
      'OSError: handle is closed (SimpleQueue#1.put() after close() in MainProcess (pid 1000))',
      'OSError: handle is closed (SimpleQueue#1.get() after close() in MainProcess (pid 1000))',
      'OSError: handle is closed (SimpleQueue#1.empty() after close() in MainProcess (pid 1000))',
    ]);
    expect(isOSError).toBe(true);
    expect(exitcode).toBe(0);
  });

  it('generator style under runSync: two producers, every item got once (200 seeds)', () => {
    const prog = program(function* ({ mp }): Gen<number[]> {
      const q = mp.SimpleQueue<number>();
      function* producer(base: number, q: SimpleQueue<number>): Gen {
        for (let i = 0; i < 4; i++) yield* q.put(base + i);
      }
      yield* mp.Process({ target: producer, args: [0, q] }).start();
      yield* mp.Process({ target: producer, args: [10, q] }).start();
      const got: number[] = [];
      for (let i = 0; i < 8; i++) got.push(yield* q.get());
      return got;
    });
    for (const seed of seeds(200)) {
      const r = runSync(prog, { seed, timing: 'untimed' });
      expectOk(r);
      expect([...r.value].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 10, 11, 12, 13]);
    }
  });
});

// --------------------------------------------------------- message events

describe('message events: send on put, recv with the same msg on get', () => {
  it('Queue with feeders: one send per put, one recv with the same msg id and value per get (100 seeds)', async () => {
    for (const seed of seeds(100)) {
      const r = await run(fanIn(3, 4), { seed, trace: true });
      expectOk(r);
      expectSendRecvPairs(r, 'Queue#1', 12);
      // The send is emitted by the putting process, at its put, not by the feeder thread.
      for (const e of r.trace!) if (e.type === 'send') expect(e.pid).toBeLessThan(FIRST_THREAD);
    }
  });

  it('Queue without feeders, JoinableQueue and SimpleQueue pair their messages too', async () => {
    for (const seed of seeds(50)) {
      const r = await run(fanIn(2, 3), { seed, trace: true, queueFeeder: false });
      expectOk(r);
      expectSendRecvPairs(r, 'Queue#1', 6);
    }
    const r = await run(
      program(async ({ mp }) => {
        const j = mp.JoinableQueue<string>();
        const s = mp.SimpleQueue<string>();
        await j.put('a');
        await s.put('b');
        await s.put('c');
        return [await j.get(), await s.get(), await s.get()];
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toEqual(['a', 'b', 'c']);
    expectSendRecvPairs(r, 'JoinableQueue#1', 1);
    expectSendRecvPairs(r, 'SimpleQueue#1', 2);
  });

  it('msg ids are unique within the run and the same seed gives the same trace byte for byte', async () => {
    for (const seed of seeds(20)) {
      const a = await run(fanIn(2, 5), { seed, trace: true });
      const b = await run(fanIn(2, 5), { seed, trace: true });
      expect(serializeTrace(b.trace!)).toBe(serializeTrace(a.trace!));
      const ids = a.trace!.filter((e): e is SendEvent => e.type === 'send').map((e) => e.msg);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('a put that raised Full, and a get that raised Empty, emit no message event', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.Queue<number>(1);
        await raised(q.getNowait());
        await q.put(1);
        await raised(q.putNowait(2));
      }),
      { trace: true, queueFeeder: false },
    );
    expectOk(r);
    expect(r.trace!.filter((e) => e.type === 'send' || e.type === 'recv').map((e) => e.type)).toEqual(['send']);
  });
});
