import type { RawKernels } from '../raw.js';
import type { WasmContext, WasmExportName } from './context.js';
import { chunkSize, type RangeCall } from './threads.js';

type K = RawKernels<number, number, number>;

/**
 * Optimizer steps over at least this many parameters are cut into contiguous chunks that
 * the threads claim (measured on 2 cores; see bench/PROFILE.md). Each element's update reads and
 * writes only its own p, g, m, v (vmax, buf), so a chunk computes exactly what the whole
 * call computes there; chunks start at multiples of 16 floats (64 bytes).
 */
export const OPTIM_THREAD_MIN = 1 << 17;
/** The smallest chunk of a threaded optimizer step (parameters). */
const OPTIM_CHUNK_MIN = 1 << 13;

/** The exports the thread pool runs for this file. */
export const OPTIM_THREADED: readonly WasmExportName[] = ['sgdStep', 'adamStep'];

/**
 * The optim kernels of the wasm backend: thin calls into assembly/optim.ts. Scalars go in
 * as float64; the kernels round them to f32 once (as the js twin does with Math.fround).
 */
export function optimKernels(ctx: WasmContext): Pick<K, 'sgdStep' | 'adamStep'> {
  const sgd = ctx.fn('sgdStep');
  const adam = ctx.fn('adamStep');
  // Range calls, reused: p, g, buf (m, v, vmax) advance 4 bytes per element, n is the chunk's length. In place: never rerun.
  const sgdCall: RangeCall = { fn: 0, end: 0, step: 0, args: new Array<number>(12).fill(0), start: [4, 4, 4], len: [0, 0, 0, 1], rerunnable: false };
  const adamCall: RangeCall = { fn: 0, end: 0, step: 0, args: new Array<number>(16).fill(0), start: [4, 4, 4, 4, 4], len: [0, 0, 0, 0, 0, 1], rerunnable: false };
  return {
    sgdStep(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov, maximize, l1t, first) {
      const pool = ctx.pool;
      if (pool === null || n < OPTIM_THREAD_MIN) {
        sgd(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov ? 1 : 0, maximize ? 1 : 0, l1t, first ? 1 : 0);
        return;
      }
      const args = sgdCall.args as number[];
      args[0] = p; args[1] = g; args[2] = buf; args[3] = 0; args[4] = lr; args[5] = momentum; args[6] = dampening; args[7] = weightDecay;
      args[8] = nesterov ? 1 : 0; args[9] = maximize ? 1 : 0; args[10] = l1t; args[11] = first ? 1 : 0;
      sgdCall.fn = pool.fn('sgdStep'); sgdCall.end = n; sgdCall.step = chunkSize(n, pool.size, 16, OPTIM_CHUNK_MIN);
      pool.run(sgdCall);
    },
    adamStep(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, amsgrad, maximize, l1t) {
      const pool = ctx.pool;
      if (pool === null || n < OPTIM_THREAD_MIN) {
        adam(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, amsgrad ? 1 : 0, maximize ? 1 : 0, l1t);
        return;
      }
      const args = adamCall.args as number[];
      args[0] = p; args[1] = g; args[2] = m; args[3] = v; args[4] = vmax; args[5] = 0;
      args[6] = beta1; args[7] = beta2; args[8] = stepSize; args[9] = bc2sqrt; args[10] = eps;
      args[11] = weightDecay; args[12] = decay; args[13] = amsgrad ? 1 : 0; args[14] = maximize ? 1 : 0; args[15] = l1t;
      adamCall.fn = pool.fn('adamStep'); adamCall.end = n; adamCall.step = chunkSize(n, pool.size, 16, OPTIM_CHUNK_MIN);
      pool.run(adamCall);
    },
  };
}
