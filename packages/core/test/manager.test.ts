/**
 * mp.Manager(): every proxy call is one atomic step at the manager's server;
 * `update` is a read step then a write step (not atomic, as in Python); values
 * cross as copies; errors are Python's; every read and write is an access event.
 */
import { describe, expect, it } from 'vitest';
import {
  AttributeError,
  Empty,
  Full,
  KeyError,
  RuntimeError,
  SimulationError,
  ValueError,
  program,
  run,
  type AccessEvent,
  type DictProxy,
  type ListProxy,
  type Op,
  type ProcessView,
  type ProgramBody,
  type RunOptions,
  type TraceEvent,
} from '../src/index.js';
import { IndexError } from '../src/errors.js';
import { doneEvents, expectError, expectOk, holdersMonitor, lines, lowestFirst, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

/** Run a body once and return its value, failing the test if the run did not end ok. */
async function value<R>(body: ProgramBody<R>, options: RunOptions = {}): Promise<R> {
  const r = await run(program(body), options);
  expectOk(r);
  return r.value;
}

/** What a Python exception looks like in a test: its class, Python name and message. */
function pyError(e: unknown): [string, string, string] {
  const err = e as Error & { pythonName?: string };
  return [err.constructor.name, err.pythonName ?? '?', err.message];
}

/** Await an operation and return the exception it raised (fails if it did not raise). */
async function raised(op: Op<unknown>): Promise<unknown> {
  try {
    await op;
  } catch (e) {
    return e;
  }
  throw new Error(`${op.toString()} did not raise`);
}

function accesses(trace: readonly TraceEvent[] | undefined): AccessEvent[] {
  return (trace ?? []).filter((e): e is AccessEvent => e.type === 'access');
}

// ----------------------------------------------------------------------- dict

describe('Manager dict', () => {
  it('get/set/has/delete/keys/values/items/len/copy behave as a Python dict', async () => {
    const out = await value(async ({ mp }) => {
      const d = mp.Manager().dict<number>({ a: 1, b: 2 });
      await d.set('c', 3);
      await d.set('a', 10);
      await d.delete('b');
      return [
        await d.get('a'),
        await d.has('b'),
        await d.has('c'),
        await d.keys(),
        await d.values(),
        await d.items(),
        await d.len(),
        await d.copy(),
      ];
    });
    expect(out).toEqual([10, false, true, ['a', 'c'], [10, 3], [['a', 10], ['c', 3]], 2, new Map([['a', 10], ['c', 3]])]);
  });

  it('getOr, pop, popitem, setdefault, merge and clear', async () => {
    const out = await value(async ({ mp }) => {
      const d = mp.Manager().dict<number>({ a: 1 });
      const r: unknown[] = [await d.getOr('zz'), await d.getOr('zz', 0), await d.getOr('a', 0)];
      r.push(await d.setdefault('b', 2), await d.setdefault('b', 99));
      await d.merge({ c: 3, a: 100 });
      r.push(await d.items());
      r.push(await d.pop('a'), await d.pop('a', -1), await d.popitem(), await d.items());
      await d.clear();
      r.push(await d.len());
      return r;
    });
    expect(out).toEqual([undefined, 0, 1, 2, 2, [['a', 100], ['b', 2], ['c', 3]], 100, -1, ['c', 3], [['b', 2]], 0]);
  });

  it('print shows it as Python does, in insertion order, whatever the key types', async () => {
    const r = await run(
      program(async ({ mp, print }) => {
        const m = mp.Manager();
        await print(m.dict({ count: 99 }));
        await print(m.dict());
        await print(m.dict(new Map<number | string, unknown>([[2, 'x'], [1, null], ['k', [true, 1.5, "it's"]]])));
        await print(m.dict<unknown>([['b', 1], ['a', { n: undefined }]]));
        await print('dic =', m.dict({ x: 1 }));
      }),
    );
    expectOk(r);
    expect(lines(r)).toEqual(["{'count': 99}", '{}', `{2: 'x', 1: None, 'k': [True, 1.5, "it's"]}`, "{'b': 1, 'a': {'n': None}}", "dic = {'x': 1}"]);
  });

  it('a missing key raises KeyError with the key as message', async () => {
    const out = await value(async ({ mp }) => {
      const d = mp.Manager().dict<number>({ a: 1 });
      const n = mp.Manager().dict(new Map([[7, 'x']]));
      return [
        pyError(await raised(d.get('missing'))),
        pyError(await raised(d.delete('missing'))),
        pyError(await raised(d.pop('missing'))),
        pyError(await raised(d.update('missing', (v) => v + 1))),
        pyError(await raised(n.get(8))),
        pyError(await raised(mp.Manager().dict().popitem())),
        await d.items(), // nothing changed
      ];
    });
    expect(out).toEqual([
      ['KeyError', 'KeyError', "'missing'"],
      ['KeyError', 'KeyError', "'missing'"],
      ['KeyError', 'KeyError', "'missing'"],
      ['KeyError', 'KeyError', "'missing'"],
      ['KeyError', 'KeyError', '8'],
      ['KeyError', 'KeyError', "'popitem(): dictionary is empty'"],
      [['a', 1]],
    ]);
  });

  it('an uncaught KeyError ends the child with exit code 1 and a Python traceback', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const d = mp.Manager().dict();
        const p = mp.Process({ target: async (dic: DictProxy) => void (await dic.get('nope')), args: [d] });
        await p.start();
        await p.join();
        return p.exitcode;
      }),
    );
    expectOk(r);
    expect(r.value).toBe(1);
    expect(r.stderr).toBe("Process Process-1:\nTraceback (most recent call last):\nKeyError: 'nope'\n");
  });

  it('bad arguments are simulator misuse', async () => {
    const bad = async (body: ProgramBody<unknown>): Promise<string> => {
      const r = await run(program(body));
      expectError(r);
      expect(r.error).toBeInstanceOf(SimulationError);
      return (r.error as SimulationError).code;
    };
    expect(await bad(({ mp }) => mp.Manager().dict(5 as never))).toBe('INVALID_ARGUMENT');
    expect(await bad(({ mp }) => mp.Manager().dict([['a', 1, 2]] as never))).toBe('INVALID_ARGUMENT');
    expect(await bad(async ({ mp }) => void (await mp.Manager().dict().get({} as never)))).toBe('INVALID_ARGUMENT');
    expect(await bad(async ({ mp }) => void (await mp.Manager().dict({ a: 1 }).update('a', 5 as never)))).toBe('INVALID_ARGUMENT');
    expect(await bad(async ({ mp }) => void (await mp.Manager().dict({ a: 1 }).update('a', (() => Promise.resolve(1)) as never)))).toBe('INVALID_ARGUMENT');
  });
});

