import { show } from '../args.js';
import { misuse } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { SimObject, type Footprint, type Op } from '../op.js';
import { formatPython } from '../python-format.js';

/** The clock: `time.sleep` operations wait on it. */
export class Clock extends SimObject {
  /** @internal */
  constructor(kernel: Kernel) {
    super(kernel, 'time', true);
  }

  /** Sleep `seconds` of virtual time (timed mode), or just yield (untimed mode). */
  sleep(seconds: number): Op<void> {
    if (typeof seconds !== 'number' || Number.isNaN(seconds)) {
      throw misuse('INVALID_ARGUMENT', `time.sleep(seconds): seconds must be a number, got ${show(seconds)}.`, 'pass a number of virtual seconds, e.g. `time.sleep(0.5)`.');
    }
    if (seconds < 0) throw misuseNegative();
    const k = this.kernel;
    return this.op('sleep', [seconds], k.config.timed ? k.now + seconds : k.now);
  }

  /** @internal A sleep touches nothing shared. */
  override footprint(): readonly Footprint[] {
    return [];
  }

  /** @internal Sleeping is waiting for the deadline only. */
  ready(op: Op<unknown>): boolean {
    return this.kernel.now >= op.deadline;
  }
  /** @internal */
  perform(): unknown {
    return undefined;
  }
}

function misuseNegative(): Error {
  return misuse('INVALID_ARGUMENT', 'time.sleep(seconds): sleep length must be non-negative.', 'pass 0 or a positive number of virtual seconds.');
}

/** Standard output: each print is an operation, so output order is part of the schedule. */
export class Stdout extends SimObject {
  /** @internal */
  constructor(kernel: Kernel) {
    super(kernel, 'stdout', true);
  }

  /**
   * Print values as Python's `print` would (`str` of each, joined by a space). They
   * are formatted when the step runs, so printing a shared object (a Manager proxy)
   * shows its state at that step.
   */
  print(values: readonly unknown[]): Op<void> {
    return this.op('print', values);
  }

  /** @internal */
  ready(): boolean {
    return true;
  }
  /**
   * @internal Printing writes stdout and reads every simulated object among the
   * values (a Manager proxy prints its shared state at this step), so exploration
   * must order it against writes of those objects. Objects stored inside a proxy
   * are not followed.
   */
  override footprint(op: Op<unknown>): readonly Footprint[] {
    const fp: Footprint[] = [{ loc: this.id, write: true }];
    for (const id of objectIds(op.args, new Set())) fp.push({ loc: id, write: false });
    return fp;
  }
  /** @internal */
  perform(op: Op<unknown>): unknown {
    const k = this.kernel;
    // A shared object formatted now reads its state in this step (Kernel.printing).
    k.printing = op.proc;
    let text: string;
    try {
      text = op.args.map((v) => formatPython(v, false)).join(' ');
    } finally {
      k.printing = null;
    }
    k.write(op.proc, 'stdout', text);
    return undefined;
  }
}

/** Ids of the simulated objects in printed values, looking through arrays, Maps, Sets and plain objects. */
function objectIds(values: Iterable<unknown>, seen: Set<unknown>): Set<string> {
  const ids = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (v instanceof SimObject) ids.add(v.id);
    else if (Array.isArray(v) || v instanceof Set) for (const x of v as Iterable<unknown>) visit(x);
    else if (v instanceof Map) {
      for (const [k, x] of v) {
        visit(k);
        visit(x);
      }
    } else for (const x of Object.values(v)) visit(x);
  };
  for (const v of values) visit(v);
  return ids;
}
