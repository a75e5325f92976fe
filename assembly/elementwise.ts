// elementwise kernels: see src/backend/raw.ts for the contract of each export.
//
// All kernels: byte pointers to f32 buffers, sizes in elements, scalars rounded to f32 on
// entry; f32x4 main loop over 4 elements, then a scalar tail in order. The js twin
// (src/backend/js/elementwise.ts) does the same f32 operations per element, so the
// results are bit-identical (NaN payloads aside).
//
// Reductions (sum, sumSquares, mse) accumulate in f64 in a fixed layout that SIMD does
// naturally: 8 interleaved partial sums, partial j (0..7) adds elements j, j+8, j+16, …
// of the first 8·floor(n/8) elements, each starting from +0; they are combined as
// ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), then the last n mod 8 elements are
// added in order. f64 keeps losses of millions of terms accurate to ~1e-15 relative;
// every term (x, x², (a − b)²) is formed in f64 from the f32 inputs.
//
// crossEntropy / crossEntropyBackward use exp64 / log64 of ./mathf (one algorithm,
// mirrored in src/backend/js/mathf.ts).

import { exp64, exp64x2, log64 } from './mathf';

/** out[i·cols + j] = x[i·cols + j] + b[j], rows×cols row-major. out may be x (not b). */
export function addRowVector(out: usize, x: usize, b: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  const c4 = (<usize>cols & ~3) << 2;
  for (let i = 0; i < rows; i++) {
    let o: usize = 0;
    for (; o < c4; o += 16) v128.store(out + o, f32x4.add(v128.load(x + o), v128.load(b + o)));
    for (; o < rowBytes; o += 4) store<f32>(out + o, load<f32>(x + o) + load<f32>(b + o));
    out += rowBytes;
    x += rowBytes;
  }
}

/** out = a + b over n floats. out may be a or b. */
export function add(out: usize, a: usize, b: usize, n: i32): void {
  const bytes = <usize>n << 2;
  const b4 = (<usize>n & ~3) << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  for (; o < bytes; o += 4) store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
}

/** out = a − b over n floats. out may be a or b. */
export function sub(out: usize, a: usize, b: usize, n: i32): void {
  const bytes = <usize>n << 2;
  const b4 = (<usize>n & ~3) << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) v128.store(out + o, f32x4.sub(v128.load(a + o), v128.load(b + o)));
  for (; o < bytes; o += 4) store<f32>(out + o, load<f32>(a + o) - load<f32>(b + o));
}

/** out = a · b elementwise over n floats. out may be a or b. */
export function mul(out: usize, a: usize, b: usize, n: i32): void {
  const bytes = <usize>n << 2;
  const b4 = (<usize>n & ~3) << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  for (; o < bytes; o += 4) store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
}

/** out = f32(alpha · x) over n floats. out may be x. */
export function scale(out: usize, x: usize, n: i32, alpha: f32): void {
  const av = f32x4.splat(alpha);
  const bytes = <usize>n << 2;
  const b4 = (<usize>n & ~3) << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) v128.store(out + o, f32x4.mul(v128.load(x + o), av));
  for (; o < bytes; o += 4) store<f32>(out + o, load<f32>(x + o) * alpha);
}

/** y = f32(y + f32(alpha · x)) over n floats (no fused multiply-add). y must not be x. */
export function axpy(y: usize, x: usize, n: i32, alpha: f32): void {
  const av = f32x4.splat(alpha);
  const bytes = <usize>n << 2;
  const b4 = (<usize>n & ~3) << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(v128.load(x + o), av)));
  for (; o < bytes; o += 4) store<f32>(y + o, load<f32>(y + o) + load<f32>(x + o) * alpha);
}

/** out[i] = value (rounded to f32) for i < n. */
export function fill(out: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  const bytes = <usize>n << 2;
  const b4 = (<usize>n & ~3) << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) v128.store(out + o, v);
  for (; o < bytes; o += 4) store<f32>(out + o, value);
}

/**
 * out = max(x, +0) as Wasm's f32 max: −0 gives +0, NaN gives NaN (payload unspecified).
 * out may be x.
 */
