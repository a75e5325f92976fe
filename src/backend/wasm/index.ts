import { BackendLoadError, describe } from '../../rules/errors.js';
import { AllocLimit, type Storage, type StorageInfo } from '../storage.js';
import type { RawKernels } from '../raw.js';
import { WasmAllocator } from './allocator.js';
import type { WasmContext, WasmExports, WasmFn } from './context.js';
import { MATMUL_THREADED, matmulKernels } from './matmul.js';
import { OPTIM_THREADED, optimKernels } from './optim.js';
import { dropoutKernels } from './dropout.js';
import { proxKernels } from './prox.js';
import { linearKernels } from './linear.js';
import { ELEMENTWISE_THREADED, elementwiseKernels } from './elementwise.js';
import { LAYERNORM_THREADED, layernormKernels } from './layernorm.js';
import { SOFTMAX_THREADED, softmaxKernels } from './softmax.js';
import { embeddingKernels } from './embedding.js';
import { ThreadPool } from './threads.js';
import { sharedMemoryVariant } from './binary.js';
import { availableCores, nodeBuiltin, threadsUnavailableReason, type WorkerSource } from './host.js';
import { decodeBase64 } from '../../data/index.js';
import { WASM_BASE64 } from './embedded.generated.js';

/** The exports the thread pool may run in its workers (each family's glue cuts their calls into parts). */
const THREADED: readonly string[] = [...MATMUL_THREADED, ...ELEMENTWISE_THREADED, ...OPTIM_THREADED, ...SOFTMAX_THREADED, ...LAYERNORM_THREADED];

/** Upper bound of the pool size (threads, caller included). */
const MAX_THREADS = 64;


/** Options of the wasm loader (see loadBackend). */
export interface WasmLoadOptions {
  /** The single-thread binary (default: the one built into the package). */
  wasm?: WasmSource;
  /** The shared-memory binary (default: the one built into the package). */
  wasmThreads?: WasmSource;
  /** Threads per kernel call, caller included: an integer ≥ 1; default the available cores. */
  threads?: number;
  /** URL of the worker module, regula/worker.js (default: the worker built into the package, run from a blob: URL). */
  workerUrl?: WorkerSource;
}

/**
 * Where the Wasm binary can come from: a URL or path, its bytes, a compiled module, or an
 * instantiation result `{ module, instance }` as `WebAssembly.instantiate(bytes)` and
 * `@assemblyscript/loader`'s `instantiate` return it. Of a result regula takes the module and
 * instantiates it on its own memory (its allocator owns that memory, and its worker threads
 * need the module): the given instance is not used.
 */
export type WasmSource = string | URL | ArrayBuffer | ArrayBufferView | WebAssembly.Module | { readonly module: WebAssembly.Module };

/** A WasmSource that is an instantiation result ({ module, instance }). */
function isInstantiated(s: object): s is { readonly module: WebAssembly.Module } {
  return 'module' in s && s.module instanceof WebAssembly.Module;
}

/** Throws the TypeError for an option `name` that is not a WasmSource (before anything loads). */
function checkSource(s: unknown, name: string): void {
  if (s === undefined || typeof s === 'string' || s instanceof URL || s instanceof WebAssembly.Module ||
    s instanceof ArrayBuffer || ArrayBuffer.isView(s) || (typeof s === 'object' && s !== null && isInstantiated(s))) return;
  const what = s instanceof WebAssembly.Instance
    ? 'a WebAssembly.Instance (regula instantiates the binary on its own memory: pass the module, or the whole { module, instance } result)'
    : describe(s);
  throw new TypeError(`loadBackend: expected { ${name} } as a URL or path, bytes (an ArrayBuffer or typed array), a WebAssembly.Module ` +
    `or an instantiation result { module, instance }, got ${what}`);
}

