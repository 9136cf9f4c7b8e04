/**
 * Deadlock reports. The kernel already ends a run whose live processes are all
 * blocked with no timer pending (status `deadlock`, with what each one waits on and
 * who holds it); this turns that into a report a student can act on: the wait-for
 * graph (blocked process → the processes holding what it waits for), its cycles in
 * the JVM's "Found one deadlock" style, and the root cause named with its idiom —
 * locks taken in opposite orders, a pipe end left open, a producer joined before
 * its queue was drained, a lock held by a process that is gone, a Condition nobody
 * will notify...
 */
import type { RunResult, TraceEvent } from '@interleave/core';
import type { Finding, FindingEvent } from './report.js';
import { THREAD_PID_BASE } from './run-view.js';

/** One blocked process in a deadlock. */
export interface BlockedInfo {
  readonly pid: number;
  readonly name: string;
  /** The operation it is stuck in, e.g. `Lock#2.acquire()`. */
  readonly op: string;
  readonly waitsOn: string;
  /** Pids holding what it waits for. */
  readonly heldBy: readonly number[];
  /** When it blocked, if the run kept its trace. */
  readonly since?: { readonly step: number; readonly time: number };
}

/** The wait-for graph: an edge `from → to` when `from` waits for something `to` holds. */
export interface WaitForGraph {
  readonly nodes: readonly BlockedInfo[];
  readonly edges: readonly { readonly from: number; readonly to: number }[];
  /** Elementary cycles, each as pids in wait order (a self-loop is `[pid]`). */
  readonly cycles: readonly (readonly number[])[];
}

/** What made one process wait forever, with the idiom that fixes it. */
export interface DeadlockCause {
  readonly kind:
    | 'lock-cycle'
    | 'self-lock'
    | 'lock-held-by-gone'
    | 'pipe-end-open'
    | 'join-before-drain'
    | 'queue-empty'
    | 'queue-full'
    | 'event-never-set'
    | 'condition-never-notified'
    | 'barrier-short'
    | 'unfinished-tasks'
    | 'waits-for-blocked';
  readonly pid: number;
  readonly text: string;
  readonly why: string;
  readonly fix: string;
}

/**
 * The report of a run that ended in `deadlock`, or null for any other run. Pass
 * the token of the execution (an explorer's `failure.token`) to carry it along.
 * With the run's trace (`trace: true`) the report also says when each process
 * blocked and where the holders took what they hold.
 *
 * @example
 * ```ts
 * const r = await run(consumerLeavesEndOpen, { seed: 1, trace: true });
 * const f = deadlockReport(r)!;
 * f.message; // 'deadlock: Process-2 (pid 1002) waits forever in Connection#1.recv(): the other end Connection#2 is still open in Process-2 (pid 1002) itself'
 * f.fix;     // 'close the pipe end you do not use: …'
 * console.log(formatFinding(f));
 * ```
 */
