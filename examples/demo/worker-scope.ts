/** What the demo's two workers (worker.ts, gpt-worker.ts) share: a typed message scope and their backends. */
import { loadBackend, type Backend, type LoadOptions } from '../../src/index.js';
import type { BackendChoice } from './protocol.js';

/** The worker's global scope, typed by the messages it receives (In) and sends (Out). */
export interface WorkerScope<In, Out> {
  postMessage(m: Out, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<In>) => void) | null;
}

/** This worker's scope (call it in a worker), and `post` for messages without transfers. */
export function workerScope<In, Out>(): { scope: WorkerScope<In, Out>; post: (m: Out) => void } {
  const scope = self as unknown as WorkerScope<In, Out>;
  return { scope, post: (m) => scope.postMessage(m) };
}

/** A loader that loads each backend once (with `options`), on first use, and hands the same one back after. */
export function backendCache(options: LoadOptions = {}): (kind: BackendChoice) => Promise<Backend> {
  const backends = new Map<BackendChoice, Promise<Backend>>();
  return (kind) => {
    let be = backends.get(kind);
    if (be === undefined) { be = loadBackend(kind, options); backends.set(kind, be); }
    return be;
  };
}
