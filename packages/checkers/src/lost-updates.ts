import type { AccessEvent, DoneEvent, Op, RecvEvent, SendEvent, TraceEvent } from '@interleave/core';
import {
  accessEvents,
  dataOpEvents,
  FindingKeys,
  FindingStore,
  accessAt,
  codeOf,
  describeLoc,
  eventOf,
  heldNote,
  isQueueOp,
  showValue,
  type Access,
  type AccessCheckerOptions,
  accessChecker,
  type AccessChecker,
} from './access-findings.js';
import { engineFor, type HappensBefore, type Proc } from './hb.js';
import type { Finding, FindingStatus } from './report.js';
import { OpenSpans, completes, setAt } from './rmw-spans.js';

/** Options of {@link lostUpdates}. */
export type LostUpdateOptions = AccessCheckerOptions;

/** A lost-update monitor: attach it to runs, then read its findings. */
export type LostUpdateMonitor = AccessChecker;

/** A read-modify-write in progress: a process read a location and has not written it yet. */
interface Span {
  read: Access;
  /** Earlier writes of other processes that nothing orders before the read: each could land in the gap. */
  concurrent: readonly Access[];
  /** Writes of other processes that did land in the gap; `afterRead`: the read is ordered before it. */
  intervening: { readonly w: Access; readonly afterRead: boolean }[] | null;
  /** The write that completed it. */
  write: Access | null;
}

/**
 * Per location, indexed by process (clock index): its last write, its open span
 * and its last completed span. Arrays, not maps: they are scanned on every write.
 */
interface Cell {
  readonly last: (Access | undefined)[];
  readonly spans: OpenSpans<Span>;
  readonly done: (Span | undefined)[];
  /**
   * A span no longer needed, to be the next one: a span and its read record are
   * referenced from nowhere else (reports copy what they need), so a process
   * doing read-modify-writes in a loop allocates one record per write, nothing more.
   */
  readonly spare: (Span | undefined)[];
  /** The latest write's epoch `latestC@latestT` (`latestT` -1: none yet). */
  latestT: number;
  latestC: number;
  /**
   * Every process's last write happens before the latest write: a process that
   * knows the latest knows them all, and finds nothing unordered in `last` or in
   * `done` (a completed span's write is its process's last, or earlier). A lock
   * around every access keeps it so, and then neither is scanned — a hundred
   * entries at every access with a hundred processes.
   */
  ordered: boolean;
}

/** A process asked a queue about its state and may act on the answer. */
interface Check {
  readonly check: Access;
  /** Items put and not yet got when it checked. */
  readonly count: number;
  /** What the answer licenses: a get (`empty()` false, `qsize()` > 0) or a put (`full()` false). */
  readonly then: 'get' | 'put';
  /** The other process's get (or put) that made the answer stale before it acted. */
  stale: Access | null;
  /** After that get, the queue held nothing: the answer "not empty" was false by then. */
  emptied: boolean;
}

interface QueueState {
  inFlight: number;
  readonly checks: Map<number, Check>;
  /** The last check (`empty`, `qsize`, `full`) of each process, by process index. */
  readonly lastCheck: Map<number, Access>;
  /** The last check-then-get of each process that found exactly one item: one remote get in between would have left it none. */
  readonly acts: Map<number, { readonly check: Access; readonly act: Access }>;
}


/**
 * Lost updates and check-then-act atomicity violations: the course's real bugs,
 * which are not data races. `dic['count'] -= 1` on a Manager dict, `v.value += 1`
 * on a locked Value, and read-decide-write of the ticket file are each a read and
 * a later write of one location by one process; when another process's write
 * lands between them it is overwritten (AVIO's R-W-W pattern):
 *
 *     Process-3 (pid 1003) read DictProxy#1["count"] = 97 at step 12; Process-5 (pid 1005)
 *     wrote 96 at step 14; Process-3 wrote 96 at step 15 — Process-5's update was lost
 *
 * `confirmed`: it happened in this execution. `potential`: it did not, but the
 * happens-before order (locks, messages, joins, events — not the accesses
 * themselves) lets the other write land in the gap, so another schedule loses it;
 * the unlocked Manager count is reported even by a run that lost nothing. A write
 * the program forces into the gap (read → start child → child writes → join →
 * write) is the program's logic, not a race, and is not reported. Check-then-act on
 * a queue (`if not q.empty(): q.get()`) is reported when another process's get
 * emptied the queue before the get, which then raised `Empty`, waited for a later
 * item or never completed (confirmed), or could have (potential: the queue held
 * one item).
 *
 * Only confirmed findings fail the run by default (`failOn`); one report per
 * distinct triple of code sites (the read, the stale write, the lost write).
 *
 * @example
 * ```ts
 * const lu = lostUpdates({ failOn: 'never' });
 * await run(unlocked, { monitors: [lu], strategy: roundRobinStrategy() });
 * lu.findings[0]?.status;   // 'potential': this schedule lost nothing, another would
 * console.log(lu.report());
 * ```
 */
