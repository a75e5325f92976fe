/**
 * Anderson extrapolation for the Gram form of coordinate descent (src/linear/cd.ts).
 */

/** Iterates per Anderson extrapolation of the Gram form (skglm's choice). */
const ANDERSON_K = 5;

/**
 * Anderson acceleration of coordinate descent (as skglm, Bertrand et al. 2022): from the
 * last K + 1 epochs' iterates w_0..w_K, with U = [w_1 − w_0, …, w_K − w_{K−1}], the
 * extrapolation Σ c_k·w_{k+1} where c = (UᵀU)⁻¹1 / 1ᵀ(UᵀU)⁻¹1, kept only when it lowers
 * the objective. All in float64 on the JS side (the same on both backends).
 */
export class Anderson {
  private readonly its: Float64Array[];
  private count = 0;
  // Work arrays, made once (a path extrapolates hundreds of times).
  private readonly C = new Float64Array(ANDERSON_K * ANDERSON_K);
  private readonly A = new Float64Array(ANDERSON_K * ANDERSON_K);
  private readonly z = new Float64Array(ANDERSON_K);
  private readonly e: Float32Array;
  private readonly ge: Float64Array;
  private readonly gw: Float64Array;

  constructor(private readonly d: number) {
    this.its = Array.from({ length: ANDERSON_K + 1 }, () => new Float64Array(d));
    this.e = new Float32Array(d);
    this.ge = new Float64Array(d);
    this.gw = new Float64Array(d);
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
    const { d, its, C, z, e, ge } = this, K = ANDERSON_K;
    for (let i = 0; i < K; i++) {
      for (let j = i; j < K; j++) {
        let s = 0;
        const ui1 = its[i + 1]!, ui0 = its[i]!, uj1 = its[j + 1]!, uj0 = its[j]!;
        for (let k = 0; k < d; k++) s += (ui1[k]! - ui0[k]!) * (uj1[k]! - uj0[k]!);
        C[i * K + j] = C[j * K + i] = s;
      }
    }
    if (!solveSmall(C, K, this.A, z)) return false;
    let zs = 0;
    for (let k = 0; k < K; k++) zs += z[k]!;
    if (!(Math.abs(zs) > 0)) return false;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (z[k]! / zs) * its[k + 1]![j]!;
      e[j] = s;
      if (!Number.isFinite(e[j]!)) return false;
    }
    if (!(this.objective(e, ge, G, xty, yy, a, b) < this.objective(w, this.gw, G, xty, yy, a, b))) return false;
    w.set(e);
    for (let j = 0; j < d; j++) q[j] = xty[j]! - ge[j]!;
    return true;
  }

  /** The n-scaled objective at v from the Gram matrix (float64), leaving Gv in gv. */
  private objective(v: Float32Array, gv: Float64Array, G: Float32Array, xty: Float32Array, yy: number, a: number, b: number): number {
    const d = this.d;
    let vy = 0, vgv = 0, s1 = 0, s2 = 0;
    for (let j = 0; j < d; j++) {
      let t = 0;
      for (let k = 0; k < d; k++) t += G[j * d + k]! * v[k]!;
      gv[j] = t;
      const vj = v[j]!;
      vy += vj * xty[j]!; vgv += vj * t; s1 += Math.abs(vj); s2 += vj * vj;
    }
    return 0.5 * (yy - 2 * vy + vgv) + a * s1 + 0.5 * b * s2;
  }
}

/**
 * x with Cx = 1 for the K×K matrix C (Gaussian elimination, partial pivoting, float64, A the
 * work copy); false only at a zero pivot (as numpy.linalg.solve in skglm). A nearly singular
 * C = UᵀU is the case extrapolation is for, not one to refuse: the differences are nearly
 * dependent, so a combination of the iterates nearly cancels them (on a linear map of
 * dimension < K it is the fixed point). x is then huge, but only x/Σx is used, and a wild
 * result fails the caller's finiteness and objective checks.
 */
function solveSmall(C: Float64Array, K: number, A: Float64Array, x: Float64Array): boolean {
  A.set(C);
  x.fill(1);
  for (let c = 0; c < K; c++) {
    let p = c;
    for (let r = c + 1; r < K; r++) if (Math.abs(A[r * K + c]!) > Math.abs(A[p * K + c]!)) p = r;
    if (!(Math.abs(A[p * K + c]!) > 0)) return false;
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
  return true;
}
