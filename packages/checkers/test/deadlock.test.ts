/**
 * Deadlock reports: the course's hanging pipe names the open end and its holder;
 * opposite lock orders give the JVM-style cycle; joining a producer before draining
 * a bounded queue is named as that trap; a lock held by a terminated process; and
 * the exit checks (children never joined, daemons killed mid-wait, the unbounded
 * join-before-drain that only CPython's pipe capacity makes hang).
 */
import { describe, expect, it } from 'vitest';
import { program, run, type Event, type Lock, type Queue, type World } from '@interleave/core';
import { explore } from '@interleave/sched';
import { consumerLeavesEndOpen, producerConsumer } from '../../../examples/course/pipe.js';
import { deadlockReport, formatFinding, joinBeforeDrain, processLeaks, resultFindings, waitForGraph, type DeadlockCause } from '../src/index.js';
import { twoLocks } from './two-locks.js';

const causesOf = (data: Readonly<Record<string, unknown>> | undefined): DeadlockCause[] => (data?.['causes'] ?? []) as DeadlockCause[];

describe('deadlockReport: the course hanging pipe (consumer forgets pipe2.close())', () => {
  it('names the open end Connection#2 and its holder, the consumer itself, on every seed tried', async () => {
    for (let seed = 0; seed < 30; seed++) {
      const r = await run(consumerLeavesEndOpen, { seed, trace: true });
      expect(r.status).toBe('deadlock');
      const f = deadlockReport(r)!;
      expect(f.kind).toBe('deadlock');
      expect(f.status).toBe('confirmed');
      expect(f.message).toContain('Process-2 (pid 1002) waits forever in Connection#1.recv()');
      expect(f.message).toContain('the other end Connection#2 is still open in Process-2 (pid 1002) itself');
      expect(f.fix).toMatch(/^close the pipe end you do not use/);
      const causes = causesOf(f.data);
      expect(causes.find((c) => c.pid === 1002)?.kind).toBe('pipe-end-open');
      // The consumer waits for itself; the main process waits (at exit) for the consumer.
      expect(f.data?.['cycles']).toEqual([[1002]]);
      expect(f.data?.['edges']).toEqual([
        { from: 1000, to: 1002 },
        { from: 1002, to: 1002 },
      ]);
      // Each blocked process with the step and time at which it blocked.
      const recv = f.events.find((e) => e.pid === 1002)!;
      expect(recv.op).toBe('Connection#1.recv()');
      expect(recv.note).toContain('held by itself');
      expect(recv.step).toBeGreaterThan(0);
      expect(recv.time).toBeGreaterThan(0);
      expect(f.events.find((e) => e.pid === 1000)?.op).toBe('MainProcess.exit()');
    }
  });

  it('renders as text with the wait-for graph, and is JSON-ready', async () => {
    const r = await run(consumerLeavesEndOpen, { seed: 3, trace: true });
    const f = deadlockReport(r, 'il1.test')!;
    const text = formatFinding(f);
    expect(text).toMatch(/^\[deadlock, confirmed\] deadlock at step \d+ \(t=[\d.]+s\): Process-2 \(pid 1002\)/);
    expect(text).toContain('Wait-for graph');
    expect(text).toContain('Cycles: Process-2 (pid 1002) waits for itself');
    expect(text).toContain('replay: il1.test');
    expect(JSON.parse(JSON.stringify(f))).toEqual(f);
  });

  it('without the trace the report still names the end and the holder', async () => {
    const r = await run(consumerLeavesEndOpen, { seed: 3 });
    const f = deadlockReport(r)!;
    expect(f.message).toContain('Connection#2 is still open in Process-2 (pid 1002) itself');
    expect(resultFindings(r)).toEqual([f]);
  });

  it('is null for the correct program', async () => {
    const r = await run(producerConsumer, { seed: 3 });
    expect(r.status).toBe('ok');
    expect(deadlockReport(r)).toBeNull();
    expect(resultFindings(r)).toEqual([]);
  });
});


