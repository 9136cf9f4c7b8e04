/**
 * Liveness: the course's endless flag toggle becomes a "did not terminate" finding
 * naming the loop; a busy-wait is told apart from a sleeping loop; a waiter starved
 * by an unfair lock under round-robin is reported; fair programs are not.
 */
import { describe, expect, it } from 'vitest';
import { program, run, type Event, type Lock, type World } from '@interleave/core';
import { check, random, roundRobinStrategy } from '@interleave/sched';
import { flagToggle } from '../../../examples/course/event.js';
import { formatFinding, resultFindings, starvation, stepLimitReport } from '../src/index.js';

describe('stepLimitReport: the course flag toggle (an endless loop)', () => {
  it('names the looping process and what it repeats, with the budget in the verdict', async () => {
    const r = await run(flagToggle, { maxSteps: 20, trace: true });
    expect(r.status).toBe('step-limit');
    const f = stepLimitReport(r)!;
    expect(f.kind).toBe('non-termination');
    expect(f.status).toBe('confirmed');
    expect(f.message).toBe('did not terminate within 20 steps: MainProcess (pid 1000) loops over stdout.print() → time.sleep() (virtual time reached 10s)');
    expect(f.why).toContain('endless loop rather than a stuck one');
    expect(f.fix).toMatch(/^give the loop an exit/);
    expect(f.events).toEqual([{ pid: 1000, name: 'MainProcess', step: 20, time: 9, op: 'stdout.print()', note: 'loop of 2 operations' }]);
    expect(f.data?.['busyWait']).toBe(false);
    expect(resultFindings(r)).toEqual([f]);
    expect(formatFinding(f)).toMatch(/^\[non-termination, confirmed\] did not terminate within 20 steps/);
  });

  it('without the trace it still names the process still running', async () => {
    const f = stepLimitReport(await run(flagToggle, { maxSteps: 20 }))!;
    expect(f.message).toBe('did not terminate within 20 steps: MainProcess (pid 1000) still running after 20 steps');
  });

  it("an explorer's step-limit failure becomes the same finding, with its token", async () => {
    const report = await check(flagToggle, { strategy: random(), run: { maxSteps: 50 } });
    expect(report.failure?.kind).toBe('step-limit');
    const [f] = resultFindings(report.failure!.result, report.failure!.token);
    expect(f?.kind).toBe('non-termination');
    expect(f?.token).toBe(report.failure!.token);
    expect(f?.message).toContain('MainProcess (pid 1000) loops over stdout.print() → time.sleep()');
  });

  it('is null for other runs', async () => {
    expect(stepLimitReport(await run(flagToggle, { maxSteps: 20_000, timing: 'untimed' }))?.kind).toBe('non-termination');
    expect(stepLimitReport(await run(program(async ({ print }) => { await print('hi'); })))).toBeNull();
  });
});

/** A waiter polls an Event in a tight loop; the setter needs a turn it never gets under round-robin. */
const spin = program(async ({ mp }: World) => {
  async function setter(e: Event): Promise<void> {
    await e.set();
  }
  const e = mp.Event();
  await mp.Process({ target: setter, args: [e] }).start();
  while (!(await e.isSet())) {
    // busy-wait: no sleep, no blocking wait
  }
}, { name: 'spin' });

describe('stepLimitReport: a busy-wait', () => {
  it('says virtual time stood still and points at the blocking wait', async () => {
    const r = await run(spin, { strategy: roundRobinStrategy(), maxSteps: 200, trace: true });
    expect(r.status).toBe('step-limit');
    const f = stepLimitReport(r)!;
    expect(f.message).toBe('did not terminate within 200 steps: MainProcess (pid 1000) loops over Event#1.isSet() (virtual time stands still: a busy-wait)');
    expect(f.why).toContain('Process-1 (pid 1001) waited meanwhile');
    expect(f.fix).toMatch(/^replace the busy-wait with a blocking wait/);
    expect(f.data?.['busyWait']).toBe(true);
  });

  it('starvation names the setter that never got its turn', async () => {
    const starved = starvation({ limit: 100, failOn: 'never' });
    const r = await run(spin, { strategy: roundRobinStrategy(), maxSteps: 300, monitors: [starved] });
    expect(r.status).toBe('step-limit');
    expect(starved.findings).toHaveLength(1);
    // Its wait began in step 2, which started it (as a pending operation's wait begins in the step that issued it).
    expect(starved.findings[0]!.message).toBe(
      'Process-1 (pid 1001) starved before its first step: runnable at 100 steps since step 2 (up to 100 in a row), never chosen; MainProcess (pid 1000) ran instead',
    );
  });
});

