/**
 * The data-race detector: racy programs are reported, with both accesses; programs
 * synchronised by each primitive's documented guarantee are not, under every
 * schedule of a small instance (exhaustive exploration).
 */
import { describe, expect, it } from 'vitest';
import {
  program,
  run,
  runSync,
  type Barrier,
  type Condition,
  type Connection,
  type DictProxy,
  type Event,
  type JoinableQueue,
  type Lock,
  type Op,
  type Queue,
  type RawArray,
  type RawValue,
  type Semaphore,
  type Value,
  type World,
} from '@interleave/core';
import { exhaustive, explore, replay } from '@interleave/sched';
import { races } from '../src/index.js';
import { buyLocked, buyUnlocked, checkTicket } from '../../../examples/course/ticket.js';

type Gen<T = void> = Generator<Op<unknown>, T, unknown>;
const untimed = { timing: 'untimed' } as const;

/** Every execution of `prog` (exhaustive, untimed): the distinct races found over all of them. */
async function racesInEveryExecution(prog: Parameters<typeof explore>[0]): Promise<{ complete: boolean; executions: number; found: string[] }> {
  const r = races({ failOn: 'never' });
  const report = await explore(prog, { strategy: exhaustive(), run: untimed, monitors: [r] });
  return { complete: report.complete, executions: report.executions, found: r.distinct.map((d) => d.finding.message) };
}

// ------------------------------------------------------------------ racy

const rawWriterReader = program(
  function* ({ mp }: World) {
    function* writer(v: RawValue): Gen {
      yield* v.set(1);
    }
    function* reader(v: RawValue): Gen {
      yield* v.get();
    }
    const v = mp.RawValue('i', 0);
    const ps = [mp.Process({ target: writer, args: [v] }), mp.Process({ target: reader, args: [v] })];
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  },
  { name: 'raw-writer-reader' },
);

