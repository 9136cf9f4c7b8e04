import { PID_BASE, Schedule, SimulationError, type Program, type RunOptions, type RunResult } from '@interleave/core';

/** What a replay token carries: enough to re-run one execution exactly. */
export interface TokenContents {
  /** Name of the program it was recorded from (checked by hash on replay). */
  readonly program: string;
  readonly seed: string;
  readonly timing: 'timed' | 'untimed';
  readonly queueFeeder: boolean;
  readonly cpuCount: number;
  readonly maxSteps: number;
  /** Virtual seconds per process creation (the run option `spawnCost`); 0 when absent. */
  readonly spawnCost: number;
  readonly schedule: Schedule;
}

const PREFIX = 'il1.';
/** Version 2: version 1 with the schedule run-length encoded; written only when that halves it. */
const RUNS_PREFIX = 'il2.';

/**
 * Encode a run as a replay token: `il1.` + base64url of the program's name hash, the
 * options that shape a run, the seed, the schedule, and a checksum. Short, printable,
 * versioned and self-checking. A schedule with long runs of one process (a spin
 * loop, a run cut at `maxSteps`) is written run-length encoded, as `il2.`, when it
 * is at least 64 bytes long and that halves it: a million choices of one pid take
 * a few bytes, not a megabyte. Every other token is exactly what earlier versions
 * wrote.
 *
 * @example
 * ```ts
 * const token = encodeToken(result, program, options); // 'il1.AbC…'
 * const again = await replay(program, token);
 * ```
 */
export function encodeToken(result: Pick<RunResult, 'seed' | 'timing' | 'schedule'>, prog: Program, options: RunOptions = {}): string {
  return encodeContents({
    program: prog.name,
    seed: result.seed,
    timing: result.timing,
    queueFeeder: options.queueFeeder ?? true,
    cpuCount: options.cpuCount ?? 4,
    maxSteps: options.maxSteps ?? 1_000_000,
    spawnCost: options.spawnCost ?? 0,
    schedule: result.schedule,
  });
}

function encodeContents(c: TokenContents): string {
  const out: number[] = [];
  pushU32(out, nameHash(c.program));
  // Flag 4: a spawnCost follows maxSteps (a float64), so tokens of runs without one are unchanged.
  out.push((c.timing === 'untimed' ? 1 : 0) | (c.queueFeeder ? 0 : 2) | (c.spawnCost !== 0 ? 4 : 0));
  pushVarint(out, c.cpuCount);
  pushVarint(out, c.maxSteps);
  if (c.spawnCost !== 0) {
    const f = new DataView(new ArrayBuffer(8));
    f.setFloat64(0, c.spawnCost);
    for (let i = 0; i < 8; i++) out.push(f.getUint8(i));
  }
  pushBytes(out, utf8(c.seed), true);
  const plain = c.schedule.toBytes();
  const runs = plain.length < RUNS_FROM ? null : runLengths(c.schedule, plain.length / 2);
  pushBytes(out, runs ?? plain, false);
  pushU32(out, checksum(out, runs === null ? 1 : 2));
  return (runs === null ? PREFIX : RUNS_PREFIX) + Buffer.from(out).toString('base64url');
}

/** Schedules shorter than this many bytes are always written plainly: ordinary tokens keep version 1. */
const RUNS_FROM = 64;

/**
 * A token's checksum: of its bytes, and for version 2 of its version too, so that
 * changing `il2.` into `il1.` (or back) is caught as corruption, not read as
 * another schedule. Version 1 checksums are what they always were.
 */
function checksum(body: ArrayLike<number>, version: 1 | 2): number {
  return fnv1a(body, version === 1 ? FNV_OFFSET : fnv1a([version]));
}

/**
 * The schedule as (pid − 1000, run length) varint pairs, or null when that takes
 * `limit` bytes or more. (Half the plain encoding: a token changes version only
 * where it gains much, so the tokens of ordinary runs stay as they were.)
 */
function runLengths(schedule: Schedule, limit: number): Uint8Array | null {
  const out: number[] = [];
  let pid = -1;
  let length = 0;
  const flush = (): void => {
    if (length === 0) return;
    pushVarint(out, pid - PID_BASE);
    pushVarint(out, length);
  };
  for (const p of schedule) {
    if (p === pid) {
      length++;
      continue;
    }
    flush();
    // Past the limit: the plain encoding is kept, stop counting.
    if (out.length >= limit) return null;
    pid = p;
    length = 1;
  }
  flush();
  return out.length < limit ? Uint8Array.from(out) : null;
}

/**
 * Decode {@link runLengths}' pairs; null when they are cut short, malformed (a varint
 * over 31 bits, an empty run) or hold more choices than a run of `maxSteps` can make.
 */
