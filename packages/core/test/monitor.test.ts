import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Op, program, runSync, type Monitor, type TraceEvent, type World } from '../src/index.js';

const contended = program(function* ({ mp, time }: World) {
  const lock = mp.Lock();
  function* worker(): Generator<Op<unknown>, void, unknown> {
    yield* lock.acquire();
    yield* time.sleep(1);
    yield* lock.release();
  }
  const ps = Array.from({ length: 4 }, () => mp.Process({ target: worker }));
  for (const p of ps) yield* p.start();
  for (const p of ps) yield* p.join();
});

function collecting(blocking?: boolean): Monitor & { readonly types: Set<TraceEvent['type']> } {
  const types = new Set<TraceEvent['type']>();
  return { name: 'collect', ...(blocking === undefined ? {} : { blocking }), types, onEvent: (e) => void types.add(e.type) };
}

describe('monitors', () => {
  it('get block, wake and sleep events unless they opt out with blocking: false', () => {
    const all = collecting();
    const lean = collecting(false);
    const a = runSync(contended, { seed: 1, monitors: [all] });
    runSync(contended, { seed: 1, monitors: [lean] });
    for (const t of ['block', 'wake', 'sleep'] as const) {
      expect(all.types.has(t)).toBe(true);
      expect(lean.types.has(t)).toBe(false);
    }
    expect([...lean.types].sort()).toEqual([...all.types].filter((t) => t !== 'block' && t !== 'wake' && t !== 'sleep').sort());
    // Opting out changes what is delivered, not the run.
    expect(runSync(contended, { seed: 1, monitors: [collecting(false)] }).schedule.toArray()).toEqual(a.schedule.toArray());
  });

  it('a monitor that opts out still gets them when the trace is kept', () => {
    const lean = collecting(false);
    const r = runSync(contended, { seed: 1, monitors: [lean], trace: true });
    expect(r.trace!.some((e) => e.type === 'block')).toBe(true);
    expect(lean.types.has('block')).toBe(true);
  });
});

/** A monitor that records the types it gets, declaring `events` (and `blocking`) as given. */
function declaring(events: readonly TraceEvent['type'][], blocking?: boolean): Monitor & { readonly types: Set<TraceEvent['type']> } {
  const types = new Set<TraceEvent['type']>();
  return { name: 'declaring', events, ...(blocking === undefined ? {} : { blocking }), types, onEvent: (e) => void types.add(e.type) };
}

describe('monitors that declare their event types', () => {
  it('get only those, while the others get every type, and the run is the same', () => {
    const all = collecting();
    const some = declaring(['spawn', 'exit']);
    const a = runSync(contended, { seed: 1, monitors: [all, some] });
    expect([...some.types].sort()).toEqual(['exit', 'spawn']);
    for (const t of ['issue', 'done', 'block', 'wake', 'sleep'] as const) expect(all.types.has(t)).toBe(true);
    expect(runSync(contended, { seed: 1, monitors: [declaring(['spawn'])] }).schedule.toArray()).toEqual(a.schedule.toArray());
  });

  it('blocking: false leaves out block, wake and sleep even when they are listed', () => {
    const m = declaring(['block', 'wake', 'sleep', 'done'], false);
    runSync(contended, { seed: 1, monitors: [m] });
    expect([...m.types]).toEqual(['done']);
  });

  it('get every event when the trace is kept', () => {
    const m = declaring(['spawn']);
    const r = runSync(contended, { seed: 1, monitors: [m], trace: true });
    expect([...m.types].sort()).toEqual([...new Set(r.trace!.map((e) => e.type))].sort());
  });
});

