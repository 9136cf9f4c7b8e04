/**
 * The course's Queue programs (队列), the producer/consumer model (生产者消费者模型)
 * and JoinableQueue, translated line by line from the Python.
 *
 * A `multiprocessing.Queue` is a pipe plus locks, with a background feeder thread
 * in each process that puts: `put` returns once the item is in that process's
 * buffer, and the feeder moves it into the pipe a little later. Interleave models
 * that thread, so `empty()` can be stale, and a process's exit waits until its
 * feeder has flushed.
 *
 * Python's `None` is `null` here. Colours: the course prints with ANSI escape codes
 * (`'\033[1;32m...\033[0m'`); the ports keep them, so the programs stay line-by-line
 * translations and look the same in a terminal. {@link plain} strips them before
 * comparing text. (The course's producers print `'\033[1;31m{}生产了{}'` without the
 * closing `\033[0m`; so do the ports.)
 */
import { program, type JoinableQueue, type Process, type Queue, type World } from '@interleave/core';

/** Remove ANSI colour codes, e.g. to compare `stdout` with the course's printed output. */
export function plain(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * Python's `time.asctime()` of the virtual clock (UTC): `Thu Jan  1 00:00:00 1970`
 * at the start of a run. Inside a run `new Date()` reads the virtual clock.
 */
export function asctime(d: Date = new Date()): string {
  return (
    `${WEEKDAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${d.getUTCFullYear()}`
  );
}

// ------------------------------------------------------------------- 队列

/**
 * ```python
 * q = Queue()  # 创建共享的进程队列
 * q.put(1)  # 将一个值放入队列
 * q.put(2)
 * q.put('aaa')
 * print(q.get())  # 返回q中的一个项目
 * # 1
 * ```
 */
export const basics = program(async ({ mp, print }: World) => {
  const q = mp.Queue<number | string>(); // 创建共享的进程队列
  await q.put(1); // 将一个值放入队列
  await q.put(2);
  await q.put('aaa');
  await print(await q.get()); // 返回q中的一个项目
}, { name: 'course/queue/basics' });

/**
 * ```python
 * def wahaha(q):
 *     print(q.get(), os.getpid(), os.getppid())
 *
 * if __name__ == '__main__':
 *     q = Queue()  # 创建共享的进程队列
 *     Process(target=wahaha, args=(q,)).start()
 *     q.put(1)
 *     print(os.getpid())
 * # 9732
 * # 1 184 9732
 * ```
 * Prints `1000` (the main process's pid) and `1 1001 1000` (the item, the child's
 * pid, its parent's pid). The course shows the main line first, as most schedules
 * do; the child may also print first.
 */
export const childGets = program(async ({ mp, os, print }: World) => {
  async function wahaha(q: Queue<number>): Promise<void> {
    await print(await q.get(), os.getpid(), os.getppid());
  }

  const q = mp.Queue<number>(); // 创建共享的进程队列
  await mp.Process({ target: wahaha, args: [q] }).start();
  await q.put(1);
  await print(os.getpid());
}, { name: 'course/queue/child-gets' });

/**
 * 双向通信: the child gets 1 and puts 'aaa'; the main process sleeps 0.5 s, then gets.
 * ```python
 * def wahaha(q):
 *     print(q.get())  # 取值
 *     q.put('aaa')  # 增加一个aaa
 *
 * if __name__ == '__main__':
 *     q = Queue()  # 创建共享的进程队列
 *     Process(target=wahaha, args=(q,)).start()
 *     # time.sleep(1)
 *     q.put(1)
 *     time.sleep(0.5)  # 等待0.5秒,让子进程执行完
 *     print(q.get())  # 取值
 * # 1
 * # aaa
 * ```
 * The 0.5 s sleep is what makes it work: without it (or in untimed mode, where a
 * sleep takes no time) the main process can get its own 1 back, and the child then
 * waits forever.
 */
export const twoWay = program(async ({ mp, time, print }: World) => {
  async function wahaha(q: Queue<number | string>): Promise<void> {
    await print(await q.get()); // 取值
    await q.put('aaa'); // 增加一个aaa
  }

  const q = mp.Queue<number | string>(); // 创建共享的进程队列
  await mp.Process({ target: wahaha, args: [q] }).start();
  // time.sleep(1)
  await q.put(1);
  await time.sleep(0.5); // 等待0.5秒,让子进程执行完
  await print(await q.get()); // 取值
}, { name: 'course/queue/two-way' });

/** `'\033[32m{}(get):{}\033[0m'`: the getter's line, in green. */
export const GOT = (pid: number, info: string): string => `\x1b[32m${pid}(get):${info}\x1b[0m`;

/**
 * 批量生产数据放入队列再批量获取结果: 10 processes put one line each into a Queue(3),
 * 10 others get one each.
 * ```python
 * def inp_que(q):
 *     info = str(os.getpid())+'(put):'+time.asctime()
 *     q.put(info)
 *     print(info)
 *
 * def get_que(q):
 *     info = q.get()
 *     print('\033[32m{}(get):{}\033[0m'.format(os.getpid(), info))
 *
 * if __name__ == '__main__':
 *     q = Queue(3)
 *     inp_list = []  # store input processes
 *     get_list = []  # store output processes
 *     for i in range(10):  # 输入进程
 *         p = Process(target=inp_que, args=(q,))
 *         inp_list.append(p)
 *         p.start()
 *     for i in range(10):  # 输出进程
 *         p = Process(target=get_que, args=(q,))
 *         get_list.append(p)
 *         p.start()
 *     for p in inp_list:
 *         p.join()
 *     for p in get_list:
 *         p.join()
 * ```
 * Putters are pids 1001–1010, getters 1011–1020. At most 3 items are ever in the
 * queue: the 4th putter's `put` blocks until a getter takes one.
 */
export const batch = program(async ({ mp, os, print }: World) => {
  // 输入
  async function inpQue(q: Queue<string>): Promise<void> {
    const info = String(os.getpid()) + '(put):' + asctime();
    await q.put(info);
    await print(info);
  }

  // 获取消息
  async function getQue(q: Queue<string>): Promise<void> {
    const info = await q.get();
    await print(GOT(os.getpid(), info));
  }

  const q = mp.Queue<string>(3);
  const inpList: Process[] = []; // store input processes
  const getList: Process[] = []; // store output processes

  // 输入进程
  for (let i = 0; i < 10; i++) {
    const p = mp.Process({ target: inpQue, args: [q] });
    inpList.push(p);
    await p.start();
  }

  // 输出进程
  for (let i = 0; i < 10; i++) {
    const p = mp.Process({ target: getQue, args: [q] });
    getList.push(p);
    await p.start();
  }

  for (const p of inpList) await p.join();
  for (const p of getList) await p.join();
}, { name: 'course/queue/batch' });

// --------------------------------------------------------- 生产者消费者模型

/** `'\033[1;32m{}消费了{}\033[0m'`: a consumer's line, bold green. */
export const CONSUMED = (pid: number, baoZi: string): string => `\x1b[1;32m${pid}消费了${baoZi}\x1b[0m`;
/** `'\033[1;31m{}生产了{}'`: a producer's line, bold red (the course leaves the colour on). */
export const PRODUCED = (pid: number, baoZi: string): string => `\x1b[1;31m${pid}生产了${baoZi}`;

/**
 * One producer, one consumer; the producer puts the end signal None after its 10
 * 包子 (steamed buns).
 * ```python
 * def consumer(q):
 *     while True:
 *         bao_zi = q.get()
 *         if bao_zi is None: break
 *         # if not bao_zi: break
 *         time.sleep(random.random())
 *         print('\033[1;32m{}消费了{}\033[0m'.format(os.getpid(), bao_zi))
 *
 * def producer(q):
 *     for i in range(1, 11):
 *         time.sleep(random.random())
 *         bao_zi = '{}{}'.format('包子', i)
 *         q.put(bao_zi)
 *         print('\033[1;31m{}生产了{}'.format(os.getpid(), bao_zi))
 *     q.put(None)
 *
 * if __name__ == '__main__':
 *     q = Queue()
 *     p = Process(target=producer, args=(q,))
 *     xxx = Process(target=consumer, args=(q,))
 *     p.start()
 *     xxx.start()
 * ```
 * The producer is pid 1001, the consumer 1002.
 */
export const producerConsumer = program(async ({ mp, os, time, random, print }: World) => {
  async function consumer(q: Queue<string | null>): Promise<void> {
    while (true) {
      const baoZi = await q.get();
      if (baoZi === null) break;
      // if not bao_zi: break
      await time.sleep(random.random());
      await print(CONSUMED(os.getpid(), baoZi));
    }
  }

  async function producer(q: Queue<string | null>): Promise<void> {
    for (let i = 1; i < 11; i++) {
      await time.sleep(random.random());
      const baoZi = `${'包子'}${i}`;
      await q.put(baoZi);
      await print(PRODUCED(os.getpid(), baoZi));
    }
    await q.put(null);
  }

  const q = mp.Queue<string | null>();
  const p = mp.Process({ target: producer, args: [q] });
  const xxx = mp.Process({ target: consumer, args: [q] });
  await p.start();
  await xxx.start();
}, { name: 'course/queue/producer-consumer' });

/**
 * 主进程在生产者生产完毕后发送结束信号None: two producers, two consumers; the main
 * process joins both producers, then puts one None per consumer.
 * ```python
 * if __name__ == '__main__':
 *     q = Queue()
 *     p1 = Process(target=producer, args=(q,))
 *     p2 = Process(target=producer, args=(q,))
 *     c1 = Process(target=consumer, args=(q,))
 *     c2 = Process(target=consumer, args=(q,))
 *     p1.start()
 *     p2.start()
 *     c1.start()
 *     c2.start()
 *     # 等待两个生产者全部生产完毕
 *     p1.join()
 *     p2.join()
 *     # 发送结束信号到队列最后
 *     # 有几个消费者就应该发送几次结束信号None
 *     q.put(None)
 *     q.put(None)
 * ```
 * `consumer` is the one above; `producer` is the one above without its final
 * `q.put(None)`. Producers are pids 1001 and 1002, consumers 1003 and 1004.
 */
export const mainSendsSentinels = program(async ({ mp, os, time, random, print }: World) => {
  async function consumer(q: Queue<string | null>): Promise<void> {
    while (true) {
      const baoZi = await q.get();
      if (baoZi === null) break;
      await time.sleep(random.random());
      await print(CONSUMED(os.getpid(), baoZi));
    }
  }

  async function producer(q: Queue<string | null>): Promise<void> {
    for (let i = 1; i < 11; i++) {
      await time.sleep(random.random());
      const baoZi = `${'包子'}${i}`;
      await q.put(baoZi);
      await print(PRODUCED(os.getpid(), baoZi));
    }
  }

  const q = mp.Queue<string | null>();
  const p1 = mp.Process({ target: producer, args: [q] });
  const p2 = mp.Process({ target: producer, args: [q] });
  const c1 = mp.Process({ target: consumer, args: [q] });
  const c2 = mp.Process({ target: consumer, args: [q] });
  await p1.start();
  await p2.start();
  await c1.start();
  await c2.start();

  // 等待两个生产者全部生产完毕
  await p1.join();
  await p2.join();
  // 发送结束信号到队列最后
  // 有几个消费者就应该发送几次结束信号None
  await q.put(null);
  await q.put(null);
}, { name: 'course/queue/main-sends-sentinels' });

// ----------------------------------------------------------- JoinableQueue

/** `'\033[1;31m{}生产{}{}\033[0m'`: a JoinableQueue producer's line. */
export const MADE = (name: string, food: string, i: number): string => `\x1b[1;31m${name}生产${food}${i}\x1b[0m`;
/** `'\033[1;32m{}消费{}\033[0m'`: a JoinableQueue consumer's line. */
export const ATE = (name: string, info: string): string => `\x1b[1;32m${name}消费${info}\x1b[0m`;

/**
 * JoinableQueue队列实现消费之生产者模型: producers wait in `q.join()` until every item
 * was marked done; the consumers loop forever and are daemons, so they are
 * terminated when the main process's code ends.
 * ```python
 * def producer(name, food, q):
 *     for i in range(1, 11):
 *         time.sleep(random.random())
 *         print('\033[1;31m{}生产{}{}\033[0m'.format(name, food, i))
 *         q.put('{}{}{}'.format(name, food, i))
 *     q.join()
 *
 * def consumer(name, q):
 *     while True:
 *         get_info = q.get()
 *         time.sleep(random.random())
 *         print('\033[1;32m{}消费{}\033[0m'.format(name, get_info))
 *         q.task_done()
 *
 * if __name__ == '__main__':
 *     q = JoinableQueue()
 *     p1 = Process(target=producer, args=('alex', 'jiaozi', q))
 *     p2 = Process(target=producer, args=('egon', 'bread', q))
 *     p1.start()
 *     p2.start()
 *     c1 = Process(target=consumer, args=('aoa', q))
 *     c2 = Process(target=consumer, args=('kuraki', q))
 *     c1.daemon = True
 *     c2.daemon = True
 *     c1.start()
 *     c2.start()
 *     p1.join()
 *     p2.join()
 * ```
 * 结束顺序 (order of the end): the consumers consume every item; the producers'
 * `join` returns; the main process's code ends; the consumers are terminated
 * (exit code -15); the main process ends. Producers are pids 1001 and 1002,
 * consumers 1003 and 1004.
 */
export const joinable = program(async ({ mp, time, random, print }: World) => {
  async function producer(name: string, food: string, q: JoinableQueue<string>): Promise<void> {
    for (let i = 1; i < 11; i++) {
      await time.sleep(random.random());
      await print(MADE(name, food, i));
      await q.put(`${name}${food}${i}`);
    }
    await q.join();
  }

  async function consumer(name: string, q: JoinableQueue<string>): Promise<void> {
    while (true) {
      const getInfo = await q.get();
      await time.sleep(random.random());
      await print(ATE(name, getInfo));
      await q.taskDone();
    }
  }

  const q = mp.JoinableQueue<string>();
  const p1 = mp.Process({ target: producer, args: ['alex', 'jiaozi', q] });
  const p2 = mp.Process({ target: producer, args: ['egon', 'bread', q] });
  await p1.start();
  await p2.start();
  const c1 = mp.Process({ target: consumer, args: ['aoa', q] });
  const c2 = mp.Process({ target: consumer, args: ['kuraki', q] });
  c1.daemon = true;
  c2.daemon = true;
  await c1.start();
  await c2.start();
  await p1.join();
  await p2.join();
}, { name: 'course/queue/joinable' });
