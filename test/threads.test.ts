/**
 * Threads: the wasm backend on a shared memory with a worker pool gives the same bits for
 * 1, 2 and 3 threads and the same as the js backend — matmul in all four transpose modes,
 * with and without accumulate, above and below the size where threads are used, m not a
 * multiple of the thread count; the elementwise and optimizer passes likewise. be.info()
 * says how the backend runs and why threads are off; memory growth keeps views and workers
 * right; a Node process with a pool exits by itself.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadBackend, type Backend, type Tensor } from '../src/index.js';
import { MATMUL_THREAD_MIN } from '../src/backend/wasm/matmul.js';
import { ELEMENTWISE_THREAD_MIN } from '../src/backend/wasm/elementwise.js';
import { OPTIM_THREAD_MIN } from '../src/backend/wasm/optim.js';
import { LAYERNORM_THREAD_MIN } from '../src/backend/wasm/layernorm.js';
import { firstBitDiff, randomF32, threadPool } from './helpers.js';

const [t1, t2, t3, js] = await Promise.all([
  loadBackend('wasm', { threads: 1 }), loadBackend('wasm', { threads: 2 }), loadBackend('wasm', { threads: 3 }), loadBackend('js'),
]);
/** Parallel calls of one threaded matmul with inner dimension k: packing op(b), then the rows of each K block (256 deep at most). */
const matmulCalls = (k: number) => 1 + Math.ceil(k / 256);
const ALL = [['wasm 1 thread', t1], ['wasm 2 threads', t2], ['wasm 3 threads', t3], ['js', js]] as const;

/** out = a·b (a m×k, b k×n, as Float32Arrays) on `be`, returned as a copy; the tensors are disposed. */
function matmulOn(be: Backend, m: number, n: number, k: number, a: Float32Array, b: Float32Array): Float32Array {
  const A = be.tensor([m, k], a), B = be.tensor([k, n], b), out = be.zeros([m, n]);
  be.kernels.matmul(out, A, B);
  const r = out.data.slice();
  for (const x of [A, B, out]) x.dispose();
  return r;
}

const pool = threadPool;
// These tests check which calls take the threaded path: no backing off on this busy machine.
pool(t2).adaptive = false;
pool(t3).adaptive = false;

/** Runs `f` on every backend and expects the same bits from each as from js; returns how many parallel calls each pooled backend made. */
function sameOnAll(f: (be: Backend) => Float32Array[]): number[] {
  const before = [pool(t2).parallelCalls, pool(t3).parallelCalls];
  const ref = f(js);
  for (const [name, be] of ALL) {
    if (be === js) continue;
    const got = f(be);
    got.forEach((g, i) => {
      const d = firstBitDiff(g, ref[i]!);
      expect(d, `${name}, output ${i}: element ${d} is ${g[d]}, js gives ${ref[i]![d]}`).toBe(-1);
    });
  }
  return [pool(t2).parallelCalls - before[0]!, pool(t3).parallelCalls - before[1]!];
}

