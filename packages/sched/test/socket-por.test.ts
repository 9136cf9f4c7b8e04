/**
 * Soundness of the sockets' footprints under partial-order reduction: for small
 * socket programs whose outcome depends on the order of connects, sends, closes
 * and process exits, exhaustive exploration with reduction reaches exactly the
 * outcomes that unreduced search does. Exits matter most: a process that exits
 * holding a socket closes it without any socket operation, so the operations whose
 * result depends on that (a send, a bind, a connect) read the holders' handles.
 */
import { describe, expect, it } from 'vitest';
import { encode, program, type Op, type Program, type RunResult, type Socket, type World } from '@interleave/core';
import { exhaustive, explore } from '../src/index.js';

type Gen<R = void> = Generator<Op<unknown>, R, unknown>;

const run = { timing: 'untimed', queueFeeder: false } as const;
const outcome = (r: RunResult): string => (r.status === 'ok' ? `ok ${JSON.stringify(r.value)}` : r.status);

/** What an operation returned or raised, as a short string for the outcome. */
function* attempt(op: Op<unknown>): Gen<string> {
  try {
    const v = yield* op;
    return v === undefined ? 'ok' : v instanceof Uint8Array ? v.toString() : JSON.stringify(v);
  } catch (e) {
    return (e as Error).name;
  }
}

async function sameOutcomes(prog: Program<unknown>): Promise<Set<string>> {
  const reduced = await explore(prog, { strategy: exhaustive(), run, outcome });
  const full = await explore(prog, { strategy: exhaustive({ reduction: false }), run, outcome, budget: { executions: 20_000 } });
  expect(full.complete).toBe(true);
  expect(reduced.complete).toBe(true);
  const keys = new Set(reduced.outcomes.map((o) => o.key));
  expect(keys).toEqual(new Set(full.outcomes.map((o) => o.key)));
  expect(reduced.executions).toBeLessThanOrEqual(full.executions);
  return keys;
}

describe('socket footprints under partial-order reduction', () => {
  it('a client that exits without close(): the server\'s second send may find the connection reset', async () => {
    const prog = program(
      function* ({ mp, socket }: World) {
        const server = socket();
        yield* server.bind(['127.0.0.1', 8080]);
        yield* server.listen(1);
        function* client(): Gen {
          const c = socket();
          yield* c.connect(['127.0.0.1', 8080]);
          yield* c.getsockname();
          // exits holding c: the exit closes it
        }
        yield* mp.Process({ target: client }).start();
        const [conn] = yield* server.accept();
        const a = yield* attempt(conn.send(encode('a')));
        const b = yield* attempt(conn.send(encode('b')));
        return [a, b];
      },
      { name: 'exit-closes' },
    );
    expect(await sameOutcomes(prog)).toEqual(new Set(['ok ["1","1"]', 'ok ["1","ConnectionResetError"]']));
  });

  it('bind races a process that holds the port and exits', async () => {
    const prog = program(
      function* ({ mp, socket }: World) {
        function* holder(): Gen {
          const s = socket();
          yield* attempt(s.bind(['127.0.0.1', 8080]));
          yield* s.getsockname(); // a step between the bind and the exit
        }
        yield* mp.Process({ target: holder }).start();
        const s = socket();
        return yield* attempt(s.bind(['127.0.0.1', 8080]));
      },
      { name: 'bind-vs-exit' },
    );
    expect(await sameOutcomes(prog)).toEqual(new Set(['ok "ok"', 'ok "OSError"']));
  });

  it('connects race listen, each other (backlog 1) and the listener\'s close', async () => {
    const prog = program(
      function* ({ mp, socket }: World) {
        const server = socket();
        yield* server.bind(['127.0.0.1', 8080]);
        // One slot per client: the order of two clients' last steps is not an order
        // the simulation sees (they touch different sockets), so it must not be part
        // of the outcome either.
        const log: string[] = [];
        function* client(k: number): Gen {
          const c = socket();
          const r = yield* attempt(c.connect(['127.0.0.1', 8080]));
          if (r !== 'ok') {
            log[k - 1] = `${k}:${r}`;
            return;
          }
          log[k - 1] = `${k}:${yield* attempt(c.recv(10))}`;
        }
        yield* mp.Process({ target: client, args: [1] }).start();
        yield* mp.Process({ target: client, args: [2] }).start();
        yield* server.listen(1);
        const [conn, addr] = yield* server.accept();
        yield* conn.sendall(encode(`hi${addr[1]}`));
        yield* server.close();
        yield* conn.close();
        return log;
      },
      { name: 'connect-races' },
    );
    const keys = await sameOutcomes(prog);
    // Refused before listen, reset when left in the backlog at close, served otherwise.
    expect([...keys].some((k) => k.includes('ConnectionRefusedError'))).toBe(true);
    expect([...keys].some((k) => k.includes('ConnectionResetError'))).toBe(true);
    expect([...keys].some((k) => k.includes("b'hi32768'"))).toBe(true);
  });

  it('two sends before a recv may coalesce; a shutdown races the recv', async () => {
    const prog = program(
      function* ({ mp, socket }: World) {
        const server = socket();
        yield* server.bind(['127.0.0.1', 8080]);
        yield* server.listen(1);
        function* client(): Gen {
          const c = socket();
          yield* c.connect(['127.0.0.1', 8080]);
          yield* c.send(encode('a'));
          yield* c.send(encode('b'));
          yield* c.shutdown(1);
        }
        yield* mp.Process({ target: client }).start();
        const [conn] = yield* server.accept();
        const got: string[] = [];
        for (;;) {
          const m = yield* conn.recv(10);
          got.push(m.decode());
          if (m.length === 0) break;
        }
        return got;
      },
      { name: 'coalesce' },
    );
    expect(await sameOutcomes(prog)).toEqual(new Set(['ok ["ab",""]', 'ok ["a","b",""]']));
  });

  it('a socket passed to a child: EOF comes only after both the parent and the child let go of it', async () => {
    const prog = program(
      function* ({ mp, socket }: World) {
        const server = socket();
        yield* server.bind(['127.0.0.1', 8080]);
        yield* server.listen(1);
        const c = socket();
        yield* c.connect(['127.0.0.1', 8080]);
        const [conn] = yield* server.accept();
        function* child(s: Socket): Gen {
          yield* s.send(encode('x'));
        }
        yield* mp.Process({ target: child, args: [c] }).start();
        yield* c.close();
        const got: string[] = [];
        for (;;) {
          const m = yield* conn.recv(10);
          got.push(m.decode());
          if (m.length === 0) break;
        }
        return got;
      },
      { name: 'inherited' },
    );
    expect(await sameOutcomes(prog)).toEqual(new Set(['ok ["x",""]']));
  });

  it('a listener whose process exits refuses later connects and resets the connection it never accepted', async () => {
    const prog = program(
      function* ({ mp, socket }: World) {
        function* server(): Gen {
          const s = socket();
          yield* s.bind(['127.0.0.1', 8080]);
          yield* s.listen(1);
          yield* s.getsockname(); // a step between listen and the exit
        }
        yield* mp.Process({ target: server }).start();
        const c = socket();
        const connected = yield* attempt(c.connect(['127.0.0.1', 8080]));
        return connected === 'ok' ? [connected, yield* attempt(c.recv(10))] : [connected];
      },
      { name: 'listener-exits' },
    );
    expect(await sameOutcomes(prog)).toEqual(new Set(['ok ["ConnectionRefusedError"]', 'ok ["ok","ConnectionResetError"]']));
  });
});
