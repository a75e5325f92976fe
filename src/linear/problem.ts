/**
 * The problem data of linear.fit and linear.path on a backend (X, y, the work vectors, the
 * duality gap), shared by the solvers in this folder; see src/linear.ts for the objective
 * and the convergence rule.
 */
import type { Backend } from '../backend.js';
import type { TrustedKernels } from '../backend/trusted.js';
import type { Tensor } from '../tensor.js';
import type { FitResult, Solver } from '../linear.js';
import { Anderson } from './anderson.js';

/** Column indices travel to the kernels as f32 values, exact below this. */
export const MAX_LISTED = 1 << 24;

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
  /** [1, d] a list of columns (f32 indices): the non-zero coefficients in gapAt. */
  private readonly nz: Tensor;
  /** ‖X_j‖ in float64 (the screening radii). */
  readonly colNorm: Float64Array;
  /** Made on first use: Gram matrix, its q = Xᵀr, column-major X, working-set blocks, FISTA work vectors. */
  readonly lazy = new Map<string, Tensor>();
  private gramMade = false;
  private andersonState: Anderson | null = null;
  /** A certified bound of λmax(XᵀX)/n once computed (fista.ts), else −1. */
  bound = -1;
  /** True while r and xtr are exact for the current w (set by gapAt, cleared by any change to w). */
  exact = false;
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
      this.stats = mk([1, 3]); this.acc = mk([1, 4 * d]); this.nz = mk([1, d]);
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
  }

  dispose(): void {
    for (const t of [this.X, this.y, this.norms, this.xty, this.r, this.xtr, this.w, this.stats, this.acc, this.nz, ...this.lazy.values()]) t.dispose();
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
   */
  gapOf(xd: Float32Array, wd: Float32Array, idx: Float32Array | null, m: number, a: number, b: number): number {
    if (a === 0 && b === 0) return NaN;
    const { rr, ry } = this;
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

  /** r = y − Xw from scratch (over the non-zero w_j in order), and rr, ry; returns how many w_j are non-zero. */
  refreshResidual(): number {
    const wd = this.w.data, list = this.nz.data;
    let m = 0;
    for (let j = 0; j < this.d; j++) if (wd[j] !== 0) list[m++] = j;
    // Beyond f32's exact integers the kernel walks all columns (it skips the zero w_j itself).
    if (this.d < MAX_LISTED) this.k.residual(this.r, this.y, this.X, this.w, this.nz, m);
    else this.k.residual(this.r, this.y, this.X, this.w, null, this.d);
    this.rStats(this.r.data);
    return m;
  }

  /** The gap at the current w over all features; leaves r = y − Xw (recomputed, not the running one), xtr = Xᵀr, rr and ry. */
  gapAt(a: number, b: number): number {
    // At w = 0, r is y and Xᵀr the xty of the first pass (the same kernel on the same bits).
    if (this.refreshResidual() === 0) this.xtr.data.set(this.xty.data);
    else this.k.xtDots(this.xtr, this.X, this.r, this.acc, null);
    this.exact = true;
    return this.gapOf(this.xtr.data, this.w.data, null, this.d, a, b);
  }

  /** The gap at the start of a solve: from r and xtr when they are still exact (a path's next alpha), else gapAt. */
  startGap(a: number, b: number): number {
    return this.exact ? this.gapOf(this.xtr.data, this.w.data, null, this.d, a, b) : this.gapAt(a, b);
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