describe('monitors that declare the operations they follow (Monitor.ops)', () => {
  /** `type:op` of every event with an operation a monitor got. */
  function following(ops?: readonly string[]): Monitor & { readonly seen: string[] } {
    const seen: string[] = [];
    return { name: 'ops', ...(ops === undefined ? {} : { ops }), seen, onEvent: (e) => void ('op' in e && seen.push(`${e.type}:${e.op}`)) };
  }

  it('get the issue, done, block and wake events of those operations only, the rest of their types whole, and the run is the same', () => {
    const some = following(['release', 'join']);
    const all = following();
    const a = runSync(contended, { seed: 1, monitors: [some, all] });
    expect(new Set(some.seen)).toEqual(new Set(all.seen.filter((s) => s.endsWith(':release') || s.endsWith(':join'))));
    expect(some.seen).toContain('done:release');
    expect(some.seen).toContain('block:join');
    expect(runSync(contended, { seed: 1, monitors: [following(['join'])] }).schedule.toArray()).toEqual(a.schedule.toArray());
  });

  it('are read once per run, before onStart: changing the list later changes nothing in that run', () => {
    const ops = ['join'];
    const seen: string[] = [];
    const m: Monitor = { name: 'fickle', ops, onStart: () => void ops.push('acquire'), onEvent: (e) => void ('op' in e && seen.push(e.op)) };
    runSync(contended, { seed: 1, monitors: [m] });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((op) => op === 'join')).toBe(true);
  });

  it('are routed the same however many operation names a program cycles through', () => {
    // A dozen names, again and again: the first few are found by a scan, the rest by a map.
    const manyOps = program(function* ({ mp, time }: World) {
      const lock = mp.Lock();
      const ev = mp.Event();
      const q = mp.Queue<number>();
      const v = mp.Value('i', 0);
      function* worker() {
        for (let i = 0; i < 3; i++) {
          yield* lock.acquire();
          yield* v.set((yield* v.get()) + 1);
          yield* lock.release();
          yield* ev.set();
          yield* ev.isSet();
          yield* ev.clear();
          yield* q.put(i);
          yield* q.qsize();
          yield* q.get();
          yield* q.empty();
          yield* time.sleep(0.1);
        }
      }
      const ps = [mp.Process({ target: worker }), mp.Process({ target: worker })];
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    });
    const wanted = ['empty', 'get', 'acquire', 'sleep', 'join'];
    const some = following(wanted);
    const all = following();
    runSync(manyOps, { seed: 4, monitors: [some, all] });
    // The trace has every event (and routes nothing): what the two must have got.
    const traced = runSync(manyOps, { seed: 4, trace: true }).trace!.flatMap((e) => ('op' in e ? [`${e.type}:${e.op}`] : []));
    const opOf = (s: string): string => s.slice(s.indexOf(':') + 1);
    expect(new Set(traced.map(opOf)).size).toBeGreaterThan(10);
    expect(all.seen).toEqual(traced);
    expect(some.seen).toEqual(traced.filter((s) => wanted.includes(opOf(s))));
  });

  it('get every event when the trace is kept', () => {
    const some = following(['join']);
    const all = following();
    runSync(contended, { seed: 1, monitors: [some, all], trace: true });
    expect(some.seen).toEqual(all.seen);
  });
});

