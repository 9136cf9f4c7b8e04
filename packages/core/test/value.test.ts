/**
 * Shared memory: mp.Value, mp.Array, mp.RawValue, mp.RawArray. Each access is one
 * step; `update` (`+=`) is two; a synchronized object's accesses take its lock for
 * their step; typecodes and values are checked as ctypes checks them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IndexError,
  PyTypeError,
  PythonError,
  RLock,
  RawArray,
  RawValue,
  SharedArray,
  SimulationError,
  Value,
  ValueError,
  program,
  run,
  runSync,
  type AccessEvent,
  type Op,
  type TraceEvent,
  type World,
} from '../src/index.js';
import { doneEvents, expectDeadlock, expectError, expectOk, lines, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

function accesses(trace: readonly TraceEvent[] | undefined): AccessEvent[] {
  expect(trace).toBeDefined();
  return (trace ?? []).filter((e): e is AccessEvent => e.type === 'access');
}

/** Run `body` in the main process and return its value (the run must end ok). */
async function main<R>(body: (w: World) => Promise<R> | R): Promise<R> {
  const r = await run(program(body));
  expectOk(r);
  return r.value;
}

/** The exception `body` throws inside a process. */
async function caught(body: (w: World) => unknown): Promise<Error> {
  return main(async (w) => {
    try {
      await body(w);
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected an exception');
  });
}

describe('Value: semantics', () => {
  it('get/set read and write the value; init defaults to zero', async () => {
    const got = await main(async ({ mp }) => {
      const v = mp.Value('i');
      const d = mp.Value('d', 2.5);
      const out: unknown[] = [await v.get(), await d.get()];
      await v.set(42);
      await d.set(-1.25);
      out.push(await v.get(), await d.get());
      return out;
    });
    expect(got).toEqual([0, 2.5, 42, -1.25]);
  });

  it('integers wrap to the C type, as ctypes does; floats of type f are 32-bit; booleans are 0/1', async () => {
    const got = await main(async ({ mp }) => [
      await mp.Value('b', 200).get(),
      await mp.Value('B', -1).get(),
      await mp.Value('h', 40000).get(),
      await mp.Value('H', -1).get(),
      await mp.Value('i', 2 ** 31).get(),
      await mp.Value('I', -1).get(),
      await mp.Value('l', 2 ** 40).get(),
      await mp.Value('q', -5).get(),
      await mp.Value('f', 0.1).get(),
      await mp.Value('d', 0.1).get(),
      await mp.Value('i', true as unknown as number).get(),
    ]);
    expect(got).toEqual([-56, 255, -25536, 65535, -(2 ** 31), 4294967295, 2 ** 40, -5, Math.fround(0.1), 0.1, 1]);
  });

  it("'c' holds a byte (a one-character string), 'u' a unicode character", async () => {
    const got = await main(async ({ mp }) => {
      const c = mp.Value('c', 'a');
      const u = mp.Value('u', '好');
      const z = mp.Value('c');
      await c.set('é');
      return [await c.get(), await u.get(), await z.get()];
    });
    expect(got).toEqual(['é', '好', '\0']);
  });

  it('a child sees and changes the same memory as its parent', async () => {
    const got = await main(async ({ mp }) => {
      const v = mp.Value('i', 1);
      const a = mp.Array('i', 3);
      const p = mp.Process({
        target: async (v: Value, a: SharedArray) => {
          await v.set((await v.get()) * 10);
          await a.set(2, 7);
        },
        args: [v, a],
      });
      await p.start();
      await p.join();
      return [await v.get(), await a.slice()];
    });
    expect(got).toEqual([10, [0, 0, 7]]);
  });

  it('print shows the Python reprs', async () => {
    const r = await run(
      program(async ({ mp, print }) => {
        await print(mp.Value('i', 5));
        await print(mp.RawValue('d', 1));
        await print(mp.Value('c', 'a', { lock: false }));
        await print(mp.Array('i', 3));
        await print(mp.RawArray('d', [1, 2]));
      }),
    );
    expectOk(r);
    expect(lines(r)).toEqual([
      '<Synchronized wrapper for c_int(5)>',
      'c_double(1.0)',
      "c_char(b'a')",
      '<SynchronizedArray wrapper for c_int_Array_3>',
      '<c_double_Array_2 object>',
    ]);
  });

  it('lock: true (default) makes a Value with a new RLock; false a RawValue; a given lock is used', async () => {
    const got = await main(({ mp }) => {
      const lock = mp.Lock();
      const a = mp.Value('i', 0);
      const b = mp.Value('i', 0, { lock: false });
      const c = mp.Value('i', 0, { lock });
      const d = mp.Value('i', 0, { lock: true });
      const e = mp.Array('i', 2, { lock: false });
      const f = mp.Array('i', 2, { lock });
      return [
        a instanceof Value && a.getLock() instanceof RLock,
        b instanceof RawValue && !('getLock' in b),
        c.getLock() === lock,
        d instanceof Value,
        e instanceof RawArray,
        f instanceof SharedArray && f.getLock() === lock,
        [a.id, b.id, c.id, d.id, e.id, f.id],
        [mp.RawValue('i').id, mp.RawArray('i', 1).id],
      ];
    });
    expect(got).toEqual([true, true, true, true, true, true, ['Value#1', 'RawValue#1', 'Value#2', 'Value#3', 'RawArray#1', 'Array#1'], ['RawValue#2', 'RawArray#2']]);
  });
});

describe('Array: semantics', () => {
  it('from a size (zeros) or from values; length is fixed and not a step; negative indices count from the end', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const a = mp.Array('i', 4);
        const b = mp.RawArray('d', [0.5, 1.5, 2.5]);
        const out: unknown[] = [a.length, b.length, await a.slice(), await b.get(-1), await b.get(0)];
        await a.set(-1, 9);
        await a.update(1, (x) => x + 5);
        out.push(await a.slice(), await a.slice(1, 3), await a.slice(-2), await a.slice(2, 1), await a.slice(-10, 10));
        return out;
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toEqual([4, 3, [0, 0, 0, 0], 2.5, 0.5, [0, 5, 0, 9], [5, 0], [0, 9], [], [0, 5, 0, 9]]);
  });

  it("'c' and 'u' arrays can be initialised from a string", async () => {
    const got = await main(async ({ mp }) => [await mp.Array('c', 'hello').slice(), await mp.RawArray('u', '好的').slice()]);
    expect(got).toEqual([['h', 'e', 'l', 'l', 'o'], ['好', '的']]);
  });

  it('an empty array is allowed', async () => {
    expect(await main(async ({ mp }) => [mp.Array('i', 0).length, await mp.Array('i', []).slice()])).toEqual([0, []]);
  });
});

