/**
 * Final-state invariants and assertion failures inside processes.
 */
import { describe, expect, it } from 'vitest';
import { InvariantViolation, program, run, type Queue, type World } from '@interleave/core';
import { check, random } from '@interleave/sched';
import { consumerLeavesEndOpen } from '../../../examples/course/pipe.js';
import { assertions, atEnd, pyAssert, resultFindings } from '../src/index.js';

/** Items in flight at the end, from send/recv events. */
const drained = atEnd('queues drained', () => {
  let inFlight = 0;
  return {
    observe: (e) => {
      if (e.type === 'send') inFlight++;
      if (e.type === 'recv') inFlight--;
    },
    holds: () => inFlight === 0 || `${inFlight} item(s) never taken out`,
  };
});

const putGet = (gets: number) =>
  program(async ({ mp }: World) => {
    const q = mp.Queue<number>();
    await q.put(1);
    await q.put(2);
    for (let i = 0; i < gets; i++) await q.get();
  });

describe('atEnd', () => {
  it('passes when the final state is right', async () => {
    expect((await run(putGet(2), { monitors: [drained] })).status).toBe('ok');
  });

  it('fails the run, naming the check and what is wrong', async () => {
    const r = await run(putGet(1), { monitors: [drained] });
    expect(r.status).toBe('error');
    expect(r.status === 'error' && r.error).toBeInstanceOf(InvariantViolation);
    expect(r.status === 'error' && r.message).toMatch(/^InvariantViolation: queues drained: does not hold at the end of the run \(step \d+, t=0s\): 1 item\(s\) never taken out$/);
    const [f] = resultFindings(r);
    expect(f?.kind).toBe('invariant');
    expect(f?.message).toContain('queues drained');
  });

  it('does not judge a run that ended otherwise: the deadlock stays a deadlock', async () => {
    const never = atEnd('never', () => ({ holds: () => false }));
    const r = await run(consumerLeavesEndOpen, { seed: 1, monitors: [never] });
    expect(r.status).toBe('deadlock');
  });
});

/** Workers check that every item is non-negative; the main process puts one bad item. */
const checkedWorkers = program(async ({ mp }: World) => {
  async function worker(q: Queue<number>): Promise<void> {
    const item = await q.get();
    pyAssert(item >= 0, `negative item ${item}`);
  }
  const q = mp.Queue<number>();
  const ps = [mp.Process({ target: worker, args: [q] }), mp.Process({ target: worker, args: [q] })];
  for (const p of ps) await p.start();
  await q.put(1);
  await q.put(-1);
  for (const p of ps) await p.join();
}, { name: 'checked-workers' });

describe('assertions inside processes', () => {
  it('an uncaught AssertionError in a child is a finding and fails the run', async () => {
    const asserts = assertions();
    const r = await run(checkedWorkers, { seed: 0, monitors: [asserts] });
    expect(r.status).toBe('error');
    expect(asserts.findings).toHaveLength(1);
    const f = asserts.findings[0]!;
    expect(f.kind).toBe('assertion');
    expect(f.status).toBe('confirmed');
    expect(f.message).toMatch(/^Process-[12] \(pid 100[12]\) raised AssertionError: negative item -1$/);
    expect(f.events.map((e) => e.op)).toEqual(['Queue#1.get()', 'exit (uncaught exception)']);
    expect(f.events[1]!.note).toBe('AssertionError: negative item -1');
  });

  it('without the monitor the child just exits with code 1 and the run is ok', async () => {
    const r = await run(checkedWorkers, { seed: 0 });
    expect(r.status).toBe('ok');
    expect(r.processes.filter((p) => !p.thread).map((p) => p.exitcode).sort()).toEqual([0, 0, 1]);
    expect(r.stderr).toContain('AssertionError: negative item -1');
  });

  it('failOn never records it and lets the run finish', async () => {
    const asserts = assertions({ failOn: 'never' });
    expect((await run(checkedWorkers, { seed: 0, monitors: [asserts] })).status).toBe('ok');
    expect(asserts.findings.map((f) => f.kind)).toEqual(['assertion']);
  });

  it("other exceptions only with exceptions: 'all'", async () => {
    const prog = program(async ({ mp }: World) => {
      async function bad(l: ReturnType<typeof mp.Lock>): Promise<void> {
        await l.release(); // ValueError: released too many times
      }
      const p = mp.Process({ target: bad, args: [mp.Lock()] });
      await p.start();
      await p.join();
    });
    const onlyAsserts = assertions();
    const all = assertions({ exceptions: 'all', failOn: 'never' });
    await run(prog, { monitors: [onlyAsserts, all] });
    expect(onlyAsserts.findings).toEqual([]);
    expect(all.findings.map((f) => [f.kind, f.message.slice(0, 48)])).toEqual([['uncaught-exception', 'Process-1 (pid 1001) raised ValueError: semaphor']]);
  });

  it('an assertion in the main process ends the run; resultFindings says so', async () => {
    const r = await run(program(async ({ print }: World) => {
      await print('checking');
      pyAssert(1 + 1 === 3, 'arithmetic');
    }));
    expect(r.status).toBe('error');
    expect(resultFindings(r)).toMatchObject([{ kind: 'assertion', status: 'confirmed', message: 'MainProcess (pid 1000) raised AssertionError: arithmetic' }]);
  });

  it('an exploration stops at the first schedule where a worker assertion breaks', async () => {
    const asserts = assertions();
    const report = await check(checkedWorkers, { strategy: random(), monitors: [asserts] });
    expect(report.passed).toBe(false);
    expect(asserts.distinct).toHaveLength(1);
    expect(asserts.distinct[0]!.finding.token).toMatch(/^il1\./);
  });
});
