import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

/** The optim kernels of the js backend (same names and order as assembly/optim.ts). */
export const optimKernels: Pick<K, 'sgdStep' | 'adamStep'> = {} as Pick<K, 'sgdStep' | 'adamStep'>; // TODO(kernel core): implement
