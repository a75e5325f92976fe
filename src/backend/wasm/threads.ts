/**
 * The wasm backend's thread pool: workers that each instantiate regula's shared-memory
 * module (build/regula-mt.wasm) on the same WebAssembly.Memory, so a kernel call can be cut
 * into chunks that run at the same time on one heap.
 *
 * A parallel call stays synchronous, and the calling thread works too (pthreadpool's
 * scheme): the caller publishes one job (an export, its arguments, a range [0, end) cut
 * into chunks of `step`), wakes the workers, and then every thread, the caller included,
 * claims chunks from one shared counter until none is left. A worker that is descheduled,
 * slow to wake or busy elsewhere delays nothing it has not claimed: the caller simply takes
 * those chunks itself, and waits only for chunks a worker claimed and has not finished.
 * A small call on a busy machine therefore costs the caller about what one thread costs.
 *
 * Bounded waits. The caller waits at most BOUND_MS for a claimed chunk; past that, the
 * worker is taken for dead: the pool is marked degraded (be.info().reason says which
 * worker and why), its workers are stopped, and the caller runs the unfinished chunks
 * itself (the same code on the same inputs, so the same bits) when the call may be rerun
 * (outputs disjoint from inputs); an in-place call cannot be, and throws saying so. A
 * worker that stops taking jobs without holding a chunk (it exited, hangs, never woke) costs
 * no wait at all: its ack word stops advancing, and after BOUND_MS of posted jobs the pool
 * is marked degraded the same way. A Node worker's 'exit' or 'error' event does so at once.
 *
 * Publishing a job. A worker can be descheduled anywhere, e.g. just after it read the
 * generation g: it may resume when the caller has run every chunk of g itself and is
 * writing job g+1. So the caller first stores CLOSED in the claim word, then the job (FN,
 * NCHUNKS, END, STEP as atomic stores, then the arguments), then the claim word tagged g+1,
 * then the generation. A worker reads the job words atomically and claims only by a
 * compare-exchange against its own generation's tag: if it read any word of job g+1, the
 * CLOSED store came before that word in the one order of atomic operations, so the claim
 * word no longer holds g's tag and it claims nothing. (Before, the claim word kept g's tag,
 * exhausted at g's chunk count, while NCHUNKS already held g+1's: a stale worker that read
 * a larger count could claim a chunk past g's last, run it with g+1's arguments, and add
 * one to g+1's done count, so the caller could return before a real chunk was finished.)
 * A chunk's arguments are read before its claim, and the caller rewrites them only after
 * every claimed chunk is done, so they are the claimed generation's.
 *
 * After a timeout the workers are terminated (Worker.terminate()); V8 stops a thread at its
 * next interrupt check (a loop back-edge, or inside Atomics.wait), so a worker that resumes
 * after the caller reran its chunk stops before it runs on. What this cannot bound: a
 * thread descheduled for longer than the bound in the middle of a kernel's loop body still
 * completes the stores of that iteration when it runs again.
 *
 * Chunks are cut so that every output element is computed by exactly the code and in the
 * order the single-thread call uses (rows of a matmul, never its k; chunks of an
 * elementwise pass at multiples of 16 floats): the bits do not depend on the thread count
 * or on which thread ran which chunk.
 *
 * Not threaded: reductions (their summation order is their contract) and dropout. A
 * dropout call steps each of the 16 xorshift lanes ceil(n/16) times in order (src/core/rng.ts),
 * so a chunk starting at element e needs every lane advanced by e/16 steps first: a
 * jump-ahead (xorshift32 is linear over GF(2): a 32×32 bit-matrix power per lane). The
 * layer sizes of the models here (64×256 activations) are far below where a split pays,
 * so dropout stays on the calling thread rather than carrying that machinery.
 *
 * Control block (64-byte aligned, in the shared memory), int32 words:
 *   [0] job generation (workers wait on it), [1] claim word: (generation mod 2^20) << 11 |
 *   next chunk, [2] chunks done, [3] failed worker (0: none), [4] export id (−1: exit),
 *   [5] chunk count, [6] caller is blocked on [2] (workers notify), [7] end, [8] step,
 *   [9] how long workers poll for the next job before blocking (µs; ThreadPool.spinMs),
 *   [16 + w] the last generation worker w took (its ack);
 *   f64 from byte 512: base, start, len, thread coefficients of the 16 arguments (4 × 16);
 *   int32 from byte 1024: one done flag per chunk (MAX_CHUNKS).
 * Mirrored in worker.ts.
 */
import type { WorkerInit } from './worker.js';
import { spawn, type AnyWorker, type WorkerSource } from './host.js';

