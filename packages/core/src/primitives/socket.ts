import { show } from '../args.js';
import {
  BrokenPipeError,
  ConnectionRefusedError,
  ConnectionResetError,
  OSError,
  PyTypeError,
  ValueError,
  misuse,
} from '../errors.js';
import type { Kernel } from '../kernel.js';
import { SimObject, type Footprint, type Op, type WaitInfo } from '../op.js';
import type { SimProcess } from '../process-state.js';

// ------------------------------------------------------------------ constants

/** `socket.AF_INET`: IPv4, the only family modelled. Values are Linux's, as Python shows them. */
export const AF_INET = 2;
/** `socket.SOCK_STREAM`: TCP, the only socket type modelled. */
export const SOCK_STREAM = 1;
/** `socket.SOL_SOCKET`: the level of SO_REUSEADDR and SO_KEEPALIVE. */
export const SOL_SOCKET = 1;
/** `socket.SO_REUSEADDR`: bind even while connections accepted on the port are still open. */
export const SO_REUSEADDR = 2;
/** `socket.SO_KEEPALIVE`: accepted and stored; no effect (nothing in the model times out). */
export const SO_KEEPALIVE = 9;
/** `socket.IPPROTO_TCP`: the level of TCP_NODELAY. */
export const IPPROTO_TCP = 6;
/** `socket.TCP_NODELAY`: accepted and stored; no effect (every send is delivered whole at once). */
export const TCP_NODELAY = 1;
/** `socket.SHUT_RD`: `shutdown(SHUT_RD)` stops receiving. */
export const SHUT_RD = 0;
/** `socket.SHUT_WR`: `shutdown(SHUT_WR)` stops sending; the peer's recv then returns empty bytes. */
export const SHUT_WR = 1;
/** `socket.SHUT_RDWR`: both. */
export const SHUT_RDWR = 2;
/** `socket.SOMAXCONN`: Python's `listen()` with no argument uses min(SOMAXCONN, 128). */
export const SOMAXCONN = 4096;

/** The simulated machine's address: every socket lives on it. */
const LOCALHOST = '127.0.0.1';
/** Client sockets get ports from here up, in the order their connect() (or bind to port 0) takes effect; Linux's range starts here too. */
const EPHEMERAL_BASE = 32768;
const EPHEMERAL_LAST = 60999;
/** `listen()` without a backlog: Python's default, min(SOMAXCONN, 128). */
const DEFAULT_BACKLOG = 128;

/** Options that setsockopt accepts, by `level:optname`. Others are not modelled and rejected. */
const KNOWN_OPTIONS: ReadonlyMap<string, string> = new Map([
  [`${SOL_SOCKET}:${SO_REUSEADDR}`, 'SO_REUSEADDR'],
  [`${SOL_SOCKET}:${SO_KEEPALIVE}`, 'SO_KEEPALIVE'],
  [`${IPPROTO_TCP}:${TCP_NODELAY}`, 'TCP_NODELAY'],
]);

// ---------------------------------------------------------------------- bytes

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/**
 * Python's `bytes`, as a `Uint8Array` with the methods the course's socket programs
 * use: `decode`, `upper`, `lower`, `strip`. `recv` returns one; `send` takes any
 * `Uint8Array`. `String(b)` and `print(b)` show Python's repr, `b'HELLO'`. Unlike
 * Python's bytes it is mutable (it is a Uint8Array); every recv returns a fresh one.
 *
 * @example
 * ```ts
 * const msg = await conn.recv(1024);   // msg = conn.recv(1024)
 * if (msg.length === 0) break;         // if not msg: break
 * await conn.send(msg.upper());        // conn.send(msg.upper())
 * await print(msg.decode('utf-8'));    // print(msg.decode('utf-8'))
 * ```
 */
export class Bytes extends Uint8Array {
  /** `b.decode('utf-8')`: the text (invalid sequences become U+FFFD, as `errors='replace'`). */
  decode(encoding = 'utf-8'): string {
    checkEncoding('Bytes.decode(encoding)', encoding);
    return utf8Decoder.decode(this);
  }
  /** `b.upper()`: ASCII letters upper-cased, other bytes unchanged (as Python's bytes.upper). */
  upper(): Bytes {
    return this.mapBytes((c) => (c >= 0x61 && c <= 0x7a ? c - 0x20 : c));
  }
  /** `b.lower()`: ASCII letters lower-cased. */
  lower(): Bytes {
    return this.mapBytes((c) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c));
  }
  /** `b.strip()`: without leading and trailing ASCII whitespace. */
  strip(): Bytes {
    let a = 0;
    let z = this.length;
    while (a < z && isSpace(this[a]!)) a++;
    while (z > a && isSpace(this[z - 1]!)) z--;
    return Bytes.copyOf(this.subarray(a, z));
  }
  /** Whether `other` holds the same bytes (Python's `==`). */
  equals(other: Uint8Array): boolean {
    if (other.length !== this.length) return false;
    for (let i = 0; i < this.length; i++) if (this[i] !== other[i]) return false;
    return true;
  }
  /** Python's repr: `b'hello\n'`. */
  override toString(): string {
    return bytesRepr(this);
  }
  /** Traces show the repr too. */
  toJSON(): string {
    return bytesRepr(this);
  }
  /** @internal A Bytes holding a copy of `data`. */
  static copyOf(data: Uint8Array): Bytes {
    const b = new Bytes(data.length);
    b.set(data);
    return b;
  }
  private mapBytes(f: (c: number) => number): Bytes {
    const out = new Bytes(this.length);
    for (let i = 0; i < this.length; i++) out[i] = f(this[i]!);
    return out;
  }
}