/** Each worker loops: take the lock, work (sleep) holding it, release. Nothing hands the lock over. */
const lockHog = (sleepOutside: boolean) =>
  program(async ({ mp, time }: World) => {
    async function worker(l: Lock): Promise<void> {
      for (let i = 0; i < 150; i++) {
        await l.acquire();
        await time.sleep(0.1);
        await l.release();
        if (sleepOutside) await time.sleep(0.1);
      }
    }
    const l = mp.Lock();
    const ps = [mp.Process({ target: worker, args: [l] }), mp.Process({ target: worker, args: [l] })];
    for (const p of ps) await p.start();
    for (const p of ps) await p.join();
  }, { name: sleepOutside ? 'lock-sharer' : 'lock-hog' });

describe('starvation under a fair strategy (round-robin)', () => {
  it('reports the waiter an unfair lock keeps out, and fails the run by default', async () => {
    const starved = starvation({ limit: 50 });
    const r = await run(lockHog(false), { strategy: roundRobinStrategy(), monitors: [starved] });
    expect(r.status).toBe('error');
    expect(r.status === 'error' && r.message).toContain('[starvation] Process-2 (pid 1002) starved in Lock#1.acquire()');
    const f = starved.findings[0]!;
    expect(f.kind).toBe('starvation');
    expect(f.status).toBe('confirmed');
    expect(f.message).toMatch(/^Process-2 \(pid 1002\) starved in Lock#1\.acquire\(\): runnable at 50 steps since step \d+ \(up to 1 in a row\), never chosen; Process-1 \(pid 1001\) ran instead$/);
    expect(f.why).toContain('multiprocessing locks promise no fairness');
    expect(f.fix).toMatch(/^do not rely on lock fairness/);
    expect(f.events[0]).toMatchObject({ pid: 1002, op: 'Lock#1.acquire()' });
    expect(resultFindings(r)[0]?.kind).toBe('invariant');
  });

  it('reports nothing when each worker gives the lock a chance (sleeps outside it)', async () => {
    const starved = starvation({ limit: 50 });
    const r = await run(lockHog(true), { strategy: roundRobinStrategy(), monitors: [starved] });
    expect(r.status).toBe('ok');
    expect(starved.findings).toEqual([]);
  });

  it('refuses a limit that is not a positive whole number, saying what to pass', () => {
    for (const limit of [0, -3, 2.5, Number.NaN]) {
      expect(() => starvation({ limit })).toThrow(
        `starvation(): limit must be a positive whole number of steps, got ${String(limit)}.\n  How to fix: pass how many pass-overs in one wait count as starvation, e.g. starvation({ limit: 100 }) (the default).`,
      );
    }
  });

  it('a limit of 1 reports the first pass-over', async () => {
    const starved = starvation({ limit: 1, failOn: 'never' });
    await run(lockHog(true), { strategy: roundRobinStrategy(), monitors: [starved] });
    expect(starved.findings[0]?.message).toMatch(/runnable at 1 step since step \d+ \(up to 1 in a row\)/);
  });

  it('counts the pass-over of the very step that kills the waiter: it was passed over all the same', async () => {
    // Lowest pid first: main (1000) is chosen at every decision, the spinner passed over.
    const lowestFirst = { name: 'lowest-first', choose: (): number => 0 };
    const killsIt = program(function* ({ mp, print }: World) {
      function* spin() {
        for (;;) yield* print('spin');
      }
      const p = mp.Process({ target: spin, daemon: true });
      yield* p.start();
      yield* print('main');
      yield* p.terminate();
    });
    const starved = starvation({ limit: 2, failOn: 'never' });
    const r = await run(killsIt, { strategy: lowestFirst, monitors: [starved] });
    expect(r.status).toBe('ok');
    expect(starved.findings.map((f) => f.message)).toEqual([
      'Process-1 (pid 1001) starved before its first step: runnable at 2 steps since step 2 (up to 2 in a row), never chosen; MainProcess (pid 1000) ran instead',
    ]);
  });

  it('reports nothing on the fair program under random schedules either', async () => {
    for (let seed = 0; seed < 10; seed++) {
      const starved = starvation({ limit: 50 });
      const r = await run(lockHog(true), { seed, monitors: [starved] });
      expect(r.status).toBe('ok');
      expect(starved.findings).toEqual([]);
    }
  });
});