export function lostUpdates(options: LostUpdateOptions = {}): LostUpdateMonitor {
  const failOn = options.failOn ?? 'confirmed';
  const sources = options.sources ?? false;
  const store = new FindingStore();
  let hb = engineFor(sources, null);
  let detector = lostUpdateDetector(hb, store);
  return accessChecker('lost-updates', store, failOn, {
    events: accessEvents(sources),
    dataOps: dataOpEvents(sources),
    immediate: sources,
    everyOp: false,
    start(ctx): void {
      hb = engineFor(sources, ctx);
      detector = lostUpdateDetector(hb, store);
    },
    event(e: TraceEvent, op: Op<unknown> | null): void {
      hb.op = op;
      const type = e.type;
      if (type === 'access') {
        detector.access(e, hb.accessBy(e));
        return;
      }
      hb.event(e, type);
      detector.event(e, type);
    },
    end(): void {
      detector.end();
    },
  });
}

/** @internal The lost-update and check-then-act logic over one run, on an engine it may share. */
export interface LostUpdateDetector {
  /** Judge an access. Call it before `hb.afterAccess`: it reads the process's epoch. */
  access(e: AccessEvent, p: Proc): void;
  /** Queue operations and messages, after the engine has seen the event. */
  event(e: TraceEvent, type: TraceEvent['type']): void;
  /** The run ended. */
  end(): void;
}

