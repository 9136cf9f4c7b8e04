/**
 * Histories: what the linearizability checker reads. A history is a list of call
 * and return events in real-time order, the form the recorder produces and the form
 * external tools (Porcupine's `Event`, Jepsen's invoke/ok) export. The checker
 * works on operations (a call paired with its return, as an interval); this file
 * pairs them, validates them, and names them for reports.
 */
import { SimulationError, stableStringify } from '@interleave/core';

/** Who made a call: a simulated pid, or any client id of an external history. */
export type ClientId = number | string;

/** An operation was invoked. */
export interface CallEvent {
  readonly kind: 'call';
  /** Pairs the call with its return; unique within the history. */
  readonly id: number | string;
  /** The calling process (its pid) or client. */
  readonly pid: ClientId;
  /** Process name, e.g. `Process-1`, when known. */
  readonly process?: string;
  /** Operation name, e.g. `enqueue`. */
  readonly op: string;
  readonly args: readonly unknown[];
  /** Scheduling step of the call (recorded histories). */
  readonly step?: number;
  /** Virtual time of the call, in seconds (recorded histories). */
  readonly time?: number;
}

/** An operation returned (or raised). */
export interface ReturnEvent {
  readonly kind: 'return';
  /** The id of its call. */
  readonly id: number | string;
  /** The value returned; ignored when `error` is present. */
  readonly value?: unknown;
  /** Set when the operation raised: `Name: message`, or just `Name`. */
  readonly error?: string;
  readonly step?: number;
  readonly time?: number;
}

/** One event of a history. */
export type HistoryEvent = CallEvent | ReturnEvent;

/**
 * A history: call and return events in the order they happened. A call without a
 * return is *pending* (its process was terminated, or the run ended first): it may
 * or may not have taken effect, and the checker tries both.
 *
 * @example
 * ```ts
 * const h: History = [
 *   { kind: 'call', id: 1, pid: 1, op: 'write', args: [1] },
 *   { kind: 'call', id: 2, pid: 2, op: 'read', args: [] },
 *   { kind: 'return', id: 1 },
 *   { kind: 'return', id: 2, value: 0 },
 * ];
 * ```
 */
export type History = readonly HistoryEvent[];

/** What the model sees as an operation's input: its name and arguments. */
export interface Invocation {
  readonly op: string;
  readonly args: readonly unknown[];
}

/**
 * The output of an operation that raised, as the model sees it: compare with
 * {@link raised}. JSON: `{ "raised": "Empty" }`.
 */
export class Raised {
  /** Exception class name, e.g. `Empty`. */
  readonly name: string;
  /** Compared only when the model's expected output gives one. */
  readonly message: string | undefined;
  constructor(name: string, message?: string) {
    this.name = name;
    this.message = message;
  }
  toJSON(): { raised: string; message?: string } {
    return this.message === undefined ? { raised: this.name } : { raised: this.name, message: this.message };
  }
  toString(): string {
    return this.message === undefined ? this.name : `${this.name}: ${this.message}`;
  }
}

/**
 * The output a model expects from an operation that raises: `raised('Empty')`
 * matches any `Empty` exception; give a message to match it exactly.
 *
 * @example
 * ```ts
 * const q = queueModel({ empty: { raises: 'Empty' } }); // getNowait() on an empty queue
 * raised('Empty');  // what its step returns as output there
 * ```
 */
export function raised(name: string, message?: string): Raised {
  return new Raised(name, message);
}

/** Parse `Name: message` (a recorded exception) into a Raised output. */
export function parseRaised(error: string): Raised {
  const i = error.indexOf(': ');
  return i < 0 ? new Raised(error) : new Raised(error.slice(0, i), error.slice(i + 2));
}

/**
 * One operation of a history: an interval from its call to its return. `call` and
 * `return` are positions in real-time order; intervals are closed, so an operation
 * that returns at the position another is called at overlaps it (as in Porcupine).
 */
export interface Operation {
  /** 0-based index in the history's operations, in call order. */
  readonly index: number;
  readonly id: number | string;
  readonly pid: ClientId;
  readonly process?: string;
  readonly op: string;
  readonly args: readonly unknown[];
  /** The value returned, a {@link Raised}, or undefined while pending. */
  readonly output: unknown;
  /** Called, never returned: may or may not have taken effect. */
  readonly pending: boolean;
  readonly call: number;
  /** Infinity when pending. */
  readonly return: number;
  readonly callStep?: number;
  readonly returnStep?: number;
  readonly callTime?: number;
  readonly returnTime?: number;
}

/** An operation given directly as an interval (Porcupine's `Operation` form). */
export interface OperationInput {
  readonly id?: number | string;
  readonly pid: ClientId;
  readonly process?: string;
  readonly op: string;
  readonly args?: readonly unknown[];
  /** The value returned (ignored when `error` is set). */
  readonly output?: unknown;
  readonly error?: string;
  /** Call time; any numbers, compared with `return` of other operations. */
  readonly call: number;
  /** Return time; omit (or Infinity) for a pending operation. */
  readonly return?: number;
}

/**
 * Pair a history's calls and returns into operations, in call order. Throws a
 * SimulationError (`INVALID_ARGUMENT`) naming the event for a malformed history: a
 * return without a call, a duplicate id, or a client with two operations in flight.
 *
 * @example
 * ```ts
 * const ops = toOperations(history);
 * ops[0]; // { index: 0, op: 'write', args: [1], call: 0, return: 2, pending: false, ... }
 * ```
 */