describe('deadlockReport: locks taken in opposite orders', () => {
  it('finds the cycle, says who holds what in the JVM style, and names the idiom', async () => {
    const ex = await explore(twoLocks, { stopOnFailure: true, budget: { executions: 200 } });
    expect(ex.failure?.kind).toBe('deadlock');
    const f = deadlockReport(ex.failure!.result, ex.failure!.token)!;
    expect(f.token).toBe(ex.failure!.token);
    expect(f.data?.['cycles']).toEqual([[1001, 1002]]);
    expect(f.details).toContain('Found a deadlock cycle:');
    expect(f.details).toContain('"Process-1" (pid 1001): waiting in Lock#2.acquire() for Lock#2, which is held by "Process-2" (pid 1002)');
    expect(f.details).toContain('"Process-2" (pid 1002): waiting in Lock#1.acquire() for Lock#1, which is held by "Process-1" (pid 1001)');
    expect(f.fix).toMatch(/^acquire locks in one global order/);
    expect(causesOf(f.data).map((c) => c.kind)).toEqual(['waits-for-blocked', 'lock-cycle', 'lock-cycle']);
    // The sites where the holders took their locks come from the trace.
    expect(f.events.some((e) => e.pid === 1001 && e.op === 'Lock#1.acquire()' && e.note === 'took Lock#1 here')).toBe(true);
  });
});

describe('deadlockReport: the course trap, joining a producer before draining its queue', () => {
  // With a bounded queue the trap hangs in Interleave as in CPython.
  const joinFirst = program(async ({ mp }: World) => {
    async function producer(q: Queue<number>): Promise<void> {
      for (let i = 0; i < 5; i++) await q.put(i);
    }
    const q = mp.Queue<number>(2);
    const p = mp.Process({ target: producer, args: [q] });
    await p.start();
    await p.join(); // waits for the producer...
    for (let i = 0; i < 5; i++) await q.get(); // ...which waits for room only these gets make
  }, { name: 'join-first' });

  it('names the trap and says to drain before join', async () => {
    const r = await run(joinFirst, { seed: 0, trace: true });
    expect(r.status).toBe('deadlock');
    const f = deadlockReport(r)!;
    expect(f.message).toContain('MainProcess (pid 1000) waits in Process-1.join() for Process-1 (pid 1001), which is blocked in Queue#1.put(2) on a full Queue#1');
    expect(f.fix).toBe('drain the queue before join: get every result first, then join the producers.');
    expect(causesOf(f.data).map((c) => c.kind)).toEqual(['join-before-drain', 'queue-full']);
  });
});

describe('deadlockReport: other causes', () => {
  it('a lock held by a terminated process', async () => {
    const prog = program(async ({ mp, time }: World) => {
      async function holder(l: Lock): Promise<void> {
        await l.acquire();
        await time.sleep(10);
      }
      const l = mp.Lock();
      const p = mp.Process({ target: holder, args: [l] });
      await p.start();
      await time.sleep(1);
      await p.terminate();
      await l.acquire();
    });
    const r = await run(prog, { trace: true });
    const f = deadlockReport(r)!;
    expect(causesOf(f.data)[0]?.kind).toBe('lock-held-by-gone');
    expect(f.message).toContain('Lock#1 is held by Process-1 (pid 1001), which was terminated without releasing it');
    expect(f.details).toContain('→ Process-1 (pid 1001) (was terminated)');
  });

  it('re-acquiring a non-reentrant Lock', async () => {
    const prog = program(async ({ mp }: World) => {
      const l = mp.Lock();
      await l.acquire();
      await l.acquire();
    });
    const f = deadlockReport(await run(prog))!;
    expect(causesOf(f.data)[0]?.kind).toBe('self-lock');
    expect(f.fix).toMatch(/^use an RLock/);
  });

  it('an Event nobody sets, a Condition nobody notifies, a get nobody answers', async () => {
    const prog = program(async ({ mp }: World) => {
      async function waitsEvent(e: ReturnType<typeof mp.Event>): Promise<void> {
        await e.wait();
      }
      const e = mp.Event();
      const q = mp.Queue<number>();
      await mp.Process({ target: waitsEvent, args: [e] }).start();
      await q.get();
    });
    const f = deadlockReport(await run(prog))!;
    expect(causesOf(f.data).map((c) => c.kind).sort()).toEqual(['event-never-set', 'queue-empty']);
  });
});

describe('waitForGraph', () => {
  it('lists each elementary cycle once, from its smallest pid', () => {
    const g = waitForGraph([
      { pid: 1, name: 'a', op: 'x', waitsOn: '', heldBy: [2] },
      { pid: 2, name: 'b', op: 'x', waitsOn: '', heldBy: [3, 1] },
      { pid: 3, name: 'c', op: 'x', waitsOn: '', heldBy: [1, 3] },
    ]);
    expect(g.cycles).toEqual([
      [1, 2],
      [1, 2, 3],
      [3],
    ]);
  });
});