/** @internal */
export function lostUpdateDetector(hb: HappensBefore, store: FindingStore): LostUpdateDetector {
  const cells = new Map<string, Cell>();
  const queues = new Map<string, QueueState>();

  const lostKeys = new FindingKeys('lost-update');
  const lost = (status: FindingStatus, read: Access, write: Access, other: Access): void => {
    // A write that takes a lock for its own step (a synchronized Value's) cannot land
    // inside a read-modify-write done under that lock: the happens-before used here
    // leaves such per-access locks out, so that it can judge their own updates.
    if (status === 'potential' && other.lock !== undefined && read.holding === write.holding && read.held.includes(other.lock)) return;
    const key = lostKeys.of(write.loc, read.code, write.code, other.code);
    store.hit(key, status, () => lostFinding(status, read, write, other, key));
  };

  const complete = (span: Span, write: Access, C: readonly number[]): void => {
    // The last write that landed in the gap and could have been kept out of it.
    let stale: Access | null = null;
    for (const iv of span.intervening ?? NONE_IV) {
      const forced = iv.afterRead && iv.w.c <= (C[iv.w.t] ?? 0);
      if (!forced) stale = iv.w;
    }
    if (stale !== null) lost('confirmed', span.read, write, stale);
    for (const w of span.concurrent) lost('potential', span.read, write, w);
  };

  // The location accessed last: a process usually reads, then writes, the same one.
  let lastLoc = '';
  let lastCell: Cell | null = null;

  const access = (e: AccessEvent, p: Proc): void => {
    let cell: Cell | undefined;
    if (e.loc === lastLoc && lastCell !== null) cell = lastCell;
    else {
      cell = cells.get(e.loc);
      if (cell === undefined) cells.set(e.loc, (cell = { last: [], spans: new OpenSpans<Span>(), done: [], spare: [], latestT: -1, latestC: 0, ordered: true }));
      lastLoc = e.loc;
      lastCell = cell;
    }
    const C = p.clock;
    const t = p.idx;
    // Every earlier write happens before this access (see Cell.ordered).
    const known = cell.latestT < 0 || (cell.ordered && cell.latestC <= (C[cell.latestT] ?? 0));
    if (e.kind === 'read') {
      let concurrent: Access[] | null = null;
      const last = cell.last;
      for (let u = 0; u < last.length && !known; u++) {
        const w = last[u];
        if (w !== undefined && u !== t && w.c > (C[u] ?? 0)) (concurrent ??= []).push(w);
      }
      let sp = cell.spans.get(t);
      if (sp === undefined) {
        sp = cell.spare[t];
        if (sp === undefined) {
          cell.spans.start(t, { read: accessAt(p, e, hb.op), concurrent: concurrent ?? NONE, intervening: null, write: null });
          return;
        }
        cell.spare[t] = undefined;
        sp.write = null;
        cell.spans.start(t, sp);
      }
      // A newer read starts the span again: the write pairs with the latest read.
      sp.read.reuse(p, e, hb.op);
      sp.concurrent = concurrent ?? NONE;
      sp.intervening = null;
      return;
    }
    const span = cell.spans.close(t);
    const closes = span !== undefined && completes(span.read, e);
    // The process's last write is referenced from nowhere else when no other process
    // has a span open (theirs keep the writes they saw) and its last completed span
    // does not end with it, or is replaced now: this write takes over its record.
    const prev = cell.last[t];
    const cur = prev !== undefined && cell.spans.count === 0 && (closes || cell.done[t]?.write !== prev) ? prev.reuse(p, e, hb.op) : accessAt(p, e, hb.op);
    if (span !== undefined) {
      if (closes) {
        span.write = cur;
        complete(span, cur, C);
        const old = cell.done[t];
        setAt(cell.done, t, span);
        if (old !== undefined) setAt(cell.spare, t, old);
      } else {
        setAt(cell.spare, t, span);
      }
    }
    // Could this write have landed inside another process's completed read-modify-write?
    const done = cell.done;
    for (let u = 0; u < done.length && !known; u++) {
      const d = done[u];
      if (d !== undefined && u !== t && d.write!.c > (C[u] ?? 0)) lost('potential', d.read, d.write!, cur);
    }
    if (cell.spans.count > 0) {
      const open = cell.spans.open;
      for (let u = 0; u < open.length; u++) {
        const sp = open[u];
        if (sp !== undefined && u !== t) (sp.intervening ??= []).push({ w: cur, afterRead: sp.read.c <= (C[u] ?? 0) });
      }
    }
    setAt(cell.last, t, cur);
    cell.ordered = known || knowsAll(cell.last, t, C);
    cell.latestT = t;
    cell.latestC = cur.c;
  };

  // ------------------------------------------------------------ check-then-act

  const queueOf = (obj: string): QueueState => {
    let q = queues.get(obj);
    if (q === undefined) queues.set(obj, (q = { inFlight: 0, checks: new Map(), lastCheck: new Map(), acts: new Map() }));
    return q;
  };

  const stale = (status: FindingStatus, ck: Access, act: Access, other: Access, outcome: string): void => {
    const key = `check-then-act|${act.obj}|${codeOf(ck)}|${codeOf(act)}|${codeOf(other)}`;
    store.hit(key, status, () => checkThenActFinding(status, ck, act, other, outcome, key));
  };

  /** `op`: the operation it belongs to; by default the one of the event being applied. */
  const queueAccess = (p: Proc, e: { step: number; time: number; obj: string }, kind: 'read' | 'write', value: unknown, op = hb.op): Access =>
    accessAt(p, { pid: p.pid, step: e.step, time: e.time, kind, obj: e.obj, loc: e.obj, value }, op);

  const queueEvent = (e: TraceEvent): void => {
    switch (e.type) {
      case 'send': {
        const q = queueOf(e.obj);
        q.inFlight++;
        const p = hb.proc(e.pid);
        for (const [pid, ck] of q.checks) if (pid !== e.pid && ck.then === 'put') ck.stale = queueAccess(p, e, 'write', e.value);
        return;
      }
      case 'recv': {
        const q = queueOf(e.obj);
        q.inFlight--;
        const p = hb.proc(e.pid);
        const got = queueAccess(p, e, 'write', e.value);
        for (const [pid, ck] of q.checks) {
          if (pid === e.pid || ck.then !== 'get') continue;
          ck.stale = got;
          if (q.inFlight === 0) ck.emptied = true;
        }
        for (const [u, a] of q.acts) if (u !== p.idx && a.act.c > (p.clock[u] ?? 0)) stale('potential', a.check, a.act, got, TAKES);
        return;
      }
      case 'done':
        queueDone(e);
        return;
      default:
        return;
    }
  };

  /** The run is over: an act still waiting on an answer made stale waits forever. */
  const queueEnd = (): void => {
    for (const q of queues.values()) {
      for (const [pid, ck] of q.checks) {
        const p = hb.proc(pid);
        const op = hb.issued(pid);
        // Its act was issued and never took effect: it waited until it was terminated, or the run ended.
        if (ck.stale === null || (ck.then === 'get' && !ck.emptied) || op === null || op.obj !== ck.check.obj || op.op !== ck.then) continue;
        const outcome = p.final === null ? 'waits forever: it was still blocked when the run ended' : 'never completed: it was still blocked when the process was terminated';
        stale('confirmed', ck.check, queueAccess(p, op, 'write', undefined, hb.operation(pid)), ck.stale, outcome);
      }
    }
  };

  const queueDone = (e: DoneEvent): void => {
    const q = queueOf(e.obj);
    const p = hb.proc(e.pid);
    if (e.op === 'empty' || e.op === 'qsize' || e.op === 'full') {
      if (e.outcome !== 'ok') return;
      const check = queueAccess(p, e, 'read', e.value);
      const then = e.op === 'full' ? (e.value === false ? 'put' : null) : e.op === 'empty' ? (e.value === false ? 'get' : null) : (e.value as number) > 0 ? 'get' : null;
      if (then === null) q.checks.delete(e.pid);
      else q.checks.set(e.pid, { check, count: q.inFlight, then, stale: null, emptied: false });
      q.lastCheck.set(p.idx, check);
      // The same check by another process, unordered with a completed check-then-get on
      // the last item: run before that get, it too sees the item, and acts on it.
      for (const [u, a] of q.acts) if (u !== p.idx && a.act.c > (p.clock[u] ?? 0) && codeOf(a.check) === codeOf(check)) stale('potential', a.check, a.act, check, SEES);
      return;
    }
    const ck = q.checks.get(e.pid);
    if (ck === undefined) return;
    q.checks.delete(e.pid);
    if (e.op !== ck.then) return;
    const act = queueAccess(p, e, 'write', e.value);
    if (ck.stale !== null && e.outcome === 'raised') stale('confirmed', ck.check, act, ck.stale, `raised ${String(e.value)}`);
    else if (ck.stale !== null && ck.emptied) stale('confirmed', ck.check, act, ck.stale, `found ${e.obj} empty and had to wait for a later item`);
    if (e.outcome === 'ok' && ck.then === 'get' && ck.count === 1 && ck.stale === null) {
      q.acts.set(p.idx, { check: ck.check, act });
      for (const [u, other] of q.lastCheck) if (u !== p.idx && other.c > (p.clock[u] ?? 0) && codeOf(other) === codeOf(ck.check)) stale('potential', ck.check, act, other, SEES);
    }
  };

  return {
    access,
    event(e: TraceEvent, type: TraceEvent['type']): void {
      switch (type) {
        case 'send':
        case 'recv':
          if (hb.isQueue((e as SendEvent | RecvEvent).obj)) queueEvent(e);
          return;
        case 'done': {
          const d = e as DoneEvent;
          if (isQueueOp(d.op) && hb.isQueue(d.obj)) queueEvent(e);
          return;
        }
        default:
          return;
      }
    },
    end: queueEnd,
  };
}