describe('Value/Array: Python errors (messages pinned)', () => {
  it('storing a float into an integer Value raises TypeError at the set step', async () => {
    const e = await caught(async ({ mp }) => mp.Value('i', 0).set(1.5));
    expect(e).toBeInstanceOf(PyTypeError);
    expect(e).toBeInstanceOf(PythonError);
    expect(e.name).toBe('TypeError');
    expect(e.message).toBe("'float' object cannot be interpreted as an integer (Value#1 holds c_int: store an integer, or use typecode 'd' for floats)");
  });

  it('and at creation, synchronously, as ctypes raises in Value(...)', async () => {
    const e = await caught(({ mp }) => mp.Value('i', 1.5));
    expect(e.message).toBe("'float' object cannot be interpreted as an integer (mp.Value() holds c_int: store an integer, or use typecode 'd' for floats)");
  });

  it('the other ctypes TypeErrors', async () => {
    const msgs = await main(({ mp }) => {
      const out: string[] = [];
      const attempts: (() => unknown)[] = [
        () => mp.Value('i', 'x' as unknown as number),
        () => mp.Value('d', 'x' as unknown as number),
        () => mp.Value('c', 'ab'),
        () => mp.Value('c', '好'),
        () => mp.Value('u', 5 as unknown as string),
        () => mp.Value('u', 'ab'),
        () => mp.Value('x' as 'i'),
        () => mp.Array('i', 2.5),
        () => mp.Array('i', { a: 1 } as unknown as number[]),
        () => mp.Array('i', [1, 2.5]),
      ];
      for (const f of attempts) {
        try {
          f();
          out.push('no error');
        } catch (e) {
          out.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
      }
      return out;
    });
    expect(msgs).toEqual([
      "TypeError: 'str' object cannot be interpreted as an integer (mp.Value() holds c_int: store an integer)",
      'TypeError: must be real number, not str (mp.Value() holds c_double)',
      'TypeError: one character bytes, bytearray or integer expected (mp.Value() holds c_char: store a one-character string with a code below 256, got "ab")',
      'TypeError: one character bytes, bytearray or integer expected (mp.Value() holds c_char: store a one-character string with a code below 256, got "好")',
      'TypeError: unicode string expected instead of int instance (mp.Value() holds c_wchar)',
      'TypeError: one character unicode string expected (mp.Value() holds c_wchar, got "ab")',
      "TypeError: this type has no size (mp.Value(): unknown typecode \"x\"; use one of 'c', 'u', 'b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q', 'f', 'd')",
      "TypeError: object of type 'float' has no len() (mp.Array(): pass a size or an array of initial values)",
      "TypeError: object of type 'dict' has no len() (mp.Array(): pass a size or an array of initial values)",
      "TypeError: 'float' object cannot be interpreted as an integer (mp.Array()[1] holds c_int: store an integer, or use typecode 'd' for floats)",
    ]);
  });

  it('a negative array size raises ValueError', async () => {
    const e = await caught(({ mp }) => mp.Array('i', -1));
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toBe('Array length must be >= 0, not -1');
  });

  it('an index out of range raises IndexError at the step; a non-integer index TypeError', async () => {
    const out = await main(async ({ mp }) => {
      const a = mp.Array('i', 3);
      const errs: Error[] = [];
      for (const f of [() => a.get(3), () => a.set(-4, 1), () => a.get(1.5), () => mp.RawArray('i', 0).get(0)]) {
        try {
          await f();
        } catch (e) {
          errs.push(e as Error);
        }
      }
      return errs;
    });
    expect(out.map((e) => [e.constructor, e.message])).toEqual([
      [IndexError, 'invalid index (Array#1[3]: it has 3 cells, valid indices are -3..2)'],
      [IndexError, 'invalid index (Array#1[-4]: it has 3 cells, valid indices are -3..2)'],
      [PyTypeError, 'indices must be integers (Array#1[1.5])'],
      [IndexError, 'invalid index (RawArray#1[0]: it has 0 cells, valid indices are none)'],
    ]);
  });

  it('an uncaught TypeError ends the child with exit code 1 and a traceback, as in Python', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const v = mp.Value('i', 0);
        const p = mp.Process({ target: async (v: Value) => v.set(0.5), args: [v] });
        await p.start();
        await p.join();
        return [p.exitcode, await v.get()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([1, 0]);
    expect(r.stderr).toBe(
      "Process Process-1:\nTraceback (most recent call last):\nTypeError: 'float' object cannot be interpreted as an integer (Value#1 holds c_int: store an integer, or use typecode 'd' for floats)\n",
    );
  });
});

describe('Value/Array: misuse', () => {
  it('a bad lock option is a SimulationError naming the API', async () => {
    const r = await run(program(({ mp }) => mp.Value('i', 0, { lock: 5 as unknown as boolean })));
    expectError(r);
    expect(r.error).toBeInstanceOf(SimulationError);
    expect((r.error as SimulationError).code).toBe('INVALID_ARGUMENT');
    expect(r.message).toContain('mp.Value(typecode, init, options): lock must be true, false, an mp.Lock() or an mp.RLock(), got 5.');
  });

  it('an unknown option, a non-function update, and an async update function are misuse', async () => {
    const codes: string[] = [];
    for (const body of [
      ({ mp }: World) => mp.Array('i', 1, { lokc: false } as never),
      ({ mp }: World) => mp.Value('i', 0).update(5 as never),
      // eslint-disable-next-line @typescript-eslint/require-await -- the misuse under test
      ({ mp }: World) => mp.Value('i', 0).update((async (x: number) => x + 1) as never),
    ]) {
      const r = await run(program(body));
      expectError(r);
      codes.push(`${(r.error as SimulationError).code}: ${r.message.split('\n')[0]!}`);
    }
    expect(codes).toEqual([
      'INVALID_ARGUMENT: SimulationError: mp.Array(typecode, sizeOrInit, options): unknown option "lokc".',
      'INVALID_ARGUMENT: SimulationError: Value#1.update(fn): fn must be a function, got 5.',
      'INVALID_ARGUMENT: SimulationError: Value#1.update(): fn returned a promise or generator; it must compute the new value synchronously.',
    ]);
  });

  it('mp.Value outside a process is misuse', async () => {
    let world: World | null = null;
    await run(program((w) => void (world = w)));
    expect(() => world!.mp.Value('i', 0)).toThrow(SimulationError);
  });
});

describe('Value/Array: steps and the trace', () => {
  it('get and set are one step each; update is two (a read step, then a write step)', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const v = mp.Value('i', 1);
        await v.get();
        await v.set(2);
        return v.update((x) => x * 10);
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toBe(20);
    const done = doneEvents(r.trace).filter((e) => e.obj === 'Value#1');
    expect(done.map((e) => [e.op, e.phase, e.value])).toEqual([
      ['get', 0, 1],
      ['set', 0, undefined],
      ['update', 0, undefined],
      ['update', 1, 20],
    ]);
    const acc = accesses(r.trace);
    expect(acc.map((e) => [e.loc, e.kind, e.value, e.atomic])).toEqual([
      ['Value#1', 'read', 1, true],
      ['Value#1', 'write', 2, true],
      ['Value#1', 'read', 2, true],
      ['Value#1', 'write', 20, true],
    ]);
    // The read and the write of the update are different steps.
    expect(acc[3]!.step).toBe(acc[2]!.step + 1);
  });

  it('raw objects record non-atomic accesses; array cells have their own locations', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const v = mp.RawValue('i');
        const a = mp.RawArray('i', 3);
        const s = mp.Array('i', 2);
        await v.set(1);
        await a.set(-1, 4);
        await a.get(0);
        await s.update(1, (x) => x + 1);
        await s.slice();
      }),
      { trace: true },
    );
    expectOk(r);
    expect(accesses(r.trace).map((e) => `${e.obj} ${e.loc} ${e.kind} ${String(e.value)} ${e.atomic}`)).toEqual([
      'RawValue#1 RawValue#1 write 1 false',
      'RawArray#1 RawArray#1[2] write 4 false',
      'RawArray#1 RawArray#1[0] read 0 false',
      'Array#1 Array#1[1] read 0 true',
      'Array#1 Array#1[1] write 1 true',
      'Array#1 Array#1[0] read 0 true',
      'Array#1 Array#1[1] read 1 true',
    ]);
  });

  it('a failed update (fn throws) reads, raises, and never writes', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const v = mp.Value('i', 3);
        try {
          await v.update(() => {
            throw new Error('boom');
          });
        } catch (e) {
          return [(e as Error).message, await v.get()];
        }
        return null;
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toEqual(['boom', 3]);
    expect(accesses(r.trace).map((e) => e.kind)).toEqual(['read', 'read']);
  });

  it('footprints: reads and writes of the cell, and a read of the lock for synchronized objects', async () => {
    const got = await main(async ({ mp }) => {
      const v = mp.Value('i', 0);
      const a = mp.RawArray('i', 3);
      const out: unknown[] = [];
      // An operation is issued when called, so make and await them one at a time.
      for (const make of [() => v.get(), () => v.set(1), () => a.set(-1, 2), () => a.slice(1)] as (() => Op<unknown>)[]) {
        const op = make();
        out.push(op.footprint());
        await op;
      }
      const u = v.update((x) => x + 1);
      out.push(u.footprint());
      await u;
      return out;
    });
    expect(got).toEqual([
      [{ loc: 'Value#1', write: false }, { loc: 'RLock#1', write: false }],
      [{ loc: 'Value#1', write: true }, { loc: 'RLock#1', write: false }],
      [{ loc: 'RawArray#1[2]', write: true }],
      [{ loc: 'RawArray#1[1]', write: false }, { loc: 'RawArray#1[2]', write: false }],
      [{ loc: 'Value#1', write: false }, { loc: 'RLock#1', write: false }],
    ]);
  });
});