export function relu(out: usize, x: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const bytes = <usize>n << 2;
  const b4 = (<usize>n & ~3) << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) v128.store(out + o, f32x4.max(v128.load(x + o), zero));
  for (; o < bytes; o += 4) store<f32>(out + o, max<f32>(load<f32>(x + o), 0));
}

/** out = x > 0 ? g : +0 (NaN x gives +0). out may be g, not x. */
export function reluBackward(out: usize, g: usize, x: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const bytes = <usize>n << 2;
  const b4 = (<usize>n & ~3) << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) v128.store(out + o, v128.and(v128.load(g + o), f32x4.gt(v128.load(x + o), zero)));
  for (; o < bytes; o += 4) store<f32>(out + o, load<f32>(x + o) > 0 ? load<f32>(g + o) : 0);
}

/**
 * out[j] = Σ_i x[i·cols + j] in f32: out[j] starts at +0 and adds rows i = 0..rows−1 in
 * order (s = f32(s + x[i, j])). Rows stream through once, SIMD over j. rows ≥ 1.
 */
export function sumRows(out: usize, x: usize, rows: i32, cols: i32): void {
  fill(out, cols, 0);
  const rowBytes = <usize>cols << 2;
  const c4 = (<usize>cols & ~3) << 2;
  for (let i = 0; i < rows; i++) {
    let o: usize = 0;
    for (; o < c4; o += 16) v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(x + o)));
    for (; o < rowBytes; o += 4) store<f32>(out + o, load<f32>(out + o) + load<f32>(x + o));
    x += rowBytes;
  }
}

/** f32 lanes 2, 3 of v moved to lanes 0, 1 (for promote_low). */
// @ts-ignore: decorator
@inline
function hi2(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 2, 3, 2, 3);
}

/** The 8 partial sums of the reduction layout, combined (see the file comment). */
// @ts-ignore: decorator
@inline
function combine8(a0: v128, a1: v128, a2: v128, a3: v128): f64 {
  return ((f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1)) + (f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1))) +
    ((f64x2.extract_lane(a2, 0) + f64x2.extract_lane(a2, 1)) + (f64x2.extract_lane(a3, 0) + f64x2.extract_lane(a3, 1)));
}

/** Σ x[i] over n floats in f64, in the 8-partial-sum layout of the file comment. */
export function sum(x: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
  const end8 = x + ((<usize>n & ~7) << 2);
  const end = x + (<usize>n << 2);
  for (; x < end8; x += 32) {
    const v0 = v128.load(x), v1 = v128.load(x, 16);
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v0));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(hi2(v0)));
    a2 = f64x2.add(a2, f64x2.promote_low_f32x4(v1));
    a3 = f64x2.add(a3, f64x2.promote_low_f32x4(hi2(v1)));
  }
  let s = combine8(a0, a1, a2, a3);
  for (; x < end; x += 4) s += <f64>load<f32>(x);
  return s;
}

/** Σ x[i]² over n floats in f64 (each square exact in f64), same layout as sum. */
export function sumSquares(x: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
  const end8 = x + ((<usize>n & ~7) << 2);
  const end = x + (<usize>n << 2);
  for (; x < end8; x += 32) {
    const v0 = v128.load(x), v1 = v128.load(x, 16);
    let d = f64x2.promote_low_f32x4(v0);
    a0 = f64x2.add(a0, f64x2.mul(d, d));
    d = f64x2.promote_low_f32x4(hi2(v0));
    a1 = f64x2.add(a1, f64x2.mul(d, d));
    d = f64x2.promote_low_f32x4(v1);
    a2 = f64x2.add(a2, f64x2.mul(d, d));
    d = f64x2.promote_low_f32x4(hi2(v1));
    a3 = f64x2.add(a3, f64x2.mul(d, d));
  }
  let s = combine8(a0, a1, a2, a3);
  for (; x < end; x += 4) {
    const d = <f64>load<f32>(x);
    s += d * d;
  }
  return s;
}

/**
 * mean((a − b)²) over n ≥ 1 floats: terms d = f64(a) − f64(b), d·d in f64, summed in the
 * layout of sum, divided by n in f64.
 */
