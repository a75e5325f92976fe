/**
 * Ridge (l1Ratio = 0) for linear.fit and linear.path through its own route.
 */
import type { FitResult } from './types.js';
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

/**
 * ridgeCG checks the exact gap before checkEvery iterations once the recurrence's estimate
 * of the gap is ≤ this fraction of the target (the estimate drifts from the exact gap by the
 * float32 products and the rounding of w to float32: on the 1000×3000 bench an estimate of
 * 0.63·target read 1.1·target exactly, one of 0.22·target 0.70·target).
 */
const CG_ESTIMATE = 0.25;

/**
 * Ridge (a = 0, b > 0) by conjugate gradient on (XᵀX + b·I)w = Xᵀy, for many features
 * (Cholesky's d³ would dominate). Each iteration is one pass over row-major X (xtxDots:
 * u = Xp, a dot per row, then Xᵀu, with each block of rows still in cache); the recurrences run in float64 on the JS side
 * with the direction p rounded to float32 once, so both products and the update use the
 * same p. Every checkEvery iterations w is rounded to float32, the exact residual and gap
 * are computed (gapAt), and CG restarts from the exact gradient Xᵀr − b·w, so float32
 * products never drift the stopping test. For ridge the gap at θ = r is ‖Xᵀr − b·w‖²/(2b),
 * so the recurrence's ‖g‖² estimates it each iteration for free: once that estimate is
 * ≤ CG_ESTIMATE·target the exact gap is checked at once instead of after checkEvery
 * iterations (a check that then fails turns this off for the next round, so a float32 floor
 * above tol costs one extra check per checkEvery iterations, not one per iteration). Stops
 * on the exact gap or at maxIter (iterations).
 */
export function ridgeCG(p: Problem, b: number, o: Settings): FitResult {
  const { k, n, d } = p;
  const target = o.tol * p.yNorm2;
  let gap = p.startGap(0, b);
  let converged = gap <= target;
  let it = 0;
  const dirT = p.work('cgP', [1, d]), u = p.work('cgU', [1, n]), q = p.work('cgQ', [1, d]);
  const acc = p.work('cgAcc', [1, 4 * d]);
  const g = new Float64Array(d), dir = new Float64Array(d), wf = new Float64Array(d);
  let early = true;
  while (!converged && it < o.maxIter) {
    let estimated = false;
    const xd = p.xtr.data, wd = p.w.data;
    let gg = 0;
    for (let j = 0; j < d; j++) {
      const gj = xd[j]! - b * wd[j]!;
      g[j] = gj; dir[j] = gj; wf[j] = wd[j]!;
      gg += gj * gj;
    }
    if (gg === 0) break; // the float32 w is a fixed point: the gap cannot fall further
    for (let s = 0; s < o.checkEvery && it < o.maxIter && gg > 0; s++) {
      it++;
      const pd = dirT.data;
      pd.set(dir);
      k.xtxDots(q, p.X, dirT, u, acc);
      const qd = q.data;
      let pq = 0;
      for (let j = 0; j < d; j++) pq += pd[j]! * (qd[j]! + b * pd[j]!);
      if (!(pq > 0)) break;
      const alpha = gg / pq;
      let gg1 = 0;
      for (let j = 0; j < d; j++) {
        wf[j]! += alpha * pd[j]!;
        const gj = g[j]! - alpha * (qd[j]! + b * pd[j]!);
        g[j] = gj;
        gg1 += gj * gj;
      }
      const beta = gg1 / gg;
      for (let j = 0; j < d; j++) dir[j] = g[j]! + beta * dir[j]!;
      gg = gg1;
      // The gap is ‖Xᵀr − b·w‖²/(2b): the recurrence's gg estimates it every iteration.
      if (early && gg <= CG_ESTIMATE * 2 * b * target) { estimated = true; break; }
    }
    const wNow = p.w.data;
    for (let j = 0; j < d; j++) wNow[j] = wf[j]!;
    p.exact = false;
    gap = p.gapAt(0, b);
    converged = gap <= target;
    early = !estimated;
  }
  return p.result(it, converged, gap);
}
