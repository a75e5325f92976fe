import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';
import { chunkSize, type RangeCall } from './threads.js';

type K = RawKernels<number, number, number>;

/** Rows per block that threads claim from the shared counter (at most). @internal mutable for bench/ab-pool.ts's paired runs. */
export const MATMUL_TUNING = { rowBlock: 64 };

/** The exports the thread pool runs for this file. */
export const MATMUL_THREADED: readonly string[] = ['matmulPackB', 'matmulBlockPacked', 'matmulBatched'];

/**
 * Threads are used when m·n·k reaches this many multiply-adds and op(a) has at least 8
 * rows per thread. Below it a call takes ~0.1 ms on one core, about what waking a worker
 * and sharing the packed panels between cores cost, so on a busy machine a split loses:
 * the 64-256-10 MLP step at batch 128 (two matmuls of 2^21) ran 1.16-1.21x slower on two
 * threads than on one with the threshold at 2^20 (`npm run bench -- threads`, load 16 on
 * 2 cores), and a lone 2^21 matmul gained 1.02x on two threads there, 2^22 1.63x.
 */
export const MATMUL_THREAD_MIN = 1 << 22;

/** Words of matmulBatched's argument block. */
const ARG_WORDS = 20;

/**
 * matmulBatched splits its (batch, head) pairs over threads from this many multiply-adds
 * (after the causal masks). Both GPT shapes of the benchmarks have attention products of
 * 2^21 (names: 64 pairs of 64×64×16) to 2^21.6 (nanoGPT's recipe: 48 pairs of 64×64×32)
 * multiply-adds after the masks, which 2^22 left on one thread: 5% of the recipe's
 * one-thread step, a tenth of a two-thread one. At 2^20, the 2-thread names step against
 * 2^22, paired (bench/trees-paired.ts, 30-100 pairs, load 18-22 on 2 cores): median
 * per-pair ratios 0.94, 0.85 and once 2.07; the recipe's 0.99 and 1.01. Earlier (session 4,
 * load 19) a split at 2^20 read 1.045x slower: at this load a split is a lottery on
 * whether the worker holds the core, so the threshold follows the arithmetic (a 2^20 call
 * is ~50 µs of work, a polled round trip 3-25 µs) and the pool's backing off.
 */
export const BATCHED_THREAD_MIN = 1 << 20;

/**
 * The matmul kernels of the wasm backend: calls into assembly/matmul.ts. On the pool a
 * call runs as parallel range calls (src/backend/wasm/threads.ts): first the threads pack
 * 8-column panels of op(b) into one shared buffer (matmulPackB over column chunks); then,
 * one K block after the other (so that block's packed B stays in cache), they claim blocks
 * of output rows (matmulBlockPacked), each thread with its own A micro-panel scratch.
 * Every output is computed by exactly the code and order of the single-thread kernel
 * (rows only, never k), so the bits do not depend on the thread count or on who ran what.
 */
