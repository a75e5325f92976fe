// Gradient clipping's own kernel (nn.utils.clipGradNorm, src/clip.ts): the infinity norm.
// The 2-norm uses sumSquares (elementwise) and the scaling `scale`; the 1-norm absSum.
// Mirrored in src/backend/js/clip.ts.

/**
 * max |x[i]| over n floats, returned as f64 (exactly the f32 value); +0 for n = 0. NaN when
 * any x[i] is NaN (as torch's max): f32x4.max and f32.max both propagate NaN, so the order
 * of the lanes cannot change the result.
 */
export function absMax(x: usize, n: i32): f64 {
  let acc = f32x4.splat(0);
  const b4 = (<usize>n & ~3) << 2;
  const bytes = <usize>n << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) acc = f32x4.max(acc, f32x4.abs(v128.load(x + o)));
  let m = max<f32>(max<f32>(f32x4.extract_lane(acc, 0), f32x4.extract_lane(acc, 1)), max<f32>(f32x4.extract_lane(acc, 2), f32x4.extract_lane(acc, 3)));
  for (; o < bytes; o += 4) m = max<f32>(m, abs<f32>(load<f32>(x + o)));
  return <f64>m;
}
