import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

/**
 * Inverted dropout in the stream layout of src/core/rng.ts, as assembly/dropout.ts: blocks of
 * 16 elements, each block steps all 16 xorshift32 lanes once and element 16b + j uses
 * lane j's new state; a partial last block steps all lanes too. Dropped (draw < threshold,
 * unsigned) gives +0, kept gives f32(x·f32(scale)); mask gets 1 / 0.
 */
function dropout(out: Float32Array, x: Float32Array, n: number, threshold: number, scale: number,
  rng: Uint32Array, mask: Float32Array | null): void {
  const sc = Math.fround(scale);
  const thr = threshold >>> 0;
  const st = new Uint32Array(rng);
  for (let base = 0; base < n; base += 16) {
    const len = Math.min(16, n - base);
    for (let j = 0; j < 16; j++) {
      let s = st[j]!;
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      st[j] = s;
    }
    for (let j = 0; j < len; j++) {
      const i = base + j;
      const keep = st[j]! >= thr;
      out[i] = keep ? x[i]! * sc : 0;
      if (mask !== null) mask[i] = keep ? 1 : 0;
    }
  }
  rng.set(st);
}

/** The dropout kernels of the js backend (same names and order as assembly/dropout.ts). */
export const dropoutKernels = { dropout } satisfies Partial<K>;
