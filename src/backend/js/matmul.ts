import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

/** The matmul kernels of the js backend (same names and order as assembly/matmul.ts). */
export const matmulKernels: Pick<K, 'matmul'> = {} as Pick<K, 'matmul'>; // TODO(kernel core): implement