describe('monitors declaring dataOps: false', () => {
  /** Every kind of data object, beside a lock, an event and a queue whose operations share their names (get, set). */
  const shared = program(function* ({ mp }: World) {
    const lock = mp.Lock();
    const ev = mp.Event();
    const q = mp.Queue<number>();
    const v = mp.Value('i', 0);
    const raw = mp.RawArray('i', 2);
    const m = mp.Manager();
    const d = m.dict<string, number>({ n: 0 });
    const l = m.list<number>([]);
    function* worker(i: number) {
      yield* lock.acquire();
      yield* v.set((yield* v.get()) + 1);
      yield* raw.set(i, yield* raw.get(1 - i));
      yield* d.update('n', (n) => n + 1);
      yield* l.append(i);
      yield* lock.release();
      yield* ev.set();
      yield* q.put(i);
      yield* q.get();
    }
    const ps = [0, 1].map((i) => mp.Process({ target: worker, args: [i] }));
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  });
  /** `type:obj.op` of every event a monitor got that names an operation, and its access events. */
  function following(dataOps?: boolean): Monitor & { readonly seen: string[] } {
    const seen: string[] = [];
    return {
      name: 'data',
      ...(dataOps === undefined ? {} : { dataOps }),
      seen,
      onEvent: (e) => void ('op' in e ? seen.push(`${e.type}:${e.obj}.${e.op}`) : e.type === 'access' && seen.push(`access:${e.loc}`)),
    };
  }
  const isData = (s: string): boolean => /:(Value|RawArray|DictProxy|ListProxy)#/.test(s) && !s.startsWith('access:');

  it('get no issue or done event of a Value, Array or Manager proxy operation, and every other event, and the run is the same', () => {
    const without = following(false);
    const all = following();
    const a = runSync(shared, { seed: 2, monitors: [without, all] });
    expect(a.status).toBe('ok');
    expect(all.seen.filter(isData).length).toBeGreaterThan(20);
    expect(without.seen).toEqual(all.seen.filter((s) => !isData(s)));
    // Same names on synchronising objects still come: Event.set and Queue.get.
    expect(without.seen).toContain('done:Event#1.set');
    expect(without.seen).toContain('done:Queue#1.get');
    expect(runSync(shared, { seed: 2, monitors: [following(false)] }).schedule.toArray()).toEqual(a.schedule.toArray());
  });

  it('get the same when another monitor narrows by ops, and every event when the trace is kept', () => {
    const without = following(false);
    const all = following();
    const joins: Monitor = { name: 'joins', ops: ['join'], onEvent() {} };
    runSync(shared, { seed: 3, monitors: [joins, without, all] });
    expect(without.seen).toEqual(all.seen.filter((s) => !isData(s)));
    const traced = following(false);
    const everything = following();
    runSync(shared, { seed: 3, monitors: [traced, everything], trace: true });
    expect(traced.seen).toEqual(everything.seen);
  });
});

describe("monitors declaring accesses: 'locked'", () => {
  /** A synchronized Value (its accesses take its lock) beside a raw one and a Manager dict. */
  const mixedCells = program(function* ({ mp }: World) {
    const v = mp.Value('i', 0);
    const raw = mp.RawValue('i', 0);
    const d = mp.Manager().dict<string, number>({ n: 0 });
    function* worker() {
      yield* v.update((x) => x + 1);
      yield* raw.set((yield* raw.get()) + 1);
      yield* d.update('n', (n) => n + 1);
    }
    const ps = [0, 1].map(() => mp.Process({ target: worker }));
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  });
  function accessesSeen(accesses?: 'all' | 'locked'): Monitor & { readonly seen: string[] } {
    const seen: string[] = [];
    return {
      name: 'accesses',
      ...(accesses === undefined ? {} : { accesses }),
      seen,
      onEvent: (e) => void (e.type === 'access' && seen.push(`${e.step}:${e.loc}:${e.kind}:${e.lock ?? '-'}`)),
    };
  }

  it('get the access events that take a lock, and no other; the run is the same', () => {
    const locked = accessesSeen('locked');
    const all = accessesSeen();
    const r = runSync(mixedCells, { seed: 4, monitors: [locked, all] });
    expect(r.status).toBe('ok');
    const withLock = all.seen.filter((s) => !s.endsWith(':-'));
    expect(withLock.length).toBeGreaterThanOrEqual(4); // each worker's read and write of the Value
    expect(all.seen.length).toBeGreaterThan(withLock.length);
    expect(locked.seen).toEqual(withLock);
    expect(runSync(mixedCells, { seed: 4, monitors: [accessesSeen('locked')] }).schedule.toArray()).toEqual(r.schedule.toArray());
    expect(runSync(mixedCells, { seed: 4, monitors: [accessesSeen('all')] }).schedule.toArray()).toEqual(r.schedule.toArray());
  });

  it('get every access event when the trace is kept, or when it is the only monitor and none take a lock', () => {
    const locked = accessesSeen('locked');
    const all = accessesSeen();
    runSync(mixedCells, { seed: 4, monitors: [locked, all], trace: true });
    expect(locked.seen).toEqual(all.seen);
    const alone = accessesSeen('locked');
    runSync(mixedCells, { seed: 4, monitors: [alone] });
    expect(alone.seen).toEqual(all.seen.filter((s) => !s.endsWith(':-')));
  });
});