describe('processLeaks', () => {
  it('reports children never joined and daemons killed while blocked, once per parent', async () => {
    const prog = program(async ({ mp, time, print }: World) => {
      async function quick(): Promise<void> {
        await print('done');
      }
      async function consumer(q: Queue<number>): Promise<void> {
        for (;;) await q.get();
      }
      const q = mp.Queue<number>();
      await mp.Process({ target: quick }).start();
      await mp.Process({ target: consumer, args: [q], daemon: true }).start();
      await time.sleep(1); // the children run meanwhile: one finishes, the daemon blocks in get()
      await print('main done');
    });
    const leaks = processLeaks();
    const r = await run(prog, { monitors: [leaks], strategy: { name: 'first', choose: () => 0 } });
    expect(r.status).toBe('ok');
    expect(leaks.findings).toHaveLength(1);
    const f = leaks.findings[0]!;
    expect(f.kind).toBe('process-leak');
    expect(f.status).toBe('potential');
    expect(f.message).toBe('MainProcess (pid 1000) ended without joining Process-1 (pid 1001); killed daemonic Process-2 (pid 1002) blocked in Queue#1.get()');
    expect(f.fix).toMatch(/^join\(\) every process you start/);
  });

  it('reports a parent still waiting at exit for an unjoined child when the run ends, from the step its code ended', async () => {
    const prog = program(async ({ mp, print }: World) => {
      async function stuck(e: Event): Promise<void> {
        await e.wait(); // nobody sets it: the run ends in a deadlock, the parent waiting at exit
      }
      await mp.Process({ target: stuck, args: [mp.Event()] }).start();
      await print('main done');
    });
    const leaks = processLeaks();
    const r = await run(prog, { seed: 0, monitors: [leaks] });
    expect(r.status).toBe('deadlock');
    expect(leaks.findings.map((f) => f.message)).toEqual(['MainProcess (pid 1000) ended without joining Process-1 (pid 1001)']);
    expect(leaks.findings[0]!.events[0]).toMatchObject({ pid: 1000, op: 'end of its code', step: 3 });
  });

  it("reports the course's producer/consumer, which leaves the joins to Python; nothing when every child is joined", async () => {
    const leaks = processLeaks();
    await run(producerConsumer, { seed: 1, monitors: [leaks] });
    // The course's producer/consumer does not join its children: Python joins them at exit.
    expect(leaks.findings.map((f) => f.message)).toEqual(['MainProcess (pid 1000) ended without joining Process-1 (pid 1001), Process-2 (pid 1002)']);
    const joined = processLeaks();
    await run(twoLocks, { strategy: { name: 'first', choose: () => 0 }, monitors: [joined] });
    expect(joined.findings).toEqual([]);
  });
});

describe('joinBeforeDrain: the unbounded-queue form, which hangs only in CPython', () => {
  const make = (drainFirst: boolean) =>
    program(async ({ mp }: World) => {
      async function producer(q: Queue<string>): Promise<void> {
        for (let i = 0; i < 3; i++) await q.put(`result ${i}`);
      }
      const q = mp.Queue<string>();
      const p = mp.Process({ target: producer, args: [q] });
      await p.start();
      if (drainFirst) for (let i = 0; i < 3; i++) await q.get();
      await p.join();
      if (!drainFirst) for (let i = 0; i < 3; i++) await q.get();
    });

  it('is a potential finding when the joiner gets the items only after the join', async () => {
    const trap = joinBeforeDrain();
    const r = await run(make(false), { seed: 0, monitors: [trap] });
    expect(r.status).toBe('ok');
    expect(trap.findings).toHaveLength(1);
    const f = trap.findings[0]!;
    expect(f.status).toBe('potential');
    expect(f.message).toBe('MainProcess (pid 1000) joined Process-1 (pid 1001) while 3 item(s) it put into Queue#1 were still in the queue, and got them only afterwards');
    expect(f.why).toContain('Interleave models no pipe capacity');
    expect(f.fix).toMatch(/^drain the queue before join/);
    expect(f.events.map((e) => e.op)).toEqual(['Queue#1.put()', 'Process-1.join()', 'Queue#1.get()']);
  });

  it('says nothing when the queue is drained first', async () => {
    for (let seed = 0; seed < 20; seed++) {
      const trap = joinBeforeDrain();
      await run(make(true), { seed, monitors: [trap] });
      expect(trap.findings).toEqual([]);
    }
  });
});
