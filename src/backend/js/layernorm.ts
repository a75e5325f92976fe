// LayerNorm kernels of the js backend: statement-for-statement twins of
// assembly/layernorm.ts (f64 statistics and arithmetic, the four-lane f64 sum layout, one
// f32 rounding per stored value, which storing into a Float32Array does).
import type { RawKernels } from '../raw.js';
import { sum4 } from './sums.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

/** Σ (x[o + j] − c)², same layout. */
function sumSqDev4(x: Float32Array, o: number, n: number, c: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n4 = n & ~3;
  let j = 0;
  for (; j < n4; j += 4) {
    const d0 = x[o + j]! - c, d1 = x[o + j + 1]! - c, d2 = x[o + j + 2]! - c, d3 = x[o + j + 3]! - c;
    s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
  }
  let s = (s0 + s1) + (s2 + s3);
  for (; j < n; j++) {
    const d = x[o + j]! - c;
    s += d * d;
  }
  return s;
}

/** The LayerNorm kernels of the js backend (same names and order as assembly/layernorm.ts). */
export const layernormKernels = {
  layerNorm(out, x, weight, bias, mean, rstd, rows, cols, eps) {
    for (let i = 0, o = 0; i < rows; i++, o += cols) {
      const mu = sum4(x, o, cols) / cols;
      const r = 1.0 / Math.sqrt(sumSqDev4(x, o, cols, mu) / cols + eps);
      mean[i] = mu;
      rstd[i] = r;
      for (let j = 0; j < cols; j++) {
        let y = (x[o + j]! - mu) * r;
        if (weight !== null) y = y * weight[j]!;
        if (bias !== null) y = y + bias[j]!;
        out[o + j] = y;
      }
    }
  },

  layerNormBackward(dx, g, x, weight, mean, rstd, dweight, dbias, rows, cols) {
    const c4 = cols & ~3;
    for (let i = 0, o = 0; i < rows; i++, o += cols) {
      const mu = mean[i]!, r = rstd[i]!;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      let j = 0;
      for (; j < c4; j += 4) {
        const p = o + j;
        const h0 = (x[p]! - mu) * r, h1 = (x[p + 1]! - mu) * r, h2 = (x[p + 2]! - mu) * r, h3 = (x[p + 3]! - mu) * r;
        let w0 = g[p]!, w1 = g[p + 1]!, w2 = g[p + 2]!, w3 = g[p + 3]!;
        if (weight !== null) { w0 = w0 * weight[j]!; w1 = w1 * weight[j + 1]!; w2 = w2 * weight[j + 2]!; w3 = w3 * weight[j + 3]!; }
        a0 += w0; a1 += w1; a2 += w2; a3 += w3;
        b0 += w0 * h0; b1 += w1 * h1; b2 += w2 * h2; b3 += w3 * h3;
      }
      let a = (a0 + a1) + (a2 + a3);
      let b = (b0 + b1) + (b2 + b3);
      for (; j < cols; j++) {
        const h = (x[o + j]! - mu) * r;
        let w = g[o + j]!;
        if (weight !== null) w = w * weight[j]!;
        a += w;
        b += w * h;
      }
      const ma = a / cols, mb = b / cols;
      for (j = 0; j < cols; j++) {
        const h = (x[o + j]! - mu) * r;
        const gs = g[o + j]!;
        let w = gs;
        if (weight !== null) w = w * weight[j]!;
        dx[o + j] = ((w - ma) - h * mb) * r;
        if (dweight !== null) dweight[j] = dweight[j]! + gs * h;
        if (dbias !== null) dbias[j] = dbias[j]! + gs;
      }
    }
  },
} satisfies Partial<K>;
