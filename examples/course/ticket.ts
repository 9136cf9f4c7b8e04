/**
 * The course's ticket programs (查票 / "check the ticket", 购票 / "buy a ticket"),
 * translated line by line: five people share one ticket through a file, `ticket`,
 * holding `{"count":1}`. Reading it concurrently is harmless; buying — read the
 * file, decide, write it back — is a check-then-act on shared data, and without a
 * lock every buyer can see the one ticket and "buy" it.
 *
 * The file lives on the simulated disk: `program(body, { files })` puts it there at
 * the start of every run, `fs.readJson` is `json.load(open(...))` (one step) and
 * `fs.writeJson` is `with open(..., 'w') as f: json.dump(...)` (two steps: the
 * truncation, then the text).
 *
 * Not in the course: after starting the buyers, the main process joins them and
 * returns the ticket file they left (the run's `value`), so tests can look at it.
 * Python's main would wait for them at exit anyway; the buyers run the same.
 *
 * At the end, the same lesson with shared memory instead of a file: a counter in an
 * `mp.Value`, where `v.value += 1` loses updates unless the process holds the lock.
 */
import { program, type Lock, type Process, type Value, type World } from '@interleave/core';

/** The course's `ticket` file: `{"count":1}`. */
export const TICKET_FILES = { ticket: '{"count":1}' } as const;

/** The content of the ticket file. */
export interface Ticket {
  count: number;
}

/** `person%s购票成功`: person i bought the ticket. */
export const bought = (i: number): string => `person${i}购票成功`;
/** `余票不足,person%s购票失败`: no ticket left, person i failed to buy. */
export const failed = (i: number): string => `余票不足,person${i}购票失败`;

// ------------------------------------------------------------------ 查票

/**
 * ```python
 * def check_ticket(i):
 *     with open('ticket') as f:
 *         ticket_count = json.load(f)
 *     print('person%s' % i, ticket_count['count'])
 *
 * if __name__ == '__main__':
 *     for i in range(5):
 *         Process(target=check_ticket, args=(i,)).start()
 * # person0 1
 * # person3 1
 * # person2 1
 * # person1 1
 * # person4 1
 * ```
 * Every person sees one ticket; the order of the lines depends on the schedule.
 */
export const checkTicket = program(async ({ mp, fs, print }: World) => {
  async function checkTicket(i: number): Promise<void> {
    const ticketCount = await fs.readJson<Ticket>('ticket');
    await print(`person${i}`, ticketCount.count);
  }
  for (let i = 0; i < 5; i++) {
    await mp.Process({ target: checkTicket, args: [i] }).start();
  }
}, { name: 'course/ticket/check', files: TICKET_FILES });

// ------------------------------------------------------------------ 购票

/**
 * ```python
 * def buy_ticket(i):
 *     with open('ticket') as f:  # 读取文件
 *         tick_count = json.load(f)  # 反序列化
 *         time.sleep(random.random())  # 模拟延时
 *     if tick_count['count'] > 0:  # 当余票小于0时
 *         print('person%s购票成功' % i)
 *         tick_count['count'] -= 1  # 票数减1
 *     else:
 *         print('余票不足,person%s购票失败' % i)
 *     time.sleep(random.random())  # 写入延时
 *     with open('ticket', 'w') as f:
 *         json.dump(tick_count, f)  # 写入文件
 *
 * if __name__ == '__main__':
 *     for i in range(5):
 *         Process(target=buy_ticket, args=(i,)).start()
 * # person4购票成功
 * # person2购票成功
 * # person1购票成功
 * # person3购票成功
 * # person0购票成功
 * ```
 * 有错 (wrong): one ticket, five buyers. In timed mode every buyer reads the file at
 * t=0, before anyone's random sleep ends, so all five see `count: 1` and all five
 * buy — the course's output — and the file still ends as `{"count": 0}`.
 */
export const buyUnlocked = program(async ({ mp, fs, time, random, print }: World) => {
  async function buyTicket(i: number): Promise<void> {
    const tickCount = await fs.readJson<Ticket>('ticket'); // 读取文件, 反序列化
    await time.sleep(random.random()); // 模拟延时
    if (tickCount.count > 0) {
      await print(bought(i));
      tickCount.count -= 1; // 票数减1
    } else {
      await print(failed(i));
    }
    await time.sleep(random.random()); // 写入延时
    await fs.writeJson('ticket', tickCount); // 写入文件
  }
  const buyers: Process[] = [];
  for (let i = 0; i < 5; i++) {
    const p = mp.Process({ target: buyTicket, args: [i] });
    await p.start();
    buyers.push(p);
  }
  for (const p of buyers) await p.join(); // not in the course: report the final file
  return await fs.readJson<Ticket>('ticket');
}, { name: 'course/ticket/buy-unlocked', files: TICKET_FILES });