function fromRunLengths(bytes: Uint8Array, maxSteps: number): Schedule | null {
  let total = 0;
  const schedule = new Schedule();
  const r = new VarintReader(bytes, 0);
  const varint = (): number | null => {
    const v = r.next(5);
    return v !== null && v < 2 ** 31 ? v : null;
  };
  while (r.at < bytes.length) {
    const pid = varint();
    const length = varint();
    if (pid === null || length === null || length === 0 || (total += length) > maxSteps) return null;
    for (let k = 0; k < length; k++) schedule.push(pid + PID_BASE);
  }
  return schedule;
}

/** Reads LEB128 varints from `bytes`, `at` on. */
class VarintReader {
  constructor(
    private readonly bytes: Uint8Array,
    public at: number,
  ) {}

  /** The next varint, or null when the bytes end first or it takes more than `maxBytes`. */
  next(maxBytes: number): number | null {
    let v = 0;
    for (let k = 0; k < maxBytes && this.at < this.bytes.length; k++) {
      const byte = this.bytes[this.at++]!;
      v += (byte & 0x7f) * 2 ** (7 * k);
      if ((byte & 0x80) === 0) return v;
    }
    return null;
  }
}

/** The hash of a program's name that a token starts with; a hunt's tokens all need the same one. */
function nameHash(name: string): number {
  if (name !== lastName) {
    lastName = name;
    lastHash = fnv1a(utf8(name));
  }
  return lastHash;
}
let lastName: string | undefined;
let lastHash = 0;

/** Append `bytes` (after their length as a varint if `counted`): a loop, not `push(...)`, which spreads onto the stack. */
function pushBytes(out: number[], bytes: Uint8Array, counted: boolean): void {
  if (counted) pushVarint(out, bytes.length);
  for (let i = 0; i < bytes.length; i++) out.push(bytes[i]!);
}

/**
 * Decode and check a token for `prog`. Throws a SimulationError (code
 * `BAD_TOKEN`) saying what is wrong: not a token, another version, corrupted, or
 * recorded from another program.
 */
export function decodeToken(token: string, prog: Program): Omit<TokenContents, 'program'> {
  const bad = (what: string): SimulationError =>
    new SimulationError(
      'BAD_TOKEN',
      `replay(${prog.name}, token): ${what}\n  How to fix: paste the whole token exactly as the failure report printed it (it starts with "${PREFIX}" or "${RUNS_PREFIX}").`,
    );
  if (typeof token !== 'string') throw bad(`expected a string token, got ${typeof token}.`);
  const version = /^il(\d+)\./.exec(token);
  if (version !== null && version[1] !== '1' && version[1] !== '2') {
    throw bad(`this token has format version ${version[1]}, but this version of Interleave reads versions 1 and 2.`);
  }
  const runLength = token.startsWith(RUNS_PREFIX);
  if (!(runLength || token.startsWith(PREFIX)) || !/^[A-Za-z0-9_-]+$/.test(token.slice(PREFIX.length))) {
    throw bad(`"${token.length > 40 ? token.slice(0, 40) + '…' : token}" is not a replay token (expected ${PREFIX} followed by base64url).`);
  }
  const bytes = Uint8Array.from(Buffer.from(token.slice(PREFIX.length), 'base64url'));
  if (bytes.length < 12) throw bad('the token is truncated.');
  const body = bytes.subarray(0, bytes.length - 4);
  if (readU32(bytes, bytes.length - 4) !== checksum(body, runLength ? 2 : 1)) throw bad('the token is corrupted (its checksum does not match); part of it was lost or changed.');
  if (readU32(body, 0) !== fnv1a(utf8(prog.name))) {
    throw bad(`the token was recorded from another program, not "${prog.name}" (program names differ).`);
  }
  const flags = body[4]!;
  const r = new VarintReader(body, 5);
  const varint = (): number => {
    const v = r.next(8);
    if (v === null) throw bad('the token is truncated.');
    return v;
  };
  const cpuCount = varint();
  const maxSteps = varint();
  let spawnCost = 0;
  if (flags & 4) {
    if (r.at + 8 > body.length) throw bad('the token is truncated.');
    spawnCost = new DataView(body.buffer, body.byteOffset + r.at, 8).getFloat64(0);
    r.at += 8;
  }
  const seedLength = varint();
  if (r.at + seedLength > body.length) throw bad('the token is truncated.');
  const seed = Buffer.from(body.subarray(r.at, r.at + seedLength)).toString('utf8');
  const rest = body.subarray(r.at + seedLength);
  let schedule: Schedule | null;
  try {
    schedule = runLength ? fromRunLengths(rest, maxSteps) : Schedule.fromBytes(rest);
  } catch {
    schedule = null;
  }
  if (schedule === null) throw bad(runLength ? 'the token is truncated or corrupted (its schedule does not decode).' : 'the token is truncated.');
  return { seed, timing: flags & 1 ? 'untimed' : 'timed', queueFeeder: (flags & 2) === 0, cpuCount, maxSteps, spawnCost, schedule };
}

function utf8(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}

const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a of `bytes`, continuing from `h` (the hash of what came before them). */
function fnv1a(bytes: ArrayLike<number>, h = FNV_OFFSET): number {
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function pushU32(out: number[], v: number): void {
  out.push(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function pushVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}
