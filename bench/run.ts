/** `pnpm bench`: every benchmark, one figure per line as `name: value unit`. */
import { benchBugFinding, benchExplore } from './explore.js';
import { benchKernel } from './kernel.js';
import { benchLinearizability } from './linearizability.js';
import { benchVsFastCheck } from './vs-fast-check.js';

await benchKernel();
await benchExplore();
await benchBugFinding();
await benchVsFastCheck();
benchLinearizability();
