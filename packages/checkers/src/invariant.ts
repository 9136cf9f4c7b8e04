import type { Monitor, MonitorContext, TraceEvent } from '@interleave/core';

/** Options of {@link always}. */
export interface AlwaysOptions {
  /**
   * The event types the invariant looks at; default every type. The predicate is
   * called for these only, and the kernel need not build the others (see
   * `Monitor.events`): an invariant over prints costs nothing on a shared-memory
   * loop.
   */
  readonly events?: readonly TraceEvent['type'][];
}

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
 * }, { events: ['print'] });
 * await run(ktv, { monitors: [capacity] });
 * ```
 */
export function always(name: string, make: () => (event: TraceEvent) => boolean, options: AlwaysOptions = {}): Monitor {
  const events = options.events;
  let holds: (event: TraceEvent) => boolean = () => true;
  const check = (event: TraceEvent, ctx: MonitorContext): void => {
    if (!holds(event)) ctx.fail(`invariant "${name}" broken at step ${event.step} (t=${event.time}s) by ${describe(event)}`);
  };
  return {
    name,
    ...(events === undefined ? {} : { events }),
    onStart() {
      holds = make();
    },
    // A run that keeps its trace delivers every type: the predicate still sees only its own.
    onEvent: events === undefined ? check : (event, ctx) => void (events.includes(event.type) && check(event, ctx)),
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
