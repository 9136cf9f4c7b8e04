/**
 * Sockets: the simulated TCP network. Python's errors with their messages pinned,
 * stream semantics (boundaries are not kept; recv returns what is buffered, up to
 * n), the listen backlog, end of stream and resets, sockets as per-process
 * handles, the send/recv message events that pair every chunk of bytes, deadlock
 * reports, and both process styles — with properties checked over many seeds.
 */
import { describe, expect, it } from 'vitest';
import {
  BrokenPipeError,
  Bytes,
  ConnectionError,
  ConnectionRefusedError,
  ConnectionResetError,
  OSError,
  SHUT_WR,
  SimulationError,
  encode,
  program,
  run,
  runSync,
  serializeTrace,
  type Monitor,
  type Op,
  type RunResult,
  type Socket,
  type TraceEvent,
  type World,
} from '../src/index.js';
import { expectDeadlock, expectError, expectOk, lowestFirst, seeds } from './helpers.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;
type SendEvent = Extract<TraceEvent, { type: 'send' }>;
type RecvEvent = Extract<TraceEvent, { type: 'recv' }>;

const ADDR = ['127.0.0.1', 8080] as const;

/** A caught exception as `Name: message`, or the value returned (as a string). */
async function attempt(op: Op<unknown>): Promise<string> {
  try {
    return String(await op);
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** A listening server socket on 127.0.0.1:8080. */
async function listening(socket: World['socket'], backlog = 5): Promise<Socket> {
  const server = socket(socket.AF_INET, socket.SOCK_STREAM);
  await server.bind(ADDR);
  await server.listen(backlog);
  return server;
}

function messages(r: RunResult): { sends: SendEvent[]; recvs: RecvEvent[] } {
  const t = r.trace ?? [];
  return { sends: t.filter((e): e is SendEvent => e.type === 'send'), recvs: t.filter((e): e is RecvEvent => e.type === 'recv') };
}

// ------------------------------------------------------------------ bytes

describe('Bytes and encode', () => {
  it('encode/decode round-trip UTF-8; upper/lower/strip are ASCII-only as bytes methods; String() is the repr', () => {
    const b = encode('héllo wörld');
    expect(b).toBeInstanceOf(Bytes);
    expect(b).toBeInstanceOf(Uint8Array);
    expect(b.decode('utf-8')).toBe('héllo wörld');
    expect(b.upper().decode()).toBe('HéLLO WöRLD');
    expect(encode('ABC').lower().decode()).toBe('abc');
    expect(encode('  hi\n').strip().decode()).toBe('hi');
    expect(String(encode("it's\n"))).toBe(`b"it's\\n"`);
    expect(String(new Bytes([0, 0x41, 0x5c, 0x27, 0x22, 0xff]))).toBe(`b'\\x00A\\\\\\'"\\xff'`);
    expect(JSON.stringify({ v: encode('hi') })).toBe(`{"v":"b'hi'"}`);
    expect(encode('a').equals(encode('a'))).toBe(true);
    expect(encode('a').equals(encode('b'))).toBe(false);
  });

  it('only UTF-8 is modelled: another encoding is INVALID_ARGUMENT', () => {
    expect(() => encode('x', 'latin-1')).toThrow(SimulationError);
    expect(() => encode('x', 'latin-1')).toThrow("encode(text, encoding): only 'utf-8' is modelled, got \"latin-1\".");
    expect(encode('x', 'UTF8').decode('ascii')).toBe('x');
  });

  it("print(b) shows Python's repr", async () => {
    const r = await run(program(async ({ print }) => { await print(encode('HELLO'), encode('').length); }));
    expectOk(r);
    expect(r.stdout).toBe("b'HELLO' 0\n");
  });
});

// ------------------------------------------------------------- basic echo

/** The course's chat in miniature: a server echoing upper-cased bytes to `n` clients, one at a time. */
const echo = (n: number, msgs: readonly string[]) =>
  program(async ({ mp, socket, print }) => {
    const server = await listening(socket);
    async function client(k: number): Promise<void> {
      const c = socket(socket.AF_INET, socket.SOCK_STREAM);
      await c.connect(ADDR);
      for (const m of msgs) {
        await c.send(encode(`${m}${k}`));
        const reply = await c.recv(1024);
        await print(k, reply.decode('utf-8'));
      }
      await c.close();
    }
    for (let k = 0; k < n; k++) await mp.Process({ target: client, args: [k] }).start();
    for (let k = 0; k < n; k++) {
      const [conn] = await server.accept();
      for (;;) {
        const msg = await conn.recv(1024);
        if (msg.length === 0) break;
        await conn.send(msg.upper());
      }
      await conn.close();
    }
  });

function* echoGen({ mp, socket, print }: World): Gen {
  const server = socket(socket.AF_INET, socket.SOCK_STREAM);
  yield* server.bind(ADDR);
  yield* server.listen(5);
  function* client(k: number): Gen {
    const c = socket(socket.AF_INET, socket.SOCK_STREAM);
    yield* c.connect(ADDR);
    for (const m of ['hi', 'bye']) {
      yield* c.send(encode(`${m}${k}`));
      const reply = yield* c.recv(1024);
      yield* print(k, reply.decode('utf-8'));
    }
    yield* c.close();
  }
  for (let k = 0; k < 3; k++) yield* mp.Process({ target: client, args: [k] }).start();
  for (let k = 0; k < 3; k++) {
    const [conn] = yield* server.accept();
    for (;;) {
      const msg = yield* conn.recv(1024);
      if (msg.length === 0) break;
      yield* conn.send(msg.upper());
    }
    yield* conn.close();
  }
}

describe('a request/reply server', () => {
  it('every client gets each message back upper-cased, in order (300 seeds)', async () => {
    for (const seed of seeds(300)) {
      const r = await run(echo(3, ['hi', 'bye']), { seed });
      expectOk(r);
      for (let k = 0; k < 3; k++) {
        expect(r.output.filter((l) => l.pid === 1001 + k).map((l) => l.text)).toEqual([`${k} HI${k}`, `${k} BYE${k}`]);
      }
    }
  });

  it('async and generator processes issue the same operations: same seed, byte-identical trace (50 seeds)', async () => {
    for (const seed of seeds(50)) {
      const a = await run(echo(3, ['hi', 'bye']), { seed, trace: true });
      const g = runSync(program(echoGen), { seed, trace: true });
      expectOk(a);
      expectOk(g);
      expect(serializeTrace(g.trace!)).toBe(serializeTrace(a.trace!));
    }
  });

  it('addresses are deterministic: ephemeral ports from 32768 in the order the connects take effect, accepted in that order (100 seeds)', async () => {
    const prog = program(async ({ mp, socket }) => {
      const server = await listening(socket);
      const clients: unknown[] = [];
      async function client(k: number): Promise<void> {
        const c = socket();
        await c.connect(['localhost', 8080]);
        clients[k] = [await c.getsockname(), await c.getpeername()];
      }
      for (let k = 0; k < 3; k++) await mp.Process({ target: client, args: [k] }).start();
      const accepted: unknown[] = [];
      for (let k = 0; k < 3; k++) {
        const [conn, addr] = await server.accept();
        accepted.push([addr, await conn.getsockname(), await conn.getpeername(), String(conn)]);
      }
      return { clients, accepted };
    });
    for (const seed of seeds(100)) {
      const r = await run(prog, { seed, trace: true });
      expectOk(r);
      const { clients, accepted } = r.value;
      // The order the connects took effect in (pids of their done events).
      const order = r.trace!.filter((e) => e.type === 'done' && e.op === 'connect').map((e) => e.pid - 1001);
      order.forEach((k, i) => expect(clients[k]).toEqual([['127.0.0.1', 32768 + i], ['127.0.0.1', 8080]]));
      expect(accepted).toEqual(
        [0, 1, 2].map((i) => [
          ['127.0.0.1', 32768 + i],
          ['127.0.0.1', 8080],
          ['127.0.0.1', 32768 + i],
          `<socket.socket Socket#1:${i + 1} laddr=('127.0.0.1', 8080) raddr=('127.0.0.1', ${32768 + i})>`,
        ]),
      );
    }
  });

  it('socket.socket(...) (import socket) and socket(...) (from socket import *) are the same; defaults are AF_INET, SOCK_STREAM', async () => {
    const r = await run(
      program(async ({ socket }) => {
        const a = socket.socket(socket.AF_INET, socket.SOCK_STREAM);
        const b = socket();
        await a.bind(['', 0]);
        await b.bind(['0.0.0.0', 9000]);
        return [await a.getsockname(), await b.getsockname(), String(b)];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([['0.0.0.0', 32768], ['0.0.0.0', 9000], "<socket.socket Socket#2 laddr=('0.0.0.0', 9000)>"]);
  });
});

// ------------------------------------------------------------------ errors

describe("Python's errors, with their messages", () => {
  it('connect() to a port nobody listens on raises ConnectionRefusedError (a ConnectionError, an OSError)', async () => {
    const r = await run(
      program(async ({ socket }) => {
        const c = socket();
        try {
          await c.connect(['127.0.0.1', 9999]);
          return 'connected';
        } catch (e) {
          return [e instanceof ConnectionRefusedError, e instanceof ConnectionError, e instanceof OSError, (e as Error).message];
        }
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([
      true,
      true,
      true,
      "[Errno 111] Connection refused (Socket#1.connect(('127.0.0.1', 9999))): nothing listens on port 9999; the server must bind() and listen() before clients connect",
    ]);
  });

  it('connect() to a bound but not listening port is refused too', async () => {
    const r = await run(
      program(async ({ socket }) => {
        await socket().bind(ADDR);
        return attempt(socket().connect(ADDR));
      }),
    );
    expectOk(r);
    expect(r.value).toMatch(/^ConnectionRefusedError: \[Errno 111\] Connection refused/);
  });

  it('bind() to a port in use raises OSError [Errno 98] until the old socket is closed', async () => {
    const r = await run(
      program(async ({ socket }) => {
        const first = await listening(socket);
        const second = socket();
        const inUse = await attempt(second.bind(ADDR));
        await first.close();
        return [inUse, await attempt(second.bind(ADDR)), await attempt(second.bind(['127.0.0.1', 8081]))];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([
      "OSError: [Errno 98] Address already in use (Socket#2.bind(('127.0.0.1', 8080))): Socket#1 is listening on 127.0.0.1:8080; close that socket first, or bind another port",
      'undefined',
      'OSError: [Errno 22] Invalid argument (Socket#2.bind(): the socket is already bound to 127.0.0.1:8080; a socket is bound once)',
    ]);
  });

  it('SO_REUSEADDR: a restarted server can bind while a connection accepted on the port is still open; without it, bind fails', async () => {
    const restart = (reuse: boolean) =>
      program(async ({ socket }) => {
        const old = await listening(socket);
        const c = socket();
        await c.connect(ADDR);
        await old.accept();
        await old.close(); // the listener is gone; the accepted connection is not
        const fresh = socket();
        if (reuse) await fresh.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1);
        return [await attempt(fresh.bind(ADDR)), await attempt(fresh.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))];
      });
    const without = await run(restart(false));
    expectOk(without);
    expect(without.value).toEqual([
      "OSError: [Errno 98] Address already in use (Socket#3.bind(('127.0.0.1', 8080))): Socket#1:1 is connected on 127.0.0.1:8080 to 127.0.0.1:32768 and still open; " +
        'set SO_REUSEADDR before bind() to reuse a port whose connections are still open, or close them first',
      '0',
    ]);
    const withReuse = await run(restart(true));
    expectOk(withReuse);
    expect(withReuse.value).toEqual(['undefined', '1']);
  });

  it('send() of a str raises TypeError; recv/send on an unconnected socket raise OSError [Errno 107]', async () => {
    const r = await run(
      program(async ({ socket }) => {
        const server = await listening(socket);
        const c = socket();
        await c.connect(ADDR);
        return [
          await attempt(c.send('hello' as unknown as Uint8Array)),
          await attempt(socket().recv(10)),
          await attempt(server.send(encode('x'))),
          await attempt(server.recv(1)),
        ];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([
      "TypeError: a bytes-like object is required, not 'str' (Socket#2.send(): encode text first, e.g. send(encode(msg)))",
      'OSError: [Errno 107] Transport endpoint is not connected (Socket#3.recv(): connect() it first, or use the socket accept() returns)',
      'OSError: [Errno 107] Transport endpoint is not connected (Socket#1.send(): a listening socket only accepts; use the socket accept() returns)',
      'OSError: [Errno 107] Transport endpoint is not connected (Socket#1.recv(): a listening socket only accepts; use the socket accept() returns)',
    ]);
  });

  it('a closed socket raises OSError [Errno 9]; close() twice is harmless; accept() needs listen(); connect() twice fails', async () => {
    const r = await run(
      program(async ({ socket }) => {
        const server = socket();
        await server.bind(ADDR);
        const notListening = await attempt(server.accept());
        await server.listen(1);
        const c = socket();
        await c.connect(ADDR);
        const twice = await attempt(c.connect(ADDR));
        await c.close();
        await c.close();
        return [notListening, twice, await attempt(c.send(encode('x'))), await attempt(c.recv(1)), await attempt(socket().connect(['10.0.0.1', 80]))];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([
      'OSError: [Errno 22] Invalid argument (Socket#1.accept(): the socket is not listening; call bind() and listen() first)',
      'OSError: [Errno 106] Transport endpoint is already connected (Socket#2.connect(): connected to 127.0.0.1:8080 already)',
      'OSError: [Errno 9] Bad file descriptor (Socket#2.send() in MainProcess (pid 1000): MainProcess (pid 1000) closed it before; a closed socket cannot be used again)',
      'OSError: [Errno 9] Bad file descriptor (Socket#2.recv() in MainProcess (pid 1000): MainProcess (pid 1000) closed it before; a closed socket cannot be used again)',
      "OSError: [Errno 101] Network is unreachable (Socket#3.connect(('10.0.0.1', 80))): the simulated network has the one machine 127.0.0.1; connect to '127.0.0.1' or 'localhost'",
    ]);
  });

  it("recv() with a negative size raises ValueError; recv(0) returns b'' at once", async () => {
    const r = await run(
      program(async ({ socket }) => {
        await listening(socket);
        const c = socket();
        await c.connect(ADDR);
        return [await attempt(c.recv(-1)), await attempt(c.recv(0))];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual(['ValueError: negative buffersize in recv (Socket#2.recv(-1))', "b''"]);
  });

  it('bind() to an address of another machine raises OSError [Errno 99]', async () => {
    const r = await run(program(async ({ socket }) => attempt(socket().bind(['192.168.1.5', 80]))));
    expectOk(r);
    expect(r.value).toBe(
      "OSError: [Errno 99] Cannot assign requested address (Socket#1.bind(('192.168.1.5', 80))): the simulated machine has the one address 127.0.0.1; bind to '127.0.0.1', 'localhost' or ''",
    );
  });

  it('misuse fails the run with INVALID_ARGUMENT: other families and types, unmodelled options, bad addresses', async () => {
    const cases: [string, (w: World) => unknown][] = [
      ['socket(family, type): only TCP over IPv4 is modelled (AF_INET, SOCK_STREAM), got family 10, type 1.', ({ socket }) => socket(10, 1)],
      ['socket(family, type): only TCP over IPv4 is modelled (AF_INET, SOCK_STREAM), got family 2, type 2.', ({ socket }) => socket(2, 2)],
      ['Socket#1.setsockopt(level, optname, value): option (level 1, optname 15) is not modelled.', ({ socket }) => socket().setsockopt(1, 15, 1)],
      ['Socket#1.bind(address): port must be an integer in 0-65535, got 70000.', ({ socket }) => socket().bind(['127.0.0.1', 70000])],
      ["Socket#1.connect(address): address must be a [host, port] pair, got \"127.0.0.1:80\".", ({ socket }) => socket().connect('127.0.0.1:80' as unknown as readonly [string, number])],
      ['Socket#1.recv(bufsize): bufsize must be an integer, got 1.5.', ({ socket }) => socket().recv(1.5)],
      ['Socket#1.shutdown(how): how must be SHUT_RD, SHUT_WR or SHUT_RDWR, got 3.', ({ socket }) => socket().shutdown(3)],
    ];
    for (const [message, body] of cases) {
      const r = await run(program(async (w: World) => { await (body(w) as Op<unknown> | undefined); }));
      expectError(r);
      expect(r.error).toBeInstanceOf(SimulationError);
      expect((r.error as SimulationError).code).toBe('INVALID_ARGUMENT');
      expect((r.error as SimulationError).message.split('\n')[0]).toBe(message);
    }
  });
});

// ------------------------------------------------------------------ stream

describe('stream semantics', () => {
  it('message boundaries are not kept: two sends before a recv arrive together; a small recv takes part of a send', async () => {
    const r = await run(
      program(async ({ socket }) => {
        const server = await listening(socket);
        const c = socket();
        await c.connect(ADDR);
        const [conn] = await server.accept();
        await c.send(encode('hello '));
        await c.sendall(encode('world'));
        const got = [(await conn.recv(1024)).decode()];
        await c.send(encode('abcdef'));
        got.push((await conn.recv(4)).decode(), (await conn.recv(4)).decode());
        return got;
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toEqual(['hello world', 'abcd', 'ef']);
    // One recv event per chunk taken, with the id of the send it came from: a recv
    // spanning two sends is two events; a send received in two parts, two events.
    const { sends, recvs } = messages(r);
    expect(sends.map((e) => [e.msg, e.obj, e.value])).toEqual([
      [1, 'Socket#2', encode('hello ')],
      [2, 'Socket#2', encode('world')],
      [3, 'Socket#2', encode('abcdef')],
    ]);
    expect(recvs.map((e) => [e.msg, e.obj, String(e.value)])).toEqual([
      [1, 'Socket#1:1', "b'hello '"],
      [2, 'Socket#1:1', "b'world'"],
      [3, 'Socket#1:1', "b'abcd'"],
      [3, 'Socket#1:1', "b'ef'"],
    ]);
    expect(recvs[0]!.step).toBe(recvs[1]!.step);
  });

  it('over 300 seeds: the bytes arrive whole and in order, no recv exceeds its size, and both coalesced and separate arrivals happen', async () => {
    const chunks = ['ab', 'cde', 'f', 'ghij'];
    const prog = program(async ({ mp, socket }) => {
      const server = await listening(socket);
      async function sender(): Promise<void> {
        const c = socket();
        await c.connect(ADDR);
        for (const x of chunks) await c.send(encode(x));
        await c.close();
      }
      await mp.Process({ target: sender }).start();
      const [conn] = await server.accept();
      const got: string[] = [];
      for (;;) {
        const m = await conn.recv(3);
        if (m.length === 0) break;
        expect(m.length).toBeLessThanOrEqual(3);
        got.push(m.decode());
      }
      return got;
    });
    const shapes = new Set<number>();
    for (const seed of seeds(300)) {
      const r = await run(prog, { seed, trace: true });
      expectOk(r);
      const got = r.value;
      expect(got.join('')).toBe(chunks.join(''));
      shapes.add(got.length);
      // Every chunk received is part of the send with the same id, received after it.
      const { sends, recvs } = messages(r);
      const sent = new Map(sends.map((e) => [e.msg, e]));
      const taken = new Map<number, string>();
      for (const e of recvs) {
        const s = sent.get(e.msg)!;
        expect(s.step).toBeLessThan(e.step);
        taken.set(e.msg, (taken.get(e.msg) ?? '') + (e.value as Bytes).decode());
      }
      expect([...taken.values()]).toEqual(chunks);
    }
    // ceil(10/3) = 4 recvs when everything is buffered at once, more when the reader keeps up.
    expect(Math.min(...shapes)).toBe(4);
    expect(Math.max(...shapes)).toBeGreaterThan(4);
  });

  it('send() returns the number of bytes; sendall() returns None; sending nothing is no message', async () => {
    const r = await run(
      program(async ({ socket }) => {
        await listening(socket);
        const c = socket();
        await c.connect(ADDR);
        return [await c.send(encode('héllo')), await c.sendall(encode('x')), await c.send(new Uint8Array(0))];
      }),
      { trace: true },
    );
    expectOk(r);
    expect(r.value).toEqual([6, undefined, 0]);
    expect(messages(r).sends).toHaveLength(2);
  });

  it('a client can send before the server accepts: the bytes wait with the connection in the backlog', async () => {
    const r = await run(
      program(async ({ socket }) => {
        const server = await listening(socket);
        const c = socket();
        await c.connect(ADDR);
        await c.send(encode('early'));
        await c.close();
        const [conn] = await server.accept();
        return [(await conn.recv(100)).decode(), (await conn.recv(100)).length];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual(['early', 0]);
  });
});

// ----------------------------------------------------------------- backlog

describe('the listen backlog', () => {
  const backlogProg = program(async ({ mp, socket, print }) => {
    const server = await listening(socket, 1);
    async function client(k: number): Promise<void> {
      const c = socket();
      await c.connect(ADDR);
      await print(`connected ${k}`);
      await c.close();
    }
    for (let k = 0; k < 3; k++) await mp.Process({ target: client, args: [k] }).start();
    for (let k = 0; k < 3; k++) {
      const [, addr] = await server.accept();
      await print(`accepted ${addr[1]}`);
    }
  });

  it('listen(1): one connection waits to be accepted, further connects wait in connect() until accept() makes room (200 seeds)', async () => {
    let blockedSeen = 0;
    for (const seed of seeds(200)) {
      const r = await run(backlogProg, { seed, monitors: [backlogMonitor(1)], trace: true });
      expectOk(r);
      expect(r.stdout.split('\n').filter((l) => l.startsWith('accepted'))).toEqual(['accepted 32768', 'accepted 32769', 'accepted 32770']);
      // The n-th connect takes effect only after accept n-1 made room (n = 2, 3).
      const steps = (op: string): number[] => r.trace!.filter((e) => e.type === 'done' && e.op === op).map((e) => e.step);
      const [connects, accepts] = [steps('connect'), steps('accept')];
      expect(connects).toHaveLength(3);
      for (let n = 1; n < 3; n++) expect(connects[n]!).toBeGreaterThan(accepts[n - 1]!);
      // ...and the clients that had to wait were blocked in connect() meanwhile, in some seeds at least.
      if (r.trace!.some((e) => e.type === 'block' && e.op === 'connect')) blockedSeen++;
    }
    expect(blockedSeen).toBeGreaterThan(50);
  });

  it('a connect() blocked on a full backlog shows in the trace and, if never accepted, in the deadlock report', async () => {
    const d = await run(
      program(async ({ mp, socket }) => {
        const server = await listening(socket, 1);
        const block = mp.Event();
        async function client(): Promise<void> {
          await socket().connect(ADDR);
        }
        await mp.Process({ target: client }).start();
        await mp.Process({ target: client }).start();
        await block.wait(); // the server never accepts
        await server.close();
      }),
      { strategy: lowestFirst },
    );
    expectDeadlock(d);
    expect(d.blocked.find((b) => b.pid === 1002)).toEqual({
      pid: 1002,
      name: 'Process-2',
      op: 'Socket#3.connect("127.0.0.1", 8080)',
      waitsOn:
        'waiting in connect() to 127.0.0.1:8080: the backlog of Socket#1 is full (1 connections not accepted yet); it is held by MainProcess (pid 1000), which must accept()',
      heldBy: [1000],
    });
  });

  it('closing the listener resets the connection it never accepted and refuses the connect still waiting (100 seeds)', async () => {
    const prog = program(async ({ mp, socket, time, print }) => {
      const server = await listening(socket, 1);
      async function client(k: number): Promise<void> {
        await time.sleep(k * 0.1); // client 1 connects first and fills the backlog
        const c = socket();
        try {
          await c.connect(ADDR);
          await print(k, 'connected', await attempt(c.recv(10)));
        } catch (e) {
          await print(k, (e as Error).name);
        }
      }
      await mp.Process({ target: client, args: [1] }).start();
      await mp.Process({ target: client, args: [2] }).start();
      await time.sleep(1); // both clients are blocked by now: in recv(), in connect()
      await server.close();
    });
    for (const seed of seeds(100)) {
      const r = await run(prog, { seed });
      expectOk(r);
      expect(r.stdout.split('\n').sort().join('\n')).toBe(
        '\n' +
          '1 connected ConnectionResetError: [Errno 104] Connection reset by peer (Socket#2.recv() on the connection to 127.0.0.1:8080: the server closed Socket#1 without accepting this connection)\n' +
          '2 ConnectionRefusedError',
      );
    }
  });
});

/** Fails the run if more than `max` connections ever wait in a backlog, counted from connect/accept steps. */
function backlogMonitor(max: number): Monitor {
  let waiting = 0;
  return {
    name: `backlog<=${max}`,
    onStart() {
      waiting = 0;
    },
    onEvent(e, ctx) {
      if (e.type !== 'done' || e.outcome !== 'ok') return;
      if (e.op === 'connect') waiting++;
      else if (e.op === 'accept') waiting--;
      else return;
      if (waiting > max) ctx.fail(`${waiting} connections waiting for accept() at step ${e.step}`);
    },
  };
}

// --------------------------------------------------- end of stream, resets

describe('end of stream and resets', () => {
  it("recv returns b'' once the peer closed and its data is read; the peer's exit closes it too", async () => {
    for (const exitInstead of [false, true]) {
      const r = await run(
        program(async ({ mp, socket }) => {
          const server = await listening(socket);
          async function client(): Promise<void> {
            const c = socket();
            await c.connect(ADDR);
            await c.send(encode('bye'));
            if (!exitInstead) await c.close();
          }
          await mp.Process({ target: client }).start();
          const [conn] = await server.accept();
          return [String(await conn.recv(10)), String(await conn.recv(10)), String(await conn.recv(10))];
        }),
      );
      expectOk(r);
      expect(r.value).toEqual(["b'bye'", "b''", "b''"]);
    }
  });

  it('shutdown(SHUT_WR) is a half-close: the server reads to the end of the request and can still reply', async () => {
    const r = await run(
      program(async ({ mp, socket, print }) => {
        const server = await listening(socket);
        async function client(): Promise<void> {
          const c = socket();
          await c.connect(ADDR);
          await c.sendall(encode('request'));
          await c.shutdown(SHUT_WR);
          await print('send after shutdown:', await attempt(c.send(encode('more'))));
          await print('reply:', (await c.recv(100)).decode());
          await c.close();
        }
        await mp.Process({ target: client }).start();
        const [conn] = await server.accept();
        let request = '';
        for (;;) {
          const m = await conn.recv(3);
          if (m.length === 0) break;
          request += m.decode();
        }
        await conn.sendall(encode(request.toUpperCase()));
        await conn.close();
      }),
    );
    expectOk(r);
    expect(r.stdout).toBe('send after shutdown: BrokenPipeError: [Errno 32] Broken pipe (Socket#2.send() after shutdown(SHUT_WR) on this socket)\nreply: REQUEST\n');
  });

  it('sending to a closed peer succeeds once; the reset then raises ConnectionResetError, and BrokenPipeError after that', async () => {
    const r = await run(
      program(async ({ socket }) => {
        const server = await listening(socket);
        const c = socket();
        await c.connect(ADDR);
        const [conn] = await server.accept();
        await conn.close();
        return [await attempt(c.send(encode('a'))), await attempt(c.send(encode('b'))), await attempt(c.send(encode('c'))), await attempt(c.recv(1))];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([
      '1',
      'ConnectionResetError: [Errno 104] Connection reset by peer (Socket#2.send() on the connection to 127.0.0.1:8080: Socket#1:1 was already closed when Socket#2 sent to it)',
      'BrokenPipeError: [Errno 32] Broken pipe (Socket#2.send(): the connection to 127.0.0.1:8080 was reset)',
      "b''",
    ]);
    expect(new BrokenPipeError('x')).toBeInstanceOf(ConnectionError);
  });

  it('closing with unread data resets the peer: it reads what was already sent, then gets ConnectionResetError', async () => {
    const r = await run(
      program(async ({ socket }) => {
        const server = await listening(socket);
        const c = socket();
        await c.connect(ADDR);
        const [conn] = await server.accept();
        await conn.send(encode('reply'));
        await c.send(encode('never read'));
        await conn.close(); // 'never read' is still in conn's buffer
        return [await attempt(c.recv(100)), await attempt(c.recv(100)), await attempt(c.recv(100))];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([
      "b'reply'",
      'ConnectionResetError: [Errno 104] Connection reset by peer (Socket#2.recv() on the connection to 127.0.0.1:8080: Socket#1:1 was closed with data it had not read)',
      "b''",
    ]);
    expect(ConnectionResetError.prototype).toBeInstanceOf(OSError);
  });
});

// ----------------------------------------------------------------- handles

describe('sockets are per-process handles', () => {
  it('a socket passed to a child stays open until both have closed it: EOF only after the child lets go (200 seeds)', async () => {
    const prog = program(async ({ mp, socket }) => {
      const server = await listening(socket);
      const c = socket();
      await c.connect(ADDR);
      const [conn] = await server.accept();
      async function child(s: Socket): Promise<void> {
        await s.send(encode('from child'));
        await s.close();
      }
      await mp.Process({ target: child, args: [c] }).start();
      await c.close(); // the child still holds it
      const got: string[] = [];
      for (;;) {
        const m = await conn.recv(100);
        if (m.length === 0) break;
        got.push(m.decode());
      }
      return got;
    });
    for (const seed of seeds(200)) {
      const r = await run(prog, { seed });
      expectOk(r);
      expect(r.value).toEqual(['from child']);
    }
  });

  it('a forgotten close() keeps the server in recv(): the deadlock report names the socket and who holds it', async () => {
    const r = await run(
      program(async ({ mp, socket }) => {
        const server = await listening(socket);
        const done = mp.Event();
        async function client(): Promise<void> {
          const c = socket();
          await c.connect(ADDR);
          await c.send(encode('hi'));
          await done.wait(); // never closes c
        }
        await mp.Process({ target: client }).start();
        const [conn] = await server.accept();
        for (;;) {
          const m = await conn.recv(1024);
          if (m.length === 0) break;
        }
        await done.set();
      }),
    );
    expectDeadlock(r);
    expect(r.blocked.find((b) => b.pid === 1000)).toEqual({
      pid: 1000,
      name: 'MainProcess',
      op: 'Socket#1:1.recv(1024)',
      waitsOn:
        "waiting in recv() on 127.0.0.1:8080 (connected to 127.0.0.1:32768): no data, and the other end Socket#2 is still open in Process-1 (pid 1001) (recv() returns b'' once it is closed or shut down for writing)",
      heldBy: [1001],
    });
  });

  it('a server waiting for a client that never comes: "waiting in accept() on 127.0.0.1:8080"', async () => {
    const r = await run(
      program(async ({ socket }) => {
        const server = await listening(socket);
        await server.accept();
      }),
    );
    expectDeadlock(r);
    expect(r.message).toContain('MainProcess (pid 1000) is blocked in Socket#1.accept(): waiting in accept() on 127.0.0.1:8080: no client connection is pending');
  });

  it('a socket that reaches a process another way (a queue) gets a handle of its own there, as CPython duplicates a pickled socket', async () => {
    const r = await run(
      program(async ({ mp, socket }) => {
        const server = await listening(socket);
        const q = mp.Queue<Socket>();
        async function worker(queue: typeof q): Promise<void> {
          const conn = await queue.get();
          await conn.send((await conn.recv(100)).upper());
          await conn.close();
        }
        await mp.Process({ target: worker, args: [q] }).start();
        const c = socket();
        await c.connect(ADDR);
        const [conn] = await server.accept();
        await q.put(conn);
        await c.send(encode('hi'));
        const reply = (await c.recv(100)).decode();
        await conn.close(); // the worker holds its own handle
        return [reply, await attempt(conn.recv(1))];
      }),
    );
    expectOk(r);
    expect(r.value).toEqual([
      'HI',
      'OSError: [Errno 9] Bad file descriptor (Socket#1:1.recv() in MainProcess (pid 1000): MainProcess (pid 1000) closed it before; a closed socket cannot be used again)',
    ]);
  });
});

// ------------------------------------------------------------ footprints

describe('footprints', () => {
  it('declare the socket, the streams and the ports each operation touches', async () => {
    const seen: string[] = [];
    const r = await run(
      program(async ({ socket }) => {
        const server = socket();
        const fp = (op: Op<unknown>): Op<unknown> => {
          seen.push(`${op.name}: ${op.footprint().map((f) => `${f.write ? 'W' : 'R'} ${f.loc}`).join(', ')}`);
          return op;
        };
        await fp(server.bind(ADDR));
        await fp(server.listen(1));
        const c = socket();
        await fp(c.connect(ADDR));
        const [conn] = (await fp(server.accept())) as [Socket, unknown];
        await fp(c.send(encode('x')));
        await fp(conn.recv(1));
        await fp(conn.getsockname());
        await fp(c.close());
      }),
    );
    expectOk(r);
    expect(seen).toEqual([
      'bind: W Socket#1, W net:8080',
      'listen: W Socket#1, W net:8080',
      'connect: W Socket#2, W net:8080, W net:ephemeral, R MainProcess',
      'accept: W Socket#1, W net:8080',
      'send: W Socket#2, W Socket#2>Socket#1:1, R MainProcess, R MainProcess',
      'recv: W Socket#1:1, W Socket#2>Socket#1:1, R MainProcess',
      'getsockname: R Socket#1:1',
      'close: W Socket#2, W Socket#2>Socket#1:1, W Socket#1:1>Socket#2, W net:ephemeral',
    ]);
  });
});
