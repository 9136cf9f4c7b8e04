import type { Kernel } from '../kernel.js';
import { SimObject, type Footprint } from '../op.js';

/** @internal The object a background thread's `begin` step operates on. */
export class Thread extends SimObject {
  constructor(kernel: Kernel) {
    super(kernel, 'Thread');
  }
  override footprint(): readonly Footprint[] {
    return [];
  }
  ready(): boolean {
    return true;
  }
  perform(): unknown {
    return undefined;
  }
}
