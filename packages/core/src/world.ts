import { boolArg, show } from './args.js';
import { atomicBlock, type AtomicBlock } from './atomic.js';
import { misuse } from './errors.js';
import type { Kernel } from './kernel.js';
import type { Op } from './op.js';
import type { SimProcess } from './process-state.js';
import { createRng, type Rng } from './rng.js';
import { Barrier, type BarrierOptions } from './primitives/barrier.js';
import { Condition } from './primitives/condition.js';
import { Event } from './primitives/event.js';
import { Clock, Stdout } from './primitives/io.js';
import { Lock, RLock } from './primitives/lock.js';
import { Process, type ProcessOptions } from './primitives/process.js';
import { Semaphore } from './primitives/semaphore.js';
import { JoinableQueue, Queue, SimpleQueue } from './primitives/queue.js';
import type { Connection} from './primitives/pipe.js';
import { createPipe } from './primitives/pipe.js';
import { SyncManager } from './primitives/manager.js';
import { createSharedCtypes, type SharedCtypes } from './primitives/value.js';
import { FileSystem, type InitialFiles } from './primitives/files.js';
import { createPool, type Pool, type PoolFunction, type PoolOptions } from './primitives/pool.js';
import { createSocketModule, type SocketModule } from './primitives/socket.js';

/** Python's `multiprocessing` module, simulated. `Value`, `Array`, `RawValue`, `RawArray`: see {@link SharedCtypes}. */
export interface Mp extends SharedCtypes {
  /** `Process(target=, args=, name=, daemon=)`; call `start()` on the result. */
  Process<A extends readonly unknown[]>(options: ProcessOptions<A>): Process;
  Lock(): Lock;
  RLock(): RLock;
  /** `Semaphore(value=1)` */
  Semaphore(value?: number): Semaphore;
  /** `BoundedSemaphore(value=1)`: releasing above the initial value raises ValueError. */
  BoundedSemaphore(value?: number): Semaphore;
  Event(): Event;
  /** `Condition(lock=None)`: a new RLock when no lock is given. */
  Condition(lock?: Lock | RLock): Condition;
  Barrier(parties: number, options?: BarrierOptions): Barrier;
  /** `Queue(maxsize=0)`: 0 or negative means unbounded. */
  Queue<T = unknown>(maxsize?: number): Queue<T>;
  /** `JoinableQueue(maxsize=0)`: a Queue with taskDone() and join(). */
  JoinableQueue<T = unknown>(maxsize?: number): JoinableQueue<T>;
  SimpleQueue<T = unknown>(): SimpleQueue<T>;
  /** `Pipe(duplex=True)`: two connected ends. */
  Pipe<T = unknown>(duplex?: boolean): [Connection<T>, Connection<T>];
  /**
   * `Manager()`: shared dicts, lists, Namespaces, Values, locks, events and queues
   * behind proxies; each proxy call is one atomic step (see docs/manager.md).
   */
  Manager(): SyncManager;
  /**
   * `Pool(processes=None, initializer=None, initargs=(), maxtasksperchild=None)`, or
   * `Pool({ processes, initializer, initargs, maxtasksperchild })`: worker processes
   * reused across tasks; see docs/pool.md.
   */
  Pool(processes?: number | null, initializer?: PoolFunction | null, initargs?: readonly unknown[], maxtasksperchild?: number | null): Pool;
  Pool(options: PoolOptions): Pool;
  /** `current_process()` */
  currentProcess(): Process;
  /** `parent_process()`: null in the main process. */
  parentProcess(): Process | null;
  /** `active_children()`: this process's children that have started and not exited. */
  activeChildren(): Process[];
  /** `cpu_count()`: the simulated machine's, set by the `cpuCount` run option (default 4). */
  cpuCount(): number;
}

/** Python's `time` module over the virtual clock (seconds). */
export interface Time {
  /** Sleep: an operation. Timed mode waits virtual time; untimed mode only yields. */
  sleep(seconds: number): Op<void>;
  /** Virtual seconds since the run began. */
  time(): number;
  monotonic(): number;
  perfCounter(): number;
}

