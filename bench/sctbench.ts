/**
 * Bug benchmarks of the systematic concurrency testing literature, written from their
 * descriptions and C sources as Interleave programs: SCTBench (Thomson, Donaldson,
 * Betts, "Concurrency Testing Using Schedule Bounding: an Empirical Study", PPoPP 2014,
 * and "Concurrency Testing Using Controlled Schedulers: An Empirical Study", ACM TOPC
 * 2016), whose "CS" group is SV-COMP's pthread suite (concurrency benchmarks
 * collected with ESBMC), plus SV-COMP's fib_bench. Each is pinned in
 * packages/sched/test/sctbench.test.ts; bench/bugs.ts measures how fast each strategy
 * finds each bug.
 *
 * The model: sequential consistency, every read or write of a shared C variable one
 * step (a RawValue or RawArray cell), every pthread_mutex_lock/unlock a Lock
 * operation, pthread_create a `start`, pthread_join a `join`; expressions evaluate left
 * to right with C's short-circuit, each operand load its own step (the programs were
 * compiled at -O0). ESBMC's `__ESBMC_atomic_begin/end` (and SV-COMP's
 * `__VERIFIER_atomic_*`) are one global Lock, as SCTBench runs them. A pthread_cond_t
 * is a Condition on the mutex's Lock; pthread_cond_signal, which the C calls after
 * unlocking, takes the Lock around the notify (a Condition notifies only holding it;
 * the outcomes are the same, since a waiter starts waiting only under the Lock).
 * Where the C has a global that only one thread ever touches (a loop counter), it is
 * a local here: no other thread can observe it. `printf` of a diagnostic is left out. A failed
 * `assert` in a thread throws AssertionError, which ends that process with exit code
 * 1 ({@link assertionsHold} fails such a run); in the main process it ends the run
 * with status `error`. A deadlock ends it with status `deadlock`.
 *
 * One difference from SCTBench's tool (a Maple-based controlled scheduler): it
 * scheduled only at synchronisation operations and at accesses a prior race-detection
 * run found racy, so accesses under a lock were not scheduling points there; here every
 * shared access is one. Exhaustive search with partial-order reduction is blind to the
 * difference (accesses under a lock commute with the other processes' steps); random
 * and PCT schedules are longer here, so they are harder on programs with long critical
 * sections (stack, queue, circular_buffer).
 */
import { program, PyAssertionError, type Condition, type Lock, type Op, type Process, type Program, type RawArray, type RawValue, type RunResult, type World } from '@interleave/core';

type Gen<T = void> = Generator<Op<unknown>, T, unknown>;

/** Create every thread, then join every one: what most of the suite's `main` functions do. */
function* startThenJoin(ps: readonly Process[]): Gen {
  for (const p of ps) yield* p.start();
  for (const p of ps) yield* p.join();
}

/** One benchmark: the buggy program, what is known about its bug, and a fixed variant. */
export interface BugBenchmark {
  /** SCTBench's name (group.file without `_bad.c`), with our parameters when not its own. */
  readonly name: string;
  /** Where it comes from: the suite and the original file. */
  readonly source: string;
  /** What goes wrong. */
  readonly bug: string;
  readonly program: Program;
  /**
   * How a failing run ends: `property` (an assertion in a thread, {@link assertionsHold}),
   * `error` (an assertion in the main process), `deadlock`.
   */
  readonly failsWith: 'property' | 'error' | 'deadlock';
  /**
   * The fewest preemptions of any failing schedule, in this model (the test pins it:
   * the preemption-bounded search one below finds nothing). Threads created but not
   * yet run, and a switch when the running process blocks or ends, cost nothing.
   */
  readonly preemptions: number;
  /** The fewest delays (Emmi et al.'s delay bounding over round-robin) that expose it, in this model (pinned likewise). */
  readonly delays: number;
  /** What the literature reports about it, when it reports something per benchmark. */
  readonly literature?: string;
  /** The fixed program: the suite's `_ok` version when it has one, else the obvious repair. */
  readonly fixed?: Program;
  /** What the fix changes; or, without `fixed`, why there is none. */
  readonly fix: string;
}

/**
 * The assertion of every benchmark: a run fails when a process ended by an exception
 * (an `assert` in a thread: exit code 1). Deadlocks and an assertion in the main
 * process already fail the run by its status.
 */
export function assertionsHold(r: RunResult): true | string {
  for (const p of r.processes) {
    if (!p.thread && p.exitcode !== 0) return `${p.name} failed (exit code ${String(p.exitcode)}): ${r.stderr.trim().split('\n').pop() ?? ''}`;
  }
  return true;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new PyAssertionError(what);
}

// ---------------------------------------------------------------------------------
// CS.reorder_N_bad (SV-COMP pthread/reorder_*.c; SCTBench reorder_3, _4, _5, _10, _20):
// N − 1 setter threads write a = 1 then b = −1; one checker asserts that it sees
// either both writes or neither.

interface Pair {
  readonly a: RawValue;
  readonly b: RawValue;
  readonly lock: Lock | null;
}

function* setThread(s: Pair): Gen {
  if (s.lock) yield* s.lock.acquire();
  yield* s.a.set(1);
  yield* s.b.set(-1);
  if (s.lock) yield* s.lock.release();
}

function* checkThread(s: Pair): Gen {
  if (s.lock) yield* s.lock.acquire();
  // !((a == 0 && b == 0) || (a == 1 && b == -1)), one load per operand
  const ok = ((yield* s.a.get()) === 0 && (yield* s.b.get()) === 0) || ((yield* s.a.get()) === 1 && (yield* s.b.get()) === -1);
  if (s.lock) yield* s.lock.release();
  check(ok, 'checkThread saw a == 1 with b == 0');
}

function reorderProgram(n: number, locked: boolean): Program {
  return program(
    function* ({ mp }: World) {
      const s: Pair = { a: mp.RawValue('i', 0), b: mp.RawValue('i', 0), lock: locked ? mp.Lock() : null };
      const setters = Array.from({ length: n - 1 }, (_, i) => mp.Process({ target: setThread, args: [s], name: `setThread-${i + 1}` }));
      const checker = mp.Process({ target: checkThread, args: [s], name: 'checkThread' });
      for (const p of setters) yield* p.start();
      yield* checker.start();
      for (const p of setters) yield* p.join();
      yield* checker.join();
    },
    { name: `sctbench/reorder_${n}${locked ? '_fixed' : ''}` },
  );
}

