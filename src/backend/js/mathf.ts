/**
 * exp and log shared by the js kernels: a line-by-line TS twin of assembly/mathf.ts (same
 * constants, same f64 operation order), so the js backend gets the same bits as the wasm
 * kernels. Keep the two files in step; test/elementwise.test.ts compares them bit for bit
 * and measures their error against Math.exp / Math.log.
 */

const LOG2E = 1.4426950408889634;
/** ln 2 split (fdlibm): k·LN2_HI is exact for |k| < 2^20. */
const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const SQRT2 = 1.4142135623730951;

// f64 bit access (little-endian halves: u32[0] low word, u32[1] high word).
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * e^x in f64. x ≤ −708 gives 0; x > 709.8 gives +∞; NaN stays NaN. x = k·ln2 + r,
 * k = floor(x·log2e + 0.5), degree-11 Taylor polynomial of e^r, scaled by 2^(k−1)·2.
 */
export function exp64(x: number): number {
  if (!(x > -708.0)) return x !== x ? x : 0.0;
  if (x > 709.8) return Infinity;
  const k = Math.floor(x * LOG2E + 0.5);
  const r = (x - k * LN2_HI) - k * LN2_LO;
  let p = 2.505210838544172e-8;
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
  u32[0] = 0;
  u32[1] = (k + 1022) << 20;
  return (p * f64[0]!) * 2.0;
}

/**
 * ln x in f64: x = 2^e·m, m in [√½, √2), f = (m − 1)/(m + 1), ln m = 2·atanh f by its
 * series to f^19, ln x = e·LN2_HI + (e·LN2_LO + ln m).
 */
export function log64(x: number): number {
  if (!(x > 0.0)) return x === 0.0 ? -Infinity : NaN;
  if (x === Infinity) return x;
  let e = 0;
  if (x < 2.2250738585072014e-308) {
    x = x * 18014398509481984.0;
    e = -54;
  }
  f64[0] = x;
  const hi = u32[1]!;
  e += (hi >>> 20) - 1023;
  u32[1] = (hi & 0x000fffff) | 0x3ff00000;
  let m = f64[0]!;
  if (m > SQRT2) {
    m = m * 0.5;
    e += 1;
  }
  const f = (m - 1.0) / (m + 1.0);
  const f2 = f * f;
  let q = 0.10526315789473684;
  q = q * f2 + 0.11764705882352941;
  q = q * f2 + 0.13333333333333333;
  q = q * f2 + 0.15384615384615385;
  q = q * f2 + 0.18181818181818182;
  q = q * f2 + 0.2222222222222222;
  q = q * f2 + 0.2857142857142857;
  q = q * f2 + 0.4;
  q = q * f2 + 0.6666666666666666;
  const lm = f * 2.0 + (f * f2) * q;
  return e * LN2_HI + (e * LN2_LO + lm);
}
