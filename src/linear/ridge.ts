/**
 * Ridge (l1Ratio = 0) for linear.fit and linear.path through its own route.
 */
import type { FitResult } from '../linear.js';
import type { Problem, Settings } from './problem.js';

/**
 * Ridge (a = 0; b = 0 is least squares) through the Cholesky factor of XᵀX + b·I in
 * float64 (XᵀX from the float32 matmul): each round solves for the step from the exact
 * residual, w ← f32(w + (XᵀX + bI)⁻¹(Xᵀr − b·w)) (iterative refinement: the float32
 * Gram's rounding costs one or two extra rounds, not accuracy). Stops on the gap (b > 0),
 * on a change ≤ tol·max|w| (least squares), or when a round changes nothing. Null when
 * the matrix is not positive definite (least squares with rank < d): cd takes over.
 */
export function ridge(p: Problem, b: number, o: Settings): FitResult | null {
  const { d, w, xtr } = p;
  const g = p.gram().data;
  // Cholesky A = LLᵀ, L lower, row-major in f64.
  const L = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    for (let i = j; i < d; i++) {
      let s = g[i * d + j]! + (i === j ? b : 0);
      for (let k = 0; k < j; k++) s -= L[i * d + k]! * L[j * d + k]!;
      if (i === j) {
        if (!(s > 0)) return null;
        L[j * d + j] = Math.sqrt(s);
      } else {
        L[i * d + j] = s / L[j * d + j]!;
      }
    }
  }
  const lsq = b === 0;
  const target = o.tol * p.yNorm2;
  let gap = p.startGap(0, b);
  let converged = !lsq && gap <= target;
  let it = 0;
  const z = new Float64Array(d);
  while (!converged && it < o.maxIter) {
    const xd = xtr.data, wd = w.data;
    for (let j = 0; j < d; j++) z[j] = xd[j]! - b * wd[j]!;
    for (let i = 0; i < d; i++) { let s = z[i]!; for (let k = 0; k < i; k++) s -= L[i * d + k]! * z[k]!; z[i] = s / L[i * d + i]!; }
    for (let i = d - 1; i >= 0; i--) { let s = z[i]!; for (let k = i + 1; k < d; k++) s -= L[k * d + i]! * z[k]!; z[i] = s / L[i * d + i]!; }
    let dmax = 0, wmax = 0;
    for (let j = 0; j < d; j++) {
      const old = wd[j]!, nw = Math.fround(old + z[j]!);
      wd[j] = nw;
      dmax = Math.max(dmax, Math.abs(nw - old)); wmax = Math.max(wmax, Math.abs(nw));
    }
    it++;
    gap = p.gapAt(0, b);
    converged = lsq ? dmax <= o.tol * wmax : gap <= target;
    if (dmax === 0) break;
  }
  return p.result(it, converged, lsq ? NaN : gap);
}
