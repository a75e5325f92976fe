import type { RawKernels, TableName } from '../raw.js';
import { TABLE, TABLE_NAMES } from '../raw.js';
import type { WasmContext, WasmFn } from './context.js';
import { chunkLength } from './threads.js';

type K = RawKernels<number, number, number>;

/**
 * Elementwise passes over at least this many floats are cut into contiguous chunks, one
 * per thread (measured on 2 cores; see bench/PROFILE.md). Chunks start at multiples of 16
 * floats (64 bytes), so the SIMD loop and the scalar tail see the same elements as in one
 * call and every output gets the same bits. Reductions (sum, sumRows, mse, crossEntropy)
 * stay on one thread: their summation order is part of their contract.
 */
export const ELEMENTWISE_THREAD_MIN = 1 << 18;

/** Whether a table kernel is elementwise (map/zip with or without a scalar), so it may be cut into chunks. */
export function splittable(name: TableName): boolean {
  const sig = TABLE[name].sig;
  return sig !== 'reduce' && sig !== 'reduce2';
}

/** The exports the thread pool runs for this file (the glue cuts their calls into parts). */
export const ELEMENTWISE_THREADED: readonly string[] = ['addRowVector', 'fill', ...TABLE_NAMES.filter(splittable)];

/**
 * The table kernels (src/backend/raw.ts TABLE) and the other elementwise and reduction
 * kernels of the wasm backend: thin calls into assembly/, elementwise ones cut into chunks
 * on the pool above ELEMENTWISE_THREAD_MIN.
 */
export function elementwiseKernels(ctx: WasmContext): Pick<K, TableName | 'addRowVector' | 'fill' | 'sumRows' | 'crossEntropy' | 'crossEntropyBackward' | 'crossEntropyBackwardExps'> {
  const args: number[] = new Array(6).fill(0);
  /** fn(p0[, p1[, p2]], n, s0) over n floats, cut into chunks on the pool (ctx.pool non-null). */
  const split = (name: string, fn: WasmFn, n: number, nptr: number, p0: number, p1: number, p2: number, s0: number): void => {
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

  /** The glue of one table kernel, by its signature (the export takes the same arguments). */
  const table = (name: TableName): unknown => {
    const fn = ctx.fn(name);
    switch (TABLE[name].sig) {
      case 'map': return (out: number, x: number, n: number) => { if (big(n)) split(name, fn, n, 2, out, x, 0, 0); else fn(out, x, n); };
      case 'zip': return (out: number, a: number, b: number, n: number) => { if (big(n)) split(name, fn, n, 3, out, a, b, 0); else fn(out, a, b, n); };
      case 'mapScalar': return (out: number, x: number, n: number, s: number) => { if (big(n)) split(name, fn, n, 2, out, x, 0, s); else fn(out, x, n, s); };
      case 'zipScalar': return (out: number, a: number, b: number, n: number, s: number) => { if (big(n)) split(name, fn, n, 3, out, a, b, s); else fn(out, a, b, n, s); };
      case 'reduce': return (x: number, n: number) => fn(x, n);
      case 'reduce2': return (a: number, b: number, n: number) => fn(a, b, n);
    }
  };
  const tableKernels = Object.fromEntries(TABLE_NAMES.map((name) => [name, table(name)])) as Pick<K, TableName>;

  const addRowVector = ctx.fn('addRowVector'), fill = ctx.fn('fill'), sumRows = ctx.fn('sumRows');
  const crossEntropy = ctx.fn('crossEntropy'), crossEntropyBackward = ctx.fn('crossEntropyBackward');
  const crossEntropyBackwardExps = ctx.fn('crossEntropyBackwardExps');
  return {
    ...tableKernels,
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
    fill(out, n, value) { if (big(n)) split('fill', fill, n, 1, out, 0, 0, value); else fill(out, n, value); },
    sumRows(out, x, rows, cols) { sumRows(out, x, rows, cols); },
    crossEntropy(logits, labels, rows, cols, exps) { return crossEntropy(logits, labels, rows, cols, exps ?? 0); },
    crossEntropyBackward(out, logits, labels, rows, cols, alpha) { crossEntropyBackward(out, logits, labels, rows, cols, alpha); },
    crossEntropyBackwardExps(out, exps, labels, rows, cols, alpha) { crossEntropyBackwardExps(out, exps, labels, rows, cols, alpha); },
  };
}
