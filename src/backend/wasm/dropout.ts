import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The dropout kernels of the wasm backend: thin calls into assembly/dropout.ts. */
export function dropoutKernels(ctx: WasmContext): Pick<K, 'dropout'> {
  const kernel = ctx.fn('dropout');
  return {
    // threshold is a uint32 in a JS number; the i32 parameter takes its bits (ToInt32).
    dropout(out, x, n, threshold, scale, rng, mask) { kernel(out, x, n, threshold, scale, rng, mask ?? 0); },
  };
}
