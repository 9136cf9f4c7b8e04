/**
 * `pnpm bench`, step one: compile the packages and the benchmarks with tsc into
 * dist/bench-build, and give the compiled tree a node_modules in which
 * `@interleave/*` names the compiled packages. Step two runs
 * dist/bench-build/bench/run.js with plain Node.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/bench-build`;
const packages = ['core', 'sched', 'checkers'];

rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', `${root}bench/tsconfig.build.json`], { stdio: 'inherit' });

writeFileSync(`${out}/package.json`, JSON.stringify({ type: 'module', private: true }));
for (const name of packages) {
  const compiled = `${out}/packages/${name}`;
  writeFileSync(`${compiled}/package.json`, JSON.stringify({ name: `@interleave/${name}`, type: 'module', exports: { '.': './src/index.js' } }));
  mkdirSync(`${out}/node_modules/@interleave`, { recursive: true });
  symlinkSync(compiled, `${out}/node_modules/@interleave/${name}`, 'dir');
  // Third-party dependencies (seedrandom...) from where pnpm put them; the
  // @interleave ones resolve to the compiled packages above, not to the sources.
  const manifest = JSON.parse(readFileSync(`${root}packages/${name}/package.json`, 'utf8')) as { dependencies?: Record<string, string> };
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    if (dep.startsWith('@interleave/')) continue;
    mkdirSync(dirname(`${compiled}/node_modules/${dep}`), { recursive: true });
    symlinkSync(realpathSync(`${root}packages/${name}/node_modules/${dep}`), `${compiled}/node_modules/${dep}`, 'dir');
  }
}
