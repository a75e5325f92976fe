import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The prox kernels of the wasm backend: thin calls into assembly/prox.ts. */
export function proxKernels(ctx: WasmContext): Pick<K, 'softThreshold'> {
  void ctx;
  return {} as Pick<K, 'softThreshold'>; // TODO(kernel core): implement
}
