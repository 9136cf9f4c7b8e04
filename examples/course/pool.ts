/**
 * The course's process-pool programs (进程池 / Pool), translated line by line from
 * the Python.
 *
 * A pool keeps a fixed number of worker processes and hands them tasks: a pool of 3
 * serves any number of tasks from the same 3 pids (workers are `SpawnPoolWorker-N`,
 * pids 1001, 1002, ... after the main process's 1000). `apply` waits for each task;
 * `applyAsync` returns at once and the results are collected with `get()`;
 * callbacks run back in the main process (`os.getpid()` there is 1000), on its
 * result-handler thread.
 *
 * Python's `range(n)` is `[...Array(n).keys()]`; `'*' * i` is `'*'.repeat(i)`.
 * The Python `with`-less programs below that never call `close()`/`join()` end the
 * way Python's do: when the main code ends, the pool's (daemonic) workers are
 * terminated.
 */
import { program, type AsyncResult, type World } from '@interleave/core';

const range = (a: number, b?: number): number[] => (b === undefined ? [...Array(a).keys()] : [...Array(b - a).keys()].map((i) => i + a));

// ------------------------------------------------------------------- 代码实例

/**
 * ```python
 * def fc(i):
 *     time.sleep(0.5)
 *     print('func%s' % i, os.getpid())
 *
 * if __name__ == '__main__':
 *     p = Pool(5)
 *     for i in range(5):
 *         p.apply(func=fc, args=(i,))  # 同步调用
 * # func0 2000
 * # func1 11064
 * # ...
 * ```
 * `apply` is synchronous: `func0` … `func4` always print in order, each from one of
 * the five workers (pids 1001-1005), half a second apart.
 */
export const applyInLoop = program(async ({ mp, os, time, print }: World) => {
  async function fc(i: number): Promise<void> {
    await time.sleep(0.5);
    await print(`func${i}`, os.getpid());
  }

  const p = mp.Pool(5);
  for (let i = 0; i < 5; i++) {
    await p.apply(fc, [i]); // 同步调用
  }
}, { name: 'course/pool/apply-in-loop' });

// ------------------------------------------------------------------- 进程池的同步调用

/**
 * ```python
 * def work(n):
 *     print('%s run' % os.getpid())
 *     time.sleep(1)
 *     return n ** 2
 *
 * if __name__ == '__main__':
 *     p = Pool(3)  # 进程池中从无到有创建三个进程,以后一直是这三个进程在执行任务
 *     for i in range(10):
 *         res = p.apply(work, args=(i,))  # 同步调用，直到本次任务执行完毕拿到res
 *         print(res)
 * ```
 * Prints `<pid> run` then the square, ten times in order (0, 1, 4 … 81); every pid
 * is one of the pool's three.
 */
export const syncApply = program(async ({ mp, os, time, print }: World) => {
  async function work(n: number): Promise<number> {
    await print(`${os.getpid()} run`);
    await time.sleep(1);
    return n ** 2;
  }

  const p = mp.Pool(3); // 进程池中从无到有创建三个进程,以后一直是这三个进程在执行任务
  for (let i = 0; i < 10; i++) {
    const res = await p.apply(work, [i]); // 同步调用，直到本次任务执行完毕拿到res
    await print(res);
  }
}, { name: 'course/pool/sync-apply' });

// ------------------------------------------------------------------- 进程池的异步调用

/**
 * ```python
 * def work(n):
 *     print('%s run' % os.getpid())
 *     time.sleep(random.random())
 *     return n ** 2
 *
 * if __name__ == '__main__':
 *     p = Pool(3)
 *     res_l = []
 *     for i in range(10):
 *         res = p.apply_async(work, args=(i,))
 *         res_l.append(res)
 *     p.close()
 *     p.join()
 *     for res in res_l:
 *         print(res.get())  # 使用get来获取apply_aync的结果
 * ```
 * The ten `<pid> run` lines interleave (three tasks run at once, on the same three
 * pids throughout); then the squares print in submission order.
 */
export const asyncApply = program(async ({ mp, os, time, random, print }: World) => {
  async function work(n: number): Promise<number> {
    await print(`${os.getpid()} run`);
    await time.sleep(random.random());
    return n ** 2;
  }

  const p = mp.Pool(3);
  const res_l: AsyncResult<number>[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await p.applyAsync(work, [i]);
    res_l.push(res);
  }
  // 异步apply_async用法：如果使用异步提交的任务，主进程需要使用join，等待进程池内任务都处理完，然后可以用get收集结果
  // 否则，主进程结束，进程池可能还没来得及执行，也就跟着一起结束了
  await p.close();
  await p.join();
  for (const res of res_l) {
    await print(await res.get()); // 使用get来获取apply_aync的结果
  }
}, { name: 'course/pool/async-apply' });

