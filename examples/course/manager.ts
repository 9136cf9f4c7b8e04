/**
 * The course's Manager programs (进程之间的数据共享 / "sharing data between
 * processes"), translated line by line.
 *
 * A Manager starts a server that owns a real dict; `m.dict(...)` returns a proxy,
 * and every `dic[...]` in a process is a call to that server. Each call is atomic,
 * but `dic['count'] -= 1` is TWO calls — read, then write — so 100 processes doing
 * it without a lock can lose updates: the course ran it five times and got
 * {'count': 2}, {'count': 0}, {'count': 2}, {'count': 3}, {'count': 1}. With a
 * lock around the statement the result is always {'count': 0}.
 *
 * In Interleave, `dic['count']` is `await dic.get('count')`, `dic['count'] = x` is
 * `await dic.set('count', x)`, and `dic['count'] -= 1` is
 * `await dic.update('count', (v) => v - 1)` — the same two steps.
 */
import { program, type DictProxy, type Lock, type TraceEvent, type World } from '@interleave/core';

/** How many processes the loops start (`for i in range(100)`). */
export const PROCESSES = 100;

// ------------------------------------------------------------ 修改字典的值

/**
 * ```python
 * def func(dic):
 *     dic['count'] = dic['count'] - 1
 *     print(dic)
 *
 * if __name__ == '__main__':
 *     m = Manager()  # 创建一个server进程
 *     dic = m.dict({'count': 100})  # 这是一个特殊的字典
 *     p = Process(target=func, args=[dic, ])
 *     p.start()
 *     p.join()
 *     print(dic)
 * # {'count': 99}
 * # {'count': 99}
 * ```
 * The child's change is visible to the parent: both print `{'count': 99}`.
 */
export const modifyOnce = program(async ({ mp, print }: World) => {
  async function func(dic: DictProxy<string, number>): Promise<void> {
    await dic.set('count', (await dic.get('count')) - 1);
    await print(dic);
  }
  const m = mp.Manager(); // 创建一个server进程
  const dic = m.dict({ count: 100 }); // 这是一个特殊的字典
  const p = mp.Process({ target: func, args: [dic] });
  await p.start();
  await p.join();
  await print(dic);
}, { name: 'course/manager/modify-once' });

// ---------------------------------------------------------------- 循环修改

/**
 * ```python
 * def func(dic):
 *     dic['count'] -= 1  # 每次减1
 *
 * if __name__ == '__main__':
 *     m = Manager()  # 创建一个server进程
 *     dic = m.dict({'count': 100})  # 这是一个特殊的字典
 *     p_lst = []  # 定义一个空列表
 *     for i in range(100):  # 启动100个进程
 *         p = Process(target=func, args=(dic,))
 *         p_lst.append(p)  # 进程追加到列表中
 *         p.start()  # 启动进程
 *     for p in p_lst: p.join()  # 等待100个进程全部结束
 *     print(dic)  # 打印dic的值
 * ```
 * 重复执行5次：{'count': 2}{'count': 0}{'count': 2}{'count': 3}{'count': 1} — on
 * some seeds two processes read the same count and both write count - 1.
 */
export const unlocked = program(async ({ mp, print }: World) => {
  async function func(dic: DictProxy<string, number>): Promise<void> {
    await dic.update('count', (v) => v - 1); // 每次减1 (read, then write: two steps)
  }
  const m = mp.Manager(); // 创建一个server进程
  const dic = m.dict({ count: 100 }); // 这是一个特殊的字典
  const pLst = []; // 定义一个空列表
  for (let i = 0; i < PROCESSES; i++) { // 启动100个进程
    const p = mp.Process({ target: func, args: [dic] });
    pLst.push(p); // 进程追加到列表中
    await p.start(); // 启动进程
  }
  for (const p of pLst) await p.join(); // 等待100个进程全部结束
  await print(dic); // 打印dic的值
}, { name: 'course/manager/unlocked' });

/**
 * ```python
 * def func(dic, lock):
 *     lock.acquire()  # 取得锁
 *     dic['count'] -= 1  # 每次减1
 *     lock.release()  # 释放锁
 *
 * if __name__ == '__main__':
 *     m = Manager()  # 创建一个server进程
 *     lock = Lock()  # 创建锁
 *     dic = m.dict({'count': 100})  # 这是一个特殊的字典
 *     ...same loop...
 *     print(dic)
 * # {'count': 0}
 * ```
 */
