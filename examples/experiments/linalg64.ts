/** Small float64 linear algebra for the experiments' independent references. */

/** Solves (A) x = b for a symmetric positive definite d×d A (row-major) by Cholesky. */
export function solveSpd(A: Float64Array, b: Float64Array, d: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * d + j]!;
      for (let k = 0; k < j; k++) s -= L[i * d + k]! * L[j * d + k]!;
      L[i * d + j] = i === j ? Math.sqrt(s) : s / L[j * d + j]!;
    }
  }
  const z = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * d + k]! * z[k]!;
    z[i] = s / L[i * d + i]!;
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < d; k++) s -= L[k * d + i]! * x[k]!;
    x[i] = s / L[i * d + i]!;
  }
  return x;
}

/** XᵀX (d×d) and Xᵀy (d) in float64 for X n×d row-major. */
export function normalEquations(X: ArrayLike<number>, y: ArrayLike<number>, n: number, d: number): { XtX: Float64Array; Xty: Float64Array } {
  const XtX = new Float64Array(d * d);
  const Xty = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const xa = X[i * d + a]!;
      Xty[a]! += xa * y[i]!;
      for (let b = 0; b < d; b++) XtX[a * d + b]! += xa * X[i * d + b]!;
    }
  }
  return { XtX, Xty };
}

/**
 * argmin ½‖y − Xw‖² + lam·‖w‖₁ by cyclic coordinate descent in float64, run until no
 * coordinate moves more than 1e-13 (relative): an independent check of the lasso solver.
 */
export function lassoCd(XtX: Float64Array, Xty: Float64Array, d: number, lam: number): Float64Array {
  const w = new Float64Array(d);
  for (let sweep = 0; sweep < 100000; sweep++) {
    let moved = 0, size = 0;
    for (let j = 0; j < d; j++) {
      let r = Xty[j]!;
      for (let k = 0; k < d; k++) if (k !== j) r -= XtX[j * d + k]! * w[k]!;
      const nw = Math.sign(r) * Math.max(Math.abs(r) - lam, 0) / XtX[j * d + j]!;
      moved = Math.max(moved, Math.abs(nw - w[j]!));
      size = Math.max(size, Math.abs(nw));
      w[j] = nw;
    }
    if (moved <= 1e-13 * Math.max(size, 1)) break;
  }
  return w;
}
