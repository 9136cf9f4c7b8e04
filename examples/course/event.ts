/**
 * The course's Event programs (事件 / "Event") and traffic lights (红绿灯).
 *
 * An Event is a flag: `wait()` blocks while it is False, `set()` makes it True and
 * wakes every waiter, `clear()` makes it False again, `is_set()` reads it.
 *
 * Colours: the course prints the light with ANSI escape codes
 * (`'\033[1;31m红灯亮\033[0m'`). The ports keep them, so the programs stay line-by-line
 * translations and look the same in a terminal; use {@link plain} to strip them
 * before comparing text.
 */
import { program, type Event, type World } from '@interleave/core';

/** `'\033[1;31m红灯亮\033[0m'`: red light on (bold red). */
export const RED = '\x1b[1;31m红灯亮\x1b[0m';
/** `'\033[1;32m绿灯亮\033[0m'`: green light on (bold green). */
export const GREEN = '\x1b[1;32m绿灯亮\x1b[0m';

/** Remove ANSI colour codes, e.g. to compare `stdout` with the course's printed output. */
export function plain(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

// ------------------------------------------------------------------ 事件介绍

/**
 * ```python
 * e = Event()  # 创建一个事件的对象
 * print(e.is_set())  # 在事件的创始之初,状态为False
 * ```
 * Prints `False`.
 */
export const isSetInitially = program(async ({ mp, print }: World) => {
  const e = mp.Event(); // 创建一个事件的对象
  await print(await e.isSet()); // 在事件的创始之初,状态为False
}, { name: 'course/event/is-set-initially' });

/**
 * ```python
 * e = Event()
 * print(e.is_set())
 * e.wait()
 * print('1')
 * # 执行输出： False，然后程序一致卡着
 * ```
 * Prints `False`, then "the program hangs" (程序一直卡着): no process will ever set
 * the event, so the run ends with status `deadlock`, naming MainProcess blocked in
 * `Event#1.wait()`. `1` is never printed.
 */
export const waitForever = program(async ({ mp, print }: World) => {
  const e = mp.Event(); // 创建一个事件的对象
  await print(await e.isSet()); // 在事件的创世之初,状态为False
  await e.wait();
  await print('1');
}, { name: 'course/event/wait-forever' });

/**
 * ```python
 * e = Event()
 * print(e.is_set())
 * e.set()  # 将状态设置为True
 * e.wait()
 * print(e.is_set())  # 查看状态
 * print('1')
 * # False
 * # True
 * # 1
 * ```
 */
export const setThenWait = program(async ({ mp, print }: World) => {
  const e = mp.Event(); // 创建一个事件的对象
  await print(await e.isSet()); // 在事件的创始之初,状态为False
  await e.set(); // 将状态设置为True
  await e.wait();
  await print(await e.isSet()); // 查看状态
  await print('1');
}, { name: 'course/event/set-then-wait' });

// -------------------------------------------------------------------- 红绿灯

/**
 * 模拟红绿灯: the light on its own, one process, one red-green cycle.
 * ```python
 * def traffic_light():
 *     while True:
 *         print('\033[1;31m红灯亮\033[0m')
 *         time.sleep(1)
 *         print('\033[1;32m绿灯亮\033[0m')
 *         time.sleep(1)
 *         break
 * traffic_light()
 * ```
 */
export const lightAlone = program(async ({ time, print }: World) => {
  async function trafficLight(): Promise<void> {
    while (true) {
      await print(RED);
      await time.sleep(1);
      await print(GREEN);
      await time.sleep(1);
      break;
    }
  }
  await trafficLight();
}, { name: 'course/event/light-alone' });

/**
 * 下面来创建车，加一个红绿灯进程: a light process and five cars, with no Event between
 * them. The cars do not look at the light: they drive through while it is red
 * (course output: `car4通过路口 car1通过路口 红灯亮 car3通过路口 ...`).
 */
export const carsIgnoreLight = program(async ({ mp, time, print }: World) => {
  async function trafficLight(): Promise<void> {
    while (true) {
      await print(RED);
      await time.sleep(2);
      await print(GREEN);
      await time.sleep(2);
      break;
    }
  }

  async function car(i: number): Promise<void> {
    await print(`car${i}通过路口`);
  }

  await mp.Process({ target: trafficLight }).start();
  for (let i = 1; i < 6; i++) {
    await mp.Process({ target: car, args: [i] }).start();
  }
}, { name: 'course/event/cars-ignore-light' });

/**
 * The flag toggle the course writes before the final version: an endless loop,
 * so the run stops at the `maxSteps` option with status `step-limit`.
 * ```python
 * flag = False
 * while True:
 *     if flag is True:
 *         flag = False
 *         print(0)
 *     else:
 *         flag = True
 *         print(1)
 *     time.sleep(1)
 * ```
 */
export const flagToggle = program(async ({ time, print }: World) => {
  let flag = false;
  while (true) {
    if (flag) {
      flag = false;
      await print(0);
    } else {
      flag = true;
      await print(1);
    }
    await time.sleep(1);
  }
}, { name: 'course/event/flag-toggle' });

/**
 * 红绿灯 最终版 (final version). The light process toggles red and green every 2
 * seconds, 6 times, and drives the Event: set while green, clear while red. Five
 * cars arrive 1 to 3 seconds apart; a car that finds the event clear prints
 * `carN正在等待` (waiting), then every car waits for the event and prints
 * `carN通过路口` (passes the crossing).
 *
 * Note the order inside the light, as in the course: it sets the event *before*
 * printing 绿灯亮, and clears it *before* printing the next 红灯亮. A waiting car
 * may therefore print its 通过路口 just ahead of the 绿灯亮 line: the printed text
 * lags the light's real state, which is the Event's flag.
 */
export const trafficLight = program(async ({ mp, time, random, print }: World) => {
  async function trafficLight(e: Event): Promise<void> {
    let count = 0;
    while (count < 6) {
      await print(RED);
      await time.sleep(2);
      if (!(await e.isSet())) await e.set();
      await print(GREEN);
      await time.sleep(2);
      if (await e.isSet()) await e.clear();
      count += 1;
    }
  }

  async function car(i: number, e: Event): Promise<void> {
    if (!(await e.isSet())) {
      await print(`car${i}正在等待`);
    }
    await e.wait();
    await print(`car${i}通过路口`);
  }

  const e = mp.Event();
  await mp.Process({ target: trafficLight, args: [e] }).start();
  for (let i = 1; i < 6; i++) {
    await time.sleep(random.randint(1, 3));
    await mp.Process({ target: car, args: [i, e] }).start();
  }
}, { name: 'course/event/traffic-light' });