export function toOperations(history: History): Operation[] {
  if (!isArray(history)) throw bad('the history must be an array of call and return events');
  const open = new Map<number | string, { e: CallEvent; at: number }>();
  const seen = new Set<number | string>();
  const busy = new Map<ClientId, number | string>();
  const done: Operation[] = [];
  const draft = new Map<number | string, Operation>();
  const order: (number | string)[] = [];
  for (let at = 0; at < history.length; at++) {
    const e = history[at]!;
    if (e.kind === 'call') {
      if (seen.has(e.id)) throw bad(`event ${at}: a second call with id ${show(e.id)}`);
      if (typeof e.op !== 'string') throw bad(`event ${at}: a call needs an operation name (op)`);
      const other = busy.get(e.pid);
      if (other !== undefined) {
        throw bad(`event ${at}: ${show(e.pid)} calls ${e.op}() while its call ${show(other)} has not returned; a process's operations must not overlap`);
      }
      seen.add(e.id);
      busy.set(e.pid, e.id);
      open.set(e.id, { e, at });
      order.push(e.id);
    } else if (e.kind === 'return') {
      const c = open.get(e.id);
      if (c === undefined) throw bad(`event ${at}: a return with id ${show(e.id)} that has no open call`);
      open.delete(e.id);
      busy.delete(c.e.pid);
      draft.set(e.id, operationOf(c.e, c.at, e, at));
    } else {
      throw bad(`event ${at}: kind must be 'call' or 'return', got ${show((e as { kind?: unknown }).kind)}`);
    }
  }
  for (const [id, c] of open) draft.set(id, operationOf(c.e, c.at, null, Infinity));
  for (const id of order) done.push({ ...draft.get(id)!, index: done.length });
  return done;
}

function operationOf(c: CallEvent, at: number, r: ReturnEvent | null, rat: number): Operation {
  const op: Record<string, unknown> = {
    index: 0,
    id: c.id,
    pid: c.pid,
    op: c.op,
    args: c.args ?? [],
    output: r === null ? undefined : r.error !== undefined ? parseRaised(r.error) : r.value,
    pending: r === null,
    call: at,
    return: rat,
  };
  if (c.process !== undefined) op['process'] = c.process;
  if (c.step !== undefined) op['callStep'] = c.step;
  if (c.time !== undefined) op['callTime'] = c.time;
  if (r?.step !== undefined) op['returnStep'] = r.step;
  if (r?.time !== undefined) op['returnTime'] = r.time;
  return op as unknown as Operation;
}

/**
 * Operations given as intervals (Porcupine's `Operation` form), checked and
 * numbered. Intervals are closed: touching endpoints overlap.
 *
 * @example
 * ```ts
 * const ops = fromIntervals([
 *   { pid: 1, op: 'put', args: ['x', 1], call: 0, return: 10 },
 *   { pid: 2, op: 'get', args: ['x'], output: 1, call: 5, return: 15 },
 * ]);
 * ```
 */
export function fromIntervals(input: readonly OperationInput[]): Operation[] {
  if (!isArray(input)) throw bad('the operations must be an array');
  const out = input.map((o, i): Operation => {
    const ret = o.return ?? Infinity;
    if (typeof o.call !== 'number' || Number.isNaN(o.call) || typeof ret !== 'number' || Number.isNaN(ret) || ret < o.call) {
      throw bad(`operation ${i} (${String(o.op)}): needs numbers call <= return, got call=${show(o.call)}, return=${show(o.return)}`);
    }
    const op: Record<string, unknown> = {
      index: i,
      id: o.id ?? i,
      pid: o.pid,
      op: o.op,
      args: o.args ?? [],
      output: ret === Infinity ? undefined : o.error !== undefined ? parseRaised(o.error) : o.output,
      pending: ret === Infinity,
      call: o.call,
      return: ret,
    };
    if (o.process !== undefined) op['process'] = o.process;
    return op as unknown as Operation;
  });
  out.sort((a, b) => a.call - b.call || a.index - b.index);
  return out.map((o, i) => ({ ...o, index: i }));
}

/** `enqueue(1) → null`, `dequeue() raises Empty`, `get("x") → ?` (pending). */
export function describeOperation(o: Pick<Operation, 'op' | 'args' | 'output' | 'pending'>): string {
  return `${describeCall(o)}${describeOutput(o.output, o.pending)}`;
}

/** `enqueue(1)` */
export function describeCall(o: Pick<Operation, 'op' | 'args'>): string {
  return `${o.op}(${o.args.map(show).join(', ')})`;
}

/** ` → 1`, ` raises Empty`, ` → ?` (pending), or nothing for undefined. */
export function describeOutput(output: unknown, pending = false): string {
  if (pending) return ' → ? (pending)';
  if (output instanceof Raised) return ` raises ${output.toString()}`;
  return output === undefined ? '' : ` → ${show(output)}`;
}

/** `Process-1 (pid 1001)`, or `client 3` for an external history without names. */
export function describeClient(o: Pick<Operation, 'pid' | 'process'>): string {
  if (o.process !== undefined) return typeof o.pid === 'number' ? `${o.process} (pid ${o.pid})` : `${o.process} (${o.pid})`;
  return typeof o.pid === 'number' ? `pid ${o.pid}` : `client ${o.pid}`;
}

/** A value as in reports: JSON, with `undefined` spelt out. */
export function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v instanceof Raised) return `raises ${v.toString()}`;
  return stableStringify(v);
}

/** Array.isArray without narrowing: narrowing a readonly array type to `any[]` would lose its element type. */
function isArray(v: unknown): boolean {
  return Array.isArray(v);
}

function bad(what: string): SimulationError {
  return new SimulationError('INVALID_ARGUMENT', `linearizability: malformed history: ${what}.`);
}
