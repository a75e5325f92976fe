/**
 * A float64 reference for the normal CDF Φ, GELU x·Φ(x) and its derivative Φ(x) + x·φ(x),
 * independent of the kernels' algorithm (which is a fitted polynomial, see
 * assembly/activation.ts): erf by its Maclaurin series (31 terms) below |u| = 2 and erfc by
 * Laplace's continued fraction (40 levels) above, with Math.exp. Relative error ~1e-13 or
 * better everywhere (checked against mpmath in test/activation.test.ts). This was the
 * kernels' own algorithm before the fit replaced it (it ran ~5x slower).
 */

const INV_SQRT_PI = 0.5641895835477563;
const INV_SQRT_2PI = 0.3989422804014327;

/** erf(u) for 0 ≤ u < 2: the Maclaurin series, 31 terms, Horner in u². */
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

/** erfc(u) for u ≥ 2 given e = e^(−u²): Laplace's continued fraction, 40 levels, bottom up. */
function erfcFraction(u: number, e: number): number {
  let f = u;
  for (let n = 40; n >= 1; n--) f = u + n * 0.5 / f;
  return e * INV_SQRT_PI / f;
}

/** Φ(x), the standard normal CDF, in f64. */
export function phi64(x: number): number {
  const u = x * Math.SQRT1_2, a = Math.abs(u);
  if (a < 2) {
    const h = 0.5 * erfSeries(a);
    return x < 0 ? 0.5 - h : 0.5 + h;
  }
  // e^(−u²) = e^(−x²/2): for a float32 x, x·x/2 is exact in f64
  const c = a >= 26.5 ? 0 : erfcFraction(a, Math.exp(-0.5 * (x * x)));
  return x < 0 ? 0.5 * c : 1 - 0.5 * c;
}

/** x·Φ(x) in f64. */
export function gelu64(x: number): number { return x * phi64(x); }

/** Φ(x) + x·φ(x), the derivative of x·Φ(x), in f64. */
export function geluDeriv64(x: number): number { return phi64(x) + x * Math.exp(-0.5 * (x * x)) * INV_SQRT_2PI; }
