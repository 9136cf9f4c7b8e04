/**
 * Velodrome's transaction graph (Flanagan, Freund & Yi, PLDI 2008), built online
 * from the event stream, with the synchronisation edges taken from the
 * happens-before engine. A node is a declared atomic block of one process, or a
 * stretch of a process's operations outside any block; an edge says that an
 * operation of one node came before a conflicting operation of another: program
 * order, a read and a write (or two writes) of one location, and every edge the
 * engine derives from a primitive (release → acquire, put → get, start, join...).
 * The run is conflict-serialisable exactly when this graph has no cycle, and every
 * cycle goes through a block: each names operations of others that came after part
 * of the block and before another part of it.
 *
 * Two economies, neither of which changes what is found:
 * - Operations outside blocks share a node until one receives an edge from another
 *   process: any cycle through the shared node would also go through the operations
 *   one by one (they are in program order), so only edges arriving later matter.
 * - Nothing is recorded before the first block of the run begins: every edge of a
 *   cycle starts at or after the begin of the cycle's earliest block.
 *
 * @internal
 */
import type { AccessEvent } from '@interleave/core';
import type { Access } from './access-findings.js';
import type { Proc, VC } from './hb.js';
import { setAt } from './rmw-spans.js';

/** One declared block (nested blocks of a process count as the outermost one). */
export interface Tx {
  /** 1, 2, ... in the order blocks began in this run. */
  readonly id: number;
  readonly label: string;
  /** The step count at `atomic-begin`: a block that performs no step is described by it. */
  readonly beginStep: number;
}

/** A node of the graph. */
export class TxNode {
  readonly id: number;
  /** The process's clock index, and its pid. */
  readonly proc: number;
  readonly pid: number;
  readonly tx: Tx | null;
  /** The process's own clock entry when the node began: what its releases carry. */
  readonly epoch: number;
  /** The event (counted by the graph) at which it began. */
  readonly seq: number;
  /** The steps of its first and last operations (-1: none yet): stretches are described by them. */
  firstStep = -1;
  lastStep = -1;
  /** Its edges out; the same pair found again in a row is not added twice. */
  readonly out: Edge[] = [];

  constructor(id: number, p: Proc, tx: Tx | null, seq: number) {
    this.id = id;
    this.proc = p.idx;
    this.pid = p.pid;
    this.epoch = p.clock[p.idx]!;
    this.tx = tx;
    this.seq = seq;
  }
}

/**
 * `a` (in `from`) came before `b` (in `to`): `data` — they conflict on one location;
 * `sync` — `a` published what `b` acquired; `start` — `a` started `b`'s process or
 * thread; `program` — the next node of the same process.
 */
export interface Edge {
  readonly from: TxNode;
  readonly to: TxNode;
  readonly kind: 'program' | 'data' | 'sync' | 'start';
  readonly a: Access | null;
  readonly b: Access | null;
}

/** A cycle through a block's node: the edges, from that node back to it. */
export interface Cycle {
  readonly node: TxNode;
  readonly edges: readonly Edge[];
}

/** Per location: the last write and the reads since, each with the node it was in. */
interface Loc {
  w: { readonly node: TxNode; readonly a: Access } | null;
  readonly reads: ({ readonly node: TxNode; readonly a: Access } | undefined)[];
  readers: number;
}

/** What the graph keeps per process. */
interface Lane {
  readonly nodes: TxNode[];
  /** The node its next operation belongs to, unless `closed`. */
  cur: TxNode | null;
  closed: boolean;
  /** Nesting depth of declared blocks. */
  depth: number;
  /** Operations that published its clock, by the epoch they published. */
  readonly pubs: { readonly epoch: number; readonly a: Access }[];
  /** The operation that started it, waiting for its first node. */
  started: { readonly node: TxNode; readonly a: Access } | null;
}

export class TransactionGraph {
  private readonly nodes: TxNode[] = [];
  private readonly lanes: (Lane | undefined)[] = [];
  private readonly locs = new Map<string, Loc>();
  private txs = 0;
  /** Counts events, so that a node can tell its first event from later ones. */
  seq = 0;