/**
 * Python's `str.encode(encoding='utf-8')`: the UTF-8 bytes of `text`, to pass to
 * `send`. Only UTF-8 (aliases `utf8`, and `ascii` for ASCII text) is modelled.
 *
 * @example
 * ```ts
 * await client.send(encode(msg, 'utf-8'));   // client.send(msg.encode('utf-8'))
 * ```
 */
export function encode(text: string, encoding = 'utf-8'): Bytes {
  if (typeof text !== 'string') {
    throw misuse('INVALID_ARGUMENT', `encode(text, encoding): text must be a string, got ${show(text)}.`, "pass the text to encode, e.g. encode('hello').");
  }
  checkEncoding('encode(text, encoding)', encoding);
  const u = utf8Encoder.encode(text);
  return new Bytes(u.buffer, u.byteOffset, u.byteLength);
}

function checkEncoding(api: string, encoding: string): void {
  const e = String(encoding).toLowerCase().replace(/[-_]/g, '');
  if (e !== 'utf8' && e !== 'ascii') {
    throw misuse('INVALID_ARGUMENT', `${api}: only 'utf-8' is modelled, got ${show(encoding)}.`, "pass 'utf-8' (the default), or omit the encoding.");
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function bytesRepr(b: Uint8Array): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const c of b) {
    if (c === 0x27) hasSingle = true;
    else if (c === 0x22) hasDouble = true;
  }
  const q = hasSingle && !hasDouble ? '"' : "'";
  let out = 'b' + q;
  for (const c of b) {
    if (c === 0x5c) out += '\\\\';
    else if (c === q.charCodeAt(0)) out += '\\' + q;
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return out + q;
}

// -------------------------------------------------------------------- network

/** Python's `(host, port)` address tuple. */
export type Address = readonly [host: string, port: number];

/** Bytes of one `send`, with the message id that pairs it with the recvs that take it. */
interface Chunk {
  readonly data: Bytes;
  /** How much of `data` has been received already. */
  off: number;
  readonly msg: number;
}

/** The one simulated machine's port table. */
class Network {
  /** Open sockets using each port: a listener, the connections accepted on it, a client's ephemeral port. */
  readonly ports = new Map<number, Set<Socket>>();
  /**
   * Every socket that ever used each port, closed ones included. Footprints read
   * their holders: a footprint must not shrink when an operation it does not
   * depend on (a holder's exit) takes a socket off the port.
   */
  private readonly everUsed = new Map<number, Set<Socket>>();
  nextEphemeral = EPHEMERAL_BASE;

  users(port: number): ReadonlySet<Socket> {
    return this.ports.get(port) ?? NONE;
  }
  listenerAt(port: number): Socket | null {
    for (const s of this.users(port)) if (s.listening) return s;
    return null;
  }
  everUsers(port: number): ReadonlySet<Socket> {
    return this.everUsed.get(port) ?? NONE;
  }
  register(s: Socket, port: number): void {
    let set = this.ports.get(port);
    if (set === undefined) this.ports.set(port, (set = new Set()));
    set.add(s);
    let ever = this.everUsed.get(port);
    if (ever === undefined) this.everUsed.set(port, (ever = new Set()));
    ever.add(s);
  }
  unregister(s: Socket, port: number): void {
    const set = this.ports.get(port);
    set?.delete(s);
    if (set?.size === 0) this.ports.delete(port);
  }
  /** The next free ephemeral port. Ports are not reused within a run, so they stay predictable. */
  ephemeral(): number | null {
    while (this.nextEphemeral <= EPHEMERAL_LAST) {
      const p = this.nextEphemeral++;
      if (this.users(p).size === 0) return p;
    }
    return null;
  }
}

const NONE: ReadonlySet<Socket> = new Set();

/**
 * The location a port's state lives at, for partial-order reduction. Ephemeral
 * ports share one location: which of them a client gets depends on the order of
 * every allocation, so any two operations that may pick or name one are dependent.
 */
function portLoc(port: number): string {
  return port >= EPHEMERAL_BASE && port <= EPHEMERAL_LAST ? 'net:ephemeral' : `net:${port}`;
}

function fmtAddr(a: Address | null): string {
  return a === null ? '(unbound)' : `${a[0]}:${a[1]}`;
}

function pyAddr(a: Address): string {
  return `('${a[0]}', ${a[1]})`;
}

// --------------------------------------------------------------------- socket

/**
 * A TCP socket on the simulated machine, as Python's `socket.socket(AF_INET,
 * SOCK_STREAM)`. Every method except the constructor is an operation (a
 * scheduling point). A socket is a handle counted per process, like a pipe end:
 * the creating process holds it (the accepting process, for a socket returned by
 * `accept`), a child holds the sockets passed in its `args`, a process that gets it
 * another way (a Pool task, a queue) holds it from its first use, and a process
 * stops holding it at `close()` or exit. The connection closes once no process
 * holds it: then the peer's recv returns empty bytes.
 *
 * The stream: bytes sent arrive in order and whole (no loss, no partial sends), but
 * message boundaries are not kept — `recv(n)` returns everything buffered, up to
 * `n` bytes, so two sends may arrive in one recv, or one send in several.
 *
 * @example
 * ```ts
 * const server = socket(AF_INET, SOCK_STREAM);
 * await server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
 * await server.bind(['127.0.0.1', 8080]);
 * await server.listen(5);
 * const [conn, addr] = await server.accept();   // conn, addr = server.accept()
 * const msg = await conn.recv(1024);
 * await conn.send(msg.upper());
 * ```
 */
export class Socket extends SimObject {
  private readonly net: Network;
  private readonly holders = new Set<SimProcess>();
  /**
   * Every process that ever held a handle. Operations whose result depends on
   * whether this socket is still open somewhere read their handles' locations:
   * the last holder may close it by exiting, which no socket operation declares.
   */
  private readonly everHeld = new Set<SimProcess>();
  /** Processes that closed their handle: they cannot use the socket again. */
  private readonly letGo = new Set<SimProcess>();
  private readonly options = new Map<string, number>();
  /** Closed in every process (or, for a connection never accepted, dropped with its listener). */
  private closed = false;
  private local: Address | null = null;
  private remote: Address | null = null;

  // listening
  /** @internal */ listening = false;
  /** Whether it ever listened: footprints must not depend on when it stopped. */
  private everListened = false;
  private backlog = 0;
  /** Connections completed and not yet accepted: the server-side sockets. */
  private readonly pending: Socket[] = [];
  private connections = 0;

  // connected
  private peer: Socket | null = null;
  /** For a server-side socket: the listener it arrived on. Nobody holds it until it is accepted; until then the listener's closing drops it. */
  private listener: Socket | null = null;
  private accepted = true;
  private readonly rx: Chunk[] = [];
  private rxBytes = 0;
  /** The peer will send nothing more: it shut down writing, or closed. */
  private finReceived = false;
  /** This side called shutdown(SHUT_WR). */
  private wrShut = false;
  /** This side called shutdown(SHUT_RD). */
  private rdShut = false;
  /** The connection was reset: nothing more can be sent or received. */
  private dead = false;
  /** A reset not yet reported (why, for the message): the next send or recv raises ConnectionResetError, once. */
  private resetPending: string | null = null;

  /** @internal Use `socket.socket()`, or `accept()`. */
  constructor(kernel: Kernel, net: Network, creator: SimProcess | null, id?: string) {
    super(kernel, id ?? 'Socket', id !== undefined);
    this.net = net;
    if (creator !== null) this.hold(creator);
  }

  // ------------------------------------------------------------------ API

  /**
   * `setsockopt(level, optname, value)`. `SO_REUSEADDR` lets `bind` reuse a port
   * whose accepted connections are still open; `SO_KEEPALIVE` and `TCP_NODELAY` are
   * accepted and have no effect. Other options are not modelled (INVALID_ARGUMENT).
   */
  setsockopt(level: number, optname: number, value: number | boolean): Op<void> {
    const api = `${this.id}.setsockopt(level, optname, value)`;
    optionName(api, level, optname);
    if (typeof value !== 'number' && typeof value !== 'boolean') {
      throw misuse('INVALID_ARGUMENT', `${api}: value must be a number or a boolean, got ${show(value)}.`, 'pass 1 to turn the option on, 0 to turn it off.');
    }
    return this.op('setsockopt', [level, optname, Number(value)]);
  }

  /** `getsockopt(level, optname)`: the value set, or 0. */
  getsockopt(level: number, optname: number): Op<number> {
    optionName(`${this.id}.getsockopt(level, optname)`, level, optname);
    return this.op('getsockopt', [level, optname]);
  }

  /**
   * `bind((host, port))`. Host `'127.0.0.1'`, `'localhost'`, `''` or `'0.0.0.0'`
   * (the simulated machine has one address); port 0 picks the next ephemeral port.
   * Raises OSError `[Errno 98] Address already in use` while another open socket
   * uses the port (see SO_REUSEADDR).
   */
  bind(address: Address): Op<void> {
    const [host, port] = addressArg(`${this.id}.bind(address)`, address);
    return this.op('bind', [host, port]);
  }

  /** `listen(backlog)`: accept connections; at most `backlog` (at least 1) wait to be accepted, further connects wait. */
  listen(backlog: number = DEFAULT_BACKLOG): Op<void> {
    if (typeof backlog !== 'number' || !Number.isInteger(backlog)) {
      throw misuse('INVALID_ARGUMENT', `${this.id}.listen(backlog): backlog must be an integer, got ${show(backlog)}.`, 'pass e.g. `listen(5)`, or nothing for the default (128).');
    }
    return this.op('listen', [backlog]);
  }

  /** `conn, addr = accept()`: wait for a connection; returns its socket and the client's address. */
  accept(): Op<[Socket, Address]> {
    return this.op('accept', []);
  }

  /**
   * `connect((host, port))`. Raises ConnectionRefusedError when nothing listens on
   * the port; waits while the listener's backlog is full. Binds the socket to the
   * next ephemeral port first if it is not bound.
   */
  connect(address: Address): Op<void> {
    const [host, port] = addressArg(`${this.id}.connect(address)`, address);
    return this.op('connect', [host, port]);
  }

  /** `send(data)`: sends all of `data` (sends are never partial here) and returns its length. */
  send(data: Uint8Array): Op<number> {
    return this.op('send', [data]);
  }

  /** `sendall(data)`: sends all of `data`; returns nothing (Python's None). */
  sendall(data: Uint8Array): Op<void> {
    return this.op('sendall', [data]);
  }

  /**
   * `recv(bufsize)`: everything buffered, up to `bufsize` bytes, waiting while
   * nothing is. Empty bytes once the peer shut down writing or closed and
   * everything it sent has been read.
   */
  recv(bufsize: number): Op<Bytes> {
    if (typeof bufsize !== 'number' || !Number.isInteger(bufsize)) {
      throw misuse('INVALID_ARGUMENT', `${this.id}.recv(bufsize): bufsize must be an integer, got ${show(bufsize)}.`, 'pass the most bytes to take, e.g. `recv(1024)`.');
    }
    return this.op('recv', [bufsize]);
  }

  /** `shutdown(how)`: `SHUT_WR` ends this side's stream (the peer's recv returns empty bytes), `SHUT_RD` stops receiving, `SHUT_RDWR` both. */
  shutdown(how: number): Op<void> {
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) {
      throw misuse('INVALID_ARGUMENT', `${this.id}.shutdown(how): how must be SHUT_RD, SHUT_WR or SHUT_RDWR, got ${show(how)}.`, 'pass one of the SHUT_* constants of the socket module.');
    }
    return this.op('shutdown', [how]);
  }

  /** `close()`: this process's handle. Closing twice is harmless, as in Python. */
  close(): Op<void> {
    return this.op('close', []);
  }

  /** `getsockname()`: this socket's own address. */
  getsockname(): Op<Address> {
    return this.op('getsockname', []);
  }

  /** `getpeername()`: the address of the other end; OSError when not connected. */
  getpeername(): Op<Address> {
    return this.op('getpeername', []);
  }

  /** Like Python's repr, without the file descriptor: `<socket.socket Socket#2 laddr=('127.0.0.1', 8080) raddr=(...)>`. */
  override toString(): string {
    if (this.closed) return `<socket.socket [closed] ${this.id}>`;
    const l = this.local === null ? '' : ` laddr=${pyAddr(this.local)}`;
    const r = this.remote === null ? '' : ` raddr=${pyAddr(this.remote)}`;
    return `<socket.socket ${this.id}${l}${r}>`;
  }

  // ------------------------------------------------------------- handles

  /** @internal Passed in a child's args: the child holds it too, if the parent does. */
  override inheritedBy(child: SimProcess): void {
    if (child.parent !== null && this.holders.has(child.parent.owner)) this.hold(child);
  }

  private hold(p: SimProcess): void {
    if (this.holders.has(p)) return;
    this.holders.add(p);
    this.everHeld.add(p);
    p.finalizers.push(() => this.release(p));
  }

  private release(p: SimProcess): void {
    this.letGo.add(p);
    if (!this.holders.delete(p)) return;
    if (this.holders.size === 0 && !this.closed) this.closeEverywhere();
  }

  /** The last handle is gone: what the OS does when the socket's last descriptor closes. */
  private closeEverywhere(): void {
    this.closed = true;
    if (this.local !== null) this.net.unregister(this, this.local[1]);
    if (this.listening) {
      // Connections completed but never accepted are reset (the client sees
      // ConnectionResetError); connects still waiting now find nothing listening.
      for (const s of this.pending.splice(0)) {
        s.closed = true;
        s.net.unregister(s, s.local![1]);
        s.peer?.reset(`the server closed ${this.id} without accepting this connection`);
      }
      this.listening = false;
    }
    const peer = this.peer;
    if (peer === null) return;
    // Unread data makes Linux answer with a reset rather than an orderly end of stream.
    if (this.rxBytes > 0) peer.reset(`${this.id} was closed with data it had not read`);
    else peer.finReceived = true;
  }

  private reset(why: string): void {
    if (this.dead) return;
    this.dead = true;
    this.resetPending = why;
  }

  /** Raise a pending reset, once: Linux reports the error to the next call only. */
  private raiseReset(api: string): void {
    const why = this.resetPending;
    if (why === null) return;
    this.resetPending = null;
    throw new ConnectionResetError(`[Errno 104] Connection reset by peer (${this.id}.${api}() on the connection to ${fmtAddr(this.remote)}: ${why})`);
  }

  /**
   * Whether `p` may use the socket: it holds a handle, or it never had one and the
   * socket is still open elsewhere. The second case is a socket that reached `p`
   * through a Pool task, a queue or a pipe: CPython pickles a socket by duplicating
   * its descriptor for the receiver (multiprocessing.reduction's DupFd), so the
   * receiver gets a handle of its own — here, at its first operation on it.
   */
  private isOpenFor(p: SimProcess): boolean {
    const o = p.owner;
    return this.holders.has(o) || (!this.letGo.has(o) && this.holders.size > 0);
  }

  // ------------------------------------------------------------ scheduling

  /** @internal */
  ready(op: Op<unknown>): boolean {
    // Operations that raise (a closed handle, a socket in the wrong state) are ready
    // at once, so the exception is thrown rather than the process waiting forever.
    if (!this.isOpenFor(op.proc)) return true;
    switch (op.name) {
      case 'accept':
        return !this.listening || this.pending.length > 0;
      case 'connect': {
        if (this.peer !== null || this.listening) return true;
        const l = this.net.listenerAt(op.args[1] as number);
        return l === null || l.pending.length < l.capacity;
      }
      case 'recv':
        return (
          this.peer === null ||
          (op.args[0] as number) <= 0 ||
          this.rxBytes > 0 ||
          this.finReceived ||
          this.dead ||
          this.rdShut
        );
      default:
        return true;
    }
  }

  /**
   * @internal Every operation writes the socket itself. Those that touch a
   * connection also write the stream(s) they use (`A>B`: bytes from A to B, with
   * the end-of-stream and reset flags B reads), so a send and the recv that takes
   * its bytes are dependent while traffic in the other direction is not. Those
   * that touch a port write its location. Where the result depends on whether the
   * other end (or the listener behind a connection not yet accepted) is still open
   * somewhere, the operation also reads the handle locations of every process that
   * ever held it, since an exit closes a handle without any socket operation.
   */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    const fp: Footprint[] = [{ loc: this.id, write: op.name !== 'getsockname' && op.name !== 'getpeername' && op.name !== 'getsockopt' }];
    const peer = this.peer;
    switch (op.name) {
      case 'bind': {
        const port = op.args[1] as number;
        fp.push({ loc: port === 0 ? 'net:ephemeral' : portLoc(port), write: true });
        for (const s of this.net.everUsers(port)) s.readHolders(fp);
        break;
      }
      case 'listen':
        fp.push({ loc: this.local === null ? 'net:ephemeral' : portLoc(this.local[1]), write: true });
        break;
      case 'accept':
        if (this.local !== null) fp.push({ loc: portLoc(this.local[1]), write: true });
        break;
      case 'connect': {
        const port = op.args[1] as number;
        fp.push({ loc: portLoc(port), write: true });
        if (this.local === null) fp.push({ loc: 'net:ephemeral', write: true });
        for (const s of this.net.everUsers(port)) if (s.everListened) s.readHolders(fp);
        break;
      }
      case 'send':
      case 'sendall':
        if (peer !== null) {
          fp.push({ loc: streamLoc(this, peer), write: true });
          peer.readHolders(fp);
        }
        break;
      case 'recv':
        if (peer !== null) {
          fp.push({ loc: streamLoc(peer, this), write: true });
          peer.readHolders(fp);
        }
        break;
      case 'shutdown':
      case 'close':
        if (peer !== null) {
          fp.push({ loc: streamLoc(this, peer), write: true }, { loc: streamLoc(peer, this), write: true });
        }
        if (op.name === 'close') {
          if (this.local !== null) fp.push({ loc: portLoc(this.local[1]), write: true });
          for (const s of this.pending) if (s.peer !== null) fp.push({ loc: streamLoc(s, s.peer), write: true }, { loc: streamLoc(s.peer, s), write: true });
        }
        break;
      default:
        break;
    }
    return fp;
  }

  /** Reads of the handle locations of everyone whose exit could close this socket. */
  private readHolders(fp: Footprint[]): void {
    for (const p of this.everHeld) fp.push({ loc: p.handleId, write: false });
    // A connection not yet accepted is dropped when its listener closes.
    if (this.listener !== null) for (const p of this.listener.everHeld) fp.push({ loc: p.handleId, write: false });
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    const p = op.proc;
    if (op.name === 'close') {
      this.release(p.owner);
      return undefined;
    }
    if (!this.isOpenFor(p)) throw this.badDescriptor(p, op.name);
    this.hold(p.owner);
    switch (op.name) {
      case 'setsockopt':
        this.options.set(`${op.args[0] as number}:${op.args[1] as number}`, op.args[2] as number);
        return undefined;
      case 'getsockopt':
        return this.options.get(`${op.args[0] as number}:${op.args[1] as number}`) ?? 0;
      case 'bind':
        return this.doBind(op.args[0] as string, op.args[1] as number);
      case 'listen':
        return this.doListen(op.args[0] as number);
      case 'accept':
        return this.doAccept(p);
      case 'connect':
        return this.doConnect(op.args[0] as string, op.args[1] as number);
      case 'send':
      case 'sendall': {
        const n = this.doSend(p, op.name, op.args[0]);
        return op.name === 'send' ? n : undefined;
      }
      case 'recv':
        return this.doRecv(p, op.args[0] as number);
      case 'shutdown':
        return this.doShutdown(op.args[0] as number);
      case 'getsockname':
        return this.local ?? (['0.0.0.0', 0] as Address);
      case 'getpeername':
        if (this.remote === null) throw this.notConnected('getpeername');
        return this.remote;
      default:
        throw new Error(`${this.id}: unknown operation ${op.name}`);
    }
  }

  private doBind(host: string, port: number): undefined {
    if (this.local !== null) {
      throw new OSError(`[Errno 22] Invalid argument (${this.id}.bind(): the socket is already bound to ${fmtAddr(this.local)}; a socket is bound once)`);
    }
    if (!isLocalHost(host, true)) {
      throw new OSError(`[Errno 99] Cannot assign requested address (${this.id}.bind(('${host}', ${port}))): the simulated machine has the one address ${LOCALHOST}; bind to '${LOCALHOST}', 'localhost' or ''`);
    }
    if (port === 0) {
      this.bindTo(host, this.ephemeralPort('bind'));
      return undefined;
    }
    const reuse = (this.options.get(`${SOL_SOCKET}:${SO_REUSEADDR}`) ?? 0) !== 0;
    for (const s of this.net.users(port)) {
      // Linux: SO_REUSEADDR lets a new socket share a port with connected sockets
      // (those a previous server accepted), never with a listening or merely bound one.
      if (reuse && s.peer !== null) continue;
      throw new OSError(
        `[Errno 98] Address already in use (${this.id}.bind(('${host}', ${port}))): ${s.id} ${s.describeUse()}; ` +
          (s.peer !== null && !reuse
            ? 'set SO_REUSEADDR before bind() to reuse a port whose connections are still open, or close them first'
            : 'close that socket first, or bind another port'),
      );
    }
    this.bindTo(host, port);
    return undefined;
  }

  private bindTo(host: string, port: number): void {
    this.local = [host === '' ? '0.0.0.0' : host === 'localhost' ? LOCALHOST : host, port];
    this.net.register(this, port);
  }

  private ephemeralPort(api: string): number {
    const port = this.net.ephemeral();
    if (port === null) throw new OSError(`[Errno 99] Cannot assign requested address (${this.id}.${api}(): every ephemeral port ${EPHEMERAL_BASE}-${EPHEMERAL_LAST} has been used in this run)`);
    return port;
  }

  /** What an open socket is doing with its port, for "Address already in use". */
  private describeUse(): string {
    if (this.listening) return `is listening on ${fmtAddr(this.local)}`;
    if (this.peer !== null) return `is connected on ${fmtAddr(this.local)} to ${fmtAddr(this.remote)} and still open`;
    return `is bound to ${fmtAddr(this.local)}`;
  }

  private doListen(backlog: number): undefined {
    if (this.peer !== null) throw new OSError(`[Errno 22] Invalid argument (${this.id}.listen(): the socket is connected; listen on a fresh socket)`);
    if (this.local === null) this.bindTo('0.0.0.0', this.ephemeralPort('listen'));
    this.listening = true;
    this.everListened = true;
    this.backlog = backlog;
    return undefined;
  }

  /** How many completed connections may wait for accept(). */
  private get capacity(): number {
    return Math.max(1, this.backlog);
  }

  private doAccept(p: SimProcess): [Socket, Address] {
    if (!this.listening) {
      throw new OSError(`[Errno 22] Invalid argument (${this.id}.accept(): the socket is not listening; call bind() and listen() first)`);
    }
    const conn = this.pending.shift()!;
    conn.accepted = true;
    conn.hold(p.owner);
    return [conn, conn.remote!];
  }

  private doConnect(host: string, port: number): undefined {
    if (this.peer !== null) throw new OSError(`[Errno 106] Transport endpoint is already connected (${this.id}.connect(): connected to ${fmtAddr(this.remote)} already)`);
    if (this.listening) throw new OSError(`[Errno 22] Invalid argument (${this.id}.connect(): the socket is listening)`);
    if (!isLocalHost(host, false)) {
      throw new OSError(`[Errno 101] Network is unreachable (${this.id}.connect(('${host}', ${port}))): the simulated network has the one machine ${LOCALHOST}; connect to '${LOCALHOST}' or 'localhost'`);
    }
    const l = this.net.listenerAt(port);
    if (l === null) {
      throw new ConnectionRefusedError(
        `[Errno 111] Connection refused (${this.id}.connect(('${host}', ${port}))): nothing listens on port ${port}; ` +
          'the server must bind() and listen() before clients connect',
      );
    }
    if (this.local === null) this.bindTo(LOCALHOST, this.ephemeralPort('connect'));
    const conn = new Socket(this.kernel, this.net, null, `${l.id}:${++l.connections}`);
    conn.accepted = false;
    conn.listener = l;
    conn.local = [l.local![0] === '0.0.0.0' ? LOCALHOST : l.local![0], port];
    conn.remote = [LOCALHOST, this.local![1]];
    conn.peer = this;
    this.net.register(conn, port);
    this.peer = conn;
    this.remote = [LOCALHOST, port];
    l.pending.push(conn);
    return undefined;
  }

  private doSend(p: SimProcess, api: string, data: unknown): number {
    if (!(data instanceof Uint8Array)) {
      throw new PyTypeError(
        `a bytes-like object is required, not '${pyTypeName(data)}' (${this.id}.${api}(): encode text first, e.g. ${api}(encode(msg)))`,
      );
    }
    const peer = this.peer;
    if (peer === null) throw this.notConnected(api);
    this.raiseReset(api);
    if (this.wrShut) throw new BrokenPipeError(`[Errno 32] Broken pipe (${this.id}.${api}() after shutdown(SHUT_WR) on this socket)`);
    if (this.dead) throw new BrokenPipeError(`[Errno 32] Broken pipe (${this.id}.${api}(): the connection to ${fmtAddr(this.remote)} was reset)`);
    const bytes = Bytes.copyOf(data);
    if (bytes.length === 0) return 0;
    const msg = this.kernel.send(p, this.id, bytes);
    if (peer.closed) {
      // Closed on the other side: the bytes go nowhere, and its reset reaches this side
      // before anything else can happen here (Linux reports it at the next call).
      this.reset(`${peer.id} was already closed when ${this.id} sent to it`);
      return bytes.length;
    }
    peer.rx.push({ data: bytes, off: 0, msg });
    peer.rxBytes += bytes.length;
    return bytes.length;
  }

  private doRecv(p: SimProcess, bufsize: number): Bytes {
    if (bufsize < 0) throw new ValueError(`negative buffersize in recv (${this.id}.recv(${bufsize}))`);
    if (this.peer === null) throw this.notConnected('recv');
    if (bufsize === 0) return new Bytes(0);
    if (this.rxBytes === 0) {
      this.raiseReset('recv');
      return new Bytes(0);
    }
    const n = Math.min(bufsize, this.rxBytes);
    const out = new Bytes(n);
    let at = 0;
    while (at < n) {
      const c = this.rx[0]!;
      const take = Math.min(n - at, c.data.length - c.off);
      const part = c.data.subarray(c.off, c.off + take);
      out.set(part, at);
      this.kernel.receive(p, this.id, c.msg, Bytes.copyOf(part));
      at += take;
      c.off += take;
      if (c.off === c.data.length) this.rx.shift();
    }
    this.rxBytes -= n;
    return out;
  }

  private doShutdown(how: number): undefined {
    const peer = this.peer;
    if (peer === null) throw this.notConnected('shutdown');
    if (how !== SHUT_WR) this.rdShut = true;
    if (how !== SHUT_RD && !this.wrShut) {
      this.wrShut = true;
      peer.finReceived = true;
    }
    return undefined;
  }

  private notConnected(api: string): OSError {
    return new OSError(
      `[Errno 107] Transport endpoint is not connected (${this.id}.${api}(): ` +
        (this.listening ? 'a listening socket only accepts; use the socket accept() returns)' : 'connect() it first, or use the socket accept() returns)'),
    );
  }

  private badDescriptor(p: SimProcess, api: string): OSError {
    const why = this.letGo.has(p.owner) ? `${p.owner.label} closed it before` : `it is closed in every process`;
    return new OSError(`[Errno 9] Bad file descriptor (${this.id}.${api}() in ${p.owner.label}: ${why}; a closed socket cannot be used again)`);
  }

  /** @internal */
  override waitInfo(op: Op<unknown>): WaitInfo {
    switch (op.name) {
      case 'accept':
        return { waitsOn: `waiting in accept() on ${fmtAddr(this.local)}: no client connection is pending`, heldBy: [] };
      case 'connect': {
        const l = this.net.listenerAt(op.args[1] as number);
        const holders = l === null ? [] : [...l.holders];
        return {
          waitsOn:
            `waiting in connect() to ${op.args[0] as string}:${op.args[1] as number}: the backlog of ${l?.id ?? '?'} is full ` +
            `(${l?.pending.length ?? 0} connections not accepted yet); it is held by ${labels(holders)}, which must accept()`,
          heldBy: holders.map((h) => h.pid),
        };
      }
      case 'recv': {
        const peer = this.peer!;
        const where = `waiting in recv() on ${fmtAddr(this.local)} (connected to ${fmtAddr(this.remote)})`;
        if (!peer.accepted && peer.listener !== null) {
          const holders = [...peer.listener.holders];
          return {
            waitsOn: `${where}: no data, and the server has not accepted this connection yet (${peer.listener.id} is held by ${labels(holders)})`,
            heldBy: holders.map((h) => h.pid),
          };
        }
        const holders = [...peer.holders];
        return {
          waitsOn: `${where}: no data, and the other end ${peer.id} is still open in ${labels(holders)} (recv() returns b'' once it is closed or shut down for writing)`,
          heldBy: holders.map((h) => h.pid),
        };
      }
      default:
        return super.waitInfo(op);
    }
  }
}

