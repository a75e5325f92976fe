// Activation kernels: GELU (exact, erf-based: torch's default), tanh, their backwards, and
// the sign / Σ|x| pair behind the L1 penalty. Contracts: src/backend/raw.ts.
//
// Wasm has no exp, erf or tanh instruction, so these use ONE algorithm of ours, written
// twice (here and in src/backend/js/activation.ts) statement for statement: float64
// arithmetic with fixed polynomials (Horner, no FMA) and the kernels' Cody–Waite exp64
// (assembly/mathf.ts), rounded to float32 once at the end. f64 + − × ÷ and floor give the
// same bits in Wasm (scalar or f64x2 lanes) and in JS, so both backends agree bit for bit.
//
// GELU: Φ(x) = 1 − F(x) for x ≥ 0 and F(x) for x < 0, where F(x) = ½·erfc(|x|/√2) =
// e^(−x²/2)·t·Q(2t − 1), t = 5/(5 + |x|): one formula for every x, no branch, so the two
// lanes of an f64x2 run it side by side (the tail runs the same lane code on a splat).
// x·x is exact in f64 for a float32 x, so e^(−x²/2) carries only exp64's few-ulp error.
// Q is a degree-18 least-squares fit over all of t ∈ (0, 1] (x ∈ [0, ∞)), relative error
// 1.2e-14, evaluated by Estrin's scheme (short dependency chains); scripts/gelu-fit.py
// makes the coefficients. It replaced a scalar Maclaurin series / continued fraction that
// took 4–5x longer (now test/erf64.ts, the reference of the accuracy tests).
//
// Accuracy of the float32 results (test/activation.test.ts, against that f64 reference,
// itself within 1e-13 of mpmath): over every 4096th float32 in [−16, 16], every 64th in
// [−15.5, −12] (subnormal results) and ±20 … ±3.4e38, ±1e-45 … ±1e-20 (594k points):
// gelu within 0.5 ulp (correctly rounded except a tie at 1e-45), the derivative
// Φ + x·φ within 0.499998 ulp. Next to the derivative's zero at x ≈ −0.75179, where Φ
// and x·φ cancel, its error is bounded by 0.5 ulp + 3e-15·(Φ + |x|·φ) instead: 1.56 ulp
// at the float32 nearest the zero (d = 5.2e-9), under 0.5 ulp a few floats away.

import { exp64, exp64x2 } from './mathf';

/** The scale of Φ's tail variable t = TAIL_C/(TAIL_C + |x|), which maps [0, ∞) onto (0, 1]. */
const TAIL_C: f64 = 5.0;
const INV_SQRT_2PI: f64 = 0.3989422804014327;

/** a + b·c per lane (two roundings: Wasm SIMD has no FMA). */
// @ts-ignore: decorator
@inline function mad(a: v128, b: v128, c: v128): v128 { return f64x2.add(a, f64x2.mul(b, c)); }

/** e^(−x²/2) per lane (x a float32 value: x·x and the halving are exact). */
// @ts-ignore: decorator
@inline function halfGaussX2(x: v128): v128 {
  return exp64x2(f64x2.mul(f64x2.splat(-0.5), f64x2.mul(x, x)));
}

/** Φ(x) per lane, the standard normal CDF, given e = e^(−x²/2) (see the file note). */
// @ts-ignore: decorator
@inline function normalCdfX2(x: v128, e: v128): v128 {
  const c = f64x2.splat(TAIL_C);
  const t = f64x2.div(c, f64x2.add(c, f64x2.abs(x)));
  const y = f64x2.sub(f64x2.add(t, t), f64x2.splat(1.0));
  // Q(y) = Σ q_k·y^k, k = 0..18, by Estrin's scheme (pairs, then y², y⁴, y⁸): the same
  // sums as Horner's up to roundoff, with a dependency chain of 5 steps instead of 18.
  const y2 = f64x2.mul(y, y);
  const y4 = f64x2.mul(y2, y2);
  const y8 = f64x2.mul(y4, y4);
  const a0 = mad(f64x2.splat(0.15383860995001153), f64x2.splat(0.1330765005780399), y);
  const a1 = mad(f64x2.splat(0.09906112319423789), f64x2.splat(0.06270663133242738), y);
  const a2 = mad(f64x2.splat(0.03300407322508802), f64x2.splat(0.013823727775608545), y);
  const a3 = mad(f64x2.splat(0.004159013486861005), f64x2.splat(0.0005986750617360404), y);
  const a4 = mad(f64x2.splat(-0.00015957477859695576), f64x2.splat(-0.0001089784577242054), y);
  const a5 = mad(f64x2.splat(-1.1871513107936015e-05), f64x2.splat(9.948821208145863e-06), y);
  const a6 = mad(f64x2.splat(3.3273296262201472e-06), f64x2.splat(-7.897526190124391e-07), y);
  const a7 = mad(f64x2.splat(-5.402908125155733e-07), f64x2.splat(6.035709137396173e-08), y);
  const a8 = mad(f64x2.splat(7.405834467197463e-08), f64x2.splat(-3.755913772420921e-09), y);
  const b0 = mad(a0, a1, y2);
  const b1 = mad(a2, a3, y2);
  const b2 = mad(a4, a5, y2);
  const b3 = mad(a6, a7, y2);
  const b4 = mad(a8, f64x2.splat(-6.62151183356053e-09), y2);
  const c0 = mad(b0, b1, y4);
  const c1 = mad(b2, b3, y4);
  const q = mad(mad(c0, c1, y8), b4, f64x2.mul(y8, y8));
  const f = f64x2.mul(f64x2.mul(e, t), q);
  return v128.bitselect(f, f64x2.sub(f64x2.splat(1.0), f), f64x2.lt(x, f64x2.splat(0.0)));
}

