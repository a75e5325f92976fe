import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

// The twin of assembly/clip.ts. A maximum is exact whatever the order, and Math.max
// propagates NaN as Wasm's f32.max does, so the result is the same number.

/** max |x[i]|, +0 for n = 0, NaN when any x[i] is NaN. */
function absMax(x: Float32Array, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

export const clipKernels = { absMax } satisfies Partial<K>;