describe('Value: the lock', () => {
  it("an access waits while another process holds the Value's lock (Python's `with self._lock`)", async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const v = mp.Value('i', 0);
        const p = mp.Process({
          target: async (v: Value) => {
            await v.withLock(async () => {
              await time.sleep(1);
              await v.set(5);
            });
          },
          args: [v],
        });
        await p.start();
        await time.sleep(0.5);
        const got = await v.get(); // blocks until the child releases at t=1
        return [got, time.time()];
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toEqual([5, 1]);
    const block = r.trace!.find((e) => e.type === 'block' && e.obj === 'Value#1');
    expect(block).toMatchObject({ pid: 1000, op: 'get', waitsOn: 'Value#1.get() needs RLock#1, held by Process-1 (pid 1001)', heldBy: [1001] });
  });

  it('with a plain Lock, accessing the value while holding its lock deadlocks, as in Python', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const v = mp.Value('i', 0, { lock: mp.Lock() });
        await v.withLock(async () => {
          await v.update((x) => x + 1);
        });
      }),
    );
    expectDeadlock(r);
    expect(r.blocked).toEqual([
      {
        pid: 1000,
        name: 'MainProcess',
        op: 'Value#1.update(fn)',
        waitsOn: 'Value#1.update() needs Lock#1, which MainProcess (pid 1000) itself holds: a Lock is not re-entrant (use the default RLock, or access the value outside the with-block)',
        heldBy: [1000],
      },
    ]);
  });

  it('acquire/release on the Value are its lock\'s', async () => {
    const got = await main(async ({ mp }) => {
      const v = mp.Value('i', 0);
      const a = [await v.acquire(), v.getLock() instanceof RLock];
      await v.set(1); // re-entrant: fine while holding
      await v.release();
      a.push(await v.acquire(false));
      await v.release();
      return a;
    });
    expect(got).toEqual([true, true, true]);
  });
});