/** reorder_n: n threads, n − 1 setters and one checker (SCTBench's reorder_X_bad with iSet = X − 1, iCheck = 1). */
export function reorder(n: number): BugBenchmark {
  return {
    name: `CS.reorder_${n}`,
    source: `SCTBench CS/reorder_${n}_bad.c (SV-COMP pthread/reorder_*.c, from ESBMC)`,
    bug: 'atomicity violation: the checker runs between a setter\'s two writes and sees a == 1, b == 0',
    program: reorderProgram(n, false),
    failsWith: 'property',
    preemptions: 1,
    delays: n - 1,
    literature: 'SCTBench has it at 3, 4, 5, 10 and 20 threads; the bug needs one preemption at every size, but a bounded search meets it later the more setters run first',
    fixed: reorderProgram(n, true),
    fix: 'the setters and the checker take one lock around their accesses',
  };
}

// ---------------------------------------------------------------------------------
// CS.twostage_bad, CS.twostage_100_bad: funcA publishes
// data1 under one lock and data2 = data1 + 1 under another; funcB reads both and
// asserts data2 == data1 + 1 once data1 is set.

interface TwoStage {
  readonly data1: RawValue;
  readonly data2: RawValue;
  readonly lock1: Lock;
  readonly lock2: Lock;
}

function* funcA(s: TwoStage): Gen {
  yield* s.lock1.acquire();
  yield* s.data1.set(1);
  yield* s.lock1.release();
  yield* s.lock2.acquire();
  yield* s.data2.set((yield* s.data1.get()) + 1);
  yield* s.lock2.release();
}

/** The fix: data1's lock is held until data2 is written, so both stages are one. */
function* funcAFixed(s: TwoStage): Gen {
  yield* s.lock1.acquire();
  yield* s.data1.set(1);
  yield* s.lock2.acquire();
  yield* s.data2.set((yield* s.data1.get()) + 1);
  yield* s.lock2.release();
  yield* s.lock1.release();
}

function* funcB(s: TwoStage): Gen {
  yield* s.lock1.acquire();
  if ((yield* s.data1.get()) === 0) {
    yield* s.lock1.release();
    return;
  }
  const t1 = yield* s.data1.get();
  yield* s.lock1.release();
  yield* s.lock2.acquire();
  const t2 = yield* s.data2.get();
  yield* s.lock2.release();
  check(t2 === t1 + 1, `funcB read data1 = ${t1}, data2 = ${t2}`);
}

function twostageProgram(tThreads: number, rThreads: number, fixed: boolean): Program {
  const name = `sctbench/twostage_${tThreads + rThreads}${fixed ? '_fixed' : ''}`;
  return program(
    function* ({ mp }: World) {
      const s: TwoStage = { data1: mp.RawValue('i', 0), data2: mp.RawValue('i', 0), lock1: mp.Lock(), lock2: mp.Lock() };
      const ts = Array.from({ length: tThreads }, (_, i) => mp.Process({ target: fixed ? funcAFixed : funcA, args: [s], name: `funcA-${i + 1}` }));
      const rs = Array.from({ length: rThreads }, (_, i) => mp.Process({ target: funcB, args: [s], name: `funcB-${i + 1}` }));
      yield* startThenJoin([...ts, ...rs]);
    },
    { name },
  );
}

/** twostage with `tThreads` writers and `rThreads` readers: SCTBench's twostage is (1, 1), twostage_100 is (99, 1). */
export function twostage(tThreads = 1, rThreads = 1): BugBenchmark {
  const n = tThreads + rThreads;
  return {
    name: n === 2 ? 'CS.twostage' : `CS.twostage_${n}`,
    source: `SCTBench CS/${n === 2 ? 'twostage_bad.c' : n === 100 ? 'twostage_100_bad.c' : 'twostage_bad.c, with iTThreads = ' + tThreads}`,
    bug: 'atomicity violation: funcB runs between funcA\'s two critical sections and reads data1 = 1, data2 = 0',
    program: twostageProgram(tThreads, rThreads, false),
    failsWith: 'property',
    preemptions: 1,
    delays: 1,
    literature: 'SCTBench has it with 2 and with 100 threads (twostage_100: 99 writers, the reader created last)',
    fixed: twostageProgram(tThreads, rThreads, true),
    fix: 'funcA holds data1\'s lock until data2 is written',
  };
}

// ---------------------------------------------------------------------------------
// CS.wronglock_bad: funcA increments dataValue under
// dataLock and asserts nobody else changed it; funcB threads increment it under
// another lock, thisLock.

interface WrongLock {
  readonly data: RawValue;
  readonly dataLock: Lock;
  readonly thisLock: Lock;
}

function* wlFuncA(s: WrongLock): Gen {
  yield* s.dataLock.acquire();
  const x = yield* s.data.get();
  yield* s.data.set((yield* s.data.get()) + 1); // dataValue++
  const now = yield* s.data.get();
  yield* s.dataLock.release();
  check(now === x + 1, `funcA: dataValue went from ${x} to ${now}`);
}

function* wlFuncB(s: WrongLock, lock: Lock): Gen {
  yield* lock.acquire();
  yield* s.data.set((yield* s.data.get()) + 1);
  yield* lock.release();
}

function wronglockProgram(num1: number, num2: number, fixed: boolean): Program {
  return program(
    function* ({ mp }: World) {
      const s: WrongLock = { data: mp.RawValue('i', 0), dataLock: mp.Lock(), thisLock: mp.Lock() };
      const as = Array.from({ length: num1 }, (_, i) => mp.Process({ target: wlFuncA, args: [s], name: `funcA-${i + 1}` }));
      const bs = Array.from({ length: num2 }, (_, i) => mp.Process({ target: wlFuncB, args: [s, fixed ? s.dataLock : s.thisLock], name: `funcB-${i + 1}` }));
      yield* startThenJoin([...as, ...bs]);
    },
    { name: `sctbench/wronglock_${num1}_${num2}${fixed ? '_fixed' : ''}` },
  );
}

