// Activation kernels of the js backend: statement-for-statement twins of
// assembly/activation.ts (see the algorithm note there). f64 arithmetic is JS's own; every
// f32 rounding is a Math.fround at the place where the Wasm code converts or does an f32 op.
import type { RawKernels } from '../raw.js';
import { exp64 } from './mathf.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

const fr = Math.fround;
const SQRT1_2 = 0.7071067811865476;
const INV_SQRT_PI = 0.5641895835477563;
const INV_SQRT_2PI = 0.3989422804014327;
const ERF_SPLIT = 2.0;
const ERFC_ZERO = 26.5;

function erfSeries(u: number): number {
  const u2 = u * u;
  let p = 6.973730328792914e-35;
  p = p * u2 + -2.1630383901171243e-33;
  p = p * u2 + 6.492909974544561e-32;
  p = p * u2 + -1.8841244217042036e-30;
  p = p * u2 + 5.279103332510835e-29;
  p = p * u2 + -1.4263930180784176e-27;
  p = p * u2 + 3.71153285316323e-26;
  p = p * u2 + -9.28672901131906e-25;
  p = p * u2 + 2.2308786802746453e-23;
  p = p * u2 + -5.136209054585811e-22;
  p = p * u2 + 1.131218725924631e-20;
  p = p * u2 + -2.3784598852774293e-19;
  p = p * u2 + 4.763348040515068e-18;
  p = p * u2 + -9.063970842808673e-17;
  p = p * u2 + 1.6342614095367152e-15;
  p = p * u2 + -2.7835162072109212e-14;
  p = p * u2 + 4.4632242632864775e-13;
  p = p * u2 + -6.7113668551641105e-12;
  p = p * u2 + 9.422759064650411e-11;
  p = p * u2 + -1.2290555301717926e-09;
  p = p * u2 + 1.4807192815879218e-08;
  p = p * u2 + -1.6365844691234924e-07;
  p = p * u2 + 1.6462114365889246e-06;
  p = p * u2 + -1.492565035840625e-05;
  p = p * u2 + 0.00012055332981789664;
  p = p * u2 + -0.0008548327023450852;
  p = p * u2 + 0.005223977625442188;
  p = p * u2 + -0.026866170645131252;
  p = p * u2 + 0.11283791670955126;
  p = p * u2 + -0.37612638903183754;
  p = p * u2 + 1.1283791670955126;
  return p * u;
}

function erfcFraction(u: number, e: number): number {
  let f = u;
  for (let n = 40; n >= 1; n--) f = u + n * 0.5 / f;
  return e * INV_SQRT_PI / f;
}

function normalCdf(x: number, a: number, e: number): number {
  if (a < ERF_SPLIT) {
    const h = 0.5 * erfSeries(a);
    return x < 0 ? 0.5 - h : 0.5 + h;
  }
  const c = a >= ERFC_ZERO ? 0.0 : erfcFraction(a, e);
  return x < 0 ? 0.5 * c : 1.0 - 0.5 * c;
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
      const u = xv * SQRT1_2;
      const a = Math.abs(u);
      const e = a >= ERF_SPLIT && a < ERFC_ZERO ? exp64(-(u * u)) : 0.0;
      out[i] = xv * normalCdf(xv, a, e);
    }
  },

  geluBackward(out, g, x, n) {
    for (let i = 0; i < n; i++) {
      const xv = x[i]!;
      const gv = g[i]!;
      if (xv !== xv) { out[i] = xv; continue; }
      const u = xv * SQRT1_2;
      const a = Math.abs(u);
      const e = a < ERFC_ZERO ? exp64(-(u * u)) : 0.0;
      const d = normalCdf(xv, a, e) + xv * (e * INV_SQRT_2PI);
      out[i] = gv * d;
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