/** x·Φ(x) per lane in f64; a NaN lane gives its x. */
// @ts-ignore: decorator
@inline function geluX2(x: v128): v128 {
  return v128.bitselect(x, f64x2.mul(x, normalCdfX2(x, halfGaussX2(x))), f64x2.ne(x, x));
}

/** Φ(x) + x·φ(x) per lane in f64 (the GELU derivative), given Φ and e = e^(−x²/2); φ(x) = e/√(2π). */
// @ts-ignore: decorator
@inline function geluDerivX2(x: v128, cdf: v128, e: v128): v128 {
  return f64x2.add(cdf, f64x2.mul(x, f64x2.mul(e, f64x2.splat(INV_SQRT_2PI))));
}

/** g·(Φ(x) + x·φ(x)) per lane in f64; a NaN x lane gives its x. */
// @ts-ignore: decorator
@inline function geluGradX2(g: v128, x: v128): v128 {
  const e = halfGaussX2(x);
  return v128.bitselect(x, f64x2.mul(g, geluDerivX2(x, normalCdfX2(x, e), e)), f64x2.ne(x, x));
}

/** The two results of one lane pair of geluWithGrad: x·Φ(x) to `out` and Φ + x·φ to `d` (NaN lanes give x to both). */
// @ts-ignore: decorator
@inline function geluWithGradX2(out: usize, d: usize, x: v128, tail: bool): void {
  const e = halfGaussX2(x);
  const cdf = normalCdfX2(x, e);
  const nan = f64x2.ne(x, x);
  const y = v128.bitselect(x, f64x2.mul(x, cdf), nan);
  const dy = v128.bitselect(x, geluDerivX2(x, cdf, e), nan);
  if (tail) { store1(out, y); store1(d, dy); } else { store2(out, y); store2(d, dy); }
}

/** Two float32 at p as an f64x2. */
// @ts-ignore: decorator
@inline function load2(p: usize): v128 { return f64x2.promote_low_f32x4(v128.load64_zero(p)); }

/** An f64x2 rounded to two float32 stored at p. */
// @ts-ignore: decorator
@inline function store2(p: usize, v: v128): void { v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0); }

/** One float32 at p as both lanes of an f64x2 (the tail runs the same lane code). */
// @ts-ignore: decorator
@inline function load1(p: usize): v128 { return f64x2.splat(<f64>load<f32>(p)); }

/** Lane 0 of an f64x2 rounded to float32 and stored at p. */
// @ts-ignore: decorator
@inline function store1(p: usize, v: v128): void { store<f32>(p, <f32>f64x2.extract_lane(v, 0)); }

/**
 * out[i] = f32(x·Φ(x)), exact (erf) GELU as torch.nn.functional.gelu(approximate='none'),
 * by the f64 algorithm of the file note, within 0.5 ulp. NaN gives NaN, +∞ gives +∞, −∞
 * gives NaN (−∞·0, as torch). out may be x.
 */
export function gelu(out: usize, x: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const a = geluX2(load2(x + o));
    const b = geluX2(load2(x + o + 8));
    store2(out + o, a);
    store2(out + o + 8, b);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store1(out + o, geluX2(load1(x + o)));
  }
}

/**
 * out[i] = f32(g·(Φ(x) + x·φ(x))), φ the standard normal density: the GELU gradient, in
 * f64 as gelu (one e^(−x²/2) serves Φ and φ). out may be g or x.
 */
export function geluBackward(out: usize, g: usize, x: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const a = geluGradX2(load2(g + o), load2(x + o));
    const b = geluGradX2(load2(g + o + 8), load2(x + o + 8));
    store2(out + o, a);
    store2(out + o + 8, b);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store1(out + o, geluGradX2(load1(g + o), load1(x + o)));
  }
}

/**
 * The forward and what its backward needs, in one pass: out[i] = f32(x·Φ(x)) (the same
 * bits as gelu) and d[i] = f32(Φ(x) + x·φ(x)) (the derivative; geluBackward's factor,
 * rounded to f32 here so that the backward is one f32 multiply g·d). out may be x; d must
 * not alias out or x.
 */
export function geluWithGrad(out: usize, d: usize, x: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const a = load2(x + o), b = load2(x + o + 8);
    geluWithGradX2(out + o, d + o, a, false);
    geluWithGradX2(out + o + 8, d + o + 8, b, false);
  }
  if (i + 2 <= n) {
    const o = <usize>i << 2;
    geluWithGradX2(out + o, d + o, load2(x + o), false);
    i += 2;
  }
  if (i < n) {
    const o = <usize>i << 2;
    geluWithGradX2(out + o, d + o, load1(x + o), true);
  }
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
