import type { RawKernels } from '../raw.js';
import { exp64, log64 } from './mathf.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

const fround = Math.fround;

// The same per-element f32 operations as assembly/elementwise.ts (storing into a
// Float32Array rounds to f32), and the same reduction layout: 8 interleaved f64 partial
// sums combined ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7)), then the n mod 8 tail in order.

function addRowVector(out: Float32Array, x: Float32Array, b: Float32Array, rows: number, cols: number): void {
  for (let i = 0, r = 0; i < rows; i++, r += cols) {
    for (let j = 0; j < cols; j++) out[r + j] = x[r + j]! + b[j]!;
  }
}

function add(out: Float32Array, a: Float32Array, b: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
}

function sub(out: Float32Array, a: Float32Array, b: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
}

function mul(out: Float32Array, a: Float32Array, b: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
}

function scale(out: Float32Array, x: Float32Array, n: number, alpha: number): void {
  const a = fround(alpha);
  for (let i = 0; i < n; i++) out[i] = x[i]! * a;
}

function axpy(y: Float32Array, x: Float32Array, n: number, alpha: number): void {
  const a = fround(alpha);
  for (let i = 0; i < n; i++) y[i] = y[i]! + fround(x[i]! * a);
}

function fill(out: Float32Array, n: number, value: number): void {
  out.fill(fround(value), 0, n);
}

/** max(x, +0) as Wasm's f32 max: Math.max also gives +0 for −0 and NaN for NaN. */
function relu(out: Float32Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = Math.max(x[i]!, 0);
}

function reluBackward(out: Float32Array, g: Float32Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = x[i]! > 0 ? g[i]! : 0;
}

/** out[j] = Σ_i x[i, j] in f32 from +0, rows in order. */
function sumRows(out: Float32Array, x: Float32Array, rows: number, cols: number): void {
  out.fill(0, 0, cols);
  for (let i = 0, r = 0; i < rows; i++, r += cols) {
    for (let j = 0; j < cols; j++) out[j] = out[j]! + x[r + j]!;
  }
}

function sum(x: Float32Array, n: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  const n8 = n & ~7;
  let i = 0;
  for (; i < n8; i += 8) {
    s0 += x[i]!; s1 += x[i + 1]!; s2 += x[i + 2]!; s3 += x[i + 3]!;
    s4 += x[i + 4]!; s5 += x[i + 5]!; s6 += x[i + 6]!; s7 += x[i + 7]!;
  }
  let s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  for (; i < n; i++) s += x[i]!;
  return s;
}

function sumSquares(x: Float32Array, n: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  const n8 = n & ~7;
  let i = 0;
  for (; i < n8; i += 8) {
    const v0 = x[i]!, v1 = x[i + 1]!, v2 = x[i + 2]!, v3 = x[i + 3]!;
    const v4 = x[i + 4]!, v5 = x[i + 5]!, v6 = x[i + 6]!, v7 = x[i + 7]!;
    s0 += v0 * v0; s1 += v1 * v1; s2 += v2 * v2; s3 += v3 * v3;
    s4 += v4 * v4; s5 += v5 * v5; s6 += v6 * v6; s7 += v7 * v7;
  }
  let s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  for (; i < n; i++) s += x[i]! * x[i]!;
  return s;
}

function mse(a: Float32Array, b: Float32Array, n: number): number {
  const s = [0, 0, 0, 0, 0, 0, 0, 0];
  const n8 = n & ~7;
  let i = 0;
  for (; i < n8; i += 8) {
    for (let j = 0; j < 8; j++) {
      const d = a[i + j]! - b[i + j]!;
      s[j]! += d * d;
    }
  }
  let t = ((s[0]! + s[1]!) + (s[2]! + s[3]!)) + ((s[4]! + s[5]!) + (s[6]! + s[7]!));
  for (; i < n; i++) {
    const d = a[i]! - b[i]!;
    t += d * d;
  }
  return t / n;
}

function mseBackward(out: Float32Array, a: Float32Array, b: Float32Array, n: number, alpha: number): void {
  const al = fround(alpha);
  for (let i = 0; i < n; i++) out[i] = fround(a[i]! - b[i]!) * al;
}

/** Row max as Wasm's f32 max (NaN propagates, +0 beats −0); order does not matter. */
function rowMax(x: Float32Array, r: number, cols: number): number {
  let m = x[r]!;
  for (let j = 1; j < cols; j++) m = Math.max(m, x[r + j]!);
  return m;
}

function crossEntropy(logits: Float32Array, labels: Int32Array, rows: number, cols: number, exps: Float32Array | null): number {
  let total = 0;
  for (let i = 0, r = 0; i < rows; i++, r += cols) {
    const m = rowMax(logits, r, cols);
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const e = exp64(logits[r + j]! - m);
      if (exps !== null) exps[r + j] = e;
      s += e;
    }
    total += log64(s) - (logits[r + labels[i]!]! - m);
  }
  return total / rows;
}

function crossEntropyBackwardExps(out: Float32Array, exps: Float32Array, labels: Int32Array, rows: number, cols: number, alpha: number): void {
  const a = fround(alpha);
  for (let i = 0, r = 0; i < rows; i++, r += cols) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += exps[r + j]!;
    const l = r + labels[i]!;
    const el = exps[l]!;
    for (let j = 0; j < cols; j++) out[r + j] = a * (exps[r + j]! / s);
    out[l] = a * (el / s - 1.0);
  }
}

function crossEntropyBackward(out: Float32Array, logits: Float32Array, labels: Int32Array, rows: number, cols: number, alpha: number): void {
  const a = fround(alpha);
  for (let i = 0, r = 0; i < rows; i++, r += cols) {
    const m = rowMax(logits, r, cols);
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const e = fround(exp64(logits[r + j]! - m));
      out[r + j] = e;
      s += e;
    }
    const l = r + labels[i]!;
    const el = out[l]!;
    for (let j = 0; j < cols; j++) out[r + j] = a * (out[r + j]! / s);
    out[l] = a * (el / s - 1.0);
  }
}

/** The elementwise kernels of the js backend (same names and order as assembly/elementwise.ts). */
export const elementwiseKernels = {
  addRowVector, add, sub, mul, scale, axpy, fill, relu, reluBackward, sumRows, sum, sumSquares, mse,
  mseBackward, crossEntropy, crossEntropyBackward, crossEntropyBackwardExps,
} satisfies Partial<K>;
