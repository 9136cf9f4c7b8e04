import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulationError, type SimulationErrorCode } from '@interleave/core';
import { check, checkParallel, explore, exploreParallel, job, replay } from '../src/index.js';
import { fromWorker } from '../src/parallel.js';
import { counter, exhaustiveHunt, hunt, longHunt, survey } from './parallel.jobs.js';

// Each worker loads tsx and compiles the sources: a few seconds per exploration.
const jobs = new URL('./parallel.jobs.ts', import.meta.url);

async function rejectionOf(p: Promise<unknown>, code: SimulationErrorCode): Promise<string> {
  const e: unknown = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(SimulationError);
  expect((e as SimulationError).code).toBe(code);
  return (e as SimulationError).message;
}

describe('exploreParallel and checkParallel', () => {
  it('exhaustive on 2 workers gives the report of one thread: executions, outcomes, completeness', async () => {
    const one = await explore(survey.program, survey.options());
    const two = await exploreParallel(jobs, 'survey', { workers: 2 });
    expect(one.complete).toBe(true);
    expect(two.complete).toBe(true);
    expect(two.executions).toBe(one.executions);
    expect(two.stats.steps).toBe(one.stats.steps);
    expect(two.outcomes.map((o) => [o.key, o.count])).toEqual(one.outcomes.map((o) => [o.key, o.count]));
    expect(two.summary).toBe(one.summary);
    // Every token replays a run that reaches its outcome.
    for (const o of two.outcomes) {
      const r = await replay(survey.program, o.token);
      expect(r.status === 'ok' && `ok ${r.value}`).toBe(o.key);
    }
  });

  it('random on 2 workers: the same executions, outcomes, tokens and failure as one thread', async () => {
    const one = await explore(hunt.program, hunt.options());
    const two = await exploreParallel(jobs, 'hunt', { workers: 2 });
    expect(two.executions).toBe(60); // the job's budget is the whole exploration's
    expect(two.outcomes).toEqual(one.outcomes);
    expect(two.failure?.token).toBe(one.failure?.token);

  });

  it('checkParallel stops every worker at the first failure and reports exactly what check reports', async () => {
    // A billion executions: this ends only because the workers stop at the failure.
    const c1 = await check(longHunt.program, longHunt.options());
    const c2 = await checkParallel(jobs, 'longHunt', { workers: 2 });
    expect(c1.failure?.execution).toBe(23);
    expect(c2.passed).toBe(false);
    expect(c2.executions).toBe(24);
    expect(c2.executions).toBe(c1.executions);
    expect(c2.outcomes).toEqual(c1.outcomes);
    expect(c2.stats.steps).toBe(c1.stats.steps);
    expect(c2.stats.stoppedBy).toBe('failure');
    expect(c2.failure?.execution).toBe(c1.failure?.execution);
    expect(c2.failure?.token).toBe(c1.failure?.token);
    expect(c2.summary).toBe(c1.summary);
    // The failing run is rebuilt in this thread, with its trace.
    const failed = c2.failure!.result;
    expect(failed.status === 'ok' && failed.value).toBe(3);
    expect(c2.failure?.traceTable).toBe(c1.failure?.traceTable);
  });

  it('checkParallel with exhaustive: the shards up to the first failing one, in shard order', async () => {
    const shards = [];
    for (let index = 0; index < 3; index++) shards.push(await check(exhaustiveHunt.program, { ...exhaustiveHunt.options(), shard: { index, count: 3 } }));
    const first = shards.findIndex((r) => !r.passed);
    expect(first).toBeGreaterThanOrEqual(0);
    const upTo = shards.slice(0, first + 1);
    const par = await checkParallel(jobs, 'exhaustiveHunt', { workers: 3 });
    expect(par.passed).toBe(false);
    expect(par.complete).toBe(false);
    expect(par.executions).toBe(upTo.reduce((n, r) => n + r.executions, 0));
    expect(par.failure?.token).toBe(shards[first]!.failure!.token);
  });
});

