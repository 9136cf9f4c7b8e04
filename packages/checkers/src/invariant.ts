import type { Monitor, TraceEvent } from '@interleave/core';

/**
 * A monitor that checks `holds(event)` after every event and fails the run, naming
 * the invariant and the event, the first time it is false. Keep per-run state in a
 * closure created by `make`, so every run starts fresh.
 *
 * @example
 * ```ts
 * // Never more than 4 people inside the KTV: count the lines they print.
 * const capacity = always('at most 4 inside', () => {
 *   let inside = 0;
 *   return (e) => {
 *     if (e.type === 'print') inside += e.text.includes('进来') ? 1 : e.text.includes('出去') ? -1 : 0;
 *     return inside <= 4;
 *   };
 * });
 * await run(ktv, { monitors: [capacity] });
 * ```
 */
export function always(name: string, make: () => (event: TraceEvent) => boolean): Monitor {
  let holds: (event: TraceEvent) => boolean = () => true;
  return {
    name,
    onStart() {
      holds = make();
    },
    onEvent(event, ctx) {
      if (!holds(event)) ctx.fail(`invariant "${name}" broken at step ${event.step} (t=${event.time}s) by ${describe(event)}`);
    },
  };
}

function describe(e: TraceEvent): string {
  switch (e.type) {
    case 'print':
      return `pid ${e.pid} printing ${JSON.stringify(e.text)}`;
    case 'done':
    case 'issue':
      return `pid ${e.pid} ${e.type === 'done' ? 'performing' : 'issuing'} ${e.obj}.${e.op}()`;
    default:
      return `a ${e.type} event of pid ${e.pid}`;
  }
}