/** How an option's binary is named in messages: `{ wasm: "…" }`. */
function givenAs(name: string, s: WasmSource): string {
  return `{ ${name}: ${typeof s === 'object' && isInstantiated(s) ? '{ module, instance }' : JSON.stringify(String(s))} }`;
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

/**
 * A binary built into the package (scripts/embed.mjs): the default, so loading needs no
 * fetch, no file beside the bundle and no bundler support (the README's "Installing" says
 * what that costs). One binary is built in; the shared-memory one is derived from it
 * (src/backend/wasm/binary.ts).
 */
function embeddedBinary(threads: boolean): Uint8Array {
  const st = decodeBase64(WASM_BASE64);
  if (!threads) return st;
  try {
    return sharedMemoryVariant(st);
  } catch (e) {
    throw badBinary(null, `has ${(e as Error).message}`, e);
  }
}

const FILES_HINT = "the package's own files are `regula/regula.wasm` and `regula/regula-mt.wasm` " +
  '(node_modules/regula/build/); or leave the option out to use the binaries built into regula';

async function readSource(source: WasmSource | undefined, threads: boolean): Promise<ArrayBuffer | ArrayBufferView | WebAssembly.Module> {
  if (source === undefined) return embeddedBinary(threads);
  if (source instanceof WebAssembly.Module || source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return source;
  if (typeof source === 'object' && isInstantiated(source)) return source.module;
  const url = source;
  const given = givenAs(threads ? 'wasmThreads' : 'wasm', url);
  const fs = nodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises');
  if (fs !== null && (typeof url === 'string' ? !/^(https?|data|blob):/.test(url) : url.protocol === 'file:')) {
    try {
      return await fs.readFile(url);
    } catch (e) {
      throw new BackendLoadError(`regula: cannot read the Wasm binary given as ${given} (${(e as Error).message}). ` +
        `Pass the path of an existing file (${FILES_HINT}).`, { cause: e });
    }
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new BackendLoadError(`regula: cannot fetch the Wasm binary given as ${given} (${(e as Error).message}). ` +
      `Serve the file at that URL (${FILES_HINT}).`, { cause: e });
  }
  if (!response.ok) {
    throw new BackendLoadError(`regula: fetching the Wasm binary given as ${given} gave HTTP ${response.status}. ` +
      `Serve the file at that URL (${FILES_HINT}).`);
  }
  return response.arrayBuffer();
}

/**
 * Compiles and instantiates a binary on `memory`. regula's binaries import nothing but the
 * memory (AssemblyScript's stub runtime, asserts off), so plain WebAssembly does it: no loader.
 * `given`: the option the binary came from, or null for the built-in one.
 */
async function instantiate(source: ArrayBuffer | ArrayBufferView | WebAssembly.Module, memory: WebAssembly.Memory,
  given: string | null): Promise<{ module: WebAssembly.Module; exports: WasmExports }> {
  try {
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source as BufferSource);
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    return { module, exports: instance.exports as unknown as WasmExports };
  } catch (e) {
    throw badBinary(given, `failed to instantiate (${(e as Error).message})`, e);
  }
}

/**
 * The one error for a binary that cannot serve (it fails to instantiate, or lacks an export
 * the glue calls): the built-in one is a bug in regula's build, not something a user can fix;
 * one given as { wasm } / { wasmThreads } is not this version's. `given` as in instantiate().
 */
function badBinary(given: string | null, problem: string, cause?: unknown): BackendLoadError {
  return new BackendLoadError(given === null
    ? `regula: its built-in Wasm binary ${problem}. This is a bug in regula: please report it with this message ` +
      "(in a clone of the repository, `npm run build` rebuilds the binaries). loadBackend('js') gives the same results meanwhile."
    : `regula: the Wasm binary given as ${given} ${problem}. It must be the binary of this regula version (${FILES_HINT}).`,
  cause === undefined ? undefined : { cause });
}

/**
 * A shared memory for regula-mt.wasm (declared maximum 4 GiB). A shared memory reserves
 * its maximum up front, which a 32-bit or memory-tight browser may refuse: then 1 GiB,
 * then 256 MiB.
 */
function sharedMemory(): WebAssembly.Memory {
  for (const maximum of [65536, 16384]) {
    try { return new WebAssembly.Memory({ initial: 2, maximum, shared: true }); } catch { /* try a smaller reservation */ }
  }
  return new WebAssembly.Memory({ initial: 2, maximum: 4096, shared: true });
}

function checkThreads(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`loadBackend: expected threads as an integer ≥ 1, got ${typeof v === 'number' ? v : typeof v}`);
  }
  return v;
}

/**
 * Instantiates regula's Wasm module and returns its storage. With more than one thread
 * (default: the available cores) and SharedArrayBuffer available, that is the shared-memory
 * binary on a shared memory with a pool of workers; otherwise the single-thread binary,
 * and `info().reason` says why.
 */