// ------------------------------------------------------------------- 没有返回值的情况

/**
 * ```python
 * def wahaha(i):
 *     time.sleep(1)
 *     print('*' * i)
 *
 * if __name__ == '__main__':
 *     p = Pool(5)  # 建议的数量是CPU核数+1
 *     for i in range(5):
 *         p.apply_async(func=wahaha, args=(i,))
 *     p.close()  # 不能再提交新的任务
 *     p.join()  # 等待池中的任务都执行完
 * ```
 * Five lines of 0 to 4 stars. The course says the pool's output comes out in order
 * while {@link noReturnProcesses}' does not; that is timing luck (each worker
 * starts its task a little after the previous). Here all five tasks start at t=0
 * and wake at t=1 together, so either program can print in any order.
 */
export const noReturn = program(async ({ mp, time, print }: World) => {
  async function wahaha(i: number): Promise<void> {
    await time.sleep(1);
    await print('*'.repeat(i));
  }

  const p = mp.Pool(5); // 建议的数量是CPU核数+1
  for (let i = 0; i < 5; i++) {
    await p.applyAsync(wahaha, [i]);
  }
  await p.close(); // 不能再提交新的任务
  await p.join(); // 等待池中的任务都执行完
}, { name: 'course/pool/no-return' });

/**
 * ```python
 * def f(n):
 *     time.sleep(1)
 *     print('*' * n)
 *
 * if __name__ == '__main__':
 *     for i in range(5):
 *         Process(target=f, args=(i,)).start()
 * ```
 */
export const noReturnProcesses = program(async ({ mp, time, print }: World) => {
  async function f(n: number): Promise<void> {
    await time.sleep(1);
    await print('*'.repeat(n));
  }

  for (let i = 0; i < 5; i++) {
    await mp.Process({ target: f, args: [i] }).start();
  }
}, { name: 'course/pool/no-return-processes' });

// ------------------------------------------------------------------- 有返回值的情况

/**
 * ```python
 * def wahaha(i):
 *     time.sleep(1)
 *     return '*' * i
 *
 * if __name__ == '__main__':
 *     p = Pool(5)
 *     res_1 = []
 *     for i in range(1,5):
 *         res = p.apply_async(func=wahaha, args=(i,))
 *         res_1.append(res)
 *     for i in res_1: print(i.get())
 * # *
 * # **
 * # ***
 * # ****
 * ```
 * Always in order: `get()` waits for each result in turn. No close/join is needed
 * here, because every result has been fetched before the main code ends.
 */
export const withReturn = program(async ({ mp, time, print }: World) => {
  async function wahaha(i: number): Promise<string> {
    await time.sleep(1);
    return '*'.repeat(i);
  }

  const p = mp.Pool(5);
  const res_1: AsyncResult<string>[] = [];
  for (const i of range(1, 5)) {
    const res = await p.applyAsync(wahaha, [i]);
    res_1.push(res);
  }
  for (const i of res_1) await print(await i.get());
}, { name: 'course/pool/with-return' });

// ------------------------------------------------------------------- map

/**
 * ```python
 * def wahaha(i):
 *     time.sleep(1)
 *     print('*' * i)
 *
 * if __name__ == '__main__':
 *     p = Pool(5)
 *     p.map(func=wahaha, iterable=range(1, 5))  # iterable接收一个可迭代对象
 * ```
 * Four lines of 1 to 4 stars, in any order (the four tasks sleep side by side), all
 * printed before `map` returns.
 */
export const mapStars = program(async ({ mp, time, print }: World) => {
  async function wahaha(i: number): Promise<void> {
    await time.sleep(1);
    await print('*'.repeat(i));
  }

  const p = mp.Pool(5); // 建议的数量是CPU核数+1
  await p.map(wahaha, range(1, 5)); // iterable接收一个可迭代对象
}, { name: 'course/pool/map-stars' });

/**
 * ```python
 * def func(i):
 *     time.sleep(0.5)
 *     return i * i
 *
 * if __name__ == '__main__':
 *     p = Pool(5)
 *     res = p.map(func, range(10))
 *     print(res)
 * # [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]
 * ```
 */
