import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';
import { chunkSize, type RangeCall } from './threads.js';

type K = RawKernels<number, number, number>;
type EW = Pick<K, Exclude<keyof K, 'matmul' | 'matmulBatched' | 'sgdStep' | 'adamStep' | 'dropout' | 'softThreshold' | 'gelu' | 'geluBackward' | 'tanh' | 'tanhBackward' | 'sign' | 'absSum' |
  'layerNorm' | 'layerNormBackward' | 'causalSoftmax' | 'causalSoftmaxBackward' | 'embedding' | 'embeddingBackward'>>;

/**
 * Elementwise passes over at least this many floats are cut into contiguous chunks that
 * the threads claim (measured on 2 cores; see bench/PROFILE.md). Chunks start at multiples of 16
 * floats (64 bytes), so the SIMD loop and the scalar tail see the same elements as in one
 * call and every output gets the same bits. Reductions (sum, sumRows, mse, crossEntropy)
 * stay on one thread: their summation order is part of their contract.
 */
export const ELEMENTWISE_THREAD_MIN = 1 << 18;
/** The smallest chunk of a threaded elementwise pass (floats): a chunk is worth a claim. */
const ELEMENTWISE_CHUNK_MIN = 1 << 14;

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

  // One range call, reused: pointers advance 4 bytes per element, the count is the chunk's length.
  const call: RangeCall = { fn: 0, end: 0, step: 0, args: [0, 0, 0, 0, 0], start: [0, 0, 0, 0, 0], len: [0, 0, 0, 0, 0], rerunnable: false };
  /** fn(p0[, p1[, p2]], n, s0) over n floats, in chunks on the pool (ctx.pool non-null); `out`: p0 is only written. */
  const split = (name: string, n: number, nptr: number, p0: number, p1: number, p2: number, s0: number, out: boolean): void => {
    const pool = ctx.pool!;
    const args = call.args as number[], start = call.start as number[], len = call.len as number[];
    args[0] = p0; args[1] = p1; args[2] = p2; args[nptr] = 0; args[nptr + 1] = s0;
    for (let i = 0; i < 5; i++) { start[i] = i < nptr ? 4 : 0; len[i] = i === nptr ? 1 : 0; }
    call.fn = pool.fn(name); call.end = n; call.step = chunkSize(n, pool.size, 16, ELEMENTWISE_CHUNK_MIN);
    call.rerunnable = out && (nptr < 2 || p0 !== p1) && (nptr < 3 || p0 !== p2);
    pool.run(call);
  };
  const rowCall: RangeCall = { fn: 0, end: 0, step: 0, args: [0, 0, 0, 0, 0], start: [0, 0, 0, 0, 0], len: [0, 0, 0, 1, 0], rerunnable: false };
  const big = (n: number) => n >= ELEMENTWISE_THREAD_MIN && ctx.pool !== null;

  return {
    addRowVector(out, x, b, rows, cols) {
      if (!big(rows * cols) || rows < 2 * ctx.pool!.size) { addRowVector(out, x, b, rows, cols); return; }
      // Rows are independent: any cut between rows computes exactly what one call does.
      const pool = ctx.pool!, args = rowCall.args as number[], start = rowCall.start as number[];
      args[0] = out; args[1] = x; args[2] = b; args[3] = 0; args[4] = cols;
      start[0] = start[1] = 4 * cols;
      rowCall.fn = pool.fn('addRowVector'); rowCall.end = rows; rowCall.step = chunkSize(rows, pool.size, 1, Math.ceil(ELEMENTWISE_CHUNK_MIN / cols));
      rowCall.rerunnable = out !== x;
      pool.run(rowCall);
    },
    add(out, a, b, n) { if (big(n)) split('add', n, 3, out, a, b, 0, true); else add(out, a, b, n); },
    mul(out, a, b, n) { if (big(n)) split('mul', n, 3, out, a, b, 0, true); else mul(out, a, b, n); },
    scale(out, x, n, alpha) { if (big(n)) split('scale', n, 2, out, x, 0, alpha, true); else scale(out, x, n, alpha); },
    axpy(y, x, n, alpha) { if (big(n)) split('axpy', n, 2, y, x, 0, alpha, false); else axpy(y, x, n, alpha); },
    fill(out, n, value) { if (big(n)) split('fill', n, 1, out, 0, 0, value, true); else fill(out, n, value); },
    relu(out, x, n) { if (big(n)) split('relu', n, 2, out, x, 0, 0, true); else relu(out, x, n); },
    reluBackward(out, g, x, n) { if (big(n)) split('reluBackward', n, 3, out, g, x, 0, true); else reluBackward(out, g, x, n); },
    sumRows(out, x, rows, cols) { sumRows(out, x, rows, cols); },
    sum(x, n) { return sum(x, n); },
    sumSquares(x, n) { return sumSquares(x, n); },
    mse(a, b, n) { return mse(a, b, n); },
    mseBackward(out, a, b, n, alpha) { if (big(n)) split('mseBackward', n, 3, out, a, b, alpha, true); else mseBackward(out, a, b, n, alpha); },
    crossEntropy(logits, labels, rows, cols, exps) { return crossEntropy(logits, labels, rows, cols, exps ?? 0); },
    crossEntropyBackward(out, logits, labels, rows, cols, alpha) { crossEntropyBackward(out, logits, labels, rows, cols, alpha); },
    crossEntropyBackwardExps(out, exps, labels, rows, cols, alpha) { crossEntropyBackwardExps(out, exps, labels, rows, cols, alpha); },
  };
}
