import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

/** The dropout kernels of the js backend (same names and order as assembly/dropout.ts). */
export const dropoutKernels: Pick<K, 'dropout'> = {} as Pick<K, 'dropout'>; // TODO(kernel core): implement
