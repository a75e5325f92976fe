// Sums of the transformer's kernels (layernorm, softmax): f64 with absSum's four-lane
// layout: lane j (0..3) adds element 4q + j of the first n & ~3 in order, s = (s0 + s1) +
// (s2 + s3), then the tail in order. Mirrored in src/backend/js/sums.ts.

/** Σ p[j], j < n, in f64 with the four-lane layout. */
// @ts-ignore: decorator
@inline
export function sum4(p: usize, n: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const b4 = (<usize>n & ~3) << 2;
  const bytes = <usize>n << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) {
    a = f64x2.add(a, f64x2.promote_low_f32x4(v128.load64_zero(p + o)));
    b = f64x2.add(b, f64x2.promote_low_f32x4(v128.load64_zero(p + o + 8)));
  }
  let s = (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
  for (; o < bytes; o += 4) s += <f64>load<f32>(p + o);
  return s;
}
