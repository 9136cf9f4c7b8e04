/**
 * Benchmarks of the DPOR literature in shared-memory primitives (their trace counts
 * are pinned in dpor-benchmarks.test.ts). Model as in the papers: sequential
 * consistency, every operation on a shared object one scheduling point.
 */
import { program, type Lock, type Op, type Program, type RawArray, type World } from '@interleave/core';

type Gen = Generator<Op<unknown>, void, unknown>;

/**
 * lastzero(n) (Abdulla et al. 2014): a reader scans array[n], array[n-1], ... down to
 * the first 0; writer j (1..n) sets array[j] = array[j-1] + 1.
 */
export function lastzero(n: number): Program {
  return program(
    function* ({ mp }: World) {
      const array = mp.RawArray('i', new Array<number>(n + 1).fill(0));
      function* reader(a: RawArray): Gen {
        for (let i = n; (yield* a.get(i)) !== 0; i--);
      }
      function* writer(a: RawArray, j: number): Gen {
        const x = yield* a.get(j - 1);
        yield* a.set(j, x + 1);
      }
      yield* mp.Process({ target: reader, args: [array] }).start();
      for (let j = 1; j <= n; j++) yield* mp.Process({ target: writer, args: [array, j] }).start();
    },
    { name: `lastzero(${n})` },
  );
}

/**
 * filesystem(n) (Flanagan & Godefroid, POPL 2005): thread t locks inode t % 32; if
 * it has no block, it looks for a free one from (2i) % 26 on, each block under its
 * own lock. Threads t and t + 13 contend for the same block.
 *
 * `lostUpdate`: two more processes, started first, each add one to a shared
 * counter (read, then write); the program returns the counter, 1 when an update was
 * lost. A bug that needs one preemption amid much that source DPOR abandons.
 */
export function filesystem(n: number, { lostUpdate = false } = {}): Program<number | undefined> {
  const NUMBLOCKS = 26;
  const NUMINODE = 32;
  return program(
    function* ({ mp }: World) {
      const counter = mp.RawArray('i', [0]);
      function* add(): Gen {
        const v = yield* counter.get(0);
        yield* counter.set(0, v + 1);
      }
      const adders = lostUpdate ? [mp.Process({ target: add }), mp.Process({ target: add })] : [];
      for (const p of adders) yield* p.start();
      const locki = Array.from({ length: NUMINODE }, () => mp.Lock());
      const lockb = Array.from({ length: NUMBLOCKS }, () => mp.Lock());
      const inode = mp.RawArray('i', new Array<number>(NUMINODE).fill(0));
      const busy = mp.RawArray('i', new Array<number>(NUMBLOCKS).fill(0));
      function* thread(tid: number, li: Lock[], lb: Lock[]): Gen {
        const i = tid % NUMINODE;
        yield* li[i]!.acquire();
        if ((yield* inode.get(i)) === 0) {
          for (let b = (i * 2) % NUMBLOCKS; ; b = (b + 1) % NUMBLOCKS) {
            yield* lb[b]!.acquire();
            if ((yield* busy.get(b)) === 0) {
              yield* busy.set(b, 1);
              yield* inode.set(i, b + 1);
              yield* lb[b]!.release();
              break;
            }
            yield* lb[b]!.release();
          }
        }
        yield* li[i]!.release();
      }
      for (let t = 0; t < n; t++) yield* mp.Process({ target: thread, args: [t, locki, lockb] }).start();
      for (const p of adders) yield* p.join();
      return lostUpdate ? yield* counter.get(0) : undefined;
    },
    { name: lostUpdate ? `filesystem(${n})+lost-update` : `filesystem(${n})` },
  );
}

/**
 * indexer(n) (Flanagan & Godefroid, POPL 2005): n threads each insert 4 values
 * into a 128-slot hash table by compare-and-swap with linear probing.
 */
export function indexer(n: number): Program {
  return program(
    function* ({ mp }: World) {
      const table = mp.RawArray('i', new Array<number>(128).fill(0));
      function* thread(tid: number, t: RawArray): Gen {
        for (let m = 1; m <= 4; m++) {
          const w = m * 11 + tid;
          let h = (w * 7) % 128;
          while (!(yield* t.compareAndSwap(h, 0, w))) h = (h + 1) % 128;
        }
      }
      for (let t = 0; t < n; t++) yield* mp.Process({ target: thread, args: [t, table] }).start();
    },
    { name: `indexer(${n})` },
  );
}

/** readers(n) (Abdulla et al. 2014): one writer of x; reader i reads its own cell, then x. */
export function readers(n: number): Program {
  return program(
    function* ({ mp }: World) {
      const cells = mp.RawArray('i', new Array<number>(n + 1).fill(0)); // cells[0] is x
      function* writer(a: RawArray): Gen {
        yield* a.set(0, 42);
      }
      function* reader(a: RawArray, i: number): Gen {
        yield* a.get(i);
        yield* a.get(0);
      }
      yield* mp.Process({ target: writer, args: [cells] }).start();
      for (let i = 1; i <= n; i++) yield* mp.Process({ target: reader, args: [cells, i] }).start();
    },
    { name: `readers(${n})` },
  );
}

