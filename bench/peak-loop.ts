/**
 * The machine's ceiling for what matmul does: f32x4 multiplies and adds (no FMA, as the
 * kernel contract requires), from registers only, with enough independent chains to fill
 * the FP ports. On Zen 3 two multiply and two add pipes take 128-bit ops each cycle: 16
 * FLOP/cycle, 39.2 GFLOP/s at this host's nominal 2.45 GHz. No matmul that keeps the
 * contract's rounding can beat this loop, so the suites report it next to the kernels
 * (it also shows how much of the host the neighbours take during the run).
 *
 * One source, one binary: Node compiles PEAK_SOURCE with asc at bench time (bench/peak.ts),
 * the demo's benchmark page at build time with the same options (vite.config.ts), so the
 * library's binary carries no benchmark code and the browser's ceiling is the same loop as
 * Node's. Browser-safe.
 */
import type { Case } from './harness.js';

export const PEAK_SOURCE = `
export function peak(n: i32, s: f32): f32 {
  const x = f32x4.splat(s), y = f32x4.splat(1.0000001);
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  let c8 = c0, c9 = c0, c10 = c0, c11 = c0;
  for (let i = 0; i < n; i++) {
    c0 = f32x4.add(c0, f32x4.mul(x, y)); c1 = f32x4.add(c1, f32x4.mul(x, c0));
    c2 = f32x4.add(c2, f32x4.mul(x, y)); c3 = f32x4.add(c3, f32x4.mul(x, c2));
    c4 = f32x4.add(c4, f32x4.mul(x, y)); c5 = f32x4.add(c5, f32x4.mul(x, c4));
    c6 = f32x4.add(c6, f32x4.mul(x, y)); c7 = f32x4.add(c7, f32x4.mul(x, c6));
    c8 = f32x4.add(c8, f32x4.mul(x, y)); c9 = f32x4.add(c9, f32x4.mul(x, y));
    c10 = f32x4.add(c10, f32x4.mul(x, y)); c11 = f32x4.add(c11, f32x4.mul(x, y));
  }
  const t = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  const u = f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11));
  return f32x4.extract_lane(f32x4.add(t, u), 0);
}
`;

/** asc's options for PEAK_SOURCE (bench/peak.ts and the page's build both use these). */
export const PEAK_ASC_OPTIONS = { optimizeLevel: 3, runtime: 'stub', enable: ['simd'] } as const;

/** FLOPs of one loop iteration: 12 f32x4 multiplies and 12 adds. */
export const PEAK_FLOP_PER_ITER = 12 * 2 * 4;

/** peak(n, s) runs n iterations of the loop. */
export type Peak = (n: number, s: number) => number;

export async function instantiatePeak(binary: Uint8Array<ArrayBuffer>): Promise<Peak> {
  const module = await WebAssembly.compile(binary);
  const instance = await WebAssembly.instantiate(module, { env: { abort: () => { throw new Error('abort'); } } });
  return instance.exports['peak'] as Peak;
}

/**
 * The ceiling as a harness case: the loop doing `flops` FLOPs (rounded to whole
 * iterations), on the calling thread (one core).
 */
export function peakCase(peak: Peak, flops: number, name = 'f32x4 mul+add peak'): Case {
  const iters = Math.round(flops / PEAK_FLOP_PER_ITER);
  return {
    name, backend: 'ceiling', threads: 1,
    fn: () => peak(iters, 0.5),
    check: () => { if (!Number.isFinite(peak(10, 0.5))) throw new Error('peak loop'); },
  };
}
