/**
 * What the host offers the wasm backend's threads, in one place: Node built-ins without an
 * import, the core count, whether threads can run here and why not, and starting one worker
 * (from loadBackend's workerUrl, or the worker built into the package). The pool that drives
 * the workers is src/backend/wasm/threads.ts.
 */
import { BackendLoadError } from '../../rules/errors.js';
import { WORKER_SOURCE } from './embedded.generated.js';

/** @internal The smallest interface of a Node worker_threads Worker or a browser Worker that the pool uses. */
export interface AnyWorker {
  postMessage(m: unknown): void;
  terminate(): unknown;
  /** Registers `gone(why)` for the worker's exit or error after it was ready. */
  onGone?: (gone: (why: string) => void) => void;
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
 * @internal Starts one worker: from `src` when given (loadBackend's workerUrl), else from the worker
 * built into the package (embedded.generated.ts), which needs no file beside the bundle and
 * nothing from the bundler: a data: URL module in Node, a blob: URL module in browsers (a
 * blob: worker shares the page's origin and cross-origin isolation, so it may share memory).
 */
export function spawn(src: WorkerSource | undefined): AnyWorker & { onReady: Promise<void> } {
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
    const onGone = (gone: (why: string) => void) => {
      w.on('exit', (code) => gone(`exited with code ${code}`));
      w.on('error', (e) => gone(`failed: ${e.message}`));
    };
    return Object.assign(w, { onReady, onGone });
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
  const onGone = (gone: (why: string) => void) => {
    w.addEventListener('error', (e: ErrorEvent) => gone(`failed: ${e.message || 'an error event'}`));
  };
  return Object.assign(w, { onReady, onGone });
}