export function deadlockReport(result: RunResult, token?: string): Finding | null {
  if (result.status !== 'deadlock') return null;
  const names = new Map(result.processes.map((p) => [p.pid, p.name]));
  const exited = new Map(result.processes.map((p) => [p.pid, p.exitcode]));
  const label = (pid: number): string => `${names.get(pid) ?? `pid ${pid}`} (pid ${pid})`;
  const since = result.trace === undefined ? new Map<number, { step: number; time: number }>() : blockSteps(result.trace);
  // Idle queue feeder threads are blocked too, but only because there is nothing to
  // flush: they are not part of the deadlock.
  const nodes: BlockedInfo[] = result.blocked
    .filter((b) => !(b.pid >= THREAD_PID_BASE && /\.feed\(/.test(b.op)))
    .map((b) => {
      const s = since.get(b.pid);
      return { pid: b.pid, name: b.name, op: b.op, waitsOn: b.waitsOn, heldBy: b.heldBy, ...(s === undefined ? {} : { since: s }) };
    });
  const graph = waitForGraph(nodes);
  const byPid = new Map(nodes.map((n) => [n.pid, n]));
  const onCycle = new Set(graph.cycles.filter((c) => c.length > 1).flat());
  const causes = nodes.map((n) => causeOf(n, byPid, onCycle, exited, label));
  const primary = [...causes].sort((a, b) => PRIORITY.indexOf(a.kind) - PRIORITY.indexOf(b.kind) || a.pid - b.pid)[0];
  const holdSites = result.trace === undefined ? new Map<string, FindingEvent>() : acquireSites(result.trace, names);

  const events: FindingEvent[] = [];
  for (const n of nodes) {
    const s = n.since ?? { step: result.steps, time: result.time };
    const holders = n.heldBy.length === 0 ? '' : ` → held by ${n.heldBy.map((h) => (h === n.pid ? 'itself' : label(h))).join(', ')}`;
    events.push({ pid: n.pid, name: n.name, step: s.step, time: s.time, op: n.op, note: `${n.waitsOn}${holders}` });
    const obj = objOf(n.op);
    for (const h of n.heldBy) {
      const site = holdSites.get(`${h}:${obj}`);
      if (site !== undefined && !events.includes(site)) events.push(site);
    }
  }

  const lines: string[] = [];
  const lockCycles = graph.cycles.filter((c) => c.length > 1 && c.every((pid) => isAcquire(byPid.get(pid)?.op ?? '')));
  for (const c of lockCycles) {
    lines.push('Found a deadlock cycle:');
    for (let i = 0; i < c.length; i++) {
      const n = byPid.get(c[i]!)!;
      const next = c[(i + 1) % c.length]!;
      lines.push(`  "${n.name}" (pid ${n.pid}): waiting in ${n.op} for ${objOf(n.op)}, which is held by "${names.get(next) ?? next}" (pid ${next})`);
    }
  }
  lines.push('Wait-for graph (blocked process: operation — what it waits on → who holds it):');
  for (const n of nodes) {
    const to = n.heldBy.length === 0 ? ' → no process holds it' : ` → ${n.heldBy.map((h) => (h === n.pid ? 'itself' : `${label(h)}${byPid.has(h) ? '' : ` (${gone(exited.get(h))})`}`)).join(', ')}`;
    lines.push(`  ${label(n.pid)}: ${n.op} — ${n.waitsOn}${to}`);
  }
  if (graph.cycles.length > 0) {
    lines.push(`Cycles: ${graph.cycles.map((c) => (c.length === 1 ? `${label(c[0]!)} waits for itself` : [...c, c[0]!].map((pid) => names.get(pid) ?? pid).join(' → '))).join('; ')}`);
  } else {
    lines.push('Cycles: none — every process waits for something no live process will provide.');
  }
  const others = causes.filter((c) => c.kind !== primary?.kind && c.kind !== 'waits-for-blocked');
  if (others.length > 0) {
    lines.push('Also:');
    for (const c of others) lines.push(`  ${c.text} (fix: ${c.fix})`);
  }

  return {
    kind: 'deadlock',
    status: 'confirmed',
    message: `deadlock at step ${result.steps} (t=${fmt(result.time)}): ${primary?.text ?? 'every live process is blocked'}`,
    why:
      `every live process is blocked and no timer is pending, so nothing can ever wake them. ` + (primary === undefined ? '' : primary.why),
    fix: primary?.fix ?? 'find what each blocked process waits for and make sure some process provides it.',
    events,
    ...(token === undefined ? {} : { token }),
    details: lines.join('\n'),
    data: {
      step: result.steps,
      time: result.time,
      blocked: nodes,
      edges: graph.edges,
      cycles: graph.cycles,
      causes: causes.map((c) => ({ kind: c.kind, pid: c.pid, text: c.text, fix: c.fix })),
    },
    key: `deadlock:${nodes.map((n) => `${n.name}@${n.op}`).join('|')}`,
  };
}

/**
 * The wait-for graph of the blocked processes and its elementary cycles.
 *
 * @example
 * ```ts
 * const g = waitForGraph(result.blocked);
 * g.cycles; // [[1001, 1002]]: Process-1 waits for Process-2, which waits for Process-1
 * ```
 */
export function waitForGraph(blocked: readonly BlockedInfo[]): WaitForGraph {
  const edges: { from: number; to: number }[] = [];
  const adj = new Map<number, number[]>();
  for (const b of blocked) {
    const out = [...new Set(b.heldBy)].sort((x, y) => x - y);
    adj.set(b.pid, out);
    for (const to of out) edges.push({ from: b.pid, to });
  }
  const cycles: number[][] = [];
  const order = [...adj.keys()].sort((a, b) => a - b);
  // Each elementary cycle once, from its smallest pid (Johnson's idea, without its
  // blocking sets: the graphs here have a handful of nodes).
  for (const start of order) {
    const path: number[] = [start];
    const onPath = new Set<number>([start]);
    const dfs = (v: number): void => {
      for (const w of adj.get(v) ?? []) {
        if (cycles.length >= 50) return;
        if (w === start) cycles.push([...path]);
        else if (w > start && !onPath.has(w) && adj.has(w)) {
          path.push(w);
          onPath.add(w);
          dfs(w);
          path.pop();
          onPath.delete(w);
        }
      }
    };
    dfs(start);
  }
  return { nodes: blocked, edges, cycles };
}

const PRIORITY: readonly DeadlockCause['kind'][] = [
  'lock-cycle',
  'self-lock',
  'pipe-end-open',
  'join-before-drain',
  'lock-held-by-gone',
  'unfinished-tasks',
  'barrier-short',
  'condition-never-notified',
  'event-never-set',
  'queue-full',
  'queue-empty',
  'waits-for-blocked',
];

const ACQUIRABLE = /^(Lock|RLock|LockProxy|RLockProxy|Semaphore|BoundedSemaphore|SemaphoreProxy|BoundedSemaphoreProxy)#\d+$/;

function isAcquire(op: string): boolean {
  return ACQUIRABLE.test(objOf(op)) && /\.acquire\(/.test(op);
}

function causeOf(
  n: BlockedInfo,
  byPid: ReadonlyMap<number, BlockedInfo>,
  onCycle: ReadonlySet<number>,
  exited: ReadonlyMap<number, number | null>,
  label: (pid: number) => string,
): DeadlockCause {
  const who = label(n.pid);
  const obj = objOf(n.op);
  const op = opOf(n.op);
  const base = { pid: n.pid };
  if (isAcquire(n.op) || /re-acquiring/.test(n.waitsOn)) {
    if (n.heldBy.includes(n.pid)) {
      return {
        ...base,
        kind: 'self-lock',
        text: `${who} waits in ${n.op} for a lock it holds itself`,
        why: `${obj} is not re-entrant: a process that already holds it blocks forever when it acquires it again (Python's Lock, unlike RLock).`,
        fix: 'use an RLock where a process may re-acquire, or do not acquire a lock you already hold (e.g. call a helper that expects the lock held).',
      };
    }
    if (onCycle.has(n.pid)) {
      return {
        ...base,
        kind: 'lock-cycle',
        text: `${who} waits in ${n.op} while holding a lock another process in the cycle waits for`,
        why: 'the processes take the same locks in different orders: each holds one and waits for the next, around a cycle.',
        fix: 'acquire locks in one global order (every process takes them in the same order, e.g. by id), or take them all at once under one lock.',
      };
    }
    const goneHolders = n.heldBy.filter((h) => !byPid.has(h));
    if (goneHolders.length > 0) {
      return {
        ...base,
        kind: 'lock-held-by-gone',
        text: `${who} waits in ${n.op}, but ${obj} is held by ${goneHolders.map((h) => `${label(h)}, which ${gone(exited.get(h))}`).join(', ')} without releasing it`,
        why: 'a process that exits or is terminated keeps whatever it holds: nobody can release the lock any more.',
        fix: 'release in a finally block (withLock, Python\'s with-statement), and do not terminate() a process that may hold a lock.',
      };
    }
  }
  if (op === 'recv' || op === 'poll') {
    const other = /the other end (\S+) is still open/.exec(n.waitsOn)?.[1] ?? 'the other end';
    const self = n.heldBy.includes(n.pid);
    return {
      ...base,
      kind: 'pipe-end-open',
      text:
        `${who} waits forever in ${n.op}: the other end ${other} is still open in ` +
        n.heldBy.map((h) => (h === n.pid ? `${label(h)} itself` : label(h))).join(', '),
      why:
        `recv() raises EOFError only once the other end is closed in every process that holds it; ` +
        (self ? `${n.name} still holds ${other} itself (it got it in its args and never closed it), so no data and no EOF can ever come.` : 'the processes holding it are blocked themselves and will never send or close it.'),
      fix: 'close the pipe end you do not use: every process closes the ends it does not need right at its start, and the parent closes both after starting the children.',
    };
  }
  if ((op === 'join' || op === 'exit') && n.heldBy.length > 0) {
    const putter = n.heldBy.map((h) => byPid.get(h)).find((c) => c !== undefined && opOf(c.op) === 'put' && /full/.test(c.waitsOn));
    if (putter !== undefined) {
      return {
        ...base,
        kind: 'join-before-drain',
        text: `${who} waits in ${n.op} for ${label(putter.pid)}, which is blocked in ${putter.op} on a full ${objOf(putter.op)}`,
        why: `the child cannot exit until it has put its items, and there is no room until someone gets them — but the process that would get them is waiting in ${op === 'join' ? 'join' : 'its exit'} first (the "joining processes that use queues" trap of Python's docs).`,
        fix: 'drain the queue before join: get every result first, then join the producers.',
      };
    }
  }
  if (op === 'put' && /full/.test(n.waitsOn)) {
    return {
      ...base,
      kind: 'queue-full',
      text: `${who} waits in ${n.op}: ${n.waitsOn}, and no process is left that will get from it`,
      why: 'a bounded queue blocks put() until some process gets an item; every process that could is blocked or gone.',
      fix: 'make sure a consumer keeps getting while producers put (drain the queue before join), or use an unbounded queue.',
    };
  }
  if (op === 'get') {
    return {
      ...base,
      kind: 'queue-empty',
      text: `${who} waits in ${n.op} for an item no process will put`,
      why: 'every process that could put into the queue has finished or is blocked itself; a consumer that loops on get() needs to be told to stop.',
      fix: 'end the stream with one sentinel (None) per consumer, put after every item; do not check empty() and then get().',
    };
  }
  if (/^Condition#/.test(obj)) {
    return {
      ...base,
      kind: 'condition-never-notified',
      text: `${who} waits in ${n.op}; no process is left to notify ${obj}`,
      why: 'a notify that comes before the wait is lost (notify wakes only current waiters), and the processes that could notify now are blocked or gone.',
      fix: 'wait in a loop on the state, not on the notification: cond.waitFor(predicate), and notify under the lock after every change of that state.',
    };
  }
  if (/^(Event|EventProxy)#/.test(obj)) {
    return {
      ...base,
      kind: 'event-never-set',
      text: `${who} waits in ${n.op}; no process is left that will set ${obj}`,
      why: 'an Event.wait() without a timeout returns only when some process sets the event; the setter is blocked, finished without setting it, or never started.',
      fix: 'set the event on every path of the setter (also when it fails: in a finally block), or wait with a timeout.',
    };
  }
  if (/^Barrier#/.test(obj)) {
    return {
      ...base,
      kind: 'barrier-short',
      text: `${who} waits in ${n.op}: ${n.waitsOn}`,
      why: 'a Barrier lets its waiters through only when all its parties have arrived; the missing parties will never arrive.',
      fix: 'start exactly as many processes as the Barrier has parties (or give wait() a timeout).',
    };
  }
  if (op === 'join' && /unfinished task/.test(n.waitsOn)) {
    return {
      ...base,
      kind: 'unfinished-tasks',
      text: `${who} waits in ${n.op}: ${n.waitsOn}`,
      why: 'JoinableQueue.join() returns when every item put has been matched by a task_done(); some get() was not followed by task_done(), or the consumers stopped.',
      fix: 'call taskDone() exactly once per get(), even when processing the item fails (in a finally block).',
    };
  }
  return {
    ...base,
    kind: 'waits-for-blocked',
    text: `${who} waits in ${n.op}: ${n.waitsOn}`,
    why: 'what it waits for depends on processes that are blocked themselves.',
    fix: 'fix what those processes wait for; this one follows.',
  };
}

/** The step and time of each process's last block event. */
function blockSteps(trace: readonly TraceEvent[]): Map<number, { step: number; time: number }> {
  const m = new Map<number, { step: number; time: number }>();
  for (const e of trace) {
    if (e.type === 'block') m.set(e.pid, { step: e.step, time: e.time });
    else if (e.type === 'wake' || (e.type === 'done' && m.has(e.pid))) m.delete(e.pid);
  }
  return m;
}

/** Where each process last took each lock: `pid:Lock#1` → its successful acquire. */
function acquireSites(trace: readonly TraceEvent[], names: ReadonlyMap<number, string>): Map<string, FindingEvent> {
  const m = new Map<string, FindingEvent>();
  for (const e of trace) {
    if (e.type === 'done' && e.op === 'acquire' && e.value === true) {
      m.set(`${e.pid}:${e.obj}`, { pid: e.pid, name: names.get(e.pid) ?? `pid ${e.pid}`, step: e.step, time: e.time, op: `${e.obj}.acquire()`, note: `took ${e.obj} here` });
    }
  }
  return m;
}

function objOf(op: string): string {
  const i = op.indexOf('.');
  return i < 0 ? op : op.slice(0, i);
}

function opOf(op: string): string {
  return /\.(\w+)\(/.exec(op)?.[1] ?? op;
}

function gone(exitcode: number | null | undefined): string {
  if (exitcode === -15) return 'was terminated';
  if (exitcode === 1) return 'exited on an exception';
  return 'has exited';
}

function fmt(t: number): string {
  return `${Number(t.toFixed(6))}s`;
}
