import { describe, expect, it } from 'vitest';
import { SimulationError } from '@interleave/core';
import {
  checkLinearizability,
  checkOperations,
  counterModel,
  historyTable,
  kvModel,
  linearizabilityFinding,
  queueModel,
  raised,
  registerModel,
  type SequenceState,
  setModel,
  stackModel,
  toOperations,
  type History,
  type HistoryEvent,
  type LinearizabilityResult,
  type Model,
  type NotLinearizable,
} from '../src/index.js';
import { formatFinding } from '../src/report.js';

/** A compact history: `c(id, pid, op, ...args)` calls, `r(id, value)` returns. */
const c = (id: number, pid: number, op: string, ...args: unknown[]): HistoryEvent => ({ kind: 'call', id, pid, op, args });
const r = (id: number, value?: unknown): HistoryEvent => (value === undefined ? { kind: 'return', id } : { kind: 'return', id, value });
const fail = (id: number, error: string): HistoryEvent => ({ kind: 'return', id, error });

function notLinearizable(res: LinearizabilityResult): NotLinearizable {
  if (res.verdict !== 'not-linearizable') throw new Error(`expected not-linearizable, got ${res.verdict}: ${res.message}`);
  return res;
}

describe('register', () => {
  it('a sequential history that reads the last write is linearizable', () => {
    const h = [c(1, 1, 'write', 1), r(1), c(2, 2, 'read'), r(2, 1), c(3, 1, 'write', 2), r(3), c(4, 2, 'read'), r(4, 2)];
    expect(checkLinearizability(h, registerModel(0)).verdict).toBe('linearizable');
  });

  it('a read overlapping a write may see the old or the new value', () => {
    for (const seen of [0, 1]) {
      const h = [c(1, 1, 'write', 1), c(2, 2, 'read'), r(2, seen), r(1)];
      expect(checkLinearizability(h, registerModel(0)).verdict).toBe('linearizable');
    }
  });

  it('a read after the write returned must see it', () => {
    const h = [c(1, 1, 'write', 1), r(1), c(2, 2, 'read'), r(2, 0)];
    const res = notLinearizable(checkLinearizability(h, registerModel(0)));
    expect(res.op.op).toBe('read');
    expect(res.op.output).toBe(0);
    expect(res.prefix.map((s) => s.op.op)).toEqual(['write']);
    expect(res.candidates[0]).toMatchObject({ verdict: 'mismatch', expected: 1 });
  });

  it('new-old inversion: two reads during one write, the later one sees the older value', () => {
    // The classic: B reads 1, then (after B returned) C reads 0 — both inside A's write.
    const h = [c(1, 1, 'write', 1), c(2, 2, 'read'), r(2, 1), c(3, 3, 'read'), r(3, 0), r(1)];
    const res = notLinearizable(checkLinearizability(h, registerModel(0)));
    expect(res.op).toMatchObject({ op: 'read', output: 0, pid: 3 });
    expect(res.prefix.map((s) => `${s.op.op}:${String(s.op.output)}`)).toEqual(['write:undefined', 'read:1']);
    expect(res.message).toContain('Cannot place: read() → 0 by pid 3');
    expect(res.message).toContain('the model returns 1 here, but it returned 0');
  });

  it('compare-and-set: two concurrent successful CAS from the same value are not linearizable', () => {
    const h = [c(1, 1, 'cas', 0, 1), c(2, 2, 'cas', 0, 2), r(1, true), r(2, true)];
    notLinearizable(checkLinearizability(h, registerModel(0)));
    const ok = [c(1, 1, 'cas', 0, 1), c(2, 2, 'cas', 0, 2), r(1, true), r(2, false)];
    expect(checkLinearizability(ok, registerModel(0)).verdict).toBe('linearizable');
  });
});

