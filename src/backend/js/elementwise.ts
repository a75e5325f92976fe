import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

/** The elementwise kernels of the js backend (same names and order as assembly/elementwise.ts). */
export const elementwiseKernels: Pick<K, Exclude<keyof K, 'matmul' | 'sgdStep' | 'adamStep' | 'dropout' | 'softThreshold'>> = {} as Pick<K, Exclude<keyof K, 'matmul' | 'sgdStep' | 'adamStep' | 'dropout' | 'softThreshold'>>; // TODO(kernel core): implement
