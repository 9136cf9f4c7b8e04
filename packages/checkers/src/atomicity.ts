import type { AccessEvent, MonitorContext, Op, TraceEvent } from '@interleave/core';
import {
  FindingStore,
  accessChecker,
  accessEvents,
  accessAt,
  codeOf,
  eventOf,
  locClass,
  opLabel,
  showValue,
  type Access,
  type AccessChecker,
  type AccessCheckerOptions,
} from './access-findings.js';
import { HappensBefore, type Proc } from './hb.js';
import { rmwFix } from './lost-updates.js';
import type { Finding, FindingEvent } from './report.js';
import { OpenSpans, completes } from './rmw-spans.js';
import { TransactionGraph, type Cycle, type Edge, type Tx, type TxNode } from './transaction-graph.js';

/** Options of {@link atomicity}. */
export interface AtomicityOptions extends AccessCheckerOptions {
  /**
   * Also judge every read-modify-write of one location (a process's read of it, then
   * its next write of it: `d[k] -= 1`, `v.value += 1`, the ticket file) as a
   * transaction of its own. Default true; false: only the blocks declared with
   * `world.atomic(label, body)`.
   */
  readonly implicit?: boolean;
}

/** The atomicity monitor: attach it to runs, then read its findings. */
export type AtomicityMonitor = AccessChecker;

/** A read-modify-write in progress. */
interface Rmw {
  read: Access;
  /** The last write of another process since the read. */
  remote: Access | null;
  /** The declared block the read was in: a span inside one block is that block's to judge. */
  tx: Tx | null;
}

/**
 * Atomicity violations, decided by conflict-serialisability: a transaction must look
 * as if it ran alone, every operation of another process entirely before it or
 * entirely after it. A run in which some operation of another process came after
 * part of a transaction and before another part of it is not serialisable, and is
 * reported (`confirmed`: this execution's order shows it), with the operations that
 * make the cycle:
 *
 *     T1 (Process-3 (pid 1003)'s atomic "withdraw", steps 12–15) is not serialisable:
 *     T1 read Value#1 = 100 at step 12 before Process-5 (pid 1005) wrote 50 to Value#1
 *     at step 14, before T1 wrote 90 to Value#1 at step 15 — no serial order of T1 and
 *     Process-5 (pid 1005)'s step 14 gives this run
 *
 * Transactions are the blocks the program declares with `world.atomic(label, body)`
 * (all their operations, whatever they touch: Velodrome's transaction graph, with
 * the happens-before engine's edges for locks, messages, starts and joins), and —
 * unless `implicit: false` — each read-modify-write of one location: its read and its
 * write, broken by any other process's write of the location in between, even one
 * the program orders there by releasing and re-taking a lock (which `lostUpdates`
 * leaves out, as the program's own doing).
 *
 * @example
 * ```ts
 * const at = atomicity();
 * const r = await run(bank, { monitors: [at] });
 * r.status;                     // 'error' when a transfer was interleaved
 * console.log(at.report());
 * ```
 */
export function atomicity(options: AtomicityOptions = {}): AtomicityMonitor {
  const failOn = options.failOn ?? 'confirmed';
  const sources = options.sources ?? false;
  const implicit = options.implicit ?? true;
  const store = new FindingStore();
  let run = new AtomicityRun(sources, implicit, store, null);
  return accessChecker('atomicity', store, failOn, {
    // What the access checkers read, and the declared blocks.
    events: [...accessEvents(sources), 'atomic-begin', 'atomic-end'],
    // Every step of a process inside a declared block belongs to its transaction.
    dataOps: true,
    immediate: sources,
    everyOp: true,
    start(ctx): void {
      run = new AtomicityRun(sources, implicit, store, ctx);
    },
    event(e: TraceEvent, op: Op<unknown> | null): void {
      run.event(e, op);
    },
    end(): void {
      run.end();
    },
  });
}

