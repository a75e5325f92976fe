// LayerNorm forward and backward over rows (torch.nn.functional.layer_norm over the last
// dimension). Contracts: src/backend/raw.ts. Statistics and per-element arithmetic run in
// f64 and round to f32 once per stored value; sums use absSum's four-lane layout in f64
// (lane j adds element 4q + j; (s0 + s1) + (s2 + s3); then the tail in order), so the js
// twin (src/backend/js/layernorm.ts) gets the same bits.

import { sum4 } from './sums';

/** Σ (p[j] − c)², j < n, in f64 with the four-lane layout. */
// @ts-ignore: decorator
@inline function sumSqDev4(p: usize, n: i32, c: f64): f64 {
  const cv = f64x2.splat(c);
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const b4 = (<usize>n & ~3) << 2;
  const bytes = <usize>n << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) {
    const d0 = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(p + o)), cv);
    const d1 = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(p + o + 8)), cv);
    a = f64x2.add(a, f64x2.mul(d0, d0));
    b = f64x2.add(b, f64x2.mul(d1, d1));
  }
  let s = (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
  for (; o < bytes; o += 4) {
    const d = <f64>load<f32>(p + o) - c;
    s += d * d;
  }
  return s;
}

/**
 * LayerNorm forward over `rows` rows of `cols`: per row μ = Σx/cols, σ² = Σ(x − μ)²/cols,
 * r = 1/√(σ² + eps) (f64); out_j = f32(((x_j − μ)·r)·w_j + b_j), without ·w_j when
 * weight = 0 and without + b_j when bias = 0; mean[i] = f32(μ), rstd[i] = f32(r).
 * out may be x.
 */
export function layerNorm(out: usize, x: usize, weight: usize, bias: usize, mean: usize, rstd: usize,
  rows: i32, cols: i32, eps: f64): void {
  const rowBytes = <usize>cols << 2;
  const b2 = (<usize>cols & ~1) << 2;
  const c = <f64>cols;
  for (let i = 0; i < rows; i++, x += rowBytes, out += rowBytes) {
    const mu = sum4(x, cols) / c;
    const r = 1.0 / Math.sqrt(sumSqDev4(x, cols, mu) / c + eps);
    store<f32>(mean + (<usize>i << 2), <f32>mu);
    store<f32>(rstd + (<usize>i << 2), <f32>r);
    const mv = f64x2.splat(mu), rv = f64x2.splat(r);
    let o: usize = 0;
    for (; o < b2; o += 8) {
      let y = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(x + o)), mv), rv);
      if (weight != 0) y = f64x2.mul(y, f64x2.promote_low_f32x4(v128.load64_zero(weight + o)));
      if (bias != 0) y = f64x2.add(y, f64x2.promote_low_f32x4(v128.load64_zero(bias + o)));
      v128.store64_lane(out + o, f32x4.demote_f64x2_zero(y), 0);
    }
    for (; o < rowBytes; o += 4) {
      let y = (<f64>load<f32>(x + o) - mu) * r;
      if (weight != 0) y = y * <f64>load<f32>(weight + o);
      if (bias != 0) y = y + <f64>load<f32>(bias + o);
      store<f32>(out + o, <f32>y);
    }
  }
}

/**
 * LayerNorm backward from the forward's mean and rstd (f32, promoted to f64: μ, r). Per row,
 * in f64: x̂_j = (x_j − μ)·r, gw_j = g_j·w_j (g_j without weight); a = Σ gw_j, b = Σ gw_j·x̂_j
 * (four-lane layout); dx_j = f32(((gw_j − a/cols) − x̂_j·(b/cols))·r). Rows in order 0..rows−1
 * add into dweight_j = f32(dweight_j + g_j·x̂_j) and dbias_j = f32(dbias_j + g_j) (each
 * skipped when its pointer is 0). dx must not alias g, x, dweight or dbias.
 */
