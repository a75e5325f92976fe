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

/** The solver settings that fit and path share. */
export interface SolverOptions {
  /** Most iterations (cd: epochs, over the working set when one is used, as sklearn's max_iter; fista: gradient steps; ridge: refinement rounds). Default 10000. */
  maxIter?: number;
  /**
   * Stop when the duality gap ≤ tol·‖y‖² (sklearn's scaling). Default 1e-6, tighter than
   * sklearn's 1e-4: the gap bounds the objective, coefficient errors go as its square root
   * (at 1e-4 a ridge fit can be off by 3e-3 of its largest coefficient). The float32 floor is
   * near 1e-7.
   */
  tol?: number;
  /** Iterations between convergence checks (each costs two passes over X). Default 10. */
  checkEvery?: number;
  /** The algorithm; default 'cd' (see the module notes for the measurements behind the choice). */
  solver?: Solver;
  /**
   * cd only: keep the Gram matrix XᵀX and Xᵀr (true: each coordinate costs O(d), after an
   * O(n·d²) start) or the residual r (false: each coordinate costs O(n)). 'auto' (default):
   * the Gram form when n ≥ d, for a single fit only up to d = 64 (a path reuses it across
   * alphas). With l1Ratio = 0, true or 'auto' also allows ridge's Cholesky route (d ≤ 1000).
   */
  precompute?: 'auto' | boolean;
  /**
   * cd in the residual form with an L1 part: solve on working sets with gap-safe screening
   * (default true); false runs every epoch over all d coordinates.
   */
  workingSet?: boolean;
}

export interface FitOptions extends SolverOptions {
  /** Rows of X (samples): a positive integer. */
  n: number;
  /** Columns of X (features): a positive integer. */
  d: number;
  /** Overall penalty strength, ≥ 0. */
  alpha: number;
  /** Mix of L1 in [0, 1]: 1 lasso (default), 0 ridge. */
  l1Ratio?: number;
  /** Initial coefficients (length d); default zeros. */
  warmStart?: ArrayLike<number>;
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

export interface PathOptions extends SolverOptions {
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
  // The solvers work in float32: a finite float64 beyond its range would become ±Infinity.
  const bad = (i: number) => {
    const x = a[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return `expected finite numbers, got ${describe(x)} at index ${i}`;
    if (!Number.isFinite(Math.fround(x))) return `expected values within float32's range (|x| ≤ 3.4028235e38), got ${x} at index ${i}`;
    return null;
  };
  const i = a instanceof Float32Array ? firstNonFinite(a) : firstBad(a, bad);
  if (i >= 0) throw new RangeError(`${what}: ${bad(i)}`);
  return a;
}

/** The first index of a non-finite value, or −1 (a Float32Array holds float32 values already; a loop of its own stays monomorphic). */
function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/** The first index where bad() has a complaint, or −1. */
function firstBad(a: ArrayLike<number>, bad: (i: number) => string | null): number {
  for (let i = 0; i < a.length; i++) if (bad(i) !== null) return i;
  return -1;
}

function checkAlpha(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${what}: expected a finite number ≥ 0, got ${describe(v)}`);
  return v;
}

function checkRatio(v: unknown, what: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`${what}: expected a number in [0, 1], got ${describe(v)}`);
  return v;
}

function checkSolverOpts(o: SolverOptions, what: string): Settings {
  const solver = o.solver ?? 'cd';
  if (solver !== 'cd' && solver !== 'fista') throw new TypeError(`${what} solver: expected 'cd' or 'fista', got ${describe(solver)}`);
  const maxIter = o.maxIter ?? 10000;
  if (typeof maxIter !== 'number' || !Number.isSafeInteger(maxIter) || maxIter < 1) throw new RangeError(`${what} maxIter: expected a positive integer, got ${describe(maxIter)}`);
  const tol = o.tol ?? 1e-6;
  if (typeof tol !== 'number' || !Number.isFinite(tol) || tol < 0) throw new RangeError(`${what} tol: expected a finite number ≥ 0, got ${describe(tol)}`);
  const checkEvery = o.checkEvery ?? 10;
  if (typeof checkEvery !== 'number' || !Number.isSafeInteger(checkEvery) || checkEvery < 1) throw new RangeError(`${what} checkEvery: expected a positive integer, got ${describe(checkEvery)}`);
  const precompute = o.precompute ?? 'auto';
  if (precompute !== 'auto' && precompute !== true && precompute !== false) throw new TypeError(`${what} precompute: expected 'auto', true or false, got ${describe(precompute)}`);
  const workingSet = o.workingSet ?? true;
  if (workingSet !== true && workingSet !== false) throw new TypeError(`${what} workingSet: expected true or false, got ${describe(workingSet)}`);
  return { maxIter, tol, checkEvery, solver, precompute, workingSet };
}

// ---- the solvers ----

/** Column indices travel to the kernels as f32 values, exact below this. */
const MAX_LISTED = 1 << 24;
/** The smallest working set (features) of the first outer iteration. */
const WS_MIN = 16;
/** An inner working-set solve stops once its gap is below this fraction of the last full gap (celer's choice). */
const WS_INNER = 0.3;
/** A single fit precomputes the Gram matrix automatically only up to this many features (its n·d² cost pays off over few epochs). */
const GRAM_FIT_MAX_D = 64;
/** Ridge takes the Cholesky route up to this many features (d³/6 flops in float64). */
const RIDGE_MAX_D = 1000;

/** Validated solver settings shared by fit and path. */
interface Settings { maxIter: number; tol: number; checkEvery: number; solver: Solver; precompute: boolean | 'auto'; workingSet: boolean }

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
 * X and y on the backend and the work vectors; shared by fit and path. X is kept column-major
 * as a [d, n] tensor (row j is column j of X): the coordinate-descent kernels read columns,
 * and matmul reads it as Xᵀ for FISTA. Vectors are row vectors.
 */
class Problem {
  readonly Xc: Tensor; readonly y: Tensor;
  /** f32(‖X_j‖²/n), the coordinate curvatures. */
  private readonly norms: Tensor;
  /** [1, n] residual r = y − Xw (exact after gapAt(), running during cd). */
  private readonly r: Tensor;
  /** [1, d] Xᵀr from the last gapAt(). */
  private readonly xtr: Tensor;
  /** [1, d] the current coefficients. */
  private w: Tensor;
  /** The kernels' stopping statistics. */
  private readonly stats: Tensor;
  /** ‖X_j‖ in float64 (the screening radii). */
  private readonly colNorm: Float64Array;
  /** Made on first use: Gram matrix, its q = Xᵀr, coordinate list, FISTA work vectors. */
  private lazy = new Map<string, Tensor>();
  private gramMade = false;
  private bound = -1;
  /** True while r and xtr are exact for the current w (set by gapAt, cleared by any change to w). */
  private exact = false;
  /** The coefficients the last result returned (a path passes them back as the next start). */
  private lastCoef: Float32Array | null = null;
  readonly yNorm2: number;
  private readonly yHost: Float64Array;
  /**
   * The raw kernels, without the facade's per-call checks: every tensor passed is made by
   * this Problem on this backend with the shape the kernel needs and is live until dispose().
   */
  private readonly raw: Backend['_s']['raw'];

  constructor(readonly be: Backend, X: ArrayLike<number>, y: ArrayLike<number>, readonly n: number, readonly d: number) {
    const made: Tensor[] = [];
    const mk = (shape: number[], data?: ArrayLike<number>) => {
      const t = be.tensor(shape, data);
      made.push(t);
      return t;
    };
    try {
      const Xr = mk([n, d], X);
      this.Xc = mk([d, n]); this.y = mk([1, n], y);
      this.norms = mk([1, d]); this.r = mk([1, n]); this.xtr = mk([1, d]); this.w = mk([1, d]); this.stats = mk([1, 3]);
      be._s.raw.transpose(this.Xc._h, Xr._h, n, d);
      made.shift();
      Xr.dispose();
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
    this.raw = be._s.raw;
    this.raw.colNorms(this.norms._h, this.Xc._h, n, d);
    // ‖X_j‖ for the screening radii, from the float32 norms with a margin for their rounding.
    this.colNorm = Float64Array.from(this.norms.data, (h) => Math.sqrt(h * n) * (1 + 1e-6));
    // The float32 y the backend sees, in float64 for the gap.
    this.yHost = Float64Array.from(this.y.data);
    let s = 0;
    for (let i = 0; i < n; i++) s += this.yHost[i]! ** 2;
    this.yNorm2 = s;
  }

  dispose(): void {
    for (const t of [this.Xc, this.y, this.norms, this.r, this.xtr, this.w, this.stats, ...this.lazy.values()]) t.dispose();
  }

  /** A work tensor of this shape, made once under `name`. */
  private work(name: string, shape: number[]): Tensor {
    let t = this.lazy.get(name);
    if (t === undefined) this.lazy.set(name, (t = this.be.zeros(shape)));
    return t;
  }

  /** out [1, n] = (X w)ᵀ: row i is Σ_p X[i, p]·w[p], summed in order of p (matmul's order). */
  private xw(out: Tensor, w: Tensor): void {
    this.be.kernels.matmul(out, w, this.Xc);
  }

  /** out [1, d] = (Xᵀ r)ᵀ. */
  private xtrOf(out: Tensor, r: Tensor): void {
    this.be.kernels.matmul(out, r, this.Xc, { transB: true });
  }

  /** G = XᵀX (d×d, float32 matmul over the rows in order), made once per problem. */
  private gram(): Tensor {
    const G = this.work('G', [this.d, this.d]);
    if (!this.gramMade) {
      this.be.kernels.matmul(G, this.Xc, this.Xc, { transB: true });
      this.gramMade = true;
    }
    return G;
  }

  /** Xᵀy (f32 dots), made once per problem. */
  private xty(): Tensor {
    let t = this.lazy.get('xty');
    if (t === undefined) {
      t = this.work('xty', [1, this.d]);
      this.raw.colDots(t._h, this.Xc._h, this.y._h, null, this.n, this.d);
    }
    return t;
  }

  /**
   * λmax(XᵀX)/n estimated by power iteration (to a relative change ≤ 1e-4, at most 100
   * rounds) on temporary tensors, times a 5% margin. An estimate from below: a start
   * vector nearly orthogonal to the top eigenvector converges to a lower eigenvalue, so
   * FISTA only starts from it and backtracks (see fista()).
   */
  private lipschitzEstimate(): number {
    const { be, n, d } = this;
    const k = be.kernels;
    const b = be.zeros([1, d]), c = be.zeros([1, d]), u = be.zeros([1, n]);
    try {
      const b0 = new Float32Array(d);
      for (let j = 0; j < d; j++) b0[j] = 1 + ((j * 0.6180339887) % 1);
      b.data.set(b0);
      k.scale(b, b, 1 / Math.sqrt(k.sumSquares(b)));
      let lam = 0;
      for (let it = 0; it < 100; it++) {
        this.xw(u, b);
        this.xtrOf(c, u);
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
  private lipschitzBound(): number {
    if (this.bound >= 0) return this.bound;
    const { n, d } = this;
    const xc = this.Xc.data;
    const rowAbs = new Float64Array(n);
    let fro = 0, colMax = 0;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) { const v = Math.abs(xc[j * n + i]!); s += v; rowAbs[i]! += v; }
      colMax = Math.max(colMax, s);
      fro += this.colNorm[j]! ** 2;
    }
    let rowMax = 0;
    for (let i = 0; i < n; i++) rowMax = Math.max(rowMax, rowAbs[i]!);
    return (this.bound = Math.min(fro, colMax * rowMax) / n);
  }

  /**
   * Duality gap of the n-scaled problem ½‖y − Xw‖² + a‖w‖₁ + ½b‖w‖² from r (rd) and X_jᵀr
   * for the m listed columns (xd[k] for column idx[k], all d in order when idx is null);
   * w is zero outside the list. NaN when a = b = 0 (no finite dual).
   */
  private gapOf(rd: Float32Array, xd: Float32Array, idx: Float32Array | null, m: number, a: number, b: number): number {
    if (a === 0 && b === 0) return NaN;
    const yd = this.yHost, wd = this.w.data;
    let rr = 0, ry = 0;
    for (let i = 0; i < this.n; i++) { const ri = rd[i]!; rr += ri * ri; ry += ri * yd[i]!; }
    let l1 = 0, l2 = 0, dn = 0, conj = 0;
    for (let k = 0; k < m; k++) {
      const wj = wd[idx === null ? k : idx[k]!]!, xj = Math.abs(xd[k]!);
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

  /** The gap at the current w over all features; leaves r = y − Xw (recomputed, not the running one) and xtr = Xᵀr. */
  private gapAt(a: number, b: number): number {
    const { raw, n, d, r, xtr } = this;
    raw.residual(r._h, this.y._h, this.Xc._h, this.w._h, n, d);
    raw.colDots(xtr._h, this.Xc._h, r._h, null, n, d);
    this.exact = true;
    return this.gapOf(r.data, xtr.data, null, d, a, b);
  }

  /** The gap at the start of a solve: from r and xtr when they are still exact (a path's next alpha), else gapAt. */
  private startGap(a: number, b: number): number {
    return this.exact ? this.gapOf(this.r.data, this.xtr.data, null, this.d, a, b) : this.gapAt(a, b);
  }

  solve(alpha: number, l1Ratio: number, w0: ArrayLike<number> | null, o: Settings, isPath: boolean): FitResult {
    if (w0 === null || w0 !== this.lastCoef) {
      this.exact = false;
      if (w0 === null) this.w.data.fill(0);
      else this.w.data.set(w0);
    }
    const { n, d } = this;
    const a = n * alpha * l1Ratio, b = n * alpha * (1 - l1Ratio);
    if (o.solver === 'fista') return this.fista(alpha, l1Ratio, o);
    if (a === 0 && d <= RIDGE_MAX_D && o.precompute !== false) {
      const r = this.ridge(b, o);
      if (r !== null) return r;
    }
    const gram = o.precompute === true || (o.precompute === 'auto' && n >= d && (isPath || d <= GRAM_FIT_MAX_D));
    if (!gram && o.workingSet && a > 0 && d < MAX_LISTED) return this.cdWorkingSet(a, b, alpha, l1Ratio, o);
    return this.cd(gram, a, b, alpha, l1Ratio, o);
  }

  /** The result at the current w. */
  private result(iterations: number, converged: boolean, gap: number): FitResult {
    this.lastCoef = this.w.data.slice();
    return { coef: this.lastCoef, iterations, converged, dualGap: gap / this.n };
  }

  /**
   * Cyclic coordinate descent from the current w, as sklearn's enet_coordinate_descent
   * (kernels cdGram or cdResidual run the epochs between checks). The gap is computed
   * only where it can stop the solve: after an epoch whose largest change is ≤ tol·max|w|
   * (sklearn's rule), every checkEvery epochs, and at maxIter; each check recomputes r
   * (and in the Gram form q = Xᵀr) exactly, so float32 drift does not accumulate.
   */
  private cd(gram: boolean, a: number, b: number, alpha: number, l1Ratio: number, o: Settings): FitResult {
    const { raw, n, d, w, r, xtr, stats } = this;
    const l1 = alpha * l1Ratio, l2 = alpha * (1 - l1Ratio);
    const lsq = a === 0 && b === 0;
    const target = o.tol * this.yNorm2;
    const G = gram ? this.gram() : null;
    const q = gram ? this.work('q', [1, d]) : null;
    const xty = gram ? this.xty() : null;
    let gap = this.startGap(a, b);
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
        ? raw.cdGram(w._h, q!._h, G._h, this.norms._h, null, xty!._h, d, d, n, l1, l2, o.tol, budget, this.yNorm2, a, b, lsq ? NaN : target, stats._h)
        : raw.cdResidual(w._h, r._h, this.Xc._h, this.norms._h, null, n, d, l1, l2, o.tol, budget, stats._h);
      this.exact = false;
      const st = stats.data;
      const stop = st[2]!, still = st[0] === 0;
      if (lsq) {
        converged = stop === 1;
      } else if (stop !== 0 || it === o.maxIter || (G === null && it % o.checkEvery === 0)) {
        gap = this.gapAt(a, b);
        converged = gap <= target;
        if (q !== null) q.data.set(xtr.data);
        // An epoch that changed nothing from the exact r (or q) repeats forever: float32
        // cannot get closer. After a drifted one, the refreshed state may move again.
        if (still && it - 1 === exactAt) break;
        exactAt = it;
        acc?.reset(w.data);
      } else if (acc !== null && acc.push(w.data)) {
        if (acc.extrapolate(w.data, q!.data, G!.data, xty!.data, this.yNorm2, a, b)) this.exact = false;
        acc.reset(w.data);
      }
    }
    return this.result(it, converged, lsq ? NaN : gap);
  }

  /**
   * Coordinate descent on working sets with gap-safe screening (Fercoq et al. 2015; the
   * working sets as celer's, Massias et al. 2018), residual form, for a > 0. Each outer
   * iteration, from the exact r and Xᵀr and the full gap:
   * - screens: with θ the dual point of gapOf (r, scaled into the feasible set for the
   *   lasso), the dual optimum lies within √(2·gap) of θ (the dual is 1-strongly concave),
   *   so |X_jᵀθ| + ‖X_j‖·√(2·gap) < a proves w*_j = 0: such j are set to 0 and left out;
   * - picks the working set: the non-zero coefficients plus the remaining features nearest
   *   to their dual constraint ((a − |X_jᵀθ|)/‖X_j‖ smallest), p in all, p doubling each
   *   outer iteration from max(16, 2·nnz);
   * - runs cdResidual epochs on it until the subproblem's gap is ≤ 0.3 × the full gap.
   * It stops on the full gap (the guarantee is the plain solver's), at maxIter (epochs
   * over working sets), or when a working set holding every unscreened feature stops
   * changing (the float32 fixed point). Coefficients outside the set stay exact zeros.
   */
  private cdWorkingSet(a: number, b: number, alpha: number, l1Ratio: number, o: Settings): FitResult {
    const { raw, n, d, w, r, xtr, stats, colNorm } = this;
    const l1 = alpha * l1Ratio, l2 = alpha * (1 - l1Ratio);
    const target = o.tol * this.yNorm2;
    const idxT = this.work('idx', [1, d]), xws = this.work('xws', [1, d]);
    let gap = this.startGap(a, b);
    let converged = gap <= target;
    let it = 0;
    let nnz = 0;
    for (const v of w.data) if (v !== 0) nnz++;
    let p = Math.min(d, Math.max(WS_MIN, 2 * nnz));
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
          if (wd[j] !== 0) { wd[j] = 0; zeroed = true; this.exact = false; }
        } else if (wd[j] !== 0) {
          support.push(j);
        } else {
          cand.push(j);
          prio[j] = (a - s) / cn;
        }
      }
      if (zeroed) raw.residual(r._h, this.y._h, this.Xc._h, w._h, n, d);
      p = Math.max(p, support.length);
      const take = Math.min(cand.length, p - support.length);
      if (take < cand.length) cand.sort((i, j) => prio[i]! - prio[j]! || i - j);
      const ws = support.concat(cand.slice(0, take)).sort((i, j) => i - j);
      const allIn = take === cand.length;
      const m = ws.length;
      const idx = idxT.data;
      for (let k = 0; k < m; k++) idx[k] = ws[k]!;
      let stalled = false;
      const start = it;
      while (it < o.maxIter) {
        it += raw.cdResidual(w._h, r._h, this.Xc._h, this.norms._h, idxT._h, n, m, l1, l2, o.tol, Math.min(o.checkEvery, o.maxIter - it), stats._h);
        this.exact = false;
        const st = stats.data;
        // No change in an epoch: a fixed point if that epoch started from the exact r.
        if (st[0] === 0) { stalled = it - 1 === start; break; }
        // sklearn's rule (a change ≤ tol·max|w|) sends the solve to the exact full gap, as in
        // cd(): near the float32 floor the running residual's subproblem gap may never fall
        // below WS_INNER·gap.
        if (st[2] === 1) break;
        raw.colDots(xws._h, this.Xc._h, r._h, idxT._h, n, m);
        if (this.gapOf(r.data, xws.data, idxT.data, m, a, b) <= WS_INNER * gap) break;
      }
      gap = this.gapAt(a, b);
      converged = gap <= target;
      if (stalled && allIn) break;
      p = Math.min(d, 2 * p);
    }
    return this.result(it, converged, gap);
  }

  /**
   * Ridge (a = 0; b = 0 is least squares) through the Cholesky factor of XᵀX + b·I in
   * float64 (XᵀX from the float32 matmul): each round solves for the step from the exact
   * residual, w ← f32(w + (XᵀX + bI)⁻¹(Xᵀr − b·w)) (iterative refinement: the float32
   * Gram's rounding costs one or two extra rounds, not accuracy). Stops on the gap (b > 0),
   * on a change ≤ tol·max|w| (least squares), or when a round changes nothing. Null when
   * the matrix is not positive definite (least squares with rank < d): cd takes over.
   */
  private ridge(b: number, o: Settings): FitResult | null {
    const { d, w, xtr } = this;
    const g = this.gram().data;
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
    const target = o.tol * this.yNorm2;
    let gap = this.startGap(0, b);
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
      gap = this.gapAt(0, b);
      converged = lsq ? dmax <= o.tol * wmax : gap <= target;
      if (dmax === 0) break;
    }
    return this.result(it, converged, lsq ? NaN : gap);
  }

  /**
   * FISTA (Beck and Teboulle 2009) with adaptive restart (O'Donoghue and Candès 2015) and
   * backtracking from the current w. The step 1/L starts from the power-iteration estimate
   * and doubles whenever the descent lemma fails for the step taken, which for this
   * quadratic is exactly ½‖X(w − v)‖²/n ≤ ½L‖w − v‖², up to the certified bound
   * lipschitzBound() where it always holds. (A fixed step from the estimate alone
   * diverged to NaN when the start vector missed the top eigenvector.)
   */
  private fista(alpha: number, l1Ratio: number, o: Settings): FitResult {
    const { be, y, n, d } = this;
    const k = be.kernels;
    const a = n * alpha * l1Ratio, b = n * alpha * (1 - l1Ratio);
    const lsq = a === 0 && b === 0;
    const target = o.tol * this.yNorm2;
    const cap = this.lipschitzBound();
    if (cap === 0) {
      // X = 0: every w fits equally; the penalty (or, without one, the minimum norm) picks 0.
      this.w.data.fill(0);
      return this.result(0, true, this.gapAt(a, b));
    }
    let L = Math.min(this.lipschitzEstimate(), cap);
    if (!(L > 0)) L = cap;
    const u = this.work('u', [1, n]), u2 = this.work('u2', [1, n]);
    const g = this.work('g', [1, d]), z = this.work('z', [1, d]), v = this.work('v', [1, d]), diff = this.work('diff', [1, d]);
    let wNew = this.work('wNew', [1, d]);
    let gap = this.gapAt(a, b);
    let converged = !lsq && gap <= target;
    let it = 0;
    k.scale(v, this.w, 1);
    let t = 1;
    while (!converged && it < o.maxIter) {
      it++;
      // Gradient of 1/(2n)‖y − Xv‖² at v: Xᵀ(Xv − y)/n.
      this.xw(u, v);
      k.mseBackward(u, u, y, 1 / n);
      this.xtrOf(g, u);
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
        this.xw(u2, z);
        if (k.sumSquares(u2) / n <= L * dd) break;
        L = Math.min(2 * L, cap);
      }
      const wOld = this.w;
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
      this.w = w;
      this.exact = false;
      wNew = wOld;
      this.lazy.set('wNew', wNew); // the problem owns both and disposes each once
      const dd = diff.data, wd = w.data;
      let dmax = 0, wmax = 0;
      for (let j = 0; j < d; j++) { dmax = Math.max(dmax, Math.abs(dd[j]!)); wmax = Math.max(wmax, Math.abs(wd[j]!)); }
      if (lsq) {
        converged = dmax <= o.tol * wmax;
      } else if (dmax === 0 || it % o.checkEvery === 0 || it === o.maxIter) {
        gap = this.gapAt(a, b);
        converged = gap <= target;
        // No change at all: v = w and the next iteration would repeat this one bit for bit,
        // so float32 cannot get closer (tol below the float32 floor): stop, unconverged.
        if (dmax === 0) break;
      }
    }
    return this.result(it, converged, lsq ? NaN : gap);
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
  const settings = checkSolverOpts(options, 'linear.fit');
  const w0 = options.warmStart === undefined ? null : checkData(options.warmStart, d, 'linear.fit warmStart', 'd');
  const p = new Problem(be, Xa, ya, n, d);
  try {
    return p.solve(alpha, l1Ratio, w0, settings, false);
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
  const settings = checkSolverOpts(options, 'linear.path');
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
      const r = p.solve(alpha, l1Ratio, w, settings, true);
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
