/**
 * The course's Pipe programs (管道) and the pipe producer/consumer
 * (pipe实现生产者消费者模型), translated line by line from the Python.
 *
 * `Pipe()` returns two connected ends. Each end is a handle counted per process, as
 * the operating system counts file descriptors: the creating process holds both,
 * a child holds the ends passed in its args, and a process stops holding an end
 * when it calls `close()` or exits. `recv()` raises EOFError only once the buffer
 * is empty and the other end is closed in every process (管道是由操作系统进行引用计数的,
 * 必须在所有进程中关闭管道后才能生成EOFError异常) — forget one `close()` and the
 * consumer hangs in `recv()`, which Interleave reports as a deadlock naming the end
 * still open and the process that holds it.
 *
 * Python's `None` is `null`. The ANSI colour codes of the course's prints are kept;
 * `plain()` (from ./queue.js) strips them.
 */
import { EOFError, program, type Connection, type World } from '@interleave/core';

export { plain } from './queue.js';

// ------------------------------------------------------------- pipe初使用

/**
 * ```python
 * def f(conn):
 *     conn.send("Hello The_Third_Wave")
 *     conn.close()
 *
 * if __name__ == '__main__':
 *     parent_conn, child_conn = Pipe()
 *     p = Process(target=f, args=(child_conn,))
 *     p.start()
 *     print(parent_conn.recv())
 *     p.join()
 * # Hello The_Third_Wave
 * ```
 */
export const ping = program(async ({ mp, print }: World) => {
  async function f(conn: Connection<string>): Promise<void> {
    await conn.send('Hello The_Third_Wave');
    await conn.close();
  }

  const [parentConn, childConn] = mp.Pipe<string>();
  const p = mp.Process({ target: f, args: [childConn] });
  await p.start();
  await print(await parentConn.recv());
  await p.join();
}, { name: 'course/pipe/ping' });

/**
 * Both ends in one process.
 * ```python
 * left, right = Pipe()
 * left.send('1234')
 * print(right.recv())
 * # 1234
 * ```
 */
export const leftRight = program(async ({ mp, print }: World) => {
  const [left, right] = mp.Pipe<string>();
  await left.send('1234');
  await print(await right.recv());
}, { name: 'course/pipe/left-right' });

/**
 * Ending on a None sentinel. Note the course's loop calls `recv()` twice per turn —
 * once into `msg`, once inside `print` — so it prints only every second message:
 * 10 of the 20 吃了么, then the 21st message, None, ends it. The port keeps that.
 * ```python
 * def func(conn):
 *     while True:
 *         msg = conn.recv()
 *         if msg is None: break
 *         print(conn.recv())
 *
 * if __name__ == '__main__':
 *     conn1, conn2 = Pipe()
 *     Process(target=func, args=(conn1,)).start()
 *     for i in range(20):
 *         conn2.send('吃了么')
 *     conn2.send(None)
 * ```
 */
export const sentinel = program(async ({ mp, print }: World) => {
  async function func(conn: Connection<string | null>): Promise<void> {
    while (true) {
      const msg = await conn.recv();
      if (msg === null) break;
      await print(await conn.recv());
    }
  }

  const [conn1, conn2] = mp.Pipe<string | null>();
  await mp.Process({ target: func, args: [conn1] }).start();
  for (let i = 0; i < 20; i++) {
    await conn2.send('吃了么');
  }
  await conn2.send(null);
}, { name: 'course/pipe/sentinel' });

/**
 * Ending on EOFError: every process closes the end it does not use, so once the
 * main process closes `conn2` nothing can arrive any more.
 * ```python
 * def func(conn1, conn2):
 *     conn2.close()
 *     while True:
 *         try:
 *             msg = conn1.recv()
 *             print(msg)
 *         except EOFError:
 *             conn1.close()
 *             break
 *
 * if __name__ == '__main__':
 *     conn1, conn2 = Pipe()
 *     Process(target=func, args=(conn1, conn2)).start()
 *     conn1.close()
 *     for i in range(20):
 *         conn2.send('吃了么')
 *     conn2.close()
 * ```
 */
export const eof = program(async ({ mp, print }: World) => {
  async function func(conn1: Connection<string>, conn2: Connection<string>): Promise<void> {
    await conn2.close();
    while (true) {
      try {
        const msg = await conn1.recv();
        await print(msg);
      } catch (e) {
        if (!(e instanceof EOFError)) throw e; // except EOFError:
        await conn1.close();
        break;
      }
    }
  }

  const [conn1, conn2] = mp.Pipe<string>();
  await mp.Process({ target: func, args: [conn1, conn2] }).start();
  await conn1.close();
  for (let i = 0; i < 20; i++) {
    await conn2.send('吃了么');
  }
  await conn2.close();
}, { name: 'course/pipe/eof' });

// ------------------------------------------------ pipe实现生产者消费者模型

