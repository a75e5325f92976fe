import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The linear-model kernels of the wasm backend: thin calls into assembly/linear.ts (one thread; a null list is pointer 0). */
export function linearKernels(ctx: WasmContext): Pick<K, 'cdResidual' | 'cdGram' | 'colDots' | 'residual' | 'xtDots' | 'residual64' | 'xtDots64' | 'xtxDots' | 'gatherCols' | 'transpose'> {
  const f = ctx.fn;
  const cdResidual = f('cdResidual'), cdGram = f('cdGram'), colDots = f('colDots'), residual = f('residual');
  const xtDots = f('xtDots'), residual64 = f('residual64'), xtDots64 = f('xtDots64'), xtxDots = f('xtxDots'), gatherCols = f('gatherCols'), transpose = f('transpose');
  return {
    cdResidual(w, r, x, norms, idx, n, m, l1, l2, tol, epochs, stats) { return cdResidual(w, r, x, norms, idx ?? 0, n, m, l1, l2, tol, epochs, stats); },
    cdGram(w, q, g, norms, idx, xty, d, m, n, l1, l2, tol, epochs, yy, a, b, target, stats) { return cdGram(w, q, g, norms, idx ?? 0, xty, d, m, n, l1, l2, tol, epochs, yy, a, b, target, stats); },
    colDots(out, x, v, idx, n, m) { colDots(out, x, v, idx ?? 0, n, m); },
    residual(r, y, x, w, idx, n, d, m) { residual(r, y, x, w, idx ?? 0, n, d, m); },
    xtDots(out, x, v, n, d, acc, norms) { return xtDots(out, x, v, n, d, acc, norms ?? 0); },
    residual64(r64, r, y, x, w, n, d) { residual64(r64, r, y, x, w, n, d); },
    xtDots64(out, x, v, n, d) { xtDots64(out, x, v, n, d); },
    xtxDots(out, x, p, u, n, d, acc) { xtxDots(out, x, p, u, n, d, acc); },
    gatherCols(out, x, idx, n, d, m) { gatherCols(out, x, idx ?? 0, n, d, m); },
    transpose(out, x, rows, cols) { transpose(out, x, rows, cols); },
  };
}
