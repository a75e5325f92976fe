/**
 * The worker entry of the wasm backend's thread pool (src/backend/wasm/threads.ts). One
 * module file for both hosts: a browser Web Worker (`new Worker(url, { type: 'module' })`)
 * and a Node `worker_threads` Worker. It imports nothing of regula, so it loads as is.
 *
 * The worker receives the compiled module, the shared memory, the control block's address,
 * its slot and the names of the exports it may run; instantiates the module on that memory
 * (every instance sees the same heap); answers 'ready'; then loops forever: wait for its
 * slot's sequence word to change (a short spin, then Atomics.wait), run the export with the
 * arguments written in the slot, count itself done. It never touches a JS view past the
 * control block, so memory growth needs nothing from it. Layout: see threads.ts.
 */

/** What the pool posts once to each worker. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte address of the control block in the shared memory. */
  ctrl: number;
  /** This worker's slot (1-based: slot 0 is the calling thread). */
  slot: number;
  /** Export names, indexed by the function id written into a slot. */
  names: string[];
  /** Milliseconds to poll the sequence word after a job before blocking in Atomics.wait. */
  spinMs: number;
}

// Control block layout (int32 indices from ctrl/4); mirrored in threads.ts.
const DONE = 0, ERROR = 1, COUNTER = 2, SLOT_BYTES = 256, SEQ = 0, FN = 1, DYN_END = 2, DYN_STEP = 3, DYN_ARG = 4, ARGS_F64 = 4, EXIT = -1;

type Fn = (...args: number[]) => unknown;

async function run(init: WorkerInit, post: (m: unknown) => void): Promise<void> {
  let fns: Fn[];
  try {
    const instance = await WebAssembly.instantiate(init.module, {
      env: {
        memory: init.memory,
        abort: () => { throw new Error('regula.wasm aborted'); },
      },
    });
    fns = init.names.map((n) => instance.exports[n] as Fn);
  } catch (e) {
    post({ error: String((e as Error)?.message ?? e) });
    return;
  }
  const buf = init.memory.buffer as unknown as SharedArrayBuffer;
  const i32 = new Int32Array(buf);
  const f64 = new Float64Array(buf);
  const head = init.ctrl >> 2;
  const base = (init.ctrl + 64 + (init.slot - 1) * SLOT_BYTES) >> 2;
  const seqAt = base + SEQ;
  const a = (base >> 1) + ARGS_F64;
  let seen = Atomics.load(i32, seqAt);
  post('ready');
  let last = performance.now();
  for (;;) {
    let v = Atomics.load(i32, seqAt);
    // Jobs of one training step come a few hundred µs apart; a wake from Atomics.wait costs
    // tens of µs or more (more in a VM), so poll for a while after each job first.
    while (v === seen) {
      for (let s = 0; s < 1000 && v === seen; s++) v = Atomics.load(i32, seqAt);
      if (v === seen && performance.now() - last > init.spinMs) break;
    }
    if (v === seen) {
      Atomics.wait(i32, seqAt, seen);
      last = performance.now();
      continue;
    }
    seen = v;
    const id = i32[base + FN]!;
    if (id === EXIT) return;
    try {
      const fn = fns[id]!;
      const end = i32[base + DYN_END]!;
      if (end === 0) {
        fn(f64[a]!, f64[a + 1]!, f64[a + 2]!, f64[a + 3]!, f64[a + 4]!, f64[a + 5]!, f64[a + 6]!, f64[a + 7]!,
          f64[a + 8]!, f64[a + 9]!, f64[a + 10]!, f64[a + 11]!, f64[a + 12]!, f64[a + 13]!, f64[a + 14]!, f64[a + 15]!);
      } else {
        // Dynamic parts: claim [r, r + step) from the shared counter until it passes end;
        // the range goes into args DYN_ARG and DYN_ARG + 1.
        const step = i32[base + DYN_STEP]!, at = a + i32[base + DYN_ARG]!;
        for (let r = Atomics.add(i32, head + COUNTER, step); r < end; r = Atomics.add(i32, head + COUNTER, step)) {
          f64[at] = r;
          f64[at + 1] = Math.min(end, r + step);
          fn(f64[a]!, f64[a + 1]!, f64[a + 2]!, f64[a + 3]!, f64[a + 4]!, f64[a + 5]!, f64[a + 6]!, f64[a + 7]!,
            f64[a + 8]!, f64[a + 9]!, f64[a + 10]!, f64[a + 11]!, f64[a + 12]!, f64[a + 13]!, f64[a + 14]!, f64[a + 15]!);
        }
      }
    } catch (e) {
      Atomics.store(i32, head + ERROR, init.slot);
      post({ error: String((e as Error)?.message ?? e) });
    }
    Atomics.add(i32, head + DONE, 1);
    Atomics.notify(i32, head + DONE);
    last = performance.now();
  }
}

const scope = globalThis as unknown as {
  WorkerGlobalScope?: unknown;
  postMessage?: (m: unknown) => void;
  addEventListener?: (t: string, f: (e: { data: unknown }) => void, o?: { once: boolean }) => void;
  process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown };
};
// No import and no top-level await: this file also runs as the built-in worker's source text
// (scripts/embed.mjs), and bundlers that build it as a classic worker accept it as it is.
if (typeof scope.WorkerGlobalScope !== 'undefined' && scope.addEventListener !== undefined) {
  scope.addEventListener('message', (e) => { void run(e.data as WorkerInit, (m) => scope.postMessage!(m)); }, { once: true });
} else if (typeof scope.process?.getBuiltinModule === 'function') {
  const { parentPort } = scope.process.getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads');
  if (parentPort !== null) parentPort.once('message', (m: WorkerInit) => { void run(m, (x) => parentPort.postMessage(x)); });
}
