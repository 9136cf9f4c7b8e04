import { describe, expect, it } from 'vitest';
import { PyAssertionError, SimulationError, ValueError, program, run, type Op, type Process } from '../src/index.js';
import { expectError, expectOk, lines, lowestFirst, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

describe('Process: lifecycle', () => {
  it('async: start / isAlive / join / exitcode / pid / name', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const e = mp.Event();
          const p = mp.Process({ target: async () => void (await e.wait()) });
          const before = [p.pid, p.exitcode, p.name, await p.isAlive()];
          await p.start();
          const running = [p.pid, p.exitcode, await p.isAlive()];
          await time.sleep(1);
          await e.set();
          await p.join();
          const after = [p.pid, p.exitcode, await p.isAlive()];
          return { before, running, after };
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual({
        before: [null, null, 'Process-1', false],
        running: [1001, null, true],
        after: [1001, 0, false],
      });
    }
  });

  it('generator: start / join / exitcode, with args passed to the target', async () => {
    const r = await run(
      program(function* ({ mp, print }) {
        function* work(a: number, b: string): Gen {
          yield* print('work', a, b);
        }
        const p = mp.Process({ target: work, args: [7, 'x'] });
        yield* p.start();
        yield* p.join();
        return [p.exitcode, yield* p.isAlive()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([0, false]);
    expect(r.stdout).toBe('work 7 x\n');
  });

  it('join waits for the child: the parent resumes at the child\'s exit time', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time, print }) => {
          const p = mp.Process({
            target: async () => {
              await time.sleep(3);
              await print('child done');
            },
          });
          await p.start();
          await p.join();
          await print('joined at', time.time());
          await p.join(); // joining an exited child returns at once
          await print('joined again at', time.time());
        }),
        { seed },
      );
      expectOk(r);
      expect(r.stdout).toBe('child done\njoined at 3\njoined again at 3\n');
    }
  });

  it('a process without target runs nothing and exits with 0', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const p = mp.Process({});
        await p.start();
        await p.join();
        return p.exitcode;
      }),
    );
    expectOk(r);
    expect(r.value).toBe(0);
  });

  it('result.processes lists every process with its exit code; steps add up', async () => {
    const r = await run(
      program(async ({ mp }) => {
        await mp.Process({ target: () => undefined }).start();
        await mp.Process({ target: () => { throw new ValueError('x'); } }).start();
      }),
    );
    expectOk(r);
    expect(r.processes.map((p) => [p.pid, p.name, p.exitcode])).toEqual([
      [1000, 'MainProcess', 0],
      [1001, 'Process-1', 0],
      [1002, 'Process-2', 1],
    ]);
    expect(r.processes.reduce((s, p) => s + p.steps, 0)).toBe(r.steps);
  });

  it('toString looks like Python\'s repr', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const p = mp.Process({ target: () => undefined, daemon: true });
        const a = p.toString();
        await p.start();
        const b = p.toString();
        await p.join();
        return [a, b, p.toString()];
      }),
      { strategy: lowestFirst },
    );
    expectOk(r);
    expect(r.value).toEqual([
      "<Process name='Process-1' initial daemon>",
      "<Process name='Process-1' pid=1001 parent=1000 started daemon>",
      "<Process name='Process-1' pid=1001 parent=1000 stopped exitcode=0 daemon>",
    ]);
  });
});

