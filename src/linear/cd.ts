/**
 * Coordinate descent for linear.fit and linear.path: cyclic epochs on the kernels cdGram or
 * cdResidual, Anderson extrapolation of the Gram form, and working sets with gap-safe
 * screening in the residual form.
 */
import type { FitResult } from './types.js';
import type { Problem, Settings } from './problem.js';

/** The smallest working set (features) of the first outer iteration. */
const WS_MIN = 16;
/** An inner working-set solve stops once its gap is below this fraction of the last full gap (celer's choice). */
const WS_INNER = 0.3;
/**
 * The smallest relative change sklearn's rule asks of an epoch (max|Δw_j| ≤ max(tol, this)·max|w|):
 * 8 float32 ulps. Below it the rule would ask for epochs that change nothing, which a float32
 * iteration cycling by an ulp may never give; the gap still has to reach tol.
 */
const DW_TOL_MIN = 2 ** -20;

/** The epochs' stopping rule for a change: sklearn's d_w_tol = tol, kept above the float32 resolution. */
export function changeTol(tol: number): number {
  return Math.max(tol, DW_TOL_MIN);
}

/**
 * Cyclic coordinate descent from the current w, as sklearn's enet_coordinate_descent
 * (kernels cdGram or cdResidual run the epochs between checks). It converges as sklearn
 * does: on an epoch whose largest change is ≤ tol·max|w| (sklearn's rule; changeTol) AND a
 * float64 gap ≤ tol·‖y‖² at the w it left. The gap alone is not enough: it bounds the
 * objective, and coefficients can still be off by its square root (on diabetes, a gap
 * within tol after 2 Gram epochs left coefficients 0.08 from the optimum where sklearn's
 * rule lands within 1e-8). The gap is computed after such an epoch (in the Gram form once
 * the estimate also allows it, or every checkEvery epochs), every checkEvery epochs in the
 * residual form (a gap far above target is not worth waiting for), and at maxIter; each
 * check recomputes r (and in the Gram form q = Xᵀr) from w, so float32 drift does not
 * accumulate. A warm start whose gap is already ≤ target is accepted at once.
 */
