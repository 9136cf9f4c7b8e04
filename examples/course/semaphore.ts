/**
 * The course's Semaphore program (信号量 / KTV): a mall has 4 mini karaoke booths
 * (迷你唱吧), so 4 people can sing at once; a fifth waits outside until someone
 * comes out. `Semaphore(4)` counts the free booths: `acquire()` takes one (blocking
 * at zero), `release()` gives it back.
 *
 * `ktvGenerator` is the same program written with generator functions: `yield*`
 * instead of `await`. It makes the same operations in the same order, so the same
 * seed gives the same output, and it can run under `runSync` — the fast path.
 */
import { program, type Op, type Semaphore, type World } from '@interleave/core';

/** What a person prints on the way in: `person %s 进来唱歌了` ("came in to sing"). */
export const IN = '进来唱歌了';
/** What a person prints on the way out: `person %s 从ktv出去了` ("left the KTV"). */
export const OUT = '从ktv出去了';

/**
 * ```python
 * def ktv(p, s):
 *     s.acquire()  # 取得锁
 *     print('person %s 进来唱歌了' % p)
 *     time.sleep(random.random())
 *     print('person %s 从ktv出去了' % p)
 *     s.release()  # 释放锁
 *
 * if __name__ == '__main__':
 *     sem = Semaphore(4)  # 初始化信号量，数量为4
 *     for i in range(6):  # 模拟6个人
 *         Process(target=ktv, args=(i, sem)).start()
 * ```
 */
export const ktv = program(async ({ mp, time, random, print }: World) => {
  async function ktv(p: number, s: Semaphore): Promise<void> {
    await s.acquire(); // 取得锁
    await print(`person ${p} ${IN}`);
    await time.sleep(random.random());
    await print(`person ${p} ${OUT}`);
    await s.release(); // 释放锁
  }

  const sem = mp.Semaphore(4); // 初始化信号量，数量为4
  for (let i = 0; i < 6; i++) {
    // 模拟6个人
    await mp.Process({ target: ktv, args: [i, sem] }).start();
  }
}, { name: 'course/semaphore/ktv' });

/** {@link ktv} in generator style: `yield*` every operation. Runs under `runSync` too. */
export const ktvGenerator = program(function* ({ mp, time, random, print }: World): Generator<Op<unknown>, void, unknown> {
  function* ktv(p: number, s: Semaphore): Generator<Op<unknown>, void, unknown> {
    yield* s.acquire(); // 取得锁
    yield* print(`person ${p} ${IN}`);
    yield* time.sleep(random.random());
    yield* print(`person ${p} ${OUT}`);
    yield* s.release(); // 释放锁
  }

  const sem = mp.Semaphore(4); // 初始化信号量，数量为4
  for (let i = 0; i < 6; i++) {
    // 模拟6个人
    yield* mp.Process({ target: ktv, args: [i, sem] }).start();
  }
}, { name: 'course/semaphore/ktv-generator' });
