import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The LayerNorm kernels of the wasm backend: thin calls into assembly/layernorm.ts (null → pointer 0). */
export function layernormKernels(ctx: WasmContext): Pick<K, 'layerNorm' | 'layerNormBackward'> {
  const f = ctx.fn;
  const layerNorm = f('layerNorm'), layerNormBackward = f('layerNormBackward');
  return {
    layerNorm(out, x, weight, bias, mean, rstd, rows, cols, eps) {
      layerNorm(out, x, weight ?? 0, bias ?? 0, mean, rstd, rows, cols, eps);
    },
    layerNormBackward(dx, g, x, weight, mean, rstd, dweight, dbias, rows, cols) {
      layerNormBackward(dx, g, x, weight ?? 0, mean, rstd, dweight ?? 0, dbias ?? 0, rows, cols);
    },
  };
}
