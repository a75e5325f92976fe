// prox kernels: see src/backend/raw.ts for the contract of each export.

/**
 * Soft thresholding, the L1 proximal step: out[i] = sign(x[i])·max(|x[i]| − t, 0) over n
 * floats, t ≥ 0 rounded to f32 on entry. Per element a = f32(|x| − t), m = max(a, 0);
 * out = m with the sign bit of x when m > 0, else m. So every |x| ≤ t gives an exact +0
 * (−0 in, and negatives that shrink to zero, give +0 too), and NaN in gives a NaN out
 * (payload unspecified). out may be x (each element is read before it is written).
 * f32x4 main loop, scalar tail.
 */
export function softThreshold(out: usize, x: usize, n: i32, t: f32): void {
  const tv = f32x4.splat(t);
  const zero = f32x4.splat(0);
  const sign = i32x4.splat(0x80000000);
  const end4 = x + ((<usize>n & ~3) << 2);
  const end = x + (<usize>n << 2);
  for (; x < end4; x += 16, out += 16) {
    const v = v128.load(x);
    const m = f32x4.max(f32x4.sub(f32x4.abs(v), tv), zero);
    v128.store(out, v128.or(m, v128.and(v128.and(v, sign), f32x4.gt(m, zero))));
  }
  for (; x < end; x += 4, out += 4) {
    const v = load<f32>(x);
    const m = max<f32>(abs<f32>(v) - t, 0);
    store<f32>(out, m > 0 ? copysign<f32>(m, v) : m);
  }
}
