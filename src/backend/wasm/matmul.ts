import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';
import { chunkLength } from './threads.js';

type K = RawKernels<number, number, number>;

/** Rows per block that threads claim from the shared counter (at most). */
const ROW_BLOCK = 64;

/** The exports the thread pool runs for this file. */
export const MATMUL_THREADED: readonly string[] = ['matmulPackB', 'matmulBlockPacked'];

/**
 * Threads are used when m·n·k reaches this many multiply-adds and op(a) has at least 8
 * rows per thread. Measured on 2 cores (bench/PROFILE.md): at 2^18 two threads were no
 * faster, at 2^19 (the 64-128-10 MLP's first layer) between 0.7x and 1.3x of one thread
 * from run to run; from 2^20 they win clearly.
 */
export const MATMUL_THREAD_MIN = 1 << 20;

/**
 * The matmul kernels of the wasm backend: calls into assembly/matmul.ts. On the pool a
 * call runs in parts: the threads pack disjoint 8-column panels of op(b) into one shared
 * buffer (matmulPackB); then, one K block after the other (so that block's packed B stays
 * in cache), they claim blocks of output rows from a shared counter (matmulBlockPacked)
 * until all are done. Every output is computed by exactly the code and
 * order of the single-thread kernel (rows only, never k), so the bits do not depend on
 * the thread count.
 */
export function matmulKernels(ctx: WasmContext): Pick<K, 'matmul'> {
  const kernel = ctx.fn('matmul');
  const packKernel = ctx.fn('matmulPackB'), rowsKernel = ctx.fn('matmulBlockPacked');
  // The K block of assembly/matmul.ts, from the binary: it sizes the packing scratch (the A
  // micro-panel is 4 rows × KC values, each stored four times: 64·KC bytes).
  const KC = ctx.fn('matmulKC')();
  const slotNames: string[] = [];
  const slotA = (t: number) => (slotNames[t] ??= `matmul.thread.${t}`);
  const args: number[] = new Array(14).fill(0);
  const scratch: number[] = [];
  return {
    matmul(out, a, b, m, n, k, transA, transB, accumulate) {
      const kc = Math.min(k, KC);
      const pool = ctx.pool;
      if (pool !== null && m * n * k >= MATMUL_THREAD_MIN && m >= 8 * pool.size) {
        const T = pool.size, n8 = (n + 7) & ~7;
        // Row blocks: about four per thread (threads claim them as they finish: balance on a
        // busy machine), multiples of the 4-row tile, at most one M block.
        const rows = Math.min(ROW_BLOCK, chunkLength(m, 4 * T, 4));
        const aBytes = 64 * kc;
        // All scratch first: a later grow never moves earlier pointers, and no worker runs yet.
        const packed = ctx.scratch('matmul.packedB', 4 * n8 * k);
        for (let t = 0; t < T; t++) scratch[t] = ctx.scratch(slotA(t), aBytes + 128);
        const tB = transB ? 1 : 0;
        // Part 1: panels of op(b), cut at multiples of 8 columns.
        const cols = chunkLength(n8, T, 8), parts = Math.ceil(n8 / cols);
        const packId = pool.fn('matmulPackB');
        pool.begin();
        args[0] = packed; args[1] = b; args[2] = n; args[3] = k; args[4] = tB;
        for (let t = 1; t < parts; t++) {
          args[5] = t * cols; args[6] = Math.min(n8, (t + 1) * cols);
          pool.post(t, packId, args, 7);
        }
        try { packKernel(packed, b, n, k, tB, 0, cols); } finally { pool.join(parts - 1); }
        // Part 2, for each K block in order: row blocks claimed from a shared counter.
        const tA = transA ? 1 : 0, id = pool.fn('matmulBlockPacked'), s0 = scratch[0]!;
        const blocks = Math.ceil(k / KC), kb = Math.ceil(k / blocks);
        const perWorker = (w: number, x: number[]) => { x[12] = scratch[w]!; x[13] = scratch[w]! + aBytes; };
        for (let pc = 0; pc < k; pc += kb) {
          const kcb = Math.min(kb, k - pc), fromC = accumulate || pc > 0 ? 1 : 0;
          args[0] = out; args[1] = a; args[2] = m; args[3] = n; args[4] = k; args[5] = tA; args[6] = fromC;
          args[7] = pc; args[8] = kcb; args[9] = 0; args[10] = 0; args[11] = packed;
          pool.dynamic(id, args, 14, m, rows, 9, perWorker,
            (r0, r1) => { rowsKernel(out, a, m, n, k, tA, fromC, pc, kcb, r0, r1, packed, s0, s0 + aBytes); });
        }
        return;
      }
      // Both slots are requested before the call; a later grow never moves earlier pointers.
      const packA = ctx.scratch('matmul.packA', 64 * kc);
      const packB = ctx.scratch('matmul.packB', 4 * kc * (((n + 7) >> 3) << 3));
      kernel(out, a, b, m, n, k, transA ? 1 : 0, transB ? 1 : 0, accumulate ? 1 : 0, packA, packB);
    },
  };
}
