import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

/** The prox kernels of the js backend (same names and order as assembly/prox.ts). */
export const proxKernels: Pick<K, 'softThreshold'> = {} as Pick<K, 'softThreshold'>; // TODO(kernel core): implement
