import type { AccessEvent, Op, TraceEvent } from '@interleave/core';
import {
  accessEvents,
  dataOpEvents,
  FindingKeys,
  FindingStore,
  accessAt,
  describeLoc,
  eventOf,
  heldNote,
  showValue,
  type Access,
  type AccessCheckerOptions,
  accessChecker,
  type AccessChecker,
} from './access-findings.js';
import { engineFor, type HappensBefore, type Proc } from './hb.js';
import type { Finding } from './report.js';

/** Options of {@link races}. */
export type RaceOptions = AccessCheckerOptions;

/** A data-race monitor: attach it to runs, then read its findings. */
export type RaceMonitor = AccessChecker;

/**
 * FastTrack's shadow state of one location: the last write as an epoch, and the
 * reads since as one epoch while they are totally ordered, or one per process
 * once they are concurrent ("read-shared").
 */
interface Shadow {
  w: Access | null;
  r: Access | null;
  shared: Map<number, Access> | null;
}

/**
 * A data-race detector: two accesses to the same unsynchronised location (a
 * `RawValue`, `RawArray`, a Value or Array made with `lock: false`, a file), by
 * different processes, at least one a write, that nothing orders — no lock
 * released by one and acquired by the other, no message, no Event, no join
 * (sleeps do not count). Happens-before is computed with vector clocks from the
 * event stream, with FastTrack's epochs; it is precise: a correctly synchronised
 * program gets no report, whatever the schedule. Manager proxies and locked Values
 * are atomic, so never race (their read-modify-writes are {@link lostUpdates}' job).
 *
 * Every race found is `confirmed` (the two accesses were unordered in this very
 * execution), reported once per pair of code sites (source lines with
 * `sources: true`, else operations), and fails the run by default.
 *
 * @example
 * ```ts
 * const r = races();
 * const result = await run(prog, { monitors: [r] });
 * result.status;          // 'error' when a race was found (failOn: 'confirmed')
 * console.log(r.report()); // [data-race, confirmed] Process-2 (pid 1002) wrote RawValue#1 = 1 at step 9; …
 * r.findings;             // the same, JSON-ready
 *
 * // Over an exploration: each distinct race once, with a token replaying an execution showing it.
 * const all = races({ failOn: 'never' });
 * await explore(prog, { strategy: exhaustive(), monitors: [all] });
 * all.distinct[0]?.finding.token;   // replay(prog, token, { monitors: [races()] })
 * ```
 */
export function races(options: RaceOptions = {}): RaceMonitor {
  const failOn = options.failOn ?? 'confirmed';
  const sources = options.sources ?? false;
  const store = new FindingStore();
  let hb = engineFor(sources, null);
  let detector = raceDetector(hb, store);
  return accessChecker('races', store, failOn, {
    events: accessEvents(sources),
    dataOps: dataOpEvents(sources),
    immediate: sources,
    everyOp: false,
    start(ctx): void {
      hb = engineFor(sources, ctx);
      detector = raceDetector(hb, store);
    },
    event(e: TraceEvent, op: Op<unknown> | null): void {
      hb.op = op;
      const type = e.type;
      if (type !== 'access') {
        hb.event(e, type);
        return;
      }
      const p = hb.accessBy(e);
      hb.beforeAccess(e, p);
      if (!e.atomic) detector(e, p);
      hb.afterAccess(e, p);
    },
  });
}

/**
 * @internal FastTrack over one run: judges each unsynchronised access (call it
 * between `hb.beforeAccess` and `hb.afterAccess`) and reports races into `store`.
 */