// Control block layout (int32 words from ctrl/4, byte offsets for the f64 and status areas); mirrored in worker.ts.
const GEN = 0, CLAIM = 1, DONE = 2, ERROR = 3, FN = 4, NCHUNKS = 5, WAITING = 6, END = 7, STEP = 8, SPIN = 9, ACK = 16;
const ARGS_BYTE = 512, STATUS_BYTE = 1024, MAX_ARGS = 16, EXIT = -1;
/** The claim word while no job is open: its tag bits (all ones, negative) match no generation's tag. */
const CLOSED = -1;
/** Chunks per call (the claim word's low bits) and workers (ack words) the control block has room for. */
const CHUNK_BITS = 11, CHUNK_MASK = (1 << CHUNK_BITS) - 1, TAG_MASK = (1 << 20) - 1, MAX_CHUNKS = 1024, MAX_WORKERS = 96;

/**
 * How long a worker polls for the next job before it blocks (ms), and how long the caller
 * polls for a claimed chunk before it blocks (ms; a browser main thread never blocks).
 * Short on purpose: on a busy machine a polling thread takes the core another thread
 * (the caller, or a preempted worker holding a chunk) needs. Back-to-back jobs of one
 * kernel call (a matmul's packing, then its K blocks) still find the worker awake.
 */
const WORKER_SPIN_MS = 0.1;
const CALLER_SPIN_MS = 0.1;
/** The bounded wait: how long a claimed chunk, or a posted job nobody takes, may stay unanswered (ms). */
const BOUND_MS = 1000;
/**
 * Backing off (ThreadPool.judge): the averaging weight of one call, the share of call time
 * lost to preempted workers that triggers it, and the backoff lengths in calls.
 */
