import { show } from '../args.js';
import { FileNotFoundError, PyTypeError, misuse } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { NEXT_PHASE, SimObject, type Footprint, type Op } from '../op.js';
import type { SimProcess } from '../process-state.js';
import { formatPython } from '../python-format.js';
import { pyJsonDumps, pyJsonLoads } from '../pyjson.js';

/*
 * A simulated file system shared by every process of a run: the course's programs
 * share data through a file (`ticket`) before they meet queues and shared memory.
 *
 * How it is modelled. Files are a flat map from path to text: no directories, no
 * path normalisation ('ticket' and './ticket' are different files), no permissions.
 * The initial files come from the program (`program(body, { files })`), so every
 * run starts from the same disk. Each access is a scheduling point and records an
 * access event on `file:<path>`, never atomic: file I/O is not protected by
 * anything, which is the point of the course's 购票 (buy-ticket) program.
 *
 * A read (`with open(p) as f: f.read()`) is one step. A write (`with open(p, 'w')
 * as f: f.write(text)`) is two: `open(p, 'w')` truncates the file at once, and the
 * text lands when the file is closed. A process that reads between the two steps
 * sees an empty file — and `json.load` on it raises JSONDecodeError, as in Python.
 */

/** The initial files of a program: path → text. */
export type InitialFiles = Readonly<Record<string, string>>;

/** @internal Validate `program(body, { files })`. */
export function checkInitialFiles(files: unknown): InitialFiles {
  if (typeof files !== 'object' || files === null || Array.isArray(files) || files instanceof Map) {
    throw misuse('INVALID_ARGUMENT', `program(body, { files }): files must be a plain object of path → text, got ${show(files)}.`, "pass e.g. `{ files: { ticket: '{\"count\": 1}' } }`.");
  }
  const out: Record<string, string> = {};
  for (const [path, text] of Object.entries(files)) {
    if (typeof text !== 'string') {
      throw misuse('INVALID_ARGUMENT', `program(body, { files }): the content of ${JSON.stringify(path)} must be a string, got ${show(text)}.`, 'give file contents as text; use JSON.stringify(value) for JSON.');
    }
    out[path] = text;
  }
  return Object.freeze(out);
}

const NO_FILES: InitialFiles = Object.freeze({});

/**
 * The simulated disk of one run, the `fs` module of a program body. Every method is
 * an operation: `await` it (or `yield*` it in a generator process).
 *
 * @example
 * ```ts
 * const buy = program(async ({ fs }) => {
 *   const t = await fs.readJson<{ count: number }>('ticket');  // 1 step
 *   t.count -= 1;
 *   await fs.writeJson('ticket', t);                            // 2 steps: truncate, write
 * }, { files: { ticket: '{"count": 1}' } });
 * ```
 */
export class FileSystem extends SimObject {
  /** The disk, built at the first file operation: every run has an `fs`, few use it. */
  private disk: Map<string, string> | null = null;

  /** @internal Created with the world of a run. */
  constructor(
    kernel: Kernel,
    private readonly initial: InitialFiles = NO_FILES,
  ) {
    super(kernel, 'fs', true);
  }

  private get files(): Map<string, string> {
    return (this.disk ??= new Map(Object.entries(this.initial)));
  }

  /** `open(path).read()`: the file's text. Raises FileNotFoundError. One step. */
  readText(path: string): Op<string> {
    return this.fileOp('readText', path, []);
  }

  /**
   * `with open(path, 'w') as f: f.write(text)`: creates or replaces the file. Two
   * steps: the truncation, then the text (a reader in between sees `''`).
   */
  writeText(path: string, text: string): Op<void> {
    return this.fileOp('writeText', path, [text]);
  }

  /**
   * `json.load(open(path))`: the parsed content (a fresh copy each time). Raises
   * FileNotFoundError, or JSONDecodeError with Python's message for bad or empty
   * text. One step.
   */
  readJson<T = unknown>(path: string): Op<T> {
    return this.fileOp('readJson', path, []);
  }

