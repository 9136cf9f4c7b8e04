/**
 * The course's Event programs (事件) and traffic lights (红绿灯), checked over many
 * seeds. The light's colour codes stay in the printed text; `plain()` strips them.
 *
 * "The light is red" means the Event's flag is clear: that is what the cars look
 * at. The printed 红灯亮/绿灯亮 lines come one step after the light changes the flag
 * (the course's light sets the event, then prints 绿灯亮), so at the instant of a
 * change a car's line may come before or after the light's line. Hence three checks:
 * a car only gets through `e.wait()` while the flag is set; no car prints 通过路口
 * strictly inside a red period of virtual time; and the text may lag (shown below).
 */
import { describe, expect, it } from 'vitest';
import { always } from '@interleave/checkers';
import { run, type TraceEvent } from '@interleave/core';
import {
  GREEN,
  RED,
  carsIgnoreLight,
  flagToggle,
  isSetInitially,
  lightAlone,
  plain,
  setThenWait,
  trafficLight,
  waitForever,
} from './event.js';

const SEEDS = 300;
const LIGHT = 1001; // Process-1; the cars are Process-2..6, pids 1002..1006
const PASS = '通过路口';
const WAITING = '正在等待';

/** Red periods are [4k, 4k+2), green ones [4k+2, 4k+4): the light switches every 2 s. */
const strictlyRed = (t: number): boolean => t % 4 > 0 && t % 4 < 2;
const strictlyGreen = (t: number): boolean => t % 4 > 2 && t % 4 < 4;

/** The first seed below `limit` for which `test` holds, or null. */
async function findSeed(limit: number, test: (seed: number) => Promise<boolean>): Promise<number | null> {
  for (let seed = 0; seed < limit; seed++) if (await test(seed)) return seed;
  return null;
}

/** A car gets through `e.wait()` only while the light's flag is set, checked at every event. */
const noCarThroughOnRed = always('no car gets through e.wait() on red', () => {
  let green = false;
  return (e: TraceEvent) => {
    if (e.type !== 'done' || e.obj !== 'Event#1') return true;
    if (e.op === 'set') green = true;
    if (e.op === 'clear') green = false;
    // A wait that finds the flag clear takes a first step that returns nothing (it starts waiting).
    return !(e.op === 'wait' && e.pid !== LIGHT && e.value !== undefined && (!green || e.value !== true));
  };
});

/** No 通过路口 line is printed strictly inside a red period of virtual time. */
const noPassPrintedOnRed = always('no 通过路口 printed while red', () => (e: TraceEvent) =>
  !(e.type === 'print' && e.text.endsWith(PASS) && strictlyRed(e.time)),
);

describe('course/event: 事件介绍', () => {
  it('is_set() is False on a new Event', async () => {
    const r = await run(isSetInitially);
    expect(r.status).toBe('ok');
    expect(r.stdout).toBe('False\n');
  });

  it('wait() on an unset Event hangs (程序一直卡着): a deadlock naming MainProcess in Event#1.wait()', async () => {
    for (let seed = 0; seed < 20; seed++) {
      const r = await run(waitForever, { seed });
      expect(r.status).toBe('deadlock');
      if (r.status !== 'deadlock') return;
      expect(r.stdout).toBe('False\n'); // '1' is never printed
      expect(r.blocked).toEqual([
        { pid: 1000, name: 'MainProcess', op: 'Event#1.wait()', waitsOn: 'waiting for Event#1 to be set', heldBy: [] },
      ]);
      expect(r.message).toContain('MainProcess (pid 1000) is blocked in Event#1.wait()');
    }
  });

  it('set() then wait() returns at once, and is_set() is True: False, True, 1', async () => {
    const r = await run(setThenWait);
    expect(r.status).toBe('ok');
    expect(r.stdout).toBe('False\nTrue\n1\n');
  });
});

describe('course/event: 红绿灯', () => {
  it('模拟红绿灯: the light alone prints red then green over 2 virtual seconds', async () => {
    const r = await run(lightAlone);
    expect(r.status).toBe('ok');
    expect(r.stdout).toBe(`${RED}\n${GREEN}\n`);
    expect(plain(r.stdout)).toBe('红灯亮\n绿灯亮\n');
    expect(r.time).toBe(2);
  });

  it('without an Event the cars ignore the light: some seed has a car pass after 红灯亮 and before 绿灯亮', async () => {
    let found = false;
    for (let seed = 0; seed < SEEDS && !found; seed++) {
      const lines = plain((await run(carsIgnoreLight, { seed })).stdout).split('\n');
      const red = lines.indexOf('红灯亮');
      const green = lines.indexOf('绿灯亮');
      found = lines.some((l, i) => l.endsWith(PASS) && i > red && i < green);
    }
    expect(found).toBe(true);
  });

  it("without an Event, some seed prints exactly the course's output", async () => {
    const course = 'car4通过路口\ncar1通过路口\n红灯亮\ncar3通过路口\ncar5通过路口\ncar2通过路口\n绿灯亮\n';
    const seed = await findSeed(40_000, async (seed) => plain((await run(carsIgnoreLight, { seed })).stdout) === course);
    expect(seed).not.toBeNull();
    // ... and that seed replays it.
    expect(plain((await run(carsIgnoreLight, { seed: seed! })).stdout)).toBe(course);
  });

  it('the endless flag toggle prints 1, 0, 1, ... until the maxSteps option stops it', async () => {
    const r = await run(flagToggle, { maxSteps: 20 });
    expect(r.status).toBe('step-limit');
    expect(r.stdout).toBe('1\n0\n'.repeat(5));
    expect(r.time).toBe(10);
  });
});

