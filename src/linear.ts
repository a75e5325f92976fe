/**
 * Linear models in scikit-learn's convention (Lasso, ElasticNet, Ridge; no intercept),
 * solved on a backend with its kernels.
 *
 * Objective (as sklearn.linear_model.ElasticNet with fit_intercept=False):
 *
 *     1/(2n)·‖y − Xw‖² + alpha·l1Ratio·‖w‖₁ + alpha·(1 − l1Ratio)/2·‖w‖²
 *
 * l1Ratio = 1 is the lasso, 0 is ridge (sklearn's Ridge minimizes ‖y − Xw‖² + λ‖w‖²,
 * which is this objective with alpha = λ/n, l1Ratio = 0).
 *
 * Two solvers, both on the backend's kernels, bit-identical across backends (every kernel
 * is, and the scalar logic in JS is deterministic):
 * - 'cd' (default): cyclic coordinate descent, sklearn's own algorithm. X's columns are
 *   kept as separate tensors; per coordinate, X_jᵀr is the `mul` + `sum` kernels and the
 *   residual update the `axpy` kernel; the soft threshold of the one coordinate is scalar
 *   JS (exact zeros).
 * - 'fista': accelerated proximal gradient (Beck and Teboulle 2009) with adaptive restart
 *   (O'Donoghue and Candès 2015), step 1/L with L the largest eigenvalue of XᵀX/n from a
 *   power iteration; Xv and Xᵀr are `matmul`, the proximal step the `softThreshold` kernel
 *   (exact zeros), the vector updates scale/axpy/add/mul/sum.
 * Measured (`npx tsx bench/run.ts linear`, 2 shared cores, noisy): lasso on diabetes at
 * alpha 0.1, cd 25 epochs in 0.17 ms on wasm, fista 70 iterations in 1.5 ms; on a 4000×200
 * problem cd 9.7 ms, fista 93 ms (much of it the power iteration); the 100-alpha diabetes
 * path with cd 53 ms on wasm, 258 ms on js. Hence cd by default. Its inner loop calls the
 * raw kernels directly (see cd()), which made the path 4× faster than through the facade.
 *
 * Convergence: the duality gap, as sklearn's enet_coordinate_descent: stop when
 * gap ≤ tol·‖y‖² for the n-scaled problem ½‖y − Xw‖² + n·alpha·(…), checked every
 * `checkEvery` iterations (epochs for cd), before the first, and for cd also after any
 * epoch whose largest coefficient change is ≤ tol·max|w| (sklearn's rule). The gap is
 * accumulated in float64 on the JS side from the float32 kernel outputs r = y − Xw and
 * Xᵀr (r recomputed from scratch, not cd's running residual): float32 residuals put a
 * floor of about 1e-7·‖y‖² under the gap, so tol much below 1e-6 may not be reachable
 * (the fit then stops at maxIter with converged = false). For the lasso part the dual
 * point is sklearn's rescaled residual; with an L2 part the exact elastic-net dual at the
 * residual is used (sklearn's formula degenerates at l1Ratio = 0). With alpha = 0 (least
 * squares) there is no finite dual: the fit stops when the largest coefficient change
 * in one iteration is ≤ tol·max|w| and reports dualGap = NaN. An iteration that changes
 * no coefficient at all is a fixed point of the float32 iteration: the fit stops there
 * (converged only if the gap is below tol) rather than repeat it up to maxIter.
 */
import { Backend } from './backend.js';
import { ShapeError, describe } from './errors.js';
import type { Tensor } from './tensor.js';

/** 'cd': cyclic coordinate descent (sklearn's algorithm); 'fista': accelerated proximal gradient. */
export type Solver = 'cd' | 'fista';