/**
 * ```python
 * def buy_ticket(i, l):  # 购票
 *     l.acquire()  # 取得锁
 *     with open('ticket') as f:  # 读取文件
 *         tick_count = json.load(f)  # 反序列化
 *         time.sleep(random.random())  # 读取延时
 *     if tick_count['count'] > 0:  # 当余票大于于0时
 *         print('person%s购票成功' % i)
 *         tick_count['count'] -= 1  # 票数减1
 *     else:
 *         print('余票不足,person%s购票失败' % i)
 *     time.sleep(random.random())  # 写入延时
 *     with open('ticket', 'w') as f:
 *         json.dump(tick_count, f)  # 写入文件
 *     l.release()  # 释放锁
 *
 * if __name__ == '__main__':
 *     lock = Lock()  # 创建锁
 *     for i in range(5):  # 模拟5个用户抢票
 *         Process(target=buy_ticket, args=(i, lock)).start()
 * # person2购票成功
 * # 余票不足,person0购票失败
 * # 余票不足,person4购票失败
 * # 余票不足,person1购票失败
 * # 余票不足,person3购票失败
 * ```
 * 加锁 (with the lock): read-decide-write is one critical section, so exactly one
 * person buys, whoever gets the lock first, and the file ends as `{"count": 0}`.
 */
export const buyLocked = program(async ({ mp, fs, time, random, print }: World) => {
  async function buyTicket(i: number, l: Lock): Promise<void> {
    await l.acquire(); // 取得锁
    const tickCount = await fs.readJson<Ticket>('ticket'); // 读取文件, 反序列化
    await time.sleep(random.random()); // 读取延时
    if (tickCount.count > 0) {
      await print(bought(i));
      tickCount.count -= 1; // 票数减1
    } else {
      await print(failed(i));
    }
    await time.sleep(random.random()); // 写入延时
    await fs.writeJson('ticket', tickCount); // 写入文件
    await l.release(); // 释放锁
  }
  const lock = mp.Lock(); // 创建锁
  const buyers: Process[] = [];
  for (let i = 0; i < 5; i++) {
    // 模拟5个用户抢票
    const p = mp.Process({ target: buyTicket, args: [i, lock] });
    await p.start();
    buyers.push(p);
  }
  for (const p of buyers) await p.join(); // not in the course: report the final file
  return await fs.readJson<Ticket>('ticket');
}, { name: 'course/ticket/buy-locked', files: TICKET_FILES });

/** Who bought, from a buy program's stdout: the `i` of each `person{i}购票成功` line. */
export function buyers(stdout: string): number[] {
  return [...stdout.matchAll(/^person(\d)购票成功$/gm)].map((m) => Number(m[1]));
}

// --------------------------------------------------- the same, in shared memory

/** How many processes increment the counter, and how many times each. */
export const WORKERS = 4;
export const INCREMENTS = 25;

/**
 * Not in the course: the lost update with shared memory.
 *
 * ```python
 * def work(v, n):
 *     for _ in range(n):
 *         v.value += 1        # a read, then a write: NOT atomic, lock or no lock
 *
 * if __name__ == '__main__':
 *     v = Value('i', 0)
 *     ps = [Process(target=work, args=(v, 25)) for _ in range(4)]
 *     for p in ps: p.start()
 *     for p in ps: p.join()
 *     print(v.value)          # often less than 100
 * ```
 * The Value has a lock, but each `v.value` takes it only for that one read or
 * write; between them another process can read the same old value, and one of the
 * two increments is lost. Returns the final count.
 */
export const counterUnlocked = program(async ({ mp, print }: World) => {
  async function work(v: Value, n: number): Promise<void> {
    for (let i = 0; i < n; i++) await v.update((x) => x + 1); // v.value += 1
  }
  const v = mp.Value('i', 0);
  const ps = Array.from({ length: WORKERS }, () => mp.Process({ target: work, args: [v, INCREMENTS] }));
  for (const p of ps) await p.start();
  for (const p of ps) await p.join();
  const total = await v.get();
  await print(total);
  return total;
}, { name: 'course/ticket/value-counter-unlocked' });

/**
 * ```python
 * def work(v, n):
 *     for _ in range(n):
 *         with v.get_lock():  # hold the Value's own lock across the read and the write
 *             v.value += 1
 * ```
 * Always prints 100. (The default lock is an RLock, so the `v.value` accesses inside
 * the with-block can take it again; with `Value('i', 0, lock=Lock())` they would
 * deadlock.)
 */
export const counterLocked = program(async ({ mp, print }: World) => {
  async function work(v: Value, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      await v.withLock(async () => {
        await v.update((x) => x + 1);
      });
    }
  }
  const v = mp.Value('i', 0);
  const ps = Array.from({ length: WORKERS }, () => mp.Process({ target: work, args: [v, INCREMENTS] }));
  for (const p of ps) await p.start();
  for (const p of ps) await p.join();
  const total = await v.get();
  await print(total);
  return total;
}, { name: 'course/ticket/value-counter-locked' });