// ----------------------------------------------------------------------- list

describe('Manager list', () => {
  it('supports the ListProxy methods, with Python indexing', async () => {
    const out = await value(async ({ mp }) => {
      const l = mp.Manager().list([1, 2, 3]);
      await l.append(4);
      await l.extend([5, 6]);
      await l.insert(0, 0);
      await l.insert(-1, 55);
      await l.insert(100, 7);
      const r: unknown[] = [await l.copy()];
      r.push(await l.get(-1), await l.get(0), await l.pop(), await l.pop(0), await l.pop(-2));
      await l.set(-1, 60);
      await l.remove(2);
      await l.delete(0);
      r.push(await l.copy(), await l.len(), await l.index(4), await l.count(60), await l.has(3), await l.has(99));
      await l.reverse();
      r.push(await l.copy(), await l.update(0, (v) => v * 10), await l.copy());
      return r;
    });
    expect(out).toEqual([
      [0, 1, 2, 3, 4, 5, 55, 6, 7],
      7, 0, 7, 0, 55,
      [3, 4, 5, 60], 4, 1, 1, true, false,
      [60, 5, 4, 3], 600, [600, 5, 4, 3],
    ]);
  });

  it('compares elements as Python does: structurally', async () => {
    const out = await value(async ({ mp }) => {
      const l = mp.Manager().list<unknown>([[1, 2], { a: [1] }, 'x', [1, 2]]);
      await l.remove({ a: [1] });
      return [await l.count([1, 2]), await l.index('x'), await l.has([1]), await l.copy()];
    });
    expect(out).toEqual([2, 1, false, [[1, 2], 'x', [1, 2]]]);
  });

  it('raises IndexError and ValueError with Python\'s messages', async () => {
    const out = await value(async ({ mp }) => {
      const l = mp.Manager().list(['a']);
      const empty = mp.Manager().list<string>();
      return [
        pyError(await raised(l.get(1))),
        pyError(await raised(l.get(-2))),
        pyError(await raised(l.set(1, 'b'))),
        pyError(await raised(l.delete(5))),
        pyError(await raised(l.pop(3))),
        pyError(await raised(empty.pop())),
        pyError(await raised(l.update(2, (v) => v))),
        pyError(await raised(l.remove('zz'))),
        pyError(await raised(l.index('zz'))),
        await l.copy(),
      ];
    });
    expect(out).toEqual([
      ['IndexError', 'IndexError', 'list index out of range'],
      ['IndexError', 'IndexError', 'list index out of range'],
      ['IndexError', 'IndexError', 'list assignment index out of range'],
      ['IndexError', 'IndexError', 'list assignment index out of range'],
      ['IndexError', 'IndexError', 'pop index out of range'],
      ['IndexError', 'IndexError', 'pop from empty list'],
      ['IndexError', 'IndexError', 'list index out of range'],
      ['ValueError', 'ValueError', 'list.remove(x): x not in list'],
      ['ValueError', 'ValueError', "'zz' is not in list"],
      ['a'],
    ]);
    const e = await value(async ({ mp }) => raised(mp.Manager().list().get(0)));
    expect(e).toBeInstanceOf(IndexError);
  });

  it('append is one call: 10 concurrent appenders never lose an item, on any seed', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, os, print }) => {
          const l = mp.Manager().list<number>();
          const ps = Array.from({ length: 10 }, () =>
            mp.Process({ target: async (lst: ListProxy<number>) => { await lst.append(os.getpid()); }, args: [l] }),
          );
          for (const p of ps) await p.start();
          for (const p of ps) await p.join();
          await print(await l.len());
          return (await l.copy()).sort();
        }),
        { seed, timing: 'untimed' },
      );
      expectOk(r);
      expect(r.value).toEqual(Array.from({ length: 10 }, (_, i) => 1001 + i));
    }
  });

  it('print shows the list as Python does', async () => {
    const r = await run(program(async ({ mp, print }) => void (await print(mp.Manager().list([1, 'a', null, [2.5]])))));
    expectOk(r);
    expect(r.stdout).toBe("[1, 'a', None, [2.5]]\n");
  });
});