/** Two workers and a queue: blocking gets, a sleep, a child that outlives its parent's code. */
const mixed = program(function* ({ mp, time }: World) {
  const q = mp.Queue<number>();
  const lock = mp.Lock();
  function* producer(): Generator<Op<unknown>, void, unknown> {
    for (let i = 0; i < 3; i++) {
      yield* lock.acquire();
      yield* q.put(i);
      yield* lock.release();
      yield* time.sleep(0.5);
    }
  }
  function* consumer(): Generator<Op<unknown>, void, unknown> {
    for (let i = 0; i < 3; i++) {
      yield* lock.acquire();
      yield* lock.release();
      yield* q.get();
    }
  }
  for (const target of [producer, consumer]) yield* mp.Process({ target }).start();
});

describe('MonitorContext.enabled()', () => {
  it('at each step, is the set the step was chosen from: the live processes that block and wake events leave runnable', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(contended, mixed), (seed, prog) => {
        const live = new Set<number>([1000]);
        const blocked = new Set<number>();
        let step = -1;
        let expected: number[] = [];
        const mismatches: string[] = [];
        const checker: Monitor = {
          name: 'enabled',
          onEvent(e, ctx) {
            if (e.step !== step) {
              // The first event of a step: the scan before it has been told in full.
              step = e.step;
              expected = [...live].filter((pid) => !blocked.has(pid)).sort((a, b) => a - b);
            }
            if (e.type === 'spawn') live.add(e.child);
            else if (e.type === 'thread-start') live.add(e.thread);
            else if (e.type === 'exit') live.delete(e.pid);
            else if (e.type === 'block' || e.type === 'sleep') blocked.add(e.pid);
            else if (e.type === 'wake') blocked.delete(e.pid);
            else if (e.type === 'done') {
              const got = ctx.enabled().map((p) => p.pid).sort((a, b) => a - b);
              if (!got.includes(e.pid) || got.join() !== expected.join()) mismatches.push(`step ${e.step}: ${got.join()} vs ${expected.join()}`);
            }
          },
        };
        const r = runSync(prog, { seed, monitors: [checker] });
        expect(r.status).toBe('ok');
        expect(mismatches).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });

  it('is empty once the run has deadlocked', () => {
    const stuck = program(function* ({ mp }: World) {
      yield* mp.Event().wait();
    });
    let atEnd: number | null = null;
    const r = runSync(stuck, { monitors: [{ name: 'end', blocking: false, events: [], onEvent() {}, onEnd: (ctx) => void (atEnd = ctx.enabled().length) }] });
    expect(r.status).toBe('deadlock');
    expect(atEnd).toBe(0);
  });
});

