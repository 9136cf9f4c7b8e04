import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkLinearizability,
  counterModel,
  fromIntervals,
  kvModel,
  outputsEqual,
  queueModel,
  registerModel,
  setModel,
  type SequenceState,
  stackModel,
  type Invocation,
  type Model,
  type Operation,
  type OperationInput,
} from '../src/index.js';

/** A model under test and how to turn a random (kind, arg) into one of its operations. */
interface Subject {
  readonly name: string;
  readonly model: Model<unknown>;
  readonly op: (kind: number, arg: number) => Invocation;
}

const subjects: readonly Subject[] = [
  { name: 'register', model: registerModel(0), op: (k, a) => (k % 3 === 0 ? { op: 'write', args: [a] } : k % 3 === 1 ? { op: 'read', args: [] } : { op: 'cas', args: [a % 2, a] }) },
  { name: 'queue', model: queueModel(), op: (k, a) => (k % 2 === 0 ? { op: 'enqueue', args: [a] } : { op: 'dequeue', args: [] }) },
  { name: 'stack', model: stackModel(), op: (k, a) => (k % 2 === 0 ? { op: 'push', args: [a] } : { op: 'pop', args: [] }) },
  { name: 'counter', model: counterModel(), op: (k, a) => (k % 3 === 0 ? { op: 'inc', args: [] } : k % 3 === 1 ? { op: 'get', args: [] } : { op: 'add', args: [a] }) },
  { name: 'kv', model: kvModel(), op: (k, a) => (k % 2 === 0 ? { op: 'put', args: [`k${a % 3}`, a] } : { op: 'get', args: [`k${a % 3}`] }) },
  { name: 'set', model: setModel(), op: (k, a) => (k % 3 === 0 ? { op: 'add', args: [a % 4] } : k % 3 === 1 ? { op: 'remove', args: [a % 4] } : { op: 'has', args: [a % 4] }) },
];

/** One generated operation: which process, what, and how its interval is laid out. */
interface Spec {
  readonly pid: number;
  readonly kind: number;
  readonly arg: number;
  /** Idle time before the call, and the call's length. */
  readonly gap: number;
  readonly len: number;
  /** Where in its interval it takes effect, in [0, 1]. */
  readonly at: number;
}

const spec = (procs: number): fc.Arbitrary<Spec> =>
  fc.record({ pid: fc.nat(procs - 1), kind: fc.nat(5), arg: fc.nat(5), gap: fc.nat(6), len: fc.nat(12), at: fc.double({ min: 0, max: 1, noNaN: true }) });

/**
 * A history that is linearizable by construction: each process's operations laid
 * out one after another with random gaps and lengths (so operations of different
 * processes overlap at random), each taking effect at a random point of its
 * interval; the outputs are those of the model applied in that order.
 */
function generate(s: Subject, specs: readonly Spec[]): OperationInput[] {
  const clock = new Map<number, number>();
  const laid = specs.map((x, i) => {
    const call = (clock.get(x.pid) ?? 0) + x.gap;
    const ret = call + x.len;
    clock.set(x.pid, ret + 1);
    return { i, x, call, ret, point: call + x.at * (ret - call) };
  });
  const outputs = new Map<number, unknown>();
  let state = s.model.init();
  for (const l of [...laid].sort((a, b) => a.point - b.point || a.i - b.i)) {
    const input = s.op(l.x.kind, l.x.arg);
    const r = s.model.step(state, input, undefined);
    outputs.set(l.i, 'output' in r ? r.output : undefined);
    state = r.state;
  }
  return laid.map((l) => ({ id: l.i, pid: l.x.pid, ...s.op(l.x.kind, l.x.arg), output: outputs.get(l.i), call: l.call, return: l.ret }));
}