const BUSY_DECAY = 1 / 8, BUSY_MAX = 0.05, SOLO_MIN = 16, SOLO_MAX = 1024;

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
  private gen = 0;
  /** Per worker: its ack when last looked at, and since when it has not moved (−1: it moved). */
  private readonly lastAck: number[];
  private readonly lagSince: number[];
  /** Why the pool stopped using its workers, or null. */
  private degradedWhy: string | null = null;
  private readonly argv = new Array<number>(MAX_ARGS).fill(0);
  /** Parallel calls made so far (tests check that the threaded path ran). */
  parallelCalls = 0;
  /**
   * Over the pool's life: chunks the calling thread ran and chunks workers ran; calls in
   * which the caller waited for a worker's claimed chunk, and the milliseconds it waited;
   * waits that hit the bound; calls run on the caller alone while backing off; parallel
   * calls in which no worker took a chunk (all asleep or descheduled until the caller had
   * run every chunk itself).
   */
  readonly stats = { callerChunks: 0, workerChunks: 0, waits: 0, waitMs: 0, timeouts: 0, soloCalls: 0, missed: 0 };
  /** How long the caller waits for a claimed chunk, and for a worker to take a job, before taking it for dead (ms). */
  boundMs = BOUND_MS;
  /** How long the caller polls for a worker's claimed chunk before it blocks (ms). */
  callerSpinMs = CALLER_SPIN_MS;
  /**
   * Whether the pool backs off to the calling thread alone while waits for preempted
   * workers cost more than they save (see judge()); tests that must exercise the workers
   * turn it off.
   */
  adaptive = true;
  /** Share of recent calls' time lost to waits beyond a chunk (an average), calls left to run alone, and the next backoff. */
  private busy = 0;
  private soloLeft = 0;
  private soloNext = SOLO_MIN;
  /**
   * How long a worker polls for the next job after its last one before it blocks in
   * Atomics.wait (ms, kept in the control block as whole µs; workers read it before each
   * wait, so a change applies from their next idle spell).
   */
  get spinMs(): number { return Atomics.load(this.i32, this.head + SPIN) / 1000; }
  set spinMs(ms: number) {
    if (!(ms >= 0 && ms <= 1000)) throw new RangeError(`regula thread pool: spinMs must be in [0, 1000], got ${ms}`);
    Atomics.store(this.i32, this.head + SPIN, Math.round(ms * 1000));
  }
  /** Called once when the pool degrades (the storage drops to one thread and reports why). */
  onDegrade: ((why: string) => void) | null = null;

  private constructor(private readonly workers: AnyWorker[], memory: WebAssembly.Memory, private readonly ctrl: number,
    names: readonly string[], private readonly fns: ((...a: number[]) => unknown)[]) {
    this.size = workers.length + 1;
    // The control block sits low in the heap and never moves: views made now stay valid after growth.
    this.i32 = new Int32Array(memory.buffer);
    this.f64 = new Float64Array(memory.buffer);
    this.head = ctrl >> 2;
    names.forEach((n, i) => this.ids.set(n, i));
    let block = true;
    try { Atomics.wait(this.i32, this.head + DONE, -1, 0); } catch { block = false; } // a browser main thread may not wait
    this.canBlock = block;
    this.lastAck = workers.map(() => 0);
    this.lagSince = workers.map(() => -1);
  }

  /** Bytes of the control block (for up to MAX_WORKERS workers). */
  static ctrlBytes(workers: number): number {
    if (workers > MAX_WORKERS) throw new RangeError(`regula thread pool: at most ${MAX_WORKERS} workers, got ${workers}`);
    return STATUS_BYTE + 4 * MAX_CHUNKS;
  }

  /**
   * Starts `workers` workers on `memory`, each instantiating `module`, allowed to run the
   * exports `names` (the caller runs the same exports: `fns`, looked up by the loader). `ctrl`: a 64-byte
   * aligned block of ctrlBytes(workers) that stays put for the pool's life (the storage's
   * scratch slot 'threads.ctrl').
   */
  static async create(module: WebAssembly.Module, memory: WebAssembly.Memory, ctrl: number, workers: number,
    names: readonly string[], fns: ((...a: number[]) => unknown)[], src?: WorkerSource): Promise<ThreadPool> {
    const words = new Int32Array(memory.buffer, ctrl, ThreadPool.ctrlBytes(workers) >> 2);
    words.fill(0);
    Atomics.store(words, SPIN, Math.round(WORKER_SPIN_MS * 1000));
    const started: (AnyWorker & { onReady: Promise<void> })[] = [];
    try {
      for (let w = 1; w <= workers; w++) {
        const wk = spawn(src);
        started.push(wk);
        const init: WorkerInit = { module, memory, ctrl, slot: w, names: [...names] };
        wk.postMessage(init);
      }
      await Promise.all(started.map((w) => w.onReady));
    } catch (e) {
      for (const w of started) void w.terminate();
      throw e;
    }
    const pool = new ThreadPool(started, memory, ctrl, names, fns);
    started.forEach((w, i) => w.onGone?.((why) => pool.degrade(`worker ${i + 1} ${why}`)));
    return pool;
  }

  /** The id of export `name` for a RangeCall; throws when the pool was not given it. */
  fn(name: string): number {
    const id = this.ids.get(name);
    if (id === undefined) throw new TypeError(`regula thread pool: ${name} is not a pooled export`);
    return id;
  }

  /** Why the pool no longer uses its workers, or null while it does. */
  get degraded(): string | null { return this.degradedWhy; }

  /**
   * Runs `call` over its range: the chunks are claimed by the workers and the calling
   * thread from one shared counter; returns when every chunk is done. Without workers
   * (degraded, terminated) the caller runs every chunk, in order.
   */
  run(call: RangeCall): void {
    const { end, step } = call;
    if (!(end > 0)) return;
    const n = Math.ceil(end / step);
    if (!(step > 0) || n > MAX_CHUNKS) throw new RangeError(`regula thread pool: ${n} chunks of ${step} over [0, ${end}) (at most ${MAX_CHUNKS})`);
    const f = this.fns[call.fn]!;
    if (this.degradedWhy !== null || this.closed) {
      for (let c = 0; c < n; c++) this.runChunk(f, call, c, 0);
      return;
    }
    this.checkAcks();
    if (this.degradedWhy !== null) { this.run(call); return; }
    if (this.soloLeft > 0) {
      // Backing off on a busy machine: this call runs on the caller alone (no wake, no wait).
      this.soloLeft--;
      this.stats.soloCalls++;
      for (let c = 0; c < n; c++) this.runChunk(f, call, c, 0);
      return;
    }
    const t0 = performance.now();
    const i32 = this.i32, h = this.head, f64 = this.f64, a = (this.ctrl + ARGS_BYTE) >> 3;
    // Close the claim word before any job data changes: a worker that read the previous
    // generation and runs only now must find no chunk to claim, whatever job words it reads
    // from here on (see "Publishing a job" in the file note).
    Atomics.store(i32, h + CLAIM, CLOSED);
    Atomics.store(i32, h + FN, call.fn); Atomics.store(i32, h + NCHUNKS, n); Atomics.store(i32, h + END, end); Atomics.store(i32, h + STEP, step);
    for (let i = 0; i < MAX_ARGS; i++) {
      f64[a + i] = i < call.args.length ? call.args[i]! : 0;
      f64[a + MAX_ARGS + i] = call.start?.[i] ?? 0;
      f64[a + 2 * MAX_ARGS + i] = call.len?.[i] ?? 0;
      f64[a + 3 * MAX_ARGS + i] = call.thread?.[i] ?? 0;
    }
    i32.fill(0, (this.ctrl + STATUS_BYTE) >> 2, ((this.ctrl + STATUS_BYTE) >> 2) + n);
    const g = this.gen = (this.gen + 1) | 0;
    Atomics.store(i32, h + DONE, 0);
    Atomics.store(i32, h + ERROR, 0);
    const tag = (g & TAG_MASK) << CHUNK_BITS;
    Atomics.store(i32, h + CLAIM, tag);
    Atomics.store(i32, h + GEN, g);
    Atomics.notify(i32, h + GEN);
    this.parallelCalls++;
    // The caller claims like any worker.
    let mine = 0;
    for (;;) {
      const w = Atomics.load(i32, h + CLAIM), c = w & CHUNK_MASK;
      if ((w & ~CHUNK_MASK) !== tag || c >= n) break;
      if (Atomics.compareExchange(i32, h + CLAIM, w, w + 1) !== w) continue;
      try { this.runChunk(f, call, c, 0); } finally { Atomics.store(i32, ((this.ctrl + STATUS_BYTE) >> 2) + c, 1); Atomics.add(i32, h + DONE, 1); }
      mine++;
    }
    this.stats.callerChunks += mine;
    if (mine === n) this.stats.missed++;
    this.stats.workerChunks += n - mine;
    let waited = 0;
    if (Atomics.load(i32, h + DONE) < n) {
      const t1 = performance.now();
      this.stats.waits++;
      try { this.await(n, f, call); } finally { waited = performance.now() - t1; this.stats.waitMs += waited; }
      if (this.adaptive) this.judge(t0, t1, mine, waited);
    } else if (this.adaptive) {
      this.busy -= BUSY_DECAY * this.busy;
    }
    const failed = Atomics.load(i32, h + ERROR);
    if (failed !== 0) throw new Error(`regula: worker thread ${failed} failed in a kernel call (see its error message)`);
  }

  /**
   * Backs off when waiting costs: a wait longer than two of the caller's own chunks means
   * a worker was preempted holding a chunk (a busy machine), not just finishing its last
   * one. When such excess waiting averages over BUSY_MAX of call time, the next calls run
   * on the caller alone (16, then twice as many after each busy probe, up to 1024).
   */
  private judge(t0: number, t1: number, mine: number, waited: number): void {
    const own = mine > 0 ? (t1 - t0) / mine : 0;
    const excess = Math.max(0, waited - 2 * own) / (t1 - t0 + waited);
    this.busy += BUSY_DECAY * (excess - this.busy);
    if (this.busy > BUSY_MAX) {
      this.soloLeft = this.soloNext;
      this.soloNext = Math.min(SOLO_MAX, 2 * this.soloNext);
      this.busy = 0;
    } else if (this.busy < BUSY_MAX / 4) {
      this.soloNext = SOLO_MIN;
    }
  }

  /** Waits (bounded) until the workers finished the chunks they claimed; past the bound, degrades and reruns them. */
  private await(n: number, f: (...a: number[]) => unknown, call: RangeCall): void {
    const i32 = this.i32, at = this.head + DONE, t0 = performance.now();
    let v = Atomics.load(i32, at);
    // A claimed chunk is running now: poll briefly, then block so a preempted worker gets this core.
    while (v < n && performance.now() - t0 < this.callerSpinMs) {
      for (let s = 0; s < 200 && v < n; s++) v = Atomics.load(i32, at);
    }
    if (v < n && this.canBlock) {
      Atomics.store(i32, this.head + WAITING, 1);
      for (v = Atomics.load(i32, at); v < n; v = Atomics.load(i32, at)) {
        const left = this.boundMs - (performance.now() - t0);
        if (left <= 0) break;
        Atomics.wait(i32, at, v, Math.min(left, 50));
      }
      Atomics.store(i32, this.head + WAITING, 0);
    } else {
      while (v < n && performance.now() - t0 < this.boundMs) {
        for (let s = 0; s < 1000 && v < n; s++) v = Atomics.load(i32, at);
      }
    }
    if (v >= n) return;
    this.stats.timeouts++;
    // Past the bound: stop every worker first, so none writes after we return.
    const status = (this.ctrl + STATUS_BYTE) >> 2;
    const missing: number[] = [];
    for (let c = 0; c < n; c++) if (Atomics.load(i32, status + c) === 0) missing.push(c);
    this.degrade(`a worker did not finish its part of a call within ${this.boundMs} ms (chunks ${missing.join(', ')} of ${n})`);
    if (!call.rerunnable) {
      throw new Error(`regula: a worker thread stopped answering inside an in-place kernel call (export ${call.fn}); ` +
        `its outputs are incomplete. The pool is stopped: later calls run on the calling thread.`);
    }
    for (const c of missing) this.runChunk(f, call, c, 0);
  }

  private runChunk(f: (...a: number[]) => unknown, call: RangeCall, c: number, t: number): void {
    const r0 = c * call.step, r1 = Math.min(call.end, r0 + call.step), x = this.argv, base = call.args;
    for (let i = 0; i < base.length; i++) {
      x[i] = base[i]! + (call.start?.[i] ?? 0) * r0 + (call.len?.[i] ?? 0) * (r1 - r0) + (call.thread?.[i] ?? 0) * t;
    }
    f(x[0]!, x[1]!, x[2]!, x[3]!, x[4]!, x[5]!, x[6]!, x[7]!, x[8]!, x[9]!, x[10]!, x[11]!, x[12]!, x[13]!, x[14]!, x[15]!);
  }

  /** Marks workers whose ack has not moved for boundMs of posted jobs as gone. */
  private checkAcks(): void {
    const i32 = this.i32;
    let now = -1;
    for (let w = 0; w < this.workers.length; w++) {
      const ack = Atomics.load(i32, this.head + ACK + w + 1);
      if (ack === this.gen || ack !== this.lastAck[w]) { this.lastAck[w] = ack; this.lagSince[w] = -1; continue; }
      if (now < 0) now = performance.now();
      if (this.lagSince[w]! < 0) this.lagSince[w] = now;
      else if (now - this.lagSince[w]! > this.boundMs) {
        this.degrade(`worker ${w + 1} took no job for ${Math.round(now - this.lagSince[w]!)} ms while jobs were posted (it exited or hangs)`);
        return;
      }
    }
  }

  /** Stops using the workers for good (they are terminated); later calls run on the calling thread. */
  degrade(why: string): void {
    if (this.degradedWhy !== null || this.closed) return;
    this.degradedWhy = why;
    this.stopWorkers();
    this.onDegrade?.(why);
  }

  /** True once terminate() has run. */
  get terminated(): boolean { return this.closed; }

  /** Stops every worker. The pool cannot be used afterwards. */
  terminate(): void {
    if (this.closed) return;
    this.stopWorkers();
    this.closed = true;
  }

  private stopWorkers(): void {
    const i32 = this.i32, h = this.head;
    // Any chunk left in the current job is no longer claimable by a worker.
    Atomics.store(i32, h + CLAIM, CLOSED);
    i32[h + FN] = EXIT;
    Atomics.store(i32, h + GEN, (this.gen = (this.gen + 1) | 0));
    Atomics.notify(i32, h + GEN);
    for (const w of this.workers) void w.terminate();
  }
}

