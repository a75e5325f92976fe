import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';
import { chunkLength } from './threads.js';

type K = RawKernels<number, number, number>;

/**
 * Optimizer steps over at least this many parameters are cut into contiguous chunks, one
 * per thread (measured on 2 cores; see bench/PROFILE.md). Each element's update reads and
 * writes only its own p, g, m, v (vmax, buf), so a chunk computes exactly what the whole
 * call computes there; chunks start at multiples of 16 floats (64 bytes).
 */
export const OPTIM_THREAD_MIN = 1 << 17;

/** The exports the thread pool runs for this file. */
export const OPTIM_THREADED: readonly string[] = ['sgdStep', 'adamStep'];

/**
 * The optim kernels of the wasm backend: thin calls into assembly/optim.ts. Scalars go in
 * as float64; the kernels round them to f32 once (as the js twin does with Math.fround).
 */
export function optimKernels(ctx: WasmContext): Pick<K, 'sgdStep' | 'adamStep'> {
  const sgd = ctx.fn('sgdStep');
  const adam = ctx.fn('adamStep');
  const args: number[] = new Array(16).fill(0);
  return {
    sgdStep(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov, maximize, l1t, first) {
      const pool = ctx.pool;
      if (pool === null || n < OPTIM_THREAD_MIN) {
        sgd(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov ? 1 : 0, maximize ? 1 : 0, l1t, first ? 1 : 0);
        return;
      }
      const len = chunkLength(n, pool.size, 16), parts = Math.ceil(n / len), id = pool.fn('sgdStep');
      pool.begin();
      args[4] = lr; args[5] = momentum; args[6] = dampening; args[7] = weightDecay;
      args[8] = nesterov ? 1 : 0; args[9] = maximize ? 1 : 0; args[10] = l1t; args[11] = first ? 1 : 0;
      for (let t = 1; t < parts; t++) {
        const o = 4 * t * len;
        args[0] = p + o; args[1] = g + o; args[2] = buf + o; args[3] = Math.min(len, n - t * len);
        pool.post(t, id, args);
      }
      try {
        sgd(p, g, buf, len, lr, momentum, dampening, weightDecay, args[8]!, args[9]!, l1t, args[11]!);
      } finally {
        pool.join(parts - 1);
      }
    },
    adamStep(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, amsgrad, maximize, l1t) {
      const pool = ctx.pool;
      if (pool === null || n < OPTIM_THREAD_MIN) {
        adam(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, amsgrad ? 1 : 0, maximize ? 1 : 0, l1t);
        return;
      }
      const len = chunkLength(n, pool.size, 16), parts = Math.ceil(n / len), id = pool.fn('adamStep');
      pool.begin();
      args[6] = beta1; args[7] = beta2; args[8] = stepSize; args[9] = bc2sqrt; args[10] = eps;
      args[11] = weightDecay; args[12] = decay; args[13] = amsgrad ? 1 : 0; args[14] = maximize ? 1 : 0; args[15] = l1t;
      for (let t = 1; t < parts; t++) {
        const o = 4 * t * len;
        args[0] = p + o; args[1] = g + o; args[2] = m + o; args[3] = v + o; args[4] = vmax + o; args[5] = Math.min(len, n - t * len);
        pool.post(t, id, args);
      }
      try {
        adam(p, g, m, v, vmax, len, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, args[13]!, args[14]!, l1t);
      } finally {
        pool.join(parts - 1);
      }
    },
  };
}
