import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

/**
 * The L1 proximal step of one float, as assembly/prox.ts's shrink1 (written once here for
 * the js kernels; src/backend/js/optim.ts applies it after a step): a = f32(|x| − t),
 * m = max(a, 0) (NaN stays NaN), then m with x's sign when m > 0, else m (+0).
 */
export function shrink(x: number, t: number): number {
  const m = Math.max(Math.fround(Math.abs(x) - t), 0);
  return m > 0 ? (x < 0 ? -m : m) : m;
}

/** out[i] = sign(x[i])·max(|x[i]| − t, 0), as assembly/prox.ts (t rounded to f32 once). */
function softThreshold(out: Float32Array, x: Float32Array, n: number, t: number): void {
  const tt = Math.fround(t);
  for (let i = 0; i < n; i++) out[i] = shrink(x[i]!, tt);
}

/** The prox kernels of the js backend (same names and order as assembly/prox.ts). */
export const proxKernels = { softThreshold } satisfies Partial<K>;
