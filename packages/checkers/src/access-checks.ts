import type { Op, TraceEvent } from '@interleave/core';
import { FindingStore, accessChecker, accessEvents, dataOpEvents, type AccessChecker, type AccessCheckerOptions } from './access-findings.js';
import { engineFor } from './hb.js';
import { lostUpdateDetector } from './lost-updates.js';
import { raceDetector } from './races.js';

/**
 * {@link races} and {@link lostUpdates} as one monitor: the same findings (data
 * races, lost updates, check-then-act) from one pass over the events and one set of
 * vector clocks instead of two — the way to run both on long runs, where the
 * happens-before bookkeeping is half of what they cost.
 *
 * @example
 * ```ts
 * const checks = accessChecks();
 * const result = await run(prog, { monitors: [checks] });
 * checks.findings.map((f) => f.kind);   // e.g. ['lost-update', 'data-race']
 * console.log(checks.report());
 * ```
 */
export function accessChecks(options: AccessCheckerOptions = {}): AccessChecker {
  const failOn = options.failOn ?? 'confirmed';
  const sources = options.sources ?? false;
  const store = new FindingStore();
  let hb = engineFor(sources, null);
  let lost = lostUpdateDetector(hb, store);
  let race = raceDetector(hb, store);
  return accessChecker('access-checks', store, failOn, {
    events: accessEvents(sources),
    dataOps: dataOpEvents(sources),
    immediate: sources,
    everyOp: false,
    start(ctx): void {
      hb = engineFor(sources, ctx);
      lost = lostUpdateDetector(hb, store);
      race = raceDetector(hb, store);
    },
    event(e: TraceEvent, op: Op<unknown> | null): void {
      hb.op = op;
      const type = e.type;
      if (type !== 'access') {
        hb.event(e, type);
        // The only events the lost-update checker looks at besides accesses (queues).
        if (type === 'done' || type === 'send' || type === 'recv') lost.event(e, type);
        return;
      }
      const p = hb.accessBy(e);
      // Lost updates judge by synchronisation alone, and read the epoch before the
      // race relation's atomic release moves it on.
      lost.access(e, p);
      if (e.atomic) {
        hb.beforeAccess(e, p);
        hb.afterAccess(e, p);
      } else {
        race(e, p);
      }
    },
    end(): void {
      lost.end();
    },
  });
}