/** One run's state. */
class AtomicityRun {
  private readonly hb: HappensBefore;
  /** Built at the first declared block: before it no cycle can start. */
  private graph: TransactionGraph | null = null;
  private readonly spans = new Map<string, OpenSpans<Rmw>>();
  /** The event the engine is applying (its joins land on it). */
  private current: TraceEvent | null = null;

  constructor(
    sources: boolean,
    private readonly implicit: boolean,
    private readonly store: FindingStore,
    ctx: MonitorContext | null,
  ) {
    this.hb = new HappensBefore({
      sources,
      run: ctx,
      onJoin: (p, from) => this.graph?.join(p, from, () => moment(p, this.current!, this.hb.op)),
    });
  }

  event(e: TraceEvent, op: Op<unknown> | null): void {
    this.hb.op = op;
    const type = e.type;
    const g = this.graph;
    if (g !== null) g.seq++;
    switch (type) {
      case 'access': {
        const p = this.hb.accessBy(e);
        const a = accessAt(p, e, this.hb.op);
        if (g !== null) {
          g.access(p, e, a);
          g.touch(p, e.step);
        }
        if (this.implicit) this.rmw(p, e, a);
        return;
      }
      case 'atomic-begin':
        (this.graph ??= new TransactionGraph()).begin(this.hb.proc(e.pid), e.label, e.step);
        return;
      case 'atomic-end':
        g?.end(this.hb.proc(e.pid));
        return;
      default:
        break;
    }
    if (g === null || e.pid === 0) {
      this.hb.event(e, type);
      return;
    }
    const p = this.hb.proc(e.pid);
    g.at(p); // the operation belongs to the node current before it, whatever it joins
    const before = p.clock[p.idx]!;
    this.current = e;
    this.hb.event(e, type);
    if (type === 'done') g.touch(p, e.step);
    if (p.clock[p.idx]! > before || type === 'exit') g.published(p, before, moment(p, e, this.hb.op));
    if (type === 'spawn') g.started(p, this.hb.proc(e.child), moment(p, e, this.hb.op));
    else if (type === 'thread-start') g.started(p, this.hb.proc(e.thread), moment(p, e, this.hb.op));
  }

  /** Read-modify-writes: a write of another process between the read and the write breaks one. */
  private rmw(p: Proc, e: AccessEvent, a: Access): void {
    let spans = this.spans.get(e.loc);
    if (spans === undefined) this.spans.set(e.loc, (spans = new OpenSpans<Rmw>()));
    const t = p.idx;
    const tx = this.graph?.txOf(p) ?? null;
    if (e.kind === 'read') {
      const sp = spans.get(t);
      if (sp === undefined) spans.start(t, { read: a, remote: null, tx });
      else {
        sp.read = a;
        sp.remote = null;
        sp.tx = tx;
      }
      return;
    }
    const sp = spans.close(t);
    if (sp !== undefined && sp.remote !== null && completes(sp.read, a) && (sp.tx === null || sp.tx !== tx)) this.broken(sp.read, a, sp.remote);
    if (spans.count > 0) {
      const open = spans.open;
      for (let u = 0; u < open.length; u++) {
        const o = open[u];
        if (o !== undefined && u !== t) o.remote = a;
      }
    }
  }

  private broken(read: Access, write: Access, other: Access): void {
    const key = `atomicity|rmw|${locClass(write.loc)}|${codeOf(read)}|${codeOf(write)}|${codeOf(other)}`;
    this.store.hit(key, 'confirmed', () => rmwFinding(read, write, other, key));
  }

  end(): void {
    const g = this.graph;
    if (g === null) return;
    for (const c of g.cycles()) {
      const f = blockFinding(c, (pid) => this.hb.proc(pid).name);
      this.store.hit(f.key!, 'confirmed', () => f);
    }
  }
}

/** A non-access operation as a finding event: its object and the value it returned. */
function moment(p: Proc, e: TraceEvent, op: Op<unknown> | null): Access {
  const obj = 'obj' in e ? e.obj : (op?.objectId ?? '');
  return accessAt(p, { pid: p.pid, step: e.step, time: e.time, kind: 'write', obj, loc: obj, value: 'value' in e ? e.value : undefined }, op);
}

