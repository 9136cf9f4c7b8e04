/**
 * The course's pool-based chat server (进程池版socket并发聊天), checked over many
 * seeds: every client gets each of its lines back upper-cased; a monitor checks at
 * every step that no more than four connections are being served at once (the
 * Pool(4)); the fifth conversation starts only once another has ended; and the run
 * ends with the server waiting in accept() for a sixth client — the only thing a
 * `while True` server can end with.
 */
import { describe, expect, it } from 'vitest';
import { run, type Monitor, type TraceEvent } from '@interleave/core';
import { PORT, SCRIPTS, chat } from './chat.js';

const SEEDS = 200;
const MAIN = 1000;
/** The clients are started first: pids 1001-1005. */
const CLIENTS = SCRIPTS.map((_, i) => 1001 + i);

type SendEvent = Extract<TraceEvent, { type: 'send' }>;
type RecvEvent = Extract<TraceEvent, { type: 'recv' }>;

/** A connection the server accepted: `Socket#1:n` (the listener is Socket#1). */
const isConn = (obj: string): boolean => /^Socket#1:\d+$/.test(obj);

/**
 * Counts, at every step, the connections being served: from a worker's first
 * operation on an accepted connection until its recv() returns empty bytes (the
 * client left). Fails the run when more than `max` are served at once; keeps the
 * peak and, per connection, the steps its service began and ended.
 */
function servedMonitor(max: number): Monitor & { peak: number; began: Map<string, number>; ended: Map<string, number> } {
  const serving = new Set<string>();
  const m = {
    name: `at-most-${max}-served`,
    peak: 0,
    began: new Map<string, number>(),
    ended: new Map<string, number>(),
    onStart(): void {
      serving.clear();
      m.peak = 0;
      m.began.clear();
      m.ended.clear();
    },
    onEvent(e: TraceEvent, ctx: { fail(message: string): void }): void {
      if (e.type !== 'done' || !isConn(e.obj) || e.pid === MAIN) return;
      if (!m.began.has(e.obj)) {
        m.began.set(e.obj, e.step);
        serving.add(e.obj);
      }
      if (e.op === 'recv' && (e.outcome === 'raised' || (e.value as Uint8Array).length === 0)) {
        serving.delete(e.obj);
        m.ended.set(e.obj, e.step);
      }
      m.peak = Math.max(m.peak, serving.size);
      if (serving.size > max) ctx.fail(`${serving.size} connections served at once at step ${e.step}: ${[...serving].join(', ')}`);
    },
  };
  return m;
}

describe('course/chat: 进程池版socket并发聊天', () => {
  it(`every client gets its lines back upper-cased; never more than 4 served at once; the 5th waits for a free worker (${SEEDS} seeds)`, async () => {
    let fourAtOnce = 0;
    let fifthWaited = 0;
    for (let seed = 0; seed < SEEDS; seed++) {
      const served = servedMonitor(4);
      const r = await run(chat, { seed, monitors: [served], trace: true });
      // The server's `while True` loop never ends: see the next test.
      expect(r.status, `seed ${seed}: ${r.status === 'ok' ? '' : r.message}`).toBe('deadlock');

      // Every client printed each non-blank line it sent, upper-cased, in order, and exited normally.
      SCRIPTS.forEach((lines, i) => {
        const expected = lines.map((l) => l.trim()).filter((l) => l !== '').map((l) => l.toUpperCase());
        expect(r.output.filter((o) => o.pid === CLIENTS[i]).map((o) => o.text)).toEqual(expected);
        expect(r.processes.find((p) => p.pid === CLIENTS[i])!.exitcode).toBe(0);
      });

      // Five conversations, each in a pool worker: talk() prints the worker's pid.
      const workers = new Set(r.processes.filter((p) => p.name.startsWith('SpawnPoolWorker-')).map((p) => p.pid));
      expect(workers.size).toBe(4);
      const talks = r.output.filter((o) => o.text.startsWith('进程pid: '));
      expect(talks).toHaveLength(5);
      for (const t of talks) {
        expect(workers.has(t.pid)).toBe(true);
        expect(t.text).toBe(`进程pid: ${t.pid}`);
      }

      // The fifth conversation began only after one of the first four had ended.
      expect(served.began.size).toBe(5);
      expect(served.ended.size).toBe(5);
      const starts = [...served.began.values()].sort((a, b) => a - b);
      const ends = [...served.ended.values()].sort((a, b) => a - b);
      expect(starts[4]!).toBeGreaterThan(ends[0]!);
      if (served.peak === 4) fourAtOnce++;

      // Its client had connected and sent its first line before then, and was waiting for the
      // reply (in many schedules): the worker's first recv on that connection takes bytes
      // whose send event names the client and the step.
      const last = [...served.began].find(([, step]) => step === starts[4])![0];
      const firstRecv = r.trace!.find((e): e is RecvEvent => e.type === 'recv' && e.obj === last)!;
      const firstSend = r.trace!.find((e): e is SendEvent => e.type === 'send' && e.msg === firstRecv.msg)!;
      expect(CLIENTS).toContain(firstSend.pid);
      if (firstSend.step < starts[4]!) fifthWaited++;
    }
    // Four conversations at once, and a fifth client left waiting, both happen.
    expect(fourAtOnce).toBeGreaterThan(SEEDS / 4);
    expect(fifthWaited).toBeGreaterThan(SEEDS / 4);
  });

  it('the run ends with the server in accept() waiting for a sixth client and the pool idle — nothing else', async () => {
    for (let seed = 0; seed < 50; seed++) {
      const r = await run(chat, { seed });
      expect(r.status).toBe('deadlock');
      if (r.status !== 'deadlock') return;
      const [main, ...rest] = r.blocked;
      expect(main).toEqual({
        pid: MAIN,
        name: 'MainProcess',
        op: 'Socket#1.accept()',
        waitsOn: `waiting in accept() on 127.0.0.1:${PORT}: no client connection is pending`,
        heldBy: [],
      });
      // The pool's four workers wait for tasks, its result handler for results.
      expect(rest.map((b) => b.name)).toEqual(['SpawnPoolWorker-1', 'SpawnPoolWorker-2', 'SpawnPoolWorker-3', 'SpawnPoolWorker-4', 'PoolResultHandler']);
      for (const b of rest) expect(b.op).toMatch(/^Pool#1\./);
      expect(r.message).toContain(`MainProcess (pid 1000) is blocked in Socket#1.accept(): waiting in accept() on 127.0.0.1:${PORT}`);
      // Every client finished; no talk() raised.
      expect(r.processes.filter((p) => CLIENTS.includes(p.pid)).map((p) => p.exitcode)).toEqual([0, 0, 0, 0, 0]);
      expect(r.stderr).toBe('');
    }
  });
});