export async function loadWasmStorage(source?: WasmSource | WasmLoadOptions): Promise<WasmStorage> {
  if (!wasmSimdSupported()) {
    throw new BackendLoadError(
      'regula: this host does not support WebAssembly SIMD, which the wasm backend needs. ' +
      "Use loadBackend('js') (same results, slower) or loadBackend('auto').");
  }
  const o: WasmLoadOptions = source !== undefined && typeof source === 'object' && !(source instanceof URL) &&
    !(source instanceof WebAssembly.Module) && !(source instanceof ArrayBuffer) && !ArrayBuffer.isView(source) && !isInstantiated(source)
    ? source : { wasm: source as WasmSource | undefined };
  checkSource(o.wasm, 'wasm');
  checkSource(o.wasmThreads, 'wasmThreads');
  const asked = checkThreads(o.threads);
  const requested = Math.min(MAX_THREADS, asked ?? await availableCores());
  let reason: string | null = null;
  if (requested > 1) {
    reason = threadsUnavailableReason();
    if (reason === null && o.wasm !== undefined && o.wasmThreads === undefined) {
      reason = 'a single-thread binary was given ({ wasm }) without the shared-memory one: pass { wasmThreads } too ' +
        '(the file regula/regula-mt.wasm) to run on threads, or leave both out to use the built-in binaries';
    }
    if (reason === null) {
      const memory = sharedMemory();
      const given = o.wasmThreads === undefined ? null : givenAs('wasmThreads', o.wasmThreads);
      const { module, exports } = await instantiate(await readSource(o.wasmThreads, true), memory, given);
      const storage = new WasmStorage(exports, memory, { threads: 1, sharedMemory: true, reason: null, requested, degraded: false }, given);
      try {
        // A scratch slot: not counted as live tensor memory, and never re-requested, so it never moves.
        const ctrl = storage._scratch('threads.ctrl', ThreadPool.ctrlBytes(requested - 1));
        const fns = THREADED.map((n) => wasmExport(exports, n, given));
        const pool = await ThreadPool.create(module, memory, ctrl, requested - 1, THREADED, fns, o.workerUrl);
        storage._setPool(pool);
      } catch (e) {
        storage._info.reason = `the worker threads did not start (${(e as Error).message}); running on one thread. ` +
          (o.workerUrl === undefined
            ? 'A Content-Security-Policy without blob: in worker-src blocks the built-in worker: serve regula/worker.js and pass its URL as { workerUrl }'
            : 'Check that { workerUrl } points to regula/worker.js of this version, served as JavaScript');
      }
      return storage;
    }
  } else {
    reason = asked === 1 ? 'threads: 1 was asked for' : 'this host reports one core';
  }
  const memory = new WebAssembly.Memory({ initial: 2 });
  const given = o.wasm === undefined ? null : givenAs('wasm', o.wasm);
  const { exports } = await instantiate(await readSource(o.wasm, false), memory, given);
  return new WasmStorage(exports, memory, { threads: 1, sharedMemory: false, reason, requested, degraded: false }, given);
}

/** Export `name` of the module, or badBinary's BackendLoadError naming it (`given` as in instantiate()). */
function wasmExport(exports: WasmExports, name: string, given: string | null): WasmFn {
  const fn = exports[name];
  if (typeof fn !== 'function') throw badBinary(given, `lacks the export ${name}`);
  return fn;
}

/** The wasm backend's storage: buffers in Wasm linear memory, handed out by WasmAllocator. */
export class WasmStorage implements Storage<number, number, number> {
  readonly kind = 'wasm' as const;
  readonly raw: RawKernels<number, number, number>;
  readonly alloc: WasmAllocator;
  private readonly slots = new Map<string, { ptr: number; bytes: number }>();
  private readonly ctx: WasmContext;
  /** @internal what info() reports. */
  readonly _info: StorageInfo;