// ---------------------------------------------------------- Namespace, Value

describe('Manager Namespace and Value', () => {
  it('Namespace: get/set/has/delete/update, AttributeError, and a sorted repr', async () => {
    const r = await run(
      program(async ({ mp, print }) => {
        const ns = mp.Manager().Namespace<{ x: number; name: string; y: number }>({ x: 1 });
        await ns.set('name', 'a');
        await ns.update('x', (v) => v + 1);
        await print(ns);
        const got = [await ns.get('x'), await ns.has('y'), pyError(await raised(ns.get('y')))];
        await ns.delete('x');
        got.push(pyError(await raised(ns.delete('x'))));
        await print(ns);
        return got;
      }),
    );
    expectOk(r);
    expect(lines(r)).toEqual(["Namespace(name='a', x=2)", "Namespace(name='a')"]);
    expect(r.value).toEqual([
      2,
      false,
      ['AttributeError', 'AttributeError', "'Namespace' object has no attribute 'y'"],
      ['AttributeError', 'AttributeError', "'Namespace' object has no attribute 'x'"],
    ]);
    const e = await value(async ({ mp }) => raised(mp.Manager().Namespace().get('q')));
    expect(e).toBeInstanceOf(AttributeError);
  });

  it('Namespace: an underscore name is misuse (Python keeps it local to the proxy)', async () => {
    const r = await run(program(async ({ mp }) => void (await mp.Manager().Namespace().set('_x', 1))));
    expectError(r);
    expect((r.error as SimulationError).code).toBe('INVALID_ARGUMENT');
    expect(r.message).toContain('keeps such attributes local to the proxy');
  });

  it("Value: get/set/update, printed as Python's Value('i', 5)", async () => {
    const r = await run(
      program(async ({ mp, print }) => {
        const m = mp.Manager();
        const v = m.Value('i', 3);
        await v.set(4);
        const written = await v.update((x) => x + 1);
        await print(v, m.Value('d', 1.5), m.Value('c', 'x'));
        return [written, await v.get(), v.typecode];
      }),
    );
    expectOk(r);
    expect(r.stdout).toBe("Value('i', 5) Value('d', 1.5) Value('c', 'x')\n");
    expect(r.value).toEqual([5, 5, 'i']);
  });
});

// ----------------------------------------------------------------------- copies

