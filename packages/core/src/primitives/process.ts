import { show, timeoutArg } from '../args.js';
import { PyAssertionError, misuse } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { NO_ARGS, SimObject, type Footprint, type Op, type WaitInfo } from '../op.js';
import { SimProcess } from '../process-state.js';

/** Options of `mp.Process(...)`, as Python's `Process(target=, args=, name=, daemon=)`. */
export interface ProcessOptions<A extends readonly unknown[]> {
  /** The function the process runs: an `async` function or a generator function. */
  readonly target?: (...args: A) => unknown;
  readonly args?: A;
  /** Defaults to `Process-N` (`Process-N:M` for grandchildren), as in Python. */
  readonly name?: string;
  /** Daemonic children are terminated when their parent's code ends. Default: the parent's flag. */
  readonly daemon?: boolean;
}

/**
 * A simulated process, like Python's `multiprocessing.Process`. `start`, `join`,
 * `isAlive` and `terminate` are operations (scheduling points): await them.
 *
 * @example
 * ```ts
 * const p = mp.Process({ target: work, args: [1] });
 * await p.start();
 * await p.join();
 * p.exitcode; // 0
 * ```
 */
export class Process extends SimObject {
  /** The process name (may be changed, as in Python). */
  name: string;
  private daemonFlag: boolean;
  private readonly creator: SimProcess | null;
  private readonly identity: readonly number[];
  private readonly body: () => unknown;
  private readonly args: readonly unknown[];
  /** @internal The running or finished process, once started. */
  state: SimProcess | null = null;

  /** @internal Use `mp.Process(...)`. */
  constructor(kernel: Kernel, creator: SimProcess | null, options: ProcessOptions<readonly unknown[]>, main = false) {
    const api = 'mp.Process()';
    if (typeof options !== 'object' || options === null) {
      throw misuse('INVALID_ARGUMENT', `${api}: expected an options object, got ${show(options)}.`, 'pass `{ target: myFunction, args: [...] }`.');
    }
    const { target, args = [], name, daemon } = options;
    if (target !== undefined && typeof target !== 'function') {
      throw misuse('INVALID_ARGUMENT', `${api}: target must be a function, got ${show(target)}.`, 'pass `{ target: myFunction, args: [...] }`.');
    }
    if (!Array.isArray(args)) {
      throw misuse('INVALID_ARGUMENT', `${api}: args must be an array, got ${show(args)}.`, 'pass the arguments as an array: `args: [i, lock]`.');
    }
    if (name !== undefined && typeof name !== 'string') {
      throw misuse('INVALID_ARGUMENT', `${api}: name must be a string, got ${show(name)}.`, "pass e.g. `name: 'worker-1'`, or omit it for Python's default Process-N.");
    }
    if (daemon !== undefined && typeof daemon !== 'boolean') {
      throw misuse('INVALID_ARGUMENT', `${api}: daemon must be true or false, got ${show(daemon)}.`, "pass `daemon: true`, or omit it to inherit the parent's flag.");
    }
    let identity: readonly number[] = [];
    if (!main && creator !== null) {
      creator.childCount++;
      identity = [...creator.identity, creator.childCount];
    }
    // Python's default names are unique by construction, so they double as ids.
    const defaultName = main ? 'MainProcess' : `Process-${identity.join(':')}`;
    super(kernel, defaultName, true);
    this.creator = creator;
    this.identity = identity;
    this.name = name ?? defaultName;
    this.daemonFlag = daemon ?? creator?.daemon ?? false;
    this.args = args as readonly unknown[];
    this.body = target === undefined ? () => undefined : () => target(...this.args);
  }

  /** @internal The main process's record. */
  createMainState(): SimProcess {
    this.state = new SimProcess(this.kernel.allocatePid(), this.name, false, null, this, this.identity, this.body);
    return this.state;
  }

  /** Whether the process is daemonic. Can only be changed before `start()`. */
  get daemon(): boolean {
    return this.daemonFlag;
  }
  set daemon(v: boolean) {
    if (this.state !== null) throw new PyAssertionError('process has already started');
    this.daemonFlag = v;
  }

  /** The process id once started, else null (Python's None). */
  get pid(): number | null {
    return this.state?.pid ?? null;
  }

  /**
   * None (null) while running or never started; 0 after a normal exit, 1 after an
   * uncaught exception, -15 after `terminate()`. Reading it is not a scheduling
   * point: read it after `join()`.
   */
  get exitcode(): number | null {
    const s = this.state;
    if (s === null || !s.done) return null;
    // Seeing the exit orders what the child did before the reader's next step, as a join does.
    this.kernel.reaped(s);
    return s.exitcode;
  }

  /**
   * Start the process: it becomes runnable and will run its target. With the run
   * option `spawnCost` (timed mode), the parent waits that many virtual seconds first.
   */
  start(): Op<void> {
    const cost = spawnCostOf(this.kernel);
    return this.op('start', NO_ARGS, cost > 0 ? this.kernel.now + cost : Infinity);
  }

  /** Wait until the process exits, or until `timeout` virtual seconds pass. */
  join(timeout?: number | null): Op<void> {
    const t = timeoutArg(`${this.name}.join(timeout)`, timeout);
    return this.op('join', t === undefined ? NO_ARGS : [t], t === undefined ? Infinity : this.kernel.now + t);
  }

  /** Whether the process has started and not exited. */
  isAlive(): Op<boolean> {
    return this.op('isAlive', NO_ARGS);
  }

