/**
 * The wasm backend's thread pool: workers that each instantiate regula's shared-memory
 * module (build/regula-mt.wasm) on the same WebAssembly.Memory, so a kernel call can be cut
 * into parts that run at the same time on one heap.
 *
 * A parallel call stays synchronous: the calling thread writes each worker's function id
 * and arguments into the worker's slot of a control block in the shared memory, bumps the
 * slot's sequence word (Atomics.notify), runs part 0 itself, then waits until the workers
 * have counted themselves done. Workers poll their sequence word for 2 ms after a job, then
 * block in Atomics.wait (src/backend/wasm/worker.ts). The caller blocks in Atomics.wait only
 * where that is allowed (Node, a worker); on a browser main thread it spins on Atomics.load.
 *
 * Parts are cut so that every output element is computed by exactly the code and in the
 * order the single-thread call uses (rows of a matmul, never its k; contiguous chunks of an
 * elementwise pass at multiples of 16 floats): the bits do not depend on the thread count.
 *
 * Not threaded: reductions (their summation order is their contract) and dropout. A
 * dropout call steps each of the 16 xorshift lanes ceil(n/16) times in order (src/rng.ts),
 * so a chunk starting at element e needs every lane advanced by e/16 steps first: a
 * jump-ahead (xorshift32 is linear over GF(2): a 32×32 bit-matrix power per lane). The
 * layer sizes of the models here (64×256 activations) are far below where a split pays,
 * so dropout stays on the calling thread rather than carrying that machinery.
 *
 * Control block (64-byte aligned, in the shared memory; int32 words):
 *   [0] done count, [1] failed slot (0 = none), [2] the part counter of dynamic calls;
 *   then one 256-byte slot per worker: [0] sequence, [1] function id (−1: exit),
 *   [2..4] dynamic range (end, step, index of the range's first argument; end 0: a static
 *   call), f64 args from byte 32 (16 of them, to byte 160).
 * Mirrored in worker.ts.
 */
import type { WorkerInit } from './worker.js';
import { BackendLoadError } from '../../errors.js';
import { WORKER_SOURCE } from './embedded.generated.js';

const DONE = 0, ERROR = 1, COUNTER = 2, SLOT_BYTES = 256, SEQ = 0, FN = 1, DYN_END = 2, DYN_STEP = 3, DYN_ARG = 4, ARGS_F64 = 4, EXIT = -1, MAX_ARGS = 16;

/**
 * How long a worker polls for the next job before it blocks (ms), and how long the caller
 * polls for the workers to finish before it blocks (ms; a browser main thread never blocks).
 * A wake from Atomics.wait costs from tens of µs to over 100 µs here (a VM), as much as a
 * whole small part; polling is cheap next to that while jobs keep coming.
 */
const WORKER_SPIN_MS = 2;
const CALLER_SPIN_MS = 20;

/** The smallest interface of a Node worker_threads Worker or a browser Worker that the pool uses. */
interface AnyWorker {
  postMessage(m: unknown): void;
  terminate(): unknown;
}

/** Where the pool's workers come from (see loadBackend's `workerUrl`). */
export type WorkerSource = string | URL;

/**
 * A Node built-in module, or null outside Node. process.getBuiltinModule (Node ≥ 20.16) is
 * a plain call, not an import: bundlers see nothing to resolve or warn about, and browser
 * bundles carry no Node code path that could fail to build.
 */
export function nodeBuiltin<T>(name: string): T | null {
  const p = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof p?.versions?.node !== 'string') return null;
  if (typeof p.getBuiltinModule !== 'function') {
    throw new BackendLoadError(`regula: the wasm backend needs Node ≥ 20.19 (this is Node ${p.versions.node}); ` +
      "upgrade Node, or use loadBackend('js')");
  }
  return p.getBuiltinModule(name) as T;
}

/** The number of logical cores of this host (Node: os.availableParallelism(); browsers: navigator.hardwareConcurrency). */
export async function availableCores(): Promise<number> {
  const os = nodeBuiltin<typeof import('node:os')>('node:os');
  if (os !== null) return os.availableParallelism();
  const hc = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof hc === 'number' && hc >= 1 ? hc : 1;
}

/**
 * Why threads cannot run here, or null when they can: shared memory needs SharedArrayBuffer,
 * which browsers give only to cross-origin isolated pages, and a Worker constructor.
 */
