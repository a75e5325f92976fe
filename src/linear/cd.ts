/**
 * Coordinate descent for linear.fit and linear.path: cyclic epochs on the kernels cdGram or
 * cdResidual, Anderson extrapolation of the Gram form, and working sets with gap-safe
 * screening in the residual form.
 */
import type { FitResult } from '../linear.js';
import type { Problem, Settings } from './problem.js';

/** The smallest working set (features) of the first outer iteration. */
const WS_MIN = 16;
/** An inner working-set solve stops once its gap is below this fraction of the last full gap (celer's choice). */
const WS_INNER = 0.3;

/** Iterates per Anderson extrapolation of the Gram form (skglm's choice). */
const ANDERSON_K = 5;

/**
 * Anderson acceleration of coordinate descent (as skglm, Bertrand et al. 2022): from the
 * last K + 1 epochs' iterates w_0..w_K, with U = [w_1 − w_0, …, w_K − w_{K−1}], the
 * extrapolation Σ c_k·w_{k+1} where c = (UᵀU)⁻¹1 / 1ᵀ(UᵀU)⁻¹1, kept only when it lowers
 * the objective. All in float64 on the JS side (the same on both backends).
 */
class Anderson {
  private readonly its: Float64Array[];
  private count = 0;

  constructor(private readonly d: number) {
    this.its = Array.from({ length: ANDERSON_K + 1 }, () => new Float64Array(d));
  }

  /** Starts over from w. */
  reset(w: Float32Array): void {
    this.count = 0;
    this.push(w);
  }

  /** Records an epoch's w; true when K + 1 iterates are in. */
  push(w: Float32Array): boolean {
    this.its[this.count++]!.set(w);
    return this.count === ANDERSON_K + 1;
  }

  /**
   * Replaces w (and q = Xᵀy − Gw, float32 from float64) by the extrapolation when the
   * n-scaled objective ½(yy − 2wᵀXᵀy + wᵀGw) + a‖w‖₁ + ½b‖w‖² (from the Gram matrix, float64)
   * is lower there than at w. True when it did.
   */
  extrapolate(w: Float32Array, q: Float32Array, G: Float32Array, xty: Float32Array, yy: number, a: number, b: number): boolean {
    const { d, its } = this, K = ANDERSON_K;
    const C = new Float64Array(K * K);
    for (let i = 0; i < K; i++) {
      for (let j = i; j < K; j++) {
        let s = 0;
        const ui1 = its[i + 1]!, ui0 = its[i]!, uj1 = its[j + 1]!, uj0 = its[j]!;
        for (let k = 0; k < d; k++) s += (ui1[k]! - ui0[k]!) * (uj1[k]! - uj0[k]!);
        C[i * K + j] = C[j * K + i] = s;
      }
    }
    const z = solveSmall(C, K);
    if (z === null) return false;
    let zs = 0;
    for (let k = 0; k < K; k++) zs += z[k]!;
    if (!(Math.abs(zs) > 0)) return false;
    const e = new Float32Array(d);
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (z[k]! / zs) * its[k + 1]![j]!;
      e[j] = s;
    }
    if (!e.every(Number.isFinite)) return false;
    const objective = (v: Float32Array, gv: Float64Array) => {
      let vy = 0, vgv = 0, s1 = 0, s2 = 0;
      for (let j = 0; j < d; j++) {
        let t = 0;
        for (let k = 0; k < d; k++) t += G[j * d + k]! * v[k]!;
        gv[j] = t;
        const vj = v[j]!;
        vy += vj * xty[j]!; vgv += vj * t; s1 += Math.abs(vj); s2 += vj * vj;
      }
      return 0.5 * (yy - 2 * vy + vgv) + a * s1 + 0.5 * b * s2;
    };
    const ge = new Float64Array(d);
    if (!(objective(e, ge) < objective(w, new Float64Array(d)))) return false;
    w.set(e);
    for (let j = 0; j < d; j++) q[j] = xty[j]! - ge[j]!;
    return true;
  }
}