describe('exploreParallel errors', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('rejects a bad worker count', async () => {
    for (const workers of [0, -1, 1.5, Number.NaN, '2']) {
      const m = await rejectionOf(exploreParallel(jobs, 'survey', { workers: workers as number }), 'INVALID_OPTION');
      expect(m).toContain('exploreParallel(module, "survey", options): workers must be a positive integer, got');
    }
  });

  it('rejects options that are not an object, a tsx flag that is not a boolean, and a bad export name', async () => {
    const api = 'exploreParallel(module, "survey", options)';
    expect(await rejectionOf(exploreParallel(jobs, 'survey', null as unknown as { workers: number }), 'INVALID_OPTION')).toBe(
      `${api}: options must be an object, got null.\n  How to fix: pass e.g. { workers: 2 }.`,
    );
    expect(await rejectionOf(exploreParallel(jobs, 'survey', { workers: 1, tsx: 'yes' as unknown as boolean }), 'INVALID_OPTION')).toBe(
      `${api}: tsx must be a boolean, got string "yes".\n  How to fix: omit it, or pass false when the job and this package are compiled JavaScript.`,
    );
    const badName = await rejectionOf(exploreParallel(jobs, 42 as unknown as string, { workers: 1 }), 'INVALID_ARGUMENT');
    expect(badName).toBe("exploreParallel(module, 42, options): exportName must be the name of the module's job export, got number 42.\n  How to fix: pass e.g. 'survey' for export const survey = job(...).");
  });

  it('rejects a module that is not a URL or an absolute path', async () => {
    const m = await rejectionOf(exploreParallel('./parallel.jobs.ts', 'survey', { workers: 1 }), 'INVALID_ARGUMENT');
    expect(m).toBe(
      'exploreParallel(module, "survey", options): module must be a URL or an absolute path, got string "./parallel.jobs.ts".\n' +
        "  How to fix: pass new URL('./my.job.ts', import.meta.url).",
    );
  });

  it('says when the module cannot be imported', async () => {
    const m = await rejectionOf(exploreParallel(new URL('./no-such.jobs.ts', import.meta.url), 'survey', { workers: 1 }), 'INVALID_ARGUMENT');
    expect(m).toMatch(/^exploreParallel\(module, "survey", options\): could not import file:\/\/\S+\/no-such\.jobs\.ts: /);
    expect(m).toContain('How to fix: check the path, and that the module loads on its own.');
  });

  it('names a missing export and lists the module exports', async () => {
    const m = await rejectionOf(exploreParallel(jobs, 'surveys', { workers: 1 }), 'INVALID_ARGUMENT');
    expect(m).toMatch(/^exploreParallel\(module, "surveys", options\): file:\/\/\S+\/parallel\.jobs\.ts has no export named "surveys" \(it exports: .*\bsurvey\b.*\)\./);
    expect(m).toContain('How to fix: export the job: export const surveys = job(program, () => options).');
  });

  it('rejects an export that is not a job', async () => {
    const m = await rejectionOf(checkParallel(jobs, 'notAJob', { workers: 1 }), 'INVALID_ARGUMENT');
    expect(m).toMatch(/^checkParallel\(module, "notAJob", options\): export "notAJob" of \S+ is not a job, got an object with keys \["program","options"\]\./);
    expect(m).toContain('How to fix: define it with job(program, () => options)');
  });

  it('job() checks its arguments', () => {
    expect(() => job({} as never)).toThrow(/^job\(program, options\): program must be a Program, got an object with keys \[\]\.\n {2}How to fix: build it with program\(body\)/);
    expect(() => job(counter(2), { strategy: undefined } as never)).toThrow(/options must be a function returning the explore options, got an object/);
  });

  it('a worker whose job throws fails the exploration, and every worker is terminated', async () => {
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    // Shard 1 throws at once; shard 0 has a billion executions to run and must be stopped.
    const m = await rejectionOf(exploreParallel(jobs, 'oneShardBreaks', { workers: 2 }), 'WORKER_FAILED');
    expect(m).toBe(
      'exploreParallel(module, "oneShardBreaks", options): the worker exploring shard 1 of 2 failed: Error: shard 1 broke\n' +
        "  How to fix: the job's module, its options() or its program threw outside a simulated process; explore it in one thread to see the stack.",
    );
    expect(terminate).toHaveBeenCalledTimes(2);
  });

  it("rejects a job whose options() returns something other than an options object", async () => {
    const m = await rejectionOf(exploreParallel(jobs, 'optionsNotAnObject', { workers: 1 }), 'INVALID_ARGUMENT');
    expect(m).toBe(
      'exploreParallel(module, "optionsNotAnObject", options): the job\'s options() must return an options object, got number 42.\n' +
        '  How to fix: return e.g. { strategy: random(), property }.\n' +
        '  (in the worker exploring shard 0 of 1)',
    );
  });

  it('a worker that exits before reporting fails the exploration', async () => {
    const m = await rejectionOf(exploreParallel(jobs, 'exits', { workers: 1 }), 'WORKER_FAILED');
    expect(m).toBe(
      'exploreParallel(module, "exits", options): the worker exploring shard 0 of 1 exited (code 3) before reporting.\n' +
        '  How to fix: the job must not call process.exit; explore it in one thread to see why it stops.',
    );
  });

  it('misuse found in a worker keeps its code, as in one thread', async () => {
    const m = await rejectionOf(exploreParallel(jobs, 'misusesSimulator', { workers: 1 }), 'NOT_AN_OPERATION');
    expect(m).toContain('yielded 5, which is not the Interleave operation it issued');
    expect(m).toContain('(in the worker exploring shard 0 of 1)');
  });

  it('rejects a job whose options set their own shard', async () => {
    const m = await rejectionOf(exploreParallel(jobs, 'setsShard', { workers: 1 }), 'INVALID_OPTION');
    expect(m).toContain('the job\'s options set shard {"index":0,"count":2}, but each worker explores a shard of its own.');
  });

  it('a worker that cannot load tsx says so, and how to fix it', () => {
    // The boot script tags a failed import of tsx's API; provoking it for real needs a tree without tsx.
    const e = Object.assign(new Error("Cannot find package 'tsx' imported from /app/[worker eval]"), { code: 'TSX_NOT_FOUND' });
    const m = fromWorker(e, 'the worker exploring shard 0 of 2', 'exploreParallel(module, "survey", options)');
    expect(m.code).toBe('WORKER_FAILED');
    expect(m.message).toBe(
      'exploreParallel(module, "survey", options): the worker exploring shard 0 of 2 could not load tsx to run TypeScript: ' +
        "Cannot find package 'tsx' imported from /app/[worker eval]\n" +
        '  How to fix: install tsx (npm i -D tsx) and run from the project directory, or compile to JavaScript and pass `tsx: false`.',
    );
  });

  it('without tsx a worker cannot load TypeScript, and says how to fix it', async () => {
    const m = await rejectionOf(exploreParallel(jobs, 'survey', { workers: 1, tsx: false }), 'WORKER_FAILED');
    expect(m).toMatch(/could not load a module: Unknown file extension "\.ts" for \S+\. Worker threads get no TypeScript loader from the main thread\./);
    expect(m).toContain('How to fix: omit `tsx: false`');
  });
});
