// The attention softmax of the js backend: statement-for-statement twins of
// assembly/softmax.ts (the kernels' exp64, f64 sums with the four-lane layout, one f32
// rounding per stored value).
import type { RawKernels } from '../raw.js';
import { exp64 } from './mathf.js';
import { sum4 } from './sums.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

const fr = Math.fround;

/** Σ p[o + j]·q[o + j], j < n, in f64, same layout. */
function dot4(p: Float32Array, q: Float32Array, o: number, n: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n4 = n & ~3;
  let j = 0;
  for (; j < n4; j += 4) {
    s0 += p[o + j]! * q[o + j]!; s1 += p[o + j + 1]! * q[o + j + 1]!;
    s2 += p[o + j + 2]! * q[o + j + 2]!; s3 += p[o + j + 3]! * q[o + j + 3]!;
  }
  let s = (s0 + s1) + (s2 + s3);
  for (; j < n; j++) s += p[o + j]! * q[o + j]!;
  return s;
}

/** The attention softmax kernels of the js backend (same names and order as assembly/softmax.ts). */
export const softmaxKernels = {
  causalSoftmax(out, x, z, t, scale) {
    const sc = fr(scale);
    const rows = z * t;
    for (let r = 0, o = 0; r < rows; r++, o += t) {
      const len = r % t + 1;
      let m = fr(x[o]! * sc);
      for (let j = 1; j < len; j++) {
        const v = fr(x[o + j]! * sc);
        if (v > m) m = v;
      }
      for (let j = 0; j < len; j++) out[o + j] = exp64(fr(x[o + j]! * sc) - m);
      const s = sum4(out, o, len);
      for (let j = 0; j < len; j++) out[o + j] = out[o + j]! / s;
      for (let j = len; j < t; j++) out[o + j] = 0;
    }
  },

  causalSoftmaxBackward(out, p, g, z, t, scale) {
    const sc = fr(scale);
    const rows = z * t;
    for (let r = 0, o = 0; r < rows; r++, o += t) {
      const len = r % t + 1;
      const d = dot4(p, g, o, len);
      for (let j = 0; j < len; j++) out[o + j] = (p[o + j]! * (g[o + j]! - d)) * sc;
      for (let j = len; j < t; j++) out[o + j] = 0;
    }
  },
} satisfies Partial<K>;