const PATTERN = 'conflict-serialisability (Velodrome, AeroDrome): operations of another process ordered after part of a transaction and before another part of it';
const WHY_SERIAL = 'A transaction must look as if it ran alone: each operation of another process entirely before it or entirely after it.';

function rmwFinding(read: Access, write: Access, other: Access, key: string): Finding {
  const P = `${read.name} (pid ${read.pid})`;
  const Q = `${other.name} (pid ${other.pid})`;
  const loc = read.loc;
  const guard =
    read.held.length === 0
      ? `${read.name} held no lock across them`
      : read.holding !== write.holding
        ? `${read.name} released its lock between them`
        : `${read.name} held ${read.held.join(', ')}, which ${other.name}'s write did not take`;
  return {
    kind: 'atomicity-violation',
    status: 'confirmed',
    message:
      `T1 (${P}'s read-modify-write of ${loc}, steps ${read.step}–${write.step}) is not serialisable: it read ${showValue(read.value)} at step ${read.step} ` +
      `before ${Q} wrote ${showValue(other.value)} at step ${other.step}, and wrote ${showValue(write.value)} at step ${write.step} after it — ` +
      `no serial order of T1 and ${other.name}'s write gives this run: ${other.name}'s update was lost`,
    why:
      `${WHY_SERIAL} ${other.name}'s write came after ${read.name}'s read of ${loc} and before its write, so it fits neither before the ` +
      `read-modify-write (the read would have seen it) nor after it (it would have overwritten the result); ${guard}.`,
    fix: rmwFix(read),
    events: [
      eventOf(read, `in T1: read ${showValue(read.value)}, ${read.held.length === 0 ? 'holding no lock' : `holding ${read.held.join(', ')}`}`),
      eventOf(other, `wrote ${showValue(other.value)} — between T1's read and write`),
      eventOf(write, `in T1: wrote ${showValue(write.value)}, computed from the read before it`),
    ],
    data: { location: loc, object: read.obj, transaction: { kind: 'read-modify-write', pid: read.pid, steps: [read.step, write.step] }, pattern: PATTERN },
    key,
  };
}

