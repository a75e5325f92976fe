// Test-only exports, compiled into build/regula-testing.wasm (asconfig target "testing"),
// never into the shipped binaries: the kernels' exp and log (assembly/mathf.ts) over
// buffers, so the tests can compare them with their js twins bit for bit.

import { exp64, exp64x2, log64 } from './mathf';

/** First byte after the module's static data: the tests place their buffers from here. */
export function heapBase(): usize {
  return __heap_base;
}

/** out[i] = f32(exp64(x[i])) (the kernels' exp). out may be x. */
export function vexp(out: usize, x: usize, n: i32): void {
  const bytes = <usize>n << 2;
  let o: usize = 0;
  // Pairs through exp64x2 (the tests compare this against the js exp64 over a million
  // inputs, specials included, so they check exp64x2 too).
  for (; o + 8 <= bytes; o += 8) {
    const v = f64x2.promote_low_f32x4(v128.load64_zero(x + o));
    v128.store64_lane(out + o, f32x4.demote_f64x2_zero(exp64x2(v)), 0);
  }
  for (; o < bytes; o += 4) store<f32>(out + o, <f32>exp64(<f64>load<f32>(x + o)));
}

/** out[i] = f32(log64(x[i])) (the kernels' log). out may be x. */
export function vlog(out: usize, x: usize, n: i32): void {
  const bytes = <usize>n << 2;
  for (let o: usize = 0; o < bytes; o += 4) store<f32>(out + o, <f32>log64(<f64>load<f32>(x + o)));
}