describe('loading with threads', () => {
  it('be.info() reports threads, shared memory and why threads are off', () => {
    expect(t1.info()).toEqual({ kind: 'wasm', threads: 1, sharedMemory: false, reason: 'threads: 1 was asked for', requested: 1, degraded: false });
    expect(t2.info()).toEqual({ kind: 'wasm', threads: 2, sharedMemory: true, reason: null, requested: 2, degraded: false });
    expect(t3.info()).toMatchObject({ threads: 3, sharedMemory: true, reason: null });
    expect(js.info()).toMatchObject({ kind: 'js', threads: 1, sharedMemory: false });
    expect(t2.memory().liveBytes).toBe(0); // the control block and scratch are not live tensor memory
  });

  it('defaults to the available cores', async () => {
    const os = await import('node:os');
    const be = await loadBackend('wasm');
    try {
      const cores = os.availableParallelism();
      expect(be.info().requested).toBe(cores);
      expect(be.info().threads).toBe(cores);
      expect(be.info().sharedMemory).toBe(cores > 1);
    } finally {
      be.dispose();
    }
  });

  it('runs on one thread, saying why, where the page is not cross-origin isolated', async () => {
    const g = globalThis as { crossOriginIsolated?: boolean };
    g.crossOriginIsolated = false;
    try {
      const be = await loadBackend('wasm', { threads: 2 });
      const info = be.info();
      expect(info).toMatchObject({ threads: 1, sharedMemory: false, requested: 2 });
      expect(info.reason).toMatch(/cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
      const a = be.tensor([2, 2], [1, 2, 3, 4]), out = be.zeros([2, 2]);
      be.kernels.matmul(out, a, a);
      expect(Array.from(out.data)).toEqual([7, 10, 15, 22]);
    } finally {
      delete g.crossOriginIsolated;
    }
  });

  it('takes both binaries as bytes; with only the single-thread one it runs on one thread and says why', async () => {
    const { readFile } = await import('node:fs/promises');
    const wasm = await readFile(new URL('../build/regula.wasm', import.meta.url));
    const wasmThreads = await readFile(new URL('../build/regula-mt.wasm', import.meta.url));
    const both = await loadBackend('wasm', { threads: 2, wasm, wasmThreads });
    expect(both.info()).toMatchObject({ threads: 2, sharedMemory: true, reason: null });
    both.dispose();
    const one = await loadBackend('wasm', { threads: 2, wasm });
    expect(one.info()).toMatchObject({ threads: 1, sharedMemory: false, requested: 2 });
    expect(one.info().reason).toMatch(/wasmThreads/);
  });

  it('rejects a bad threads option with a RangeError', async () => {
    for (const bad of [0, -1, 1.5, NaN, '2']) {
      await expect(loadBackend('wasm', { threads: bad as number })).rejects.toThrow(RangeError);
    }
  });

  it('be.dispose() stops the workers; kernels keep working on one thread with the same bits', async () => {
    const be = await loadBackend('wasm', { threads: 2 });
    pool(be).adaptive = false; // this test counts threaded calls: no backing off on a busy machine
    const m = 256, n = 128, k = 128; // at MATMUL_THREAD_MIN
    const a = randomF32(m * k, 5), b = randomF32(k * n, 6);
    const mm = (x: Backend) => {
      const out = x.zeros([m, n]);
      x.kernels.matmul(out, x.tensor([m, k], a), x.tensor([k, n], b));
      return out.data.slice();
    };
    const before = mm(be);
    expect(pool(be).parallelCalls).toBe(matmulCalls(k));
    be.dispose();
    be.dispose(); // idempotent
    expect(be.info()).toMatchObject({ threads: 1, sharedMemory: true });
    expect(be.info().reason).toMatch(/dispose/);
    expect(firstBitDiff(mm(be), before)).toBe(-1);
    expect(firstBitDiff(before, mm(js))).toBe(-1);
  });
});

describe('matmul: the same bits for 1, 2 and 3 threads and js', () => {
  const MODES = [[false, false], [false, true], [true, false], [true, true]] as const;
  // m·n·k above and below MATMUL_THREAD_MIN; m not a multiple of 2, 3 or 4; n with an edge panel; k over several K blocks;
  // n over the threaded path's 256-column N blocks (300: a short last block with an edge panel; 520: three blocks).
  const SHAPES = [[67, 129, 600], [130, 67, 520], [301, 33, 520], [64, 256, 784], [97, 10, 1200], [64, 128, 64], [20, 9, 5], [8, 8, 8], [17, 40, 100],
    [48, 300, 300], [33, 520, 250], [16, 512, 520]] as const;
  for (const [m, n, k] of SHAPES) {
    const above = m * n * k >= MATMUL_THREAD_MIN;
    it(`${m}x${k}x${n} (${above ? 'threaded' : 'below the threshold'}), all transpose modes, with and without accumulate`, () => {
      let calls = [0, 0];
      for (const [tA, tB] of MODES) {
        for (const accumulate of [false, true]) {
          const a = randomF32(m * k, m + 3 * n), b = randomF32(k * n, k + 7), c0 = randomF32(m * n, 99, 3);
          const c = sameOnAll((be) => {
            const A = be.tensor(tA ? [k, m] : [m, k], a), B = be.tensor(tB ? [n, k] : [k, n], b), out = be.tensor([m, n], c0);
            be.kernels.matmul(out, A, B, { transA: tA, transB: tB, accumulate });
            const r = [out.data.slice(), A.data.slice(), B.data.slice()];
            A.dispose(); B.dispose(); out.dispose();
            return r;
          });
          calls = [calls[0]! + c[0]!, calls[1]! + c[1]!];
        }
      }
      // The threaded path ran exactly where it should (so these comparisons test it).
      const runs = 8 * matmulCalls(k);
      expect(calls).toEqual(above && m >= 16 ? [runs, above && m >= 24 ? runs : 0] : [0, 0]);
    });
  }
});

describe('elementwise and optimizer passes: the same bits for 1, 2 and 3 threads and js', () => {
  const SIZES = [1000, ELEMENTWISE_THREAD_MIN - 1, ELEMENTWISE_THREAD_MIN, ELEMENTWISE_THREAD_MIN + 17, 200_003];
  type Op = [string, (be: Backend, t: (seed: number) => Tensor) => Tensor[]];
  const OPS: Op[] = [
    ['add', (be, t) => { const a = t(1), b = t(2); return [be.kernels.add(a, a, b)]; }],
    ['mul', (be, t) => { const a = t(1), b = t(2), o = t(3); return [be.kernels.mul(o, a, b)]; }],
    ['scale', (be, t) => { const a = t(1), o = t(3); return [be.kernels.scale(o, a, -1.7)]; }],
    ['axpy', (be, t) => { const y = t(1), x = t(2); return [be.kernels.axpy(y, x, 0.3)]; }],
    ['fill', (be, t) => [be.kernels.fill(t(1), 2.5)]],
    ['relu', (be, t) => { const a = t(1); return [be.kernels.relu(a, a)]; }],
    ['reluBackward', (be, t) => { const g = t(1), x = t(2); return [be.kernels.reluBackward(g, g, x)]; }],
    ['mseBackward', (be, t) => { const a = t(1), b = t(2), o = t(3); return [be.kernels.mseBackward(o, a, b, 0.01)]; }],
    // gelu inputs over [-8, 8]: both signs, the core and the tails
    ['gelu', (be, t) => { const a = t(1); a.data.set(randomF32(a.size, 5, 8)); return [be.kernels.gelu(a, a)]; }],
    ['geluBackward', (be, t) => { const g = t(1), x = t(2), o = t(3); x.data.set(randomF32(x.size, 6, 8)); return [be.kernels.geluBackward(o, g, x)]; }],
    ['geluWithGrad', (be, t) => { const x = t(1), o = t(2), d = t(3); x.data.set(randomF32(x.size, 7, 8)); be.kernels.geluWithGrad(o, d, x); return [o, d]; }],
  ];
  for (const [name, op] of OPS) {
    it(`${name} at sizes ${SIZES.join(', ')}`, () => {
      let calls = 0;
      for (const n of SIZES) {
        calls += sameOnAll((be) => {
          const made: Tensor[] = [];
          const t = (seed: number) => { const x = be.tensor([n], randomF32(n, seed + n)); made.push(x); return x; };
          const r = op(be, t).map((x) => x.data.slice());
          for (const x of made) x.dispose();
          return r;
        })[0]!;
      }
      expect(calls).toBe(SIZES.filter((n) => n >= ELEMENTWISE_THREAD_MIN).length);
    });
  }

  it('addRowVector over row ranges', () => {
    const calls = [[8, 3], [16411, 17], [1031, 256], [3, 100000]].map(([rows, cols]) => sameOnAll((be) => {
      const x = be.tensor([rows!, cols!], randomF32(rows! * cols!, rows!)), b = be.tensor([cols!], randomF32(cols!, 7));
      be.kernels.addRowVector(x, x, b);
      const r = [x.data.slice()];
      x.dispose(); b.dispose();
      return r;
    })[0]!);
    expect(calls).toEqual([0, 1, 1, 0]);
  });

  it('layerNorm and layerNormBackward over row and column ranges (with and without weight and bias)', () => {
    // [rows, cols]: below the threshold, at it, odd widths (pair and scalar tails in both
    // phases), fewer columns than a chunk, and more rows than columns.
    const shapes = [[100, 64], [LAYERNORM_THREAD_MIN / 128, 128], [769, 131], [4099, 17], [257, 515]] as const;
    const above = shapes.filter(([r, c]) => r * c >= LAYERNORM_THREAD_MIN).length;
    for (const affine of [true, false]) {
      const calls = shapes.map(([rows, cols]) => sameOnAll((be) => {
        const x = be.tensor([rows, cols], randomF32(rows * cols, rows + cols, 3));
        const g = be.tensor([rows, cols], randomF32(rows * cols, rows * 7));
        const w = affine ? be.tensor([cols], randomF32(cols, 11, 2)) : null, b = affine ? be.tensor([cols], randomF32(cols, 12)) : null;
        const out = be.zeros([rows, cols]), dx = be.zeros([rows, cols]), mean = be.zeros([rows]), rstd = be.zeros([rows]);
        // dweight and dbias start nonzero: the kernel adds into them
        const dw = be.tensor([cols], randomF32(cols, 13)), db = be.tensor([cols], randomF32(cols, 14));
        be.kernels.layerNorm(out, x, w, b, mean, rstd, 1e-5);
        be.kernels.layerNormBackward(dx, g, x, w, mean, rstd, dw, db);
        const r = [out.data.slice(), mean.data.slice(), rstd.data.slice(), dx.data.slice(), dw.data.slice(), db.data.slice()];
        for (const t of [x, g, w, b, out, dx, mean, rstd, dw, db]) t?.dispose();
        return r;
      })[0]!);
      // forward, backward rows, backward columns: three parallel calls per shape above the threshold
      expect(calls.reduce((s, c) => s + c, 0)).toBe(3 * above);
    }
  });

  const OSIZES = [5000, OPTIM_THREAD_MIN + 3, 200_003];
  it(`adamStep (Adam, AdamW, amsgrad, l1, maximize) over 3 steps at sizes ${OSIZES.join(', ')}`, () => {
    let calls = 0;
    for (const n of OSIZES) {
      for (const [decoupled, amsgrad, l1, maximize] of [[true, false, 0, false], [false, true, 1e-3, false], [true, true, 0, true]] as const) {
        calls += sameOnAll((be) => {
          const p = be.tensor([n], randomF32(n, 1)), m = be.zeros([n]), v = be.zeros([n]), vmax = be.zeros([n]), g = be.tensor([n], randomF32(n, 2));
          for (let step = 1; step <= 3; step++) {
            be.kernels.adamStep(p, g, m, v, amsgrad ? vmax : null, { lr: 0.01, weightDecay: 0.05, decoupled, amsgrad, l1, maximize, step });
          }
          const r = [p.data.slice(), m.data.slice(), v.data.slice(), vmax.data.slice()];
          for (const x of [p, m, v, vmax, g]) x.dispose();
          return r;
        })[0]!;
      }
    }
    expect(calls).toBe(2 * 3 * 3);
  });

  it(`sgdStep (momentum, nesterov, dampening, l1) over 3 steps at sizes ${OSIZES.join(', ')}`, () => {
    let calls = 0;
    for (const n of OSIZES) {
      for (const o of [{ lr: 0.1 }, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }, { lr: 0.05, momentum: 0.8, dampening: 0.1, l1: 1e-2, maximize: true }]) {
        calls += sameOnAll((be) => {
          const p = be.tensor([n], randomF32(n, 3)), g = be.tensor([n], randomF32(n, 4)), buf = be.zeros([n]);
          for (let step = 1; step <= 3; step++) be.kernels.sgdStep(p, g, o.momentum ? buf : null, { ...o, first: step === 1 });
          const r = [p.data.slice(), buf.data.slice()];
          for (const x of [p, g, buf]) x.dispose();
          return r;
        })[0]!;
      }
    }
    expect(calls).toBe(2 * 3 * 3);
  });
});