/**
 * One parallel call for ThreadPool.run: export `fn` (pool.fn(name)) runs once per chunk
 * [r0, r1) of the range [0, end), chunks `step` long (the last one shorter). Its argument
 * i (at most 16) is
 *     args[i] + start[i]·r0 + len[i]·(r1 − r0) + thread[i]·t
 * with t the thread (0: the caller, 1…: workers); missing coefficients are 0. So a float
 * pointer that advances with the chunk has start 4, an element count len 1, a row range
 * (r0, r1) start 1 and start 1 + len 1, and a per-thread scratch block thread = its size.
 * `rerunnable`: the outputs do not overlap the inputs (no in-place update, no accumulate),
 * so a chunk a dead worker left half-done can be run again with the same result.
 */
export interface RangeCall {
  fn: number;
  end: number;
  step: number;
  args: ArrayLike<number>;
  start?: ArrayLike<number>;
  len?: ArrayLike<number>;
  thread?: ArrayLike<number>;
  rerunnable: boolean;
}

/** @internal The default chunks per thread of chunkSize (mutable for bench/ab-pool.ts's paired runs). */
export const POOL_TUNING = { perThread: 4 };

/**
 * The chunk length for a range of n: about `perThread` chunks per thread (threads that run
 * at uneven speed balance, and a late worker leaves whole chunks to the others), a multiple
 * of `align`, at least `min`, at most `max` unless the control block's chunk count needs more.
 */
export function chunkSize(n: number, threads: number, align: number, min: number, max = Infinity, perThread = POOL_TUNING.perThread): number {
  const up = (v: number) => Math.ceil(v / align) * align;
  const want = Math.min(Math.max(up(n / (threads * perThread)), up(min), align), max);
  return Math.max(want, up(n / MAX_CHUNKS));
}
