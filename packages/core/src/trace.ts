/**
 * The trace: a typed discriminated union of everything that happens in a run.
 * Monitors receive these events as they happen; `run(p, { trace: true })` also
 * keeps them. Every event carries the step it belongs to (the number of steps
 * executed when it was emitted), the virtual time, and the acting process's pid
 * (0 for the kernel itself, e.g. when the clock advances).
 */

interface EventBase {
  readonly step: number;
  readonly time: number;
  readonly pid: number;
}

/** A process started a child (`Process.start()` took effect). */
export interface SpawnEvent extends EventBase {
  readonly type: 'spawn';
  readonly child: number;
  readonly name: string;
  readonly daemon: boolean;
}

/** A process called an operation on a simulated object; it takes effect later, when scheduled. */
export interface IssueEvent extends EventBase {
  readonly type: 'issue';
  readonly obj: string;
  readonly op: string;
  readonly args: readonly unknown[];
}

/** An operation took effect: this is one scheduling step. */
export interface DoneEvent extends EventBase {
  readonly type: 'done';
  readonly obj: string;
  readonly op: string;
  /** 0 for single-step operations; multi-step ones (Condition.wait, Barrier.wait) count up. */
  readonly phase: number;
  /** `raised` when the operation threw a Python exception into the process. */
  readonly outcome: 'ok' | 'raised';
  /** The value returned to the process, or the exception's `Name: message` when raised. */
  readonly value: unknown;
}

/** A process's pending operation cannot take effect now. */
export interface BlockEvent extends EventBase {
  readonly type: 'block';
  readonly obj: string;
  readonly op: string;
  readonly waitsOn: string;
  /** Pids holding what it waits for, where that is known (a Lock's owner, a joined child). */
  readonly heldBy: readonly number[];
}

/** A blocked (or sleeping) process's operation can take effect again. */
export interface WakeEvent extends EventBase {
  readonly type: 'wake';
  readonly obj: string;
  readonly op: string;
}

/** A process went to sleep until virtual time `until` (timed mode). */
export interface SleepEvent extends EventBase {
  readonly type: 'sleep';
  readonly until: number;
}

/** A line of captured output. */
export interface PrintEvent extends EventBase {
  readonly type: 'print';
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** A process ended. */
export interface ExitEvent extends EventBase {
  readonly type: 'exit';
  readonly exitcode: number;
  readonly reason: 'returned' | 'raised' | 'terminated';
}

/**
 * A read or write of shared data inside an operation: a Manager dict key, a Value,
 * an array cell, a file. What the race and lost-update checkers consume.
 */
export interface AccessEvent extends EventBase {
  readonly type: 'access';
  /** The object operated on, e.g. `DictProxy#1`. */
  readonly obj: string;
  /** The memory location, e.g. `DictProxy#1["count"]`, `Array#1[3]`, `file:ticket`. */
  readonly loc: string;
  readonly kind: 'read' | 'write';
  readonly value: unknown;
  /**
   * True when the access cannot tear by construction (a Manager proxy call, a
   * locked Value's access): no data race, though read-then-write can still lose updates.
   */
  readonly atomic: boolean;
  /**
   * The lock a synchronized Value/Array access takes and gives back within its step
   * (its own RLock, or the lock given at creation): the race checker orders the
   * access by that lock's acquire/release, as Python's `with self._lock:` does.
   */
  readonly lock?: string;
}

/** A message entered a channel (Queue put, Pipe send). `msg` is unique in the run. */
export interface SendEvent extends EventBase {
  readonly type: 'send';
  readonly obj: string;
  readonly msg: number;
  readonly value: unknown;
}

/** A message left a channel (Queue get, Pipe recv): pairs with the send of the same `msg`. */
export interface RecvEvent extends EventBase {
  readonly type: 'recv';
  readonly obj: string;
  readonly msg: number;
  readonly value: unknown;
}

/**
 * A background thread (a Queue's feeder, a Pool's result or worker handler) was
 * started, in a step of process `pid` (its owner, or another process whose step made
 * the owner need it). Like `spawn` for processes: what the thread knows at its start
 * is what `pid` knew then.
 */
export interface ThreadStartEvent extends EventBase {
  readonly type: 'thread-start';
  readonly thread: number;
  /** e.g. `QueueFeederThread`, `PoolResultHandler`. */
  readonly name: string;
  /** Pid of the process the thread belongs to. */
  readonly owner: number;
}

/**
 * Process `pid` read the `exitcode` of a process that had exited (not a step: the
 * getter is plain code between steps). What the child did is then known to the reader.
 */
export interface ReapEvent extends EventBase {
  readonly type: 'reap';
  readonly child: number;
  readonly exitcode: number;
}

/**
 * Process `pid` entered (`atomic-begin`) or left (`atomic-end`) a block its code
 * declares meant to be atomic with `world.atomic(label, body)`. Not a step and not
 * a lock: nothing about scheduling changes; the atomicity checker reads these.
 */
export interface AtomicEvent extends EventBase {
  readonly type: 'atomic-begin' | 'atomic-end';
  readonly label: string;
}

/** No process could run, so the clock jumped to the next timer. */
export interface ClockEvent extends EventBase {
  readonly type: 'clock';
  readonly from: number;
}

/** Every event of a run. Switch on `type`. */
export type TraceEvent =
  | SpawnEvent
  | IssueEvent
  | DoneEvent
  | BlockEvent
  | WakeEvent
  | SleepEvent
  | PrintEvent
  | ExitEvent
  | AccessEvent
  | SendEvent
  | RecvEvent
  | ClockEvent
  | ThreadStartEvent
  | ReapEvent
  | AtomicEvent;

/**
 * One JSON line per event, with values encoded deterministically (object keys in
 * insertion order, simulated objects by id, functions and cycles by placeholder).
 * Two runs with the same program, seed and options give byte-identical output.
 */
export function serializeTrace(events: readonly TraceEvent[]): string {
  let out = '';
  for (const e of events) out += stableStringify(e) + '\n';
  return out;
}

/** JSON that never throws: bigint, undefined, functions, symbols and repeated objects (cycles included) get placeholders. */
export function stableStringify(value: unknown): string {
  // A plain primitive (most outcome keys: one per execution) needs no replacer or cycle set.
  if (typeof value === 'string' || typeof value === 'boolean' || value === null || (typeof value === 'number' && Number.isFinite(value))) return JSON.stringify(value);
  const seen = new Set<object>();
  return (
    JSON.stringify(value, function (this: unknown, _key: string, v: unknown): unknown {
      switch (typeof v) {
        case 'bigint':
          return `${v}n`;
        case 'undefined':
          return '[undefined]';
        case 'function':
          return `[Function ${v.name || 'anonymous'}]`;
        case 'symbol':
          return v.toString();
        case 'number':
          return Number.isFinite(v) ? v : String(v);
        case 'object': {
          if (v === null) return v;
          if (seen.has(v)) return '[Repeated]';
          seen.add(v);
          if (v instanceof Map) return { '[Map]': [...v.entries()] };
          if (v instanceof Set) return { '[Set]': [...v.values()] };
          if (v instanceof Error) return `${v.name}: ${v.message}`;
          return v;
        }
        default:
          return v;
      }
    }) ?? 'null'
  );
}
