import type { Op } from './op.js';
import type { Rng } from './rng.js';
import type { Process } from './primitives/process.js';

/** A process as strategies and monitors see it: read-only. */
export interface ProcessView {
  readonly pid: number;
  readonly name: string;
  /** The operation it will perform when scheduled (null only while it runs). */
  readonly pending: Op<unknown> | null;
}

/** The kernel's record of one live or finished process. */
export class SimProcess implements ProcessView {
  readonly pid: number;
  readonly name: string;
  readonly daemon: boolean;
  readonly parent: SimProcess | null;
  /** The user's handle; the main process has one too (`mp.currentProcess()`). */
  readonly handle: Process;
  /** Python's `_identity`: (1,) for Process-1, (1, 2) for its second child. */
  readonly identity: readonly number[];
  readonly children: SimProcess[] = [];
  /** Runs the body; called once, at the process's first step. */
  readonly body: () => unknown;

  started = false;
  /** The user's code has returned or thrown; the process may still wait for children. */
  bodyEnded = false;
  done = false;
  exitcode: number | null = null;
  /** Exit code decided when the body ended, applied once children are waited for. */
  exitStatus = 0;
  error: unknown = undefined;
  pending: Op<unknown> | null = null;
  gen: Generator<unknown, unknown, unknown> | null = null;
  resolve: ((v: unknown) => unknown) | null = null;
  reject: ((e: unknown) => unknown) | null = null;
  /** Last block/wake state reported, so each transition is traced once. */
  blocked = false;
  steps = 0;
  childCount = 0;
  rng: Rng | null = null;

  constructor(
    pid: number,
    name: string,
    daemon: boolean,
    parent: SimProcess | null,
    handle: Process,
    identity: readonly number[],
    body: () => unknown,
  ) {
    this.pid = pid;
    this.name = name;
    this.daemon = daemon;
    this.parent = parent;
    this.handle = handle;
    this.identity = identity;
    this.body = body;
  }

  /** `Process-2 (pid 1002)` */
  get label(): string {
    return `${this.name} (pid ${this.pid})`;
  }
}
