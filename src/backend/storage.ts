import type { F32Handle, LabelsHandle, RawKernels, RngHandle } from './raw.js';
import { OutOfMemoryError } from '../rules/errors.js';

/**
 * @internal A limit on a storage's buffer allocations (float32 buffers of at least one
 * element and RNG states), for tests that need an allocation to fail at a chosen point:
 * both backends check it the same way before they allocate, so a test runs the same failure
 * on wasm and js. Off (both null) unless a test sets it.
 */
export class AllocLimit {
  /** How many more allocations may succeed; the next one after those throws (null: no count). */
  allocations: number | null = null;
  /** The most bytes live buffers may hold, as liveBytes() counts them (null: no bound). */
  bytes: number | null = null;

  /** Throws OutOfMemoryError, changing nothing, when allocating `bytes` more with `live` bytes live breaks the limit; else counts it. */
  check(kind: 'wasm' | 'js', bytes: number, live: number): void {
    if (this.bytes !== null && live + bytes > this.bytes) {
      throw new OutOfMemoryError(bytes, Math.max(0, this.bytes - live), `regula (${kind} backend): out of memory: cannot allocate ${bytes} bytes; ` +
        `${live} bytes are live and the memory limit set for this backend is ${this.bytes} bytes (${Math.max(0, this.bytes - live)} available)`);
    }
    if (this.allocations !== null) {
      if (this.allocations <= 0) {
        throw new OutOfMemoryError(bytes, 0, `regula (${kind} backend): out of memory: cannot allocate ${bytes} bytes; ` +
          `the allocation count limit set for this backend is reached (${live} bytes live, 0 available)`);
      }
      this.allocations--;
    }
  }
}


/** How a storage runs: threads, shared memory, and why it runs on fewer threads than asked for (be.info() adds `kind`). */
export interface StorageInfo {
  /** Threads a kernel call may use, the calling thread included (1: single thread). */
  threads: number;
  /** Whether the heap is a shared WebAssembly.Memory (the regula-mt.wasm binary). */
  sharedMemory: boolean;
  /** Why it runs on fewer threads than asked for (or on one), or null. */
  reason: string | null;
  /** Threads asked for (loadBackend's threads option, or the core count by default). */
  requested: number;
  /** True once a worker thread died or stopped answering and the backend fell back to the calling thread (reason says why). */
  degraded: boolean;
}

/**
 * Where a backend keeps its buffers. The Backend (`src/backend.ts`) is written once against
 * this and `RawKernels`; the two backends differ only here.
 *
 * Handles: wasm uses byte pointers (numbers) for all three kinds; js uses `Float32Array`,
 * `Uint32Array` (RNG state) and `Int32Array` (labels). Above the storage they are the
 * opaque brands of raw.ts (`AnyStorage`).
 */
export interface Storage<H, R, I> {
  readonly kind: 'wasm' | 'js';
  readonly raw: RawKernels<H, R, I>;
  /** @internal a limit on allocations, for tests (AllocLimit). */
  readonly _limit: AllocLimit;
  /**
   * A zero-filled float32 buffer of n elements (n may be 0); with zero = false its contents
   * are unspecified (for a buffer the caller fills at once, saving a pass over memory).
   */
  allocF32(n: number, zero?: boolean): H;
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
  /** Threads, shared memory and why threads are off. */
  info(): StorageInfo;
  /** Stops worker threads, if any (idempotent); kernels keep working on the calling thread. */
  dispose(): void;
}

/** A storage seen from above: handles are opaque brands. */
export type AnyStorage = Storage<F32Handle, RngHandle, LabelsHandle>;

/** Hides a storage's concrete handle types (the one place they are erased). */
export function erase<H, R, I>(s: Storage<H, R, I>): AnyStorage {
  return s as unknown as AnyStorage;
}
