/**
 * The course's Pipe programs (管道), checked over many seeds: what they print, how
 * they end, and — for the EOFError-based ones — that each end is closed in the
 * right processes. The one that forgets a close() hangs, and the deadlock report
 * names the end still open and the process holding it.
 */
import { describe, expect, it } from 'vitest';
import { run, type RunResult, type TraceEvent } from '@interleave/core';
import { CONSUMED, MADE, consumerLeavesEndOpen, eof, leftRight, ping, plain, producerConsumer, sentinel } from './pipe.js';

const SEEDS = 300;
const MAIN = 1000;
const PRODUCER = 1001;
const CONSUMER = 1002;

type DoneEvent = Extract<TraceEvent, { type: 'done' }>;

/** `pid:Connection#n` for every successful close(), in order. */
function closes(r: RunResult): string[] {
  return (r.trace ?? [])
    .filter((e): e is DoneEvent => e.type === 'done' && e.op === 'close' && e.outcome === 'ok')
    .map((e) => `${e.pid}:${e.obj}`);
}

/** The first `recv` of `pid` that raised, as `Name: message`. */
function raisedRecv(r: RunResult, pid: number): unknown {
  return (r.trace ?? []).find((e): e is DoneEvent => e.type === 'done' && e.pid === pid && e.op === 'recv' && e.outcome === 'raised')?.value;
}

describe('course/pipe: pipe初使用', () => {
  it(`the child sends "Hello The_Third_Wave" and the parent prints it (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(ping, { seed });
      expect(r.status).toBe('ok');
      expect(r.stdout).toBe('Hello The_Third_Wave\n');
      expect(r.processes.map((p) => p.exitcode)).toEqual([0, 0]);
    }
  });

  it('left and right in one process: left.send("1234"), print(right.recv()) prints 1234', async () => {
    const r = await run(leftRight);
    expect(r.status).toBe('ok');
    expect(r.stdout).toBe('1234\n');
  });
});

describe('course/pipe: ending the reader', () => {
  it(`with a None sentinel: the double recv() prints every second message, 10 吃了么, and the child ends at None (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(sentinel, { seed, trace: true });
      expect(r.status).toBe('ok');
      expect(r.stdout).toBe('吃了么\n'.repeat(10));
      expect(r.processes.map((p) => p.exitcode)).toEqual([0, 0]);
      // All 21 messages were received, the last one None.
      const recvs = r.trace!.filter((e) => e.type === 'recv');
      expect(recvs).toHaveLength(21);
      expect(recvs.at(-1)).toMatchObject({ pid: 1001, value: null });
    }
  });

  it(`with EOFError: all 20 吃了么 printed, then the child's recv raises EOFError and it closes conn1 (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(eof, { seed, trace: true });
      expect(r.status).toBe('ok');
      expect(r.stdout).toBe('吃了么\n'.repeat(20));
      expect(r.processes.map((p) => p.exitcode)).toEqual([0, 0]);
      expect(raisedRecv(r, 1001)).toMatch(/^EOFError: Connection#1: the other end is closed in every process/);
      // Each process closes each end once: the child conn2 then conn1, main conn1 then conn2.
      const c = closes(r);
      expect(c.filter((x) => x.startsWith('1001:'))).toEqual(['1001:Connection#2', '1001:Connection#1']);
      expect(c.filter((x) => x.startsWith('1000:'))).toEqual(['1000:Connection#1', '1000:Connection#2']);
    }
  });
});

describe('course/pipe: pipe实现生产者消费者模型', () => {
  it(`all 10 portions consumed in order; the consumer ends on EOFError; both ends closed in the right processes (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(producerConsumer, { seed, trace: true });
      expect(r.status, `seed ${seed}: ${r.status === 'ok' ? '' : r.message}`).toBe('ok');
      const food = Array.from({ length: 10 }, (_, i) => `alex泔水${i}`);
      expect(r.output.filter((l) => l.pid === PRODUCER).map((l) => l.text)).toEqual(food.map(MADE));
      expect(r.output.filter((l) => l.pid === CONSUMER).map((l) => l.text)).toEqual(food.map((f) => CONSUMED('egon', f)));
      expect(plain(r.stdout).split('\n').filter((l) => l.startsWith('egon'))).toEqual(food.map((f) => `egon消费了${f}`));
      // The consumer got EOFError only after the 10th portion, and exited normally.
      expect(raisedRecv(r, CONSUMER)).toMatch(/^EOFError: /);
      expect(r.processes.map((p) => [p.pid, p.exitcode])).toEqual([[MAIN, 0], [PRODUCER, 0], [CONSUMER, 0]]);
      // pipe1 is Connection#1 (the consumer's end), pipe2 Connection#2 (the producer's).
      const c = closes(r);
      expect(c.filter((x) => x.startsWith(`${PRODUCER}:`))).toEqual([`${PRODUCER}:Connection#1`, `${PRODUCER}:Connection#2`]);
      expect(c.filter((x) => x.startsWith(`${CONSUMER}:`))).toEqual([`${CONSUMER}:Connection#2`, `${CONSUMER}:Connection#1`]);
      expect(c.filter((x) => x.startsWith(`${MAIN}:`))).toEqual([`${MAIN}:Connection#1`, `${MAIN}:Connection#2`]);
      // The EOFError came after the last of the three closes of pipe2, i.e. once it was closed everywhere.
      const t = r.trace!;
      const eofAt = t.findIndex((e) => e.type === 'done' && e.pid === CONSUMER && e.op === 'recv' && e.outcome === 'raised');
      const lastPipe2Close = Math.max(...[PRODUCER, CONSUMER, MAIN].map((pid) => t.findIndex((e) => e.type === 'done' && e.op === 'close' && e.pid === pid && e.obj === 'Connection#2')));
      expect(eofAt).toBeGreaterThan(lastPipe2Close);
    }
  });

  it(`the consumer that leaves pipe2 open hangs in recv(): a deadlock naming Connection#2 and the consumer holding it (${SEEDS} seeds)`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(consumerLeavesEndOpen, { seed });
      expect(r.status, `seed ${seed}`).toBe('deadlock');
      if (r.status !== 'deadlock') return;
      // It consumed all 10 first: the hang is on the 11th recv, waiting for an EOF that cannot come.
      expect(r.output.filter((l) => l.pid === CONSUMER)).toHaveLength(10);
      expect(r.blocked).toEqual([
        {
          pid: MAIN,
          name: 'MainProcess',
          op: 'MainProcess.exit()',
          waitsOn: 'at exit, waiting for its non-daemonic children Process-2 (pid 1002)',
          heldBy: [CONSUMER],
        },
        {
          pid: CONSUMER,
          name: 'Process-2',
          op: 'Connection#1.recv()',
          waitsOn:
            'waiting for data on Connection#1; the other end Connection#2 is still open in Process-2 (pid 1002) ' +
            '(a handle left open keeps recv() from ever raising EOFError)',
          heldBy: [CONSUMER],
        },
      ]);
      expect(r.message).toContain('Process-2 (pid 1002) is blocked in Connection#1.recv()');
      expect(r.message).toContain('the other end Connection#2 is still open in Process-2 (pid 1002)');
      // The producer did its part: it closed both its ends and exited.
      expect(r.processes.find((p) => p.pid === PRODUCER)!.exitcode).toBe(0);
    }
  });
});
