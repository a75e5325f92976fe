/**
 * The backends a portable suite times (bench/harness.ts's Suite.groups(bes)): the same cases
 * run in Node (`npm run bench`) and on the demo's benchmark page, each on wasm with one
 * thread, wasm on every core the host offers, and js. Browser-safe.
 */
import { loadBackend, type Backend } from '../src/index.js';
import type { Case } from './harness.js';

export interface Backends {
  wasm1: Backend;
  /** wasm on every core; null where the host runs one thread (one core, or a page that is not cross-origin isolated). */
  wasmN: Backend | null;
  js: Backend;
  /** Why wasmN is null (be.info().reason), when it is. */
  threadsReason?: string | null;
}

/** wasm 1 thread, wasm with the default thread count (every core), js. */
export async function loadBackends(): Promise<Backends> {
  const [wasm1, wasmN, js] = await Promise.all([loadBackend('wasm', { threads: 1 }), loadBackend('wasm'), loadBackend('js')]);
  if (wasmN.info().threads > 1) return { wasm1, wasmN, js };
  const threadsReason = wasmN.info().reason;
  wasmN.dispose();
  return { wasm1, wasmN: null, js, threadsReason };
}

export function disposeBackends(bes: Backends): void {
  bes.wasm1.dispose();
  bes.wasmN?.dispose();
  bes.js.dispose();
}

/** "1 thread", "2 threads". */
export function threadsLabel(n: number): string {
  return `${n} thread${n === 1 ? '' : 's'}`;
}

/**
 * The wasm backends of `bes` with the case fields that say so: wasm 1 thread named `name1`
 * (a suite keeps the name its results had, e.g. 'regula wasm'), then wasm on every core,
 * named `name1` with " N threads" in place of a trailing " 1 thread" or appended.
 */
export function wasmVariants(bes: Backends, name1: string): { be: Backend; name: string; tag: Pick<Case, 'backend' | 'threads'> }[] {
  const out = [{ be: bes.wasm1, name: name1, tag: { backend: 'wasm' as const, threads: 1 } }];
  if (bes.wasmN !== null) {
    const n = bes.wasmN.info().threads;
    const name = name1.endsWith(' 1 thread') ? `${name1.slice(0, -' 1 thread'.length)} ${threadsLabel(n)}` : `${name1} ${threadsLabel(n)}`;
    out.push({ be: bes.wasmN, name, tag: { backend: 'wasm' as const, threads: n } });
  }
  return out;
}
