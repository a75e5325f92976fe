import { instantiate } from '@assemblyscript/loader';
import { BackendLoadError } from '../../errors.js';
import type { Storage } from '../storage.js';
import type { RawKernels } from '../raw.js';
import { WasmAllocator } from './allocator.js';
import type { WasmContext, WasmExports } from './context.js';
import { matmulKernels } from './matmul.js';
import { optimKernels } from './optim.js';
import { dropoutKernels } from './dropout.js';
import { proxKernels } from './prox.js';
import { elementwiseKernels } from './elementwise.js';
import { activationKernels } from './activation.js';

/** Where the Wasm binary can come from: a URL or path, its bytes, or a compiled module. */
export type WasmSource = string | URL | ArrayBuffer | ArrayBufferView | WebAssembly.Module;

/** The binary beside the code: build/regula.wasm, three levels above this file (src/ or dist/). */
export function defaultWasmUrl(): URL {
  return new URL('../../../build/regula.wasm', import.meta.url);
}

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)): validates only with SIMD.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** True when this host validates Wasm SIMD (128-bit) code. */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

async function readSource(source: WasmSource | undefined): Promise<ArrayBuffer | ArrayBufferView | WebAssembly.Module> {
  if (source instanceof WebAssembly.Module || source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return source;
  const url = source === undefined ? defaultWasmUrl() : source;
  const where = String(url);
  if (isNode() && (typeof url === 'string' ? !/^https?:/.test(url) : url.protocol === 'file:')) {
    const fsName = 'node:fs/promises';
    const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
    try {
      return await fs.readFile(url);
    } catch (e) {
      throw new BackendLoadError(
        `regula: cannot read the Wasm binary at ${where} (${(e as Error).message}). ` +
        `Build it with \`npm run build\` (npm install does this), pass its bytes to ` +
        `loadBackend('wasm', { wasm: bytes }), or use loadBackend('js').`, { cause: e });
    }
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new BackendLoadError(
      `regula: cannot fetch the Wasm binary from ${where} (${(e as Error).message}). Serve ` +
      `build/regula.wasm next to the bundle (bundlers that understand new URL(..., import.meta.url) ` +
      `do this), or pass { wasm: url | bytes | WebAssembly.Module } to loadBackend.`, { cause: e });
  }
  if (!response.ok) {
    throw new BackendLoadError(
      `regula: fetching the Wasm binary from ${where} gave HTTP ${response.status}. Serve ` +
      `build/regula.wasm at that URL or pass { wasm: url | bytes | WebAssembly.Module } to loadBackend.`);
  }
  return response.arrayBuffer();
}

/** Instantiates regula's Wasm module on a fresh memory and returns its storage. */
export async function loadWasmStorage(source?: WasmSource): Promise<WasmStorage> {
  if (!wasmSimdSupported()) {
    throw new BackendLoadError(
      'regula: this host does not support WebAssembly SIMD, which the wasm backend needs. ' +
      "Use loadBackend('js') (same results, slower) or loadBackend('auto').");
  }
  const bytes = await readSource(source);
  const memory = new WebAssembly.Memory({ initial: 2 });
  let exports: WasmExports;
  try {
    const result = await instantiate<Record<string, unknown>>(bytes as never, { env: { memory } });
    exports = result.exports as unknown as WasmExports;
  } catch (e) {
    throw new BackendLoadError(
      `regula: instantiating the Wasm module failed (${(e as Error).message}). The binary may be ` +
      'stale or from another version: rebuild it with `npm run build`.', { cause: e });
  }
  return new WasmStorage(exports, memory);
}

/** The wasm backend's storage: buffers in Wasm linear memory, handed out by WasmAllocator. */
export class WasmStorage implements Storage<number, number, number> {
  readonly kind = 'wasm' as const;
  readonly raw: RawKernels<number, number, number>;
  readonly alloc: WasmAllocator;
  private readonly slots = new Map<string, { ptr: number; bytes: number }>();

  constructor(readonly exports: WasmExports, readonly memory: WebAssembly.Memory) {
    this.alloc = new WasmAllocator(memory, exports.heapBase());
    const ctx: WasmContext = {
      exports,
      memory,
      alloc: this.alloc,
      scratch: (slot, bytes) => this.scratch(slot, bytes),
    };
    this.raw = {
      ...matmulKernels(ctx),
      ...optimKernels(ctx),
      ...dropoutKernels(ctx),
      ...proxKernels(ctx),
      ...elementwiseKernels(ctx),
      ...activationKernels(ctx),
    };
  }

  private scratch(slot: string, bytes: number): number {
    const have = this.slots.get(slot);
    if (have !== undefined && have.bytes >= bytes) return have.ptr;
    if (have !== undefined) this.alloc.release(have.ptr);
    const size = Math.max(bytes, 64, have === undefined ? 0 : 2 * have.bytes);
    const ptr = this.alloc.alloc(size);
    this.slots.set(slot, { ptr, bytes: size });
    return ptr;
  }

  allocF32(n: number): number {
    if (n === 0) return 0;
    const ptr = this.alloc.alloc(4 * n);
    new Float32Array(this.memory.buffer, ptr, n).fill(0);
    return ptr;
  }
  freeF32(h: number): void { if (h !== 0) this.alloc.release(h); }
  view(h: number, n: number): Float32Array { return new Float32Array(this.memory.buffer, h, n); }
  buffer(): ArrayBufferLike { return this.memory.buffer; }
  allocRng(): number { return this.alloc.alloc(64); }
  freeRng(r: number): void { this.alloc.release(r); }
  rngState(r: number): Uint32Array { return new Uint32Array(this.memory.buffer, r, 16); }
  labels(a: Int32Array): number {
    const ptr = this.scratch('labels', Math.max(4, 4 * a.length));
    new Int32Array(this.memory.buffer, ptr, a.length).set(a);
    return ptr;
  }
  heapBytes(): number { return this.memory.buffer.byteLength; }
  liveBytes(): number {
    let scratch = 0;
    for (const s of this.slots.values()) scratch += WasmAllocator.sizeClass(s.bytes);
    return this.alloc.liveBytes - scratch;
  }
}
