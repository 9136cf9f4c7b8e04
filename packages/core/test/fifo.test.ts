import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fifo } from '../src/fifo.js';
import { program, runSync, type Queue, type World } from '../src/index.js';

describe('Fifo, the queue behind Queue, Pipe, Manager queues and Pool', () => {
  it('behaves as an array with push and shift, across compactions', () => {
    const op = fc.oneof(fc.record({ push: fc.integer() }), fc.constant('shift' as const), fc.constant('clear' as const));
    fc.assert(
      fc.property(fc.array(fc.tuple(op, fc.nat({ max: 3000 })), { maxLength: 40 }), (ops) => {
        const fifo = new Fifo<number>();
        const model: number[] = [];
        for (const [o, times] of ops) {
          const shifted: (number | undefined)[] = [];
          const expected: (number | undefined)[] = [];
          for (let k = 0; k < (o === 'clear' ? 1 : times); k++) {
            if (o === 'shift') {
              shifted.push(fifo.shift());
              expected.push(model.shift());
            } else if (o === 'clear') {
              fifo.clear();
              model.length = 0;
            } else {
              fifo.push(o.push + k);
              model.push(o.push + k);
            }
          }
          expect(shifted).toEqual(expected);
          expect(fifo.length).toBe(model.length);
          expect(fifo.peek()).toBe(model[0]);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a Queue of 50,000 items gives them back in order', () => {
    const n = 50_000;
    const r = runSync(
      program(function* ({ mp }: World) {
        const q: Queue<number> = mp.Queue();
        for (let i = 0; i < n; i++) yield* q.put(i);
        let inOrder = true;
        for (let i = 0; i < n; i++) if ((yield* q.get()) !== i) inOrder = false;
        return inOrder && (yield* q.empty());
      }),
      { maxSteps: 10 * n },
    );
    expect(r.status === 'ok' && r.value).toBe(true);
  });
});
