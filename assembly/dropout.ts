// dropout kernels: see src/backend/raw.ts for the contract of each export.

/** One xorshift32 step (13, 17, 5) on four lanes. */
// @ts-ignore: decorator
@inline
function xorshift4(s: v128): v128 {
  s = v128.xor(s, i32x4.shl(s, 13));
  s = v128.xor(s, i32x4.shr_u(s, 17));
  return v128.xor(s, i32x4.shl(s, 5));
}

/**
 * Inverted dropout over n floats: out[i] = keep ? f32(x[i]·scale) : +0, mask[i] = keep ? 1 : 0
 * (mask = 0: no mask). The RNG state at `rng` is 16 uint32 xorshift32 lanes (64 bytes, four
 * v128, lane j at byte 4j), stepped in the layout of src/rng.ts: pass b (elements 16b ..
 * 16b+15) steps all 16 lanes once and element 16b + j is dropped when lane j's new state
 * is < threshold (unsigned). A final partial pass (n mod 16 elements) steps all 16 lanes
 * too, so every lane steps ceil(n/16) times; the state is written back. The tail reads and
 * writes only elements < n. out may be x; mask must be neither.
 */
export function dropout(out: usize, x: usize, n: i32, threshold: u32, scale: f32, rng: usize, mask: usize): void {
  let s0 = v128.load(rng);
  let s1 = v128.load(rng, 16);
  let s2 = v128.load(rng, 32);
  let s3 = v128.load(rng, 48);
  const thr = i32x4.splat(threshold);
  const sc = f32x4.splat(scale);
  const one = f32x4.splat(1);
  const end16 = x + ((<usize>n & ~15) << 2);
  if (mask == 0) {
    for (; x < end16; x += 64, out += 64) {
      s0 = xorshift4(s0); s1 = xorshift4(s1); s2 = xorshift4(s2); s3 = xorshift4(s3);
      v128.store(out, v128.andnot(f32x4.mul(v128.load(x), sc), i32x4.lt_u(s0, thr)));
      v128.store(out, v128.andnot(f32x4.mul(v128.load(x, 16), sc), i32x4.lt_u(s1, thr)), 16);
      v128.store(out, v128.andnot(f32x4.mul(v128.load(x, 32), sc), i32x4.lt_u(s2, thr)), 32);
      v128.store(out, v128.andnot(f32x4.mul(v128.load(x, 48), sc), i32x4.lt_u(s3, thr)), 48);
    }
  } else {
    for (; x < end16; x += 64, out += 64, mask += 64) {
      s0 = xorshift4(s0); s1 = xorshift4(s1); s2 = xorshift4(s2); s3 = xorshift4(s3);
      const d0 = i32x4.lt_u(s0, thr), d1 = i32x4.lt_u(s1, thr);
      const d2 = i32x4.lt_u(s2, thr), d3 = i32x4.lt_u(s3, thr);
      v128.store(out, v128.andnot(f32x4.mul(v128.load(x), sc), d0));
      v128.store(out, v128.andnot(f32x4.mul(v128.load(x, 16), sc), d1), 16);
      v128.store(out, v128.andnot(f32x4.mul(v128.load(x, 32), sc), d2), 32);
      v128.store(out, v128.andnot(f32x4.mul(v128.load(x, 48), sc), d3), 48);
      v128.store(mask, v128.andnot(one, d0));
      v128.store(mask, v128.andnot(one, d1), 16);
      v128.store(mask, v128.andnot(one, d2), 32);
      v128.store(mask, v128.andnot(one, d3), 48);
    }
  }
  const rest = n & 15;
  if (rest != 0) {
    s0 = xorshift4(s0); s1 = xorshift4(s1); s2 = xorshift4(s2); s3 = xorshift4(s3);
  }
  v128.store(rng, s0);
  v128.store(rng, s1, 16);
  v128.store(rng, s2, 32);
  v128.store(rng, s3, 48);
  for (let j = 0; j < rest; j++) {
    const o = <usize>j << 2;
    const keep = load<u32>(rng + o) >= threshold;
    store<f32>(out + o, keep ? load<f32>(x + o) * scale : 0);
    if (mask != 0) store<f32>(mask + o, keep ? 1 : 0);
  }
}
