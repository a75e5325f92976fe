/**
 * The worker entry of the wasm backend's thread pool (src/backend/wasm/threads.ts). One
 * module file for both hosts: a browser Web Worker (`new Worker(url, { type: 'module' })`)
 * and a Node `worker_threads` Worker. It imports nothing of regula, so it loads as is.
 *
 * The worker receives the compiled module, the shared memory, the control block's address,
 * its slot and the names of the exports it may run; instantiates the module on that memory
 * (every instance sees the same heap); answers 'ready'; then loops forever: wait for the
 * job generation to change (a short spin, then Atomics.wait), record it in its ack word,
 * copy the job, and claim chunks from the shared claim word (compare-and-swap on
 * generation and chunk index, so a worker that wakes late never takes a chunk of a later
 * job) until none is left, marking each done. It never touches a JS view past the control
 * block, so memory growth needs nothing from it. Layout: see threads.ts.
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
}

// Control block layout (int32 words from ctrl/4, byte offsets for the f64 and status areas); mirrored in threads.ts.
const GEN = 0, CLAIM = 1, DONE = 2, ERROR = 3, FN = 4, NCHUNKS = 5, WAITING = 6, END = 7, STEP = 8, SPIN = 9, ACK = 16;
const ARGS_BYTE = 512, STATUS_BYTE = 1024, MAX_ARGS = 16, EXIT = -1;
const CHUNK_BITS = 11, CHUNK_MASK = (1 << CHUNK_BITS) - 1, TAG_MASK = (1 << 20) - 1;

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
  const h = init.ctrl >> 2, a = (init.ctrl + ARGS_BYTE) >> 3, status = (init.ctrl + STATUS_BYTE) >> 2;
  const job = new Float64Array(4 * MAX_ARGS), x = new Float64Array(MAX_ARGS);
  const t = init.slot;
  let seen = Atomics.load(i32, h + GEN);
  post('ready');
  let last = performance.now();
  for (;;) {
    let g = Atomics.load(i32, h + GEN);
    // Jobs of one kernel call come back to back; poll a little before blocking (a wake from
    // Atomics.wait costs tens of µs or more), but not long: a busy machine needs the core.
    while (g === seen) {
      for (let s = 0; s < 200 && g === seen; s++) g = Atomics.load(i32, h + GEN);
      if (g === seen && performance.now() - last > Atomics.load(i32, h + SPIN) / 1000) break;
    }
    if (g === seen) {
      Atomics.wait(i32, h + GEN, seen);
      last = performance.now();
      continue;
    }
    seen = g;
    Atomics.store(i32, h + ACK + t, g);
    // Atomic reads: if any of these is a later job's, the claim word is already closed to g (threads.ts, "Publishing a job").
    const id = Atomics.load(i32, h + FN);
    if (id === EXIT) return;
    const n = Atomics.load(i32, h + NCHUNKS), end = Atomics.load(i32, h + END), step = Atomics.load(i32, h + STEP);
    for (let i = 0; i < 4 * MAX_ARGS; i++) job[i] = f64[a + i]!;
    // A newer job was published while we copied this one: skip to it.
    if (Atomics.load(i32, h + GEN) !== g) continue;
    const fn = fns[id]!, tag = (g & TAG_MASK) << CHUNK_BITS;
    for (;;) {
      const w = Atomics.load(i32, h + CLAIM), c = w & CHUNK_MASK;
      if ((w & ~CHUNK_MASK) !== tag || c >= n) break;
      if (Atomics.compareExchange(i32, h + CLAIM, w, w + 1) !== w) continue;
      const r0 = c * step, r1 = Math.min(end, r0 + step);
      for (let i = 0; i < MAX_ARGS; i++) x[i] = job[i]! + job[MAX_ARGS + i]! * r0 + job[2 * MAX_ARGS + i]! * (r1 - r0) + job[3 * MAX_ARGS + i]! * t;
      try {
        fn(x[0]!, x[1]!, x[2]!, x[3]!, x[4]!, x[5]!, x[6]!, x[7]!, x[8]!, x[9]!, x[10]!, x[11]!, x[12]!, x[13]!, x[14]!, x[15]!);
      } catch (e) {
        Atomics.store(i32, h + ERROR, t);
        post({ error: String((e as Error)?.message ?? e) });
      }
      Atomics.store(i32, status + c, 1);
      Atomics.add(i32, h + DONE, 1);
      if (Atomics.load(i32, h + WAITING) !== 0) Atomics.notify(i32, h + DONE);
    }
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