/** `workers` processes each do `v.value += 1` `n` times, with or without holding the lock. */
const asyncCounter = (locked: boolean, raw = false, workers = 3, n = 3) =>
  program(async ({ mp }) => {
    const v = raw ? mp.RawValue('i', 0) : mp.Value('i', 0);
    async function work(): Promise<void> {
      for (let i = 0; i < n; i++) {
        if (locked) await (v as Value).withLock(async () => v.update((x) => x + 1));
        else await v.update((x) => x + 1);
      }
    }
    const ps = Array.from({ length: workers }, () => mp.Process({ target: work }));
    for (const p of ps) await p.start();
    for (const p of ps) await p.join();
    return v.get();
  });

const genCounter = (locked: boolean, workers = 3, n = 3) =>
  program(function* ({ mp }) {
    const a = mp.Array('i', 1);
    function* work(): Gen {
      for (let i = 0; i < n; i++) {
        if (locked) {
          yield* a.withLock(function* () {
            yield* a.update(0, (x) => x + 1);
          });
        } else {
          yield* a.update(0, (x) => x + 1);
        }
      }
    }
    const ps = Array.from({ length: workers }, () => mp.Process({ target: work }));
    for (const p of ps) yield* p.start();
    for (const p of ps) yield* p.join();
    return yield* a.get(0);
  });