/** wronglock: one funcA and `num2` funcB threads (SCTBench: 1 and 7). */
export function wronglock(num2 = 7): BugBenchmark {
  return {
    name: num2 === 7 ? 'CS.wronglock' : `CS.wronglock(1, ${num2})`,
    source: 'SCTBench CS/wronglock_bad.c',
    bug: 'the wrong lock: funcB increments dataValue under thisLock, not dataLock, inside funcA\'s critical section',
    program: wronglockProgram(1, num2, false),
    failsWith: 'property',
    preemptions: 1,
    delays: 1,
    fixed: wronglockProgram(1, num2, true),
    fix: 'funcB takes dataLock',
  };
}

// ---------------------------------------------------------------------------------
// CS.account_bad (SV-COMP pthread/account_*.c, ESBMC): deposit and withdraw under
// one lock; check_result asserts a wrong balance once both are done.

interface Account {
  readonly x: RawValue;
  readonly y: RawValue;
  readonly z: RawValue;
  readonly balance: RawValue;
  readonly depositDone: RawValue;
  readonly withdrawDone: RawValue;
  readonly m: Lock;
}

function* deposit(s: Account): Gen {
  yield* s.m.acquire();
  yield* s.balance.set((yield* s.balance.get()) + (yield* s.y.get()));
  yield* s.depositDone.set(1);
  yield* s.m.release();
}

function* withdraw(s: Account): Gen {
  yield* s.m.acquire();
  yield* s.balance.set((yield* s.balance.get()) - (yield* s.z.get()));
  yield* s.withdrawDone.set(1);
  yield* s.m.release();
}

function* checkResult(s: Account, correct: boolean): Gen {
  yield* s.m.acquire();
  let expected = 0;
  let balance = 0;
  const both = (yield* s.depositDone.get()) !== 0 && (yield* s.withdrawDone.get()) !== 0;
  if (both) {
    balance = yield* s.balance.get();
    const [x, y, z] = [yield* s.x.get(), yield* s.y.get(), yield* s.z.get()];
    expected = correct ? x + y - z : x - y - z;
  }
  yield* s.m.release();
  check(!both || balance === expected, `check_result: balance ${balance}, expected ${expected}`);
}

function accountProgram(correct: boolean): Program {
  return program(
    function* ({ mp }: World) {
      const s: Account = {
        x: mp.RawValue('i', 0),
        y: mp.RawValue('i', 0),
        z: mp.RawValue('i', 0),
        balance: mp.RawValue('i', 0),
        depositDone: mp.RawValue('i', 0),
        withdrawDone: mp.RawValue('i', 0),
        m: mp.Lock(),
      };
      yield* s.x.set(1);
      yield* s.y.set(2);
      yield* s.z.set(4);
      yield* s.balance.set(yield* s.x.get());
      yield* mp.Process({ target: checkResult, args: [s, correct], name: 'check_result' }).start();
      yield* mp.Process({ target: deposit, args: [s], name: 'deposit' }).start();
      yield* mp.Process({ target: withdraw, args: [s], name: 'withdraw' }).start();
      // main returns without joining; the run ends when the three threads have
    },
    { name: `sctbench/account${correct ? '_fixed' : ''}` },
  );
}

export function account(): BugBenchmark {
  return {
    name: 'CS.account',
    source: 'SCTBench CS/account_bad.c (SV-COMP pthread/account_*.c)',
    bug: 'a wrong assertion (balance == (x − y) − z for a deposit of y): fails whenever check_result, created first, runs last',
    program: accountProgram(false),
    failsWith: 'property',
    preemptions: 0,
    delays: 1,
    fixed: accountProgram(true),
    fix: 'the assertion the code means: balance == (x + y) − z',
  };
}

// ---------------------------------------------------------------------------------
// CS.lazy01_bad (SV-COMP pthread/lazy01_*.c, from the Lazy-CSeq paper): two threads
// add 1 and 2 under a mutex; a third asserts data < 3.

interface Lazy {
  readonly data: RawValue;
  readonly mutex: Lock;
}

function* lazyAdd(s: Lazy, k: number): Gen {
  yield* s.mutex.acquire();
  yield* s.data.set((yield* s.data.get()) + k);
  yield* s.mutex.release();
}

function* lazyCheck(s: Lazy, limit: number): Gen {
  yield* s.mutex.acquire();
  const data = yield* s.data.get();
  yield* s.mutex.release();
  check(data < limit, `thread3 saw data = ${data}`);
}

function lazyProgram(limit: number): Program {
  return program(
    function* ({ mp }: World) {
      const s: Lazy = { data: mp.RawValue('i', 0), mutex: mp.Lock() };
      const ps = [
        mp.Process({ target: lazyAdd, args: [s, 1], name: 'thread1' }),
        mp.Process({ target: lazyAdd, args: [s, 2], name: 'thread2' }),
        mp.Process({ target: lazyCheck, args: [s, limit], name: 'thread3' }),
      ];
      yield* startThenJoin(ps);
    },
    { name: `sctbench/lazy01${limit === 3 ? '' : '_fixed'}` },
  );
}

export function lazy01(): BugBenchmark {
  return {
    name: 'CS.lazy01',
    source: 'SCTBench CS/lazy01_bad.c (SV-COMP pthread/lazy01_*.c)',
    bug: 'an order violation: thread3 asserts data < 3, false when it runs after both adders',
    program: lazyProgram(3),
    failsWith: 'property',
    preemptions: 0,
    delays: 0,
    fixed: lazyProgram(4),
    fix: 'the invariant the locks do give: data ≤ 3 (both additions are atomic, so none is lost and none counted twice)',
  };
}

// ---------------------------------------------------------------------------------
// CS.carter01_bad: the first
// thread of a class takes l for the class inside m and the last releases it, also
// inside m — a lock-order inversion.

