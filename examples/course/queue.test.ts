/**
 * The course's Queue programs (队列), producer/consumer (生产者消费者模型) and
 * JoinableQueue, each checked for its documented behaviour over many seeds. The
 * colour codes stay in the printed text; `plain()` strips them.
 */
import { describe, expect, it } from 'vitest';
import { run, type Monitor, type RunResult, type TraceEvent } from '@interleave/core';
import {
  ATE,
  CONSUMED,
  GOT,
  MADE,
  PRODUCED,
  asctime,
  basics,
  batch,
  childGets,
  joinable,
  mainSendsSentinels,
  plain,
  producerConsumer,
  twoWay,
} from './queue.js';

const SEEDS = 300;
const MAIN = 1000;
/** Queue feeder threads have ids from here up; `result.processes` lists them too. */
const FIRST_THREAD = 100000;

type SendEvent = Extract<TraceEvent, { type: 'send' }>;
type RecvEvent = Extract<TraceEvent, { type: 'recv' }>;

/** The stdout of a run as lines without colour codes. */
const plainLines = (r: RunResult): string[] => (r.stdout === '' ? [] : plain(r.stdout).slice(0, -1).split('\n'));

/** Exit codes of the real processes (not feeder threads), by pid. */
const exitcodes = (r: RunResult): Record<number, number | null> =>
  Object.fromEntries(r.processes.filter((p) => p.pid < FIRST_THREAD).map((p) => [p.pid, p.exitcode]));

