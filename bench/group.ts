/** One group of benchmarks, by name: `node --expose-gc --import tsx bench/group.ts kernel`. */
import { benchBugs } from './bugs.js';
import { benchCheckers } from './checkers.js';
import { benchBugFinding, benchExplore, benchParallel } from './explore.js';
import { benchKernel } from './kernel.js';
import { benchLinearizability } from './linearizability.js';
import { benchVsFastCheck } from './vs-fast-check.js';

export const groups: Readonly<Record<string, () => unknown>> = {
  kernel: benchKernel,
  checkers: benchCheckers,
  explore: benchExplore,
  parallel: benchParallel,
  'bug-finding': benchBugFinding,
  bugs: benchBugs,
  'vs-fast-check': benchVsFastCheck,
  linearizability: benchLinearizability,
};

const name = process.argv[2];
if (name !== undefined) {
  const group = groups[name];
  if (group === undefined) throw new Error(`bench/group.ts: no group "${name}"; known: ${Object.keys(groups).join(', ')}`);
  await group();
}
