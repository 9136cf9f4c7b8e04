/**
 * The course's pool-based chat server (进程池版socket并发聊天), translated line by
 * line from the Python: a server accepts connections and hands each to a
 * `Pool(4)`, whose worker echoes what the client sends, upper-cased, until the
 * client goes away. A fifth client is accepted at once, but its `talk` task waits
 * in the pool until one of the four workers is free — so it gets no reply until
 * another client has left.
 *
 * What had to change, and why:
 *
 * - **The clients are processes of the same run.** In the course, `client.py` is a
 *   separate program the user starts five times; here the server starts five client
 *   processes after it is listening (pids 1001–1005; the pool's workers,
 *   `SpawnPoolWorker-1..4`, come after them, when the pool's first operation runs).
 * - **`input()` is a script.** Each client reads its lines from {@link SCRIPTS}
 *   instead of the keyboard, `strip()` being JavaScript's `trim()`. When its script
 *   runs out the client closes its socket — the user closing the client window —
 *   where Python's `input()` would raise EOFError.
 * - **The server's `while True` never ends**, so neither does the run: once every
 *   client has finished, nothing can move — the server waits in `accept()` for a
 *   sixth client and the workers wait for tasks. The simulator reports that state
 *   as a deadlock ("MainProcess ... is blocked in Socket#1.accept(): waiting in
 *   accept() on 127.0.0.1:8080"), which is the honest ending of a server that runs
 *   forever; the test checks that this, and nothing else, is what remains.
 * - **`conn` stays open in the server.** CPython closes the server's `conn` when the
 *   loop rebinds it (reference counting); JavaScript has no such destructor, so the
 *   translation keeps it open, as the course's code reads. The worker got its own
 *   handle with the task (CPython pickles a socket by duplicating its descriptor),
 *   so nothing depends on it here: it is the client that ends each conversation.
 * - Bytes: `msg.encode('utf-8')` is `encode(msg, 'utf-8')`, and `recv` returns a
 *   `Bytes` with Python's `upper()` and `decode()`. `if not msg:` is
 *   `if (msg.length === 0)`.
 */
import { encode, program, type Socket, type World } from '@interleave/core';

/** What each client's user types, one line per `input('>>')`; blank lines are skipped by the client. */
export const SCRIPTS: readonly (readonly string[])[] = [
  ['hello', 'how are you', 'bye'],
  ['  ni hao  ', '', 'zai jian'],
  ['one', 'two', 'three'],
  ['good morning', '   ', 'good night'],
  ['fifth client', 'still here'],
];

/** The address the server binds. */
export const HOST = '127.0.0.1';
export const PORT = 8080;

/**
 * ```python
 * from socket import *
 * from multiprocessing import Pool
 * import os
 *
 * def talk(conn):
 *     print('进程pid: %s' % os.getpid())
 *     while True:
 *         try:
 *             msg = conn.recv(1024)
 *             if not msg: break
 *             conn.send(msg.upper())
 *         except Exception as e:
 *             print(e)
 *             break
 *
 * if __name__ == '__main__':
 *     server = socket(AF_INET, SOCK_STREAM)
 *     server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
 *     server.bind(('127.0.0.1', 8080))
 *     server.listen(5)
 *     p = Pool(4)
 *     while True:
 *         conn, adr = server.accept()
 *         p.apply_async(talk, args=(conn,))
 * ```
 * and the client, started five times:
 * ```python
 * from socket import *
 *
 * client = socket(AF_INET, SOCK_STREAM)
 * client.connect(('127.0.0.1', 8080))
 *
 * while True:
 *     msg = input('>>').strip()
 *     if not msg: continue
 *     client.send(msg.encode('utf-8'))
 *     msg = client.recv(1024)
 *     print(msg.decode('utf-8'))
 * ```
 */
export const chat = program(async ({ mp, socket, os, print }: World) => {
  const { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR } = socket;

  async function talk(conn: Socket): Promise<void> {
    await print(`进程pid: ${os.getpid()}`);
    while (true) {
      try {
        const msg = await conn.recv(1024);
        if (msg.length === 0) break;
        await conn.send(msg.upper());
      } catch (e) {
        await print(e);
        break;
      }
    }
  }

  // client.py; `lines` stands for the user at the keyboard.
  async function client(lines: readonly string[]): Promise<void> {
    const input = script(lines);
    const client = socket(AF_INET, SOCK_STREAM);
    await client.connect([HOST, PORT]);

    while (true) {
      const line = input();
      if (line === null) break; // the user closes the client
      let msg = line.trim();
      if (!msg) continue;
      await client.send(encode(msg, 'utf-8'));
      const reply = await client.recv(1024);
      msg = reply.decode('utf-8');
      await print(msg);
    }
    await client.close();
  }

  const server = socket(AF_INET, SOCK_STREAM);
  await server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  await server.bind([HOST, PORT]);
  await server.listen(5);
  const p = mp.Pool(4);
  for (const lines of SCRIPTS) await mp.Process({ target: client, args: [lines] }).start();
  while (true) {
    const [conn] = await server.accept(); // conn, adr = server.accept()
    await p.applyAsync(talk, [conn]);
  }
}, { name: 'course/chat' });

/** `input('>>')` over a fixed list of lines: the next line, or null once the user is done. */
function script(lines: readonly string[]): () => string | null {
  let i = 0;
  return () => lines[i++] ?? null;
}