  /** The block `p` is in, if any. */
  txOf(p: Proc): Tx | null {
    const l = this.lanes[p.idx];
    return l !== undefined && l.depth > 0 ? l.cur!.tx : null;
  }

  private lane(p: Proc): Lane {
    let l = this.lanes[p.idx];
    if (l === undefined) setAt(this.lanes, p.idx, (l = { nodes: [], cur: null, closed: true, depth: 0, pubs: [], started: null }));
    return l;
  }

  private node(p: Proc, l: Lane, tx: Tx | null): TxNode {
    const n = new TxNode(this.nodes.length, p, tx, this.seq);
    this.nodes.push(n);
    const prev = l.cur;
    if (prev !== null) this.edge(prev, n, 'program', null, null);
    else if (l.started !== null) {
      this.edge(l.started.node, n, 'start', l.started.a, null);
      l.started = null;
    }
    l.nodes.push(n);
    l.cur = n;
    l.closed = false;
    return n;
  }

  /** The node `p`'s current operation belongs to. */
  at(p: Proc): TxNode {
    const l = this.lane(p);
    return l.closed || l.cur === null ? this.node(p, l, null) : l.cur;
  }

  /** Where an edge into `p`'s current operation lands: a stretch is cut there, so only later operations follow it. */
  private target(p: Proc): TxNode {
    const l = this.lane(p);
    const n = this.at(p);
    return n.tx === null && n.seq !== this.seq ? this.node(p, l, null) : n;
  }

  private edge(from: TxNode, to: TxNode, kind: Edge['kind'], a: Access | null, b: Access | null): void {
    if (from === to) return;
    const out = from.out;
    if (out.length > 0 && out[out.length - 1]!.to === to) return;
    out.push({ from, to, kind, a, b });
  }

  /** `p` enters a declared block (`atomic-begin`); nested ones count as the outermost. */
  begin(p: Proc, label: string, step: number): void {
    const l = this.lane(p);
    if (l.depth++ > 0) return;
    this.node(p, l, { id: ++this.txs, label, beginStep: step });
  }

  /** `p` leaves a declared block (`atomic-end`). */
  end(p: Proc): void {
    const l = this.lane(p);
    if (l.depth === 0 || --l.depth > 0) return;
    l.closed = true;
  }

  /** `p` performed a step: nodes remember which steps they span, for reports. */
  touch(p: Proc, step: number): void {
    const n = this.at(p);
    if (n.firstStep < 0) n.firstStep = step;
    n.lastStep = step;
  }

  /** The engine is about to join `from` into `p`'s clock: what `p` did not know yet arrives by an edge. */
  join(p: Proc, from: VC, b: () => Access): void {
    const C = p.clock;
    let to: TxNode | null = null;
    let at: Access | null = null;
    for (let i = 0; i < from.length; i++) {
      const e = from[i]!;
      if (i === p.idx || e <= (C[i] ?? 0)) continue;
      const l = this.lanes[i];
      const src = l === undefined ? null : lastAtOrBefore(l.nodes, e);
      if (src === null) continue; // published before the first block: on no cycle
      to ??= this.target(p);
      at ??= b();
      this.edge(src, to, 'sync', lastAtOrBefore(l!.pubs, e)?.a ?? null, at);
    }
  }

  /** `p`'s operation `a` published its clock (a release, a send, a start, its exit) at `epoch`. */
  published(p: Proc, epoch: number, a: Access): void {
    const pubs = this.lane(p).pubs;
    const last = pubs[pubs.length - 1];
    if (last !== undefined && last.epoch === epoch) return;
    pubs.push({ epoch, a });
  }

  /** `p`'s operation `a` started `child` (a process or a background thread). */
  started(p: Proc, child: Proc, a: Access): void {
    this.lane(child).started = { node: this.at(p), a };
  }