export interface FitOptions {
  /** Rows of X (samples): a positive integer. */
  n: number;
  /** Columns of X (features): a positive integer. */
  d: number;
  /** Overall penalty strength, ≥ 0. */
  alpha: number;
  /** Mix of L1 in [0, 1]: 1 lasso (default), 0 ridge. */
  l1Ratio?: number;
  /** Most iterations (cd: epochs, as sklearn's max_iter; fista: gradient steps). Default 10000. */
  maxIter?: number;
  /**
   * Stop when the duality gap ≤ tol·‖y‖² (sklearn's scaling). Default 1e-6, tighter than
   * sklearn's 1e-4: the gap bounds the objective, coefficient errors go as its square root
   * (at 1e-4 a ridge fit can be off by 3e-3 of its largest coefficient). The float32 floor is
   * near 1e-7.
   */
  tol?: number;
  /** Initial coefficients (length d); default zeros. */
  warmStart?: ArrayLike<number>;
  /** Iterations between convergence checks (each costs two matrix-vector products). Default 10. */
  checkEvery?: number;
  /** The algorithm; default 'cd' (see the module notes for the measurements behind the choice). */
  solver?: Solver;
}

export interface FitResult {
  /** The coefficients, length d. Exact zeros where the L1 prox cut them. */
  coef: Float32Array;
  /** Iterations done: epochs over all coordinates (cd) or proximal gradient steps (fista). */
  iterations: number;
  /** True when the gap (or, for alpha = 0, the coefficient change) fell below tol. */
  converged: boolean;
  /** The last duality gap, in units of the objective above (gap/n); NaN when alpha = 0. */
  dualGap: number;
}

export interface PathOptions {
  n: number;
  d: number;
  /** The alphas; sorted decreasing before use (as sklearn). Default: a geometric grid. */
  alphas?: ArrayLike<number>;
  /** Grid size when alphas is absent. Default 100. */
  nAlphas?: number;
  /** Grid from alpha_max down to eps·alpha_max. Default 1e-3. */
  eps?: number;
  /** Default 1 (lasso path). The automatic grid needs l1Ratio > 0. */
  l1Ratio?: number;
  maxIter?: number;
  tol?: number;
  checkEvery?: number;
  solver?: Solver;
}

export interface PathResult {
  /** Decreasing. */
  alphas: Float64Array;
  /** coefs[k] is the solution at alphas[k] (warm-started from coefs[k−1]). */
  coefs: Float32Array[];
  /** Exact zeros in coefs[k]. */
  zeroCounts: Int32Array;
  iterations: Int32Array;
  converged: boolean[];
  dualGaps: Float64Array;
}

// ---- validation ----

function checkBackend(be: unknown, what: string): Backend {
  if (!(be instanceof Backend)) throw new TypeError(`${what}: expected a Backend from loadBackend(), got ${describe(be)}`);
  return be;
}

function posInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ShapeError(`${what}: expected a positive integer, got ${describe(v)}`);
  return v;
}

function checkData(v: unknown, len: number, what: string, shape: string): ArrayLike<number> {
  if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`${what}: expected a Float32Array (or array of numbers) of ${shape} = ${len} values, got ${describe(v)}`);
  }
  const a = v as ArrayLike<number>;
  if (a.length !== len) throw new ShapeError(`${what}: expected ${shape} = ${len} values, got ${a.length}`);
  for (let i = 0; i < len; i++) {
    const x = a[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new RangeError(`${what}: expected finite numbers, got ${describe(x)} at index ${i}`);
  }
  return a;
}

