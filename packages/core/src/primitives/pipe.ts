import { timeoutArg } from '../args.js';
import { deepCopy } from '../copy.js';
import { Fifo } from '../fifo.js';
import { BrokenPipeError, EOFError, OSError } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { SimObject, type Footprint, type Op, type WaitInfo } from '../op.js';
import type { SimProcess } from '../process-state.js';

interface Message {
  readonly value: unknown;
  readonly msg: number;
}

/**
 * One end of a `Pipe()`, as `multiprocessing.connection.Connection`. An end is a
 * handle counted per process, like an OS file descriptor: the creating process
 * holds both ends, a child holds the ends passed in its `args` (the spawn start
 * method), and a process stops holding an end when it calls `close()` or exits.
 * `recv` raises EOFError only when the buffer is empty and the other end is closed
 * in every process — so an end left open anywhere (a classic bug) makes a reader
 * wait forever, which the kernel reports as a deadlock naming who holds it.
 *
 * @example
 * ```ts
 * const [parentConn, childConn] = mp.Pipe();
 * await childConn.send('hello');
 * await parentConn.recv(); // 'hello'
 * ```
 */
export class Connection<T = unknown> extends SimObject {
  readonly readable: boolean;
  readonly writable: boolean;
  /** @internal */ peer: Connection<T> | null = null;
  /** Messages waiting to be received at this end. */
  private readonly inbox = new Fifo<Message>();
  private readonly holders = new Set<SimProcess>();

  /** @internal Use `mp.Pipe()`. */
  constructor(kernel: Kernel, creator: SimProcess, readable: boolean, writable: boolean) {
    super(kernel, 'Connection');
    this.readable = readable;
    this.writable = writable;
    this.hold(creator);
  }

  /** Send a copy of `obj` to the other end. */
  send(obj: T): Op<void> {
    return this.op('send', [obj]);
  }
  /** Receive the next object; raises EOFError once nothing more can arrive. */
  recv(): Op<T> {
    return this.op('recv', []);
  }
  /**
   * Whether `recv` would not block (data, or end of file), waiting up to `timeout`
   * virtual seconds; `null` waits forever. Default 0: just look.
   */
  poll(timeout: number | null = 0): Op<boolean> {
    const t = timeoutArg(`${this.id}.poll(timeout)`, timeout);
    return this.op('poll', t === undefined ? [null] : [t], t === undefined ? Infinity : this.kernel.now + t);
  }
  /** Close this process's handle on this end. Closing twice is harmless, as in Python. */
  close(): Op<void> {
    return this.op('close', []);
  }

  /** @internal */
  override inheritedBy(child: SimProcess): void {
    // Only a handle the starting process still holds can be passed on: without this
    // check an end closed everywhere came back to life in the child (and a reader
    // that had seen EOF could receive again). CPython cannot pass a closed handle
    // either; the child's use of it raises OSError("handle is closed") here.
    if (child.parent !== null && this.holders.has(child.parent.owner)) this.hold(child);
  }

  private hold(p: SimProcess): void {
    if (this.holders.has(p)) return;
    this.holders.add(p);
    p.finalizers.push(() => this.holders.delete(p));
  }

  /** Nothing more can arrive: every handle on the other end is closed. */
  private atEof(): boolean {
    return this.peer === null || this.peer.holders.size === 0;
  }

  /** @internal Both ends share one location: each operation reads or changes the pair's state. */
  override footprint(): readonly Footprint[] {
    return [{ loc: this.pairId, write: true }];
  }

  private get pairId(): string {
    const peer = this.peer?.id ?? this.id;
    return peer < this.id ? `${peer}|${this.id}` : `${this.id}|${peer}`;
  }

  /** @internal */
  ready(op: Op<unknown>): boolean {
    // recv/poll on a handle that raises (closed here, or the sending end of a
    // Pipe(duplex=false)) must be ready at once: CPython checks before waiting, and
    // without this a recv on a write-only end, or a poll on a closed handle, blocked forever.
    if (op.name !== 'recv' && op.name !== 'poll') return true;
    if (!this.readable || !this.holders.has(op.proc.owner)) return true;
    return this.inbox.length > 0 || this.atEof() || (op.name === 'poll' && this.kernel.now >= op.deadline);
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    const p = op.proc;
    if (op.name === 'close') {
      this.holders.delete(p.owner);
      return undefined;
    }
    if (!this.holders.has(p.owner)) throw new OSError(`handle is closed (${this.id}.${op.name}() after close() in ${p.owner.label})`);
    switch (op.name) {
      case 'send': {
        if (!this.writable) throw new OSError(`connection is read-only (${this.id} is the receiving end of Pipe(duplex=false))`);
        const peer = this.peer!;
        if (peer.holders.size === 0) throw new BrokenPipeError(`[Errno 32] Broken pipe (${peer.id}, the other end of ${this.id}, is closed in every process)`);
        const msg = this.kernel.send(p, this.id, op.args[0]);
        peer.inbox.push({ value: deepCopy(op.args[0]), msg });
        return undefined;
      }
      case 'recv': {
        if (!this.readable) throw new OSError(`connection is write-only (${this.id} is the sending end of Pipe(duplex=false))`);
        const m = this.inbox.shift();
        if (m === undefined) throw new EOFError(`${this.id}: the other end is closed in every process and no data is left`);
        this.kernel.receive(p, this.id, m.msg, m.value);
        return m.value;
      }
      case 'poll':
        if (!this.readable) throw new OSError(`connection is write-only (${this.id} is the sending end of Pipe(duplex=false))`);
        return this.inbox.length > 0 || this.atEof();
      default:
        throw new Error(`${this.id}: unknown operation ${op.name}`);
    }
  }

  /** @internal */
  override waitInfo(): WaitInfo {
    const writers = [...(this.peer?.holders ?? [])];
    return {
      waitsOn:
        `waiting for data on ${this.id}; the other end ${this.peer?.id ?? '?'} is still open in ` +
        writers.map((w) => w.label).join(', ') +
        ' (a handle left open keeps recv() from ever raising EOFError)',
      heldBy: writers.map((w) => w.pid),
    };
  }
}

/** `Pipe(duplex=True)`: two connected ends. With `duplex` false, the first only receives and the second only sends. */
export function createPipe<T>(kernel: Kernel, creator: SimProcess, duplex: boolean): [Connection<T>, Connection<T>] {
  const a = new Connection<T>(kernel, creator, true, duplex);
  const b = new Connection<T>(kernel, creator, duplex, true);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