/** `'\033[1;31m%s\033[0m' % f`: what the producer prints, bold red. */
export const MADE = (f: string): string => `\x1b[1;31m${f}\x1b[0m`;
/** `'\033[1;32m%s消费了%s\033[0m' % (name, f)`: what the consumer prints, bold green. */
export const CONSUMED = (name: string, f: string): string => `\x1b[1;32m${name}消费了${f}\x1b[0m`;

/**
 * The producer sends 10 portions of 泔水 through the pipe; the consumer reads
 * until EOFError. Every process closes the ends it does not use: the producer
 * `pipe1`, the consumer `pipe2`, the main process both (after starting the
 * children, which got their own handles). The producer is pid 1001, the consumer 1002.
 * ```python
 * def producer(pipe1, pipe2, name, food):
 *     pipe1.close()
 *     for i in range(10):
 *         time.sleep(random.random())
 *         f = '{}{}{}'.format(name, food, i)
 *         print('\033[1;31m%s\033[0m' % f)
 *         pipe2.send(f)
 *     pipe2.close()
 *
 * def consumer(pipe1, pipe2, name):
 *     pipe2.close()
 *     while True:
 *         try:
 *             f = pipe1.recv()
 *             print('\033[1;32m%s消费了%s\033[0m' % (name, f))
 *             time.sleep(random.random())
 *         except EOFError:
 *             pipe1.close()
 *             break
 *
 * if __name__ == '__main__':
 *     pipe1, pipe2 = Pipe()
 *     p = Process(target=producer, args=(pipe1, pipe2, 'alex', '泔水'))
 *     xxx = Process(target=consumer, args=(pipe1, pipe2, 'egon'))
 *     p.start()
 *     xxx.start()
 *     pipe1.close()
 *     pipe2.close()
 * ```
 */
export const producerConsumer = program(async ({ mp, time, random, print }: World) => {
  async function producer(pipe1: Connection<string>, pipe2: Connection<string>, name: string, food: string): Promise<void> {
    await pipe1.close();
    for (let i = 0; i < 10; i++) {
      await time.sleep(random.random());
      const f = `${name}${food}${i}`;
      await print(MADE(f));
      await pipe2.send(f);
    }
    await pipe2.close();
  }

  async function consumer(pipe1: Connection<string>, pipe2: Connection<string>, name: string): Promise<void> {
    await pipe2.close();
    while (true) {
      try {
        const f = await pipe1.recv();
        await print(CONSUMED(name, f));
        await time.sleep(random.random());
      } catch (e) {
        if (!(e instanceof EOFError)) throw e; // except EOFError:
        await pipe1.close();
        break;
      }
    }
  }

  const [pipe1, pipe2] = mp.Pipe<string>();
  const p = mp.Process({ target: producer, args: [pipe1, pipe2, 'alex', '泔水'] });
  const xxx = mp.Process({ target: consumer, args: [pipe1, pipe2, 'egon'] });
  await p.start();
  await xxx.start();
  await pipe1.close();
  await pipe2.close();
}, { name: 'course/pipe/producer-consumer' });

/**
 * The course's warning (如果忘记执行这些步骤，程序可能在消费者中的recv（）操作上挂起):
 * {@link producerConsumer} with the consumer's `pipe2.close()` left out. The
 * producer and the main process close `pipe2`, but the consumer still holds it, so
 * after the 10th portion its `recv()` waits forever — for data only it could send.
 * The run ends in a deadlock whose report names `Connection#2` (pipe2) as still
 * open in Process-2 (pid 1002), the consumer itself.
 */
export const consumerLeavesEndOpen = program(async ({ mp, time, random, print }: World) => {
  async function producer(pipe1: Connection<string>, pipe2: Connection<string>, name: string, food: string): Promise<void> {
    await pipe1.close();
    for (let i = 0; i < 10; i++) {
      await time.sleep(random.random());
      const f = `${name}${food}${i}`;
      await print(MADE(f));
      await pipe2.send(f);
    }
    await pipe2.close();
  }

  async function consumer(pipe1: Connection<string>, _pipe2: Connection<string>, name: string): Promise<void> {
    // pipe2.close()  <- forgotten
    while (true) {
      try {
        const f = await pipe1.recv();
        await print(CONSUMED(name, f));
        await time.sleep(random.random());
      } catch (e) {
        if (!(e instanceof EOFError)) throw e; // except EOFError:
        await pipe1.close();
        break;
      }
    }
  }

  const [pipe1, pipe2] = mp.Pipe<string>();
  const p = mp.Process({ target: producer, args: [pipe1, pipe2, 'alex', '泔水'] });
  const xxx = mp.Process({ target: consumer, args: [pipe1, pipe2, 'egon'] });
  await p.start();
  await xxx.start();
  await pipe1.close();
  await pipe2.close();
}, { name: 'course/pipe/consumer-leaves-end-open' });
