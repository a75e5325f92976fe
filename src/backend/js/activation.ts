// Activation kernels of the js backend: statement-for-statement twins of
// assembly/activation.ts (see the algorithm note there). f64 arithmetic is JS's own; every
// f32 rounding is a Math.fround at the place where the Wasm code converts or does an f32 op.
import type { RawKernels } from '../raw.js';
import { exp64 } from './mathf.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

const fr = Math.fround;
const INV_SQRT_2PI = 0.3989422804014327;
const TAIL_C = 5.0;

/** Φ(x) given e = e^(−x²/2): the twin of normalCdfX2 (one lane). */
function normalCdf(x: number, e: number): number {
  const t = TAIL_C / (TAIL_C + Math.abs(x));
  const y = (t + t) - 1.0;
  const y2 = y * y;
  const y4 = y2 * y2;
  const y8 = y4 * y4;
  const a0 = 0.15383860995001153 + 0.1330765005780399 * y;
  const a1 = 0.09906112319423789 + 0.06270663133242738 * y;
  const a2 = 0.03300407322508802 + 0.013823727775608545 * y;
  const a3 = 0.004159013486861005 + 0.0005986750617360404 * y;
  const a4 = -0.00015957477859695576 + -0.0001089784577242054 * y;
  const a5 = -1.1871513107936015e-05 + 9.948821208145863e-06 * y;
  const a6 = 3.3273296262201472e-06 + -7.897526190124391e-07 * y;
  const a7 = -5.402908125155733e-07 + 6.035709137396173e-08 * y;
  const a8 = 7.405834467197463e-08 + -3.755913772420921e-09 * y;
  const b0 = a0 + a1 * y2;
  const b1 = a2 + a3 * y2;
  const b2 = a4 + a5 * y2;
  const b3 = a6 + a7 * y2;
  const b4 = a8 + -6.62151183356053e-09 * y2;
  const c0 = b0 + b1 * y4;
  const c1 = b2 + b3 * y4;
  const q = (c0 + c1 * y8) + b4 * (y8 * y8);
  const f = (e * t) * q;
  return x < 0 ? f : 1.0 - f;
}

function tanh64(x: number): number {
  const a = Math.abs(x);
  let t = 1.0;
  if (a <= 10.0) {
    const z = -2.0 * a;
    let m: number;
    if (a < 0.1733) {
      let p = 1.1470745597729725e-11;
      p = p * z + 1.6059043836821613e-10;
      p = p * z + 2.08767569878681e-09;
      p = p * z + 2.505210838544172e-08;
      p = p * z + 2.755731922398589e-07;
      p = p * z + 2.7557319223985893e-06;
      p = p * z + 2.48015873015873e-05;
      p = p * z + 0.0001984126984126984;
      p = p * z + 0.001388888888888889;
      p = p * z + 0.008333333333333333;
      p = p * z + 0.041666666666666664;
      p = p * z + 0.16666666666666666;
      p = p * z + 0.5;
      p = p * z + 1.0;
      m = p * z;
    } else {
      m = exp64(z) - 1.0;
    }
    t = -m / (2.0 + m);
  }
  return x < 0 ? -t : t;
}

/** The activation kernels of the js backend (same names and order as assembly/activation.ts). */
export const activationKernels = {
  gelu(out, x, n) {
    for (let i = 0; i < n; i++) {
      const xv = x[i]!;
      if (xv !== xv) { out[i] = xv; continue; }
      out[i] = xv * normalCdf(xv, exp64(-0.5 * (xv * xv)));
    }
  },

  geluBackward(out, g, x, n) {
    for (let i = 0; i < n; i++) {
      const xv = x[i]!;
      const gv = g[i]!;
      if (xv !== xv) { out[i] = xv; continue; }
      const e = exp64(-0.5 * (xv * xv));
      out[i] = gv * (normalCdf(xv, e) + xv * (e * INV_SQRT_2PI));
    }
  },

  geluWithGrad(out, d, x, n) {
    for (let i = 0; i < n; i++) {
      const xv = x[i]!;
      if (xv !== xv) { out[i] = xv; d[i] = xv; continue; }
      const e = exp64(-0.5 * (xv * xv));
      const cdf = normalCdf(xv, e);
      out[i] = xv * cdf;
      d[i] = cdf + xv * (e * INV_SQRT_2PI);
    }
  },

  tanh(out, x, n) {
    for (let i = 0; i < n; i++) {
      const xv = x[i]!;
      out[i] = xv !== xv || xv === 0 ? xv : tanh64(xv);
    }
  },

  tanhBackward(out, g, y, n) {
    for (let i = 0; i < n; i++) {
      const yv = y[i]!;
      out[i] = g[i]! * fr(1 - fr(yv * yv));
    }
  },

  sign(out, x, n) {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      out[i] = v > 0 ? 1 : v < 0 ? -1 : 0;
    }
  },

  absSum(x, n) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const n4 = n & ~3;
    let i = 0;
    for (; i < n4; i += 4) {
      s0 = fr(s0 + Math.abs(x[i]!));
      s1 = fr(s1 + Math.abs(x[i + 1]!));
      s2 = fr(s2 + Math.abs(x[i + 2]!));
      s3 = fr(s3 + Math.abs(x[i + 3]!));
    }
    let s = fr(fr(s0 + s1) + fr(s2 + s3));
    for (; i < n; i++) s = fr(s + Math.abs(x[i]!));
    return s;
  },
} satisfies Partial<K>;