/** Whether clock `C` of process `t` knows every other process's write in `last`. */
function knowsAll(last: readonly (Access | undefined)[], t: number, C: readonly number[]): boolean {
  for (let u = 0; u < last.length; u++) {
    const w = last[u];
    if (w !== undefined && u !== t && w.c > (C[u] ?? 0)) return false;
  }
  return true;
}

const NONE: readonly Access[] = [];
const NONE_IV: readonly { readonly w: Access; readonly afterRead: boolean }[] = [];

/** What a remote get run between a check and its get does. */
const TAKES = 'it takes the item, and the get after the check waits forever (or raises Empty)';
/** What the same check run by another process between a check and its get does. */
const SEES = 'it sees the item too, and one of the two gets waits forever (or raises Empty)';

/** How to make a read-modify-write of `loc` atomic, in the idiom of its kind. @internal Also the atomicity checker's. */
export function rmwFix(a: { readonly obj: string; readonly loc: string }): string {
  const kind = a.obj.slice(0, a.obj.indexOf('#'));
  if (a.loc.startsWith('file:')) {
    return 'hold one lock across read-decide-write of the file (the course\'s 加锁 version: `lock.acquire()` before opening it, `lock.release()` after writing it)';
  }
  if (kind === 'Value' || kind === 'Array') {
    return `hold the object's own lock across the read and the write: \`with v.get_lock(): v.value += 1\` — \`await v.withLock(async () => { await v.update(fn); })\``;
  }
  if (kind.endsWith('Proxy')) {
    return 'take a lock around the read-modify-write (`with lock: d[k] -= 1` — `await lock.withLock(() => d.update(k, fn))`), or make it one server call (`setdefault`, `merge`, `append`)';
  }
  return 'take one lock around the read-modify-write, and around every other access to it (`with lock:` — `await lock.withLock(...)`)';
}

