/**
 * Float64 references for gradient tests: central differences, MSE, LayerNorm and nanoGPT's
 * attention (with dropout at a fixed mask), and the check of a gradient against them.
 */
import { expect } from 'vitest';
import type { Tensor } from '../src/index.js';

/** Central differences of f at x (float64), entry by entry. */
export function fd(x: Float64Array, f: (x: Float64Array) => number, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    x[i] = v + h; const a = f(x);
    x[i] = v - h; const b = f(x);
    x[i] = v;
    g[i] = (a - b) / (2 * h);
  }
  return g;
}

export function mse64(y: Float64Array, target: Float32Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i]! - target[i]!) ** 2;
  return s / y.length;
}

export function expectGrad(got: Tensor | null, want: Float64Array, what: string, tol = 1e-4): void {
  expect(got, `${what}: a gradient`).not.toBeNull();
  const d = got!.data;
  let diff = 0, scale = 0;
  for (let i = 0; i < want.length; i++) { diff = Math.max(diff, Math.abs(d[i]! - want[i]!)); scale = Math.max(scale, Math.abs(want[i]!)); }
  expect(scale, `${what}: a gradient that is not all zero`).toBeGreaterThan(0);
  expect(diff, `${what} (largest ${scale})`).toBeLessThanOrEqual(tol * scale);
}

export function layerNorm64(x: Float64Array, rows: number, cols: number, w: Float64Array, b: Float64Array): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let mu = 0; for (let j = 0; j < cols; j++) mu += x[i * cols + j]!; mu /= cols;
    let v = 0; for (let j = 0; j < cols; j++) v += (x[i * cols + j]! - mu) ** 2; v /= cols;
    const r = 1 / Math.sqrt(v + 1e-5);
    for (let j = 0; j < cols; j++) y[i * cols + j] = (x[i * cols + j]! - mu) * r * w[j]! + b[j]!;
  }
  return y;
}

/**
 * nanoGPT's attention core in float64: qkv [B·T, 3C] → y [B·T, C]; with `drop`, dropout on
 * the probabilities at a fixed mask ([B·H, T, T], 1 kept / 0 dropped): P ⊙ mask / (1 − p).
 */
export function attention64(qkv: Float64Array, B: number, T: number, H: number, C: number,
  drop: { mask: Float32Array; p: number } | null = null): Float64Array {
  const hs = C / H, y = new Float64Array(B * T * C), sc = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
    const row = (s: number) => (b * T + s) * 3 * C;
    const att = new Float64Array(t + 1);
    let m = -Infinity;
    for (let s = 0; s <= t; s++) {
      let d = 0;
      for (let e = 0; e < hs; e++) d += qkv[row(t) + h * hs + e]! * qkv[row(s) + C + h * hs + e]!;
      att[s] = d * sc; m = Math.max(m, att[s]!);
    }
    let z = 0;
    for (let s = 0; s <= t; s++) z += (att[s] = Math.exp(att[s]! - m));
    for (let e = 0; e < hs; e++) {
      let acc = 0;
      for (let s = 0; s <= t; s++) {
        const keep = drop === null ? 1 : drop.mask[((b * H + h) * T + t) * T + s]! / (1 - drop.p);
        acc += (att[s]! / z) * keep * qkv[row(s) + 2 * C + h * hs + e]!;
      }
      y[(b * T + t) * C + h * hs + e] = acc;
    }
  }
  return y;
}