describe('Manager values are copies (pickled), as in Python', () => {
  it("mutating a nested object read from the dict does not change the shared one (Python's trap)", async () => {
    const r = await run(
      program(async ({ mp, print }) => {
        const d = mp.Manager().dict<number[]>({ lst: [1, 2, 3] });
        const lst = await d.get('lst'); // Python: d['lst'].append(4) — appends to a copy
        lst.push(4);
        await print(d);
        await d.set('lst', lst); // the fix: store it back
        await print(d);
        lst.push(5); // stored as a copy too: later local changes are not shared
        await print(d);
      }),
    );
    expectOk(r);
    expect(lines(r)).toEqual(["{'lst': [1, 2, 3]}", "{'lst': [1, 2, 3, 4]}", "{'lst': [1, 2, 3, 4]}"]);
  });

  it('a child mutating what it read changes nothing for the parent', async () => {
    const r = await run(
      program(async ({ mp, print }) => {
        const d = mp.Manager().dict<{ n: number }>({ obj: { n: 1 } });
        const child = async (dic: DictProxy<string, { n: number }>): Promise<void> => {
          (await dic.get('obj')).n = 99;
        };
        const p = mp.Process({ target: child, args: [d] });
        await p.start();
        await p.join();
        await print(d);
      }),
    );
    expectOk(r);
    expect(r.stdout).toBe("{'obj': {'n': 1}}\n");
  });

  it('initial values, list items, Namespace attributes and update results are copies too', async () => {
    const out = await value(async ({ mp }) => {
      const m = mp.Manager();
      const init = { a: [1] };
      const d = m.dict(init);
      init.a.push(2);
      const item = { k: 1 };
      const l = m.list([item]);
      item.k = 2;
      (await l.get(0)).k = 3;
      const ns = m.Namespace<{ lst: number[] }>({ lst: [] });
      (await ns.get('lst')).push(1); // Python: ns.lst.append(1) — lost
      const written = await d.update('a', (v) => v);
      written.push(9);
      return [await d.get('a'), await l.get(0), await ns.get('lst')];
    });
    expect(out).toEqual([[1], { k: 1 }, []]);
  });

  it('a proxy stored in a proxy stays the same shared object (it travels by reference)', async () => {
    const out = await value(async ({ mp }) => {
      const m = mp.Manager();
      const inner = m.list<number>();
      const d = m.dict<ListProxy<number>>({ inner });
      await (await d.get('inner')).append(1);
      return [(await d.get('inner')) === inner, await inner.copy()];
    });
    expect(out).toEqual([true, [1]]);
  });
});

// -------------------------------------------------------- update: two steps