function lostFinding(status: FindingStatus, read: Access, write: Access, other: Access, key: string): Finding {
  const P = `${read.name} (pid ${read.pid})`;
  const Q = `${other.name} (pid ${other.pid})`;
  const loc = read.loc;
  const twoSteps = read.op !== null && write.op !== null && read.op === write.op ? `one operation of two steps (${read.op.objectId}.${read.op.name})` : 'two steps';
  const guard =
    read.held.length === 0
      ? `${read.name} held no lock across them`
      : other.held.some((l) => read.held.includes(l))
        ? `${read.name} released its lock between them`
        : `${read.name} held ${read.held.join(', ')}, which ${other.name}'s write did not take`;
  const message =
    status === 'confirmed'
      ? `${P} read ${loc} = ${showValue(read.value)} at step ${read.step}; ${Q} wrote ${showValue(other.value)} at step ${other.step}; ` +
        `${read.name} wrote ${showValue(write.value)} at step ${write.step} — ${other.name}'s update was lost`
      : `${P} read ${loc} = ${showValue(read.value)} at step ${read.step} and wrote ${showValue(write.value)} at step ${write.step}; ` +
        `the write of ${showValue(other.value)} by ${Q} at step ${other.step} is not ordered with them — a schedule that runs it in between loses it`;
  const why =
    `The read and the write of ${describeLoc(loc)} are ${twoSteps}, and ${guard}: ` +
    (status === 'confirmed'
      ? `${other.name}'s write landed between them, and ${read.name} then wrote a value computed from its stale read.`
      : `in this run ${other.name}'s write came ${other.step < read.step ? 'before the read' : 'after the write'}, but no lock, message, join or event keeps it there, so it can land in between.`) +
    ' Each step is atomic; the pair is not.';
  const events =
    status === 'confirmed'
      ? [
          eventOf(read, `read ${showValue(read.value)}, ${heldNote(read)}`),
          eventOf(other, `wrote ${showValue(other.value)} — lost`),
          eventOf(write, `wrote ${showValue(write.value)}, computed from the stale read`),
        ]
      : [eventOf(read, `read ${showValue(read.value)}, ${heldNote(read)}`), eventOf(write, `wrote ${showValue(write.value)}`), eventOf(other, `wrote ${showValue(other.value)} — can land between them`)].sort(
          (a, b) => a.step - b.step,
        );
  return {
    kind: 'lost-update',
    status,
    message,
    why,
    fix: rmwFix(read),
    events,
    data: { location: loc, object: read.obj, pattern: 'read-write-write (AVIO: a remote write between a local read and a local write)' },
    key,
  };
}

function checkThenActFinding(status: FindingStatus, ck: Access, act: Access, other: Access, outcome: string, key: string): Finding {
  const check = ck.op === null ? 'a check' : `${ck.op.objectId}.${ck.op.name}()`;
  const verb = act.op?.name ?? 'get';
  const P = `${ck.name} (pid ${ck.pid})`;
  const Q = `${other.name} (pid ${other.pid})`;
  const message =
    status === 'confirmed'
      ? `${P} checked ${check} = ${showValue(ck.value)} at step ${ck.step}; ${Q} did a ${verb} at step ${other.step}; ${ck.name}'s ${verb} ${outcome} — it acted on a stale answer`
      : `${P} checked ${check} = ${showValue(ck.value)} at step ${ck.step} and did its ${verb} at step ${act.step}, with one item in ${act.obj}; ` +
        `the ${other.op?.name ?? verb}() of ${Q} at step ${other.step} is not ordered with them — run in between, ${outcome}`;
  return {
    kind: 'check-then-act',
    status,
    message,
    why:
      `${check} answers for the moment it runs (Python's docs: not reliable); another process can ${verb} between the check and the act, ` +
      `and nothing (no lock held across both) prevents it.`,
    fix: `do not check then act: call ${verb}() with a timeout (or the non-blocking form) and handle ${verb === 'put' ? 'Full' : 'Empty'}, or end the stream with a sentinel`,
    events: [
      eventOf(ck, `checked: ${showValue(ck.value)}`),
      eventOf(other, other.kind === 'read' ? `checked: ${showValue(other.value)}` : verb),
      eventOf(act, status === 'confirmed' ? `${verb}: ${outcome}` : verb),
    ].sort((a, b) => a.step - b.step),
    data: { location: act.obj, object: act.obj, pattern: 'check-then-act (AVIO: a remote write between a local read and the action that depends on it)' },
    key,
  };
}