export const locked = program(async ({ mp, print }: World) => {
  async function func(dic: DictProxy<string, number>, lock: Lock): Promise<void> {
    await lock.acquire(); // 取得锁
    await dic.update('count', (v) => v - 1); // 每次减1
    await lock.release(); // 释放锁
  }
  const m = mp.Manager(); // 创建一个server进程
  const lock = mp.Lock(); // 创建锁
  const dic = m.dict({ count: 100 }); // 这是一个特殊的字典
  const pLst = []; // 定义一个空列表
  for (let i = 0; i < PROCESSES; i++) { // 启动100个进程
    const p = mp.Process({ target: func, args: [dic, lock] });
    pLst.push(p); // 进程追加到列表中
    await p.start(); // 启动进程
  }
  for (const p of pLst) await p.join(); // 等待100个进程全部结束
  await print(dic);
}, { name: 'course/manager/locked' });

// ------------------------------------------------------------ 使用上下文管理

/**
 * ```python
 * def func(dic, lock):
 *     with lock:
 *         dic['count'] -= 1  # 每次减1
 * ```
 * The rest as in {@link locked}: `with lock:` is `lock.withLock(...)`, which
 * releases even if the body raises. Always prints `{'count': 0}`.
 */
export const withLock = program(async ({ mp, print }: World) => {
  async function func(dic: DictProxy<string, number>, lock: Lock): Promise<void> {
    await lock.withLock(async () => {
      await dic.update('count', (v) => v - 1); // 每次减1
    });
  }
  const m = mp.Manager();
  const lock = mp.Lock();
  const dic = m.dict({ count: 100 });
  const pLst = [];
  for (let i = 0; i < PROCESSES; i++) { // 启动100个进程
    const p = mp.Process({ target: func, args: [dic, lock] });
    pLst.push(p); // 进程追加到列表中
    await p.start(); // 启动进程
  }
  for (const p of pLst) await p.join(); // 等待100个进程全部结束
  await print(dic); // 打印dic的值
}, { name: 'course/manager/with-lock' });

/** The count in the last `{'count': N}` line of a run's stdout, or null if there is none. */
export function finalCount(stdout: string): number | null {
  const all = [...stdout.matchAll(/^\{'count': (-?\d+)\}$/gm)];
  const last = all.at(-1);
  return last === undefined ? null : Number(last[1]);
}

/** One lost update, as the trace shows it: `writer`'s read was stale when it wrote. */
export interface LostUpdate {
  /** Pid of the process whose write overwrote another's. */
  readonly writer: number;
  /** What it read, and at which step. */
  readonly read: { readonly step: number; readonly value: unknown };
  /** The other process's write that landed in between, and was overwritten. */
  readonly overwritten: { readonly pid: number; readonly step: number; readonly value: unknown };
  /** The stale write. */
  readonly write: { readonly step: number; readonly value: unknown };
}

/**
 * The first lost update on `loc` in a trace (`run(p, { trace: true })`): a process
 * read the location, another process wrote it, then the first wrote a value
 * computed from its stale read. Null when every write followed a fresh read.
 */
export function firstLostUpdate(trace: readonly TraceEvent[], loc = 'DictProxy#1["count"]'): LostUpdate | null {
  const lastRead = new Map<number, { step: number; value: unknown }>();
  const writes: { pid: number; step: number; value: unknown }[] = [];
  for (const e of trace) {
    if (e.type !== 'access' || e.loc !== loc) continue;
    if (e.kind === 'read') {
      lastRead.set(e.pid, { step: e.step, value: e.value });
      continue;
    }
    const read = lastRead.get(e.pid);
    const between = read === undefined ? undefined : writes.find((w) => w.pid !== e.pid && w.step > read.step);
    if (read !== undefined && between !== undefined) {
      return { writer: e.pid, read, overwritten: between, write: { step: e.step, value: e.value } };
    }
    writes.push({ pid: e.pid, step: e.step, value: e.value });
  }
  return null;
}