describe('update is a read step then a write step: NOT atomic', () => {
  const twoIncrements = program(async ({ mp }) => {
    const d = mp.Manager().dict({ n: 0 });
    const inc = async (dic: DictProxy<string, number>): Promise<void> => void (await dic.update('n', (v) => v + 1));
    const ps = [mp.Process({ target: inc, args: [d] }), mp.Process({ target: inc, args: [d] })];
    for (const p of ps) await p.start();
    for (const p of ps) await p.join();
    return d.get('n');
  });

  it('two processes incrementing once end at 2 on some seeds and at 1 (a lost update) on others', async () => {
    const finals = new Set<number>();
    for (const seed of seeds(40)) {
      const r = await run(twoIncrements, { seed });
      expectOk(r);
      finals.add(r.value);
    }
    expect([...finals].sort()).toEqual([1, 2]);
  });

  it('the trace shows two done events (phase 0 and 1) with a read access then a write access', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const d = mp.Manager().dict({ count: 100 });
        return d.update('count', (v) => v - 1);
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toBe(99);
    const done = doneEvents(r.trace).filter((e) => e.obj === 'DictProxy#1');
    expect(done.map((e) => [e.op, e.phase, e.value])).toEqual([
      ['update', 0, undefined],
      ['update', 1, 99],
    ]);
    const acc = accesses(r.trace);
    expect(acc.map((e) => [e.step, e.pid, e.obj, e.loc, e.kind, e.value, e.atomic])).toEqual([
      [done[0]!.step, 1000, 'DictProxy#1', 'DictProxy#1["count"]', 'read', 100, true],
      [done[1]!.step, 1000, 'DictProxy#1', 'DictProxy#1["count"]', 'write', 99, true],
    ]);
  });

  it("another process's write between the read and the write is lost", async () => {
    // Run the child, except between its update's two steps: then run main.
    const betweenSteps = {
      name: 'main-between-the-steps',
      choose: (enabled: readonly ProcessView[]): number => {
        const i = enabled.findIndex((p) => p.pid !== 1000 && !(p.pending?.name === 'update' && p.pending.phase === 1));
        return i >= 0 ? i : 0;
      },
    };
    const r = await run(
      program(async ({ mp }) => {
        const d = mp.Manager().dict({ n: 0 });
        const p = mp.Process({ target: async (dic: DictProxy<string, number>) => void (await dic.update('n', (v) => v + 1)), args: [d] });
        await p.start();
        await d.set('n', 100); // lands between the child's read (0) and its write (1)
        await p.join();
        return d.get('n');
      }),
      { strategy: betweenSteps, trace: true },
    );
    expectOk(r);
    expect(r.value).toBe(1); // main's 100 was overwritten
    expect(accesses(r.trace).map((e) => `${e.pid} ${e.kind} ${String(e.value)}`)).toEqual(['1001 read 0', '1000 write 100', '1001 write 1', '1000 read 1']);
  });

  it('the fn runs right after the read; if it throws, nothing is written', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const d = mp.Manager().dict({ n: 1 });
        const e = await raised(d.update('n', () => { throw new ValueError('bad'); }));
        return [pyError(e), await d.get('n')];
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toEqual([['ValueError', 'ValueError', 'bad'], 1]);
    expect(accesses(r.trace).filter((e) => e.kind === 'write')).toEqual([]);
  });

  it('with a manager Lock around it, 10 processes x 3 updates always end at 30', async () => {
    for (const seed of seeds(20)) {
      const m = holdersMonitor('LockProxy#1', 1);
      const r = await run(
        program(async ({ mp }) => {
          const mgr = mp.Manager();
          const lock = mgr.Lock();
          const v = mgr.Value('i', 0);
          const work = async (): Promise<void> => {
            for (let i = 0; i < 3; i++) await lock.withLock(() => v.update((x) => x + 1));
          };
          const ps = Array.from({ length: 10 }, () => mp.Process({ target: work }));
          for (const p of ps) await p.start();
          for (const p of ps) await p.join();
          return v.get();
        }),
        { seed, monitors: [m] },
      );
      expectOk(r);
      expect(r.value).toBe(30);
      expect(m.peak).toBe(1);
    }
  });
});

// ---------------------------------------------------------- access events