interface Carter {
  readonly m: Lock;
  readonly l: Lock;
  readonly count: RawValue;
}

function* carterThread(m: Lock, l: Lock, count: RawValue): Gen {
  yield* m.acquire();
  yield* count.set((yield* count.get()) + 1);
  if ((yield* count.get()) === 1) yield* l.acquire();
  yield* m.release();
  // perform the class's operation
  yield* m.acquire();
  yield* count.set((yield* count.get()) - 1);
  if ((yield* count.get()) === 0) yield* l.release();
  yield* m.release();
}

/** The fix: l first, then m — one lock order. */
function* carterThreadFixed(m: Lock, l: Lock, count: RawValue): Gen {
  yield* l.acquire();
  yield* m.acquire();
  yield* count.set((yield* count.get()) + 1);
  yield* m.release();
  yield* m.acquire();
  yield* count.set((yield* count.get()) - 1);
  yield* m.release();
  yield* l.release();
}

function* idle(): Gen {}

function carterProgram(fixed: boolean): Program {
  return program(
    function* ({ mp }: World) {
      const s: Carter = { m: mp.Lock(), l: mp.Lock(), count: mp.RawValue('i', 0) };
      const b = mp.RawValue('i', 0);
      const t = fixed ? carterThreadFixed : carterThread;
      const ps = [
        mp.Process({ target: t, args: [s.m, s.l, s.count], name: 't1' }),
        mp.Process({ target: t, args: [s.m, s.l, b], name: 't2' }),
        mp.Process({ target: idle, name: 't3' }),
        mp.Process({ target: idle, name: 't4' }),
      ];
      yield* startThenJoin(ps);
    },
    { name: `sctbench/carter01${fixed ? '_fixed' : ''}` },
  );
}

export function carter01(): BugBenchmark {
  return {
    name: 'CS.carter01',
    source: 'SCTBench CS/carter01_bad.c',
    bug: 'deadlock: t1 holds l and waits for m; t2 holds m and waits for l',
    program: carterProgram(false),
    failsWith: 'deadlock',
    preemptions: 1,
    delays: 1,
    fixed: carterProgram(true),
    fix: 'take l before m: one lock order',
  };
}

// ---------------------------------------------------------------------------------
// CS.stack_bad (SV-COMP pthread/stack_*.c, ESBMC): t1 pushes SIZE items, each under
// the lock, and sets a flag; t2 pops SIZE times under the lock once the flag is set,
// asserting no underflow.

interface Stack {
  readonly arr: RawArray;
  readonly top: RawValue;
  readonly flag: RawValue;
  readonly m: Lock;
  readonly size: number;
}

const OVERFLOW = -1;
const UNDERFLOW = -2;

function* push(s: Stack, x: number): Gen<number> {
  if ((yield* s.top.get()) === s.size) return OVERFLOW;
  yield* s.arr.set(yield* s.top.get(), x); // stack[get_top()] = x
  yield* s.top.set((yield* s.top.get()) + 1); // inc_top()
  return 0;
}

function* pop(s: Stack): Gen<number> {
  if ((yield* s.top.get()) === 0) return UNDERFLOW;
  yield* s.top.set((yield* s.top.get()) - 1); // dec_top()
  return yield* s.arr.get(yield* s.top.get());
}

function* stackPusher(s: Stack, fixed: boolean): Gen {
  for (let i = 0; i < s.size; i++) {
    yield* s.m.acquire();
    const r = yield* push(s, i);
    if (!fixed) yield* s.flag.set(1);
    yield* s.m.release();
    check(r !== OVERFLOW, 'push overflowed');
  }
}

function* stackPopper(s: Stack, fixed: boolean): Gen {
  for (let i = 0; i < s.size; i++) {
    yield* s.m.acquire();
    let r = 0;
    if (fixed) {
      if ((yield* s.top.get()) > 0) yield* pop(s);
    } else if ((yield* s.flag.get()) !== 0) {
      r = yield* pop(s);
    }
    yield* s.m.release();
    check(r !== UNDERFLOW, 'pop underflowed');
  }
}

function stackProgram(size: number, fixed: boolean): Program {
  return program(
    function* ({ mp }: World) {
      const s: Stack = { arr: mp.RawArray('i', size), top: mp.RawValue('i', 0), flag: mp.RawValue('i', 0), m: mp.Lock(), size };
      const ps = [mp.Process({ target: stackPusher, args: [s, fixed], name: 't1' }), mp.Process({ target: stackPopper, args: [s, fixed], name: 't2' })];
      yield* startThenJoin(ps);
    },
    { name: `sctbench/stack_${size}${fixed ? '_ok' : ''}` },
  );
}

/** stack with SIZE = `size` (the suite's is 10). */
export function stack(size = 10): BugBenchmark {
  return {
    name: size === 10 ? 'CS.stack' : `CS.stack(${size})`,
    source: 'SCTBench CS/stack_bad.c (SV-COMP pthread/stack_*.c); fixed: stack_ok.c',
    bug: 'the flag says "something was pushed once", not "the stack is not empty": t2 pops twice after one push and underflows',
    program: stackProgram(size, false),
    failsWith: 'property',
    preemptions: 1,
    delays: 1,
    fixed: stackProgram(size, true),
    fix: 'stack_ok.c: t2 pops only when top > 0, and asserts nothing',
  };
}

// ---------------------------------------------------------------------------------
// CS.queue_bad (SV-COMP pthread/queue_*.c, ESBMC): t1 enqueues under the lock and
// hands over with two flags; t2 dequeues when its flag is set and compares with
// stored_elements[i] — i counting its loop iterations, not its dequeues.

interface QueueState {
  readonly element: RawArray;
  readonly head: RawValue;
  readonly tail: RawValue;
  readonly amount: RawValue;
  readonly stored: RawArray;
  readonly enqueueFlag: RawValue;
  readonly dequeueFlag: RawValue;
  readonly m: Lock;
  readonly size: number;
}

function* isEmpty(q: QueueState): Gen<boolean> {
  return (yield* q.head.get()) === (yield* q.tail.get());
}