export function threadsUnavailableReason(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown; SharedArrayBuffer?: unknown };
  if (g.crossOriginIsolated === false || typeof g.SharedArrayBuffer !== 'function') {
    return 'SharedArrayBuffer is not available: the page is not cross-origin isolated (serve it with the headers ' +
      'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (nodeBuiltin('node:worker_threads') === null && typeof g.Worker !== 'function') return 'this host has no Worker';
  return null;
}

/**
 * Starts one worker: from `src` when given (loadBackend's workerUrl), else from the worker
 * built into the package (embedded.generated.ts), which needs no file beside the bundle and
 * nothing from the bundler: a data: URL module in Node, a blob: URL module in browsers (a
 * blob: worker shares the page's origin and cross-origin isolation, so it may share memory).
 */
function spawn(src: WorkerSource | undefined): AnyWorker & { onReady: Promise<void> } {
  const wt = nodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads');
  if (wt !== null) {
    const url = src === undefined
      ? new URL(`data:text/javascript,${encodeURIComponent(WORKER_SOURCE)}`)
      : src instanceof URL || /^[a-z][a-z0-9+.-]*:/i.test(src) ? new URL(src) : src;
    const w = new wt.Worker(url);
    w.unref(); // the pool never keeps a Node process alive
    const onReady = new Promise<void>((resolve, reject) => {
      w.once('message', (m: unknown) => (m === 'ready' ? resolve() : reject(new Error(String((m as { error?: string })?.error ?? m)))));
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`worker exited with code ${code} before it was ready`)));
    });
    return Object.assign(w, { onReady });
  }
  let blobUrl: string | null = null;
  if (src === undefined) blobUrl = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(blobUrl ?? src!, { type: 'module' });
  const onReady = new Promise<void>((resolve, reject) => {
    w.addEventListener('message', (e: MessageEvent) => (e.data === 'ready' ? resolve() : reject(new Error(String(e.data?.error ?? e.data)))), { once: true });
    w.addEventListener('error', (e: ErrorEvent) => reject(new Error(e.message || `the worker module ${blobUrl === null ? String(src) : '(built in)'} failed to load`)), { once: true });
  });
  // The worker has fetched its script by the time it answers (or fails).
  if (blobUrl !== null) void onReady.then(() => URL.revokeObjectURL(blobUrl!), () => URL.revokeObjectURL(blobUrl!));
  return Object.assign(w, { onReady });
}

/** A pool of `workers` threads plus the calling thread, on one shared memory. */
export class ThreadPool {
  /** Threads taking part in a parallel call: the workers plus the caller. */
  readonly size: number;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly head: number;
  private readonly ids = new Map<string, number>();
  private readonly canBlock: boolean;
  private closed = false;
  /** Parallel calls joined so far (tests check that the threaded path ran). */
  parallelCalls = 0;

  private constructor(private readonly workers: AnyWorker[], memory: WebAssembly.Memory, private readonly ctrl: number,
    names: readonly string[]) {
    this.size = workers.length + 1;
    // The control block sits low in the heap and never moves: views made now stay valid after growth.
    this.i32 = new Int32Array(memory.buffer);
    this.f64 = new Float64Array(memory.buffer);
    this.head = ctrl >> 2;
    names.forEach((n, i) => this.ids.set(n, i));
    let block = true;
    try { Atomics.wait(this.i32, this.head + DONE, -1, 0); } catch { block = false; } // a browser main thread may not wait
    this.canBlock = block;
  }

  /** Bytes of the control block for `workers` workers. */
  static ctrlBytes(workers: number): number {
    return 64 + workers * SLOT_BYTES;
  }

  /**
   * Starts `workers` workers on `memory`, each instantiating `module`, allowed to run the
   * exports `names`. `ctrl`: a 64-byte aligned block of ctrlBytes(workers) that stays put
   * for the pool's life (the storage's scratch slot 'threads.ctrl').
   */
  static async create(module: WebAssembly.Module, memory: WebAssembly.Memory, ctrl: number, workers: number,
    names: readonly string[], src?: WorkerSource): Promise<ThreadPool> {
    new Int32Array(memory.buffer, ctrl, (64 + workers * SLOT_BYTES) >> 2).fill(0);
    const started: (AnyWorker & { onReady: Promise<void> })[] = [];
    try {
      for (let w = 1; w <= workers; w++) {
        const wk = spawn(src);
        started.push(wk);
        const init: WorkerInit = { module, memory, ctrl, slot: w, names: [...names], spinMs: WORKER_SPIN_MS };
        wk.postMessage(init);
      }
      await Promise.all(started.map((w) => w.onReady));
    } catch (e) {
      for (const w of started) void w.terminate();
      throw e;
    }
    return new ThreadPool(started, memory, ctrl, names);
  }

