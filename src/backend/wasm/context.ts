import type { WasmAllocator } from './allocator.js';
import type { ThreadPool } from './threads.js';
import type { KernelName } from '../raw.js';

/**
 * The exports of the binary besides the raw kernels (KERNEL_NAMES): the helpers that family
 * glue calls or runs on the pool by name (a Record, so a name the glue uses is checked).
 */
export const WASM_HELPERS = {
  heapBase: true, matmulKC: true, matmulPackB: true, matmulBlockPacked: true, matmulBatchedScratch: true, layerNormBackwardParams: true,
} as const satisfies Record<string, true>;

/** The name of an export the glue calls: a kernel or a helper. */
export type WasmExportName = KernelName | keyof typeof WASM_HELPERS;

/** The exports of build/regula.wasm: kernels by name, plus `heapBase`. */
export type WasmExports = Record<string, (...args: number[]) => number> & { heapBase(): number };

/** A Wasm export as the glue calls it. */
export type WasmFn = (...args: number[]) => number;

/** What a family's wasm glue (src/backend/wasm/<family>.ts) gets to call its kernels. */
export interface WasmContext {
  readonly exports: WasmExports;
  readonly memory: WebAssembly.Memory;
  readonly alloc: WasmAllocator;
  /**
   * The export `name`. Glue looks up every export it calls when the backend loads, so a
   * binary that lacks one fails loadBackend with a BackendLoadError, never a call.
   */
  fn(name: WasmExportName): WasmFn;
  /**
   * A scratch block of at least `bytes`, owned by `slot` (e.g. 'matmul.packB'), reused
   * across calls and grown on demand. Valid until the next scratch() call for that slot.
   */
  scratch(slot: string, bytes: number): number;
  /**
   * The thread pool (shared-memory binary with workers), or null: single thread. Glue
   * reads it on every call (it becomes null after be.dispose() or when the pool degrades)
   * and splits a call only above the size where that pays: a kernel over a range of rows
   * or elements runs as `pool.run({ fn: pool.fn('<export>'), end, step: chunkSize(end,
   * pool.size, align, min), args, start, len, rerunnable })` (see RangeCall in threads.ts;
   * the export must be in its family's *_THREADED list, which index.ts joins); elementwise.ts shows the pattern.
   */
  pool: ThreadPool | null;
}
