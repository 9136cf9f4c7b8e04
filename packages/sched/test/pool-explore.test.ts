/**
 * Exhaustive exploration of small mp.Pool programs. The pool's footprints (see
 * primitives/pool.ts) must make the partial-order reduction sound: the reduced
 * search reaches exactly the outcomes of the unreduced one. Pools also kill and
 * stop processes (terminate, the owner's exit), so these programs pin the
 * explorer's handling of steps that never run.
 */
import { describe, expect, it } from 'vitest';
import { program, type Op, type Program, type RunResult, type World } from '@interleave/core';
import { check, decodeToken, exhaustive, explore, replay } from '../src/index.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;
const untimed = { timing: 'untimed' } as const;
/** Everything that can differ between runs: the status and the whole output. */
const outcome = (r: RunResult): string => `${r.status} ${r.stdout}`;

/** Reduced and unreduced exhaustive search of `prog`: both complete, with the same outcomes. */
async function expectSound(prog: Program): Promise<{ reduced: number; full: number; outcomes: string[] }> {
  const reduced = await explore(prog, { strategy: exhaustive(), run: untimed, outcome });
  const full = await explore(prog, { strategy: exhaustive({ reduction: false }), run: untimed, outcome });
  expect(reduced.complete).toBe(true);
  expect(full.complete).toBe(true);
  const keys = (r: typeof reduced): string[] => r.outcomes.map((o) => o.key).sort();
  expect(keys(reduced)).toEqual(keys(full));
  expect(reduced.executions).toBeLessThan(full.executions);
  return { reduced: reduced.executions, full: full.executions, outcomes: keys(reduced) };
}

/** The course's callback program, shrunk: one worker, the callback racing two main prints. */
const callbackRace = program(
  function* ({ mp, os, print }: World): Gen {
    function* func1(n: number): Gen<number> {
      return n * n;
    }
    function* func2(nn: number): Gen {
      yield* print('in func2', os.getpid(), nn);
    }
    const p = mp.Pool(1);
    yield* p.applyAsync(func1, [10], { callback: func2 });
    yield* print('main');
    yield* p.close();
    yield* p.join();
  },
  { name: 'pool/callback-race' },
);

/** terminate with the task in flight: did the result arrive before, between, or never? */
const terminateInFlight = program(
  function* ({ mp, print }: World): Gen {
    const p = mp.Pool(1);
    const a = yield* p.applyAsync(function* (): Gen<number> {
      yield* print('task');
      return 1;
    });
    const before = yield* a.ready();
    yield* p.terminate();
    yield* p.join();
    yield* print('ready', before, yield* a.ready());
  },
  { name: 'pool/terminate-in-flight' },
);

/** Forgetting close/join: the main code ends, and the daemonic worker with it. */
const forgotJoin = program(
  function* ({ mp, print }: World): Gen {
    const p = mp.Pool(1);
    yield* p.applyAsync(function* (): Gen {
      yield* print('task');
    });
    yield* print('main done');
  },
  { name: 'pool/forgot-join' },
);

/** maxtasksperchild=1: the second task runs on a replacement worker. */
const replaced = program(
  function* ({ mp, os, print }: World): Gen {
    const p = mp.Pool(1, null, [], 1);
    const a = yield* p.applyAsync(() => os.getpid());
    yield* p.close();
    yield* p.join();
    yield* print(yield* a.get(), mp.activeChildren().length);
  },
  { name: 'pool/maxtasksperchild' },
);

describe('exhaustive exploration of Pool programs', () => {
  it('completes on a tiny pool program: apply, applyAsync with a callback, close, join', async () => {
    const tiny = program(
      function* ({ mp, print }: World): Gen<number> {
        const p = mp.Pool(2);
        const a = yield* p.apply((x: number) => x + 1, [1]);
        const r = yield* p.applyAsync((x: number) => x * 10, [a], { callback: function* (v: number) { yield* print('callback', v); } });
        yield* p.close();
        yield* p.join();
        return yield* r.get();
      },
      { name: 'pool/tiny' },
    );
    const report = await explore(tiny, { strategy: exhaustive(), run: untimed, property: (r) => r.status === 'ok' && r.value === 20 && r.stdout === 'callback 20\n' });
    expect(report.complete).toBe(true);
    expect(report.passed).toBe(true);
    expect(report.summary).toContain('distinct executions explored (complete up to partial-order equivalence)');
  });

  it('callback racing the main code: reduced search reaches the outcomes of the full one (the callback before or after "main")', async () => {
    const r = await expectSound(callbackRace);
    expect(r.outcomes).toEqual(['ok in func2 1000 100\nmain\n', 'ok main\nin func2 1000 100\n']);
  });

  it('terminate with the task in flight: every "ready before/after" combination is reached', async () => {
    const r = await expectSound(terminateInFlight);
    expect(r.outcomes).toEqual(['ok ready False False\n', 'ok task\nready False False\n', 'ok task\nready False True\n', 'ok task\nready True True\n']);
  });

  it('forgetting close/join: the run where the task never runs is found (the worker is killed before its first step)', async () => {
    const r = await expectSound(forgotJoin);
    expect(r.outcomes).toEqual(['ok main done\n', 'ok task\nmain done\n']);
  });

  it('maxtasksperchild: the replacement worker and its pid, in every order', async () => {
    const r = await expectSound(replaced);
    expect(r.outcomes).toEqual(['ok 1001 0\n']);
  });

  it('a process terminated before its first step: both outcomes (the explorer analyses steps that never ran)', async () => {
    const killChild = program(
      function* ({ mp, print }: World): Gen {
        const c = mp.Process({ target: function* (): Gen { yield* print('child'); } });
        yield* c.start();
        yield* c.terminate();
        yield* c.join();
        yield* print('exit', c.exitcode);
      },
      { name: 'terminate-before-first-step' },
    );
    const report = await explore(killChild, { strategy: exhaustive(), run: untimed, outcome });
    expect(report.complete).toBe(true);
    expect(report.outcomes.map((o) => o.key).sort()).toEqual(['ok child\nexit 0\n', 'ok exit -15\n']);
  });

  it('a replay token carries the spawnCost option, so the replay takes the same virtual time', async () => {
    const timedPool = program(
      function* ({ mp, time, print }: World): Gen {
        const p = mp.Pool(2);
        yield* p.map(function* (x: number): Gen { yield* print('task', x); }, [1, 2], 1);
        yield* print('after', time.time());
      },
      { name: 'pool/timed' },
    );
    const report = await explore(timedPool, { budget: { executions: 5 }, run: { spawnCost: 0.25 } });
    const token = report.outcomes[0]!.token;
    expect(decodeToken(token, timedPool).spawnCost).toBe(0.25);
    const again = await replay(timedPool, token);
    expect(again.status).toBe('ok');
    expect(again.stdout.endsWith('after 0.5\n')).toBe(true);
    // Tokens of runs without a creation cost are unchanged by the option's existence.
    const plain = await explore(timedPool, { budget: { executions: 1 } });
    expect(decodeToken(plain.outcomes[0]!.token, timedPool).spawnCost).toBe(0);
  });

  it('check() proves the forgotten join loses the task, with a replayable token', async () => {
    const report = await check(forgotJoin, { strategy: exhaustive(), run: untimed, property: (r) => r.stdout.includes('task') || 'the task never ran' });
    expect(report.passed).toBe(false);
    expect(report.failure!.message).toBe('the task never ran');
    const again = await replay(forgotJoin, report.failure!.token);
    expect(again.stdout).toBe('main done\n');
  });
});