describe('memory growth while a pool exists', () => {
  it('views stay valid and workers compute on memory added after they started', async () => {
    const be = await loadBackend('wasm', { threads: 2 });
    pool(be).adaptive = false; // this test counts threaded calls: no backing off on a busy machine
    try {
      const keep = be.tensor([1000], randomF32(1000, 1));
      const view = keep.data;
      const heap0 = be.memory().heapBytes;
      // ~40 MB more: the shared memory grows several times; the new tensors lie above the old end.
      const m = 512, k = 1024, n = 1024;
      const a = be.tensor([m, k], randomF32(m * k, 2)), b = be.tensor([k, n], randomF32(k * n, 3));
      const filler = be.zeros([8 << 20]);
      const out = be.zeros([m, n]);
      expect(be.memory().heapBytes).toBeGreaterThan(heap0 + 35e6);
      expect(out._h).toBeGreaterThan(heap0);
      // The old view still reads the same memory (shared buffers are never detached), and data is current.
      expect(firstBitDiff(view, randomF32(1000, 1))).toBe(-1);
      expect(keep.data.buffer).toBe(be._s.buffer());
      const calls = pool(be).parallelCalls;
      be.kernels.matmul(out, a, b);
      be.kernels.add(filler, filler, filler);
      expect(pool(be).parallelCalls).toBe(calls + matmulCalls(k) + 1);
      // the rows computed by the worker (the second half) too
      const ja = js.tensor([m, k], a.data), jb = js.tensor([k, n], b.data), jo = js.zeros([m, n]);
      js.kernels.matmul(jo, ja, jb);
      expect(firstBitDiff(out.data, jo.data)).toBe(-1);
      for (const t of [ja, jb, jo, keep, a, b, filler, out]) t.dispose();
    } finally {
      be.dispose();
    }
  });
});