/** Python's `random` module: each process draws from its own seeded stream. */
export interface Random {
  /** A float in [0, 1). */
  random(): number;
  /** An integer in [a, b], both included. */
  randint(a: number, b: number): number;
  /** A float in [a, b). */
  uniform(a: number, b: number): number;
  choice<T>(seq: readonly T[]): T;
  /** Shuffle in place, as Python does. */
  shuffle(items: unknown[]): void;
  /** `k` distinct elements, in selection order. */
  sample<T>(seq: readonly T[], k: number): T[];
  /** Re-seed this process's stream: its draws then depend on `value` alone. */
  seed(value: string | number): void;
}

/** Python's `os` module: deterministic process ids. */
export interface Os {
  getpid(): number;
  getppid(): number;
}

/** What a program body receives: the simulated modules, named as in Python. */
export interface World {
  readonly mp: Mp;
  readonly time: Time;
  readonly random: Random;
  readonly os: Os;
  /** `print(*values)`: an operation; values are formatted as Python's `str()` would. */
  readonly print: (...values: unknown[]) => Op<void>;
  /** The simulated disk, shared by every process of the run; starts with the program's `files`. */
  readonly fs: FileSystem;
  /**
   * Python's `socket` module over a simulated TCP network on one machine
   * (127.0.0.1): `socket(AF_INET, SOCK_STREAM)`, or `socket.socket(...)`.
   * See docs/network.md.
   */
  readonly socket: SocketModule;
  /**
   * Declare that `body` is meant to be atomic: no other process should act on what it
   * touches while it runs. It does not make it so (it is not a lock and changes no
   * schedule): it marks the block in the trace (`atomic-begin`/`atomic-end`), for the
   * atomicity checker (`atomicity()` in `@interleave/checkers`) to judge. Pass an async
   * function from an async process, a generator function (and `yield*`) from a
   * generator process. Nested blocks count as one.
   *
   * @example
   * ```ts
   * await atomic('withdraw', async () => {
   *   const b = await balance.get();
   *   await balance.set(b - 10);
   * });
   * ```
   */
  readonly atomic: AtomicBlock;
}

