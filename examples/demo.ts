/**
 * The main demo (`pnpm demo`): the course's Lock example. Without the lock, some
 * seed interleaves the "is running"/"is done" lines of different processes; the
 * same seed replays to the same output, byte for byte; with the lock, no seed does.
 */
import { run } from '@interleave/core';
import { interleaves, locked, unlocked } from './course/lock.js';

const indent = (s: string): string => s.replace(/^(?=.)/gm, '    ');

async function main(): Promise<void> {
  console.log('Interleave demo: the course\'s Lock example (examples/course/lock.ts)\n');

  let seed = 0;
  for (; seed < 1000; seed++) {
    const r = await run(unlocked, { seed });
    if (interleaves(r.stdout)) break;
  }
  const first = await run(unlocked, { seed });
  console.log(`Without a lock, seed ${seed} interleaves the lines of different processes:`);
  console.log(indent(first.stdout));

  const again = await run(unlocked, { seed });
  console.log(`Replayed from seed ${seed}: ${again.stdout === first.stdout ? 'identical output' : 'DIFFERENT output (a bug!)'}` +
    ` (${again.steps} steps, ${again.time.toFixed(3)} virtual seconds).\n`);

  const withLock = await run(locked, { seed });
  console.log(`With the lock, seed ${seed}: each process prints "running" and "done" together:`);
  console.log(indent(withLock.stdout));

  let bad = 0;
  for (let s = 0; s < 500; s++) if (interleaves((await run(locked, { seed: s })).stdout)) bad++;
  console.log(`With the lock, seeds 0..499: ${bad} interleaved runs.`);
  if (first.stdout !== again.stdout || bad > 0) process.exitCode = 1;
}

await main();