describe('the pool passes arguments exactly', () => {
  it('a pointer above 8 MB that is 4 mod 8 reaches every thread unchanged, advanced per chunk (f64 argument words are not overwritten)', () => {
    const be = t3;
    const big = be.zeros([3 << 20]); // 12 MB: addresses past 2^23 need the low word of their f64
    try {
      const p = pool(be);
      const base = big._h as unknown as number;
      let first = Math.max(1, Math.ceil(((1 << 23) - base) / 4) + 1);
      if ((base + 4 * first) % 8 === 0) first++;
      const ptr = base + 4 * first;
      expect(ptr).toBeGreaterThan(1 << 23);
      expect(ptr % 8).toBe(4);
      // fill(out, n, value) over 1,000 chunks of 4 floats: out advances 5 bytes per element (20 per chunk), leaving a gap of one float
      const chunks = p.stats.workerChunks + p.stats.callerChunks;
      p.run({ fn: p.fn('fill'), end: 4000, step: 4, args: [ptr, 0, 7], start: [5], len: [0, 1], rerunnable: true });
      expect(p.stats.workerChunks + p.stats.callerChunks - chunks).toBe(1000);
      const d = big.data;
      const got = d.subarray(first - 1, first + 5000 + 1);
      const want = new Float32Array(5002);
      for (let c = 0; c < 1000; c++) want.fill(7, 1 + 5 * c, 5 + 5 * c);
      expect(firstBitDiff(got, want)).toBe(-1);
    } finally {
      big.dispose();
    }
  });
});