/** Reports name blocks T1, T2... in the order the cycle meets them, from the one it is reported for. */
function blockFinding(c: Cycle, nameOf: (pid: number) => string): Finding {
  const names = new Map<number, string>();
  for (const e of c.edges) if (e.from.tx !== null && !names.has(e.from.id)) names.set(e.from.id, `T${names.size + 1}`);
  const proc = (n: TxNode): string => `${nameOf(n.pid)} (pid ${n.pid})`;
  const who = (n: TxNode): string => names.get(n.id) ?? proc(n);
  const tx = c.node.tx!;
  const span = (n: TxNode): string => (n.firstStep < 0 ? `step ${n.tx!.beginStep}` : n.firstStep === n.lastStep ? `step ${n.firstStep}` : `steps ${n.firstStep}–${n.lastStep}`);
  const title = (n: TxNode): string => `${names.get(n.id)} (${proc(n)}'s atomic ${JSON.stringify(n.tx!.label)}, ${span(n)})`;

  const cross = c.edges.filter((e) => e.kind !== 'program');
  // Told from the earliest operation on, still in the cycle's order.
  let from = 0;
  for (let i = 1; i < cross.length; i++) if ((cross[i]!.a?.step ?? Infinity) < (cross[from]!.a?.step ?? Infinity)) from = i;
  const told = [...cross.slice(from), ...cross.slice(0, from)];
  // One clause per edge, chained where an edge starts at the operation the previous one ended at.
  let text = '';
  let prev = '';
  for (const e of told) {
    const a = e.kind === 'start' || e.a === null ? `${who(e.from)} started ${nameOf(e.to.pid)} at step ${e.a?.step ?? '?'}` : act(who(e.from), e.a, e.kind);
    const b = e.b === null ? `${proc(e.to)} began` : act(who(e.to), e.b, e.kind);
    text += a === prev ? `, before ${b}` : `${text === '' ? '' : '; '}${a} before ${b}`;
    prev = b;
  }

  // The others: blocks by name, operations outside blocks by process and step.
  const outside = new Map<number, Set<number>>();
  const others: string[] = [];
  for (const e of cross) {
    for (const [n, m] of [[e.from, e.a], [e.to, e.b]] as const) {
      if (n.tx !== null) {
        const name = names.get(n.id)!;
        if (n !== c.node && !others.includes(name)) others.push(name);
      } else if (m !== null) {
        let steps = outside.get(n.pid);
        if (steps === undefined) outside.set(n.pid, (steps = new Set()));
        steps.add(m.step);
      }
    }
  }
  for (const [pid, steps] of outside) {
    const s = [...steps].sort((x, y) => x - y);
    others.push(`${nameOf(pid)} (pid ${pid})'s step${s.length > 1 ? 's' : ''} ${s.join(', ')}`);
  }
  const them = others.join(' and ');
  // The edge leaving T1 and the one coming back into it.
  const out = c.edges[0]!;
  const back = c.edges[c.edges.length - 1]!;

  const events: FindingEvent[] = [];
  const seen = new Set<string>();
  for (const e of cross) {
    for (const [n, m] of [[e.from, e.a], [e.to, e.b]] as const) {
      if (m === null) continue;
      const id = `${m.pid}|${m.step}|${m.loc}|${m.kind}|${e.kind}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const what = e.kind === 'data' ? (m.kind === 'read' ? `read ${showValue(m.value)}` : `wrote ${showValue(m.value)}`) : opLabel(m.op);
      const where = n.tx !== null ? `in ${names.get(n.id)} (${JSON.stringify(n.tx.label)}): ` : '';
      events.push(eventOf(m, where + what));
    }
  }
  events.sort((x, y) => x.step - y.step);

  const key = `atomicity|block|${tx.label}|${cross.map((e) => `${e.kind}:${e.a === null ? 'start' : codeOf(e.a)}>${e.b === null ? 'begin' : codeOf(e.b)}`).join('|')}`;
  return {
    kind: 'atomicity-violation',
    status: 'confirmed',
    message: `${title(c.node)} is not serialisable: ${text} — no serial order of T1 and ${them} gives this run`,
    why:
      `${WHY_SERIAL} Here ${them} had to come after T1, whose step ${out.a?.step ?? c.node.lastStep} came first, and before T1, whose step ` +
      `${back.b?.step ?? c.node.firstStep} came after: T1 fits neither before nor after, so the block was interleaved, and what it did rests on a state no serial run has.`,
    fix:
      `hold one lock across the whole block ${JSON.stringify(tx.label)}, and take the same lock wherever another process uses the data it touches ` +
      `(\`await lock.withLock(() => atomic(${JSON.stringify(tx.label)}, body))\`)`,
    events,
    details: [...names].map(([id, name]) => {
      const n = c.edges.find((e) => e.from.id === id)!.from;
      return `${name}: ${proc(n)}, atomic ${JSON.stringify(n.tx!.label)}, ${span(n)}`;
    }).join('\n'),
    data: {
      transactions: [...names].map(([id, name]) => {
        const n = c.edges.find((e) => e.from.id === id)!.from;
        return { name, label: n.tx!.label, pid: n.pid, steps: [n.firstStep, n.lastStep] };
      }),
      cycle: cross.map((e) => ({ kind: e.kind, from: e.a === null ? null : eventOf(e.a, who(e.from)), to: e.b === null ? null : eventOf(e.b, who(e.to)) })),
      pattern: PATTERN,
    },
    key,
  };
}

/** `T1 read Value#1 = 100 at step 12`, `Process-5 (pid 1005) ran Lock#1.release() at step 14` */
function act(who: string, m: Access, kind: Edge['kind']): string {
  if (kind === 'data') return m.kind === 'read' ? `${who} read ${m.loc} = ${showValue(m.value)} at step ${m.step}` : `${who} wrote ${showValue(m.value)} to ${m.loc} at step ${m.step}`;
  return `${who} ran ${opLabel(m.op)} at step ${m.step}`;
}
