/**
 * `pnpm bench`: every benchmark, one figure per line as `name: value unit`. Each group
 * runs in a fresh Node process with the same flags, so one group's heap and JIT state
 * do not colour the next one's figures.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { groups } from './group.js';

// Compiled by `pnpm bench` (bench/build.ts) or run from source with tsx.
const script = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './group.ts' : './group.js', import.meta.url));
for (const name of Object.keys(groups)) {
  const r = spawnSync(process.execPath, [...process.execArgv, script, name], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
