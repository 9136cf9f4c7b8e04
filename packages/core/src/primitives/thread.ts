import type { Kernel } from '../kernel.js';
import { SimObject } from '../op.js';

/** @internal The object a background thread's `begin` step operates on. */
export class Thread extends SimObject {
  constructor(kernel: Kernel) {
    super(kernel, 'Thread');
  }
  ready(): boolean {
    return true;
  }
  perform(): unknown {
    return undefined;
  }
}
