import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The optim kernels of the wasm backend: thin calls into assembly/optim.ts. */
export function optimKernels(ctx: WasmContext): Pick<K, 'sgdStep' | 'adamStep'> {
  void ctx;
  return {} as Pick<K, 'sgdStep' | 'adamStep'>; // TODO(kernel core): implement
}
