import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/**
 * The optim kernels of the wasm backend: thin calls into assembly/optim.ts. Scalars go in
 * as float64; the kernels round them to f32 once (as the js twin does with Math.fround).
 */
export function optimKernels(ctx: WasmContext): Pick<K, 'sgdStep' | 'adamStep'> {
  const sgd = ctx.exports.sgdStep!;
  const adam = ctx.exports.adamStep!;
  return {
    sgdStep(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov, maximize, l1t, first) {
      sgd(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov ? 1 : 0, maximize ? 1 : 0, l1t, first ? 1 : 0);
    },
    adamStep(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, amsgrad, maximize, l1t) {
      adam(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, amsgrad ? 1 : 0, maximize ? 1 : 0, l1t);
    },
  };
}
