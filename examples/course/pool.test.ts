/**
 * The course's process-pool programs (进程池), each checked for its documented
 * behaviour over many seeds: apply is sequential, a pool of N serves every task from
 * N pids, applyAsync results come back in submission order, callbacks run in the main
 * process, and with a process-creation cost a pool beats a process per task.
 */
import { describe, expect, it } from 'vitest';
import { run, type RunResult } from '@interleave/core';
import {
  applyInLoop,
  asyncApply,
  callback,
  collectAll,
  efficiency,
  mapSquares,
  mapStars,
  noReturn,
  noReturnProcesses,
  syncApply,
  withReturn,
} from './pool.js';

const SEEDS = 200;
const MAIN = 1000;
const FIRST_THREAD = 100000;

const lines = (r: RunResult): string[] => (r.stdout === '' ? [] : r.stdout.slice(0, -1).split('\n'));
/** Pids of the pool's workers: the real processes other than the main one. */
const workers = (r: RunResult): number[] => r.processes.filter((p) => p.pid !== MAIN && p.pid < FIRST_THREAD).map((p) => p.pid);

function expectOk(r: RunResult): void {
  expect(r.status, `seed ${r.seed}: ${r.status === 'ok' ? '' : r.message}`).toBe('ok');
}

describe('course/pool: 进程池', () => {
  it(`apply in a loop is sequential: func0 … func4 in order, half a second apart, from the pool's 5 workers (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(applyInLoop, { seed });
      expectOk(r);
      const out = lines(r);
      expect(out.map((l) => l.split(' ')[0])).toEqual(['func0', 'func1', 'func2', 'func3', 'func4']);
      for (const l of out) expect([1001, 1002, 1003, 1004, 1005]).toContain(Number(l.split(' ')[1]));
      expect(r.output.map((o) => o.time)).toEqual([0.5, 1, 1.5, 2, 2.5]);
      expect(workers(r)).toEqual([1001, 1002, 1003, 1004, 1005]);
    }
  });

  it(`the synchronous apply returns n**2: "<pid> run" then 0, 1, 4 … 81, every pid one of the pool's 3 (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(syncApply, { seed });
      expectOk(r);
      const out = lines(r);
      expect(out.filter((_, i) => i % 2 === 1)).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81].map(String));
      for (const l of out.filter((_, i) => i % 2 === 0)) expect(l).toMatch(/^100[123] run$/);
      expect(workers(r)).toEqual([1001, 1002, 1003]);
      expect(r.time).toBe(10);
    }
  });

  it(`applyAsync + close + join, then get: a pool of 3 reuses 3 pids for 10 tasks; squares in submission order (${SEEDS} seeds)`, async () => {
    const runOrders = new Set<string>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(asyncApply, { seed });
      expectOk(r);
      const out = lines(r);
      const runs = out.slice(0, 10);
      for (const l of runs) expect(l).toMatch(/^100[123] run$/);
      // Ten tasks at most three at a time: all three workers take part.
      expect(new Set(runs)).toEqual(new Set(['1001 run', '1002 run', '1003 run']));
      runOrders.add(runs.join(','));
      expect(out.slice(10)).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81].map(String));
      expect(workers(r)).toEqual([1001, 1002, 1003]);
      expect(r.processes.filter((p) => p.pid < FIRST_THREAD).every((p) => p.exitcode === 0)).toBe(true);
    }
    expect(runOrders.size).toBeGreaterThan(10);
  });

  it(`no return value: five lines of 0-4 stars after 1 s; like the process version, any order can show (${SEEDS} seeds)`, async () => {
    const poolOrders = new Set<string>();
    const processOrders = new Set<string>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(noReturn, { seed });
      expectOk(r);
      expect([...lines(r)].sort()).toEqual(['', '*', '**', '***', '****']);
      expect(r.output.every((o) => o.time === 1)).toBe(true);
      poolOrders.add(lines(r).join('|'));
      const q = await run(noReturnProcesses, { seed });
      expectOk(q);
      expect([...lines(q)].sort()).toEqual(['', '*', '**', '***', '****']);
      processOrders.add(lines(q).join('|'));
    }
    expect(poolOrders).toContain('|*|**|***|****');
    expect(poolOrders.size).toBeGreaterThan(1);
    expect(processOrders.size).toBeGreaterThan(1);
  });

  it(`with return values: get() in turn prints *, **, ***, **** in order, for every seed (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(withReturn, { seed });
      expectOk(r);
      expect(lines(r)).toEqual(['*', '**', '***', '****']);
      // No close/join: the workers are terminated when the main code ends, as in Python.
      expect(r.processes.filter((p) => workers(r).includes(p.pid)).every((p) => p.exitcode === -15)).toBe(true);
    }
  });

  it(`map: the four star lines print (in any order) before map returns; map returns the squares in order (${SEEDS} seeds)`, async () => {
    const orders = new Set<string>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(mapStars, { seed });
      expectOk(r);
      expect([...lines(r)].sort()).toEqual(['*', '**', '***', '****']);
      orders.add(lines(r).join('|'));
      const s = await run(mapSquares, { seed });
      expectOk(s);
      expect(lines(s)).toEqual(['[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]']);
      // 10 tasks (chunksize 1) on 5 workers, 0.5 s each: two rounds.
      expect(s.time).toBe(1);
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('the efficiency comparison: with spawnCost 0.03 the pool takes 5 creations (0.15 s) and 100 processes 100 (3 s)', async () => {
    for (let seed = 0; seed < 20; seed++) {
      const r = await run(efficiency, { seed, spawnCost: 0.03 });
      expectOk(r);
      if (r.status !== 'ok') continue;
      const [pool = NaN, procs = NaN] = r.value;
      expect(pool).toBeCloseTo(0.15, 9);
      expect(procs).toBeCloseTo(3, 9);
      expect(pool * 10).toBeLessThan(procs);
      expect(lines(r)).toHaveLength(1);
    }
    // Without a creation cost, processes are free in virtual time: both take 0 s.
    const free = await run(efficiency, { seed: 0 });
    expectOk(free);
    expect(lines(free)).toEqual(['0 0']);
  });

  it(`callbacks: "in func2" prints the main process's pid (1000), after func1 ran in a worker, then 100 (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(callback, { seed });
      expectOk(r);
      const out = lines(r);
      expect(out[0]).toBe('主进程: 1000');
      expect(out[1]).toMatch(/^in func1 100[1-5]$/);
      expect(out.slice(2)).toEqual(['in func2 1000', '100']);
    }
  });

  it(`Pool() has cpuCount workers: ten pids from 4 processes, then all the squares (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(collectAll, { seed });
      expectOk(r);
      const out = lines(r);
      expect(out).toHaveLength(11);
      expect(new Set(out.slice(0, 10))).toEqual(new Set(['1001', '1002', '1003', '1004']));
      expect(out[10]).toBe('[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]');
    }
    const two = await run(collectAll, { cpuCount: 2 });
    expectOk(two);
    expect(new Set(lines(two).slice(0, 10))).toEqual(new Set(['1001', '1002']));
  });
});
