/**
 * The atomicity checker against a brute-force conflict-serialisability check of the
 * same runs, and its precision.
 *
 * Precision: programs whose declared blocks all hold one
 * lock across every access they make — and that touch shared data nowhere else —
 * are serialisable whatever the schedule, and are never reported. fast-check
 * generates the programs: two or three processes, each a few blocks of reads and
 * read-modify-writes over three shared locations (raw memory, a Manager dict,
 * synchronized Values), nested blocks, prints and sleeps, under a Lock, an RLock,
 * a Manager Lock or a Semaphore(1), taken outside or inside the block.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { program, runSync, type Acquirable, type Op, type TraceEvent, type World } from '@interleave/core';
import { atomicity, formatFinding } from '../src/index.js';

type Gen<T = void> = Generator<Op<unknown>, T, unknown>;

type Step =
  | { readonly kind: 'read' | 'inc'; readonly loc: number }
  | { readonly kind: 'print' | 'sleep' }
  | { readonly kind: 'nested'; readonly steps: readonly Step[] };

interface Shape {
  readonly procs: readonly (readonly (readonly Step[])[])[];
  readonly data: 'raw' | 'dict' | 'value';
  readonly guard: 'Lock' | 'RLock' | 'ManagerLock' | 'Semaphore' | 'none';
  /** Take the lock around the block, or as the block's first and last operation. */
  readonly inside: boolean;
}

const leaf: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom('read' as const, 'inc' as const), loc: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constantFrom('print' as const, 'sleep' as const) }),
);
const step: fc.Arbitrary<Step> = fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: fc.record({ kind: fc.constant('nested' as const), steps: fc.array(leaf, { minLength: 1, maxLength: 3 }) }) });
const block = fc.array(step, { minLength: 1, maxLength: 4 });

function shapeArb(guard: fc.Arbitrary<Shape['guard']>): fc.Arbitrary<Shape> {
  return fc.record({
    procs: fc.array(fc.array(block, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 }),
    data: fc.constantFrom('raw' as const, 'dict' as const, 'value' as const),
    guard,
    inside: fc.boolean(),
  });
}

