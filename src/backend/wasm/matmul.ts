import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

// Block sizes of assembly/matmul.ts (KC, MC): they size the packing scratch.
const KC = 256;
const MC = 64;

/** The matmul kernels of the wasm backend: thin calls into assembly/matmul.ts. */
export function matmulKernels(ctx: WasmContext): Pick<K, 'matmul'> {
  const kernel = ctx.exports.matmul!;
  return {
    matmul(out, a, b, m, n, k, transA, transB, accumulate) {
      const kc = Math.min(k, KC);
      // Both slots are requested before the call; a later grow never moves earlier pointers.
      const packA = ctx.scratch('matmul.packA', 4 * kc * (((Math.min(m, MC) + 3) >> 2) << 2));
      const packB = ctx.scratch('matmul.packB', 4 * kc * (((n + 7) >> 3) << 3));
      kernel(out, a, b, m, n, k, transA ? 1 : 0, transB ? 1 : 0, accumulate ? 1 : 0, packA, packB);
    },
  };
}
