import type { RawKernels } from '../raw.js';
import type { WasmContext, WasmExportName } from './context.js';
import { chunkSize, type RangeCall } from './threads.js';

type K = RawKernels<number, number, number>;

/**
 * LayerNorms over at least this many elements (rows·cols) are cut into parts that the
 * threads claim. The forward's rows are independent (each row's statistics are its own), so
 * row chunks compute what one call computes there. The backward runs as two parallel calls
 * that read the same inputs and write disjoint outputs: dx over row chunks
 * (layerNormBackward without dweight and dbias), then dweight and dbias over column chunks
 * (layerNormBackwardParams: each column adds its rows in order 0..rows−1, as the one-call
 * kernel does). So the bits do not depend on the thread count.
 */
export const LAYERNORM_THREAD_MIN = 1 << 16;
/** The smallest chunk of a threaded LayerNorm (elements). */
const LAYERNORM_CHUNK_MIN = 1 << 13;

/** The exports the thread pool runs for this file. */
export const LAYERNORM_THREADED: readonly WasmExportName[] = ['layerNorm', 'layerNormBackward', 'layerNormBackwardParams'];

/** The LayerNorm kernels of the wasm backend: calls into assembly/layernorm.ts (null → pointer 0), threaded over rows and columns. */
export function layernormKernels(ctx: WasmContext): Pick<K, 'layerNorm' | 'layerNormBackward'> {
  const f = ctx.fn;
  const layerNorm = f('layerNorm'), layerNormBackward = f('layerNormBackward');
  f('layerNormBackwardParams'); // the pool calls it by name: a missing export fails at load
  // Range calls, reused. Forward over rows: out and x advance a row, mean and rstd a float, rows is the chunk's length.
  const fwd: RangeCall = { fn: 0, end: 0, step: 0, args: new Array<number>(9).fill(0), start: [0, 0, 0, 0, 4, 4], len: [0, 0, 0, 0, 0, 0, 1], rerunnable: false };
  // Backward dx over rows: dx, g, x advance a row, mean and rstd a float; no dweight, dbias.
  const rowsCall: RangeCall = { fn: 0, end: 0, step: 0, args: new Array<number>(10).fill(0), start: [0, 0, 0, 0, 4, 4], len: [0, 0, 0, 0, 0, 0, 0, 0, 1], rerunnable: true };
  // Backward dweight, dbias over columns: (c0, c1) = (chunk start, chunk end).
  const colsCall: RangeCall = { fn: 0, end: 0, step: 0, args: new Array<number>(10).fill(0), start: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1], len: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1], rerunnable: false };
  const threaded = (rows: number, cols: number) => ctx.pool !== null && rows >= 2 * ctx.pool.size && rows * cols >= LAYERNORM_THREAD_MIN;
  return {
    layerNorm(out, x, weight, bias, mean, rstd, rows, cols, eps) {
      if (!threaded(rows, cols)) { layerNorm(out, x, weight ?? 0, bias ?? 0, mean, rstd, rows, cols, eps); return; }
      const pool = ctx.pool!, a = fwd.args as number[], s = fwd.start as number[];
      a[0] = out; a[1] = x; a[2] = weight ?? 0; a[3] = bias ?? 0; a[4] = mean; a[5] = rstd; a[6] = 0; a[7] = cols; a[8] = eps;
      s[0] = s[1] = 4 * cols;
      fwd.fn = pool.fn('layerNorm'); fwd.end = rows; fwd.step = chunkSize(rows, pool.size, 1, Math.ceil(LAYERNORM_CHUNK_MIN / cols));
      fwd.rerunnable = out !== x;
      pool.run(fwd);
    },
    layerNormBackward(dx, g, x, weight, mean, rstd, dweight, dbias, rows, cols) {
      if (!threaded(rows, cols)) { layerNormBackward(dx, g, x, weight ?? 0, mean, rstd, dweight ?? 0, dbias ?? 0, rows, cols); return; }
      const pool = ctx.pool!, a = rowsCall.args as number[], s = rowsCall.start as number[];
      a[0] = dx; a[1] = g; a[2] = x; a[3] = weight ?? 0; a[4] = mean; a[5] = rstd; a[6] = 0; a[7] = 0; a[8] = 0; a[9] = cols;
      s[0] = s[1] = s[2] = 4 * cols;
      rowsCall.fn = pool.fn('layerNormBackward'); rowsCall.end = rows; rowsCall.step = chunkSize(rows, pool.size, 1, Math.ceil(LAYERNORM_CHUNK_MIN / cols));
      pool.run(rowsCall);
      if (dweight === null && dbias === null) return;
      const b = colsCall.args as number[];
      b[0] = g; b[1] = x; b[2] = mean; b[3] = rstd; b[4] = dweight ?? 0; b[5] = dbias ?? 0; b[6] = rows; b[7] = cols; b[8] = 0; b[9] = 0;
      // Columns in chunks of 4 at least (one f32 line of dweight is not shared by two threads' stores).
      colsCall.fn = pool.fn('layerNormBackwardParams'); colsCall.end = cols; colsCall.step = chunkSize(cols, pool.size, 4, Math.ceil(LAYERNORM_CHUNK_MIN / rows), Infinity, 2);
      pool.run(colsCall);
    },
  };
}
