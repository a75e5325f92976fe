// The attention softmax: scaled, causally masked, forward and backward, over Z square
// T×T score matrices stored back to back (row t of a matrix is query position t; keys
// j > t are masked). Contracts: src/backend/raw.ts. exp is the kernels' exp64
// (./mathf, mirrored in src/backend/js/mathf.ts); sums are f64 with absSum's four-lane
// layout, so the js twin (src/backend/js/softmax.ts) gets the same bits.

import { exp64, exp64x2 } from './mathf';
import { sum4 } from './sums';

/** Σ p[j]·q[j], j < n, in f64 (exact products) with the four-lane layout. */
// @ts-ignore: decorator
@inline function dot4(p: usize, q: usize, n: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const b4 = (<usize>n & ~3) << 2;
  const bytes = <usize>n << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) {
    a = f64x2.add(a, f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + o)), f64x2.promote_low_f32x4(v128.load64_zero(q + o))));
    b = f64x2.add(b, f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + o + 8)), f64x2.promote_low_f32x4(v128.load64_zero(q + o + 8))));
  }
  let s = (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
  for (; o < bytes; o += 4) s += <f64>load<f32>(p + o) * <f64>load<f32>(q + o);
  return s;
}

/** Zeros from byte offset `from` to `to` of row p. */
// @ts-ignore: decorator
@inline function zeroTail(p: usize, from: usize, to: usize): void {
  let o = from;
  for (; o < to && (o & 15) != 0; o += 4) store<f32>(p + o, 0);
  for (; o + 16 <= to; o += 16) v128.store(p + o, f32x4.splat(0));
  for (; o < to; o += 4) store<f32>(p + o, 0);
}

/**
 * out = softmax over keys j ≤ t of z_j = f32(x_j·scale), per row t of each of the Z T×T
 * matrices; out_j = 0 for j > t. Per row: m = max z_j (scalar, j in order, first of equal);
 * e_j = f32(exp64(z_j − m)) in f64, stored; s = Σ e_j (f64, four-lane layout);
 * out_j = f32(e_j / s). out may be x.
 */
export function causalSoftmax(out: usize, x: usize, z: i32, t: i32, scale: f32): void {
  const rowBytes = <usize>t << 2;
  const sv = f32x4.splat(scale);
  const rows = z * t;
  for (let r = 0; r < rows; r++, x += rowBytes, out += rowBytes) {
    const len = r % t + 1;
    const lenBytes = <usize>len << 2;
    let m: f32 = load<f32>(x) * scale;
    for (let o: usize = 4; o < lenBytes; o += 4) {
      const v = load<f32>(x + o) * scale;
      if (v > m) m = v;
    }
    const mv = f64x2.splat(<f64>m);
    let o: usize = 0;
    for (; o + 8 <= lenBytes; o += 8) {
      const zz = f64x2.promote_low_f32x4(f32x4.mul(v128.load64_zero(x + o), sv));
      v128.store64_lane(out + o, f32x4.demote_f64x2_zero(exp64x2(f64x2.sub(zz, mv))), 0);
    }
    for (; o < lenBytes; o += 4) store<f32>(out + o, <f32>exp64(<f64>(load<f32>(x + o) * scale) - <f64>m));
    const s = sum4(out, len);
    const ssv = f64x2.splat(s);
    o = 0;
    for (; o + 8 <= lenBytes; o += 8) {
      const e = f64x2.promote_low_f32x4(v128.load64_zero(out + o));
      v128.store64_lane(out + o, f32x4.demote_f64x2_zero(f64x2.div(e, ssv)), 0);
    }
    for (; o < lenBytes; o += 4) store<f32>(out + o, <f32>(<f64>load<f32>(out + o) / s));
    zeroTail(out, lenBytes, rowBytes);
  }
}

/**
 * The gradient of causalSoftmax with respect to its input x, from its output p and the
 * upstream gradient g: per row t, d = Σ_{j≤t} p_j·g_j (f64, four-lane layout);
 * out_j = f32((p_j·(g_j − d))·scale) in f64 for j ≤ t, 0 for j > t. out may be g.
 */
export function causalSoftmaxBackward(out: usize, p: usize, g: usize, z: i32, t: i32, scale: f32): void {
  const rowBytes = <usize>t << 2;
  const sc = <f64>scale;
  const scv = f64x2.splat(sc);
  const rows = z * t;
  for (let r = 0; r < rows; r++, p += rowBytes, g += rowBytes, out += rowBytes) {
    const len = r % t + 1;
    const lenBytes = <usize>len << 2;
    const d = dot4(p, g, len);
    const dv = f64x2.splat(d);
    let o: usize = 0;
    for (; o + 8 <= lenBytes; o += 8) {
      const pv = f64x2.promote_low_f32x4(v128.load64_zero(p + o));
      const gv = f64x2.promote_low_f32x4(v128.load64_zero(g + o));
      v128.store64_lane(out + o, f32x4.demote_f64x2_zero(f64x2.mul(f64x2.mul(pv, f64x2.sub(gv, dv)), scv)), 0);
    }
    for (; o < lenBytes; o += 4) {
      store<f32>(out + o, <f32>((<f64>load<f32>(p + o) * (<f64>load<f32>(g + o) - d)) * sc));
    }
    zeroTail(out, lenBytes, rowBytes);
  }
}
