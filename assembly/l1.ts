// The L1 proximal step (soft thresholding), written once for the kernels that apply it:
// softThreshold (assembly/prox.ts) and the optimizer steps' l1 (assembly/optim.ts). Not
// re-exported by index.ts: these are inline helpers, not Wasm exports. The js twin is
// `shrink` in src/backend/js/prox.ts.

const SIGN: i32 = 0x80000000;

/**
 * S_t on 4 lanes: a = |x| − t, m = max(a, 0), then m with x's sign bit where m > 0, else m
 * (+0): every |x| ≤ t gives an exact +0 (−0 in too), NaN in gives a NaN out.
 */
// @ts-ignore: decorator
@inline export function shrink4(x: v128, tv: v128): v128 {
  const zero = f32x4.splat(0);
  const m = f32x4.max(f32x4.sub(f32x4.abs(x), tv), zero);
  return v128.or(m, v128.and(v128.and(x, i32x4.splat(SIGN)), f32x4.gt(m, zero)));
}

/** The scalar twin of shrink4. */
// @ts-ignore: decorator
@inline export function shrink1(x: f32, t: f32): f32 {
  const m = max<f32>(abs<f32>(x) - t, 0);
  return m > 0 ? copysign<f32>(m, x) : m;
}