/** x with Cx = 1 for the K×K matrix C (Gaussian elimination, partial pivoting, float64); null when singular. */
function solveSmall(C: Float64Array, K: number): Float64Array | null {
  const A = Float64Array.from(C), x = new Float64Array(K).fill(1);
  let scale = 0;
  for (let i = 0; i < K; i++) scale = Math.max(scale, Math.abs(A[i * K + i]!));
  for (let c = 0; c < K; c++) {
    let p = c;
    for (let r = c + 1; r < K; r++) if (Math.abs(A[r * K + c]!) > Math.abs(A[p * K + c]!)) p = r;
    if (!(Math.abs(A[p * K + c]!) > 1e-14 * scale)) return null;
    if (p !== c) {
      for (let k = 0; k < K; k++) { const t = A[c * K + k]!; A[c * K + k] = A[p * K + k]!; A[p * K + k] = t; }
      const t = x[c]!; x[c] = x[p]!; x[p] = t;
    }
    for (let r = c + 1; r < K; r++) {
      const f = A[r * K + c]! / A[c * K + c]!;
      for (let k = c; k < K; k++) A[r * K + k]! -= f * A[c * K + k]!;
      x[r]! -= f * x[c]!;
    }
  }
  for (let c = K - 1; c >= 0; c--) {
    let s = x[c]!;
    for (let k = c + 1; k < K; k++) s -= A[c * K + k]! * x[k]!;
    x[c] = s / A[c * K + c]!;
  }
  return x;
}

/**
 * Cyclic coordinate descent from the current w, as sklearn's enet_coordinate_descent
 * (kernels cdGram or cdResidual run the epochs between checks). The gap is computed
 * only where it can stop the solve: after an epoch whose largest change is ≤ tol·max|w|
 * (sklearn's rule), every checkEvery epochs, and at maxIter; each check recomputes r
 * (and in the Gram form q = Xᵀr) exactly, so float32 drift does not accumulate.
 */
export function cd(p: Problem, gram: boolean, a: number, b: number, alpha: number, l1Ratio: number, o: Settings): FitResult {
  const { k, n, d, w, r, xtr, stats } = p;
  const l1 = alpha * l1Ratio, l2 = alpha * (1 - l1Ratio);
  const lsq = a === 0 && b === 0;
  const target = o.tol * p.yNorm2;
  const G = gram ? p.gram() : null;
  const q = gram ? p.work('q', [1, d]) : null;
  const xty = gram ? p.xty() : null;
  let gap = p.startGap(a, b);
  let converged = !lsq && gap <= target;
  let it = 0, exactAt = 0;
  if (q !== null) q.data.set(xtr.data);
  // The Gram form extrapolates every ANDERSON_K epochs (its epochs then run one per call).
  const acc = G !== null && !lsq ? new Anderson(d) : null;
  if (acc !== null) acc.push(w.data);
  while (!converged && it < o.maxIter) {
    // The Gram form estimates the gap every epoch in O(d): no periodic exact checks.
    const budget = acc !== null ? 1 : G !== null ? o.maxIter - it : Math.min(o.checkEvery - (it % o.checkEvery), o.maxIter - it);
    it += G !== null
      ? k.cdGram(w, q!, G, p.norms, null, xty!, d, n, l1, l2, o.tol, budget, p.yNorm2, a, b, lsq ? NaN : target, stats)
      : k.cdResidual(w, r, p.Xc, p.norms, null, d, l1, l2, o.tol, budget, stats);
    p.exact = false;
    const st = stats.data;
    const stop = st[2]!, still = st[0] === 0;
    if (lsq) {
      converged = stop === 1;
    } else if (stop !== 0 || it === o.maxIter || (G === null && it % o.checkEvery === 0)) {
      gap = p.gapAt(a, b);
      converged = gap <= target;
      if (q !== null) q.data.set(xtr.data);
      // An epoch that changed nothing from the exact r (or q) repeats forever: float32
      // cannot get closer. After a drifted one, the refreshed state may move again.
      if (still && it - 1 === exactAt) break;
      exactAt = it;
      acc?.reset(w.data);
    } else if (acc !== null && acc.push(w.data)) {
      if (acc.extrapolate(w.data, q!.data, G!.data, xty!.data, p.yNorm2, a, b)) p.exact = false;
      acc.reset(w.data);
    }
  }
  return p.result(it, converged, lsq ? NaN : gap);
}

