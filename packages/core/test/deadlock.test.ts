import { describe, expect, it } from 'vitest';
import { program, run, type BlockedProcess, type Lock, type Op } from '../src/index.js';
import { expectDeadlock, expectOk, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

const byPid = (bs: readonly BlockedProcess[]): BlockedProcess[] => [...bs].sort((a, b) => a.pid - b.pid);

describe('deadlock detection', () => {
  const oppositeOrderAsync = program(async ({ mp, time }) => {
    const a = mp.Lock();
    const b = mp.Lock();
    const work = async (first: Lock, second: Lock): Promise<void> => {
      await first.acquire();
      await time.sleep(0);
      await second.acquire();
      await second.release();
      await first.release();
    };
    const p = mp.Process({ target: work, args: [a, b] });
    const q = mp.Process({ target: work, args: [b, a] });
    await p.start();
    await q.start();
    await p.join();
    await q.join();
  });

  const oppositeOrderGen = program(function* ({ mp, time }) {
    const a = mp.Lock();
    const b = mp.Lock();
    function* work(first: Lock, second: Lock): Gen {
      yield* first.acquire();
      yield* time.sleep(0);
      yield* second.acquire();
      yield* second.release();
      yield* first.release();
    }
    const p = mp.Process({ target: work, args: [a, b] });
    const q = mp.Process({ target: work, args: [b, a] });
    yield* p.start();
    yield* q.start();
    yield* p.join();
    yield* q.join();
  });

  for (const [style, prog] of [
    ['async', oppositeOrderAsync],
    ['generator', oppositeOrderGen],
  ] as const) {
    it(`${style}: two locks taken in opposite order deadlock on some seeds, and the report names every wait`, async () => {
      let deadlocks = 0;
      let oks = 0;
      for (const seed of seeds(200)) {
        const r = await run(prog, { seed, timing: 'untimed' });
        if (r.status === 'ok') {
          oks++;
          continue;
        }
        expectDeadlock(r);
        deadlocks++;
        expect(byPid(r.blocked)).toEqual([
          { pid: 1000, name: 'MainProcess', op: 'Process-1.join()', waitsOn: 'waiting for Process-1 (pid 1001) to exit', heldBy: [1001] },
          { pid: 1001, name: 'Process-1', op: 'Lock#2.acquire()', waitsOn: 'Lock#2 is held by Process-2 (pid 1002)', heldBy: [1002] },
          { pid: 1002, name: 'Process-2', op: 'Lock#1.acquire()', waitsOn: 'Lock#1 is held by Process-1 (pid 1001)', heldBy: [1001] },
        ]);
        expect(r.message).toMatch(/^Deadlock at step \d+ \(t=0s\): every live process is blocked and no timer is pending\.\n/);
        expect(r.message).toContain('  Process-1 (pid 1001) is blocked in Lock#2.acquire(): Lock#2 is held by Process-2 (pid 1002)');
        expect(r.message).toContain('  Process-2 (pid 1002) is blocked in Lock#1.acquire(): Lock#1 is held by Process-1 (pid 1001)');
        expect(r.message).toContain('  MainProcess (pid 1000) is blocked in Process-1.join(): waiting for Process-1 (pid 1001) to exit');
      }
      expect(deadlocks).toBeGreaterThan(0);
      expect(oks).toBeGreaterThan(0);
    });
  }

  it('taking the locks in the same order never deadlocks', async () => {
    const prog = program(async ({ mp, time }) => {
      const a = mp.Lock();
      const b = mp.Lock();
      const work = async (): Promise<void> => {
        await a.acquire();
        await time.sleep(0);
        await b.acquire();
        await b.release();
        await a.release();
      };
      for (let i = 0; i < 3; i++) await mp.Process({ target: work }).start();
    });
    for (const seed of seeds(200)) expectOk(await run(prog, { seed, timing: 'untimed' }));
  });

  it('join of a child blocked on a lock the parent holds', async () => {
    for (const seed of seeds(20)) {
      const r = await run(
        program(async ({ mp }) => {
          const l = mp.Lock();
          await l.acquire();
          const p = mp.Process({ target: async () => await l.acquire() });
          await p.start();
          await p.join();
        }),
        { seed },
      );
      expectDeadlock(r);
      expect(byPid(r.blocked)).toEqual([
        { pid: 1000, name: 'MainProcess', op: 'Process-1.join()', waitsOn: 'waiting for Process-1 (pid 1001) to exit', heldBy: [1001] },
        { pid: 1001, name: 'Process-1', op: 'Lock#1.acquire()', waitsOn: 'Lock#1 is held by MainProcess (pid 1000)', heldBy: [1000] },
      ]);
    }
  });

  it('a wait on an Event nobody sets, in a child being joined', async () => {
    const r = await run(
      program(function* ({ mp }) {
        const e = mp.Event();
        const p = mp.Process({ target: function* (): Gen { yield* e.wait(); }, name: 'waiter' });
        yield* p.start();
        yield* p.join();
      }),
    );
    expectDeadlock(r);
    expect(byPid(r.blocked)).toEqual([
      // The Process handle keeps its default id; the custom name shows in the labels.
      { pid: 1000, name: 'MainProcess', op: 'Process-1.join()', waitsOn: 'waiting for waiter (pid 1001) to exit', heldBy: [1001] },
      { pid: 1001, name: 'waiter', op: 'Event#1.wait()', waitsOn: 'waiting for Event#1 to be set', heldBy: [] },
    ]);
  });

  it('main waiting at exit for a blocked non-daemonic child', async () => {
    const r = await run(
      program(async ({ mp, time, print }) => {
        const e = mp.Event();
        await mp.Process({ target: async () => void (await e.wait()) }).start();
        await time.sleep(3);
        await print('main code done');
      }),
    );
    expectDeadlock(r);
    expect(r.stdout).toBe('main code done\n');
    expect(r.time).toBe(3);
    expect(byPid(r.blocked)).toEqual([
      {
        pid: 1000,
        name: 'MainProcess',
        op: 'MainProcess.exit()',
        waitsOn: 'at exit, waiting for its non-daemonic children Process-1 (pid 1001)',
        heldBy: [1001],
      },
      { pid: 1001, name: 'Process-1', op: 'Event#1.wait()', waitsOn: 'waiting for Event#1 to be set', heldBy: [] },
    ]);
    expect(r.message).toMatch(/^Deadlock at step \d+ \(t=3s\)/);
  });

  it('a blocked daemonic child does not deadlock the run: it is terminated when main ends', async () => {
    const r = await run(
      program(async ({ mp }) => {
        await mp.Process({ target: async () => void (await mp.Event().wait()), daemon: true }).start();
      }),
    );
    expectOk(r);
    expect(r.processes.map((p) => p.exitcode)).toEqual([0, -15]);
  });

  it('a pending timeout is a timer, not a deadlock', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const l = mp.Lock();
        await l.acquire();
        const res: unknown[] = [];
        const p = mp.Process({ target: async () => void res.push(await l.acquire(true, 7), time.time()) });
        await p.start();
        await p.join();
        return res;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, 7]);
  });

  it('a timed-out Condition waiter that can never re-take its lock is part of a deadlock (its passed deadline is not a timer)', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const c = mp.Condition(mp.Lock());
        const p = mp.Process({
          target: async () => {
            await c.acquire();
            await c.wait(1);
            await c.release();
          },
        });
        await p.start();
        await mp.Event().wait(0.5); // let the child start waiting
        await c.acquire();
        await p.join();
      }),
    );
    expectDeadlock(r);
    expect(r.time).toBe(1);
    expect(byPid(r.blocked)[1]).toEqual({
      pid: 1001,
      name: 'Process-1',
      op: 'Condition#1.wait(1)',
      waitsOn: 're-acquiring Lock#1, held by MainProcess (pid 1000)',
      heldBy: [1000],
    });
  });

  it('block events in the trace carry what the process waits on and who holds it', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const l = mp.Lock();
        await l.acquire();
        const p = mp.Process({ target: async () => void (await l.acquire()) });
        await p.start();
        await time.sleep(1);
        await l.release();
        await p.join();
      }),
      { trace: true },
    );
    expectOk(r);
    const t = r.trace ?? [];
    expect(t.find((e) => e.type === 'block' && e.pid === 1001)).toMatchObject({
      obj: 'Lock#1',
      op: 'acquire',
      waitsOn: 'Lock#1 is held by MainProcess (pid 1000)',
      heldBy: [1000],
    });
    expect(t.find((e) => e.type === 'wake' && e.pid === 1001)).toMatchObject({ obj: 'Lock#1', op: 'acquire', time: 1 });
  });

  it('a process spinning forever is a step limit, not a deadlock', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const e = mp.Event();
        await mp.Process({
          target: async () => {
            while (!(await e.isSet())) await time.sleep(0);
          },
        }).start();
      }),
      { maxSteps: 500 },
    );
    expect(r.status).toBe('step-limit');
    if (r.status === 'step-limit') expect(r.message).toContain('The run did not terminate within 500 steps');
    expect(r.steps).toBe(500);
  });
});
