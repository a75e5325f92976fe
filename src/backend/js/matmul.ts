import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

const fround = Math.fround;

/**
 * The strided core of both js matmuls: out[oc + i·ldc + j] (+)= Σ_p op(a)[i, p]·op(b)[p, j]
 * with op(a)[i, p] = a[oa + i·sai + p·sap] and op(b)[p, j] = b[ob + p·sbp + j·sbj], the
 * same per-output order as assembly/matmul.ts: s starts from out (or 0) and
 * s = f32(s + f32(a·b)) for p in order, one Math.fround per multiply and per add.
 * The causal masks of matmulBatched (raw.ts): with causalA row i sums only p ≤ i (p ≥ i
 * when transA); with causalOut only the outputs j ≤ i get terms (the rest: out, or 0
 * without accumulate). Four outputs of a row are summed side by side (each in its own
 * variable, each in p order): twice the speed of one at a time, no change to any output's order.
 */
function gemm(out: Float32Array, oc: number, ldc: number, a: Float32Array, oa: number, sai: number, sap: number,
  b: Float32Array, ob: number, sbp: number, sbj: number, m: number, n: number, k: number, accumulate: boolean,
  transA = false, causalA = false, causalOut = false): void {
  for (let i = 0; i < m; i++) {
    const row = oc + i * ldc;
    const lo = causalA && transA ? Math.min(i, k) : 0, hi = causalA && !transA ? Math.min(i + 1, k) : k;
    const jn = causalOut ? Math.min(n, i + 1) : n, jn4 = jn - (jn % 4);
    let j = 0;
    for (; j < jn4; j += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      if (accumulate) { s0 = out[row + j]!; s1 = out[row + j + 1]!; s2 = out[row + j + 2]!; s3 = out[row + j + 3]!; }
      let ap = oa + i * sai + lo * sap, bp = ob + lo * sbp + j * sbj;
      for (let p = lo; p < hi; p++) {
        const x = a[ap]!;
        s0 = fround(s0 + fround(x * b[bp]!));
        s1 = fround(s1 + fround(x * b[bp + sbj]!));
        s2 = fround(s2 + fround(x * b[bp + 2 * sbj]!));
        s3 = fround(s3 + fround(x * b[bp + 3 * sbj]!));
        ap += sap; bp += sbp;
      }
      out[row + j] = s0; out[row + j + 1] = s1; out[row + j + 2] = s2; out[row + j + 3] = s3;
    }
    for (; j < jn; j++) {
      let s = accumulate ? out[row + j]! : 0;
      let ap = oa + i * sai + lo * sap, bp = ob + lo * sbp + j * sbj;
      for (let p = lo; p < hi; p++) {
        s = fround(s + fround(a[ap]! * b[bp]!));
        ap += sap; bp += sbp;
      }
      out[row + j] = s;
    }
    if (!accumulate && jn < n) out.fill(0, row + jn, row + n);
  }
}

/** out (+)= op(a)·op(b), out m×n (contract in raw.ts). */
function matmul(out: Float32Array, a: Float32Array, b: Float32Array, m: number, n: number, k: number,
  transA: boolean, transB: boolean, accumulate: boolean): void {
  gemm(out, 0, n, a, 0, transA ? 1 : k, transA ? m : 1, b, 0, transB ? 1 : n, transB ? k : 1, m, n, k, accumulate);
}

/** The strided batched matmul (contract in raw.ts): each (b, h) in z order. */
function matmulBatched(out: Float32Array, a: Float32Array, b: Float32Array, batch: number, heads: number,
  m: number, n: number, k: number, offA: number, lda: number, sAb: number, sAh: number,
  offB: number, ldb: number, sBb: number, sBh: number, offC: number, ldc: number, sCb: number, sCh: number,
  transA: boolean, transB: boolean, accumulate: boolean, causalA: boolean, causalOut: boolean): void {
  // op(a)[i, p] = A[i·sai + p·sap]; op(b)[p, j] = B[p·sbp + j·sbj].
  const sai = transA ? 1 : lda, sap = transA ? lda : 1;
  const sbp = transB ? 1 : ldb, sbj = transB ? ldb : 1;
  for (let bi = 0; bi < batch; bi++) {
    for (let h = 0; h < heads; h++) {
      gemm(out, offC + bi * sCb + h * sCh, ldc, a, offA + bi * sAb + h * sAh, sai, sap,
        b, offB + bi * sBb + h * sBh, sbp, sbj, m, n, k, accumulate, transA, causalA, causalOut);
    }
  }
}

/** The matmul kernels of the js backend (same names and order as assembly/matmul.ts). */
export const matmulKernels = { matmul, matmulBatched } satisfies Partial<K>;