function* enqueue(q: QueueState, x: number): Gen {
  yield* q.element.set(yield* q.tail.get(), x);
  yield* q.amount.set((yield* q.amount.get()) + 1);
  if ((yield* q.tail.get()) === q.size) yield* q.tail.set(1);
  else yield* q.tail.set((yield* q.tail.get()) + 1);
}

function* dequeue(q: QueueState): Gen<number> {
  const x = yield* q.element.get(yield* q.head.get());
  yield* q.amount.set((yield* q.amount.get()) - 1);
  if ((yield* q.head.get()) === q.size) yield* q.head.set(1);
  else yield* q.head.set((yield* q.head.get()) + 1);
  return x;
}

function* enqueuer(q: QueueState, fixed: boolean): Gen {
  let value = 0;
  yield* q.m.acquire();
  yield* enqueue(q, value);
  yield* q.stored.set(0, value);
  const empty = yield* isEmpty(q);
  yield* q.m.release();
  check(!empty, 'the queue is empty after an enqueue');
  for (let i = 0; i < q.size - 1; i++) {
    yield* q.m.acquire();
    if ((yield* q.enqueueFlag.get()) !== 0) {
      value++;
      yield* enqueue(q, value);
      yield* q.stored.set(fixed ? value : i + 1, value);
      yield* q.enqueueFlag.set(0);
      yield* q.dequeueFlag.set(1);
    }
    yield* q.m.release();
  }
}

function* dequeuer(q: QueueState, fixed: boolean): Gen {
  let taken = 0;
  for (let i = 0; i < q.size; i++) {
    yield* q.m.acquire();
    let got = 0;
    let want = 0;
    const turn = (yield* q.dequeueFlag.get()) !== 0;
    if (turn) {
      got = yield* dequeue(q);
      want = yield* q.stored.get(fixed ? taken++ : i);
      yield* q.dequeueFlag.set(0);
      yield* q.enqueueFlag.set(1);
    }
    yield* q.m.release();
    check(got === want, `dequeued ${got}, stored_elements says ${want}`);
  }
}

function queueProgram(size: number, fixed: boolean): Program {
  return program(
    function* ({ mp }: World) {
      const q: QueueState = {
        element: mp.RawArray('i', size),
        head: mp.RawValue('i', 0),
        tail: mp.RawValue('i', 0),
        amount: mp.RawValue('i', 0),
        stored: mp.RawArray('i', size),
        enqueueFlag: mp.RawValue('i', 0),
        dequeueFlag: mp.RawValue('i', 0),
        m: mp.Lock(),
        size,
      };
      yield* q.enqueueFlag.set(1);
      yield* q.dequeueFlag.set(0);
      yield* q.head.set(0); // init(&queue)
      yield* q.tail.set(0);
      yield* q.amount.set(0);
      check(yield* isEmpty(q), 'a new queue is not empty');
      const ps = [mp.Process({ target: enqueuer, args: [q, fixed], name: 't1' }), mp.Process({ target: dequeuer, args: [q, fixed], name: 't2' })];
      yield* startThenJoin(ps);
    },
    { name: `sctbench/queue_${size}${fixed ? '_fixed' : ''}` },
  );
}

/** queue with SIZE = `size` (the suite's is 20). */
export function queue(size = 20): BugBenchmark {
  return {
    name: size === 20 ? 'CS.queue' : `CS.queue(${size})`,
    source: 'SCTBench CS/queue_bad.c (SV-COMP pthread/queue_*.c)',
    bug: 't2 compares the element it dequeues with stored_elements[i], i its loop count: an iteration that finds its flag unset shifts every later comparison',
    program: queueProgram(size, false),
    failsWith: 'property',
    preemptions: 1,
    delays: 2,
    fixed: queueProgram(size, true),
    fix: 'both sides index stored_elements by the count of elements, not by loop iterations: t1 stores value k at stored_elements[k], t2 compares its k-th dequeue with stored_elements[k]',
  };
}

// ---------------------------------------------------------------------------------
// CS.circular_buffer_bad (SV-COMP pthread/circular_buffer_*.c): the same hand-over
// through a ring buffer, N = 7 items; t2 asserts the item it removes equals its loop
// count.

interface Ring {
  readonly buffer: RawArray;
  readonly first: RawValue;
  readonly next: RawValue;
  readonly bufferSize: RawValue;
  readonly send: RawValue;
  readonly receive: RawValue;
  readonly m: Lock;
  readonly n: number;
}

const ERROR = -1;

function* removeLogElement(r: Ring): Gen<number> {
  check((yield* r.first.get()) >= 0, 'first < 0');
  if ((yield* r.next.get()) > 0 && (yield* r.first.get()) < (yield* r.bufferSize.get())) {
    yield* r.first.set((yield* r.first.get()) + 1);
    return yield* r.buffer.get((yield* r.first.get()) - 1);
  }
  return ERROR;
}

function* insertLogElement(r: Ring, b: number): Gen<number> {
  if ((yield* r.next.get()) < (yield* r.bufferSize.get()) && (yield* r.bufferSize.get()) > 0) {
    yield* r.buffer.set(yield* r.next.get(), b);
    yield* r.next.set(((yield* r.next.get()) + 1) % (yield* r.bufferSize.get()));
    check((yield* r.next.get()) < (yield* r.bufferSize.get()), 'next out of the buffer');
    return b;
  }
  return ERROR;
}

function* ringSender(r: Ring, fixed: boolean): Gen {
  let sent = 0;
  for (let i = 0; i < r.n; i++) {
    yield* r.m.acquire();
    if ((yield* r.send.get()) !== 0) {
      yield* insertLogElement(r, fixed ? sent++ : i);
      yield* r.send.set(0);
      yield* r.receive.set(1);
    }
    yield* r.m.release();
  }
}

function* ringReceiver(r: Ring, fixed: boolean): Gen {
  let received = 0;
  for (let i = 0; i < r.n; i++) {
    yield* r.m.acquire();
    let got = 0;
    let want = 0;
    if ((yield* r.receive.get()) !== 0) {
      got = yield* removeLogElement(r);
      want = fixed ? received++ : i;
      yield* r.receive.set(0);
      yield* r.send.set(1);
    }
    yield* r.m.release();
    check(got === want, `removed ${got} in iteration ${i}`);
  }
}

