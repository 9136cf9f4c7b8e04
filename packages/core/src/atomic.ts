import { show } from './args.js';
import { misuse } from './errors.js';
import type { Kernel } from './kernel.js';
import { bodyResult, bodyStyle, type GenOf } from './generators.js';
import type { SimProcess } from './process-state.js';


/** `world.atomic`, both forms: the generator one for generator processes, the async one otherwise. */
export interface AtomicBlock {
  <R>(label: string, body: () => GenOf<R>): GenOf<R>;
  <R>(label: string, body: () => Promise<R> | R): Promise<R>;
}

const API = 'atomic(label, body)';

/**
 * `world.atomic` for the kernel `k`. The block is marked in the trace by an
 * `atomic-begin` and an `atomic-end` event of the running process; nothing else
 * happens (no step, no lock), so a program behaves the same with or without it.
 */
export function atomicBlock(k: Kernel): AtomicBlock {
  function atomic<R>(label: string, body: () => GenOf<R> | Promise<R> | R): GenOf<R> | Promise<R> {
    const p = k.requireCurrent(API);
    if (typeof label !== 'string' || label === '') {
      throw misuse('INVALID_ARGUMENT', `${API}: label must be a non-empty string, got ${show(label)}.`, "name what the block does, e.g. `atomic('withdraw', ...)`: reports use it.");
    }
    if (typeof body !== 'function') {
      throw misuse('INVALID_ARGUMENT', `${API}: body must be a function, got ${show(body)}.`, "pass the block as a function: `await atomic('withdraw', async () => { ... })`.");
    }
    // As withLock: a generator process needs a generator back, whatever the body looks like.
    if (bodyStyle(API, body, p.gen !== null) === 'generator') return atomicGen(k, p, label, body as () => GenOf<R> | R);
    return atomicAsync(k, p, label, body as () => Promise<R> | R);
  }
  return atomic as AtomicBlock;
}

async function atomicAsync<R>(k: Kernel, p: SimProcess, label: string, body: () => Promise<R> | R): Promise<R> {
  k.markAtomic(p, 'atomic-begin', label);
  try {
    return await body();
  } finally {
    k.markAtomic(p, 'atomic-end', label);
  }
}

function* atomicGen<R>(k: Kernel, p: SimProcess, label: string, body: () => GenOf<R> | R): GenOf<R> {
  k.markAtomic(p, 'atomic-begin', label);
  try {
    return yield* bodyResult<R>(API, body());
  } finally {
    k.markAtomic(p, 'atomic-end', label);
  }
}
