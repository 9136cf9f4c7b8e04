import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Program } from '@interleave/core';
import type { ExploreOptions } from './explore.js';
import { describe, misuse } from './misuse.js';

/**
 * A program and how to explore it, exported from a module so that worker threads
 * can load it: functions (the program body, properties, monitors) cannot be sent to a
 * thread, but a module can be imported there.
 */
export interface ExploreJob<R = unknown> {
  readonly program: Program<R>;
  /**
   * Builds the options afresh in each worker: strategies and monitors keep state
   * across executions, so every shard needs its own.
   */
  readonly options: () => ExploreOptions<R>;
}

/**
 * Define a job for {@link exploreParallel}: export it from a module.
 *
 * @example
 * ```ts
 * // counter.job.ts
 * export const hunt = job(counter(3, false), () => ({ strategy: random(), property, budget: { executions: 10_000 } }));
 * // elsewhere
 * const report = await exploreParallel(new URL('./counter.job.ts', import.meta.url), 'hunt', { workers: 2 });
 * ```
 */
export function job<R>(prog: Program<R>, options: () => ExploreOptions<R> = () => ({})): ExploreJob<R> {
  if (!isProgram(prog)) {
    throw misuse('INVALID_ARGUMENT', 'job(program, options)', `program must be a Program, got ${describe(prog)}.`, 'build it with program(body) from @interleave/core.');
  }
  if (typeof options !== 'function') {
    throw misuse(
      'INVALID_ARGUMENT',
      'job(program, options)',
      `options must be a function returning the explore options, got ${describe(options)}.`,
      'wrap them in a function, e.g. job(prog, () => ({ strategy: random() })), so each worker builds its own strategy and monitors.',
    );
  }
  return { program: prog, options };
}

/** The module's URL as a string: a URL, a URL string, or an absolute file path. */
export function moduleHref(module: unknown, api: string): string {
  if (module instanceof URL) return module.href;
  if (typeof module === 'string' && isAbsolute(module)) return pathToFileURL(module).href;
  if (typeof module === 'string' && /^[a-z][a-z0-9+.-]+:/i.test(module)) return module;
  throw misuse('INVALID_ARGUMENT', api, `module must be a URL or an absolute path, got ${describe(module)}.`, "pass new URL('./my.job.ts', import.meta.url).");
}

/** Import `href` and return its export `name`, checked to be a job. */
export async function loadJob(href: string, name: string, api: string): Promise<ExploreJob> {
  let exports: Record<string, unknown>;
  try {
    exports = (await import(href)) as Record<string, unknown>;
  } catch (e) {
    throw misuse('INVALID_ARGUMENT', api, `could not import ${href}: ${e instanceof Error ? e.message : String(e)}`, 'check the path, and that the module loads on its own.');
  }
  if (!(name in exports)) {
    const names = Object.keys(exports).filter((k) => k !== 'default');
    throw misuse('INVALID_ARGUMENT', api, `${href} has no export named "${name}" (it exports: ${names.length === 0 ? 'nothing' : names.join(', ')}).`, `export the job: export const ${name} = job(program, () => options).`);
  }
  const found = exports[name];
  if (!isJob(found)) {
    throw misuse('INVALID_ARGUMENT', api, `export "${name}" of ${href} is not a job, got ${describe(found)}.`, `define it with job(program, () => options): export const ${name} = job(...).`);
  }
  return found;
}

function isProgram(x: unknown): x is Program {
  return typeof x === 'object' && x !== null && typeof (x as Program).name === 'string' && typeof (x as Program).body === 'function';
}

// Structural, not a class check: the job module may load its own copy of this package.
function isJob(x: unknown): x is ExploreJob {
  return typeof x === 'object' && x !== null && isProgram((x as ExploreJob).program) && typeof (x as ExploreJob).options === 'function';
}