describe('FIFO queue', () => {
  it('concurrent enqueues may be dequeued in either order', () => {
    for (const [a, b] of [
      [1, 2],
      [2, 1],
    ]) {
      const h = [c(1, 1, 'enqueue', 1), c(2, 2, 'enqueue', 2), r(1), r(2), c(3, 1, 'dequeue'), r(3, a), c(4, 2, 'dequeue'), r(4, b)];
      expect(checkLinearizability(h, queueModel()).verdict).toBe('linearizable');
    }
  });

  it('enqueues ordered in real time must be dequeued in that order', () => {
    const h = [c(1, 1, 'enqueue', 1), r(1), c(2, 1, 'enqueue', 2), c(3, 2, 'dequeue'), r(2), r(3, 2)];
    const res = notLinearizable(checkLinearizability(h, queueModel()));
    expect(res.op.op).toBe('dequeue');
    expect(res.state).toBe('[1,2]');
    expect(res.message).toMatch(/dequeue\(\) → 2 by pid 2: the model returns 1 here, but it returned 2/);
  });

  it("Herlihy & Wing's queue history H2: both dequeues of one element", () => {
    // A enq(x); B enq(y); A deq → y; B deq → y.
    const h = [c(1, 1, 'enq', 'x'), c(2, 2, 'enq', 'y'), r(1), r(2), c(3, 1, 'deq'), c(4, 2, 'deq'), r(3, 'y'), r(4, 'y')];
    const model: Model<SequenceState> = { ...queueModel(), step: (s, i, o) => queueModel().step(s, { ...i, op: i.op === 'enq' ? 'enqueue' : 'dequeue' }, o) };
    notLinearizable(checkLinearizability(h, model));
  });

  it('a dequeue that finds the queue empty although an earlier enqueue returned is wrong', () => {
    const h = [c(1, 1, 'put', 'a'), r(1), c(2, 2, 'getNowait'), fail(2, 'Empty: queue is empty')];
    const model = queueModel({ empty: { raises: 'Empty' } });
    const res = notLinearizable(checkLinearizability(h, model));
    expect(res.message).toContain('getNowait() raises Empty: queue is empty');
    expect(res.candidates[0]!.why).toBe('the model returns "a" here, but it raised Empty: queue is empty');
    // Overlapping the put, finding it empty is fine.
    const ok = [c(1, 1, 'put', 'a'), c(2, 2, 'getNowait'), fail(2, 'Empty'), r(1)];
    expect(checkLinearizability(ok, model).verdict).toBe('linearizable');
  });

  it('a blocking dequeue can only take effect once there is an element', () => {
    const model = queueModel({ empty: 'blocks' });
    const h = [c(1, 2, 'get'), c(2, 1, 'put', 7), r(2), r(1, 7)];
    expect(checkLinearizability(h, model).verdict).toBe('linearizable');
    // Returned before anything was put: impossible.
    const early = [c(1, 2, 'get'), r(1, 7), c(2, 1, 'put', 7), r(2)];
    const res = notLinearizable(checkLinearizability(early, model));
    expect(res.candidates.find((x) => x.op.op === 'get')).toMatchObject({ verdict: 'rejected', why: 'the queue is empty, so it would still be waiting' });
  });
});

