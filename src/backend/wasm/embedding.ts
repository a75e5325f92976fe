import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The embedding kernels of the wasm backend: thin calls into assembly/embedding.ts. */
export function embeddingKernels(ctx: WasmContext): Pick<K, 'embedding' | 'embeddingBackward'> {
  const f = ctx.fn;
  const embedding = f('embedding'), embeddingBackward = f('embeddingBackward');
  return {
    embedding(out, weight, ids, n, cols) { embedding(out, weight, ids, n, cols); },
    embeddingBackward(dweight, g, ids, n, cols) { embeddingBackward(dweight, g, ids, n, cols); },
  };
}
