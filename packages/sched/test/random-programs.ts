/**
 * Small random programs for the exploration properties. Two families:
 * - `blockingProgram`: locks, a re-entrant lock, a synchronized Value, a semaphore,
 *   a condition, events, a queue and joins — steps can wait for one another (and
 *   deadlock);
 * - `sharedMemoryProgram`: shared cells (reads, writes, compare-and-swap, exchange,
 *   fetch-and-add) and event flags — no step ever waits.
 * Each returns what every process observed, read when the run ends.
 */
import fc from 'fast-check';
import { program, type Event, type Lock, type Op, type Program, type Queue, type RawArray, type World } from '@interleave/core';

type Gen = Generator<Op<unknown>, void, unknown>;

export type BlockingStep =
  | { readonly kind: 'locked'; readonly lock: number; readonly inner: 'set' | 'clear' | 'read'; readonly event: number }
  | { readonly kind: 'set' | 'clear' | 'read'; readonly event: number }
  | { readonly kind: 'put'; readonly value: number }
  | { readonly kind: 'get' }
  | { readonly kind: 'tryLock'; readonly lock: number }
  | { readonly kind: 'rlocked'; readonly event: number }
  | { readonly kind: 'vget' }
  | { readonly kind: 'vset'; readonly value: number }
  | { readonly kind: 'vlocked'; readonly value: number }
  | { readonly kind: 'qget' | 'wait' | 'notify' | 'cwait' }
  /**
   * Inside a semaphore of one permit (a mutex) or two (two holders at once: no
   * hand-over): read an event, or flicker it (set, then clear) — a read inside sees
   * the flicker only if two processes hold the semaphore at once.
   */
  | { readonly kind: 'sem'; readonly event: number; readonly permits: 1 | 2; readonly inner: 'read' | 'flicker' };

const blockingStep: fc.Arbitrary<BlockingStep> = fc.oneof(
  fc.record({ kind: fc.constant('locked' as const), lock: fc.nat(1), inner: fc.constantFrom('set' as const, 'clear' as const, 'read' as const), event: fc.nat(1) }),
  fc.record({ kind: fc.constantFrom('set' as const, 'clear' as const, 'read' as const), event: fc.nat(1) }),
  fc.record({ kind: fc.constant('put' as const), value: fc.nat(9) }),
  fc.record({ kind: fc.constant('get' as const) }),
  fc.record({ kind: fc.constant('tryLock' as const), lock: fc.nat(1) }),
  fc.record({ kind: fc.constant('rlocked' as const), event: fc.nat(1) }),
  fc.record({ kind: fc.constant('vget' as const) }),
  fc.record({ kind: fc.constant('vset' as const), value: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ kind: fc.constant('vlocked' as const), value: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ kind: fc.constantFrom('qget' as const, 'wait' as const, 'notify' as const, 'cwait' as const) }),
  fc.record({ kind: fc.constant('sem' as const), event: fc.nat(1), permits: fc.constantFrom(1 as const, 2 as const), inner: fc.constantFrom('read' as const, 'flicker' as const) }),
);