describe('how long the threads poll before they block', () => {
  it('workers that block after every job and a caller that blocks at once give the same bits; spinMs is checked and read back', async () => {
    const be = await loadBackend('wasm', { threads: 2 });
    try {
      const p = pool(be);
      p.adaptive = false;
      expect(p.spinMs).toBeGreaterThan(0);
      for (const bad of [-1, 1001, NaN]) expect(() => { p.spinMs = bad; }).toThrow(/spinMs must be in \[0, 1000\]/);
      p.spinMs = 0.25;
      expect(p.spinMs).toBe(0.25);
      p.spinMs = 0; p.callerSpinMs = 0;
      const m = 96, n = 200, k = 300, a = randomF32(m * k, 21), b = randomF32(k * n, 22);
      const mm = (x: Backend) => matmulOn(x, m, n, k, a, b);
      const want = mm(js), calls = p.parallelCalls;
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 2)); // the worker is blocked in Atomics.wait by now
        expect(firstBitDiff(mm(be), want)).toBe(-1);
      }
      expect(p.parallelCalls - calls).toBe(5 * matmulCalls(k));
    } finally {
      be.dispose();
    }
  });
});

describe('backing off on a busy machine', () => {
  it('waits beyond two of the caller\'s chunks (a preempted worker) send the next calls to the caller alone; a normal tail wait does not', async () => {
    const be = await loadBackend('wasm', { threads: 2 });
    try {
      const p = pool(be) as unknown as { judge(t0: number, t1: number, mine: number, waited: number): void; soloLeft: number; soloNext: number; busy: number };
      // a call of 8 ms in which the caller ran 4 chunks (2 ms each) and waited 1.5 ms for the worker's last: normal, forever
      for (let i = 0; i < 1000; i++) p.judge(0, 8, 4, 1.5);
      expect(p.soloLeft).toBe(0);
      // waits of 10 ms (a worker preempted holding a chunk) on every call: backs off for 16 calls, then 32, ...
      let calls = 0;
      while (p.soloLeft === 0 && calls < 100) { p.judge(0, 8, 4, 10); calls++; }
      expect(p.soloLeft).toBe(16);
      expect(calls).toBeLessThan(10);
      p.soloLeft = 0;
      while (p.soloLeft === 0) p.judge(0, 8, 4, 10);
      expect(p.soloLeft).toBe(32);
      // calls during a backoff run on the caller alone, with the same bits
      const n = ELEMENTWISE_THREAD_MIN * 2, x = randomF32(n, 1), y = randomF32(n, 2);
      const calc = (b: Backend) => { const a = b.tensor([n], x), c = b.tensor([n], y); b.kernels.add(a, a, c); const r = a.data.slice(); a.dispose(); c.dispose(); return r; };
      const solo = pool(be).stats.soloCalls, left = p.soloLeft;
      expect(firstBitDiff(calc(be), calc(js))).toBe(-1);
      expect(pool(be).stats.soloCalls).toBe(solo + 1);
      expect(p.soloLeft).toBe(left - 1);
      // quiet again: the backoff length goes back to 16
      for (let i = 0; i < 100; i++) p.judge(0, 8, 4, 0.5);
      expect(p.soloNext).toBe(16);
    } finally {
      be.dispose();
    }
  });
});