  /** The id of export `name` for post(); throws when the pool was not given it. */
  fn(name: string): number {
    const id = this.ids.get(name);
    if (id === undefined) throw new TypeError(`regula thread pool: ${name} is not a pooled export`);
    return id;
  }

  /** Clears the done count: call before the posts of one parallel call. */
  begin(): void {
    Atomics.store(this.i32, this.head + DONE, 0);
    Atomics.store(this.i32, this.head + ERROR, 0);
  }

  /** Worker `w` (1..size−1) runs export `id` with the first `count` of `args` (at most 16). */
  post(w: number, id: number, args: ArrayLike<number>, count = args.length, dynEnd = 0, dynStep = 0, dynArg = 0): void {
    const base = (this.ctrl + 64 + (w - 1) * SLOT_BYTES) >> 2;
    const a = (base >> 1) + ARGS_F64;
    const f64 = this.f64;
    const n = count;
    for (let i = 0; i < MAX_ARGS; i++) f64[a + i] = i < n ? args[i]! : 0;
    this.i32[base + FN] = id;
    this.i32[base + DYN_END] = dynEnd;
    this.i32[base + DYN_STEP] = dynStep;
    this.i32[base + DYN_ARG] = dynArg;
    Atomics.add(this.i32, base + SEQ, 1);
    Atomics.notify(this.i32, base + SEQ);
  }

  /**
   * A dynamic call: every worker and the caller claim ranges [r, r + step) of [0, end)
   * from a shared counter and run export `id` (the caller: `run(r, r1)`) with the range
   * as arguments dynArg and dynArg + 1; balances parts whose threads run at uneven speed.
   * `perWorker(w)` sets worker w's own arguments (its scratch) in `args` before its post.
   */
  dynamic(id: number, args: number[], count: number, end: number, step: number, dynArg: number,
    perWorker: (w: number, args: number[]) => void, run: (r0: number, r1: number) => void): void {
    this.begin();
    Atomics.store(this.i32, this.head + COUNTER, 0);
    for (let w = 1; w < this.size; w++) {
      perWorker(w, args);
      this.post(w, id, args, count, end, step, dynArg);
    }
    try {
      const i32 = this.i32, at = this.head + COUNTER;
      for (let r = Atomics.add(i32, at, step); r < end; r = Atomics.add(i32, at, step)) run(r, Math.min(end, r + step));
    } finally {
      this.join(this.size - 1);
    }
  }

  /** Waits until `count` posted parts are done; throws when one failed. */
  join(count: number): void {
    const i32 = this.i32, at = this.head + DONE;
    let v = Atomics.load(i32, at);
    if (v < count) {
      const t0 = performance.now();
      while (v < count) {
        for (let s = 0; s < 1000 && v < count; s++) v = Atomics.load(i32, at);
        if (v < count && performance.now() - t0 > CALLER_SPIN_MS) break;
      }
    }
    while (v < count) {
      if (this.canBlock) Atomics.wait(i32, at, v, 1000);
      v = Atomics.load(i32, at);
    }
    this.parallelCalls++;
    const failed = Atomics.load(i32, this.head + ERROR);
    if (failed !== 0) throw new Error(`regula: worker thread ${failed} failed in a kernel call (see its error message)`);
  }

  /** True once terminate() has run. */
  get terminated(): boolean { return this.closed; }

  /** Stops every worker. The pool cannot be used afterwards. */
  terminate(): void {
    if (this.closed) return;
    this.closed = true;
    for (let w = 1; w <= this.workers.length; w++) {
      const base = (this.ctrl + 64 + (w - 1) * SLOT_BYTES) >> 2;
      this.i32[base + FN] = EXIT;
      Atomics.add(this.i32, base + SEQ, 1);
      Atomics.notify(this.i32, base + SEQ);
    }
    for (const w of this.workers) void w.terminate();
  }
}

/** Splits [0, n) into at most `parts` chunks whose starts are multiples of `align`. Returns the chunk length. */
export function chunkLength(n: number, parts: number, align: number): number {
  return Math.ceil(n / parts / align) * align;
}