function streamLoc(from: Socket, to: Socket): string {
  return `${from.id}>${to.id}`;
}

function labels(ps: readonly SimProcess[]): string {
  return ps.length === 0 ? 'no process' : ps.map((p) => p.label).join(', ');
}

function isLocalHost(host: string, binding: boolean): boolean {
  return host === LOCALHOST || host === 'localhost' || (binding && (host === '' || host === '0.0.0.0'));
}

function pyTypeName(v: unknown): string {
  if (typeof v === 'string') return 'str';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (v === null || v === undefined) return 'NoneType';
  if (Array.isArray(v)) return 'list';
  return typeof v === 'object' ? 'dict' : typeof v;
}

function addressArg(api: string, address: unknown): [string, number] {
  if (!Array.isArray(address) || address.length !== 2 || typeof address[0] !== 'string') {
    throw misuse('INVALID_ARGUMENT', `${api}: address must be a [host, port] pair, got ${show(address)}.`, "pass e.g. ['127.0.0.1', 8080] (Python's ('127.0.0.1', 8080)).");
  }
  const port: unknown = address[1];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw misuse('INVALID_ARGUMENT', `${api}: port must be an integer in 0-65535, got ${show(port)}.`, "pass e.g. ['127.0.0.1', 8080].");
  }
  return [address[0], port];
}

