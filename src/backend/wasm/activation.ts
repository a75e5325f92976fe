import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The activation kernels of the wasm backend: thin calls into assembly/activation.ts. */
export function activationKernels(ctx: WasmContext): Partial<K> {
  void ctx;
  return {}; // TODO(training API): gelu, tanh, sign and backwards
}
