// Embedding kernels of the js backend: twins of assembly/embedding.ts.
import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

/** The embedding kernels of the js backend (same names and order as assembly/embedding.ts). */
export const embeddingKernels = {
  embedding(out, weight, ids, n, cols) {
    for (let i = 0; i < n; i++) {
      const w = ids[i]! * cols;
      out.set(weight.subarray(w, w + cols), i * cols);
    }
  },

  embeddingBackward(dweight, g, ids, n, cols) {
    for (let i = 0, o = 0; i < n; i++, o += cols) {
      const w = ids[i]! * cols;
      for (let j = 0; j < cols; j++) dweight[w + j] = dweight[w + j]! + g[o + j]!;
    }
  },
} satisfies Partial<K>;