  /**
   * `with open(path, 'w') as f: json.dump(value, f)`: writes the text Python would,
   * e.g. `{"count": 0}`. Two steps, like {@link writeText}. A value JSON cannot
   * hold raises TypeError at the second step — after the truncation, so the file is
   * left empty, as Python leaves it.
   */
  writeJson(path: string, value: unknown): Op<void> {
    return this.fileOp('writeJson', path, [value]);
  }

  /** `os.path.exists(path)`. One step: the answer may be stale by the next one (check-then-act). */
  exists(path: string): Op<boolean> {
    return this.fileOp('exists', path, []);
  }

  /** `os.remove(path)`. Raises FileNotFoundError. One step. */
  remove(path: string): Op<void> {
    return this.fileOp('remove', path, []);
  }

  private fileOp<R>(name: string, path: unknown, rest: readonly unknown[]): Op<R> {
    if (typeof path !== 'string') {
      throw misuse('INVALID_ARGUMENT', `fs.${name}(path): path must be a string, got ${show(path)}.`, "pass a file name such as 'ticket'.");
    }
    return this.op<R>(name, [path, ...rest]);
  }

  /** @internal Reads read the file's location, writes (both steps) write it. */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    const write = op.name === 'writeText' || op.name === 'writeJson' || op.name === 'remove';
    return [{ loc: loc(op.args[0] as string), write }];
  }

  /** @internal File operations never block. */
  ready(): boolean {
    return true;
  }

  /** @internal */
  perform(op: Op<unknown>): unknown {
    const p = op.proc;
    const path = op.args[0] as string;
    switch (op.name) {
      case 'readText':
        return this.read(p, path);
      case 'readJson':
        // The error is raised at this step, as json.load raises right after reading.
        return pyJsonLoads(this.read(p, path));
      case 'exists': {
        const found = this.files.has(path);
        // The value recorded is what was observed: whether the file exists.
        this.access(p, path, 'read', found);
        return found;
      }
      case 'remove':
        if (!this.files.has(path)) {
          this.access(p, path, 'read', undefined);
          throw notFound(path);
        }
        this.files.delete(path);
        this.access(p, path, 'write', undefined);
        return undefined;
      case 'writeText':
      case 'writeJson': {
        if (op.phase === 0) {
          // open(path, 'w'): the file exists, empty, from now on.
          if (path === '') throw notFound(path);
          this.files.set(path, '');
          this.access(p, path, 'write', '');
          return NEXT_PHASE;
        }
        const text = op.name === 'writeJson' ? pyJsonDumps(op.args[1]) : textArg(op.args[1]);
        this.files.set(path, text);
        this.access(p, path, 'write', text);
        return undefined;
      }
      default:
        throw new Error(`fs: unknown operation ${op.name}`);
    }
  }

  /** The text of `path`, recorded as a read; a missing file is recorded as read `undefined`, then raises. */
  private read(p: SimProcess, path: string): string {
    const text = this.files.get(path);
    this.access(p, path, 'read', text);
    if (text === undefined) throw notFound(path);
    return text;
  }

  private access(p: SimProcess, path: string, kind: 'read' | 'write', value: unknown): void {
    // Never atomic: nothing serialises file I/O between processes.
    this.kernel.access(p, this.id, loc(path), kind, value, false);
  }
}

function loc(path: string): string {
  return `file:${path}`;
}

function notFound(path: string): FileNotFoundError {
  return new FileNotFoundError(path, `[Errno 2] No such file or directory: ${formatPython(path, true)}`);
}

/** `f.write(x)` accepts only str. */
function textArg(v: unknown): string {
  if (typeof v === 'string') return v;
  const type = typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : v === null || v === undefined ? 'NoneType' : Array.isArray(v) ? 'list' : typeof v === 'boolean' ? 'bool' : typeof v === 'object' ? 'dict' : typeof v;
  throw new PyTypeError(`write() argument must be str, not ${type}`);
}
