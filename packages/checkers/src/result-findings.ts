/**
 * Findings from how a run ended, without any monitor: a deadlock, a step limit, an
 * AssertionError escaping the main process, a monitor's failure. The bridge to an
 * explorer's failures: pass `failure.result` and `failure.token`.
 */
import { InvariantViolation, PyAssertionError, type RunResult } from '@interleave/core';
import { deadlockReport } from './deadlock.js';
import { stepLimitReport } from './liveness.js';
import type { Finding } from './report.js';

/**
 * What a finished run's status says, as findings (empty for a run that ended `ok`):
 * the deadlock report, the non-termination report, an uncaught AssertionError in
 * the main process (`assertion`), a monitor or invariant that failed the run
 * (`invariant`), or any other error (`error`). Each carries `token` when given.
 *
 * @example
 * ```ts
 * const report = await check(prog, { strategy: random(), run: { maxSteps: 10_000 } });
 * if (report.failure) for (const f of resultFindings(report.failure.result, report.failure.token)) console.log(formatFinding(f));
 * ```
 */
export function resultFindings(result: RunResult, token?: string): Finding[] {
  const withToken = token === undefined ? {} : { token };
  switch (result.status) {
    case 'ok':
      return [];
    case 'deadlock':
      return [deadlockReport(result, token)!];
    case 'step-limit':
      return [stepLimitReport(result, token)!];
    case 'error': {
      const e = result.error;
      const at = { pid: 1000, name: 'MainProcess', step: result.steps, time: result.time };
      if (e instanceof PyAssertionError) {
        return [
          {
            kind: 'assertion',
            status: 'confirmed',
            message: `MainProcess (pid 1000) raised AssertionError: ${e.message}`,
            why: 'an assertion in the main process failed and nothing caught it, which ends the run.',
            fix: 'make the asserted condition hold on every schedule: protect the shared state it reads, or wait (join, get) for what makes it true.',
            events: [{ ...at, op: 'uncaught exception', note: `AssertionError: ${e.message}` }],
            ...withToken,
            key: `assertion:MainProcess:${e.message}`,
          },
        ];
      }
      if (e instanceof InvariantViolation) {
        return [
          {
            kind: 'invariant',
            status: 'confirmed',
            message: e.message,
            why: 'a monitor attached to the run (an invariant, an assertion check, a checker set to fail) declared it wrong; the run ended at that step.',
            fix: 'replay the run and look at the steps just before the one named: the invariant says what must hold there.',
            events: [{ ...at, op: 'monitor failure', note: e.message }],
            ...withToken,
            key: `invariant:${e.message}`,
          },
        ];
      }
      return [
        {
          kind: 'error',
          status: 'confirmed',
          message: result.message.split('\n')[0] ?? result.message,
          why: 'the main process raised, or the simulator was misused; the run stopped there.',
          fix: result.message.includes('How to fix:') ? (result.message.split('How to fix:')[1] ?? '').trim() : 'see the message and the trace of the run.',
          events: [{ ...at, op: 'run error', note: result.message.split('\n')[0] ?? '' }],
          ...withToken,
          key: `error:${result.message.split('\n')[0] ?? ''}`,
        },
      ];
    }
  }
}
