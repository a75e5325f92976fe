import type { RawKernels } from '../raw.js';
import type { WasmContext, WasmExportName } from './context.js';
import { chunkSize, type RangeCall } from './threads.js';

type K = RawKernels<number, number, number>;

/**
 * Attention softmaxes over at least this many scores are cut into chunks of whole t×t
 * matrices that the threads claim. Rows are independent (each row's max, exps and sum are
 * its own), so a chunk computes exactly what the whole call computes there: the same bits
 * on any thread count.
 */
export const SOFTMAX_THREAD_MIN = 1 << 15;

/** The exports the thread pool runs for this file. */
export const SOFTMAX_THREADED: readonly WasmExportName[] = ['causalSoftmax', 'causalSoftmaxBackward'];
/** The smallest chunk of a threaded softmax (scores). */
const SOFTMAX_CHUNK_MIN = 1 << 13;

/** The attention softmax kernels of the wasm backend: calls into assembly/softmax.ts, threaded over matrices. */
export function softmaxKernels(ctx: WasmContext): Pick<K, 'causalSoftmax' | 'causalSoftmaxBackward'> {
  const f = ctx.fn;
  const causalSoftmax = f('causalSoftmax'), causalSoftmaxBackward = f('causalSoftmaxBackward');
  // Range calls over the z matrices, reused: pointers advance t·t floats per matrix, z is the chunk's length.
  const fwd: RangeCall = { fn: 0, end: 0, step: 0, args: new Array<number>(5).fill(0), start: [0, 0], len: [0, 0, 1], rerunnable: false };
  const bwd: RangeCall = { fn: 0, end: 0, step: 0, args: new Array<number>(6).fill(0), start: [0, 0, 0], len: [0, 0, 0, 1], rerunnable: false };
  const split = (call: RangeCall, name: WasmExportName, z: number, t: number, nptr: number) => {
    const pool = ctx.pool!;
    const stride = 4 * t * t, start = call.start as number[];
    for (let i = 0; i < nptr; i++) start[i] = stride;
    call.fn = pool.fn(name); call.end = z; call.step = chunkSize(z, pool.size, 1, Math.ceil(SOFTMAX_CHUNK_MIN / (t * t)));
    pool.run(call);
  };
  return {
    causalSoftmax(out, x, z, t, scale) {
      if (ctx.pool === null || z < 2 || z * t * t < SOFTMAX_THREAD_MIN) { causalSoftmax(out, x, z, t, scale); return; }
      const a = fwd.args as number[];
      a[0] = out; a[1] = x; a[2] = 0; a[3] = t; a[4] = scale;
      fwd.rerunnable = out !== x;
      split(fwd, 'causalSoftmax', z, t, 2);
    },
    causalSoftmaxBackward(out, p, g, z, t, scale) {
      if (ctx.pool === null || z < 2 || z * t * t < SOFTMAX_THREAD_MIN) { causalSoftmaxBackward(out, p, g, z, t, scale); return; }
      const a = bwd.args as number[];
      a[0] = out; a[1] = p; a[2] = g; a[3] = 0; a[4] = t; a[5] = scale;
      bwd.rerunnable = out !== g;
      split(bwd, 'causalSoftmaxBackward', z, t, 3);
    },
  };
}
