// exp and log for the kernels, written once in f64 and mirrored line by line in
// src/backend/js/mathf.ts. Wasm has no exp/log instruction, and JS's Math.exp is another
// algorithm than AssemblyScript's musl port, so both backends use this one: only f64
// +, −, ×, ÷, floor and bit casts, which round identically in Wasm and in JS. Keep the
// two files in step (same constants, same operation order); the tests compare them bit
// for bit.
//
// Accuracy: exp64 and log64 are within a few f64 ulps (Taylor / atanh series far past
// f32 needs); rounding their result to f32 is within 1 f32 ulp of the true value.

const LOG2E: f64 = 1.4426950408889634;
/** ln 2 split (fdlibm): k·LN2_HI is exact for |k| < 2^20. */
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const SQRT2: f64 = 1.4142135623730951;

/**
 * e^x in f64. x ≤ −708 gives 0 (f64 subnormal results are flushed); x > 709.79 gives
 * +∞; NaN stays NaN. Range reduction x = k·ln2 + r with k = floor(x·log2e + 0.5) (not
 * `nearest`: JS has no round-half-even), |r| ≤ ln2/2, then the degree-11 Taylor
 * polynomial of e^r by Horner (truncation error < 1e-14 relative), scaled by 2^(k−1)·2 so
 * that k = 1024 still builds a normal power of two.
 */
// @ts-ignore: decorator
@inline
export function exp64(x: f64): f64 {
  if (!(x > -708.0)) return x != x ? x : 0.0;
  if (x > 709.8) return Infinity;
  const k = Math.floor(x * LOG2E + 0.5);
  const r = (x - k * LN2_HI) - k * LN2_LO;
  let p: f64 = 2.505210838544172e-8;
  p = p * r + 2.755731922398589e-7;
  p = p * r + 0.0000027557319223985893;
  p = p * r + 0.0000248015873015873;
  p = p * r + 0.0001984126984126984;
  p = p * r + 0.001388888888888889;
  p = p * r + 0.008333333333333333;
  p = p * r + 0.041666666666666664;
  p = p * r + 0.16666666666666666;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const pow = reinterpret<f64>(<u64>(<i64>k + 1022) << 52);
  return (p * pow) * 2.0;
}

/**
 * exp64 of both lanes of an f64x2, bit for bit. Where both lanes are in exp64's main range
 * (−708 < x ≤ 709.8, not NaN) it runs the same operations in the same order as exp64's
 * main path, lane by lane (f64x2 +, −, ×, floor round as the scalar ones); otherwise it
 * calls exp64 per lane.
 */
// @ts-ignore: decorator
@inline
export function exp64x2(x: v128): v128 {
  if (!i64x2.all_true(v128.and(f64x2.gt(x, f64x2.splat(-708.0)), f64x2.le(x, f64x2.splat(709.8))))) {
    return f64x2.replace_lane(f64x2.splat(exp64(f64x2.extract_lane(x, 0))), 1, exp64(f64x2.extract_lane(x, 1)));
  }
  const k = f64x2.floor(f64x2.add(f64x2.mul(x, f64x2.splat(LOG2E)), f64x2.splat(0.5)));
  const r = f64x2.sub(f64x2.sub(x, f64x2.mul(k, f64x2.splat(LN2_HI))), f64x2.mul(k, f64x2.splat(LN2_LO)));
  let p = f64x2.splat(2.505210838544172e-8);
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.755731922398589e-7));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.0000027557319223985893));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.0000248015873015873));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.0001984126984126984));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.001388888888888889));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.008333333333333333));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.041666666666666664));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.16666666666666666));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  // 2^(k−1) without a float→int conversion (several instructions on x64): k is integral
  // and −1021 ≤ k ≤ 1024 here, so k + (2^52 + 1022) is exact and lies in [2^52, 2^53),
  // where the low mantissa bits hold k + 1022 (1..2046) as an integer; shifting the bits
  // left by 52 moves them into the exponent field. The same power as exp64 builds.
  const pow = i64x2.shl(f64x2.add(k, f64x2.splat(4503599627371518.0)), 52);
  return f64x2.mul(f64x2.mul(p, pow), f64x2.splat(2.0));
}

/**
 * ln x in f64. x = 2^e·m with m in [√½, √2), f = (m − 1)/(m + 1), ln m = 2·atanh f =
 * 2f + f·f²·(2/3 + f²·(2/5 + … + f²·2/19)) (|f| ≤ 0.172, truncation < 1e-16 relative),
 * ln x = e·LN2_HI + (e·LN2_LO + ln m). ln 0 = −∞, ln(x < 0) = NaN, ln ∞ = ∞,
 * subnormals are scaled by 2^54 first.
 */
// @ts-ignore: decorator
@inline
export function log64(x: f64): f64 {
  if (!(x > 0.0)) return x == 0.0 ? -Infinity : NaN;
  if (x == Infinity) return x;
  let e: i32 = 0;
  if (x < 2.2250738585072014e-308) {
    x = x * 18014398509481984.0;
    e = -54;
  }
  const bits = reinterpret<u64>(x);
  e += <i32>(bits >> 52) - 1023;
  let m = reinterpret<f64>((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000);
  if (m > SQRT2) {
    m = m * 0.5;
    e += 1;
  }
  const f = (m - 1.0) / (m + 1.0);
  const f2 = f * f;
  let q: f64 = 0.10526315789473684;
  q = q * f2 + 0.11764705882352941;
  q = q * f2 + 0.13333333333333333;
  q = q * f2 + 0.15384615384615385;
  q = q * f2 + 0.18181818181818182;
  q = q * f2 + 0.2222222222222222;
  q = q * f2 + 0.2857142857142857;
  q = q * f2 + 0.4;
  q = q * f2 + 0.6666666666666666;
  const lm = f * 2.0 + (f * f2) * q;
  const ef = <f64>e;
  return ef * LN2_HI + (ef * LN2_LO + lm);
}