describe('stack, counter, set', () => {
  it('stack: pops see the last push', () => {
    const h = [c(1, 1, 'push', 1), r(1), c(2, 1, 'push', 2), r(2), c(3, 2, 'pop'), r(3, 2), c(4, 2, 'pop'), r(4, 1), c(5, 2, 'pop'), r(5, null)];
    expect(checkLinearizability(h, stackModel()).verdict).toBe('linearizable');
    const bad = [c(1, 1, 'push', 1), r(1), c(2, 1, 'push', 2), r(2), c(3, 2, 'pop'), r(3, 1)];
    notLinearizable(checkLinearizability(bad, stackModel()));
  });

  it("Lincheck's counter: two concurrent inc() both returning 1", () => {
    const h = [c(1, 1, 'inc'), c(2, 2, 'inc'), r(1, 1), r(2, 1)];
    const res = notLinearizable(checkLinearizability(h, counterModel()));
    expect(res.prefix).toHaveLength(1);
    expect(res.message).toContain('the model returns 2 here, but it returned 1');
    expect(checkLinearizability([c(1, 1, 'inc'), c(2, 2, 'inc'), r(1, 2), r(2, 1)], counterModel()).verdict).toBe('linearizable');
  });

  it('set, partitioned by element', () => {
    const h = [c(1, 1, 'add', 'a'), r(1), c(2, 2, 'add', 'b'), c(3, 1, 'has', 'a'), r(3, true), c(4, 1, 'has', 'b'), r(4, false), r(2)];
    const res = checkLinearizability(h, setModel());
    expect(res.verdict).toBe('linearizable');
    expect(res.stats.partitions).toBe(2);
  });
});

describe('a model of your own', () => {
  // The example of docs/checkers.md: a write-once cell.
  const once: Model<unknown> = {
    name: 'write-once',
    init: () => null,
    step: (v, { op, args }) => (op === 'put' ? (v === null ? { ok: true, state: args[0], output: true } : { ok: true, state: v, output: false }) : { ok: true, state: v, output: v }),
  };

  it('is checked like the built-in ones', () => {
    expect(checkLinearizability([c(1, 1, 'put', 'a'), c(2, 2, 'put', 'b'), r(1, false), r(2, true), c(3, 1, 'get'), r(3, 'b')], once).verdict).toBe('linearizable');
    const res = notLinearizable(checkLinearizability([c(1, 1, 'put', 'a'), r(1, true), c(2, 2, 'put', 'b'), r(2, true)], once));
    expect(res.message).toContain('the model returns false here, but it returned true');
  });
});

describe('key-value store, partitioned by key (P-compositionality)', () => {
  const good = [c(1, 1, 'put', 'x', 1), c(2, 2, 'put', 'y', 1), r(1), c(3, 3, 'get', 'x'), r(3, 1), r(2), c(4, 1, 'get', 'y'), r(4, 1)];

  it('checks each key on its own', () => {
    const res = checkLinearizability(good, kvModel());
    expect(res.verdict).toBe('linearizable');
    expect(res.stats.partitions).toBe(2);
  });

  it('names the key whose history is wrong, and shows only that partition', () => {
    const h = [...good, c(5, 2, 'put', 'y', 2), r(5), c(6, 3, 'get', 'y'), r(6, 1), c(7, 3, 'get', 'x'), r(7, 1)];
    const res = notLinearizable(checkLinearizability(h, kvModel()));
    expect(res.partition).toBe('"y"');
    expect(res.message).toContain('NOT linearizable for key "y"');
    expect(res.table.rows.every((row) => row.cells.every((cell) => cell === null || !cell.includes('"x"')))).toBe(true);
    // Unpartitioned, the same verdict.
    expect(checkLinearizability(h, kvModel(), { partition: false }).verdict).toBe('not-linearizable');
    expect(checkLinearizability(h, kvModel({ partition: false })).stats.partitions).toBe(1);
  });

  it('a missing key reads as `missing`', () => {
    expect(checkLinearizability([c(1, 1, 'get', 'k'), r(1, null)], kvModel()).verdict).toBe('linearizable');
    expect(checkLinearizability([c(1, 1, 'get', 'k'), r(1, undefined)], kvModel({ missing: undefined })).verdict).toBe('linearizable');
  });
});

