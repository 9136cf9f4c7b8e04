/**
 * The simulated file system (`fs`): initial files per program, one step per read,
 * two per write (truncate, then the text), Python's JSON text and errors, and the
 * access events the checkers consume.
 */
import { describe, expect, it } from 'vitest';
import {
  FileNotFoundError,
  JSONDecodeError,
  OSError,
  PyTypeError,
  SimulationError,
  ValueError,
  program,
  run,
  runSync,
  type AccessEvent,
  type Op,
  type TraceEvent,
  type World,
} from '../src/index.js';
import { doneEvents, expectError, expectOk, lines, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

function accesses(trace: readonly TraceEvent[] | undefined): AccessEvent[] {
  expect(trace).toBeDefined();
  return (trace ?? []).filter((e): e is AccessEvent => e.type === 'access');
}

async function main<R>(body: (w: World) => Promise<R> | R, files?: Readonly<Record<string, string>>): Promise<R> {
  const r = await run(program(body, files === undefined ? {} : { files }));
  expectOk(r);
  return r.value;
}

/** What awaiting `op` throws, in a one-element array (an Op is not a promise: no `.catch`). */
async function caught(op: Op<unknown>): Promise<[unknown]> {
  try {
    await op;
  } catch (e) {
    return [e];
  }
  return [undefined];
}

/** `[name, message]` of what each thunk throws inside a process (or 'no error'). */
async function errorsOf(attempts: ((w: World) => PromiseLike<unknown>)[], files?: Readonly<Record<string, string>>): Promise<string[][]> {
  return main(async (w) => {
    const out: string[][] = [];
    for (const f of attempts) {
      try {
        await f(w);
        out.push(['no error']);
      } catch (e) {
        out.push([(e as Error).name, (e as Error).message]);
      }
    }
    return out;
  }, files);
}

describe('fs: semantics', () => {
  it('the program\'s files are on the disk when each run starts; writes do not leak into the next run', async () => {
    const prog = program(
      async ({ fs }) => {
        const before = await fs.readText('a.txt');
        await fs.writeText('a.txt', 'changed');
        await fs.writeText('new.txt', 'x');
        return [before, await fs.readText('a.txt'), await fs.exists('new.txt')];
      },
      { files: { 'a.txt': 'hello' } },
    );
    for (const seed of seeds(3)) {
      const r = await run(prog, { seed });
      expectOk(r);
      expect(r.value).toEqual(['hello', 'changed', true]);
    }
  });

  it('readJson/writeJson round-trip, and the file holds the text Python\'s json.dump writes', async () => {
    const got = await main(async ({ fs }) => {
      await fs.writeJson('t', { count: 1, s: '购票', l: [1, 2.5, null, true], e: {}, el: [], u: undefined, m: new Map<unknown, number>([[1, 2], [null, 3]]) });
      await fs.writeJson('n', [NaN, Infinity, -Infinity, 'a"b\\c\n']);
      return [await fs.readText('t'), await fs.readJson('t'), await fs.readText('n'), await fs.readJson('n')];
    });
    expect(got).toEqual([
      '{"count": 1, "s": "\\u8d2d\\u7968", "l": [1, 2.5, null, true], "e": {}, "el": [], "u": null, "m": {"1": 2, "null": 3}}',
      { count: 1, s: '购票', l: [1, 2.5, null, true], e: {}, el: [], u: null, m: { 1: 2, null: 3 } },
      '[NaN, Infinity, -Infinity, "a\\"b\\\\c\\n"]',
      [NaN, Infinity, -Infinity, 'a"b\\c\n'],
    ]);
  });

  it('readJson returns a fresh copy each time; the course\'s compact ticket file parses', async () => {
    const got = await main(
      async ({ fs }) => {
        const a = await fs.readJson<{ count: number }>('ticket');
        a.count = 99;
        return [a, await fs.readJson('ticket')];
      },
      { ticket: '{"count":1}' },
    );
    expect(got).toEqual([{ count: 99 }, { count: 1 }]);
  });

  it('exists and remove', async () => {
    const got = await main(
      async ({ fs }) => {
        const out = [await fs.exists('f'), await fs.exists('g')];
        await fs.remove('f');
        out.push(await fs.exists('f'));
        return out;
      },
      { f: '' },
    );
    expect(got).toEqual([true, false, false]);
  });

  it('a "__proto__" key in JSON is data, as in Python', async () => {
    const got = await main(async ({ fs }) => fs.readJson<Record<string, unknown>>('p'), { p: '{"__proto__": {"x": 1}}' });
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(Object.keys(got)).toEqual(['__proto__']);
  });

  it('generator processes use the same operations (yield*), under runSync', () => {
    const prog = program(
      function* ({ mp, fs }) {
        function* child(): Gen {
          const t = yield* fs.readJson<{ count: number }>('ticket');
          yield* fs.writeJson('ticket', { count: t.count - 1 });
        }
        const p = mp.Process({ target: child });
        yield* p.start();
        yield* p.join();
        return yield* fs.readText('ticket');
      },
      { files: { ticket: '{"count": 3}' } },
    );
    const r = runSync(prog, { seed: 1 });
    expectOk(r);
    expect(r.value).toBe('{"count": 2}');
  });
});

describe('fs: Python errors (messages pinned)', () => {
  it('a missing file raises FileNotFoundError (an OSError) with errno text and filename', async () => {
    const e = await main(async ({ fs }) => {
      try {
        await fs.readText('nope');
      } catch (e) {
        return e;
      }
      return null;
    });
    expect(e).toBeInstanceOf(FileNotFoundError);
    expect(e).toBeInstanceOf(OSError);
    expect((e as FileNotFoundError).filename).toBe('nope');
    expect((e as Error).message).toBe("[Errno 2] No such file or directory: 'nope'");
  });

  it('readJson, remove of a missing file, and writing to the empty path', async () => {
    expect(await errorsOf([({ fs }) => fs.readJson('x'), ({ fs }) => fs.remove('x'), ({ fs }) => fs.writeText('', 'a')])).toEqual([
      ['FileNotFoundError', "[Errno 2] No such file or directory: 'x'"],
      ['FileNotFoundError', "[Errno 2] No such file or directory: 'x'"],
      ['FileNotFoundError', "[Errno 2] No such file or directory: ''"],
    ]);
  });

  it('bad JSON raises JSONDecodeError (a ValueError) with Python\'s message and position', async () => {
    const files = { empty: '', blank: '  \n ', half: '{"a":}', extra: '{"a": 1} x', keys: "{'a': 1}", comma: '[1, 2,]', str: '"abc', nl: '{\n  "a": 1\n  "b": 2\n}' };
    const got = await errorsOf(
      Object.keys(files).map((f) => ({ fs }: World) => fs.readJson(f)),
      files,
    );
    expect(got).toEqual([
      ['JSONDecodeError', 'Expecting value: line 1 column 1 (char 0)'],
      ['JSONDecodeError', 'Expecting value: line 2 column 2 (char 4)'],
      ['JSONDecodeError', 'Expecting value: line 1 column 6 (char 5)'],
      ['JSONDecodeError', 'Extra data: line 1 column 10 (char 9)'],
      ['JSONDecodeError', 'Expecting property name enclosed in double quotes: line 1 column 2 (char 1)'],
      ['JSONDecodeError', 'Expecting value: line 1 column 7 (char 6)'],
      ['JSONDecodeError', 'Unterminated string starting at: line 1 column 1 (char 0)'],
      ['JSONDecodeError', "Expecting ',' delimiter: line 3 column 3 (char 13)"],
    ]);
    const [e] = await main(async ({ fs }) => caught(fs.readJson('e')), { e: '' });
    expect(e).toBeInstanceOf(JSONDecodeError);
    expect(e).toBeInstanceOf(ValueError);
  });

  it('a value JSON cannot hold raises TypeError/ValueError at the write step, leaving the file empty (truncated)', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const got = await main(
      async ({ mp, fs }) => {
        const out: string[] = [];
        for (const v of [new Set([1]), { f: () => 1 }, mp.Lock(), cyclic, 5n]) {
          try {
            await fs.writeJson('t', v);
            out.push(`ok ${await fs.readText('t')}`);
          } catch (e) {
            out.push(`${(e as Error).name}: ${(e as Error).message} / file is ${JSON.stringify(await fs.readText('t'))}`);
          }
        }
        try {
          await fs.writeText('t', 5 as unknown as string);
        } catch (e) {
          out.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
        return out;
      },
      { t: 'old' },
    );
    expect(got).toEqual([
      'TypeError: Object of type set is not JSON serializable / file is ""',
      'TypeError: Object of type function is not JSON serializable / file is ""',
      'TypeError: Object of type Lock is not JSON serializable / file is ""',
      'ValueError: Circular reference detected / file is ""',
      'ok 5',
      'TypeError: write() argument must be str, not int',
    ]);
    const [e] = await main(async ({ fs }) => caught(fs.writeJson('t', new Set())));
    expect(e).toBeInstanceOf(PyTypeError);
  });
});

describe('fs: misuse', () => {
  it('a non-string path is a SimulationError', async () => {
    const r = await run(program(async ({ fs }) => fs.readText(5 as unknown as string)));
    expectError(r);
    expect((r.error as SimulationError).code).toBe('INVALID_ARGUMENT');
    expect(r.message.split('\n')[0]).toBe('SimulationError: fs.readText(path): path must be a string, got 5.');
  });

  it('bad initial files are rejected by program()', () => {
    const body = async (): Promise<void> => {};
    expect(() => program(body, { files: 5 as never })).toThrow(/program\(body, \{ files \}\): files must be a plain object of path → text, got 5\./);
    expect(() => program(body, { files: { a: 1 } as never })).toThrow(/the content of "a" must be a string, got 1\./);
  });

  it('using fs outside a process is misuse', async () => {
    let world: World | null = null;
    await run(program((w) => void (world = w)));
    expect(() => world!.fs.readText('a')).toThrow(SimulationError);
  });
});

describe('fs: steps and the trace', () => {
  it('a read is one step; a write is two (truncate, then text); every access is on file:<path>, not atomic', async () => {
    const r = await run(
      program(
        async ({ fs }) => {
          await fs.readText('a');
          await fs.writeText('a', 'new');
          await fs.exists('b');
          await fs.remove('a');
          await caught(fs.readText('a'));
        },
        { files: { a: 'old' } },
      ),
      { trace: true },
    );
    expectOk(r);
    expect(doneEvents(r.trace).filter((e) => e.obj === 'fs').map((e) => `${e.op}/${e.phase} ${e.outcome}`)).toEqual([
      'readText/0 ok',
      'writeText/0 ok',
      'writeText/1 ok',
      'exists/0 ok',
      'remove/0 ok',
      'readText/0 raised',
    ]);
    const acc = accesses(r.trace);
    expect(acc.every((e) => e.obj === 'fs' && e.atomic === false)).toBe(true);
    expect(acc.map((e) => [e.loc, e.kind, e.value])).toEqual([
      ['file:a', 'read', 'old'],
      ['file:a', 'write', ''],
      ['file:a', 'write', 'new'],
      ['file:b', 'read', false],
      ['file:a', 'write', undefined],
      ['file:a', 'read', undefined],
    ]);
  });

  it('footprints: reads read the file\'s location, both steps of a write write it', async () => {
    const got = await main(async ({ fs }) => {
      const out: unknown[] = [];
      for (const make of [() => fs.readJson('t'), () => fs.exists('t'), () => fs.writeText('t', '1'), () => fs.remove('t')] as (() => Op<unknown>)[]) {
        const op = make();
        out.push(op.footprint());
        await op;
      }
      return out;
    }, { t: '0' });
    expect(got).toEqual([
      [{ loc: 'file:t', write: false }],
      [{ loc: 'file:t', write: false }],
      [{ loc: 'file:t', write: true }],
      [{ loc: 'file:t', write: true }],
    ]);
  });

  it('a reader concurrent with a writer sees the old text, the truncated file, or the new text', async () => {
    const prog = program(
      async ({ mp, fs }) => {
        const seen: string[] = [];
        const writer = mp.Process({ target: async () => fs.writeText('f', 'new') });
        const reader = mp.Process({ target: async () => void seen.push(await fs.readText('f')) });
        await writer.start();
        await reader.start();
        await writer.join();
        await reader.join();
        return seen[0];
      },
      { files: { f: 'old' } },
    );
    const seen = new Set<string | undefined>();
    for (const seed of seeds(100)) {
      const r = await run(prog, { seed, timing: 'untimed' });
      expectOk(r);
      seen.add(r.value);
    }
    expect([...seen].sort()).toEqual(['', 'new', 'old']);
  });

  it('check-then-act: two processes can both see a file missing and both create it', async () => {
    const prog = program(async ({ mp, fs, print }) => {
      async function claim(name: string): Promise<void> {
        if (!(await fs.exists('owner'))) {
          await fs.writeText('owner', name);
          await print(`${name} created the file`);
        }
      }
      const ps = ['A', 'B'].map((n) => mp.Process({ target: claim, args: [n] }));
      for (const p of ps) await p.start();
      for (const p of ps) await p.join();
      return fs.readText('owner');
    });
    let both: number | null = null;
    for (const seed of seeds(100)) {
      const r = await run(prog, { seed, timing: 'untimed' });
      expectOk(r);
      if (lines(r).length === 2) {
        both = seed;
        expect(['A', 'B']).toContain(r.value);
        break;
      }
    }
    expect(both).not.toBeNull();
  });
});
