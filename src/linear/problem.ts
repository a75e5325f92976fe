/**
 * The problem data of linear.fit and linear.path on a backend (X, y, the work vectors, the
 * duality gap), shared by the solvers in this folder; see src/linear.ts for the objective
 * and the convergence rule.
 */
import type { Backend } from '../backend.js';
import type { TrustedKernels } from '../backend/trusted.js';
import type { Tensor } from '../tensor.js';
import type { FitResult, Solver } from '../linear.js';

/** Validated solver settings shared by fit and path. */
export interface Settings { maxIter: number; tol: number; checkEvery: number; solver: Solver; precompute: boolean | 'auto'; workingSet: boolean }

/**
 * X and y on the backend and the work vectors; shared by fit and path. X is kept column-major
 * as a [d, n] tensor (row j is column j of X): the coordinate-descent kernels read columns,
 * and matmul reads it as Xᵀ for FISTA. Vectors are row vectors.
 */
export class Problem {
  readonly Xc: Tensor; readonly y: Tensor;
  /** f32(‖X_j‖²/n), the coordinate curvatures. */
  readonly norms: Tensor;
  /** [1, n] residual r = y − Xw (exact after gapAt(), running during cd). */
  readonly r: Tensor;
  /** [1, d] Xᵀr from the last gapAt(). */
  readonly xtr: Tensor;
  /** [1, d] the current coefficients. */
  w: Tensor;
  /** The kernels' stopping statistics. */
  readonly stats: Tensor;
  /** ‖X_j‖ in float64 (the screening radii). */
  readonly colNorm: Float64Array;
  /** Made on first use: Gram matrix, its q = Xᵀr, coordinate list, FISTA work vectors. */
  lazy = new Map<string, Tensor>();
  gramMade = false;
  bound = -1;
  /** True while r and xtr are exact for the current w (set by gapAt, cleared by any change to w). */
  exact = false;
  /** The coefficients the last result returned (a path passes them back as the next start). */
  lastCoef: Float32Array | null = null;
  readonly yNorm2: number;
  readonly yHost: Float64Array;
  /**
   * The trusted kernels, without the facade's per-call checks: every tensor passed is made
   * by this Problem on this backend with the shape the kernel needs and is live until dispose().
   */
  readonly k: TrustedKernels;

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
      be._trusted.transpose(this.Xc, Xr);
      made.shift();
      Xr.dispose();
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
    this.k = be._trusted;
    this.k.colNorms(this.norms, this.Xc);
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
  work(name: string, shape: number[]): Tensor {
    let t = this.lazy.get(name);
    if (t === undefined) this.lazy.set(name, (t = this.be.zeros(shape)));
    return t;
  }

  /** out [1, n] = (X w)ᵀ: row i is Σ_p X[i, p]·w[p], summed in order of p (matmul's order). */
  xw(out: Tensor, w: Tensor): void {
    this.k.matmul(out, w, this.Xc, false, false, false);
  }

  /** out [1, d] = (Xᵀ r)ᵀ. */
  xtrOf(out: Tensor, r: Tensor): void {
    this.k.matmul(out, r, this.Xc, false, true, false);
  }

  /** G = XᵀX (d×d, float32 matmul over the rows in order), made once per problem. */
  gram(): Tensor {
    const G = this.work('G', [this.d, this.d]);
    if (!this.gramMade) {
      this.k.matmul(G, this.Xc, this.Xc, false, true, false);
      this.gramMade = true;
    }
    return G;
  }

  /** Xᵀy (f32 dots), made once per problem. */
  xty(): Tensor {
    let t = this.lazy.get('xty');
    if (t === undefined) {
      t = this.work('xty', [1, this.d]);
      this.k.colDots(t, this.Xc, this.y, null, this.d);
    }
    return t;
  }
  /**
   * Duality gap of the n-scaled problem ½‖y − Xw‖² + a‖w‖₁ + ½b‖w‖² from r (rd) and X_jᵀr
   * for the m listed columns (xd[k] for column idx[k], all d in order when idx is null);
   * w is zero outside the list. NaN when a = b = 0 (no finite dual).
   */
  gapOf(rd: Float32Array, xd: Float32Array, idx: Float32Array | null, m: number, a: number, b: number): number {
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
  gapAt(a: number, b: number): number {
    const { k, d, r, xtr } = this;
    k.residual(r, this.y, this.Xc, this.w);
    k.colDots(xtr, this.Xc, r, null, d);
    this.exact = true;
    return this.gapOf(r.data, xtr.data, null, d, a, b);
  }

  /** The gap at the start of a solve: from r and xtr when they are still exact (a path's next alpha), else gapAt. */
  startGap(a: number, b: number): number {
    return this.exact ? this.gapOf(this.r.data, this.xtr.data, null, this.d, a, b) : this.gapAt(a, b);
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