function circularBufferProgram(n: number, fixed: boolean): Program {
  return program(
    function* ({ mp }: World) {
      const r: Ring = {
        buffer: mp.RawArray('i', 10),
        first: mp.RawValue('i', 0),
        next: mp.RawValue('i', 0),
        bufferSize: mp.RawValue('i', 0),
        send: mp.RawValue('i', 0),
        receive: mp.RawValue('i', 0),
        m: mp.Lock(),
        n,
      };
      yield* r.bufferSize.set(10); // initLog(10)
      yield* r.first.set(0);
      yield* r.next.set(0);
      yield* r.send.set(1);
      yield* r.receive.set(0);
      const ps = [mp.Process({ target: ringSender, args: [r, fixed], name: 't1' }), mp.Process({ target: ringReceiver, args: [r, fixed], name: 't2' })];
      yield* startThenJoin(ps);
    },
    { name: `sctbench/circular_buffer_${n}${fixed ? '_fixed' : ''}` },
  );
}

/** circular_buffer with N = `n` items (the suite's is 7). */
export function circularBuffer(n = 7): BugBenchmark {
  return {
    name: n === 7 ? 'CS.circular_buffer' : `CS.circular_buffer(${n})`,
    source: 'SCTBench CS/circular_buffer_bad.c (SV-COMP pthread/circular_buffer_*.c)',
    bug: 't2 asserts the item it removes equals its loop count i: an iteration that finds receive unset shifts every later comparison',
    program: circularBufferProgram(n, false),
    failsWith: 'property',
    preemptions: 1,
    delays: 2,
    fixed: circularBufferProgram(n, true),
    fix: 'both sides count items, not loop iterations: t1 sends its k-th item as k, t2 expects k at its k-th removal',
  };
}

// ---------------------------------------------------------------------------------
// CS.token_ring_bad (SV-COMP pthread/token_ring_*.c, ESBMC): three atomic blocks
// pass a value round a ring; a fourth asserts all three equal once every flag is set.

interface Ring3 {
  readonly x: RawArray; // x1, x2, x3 at 0, 1, 2
  readonly flag: RawArray; // flag1..3
  readonly atomic: Lock;
}

function* ringStep(s: Ring3, k: number): Gen {
  yield* s.atomic.acquire();
  if (k === 0) yield* s.x.set(0, ((yield* s.x.get(2)) + 1) % 4); // x1 = (x3 + 1) % 4
  else yield* s.x.set(k, yield* s.x.get(k - 1)); // x2 = x1; x3 = x2
  yield* s.flag.set(k, 1);
  yield* s.atomic.release();
}

function* ringCheck(s: Ring3): Gen {
  yield* s.atomic.acquire();
  let ok = true;
  if ((yield* s.flag.get(0)) !== 0 && (yield* s.flag.get(1)) !== 0 && (yield* s.flag.get(2)) !== 0) {
    ok = (yield* s.x.get(0)) === (yield* s.x.get(1)) && (yield* s.x.get(1)) === (yield* s.x.get(2));
  }
  yield* s.atomic.release();
  check(ok, 't4: x1, x2, x3 differ');
}

const tokenRingProgram = program(
  function* ({ mp }: World) {
    const s: Ring3 = { x: mp.RawArray('i', [1, 2, 1]), flag: mp.RawArray('i', 3), atomic: mp.Lock() };
    for (let k = 0; k < 3; k++) yield* mp.Process({ target: ringStep, args: [s, k], name: `t${k + 1}` }).start();
    yield* mp.Process({ target: ringCheck, args: [s], name: 't4' }).start();
  },
  { name: 'sctbench/token_ring' },
);

export function tokenRing(): BugBenchmark {
  return {
    name: 'CS.token_ring',
    source: 'SCTBench CS/token_ring_bad.c (SV-COMP pthread/token_ring_*.c)',
    bug: 'an order violation: the ring agrees only when t1, t2, t3 run in that order before t4',
    program: tokenRingProgram,
    failsWith: 'property',
    preemptions: 0,
    delays: 2,
    fix: 'none: the assertion states an order the program never imposes; there is no repair that keeps the program',
  };
}

// ---------------------------------------------------------------------------------
// CS.bluetooth_driver_bad (Qadeer & Wu's KISS model of a Windows Bluetooth driver):
// PnpStop sets stoppingFlag and drops the pending-I/O count; PnpAdd (main) checks the
// flag and then, in a separate atomic block, raises the count — between the two the
// driver can be stopped under it.

interface Device {
  readonly pendingIo: RawValue;
  readonly stoppingFlag: RawValue;
  readonly stoppingEvent: RawValue;
  readonly stopped: RawValue;
  readonly atomic: Lock;
}

function* ioIncrement(e: Device, fixed: boolean): Gen<number> {
  if (fixed) {
    yield* e.atomic.acquire();
    const stopping = (yield* e.stoppingFlag.get()) !== 0;
    if (!stopping) yield* e.pendingIo.set((yield* e.pendingIo.get()) + 1);
    yield* e.atomic.release();
    return stopping ? -1 : 0;
  }
  if ((yield* e.stoppingFlag.get()) !== 0) return -1;
  yield* e.atomic.acquire();
  yield* e.pendingIo.set((yield* e.pendingIo.get()) + 1);
  yield* e.atomic.release();
  return 0;
}

function* ioDecrement(e: Device): Gen {
  yield* e.atomic.acquire();
  yield* e.pendingIo.set((yield* e.pendingIo.get()) - 1);
  const pending = yield* e.pendingIo.get();
  yield* e.atomic.release();
  if (pending === 0) yield* e.stoppingEvent.set(1);
}

function* pnpStop(e: Device): Gen {
  yield* e.stoppingFlag.set(1);
  yield* ioDecrement(e);
  if ((yield* e.stoppingEvent.get()) !== 0) yield* e.stopped.set(1); // release allocated resources
}