describe('races: unsynchronised accesses are reported', () => {
  it('a write and a read of a RawValue by two children: one confirmed race naming both accesses', () => {
    const r = races({ failOn: 'never' });
    const result = runSync(rawWriterReader, { seed: 1, monitors: [r] });
    expect(result.status).toBe('ok');
    expect(r.findings).toHaveLength(1);
    const f = r.findings[0]!;
    expect(f).toMatchObject({ kind: 'data-race', status: 'confirmed', data: { location: 'RawValue#1', object: 'RawValue#1' } });
    expect(f.events.map((e) => [e.name, e.op])).toEqual(
      expect.arrayContaining([
        ['Process-1', 'RawValue#1.set(1)'],
        ['Process-2', 'RawValue#1.get()'],
      ]),
    );
    expect(f.events[0]!.step).toBeLessThan(f.events[1]!.step);
    expect(f.message).toMatch(/Process-\d \(pid 100\d\) (read|wrote) RawValue#1 = \d at step \d+; Process-\d \(pid 100\d\) (read|wrote) RawValue#1 = \d at step \d+ — nothing orders the two accesses/);
    expect(f.why).toContain('a sleep orders nothing');
    expect(f.fix).toContain('one lock');
    expect(JSON.parse(JSON.stringify(f))).toEqual(f); // JSON-ready
  });

  it('is found in every execution: a race does not depend on the order the two accesses took', async () => {
    const r = races({ failOn: 'never' });
    const report = await explore(rawWriterReader, { strategy: exhaustive(), run: untimed, monitors: [r] });
    expect(report.complete).toBe(true);
    expect(report.executions).toBe(2);
    expect(r.distinct).toHaveLength(1);
    expect(r.distinct[0]!.runs).toBe(2);
  });

  it('fails the run by default, with the report in the message', () => {
    const result = runSync(rawWriterReader, { seed: 0, monitors: [races()] });
    expect(result.status).toBe('error');
    if (result.status !== 'error') return;
    expect(result.message).toContain('races: 1 finding(s) in this run');
    expect(result.message).toContain('[data-race, confirmed]');
  });

  it('a sleep orders nothing: writing at t=0 and reading at t=1 still races', async () => {
    const r = races({ failOn: 'never' });
    const prog = program(async ({ mp, time }: World) => {
      const v = mp.RawValue('i', 0);
      const w = mp.Process({ target: async (x: RawValue) => void (await x.set(5)), args: [v] });
      const rd = mp.Process({
        target: async (x: RawValue) => {
          await time.sleep(1);
          await x.get();
        },
        args: [v],
      });
      await w.start();
      await rd.start();
      await w.join();
      await rd.join();
    });
    await run(prog, { monitors: [r] });
    expect(r.findings.map((f) => f.kind)).toEqual(['data-race']);
  });

  it('an acquire that timed out, a get that raised Empty and isSet() false order nothing', () => {
    const r = races({ failOn: 'never' });
    const prog = program(function* ({ mp }: World) {
      function* holder(l: Lock, v: RawValue): Gen {
        yield* l.acquire();
        yield* v.set(1);
        yield* l.release();
      }
      function* impatient(l: Lock, v: RawValue, q: Queue<number>, e: Event): Gen {
        yield* l.acquire(false); // may fail: then it has learned nothing
        try {
          yield* q.getNowait();
        } catch {
          // Empty: no message, no edge
        }
        yield* e.isSet();
        yield* v.get();
      }
      const l = mp.Lock();
      const v = mp.RawValue('i', 0);
      const q = mp.Queue<number>();
      const e = mp.Event();
      const a = mp.Process({ target: holder, args: [l, v] });
      const b = mp.Process({ target: impatient, args: [l, v, q, e] });
      yield* b.start();
      yield* a.start();
      yield* a.join();
      yield* b.join();
    });
    // Run b entirely first: its non-blocking acquire succeeds (an edge, but from nobody yet).
    for (let seed = 0; seed < 20; seed++) runSync(prog, { seed, monitors: [r] });
    expect(r.distinct.map((d) => d.finding.kind)).toContain('data-race');
  });

  it('an access after the release is not protected by it', () => {
    const prog = program(function* ({ mp }: World) {
      function* early(l: Lock, v: RawValue): Gen {
        yield* l.acquire();
        yield* l.release();
        yield* v.set(1); // outside the critical section
      }
      function* late(l: Lock, v: RawValue): Gen {
        yield* l.acquire();
        yield* v.get();
        yield* l.release();
      }
      const l = mp.Lock();
      const v = mp.RawValue('i', 0);
      const a = mp.Process({ target: early, args: [l, v] });
      const b = mp.Process({ target: late, args: [l, v] });
      yield* a.start();
      yield* b.start();
      yield* a.join();
      yield* b.join();
    });
    // `early` runs first: its release orders what it did before, not its write after.
    const r = races({ failOn: 'never' });
    runSync(prog, { strategy: { name: 'lowest-pid-first', choose: () => 0 }, monitors: [r] });
    expect(r.findings.map((f) => f.kind)).toEqual(['data-race']);
  });

  it('unlocked file access in the ticket program races; reading it concurrently does not', async () => {
    const unlocked = races({ failOn: 'never' });
    await run(buyUnlocked, { seed: 0, monitors: [unlocked] });
    expect(unlocked.findings.length).toBeGreaterThan(0);
    expect(unlocked.findings.every((f) => f.data?.['location'] === 'file:ticket')).toBe(true);

    for (let seed = 0; seed < 10; seed++) {
      const r = races({ failOn: 'never' });
      await run(checkTicket, { seed, monitors: [r] });
      await run(buyLocked, { seed, monitors: [r] });
      expect(r.distinct).toEqual([]);
    }
  });

  it("a Pool callback runs on the parent's result-handler thread: it races with the parent's own code", async () => {
    const prog = program(function* ({ mp }: World) {
      const total = mp.RawValue('i', 0);
      function* square(x: number): Gen<number> {
        return x * x;
      }
      function* add(y: number): Gen {
        yield* total.set(((yield* total.get())) + y);
      }
      const pool = mp.Pool(2);
      const r = yield* pool.applyAsync(square, [3], { callback: add });
      yield* total.set(100); // the main code, while the callback may run
      yield* r.wait();
      yield* total.get(); // after wait(): ordered after the callback
    });
    const r = races({ failOn: 'never' });
    const report = await explore(prog, { strategy: exhaustive(), run: untimed, monitors: [r] });
    expect(report.complete).toBe(true);
    // The callback's read and its write each race with the main code's write; nothing else.
    expect(r.distinct.length).toBeGreaterThan(0);
    for (const { finding } of r.distinct) {
      expect(finding.events.map((e) => e.op)).toContain('RawValue#1.set(100)');
      expect(finding.events.some((e) => e.name.startsWith('Thread-'))).toBe(true);
    }
  });

  it('one report per pair of code sites: eight racing workers give one finding, counted', () => {
    const r = races({ failOn: 'never' });
    const prog = program(function* ({ mp }: World) {
      function* worker(a: RawArray, i: number): Gen {
        yield* a.set(i % 2, i);
      }
      const a = mp.RawArray('i', 2);
      const ps = Array.from({ length: 8 }, (_, i) => mp.Process({ target: worker, args: [a, i] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    });
    runSync(prog, { seed: 3, monitors: [r] });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]!.data?.['location']).toMatch(/^RawArray#1\[[01]\]$/);
    expect(r.findings[0]!.data?.['occurrences']).toBeGreaterThan(1);
  });

  it('with sources: true, each access names the line of the user code that issued it', () => {
    const r = races({ failOn: 'never', sources: true });
    runSync(rawWriterReader, { seed: 1, monitors: [r] });
    const f = r.findings[0]!;
    for (const e of f.events) expect(e.source).toMatch(/^packages\/checkers\/test\/races\.test\.ts:\d+:\d+$/);
    expect(new Set(f.events.map((e) => e.source)).size).toBe(2);
  });

  it('under an exploration each finding carries the token of an execution showing it, which replays it', async () => {
    const r = races({ failOn: 'never' });
    await explore(rawWriterReader, { strategy: exhaustive(), run: untimed, monitors: [r] });
    const token = r.distinct[0]!.finding.token!;
    expect(token).toMatch(/^il1\./);
    const again = races({ failOn: 'never' });
    await replay(rawWriterReader, token, { monitors: [again] });
    expect(again.findings.map((f) => f.key)).toEqual([r.distinct[0]!.finding.key]);
  });
});

// ------------------------------------------------------------- race-free

/** A child writes raw memory; the parent reads it after `sync` ordered the two. */
function handOver(name: string, body: (w: World) => Gen): ReturnType<typeof program> {
  return program(body, { name });
}

const raceFree: Record<string, ReturnType<typeof program>> = {
  'lock-protected read-modify-writes': handOver('lock', function* ({ mp }) {
    function* inc(l: Lock, v: RawValue): Gen {
      yield* l.acquire();
      const x = (yield* v.get());
      yield* v.set(x + 1);
      yield* l.release();
    }
    const l = mp.Lock();
    const v = mp.RawValue('i', 0);
    const ps = [0, 1, 2].map(() => mp.Process({ target: inc, args: [l, v] }));
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
    yield* v.get();
  }),
  'a Lock released by another process than the one that took it': handOver('lock-handoff', function* ({ mp }) {
    function* first(l: Lock, v: RawValue): Gen {
      yield* v.set(1);
      yield* l.release(); // main acquired it: any process may release a multiprocessing Lock
    }
    function* second(l: Lock, v: RawValue): Gen {
      yield* l.acquire();
      yield* v.get();
    }
    const l = mp.Lock();
    const v = mp.RawValue('i', 0);
    yield* l.acquire();
    const a = mp.Process({ target: first, args: [l, v] });
    const b = mp.Process({ target: second, args: [l, v] });
    yield* a.start();
    yield* b.start();
    yield* a.join();
    yield* b.join();
  }),
  'a Semaphore(1) as a mutex': handOver('semaphore', function* ({ mp }) {
    function* inc(s: Semaphore, v: RawValue): Gen {
      yield* s.acquire();
      yield* v.set(((yield* v.get())) + 1);
      yield* s.release();
    }
    const s = mp.Semaphore(1);
    const v = mp.RawValue('i', 0);
    const ps = [0, 1].map(() => mp.Process({ target: inc, args: [s, v] }));
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  }),
  'join before read (and isAlive() false)': handOver('join', function* ({ mp }) {
    function* child(a: RawArray, i: number): Gen {
      yield* a.set(i, i + 1);
    }
    const a = mp.RawArray('i', 2);
    const p = mp.Process({ target: child, args: [a, 0] });
    const q = mp.Process({ target: child, args: [a, 1] });
    yield* p.start();
    yield* q.start();
    yield* p.join();
    yield* a.get(0);
    // Polls are bounded so that exhaustive exploration is finite.
    let alive = true;
    for (let i = 0; i < 2 && alive; i++) alive = (yield* q.isAlive());
    if (!alive) yield* a.get(1);
    yield* q.join();
  }),
  'message passing through a Queue (the feeder thread forwards the put)': handOver('queue', function* ({ mp }) {
    function* producer(a: RawArray, q: Queue<number>): Gen {
      yield* a.set(0, 42);
      yield* q.put(0);
    }
    function* consumer(a: RawArray, q: Queue<number>): Gen {
      const i = (yield* q.get());
      yield* a.get(i);
      yield* a.set(i, 0);
    }
    const a = mp.RawArray('i', 1);
    const q = mp.Queue<number>();
    const ps = [mp.Process({ target: producer, args: [a, q] }), mp.Process({ target: consumer, args: [a, q] })];
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  }),
  'a Pipe: send → recv, and close → the EOFError it causes': handOver('pipe', function* ({ mp }) {
    function* producer(a: RawArray, w: Connection<number>): Gen {
      yield* a.set(0, 1);
      yield* w.send(0);
      yield* a.set(1, 2);
      yield* w.close();
    }
    function* consumer(a: RawArray, r: Connection<number>, w: Connection<number>): Gen {
      yield* w.close();
      yield* a.get((yield* r.recv()));
      try {
        yield* r.recv();
      } catch {
        yield* a.get(1); // EOFError: the producer closed its end after writing
      }
    }
    const a = mp.RawArray('i', 2);
    const [r, w] = mp.Pipe<number>(false);
    const ps = [mp.Process({ target: producer, args: [a, w] }), mp.Process({ target: consumer, args: [a, r, w] })];
    for (const p of ps) yield* p.start();
    yield* w.close();
    yield* r.close();
    for (const p of ps) yield* p.join();
  }),
  'Event set → wait returning true': handOver('event', function* ({ mp }) {
    function* setter(v: RawValue, e: Event): Gen {
      yield* v.set(7);
      yield* e.set();
    }
    function* waiter(v: RawValue, e: Event): Gen {
      if (yield* e.wait()) yield* v.get();
      while (!(yield* e.isSet())) yield* e.wait();
      yield* v.get();
    }
    const v = mp.RawValue('i', 0);
    const e = mp.Event();
    const ps = [mp.Process({ target: setter, args: [v, e] }), mp.Process({ target: waiter, args: [v, e] })];
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  }),
  'Condition: wait releases and re-takes the lock; notify adds nothing': handOver('condition', function* ({ mp }) {
    function* producer(c: Condition, v: RawValue): Gen {
      yield* c.acquire();
      yield* v.set(1);
      yield* c.notifyAll();
      yield* c.release();
    }
    function* consumer(c: Condition, v: RawValue): Gen {
      yield* c.acquire();
      while ((yield* v.get()) === 0) yield* c.wait();
      yield* v.set(2);
      yield* c.release();
    }
    const c = mp.Condition(mp.Lock());
    const v = mp.RawValue('i', 0);
    const ps = [mp.Process({ target: consumer, args: [c, v] }), mp.Process({ target: producer, args: [c, v] })];
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  }),
  'Condition.waitFor with its default RLock': handOver('wait-for', function* ({ mp }) {
    // The predicate reads plain memory (it runs inside the simulation's steps, holding the lock).
    const state = { ready: false };
    function* producer(c: Condition, v: RawValue): Gen {
      yield* c.withLock(function* () {
        yield* v.set(1);
        state.ready = true;
        yield* c.notify();
      });
    }
    function* consumer(c: Condition, v: RawValue): Gen {
      yield* c.acquire();
      yield* c.waitFor(() => state.ready);
      yield* v.get();
      yield* c.release();
    }
    const c = mp.Condition();
    const v = mp.RawValue('i', 0);
    const ps = [mp.Process({ target: consumer, args: [c, v] }), mp.Process({ target: producer, args: [c, v] })];
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  }),
  'Barrier: arrivals → departures, phase after phase': handOver('barrier', function* ({ mp }) {
    function* worker(b: Barrier, a: RawArray, i: number): Gen {
      yield* a.set(i, i + 1);
      yield* b.wait();
      yield* a.get(1 - i);
      yield* b.wait();
      yield* a.set(i, 0);
    }
    const b = mp.Barrier(2);
    const a = mp.RawArray('i', 2);
    const ps = [0, 1].map((i) => mp.Process({ target: worker, args: [b, a, i] }));
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  }),
  'JoinableQueue: taskDone → join': handOver('joinable', function* ({ mp }) {
    function* consumer(q: JoinableQueue<number>, a: RawArray): Gen {
      const i = (yield* q.get());
      yield* a.set(i, 1);
      yield* q.taskDone();
    }
    const q = mp.JoinableQueue<number>();
    const a = mp.RawArray('i', 1);
    const c = mp.Process({ target: consumer, args: [q, a], daemon: true });
    yield* c.start();
    yield* q.put(0);
    yield* q.join();
    yield* a.get(0);
  }),
  'a full bounded Queue: the get that makes room → the put that waits for it': handOver('bounded', function* ({ mp }) {
    function* consumer(q: Queue<number>, v: RawValue): Gen {
      yield* v.set(1);
      yield* q.get();
    }
    const q = mp.Queue<number>(1);
    const v = mp.RawValue('i', 0);
    yield* q.put(0);
    const c = mp.Process({ target: consumer, args: [q, v] });
    yield* c.start();
    yield* q.put(1); // waits until the consumer's get made room, after its write
    yield* v.get();
    yield* q.get();
    yield* c.join();
  }),
  'a locked Value as a flag, written under its own lock with the data': handOver('value-flag', function* ({ mp }) {
    function* writer(flag: Value, v: RawValue): Gen {
      yield* flag.withLock(function* () {
        yield* v.set(3);
        yield* flag.set(1);
      });
    }
    function* reader(flag: Value, v: RawValue): Gen {
      // Each flag.get() takes the flag's lock: after the writer's with-block, it orders the raw read.
      let seen = 0;
      for (let i = 0; i < 2 && seen === 0; i++) seen = (yield* flag.get());
      if (seen === 1) yield* v.get();
    }
    const flag = mp.Value('i', 0);
    const v = mp.RawValue('i', 0);
    const ps = [mp.Process({ target: reader, args: [flag, v] }), mp.Process({ target: writer, args: [flag, v] })];
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  }),
  'a Manager dict key as a flag': handOver('manager-flag', function* ({ mp }) {
    function* writer(d: DictProxy<string, number>, v: RawValue): Gen {
      yield* v.set(3);
      yield* d.set('ready', 1);
    }
    function* reader(d: DictProxy<string, number>, v: RawValue): Gen {
      let seen = 0;
      for (let i = 0; i < 2 && seen === 0; i++) seen = (yield* d.get('ready'));
      if (seen === 1) yield* v.get();
    }
    const d = mp.Manager().dict({ ready: 0 });
    const v = mp.RawValue('i', 0);
    const ps = [mp.Process({ target: reader, args: [d, v] }), mp.Process({ target: writer, args: [d, v] })];
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  }),
  'a Pool: submit → task → result → get, ready() and map; close() and join() → its workers exited': handOver('pool', function* ({ mp }) {
    const cells = mp.RawArray('i', 4);
    function* work(i: number): Gen<number> {
      yield* cells.get(0); // written before the submit
      yield* cells.set(i, i);
      return i;
    }
    yield* cells.set(0, 7);
    const pool = mp.Pool(1);
    const r = yield* pool.applyAsync(work, [1]);
    let ready = false;
    for (let k = 0; k < 2 && !ready; k++) ready = yield* r.ready();
    if (ready) yield* cells.get(1); // ready() true: the task is done
    yield* r.get();
    yield* cells.set(1, 0);
    yield* pool.map(work, [2, 3]);
    yield* cells.slice();
    yield* pool.applyAsync(work, [1]); // never collected: pool.join() orders it
    yield* pool.close();
    yield* pool.join();
    yield* cells.get(1);
  }),
  'what a Manager flag taught a process travels on through its lock release and its messages': handOver('atomic-relay', function* ({ mp }) {
    const state = { seen: 0 };
    function* writer(d: DictProxy<string, number>, v: RawValue): Gen {
      yield* v.set(3);
      yield* d.set('ready', 1);
    }
    function* relay(d: DictProxy<string, number>, l: Lock, q: Queue<number>): Gen {
      for (let i = 0; i < 2 && state.seen === 0; i++) state.seen = (yield* d.get('ready'));
      yield* q.put(state.seen);
      yield* l.release(); // main acquired it: the reader waits for this release
    }
    function* byLock(l: Lock, v: RawValue): Gen {
      yield* l.acquire();
      if (state.seen === 1) yield* v.get();
      yield* l.release();
    }
    function* byMessage(q: Queue<number>, v: RawValue): Gen {
      if ((yield* q.get()) === 1) yield* v.get();
    }
    const d = mp.Manager().dict({ ready: 0 });
    const v = mp.RawValue('i', 0);
    const l = mp.Lock();
    const q = mp.Queue<number>();
    yield* l.acquire();
    const ps = [
      mp.Process({ target: writer, args: [d, v] }),
      mp.Process({ target: relay, args: [d, l, q] }),
      mp.Process({ target: byLock, args: [l, v] }),
      mp.Process({ target: byMessage, args: [q, v] }),
    ];
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  }),
  'a parent exits only after joining its children (implicitly)': handOver('exit-join', function* ({ mp }) {
    function* grandchild(v: RawValue): Gen {
      yield* v.set(1);
    }
    function* child(v: RawValue): Gen {
      yield* mp.Process({ target: grandchild, args: [v] }).start(); // never joined explicitly
    }
    const v = mp.RawValue('i', 0);
    const p = mp.Process({ target: child, args: [v] });
    yield* p.start();
    yield* p.join(); // Process-1's exit waited for Process-1:1
    yield* v.get();
  }),
};

describe('races: no report on correctly synchronised programs, under every schedule', () => {
  for (const [name, prog] of Object.entries(raceFree)) {
    it(name, async () => {
      const r = await racesInEveryExecution(prog);
      expect(r.complete).toBe(true);
      expect(r.executions).toBeGreaterThan(0);
      expect(r.found).toEqual([]);
    });
  }

  it('the same programs with their synchronisation removed do race (the edges are what makes them safe)', async () => {
    const unsafe = program(function* ({ mp }: World) {
      function* producer(a: RawArray, q: Queue<number>): Gen {
        yield* q.put(0); // put before the write: the message orders nothing useful
        yield* a.set(0, 42);
      }
      function* consumer(a: RawArray, q: Queue<number>): Gen {
        yield* a.get((yield* q.get()));
      }
      const a = mp.RawArray('i', 1);
      const q = mp.Queue<number>();
      const ps = [mp.Process({ target: producer, args: [a, q] }), mp.Process({ target: consumer, args: [a, q] })];
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    });
    const r = await racesInEveryExecution(unsafe);
    expect(r.found).toHaveLength(1);
  });
});
