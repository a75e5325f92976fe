import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The matmul kernels of the wasm backend: thin calls into assembly/matmul.ts. */
export function matmulKernels(ctx: WasmContext): Pick<K, 'matmul'> {
  void ctx;
  return {} as Pick<K, 'matmul'>; // TODO(kernel core): implement
}
