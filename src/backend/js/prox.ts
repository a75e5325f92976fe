import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

/**
 * out[i] = sign(x[i])·max(|x[i]| − t, 0), as assembly/prox.ts: a = f32(|x| − f32(t)),
 * m = max(a, 0) (NaN stays NaN), out = m with x's sign when m > 0, else +0.
 */
function softThreshold(out: Float32Array, x: Float32Array, n: number, t: number): void {
  const tt = Math.fround(t);
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    const a = Math.fround(Math.abs(v) - tt);
    out[i] = a > 0 ? (v < 0 ? -a : a) : a === a ? 0 : a;
  }
}

/** The prox kernels of the js backend (same names and order as assembly/prox.ts). */
export const proxKernels: Pick<K, 'softThreshold'> = { softThreshold };