/** Every order that respects real time, tried one by one: the reference answer for small histories. */
function bruteForce(model: Model<unknown>, ops: readonly Operation[]): boolean {
  const placed = new Array<boolean>(ops.length).fill(false);
  const go = (state: unknown, left: number): boolean => {
    if (left === 0) return true;
    let minReturn = Infinity;
    ops.forEach((o, i) => {
      if (!placed[i] && !o.pending) minReturn = Math.min(minReturn, o.return);
    });
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i]!;
      if (placed[i] || o.call > minReturn) continue;
      const r = model.step(state, o, o.output);
      if (!r.ok) continue;
      if (!o.pending && ('output' in r ? !outputsEqual(r.output, o.output) : false)) continue;
      placed[i] = true;
      const ok = go(r.state, left - (o.pending ? 0 : 1));
      placed[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return go(model.init(), ops.filter((o) => !o.pending).length);
}

/** The witness respects real time, and replaying it through the model gives the recorded outputs. */
function validWitness(model: Model<unknown>, ops: readonly Operation[], order: readonly Operation[]): boolean {
  const pos = new Map(order.map((o, k) => [o.index, k]));
  for (const o of ops) if (!o.pending && !pos.has(o.index)) return false;
  for (const a of order) for (const b of order) if (a.return < b.call && pos.get(a.index)! > pos.get(b.index)!) return false;
  let state = model.init();
  for (const o of order) {
    const r = model.step(state, o, o.output);
    if (!r.ok || (!o.pending && 'output' in r && !outputsEqual(r.output, o.output))) return false;
    state = r.state;
  }
  return true;
}

describe('property: histories of sequential executions, widened into overlapping intervals, are linearizable', () => {
  for (const s of subjects) {
    it(`${s.name}`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 5 }).chain((procs) => fc.array(spec(procs), { minLength: 0, maxLength: 40 })), (specs) => {
          const ops = fromIntervals(generate(s, specs));
          const r = checkLinearizability(ops, s.model);
          if (r.verdict !== 'linearizable') return false;
          return validWitness(s.model, ops, r.linearization);
        }),
        { numRuns: 150 },
      );
    });
  }
});

describe('property: swapping the results of two operations that do not overlap', () => {
  it('breaks a sequential history whenever the two results differ (the model replays it one way only)', () => {
    for (const s of subjects) {
      fc.assert(
        fc.property(fc.array(spec(3), { minLength: 2, maxLength: 30 }), fc.nat(), fc.nat(), (specs, x, y) => {
          // Sequential: every operation ends before the next starts.
          const ops = generate(
            s,
            specs.map((sp) => ({ ...sp, pid: 0 })),
          );
          const i = x % ops.length;
          const j = y % ops.length;
          const a = ops[i]!.output;
          const b = ops[j]!.output;
          // Only results the model compares can be told apart: reads, dequeues...
          const compared = (o: OperationInput): boolean => 'output' in s.model.step(s.model.init(), o as Invocation, undefined);
          fc.pre(i !== j && !outputsEqual(a, b) && compared(ops[i]!) && compared(ops[j]!));
          const swapped = ops.map((o, k) => (k === i ? { ...o, output: b } : k === j ? { ...o, output: a } : o));
          return checkLinearizability(fromIntervals(swapped), s.model).verdict === 'not-linearizable';
        }),
        { numRuns: 100 },
      );
    }
  });

  it('gives the verdict of trying every order, on small widened histories with swapped results and pending calls', () => {
    for (const s of subjects) {
      fc.assert(
        fc.property(fc.array(spec(3), { minLength: 1, maxLength: 7 }), fc.nat(), fc.nat(), fc.nat(), (specs, x, y, z) => {
          const ops = generate(s, specs);
          const i = x % ops.length;
          const j = y % ops.length;
          const [a, b] = [ops[i]!, ops[j]!];
          const overlap = !(a.return! < b.call || b.return! < a.call);
          let mutated = overlap ? ops : ops.map((o, k) => (k === i ? { ...o, output: b.output } : k === j ? { ...o, output: a.output } : o));
          // Sometimes the last call of a process never returns.
          if (z % 3 === 0) {
            const k = z % mutated.length;
            const last = mutated.filter((o) => o.pid === mutated[k]!.pid).reduce((p, o) => (o.call > p.call ? o : p));
            mutated = mutated.map((o) => (o === last ? { ...o, return: Infinity } : o));
          }
          const parsed = fromIntervals(mutated);
          const r = checkLinearizability(parsed, s.model);
          const expected = bruteForce(s.model, parsed);
          if ((r.verdict === 'linearizable') !== expected) return false;
          return r.verdict !== 'linearizable' || validWitness(s.model, parsed, r.linearization);
        }),
        { numRuns: 200 },
      );
    }
  });
});

