/**
 * The lock-order, starvation, leak, drain and assertion checkers of one run share
 * one view of it (each event applied once) and learn who could run from the kernel
 * rather than from block and wake events. Law: a checker reports the same beside
 * the others, in any order, as alone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { program, run, runSync, type Lock, type Monitor, type Op, type Program, type Queue, type World } from '@interleave/core';
import { roundRobinStrategy } from '@interleave/sched';
import { assertions, joinBeforeDrain, lockOrder, processLeaks, pyAssert, starvation, type Checker } from '../src/index.js';
import { RunView } from '../src/run-view.js';
import { twoLocks } from './two-locks.js';

type Gen = Generator<Op<unknown>, void, unknown>;

/**
 * Two workers take two locks in opposite orders (the second after a pause, so no
 * run deadlocks); two hogs share a lock unfairly; a producer asserts something
 * false after filling a queue the main process gets from only after joining it;
 * the main process joins neither the second worker nor the hogs, and its end
 * kills a daemon that waits.
 */
const mixed = program(function* ({ mp, time }: World) {
  function* ab(first: Lock, second: Lock, pause: number): Gen {
    yield* time.sleep(pause);
    yield* first.acquire();
    yield* second.acquire();
    yield* second.release();
    yield* first.release();
  }
  function* hog(l: Lock): Gen {
    for (let i = 0; i < 40; i++) {
      yield* l.acquire();
      yield* time.sleep(0.1);
      yield* l.release();
    }
  }
  function* producer(out: Queue<number>): Gen {
    for (let i = 0; i < 3; i++) yield* out.put(i);
    pyAssert(false, 'the producer checks something that does not hold');
  }
  function* waiter(): Gen {
    yield* mp.Event().wait();
  }
  const [a, b, c] = [mp.Lock(), mp.Lock(), mp.Lock()];
  const q = mp.Queue<number>();
  const p1 = mp.Process({ target: ab, args: [a, b, 0] });
  const p2 = mp.Process({ target: ab, args: [b, a, 1] });
  const prod = mp.Process({ target: producer, args: [q] });
  const others = [p2, mp.Process({ target: hog, args: [c] }), mp.Process({ target: hog, args: [c] }), mp.Process({ target: waiter, daemon: true })];
  for (const p of [p1, prod, ...others]) yield* p.start();
  yield* prod.join();
  for (let i = 0; i < 3; i++) yield* q.get();
  yield* p1.join();
});

const makers: readonly (() => Checker)[] = [
  () => lockOrder(),
  () => starvation({ limit: 30, failOn: 'never' }),
  () => processLeaks(),
  () => joinBeforeDrain(),
  () => assertions({ failOn: 'never' }),
];

function findingsOf(prog: Program<unknown>, seed: number, fair: boolean, checkers: readonly Checker[], others: readonly Monitor[] = [], trace = false): string[] {
  runSync(prog, { seed, trace, monitors: [...others, ...checkers], maxSteps: 5_000, ...(fair ? { strategy: roundRobinStrategy() } : {}) });
  return checkers.map((c) => JSON.stringify(c.findings));
}

describe('checkers sharing one view of the run', () => {
  it('report the same beside each other, in any order, as alone', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000 }), fc.boolean(), fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 2 }), (seed, fair, order) => {
        const alone = order.map((i) => findingsOf(mixed, seed, fair, [makers[i]!()])[0]);
        // A monitor that wants every event, ahead of them: the checkers' declarations do not change what they see.
        const everything: Monitor = { name: 'everything', onEvent() {} };
        expect(findingsOf(mixed, seed, fair, order.map((i) => makers[i]!()))).toEqual(alone);
        expect(findingsOf(mixed, seed, fair, order.map((i) => makers[i]!()), [everything])).toEqual(alone);
        // Nor does keeping the trace, which hands every monitor every event (issue events too: they read pending operations from the kernel).
        expect(findingsOf(mixed, seed, fair, order.map((i) => makers[i]!()), [], true)).toEqual(alone);
      }),
      { numRuns: 25 },
    );
  });

  it('the program gives each of them something to report', () => {
    const all = makers.map((m) => m());
    findingsOf(mixed, 7, true, all);
    expect(all.map((c) => c.findings.map((f) => f.kind))).toEqual([['lock-order'], ['starvation'], ['process-leak'], ['join-before-drain'], ['assertion']]);
  });

  it('none of them asks for block, wake or sleep events, the costliest kind, nor for an issue event per step', () => {
    for (const make of makers) {
      const c = make();
      expect(c.blocking).toBe(false);
      expect(c.events?.some((t) => t === 'block' || t === 'wake' || t === 'sleep') ?? true).toBe(false);
      // Issue events only of a few rare operations (a parent's exit wait), never of every step's.
      if (c.events?.includes('issue') === true) expect(c.ops?.every((op) => ['start', 'join', 'terminate', 'exit'].includes(op))).toBe(true);
    }
  });

  it('none takes the done event of every step: starvation is told by the kernel when a wait reaches its limit', () => {
    const checkers = makers.map((make) => make());
    expect(checkers.filter((c) => c.ops === undefined).map((c) => c.name)).toEqual([]);
    expect(checkers.filter((c) => c.passLimit !== undefined).map((c) => c.name)).toEqual(['starvation']);
  });
});

describe('the view of a run', () => {
  it('follows the next run when the last one gave it no event (a main process that raised at once)', async () => {
    const order = lockOrder();
    const raises = program(function* () {
      throw new Error('at once');
    });
    expect(runSync(raises, { monitors: [order] }).status).toBe('error');
    // The same instance, the next run: pending operations come from this run's kernel.
    await run(twoLocks, { strategy: roundRobinStrategy(), monitors: [order] });
    expect(order.findings.map((f) => f.kind)).toEqual(['lock-order']);
  });

  it('names a background thread it was not told about like a process it was not: Thread-<pid>', () => {
    const view = new RunView();
    expect(view.label(100_000)).toBe('Thread-100000 (pid 100000)');
    expect(view.at(100_000, 'feed').name).toBe('Thread-100000');
    expect(view.label(1005)).toBe('pid 1005');
  });
});
