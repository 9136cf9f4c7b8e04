/**
 * What the race and lost-update checkers share: a record of each access they may
 * report, how it is described (process, step, time, operation, value, source
 * line), and a store that keeps one finding per distinct situation across every
 * run a monitor watches, with replay tokens when an explorer provides them.
 *
 * @internal
 */
import { stableStringify, type AccessEvent, type ExecutionInfo, type MonitorContext, type Op, type TraceEvent } from '@interleave/core';
import type { Checker, DistinctFinding, FailOn } from './checker.js';
import type { Proc } from './hb.js';
import { formatFinding, type Finding, type FindingEvent, type FindingStatus } from './report.js';

/** Options every access checker takes. */
export interface AccessCheckerOptions {
  /**
   * Which findings fail the run (it ends with status `error`, the findings in its
   * message, once the run is over, so one run reports all of them): `confirmed`
   * (default), `potential` (potential ones too) or `never` (only collect them).
   */
  readonly failOn?: FailOn;
  /**
   * Capture where the user's code issued each operation (`new Error().stack` at
   * every issue) to name source lines in reports and to tell apart code sites.
   * Costs a stack capture per operation: off by default.
   */
  readonly sources?: boolean;
}

/** What an access record keeps of its event: the access event itself, or one made up for a queue operation. */
export interface AccessLike {
  /** The lock a synchronized Value/Array access takes for its step. */
  readonly lock?: string;
  readonly pid: number;
  readonly step: number;
  readonly time: number;
  readonly kind: 'read' | 'write';
  readonly obj: string;
  readonly loc: string;
  readonly value: unknown;
}

/**
 * One shared-data access, as a report needs it. It keeps the event rather than
 * copying its fields: one is made for most accesses, by each checker.
 */
export class Access {
  e: AccessLike;
  /** Index of the process in vector clocks. */
  t: number;
  /** The process's own clock entry at the access: its epoch `c@t`. */
  c: number;
  name: string;
  /** The operation performing it (the process's last issue): the kernel's own, described only when reported. */
  op: Op<unknown> | null;
  site: Error | null;
  /** Locks the process held (its own acquire/release operations). */
  held: readonly string[];
  /** The process's `holding` count: equal on two accesses, a lock `held` at both was held all along between them. */
  holding: number;
  /** {@link codeOf}, once asked: a finding's key names it at every occurrence. */
  private codeText: string | null = null;

  /** `op`: the operation performing it (the engine's `op` while it applies the event). */
  constructor(p: Proc, e: AccessLike, op: Op<unknown> | null) {
    this.e = e;
    this.t = p.idx;
    this.c = p.clock[p.idx]!;
    this.name = p.name;
    this.op = op;
    this.site = p.site;
    this.held = p.held;
    this.holding = p.holding;
  }

  /**
   * Make this record describe a newer access, by any process: a checker that holds
   * the only reference to it (reports copy what they need) saves an allocation.
   */
  reuse(p: Proc, e: AccessEvent, op: Op<unknown> | null): this {
    this.e = e;
    this.t = p.idx;
    this.c = p.clock[p.idx]!;
    this.name = p.name;
    this.op = op;
    this.site = p.site;
    this.held = p.held;
    this.holding = p.holding;
    this.codeText = null;
    return this;
  }

  /** What identifies its code across processes and runs (see {@link codeOf}). */
  get code(): string {
    return (this.codeText ??= codeText(this));
  }

  get pid(): number {
    return this.e.pid;
  }
  get step(): number {
    return this.e.step;
  }
  get time(): number {
    return this.e.time;
  }
  get kind(): 'read' | 'write' {
    return this.e.kind;
  }
  get obj(): string {
    return this.e.obj;
  }
  get loc(): string {
    return this.e.loc;
  }
  get value(): unknown {
    return this.e.value;
  }
  /** The lock this access takes for its own step (a synchronized Value/Array), if any. */
  get lock(): string | undefined {
    return this.e.lock;
  }
}

