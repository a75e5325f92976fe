import type { RawKernels } from './raw.js';

/**
 * Where a backend keeps its buffers. The facade (`src/backend.ts`) is written once against
 * this and `RawKernels`; the two backends differ only here.
 *
 * Handles: wasm uses byte pointers (numbers) for all three kinds; js uses `Float32Array`,
 * `Uint32Array` (RNG state) and `Int32Array` (labels). The facade never looks inside a
 * handle, so it types them as `any`.
 */
export interface Storage<H, R, I> {
  readonly kind: 'wasm' | 'js';
  readonly raw: RawKernels<H, R, I>;
  /** A zero-filled float32 buffer of n elements (n may be 0). */
  allocF32(n: number): H;
  /** Returns a buffer from allocF32. */
  freeF32(h: H, n: number): void;
  /** A Float32Array view of n elements. For wasm it is valid until memory grows. */
  view(h: H, n: number): Float32Array;
  /** The ArrayBuffer views are made on now, or null when views never go stale (js). */
  buffer(): ArrayBufferLike | null;
  /** A 16-lane RNG state. */
  allocRng(): R;
  freeRng(r: R): void;
  /** A Uint32Array view of an RNG state's 16 lanes (valid until memory grows). */
  rngState(r: R): Uint32Array;
  /** int32 labels placed where the kernels can read them, valid until the next call. */
  labels(a: Int32Array): I;
  /** Size of the backing heap in bytes (Wasm memory size; live bytes for js). */
  heapBytes(): number;
  /** Bytes held by live float32 and RNG buffers. */
  liveBytes(): number;
}
