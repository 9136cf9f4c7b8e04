/**
 * The choices a run made: the pid picked at every step where more than one process
 * could run (forced steps are not recorded; replay follows them by itself). Stored
 * as LEB128 varints of `pid - 1000` in a growable byte buffer, so recording costs
 * about one byte per choice and no object per step.
 *
 * @example
 * ```ts
 * const r = await run(prog, { seed: 7 });
 * r.schedule.length;      // number of real choices
 * [...r.schedule];        // [1001, 1002, 1001, ...]
 * ```
 */
export class Schedule implements Iterable<number> {
  private bytes: Uint8Array;
  private size = 0;
  private count = 0;
  private lastAt = 0;

  constructor(pids: Iterable<number> = []) {
    this.bytes = new Uint8Array(64);
    for (const pid of pids) this.push(pid);
  }

  /** Number of recorded choices. */
  get length(): number {
    return this.count;
  }

  /** @internal Where the latest choice's encoding starts (see {@link forEachIn}). */
  get lastChoiceAt(): number {
    return this.lastAt;
  }

  /** @internal Each of `n` choices recorded from byte `from` on. */
  forEachIn(from: number, n: number, visit: (pid: number) => void): void {
    let i = from;
    for (let k = 0; k < n; k++) {
      visit(this.pidAt(i));
      i = this.after;
    }
  }

  /** Where the varint {@link pidAt} read last ends: its second result, kept here so that reading allocates nothing. */
  private after = 0;

  /** The pid whose varint starts at byte `i`; sets {@link after}. */
  private pidAt(i: number): number {
    const b = this.bytes;
    let v = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = b[i++] ?? 0;
      v |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    this.after = i;
    return v + PID_BASE;
  }

  /** @internal Append a choice. */
  push(pid: number): void {
    let v = pid - PID_BASE;
    if (v < 0 || !Number.isInteger(v)) throw new RangeError(`Schedule: pid ${pid} is not a simulated pid (>= ${PID_BASE})`);
    if (this.size + 5 > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.lastAt = this.size;
    while (v >= 0x80) {
      this.bytes[this.size++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.bytes[this.size++] = v;
    this.count++;
  }

  /** The choices, decoded as they are read: a long schedule is not copied into an array. */
  *[Symbol.iterator](): Iterator<number> {
    let i = 0;
    for (let k = 0; k < this.count; k++) {
      const pid = this.pidAt(i);
      i = this.after;
      yield pid;
    }
  }

  /** The choices as pids. */
  toArray(): number[] {
    const pids: number[] = [];
    this.forEachIn(0, this.count, (pid) => pids.push(pid));
    return pids;
  }

  /** Rebuild a schedule from {@link toBytes}. Throws RangeError on a truncated encoding. */
  static fromBytes(bytes: Uint8Array): Schedule {
    const s = new Schedule();
    let i = 0;
    while (i < bytes.length) {
      let v = 0;
      let shift = 0;
      let byte: number;
      do {
        if (i >= bytes.length || shift > 28) throw new RangeError('Schedule.fromBytes: truncated or oversized varint');
        byte = bytes[i++]!;
        v |= (byte & 0x7f) << shift;
        shift += 7;
      } while (byte & 0x80);
      s.push(v + PID_BASE);
    }
    return s;
  }

  /** The raw encoding (pid - 1000 as varints): what replay tokens carry. */
  toBytes(): Uint8Array {
    return this.bytes.slice(0, this.size);
  }
}

/** The main process's pid; children count up from here. */
export const PID_BASE = 1000;

/** Background threads (queue feeders, pool result handlers) are scheduled under ids from here. */
export const THREAD_BASE = 100_000;