describe('access events', () => {
  it('every proxy read and write is an atomic access event at the step of its call', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const m = mp.Manager();
        const d = m.dict<number>({ a: 1 });
        await d.get('a');
        await d.set('b', 2);
        await d.delete('a');
        await d.has('zz');
        const l = m.list([7]);
        await l.append(8);
        await l.get(-1);
        await l.pop(0);
        const ns = m.Namespace({ x: 1 });
        await ns.set('x', 2);
        const v = m.Value('i', 0);
        await v.get();
      }),
      { trace: true },
    );
    expectOk(r);
    const acc = accesses(r.trace);
    expect(acc.every((e) => e.atomic && e.pid === 1000)).toBe(true);
    expect(acc.map((e) => `${e.kind} ${e.loc} ${String(e.value)}`)).toEqual([
      'read DictProxy#1["a"] 1',
      'write DictProxy#1["b"] 2',
      'read DictProxy#1["a"] 1',
      'write DictProxy#1["a"] undefined',
      'read DictProxy#1["zz"] undefined',
      'write ListProxy#1[1] 8',
      'read ListProxy#1[1] 8',
      'read ListProxy#1[0] 7', // pop(0): the popped element is read,
      'write ListProxy#1[0] 8', // the next one moves down,
      'write ListProxy#1[1] undefined', // and the last slot is gone
      'write NamespaceProxy#1.x 2',
      'read ValueProxy#1.value 0',
    ]);
    // Each access belongs to the step of the operation that made it.
    const done = doneEvents(r.trace);
    for (const e of acc) expect(done.some((d) => d.step === e.step && d.obj === e.obj)).toBe(true);
  });

  it('print(proxy) reads the shared state at the print step, and records the reads', async () => {
    const r = await run(
      program(async ({ mp, print }) => {
        const m = mp.Manager();
        const d = m.dict({ count: 99, other: 'x' });
        await print('now:', d, m.Namespace({ a: 1 }));
      }),
      { trace: true },
    );
    expectOk(r);
    const printStep = r.trace!.find((e) => e.type === 'print')!.step;
    expect(accesses(r.trace).map((e) => [e.step, e.kind, e.loc, e.value])).toEqual([
      [printStep, 'read', 'DictProxy#1["count"]', 99],
      [printStep, 'read', 'DictProxy#1["other"]', 'x'],
      [printStep, 'read', 'NamespaceProxy#1.a', 1],
    ]);
  });

  it('String(proxy) outside a print step shows the state without recording an access', async () => {
    const r = await run(
      program(({ mp }) => {
        const d = mp.Manager().dict({ a: 1 });
        return String(d);
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toBe("{'a': 1}");
    expect(accesses(r.trace)).toEqual([]);
  });

  it('String(proxy) while a print is issued but not yet awaited records nothing: the print reads when it runs', async () => {
    const r = await run(
      program(async ({ mp, print }) => {
        const d = mp.Manager().dict({ k: 1 });
        const x = await d.get('k');
        const pending = print('x');
        const shown = String(d); // not the print's step: that comes when it is awaited
        await pending;
        await d.set('k', x + 1);
        return shown;
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toBe("{'k': 1}");
    const gets = r.trace!.filter((e) => e.type === 'done' && e.op === 'get').map((e) => e.step);
    expect(accesses(r.trace).map((e) => [e.kind, e.loc])).toEqual([
      ['read', 'DictProxy#1["k"]'],
      ['write', 'DictProxy#1["k"]'],
    ]);
    expect(accesses(r.trace)[0]!.step).toBe(gets[0]);
  });

  it('reading calls declare a read footprint, writing calls a write one, update reads then writes', async () => {
    const out = await value(async ({ mp }) => {
      const d = mp.Manager().dict({ a: 1 });
      const fp: unknown[] = [];
      const get = d.get('a');
      fp.push(get.footprint());
      await get;
      const set = d.set('a', 2);
      fp.push(set.footprint());
      await set;
      return fp;
    });
    expect(out).toEqual([[{ loc: 'DictProxy#1', write: false }], [{ loc: 'DictProxy#1', write: true }]]);
  });

  it("print's footprint reads the proxies it prints, so exploration orders it against their writes", async () => {
    const out = await value(async ({ mp, print }) => {
      const m = mp.Manager();
      const d = m.dict();
      const l = m.list();
      const op = print('d =', d, [l]);
      const fp = op.footprint();
      await op;
      return fp;
    });
    expect(out).toEqual([
      { loc: 'stdout', write: true },
      { loc: 'DictProxy#1', write: false },
      { loc: 'ListProxy#1', write: false },
    ]);
  });
});

// ------------------------------------------------------- synchronisation

describe('Manager Lock, RLock, Semaphore, Event', () => {
  it('Lock: any process may release it; releasing it unlocked raises RuntimeError', async () => {
    const out = await value(async ({ mp }) => {
      const lock = mp.Manager().Lock();
      await lock.acquire();
      const p = mp.Process({ target: async () => { await lock.release(); } });
      await p.start();
      await p.join();
      const r: unknown[] = [p.exitcode, await lock.acquire(false)];
      await lock.release();
      r.push(pyError(await raised(lock.release())), String(lock));
      return r;
    });
    expect(out).toEqual([
      0,
      true,
      ['RuntimeError', 'RuntimeError', 'release unlocked lock (LockProxy#1.release() on an unlocked manager Lock: release only after a successful acquire(), or use withLock())'],
      '<unlocked _thread.lock object at LockProxy#1>',
    ]);
  });

  it('Lock: acquire with a timeout gives up in virtual time', async () => {
    const out = await value(async ({ mp, time }) => {
      const lock = mp.Manager().Lock();
      await lock.acquire();
      const got = await lock.acquire(true, 0.5);
      return [got, time.time()];
    });
    expect(out).toEqual([false, 0.5]);
  });

  it('RLock: re-entrant for its owner; another process releasing it raises RuntimeError', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const rl = mp.Manager().RLock();
        await rl.acquire();
        await rl.acquire();
        const p = mp.Process({ target: async () => { await rl.release(); } });
        await p.start();
        await p.join();
        await rl.release();
        await rl.release();
        return [p.exitcode, pyError(await raised(rl.release()))];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([1, ['RuntimeError', 'RuntimeError', 'cannot release un-acquired lock (RLockProxy#1.release() by MainProcess (pid 1000), which nobody holds)']]);
    expect(r.stderr).toContain('RuntimeError: cannot release un-acquired lock (RLockProxy#1.release() by Process-1 (pid 1001), held by MainProcess (pid 1000))');
    const e = await value(async ({ mp }) => raised(mp.Manager().RLock().release()));
    expect(e).toBeInstanceOf(RuntimeError);
  });

  it('Semaphore(2) admits at most 2 holders; a bounded one refuses to go above its value', async () => {
    for (const seed of seeds(20)) {
      const m = holdersMonitor('SemaphoreProxy#1', 2);
      const r = await run(
        program(async ({ mp, time, random }) => {
          const sem = mp.Manager().Semaphore(2);
          const work = async (): Promise<void> => {
            await sem.withLock(async () => { await time.sleep(random.random()); });
          };
          const ps = Array.from({ length: 5 }, () => mp.Process({ target: work }));
          for (const p of ps) await p.start();
          for (const p of ps) await p.join();
          await sem.release(); // a plain threading.Semaphore may go above its initial value
        }),
        { seed, monitors: [m] },
      );
      expectOk(r);
      expect(m.peak).toBe(2);
    }
    const out = await value(async ({ mp }) => {
      const b = mp.Manager().BoundedSemaphore(1);
      await b.acquire();
      await b.release();
      return [pyError(await raised(b.release())), String(b)];
    });
    expect(out).toEqual([
      ['ValueError', 'ValueError', 'Semaphore released too many times (BoundedSemaphoreProxy#1 is back at its initial value 1)'],
      '<threading.BoundedSemaphore at BoundedSemaphoreProxy#1: value=1>',
    ]);
  });

  it('Event: wait blocks until set; a waiter woken by set returns True even if cleared before it ran (threading)', async () => {
    const r = await run(
      program(async ({ mp, time, print }) => {
        const e = mp.Manager().Event();
        const p = mp.Process({ target: async () => { await print('woke', await e.wait()); } });
        await p.start();
        await time.sleep(1); // the child is blocked in wait()
        await e.set();
        await e.clear(); // before the child runs: main has the lowest pid
        await p.join();
        await print('timeout', await e.wait(0.5), time.time(), String(e));
      }),
      { strategy: lowestFirst },
    );
    expectOk(r);
    expect(lines(r)).toEqual(['woke True', 'timeout False 1.5 <threading.Event at EventProxy#1: unset>']);
  });

  it('Event: a timeout and a set at the same virtual time are simultaneous: the schedule orders them, and either result happens', async () => {
    const highestFirst = { name: 'highest-first', choose: (enabled: readonly unknown[]) => enabled.length - 1 };
    for (const manager of [true, false]) {
      const results: string[] = [];
      for (const strategy of [lowestFirst, highestFirst]) {
        const r = await run(
          program(async ({ mp, time, print }) => {
            const e = manager ? mp.Manager().Event() : mp.Event();
            const p = mp.Process({ target: async () => { await print(await e.wait(1), time.time()); } });
            await p.start();
            await time.sleep(1); // wakes when the child's wait times out
            await e.set();
            await p.join();
          }),
          { strategy },
        );
        expectOk(r);
        results.push(...lines(r));
      }
      // Main first: the set came before the timeout took effect (True). The child
      // first: it timed out before the set (False).
      expect(results).toEqual(['True 1', 'False 1']);
    }
  });
});

// ----------------------------------------------------------------------- Queue

describe('Manager Queue', () => {
  it('put is one synchronous call: the item is visible at once (no feeder thread)', async () => {
    const out = await value(async ({ mp }) => {
      const q = mp.Manager().Queue<number>();
      await q.put(1);
      const r: unknown[] = [await q.empty(), await q.qsize(), await q.getNowait(), await q.empty()];
      // Compare mp.Queue, whose feeder thread makes the item visible a step later.
      const mq = mp.Queue<number>();
      await mq.put(1);
      r.push(await mq.empty());
      await mq.get();
      return r;
    });
    expect(out).toEqual([false, 1, 1, true, true]);
  });

  it('an item put by a child before it signals is always there for get_nowait, on every seed', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp }) => {
          const m = mp.Manager();
          const q = m.Queue<string>();
          const ready = m.Event();
          const p = mp.Process({ target: async () => { await q.put('hi'); await ready.set(); } });
          await p.start();
          await ready.wait();
          const got = await q.getNowait();
          await p.join();
          return got;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toBe('hi');
    }
  });

  it('items are copied when put; send/recv events pair them', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.Manager().Queue<{ n: number }>();
        const item = { n: 1 };
        await q.put(item);
        item.n = 2;
        return q.get();
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toEqual({ n: 1 });
    const send = r.trace!.find((e) => e.type === 'send');
    const recv = r.trace!.find((e) => e.type === 'recv');
    expect(send?.type === 'send' && recv?.type === 'recv' && send.msg === recv.msg && send.obj === 'QueueProxy#1').toBe(true);
  });

  it('Full, Empty, timeouts, blocking put, taskDone and join', async () => {
    const out = await value(async ({ mp, time }) => {
      const q = mp.Manager().Queue<number>(1);
      await q.putNowait(1);
      const r: unknown[] = [await q.full(), pyError(await raised(q.putNowait(2))), pyError(await raised(q.put(2, true, 0.25))), time.time()];
      const p = mp.Process({ target: async () => { await time.sleep(1); await q.get(); await q.taskDone(); } });
      await p.start();
      await q.put(2); // blocks until the child's get at t=1
      r.push(time.time());
      await q.get();
      r.push(pyError(await raised(q.getNowait())), pyError(await raised(q.get(true, 0.5))));
      await q.taskDone();
      await q.join();
      r.push(pyError(await raised(q.taskDone())));
      await p.join();
      return r;
    });
    expect(out).toEqual([
      true,
      ['Full', 'Full', 'QueueProxy#1 is full (maxsize 1): put timed out or was non-blocking'],
      ['Full', 'Full', 'QueueProxy#1 is full (maxsize 1): put timed out or was non-blocking'],
      0.25,
      1.25, // the child started at 0.25 and slept 1
      ['Empty', 'Empty', 'QueueProxy#1 is empty: get timed out or was non-blocking'],
      ['Empty', 'Empty', 'QueueProxy#1 is empty: get timed out or was non-blocking'],
      ['ValueError', 'ValueError', 'task_done() called too many times (QueueProxy#1 has no unfinished task)'],
    ]);
    const e = await value(async ({ mp }) => {
      const q = mp.Manager().Queue(1);
      await q.put(1);
      return [await raised(q.put(2, false)), await raised(mp.Manager().Queue().getNowait())];
    });
    expect(e[0]).toBeInstanceOf(Full);
    expect(e[1]).toBeInstanceOf(Empty);
  });

  it('join blocks until every item is marked done; a deadlock names the queue', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const q = mp.Manager().JoinableQueue<number>();
        await q.put(1);
        await q.join();
      }),
    );
    expect(r.status).toBe('deadlock');
    expect(r.status === 'deadlock' && r.message).toContain('QueueProxy#1 has 1 unfinished task(s)');
  });
});