/** Two processes of one or two steps, or three of one step; the main process may join them. */
export const blockingSpec = fc.record({
  processes: fc.oneof(
    fc.array(fc.array(blockingStep, { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 2 }),
    fc.array(fc.array(blockingStep, { minLength: 1, maxLength: 1 }), { minLength: 3, maxLength: 3 }),
  ),
  join: fc.boolean(),
});

export function blockingProgram({ processes: spec, join }: { readonly processes: readonly (readonly BlockingStep[])[]; readonly join: boolean }): Program<string[][]> {
  return program(
    function* ({ mp }: World) {
      const locks = [mp.Lock(), mp.Lock()];
      const events = [mp.Event(), mp.Event()];
      const q = mp.Queue<number>();
      const rl = mp.RLock();
      const v = mp.Value('i', 0);
      const sems = [mp.Semaphore(1), mp.Semaphore(2)];
      const cond = mp.Condition();
      const logs: string[][] = spec.map(() => []);
      function* event(log: string[], inner: 'set' | 'clear' | 'read', e: Event): Gen {
        if (inner === 'set') yield* e.set();
        else if (inner === 'clear') yield* e.clear();
        else log.push(String(yield* e.isSet()));
      }
      function* body(steps: readonly BlockingStep[], log: string[], ls: Lock[], es: Event[], queue: Queue<number>): Gen {
        for (const s of steps) {
          switch (s.kind) {
            case 'locked':
              yield* ls[s.lock]!.acquire();
              yield* event(log, s.inner, es[s.event]!);
              yield* ls[s.lock]!.release();
              break;
            case 'put':
              yield* queue.put(s.value);
              break;
            case 'get':
              try {
                log.push(String(yield* queue.getNowait()));
              } catch {
                log.push('empty');
              }
              break;
            case 'rlocked':
              yield* rl.acquire();
              yield* rl.acquire();
              yield* event(log, 'set', es[s.event]!);
              yield* rl.release();
              yield* rl.release();
              break;
            case 'vget':
              log.push(`v=${yield* v.get()}`);
              break;
            case 'vset':
              yield* v.set(s.value);
              break;
            case 'vlocked':
              yield* v.acquire();
              yield* v.set(s.value);
              log.push(`v=${yield* v.get()}`);
              yield* v.release();
              break;
            case 'qget':
              log.push(String(yield* queue.get()));
              break;
            case 'wait':
              yield* es[0]!.wait();
              break;
            case 'sem': {
              const sem = sems[s.permits - 1]!;
              yield* sem.acquire();
              if (s.inner === 'read') yield* event(log, 'read', es[s.event]!);
              else {
                yield* es[s.event]!.set();
                yield* es[s.event]!.clear();
              }
              yield* sem.release();
              break;
            }
            case 'notify':
              yield* cond.acquire();
              yield* cond.notify();
              yield* cond.release();
              break;
            case 'cwait':
              yield* cond.acquire();
              yield* cond.wait();
              yield* cond.release();
              break;
            case 'tryLock': {
              const got = yield* ls[s.lock]!.acquire(false);
              log.push(`try:${got}`);
              if (got) yield* ls[s.lock]!.release();
              break;
            }
            default:
              yield* event(log, s.kind, es[s.event]!);
          }
        }
      }
      const ps = spec.map((steps, i) => mp.Process({ target: body, args: [steps, logs[i]!, locks, events, q] }));
      for (const p of ps) yield* p.start();
      // Without joins the main process's exit waits for its children.
      if (join) for (const p of ps) yield* p.join();
      return logs;
    },
    { name: 'random-program' },
  );
}

export type SharedStep =
  | { readonly kind: 'get' | 'exchange' | 'fetchAdd' | 'set'; readonly cell: number; readonly value: number }
  | { readonly kind: 'cas'; readonly cell: number; readonly expected: number; readonly value: number }
  | { readonly kind: 'flag'; readonly op: 'set' | 'clear' | 'isSet' };

const sharedStep: fc.Arbitrary<SharedStep> = fc.oneof(
  fc.record({ kind: fc.constantFrom('get' as const, 'exchange' as const, 'fetchAdd' as const, 'set' as const), cell: fc.nat(2), value: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('cas' as const), cell: fc.nat(2), expected: fc.integer({ min: 0, max: 2 }), value: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('flag' as const), op: fc.constantFrom('set' as const, 'clear' as const, 'isSet' as const) }),
);

/** Two or three processes of one to three steps. */
export const sharedSpec = fc.oneof(
  fc.array(fc.array(sharedStep, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 2 }),
  fc.array(fc.array(sharedStep, { minLength: 1, maxLength: 2 }), { minLength: 3, maxLength: 3 }),
);

export function sharedMemoryProgram(spec: readonly (readonly SharedStep[])[]): Program<string[][]> {
  return program(
    function* ({ mp }: World) {
      const cells = mp.RawArray('i', [0, 0, 0]);
      const flag = mp.Event();
      const logs: string[][] = spec.map(() => []);
      function* body(steps: readonly SharedStep[], log: string[], a: RawArray, f: Event): Gen {
        for (const s of steps) {
          switch (s.kind) {
            case 'get':
              log.push(String(yield* a.get(s.cell)));
              break;
            case 'set':
              yield* a.set(s.cell, s.value);
              break;
            case 'exchange':
              log.push(String(yield* a.exchange(s.cell, s.value)));
              break;
            case 'fetchAdd':
              log.push(String(yield* a.fetchAdd(s.cell, s.value)));
              break;
            case 'cas':
              log.push(String(yield* a.compareAndSwap(s.cell, s.expected, s.value)));
              break;
            case 'flag':
              if (s.op === 'isSet') log.push(String(yield* f.isSet()));
              else yield* f[s.op]();
          }
        }
      }
      const ps = spec.map((steps, i) => mp.Process({ target: body, args: [steps, logs[i]!, cells, flag] }));
      for (const p of ps) yield* p.start();
      return logs;
    },
    { name: 'random-shared-memory-program' },
  );
}
