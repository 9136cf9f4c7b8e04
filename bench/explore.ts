/**
 * Exploration throughput and bug-finding figures. Each figure is one line `name: value unit`.
 */
import { program, type Event, type Op, type World } from '@interleave/core';
import { exhaustive, explore } from '@interleave/sched';

function report(name: string, value: number, unit: string, digits = 0): void {
  console.log(`${name}: ${value.toFixed(digits).replace(/\B(?=(\d{3})+(?!\d))/g, '_')} ${unit}`);
}

/** 3 processes, 3 operations each, all on one Event: every pair conflicts. */
const threeByThree = program(
  function* ({ mp }: World) {
    const e = mp.Event();
    function* worker(ev: Event): Generator<Op<unknown>, void, unknown> {
      yield* ev.set();
      yield* ev.isSet();
      yield* ev.clear();
    }
    for (let i = 0; i < 3; i++) yield* mp.Process({ target: worker, args: [e] }).start();
  },
  { name: 'bench/3x3' },
);

export async function benchExplore(): Promise<void> {
  // Warm up the JIT: short explorations are dominated by compilation otherwise.
  for (let i = 0; i < 10; i++) await explore(threeByThree, { strategy: exhaustive(), run: { timing: 'untimed' } });
  let best = 0;
  let executions = 0;
  for (let i = 0; i < 5; i++) {
    const r = await explore(threeByThree, { strategy: exhaustive(), run: { timing: 'untimed' } });
    if (!r.complete) throw new Error('bench/3x3 did not complete');
    executions = r.executions;
    best = Math.max(best, r.stats.executionsPerSecond);
  }
  report('explore.exhaustive', best, `executions/s (3 processes x 3 ops, ${executions} executions)`);
}