/** test/fixtures/bad-worker.mjs in `mode`, as a data: URL module (see that file). */
const bad = (mode: 'exit' | 'idle' | 'hang' | 'late', ms = 0) => `data:text/javascript,${encodeURIComponent(
  `import { badWorker } from ${JSON.stringify(new URL('./fixtures/bad-worker.mjs', import.meta.url).href)}; badWorker(${JSON.stringify(mode)}, ${ms});`)}`;

describe('a worker that dies or stops answering', () => {
  const m = 256, n = 256, k = 200; // threaded, one K block: every part can be rerun by the caller
  const a = randomF32(m * k, 11), b = randomF32(k * n, 12);
  const mm = (be: Backend) => matmulOn(be, m, n, k, a, b);
  const want = mm(js);

  for (const mode of ['exit', 'idle'] as const) {
    it(`${mode === 'exit' ? 'exits' : 'idles'} after saying ready: calls complete with the same bits and no wait; the pool is marked degraded`, async () => {
      const be = await loadBackend('wasm', { threads: 2, workerUrl: bad(mode) });
      try {
        expect(be.info()).toMatchObject({ threads: 2, degraded: false });
        const p = pool(be);
        p.boundMs = 300;
        for (let i = 0; i < 3; i++) expect(firstBitDiff(mm(be), want)).toBe(-1);
        // the caller ran every chunk and never waited: the worker claimed nothing
        expect(p.stats).toMatchObject({ workerChunks: 0, waits: 0, timeouts: 0 });
        expect(p.stats.callerChunks).toBeGreaterThan(0);
        if (mode === 'exit') {
          // the worker's exit event (it comes when this thread's event loop runs; the machine may be busy)
          for (let i = 0; i < 100 && !be.info().degraded; i++) await new Promise((r) => setTimeout(r, 50));
          expect(be.info().reason).toMatch(/degraded: worker 1 exited with code 0/);
        } else {
          await new Promise((r) => setTimeout(r, p.boundMs + 50));
          expect(firstBitDiff(mm(be), want)).toBe(-1); // this call notices the ack has not moved for boundMs
          expect(be.info().reason).toMatch(/degraded: worker 1 took no job for \d+ ms/);
        }
        expect(be.info()).toMatchObject({ threads: 1, degraded: true, sharedMemory: true });
        expect(firstBitDiff(mm(be), want)).toBe(-1);
      } finally {
        be.dispose();
      }
    });
  }

  it('claims a chunk and never finishes it: one bounded wait, then the caller reruns the chunk: the same bits', async () => {
    const be = await loadBackend('wasm', { threads: 2, workerUrl: bad('hang') });
    try {
      const p = pool(be);
      p.boundMs = 400;
      for (let i = 0; i < 40 && !be.info().degraded; i++) expect(firstBitDiff(mm(be), want)).toBe(-1);
      expect(be.info()).toMatchObject({ threads: 1, degraded: true });
      expect(be.info().reason).toMatch(/did not finish its part of a call within 400 ms/);
      expect(p.stats.timeouts, 'one bounded wait').toBe(1);
      const calls = p.parallelCalls;
      expect(firstBitDiff(mm(be), want)).toBe(-1);
      expect(p.parallelCalls, 'later calls do not use the pool').toBe(calls);
      expect(p.stats.timeouts).toBe(1);
    } finally {
      be.dispose();
    }
  });

  it('claims a chunk of an in-place call and never finishes it: a clear error after one bounded wait, then one thread', async () => {
    const be = await loadBackend('wasm', { threads: 2, workerUrl: bad('hang') });
    try {
      const p = pool(be);
      p.boundMs = 300;
      const N = ELEMENTWISE_THREAD_MIN * 4;
      const y = be.zeros([N]), x = be.tensor([N], randomF32(N, 3));
      let err: unknown = null;
      for (let i = 0; i < 200 && err === null; i++) {
        try { be.kernels.axpy(y, x, 0.5); } catch (e) { err = e; }
      }
      expect(String(err)).toMatch(/stopped answering inside an in-place kernel call.*later calls run on the calling thread/);
      expect(be.info()).toMatchObject({ threads: 1, degraded: true });
      expect(p.stats.timeouts).toBe(1);
      const jy = js.zeros([N]);
      js.kernels.axpy(jy, js.tensor([N], x.data), 0.5);
      be.kernels.fill(y, 0);
      be.kernels.axpy(y, x, 0.5);
      expect(firstBitDiff(y.data, jy.data)).toBe(-1);
    } finally {
      be.dispose();
    }
  });
});