describe('Process: names and ids', () => {
  it('names are Process-N, Process-N:M for grandchildren, counted at construction; custom names are kept', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp }) => {
          const names: string[] = [];
          const child = async (): Promise<void> => {
            const a = mp.Process({ target: () => void names.push(mp.currentProcess().name) });
            const b = mp.Process({ target: () => void names.push(mp.currentProcess().name) });
            await a.start();
            await b.start();
            await a.join();
            await b.join();
          };
          const p1 = mp.Process({ target: child });
          mp.Process({}); // Process-2, never started, still counted
          const p3 = mp.Process({ target: () => void names.push(mp.currentProcess().name) });
          const custom = mp.Process({ target: () => void names.push(mp.currentProcess().name), name: 'worker' });
          for (const p of [p1, p3, custom]) await p.start();
          for (const p of [p1, p3, custom]) await p.join();
          return [names.sort(), p1.name, p3.name, custom.name, mp.currentProcess().name];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([['Process-1:1', 'Process-1:2', 'Process-3', 'worker'], 'Process-1', 'Process-3', 'worker', 'MainProcess']);
    }
  });

  it('os.getpid / os.getppid / mp.currentProcess / mp.parentProcess in main, child and grandchild', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, os }) => {
          const info: Record<string, unknown[]> = {};
          const me = (): unknown[] => [os.getpid(), os.getppid(), mp.currentProcess().pid, mp.parentProcess()?.pid ?? null, mp.parentProcess()?.name ?? null];
          let childHandle: Process | null = null;
          let selfInChild: Process | null = null;
          const child = async (): Promise<void> => {
            selfInChild = mp.currentProcess();
            info['child'] = me();
            const g = mp.Process({ target: () => void (info['grandchild'] = me()) });
            await g.start();
            await g.join();
          };
          info['main'] = me();
          childHandle = mp.Process({ target: child });
          await childHandle.start();
          await childHandle.join();
          return [info, selfInChild === childHandle];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([
        {
          main: [1000, 999, 1000, null, null],
          child: [1001, 1000, 1001, 1000, 'MainProcess'],
          grandchild: [1002, 1001, 1002, 1001, 'Process-1'],
        },
        true,
      ]);
    }
  });

  it('pids are allocated in start order, not construction order', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const a = mp.Process({});
        const b = mp.Process({});
        await b.start();
        await a.start();
        return [a.name, a.pid, b.name, b.pid];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual(['Process-1', 1002, 'Process-2', 1001]);
  });

  it('mp.activeChildren lists the started children that have not exited', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const snap = (): string[] => mp.activeChildren().map((p) => p.name).sort();
          mp.Process({}); // never started
          for (let i = 1; i <= 3; i++) await mp.Process({ target: async () => await time.sleep(i) }).start();
          const seen = [snap()];
          for (const t of [0.5, 1.5, 2.5, 3.5]) {
            await time.sleep(t - time.time());
            seen.push(snap());
          }
          return seen;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([
        ['Process-2', 'Process-3', 'Process-4'],
        ['Process-2', 'Process-3', 'Process-4'],
        ['Process-3', 'Process-4'],
        ['Process-4'],
        [],
      ]);
    }
  });

  it('mp.cpuCount is 4 by default and set by the cpuCount option', async () => {
    const prog = program(({ mp }) => mp.cpuCount());
    const a = await run(prog);
    const b = await run(prog, { cpuCount: 16 });
    expectOk(a);
    expectOk(b);
    expect([a.value, b.value]).toEqual([4, 16]);
  });
});

describe('Process: exit of the parent', () => {
  it('daemonic children are terminated (exit code -15) when the parent\'s code ends', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time, print }) => {
          const d = mp.Process({
            target: async () => {
              await print('daemon started');
              await time.sleep(10);
              await print('daemon finished'); // never
            },
            daemon: true,
          });
          await d.start();
          await time.sleep(1);
          await print('main done');
        }),
        { seed },
      );
      expectOk(r);
      expect(r.stdout).toBe('daemon started\nmain done\n');
      expect(r.time).toBe(1);
      expect(r.processes.map((p) => p.exitcode)).toEqual([0, -15]);
    }
  });

  it('non-daemonic children are waited for at exit; daemonic ones are terminated first', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(function* ({ mp, time, print }) {
          const worker = mp.Process({
            target: function* (): Gen {
              yield* time.sleep(5);
              yield* print('worker finished at', time.time());
            },
          });
          const d = mp.Process({
            target: function* (): Gen {
              yield* time.sleep(2);
              yield* print('daemon finished'); // never: killed at t=0 when main's code ends
            },
          });
          d.daemon = true;
          yield* worker.start();
          yield* d.start();
          return 'main returned';
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toBe('main returned');
      expect(r.stdout).toBe('worker finished at 5\n');
      expect(r.time).toBe(5);
      expect(r.processes.map((p) => [p.name, p.exitcode])).toEqual([
        ['MainProcess', 0],
        ['Process-1', 0],
        ['Process-2', -15],
      ]);
    }
  });

  it('a child whose code ended waits for its own children, so joining it waits for the grandchild', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time, print }) => {
          const child = mp.Process({
            target: async () => {
              await mp.Process({
                target: async () => {
                  await time.sleep(4);
                  await print('grandchild done');
                },
              }).start();
              await print('child code done');
            },
          });
          await child.start();
          await child.join();
          await print('joined child at', time.time(), 'exitcode', child.exitcode);
        }),
        { seed },
      );
      expectOk(r);
      expect(r.stdout).toBe('child code done\ngrandchild done\njoined child at 4 exitcode 0\n');
    }
  });

  it('the daemon flag can only be set before start, and daemonic processes cannot have children', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const errs: string[] = [];
        const p = mp.Process({ target: () => undefined });
        await p.start();
        try {
          p.daemon = true;
        } catch (e) {
          errs.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
        const d = mp.Process({
          daemon: true,
          target: async () => {
            try {
              await mp.Process({}).start();
            } catch (e) {
              errs.push(`${(e as Error).name}: ${(e as Error).message}`);
            }
          },
        });
        await d.start();
        await d.join();
        return [errs, p.daemon, d.daemon];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([
      ['AssertionError: process has already started', 'AssertionError: daemonic processes are not allowed to have children'],
      false,
      true,
    ]);
  });
});