  /** Stop the process at once (SIGTERM, exit code -15). Locks it holds stay held, as in Python. */
  terminate(): Op<void> {
    return this.op('terminate', NO_ARGS);
  }

  /**
   * @internal Every step of a process writes its handle's location (see the kernel's
   * step observer), so `join` and `isAlive` read it and `start`/`terminate` write it.
   */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    if (op.name === 'begin' || op.name === 'exit') return [];
    return [{ loc: this.id, write: op.name === 'start' || op.name === 'terminate' }];
  }

  /** @internal */
  ready(op: Op<unknown>): boolean {
    switch (op.name) {
      case 'join': {
        const s = this.state;
        // `now >= deadline`: join(timeout) must give up at its deadline (the kernel's
        // contract for timed operations); without it a join with timeout never returned.
        return s === null || s.parent !== op.proc || s.done || this.kernel.now >= op.deadline;
      }
      case 'exit':
        return op.proc.mayExit();
      case 'start':
        // Infinity: no spawnCost, the start takes effect at once.
        return op.deadline === Infinity || this.kernel.now >= op.deadline;
      default:
        return true;
    }
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    const caller = op.proc;
    switch (op.name) {
      case 'begin':
      case 'exit':
        return undefined;
      case 'start':
        return this.spawn(caller);
      case 'join':
        this.checkChild(caller, 'join');
        return undefined;
      case 'isAlive':
        if (this.state === caller) return true;
        if (this.state === null) return false;
        this.checkChild(caller, 'test');
        return !this.state.done;
      case 'terminate':
        if (this.state === null) throw new PyAssertionError(`cannot terminate ${this.name}: it was never started`);
        this.kernel.kill(this.state);
        return undefined;
      default:
        throw new Error(`Process: unknown operation ${op.name}`);
    }
  }

  /** @internal */
  override waitInfo(op: Op<unknown>): WaitInfo {
    if (op.name === 'exit') {
      const rest = op.proc.children.filter((c) => !c.done);
      if (rest.length === 0) return { waitsOn: 'at exit, waiting for its background threads (queue feeders, pool result handlers) to finish what they can do', heldBy: [] };
      return {
        waitsOn: `at exit, waiting for its non-daemonic children ${rest.map((c) => c.label).join(', ')}`,
        heldBy: rest.map((c) => c.pid),
      };
    }
    const s = this.state;
    if (op.name === 'join' && s !== null) return { waitsOn: `waiting for ${s.label} to exit`, heldBy: [s.pid] };
    if (op.name === 'start') return { waitsOn: `creating ${this.name} (spawnCost: process creation takes virtual time)`, heldBy: [] };
    return super.waitInfo(op);
  }

  private spawn(caller: SimProcess): undefined {
    if (this.state !== null) throw new PyAssertionError('cannot start a process twice');
    if (this.creator !== caller) throw new PyAssertionError('can only start a process object created by current process');
    if (caller.daemon) throw new PyAssertionError('daemonic processes are not allowed to have children');
    this.launch(caller, caller);
    return undefined;
  }

  /**
   * @internal Create the running process as a child of `parent`, in a step of
   * `actor` (the parent itself, or a Pool's worker-handler thread of it).
   */
  launch(parent: SimProcess, actor: SimProcess): SimProcess {
    const k = this.kernel;
    const child = new SimProcess(k.allocatePid(), this.name, this.daemonFlag, parent, this, this.identity, this.body);
    this.state = child;
    parent.children.push(child);
    k.admit(child);
    k.emitSpawn(actor, child);
    // Like the spawn start method: the child inherits the handles passed in its args.
    for (const o of simObjectsIn(this.args)) o.inheritedBy(child);
    return child;
  }

  private checkChild(caller: SimProcess, verb: 'join' | 'test'): void {
    if (this.state === null && verb === 'join') {
      if (this.creator !== caller) throw new PyAssertionError('can only join a child process');
      throw new PyAssertionError('can only join a started process');
    }
    if (this.state !== null && this.state.parent !== caller) throw new PyAssertionError(`can only ${verb} a child process`);
  }

  /** `<Process name='Process-1' pid=1001 parent=1000 started>` like Python's repr. */
  override toString(): string {
    const s = this.state;
    const status = s === null ? 'initial' : s.done ? `stopped exitcode=${String(s.exitcode)}` : 'started';
    return `<Process name='${this.name}'${s ? ` pid=${s.pid} parent=${s.parent?.pid ?? 'None'}` : ''} ${status}${this.daemonFlag ? ' daemon' : ''}>`;
  }
}

/** @internal Virtual seconds a process creation takes: the run option `spawnCost`, in timed mode only. */
export function spawnCostOf(k: Kernel): number {
  return k.config.timed ? k.config.spawnCost : 0;
}

/** @internal Simulated objects among `values`, looking inside arrays and plain objects (three levels deep). */
export function simObjectsIn(values: readonly unknown[]): SimObject[] {
  const found: SimObject[] = [];
  for (const v of values) collectSimObjects(v, 3, found);
  return found;
}

/** A function of its own, not a closure: every process start looks through its args. */
function collectSimObjects(v: unknown, depth: number, found: SimObject[]): void {
  if (v instanceof SimObject) found.push(v);
  else if (depth > 0 && Array.isArray(v)) for (const x of v) collectSimObjects(x, depth - 1, found);
  else if (depth > 0 && typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) collectSimObjects(x, depth - 1, found);
  }
}