function bluetoothProgram(fixed: boolean): Program {
  return program(
    function* ({ mp }: World) {
      const e: Device = { pendingIo: mp.RawValue('i', 0), stoppingFlag: mp.RawValue('i', 0), stoppingEvent: mp.RawValue('i', 0), stopped: mp.RawValue('i', 0), atomic: mp.Lock() };
      yield* e.pendingIo.set(1);
      yield* e.stoppingFlag.set(0);
      yield* e.stoppingEvent.set(0);
      yield* e.stopped.set(0);
      const stopper = mp.Process({ target: pnpStop, args: [e], name: 'BCSP_PnpStop' });
      yield* stopper.start();
      // BCSP_PnpAdd, in the main thread
      if ((yield* ioIncrement(e, fixed)) === 0) check((yield* e.stopped.get()) === 0, 'BCSP_PnpAdd: the driver was stopped while it worked');
      yield* ioDecrement(e);
      yield* stopper.join();
    },
    { name: `sctbench/bluetooth_driver${fixed ? '_fixed' : ''}` },
  );
}

export function bluetoothDriver(): BugBenchmark {
  return {
    name: 'CS.bluetooth_driver',
    source: 'SCTBench CS/bluetooth_driver_bad.c (Qadeer & Wu, KISS, PLDI 2004)',
    bug: 'atomicity violation (check, then act): PnpStop runs between PnpAdd\'s check of stoppingFlag and its increment, and stops the device under it',
    program: bluetoothProgram(false),
    failsWith: 'error',
    preemptions: 1,
    delays: 1,
    fixed: bluetoothProgram(true),
    fix: 'the check of stoppingFlag moves into the atomic block of the increment',
  };
}

// ---------------------------------------------------------------------------------
// CS.deadlock01_bad: thread1 takes a then b to increment a counter, thread2 takes b
// then a to decrement it.

interface Counter2 {
  readonly a: Lock;
  readonly b: Lock;
  readonly counter: RawValue;
}

function* lockedAdd(first: Lock, second: Lock, counter: RawValue, k: number): Gen {
  yield* first.acquire();
  yield* second.acquire();
  yield* counter.set((yield* counter.get()) + k);
  yield* second.release();
  yield* first.release();
}

function deadlock01Program(fixed: boolean): Program {
  return program(
    function* ({ mp }: World) {
      const s: Counter2 = { a: mp.Lock(), b: mp.Lock(), counter: mp.RawValue('i', 1) };
      const ps = [
        mp.Process({ target: lockedAdd, args: [s.a, s.b, s.counter, 1], name: 'thread1' }),
        mp.Process({ target: lockedAdd, args: fixed ? [s.a, s.b, s.counter, -1] : [s.b, s.a, s.counter, -1], name: 'thread2' }),
      ];
      yield* startThenJoin(ps);
    },
    { name: `sctbench/deadlock01${fixed ? '_fixed' : ''}` },
  );
}

export function deadlock01(): BugBenchmark {
  return {
    name: 'CS.deadlock01',
    source: 'SCTBench CS/deadlock01_bad.c',
    bug: 'deadlock: thread1 holds a and waits for b; thread2 holds b and waits for a',
    program: deadlock01Program(false),
    failsWith: 'deadlock',
    preemptions: 1,
    delays: 1,
    fixed: deadlock01Program(true),
    fix: 'thread2 takes a before b as well: one lock order',
  };
}

// ---------------------------------------------------------------------------------
// CS.din_philN_sat (SV-COMP pthread/din_phil*, ESBMC): N philosophers each take their
// right then their left fork inside one atomic block, then count themselves in a
// shared phil without a lock; the last to count asserts false.

interface Table {
  readonly fork: Lock[];
  readonly atomic: Lock;
  readonly arg: RawArray; // main's arg[N], each thread reads its own cell through a pointer
  readonly phil: RawValue | null; // null: the _unsat version, which has no phil
}

function* philosopher(t: Table, i: number): Gen {
  const n = t.fork.length;
  const id = yield* t.arg.get(i);
  const [left, right] = [id, (id + 1) % n];
  yield* t.atomic.acquire();
  yield* t.fork[right]!.acquire();
  yield* t.fork[left]!.acquire();
  yield* t.fork[left]!.release();
  yield* t.fork[right]!.release();
  yield* t.atomic.release();
  if (t.phil) {
    yield* t.phil.set((yield* t.phil.get()) + 1); // ++phil
    check((yield* t.phil.get()) !== n, `philosopher ${id}: phil == ${n}`);
  }
}

function dinPhilProgram(n: number, sat: boolean): Program {
  return program(
    function* ({ mp }: World) {
      const t: Table = { fork: Array.from({ length: n }, () => mp.Lock()), atomic: mp.Lock(), arg: mp.RawArray('i', n), phil: sat ? mp.RawValue('i', 0) : null };
      const ps: Process[] = [];
      for (let i = 0; i < n; i++) {
        yield* t.arg.set(i, i);
        const p = mp.Process({ target: philosopher, args: [t, i], name: `philosopher-${i}` });
        yield* p.start();
        ps.push(p);
      }
      for (const p of ps) yield* p.join();
    },
    { name: `sctbench/din_phil${n}_${sat ? 'sat' : 'unsat'}` },
  );
}

/** din_philN_sat with N = `n` philosophers (SCTBench has 2 to 7). */
export function dinPhil(n = 2): BugBenchmark {
  return {
    name: `CS.din_phil${n}_sat`,
    source: `SCTBench CS/din_phil${n}_sat.c (SV-COMP pthread, from ESBMC); fixed: din_phil${n}_unsat.c`,
    bug: `an assertion meant to be reached (ESBMC's _sat, a reachable error): the last philosopher to count itself sees phil == ${n} and asserts false, in every schedule where no two increments race`,
    program: dinPhilProgram(n, true),
    failsWith: 'property',
    preemptions: 0,
    delays: 0,
    fixed: dinPhilProgram(n, false),
    fix: `din_phil${n}_unsat.c: no phil and no assertion; the atomic block keeps the opposite fork orders from deadlocking`,
  };
}