/** Build the record of an access, or of something else `p` did that a report may name (a queue operation, a message), made by `op`. */
export function accessAt(p: Proc, e: AccessLike, op: Op<unknown> | null): Access {
  return new Access(p, e, op);
}

/** `DictProxy#1.update("count", fn)`, like the kernel's own operation labels. */
export function opLabel(op: Op<unknown> | null): string {
  if (op === null) return '(process start)';
  return `${op.objectId}.${op.name}(${op.args.map(formatArg).join(', ')})`;
}

function formatArg(a: unknown): string {
  if (typeof a === 'string') return JSON.stringify(a);
  if (typeof a === 'function') return a.name || 'fn';
  if (typeof a === 'object' && a !== null) {
    const id = (a as { id?: unknown }).id;
    if (typeof id === 'string' && typeof (a as { toJSON?: unknown }).toJSON === 'function') return id;
    return short(stableStringify(a), 40);
  }
  return String(a);
}

/** A value as it reads in a sentence: `97`, `"{\"count\":1}"`, `None` for undefined. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'None';
  if (typeof v === 'string') return short(JSON.stringify(v), 60);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return short(stableStringify(v), 60);
}

function short(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** A value that survives `JSON.stringify` as it is shown (Maps, Sets, undefined…). */
export function jsonValue(v: unknown): unknown {
  if (v === undefined || v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v ?? null;
  return JSON.parse(stableStringify(v)) as unknown;
}

// ---------------------------------------------------------------- sources

const sites = new WeakMap<Error, string | null>();

/** Frames of the simulator itself, of the checkers and of libraries: not the user's code. */
const INTERNAL = /[\\/]packages[\\/](?:core|checkers|sched)[\\/]src[\\/]|[\\/]node_modules[\\/]|\bnode:|\(native\)|^\s*at (?:new )?Promise\b|^\s*at (?:async )?Generator\.next/;

/** `examples/course/manager.ts:82:11`: the innermost frame of the user's code, relative to the working directory. */
export function siteOf(e: Error | null): string | undefined {
  if (e === null) return undefined;
  let s = sites.get(e);
  if (s === undefined) {
    s = null;
    const lines = (e.stack ?? '').split('\n');
    for (let i = 1; i < lines.length && s === null; i++) {
      const line = lines[i]!;
      if (INTERNAL.test(line)) continue;
      const m = /\(?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?\s*$/.exec(line);
      if (m !== null) s = `${relative(m[1]!)}:${m[2]}:${m[3]}`;
    }
    sites.set(e, s);
  }
  return s ?? undefined;
}

function relative(path: string): string {
  const p = path.startsWith('file://') ? decodeURIComponent(path.slice('file://'.length)) : path;
  const cwd = typeof process === 'undefined' ? '' : process.cwd() + '/';
  return cwd !== '/' && p.startsWith(cwd) ? p.slice(cwd.length) : p;
}

/**
 * What identifies the code of an access across processes and runs: its source
 * line when captured, else its operation (`DictProxy#1.update`).
 */
export function codeOf(a: Access): string {
  return a.code;
}

function codeText(a: Access): string {
  const s = siteOf(a.site);
  const op = a.op === null ? 'start' : `${a.op.objectId}.${a.op.name}`;
  return s === undefined ? `${op}:${a.kind}` : `${s}:${a.kind}`;
}

/** Array cells and list elements share a report: `Array#1[3]` → `Array#1[*]`. */
export function locClass(loc: string): string {
  return loc.replace(/\[-?\d+\]$/, '[*]');
}

/**
 * @internal The key of a finding about two or three accesses at one location (`kind|loc|a|b[|c]`),
 * built again only when one of its parts changed. A program whose processes run the
 * same code meets one situation over and over — with n processes, a write can be
 * unordered with n − 1 earlier read-modify-writes, each an occurrence of one finding —
 * and building and hashing the key each time made that quadratic work the cost of a run.
 */
export class FindingKeys {
  private loc = '';
  private cls = '';
  private parts: [string, string, string | undefined] = ['', '', undefined];
  private last = '';

  constructor(private readonly kind: string) {}

  of(loc: string, a: string, b: string, c?: string): string {
    if (loc !== this.loc) {
      this.loc = loc;
      this.cls = locClass(loc);
      this.last = '';
    }
    const p = this.parts;
    if (this.last === '' || a !== p[0] || b !== p[1] || c !== p[2]) {
      this.parts = [a, b, c];
      this.last = c === undefined ? `${this.kind}|${this.cls}|${a}|${b}` : `${this.kind}|${this.cls}|${a}|${b}|${c}`;
    }
    return this.last;
  }
}

/** The finding event of one access. */
export function eventOf(a: Access, note: string): FindingEvent {
  const source = siteOf(a.site);
  return {
    pid: a.pid,
    name: a.name,
    step: a.step,
    time: a.time,
    op: opLabel(a.op),
    note,
    value: jsonValue(a.value),
    ...(source === undefined ? {} : { source }),
  };
}

/** `holding Lock#1` / `holding no lock` */
export function heldNote(a: Access): string {
  return a.held.length === 0 ? 'holding no lock' : `holding ${a.held.join(', ')}`;
}

/** What a location is, for a why: `unsynchronised shared memory (RawValue)`. */
export function describeLoc(loc: string): string {
  if (loc.startsWith('file:')) return `the file ${JSON.stringify(loc.slice(5))}`;
  return loc;
}

// ------------------------------------------------------------------ store

interface Entry {
  finding: Finding;
  occurrences: number;
  runs: number;
  token: string | undefined;
}

/**
 * Findings of one monitor: per run (the run's own first occurrence of each
 * situation, upgraded when a confirmed one follows a potential one) and over every
 * run it watches (the same, across runs, with how many runs showed it and a token).
 */
export class FindingStore {
  private readonly entries = new Map<string, Entry>();
  private current = new Map<string, Entry>();

  /** A new run starts. */
  begin(): void {
    this.current = new Map();
  }

  /** Record an occurrence of `key`; `make` builds the finding only when it is new or upgraded. */
  hit(key: string, status: FindingStatus, make: () => Finding): void {
    let made: Finding | null = null;
    const build = (): Finding => (made ??= make());
    let run = this.current.get(key);
    if (run === undefined) {
      run = { finding: build(), occurrences: 0, runs: 1, token: undefined };
      this.current.set(key, run);
      let all = this.entries.get(key);
      if (all === undefined) this.entries.set(key, (all = { finding: run.finding, occurrences: 0, runs: 0, token: undefined }));
      all.runs++;
    } else if (status === 'confirmed' && run.finding.status === 'potential') {
      run.finding = build();
    }
    run.occurrences++;
    const all = this.entries.get(key)!;
    all.occurrences++;
    if (status === 'confirmed' && all.finding.status === 'potential') {
      all.finding = build();
      all.token = undefined; // the token should replay the confirmed one
    }
  }

  /** Every distinct finding so far, in order of discovery, with the number of runs that showed it. */
  distinct(): DistinctFinding[] {
    return [...this.entries.values()].map((e) => ({ finding: materialise(e), runs: e.runs }));
  }

  /** The findings of the current (or last) run. */
  ofRun(): Finding[] {
    return [...this.current.values()].map(materialise);
  }

  /** An explorer counted the run: findings first seen (or first confirmed) in it replay with its token. */
  execution(info: ExecutionInfo): void {
    for (const [k, run] of this.current) {
      const e = this.entries.get(k)!;
      if (e.token === undefined && e.finding.status === run.finding.status) e.token = info.token();
    }
  }

  clear(): void {
    this.entries.clear();
    this.current = new Map();
  }

  /** At the end of a run: fail it if it produced findings the policy fails on. */
  judge(ctx: MonitorContext, failOn: FailOn, checker: string): void {
    if (failOn === 'never') return;
    const bad = this.ofRun().filter((f) => failOn === 'potential' || f.status === 'confirmed');
    if (bad.length === 0) return;
    const shown = bad.slice(0, 3).map(formatFinding).join('\n');
    const more = bad.length > 3 ? `\n…and ${bad.length - 3} more (see the monitor's findings)` : '';
    ctx.fail(`${checker}: ${bad.length} finding(s) in this run\n${shown}${more}`);
  }
}

function materialise(e: Entry): Finding {
  const f = e.finding;
  return {
    ...f,
    data: { ...f.data, occurrences: e.occurrences, runs: e.runs },
    ...(e.token === undefined ? {} : { token: e.token }),
  };
}

/**
 * The race and lost-update monitors: a {@link Checker} (`findings` of the last run,
 * `distinct` over every run watched, with replay tokens under an explorer) plus
 * the text of it all.
 */
export interface AccessChecker extends Checker {
  /** Every distinct finding so far as text, one block each ('' when there is none). */
  report(): string;
  /** Forget every finding (the monitor keeps watching). */
  clear(): void;
}

/**
 * What the happens-before engine, the race checker and the lost-update checker
 * read: declared, so that the kernel builds no print, clock or atomic-block event
 * for them — nor an issue event per step, unless source locations are captured
 * (where the user's code issued an operation is known only then).
 */
export function accessEvents(sources: boolean): readonly TraceEvent['type'][] {
  return sources ? WITH_SOURCES : ACCESS_EVENTS;
}

/**
 * Whether the race and lost-update checkers need the issue and done events of
 * data operations (`Monitor.dataOps`): their accesses tell all the checkers use,
 * save where the user's code issued them, which only an issue event can capture.
 */
export function dataOpEvents(sources: boolean): boolean {
  return sources;
}

const ACCESS_EVENTS: readonly TraceEvent['type'][] = ['spawn', 'thread-start', 'done', 'access', 'send', 'recv', 'exit', 'reap'];
const WITH_SOURCES: readonly TraceEvent['type'][] = [...ACCESS_EVENTS, 'issue'];

/** The queue operations check-then-act looks at: the checks and the acts. */
export function isQueueOp(op: string): boolean {
  switch (op) {
    case 'empty':
    case 'qsize':
    case 'full':
    case 'get':
    case 'put':
      return true;
    default:
      return false;
  }
}

/** What an access checker does besides keeping findings: per run, per event, at the end. */
interface AccessHooks {
  readonly start: (ctx: MonitorContext) => void;
  /** One event, and the operation its process performed or waited to perform when it happened (`MonitorContext.operation`). */
  readonly event: (e: TraceEvent, op: Op<unknown> | null) => void;
  readonly end?: () => void;
  readonly events: readonly TraceEvent['type'][];
  /** `Monitor.dataOps`: whether it needs the events of data operations besides their accesses. */
  readonly dataOps: boolean;
  /**
   * Whether an event must be applied as it happens: when source locations are
   * captured, the stack at an `issue` event is the user's code only then.
   */
  readonly immediate: boolean;
  /**
   * Whether it names the operation of every event in its records (atomicity: any
   * step may be part of a transaction), not only of accesses, messages and queue
   * operations.
   */
  readonly everyOp: boolean;
}

/**
 * How many events an access checker keeps before it applies them. Applying them
 * in batches, between the kernel's steps rather than inside each, runs the
 * happens-before engine and the detectors in a loop of their own: a fifth of a
 * monitored step less on the shared-memory benchmark (docs/performance.md).
 * Nothing they report depends on when an event is applied — only on the events,
 * in order, and the operation each process performed at each (kept with it), save
 * objects the program changes later, whose events are applied at once — and the
 * run is judged at its end either way.
 */
const BATCH = 512;

/**
 * A class, not an object literal with getters: V8 keeps a literal's closure
 * getters in its hidden class (an old-space object), from where they kept every
 * run's engine and records alive through minor collections until a full one — a
 * fresh monitor per run (the usual use) made each scavenge copy and promote the
 * state of every run since the last full collection.
 */
class AccessCheckerMonitor implements AccessChecker {
  // Neither checker looks at block/wake/sleep events: without them the kernel does
  // not even build them (the costliest events: a released lock wakes every waiter).
  readonly blocking = false;
  readonly events: readonly TraceEvent['type'][];
  readonly dataOps: boolean;
  /**
   * Events not applied yet, and the operation of each one's process when it
   * happened: the first `count` slots. Allocated once at their full length and
   * never truncated (an array cut to length 0 gives up its storage, and refilling
   * it reallocated it a dozen times a batch).
   */
  private readonly queued: (TraceEvent | null)[];
  private readonly performing: (Op<unknown> | null)[];
  private count = 0;
  private readonly everyOp: boolean;
  /** Slots filled during this run: emptied at its end, so a finished run's objects are not kept. */
  private used = 0;

  constructor(
    readonly name: string,
    private readonly store: FindingStore,
    private readonly failOn: FailOn,
    private readonly hooks: AccessHooks,
  ) {
    this.events = hooks.events;
    this.dataOps = hooks.dataOps;
    this.everyOp = hooks.everyOp;
    const slots = hooks.immediate ? 1 : BATCH;
    this.queued = new Array<TraceEvent | null>(slots).fill(null);
    this.performing = new Array<Op<unknown> | null>(slots).fill(null);
  }

  onStart(ctx: MonitorContext): void {
    this.count = 0;
    this.hooks.start(ctx);
    this.store.begin();
  }

  onEvent(e: TraceEvent, ctx: MonitorContext): void {
    const i = this.count;
    const named = this.everyOp || e.type !== 'done' || isQueueOp(e.op);
    const op = named ? ctx.operation(e.pid) : null;
    // Applied at once, after what is queued: a lock's acquire or release when nothing
    // is (it keeps nothing, and a program that only synchronises pays no queue); and
    // an event that carries an object, which the program may change before a batch
    // would be applied — a report shows it as it is then, as it did before batching,
    // and a queue of big values is not kept alive.
    if ((i === 0 && !named) || carriesObject(e, op)) {
      if (i > 0) this.apply();
      this.hooks.event(e, op);
      return;
    }
    this.queued[i] = e;
    this.performing[i] = op;
    this.count = i + 1;
    if (i + 1 === this.queued.length) this.apply();
  }

  /** Apply the queued events, in order; once each, even if one throws (the kernel then ends the run). */
  private apply(): void {
    const n = this.count;
    if (n > this.used) this.used = n;
    this.count = 0;
    const queued = this.queued;
    const performing = this.performing;
    const event = this.hooks.event;
    for (let i = 0; i < n; i++) event(queued[i]!, performing[i] ?? null);
  }

  onEnd(ctx: MonitorContext): void {
    try {
      this.apply();
    } finally {
      for (let i = 0; i < this.used; i++) {
        this.queued[i] = null;
        this.performing[i] = null;
      }
      this.used = 0;
    }
    this.hooks.end?.();
    this.store.judge(ctx, this.failOn, this.name);
  }

  onExecution(info: ExecutionInfo): void {
    this.store.execution(info);
  }

  // Read during a run (by another monitor, say), they first apply what happened so far.
  get findings(): readonly Finding[] {
    this.apply();
    return this.store.ofRun();
  }

  get distinct(): readonly DistinctFinding[] {
    this.apply();
    return this.store.distinct();
  }

  report(): string {
    return this.distinct.map((d) => formatFinding(d.finding)).join('\n\n');
  }

  clear(): void {
    this.apply();
    this.store.clear();
  }
}

/** Whether `e`'s value, or an argument of its operation, is an object (not a number, string, boolean, function). */
function carriesObject(e: TraceEvent, op: Op<unknown> | null): boolean {
  const v = (e as { readonly value?: unknown }).value;
  if (typeof v === 'object' && v !== null) return true;
  if (op === null) return false;
  const args = op.args;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === 'object' && a !== null) return true;
  }
  return false;
}

/**
 * An access checker over `store`: `start` resets the per-run state, `event`
 * sees every event; the store decides at the end of the run whether it fails.
 */
export function accessChecker(name: string, store: FindingStore, failOn: FailOn, hooks: AccessHooks): AccessChecker {
  return new AccessCheckerMonitor(name, store, failOn, hooks);
}