function checkAlpha(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${what}: expected a finite number ≥ 0, got ${describe(v)}`);
  return v;
}

function checkRatio(v: unknown, what: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`${what}: expected a number in [0, 1], got ${describe(v)}`);
  return v;
}

function checkSolverOpts(o: { maxIter?: number; tol?: number; checkEvery?: number; solver?: Solver }, what: string): { maxIter: number; tol: number; checkEvery: number; solver: Solver } {
  const solver = o.solver ?? 'cd';
  if (solver !== 'cd' && solver !== 'fista') throw new TypeError(`${what} solver: expected 'cd' or 'fista', got ${describe(solver)}`);
  const maxIter = o.maxIter ?? 10000;
  if (typeof maxIter !== 'number' || !Number.isSafeInteger(maxIter) || maxIter < 1) throw new RangeError(`${what} maxIter: expected a positive integer, got ${describe(maxIter)}`);
  const tol = o.tol ?? 1e-6;
  if (typeof tol !== 'number' || !Number.isFinite(tol) || tol < 0) throw new RangeError(`${what} tol: expected a finite number ≥ 0, got ${describe(tol)}`);
  const checkEvery = o.checkEvery ?? 10;
  if (typeof checkEvery !== 'number' || !Number.isSafeInteger(checkEvery) || checkEvery < 1) throw new RangeError(`${what} checkEvery: expected a positive integer, got ${describe(checkEvery)}`);
  return { maxIter, tol, checkEvery, solver };
}

// ---- the solvers ----

/** X and y on the backend and the work vectors; shared by fit and path. Vectors are row vectors. */
class Problem {
  readonly X: Tensor; readonly y: Tensor;
  /** [1, n]: Xv or Xw, then residuals (after gap(): r = y − Xw). */
  private readonly u: Tensor;
  /** [1, d] work vectors. */
  private readonly g: Tensor; private readonly z: Tensor; private readonly v: Tensor; private readonly diff: Tensor;
  private wOld: Tensor; private wNew: Tensor;
  /** Coordinate descent: the columns of X as [1, n] tensors, ‖X_j‖²/n, and a [1, n] scratch. */
  private cols: Tensor[] | null = null; private colNorms: Float64Array | null = null; private tmp: Tensor | null = null;
  private lipschitz = -1;
  readonly yNorm2: number;
  private readonly yHost: Float64Array;

  constructor(readonly be: Backend, X: ArrayLike<number>, y: ArrayLike<number>, readonly n: number, readonly d: number) {
    const made: Tensor[] = [];
    const mk = (shape: number[], data?: ArrayLike<number>) => {
      const t = be.tensor(shape, data);
      made.push(t);
      return t;
    };
    try {
      this.X = mk([n, d], X); this.y = mk([1, n], y);
      this.u = mk([1, n]);
      this.g = mk([1, d]); this.z = mk([1, d]); this.v = mk([1, d]); this.diff = mk([1, d]);
      this.wOld = mk([1, d]); this.wNew = mk([1, d]);
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
    // The float32 y the backend sees, in float64 for the gap.
    this.yHost = Float64Array.from(this.y.data);
    let s = 0;
    for (let i = 0; i < n; i++) s += this.yHost[i]! ** 2;
    this.yNorm2 = s;
  }

  dispose(): void {
    for (const t of [this.X, this.y, this.u, this.g, this.z, this.v, this.diff, this.wOld, this.wNew]) t.dispose();
    if (this.cols !== null) for (const t of this.cols) t.dispose();
    this.tmp?.dispose();
  }

  /** out [1, n] = (X w)ᵀ: row i is Σ_p X[i, p]·w[p], summed in order of p (matmul's order). */
  private xw(out: Tensor, w: Tensor): void {
    this.be.kernels.matmul(out, w, this.X, { transB: true });
  }

  /** out [1, d] = (Xᵀ r)ᵀ. */
  private xtr(out: Tensor, r: Tensor): void {
    this.be.kernels.matmul(out, r, this.X);
  }

  /**
   * λmax(XᵀX)/n for the FISTA step, by power iteration on the backend (to a relative change
   * ≤ 1e-4, at most 100 rounds), times a 5% margin since the estimate approaches from below;
   * never above the Frobenius bound ‖X‖²_F/n. 0 when X = 0. Computed once per problem.
   */
  private get L(): number {
    if (this.lipschitz >= 0) return this.lipschitz;
    const { be, u, g: c, v: b, n, d } = this;
    const k = be.kernels;
    const b0 = new Float32Array(d);
    for (let j = 0; j < d; j++) b0[j] = 1 + ((j * 0.6180339887) % 1);
    b.data.set(b0);
    k.scale(b, b, 1 / Math.sqrt(k.sumSquares(b)));
    let lam = 0;
    for (let it = 0; it < 100; it++) {
      this.xw(u, b);
      this.xtr(c, u);
      const norm = Math.sqrt(k.sumSquares(c));
      if (norm === 0) break;
      k.scale(b, c, 1 / norm);
      const done = Math.abs(norm - lam) <= 1e-4 * norm;
      lam = norm;
      if (done) break;
    }
    let fro = 0;
    const xd = this.X.data;
    for (let i = 0; i < n * d; i++) fro += xd[i]! ** 2;
    return (this.lipschitz = Math.min(lam * 1.05, fro) / n);
  }

  /**
   * Duality gap of the n-scaled problem at w with a = n·α·ρ, b = n·α·(1−ρ); NaN when
   * a = b = 0. Leaves r = y − Xw in u (float32, from the kernels) and Xᵀr in g.
   */
  private gap(w: Tensor, a: number, b: number): number {
    const { be, y, u: r, g: xtr, n, d } = this;
    this.xw(r, w);
    be.kernels.mseBackward(r, y, r, 1);
    this.xtr(xtr, r);
    if (a === 0 && b === 0) return NaN;
    const rd = r.data, yd = this.yHost, wd = w.data, xd = xtr.data;
    let rr = 0, ry = 0;
    for (let i = 0; i < n; i++) { const ri = rd[i]!; rr += ri * ri; ry += ri * yd[i]!; }
    let l1 = 0, l2 = 0, dn = 0, conj = 0;
    for (let j = 0; j < d; j++) {
      const wj = wd[j]!, xj = Math.abs(xd[j]!);
      l1 += Math.abs(wj); l2 += wj * wj;
      if (xj > dn) dn = xj;
      if (xj > a) conj += (xj - a) ** 2;
    }
    const primal = 0.5 * rr + a * l1 + 0.5 * b * l2;
    let dual: number;
    if (b > 0) {
      // Fenchel dual at θ = r: θᵀy − ½‖θ‖² − Σ (|X_jᵀθ| − a)₊² / (2b).
      dual = ry - 0.5 * rr - conj / (2 * b);
    } else {
      // Lasso: scale r into the dual feasible set |X_jᵀθ| ≤ a (sklearn).
      const c = dn > a ? a / dn : 1;
      dual = c * ry - 0.5 * c * c * rr;
    }
    return primal - dual;
  }

  solve(solver: Solver, alpha: number, l1Ratio: number, w0: ArrayLike<number> | null, maxIter: number, tol: number, checkEvery: number): FitResult {
    const k = this.be.kernels;
    if (w0 === null) k.fill(this.wOld, 0);
    else this.wOld.data.set(w0);
    return solver === 'cd' ? this.cd(alpha, l1Ratio, maxIter, tol, checkEvery) : this.fista(alpha, l1Ratio, maxIter, tol, checkEvery);
  }

  /** FISTA with adaptive restart from the coefficients in wOld. */
  private fista(alpha: number, l1Ratio: number, maxIter: number, tol: number, checkEvery: number): FitResult {
    const { be, y, u, g, z, v, diff, n } = this;
    const k = be.kernels;
    const a = n * alpha * l1Ratio, b = n * alpha * (1 - l1Ratio);
    const lsq = a === 0 && b === 0;
    const target = tol * this.yNorm2;
    const L = this.L;
    if (L === 0) {
      // X = 0: every w fits equally; the penalty (or, without one, the minimum norm) picks 0.
      k.fill(this.wOld, 0);
      return { coef: new Float32Array(this.d), iterations: 0, converged: true, dualGap: this.gap(this.wOld, a, b) / n };
    }
    const thr = (alpha * l1Ratio) / L;
    const shrink = 1 / (1 + (alpha * (1 - l1Ratio)) / L);
    let gap = this.gap(this.wOld, a, b);
    let converged = !lsq && gap <= target;
    let it = 0;
    k.scale(v, this.wOld, 1);
    let t = 1;
    while (!converged && it < maxIter) {
      it++;
      // Gradient of 1/(2n)‖y − Xv‖² at v: Xᵀ(Xv − y)/n.
      this.xw(u, v);
      k.mseBackward(u, u, y, 1 / n);
      this.xtr(g, u);
      // Proximal step: w = S_{αρ/L}(v − g/L) / (1 + α(1−ρ)/L).
      k.scale(z, v, 1);
      k.axpy(z, g, -1 / L);
      const w = this.wNew;
      k.softThreshold(w, z, thr);
      if (shrink !== 1) k.scale(w, w, shrink);
      k.scale(diff, this.wOld, -1);
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
      this.wNew = this.wOld;
      this.wOld = w;
      const dd = diff.data, wd = w.data;
      let dmax = 0, wmax = 0;
      for (let j = 0; j < this.d; j++) { dmax = Math.max(dmax, Math.abs(dd[j]!)); wmax = Math.max(wmax, Math.abs(wd[j]!)); }
      if (lsq) {
        converged = dmax <= tol * wmax;
      } else if (dmax === 0 || it % checkEvery === 0 || it === maxIter) {
        gap = this.gap(w, a, b);
        converged = gap <= target;
        // No change at all: v = w and the next iteration would repeat this one bit for bit,
        // so float32 cannot get closer (tol below the float32 floor): stop, unconverged.
        if (dmax === 0) break;
      }
    }
    if (lsq) gap = NaN;
    return { coef: this.wOld.data.slice(), iterations: it, converged, dualGap: gap / n };
  }

  /**
   * Cyclic coordinate descent from the coefficients in wOld, as sklearn's
   * enet_coordinate_descent: for each j, ρ = X_jᵀr/n + ‖X_j‖²/n·w_j (mul + sum kernels on the
   * column), w_j ← S(ρ, α·l1Ratio)/(‖X_j‖²/n + α(1 − l1Ratio)), r −= Δw_j·X_j (axpy). The
   * residual is recomputed exactly (r = y − Xw) at every gap check, so float32 drift of the
   * running residual does not accumulate. The gap is checked when an epoch's largest change
   * is ≤ tol·max|w| (sklearn's rule) and every checkEvery epochs.
   */
  private cd(alpha: number, l1Ratio: number, maxIter: number, tol: number, checkEvery: number): FitResult {
    const { be, u: r, n, d } = this;
    const k = be.kernels;
    if (this.cols === null) {
      this.cols = [];
      this.colNorms = new Float64Array(d);
      this.tmp = be.zeros([1, n]);
      const col = new Float32Array(n);
      for (let j = 0; j < d; j++) {
        // Read X.data afresh: the allocation below may grow the Wasm memory and stale a view.
        const xd = this.X.data;
        let s = 0;
        for (let i = 0; i < n; i++) { col[i] = xd[i * d + j]!; s += col[i]! ** 2; }
        this.cols.push(be.tensor([1, n], col));
        this.colNorms[j] = s / n;
      }
    }
    const cols = this.cols, norms = this.colNorms!, tmp = this.tmp!;
    // The inner loop calls the raw kernels: every tensor here was made by this Problem with
    // shape [1, n] on this backend and is live, so the facade's per-call checks would only
    // re-prove that (they cost more than the work at n in the hundreds).
    const raw = be._s.raw;
    const a = n * alpha * l1Ratio, b = n * alpha * (1 - l1Ratio);
    const l1 = alpha * l1Ratio, l2 = alpha * (1 - l1Ratio);
    const lsq = a === 0 && b === 0;
    const target = tol * this.yNorm2;
    const wt = this.wOld;
    const w = Float32Array.from(wt.data);
    let gap = this.gap(wt, a, b); // also sets r = y − Xw
    let converged = !lsq && gap <= target;
    let it = 0;
    while (!converged && it < maxIter) {
      it++;
      let dmax = 0, wmax = 0;
      for (let j = 0; j < d; j++) {
        const nj = norms[j]!;
        if (nj === 0) continue;
        raw.mul(tmp._h, cols[j]!._h, r._h, n);
        const rho = raw.sum(tmp._h, n) / n + nj * w[j]!;
        const mag = Math.abs(rho) - l1;
        const wj = mag > 0 ? Math.fround((Math.sign(rho) * mag) / (nj + l2)) : 0; // +0, as the softThreshold kernel
        const old = w[j]!;
        if (wj !== old) {
          raw.axpy(r._h, cols[j]!._h, n, old - wj);
          w[j] = wj;
          dmax = Math.max(dmax, Math.abs(wj - old));
        }
        wmax = Math.max(wmax, Math.abs(wj));
      }
      const small = dmax <= tol * wmax;
      if (lsq) {
        converged = small;
      } else if (small || it % checkEvery === 0 || it === maxIter) {
        wt.data.set(w);
        gap = this.gap(wt, a, b);
        converged = gap <= target;
        // An epoch that changed nothing repeats forever: float32 cannot get closer.
        if (dmax === 0) break;
      }
    }
    if (lsq) gap = NaN;
    return { coef: w, iterations: it, converged, dualGap: gap / n };
  }
}

function setup(be: unknown, X: unknown, y: unknown, o: { n?: unknown; d?: unknown }, what: string) {
  checkBackend(be, what);
  if (o === null || typeof o !== 'object') throw new TypeError(`${what}: expected options { n, d, ... }, got ${describe(o)}`);
  const n = posInt(o.n, `${what} n (rows of X)`);
  const d = posInt(o.d, `${what} d (columns of X)`);
  const Xa = checkData(X, n * d, `${what} X`, `n×d = ${n}×${d}`);
  const ya = checkData(y, n, `${what} y`, `n`);
  return { n, d, Xa, ya };
}

/**
 * Fits sklearn's elastic net (lasso at l1Ratio 1, ridge at 0), no intercept:
 * minimizes 1/(2n)‖y − Xw‖² + alpha·l1Ratio·‖w‖₁ + alpha·(1 − l1Ratio)/2·‖w‖² on `be`.
 * X is n×d row-major, y length n. Throws ShapeError for sizes, RangeError for
 * out-of-range or non-finite values, TypeError for wrong types; nothing is allocated then.
 */
export function fit(be: Backend, X: ArrayLike<number>, y: ArrayLike<number>, options: FitOptions): FitResult {
  const { n, d, Xa, ya } = setup(be, X, y, options, 'linear.fit');
  const alpha = checkAlpha(options.alpha, 'linear.fit alpha');
  const l1Ratio = checkRatio(options.l1Ratio ?? 1, 'linear.fit l1Ratio');
  const { maxIter, tol, checkEvery, solver } = checkSolverOpts(options, 'linear.fit');
  const w0 = options.warmStart === undefined ? null : checkData(options.warmStart, d, 'linear.fit warmStart', 'd');
  const p = new Problem(be, Xa, ya, n, d);
  try {
    return p.solve(solver, alpha, l1Ratio, w0, maxIter, tol, checkEvery);
  } finally {
    p.dispose();
  }
}

/**
 * sklearn's alpha_max for the path: the smallest alpha whose solution is all zeros,
 * max_j |X_jᵀy| / (n·l1Ratio), computed in float64.
 */
export function alphaMax(X: ArrayLike<number>, y: ArrayLike<number>, n: number, d: number, l1Ratio = 1): number {
  posInt(n, 'linear.alphaMax n (rows of X)');
  posInt(d, 'linear.alphaMax d (columns of X)');
  checkData(X, n * d, 'linear.alphaMax X', `n×d = ${n}×${d}`);
  checkData(y, n, 'linear.alphaMax y', 'n');
  if (!(l1Ratio > 0 && l1Ratio <= 1)) throw new RangeError(`linear.alphaMax: the automatic alpha grid needs l1Ratio in (0, 1], got ${describe(l1Ratio)} (pass alphas explicitly for ridge)`);
  let m = 0;
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += X[i * d + j]! * y[i]!;
    m = Math.max(m, Math.abs(s));
  }
  return m / (n * l1Ratio);
}

/**
 * The regularization path, as sklearn's lasso_path / enet_path (no intercept): fits at
 * each alpha in decreasing order, each warm-started from the previous solution, reusing
 * X on the backend and its L. Default grid: nAlphas values geometric from alpha_max down to
 * eps·alpha_max.
 */
export function path(be: Backend, X: ArrayLike<number>, y: ArrayLike<number>, options: PathOptions): PathResult {
  const { n, d, Xa, ya } = setup(be, X, y, options, 'linear.path');
  const l1Ratio = checkRatio(options.l1Ratio ?? 1, 'linear.path l1Ratio');
  const { maxIter, tol, checkEvery, solver } = checkSolverOpts(options, 'linear.path');
  let alphas: Float64Array;
  if (options.alphas !== undefined) {
    const a = options.alphas;
    if (a === null || typeof a !== 'object' || typeof a.length !== 'number' || a.length < 1) {
      throw new TypeError(`linear.path alphas: expected a non-empty array of numbers ≥ 0, got ${describe(a)}`);
    }
    alphas = Float64Array.from({ length: a.length }, (_, i) => checkAlpha(a[i], `linear.path alphas[${i}]`)).sort().reverse();
  } else {
    const nAlphas = options.nAlphas ?? 100;
    if (typeof nAlphas !== 'number' || !Number.isSafeInteger(nAlphas) || nAlphas < 1) throw new RangeError(`linear.path nAlphas: expected a positive integer, got ${describe(nAlphas)}`);
    const eps = options.eps ?? 1e-3;
    if (typeof eps !== 'number' || !(eps > 0 && eps <= 1)) throw new RangeError(`linear.path eps: expected a number in (0, 1], got ${describe(eps)}`);
    if (l1Ratio === 0) throw new RangeError('linear.path: the automatic alpha grid needs l1Ratio > 0, got 0 (pass alphas explicitly for ridge), as sklearn');
    const amax = alphaMax(Xa, ya, n, d, l1Ratio); // validates again: O(n·d), small next to the fits
    // np.logspace(log10(amax·eps), log10(amax), nAlphas)[::-1]
    const lo = Math.log10(amax * eps), hi = Math.log10(amax);
    alphas = Float64Array.from({ length: nAlphas }, (_, i) => (nAlphas === 1 ? amax : 10 ** (hi - ((hi - lo) * i) / (nAlphas - 1))));
  }
  const p = new Problem(be, Xa, ya, n, d);
  try {
    const coefs: Float32Array[] = [];
    const zeroCounts = new Int32Array(alphas.length);
    const iterations = new Int32Array(alphas.length);
    const converged: boolean[] = [];
    const dualGaps = new Float64Array(alphas.length);
    let w: Float32Array | null = null;
    alphas.forEach((alpha, i) => {
      const r = p.solve(solver, alpha, l1Ratio, w, maxIter, tol, checkEvery);
      coefs.push(r.coef);
      zeroCounts[i] = r.coef.reduce((c, x) => c + (x === 0 ? 1 : 0), 0);
      iterations[i] = r.iterations;
      converged.push(r.converged);
      dualGaps[i] = r.dualGap;
      w = r.coef;
    });
    return { alphas, coefs, zeroCounts, iterations, converged, dualGaps };
  } finally {
    p.dispose();
  }
}