describe('lost updates: update is two steps', () => {
  it('async: without the lock some seed loses an update, on a Value and on a RawValue', async () => {
    for (const raw of [false, true]) {
      const values = new Set<number>();
      for (const seed of seeds(100)) {
        const r = await run(asyncCounter(false, raw), { seed, timing: 'untimed' });
        expectOk(r);
        values.add(r.value);
      }
      expect(values.has(9)).toBe(true);
      expect([...values].some((v) => v < 9)).toBe(true);
    }
  });

  it('async: holding the lock around update, no seed loses one', async () => {
    for (const seed of seeds(200)) {
      const r = await run(asyncCounter(true), { seed, timing: 'untimed' });
      expectOk(r);
      expect(r.value).toBe(9);
    }
  });

  it('generator: the same with an Array cell, under runSync', () => {
    const lost = seeds(100).map((seed) => runSync(genCounter(false), { seed })).map((r) => (expectOk(r), r.value));
    expect(lost.some((v) => v < 9)).toBe(true);
    for (const seed of seeds(200)) {
      const r = runSync(genCounter(true), { seed });
      expectOk(r);
      expect(r.value).toBe(9);
    }
  });

  it('law: for any number of workers, increments and seed, withLock loses nothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.nat(100_000), (workers, n, seed) => {
        const r = runSync(genCounter(true, workers, n), { seed, timing: 'untimed' });
        expectOk(r);
        expect(r.value).toBe(workers * n);
      }),
      { numRuns: 100 },
    );
  });

  it('the lost update is visible in the trace: read, read, write, write of the same location', async () => {
    for (const seed of seeds(100)) {
      const r = await run(asyncCounter(false, false, 2, 1), { seed, timing: 'untimed', trace: true });
      expectOk(r);
      if (r.value === 2) continue;
      const acc = accesses(r.trace).filter((e) => e.pid !== 1000);
      expect(acc.map((e) => `${e.kind} ${String(e.value)}`)).toEqual(['read 0', 'read 0', 'write 1', 'write 1']);
      return;
    }
    expect.fail('no seed lost an update');
  });
});
