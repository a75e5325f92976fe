import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The elementwise kernels of the wasm backend: thin calls into assembly/elementwise.ts. */
export function elementwiseKernels(ctx: WasmContext): Pick<K, Exclude<keyof K, 'matmul' | 'sgdStep' | 'adamStep' | 'dropout' | 'softThreshold'>> {
  void ctx;
  return {} as Pick<K, Exclude<keyof K, 'matmul' | 'sgdStep' | 'adamStep' | 'dropout' | 'softThreshold'>>; // TODO(kernel core): implement
}
