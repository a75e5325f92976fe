// prox kernels: see src/backend/raw.ts for the contract of each export.
//
// The L1 proximal step itself is written once, in ./l1 (shared with assembly/optim.ts).

import { shrink1, shrink4 } from './l1';

/**
 * Soft thresholding, the L1 proximal step: out[i] = sign(x[i])·max(|x[i]| − t, 0) over n
 * floats, t ≥ 0 rounded to f32 on entry, per element as shrink4 / shrink1. out may be x
 * (each element is read before it is written). f32x4 main loop, scalar tail.
 */
export function softThreshold(out: usize, x: usize, n: i32, t: f32): void {
  const tv = f32x4.splat(t);
  const end4 = x + ((<usize>n & ~3) << 2);
  const end = x + (<usize>n << 2);
  for (; x < end4; x += 16, out += 16) v128.store(out, shrink4(v128.load(x), tv));
  for (; x < end; x += 4, out += 4) store<f32>(out, shrink1(load<f32>(x), t));
}