describe('pending operations (called, never returned)', () => {
  it('may have taken effect', () => {
    const h = [c(1, 1, 'write', 5), c(2, 2, 'read'), r(2, 5)];
    expect(checkLinearizability(h, registerModel(0)).verdict).toBe('linearizable');
  });

  it('may not have taken effect', () => {
    const h = [c(1, 1, 'write', 5), c(2, 2, 'read'), r(2, 0), c(3, 2, 'read'), r(3, 0)];
    const res = checkLinearizability(h, registerModel(0));
    expect(res.verdict).toBe('linearizable');
    if (res.verdict === 'linearizable') expect(res.linearization.map((o) => o.op)).toEqual(['read', 'read']);
  });

  it('cannot explain a value nobody wrote', () => {
    const h = [c(1, 1, 'write', 5), c(2, 2, 'read'), r(2, 6)];
    notLinearizable(checkLinearizability(h, registerModel(0)));
  });
});

describe('witness, unknown, inputs', () => {
  it('returns a linearization that respects real time and the model, merged across partitions', () => {
    const h = [c(1, 1, 'put', 'a', 1), c(2, 2, 'put', 'b', 2), r(2), c(3, 2, 'get', 'a'), r(1), r(3, 1), c(4, 1, 'get', 'b'), r(4, 2)];
    const res = checkLinearizability(h, kvModel());
    if (res.verdict !== 'linearizable') throw new Error(res.message);
    const order = res.linearization.map((o) => o.id);
    expect([...order].sort()).toEqual([1, 2, 3, 4]);
    // Real time: whoever returned before another's call comes first.
    for (const a of res.linearization) for (const b of res.linearization) if (a.return < b.call) expect(order.indexOf(a.id)).toBeLessThan(order.indexOf(b.id));
    // The model, replayed in that order, gives the recorded outputs.
    const m = kvModel();
    let s = m.init();
    for (const o of res.linearization) {
      const st = m.step(s, o, o.output);
      if ('output' in st) expect(st.output).toEqual(o.output);
      s = st.state;
    }
  });

  it('says unknown, with the reason, when the budget runs out', () => {
    const h = [c(1, 1, 'inc'), c(2, 2, 'inc'), c(3, 3, 'inc'), r(1, 3), r(2, 2), r(3, 1)];
    const res = checkLinearizability(h, counterModel(), { budget: { steps: 2 } });
    expect(res.verdict).toBe('unknown');
    if (res.verdict === 'unknown') expect(res.reason).toBe('the search gave up after 2 steps (budget.steps)');
    expect(res.message).toContain('unknown');
    expect(checkLinearizability(h, counterModel()).verdict).toBe('linearizable');
  });

  it('accepts intervals (Porcupine form): touching endpoints overlap', () => {
    const ops = [
      { pid: 1, op: 'write', args: [1], call: 0, return: 10 },
      { pid: 2, op: 'read', output: 0, call: 10, return: 20 },
    ];
    expect(checkOperations(ops, registerModel(0)).verdict).toBe('linearizable');
    expect(checkOperations([ops[0]!, { ...ops[1]!, call: 11 }], registerModel(0)).verdict).toBe('not-linearizable');
  });

  it('rejects malformed histories with a message naming the event', () => {
    expect(() => checkLinearizability([r(1)], registerModel())).toThrow(/event 0: a return with id 1 that has no open call/);
    expect(() => checkLinearizability([c(1, 1, 'read'), c(2, 1, 'read')], registerModel())).toThrow(/must not overlap/);
    expect(() => checkLinearizability([c(1, 1, 'read'), r(1), c(1, 2, 'read')], registerModel())).toThrow(SimulationError);
    expect(() => checkLinearizability([c(1, 1, 'frobnicate'), r(1)], queueModel())).toThrow(/the queue model has no operation frobnicate\(\)/);
  });

  it('an empty history is linearizable', () => {
    expect(checkLinearizability([], queueModel()).verdict).toBe('linearizable');
  });
});

