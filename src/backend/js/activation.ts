import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

/** The activation kernels of the js backend (same names and order as assembly/activation.ts). */
export const activationKernels: Partial<K> = {}; // TODO(training API): gelu, tanh, sign and backwards