/** Fails the run when more than `max` items of `objId` are put and not yet got; remembers the peak. */
function atMostInQueue(objId: string, max: number): Monitor & { peak: number } {
  let now = 0;
  const m = {
    name: `at-most-${max}-items-in-${objId}`,
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

/** Every send has exactly one recv with the same msg id; returns the sends. */
function expectEachGotOnce(r: RunResult, objId: string): SendEvent[] {
  const t = r.trace ?? [];
  const sends = t.filter((e): e is SendEvent => e.type === 'send' && e.obj === objId);
  const recvs = t.filter((e): e is RecvEvent => e.type === 'recv' && e.obj === objId);
  expect(recvs.map((x) => x.msg).sort((a, b) => a - b)).toEqual(sends.map((s) => s.msg).sort((a, b) => a - b));
  return sends;
}

describe('course/queue: 队列', () => {
  it('put 1, 2, "aaa", then get: prints 1 (FIFO), for every seed', async () => {
    for (let seed = 0; seed < 20; seed++) {
      const r = await run(basics, { seed });
      expect(r.status).toBe('ok');
      expect(r.stdout).toBe('1\n');
    }
  });

  it(`the child gets 1 and prints it with its pid and its parent's: "1 1001 1000"; main prints 1000 (${SEEDS} seeds)`, async () => {
    const orders = new Set<string>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(childGets, { seed });
      expect(r.status).toBe('ok');
      const out = plainLines(r);
      expect([...out].sort()).toEqual(['1 1001 1000', '1000']);
      orders.add(out.join(' / '));
    }
    // The course's order (main's line first) is the usual one; the other happens too.
    expect(orders).toEqual(new Set(['1000 / 1 1001 1000', '1 1001 1000 / 1000']));
  });

  it(`双向通信: the child gets 1 and puts 'aaa'; after 0.5 s main gets 'aaa': prints 1, aaa (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(twoWay, { seed });
      expect(r.status).toBe('ok');
      expect(r.stdout).toBe('1\naaa\n');
      expect(r.time).toBe(0.5);
    }
  });

  it('双向通信 relies on the 0.5 s sleep: in untimed mode some seed has main take its own 1 back, and the child hangs', async () => {
    let found: RunResult | null = null;
    for (let seed = 0; seed < SEEDS && found === null; seed++) {
      const r = await run(twoWay, { seed, timing: 'untimed' });
      if (r.status === 'deadlock') found = r;
      else expect(r.stdout).toBe('1\naaa\n');
    }
    expect(found).not.toBeNull();
    expect(found!.stdout).toBe('1\n'); // printed by main, which got its own item
    expect(found!.output.map((l) => l.pid)).toEqual([MAIN]);
    expect(found!.status === 'deadlock' && found!.message).toContain('Process-1 (pid 1001) is blocked in Queue#1.get()');
  });
});

describe('course/queue: 批量生产数据放入队列再批量获取结果 (Queue(3), 10 putters, 10 getters)', () => {
  it(`every item put is got exactly once, by a getter; never more than 3 in the queue, at every step of ${SEEDS} seeds`, async () => {
    let peak = 0;
    for (let seed = 0; seed < SEEDS; seed++) {
      const m = atMostInQueue('Queue#1', 3);
      const r = await run(batch, { seed, monitors: [m], trace: true });
      expect(r.status, `seed ${seed}: ${r.status === 'ok' ? '' : r.message}`).toBe('ok');
      peak = Math.max(peak, m.peak);

      const out = plainLines(r);
      const puts = out.filter((l) => /^\d+\(put\):/.test(l));
      const gets = out.filter((l) => /^\d+\(get\):/.test(l));
      expect(puts).toHaveLength(10);
      expect(gets).toHaveLength(10);
      // Putters are 1001..1010, each puts its own line once.
      expect(puts.map((l) => Number(l.slice(0, 4))).sort()).toEqual(Array.from({ length: 10 }, (_, i) => 1001 + i));
      for (const l of puts) expect(l).toBe(`${l.slice(0, 4)}(put):Thu Jan  1 00:00:00 1970`);
      // Getters are 1011..1020; together they got each put line exactly once.
      expect(gets.map((l) => Number(l.slice(0, 4))).sort()).toEqual(Array.from({ length: 10 }, (_, i) => 1011 + i));
      expect(gets.map((l) => l.slice('1011(get):'.length)).sort()).toEqual([...puts].sort());
      // The same, from the message events: each of the 10 sends has exactly one recv.
      expect(expectEachGotOnce(r, 'Queue#1')).toHaveLength(10);
      expect(Object.values(exitcodes(r)).every((c) => c === 0)).toBe(true);
    }
    expect(peak).toBe(3); // the queue does fill up
  });

  it('keeps the course\'s colour: the getter line is green (\\033[32m ... \\033[0m)', async () => {
    const r = await run(batch, { seed: 1 });
    const line = r.output.find((l) => l.text.includes('(get):'))!;
    expect(line.text).toBe(GOT(line.pid, plain(line.text).slice('1011(get):'.length)));
    expect(line.text.startsWith('\x1b[32m')).toBe(true);
  });

  it('asctime() formats like Python\'s time.asctime()', () => {
    expect(asctime(new Date(0))).toBe('Thu Jan  1 00:00:00 1970');
    expect(asctime(new Date(Date.UTC(2019, 0, 25, 13, 26, 42)))).toBe('Fri Jan 25 13:26:42 2019');
  });
});

describe('course/queue: 生产者消费者模型', () => {
  it(`one producer, one consumer, None at the end: all 10 consumed in order, the consumer ends (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(producerConsumer, { seed });
      expect(r.status, `seed ${seed}`).toBe('ok');
      const consumed = r.output.filter((l) => l.text.includes('消费了'));
      const produced = r.output.filter((l) => l.text.includes('生产了'));
      const baoZi = Array.from({ length: 10 }, (_, i) => `包子${i + 1}`);
      expect(consumed.map((l) => l.text)).toEqual(baoZi.map((b) => CONSUMED(1002, b)));
      expect(produced.map((l) => l.text)).toEqual(baoZi.map((b) => PRODUCED(1001, b)));
      // Nothing is consumed before it is produced (printed after its put).
      for (let i = 0; i < 10; i++) expect(consumed[i]!.time).toBeGreaterThanOrEqual(produced[i]!.time);
      expect(exitcodes(r)).toEqual({ 1000: 0, 1001: 0, 1002: 0 });
    }
  });

  it(`the main process sends two None after joining both producers: all 20 consumed exactly once, both consumers end (${SEEDS} seeds)`, async () => {
    const perConsumer = new Set<string>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(mainSendsSentinels, { seed, trace: true });
      expect(r.status, `seed ${seed}`).toBe('ok');
      const sends = expectEachGotOnce(r, 'Queue#1');
      expect(sends).toHaveLength(22); // 20 包子 and 2 None
      const nones = sends.filter((s) => s.value === null);
      expect(nones.map((s) => s.pid)).toEqual([MAIN, MAIN]);
      // The Nones go in after every 包子: no consumer stops early.
      for (const s of sends) if (s.value !== null) expect(s.step).toBeLessThan(nones[0]!.step);
      // Each consumer got exactly one None.
      const recvs = r.trace!.filter((e): e is RecvEvent => e.type === 'recv' && e.value === null);
      expect(recvs.map((e) => e.pid).sort()).toEqual([1003, 1004]);

      const consumed = plainLines(r).filter((l) => l.includes('消费了'));
      expect(consumed).toHaveLength(20);
      for (let i = 1; i <= 10; i++) expect(consumed.filter((l) => l.endsWith(`消费了包子${i}`))).toHaveLength(2);
      for (const l of consumed) expect(l).toMatch(/^100[34]消费了包子\d+$/);
      expect(plainLines(r).filter((l) => l.includes('生产了'))).toHaveLength(20);
      expect(exitcodes(r)).toEqual({ 1000: 0, 1001: 0, 1002: 0, 1003: 0, 1004: 0 });
      perConsumer.add(String(consumed.filter((l) => l.startsWith('1003')).length));
    }
    expect(perConsumer.size).toBeGreaterThan(1); // the split between the consumers varies
  });
});

