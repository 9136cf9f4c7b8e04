/** `pnpm bench`: every benchmark, one figure per line as `name: value unit`. */
import { benchExplore } from './explore.js';
import { benchKernel } from './kernel.js';

await benchKernel();
await benchExplore();
