// Activation kernels: GELU (exact, erf-based: torch's default), tanh, their backwards, and
// the sign / Σ|x| pair behind the L1 penalty. Contracts: src/backend/raw.ts.
//
// Wasm has no exp, erf or tanh instruction, so these use ONE algorithm of ours, written
// twice (here and in src/backend/js/activation.ts) statement for statement: float64
// arithmetic with fixed polynomials (Horner, no FMA), the kernels' Cody–Waite exp64
// (assembly/mathf.ts, used here only in its normal range) and a fixed-length
// continued fraction, rounded to float32 once at the end. f64 + − × ÷ and floor give the
// same bits in Wasm and in JS, so both backends agree bit for bit. Accuracy (f64 stage):
// ~1e-13 relative or better on every range, so the f32 results are within 1 ulp of the
// correctly rounded value (tested against mpmath values and Math.tanh).

import { exp64 } from './mathf';

const SQRT1_2: f64 = 0.7071067811865476;
const INV_SQRT_PI: f64 = 0.5641895835477563;
const INV_SQRT_2PI: f64 = 0.3989422804014327;
/** erfc's continued fraction takes over from erf's series at |u| = 2. */
const ERF_SPLIT: f64 = 2.0;
/** Past |u| = 26.5, erfc(u) < 1e-306: treated as 0 (keeps exp's 2^k normal). */
const ERFC_ZERO: f64 = 26.5;

/** erf(u) for 0 ≤ u < 2: the Maclaurin series, 31 terms, Horner in u². */
@inline function erfSeries(u: f64): f64 {
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

/** erfc(u) for u ≥ 2 given e = e^(−u²): Laplace's continued fraction, 40 levels, bottom up. */
@inline function erfcFraction(u: f64, e: f64): f64 {
  let f = u;
  for (let n = 40; n >= 1; n--) f = u + <f64>n * 0.5 / f;
  return e * INV_SQRT_PI / f;
}

/** Φ(x) = ½·erfc(−x/√2), the standard normal CDF, given u = x/√2, a = |u|, e = e^(−u²). */
@inline function normalCdf(x: f64, a: f64, e: f64): f64 {
  if (a < ERF_SPLIT) {
    const h = 0.5 * erfSeries(a);
    return x < 0 ? 0.5 - h : 0.5 + h;
  }
  const c = a >= ERFC_ZERO ? 0.0 : erfcFraction(a, e);
  return x < 0 ? 0.5 * c : 1.0 - 0.5 * c;
}

/** tanh(x) in f64 (x finite or ±inf, not NaN, not ±0): −expm1(−2|x|)/(2 + expm1(−2|x|)). */
@inline function tanh64(x: f64): f64 {
  const a = Math.abs(x);
  let t: f64 = 1.0;
  if (a <= 10.0) {
    const z = -2.0 * a;
    let m: f64;
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

/**
 * out[i] = f32(x·Φ(x)), exact (erf) GELU as torch.nn.functional.gelu(approximate='none').
 * Computed in f64 by the shared algorithm above. NaN gives NaN. out may be x.
 */
export function gelu(out: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const xv = <f64>load<f32>(x + o);
    if (xv != xv) { store<f32>(out + o, <f32>xv); continue; }
    const u = xv * SQRT1_2;
    const a = Math.abs(u);
    const e = a >= ERF_SPLIT && a < ERFC_ZERO ? exp64(-(u * u)) : 0.0;
    store<f32>(out + o, <f32>(xv * normalCdf(xv, a, e)));
  }
}

/**
 * out[i] = f32(g·(Φ(x) + x·φ(x))), φ the standard normal density: the GELU gradient, in
 * f64 as gelu. out may be g or x.
 */
export function geluBackward(out: usize, g: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const xv = <f64>load<f32>(x + o);
    const gv = <f64>load<f32>(g + o);
    if (xv != xv) { store<f32>(out + o, <f32>xv); continue; }
    const u = xv * SQRT1_2;
    const a = Math.abs(u);
    const e = a < ERFC_ZERO ? exp64(-(u * u)) : 0.0;
    const d = normalCdf(xv, a, e) + xv * (e * INV_SQRT_2PI);
    store<f32>(out + o, <f32>(gv * d));
  }
}

/** out[i] = f32(tanh(x[i])), computed in f64 (±0 and NaN pass through). out may be x. */
export function tanh(out: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const xv = <f64>load<f32>(x + o);
    store<f32>(out + o, xv != xv || xv == 0 ? <f32>xv : <f32>tanh64(xv));
  }
}

/**
 * out[i] = g[i]·(1 − y[i]²) in f32, each op rounded: f32(g·f32(1 − f32(y·y))), y the tanh
 * output (as torch's tanh_backward). out may be g or y.
 */
export function tanhBackward(out: usize, g: usize, y: usize, n: i32): void {
  const one = f32x4.splat(1.0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const yv = v128.load(y + o);
    v128.store(out + o, f32x4.mul(v128.load(g + o), f32x4.sub(one, f32x4.mul(yv, yv))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const yv = load<f32>(y + o);
    store<f32>(out + o, load<f32>(g + o) * (<f32>1.0 - yv * yv));
  }
}

/** out[i] = 1 if x > 0, −1 if x < 0, else +0 (±0 and NaN give +0). out may be x. */
export function sign(out: usize, x: usize, n: i32): void {
  const zero = f32x4.splat(0.0);
  const one = f32x4.splat(1.0);
  const minus = f32x4.splat(-1.0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(out + o, v128.or(v128.and(f32x4.gt(v, zero), one), v128.and(f32x4.lt(v, zero), minus)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(out + o, v > 0 ? <f32>1.0 : v < 0 ? <f32>-1.0 : <f32>0.0);
  }
}

/**
 * Σ|x[i]| in f32, returned as f64. Layout: for the first n & ~3 elements, lane j (0..3)
 * sums |x[4q + j]| in order q = 0, 1, ...; s = (s0 + s1) + (s2 + s3); then the tail
 * elements are added to s in order.
 */
export function absSum(x: usize, n: i32): f64 {
  let acc = f32x4.splat(0.0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) acc = f32x4.add(acc, f32x4.abs(v128.load(x + (<usize>i << 2))));
  let s: f32 = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; i < n; i++) s += Mathf.abs(load<f32>(x + (<usize>i << 2)));
  return <f64>s;
}