describe('property: on arbitrary small histories (random intervals and results) the search agrees with trying every order', () => {
  for (const s of subjects) {
    it(`${s.name}`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.record({ x: spec(3), out: fc.nat(3), nothing: fc.boolean() }), { minLength: 1, maxLength: 7 }),
          (xs) => {
            // The layout of a generated history, with results drawn at random instead.
            const laid = generate(s, xs.map((x) => x.x));
            const ops = fromIntervals(laid.map((o, i) => ({ ...o, output: xs[i]!.nothing ? null : xs[i]!.out })));
            const r = checkLinearizability(ops, s.model);
            return (r.verdict === 'linearizable') === bruteForce(s.model, ops) && (r.verdict !== 'linearizable' || validWitness(s.model, ops, r.linearization));
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});

describe('property: SequenceState, the queue and stack models’ shared-buffer state', () => {
  type Step = { readonly from: number; readonly op: 'append' | 'dropFirst' | 'dropLast'; readonly x: unknown };
  const stepArb: fc.Arbitrary<Step> = fc.record({
    from: fc.nat(),
    op: fc.constantFrom('append' as const, 'append' as const, 'dropFirst' as const, 'dropLast' as const),
    // Few distinct values, some structured: equal contents from different branches are common.
    x: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.constantFrom('a', [1], { k: 1 }, null)),
  });

  it('an empty state shows no element of its buffer, refuses a drop with a clear error, and each check starts from a buffer of its own', () => {
    const empty = queueModel().init();
    const drained = empty.append('A').dropFirst();
    empty.append('B'); // a sibling writes past the drained state's window
    expect([drained.size, drained.first(), drained.last()]).toEqual([0, undefined, undefined]);
    expect(() => drained.dropFirst()).toThrow(/SequenceState\.dropFirst\(\): the sequence is empty, there is nothing to drop\.\n {2}How to fix: check `size` first/);
    expect(() => stackModel().init().dropLast()).toThrow(/SequenceState\.dropLast\(\): the sequence is empty/);
    expect(queueModel().init().first()).toBeUndefined();
  });

  it('every state derived from any earlier one holds what a plain array would; equal contents are equal and hash alike, others are not equal', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
        const states: { s: SequenceState; plain: unknown[] }[] = [{ s: queueModel().init(), plain: [] }];
        for (const st of steps) {
          const { s, plain } = states[st.from % states.length]!;
          if (st.op === 'append') states.push({ s: s.append(st.x), plain: [...plain, st.x] });
          else if (plain.length > 0) states.push(st.op === 'dropFirst' ? { s: s.dropFirst(), plain: plain.slice(1) } : { s: s.dropLast(), plain: plain.slice(0, -1) });
        }
        const key = (xs: unknown[]): string => JSON.stringify(xs);
        for (const a of states) {
          expect(a.s.toArray()).toEqual(a.plain);
          expect(a.s.size).toBe(a.plain.length);
          for (const b of states) {
            const same = key(a.plain) === key(b.plain);
            expect(a.s.equals(b.s)).toBe(same);
            if (same) expect(a.s.hash).toBe(b.s.hash);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