  /** `given`: the loadBackend option the binary came from (e.g. `{ wasm: "…" }`), or null for the built-in one. */
  constructor(readonly exports: WasmExports, readonly memory: WebAssembly.Memory,
    info: StorageInfo = { threads: 1, sharedMemory: false, reason: null, requested: 1, degraded: false }, given: string | null = null) {
    this.alloc = new WasmAllocator(memory, wasmExport(exports, 'heapBase', given)());
    this._info = { ...info };
    const ctx: WasmContext = this.ctx = {
      exports,
      memory,
      alloc: this.alloc,
      fn: (name) => wasmExport(exports, name, given),
      scratch: (slot, bytes) => this.scratch(slot, bytes),
      pool: null,
    };
    // Every family's glue looks up its exports here, at load: a missing one throws now.
    this.raw = {
      ...matmulKernels(ctx),
      ...optimKernels(ctx),
      ...dropoutKernels(ctx),
      ...proxKernels(ctx),
      ...linearKernels(ctx),
      ...elementwiseKernels(ctx),
      ...layernormKernels(ctx),
      ...softmaxKernels(ctx),
      ...embeddingKernels(ctx),
    };
  }

  /** @internal attaches the thread pool (loadWasmStorage). */
  _setPool(pool: ThreadPool): void {
    this.ctx.pool = pool;
    this._info.threads = pool.size;
    this._info.degraded = false;
    pool.onDegrade = (why) => {
      if (this.ctx.pool !== pool) return;
      this.ctx.pool = null;
      this._info.threads = 1;
      this._info.degraded = true;
      this._info.reason = `the thread pool is degraded: ${why}; running on the calling thread`;
    };
  }

  /** Threads, shared memory and why threads are off (be.info()). */
  info(): StorageInfo {
    return { ...this._info };
  }

  /** Stops the worker threads; kernels run on the calling thread afterwards. */
  dispose(): void {
    const pool = this.ctx.pool;
    if (pool === null) return;
    this.ctx.pool = null;
    pool.terminate();
    this._info.threads = 1;
    this._info.reason = 'the thread pool was disposed (be.dispose())';
  }

  /** @internal the thread pool, or null. */
  get _pool(): ThreadPool | null { return this.ctx.pool; }

  /** @internal a scratch slot (see WasmContext.scratch). */
  _scratch(slot: string, bytes: number): number { return this.scratch(slot, bytes); }

  /**
   * Grows a slot by acquiring the new block before releasing the old one: when the
   * allocation throws (memory cannot grow), the slot, the allocator and every tensor are
   * as they were. Asks for twice the old size first (fewer regrowths), then exactly `bytes`.
   */
  private scratch(slot: string, bytes: number): number {
    const have = this.slots.get(slot);
    if (have !== undefined && have.bytes >= bytes) return have.ptr;
    const want = Math.max(bytes, 64);
    const roomy = have === undefined ? want : Math.max(want, 2 * have.bytes);
    let size = roomy, ptr: number;
    try {
      ptr = this.alloc.alloc(size);
    } catch (e) {
      if (roomy === want) throw e;
      size = want;
      ptr = this.alloc.alloc(size);
    }
    if (have !== undefined) this.alloc.release(have.ptr);
    this.slots.set(slot, { ptr, bytes: size });
    this.scratchBytes += WasmAllocator.sizeClass(size) - (have === undefined ? 0 : WasmAllocator.sizeClass(have.bytes));
    return ptr;
  }
  /** Bytes of the allocator's live blocks that scratch slots hold (not tensor memory). */
  private scratchBytes = 0;

  /** @internal the allocation limit (tests use it to fail the k-th allocation). */
  readonly _limit = new AllocLimit();

  allocF32(n: number, zero = true): number {
    if (n === 0) return 0;
    this._limit.check('wasm', WasmAllocator.sizeClass(4 * n), this.liveBytes());
    const ptr = this.alloc.alloc(4 * n);
    if (zero) new Float32Array(this.memory.buffer, ptr, n).fill(0);
    return ptr;
  }
  freeF32(h: number): void { if (h !== 0) this.alloc.release(h); }
  view(h: number, n: number): Float32Array { return new Float32Array(this.memory.buffer, h, n); }
  buffer(): ArrayBufferLike { return this.memory.buffer; }
  allocRng(): number { this._limit.check('wasm', 64, this.liveBytes()); return this.alloc.alloc(64); }
  freeRng(r: number): void { this.alloc.release(r); }
  rngState(r: number): Uint32Array { return new Uint32Array(this.memory.buffer, r, 16); }
  labels(a: Int32Array): number {
    const ptr = this.scratch('labels', Math.max(4, 4 * a.length));
    new Int32Array(this.memory.buffer, ptr, a.length).set(a);
    return ptr;
  }
  heapBytes(): number { return this.memory.buffer.byteLength; }
  liveBytes(): number {
    return this.alloc.liveBytes - this.scratchBytes;
  }
}