export const mapSquares = program(async ({ mp, time, print }: World) => {
  async function func(i: number): Promise<number> {
    await time.sleep(0.5);
    return i * i;
  }

  const p = mp.Pool(5);
  const res = await p.map(func, range(10));
  await print(res);
}, { name: 'course/pool/map-squares' });

// ------------------------------------------------------------------- 效率对比

/**
 * ```python
 * def func(n):
 *     pass
 *
 * if __name__ == '__main__':
 *     t1 = time.time()
 *     pool = Pool(5)
 *     pool.map(func, range(100))
 *     t2 = time.time()
 *     p_lst = []
 *     for i in range(100):
 *         p = Process(target=func, args=(i,))
 *         p.start()
 *         p_lst.append(p)
 *     for p in p_lst: p.join()
 *     t3 = time.time()
 *     print(t2 - t1, t3 - t2)
 * # 0.16640734672546387 3.1360883712768555
 * ```
 * Creating a process is what costs; the tasks do nothing. Run it with the run
 * option `spawnCost` (virtual seconds per process creation) to see the course's
 * shape: with `{ spawnCost: 0.03 }` the pool takes 5 × 0.03 s and the 100
 * processes 100 × 0.03 s. Without it process creation is free and both are 0.
 */
export const efficiency = program(async ({ mp, time, print }: World) => {
  function func(_n: number): void {
    // pass
  }

  const t1 = time.time();
  const pool = mp.Pool(5);
  await pool.map(func, range(100));
  const t2 = time.time();
  const p_lst = [];
  for (let i = 0; i < 100; i++) {
    const p = mp.Process({ target: func, args: [i] });
    await p.start();
    p_lst.push(p);
  }
  for (const p of p_lst) await p.join();
  const t3 = time.time();
  await print(t2 - t1, t3 - t2);
  return [t2 - t1, t3 - t2];
}, { name: 'course/pool/efficiency' });

// ------------------------------------------------------------------- 回调函数

/**
 * ```python
 * def func1(n):
 *     print('in func1', os.getpid())
 *     return n * n
 *
 * def func2(nn):
 *     print('in func2', os.getpid())
 *     print(nn)
 *
 * if __name__ == '__main__':
 *     print('主进程:', os.getpid())
 *     p = Pool(5)
 *     p.apply_async(func1, args=(10,), callback=func2)
 *     p.close()
 *     p.join()
 * # 主进程: 14244
 * # in func1 14440
 * # in func2 14244
 * # 100
 * ```
 * `主进程: 1000`, `in func1 <a worker's pid>`, then `in func2 1000`: the callback
 * runs in the main process (on its result-handler thread), with the task's result.
 */
export const callback = program(async ({ mp, os, print }: World) => {
  async function func1(n: number): Promise<number> {
    await print('in func1', os.getpid());
    return n * n;
  }

  async function func2(nn: number): Promise<void> {
    await print('in func2', os.getpid());
    await print(nn);
  }

  await print('主进程:', os.getpid());
  const p = mp.Pool(5);
  await p.applyAsync(func1, [10], { callback: func2 });
  await p.close();
  await p.join();
}, { name: 'course/pool/callback' });

/**
 * 如果在主进程中等待进程池中所有任务都执行完毕后，再统一处理结果，则无需回调函数。
 * ```python
 * def work(n):
 *     time.sleep(1)
 *     print(os.getpid())
 *     return n ** 2
 *
 * if __name__ == '__main__':
 *     p = Pool()
 *     res_l = []
 *     for i in range(10):
 *         res = p.apply_async(work, args=(i,))
 *         res_l.append(res)
 *     p.close()
 *     p.join()  # 等待进程池中所有进程执行完毕
 *     nums = []
 *     for res in res_l:
 *         nums.append(res.get())  # 拿到所有结果
 *     print(nums)
 * ```
 * `Pool()` has `mp.cpuCount()` workers (the run option `cpuCount`, default 4): ten
 * worker pids print, from as many distinct processes, then the list of squares.
 */
export const collectAll = program(async ({ mp, os, time, print }: World) => {
  async function work(n: number): Promise<number> {
    await time.sleep(1);
    await print(os.getpid());
    return n ** 2;
  }

  const p = mp.Pool();
  const res_l: AsyncResult<number>[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await p.applyAsync(work, [i]);
    res_l.push(res);
  }
  await p.close();
  await p.join(); // 等待进程池中所有进程执行完毕
  const nums: number[] = [];
  for (const res of res_l) {
    nums.push(await res.get()); // 拿到所有结果
  }
  await print(nums); // 主进程拿到所有的处理结果,可以在主进程中进行统一进行处理
}, { name: 'course/pool/collect-all' });