export function raceDetector(hb: HappensBefore, store: FindingStore): (e: AccessEvent, p: Proc) => void {
  const shadows = new Map<string, Shadow>();

  const keys = new FindingKeys('data-race');
  const report = (prev: Access, cur: Access): void => {
    const a = prev.code;
    const b = cur.code;
    // The pair in either order is one finding.
    const key = a < b ? keys.of(cur.loc, a, b) : keys.of(cur.loc, b, a);
    store.hit(key, 'confirmed', () => raceFinding(prev, cur, key));
  };

  // The location accessed last: a process usually reads, then writes, the same one.
  let lastLoc = '';
  let lastShadow: Shadow | null = null;

  return (e: AccessEvent, p: Proc): void => {
    let s: Shadow | undefined;
    if (e.loc === lastLoc && lastShadow !== null) s = lastShadow;
    else {
      s = shadows.get(e.loc);
      if (s === undefined) shadows.set(e.loc, (s = { w: null, r: null, shared: null }));
      lastLoc = e.loc;
      lastShadow = s;
    }
    const t = p.idx;
    const c = p.clock[t]!;
    if (e.kind === 'read') {
      if (s.shared === null && s.r !== null && s.r.t === t && s.r.c === c) return; // same epoch
      const w = s.w;
      const r = s.r;
      // The shadow state holds the only reference to its records (reports copy what
      // they need): a read that replaces the last one takes over its record.
      if (s.shared === null && (r === null || r.t === t || hb.knows(p, r.t, r.c))) {
        const cur = r === null ? accessAt(p, e, hb.op) : r.reuse(p, e, hb.op);
        if (w !== null && w.t !== t && !hb.knows(p, w.t, w.c)) report(w, cur);
        s.r = cur;
        return;
      }
      const cur = accessAt(p, e, hb.op);
      if (w !== null && w.t !== t && !hb.knows(p, w.t, w.c)) report(w, cur);
      if (s.shared !== null) s.shared.set(t, cur);
      else {
        s.shared = new Map([
          [r!.t, r!],
          [t, cur],
        ]);
        s.r = null;
      }
      return;
    }
    const w = s.w;
    if (w !== null && w.t === t && w.c === c) return; // same epoch
    if (w !== null && w.t !== t && !hb.knows(p, w.t, w.c)) report(w, accessAt(p, e, hb.op));
    // The write replaces the last one: it takes over its record.
    const cur = w !== null ? w.reuse(p, e, hb.op) : accessAt(p, e, hb.op);
    if (s.shared !== null) {
      for (const r of s.shared.values()) if (r.t !== t && !hb.knows(p, r.t, r.c)) report(r, cur);
      s.shared = null;
    } else if (s.r !== null && s.r.t !== t && !hb.knows(p, s.r.t, s.r.c)) {
      report(s.r, cur);
    }
    s.w = cur;
  };
}

function did(a: Access): string {
  return a.kind === 'read' ? `read ${a.loc} = ${showValue(a.value)}` : `wrote ${a.loc} = ${showValue(a.value)}`;
}

function raceFinding(prev: Access, cur: Access, key: string): Finding {
  const pair = `${prev.kind}-${cur.kind}`;
  const lockOnOneSide =
    prev.held.length > 0 && cur.held.length === 0 ? { who: cur, lock: prev.held[0]! } : cur.held.length > 0 && prev.held.length === 0 ? { who: prev, lock: cur.held[0]! } : null;
  const fix =
    lockOnOneSide !== null
      ? `take ${lockOnOneSide.lock} around ${lockOnOneSide.who.name}'s ${lockOnOneSide.who.kind} too (\`with lock:\` — \`await lock.withLock(...)\`): every access to ${cur.loc} must hold the same lock`
      : `protect every access to ${cur.loc} with one lock (\`with lock:\` — \`await lock.withLock(...)\`), or hand the data over with a message (Queue, Pipe) or a join before reading it`;
  return {
    kind: 'data-race',
    status: 'confirmed',
    message: `${prev.name} (pid ${prev.pid}) ${did(prev)} at step ${prev.step}; ${cur.name} (pid ${cur.pid}) ${did(cur)} at step ${cur.step} — nothing orders the two accesses`,
    why:
      `${describeLoc(cur.loc)} is unsynchronised shared data, and no happens-before path joins these accesses: between them ${prev.name} released ` +
      `nothing that ${cur.name} acquired (lock, semaphore, Event, message through a Queue or Pipe, join)` +
      '; a sleep orders nothing. In another schedule (or in real Python, at the same time) they happen the other way round.',
    fix,
    events: [eventOf(prev, `${prev.kind}, ${heldNote(prev)}`), eventOf(cur, `${cur.kind}, ${heldNote(cur)}`)],
    data: { location: cur.loc, object: cur.obj, accesses: pair },
    key,
  };
}