/** The program of a shape: every access inside a block, every block under the guard (unless 'none'). */
function build(shape: Shape) {
  return program(
    function* ({ mp, atomic, print, time }: World) {
      const raw = mp.RawArray('i', 3);
      const dict = mp.Manager().dict<number>({ k0: 0, k1: 0, k2: 0 });
      const values = [0, 1, 2].map(() => mp.Value('i', 0));
      const get = (loc: number): Op<number> =>
        shape.data === 'raw' ? raw.get(loc) : shape.data === 'dict' ? dict.get(`k${loc}`) : values[loc]!.get();
      const set = (loc: number, v: number): Op<void> =>
        shape.data === 'raw' ? raw.set(loc, v) : shape.data === 'dict' ? dict.set(`k${loc}`, v) : values[loc]!.set(v);
      const guard: Acquirable | null =
        shape.guard === 'Lock' ? mp.Lock() : shape.guard === 'RLock' ? mp.RLock() : shape.guard === 'Semaphore' ? mp.Semaphore(1) : shape.guard === 'ManagerLock' ? mp.Manager().Lock() : null;

      function* run(steps: readonly Step[]): Gen {
        for (const s of steps) {
          switch (s.kind) {
            case 'read':
              yield* get(s.loc);
              break;
            case 'inc':
              yield* set(s.loc, (yield* get(s.loc)) + 1);
              break;
            case 'print':
              yield* print('.');
              break;
            case 'sleep':
              yield* time.sleep(0.01);
              break;
            case 'nested':
              yield* atomic('inner', () => run(s.steps));
              break;
          }
        }
      }
      function* worker(blocks: readonly (readonly Step[])[]): Gen {
        for (const [i, b] of blocks.entries()) {
          const body = (): Gen => run(b);
          const label = `block-${i}`;
          if (guard === null) yield* atomic(label, body);
          else if (shape.inside) yield* atomic(label, () => guard.withLock(body));
          else yield* guard.withLock(() => atomic(label, body));
        }
      }
      const ps = shape.procs.map((blocks) => mp.Process({ target: worker, args: [blocks] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
    },
    { name: 'generated-blocks' },
  );
}

describe('atomicity precision', () => {
  it('blocks that hold one lock across all their accesses are never reported, whatever the schedule', () => {
    fc.assert(
      fc.property(
        shapeArb(fc.constantFrom('Lock' as const, 'RLock' as const, 'ManagerLock' as const, 'Semaphore' as const)),
        fc.integer({ min: 0, max: 1 << 20 }),
        fc.constantFrom('timed' as const, 'untimed' as const),
        (shape, seed, timing) => {
          const at = atomicity({ failOn: 'never' });
          const r = runSync(build(shape), { seed, timing, monitors: [at] });
          expect(r.status, r.status === 'ok' ? '' : r.message).toBe('ok');
          expect(at.findings.map(formatFinding)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the generator is not vacuous: the same programs without the lock are reported', () => {
    let reported = 0;
    fc.assert(
      fc.property(shapeArb(fc.constant('none' as const)), fc.integer({ min: 0, max: 1 << 20 }), (shape, seed) => {
        const at = atomicity({ failOn: 'never' });
        runSync(build(shape), { seed, timing: 'untimed', monitors: [at] });
        if (at.findings.length > 0) reported++;
      }),
      { numRuns: 200 },
    );
    expect(reported).toBeGreaterThan(20);
  });
});

/** A worker of the agreement property: blocks and bare accesses over three cells. */
type Item = { readonly block: readonly Access[] } | Access;
type Access = { readonly kind: 'read' | 'write'; readonly loc: number };

const accessArb: fc.Arbitrary<Access> = fc.record({ kind: fc.constantFrom('read' as const, 'write' as const), loc: fc.integer({ min: 0, max: 2 }) });
const itemArb: fc.Arbitrary<Item> = fc.oneof(accessArb, fc.record({ block: fc.array(accessArb, { minLength: 1, maxLength: 4 }) }));

function unguarded(workers: readonly (readonly Item[])[]) {
  return program(function* ({ mp, atomic }: World) {
    const cells = mp.RawArray('i', 3);
    function* access(a: Access): Gen {
      if (a.kind === 'read') yield* cells.get(a.loc);
      else yield* cells.set(a.loc, 1);
    }
    function* worker(items: readonly Item[]): Gen {
      for (const it of items) {
        if ('block' in it) {
          yield* atomic('b', function* () {
            for (const a of it.block) yield* access(a);
          });
        } else yield* access(it);
      }
    }
    const ps = workers.map((items) => mp.Process({ target: worker, args: [items] }));
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
  });
}

/**
 * Conflict-serialisability by the book, from a whole trace: one node per block and
 * per access outside blocks, program order, and an edge between every two accesses
 * of one cell by different processes, at least one a write, in the order they ran.
 */
function serialisable(trace: readonly TraceEvent[]): boolean {
  const edges = new Map<number, Set<number>>();
  const add = (a: number, b: number): void => {
    if (a === b) return;
    let s = edges.get(a);
    if (s === undefined) edges.set(a, (s = new Set()));
    s.add(b);
  };
  const last = new Map<number, number>();
  const inBlock = new Map<number, number>();
  let nodes = 0;
  const accesses: { pid: number; loc: string; write: boolean; node: number }[] = [];
  for (const e of trace) {
    if (e.type === 'atomic-begin') {
      const n = nodes++;
      if (last.has(e.pid)) add(last.get(e.pid)!, n);
      last.set(e.pid, n);
      inBlock.set(e.pid, n);
    } else if (e.type === 'atomic-end') {
      inBlock.delete(e.pid);
    } else if (e.type === 'access') {
      let n = inBlock.get(e.pid);
      if (n === undefined) {
        n = nodes++;
        if (last.has(e.pid)) add(last.get(e.pid)!, n);
        last.set(e.pid, n);
      }
      for (const x of accesses) if (x.loc === e.loc && x.pid !== e.pid && (x.write || e.kind === 'write')) add(x.node, n);
      accesses.push({ pid: e.pid, loc: e.loc, write: e.kind === 'write', node: n });
    }
  }
  // A cycle, by depth-first search.
  const state = new Array<number>(nodes).fill(0);
  const cyclic = (v: number): boolean => {
    state[v] = 1;
    for (const w of edges.get(v) ?? []) if (state[w] === 1 || (state[w] === 0 && cyclic(w))) return true;
    state[v] = 2;
    return false;
  };
  for (let v = 0; v < nodes; v++) if (state[v] === 0 && cyclic(v)) return false;
  return true;
}

describe('atomicity agrees with conflict-serialisability', () => {
  it('on random blocks and accesses under random schedules: reported exactly when the run is not serialisable', () => {
    let unserialisable = 0;
    fc.assert(
      fc.property(fc.array(fc.array(itemArb, { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 3 }), fc.integer({ min: 0, max: 1 << 20 }), (workers, seed) => {
        const at = atomicity({ failOn: 'never', implicit: false });
        const r = runSync(unguarded(workers), { seed, timing: 'untimed', monitors: [at], trace: true });
        expect(r.status).toBe('ok');
        const expected = !serialisable(r.trace!);
        if (expected) unserialisable++;
        expect(at.findings.length > 0, at.findings.map(formatFinding).join('\n')).toBe(expected);
      }),
      { numRuns: 400 },
    );
    expect(unserialisable).toBeGreaterThan(40);
  });
});
