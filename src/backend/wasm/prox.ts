import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The prox kernels of the wasm backend: thin calls into assembly/prox.ts. */
export function proxKernels(ctx: WasmContext): Pick<K, 'softThreshold'> {
  const kernel = ctx.fn('softThreshold');
  return {
    softThreshold(out, x, n, t) { kernel(out, x, n, t); },
  };
}