function optionName(api: string, level: unknown, optname: unknown): string {
  const name = KNOWN_OPTIONS.get(`${String(level)}:${String(optname)}`);
  if (name === undefined) {
    throw misuse(
      'INVALID_ARGUMENT',
      `${api}: option (level ${show(level)}, optname ${show(optname)}) is not modelled.`,
      'use SOL_SOCKET with SO_REUSEADDR or SO_KEEPALIVE, or IPPROTO_TCP with TCP_NODELAY; other options have no simulated meaning.',
    );
  }
  return name;
}

// --------------------------------------------------------------------- module

/**
 * Python's `socket` module over the simulated network: callable as `socket(...)`
 * (`from socket import *`) and as `socket.socket(...)` (`import socket`), with the
 * constants of both spellings. Creating a socket is not an operation.
 *
 * @example
 * ```ts
 * program(async ({ socket }) => {
 *   const { AF_INET, SOCK_STREAM } = socket;
 *   const client = socket(AF_INET, SOCK_STREAM);     // client = socket(AF_INET, SOCK_STREAM)
 *   await client.connect(['127.0.0.1', 8080]);       // client.connect(('127.0.0.1', 8080))
 * });
 * ```
 */
export interface SocketModule {
  /** `socket(family=AF_INET, type=SOCK_STREAM)`: a new TCP socket, held by the calling process. */
  (family?: number, type?: number): Socket;
  /** `socket.socket(family=AF_INET, type=SOCK_STREAM)`: the same. */
  socket(family?: number, type?: number): Socket;
  readonly AF_INET: typeof AF_INET;
  readonly SOCK_STREAM: typeof SOCK_STREAM;
  readonly SOL_SOCKET: typeof SOL_SOCKET;
  readonly SO_REUSEADDR: typeof SO_REUSEADDR;
  readonly SO_KEEPALIVE: typeof SO_KEEPALIVE;
  readonly IPPROTO_TCP: typeof IPPROTO_TCP;
  readonly TCP_NODELAY: typeof TCP_NODELAY;
  readonly SHUT_RD: typeof SHUT_RD;
  readonly SHUT_WR: typeof SHUT_WR;
  readonly SHUT_RDWR: typeof SHUT_RDWR;
  readonly SOMAXCONN: typeof SOMAXCONN;
}