describe('reports', () => {
  const h: History = [
    { kind: 'call', id: 1, pid: 1001, process: 'Process-1', op: 'enqueue', args: [1], step: 3, time: 0 },
    { kind: 'return', id: 1, step: 5, time: 0 },
    { kind: 'call', id: 2, pid: 1001, process: 'Process-1', op: 'enqueue', args: [2], step: 6, time: 0 },
    { kind: 'call', id: 3, pid: 1002, process: 'Process-2', op: 'dequeue', args: [], step: 7, time: 0 },
    { kind: 'return', id: 2, step: 9, time: 0 },
    { kind: 'return', id: 3, value: 2, step: 11, time: 0 },
  ];

  it('shows the history as one column per process, with the prefix and the culprit marked', () => {
    const res = notLinearizable(checkLinearizability(h, queueModel(), { object: 'History#1' }));
    expect(res.table.columns.map((col) => col.label)).toEqual(['Process-1 (1001)', 'Process-2 (1002)']);
    expect(res.table.text).toBe(
      [
        'step | Process-1 (1001)       | Process-2 (1002)',
        '-----|------------------------|-----------------',
        '3    | [1] enqueue(1) returns |',
        '6    | [2] enqueue(2)         |',
        '7    | │                      | ✗ dequeue()',
        '9    | returns                | │',
        '11   |                        | → 2',
        '',
      ].join('\n'),
    );
    expect(res.message.split('\n')[0]).toBe('History#1 (model: queue): NOT linearizable.');
    expect(res.message).toContain('Cannot place: dequeue() → 2 by Process-2 (pid 1002), steps 7–11.');
  });

  it('is JSON-ready: the structured form survives a round trip', () => {
    const res = notLinearizable(checkLinearizability(h, queueModel()));
    const json = JSON.parse(JSON.stringify(res)) as NotLinearizable;
    expect(json.verdict).toBe('not-linearizable');
    expect(json.op.op).toBe('dequeue');
    expect(json.prefix.map((p) => p.state)).toEqual(['[1]', '[1,2]']);
    expect(json.table.rows).toHaveLength(5);
    const withRaised = checkLinearizability([c(1, 1, 'getNowait'), fail(1, 'Empty')], queueModel({ empty: { returns: null } }));
    expect(JSON.stringify(withRaised)).toContain('{"raised":"Empty"}');
  });

  it('keeps long tables to a window ending at the culprit', () => {
    const long: HistoryEvent[] = [];
    for (let i = 1; i <= 50; i++) long.push(c(i, 1, 'write', i), r(i));
    long.push(c(100, 2, 'read'), r(100, 3));
    const res = notLinearizable(checkLinearizability(long, registerModel(0), { maxRows: 10 }));
    expect(res.table.rows).toHaveLength(10);
    expect(res.table.omitted).toEqual({ before: 41, after: 0 });
    expect(res.table.text).toContain('… 41 earlier row(s)');
    expect(res.table.text).toContain('✗ read() → 3');
    expect(res.prefix).toHaveLength(50);
    expect(res.message).toContain('    … 38 earlier operation(s)\n    39. write(39) by pid 1');
  });

  it('converts to the checkers’ common Finding', () => {
    const res = notLinearizable(checkLinearizability(h, queueModel(), { object: 'History#1' }));
    const f = linearizabilityFinding(res, 'il1.token');
    expect(f).toMatchObject({ kind: 'linearizability', status: 'confirmed', token: 'il1.token' });
    expect(f.events[0]).toMatchObject({ pid: 1002, name: 'Process-2', step: 7, note: 'cannot be placed' });
    const text = formatFinding(f);
    expect(text).toContain('[linearizability, confirmed] History#1 is not linearizable (model: queue)');
    expect(text).toContain('fix: make each operation take effect at one step');
  });

  it('historyTable works on any operations', () => {
    const t = historyTable(toOperations([c(1, 'a' as unknown as number, 'put', 1), r(1)]));
    expect(t.text.split('\n')[0]).toBe('at | a');
  });

  it('raised() builds the expected output of a raising operation', () => {
    expect(raised('Empty').toJSON()).toEqual({ raised: 'Empty' });
  });
});