export function matmulKernels(ctx: WasmContext): Pick<K, 'matmul' | 'matmulBatched'> {
  const kernel = ctx.fn('matmul');
  const batchedRange = ctx.fn('matmulBatched'), batchedScratch = ctx.fn('matmulBatchedScratch');
  // matmulBatched's argument block (see matmulBatched) and its range call over pairs z:
  // args (block, z0, z1, scratch), z0 = chunk start, z1 = its end, scratch per thread.
  let words: Uint32Array | null = null;
  const zArgs = [0, 0, 0, 0], zThread = [0, 0, 0, 0];
  const zCall: RangeCall = { fn: 0, end: 0, step: 0, args: zArgs, start: [0, 1, 1, 0], len: [0, 0, 1, 0], thread: zThread, rerunnable: true };
  // The pool calls these two by name; looking them up here makes a missing export fail at load.
  ctx.fn('matmulPackB'); ctx.fn('matmulBlockPacked');
  // The K block of assembly/matmul.ts, from the binary: it sizes the packing scratch (the A
  // micro-panel is 4 rows × KC values, each stored four times: 64·KC bytes).
  const KC = ctx.fn('matmulKC')();
  // The argument coefficients of the two range calls (see RangeCall): reused, only `args` changes.
  const pack: RangeCall = { fn: 0, end: 0, step: 0, args: new Array<number>(7).fill(0), start: [0, 0, 0, 0, 0, 1, 1], len: [0, 0, 0, 0, 0, 0, 1], rerunnable: true };
  const rowArgs = new Array<number>(14).fill(0), rowThread = new Array<number>(14).fill(0);
  const rows: RangeCall = { fn: 0, end: 0, step: 0, args: rowArgs, start: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0], len: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], thread: rowThread, rerunnable: false };
  return {
    matmul(out, a, b, m, n, k, transA, transB, accumulate) {
      const kc = Math.min(k, KC);
      const pool = ctx.pool;
      if (pool !== null && m * n * k >= MATMUL_THREAD_MIN && m >= 8 * pool.size) {
        const T = pool.size, n8 = (n + 7) & ~7;
        const aBytes = 64 * kc;
        // All scratch first: a later grow never moves earlier pointers, and no worker runs yet.
        // Per-thread A scratch: one block of T slots, so thread t's is at base + t·stride.
        const stride = aBytes + 128;
        const packed = ctx.scratch('matmul.packedB', 4 * n8 * k);
        const scratchA = ctx.scratch('matmul.threadA', stride * T);
        // Part 1: panels of op(b), in chunks of whole 8-column panels.
        pack.fn = pool.fn('matmulPackB'); pack.end = n8; pack.step = chunkSize(n8, T, 8, 64);
        const pa = pack.args as number[];
        pa[0] = packed; pa[1] = b; pa[2] = n; pa[3] = k; pa[4] = transB ? 1 : 0;
        pool.run(pack);
        // Part 2, for each K block in order: row blocks (multiples of the 4-row tile, at most 64).
        rows.fn = pool.fn('matmulBlockPacked'); rows.end = m; rows.step = chunkSize(m, T, 4, 4, MATMUL_TUNING.rowBlock);
        rowThread[12] = stride; rowThread[13] = stride;
        const blocks = Math.ceil(k / KC), kb = Math.ceil(k / blocks);
        for (let pc = 0; pc < k; pc += kb) {
          const kcb = Math.min(kb, k - pc), fromC = accumulate || pc > 0 ? 1 : 0;
          rowArgs[0] = out; rowArgs[1] = a; rowArgs[2] = m; rowArgs[3] = n; rowArgs[4] = k; rowArgs[5] = transA ? 1 : 0; rowArgs[6] = fromC;
          rowArgs[7] = pc; rowArgs[8] = kcb; rowArgs[9] = 0; rowArgs[10] = 0; rowArgs[11] = packed; rowArgs[12] = scratchA; rowArgs[13] = scratchA + aBytes;
          // Rows computed from zero (not from C) can be recomputed by the caller if a worker dies.
          rows.rerunnable = fromC === 0;
          pool.run(rows);
        }
        return;
      }
      // Both slots are requested before the call; a later grow never moves earlier pointers.
      const packA = ctx.scratch('matmul.packA', 64 * kc);
      const packB = ctx.scratch('matmul.packB', 4 * kc * (((n + 7) >> 3) << 3));
      kernel(out, a, b, m, n, k, transA ? 1 : 0, transB ? 1 : 0, accumulate ? 1 : 0, packA, packB);
    },
    matmulBatched(out, a, b, batch, heads, m, n, k, offA, lda, sAb, sAh, offB, ldb, sBb, sBh, offC, ldc, sCb, sCh,
      transA, transB, accumulate, causalA, causalOut) {
      const Z = batch * heads, pool = ctx.pool;
      // The multiply-adds the masks leave (about half of each when causal).
      const work = Z * m * n * k * (causalA ? 0.5 : 1) * (causalOut ? 0.5 : 1);
      const T = pool !== null && Z >= 2 && work >= BATCHED_THREAD_MIN ? Math.min(pool.size, Z) : 1;
      const bytes = (batchedScratch(n, k) + 15) & ~15;
      // All scratch first (a later grow never moves earlier pointers), then the argument block.
      const argp = ctx.scratch('matmulBatched.args', 4 * ARG_WORDS);
      const scratch = ctx.scratch('matmulBatched.thread', bytes * T);
      if (words === null || words.buffer !== ctx.memory.buffer) words = new Uint32Array(ctx.memory.buffer);
      const w = words, o = argp >>> 2;
      w[o] = out; w[o + 1] = a; w[o + 2] = b; w[o + 3] = heads; w[o + 4] = m; w[o + 5] = n; w[o + 6] = k;
      w[o + 7] = offA; w[o + 8] = lda; w[o + 9] = sAb; w[o + 10] = sAh; w[o + 11] = offB; w[o + 12] = ldb; w[o + 13] = sBb; w[o + 14] = sBh;
      w[o + 15] = offC; w[o + 16] = ldc; w[o + 17] = sCb; w[o + 18] = sCh;
      w[o + 19] = (transA ? 1 : 0) | (transB ? 2 : 0) | (accumulate ? 4 : 0) | (causalA ? 8 : 0) | (causalOut ? 16 : 0);
      if (T === 1) {
        batchedRange(argp, 0, Z, scratch);
        return;
      }
      zCall.fn = pool!.fn('matmulBatched'); zCall.end = Z; zCall.step = chunkSize(Z, T, 1, 1);
      zArgs[0] = argp; zArgs[3] = scratch; zThread[3] = bytes;
      // Pairs computed from zero (not from out) can be recomputed by the caller if a worker dies.
      zCall.rerunnable = !accumulate;
      pool!.run(zCall);
    },
  };
}
