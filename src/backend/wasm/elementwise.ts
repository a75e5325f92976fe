import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';
import { chunkLength } from './threads.js';

type K = RawKernels<number, number, number>;
type EW = Pick<K, Exclude<keyof K, 'matmul' | 'matmulBatched' | 'sgdStep' | 'adamStep' | 'dropout' | 'softThreshold' | 'gelu' | 'geluBackward' | 'tanh' | 'tanhBackward' | 'sign' | 'absSum'>>;

/**
 * Elementwise passes over at least this many floats are cut into contiguous chunks, one
 * per thread (measured on 2 cores; see bench/PROFILE.md). Chunks start at multiples of 16
 * floats (64 bytes), so the SIMD loop and the scalar tail see the same elements as in one
 * call and every output gets the same bits. Reductions (sum, sumRows, mse, crossEntropy)
 * stay on one thread: their summation order is part of their contract.
 */
export const ELEMENTWISE_THREAD_MIN = 1 << 18;

/** The elementwise kernels of the wasm backend: thin calls into assembly/elementwise.ts. */
export function elementwiseKernels(ctx: WasmContext): EW {
  const e = ctx.exports;
  const f = (name: string) => {
    const fn = e[name];
    if (typeof fn !== 'function') throw new TypeError(`regula.wasm lacks the export ${name}: rebuild it with \`npm run build\``);
    return fn;
  };
  const addRowVector = f('addRowVector'), add = f('add'), mul = f('mul'), scale = f('scale'), axpy = f('axpy');
  const fill = f('fill'), relu = f('relu'), reluBackward = f('reluBackward'), sumRows = f('sumRows');
  const sum = f('sum'), sumSquares = f('sumSquares'), mse = f('mse'), mseBackward = f('mseBackward');
  const crossEntropy = f('crossEntropy'), crossEntropyBackward = f('crossEntropyBackward');
  const crossEntropyBackwardExps = f('crossEntropyBackwardExps');

  const args: number[] = new Array(6).fill(0);
  /** fn(p0[, p1[, p2]], n, s0) over n floats, cut into chunks on the pool (ctx.pool non-null). */
  const split = (name: string, fn: (...a: number[]) => number, n: number, nptr: number, p0: number, p1: number, p2: number, s0: number): void => {
    const pool = ctx.pool!;
    const len = chunkLength(n, pool.size, 16), parts = Math.ceil(n / len), id = pool.fn(name);
    pool.begin();
    for (let t = 1; t < parts; t++) {
      const o = 4 * t * len;
      args[0] = p0 + o; args[1] = p1 + o; args[2] = p2 + o;
      args[nptr] = Math.min(len, n - t * len); args[nptr + 1] = s0;
      pool.post(t, id, args, nptr + 2);
    }
    try {
      if (nptr === 1) fn(p0, len, s0);
      else if (nptr === 2) fn(p0, p1, len, s0);
      else fn(p0, p1, p2, len, s0);
    } finally {
      pool.join(parts - 1);
    }
  };
  const big = (n: number) => n >= ELEMENTWISE_THREAD_MIN && ctx.pool !== null;

  return {
    addRowVector(out, x, b, rows, cols) {
      if (!big(rows * cols) || rows < 2 * ctx.pool!.size) { addRowVector(out, x, b, rows, cols); return; }
      // Rows are independent: any cut between rows computes exactly what one call does.
      const pool = ctx.pool!;
      const rowsPer = Math.ceil(rows / pool.size), parts = Math.ceil(rows / rowsPer), id = pool.fn('addRowVector');
      pool.begin();
      for (let t = 1; t < parts; t++) {
        const o = 4 * t * rowsPer * cols;
        args[0] = out + o; args[1] = x + o; args[2] = b; args[3] = Math.min(rowsPer, rows - t * rowsPer); args[4] = cols;
        pool.post(t, id, args, 5);
      }
      try { addRowVector(out, x, b, rowsPer, cols); } finally { pool.join(parts - 1); }
    },
    add(out, a, b, n) { if (big(n)) split('add', add, n, 3, out, a, b, 0); else add(out, a, b, n); },
    mul(out, a, b, n) { if (big(n)) split('mul', mul, n, 3, out, a, b, 0); else mul(out, a, b, n); },
    scale(out, x, n, alpha) { if (big(n)) split('scale', scale, n, 2, out, x, 0, alpha); else scale(out, x, n, alpha); },
    axpy(y, x, n, alpha) { if (big(n)) split('axpy', axpy, n, 2, y, x, 0, alpha); else axpy(y, x, n, alpha); },
    fill(out, n, value) { if (big(n)) split('fill', fill, n, 1, out, 0, 0, value); else fill(out, n, value); },
    relu(out, x, n) { if (big(n)) split('relu', relu, n, 2, out, x, 0, 0); else relu(out, x, n); },
    reluBackward(out, g, x, n) { if (big(n)) split('reluBackward', reluBackward, n, 3, out, g, x, 0); else reluBackward(out, g, x, n); },
    sumRows(out, x, rows, cols) { sumRows(out, x, rows, cols); },
    sum(x, n) { return sum(x, n); },
    sumSquares(x, n) { return sumSquares(x, n); },
    mse(a, b, n) { return mse(a, b, n); },
    mseBackward(out, a, b, n, alpha) { if (big(n)) split('mseBackward', mseBackward, n, 3, out, a, b, alpha); else mseBackward(out, a, b, n, alpha); },
    crossEntropy(logits, labels, rows, cols, exps) { return crossEntropy(logits, labels, rows, cols, exps ?? 0); },
    crossEntropyBackward(out, logits, labels, rows, cols, alpha) { crossEntropyBackward(out, logits, labels, rows, cols, alpha); },
    crossEntropyBackwardExps(out, exps, labels, rows, cols, alpha) { crossEntropyBackwardExps(out, exps, labels, rows, cols, alpha); },
  };
}