describe('MonitorContext.issued(), operation() and ProcessView.issuedStep', () => {
  it('at each event, give the issue event each process issued last — the very object the trace holds, or an equal one built on request — and its Op', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(contended, mixed), fc.boolean(), (seed, prog, traced) => {
        const last = new Map<number, TraceEvent>();
        const mismatches: string[] = [];
        const asked = new Map<number, TraceEvent | null>();
        const ops = new Map<number, Op<unknown> | null>();
        const checker: Monitor = {
          name: 'issued',
          // Untraced, this monitor takes no issue event: the kernel builds one only when asked.
          events: ['spawn', 'done', 'exit'],
          onEvent(e, ctx) {
            if (e.type === 'issue') last.set(e.pid, e);
            for (const pid of [1000, 1001, 1002, 1003, 1004]) {
              const got = ctx.issued(pid);
              if (traced && got !== (last.get(pid) ?? null)) mismatches.push(`step ${e.step}, pid ${pid}: not the traced event`);
              // operation() is the Op that event describes, null exactly when it is.
              const op = ctx.operation(pid);
              const same = op === null ? got === null : got !== null && op.objectId === got.obj && op.name === got.op && op.args === got.args;
              if (!same) mismatches.push(`step ${e.step}, pid ${pid}: operation() is not the issued operation`);
              const opBefore = ops.get(pid);
              if (op !== null && opBefore != null && (opBefore === op) !== (asked.get(pid) === got)) mismatches.push(`step ${e.step}, pid ${pid}: operation() changed identity apart from issued()`);
              ops.set(pid, op);
              // The same object until the process issues its next operation.
              const before = asked.get(pid);
              if (got !== null && before != null && before.step === got.step && before.time === got.time && before !== got) mismatches.push(`step ${e.step}, pid ${pid}: rebuilt`);
              asked.set(pid, got);
            }
            if (e.type === 'done') {
              for (const p of ctx.enabled()) {
                const op = ctx.issued(p.pid);
                if (op !== null && (op.step !== p.issuedStep || op.time !== p.issuedTime)) mismatches.push(`step ${e.step}, pid ${p.pid}: issuedStep ${p.issuedStep} vs ${op.step}`);
              }
            }
          },
        };
        const r = runSync(prog, { seed, trace: traced, monitors: [checker] });
        expect(r.status).toBe('ok');
        expect(mismatches).toEqual([]);
        if (!traced) {
          // What was built on request equals what the trace would have held.
          const withTrace = runSync(prog, { seed, trace: true });
          const issues = (withTrace.trace ?? []).filter((e) => e.type === 'issue');
          for (const e of asked.values()) if (e !== null) expect(issues).toContainEqual(e);
          expect(asked.size).toBeGreaterThan(0);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('are null before a process issued anything, and for a pid the run does not know', () => {
    const seen: unknown[] = [];
    const prog = program(function* ({ mp }: World) {
      yield* mp.Lock().acquire();
    });
    runSync(prog, {
      monitors: [
        {
          name: 'n',
          events: ['spawn', 'done'],
          onStart: (ctx) => void seen.push(ctx.issued(1000), ctx.operation(1000)),
          onEvent: () => {},
          onEnd: (ctx) => void seen.push(ctx.issued(4242), ctx.operation(4242), ctx.issued(1000), ctx.operation(1000)),
        },
      ],
    });
    expect(seen.slice(0, 4)).toEqual([null, null, null, null]);
    expect(seen[4]).toMatchObject({ type: 'issue', pid: 1000, obj: 'Lock#1', op: 'acquire', args: [] });
    expect(seen[5]).toBeInstanceOf(Op);
    expect({ obj: (seen[5] as Op<unknown>).objectId, name: (seen[5] as Op<unknown>).name }).toEqual({ obj: 'Lock#1', name: 'acquire' });
  });
});

describe('the exit wait', () => {
  it('a process whose code ends while its children run issues it like any operation: issue, block, done, exit', () => {
    const r = runSync(mixed, { seed: 3, trace: true });
    const tail = r
      .trace!.filter((e) => e.pid === 1000)
      .map((e) => (e.type === 'issue' || e.type === 'block' || e.type === 'done' ? `${e.type} ${e.obj}.${e.op}` : e.type === 'exit' ? 'exit' : null))
      .filter((e) => e !== null)
      .slice(-4);
    expect(tail).toEqual(['issue MainProcess.exit', 'block MainProcess.exit', 'done MainProcess.exit', 'exit']);
  });
});