  /** A read or write of shared data: edges from the conflicting accesses before it. */
  access(p: Proc, e: AccessEvent, a: Access): void {
    let loc = this.locs.get(e.loc);
    if (loc === undefined) this.locs.set(e.loc, (loc = { w: null, reads: [], readers: 0 }));
    const t = p.idx;
    const w = loc.w;
    if (w !== null && w.node.proc !== t) this.edge(w.node, this.target(p), 'data', w.a, a);
    if (e.kind === 'read') {
      if (loc.reads[t] === undefined) loc.readers++;
      setAt(loc.reads, t, { node: this.at(p), a });
      return;
    }
    if (loc.readers > 0) {
      const reads = loc.reads;
      for (let u = 0; u < reads.length; u++) {
        const r = reads[u];
        if (r !== undefined && u !== t) this.edge(r.node, this.target(p), 'data', r.a, a);
      }
      reads.length = 0;
      loc.readers = 0;
    }
    loc.w = { node: this.at(p), a };
  }

  /**
   * One cycle per strongly connected component that has one (Tarjan), through its
   * earliest block, and the shortest such (breadth-first).
   */
  cycles(): Cycle[] {
    const out: Cycle[] = [];
    for (const comp of components(this.nodes)) {
      const inComp = new Set(comp);
      let start: TxNode | null = null;
      for (const id of comp) {
        const n = this.nodes[id]!;
        if (n.tx !== null && (start === null || n.tx.id < start.tx!.id)) start = n;
      }
      if (start === null) continue; // cannot happen: edges follow the run's order outside blocks
      out.push({ node: start, edges: shortestCycle(start, inComp) });
    }
    return out.sort((x, y) => x.node.tx!.id - y.node.tx!.id);
  }
}

/**
 * The last entry of `list` (sorted by epoch) at or before `epoch`: for nodes, the one
 * whose operation published it; for publications, the access that made it.
 */
function lastAtOrBefore<T extends { readonly epoch: number }>(list: readonly T[], epoch: number): T | null {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.epoch <= epoch) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? null : list[lo - 1]!;
}

/** Tarjan's strongly connected components of more than one node, iteratively (graphs can be deep). */
function components(nodes: readonly TxNode[]): number[][] {
  const index = new Array<number>(nodes.length).fill(-1);
  const low = new Array<number>(nodes.length).fill(0);
  const onStack = new Array<boolean>(nodes.length).fill(false);
  const stack: number[] = [];
  const out: number[][] = [];
  let next = 0;
  for (let root = 0; root < nodes.length; root++) {
    if (index[root] !== -1) continue;
    const work: { readonly v: number; i: number }[] = [];
    const open = (v: number): void => {
      index[v] = low[v] = next++;
      stack.push(v);
      onStack[v] = true;
      work.push({ v, i: 0 });
    };
    open(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const succ = nodes[top.v]!.out;
      if (top.i < succ.length) {
        const w = succ[top.i++]!.to.id;
        if (index[w] === -1) open(w);
        else if (onStack[w]) low[top.v] = Math.min(low[top.v]!, index[w]!);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low[parent.v] = Math.min(low[parent.v]!, low[top.v]!);
      if (low[top.v] !== index[top.v]) continue;
      if (stack[stack.length - 1] === top.v) {
        // Alone in its component (most nodes): on no cycle.
        stack.pop();
        onStack[top.v] = false;
        continue;
      }
      const comp: number[] = [];
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = false;
        comp.push(w);
      } while (w !== top.v);
      out.push(comp);
    }
  }
  return out;
}

/** The shortest path from `start` back to itself inside its component. */
function shortestCycle(start: TxNode, inComp: ReadonlySet<number>): Edge[] {
  const via = new Map<number, Edge>();
  const queue: TxNode[] = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const e of queue[i]!.out) {
      const w = e.to;
      if (!inComp.has(w.id)) continue;
      if (w === start) {
        const path = [e];
        for (let n = e.from; n !== start; n = via.get(n.id)!.from) path.push(via.get(n.id)!);
        return path.reverse();
      }
      if (via.has(w.id)) continue;
      via.set(w.id, e);
      queue.push(w);
    }
  }
  return [];
}