/** Build the modules of one run. Every function acts for the process running now. */
export function createWorld(k: Kernel, files?: InitialFiles): World {
  const clock = new Clock(k);
  const stdout = new Stdout(k);
  const current = (api: string) => k.requireCurrent(api);
  const rng = (api: string): Rng => k.rngOf(current(api));

  const ctypes = createSharedCtypes(k, current);
  const mp: Mp = {
    Process: (options) => new Process(k, current('mp.Process()'), options as unknown as ProcessOptions<readonly unknown[]>),
    Lock: () => (current('mp.Lock()'), new Lock(k)),
    RLock: () => (current('mp.RLock()'), new RLock(k)),
    Semaphore: (value = 1) => (current('mp.Semaphore()'), new Semaphore(k, value, false)),
    BoundedSemaphore: (value = 1) => (current('mp.BoundedSemaphore()'), new Semaphore(k, value, true)),
    Event: () => (current('mp.Event()'), new Event(k)),
    Condition: (lock) => {
      current('mp.Condition()');
      if (lock !== undefined && !(lock instanceof Lock) && !(lock instanceof RLock)) {
        throw misuse('INVALID_ARGUMENT', `mp.Condition(lock): lock must be an mp.Lock() or mp.RLock(), got ${show(lock)}.`, 'pass a lock made by mp.Lock()/mp.RLock(), or nothing.');
      }
      return new Condition(k, lock ?? new RLock(k));
    },
    Barrier: (parties, options = {}) => (current('mp.Barrier()'), new Barrier(k, parties, options)),
    Queue: <T>(maxsize = 0) => (current('mp.Queue()'), new Queue<T>(k, maxsize)),
    JoinableQueue: <T>(maxsize = 0) => (current('mp.JoinableQueue()'), new JoinableQueue<T>(k, maxsize)),
    SimpleQueue: <T>() => (current('mp.SimpleQueue()'), new SimpleQueue<T>(k)),
    Pipe: <T>(duplex = true) => createPipe<T>(k, current('mp.Pipe()').owner, boolArg('mp.Pipe(duplex)', 'duplex', duplex)),
    Manager: () => (current('mp.Manager()'), new SyncManager(k)),
    Pool: (...args: readonly unknown[]) => createPool(k, current('mp.Pool()'), args),
    // Named one by one, not spread: a spread in the middle of the literal made V8
    // build the rest of it property by property (a fifth of createWorld).
    /* eslint-disable @typescript-eslint/unbound-method -- arrow functions (createSharedCtypes builds them), typed as methods */
    Value: ctypes.Value,
    RawValue: ctypes.RawValue,
    Array: ctypes.Array,
    RawArray: ctypes.RawArray,
    /* eslint-enable @typescript-eslint/unbound-method */
    currentProcess: () => handleOf(current('mp.currentProcess()').owner),
    parentProcess: () => {
      const parent = current('mp.parentProcess()').owner.parent;
      return parent === null ? null : handleOf(parent);
    },
    activeChildren: () => current('mp.activeChildren()').owner.children.filter((c) => !c.done).map(handleOf),
    cpuCount: () => k.config.cpuCount,
  };

  const time: Time = {
    sleep: (seconds) => (current('time.sleep()'), clock.sleep(seconds)),
    time: () => k.now,
    monotonic: () => k.now,
    perfCounter: () => k.now,
  };

  const random: Random = {
    random: () => rng('random.random()').next(),
    randint: (a, b) => {
      checkRange('random.randint(a, b)', a, b, true);
      return a + rng('random.randint()').below(b - a + 1);
    },
    uniform: (a, b) => a + (b - a) * rng('random.uniform()').next(),
    choice: (seq) => {
      if (seq.length === 0) throw misuse('INVALID_ARGUMENT', 'random.choice(seq): cannot choose from an empty sequence.', 'pass a non-empty array.');
      return seq[rng('random.choice()').below(seq.length)]!;
    },
    shuffle: (items) => {
      const r = rng('random.shuffle()');
      for (let i = items.length - 1; i > 0; i--) {
        const j = r.below(i + 1);
        [items[i], items[j]] = [items[j], items[i]];
      }
    },
    sample: (seq, n) => {
      if (!Number.isInteger(n) || n < 0 || n > seq.length) {
        throw misuse('INVALID_ARGUMENT', `random.sample(seq, k): k must be an integer in [0, ${seq.length}], got ${show(n)}.`, 'ask for at most as many elements as the sequence has.');
      }
      const pool = [...seq];
      const r = rng('random.sample()');
      const out: typeof pool = [];
      for (let i = 0; i < n; i++) out.push(pool.splice(r.below(pool.length), 1)[0]!);
      return out;
    },
    seed: (value) => {
      current('random.seed()').rng = createRng(`user-seed\u0000${String(value)}`);
    },
  };

  const os: Os = {
    getpid: () => current('os.getpid()').owner.pid,
    getppid: () => current('os.getppid()').owner.parent?.pid ?? PARENT_OF_MAIN,
  };

  const print = (...values: unknown[]): Op<void> => (current('print()'), stdout.print(values));

  // Plain properties built now, not accessors built on first use: defining accessors
  // on each run's world (Object.defineProperties) cost ten times what building the
  // three cheaply does, and exploration builds a world per execution. A getter
  // written in the literal instead would be a fresh closure that V8 records in the
  // object's hidden class, keeping every finished run reachable until a full GC.
  return { mp, time, random, os, print, fs: new FileSystem(k, files), socket: createSocketModule(k, current), atomic: atomicBlock(k) };
}

function handleOf(p: SimProcess): Process {
  return p.handle as Process;
}

/** The simulated shell that launched the main process. */
const PARENT_OF_MAIN = 999;

function checkRange(api: string, a: number, b: number, integers: boolean): void {
  const ok = integers ? Number.isInteger(a) && Number.isInteger(b) : Number.isFinite(a) && Number.isFinite(b);
  if (!ok || a > b) {
    throw misuse('INVALID_ARGUMENT', `${api}: expected ${integers ? 'integers' : 'numbers'} a <= b, got a=${show(a)}, b=${show(b)}.`, 'pass the bounds in increasing order, e.g. randint(1, 3).');
  }
}