/** @internal Build the socket module of one run (every run's world has one, most never use it: keep it cheap). */
export function createSocketModule(k: Kernel, current: (api: string) => SimProcess): SocketModule {
  let net: Network | null = null;
  const make = (family: number = AF_INET, type: number = SOCK_STREAM): Socket => {
    const p = current('socket()');
    if (family !== AF_INET || type !== SOCK_STREAM) {
      throw misuse(
        'INVALID_ARGUMENT',
        `socket(family, type): only TCP over IPv4 is modelled (AF_INET, SOCK_STREAM), got family ${show(family)}, type ${show(type)}.`,
        'use socket(AF_INET, SOCK_STREAM), or socket() for the same.',
      );
    }
    return new Socket(k, (net ??= new Network()), p.owner);
  };
  // One assignment each, not Object.assign of a literal: a quarter of the cost, in
  // the same order (so the same keys, in the same order, as before).
  const mod = ((family?: number, type?: number) => make(family, type)) as ((family?: number, type?: number) => Socket) & Writable<SocketModule>;
  mod.socket = make;
  mod.AF_INET = AF_INET;
  mod.SOCK_STREAM = SOCK_STREAM;
  mod.SOL_SOCKET = SOL_SOCKET;
  mod.SO_REUSEADDR = SO_REUSEADDR;
  mod.SO_KEEPALIVE = SO_KEEPALIVE;
  mod.IPPROTO_TCP = IPPROTO_TCP;
  mod.TCP_NODELAY = TCP_NODELAY;
  mod.SHUT_RD = SHUT_RD;
  mod.SHUT_WR = SHUT_WR;
  mod.SHUT_RDWR = SHUT_RDWR;
  mod.SOMAXCONN = SOMAXCONN;
  return mod;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };
