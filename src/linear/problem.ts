/**
 * The problem data of linear.fit and linear.path on a backend (X, y, the work vectors, the
 * duality gap), shared by the solvers in this folder; see src/linear/models.ts for the objective
 * and the convergence rule.
 */
import type { Backend } from '../backend.js';
import type { TrustedKernels } from '../backend/trusted.js';
import type { Tensor } from '../core/tensor.js';
import type { FitResult, Solver } from './types.js';
import { Anderson } from './anderson.js';

/** Column indices travel to the kernels as f32 values, exact below this. */
export const MAX_LISTED = 1 << 24;
/**
 * Up to this many entries of X (n·d) the gap's Xᵀr is summed in float64 (kernel xtDots64)
 * from the float64 residual; above, the kernel's float32 Xᵀr is used with a certified bound
 * on its rounding (gapOf).
 */
const EXACT_XTR_MAX = 1 << 20;
/**
 * The float64 residual runs over all columns in the kernel residual64 when at least 1/this
 * of the coefficients are non-zero, else over the non-zero ones on the host (a sparse w:
 * a lasso's few features cost less there than a pass over X).
 */
const DENSE_RESIDUAL = 8;
/** Up to this many multiply-adds (n·d²/2) the Gram form's gaps come from a float64 XᵀX made on the host (gapAtGram). */
const GRAM64_MAX = 1 << 20;

/** Validated solver settings shared by fit and path. */
export interface Settings { maxIter: number; tol: number; checkEvery: number; solver: Solver; precompute: boolean | 'auto'; workingSet: boolean }

/**
 * X and y on the backend and the work vectors; shared by fit and path. X stays row-major, as
 * given ([n, d]): one pass over it (xtDots) gives Xᵀv, and the first one also the column norms
 * and the finiteness check. The coordinate-descent kernels read columns: a column-major copy
 * (cols(), made on first use by the residual form over all features) or a gathered block of
 * the working set's columns. matmul reads X directly (FISTA, the Gram matrix). Vectors are row
 * vectors.
 */
export class Problem {
  /** [n, d] X, row-major. */
  readonly X: Tensor;
  readonly y: Tensor;
  /** f32(‖X_j‖²/n), the coordinate curvatures. */
  readonly norms: Tensor;
  /** [1, d] Xᵀy. */
  readonly xty: Tensor;
  /** [1, n] residual r = y − Xw (exact after gapAt(), running during cd). */
  readonly r: Tensor;
  /** [1, d] Xᵀr from the last gapAt(). */
  readonly xtr: Tensor;
  /** [1, d] the current coefficients. */
  w: Tensor;
  /** The kernels' stopping statistics. */
  readonly stats: Tensor;
  /** [1, 4d] xtDots's scratch. */
  private readonly acc: Tensor;
  /** The non-zero coefficients' columns for the float64 residual (refreshResidual). */
  private readonly nzList: Int32Array;
  /** ‖y − Xw‖ in float64 behind the xtr of the last gapAt(): the scale of xtr's rounding error (gapOf); 0 when xtr64 holds it exactly. */
  private rNorm = 0;
  /** Xᵀr in float64 at the last gapAt()'s float64 r (d f64 values), for problems of at most EXACT_XTR_MAX entries (null above). */
  private readonly xtr64T: Tensor | null;
  /** y − Xw in float64 from the last refreshResidual() (n f64 values; r holds its float32 rounding). */
  private readonly r64T: Tensor;
  /** ‖X_j‖ in float64 (the screening radii). */
  readonly colNorm: Float64Array;
  /** Made on first use: Gram matrix, its q = Xᵀr, column-major X, working-set blocks, FISTA work vectors. */
  readonly lazy = new Map<string, Tensor>();
  private gramMade = false;
  private andersonState: Anderson | null = null;
  /** A certified bound of λmax(XᵀX)/n once computed (fista.ts), else −1. */
  bound = -1;
  /** True while xtr (and r, when rFresh) are exact for the current w (set by gapAt and gapAtGram, cleared by any change to w). */
  exact = false;
  /** False when the last exact gap came from the float64 Gram matrix (gapAtGram), which leaves r as it was. */
  private rFresh = false;
  /** XᵀX and Xᵀy in float64 for gapAtGram, made on its first call when n·d² ≤ GRAM64_MAX (null: too large, undefined: not yet). */
  private g64: { G: Float64Array; xty: Float64Array } | null | undefined;
  /** ‖r‖² and rᵀy in float64 for the r of the last gapAt() or rStats(). */
  rr = 0;
  ry = 0;
  /** The coefficients the last result returned (a path passes them back as the next start). */
  private lastCoef: Float32Array | null = null;
  readonly yNorm2: number;
  private readonly yHost: Float64Array;
  /**
   * The trusted kernels, without the facade's per-call checks: every tensor passed is made
   * by this Problem on this backend with the shape the kernel needs and is live until dispose().
   */
  readonly k: TrustedKernels;

  /**
   * X (n·d values, row-major) and y (n) checked for length and, unless X is a Float32Array,
   * for values; a Float32Array X is checked in the first pass over it, and on a non-finite
   * value everything made is freed and `badX` called, which throws the message.
   */
  constructor(readonly be: Backend, X: ArrayLike<number>, y: ArrayLike<number>, readonly n: number, readonly d: number, badX: () => void) {
    const made: Tensor[] = [];
    const mk = (shape: number[], data?: ArrayLike<number>) => {
      const size = shape[0]! * shape[1]!;
      const t = data === undefined ? be._make(shape, size) : be._copyOf(shape, size, data);
      made.push(t);
      return t;
    };
    try {
      this.X = mk([n, d], X); this.y = mk([1, n], y);
      this.norms = mk([1, d]); this.xty = mk([1, d]); this.r = mk([1, n]); this.xtr = mk([1, d]); this.w = mk([1, d]);
      this.stats = mk([1, 3]); this.acc = mk([1, 4 * d]);
      this.r64T = mk([1, 2 * n]);
      this.xtr64T = n * d <= EXACT_XTR_MAX ? mk([1, 2 * d]) : null;
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
    this.k = be._trusted;
    const total = this.k.xtDots(this.xty, this.X, this.y, this.acc, this.norms);
    if (!Number.isFinite(total)) {
      for (const t of made) t.dispose();
      badX();
      throw new Error('linear: X held a non-finite value that its check did not find'); // not reached: badX throws
    }
    // ‖X_j‖ for the screening radii, from the float32 norms with a margin for their rounding.
    this.colNorm = Float64Array.from(this.norms.data, (h) => Math.sqrt(h * n) * (1 + 1e-6));
    // The float32 y the backend sees, in float64 for the gap.
    this.yHost = Float64Array.from(this.y.data);
    let s = 0;
    for (let i = 0; i < n; i++) s += this.yHost[i]! ** 2;
    this.yNorm2 = s;
    this.nzList = new Int32Array(d);
  }

  dispose(): void {
    for (const t of [this.X, this.y, this.norms, this.xty, this.r, this.xtr, this.w, this.stats, this.acc, this.r64T, ...this.lazy.values()]) t.dispose();
    this.xtr64T?.dispose();
  }

  /** The f64 values kept in a work tensor's bytes (a fresh view: a growing Wasm memory detaches old ones; tensors are 8-byte aligned). */
  private static f64(t: Tensor, len: number): Float64Array {
    const a = t.data;
    return new Float64Array(a.buffer, a.byteOffset, len);
  }

  /** y − Xw in float64 from the last refreshResidual(). */
  private get r64(): Float64Array {
    return Problem.f64(this.r64T, this.n);
  }

  /** Xᵀr in float64 from the last exact gap, or null (more than EXACT_XTR_MAX entries). */
  private get xtr64(): Float64Array | null {
    return this.xtr64T === null ? null : Problem.f64(this.xtr64T, this.d);
  }

  /** A work tensor of at least this shape's size (zeros when made), kept under `name` and made again when too small. */
  work(name: string, shape: number[]): Tensor {
    let t = this.lazy.get(name);
    if (t === undefined || t.size < shape[0]! * shape[1]!) {
      t?.dispose();
      this.lazy.delete(name);
      this.lazy.set(name, (t = this.be.zeros(shape)));
    }
    return t;
  }

  /** The Gram form's Anderson extrapolation state, made once. */
  anderson(): Anderson {
    return (this.andersonState ??= new Anderson(this.d));
  }

  /** X column-major ([d, n]: row j is column j), made once, for the residual form over all features. */
  cols(): Tensor {
    const made = this.lazy.get('Xc');
    if (made !== undefined) return made;
    const Xc = this.work('Xc', [this.d, this.n]);
    this.k.transpose(Xc, this.X);
    return Xc;
  }

  /** out [1, n] = (X w)ᵀ: row i is Σ_p X[i, p]·w[p], summed in order of p (matmul's order). */
  xw(out: Tensor, w: Tensor): void {
    this.k.matmul(out, w, this.X, false, true, false);
  }

  /** out [1, d] = (Xᵀ r)ᵀ (matmul's order). */
  xtrOf(out: Tensor, r: Tensor): void {
    this.k.matmul(out, r, this.X, false, false, false);
  }

  /** G = XᵀX (d×d, float32 matmul over the rows in order), made once per problem. */
  gram(): Tensor {
    const G = this.work('G', [this.d, this.d]);
    if (!this.gramMade) {
      this.k.matmul(G, this.X, this.X, true, false, false);
      this.gramMade = true;
    }
    return G;
  }

  /** Sets rr = ‖r‖² and ry = rᵀy (float64) from r's data. */
  rStats(rd: Float32Array): void {
    const yd = this.yHost;
    let rr = 0, ry = 0;
    for (let i = 0; i < this.n; i++) { const ri = rd[i]!; rr += ri * ri; ry += ri * yd[i]!; }
    this.rr = rr;
    this.ry = ry;
  }

  /**
   * Duality gap of the n-scaled problem ½‖y − Xw‖² + a‖w‖₁ + ½b‖w‖² from rr and ry (rStats)
   * and X_jᵀr for m columns: xd[k] and wd[k] for column k (idx null: the arrays hold just
   * those columns) or for column idx[k] (wd over all d); w is zero outside them. NaN when
   * a = b = 0 (no finite dual).
   *
   * With rNorm > 0 (idx null, m = d: gapAt's call) xd is float32 X_jᵀr̃ for r̃ = f32(r) while
   * rr and ry are float64 at the float64 r, and ‖r‖ = rNorm: X_jᵀr then lies within
   * e_j = (2⁻²² + n·2⁻⁵²)·‖X_j‖·‖r‖ + 2⁻²³·|xd_j| of xd_j (r − r̃ ≤ 2⁻²⁴|r| elementwise, each
   * float32 product within 2⁻²⁴, the float64 sum within n·2⁻⁵³, the float32 result within
   * 2⁻²⁴; Cauchy–Schwarz). The gap returned is then the largest the float64 formula can give
   * for any X_jᵀr in those intervals: never below the gap computed from the float64 X_jᵀr,
   * so gap ≤ tol·‖y‖² holds in float64 when it holds here. A float64 rounding below zero (a
   * gap of order 1e-16·‖y‖²; the gap is ≥ 0 by weak duality) reads as 0.
   */
  gapOf(xd: Float32Array | Float64Array, wd: Float32Array, idx: Float32Array | null, m: number, a: number, b: number, rNorm = 0): number {
    if (a === 0 && b === 0) return NaN;
    const { rr, ry, colNorm } = this;
    const eps = rNorm > 0 ? (2 ** -22 + this.n * 2 ** -52) * rNorm : 0, rel = rNorm > 0 ? 2 ** -23 : 0;
    let l1 = 0, l2 = 0, dnHi = 0, dnLo = 0, conj = 0;
    for (let k = 0; k < m; k++) {
      const wj = wd[idx === null ? k : idx[k]!]!, x = Math.abs(xd[k]!);
      const e = rNorm > 0 ? eps * colNorm[k]! + rel * x : 0;
      const hi = x + e, lo = Math.max(0, x - e);
      l1 += Math.abs(wj); l2 += wj * wj;
      if (hi > dnHi) dnHi = hi;
      if (lo > dnLo) dnLo = lo;
      if (hi > a) conj += (hi - a) ** 2;
    }
    const primal = 0.5 * rr + a * l1 + 0.5 * b * l2;
    let dual: number;
    if (b > 0) {
      // Fenchel dual at θ = r: θᵀy − ½‖θ‖² − Σ (|X_jᵀθ| − a)₊² / (2b), decreasing in each |X_jᵀθ|.
      dual = ry - 0.5 * rr - conj / (2 * b);
    } else {
      // Lasso: scale r into the dual feasible set |X_jᵀθ| ≤ a (sklearn): θ = c·r, c = a/max(a, max_j |X_jᵀr|).
      // The dual c·ry − ½c²·rr is concave in c: over c's interval its least value is at an end.
      const cLo = dnHi > a ? a / dnHi : 1, cHi = dnLo > a ? a / dnLo : 1;
      dual = Math.min(cLo * ry - 0.5 * cLo * cLo * rr, cHi * ry - 0.5 * cHi * cHi * rr);
    }
    return Math.max(0, primal - dual);
  }

  /**
   * r = y − Xw in float64 (exact float64 products of the float32 X and w), kept as rr and
   * ry, and rounded to float32 into r for the kernels; returns how many w_j are non-zero.
   * With at least d/DENSE_RESIDUAL of them the kernel residual64 sums over all columns
   * (its order, the same on both backends), else the host over the non-zero w_j in order
   * of j. (A float32 residual's rounding, about 1e-7·|y_i|, would put an error of order
   * 1e-7·‖y‖² into the gap, either sign.)
   */
  refreshResidual(): number {
    const { n, d } = this;
    const wd = this.w.data, list = this.nzList;
    let m = 0;
    for (let j = 0; j < d; j++) if (wd[j] !== 0) list[m++] = j;
    if (m * DENSE_RESIDUAL >= d) {
      this.k.residual64(this.r64T, this.r, this.y, this.X, this.w);
    } else {
      const X = this.X.data, yd = this.yHost, rd = this.r.data, r64 = this.r64;
      for (let i = 0; i < n; i++) {
        const row = i * d;
        let s = 0;
        for (let k = 0; k < m; k++) { const j = list[k]!; s += X[row + j]! * wd[j]!; }
        const ri = yd[i]! - s;
        r64[i] = ri;
        rd[i] = ri;
      }
    }
    const r64 = this.r64, yd = this.yHost;
    let rr = 0, ry = 0;
    for (let i = 0; i < n; i++) { const ri = r64[i]!; rr += ri * ri; ry += ri * yd[i]!; }
    this.rr = rr;
    this.ry = ry;
    return m;
  }

  /** The gap at the current w over all features; leaves r = f32(y − Xw) (recomputed in float64, not the running one), xtr = Xᵀr, rr and ry (float64). */
  gapAt(a: number, b: number): number {
    const m = this.refreshResidual();
    this.exact = true;
    this.rFresh = true;
    if (this.xtr64T !== null) {
      this.k.xtDots64(this.xtr64T, this.X, this.r64T);
      const x64 = this.xtr64!;
      this.xtr.data.set(x64);
      this.rNorm = 0;
      return this.gapOf(x64, this.w.data, null, this.d, a, b);
    }
    // At w = 0, r is y and Xᵀr the xty of the first pass (the same kernel on the same bits).
    if (m === 0) this.xtr.data.set(this.xty.data);
    else this.k.xtDots(this.xtr, this.X, this.r, this.acc, null);
    this.rNorm = Math.sqrt(this.rr);
    return this.gapOf(this.xtr.data, this.w.data, null, this.d, a, b, this.rNorm);
  }

  /** The gap at the start of a solve: from r and xtr when they are still exact (a path's next alpha), else gapAt. */
  startGap(a: number, b: number): number {
    return !(this.exact && this.rFresh) ? this.gapAt(a, b) : this.gapOf(this.xtr64 ?? this.xtr.data, this.w.data, null, this.d, a, b, this.rNorm);
  }

  /**
   * gapAt for the Gram form of cd, which needs xtr but not r: for n·d² ≤ GRAM64_MAX from XᵀX
   * and Xᵀy in float64 (made once on the host, in order of i), in O(d·nnz) per call:
   * Xᵀr = Xᵀy − XᵀXw, rᵀy = ‖y‖² − wᵀXᵀy, ‖r‖² = rᵀy − wᵀXᵀr, each a float64 sum (the
   * cancellation in ‖r‖² costs about 1e-16·‖y‖², far below any tol the float32 iteration
   * reaches). A path's 100 alphas would otherwise pay two passes over X per check. Leaves r
   * as it was (startGap then recomputes it); larger problems take gapAt.
   */
  gapAtGram(a: number, b: number): number {
    const { n, d } = this;
    if (this.g64 === undefined) this.g64 = n * d * d <= 2 * GRAM64_MAX ? this.makeGram64() : null;
    const g = this.g64, x64 = this.xtr64;
    if (g === null || x64 === null) return this.gapAt(a, b);
    const wd = this.w.data, list = this.nzList;
    let m = 0;
    for (let j = 0; j < d; j++) if (wd[j] !== 0) list[m++] = j;
    let wy = 0, wq = 0;
    for (let j = 0; j < d; j++) {
      let s = g.xty[j]!;
      const row = j * d;
      for (let k = 0; k < m; k++) { const i = list[k]!; s -= g.G[row + i]! * wd[i]!; }
      x64[j] = s;
    }
    for (let k = 0; k < m; k++) { const j = list[k]!; wy += wd[j]! * g.xty[j]!; wq += wd[j]! * x64[j]!; }
    this.ry = this.yNorm2 - wy;
    this.rr = this.ry - wq;
    this.xtr.data.set(x64);
    this.rNorm = 0;
    this.exact = true;
    this.rFresh = false;
    return this.gapOf(x64, wd, null, d, a, b);
  }

  /** The Gram form's start: from xtr when still exact, else gapAtGram. */
  startGapGram(a: number, b: number): number {
    return this.exact && this.xtr64 !== null ? this.gapOf(this.xtr64, this.w.data, null, this.d, a, b, this.rNorm) : this.gapAtGram(a, b);
  }

  /** XᵀX (d×d) and Xᵀy in float64, each entry summed in order of i. */
  private makeGram64(): { G: Float64Array; xty: Float64Array } {
    const { n, d } = this;
    const X = this.X.data, yd = this.yHost;
    const G = new Float64Array(d * d), xty = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const row = i * d, yi = yd[i]!;
      for (let j = 0; j < d; j++) {
        const xij = X[row + j]!;
        xty[j]! += xij * yi;
        const gr = j * d;
        for (let k = j; k < d; k++) G[gr + k]! += xij * X[row + k]!;
      }
    }
    for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) G[j * d + k] = G[k * d + j]!;
    return { G, xty };
  }

  /** Starts a solve from w0 (null: zeros); r and xtr stay exact only when w0 is the last result's coefficients. */
  start(w0: ArrayLike<number> | null): void {
    if (w0 === null || w0 !== this.lastCoef) {
      this.exact = false;
      if (w0 === null) this.w.data.fill(0);
      else this.w.data.set(w0);
    }
  }

  /** The result at the current w. */
  result(iterations: number, converged: boolean, gap: number): FitResult {
    this.lastCoef = this.w.data.slice();
    return { coef: this.lastCoef, iterations, converged, dualGap: gap / this.n };
  }
}