describe('course/queue: JoinableQueue', () => {
  it(`every item is consumed before main's joins of the producers are over; daemon consumers end with -15; the run ends ok (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(joinable, { seed, trace: true });
      expect(r.status, `seed ${seed}: ${r.status === 'ok' ? '' : r.message}`).toBe('ok');
      const t = r.trace!;
      const taskDones = t.filter((e) => e.type === 'done' && e.op === 'taskDone' && e.outcome === 'ok');
      expect(taskDones).toHaveLength(20);
      const lastTaskDone = Math.max(...taskDones.map((e) => e.step));
      // The last producer's q.join() returns after the last task_done(), and so does
      // main's p2.join(): once main has joined both producers, every item was consumed.
      // (The first producer's q.join() may return earlier: see the next test.)
      const queueJoins = t.filter((e) => e.type === 'done' && e.op === 'join' && e.obj === 'JoinableQueue#1');
      expect(queueJoins.map((e) => e.pid).sort()).toEqual([1001, 1002]);
      expect(queueJoins.at(-1)!.step).toBeGreaterThan(lastTaskDone);
      const processJoins = t.filter((e) => e.type === 'done' && e.op === 'join' && e.pid === MAIN);
      expect(processJoins.map((e) => e.type === 'done' && e.obj)).toEqual(['Process-1', 'Process-2']);
      expect(processJoins[1]!.step).toBeGreaterThan(lastTaskDone);
      // Every 消费 line is printed before main's joins are over, each item exactly once.
      const ate = r.output.filter((l) => plain(l.text).includes('消费'));
      expect(ate).toHaveLength(20);
      for (const l of ate) expect(l.step).toBeLessThan(processJoins[1]!.step);
      const items = ate.map((l) => plain(l.text).replace(/^(aoa|kuraki)消费/, '')).sort();
      const expected = ['alex', 'egon'].flatMap((n) => Array.from({ length: 10 }, (_, i) => `${n}${n === 'alex' ? 'jiaozi' : 'bread'}${i + 1}`)).sort();
      expect(items).toEqual(expected);
      for (const l of ate) {
        const [, who, what] = /^(aoa|kuraki)消费(.*)$/.exec(plain(l.text))!;
        expect(l.text).toBe(ATE(who!, what!)); // bold green, as the course prints it
        expect(l.pid).toBe(who === 'aoa' ? 1003 : 1004);
      }
      expect(r.output.filter((l) => plain(l.text).includes('生产')).map((l) => l.text).sort()).toEqual(
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].flatMap((i) => [MADE('alex', 'jiaozi', i), MADE('egon', 'bread', i)]).sort(),
      );
      // 结束顺序: consumers terminated at main's end (SIGTERM, -15), everyone else exits normally.
      expect(exitcodes(r)).toEqual({ 1000: 0, 1001: 0, 1002: 0, 1003: -15, 1004: -15 });
      // ...in that order: producers exit after their join, consumers are terminated
      // once main's code has ended (after p2.join()), and the main process ends last.
      // (Positions in the trace: main's code ends within the step of its last join.)
      const exitAt = (pid: number): number => t.findIndex((e) => e.type === 'exit' && e.pid === pid);
      const lastJoinAt = t.indexOf(processJoins[1]!);
      for (const c of [1003, 1004]) {
        expect(t[exitAt(c)]).toMatchObject({ exitcode: -15, reason: 'terminated' });
        expect(exitAt(c)).toBeGreaterThan(lastJoinAt);
        expect(exitAt(c)).toBeLessThan(exitAt(MAIN));
      }
      for (const p of [1001, 1002]) expect(exitAt(p)).toBeLessThan(lastJoinAt);
    }
  });

  it("a producer's q.join() returns whenever the unfinished count touches zero: on some seed, while the other producer still has items to put", async () => {
    // JoinableQueue.join() waits for "no unfinished task now", not for "no more puts
    // to come": the first producer to finish can get through join() early.
    let found: number | null = null;
    for (let seed = 0; seed < SEEDS && found === null; seed++) {
      const r = await run(joinable, { seed, trace: true });
      expect(r.status).toBe('ok');
      const t = r.trace!;
      const firstJoin = t.find((e) => e.type === 'done' && e.op === 'join' && e.obj === 'JoinableQueue#1')!;
      if (t.some((e) => e.type === 'send' && e.step > firstJoin.step)) found = seed;
    }
    expect(found).not.toBeNull();
  });

  it('both consumers do some of the work on some seed', async () => {
    let both = false;
    for (let seed = 0; seed < 50 && !both; seed++) {
      const out = plainLines(await run(joinable, { seed }));
      both = out.some((l) => l.startsWith('aoa消费')) && out.some((l) => l.startsWith('kuraki消费'));
    }
    expect(both).toBe(true);
  });
});
