import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The dropout kernels of the wasm backend: thin calls into assembly/dropout.ts. */
export function dropoutKernels(ctx: WasmContext): Pick<K, 'dropout'> {
  void ctx;
  return {} as Pick<K, 'dropout'>; // TODO(kernel core): implement
}