export function cd(p: Problem, gram: boolean, a: number, b: number, alpha: number, l1Ratio: number, o: Settings): FitResult {
  const { k, n, d, w, r, xtr, stats } = p;
  const l1 = alpha * l1Ratio, l2 = alpha * (1 - l1Ratio);
  const lsq = a === 0 && b === 0;
  const target = o.tol * p.yNorm2;
  const G = gram ? p.gram() : null;
  const q = gram ? p.work('q', [1, d]) : null;
  const xty = gram ? p.xty : null;
  let gap = G !== null ? p.startGapGram(a, b) : p.startGap(a, b);
  let converged = !lsq && gap <= target;
  const dwTol = changeTol(o.tol);
  let it = 0, exactAt = 0, estimateOk = false;
  if (q !== null) q.data.set(xtr.data);
  // The Gram form extrapolates every few epochs (src/linear/anderson.ts; its epochs then run one per call).
  const acc = G !== null && !lsq ? p.anderson() : null;
  acc?.reset(w.data);
  while (!converged && it < o.maxIter) {
    // The Gram form estimates the gap every epoch in O(d): no periodic exact checks.
    const budget = acc !== null ? 1 : G !== null ? o.maxIter - it : Math.min(o.checkEvery - (it % o.checkEvery), o.maxIter - it);
    it += G !== null
      ? k.cdGram(w, q!, G, p.norms, null, xty!, d, n, l1, l2, dwTol, budget, p.yNorm2, a, b, lsq ? NaN : target, stats)
      : k.cdResidual(w, r, p.cols(), p.norms, null, d, l1, l2, dwTol, budget, stats);
    p.exact = false;
    const st = stats.data;
    const stop = st[2]!, still = st[0] === 0, small = stop === 1;
    if (lsq) {
      converged = small;
    } else if (G !== null
      // The Gram form's exact check costs O(n·d), its epochs O(d²): after a small change it
      // checks when the O(d) estimate of the epoch before was within target (stop 2: the
      // kernel stops on a small change before estimating), else every checkEvery epochs.
      ? it === o.maxIter || (small && (still || estimateOk || it - exactAt >= o.checkEvery))
      : small || it === o.maxIter || it % o.checkEvery === 0) {
      gap = G !== null ? p.gapAtGram(a, b) : p.gapAt(a, b);
      converged = small && gap <= target;
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
    estimateOk = stop === 2;
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
 * It converges on the full gap after an inner run that ended on sklearn's small change
 * (as cd(); the guarantee is the plain solver's), stops at maxIter (epochs
 * over working sets), or when a working set holding every unscreened feature stops
 * changing (the float32 fixed point). Coefficients outside the set stay exact zeros.
 */
export function cdWorkingSet(p: Problem, a: number, b: number, alpha: number, l1Ratio: number, o: Settings): FitResult {
  const { k, n, d, w, r, xtr, stats, colNorm } = p;
  const l1 = alpha * l1Ratio, l2 = alpha * (1 - l1Ratio);
  const target = o.tol * p.yNorm2;
  const dwTol = changeTol(o.tol);
  let gap = p.startGap(a, b);
  let converged = gap <= target;
  let it = 0;
  let nnz = 0;
  for (const v of w.data) if (v !== 0) nnz++;
  let size = Math.min(d, Math.max(WS_MIN, 2 * nnz));
  const prio = new Float64Array(d), keys = new Float64Array(d);
  const support = new Int32Array(d), cand = new Int32Array(d), ws = new Int32Array(d);
  while (!converged && it < o.maxIter) {
    const xd = xtr.data, wd = w.data;
    let dn = 0;
    for (let j = 0; j < d; j++) dn = Math.max(dn, Math.abs(xd[j]!));
    const c = b > 0 || dn <= a ? 1 : a / dn;
    const radius = Math.sqrt(2 * Math.max(gap, 0));
    let ns = 0, nc = 0;
    let zeroed = false;
    for (let j = 0; j < d; j++) {
      const cn = colNorm[j]!;
      if (cn === 0) continue; // a zero column: cd never moves w_j
      const s = c * Math.abs(xd[j]!);
      if (s + cn * radius < a) {
        if (wd[j] !== 0) { wd[j] = 0; zeroed = true; p.exact = false; }
      } else if (wd[j] !== 0) {
        support[ns++] = j;
      } else {
        cand[nc++] = j;
        prio[j] = (a - s) / cn;
      }
    }
    if (zeroed) p.refreshResidual();
    size = Math.max(size, ns);
    const take = Math.min(nc, size - ns);
    const m = workingSet(support, ns, cand, nc, prio, keys, take, ws);
    const allIn = take === nc;
    // The set's columns, curvatures and coefficients as one contiguous block: the epochs
    // and dots then read m·n floats in order (the same arithmetic as on a full copy).
    const idxT = p.work('idx', [1, m]), Xb = p.work('Xb', [m, n]);
    const nb = p.work('nb', [1, m]), wb = p.work('wb', [1, m]), xb = p.work('xb', [1, m]);
    // Views after the allocations above (a growing Wasm memory detaches the earlier ones).
    const idx = idxT.data, nbd = nb.data, wbd = wb.data, nd = p.norms.data, wNow = w.data;
    for (let q = 0; q < m; q++) { const j = ws[q]!; idx[q] = j; nbd[q] = nd[j]!; wbd[q] = wNow[j]!; }
    k.gatherCols(Xb, p.X, idxT, m);
    let stalled = false, small = false;
    const start = it;
    while (it < o.maxIter) {
      it += k.cdResidual(wb, r, Xb, nb, null, m, l1, l2, dwTol, Math.min(o.checkEvery, o.maxIter - it), stats);
      p.exact = false;
      const st = stats.data;
      // No change in an epoch: a fixed point if that epoch started from the exact r.
      if (st[0] === 0) { stalled = it - 1 === start; small = true; break; }
      // sklearn's rule (a change ≤ tol·max|w|) sends the solve to the exact full gap, as in
      // cd(): near the float32 floor the running residual's subproblem gap may never fall
      // below WS_INNER·gap.
      if (st[2] === 1) { small = true; break; }
      k.colDots(xb, Xb, r, null, m);
      p.rStats(r.data);
      if (p.gapOf(xb.data, wb.data, null, m, a, b) <= WS_INNER * gap) break;
    }
    const wbAfter = wb.data, wAfter = w.data;
    for (let q = 0; q < m; q++) wAfter[ws[q]!] = wbAfter[q]!;
    gap = p.gapAt(a, b);
    // As cd(): the gap is trusted after an epoch with sklearn's small change.
    converged = small && gap <= target;
    if (stalled && allIn) break;
    size = Math.min(d, 2 * size);
  }
  return p.result(it, converged, gap);
}

/**
 * Writes into ws, increasing, the ns support columns and the `take` candidates (cand holds
 * nc columns, increasing) with the smallest prio, ties to the smaller index, i.e. the
 * first `take` of cand sorted by (prio, index); returns ns + take. The cut value comes
 * from a selection (quickselect on keys, a scratch of nc values), not a sort.
 */
function workingSet(support: Int32Array, ns: number, cand: Int32Array, nc: number, prio: Float64Array, keys: Float64Array, take: number, ws: Int32Array): number {
  let cut = Infinity, atCut = nc;
  if (take < nc) {
    for (let q = 0; q < nc; q++) keys[q] = prio[cand[q]!]!;
    cut = take > 0 ? kthSmallest(keys, nc, take - 1) : -Infinity;
    let below = 0;
    for (let q = 0; q < nc; q++) if (prio[cand[q]!]! < cut) below++;
    atCut = take - below;
  }
  let m = 0, i = 0;
  for (let q = 0; q < nc; q++) {
    const j = cand[q]!, v = prio[j]!;
    if (take < nc && !(v < cut || (v === cut && atCut-- > 0))) continue;
    while (i < ns && support[i]! < j) ws[m++] = support[i++]!;
    ws[m++] = j;
  }
  while (i < ns) ws[m++] = support[i++]!;
  return m;
}

/** The k-th smallest (0-based) of the first n values of a (reordered in place; no NaN), by quickselect. */
function kthSmallest(a: Float64Array, n: number, k: number): number {
  let lo = 0, hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) { const t = a[i]!; a[i] = a[j]!; a[j] = t; i++; j--; }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}