describe('a worker that runs late', () => {
  it('claims a chunk, stalls past the bound, then runs it: the caller reran it, and the late worker writes nothing after the call', async () => {
    const stall = 1500;
    const be = await loadBackend('wasm', { threads: 2, workerUrl: bad('late', stall) });
    try {
      const p = pool(be);
      p.boundMs = 200;
      p.adaptive = false;
      const N = ELEMENTWISE_THREAD_MIN * 4, xs = randomF32(N, 5), ys = randomF32(N, 6);
      const x = be.tensor([N], xs), y = be.tensor([N], ys), out = be.zeros([N]);
      const want = js.kernels.add(js.zeros([N]), js.tensor([N], xs), js.tensor([N], ys)).data;
      for (let i = 0; i < 200 && !be.info().degraded; i++) {
        be.kernels.add(out, x, y); // rerunnable: out is neither input
        expect(firstBitDiff(out.data, want)).toBe(-1);
      }
      expect(be.info().reason).toMatch(/did not finish its part of a call within 200 ms/);
      expect(p.stats.timeouts).toBe(1);
      // The stalled worker would now run its chunk and write x + y into out's memory; that
      // memory belongs to later work. Terminated at the timeout, it must not.
      be.kernels.fill(out, 0);
      await new Promise((r) => setTimeout(r, stall + 500));
      expect(out.data.findIndex((v) => v !== 0), 'a late write after the call returned').toBe(-1);
    } finally {
      be.dispose();
    }
  });

  it('a worker that read the previous job and runs only now claims nothing of the next: the claim word is closed before any job word changes', () => {
    const p = pool(t2), c = p as unknown as { i32: Int32Array; head: number };
    const CLAIM = 1, NCHUNKS = 5, CHUNK_MASK = (1 << 11) - 1, STEP = 1 << 14;
    const N1 = 4 * STEP, N2 = 16 * STEP;
    const out = t2.zeros([N2]), ptr = out._h as unknown as number;
    const fill = (n: number, args: ArrayLike<number>) => p.run({ fn: p.fn('fill'), end: n, step: STEP, args, start: [4, 0, 0], len: [0, 1, 0], rerunnable: true });
    const calls = p.parallelCalls;
    fill(N1, [ptr, 0, 1]); // job g: 4 chunks
    const before = Atomics.load(c.i32, c.head + CLAIM); // g's tag, exhausted at 4
    let seen: number | null = null, phantom = false;
    // Read by the caller while it publishes job g+1 (16 chunks): there a worker still on g
    // reads the job words and tries to claim, as src/backend/wasm/worker.ts does.
    const args = new Proxy([ptr, 0, 2], {
      get(t, k) {
        if (k === '0' && seen === null) {
          const w = (seen = Atomics.load(c.i32, c.head + CLAIM)), n = Atomics.load(c.i32, c.head + NCHUNKS);
          if ((w & ~CHUNK_MASK) === (before & ~CHUNK_MASK) && (w & CHUNK_MASK) < n) phantom = Atomics.compareExchange(c.i32, c.head + CLAIM, w, w + 1) === w;
        }
        return Reflect.get(t, k);
      },
    });
    fill(N2, args);
    expect(p.parallelCalls - calls, 'both calls went to the pool').toBe(2);
    expect(before & CHUNK_MASK).toBe(4);
    expect(seen, 'the claim word while the job words change (CLOSED)').toBe(-1);
    expect(phantom, 'a stale worker claimed a chunk of the next job').toBe(false);
    expect(out.data.findIndex((v) => v !== 2)).toBe(-1);
    out.dispose();
  });
});

describe('Node processes exit with a pool alive', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const script = (dispose: boolean) => `
    import { loadBackend } from './src/index.ts';
    const be = await loadBackend('wasm', { threads: 2 });
    const a = be.tensor([256, 256], new Float32Array(65536).fill(1)), out = be.zeros([256, 256]);
    be.kernels.matmul(out, a, a);
    console.log(JSON.stringify({ info: be.info(), v: out.data[0] }));
    ${dispose ? 'be.dispose();' : ''}`;
  for (const dispose of [false, true]) {
    it(`exits promptly ${dispose ? 'after be.dispose()' : 'without be.dispose() (workers are unref()ed)'}`, () => {
      const t0 = Date.now();
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(dispose)], { cwd: root, encoding: 'utf8', timeout: 30_000 });
      expect(r.error, r.stderr).toBeUndefined();
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim()) as { info: { threads: number }; v: number };
      expect(out).toEqual({ info: expect.objectContaining({ threads: 2, sharedMemory: true }), v: 256 });
      expect(Date.now() - t0).toBeLessThan(15_000);
    });
  }
});
