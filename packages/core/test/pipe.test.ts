/**
 * Pipe and Connection: send/recv/poll, duplex and one-way pipes, and the
 * per-process handle counting that decides end of file — recv raises EOFError only
 * when the buffer is empty and the other end is closed in every process; a process
 * holds the ends it created or got in its args, and stops holding them at close()
 * or exit. An end left open anywhere makes a reader hang: a deadlock whose report
 * names the end and who holds it.
 */
import { describe, expect, it } from 'vitest';
import {
  BrokenPipeError,
  EOFError,
  OSError,
  program,
  run,
  runSync,
  type Connection,
  type Op,
  type RunResult,
  type TraceEvent,
} from '../src/index.js';
import { expectDeadlock, expectOk, lines, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;
type SendEvent = Extract<TraceEvent, { type: 'send' }>;
type RecvEvent = Extract<TraceEvent, { type: 'recv' }>;

const MAIN = 1000;
const CHILD1 = 1001;
const CHILD2 = 1002;

/** A caught exception as `Name: message`, or null when the operation returned. */
async function raised(op: Op<unknown>): Promise<string | null> {
  try {
    await op;
    return null;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** The send and recv events of a trace, paired by msg id. */
function messagePairs(r: RunResult): { sends: SendEvent[]; recvs: RecvEvent[] } {
  const t = r.trace ?? [];
  return {
    sends: t.filter((e): e is SendEvent => e.type === 'send'),
    recvs: t.filter((e): e is RecvEvent => e.type === 'recv'),
  };
}

// ------------------------------------------------------------- send / recv

describe('Pipe: send and recv', () => {
  it('left/right in one process: what one end sends, the other receives, both ways, in order', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const [left, right] = mp.Pipe<string>();
        await left.send('1234');
        await left.send('5678');
        await right.send('back');
        return [await right.recv(), await right.recv(), await left.recv()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual(['1234', '5678', 'back']);
  });

  it('async: a child sends 10 values with random pauses; the parent receives them in order (200 seeds)', async () => {
    for (const seed of seeds(200)) {
      const r = await run(
        program(async ({ mp, time, random }) => {
          const [parentConn, childConn] = mp.Pipe<number>();
          const child = async (conn: Connection<number>): Promise<void> => {
            for (let i = 0; i < 10; i++) {
              if (random.random() < 0.5) await time.sleep(random.random());
              await conn.send(i);
            }
          };
          await mp.Process({ target: child, args: [childConn] }).start();
          const got: number[] = [];
          for (let i = 0; i < 10; i++) got.push(await parentConn.recv());
          return got;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });

  it('generator: ping-pong over a duplex pipe, under runSync (200 seeds)', () => {
    const prog = program(function* ({ mp }): Gen<number[]> {
      const [a, b] = mp.Pipe<number>();
      function* echo(conn: Connection<number>): Gen {
        for (let i = 0; i < 5; i++) yield* conn.send((yield* conn.recv()) * 10);
      }
      yield* mp.Process({ target: echo, args: [b] }).start();
      const got: number[] = [];
      for (let i = 1; i <= 5; i++) {
        yield* a.send(i);
        got.push(yield* a.recv());
      }
      return got;
    });
    for (const seed of seeds(200)) {
      const r = runSync(prog, { seed, timing: 'untimed' });
      expectOk(r);
      expect(r.value).toEqual([10, 20, 30, 40, 50]);
    }
  });

  it('send copies at once (no feeder): mutating after send never changes what is received (200 seeds)', async () => {
    for (const seed of seeds(200)) {
      const r = await run(
        program(async ({ mp, print }) => {
          const [a, b] = mp.Pipe<{ n: number }>();
          let received: number | null = null;
          const child = async (conn: Connection<{ n: number }>): Promise<void> => {
            received = (await conn.recv()).n;
          };
          const c = mp.Process({ target: child, args: [b] });
          await c.start();
          const obj = { n: 1 };
          await a.send(obj);
          await print('sent');
          obj.n = 2;
          await c.join();
          return received;
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toBe(1);
    }
  });

  it('sends never block: a pipe has no capacity limit in the model', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const [a, b] = mp.Pipe<number>();
        for (let i = 0; i < 10_000; i++) await a.send(i);
        let last = -1;
        for (let i = 0; i < 10_000; i++) last = await b.recv();
        return [last, time.time()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([9999, 0]);
  });
});

// --------------------------------------------------------------------- poll

describe('Connection.poll', () => {
  it('poll() only looks: false with nothing there, true with data; it consumes nothing', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const [a, b] = mp.Pipe<string>();
        const empty = await b.poll();
        await a.send('x');
        const ready = [await b.poll(), await b.poll(0)];
        return [empty, ready, await b.recv(), await b.poll(), time.time()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([false, [true, true], 'x', false, 0]);
  });

  it('poll(t) with nothing coming returns false after exactly t virtual seconds (100 seeds)', async () => {
    for (const seed of seeds(100)) {
      const r = await run(
        program(async ({ mp, time, random }) => {
          const [a] = mp.Pipe();
          await mp.Process({ target: async () => { for (let i = 0; i < 4; i++) await time.sleep(random.random()); } }).start();
          await time.sleep(0.25);
          const got = await a.poll(1.5);
          return [got, time.time()];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([false, 1.75]);
    }
  });

  it('poll(t) returns true as soon as data arrives; poll(null) waits for it however long it takes', async () => {
    for (const seed of seeds(50)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const [a, b] = mp.Pipe<string>();
          const late = async (conn: Connection<string>, delay: number): Promise<void> => {
            await time.sleep(delay);
            await conn.send('late');
          };
          await mp.Process({ target: late, args: [b, 0.4] }).start();
          const first = [await a.poll(1), time.time(), await a.recv()];
          await mp.Process({ target: late, args: [b, 30] }).start();
          const second = [await a.poll(null), time.time(), await a.recv()];
          return [first, second];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([
        [true, 0.4, 'late'],
        [true, 30.4, 'late'],
      ]);
    }
  });

  it('poll() is true at end of file: recv would not block (it raises EOFError)', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const [a, b] = mp.Pipe();
        await b.close();
        return [await a.poll(), await a.poll(null), await raised(a.recv())];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([true, true, expect.stringMatching(/^EOFError: /)]);
  });
});

// -------------------------------------------------------------- duplex=false

describe('Pipe(duplex=false)', () => {
  it('the first end only receives, the second only sends: the wrong direction raises OSError at once', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const [reader, writer] = mp.Pipe<string>(false);
        const wrong = [
          await raised(reader.send('x')),
          await raised(writer.recv()), // would block forever if it were not refused first
          await raised(writer.poll(null)),
        ];
        await writer.send('ok');
        return [wrong, await reader.recv(), [reader.readable, reader.writable, writer.readable, writer.writable], time.time()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([
      [
        'OSError: connection is read-only (Connection#1 is the receiving end of Pipe(duplex=false))',
        'OSError: connection is write-only (Connection#2 is the sending end of Pipe(duplex=false))',
        'OSError: connection is write-only (Connection#2 is the sending end of Pipe(duplex=false))',
      ],
      'ok',
      [true, false, false, true],
      0,
    ]);
  });

  it('generator: a one-way pipe from a child to its parent, ending on EOFError (200 seeds)', () => {
    const prog = program(function* ({ mp }): Gen<[number[], string]> {
      const [reader, writer] = mp.Pipe<number>(false);
      function* child(w: Connection<number>): Gen {
        for (let i = 0; i < 4; i++) yield* w.send(i);
        yield* w.close();
      }
      yield* mp.Process({ target: child, args: [writer] }).start();
      yield* writer.close();
      const got: number[] = [];
      for (;;) {
        try {
          got.push(yield* reader.recv());
        } catch (e) {
          return [got, (e as Error).name];
        }
      }
    });
    for (const seed of seeds(200)) {
      const r = runSync(prog, { seed, timing: 'untimed' });
      expectOk(r);
      expect(r.value).toEqual([[0, 1, 2, 3], 'EOFError']);
    }
  });
});

// ------------------------------------------------------ EOF and handle counting

describe('Pipe: EOFError only when the other end is closed everywhere', () => {
  /**
   * A child gets the writer end in its args, sends 3 values and exits (without
   * closing). The parent closes its own copy of the writer or not, then reads to EOF.
   */
  const readToEof = (parentClosesWriter: boolean) =>
    program(async ({ mp, time, random }) => {
      const [reader, writer] = mp.Pipe<number>();
      const child = async (w: Connection<number>): Promise<void> => {
        for (let i = 0; i < 3; i++) {
          await time.sleep(random.random());
          await w.send(i);
        }
      };
      await mp.Process({ target: child, args: [writer] }).start();
      if (parentClosesWriter) await writer.close();
      const got: number[] = [];
      for (;;) {
        try {
          got.push(await reader.recv());
        } catch (e) {
          return [got, e instanceof EOFError, (e as Error).message];
        }
      }
    });

  it("the child's exit closes its handle: once the parent closed its own, every value arrives, then EOFError (300 seeds)", async () => {
    for (const seed of seeds(300)) {
      const r = await run(readToEof(true), { seed });
      expectOk(r);
      expect(r.value).toEqual([[0, 1, 2], true, 'Connection#1: the other end is closed in every process and no data is left']);
    }
  });

  it('with the parent still holding the writer, the reader hangs: the report names the open end and its holder (100 seeds)', async () => {
    for (const seed of seeds(100)) {
      const r = await run(readToEof(false), { seed });
      expectDeadlock(r);
      expect(r.blocked).toEqual([
        {
          pid: MAIN,
          name: 'MainProcess',
          op: 'Connection#1.recv()',
          waitsOn:
            'waiting for data on Connection#1; the other end Connection#2 is still open in MainProcess (pid 1000) ' +
            '(a handle left open keeps recv() from ever raising EOFError)',
          heldBy: [MAIN],
        },
      ]);
      expect(r.message).toContain('MainProcess (pid 1000) is blocked in Connection#1.recv(): waiting for data on Connection#1; the other end Connection#2 is still open in MainProcess (pid 1000)');
    }
  });

  it('an end held open by a live child that is itself stuck: the report names that child as the holder', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const [reader, writer] = mp.Pipe<number>();
        const ev = mp.Event();
        const child = async (w: Connection<number>): Promise<void> => {
          await w.send(1);
          await ev.wait(); // never set: the child keeps its writer open forever
        };
        await mp.Process({ target: child, args: [writer] }).start();
        await writer.close();
        const first = await reader.recv();
        await reader.recv(); // hangs: Process-1 still holds Connection#2
        return first;
      }),
      { seed: 7 },
    );
    expectDeadlock(r);
    const main = r.blocked.find((b) => b.pid === MAIN)!;
    expect(main.op).toBe('Connection#1.recv()');
    expect(main.waitsOn).toContain('the other end Connection#2 is still open in Process-1 (pid 1001)');
    expect(main.heldBy).toEqual([CHILD1]);
    expect(r.message).toContain('Process-1 (pid 1001) is blocked in Event#1.wait()');
  });

  it('the report lists every process still holding the end', async () => {
    const r = await run(
      program(async ({ mp, time }) => {
        const [reader, writer] = mp.Pipe();
        const holder = async (_w: Connection): Promise<void> => {
          await time.sleep(1000); // holds the writer while sleeping... then exits
        };
        for (let i = 0; i < 2; i++) await mp.Process({ target: holder, args: [writer] }).start();
        // MainProcess keeps its copy too: recv never sees EOF, even after the children exit.
        await reader.recv();
      }),
      { trace: true },
    );
    expectDeadlock(r);
    // At t=1000 both children have exited and closed their handles; only main's remains.
    expect(r.blocked).toHaveLength(1);
    expect(r.blocked[0]!.heldBy).toEqual([MAIN]);
    // While the children slept, the block event named all three holders.
    const block = r.trace!.find((e) => e.type === 'block' && e.pid === MAIN);
    expect(block).toMatchObject({ obj: 'Connection#1', heldBy: [MAIN, CHILD1, CHILD2] });
    expect(block?.type === 'block' && block.waitsOn).toContain('still open in MainProcess (pid 1000), Process-1 (pid 1001), Process-2 (pid 1002)');
  });

  it('closing the end in the producer alone has no effect while the consumer holds it too (the course\'s warning)', async () => {
    for (const seed of seeds(100)) {
      const r = await run(
        program(async ({ mp }) => {
          const [out, inp] = mp.Pipe<string>();
          const producer = async (_out: Connection<string>, inp: Connection<string>): Promise<void> => {
            await inp.send('x');
            await inp.close();
          };
          const consumer = async (out: Connection<string>, _inp: Connection<string>): Promise<void> => {
            // forgot: await _inp.close();
            for (;;) await out.recv();
          };
          await mp.Process({ target: producer, args: [out, inp] }).start();
          await mp.Process({ target: consumer, args: [out, inp] }).start();
          await out.close();
          await inp.close();
        }),
        { seed },
      );
      expectDeadlock(r);
      const c = r.blocked.find((b) => b.pid === CHILD2)!;
      expect(c.op).toBe('Connection#1.recv()');
      expect(c.heldBy).toEqual([CHILD2]); // the consumer itself holds the other end
      expect(c.waitsOn).toContain('the other end Connection#2 is still open in Process-2 (pid 1002)');
    }
  });

  it('a terminated process closes its handles too', async () => {
    for (const seed of seeds(50)) {
      const r = await run(
        program(async ({ mp, time }) => {
          const [reader, writer] = mp.Pipe();
          const stuck = async (_w: Connection): Promise<void> => {
            await time.sleep(1e9);
          };
          const p = mp.Process({ target: stuck, args: [writer] });
          await p.start();
          await writer.close();
          await time.sleep(1);
          await p.terminate();
          const e = await raised(reader.recv());
          return [e, p.exitcode, time.time()];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual([expect.stringMatching(/^EOFError: /), -15, 1]);
    }
  });

  it('data sent before every writer closed is all received before EOFError, for every schedule (300 seeds, 2 writers)', async () => {
    for (const seed of seeds(300)) {
      const r = await run(
        program(async ({ mp, random, time }) => {
          const [reader, writer] = mp.Pipe<string>(false);
          const w = async (tag: string, conn: Connection<string>): Promise<void> => {
            for (let i = 0; i < 3; i++) {
              if (random.random() < 0.5) await time.sleep(random.random());
              await conn.send(`${tag}${i}`);
            }
            if (random.random() < 0.5) await conn.close(); // or leave it to exit
          };
          await mp.Process({ target: w, args: ['a', writer] }).start();
          await mp.Process({ target: w, args: ['b', writer] }).start();
          await writer.close();
          const got: string[] = [];
          for (;;) {
            try {
              got.push(await reader.recv());
            } catch (e) {
              if (!(e instanceof EOFError)) throw e;
              return got;
            }
          }
        }),
        { seed },
      );
      expectOk(r);
      const got = r.value;
      expect(got.filter((x) => x.startsWith('a'))).toEqual(['a0', 'a1', 'a2']);
      expect(got.filter((x) => x.startsWith('b'))).toEqual(['b0', 'b1', 'b2']);
    }
  });
});

// ---------------------------------------------- BrokenPipeError and OSError

describe('Pipe: BrokenPipeError and closed handles', () => {
  it('send into a pipe whose other end is closed in every process raises BrokenPipeError (an OSError)', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const [a, b] = mp.Pipe();
        const child = async (b: Connection): Promise<void> => {
          await b.close();
        };
        const c = mp.Process({ target: child, args: [b] });
        await c.start();
        await c.join();
        const stillOk = await raised(a.send('the child closed only its own copy'));
        await b.close();
        try {
          await a.send('nobody can read this');
          return null;
        } catch (e) {
          return [stillOk, e instanceof BrokenPipeError, e instanceof OSError, (e as Error).message];
        }
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([null, true, true, '[Errno 32] Broken pipe (Connection#2, the other end of Connection#1, is closed in every process)']);
  });

  it('send, recv and poll on a handle this process closed raise OSError; close() twice is harmless', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const [a, b] = mp.Pipe();
        await b.send('waiting'); // data is there, and the other end is open: still refused
        await a.close();
        await a.close();
        return [await raised(a.send(1)), await raised(a.recv()), await raised(a.poll()), await raised(a.poll(null))];
      }),
    );
    expectOk(r);
    const out = r.value as string[];
    expect(out[0]).toBe('OSError: handle is closed (Connection#1.send() after close() in MainProcess (pid 1000))');
    expect(out[1]).toBe('OSError: handle is closed (Connection#1.recv() after close() in MainProcess (pid 1000))');
    expect(out[2]).toBe('OSError: handle is closed (Connection#1.poll() after close() in MainProcess (pid 1000))');
    expect(out[3]).toBe(out[2]);
  });

  it("closing a handle in one process leaves another process's handle on the same end working", async () => {
    for (const seed of seeds(100)) {
      const r = await run(
        program(async ({ mp }) => {
          const [a, b] = mp.Pipe<string>();
          const child = async (a: Connection<string>): Promise<void> => {
            await a.send('from the child');
            await a.send(String(await a.recv()));
          };
          const c = mp.Process({ target: child, args: [a] });
          await c.start();
          await a.close(); // main's copy only
          const first = await b.recv();
          await b.send('echo');
          const second = await b.recv();
          await c.join();
          return [first, second, c.exitcode];
        }),
        { seed },
      );
      expectOk(r);
      expect(r.value).toEqual(['from the child', 'echo', 0]);
    }
  });

  it('an end the parent closed before start() is not reopened by passing it to a child: EOF stays EOF', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const [a, b] = mp.Pipe();
        await b.close(); // closed everywhere now
        const child = async (b: Connection): Promise<void> => {
          await b.send('from a closed handle');
        };
        const c = mp.Process({ target: child, args: [b] });
        await c.start();
        await c.join();
        return [c.exitcode, await a.poll(), await raised(a.recv())];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([1, true, expect.stringMatching(/^EOFError: /)]);
    expect(r.stderr).toContain('OSError: handle is closed (Connection#2.send() after close() in Process-1 (pid 1001))');
  });

  it('a child that uses an end it was not given fails with OSError, exit code 1 and a traceback', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const [a, b] = mp.Pipe();
        const child = async (): Promise<void> => {
          await a.send('not mine'); // `a` reached it through a closure, not through args
        };
        const c = mp.Process({ target: child });
        await c.start();
        await c.join();
        return [c.exitcode, await b.poll()];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([1, false]);
    expect(r.stderr).toBe(
      'Process Process-1:\nTraceback (most recent call last):\nOSError: handle is closed (Connection#1.send() after close() in Process-1 (pid 1001))\n',
    );
  });
});

// --------------------------------------------------------- message events

describe('Pipe: message events', () => {
  it('one send event per send and one recv event with the same msg id and value per recv (100 seeds)', async () => {
    for (const seed of seeds(100)) {
      const r = await run(
        program(async ({ mp, print }) => {
          const [a, b] = mp.Pipe<string>();
          const child = async (b: Connection<string>): Promise<void> => {
            for (let i = 0; i < 3; i++) await b.send(`c${i}`);
            for (let i = 0; i < 2; i++) await print(await b.recv());
          };
          await mp.Process({ target: child, args: [b] }).start();
          await a.send('p0');
          await a.send('p1');
          for (let i = 0; i < 3; i++) await print(await a.recv());
        }),
        { seed, trace: true },
      );
      expectOk(r);
      const { sends, recvs } = messagePairs(r);
      expect(sends).toHaveLength(5);
      expect(recvs).toHaveLength(5);
      for (const s of sends) {
        const m = recvs.filter((x) => x.msg === s.msg);
        expect(m).toHaveLength(1);
        expect(m[0]!.value).toBe(s.value);
        expect(m[0]!.step).toBeGreaterThan(s.step);
        expect(m[0]!.pid).not.toBe(s.pid);
        // The send event names the sending end, the recv event the receiving end.
        expect([s.obj, m[0]!.obj].sort()).toEqual(['Connection#1', 'Connection#2']);
      }
      expect(lines(r).sort()).toEqual(['c0', 'c1', 'c2', 'p0', 'p1']);
    }
  });

  it('a send that raised and a recv that raised EOFError emit no message event', async () => {
    const r = await run(
      program(async ({ mp }) => {
        const [a, b] = mp.Pipe();
        await b.close();
        await raised(a.send(1));
        await raised(a.recv());
      }),
      { trace: true },
    );
    expectOk(r);
    const { sends, recvs } = messagePairs(r);
    expect([sends.length, recvs.length]).toEqual([0, 0]);
  });
});
