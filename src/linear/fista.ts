/**
 * FISTA for linear.fit and linear.path (solver 'fista'), with the bounds on its step.
 */
import type { FitResult } from './types.js';
import type { Problem, Settings } from './problem.js';

/**
 * FISTA (Beck and Teboulle 2009) with adaptive restart (O'Donoghue and Candès 2015) and
 * backtracking from the current w. The step 1/L starts from the power-iteration estimate
 * and doubles whenever the descent lemma fails for the step taken, which for this
 * quadratic is exactly ½‖X(w − v)‖²/n ≤ ½L‖w − v‖², up to the certified bound
 * lipschitzBound() where it always holds. (A fixed step from the estimate alone
 * diverged to NaN when the start vector missed the top eigenvector.)
 */
export function fista(p: Problem, alpha: number, l1Ratio: number, o: Settings): FitResult {
  const { y, n, d } = p;
  const k = p.k;
  const a = n * alpha * l1Ratio, b = n * alpha * (1 - l1Ratio);
  const lsq = a === 0 && b === 0;
  const target = o.tol * p.yNorm2;
  const cap = lipschitzBound(p);
  if (cap === 0) {
    // X = 0: every w fits equally; the penalty (or, without one, the minimum norm) picks 0.
    p.w.data.fill(0);
    return p.result(0, true, p.gapAt(a, b));
  }
  let L = Math.min(lipschitzEstimate(p), cap);
  if (!(L > 0)) L = cap;
  const u = p.work('u', [1, n]), u2 = p.work('u2', [1, n]);
  const g = p.work('g', [1, d]), z = p.work('z', [1, d]), v = p.work('v', [1, d]), diff = p.work('diff', [1, d]);
  let wNew = p.work('wNew', [1, d]);
  let gap = p.gapAt(a, b);
  let converged = !lsq && gap <= target;
  let it = 0;
  k.scale(v, p.w, 1);
  let t = 1;
  while (!converged && it < o.maxIter) {
    it++;
    // Gradient of 1/(2n)‖y − Xv‖² at v: Xᵀ(Xv − y)/n.
    p.xw(u, v);
    k.mseBackward(u, u, y, 1 / n);
    p.xtrOf(g, u);
    const w = wNew;
    for (;;) {
      // Proximal step: w = S_{αρ/L}(v − g/L) / (1 + α(1−ρ)/L).
      k.scale(z, v, 1);
      k.axpy(z, g, -1 / L);
      k.softThreshold(w, z, (alpha * l1Ratio) / L);
      const shrink = 1 / (1 + (alpha * (1 - l1Ratio)) / L);
      if (shrink !== 1) k.scale(w, w, shrink);
      if (L >= cap) break;
      k.scale(z, v, -1);
      k.add(z, z, w);
      const dd = k.sumSquares(z);
      if (dd === 0) break;
      p.xw(u2, z);
      if (k.sumSquares(u2) / n <= L * dd) break;
      L = Math.min(2 * L, cap);
    }
    const wOld = p.w;
    k.scale(diff, wOld, -1);
    k.add(diff, diff, w);
    // Restart when the momentum points against the step: (v − w)·(w − wOld) > 0.
    k.scale(z, w, -1);
    k.add(z, z, v);
    k.mul(z, z, diff);
    if (k.sum(z) > 0) {
      t = 1;
      k.scale(v, w, 1);
    } else {
      const t1 = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
      k.scale(v, w, 1);
      k.axpy(v, diff, (t - 1) / t1);
      t = t1;
    }
    p.w = w;
    p.exact = false;
    wNew = wOld;
    p.lazy.set('wNew', wNew); // the problem owns both and disposes each once
    const dd = diff.data, wd = w.data;
    let dmax = 0, wmax = 0;
    for (let j = 0; j < d; j++) { dmax = Math.max(dmax, Math.abs(dd[j]!)); wmax = Math.max(wmax, Math.abs(wd[j]!)); }
    if (lsq) {
      converged = dmax <= o.tol * wmax;
    } else if (dmax === 0 || it % o.checkEvery === 0 || it === o.maxIter) {
      gap = p.gapAt(a, b);
      converged = gap <= target;
      // No change at all: v = w and the next iteration would repeat this one bit for bit,
      // so float32 cannot get closer (tol below the float32 floor): stop, unconverged.
      if (dmax === 0) break;
    }
  }
  return p.result(it, converged, lsq ? NaN : gap);
}

/**
 * λmax(XᵀX)/n estimated by power iteration (to a relative change ≤ 1e-4, at most 100
 * rounds) on temporary tensors, times a 5% margin. An estimate from below: a start
 * vector nearly orthogonal to the top eigenvector converges to a lower eigenvalue, so
 * FISTA only starts from it and backtracks (see fista()).
 */
export function lipschitzEstimate(p: Problem): number {
  const { be, n, d } = p;
  const k = p.k;
  const b = be.zeros([1, d]), c = be.zeros([1, d]), u = be.zeros([1, n]);
  try {
    const b0 = new Float32Array(d);
    for (let j = 0; j < d; j++) b0[j] = 1 + ((j * 0.6180339887) % 1);
    b.data.set(b0);
    k.scale(b, b, 1 / Math.sqrt(k.sumSquares(b)));
    let lam = 0;
    for (let it = 0; it < 100; it++) {
      p.xw(u, b);
      p.xtrOf(c, u);
      const norm = Math.sqrt(k.sumSquares(c));
      if (norm === 0) break;
      k.scale(b, c, 1 / norm);
      const done = Math.abs(norm - lam) <= 1e-4 * norm;
      lam = norm;
      if (done) break;
    }
    return (lam * 1.05) / n;
  } finally {
    for (const t of [b, c, u]) t.dispose();
  }
}

/**
 * A certified upper bound of λmax(XᵀX)/n: min(‖X‖²_F, ‖X‖₁·‖X‖∞)/n (both bound ‖X‖²₂),
 * in float64; 0 exactly when X = 0. Computed once per problem.
 */
export function lipschitzBound(p: Problem): number {
  if (p.bound >= 0) return p.bound;
  const { n, d } = p;
  const x = p.X.data;
  const colAbs = new Float64Array(d);
  let fro = 0, rowMax = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) { const v = Math.abs(x[i * d + j]!); s += v; colAbs[j]! += v; }
    rowMax = Math.max(rowMax, s);
  }
  let colMax = 0;
  for (let j = 0; j < d; j++) {
    colMax = Math.max(colMax, colAbs[j]!);
    fro += p.colNorm[j]! ** 2;
  }
  return (p.bound = Math.min(fro, colMax * rowMax) / n);
}