/**
 * Coordinate descent on working sets with gap-safe screening (Fercoq et al. 2015; the
 * working sets as celer's, Massias et al. 2018), residual form, for a > 0. Each outer
 * iteration, from the exact r and Xᵀr and the full gap:
 * - screens: with θ the dual point of gapOf (r, scaled into the feasible set for the
 *   lasso), the dual optimum lies within √(2·gap) of θ (the dual is 1-strongly concave),
 *   so |X_jᵀθ| + ‖X_j‖·√(2·gap) < a proves w*_j = 0: such j are set to 0 and left out;
 * - picks the working set: the non-zero coefficients plus the remaining features nearest
 *   to their dual constraint ((a − |X_jᵀθ|)/‖X_j‖ smallest), `size` in all, doubling each
 *   outer iteration from max(16, 2·nnz);
 * - runs cdResidual epochs on it until the subproblem's gap is ≤ 0.3 × the full gap.
 * It stops on the full gap (the guarantee is the plain solver's), at maxIter (epochs
 * over working sets), or when a working set holding every unscreened feature stops
 * changing (the float32 fixed point). Coefficients outside the set stay exact zeros.
 */
export function cdWorkingSet(p: Problem, a: number, b: number, alpha: number, l1Ratio: number, o: Settings): FitResult {
  const { k, d, w, r, xtr, stats, colNorm } = p;
  const l1 = alpha * l1Ratio, l2 = alpha * (1 - l1Ratio);
  const target = o.tol * p.yNorm2;
  const idxT = p.work('idx', [1, d]), xws = p.work('xws', [1, d]);
  let gap = p.startGap(a, b);
  let converged = gap <= target;
  let it = 0;
  let nnz = 0;
  for (const v of w.data) if (v !== 0) nnz++;
  let size = Math.min(d, Math.max(WS_MIN, 2 * nnz));
  const prio = new Float64Array(d);
  while (!converged && it < o.maxIter) {
    const xd = xtr.data, wd = w.data;
    let dn = 0;
    for (let j = 0; j < d; j++) dn = Math.max(dn, Math.abs(xd[j]!));
    const c = b > 0 || dn <= a ? 1 : a / dn;
    const radius = Math.sqrt(2 * Math.max(gap, 0));
    const support: number[] = [], cand: number[] = [];
    let zeroed = false;
    for (let j = 0; j < d; j++) {
      const cn = colNorm[j]!;
      if (cn === 0) continue; // a zero column: cd never moves w_j
      const s = c * Math.abs(xd[j]!);
      if (s + cn * radius < a) {
        if (wd[j] !== 0) { wd[j] = 0; zeroed = true; p.exact = false; }
      } else if (wd[j] !== 0) {
        support.push(j);
      } else {
        cand.push(j);
        prio[j] = (a - s) / cn;
      }
    }
    if (zeroed) k.residual(r, p.y, p.Xc, w);
    size = Math.max(size, support.length);
    const take = Math.min(cand.length, size - support.length);
    if (take < cand.length) cand.sort((i, j) => prio[i]! - prio[j]! || i - j);
    const ws = support.concat(cand.slice(0, take)).sort((i, j) => i - j);
    const allIn = take === cand.length;
    const m = ws.length;
    const idx = idxT.data;
    for (let k = 0; k < m; k++) idx[k] = ws[k]!;
    let stalled = false;
    const start = it;
    while (it < o.maxIter) {
      it += k.cdResidual(w, r, p.Xc, p.norms, idxT, m, l1, l2, o.tol, Math.min(o.checkEvery, o.maxIter - it), stats);
      p.exact = false;
      const st = stats.data;
      // No change in an epoch: a fixed point if that epoch started from the exact r.
      if (st[0] === 0) { stalled = it - 1 === start; break; }
      // sklearn's rule (a change ≤ tol·max|w|) sends the solve to the exact full gap, as in
      // cd(): near the float32 floor the running residual's subproblem gap may never fall
      // below WS_INNER·gap.
      if (st[2] === 1) break;
      k.colDots(xws, p.Xc, r, idxT, m);
      if (p.gapOf(r.data, xws.data, idxT.data, m, a, b) <= WS_INNER * gap) break;
    }
    gap = p.gapAt(a, b);
    converged = gap <= target;
    if (stalled && allIn) break;
    size = Math.min(d, 2 * size);
  }
  return p.result(it, converged, gap);
}