// ---------------------------------------------------------------------------------
// CS.sync02_bad: a producer and a consumer hand N = 2 items over through num under a
// mutex and two condition variables, empty and full; num starts at 2, not 0.

interface Sync {
  readonly num: RawValue;
  readonly m: Lock;
  readonly empty: Condition;
  readonly full: Condition;
}

/** pthread_cond_signal, after the unlock: a Condition notifies only holding its lock. */
function* signal(c: Condition): Gen {
  yield* c.acquire();
  yield* c.notify();
  yield* c.release();
}

function* producer(s: Sync, n: number): Gen {
  for (let i = 0; i < n; i++) {
    yield* s.m.acquire();
    while ((yield* s.num.get()) > 0) yield* s.empty.wait();
    yield* s.num.set((yield* s.num.get()) + 1); // produce
    yield* s.m.release();
    yield* signal(s.full);
  }
}

function* consumer(s: Sync, n: number): Gen {
  for (let j = 0; j < n; j++) {
    yield* s.m.acquire();
    while ((yield* s.num.get()) === 0) yield* s.full.wait();
    yield* s.num.set((yield* s.num.get()) - 1); // consume
    yield* s.m.release();
    yield* signal(s.empty);
  }
}

function sync02Program(n: number, initial: number): Program {
  return program(
    function* ({ mp }: World) {
      const m = mp.Lock();
      const s: Sync = { num: mp.RawValue('i', 0), m, empty: mp.Condition(m), full: mp.Condition(m) };
      yield* s.num.set(initial);
      const ps = [mp.Process({ target: producer, args: [s, n], name: 'producer' }), mp.Process({ target: consumer, args: [s, n], name: 'consumer' })];
      yield* startThenJoin(ps);
    },
    { name: `sctbench/sync02_${n}${initial === 0 ? '_ok' : ''}` },
  );
}

/** sync02 with N = `n` items each way (the _bad file's is 2, the _ok file's 20). */
export function sync02(n = 2): BugBenchmark {
  return {
    name: n === 2 ? 'CS.sync02' : `CS.sync02(${n})`,
    source: 'SCTBench CS/sync02_bad.c; fixed: sync02_ok.c',
    bug: `num starts at 2, not 0: the producer makes an item only when num is 0, and the consumer takes ${n} and stops, so the producer's last item waits on empty for ever, in every schedule`,
    program: sync02Program(n, 2),
    failsWith: 'deadlock',
    preemptions: 0,
    delays: 0,
    fixed: sync02Program(n, 0),
    fix: 'sync02_ok.c: num starts at 0, so every item the consumer takes is one the producer made (the _ok file also has N = 20)',
  };
}

// ---------------------------------------------------------------------------------
// fib_bench (SV-COMP pthread/fib_bench_*.c, now fib_unsafe-N.c / fib_safe-N.c):
// t1 does i += j and t2 j += i, N times each in atomic blocks; main asserts, without
// joining, that neither reached fib(2N + 2) — reachable only when the two strictly
// alternate, and both finish before main reads.

interface Fib {
  readonly i: RawValue;
  readonly j: RawValue;
  readonly atomic: Lock;
}

function* fibAdd(mine: RawValue, other: RawValue, atomic: Lock, n: number): Gen {
  for (let p = 0; p < n; p++) {
    yield* atomic.acquire();
    yield* mine.set((yield* mine.get()) + (yield* other.get()));
    yield* atomic.release();
  }
}

function fibonacci(times: number): number {
  let [prev, cur] = [0, 1];
  for (let x = 0; x < times; x++) [prev, cur] = [cur, prev + cur];
  return prev;
}

function fibProgram(n: number, safe: boolean): Program {
  return program(
    function* ({ mp }: World) {
      const s: Fib = { i: mp.RawValue('i', 0), j: mp.RawValue('i', 0), atomic: mp.Lock() };
      for (const v of [s.i, s.j]) {
        yield* s.atomic.acquire();
        yield* v.set(1);
        yield* s.atomic.release();
      }
      yield* mp.Process({ target: fibAdd, args: [s.i, s.j, s.atomic, n], name: 't1' }).start();
      yield* mp.Process({ target: fibAdd, args: [s.j, s.i, s.atomic, n], name: 't2' }).start();
      const correct = fibonacci(2 * n + 2); // fib(): main's own globals, no other thread touches them
      const i = yield* s.i.get();
      const j = yield* s.j.get();
      check(safe ? i <= correct && j <= correct : i < correct && j < correct, `i = ${i}, j = ${j}, fib(${2 * n + 2}) = ${correct}`);
    },
    { name: `sctbench/fib_${safe ? 'safe' : 'unsafe'}-${n}` },
  );
}

/** fib_bench with N = `n` iterations per thread (SV-COMP's fib_bench has 5; fib_unsafe-N has N). */
export function fibBench(n = 5): BugBenchmark {
  return {
    name: `SV-COMP.fib_unsafe-${n}`,
    source: `SV-COMP pthread/fib_bench_false-unreach-call.c (now fib_unsafe-${n}.c; from ESBMC); fixed: fib_safe-${n}.c`,
    bug: `i or j reaches fib(${2 * n + 2}) only if t1 and t2 alternate strictly, ${2 * n} critical sections, all before main reads: a bug of depth ${2 * n + 1}`,
    program: fibProgram(n, false),
    failsWith: 'error',
    preemptions: 2 * n - 1,
    delays: 3 * n - 2,
    fixed: fibProgram(n, true),
    fix: `fib_safe-${n}.c: the assertion allows fib(${2 * n + 2}) itself (i ≤ fib, j ≤ fib)`,
  };
}

/** The benchmarks that do not grow with a thread count: the tests and the bench run them alike. */
export function fixedSize(): BugBenchmark[] {
  return [account(), lazy01(), carter01(), stack(), queue(), circularBuffer(), tokenRing(), bluetoothDriver(), deadlock01(), dinPhil(), sync02()];
}

/** The suite at the sizes the bench runs. */
export function suite(): BugBenchmark[] {
  return [reorder(3), reorder(10), twostage(), wronglock(), ...fixedSize(), fibBench()];
}
