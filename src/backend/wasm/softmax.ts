import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The attention softmax kernels of the wasm backend: thin calls into assembly/softmax.ts. */
export function softmaxKernels(ctx: WasmContext): Pick<K, 'causalSoftmax' | 'causalSoftmaxBackward'> {
  const f = ctx.fn;
  const causalSoftmax = f('causalSoftmax'), causalSoftmaxBackward = f('causalSoftmaxBackward');
  return {
    causalSoftmax(out, x, z, t, scale) { causalSoftmax(out, x, z, t, scale); },
    causalSoftmaxBackward(out, p, g, z, t, scale) { causalSoftmaxBackward(out, p, g, z, t, scale); },
  };
}