describe('Process: terminate', () => {
  it('terminate stops the child at once with exit code -15', async () => {
    for (const seed of seeds(30)) {
      const r = await run(
        program(async ({ mp, time, print }) => {
          const p = mp.Process({
            target: async () => {
              for (let i = 0; ; i++) {
                await print('tick', i);
                await time.sleep(1);
              }
            },
          });
          await p.start();
          await time.sleep(2.5);
          await p.terminate();
          const alive = await p.isAlive();
          await p.join();
          await time.sleep(10);
          return [alive, p.exitcode];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([false, -15]);
      expect(r.stdout).toBe('tick 0\ntick 1\ntick 2\n');
    }
  });

  it('terminate of an exited child changes nothing; of a never-started one raises AssertionError', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const p = mp.Process({ target: () => undefined });
        await p.start();
        await p.join();
        await p.terminate();
        let err = '';
        try {
          await mp.Process({}).terminate();
        } catch (e) {
          err = (e as Error).name;
        }
        return [p.exitcode, err];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([0, 'AssertionError']);
  });

  it('a terminated process blocked on a lock leaves the run free of it', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const l = mp.Lock();
        await l.acquire();
        const p = mp.Process({ target: async () => void (await l.acquire()) });
        await p.start();
        await p.terminate();
        await p.join();
        return p.exitcode;
      }),
    );
    expectOk(r);
    expect(r.value).toBe(-15);
  });
});

describe('Process: exceptions', () => {
  it('an uncaught exception in a child gives exit code 1 and a Python-style traceback on stderr', async () => {
    for (const style of ['async', 'generator'] as const) {
      const r = await run(
        program(async ({ mp, print }) => {
          const target =
            style === 'async'
              ? async (): Promise<void> => {
                  await print('child running');
                  throw new ValueError('bad input 42');
                }
              : function* (): Gen {
                  yield* print('child running');
                  throw new ValueError('bad input 42');
                };
          const p = mp.Process({ target });
          await p.start();
          await p.join();
          await print('exitcode', p.exitcode);
        }),
      );
      expectOk(r);
      expect(r.stdout).toBe('child running\nexitcode 1\n');
      expect(r.stderr).toBe('Process Process-1:\nTraceback (most recent call last):\nValueError: bad input 42\n');
      const err = r.output.filter((l) => l.stream === 'stderr');
      expect(err.map((l) => [l.pid, l.name])).toEqual([
        [1001, 'Process-1'],
        [1001, 'Process-1'],
        [1001, 'Process-1'],
      ]);
      expect(r.processes.map((p) => p.exitcode)).toEqual([0, 1]);
    }
  });

  it('a plain JavaScript error in a child is reported with its own name', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const p = mp.Process({
          target: () => {
            throw new TypeError('x is undefined');
          },
          name: 'w',
        });
        await p.start();
        await p.join();
        return p.exitcode;
      }),
    );
    expectOk(r);
    expect(r.value).toBe(1);
    expect(r.stderr).toBe('Process w:\nTraceback (most recent call last):\nTypeError: x is undefined\n');
  });

  it('an exception escaping the main process makes the run fail with status error', async () => {
    const asyncMain = program(async ({ print }) => {
      await print('before');
      throw new ValueError('main broke');
    });
    const genMain = program(function* ({ print }) {
      yield* print('before');
      throw new ValueError('main broke');
    });
    for (const prog of [asyncMain, genMain]) {
      const r = await run(prog);
      expectError(r);
      expect(r.error).toBeInstanceOf(ValueError);
      expect(r.message).toBe('ValueError: main broke');
      expect(r.stdout).toBe('before\n');
    }
  });

  it('a Python exception from an operation, caught in the process, lets it continue', async () => {
    const r = await run(
      program(function* ({ mp, print }) {
        const l = mp.Lock();
        try {
          yield* l.release();
        } catch (e) {
          yield* print('caught', e);
        }
        yield* print('still running');
      }),
    );
    expectOk(r);
    expect(r.stdout).toMatch(/^caught semaphore or lock released too many times.*\nstill running\n$/);
  });

  it('simulator misuse in a child (a forgotten await) fails the whole run', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const l = mp.Lock();
        const p = mp.Process({
          target: async () => {
            void l.acquire(); // forgotten await: the next operation detects it
            await l.release();
          },
        });
        await p.start();
        await p.join();
      }),
    );
    expectError(r);
    expect(r.error).toBeInstanceOf(SimulationError);
    expect((r.error as SimulationError).code).toBe('FORGOTTEN_AWAIT');
  });
});