// --------------------------------------------------------- generator style

describe('generator processes', () => {
  it('use the same proxies with yield*, including update and withLock', async () => {
    for (const seed of seeds(20)) {
      const r = await run(
        program(function* ({ mp, print }): Gen<unknown> {
          const m = mp.Manager();
          const dic = m.dict({ count: 10 });
          const log = m.list<number>();
          const lock = mp.Lock();
          function* func(d: DictProxy<string, number>, l: ListProxy<number>, i: number): Gen {
            yield* lock.withLock(function* () {
              yield* d.update('count', (v) => v - 1);
            });
            yield* l.append(i);
          }
          const ps = Array.from({ length: 10 }, (_, i) => mp.Process({ target: func, args: [dic, log, i] }));
          for (const p of ps) yield* p.start();
          for (const p of ps) yield* p.join();
          yield* print(dic);
          const missing = yield* dic.getOr('nope', 'none');
          try {
            yield* dic.get('nope');
          } catch (e) {
            return [yield* log.len(), missing, e instanceof KeyError];
          }
          return null;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.stdout).toBe("{'count': 0}\n");
      expect(r.value).toEqual([10, 'none', true]);
    }
  });

  it('without the lock, generator processes lose updates too', async () => {
    const racy = program(function* ({ mp }): Gen<number> {
      const dic = mp.Manager().dict({ count: 10 });
      function* func(d: DictProxy<string, number>): Gen {
        yield* d.update('count', (v) => v - 1);
      }
      const ps = Array.from({ length: 10 }, () => mp.Process({ target: func, args: [dic] }));
      for (const p of ps) yield* p.start();
      for (const p of ps) yield* p.join();
      return yield* dic.get('count');
    });
    const finals = new Set<number>();
    for (const seed of seeds(10)) {
      const r = await run(racy, { seed });
      expectOk(r);
      finals.add(r.value);
    }
    expect(Math.max(...finals)).toBeGreaterThan(0);
  });
});
