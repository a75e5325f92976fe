import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;
type EW = Pick<K, Exclude<keyof K, 'matmul' | 'sgdStep' | 'adamStep' | 'dropout' | 'softThreshold' | 'gelu' | 'geluBackward' | 'tanh' | 'tanhBackward' | 'sign' | 'absSum'>>;

/** The elementwise kernels of the wasm backend: thin calls into assembly/elementwise.ts. */
export function elementwiseKernels(ctx: WasmContext): EW {
  const e = ctx.exports;
  const f = (name: string) => {
    const fn = e[name];
    if (typeof fn !== 'function') throw new TypeError(`regula.wasm lacks the export ${name}: rebuild it with \`npm run build\``);
    return fn;
  };
  const addRowVector = f('addRowVector'), add = f('add'), mul = f('mul'), scale = f('scale'), axpy = f('axpy');
  const fill = f('fill'), relu = f('relu'), reluBackward = f('reluBackward'), sumRows = f('sumRows');
  const sum = f('sum'), sumSquares = f('sumSquares'), mse = f('mse'), mseBackward = f('mseBackward');
  const crossEntropy = f('crossEntropy'), crossEntropyBackward = f('crossEntropyBackward');
  return {
    addRowVector(out, x, b, rows, cols) { addRowVector(out, x, b, rows, cols); },
    add(out, a, b, n) { add(out, a, b, n); },
    mul(out, a, b, n) { mul(out, a, b, n); },
    scale(out, x, n, alpha) { scale(out, x, n, alpha); },
    axpy(y, x, n, alpha) { axpy(y, x, n, alpha); },
    fill(out, n, value) { fill(out, n, value); },
    relu(out, x, n) { relu(out, x, n); },
    reluBackward(out, g, x, n) { reluBackward(out, g, x, n); },
    sumRows(out, x, rows, cols) { sumRows(out, x, rows, cols); },
    sum(x, n) { return sum(x, n); },
    sumSquares(x, n) { return sumSquares(x, n); },
    mse(a, b, n) { return mse(a, b, n); },
    mseBackward(out, a, b, n, alpha) { mseBackward(out, a, b, n, alpha); },
    crossEntropy(logits, labels, rows, cols) { return crossEntropy(logits, labels, rows, cols); },
    crossEntropyBackward(out, logits, labels, rows, cols, alpha) { crossEntropyBackward(out, logits, labels, rows, cols, alpha); },
  };
}