export function mse(a: usize, b: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
  const bytes = <usize>n << 2;
  const b8 = (<usize>n & ~7) << 2;
  let o: usize = 0;
  for (; o < b8; o += 32) {
    const u0 = v128.load(a + o), u1 = v128.load(a + o, 16);
    const w0 = v128.load(b + o), w1 = v128.load(b + o, 16);
    let d = f64x2.sub(f64x2.promote_low_f32x4(u0), f64x2.promote_low_f32x4(w0));
    a0 = f64x2.add(a0, f64x2.mul(d, d));
    d = f64x2.sub(f64x2.promote_low_f32x4(hi2(u0)), f64x2.promote_low_f32x4(hi2(w0)));
    a1 = f64x2.add(a1, f64x2.mul(d, d));
    d = f64x2.sub(f64x2.promote_low_f32x4(u1), f64x2.promote_low_f32x4(w1));
    a2 = f64x2.add(a2, f64x2.mul(d, d));
    d = f64x2.sub(f64x2.promote_low_f32x4(hi2(u1)), f64x2.promote_low_f32x4(hi2(w1)));
    a3 = f64x2.add(a3, f64x2.mul(d, d));
  }
  let s = combine8(a0, a1, a2, a3);
  for (; o < bytes; o += 4) {
    const d = <f64>load<f32>(a + o) - <f64>load<f32>(b + o);
    s += d * d;
  }
  return s / <f64>n;
}

/** out = f32(alpha · f32(a − b)) over n floats. out may be a or b. */
export function mseBackward(out: usize, a: usize, b: usize, n: i32, alpha: f32): void {
  const av = f32x4.splat(alpha);
  const bytes = <usize>n << 2;
  const b4 = (<usize>n & ~3) << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) v128.store(out + o, f32x4.mul(f32x4.sub(v128.load(a + o), v128.load(b + o)), av));
  for (; o < bytes; o += 4) store<f32>(out + o, (load<f32>(a + o) - load<f32>(b + o)) * alpha);
}

/** max of a row of cols ≥ 1 floats (f32 max: any NaN gives NaN; order does not matter). */
// @ts-ignore: decorator
@inline
function rowMax(row: usize, cols: i32): f32 {
  let m: f32 = load<f32>(row);
  const bytes = <usize>cols << 2;
  const b4 = (<usize>cols & ~3) << 2;
  let o: usize = 0;
  if (b4 != 0) {
    let mv = v128.load(row);
    for (o = 16; o < b4; o += 16) mv = f32x4.max(mv, v128.load(row + o));
    m = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
      max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  }
  for (; o < bytes; o += 4) m = max<f32>(m, load<f32>(row + o));
  return m;
}

/**
 * Mean softmax cross-entropy of logits (rows ≥ 1 × cols, row-major) against int32 labels
 * in [0, cols) at `labels`. Per row, in f64: m = max of the row; s = Σ_j exp64(x_j − m),
 * j in order; loss = log64(s) − (x_label − m). Rows are summed in order, then divided by
 * rows. Finite for any finite logits (x − m ≤ 0, s ≥ 1). exps ≠ 0: also stores
 * f32(exp64(x_j − m)) at the same place of exps (rows×cols, not logits) for
 * crossEntropyBackwardExps; the loss is the same.
 */
export function crossEntropy(logits: usize, labels: usize, rows: i32, cols: i32, exps: usize): f64 {
  const rowBytes = <usize>cols << 2;
  let total: f64 = 0;
  let row = logits;
  for (let i = 0; i < rows; i++, row += rowBytes) {
    const m = <f64>rowMax(row, cols);
    const mv = f64x2.splat(m);
    let s: f64 = 0;
    let o: usize = 0;
    // Two exps at a time (exp64x2, the same bits as exp64), summed in j order.
    for (; o + 8 <= rowBytes; o += 8) {
      const x = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(row + o)), mv);
      const e = exp64x2(x);
      s += f64x2.extract_lane(e, 0);
      s += f64x2.extract_lane(e, 1);
      if (exps != 0) v128.store64_lane(exps + <usize>(row - logits) + o, f32x4.demote_f64x2_zero(e), 0);
    }
    for (; o < rowBytes; o += 4) {
      const e = exp64(<f64>load<f32>(row + o) - m);
      if (exps != 0) store<f32>(exps + <usize>(row - logits) + o, <f32>e);
      s += e;
    }
    const label = <usize>load<i32>(labels + (<usize>i << 2));
    total += log64(s) - (<f64>load<f32>(row + (label << 2)) - m);
  }
  return total / <f64>rows;
}

