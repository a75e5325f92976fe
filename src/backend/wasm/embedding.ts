import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The embedding kernels of the wasm backend: thin calls into assembly/embedding.ts. */
export function embeddingKernels(ctx: WasmContext): Pick<K, 'embedding' | 'embeddingBackward'> {
  const f = (name: string) => {
    const fn = ctx.exports[name];
    if (typeof fn !== 'function') throw new TypeError(`regula.wasm lacks the export ${name}: rebuild it with \`npm run build\``);
    return fn;
  };
  const embedding = f('embedding'), embeddingBackward = f('embeddingBackward');
  return {
    embedding(out, weight, ids, n, cols) { embedding(out, weight, ids, n, cols); },
    embeddingBackward(dweight, g, ids, n, cols) { embeddingBackward(dweight, g, ids, n, cols); },
  };
}