describe('course/event: 红绿灯 最终版', () => {
  it(`no car passes on red, checked at every event of ${SEEDS} seeds; every car passes; 6 red-green cycles`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(trafficLight, { seed, monitors: [noCarThroughOnRed, noPassPrintedOnRed] });
      expect(r.status, `seed ${seed}: ${r.status === 'ok' ? '' : r.message}`).toBe('ok');
      const lines = plain(r.stdout).trimEnd().split('\n');
      expect(lines.filter((l) => l === '红灯亮' || l === '绿灯亮')).toEqual(Array.from({ length: 6 }, () => ['红灯亮', '绿灯亮']).flat());
      for (let i = 1; i <= 5; i++) expect(lines.filter((l) => l === `car${i}${PASS}`), `seed ${seed}`).toHaveLength(1);
      expect(r.time).toBe(24);
    }
  });

  it(`cars that arrive on red print 正在等待 first; cars that arrive on green pass straight away (${SEEDS} seeds)`, async () => {
    let waited = 0;
    let straight = 0;
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await run(trafficLight, { seed, trace: true });
      const events = r.trace!;
      for (let car = 1; car <= 5; car++) {
        const pid = LIGHT + car;
        const lines = r.output.filter((l) => l.pid === pid);
        // Arrival: the car's first look at the light, e.is_set().
        const look = events.find((e) => e.type === 'done' && e.pid === pid && e.op === 'isSet');
        expect(look?.type).toBe('done');
        if (look?.type !== 'done') return;
        if (look.value === false) {
          waited++;
          expect(lines.map((l) => l.text)).toEqual([`car${car}${WAITING}`, `car${car}${PASS}`]);
          // ... and it passes only after the light next sets the event.
          const set = events.find((e) => e.type === 'done' && e.op === 'set' && e.step > look.step);
          expect(set).toBeDefined();
          expect(lines[1]!.step).toBeGreaterThan(set!.step);
        } else {
          straight++;
          expect(lines.map((l) => l.text)).toEqual([`car${car}${PASS}`]);
        }
        // In virtual time: arriving strictly inside a red period means waiting, strictly inside green means not.
        if (strictlyRed(lines[0]!.time)) expect(lines[0]!.text).toBe(`car${car}${WAITING}`);
        if (strictlyGreen(lines[0]!.time)) expect(lines[0]!.text).toBe(`car${car}${PASS}`);
      }
    }
    expect(waited).toBeGreaterThan(0);
    expect(straight).toBeGreaterThan(0);
  });

  it("some seed prints exactly the course's output (执行输出)", async () => {
    const course = [
      '红灯亮', 'car1正在等待', '绿灯亮', 'car1通过路口', 'car2通过路口',
      '红灯亮', '绿灯亮', 'car3通过路口',
      '红灯亮', 'car4正在等待', '绿灯亮', 'car4通过路口', 'car5通过路口',
      '红灯亮', '绿灯亮', '红灯亮', '绿灯亮', '红灯亮', '绿灯亮',
    ].join('\n') + '\n';
    const seed = await findSeed(2_000, async (seed) => plain((await run(trafficLight, { seed })).stdout) === course);
    expect(seed).not.toBeNull();
  });

  it('the printed text lags the light: on some seed a waiting car prints 通过路口 before the 绿灯亮 line', async () => {
    // The light sets the event, then prints 绿灯亮; the car it woke may print first,
    // so its 通过路口 appears after 红灯亮 and before 绿灯亮 although the flag was set.
    let found: number | null = null;
    for (let seed = 0; seed < SEEDS && found === null; seed++) {
      const r = await run(trafficLight, { seed, monitors: [noCarThroughOnRed] });
      expect(r.status).toBe('ok');
      const lines = plain(r.stdout).trimEnd().split('\n');
      for (let i = 0; i < lines.length && found === null; i++) {
        const car = /^(car\d)通过路口$/.exec(lines[i]!)?.[1];
        if (car === undefined) continue;
        const lastLight = lines.slice(0, i).filter((l) => l === '红灯亮' || l === '绿灯亮').at(-1);
        if (lastLight === '红灯亮' && lines.slice(0, i).includes(`${car}${WAITING}`)) found = seed;
      }
    }
    expect(found).not.toBeNull();
  });

  it("in untimed mode (any order of sleepers) some seed lets a car through on red: the program relies on the light's 2 seconds", async () => {
    // The light sets, prints, "sleeps" (only a scheduling point) and clears before the
    // woken car runs: e.wait() then returns False, which the course's car ignores.
    let found: string | null = null;
    for (let seed = 0; seed < SEEDS && found === null; seed++) {
      const r = await run(trafficLight, { seed, timing: 'untimed', monitors: [noCarThroughOnRed] });
      if (r.status === 'error') found = r.message;
    }
    expect(found).toMatch(/no car gets through e\.wait\(\) on red.*Event#1\.wait\(\)/);
  });
});
