/** `pnpm bench`: every benchmark, one figure per line as `name: value unit`. */
import { benchKernel } from './kernel.js';

await benchKernel();