/**
 * crossEntropyBackward from the exps crossEntropy stored (e_j = f32(exp64(x_j − m))): per
 * row s = Σ_j e_j in f64, j in order; out_j = f32(alpha·(e_j / s)) and, for the label,
 * f32(alpha·(e_j / s − 1)), in f64: crossEntropyBackward's arithmetic after its exps, so
 * the same bits. out may be exps (the label's e is read before the row is overwritten).
 */
export function crossEntropyBackwardExps(out: usize, exps: usize, labels: usize, rows: i32, cols: i32, alpha: f32): void {
  const rowBytes = <usize>cols << 2;
  const a = <f64>alpha;
  const av = f64x2.splat(a);
  for (let i = 0; i < rows; i++, exps += rowBytes, out += rowBytes) {
    let s: f64 = 0;
    for (let o: usize = 0; o < rowBytes; o += 4) s += <f64>load<f32>(exps + o);
    const lo = <usize>load<i32>(labels + (<usize>i << 2)) << 2;
    const el = <f64>load<f32>(exps + lo);
    const sv = f64x2.splat(s);
    let o: usize = 0;
    for (; o + 8 <= rowBytes; o += 8) {
      const e = f64x2.promote_low_f32x4(v128.load64_zero(exps + o));
      v128.store64_lane(out + o, f32x4.demote_f64x2_zero(f64x2.mul(av, f64x2.div(e, sv))), 0);
    }
    for (; o < rowBytes; o += 4) store<f32>(out + o, <f32>(a * (<f64>load<f32>(exps + o) / s)));
    store<f32>(out + lo, <f32>(a * (el / s - 1.0)));
  }
}

/**
 * out = alpha·(softmax(logits) − onehot(labels)), rows ≥ 1 × cols. Per row: m = row max;
 * e_j = f32(exp64(x_j − m)) (stored in out), s = Σ_j e_j in f64, j in order; then
 * out_j = f32(alpha·(e_j / s)) and, for the label, f32(alpha·(e_j / s − 1)), in f64.
 * out may be logits (each row's max is taken before the row is overwritten).
 */
export function crossEntropyBackward(out: usize, logits: usize, labels: usize, rows: i32, cols: i32, alpha: f32): void {
  const rowBytes = <usize>cols << 2;
  const a = <f64>alpha;
  for (let i = 0; i < rows; i++, logits += rowBytes, out += rowBytes) {
    const m = <f64>rowMax(logits, cols);
    const mv = f64x2.splat(m);
    let s: f64 = 0;
    let o: usize = 0;
    // Two exps at a time (exp64x2, the same bits as exp64); each rounded to f32 (stored),
    // then summed in j order.
    for (; o + 8 <= rowBytes; o += 8) {
      const x = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(logits + o)), mv);
      const e32 = f32x4.demote_f64x2_zero(exp64x2(x));
      v128.store64_lane(out + o, e32, 0);
      s += <f64>f32x4.extract_lane(e32, 0);
      s += <f64>f32x4.extract_lane(e32, 1);
    }
    for (; o < rowBytes; o += 4) {
      const e = <f32>exp64(<f64>load<f32>(logits + o) - m);
      store<f32>(out + o, e);
      s += <f64>e;
    }
    const lo = <usize>load<i32>(labels + (<usize>i << 2)) << 2;
    const el = <f64>load<f32>(out + lo);
    const av = f64x2.splat(a), sv = f64x2.splat(s);
    for (o = 0; o + 8 <= rowBytes; o += 8) {
      const e = f64x2.promote_low_f32x4(v128.load64_zero(out + o));
      v128.store64_lane(out + o, f32x4.demote_f64x2_zero(f64x2.mul(av, f64x2.div(e, sv))), 0);
    }
    for (; o < rowBytes; o += 4) store<f32>(out + o, <f32>(a * (<f64>load<f32>(out + o) / s)));
    store<f32>(out + lo, <f32>(a * (el / s - 1.0)));
  }
}
