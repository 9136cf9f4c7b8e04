/**
 * @interleave/checkers — monitors over core's event stream. Now: `always`, an
 * invariant checked at every event. Coming (issue: checkers): data races with
 * vector clocks, lost updates and atomicity violations, deadlock and lock-order
 * analysis, liveness, linearizability. Depends on @interleave/core only.
 */
export { always } from './invariant.js';