describe('Process: misuse raised as Python AssertionError', () => {
  it("join of a never-started process: 'can only join a started process'", async () => {
    const r = await run(
      program(async ({ mp }) => {
        try {
          await mp.Process({}).join();
        } catch (e) {
          return e;
        }
        return null;
      }),
    );
    expectOk(r);
    expect(r.value).toBeInstanceOf(PyAssertionError);
    expect((r.value as Error).message).toBe('can only join a started process');
  });

  it("start twice: 'cannot start a process twice' (also after it exited)", async () => {
    const r = await run(
      program(function* ({ mp }) {
        const p = mp.Process({});
        yield* p.start();
        const msgs: string[] = [];
        for (let k = 0; k < 2; k++) {
          try {
            yield* p.start();
          } catch (e) {
            msgs.push((e as Error).message);
          }
          yield* p.join();
        }
        return msgs;
      }),
    );
    expectOk(r);
    expect(r.value).toEqual(['cannot start a process twice', 'cannot start a process twice']);
  });

  it("join / isAlive of someone else's child: 'can only join/test a child process'; start by another process", async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const box: { g: Process | null; mine: Process | null } = { g: null, mine: null };
        const errs: string[] = [];
        box.mine = mp.Process({});
        const child = mp.Process({
          target: async () => {
            box.g = mp.Process({ target: async () => await time.sleep(1) });
            await box.g.start();
            try {
              await box.mine!.start();
            } catch (e) {
              errs.push((e as Error).message);
            }
            await box.g.join();
          },
        });
        await child.start();
        await time.sleep(0.5);
        for (const f of [() => box.g!.join(), () => box.g!.isAlive(), () => mp.currentProcess().join()]) {
          try {
            await f();
          } catch (e) {
            errs.push((e as Error).message);
          }
        }
        return [errs, await mp.currentProcess().isAlive()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([
      [
        'can only start a process object created by current process',
        'can only join a child process',
        'can only test a child process',
        'can only join a child process',
      ],
      true,
    ]);
  });

  it('an uncaught join of a never-started process in a child gives exit code 1', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const p = mp.Process({ target: async () => await mp.Process({}).join() });
        await p.start();
        await p.join();
        return p.exitcode;
      }),
    );
    expectOk(r);
    expect(r.value).toBe(1);
    expect(r.stderr).toContain('AssertionError: can only join a started process');
  });
});

describe('Process: join with timeout', () => {
  it('join(timeout) returns after exactly the timeout while the child still runs', async () => {
    for (const seed of seeds(20)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const e = mp.Event();
          const p = mp.Process({ target: async () => void (await e.wait()) });
          await p.start();
          await p.join(2);
          const first = [time.time(), p.exitcode, await p.isAlive()];
          await e.set();
          await p.join();
          return [first, [time.time(), p.exitcode, await p.isAlive()]];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([
        [2, null, true],
        [2, 0, false],
      ]);
    }
  });

  it('join(timeout) returns as soon as the child exits, before the timeout', async () => {
    const r = await run(
      program(function* ({ mp, time }) {
        const p = mp.Process({ target: function* (): Gen { yield* time.sleep(1.5); } });
        yield* p.start();
        yield* p.join(10);
        return [time.time(), p.exitcode];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([1.5, 0]);
  });

  it('join(0) polls; a negative timeout counts as 0', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const p = mp.Process({ target: async () => await time.sleep(1) });
        await p.start();
        await p.join(0);
        await p.join(-1);
        return [time.time(), p.exitcode];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([0, null]);
  });

  it('a join(timeout) loop lets the parent do other work while waiting', async () => {
    const r = await run(
      program(async ({ mp, time, print }) => {
        const p = mp.Process({ target: async () => await time.sleep(3.2) });
        await p.start();
        while (await p.isAlive()) {
          await p.join(1);
          await print('waited until', time.time());
        }
      }),
    );
    expectOk(r);
    expect(lines(r)).toEqual(['waited until 1', 'waited until 2', 'waited until 3', 'waited until 3.2']);
  });
});
