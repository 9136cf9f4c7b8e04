/**
 * The main demo (`pnpm demo`): the course's Manager counter. 100 processes each run
 * `dic['count'] -= 1` on a shared Manager dict. Without a lock some seed loses
 * updates — the trace shows which — the same seed replays byte for byte, and with
 * the lock every seed ends at 0.
 */
import { run, serializeTrace, type RunResult } from '@interleave/core';
import { finalCount, firstLostUpdate, unlocked, withLock } from './course/manager.js';

async function main(): Promise<void> {
  console.log("Interleave demo: the course's Manager counter (examples/course/manager.ts)\n");
  console.log("100 processes each run `dic['count'] -= 1` on a Manager dict holding {'count': 100}.");
  console.log('Every proxy call is atomic, but `-=` is two calls: read the count, then write it back.\n');

  let seed = 0;
  while (finalCount((await run(unlocked, { seed })).stdout) === 0) seed++;
  const first = await run(unlocked, { seed, trace: true });
  const count = finalCount(first.stdout) ?? 0;
  console.log(`Without a lock, seed ${seed} prints:\n    ${first.stdout.trim()}`);
  console.log(`  ${count} of the 100 decrements were lost (the course's Python runs lost 0 to 3: real processes`);
  console.log('  start slowly and seldom overlap; here any step may switch). The first, as the trace shows it:');
  const lost = firstLostUpdate(first.trace ?? []);
  if (lost !== null) {
    const who = (pid: number): string => label(first, pid);
    console.log(`    step ${lost.read.step}: ${who(lost.writer)} reads count = ${String(lost.read.value)}`);
    console.log(`    step ${lost.overwritten.step}: ${who(lost.overwritten.pid)} writes ${String(lost.overwritten.value)}`);
    console.log(`    step ${lost.write.step}: ${who(lost.writer)} writes ${String(lost.write.value)}, overwriting it\n`);
  }

  const again = await run(unlocked, { seed, trace: true });
  const same = again.stdout === first.stdout && serializeTrace(again.trace ?? []) === serializeTrace(first.trace ?? []);
  console.log(`Replayed from seed ${seed}: ${same ? 'identical output and trace' : 'DIFFERENT (a bug!)'} (${again.steps} steps).\n`);

  const SEEDS = 100;
  let bad = 0;
  for (let s = 0; s < SEEDS; s++) if (finalCount((await run(withLock, { seed: s })).stdout) !== 0) bad++;
  console.log(`With the lock (\`with lock:\` is lock.withLock), seeds 0..${SEEDS - 1}: ` +
    (bad === 0 ? "every run prints {'count': 0}." : `${bad} runs did NOT end at 0 (a bug!).`));
  if (!same || bad > 0 || lost === null) process.exitCode = 1;
}

/** `Process-3 (pid 1003)` */
function label(r: RunResult, pid: number): string {
  return `${r.processes.find((p) => p.pid === pid)?.name ?? 'pid'} (pid ${pid})`;
}

await main();