export function layerNormBackward(dx: usize, g: usize, x: usize, weight: usize, mean: usize, rstd: usize,
  dweight: usize, dbias: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  const b2 = (<usize>cols & ~1) << 2;
  const b4 = (<usize>cols & ~3) << 2;
  const c = <f64>cols;
  for (let i = 0; i < rows; i++, x += rowBytes, g += rowBytes, dx += rowBytes) {
    const mu = <f64>load<f32>(mean + (<usize>i << 2));
    const r = <f64>load<f32>(rstd + (<usize>i << 2));
    const mv = f64x2.splat(mu), rv = f64x2.splat(r);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), q0 = f64x2.splat(0), q1 = f64x2.splat(0);
    let o: usize = 0;
    for (; o < b4; o += 16) {
      const h0 = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(x + o)), mv), rv);
      const h1 = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(x + o + 8)), mv), rv);
      let w0 = f64x2.promote_low_f32x4(v128.load64_zero(g + o));
      let w1 = f64x2.promote_low_f32x4(v128.load64_zero(g + o + 8));
      if (weight != 0) {
        w0 = f64x2.mul(w0, f64x2.promote_low_f32x4(v128.load64_zero(weight + o)));
        w1 = f64x2.mul(w1, f64x2.promote_low_f32x4(v128.load64_zero(weight + o + 8)));
      }
      a0 = f64x2.add(a0, w0); a1 = f64x2.add(a1, w1);
      q0 = f64x2.add(q0, f64x2.mul(w0, h0)); q1 = f64x2.add(q1, f64x2.mul(w1, h1));
    }
    let sa = (f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1)) + (f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1));
    let sb = (f64x2.extract_lane(q0, 0) + f64x2.extract_lane(q0, 1)) + (f64x2.extract_lane(q1, 0) + f64x2.extract_lane(q1, 1));
    for (; o < rowBytes; o += 4) {
      const h = (<f64>load<f32>(x + o) - mu) * r;
      let w = <f64>load<f32>(g + o);
      if (weight != 0) w = w * <f64>load<f32>(weight + o);
      sa += w;
      sb += w * h;
    }
    const ma = sa / c, mb = sb / c;
    const mav = f64x2.splat(ma), mbv = f64x2.splat(mb);
    o = 0;
    for (; o < b2; o += 8) {
      const h = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(x + o)), mv), rv);
      const gv = f64x2.promote_low_f32x4(v128.load64_zero(g + o));
      let w = gv;
      if (weight != 0) w = f64x2.mul(w, f64x2.promote_low_f32x4(v128.load64_zero(weight + o)));
      const d = f64x2.mul(f64x2.sub(f64x2.sub(w, mav), f64x2.mul(h, mbv)), rv);
      v128.store64_lane(dx + o, f32x4.demote_f64x2_zero(d), 0);
      if (dweight != 0) {
        const acc = f64x2.add(f64x2.promote_low_f32x4(v128.load64_zero(dweight + o)), f64x2.mul(gv, h));
        v128.store64_lane(dweight + o, f32x4.demote_f64x2_zero(acc), 0);
      }
      if (dbias != 0) {
        v128.store64_lane(dbias + o, f32x4.add(v128.load64_zero(dbias + o), v128.load64_zero(g + o)), 0);
      }
    }
    for (; o < rowBytes; o += 4) {
      const h = (<f64>load<f32>(x + o) - mu) * r;
      const gs = load<f32>(g + o);
      let w = <f64>gs;
      if (weight != 0) w = w * <f64>load<f32>(weight + o);
      store<f32>(dx + o, <f32>(((w - ma) - h * mb) * r));
      if (dweight != 0) store<f32>(dweight + o, <f32>(<f64>load<f32>(dweight + o) + <f64>gs * h));
      if (dbias != 0) store<f32>(dbias + o, load<f32>(dbias + o) + gs);
    }
  }
}

/**
 * The parameter part of layerNormBackward for columns c0..c1−1 only: rows in order
 * 0..rows−1 add into dweight_j = f32(dweight_j + g_j·x̂_j) and dbias_j = f32(dbias_j + g_j)
 * (each skipped when its pointer is 0), with x̂_j = (x_j − μ)·r in f64 as there. Every
 * (j, row) term is the same f64 or f32 arithmetic as layerNormBackward's (a lane of an f64x2
 * or f32x4 operation rounds as the scalar operation does) in the same row order, so the
 * same bits. The thread pool (src/backend/wasm/layernorm.ts) runs layerNormBackward on row
 * ranges without dweight and dbias (dx only) and this on column ranges: the two read the
 * same inputs and write disjoint outputs.
 */
export function layerNormBackwardParams(g: usize, x: usize, mean: usize, rstd: usize, dweight: usize, dbias: usize,
  rows: i32, cols: i32, c0: i32, c1: i32): void {
  const rowBytes = <usize>cols << 2;
  const o0 = <usize>c0 << 2, o1 = <usize>c1 << 2;
  const o2 = o0 + (<usize>(c1 - c0) & ~1) * 4;
  for (let i = 0; i < rows; i++, x += rowBytes, g += rowBytes) {
    const mu = <f64>load<f32>(mean + (<usize>i << 2));
    const r = <f64>load<f32>(rstd + (<usize>i << 2));
    const mv = f64x2.splat(mu), rv = f64x2.splat(r);
    let o = o0;
    for (; o < o2; o += 8) {
      if (dweight != 0) {
        const h = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(x + o)), mv), rv);
        const gv = f64x2.promote_low_f32x4(v128.load64_zero(g + o));
        const acc = f64x2.add(f64x2.promote_low_f32x4(v128.load64_zero(dweight + o)), f64x2.mul(gv, h));
        v128.store64_lane(dweight + o, f32x4.demote_f64x2_zero(acc), 0);
      }
      if (dbias != 0) {
        v128.store64_lane(dbias + o, f32x4.add(v128.load64_zero(dbias + o), v128.load64_zero(g + o)), 0);
      }
    }
    for (; o < o1; o += 4) {
      const gs = load<f32>(g + o);
      if (dweight != 0) {
        const h = (<f64>load<f32>(x + o) - mu) * r;
        store<f32>(dweight + o, <f32>(<f64>load<f32>(dweight + o) + <f64>gs * h));
      }
      if (dbias != 0) store<f32>(dbias + o, load<f32>(dbias + o) + gs);
    }
  }
}
