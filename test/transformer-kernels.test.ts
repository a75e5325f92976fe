/**
 * The transformer's kernels (layerNorm, causalSoftmax, embedding and their backwards): wasm
 * and js agree bit for bit over sizes that straddle the SIMD widths, the values match a
 * float64 evaluation of the math, and bad input is rejected before anything is written.
 */
import { describe, expect, it } from 'vitest';
import { ShapeError, loadBackend, type Backend, type Tensor } from '../src/index.js';
import type { ThreadPool } from '../src/backend/wasm/threads.js';
import { loadBoth, randomF32, firstBitDiff } from './helpers.js';

const { wasm, js } = await loadBoth();
const [w1, w2, w3] = await Promise.all([loadBackend('wasm', { threads: 1 }), loadBackend('wasm', { threads: 2 }), loadBackend('wasm', { threads: 3 })]);
const poolOf = (be: Backend) => (be._s as { _pool?: ThreadPool | null })._pool ?? null;
// every call on the workers, also on a busy host (no backing off to the caller alone)
for (const be of [w2, w3]) poolOf(be)!.adaptive = false;

const COLS = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 64, 67];
const TS = [1, 2, 3, 4, 5, 7, 8, 9, 17, 64];

function t(be: Backend, shape: number[], data?: Float32Array): Tensor { return be.tensor(shape, data); }

function layerNormRun(be: Backend, x: Float32Array, rows: number, cols: number, w: Float32Array | null, b: Float32Array | null,
  g: Float32Array, dw0: Float32Array, db0: Float32Array) {
  const tx = t(be, [rows, cols], x), out = be.zeros([rows, cols]), mean = be.zeros([rows]), rstd = be.zeros([rows]);
  const tw = w && t(be, [cols], w), tb = b && t(be, [cols], b);
  be.kernels.layerNorm(out, tx, tw, tb, mean, rstd, 1e-5);
  const tg = t(be, [rows, cols], g), dx = be.zeros([rows, cols]);
  const dw = tw && t(be, [cols], dw0), db = tb && t(be, [cols], db0);
  be.kernels.layerNormBackward(dx, tg, tx, tw, mean, rstd, dw, db);
  const r = { out: out.toFloat32Array(), mean: mean.toFloat32Array(), rstd: rstd.toFloat32Array(), dx: dx.toFloat32Array(),
    dw: dw?.toFloat32Array() ?? null, db: db?.toFloat32Array() ?? null };
  for (const x of [tx, out, mean, rstd, tw, tb, tg, dx, dw, db]) x?.dispose();
  return r;
}

/** float64 LayerNorm forward and backward (the textbook formulas). */
function layerNorm64(x: Float32Array, rows: number, cols: number, w: Float32Array | null, b: Float32Array | null, g: Float32Array) {
  const out = new Float64Array(rows * cols), dx = new Float64Array(rows * cols), dw = new Float64Array(cols), db = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    let mu = 0; for (let j = 0; j < cols; j++) mu += x[i * cols + j]!; mu /= cols;
    let v = 0; for (let j = 0; j < cols; j++) v += (x[i * cols + j]! - mu) ** 2; v /= cols;
    const r = 1 / Math.sqrt(v + 1e-5);
    let a = 0, c = 0;
    const h = new Float64Array(cols), gw = new Float64Array(cols);
    for (let j = 0; j < cols; j++) {
      h[j] = (x[i * cols + j]! - mu) * r;
      out[i * cols + j] = h[j]! * (w ? w[j]! : 1) + (b ? b[j]! : 0);
      gw[j] = g[i * cols + j]! * (w ? w[j]! : 1);
      a += gw[j]!; c += gw[j]! * h[j]!;
      dw[j] = dw[j]! + g[i * cols + j]! * h[j]!; db[j] = db[j]! + g[i * cols + j]!;
    }
    for (let j = 0; j < cols; j++) dx[i * cols + j] = r * (gw[j]! - a / cols - h[j]! * c / cols);
  }
  return { out, dx, dw, db };
}

function close(got: Float32Array, want: ArrayLike<number>, tol: number, what: string): void {
  let scale = 0, diff = 0;
  for (let i = 0; i < got.length; i++) { scale = Math.max(scale, Math.abs(want[i]!)); diff = Math.max(diff, Math.abs(got[i]! - want[i]!)); }
  expect(diff, what).toBeLessThanOrEqual(tol * Math.max(scale, 1e-30));
}

describe('layerNorm and layerNormBackward', () => {
  for (const cols of COLS) {
    it(`cols ${cols}: wasm == js bitwise, with and without weight and bias; f64 agreement`, () => {
      const rows = 5;
      const x = randomF32(rows * cols, 3 + cols, 3), g = randomF32(rows * cols, 5 + cols);
      const w = randomF32(cols, 7 + cols, 2), b = randomF32(cols, 9 + cols), dw0 = randomF32(cols, 11), db0 = randomF32(cols, 13);
      for (const [ww, bb] of [[w, b], [null, null], [w, null], [null, b]] as const) {
        const a = layerNormRun(wasm, x, rows, cols, ww, bb, g, dw0, db0), c = layerNormRun(js, x, rows, cols, ww, bb, g, dw0, db0);
        for (const k of ['out', 'mean', 'rstd', 'dx', 'dw', 'db'] as const) {
          if (a[k] === null) { expect(c[k]).toBeNull(); continue; }
          expect(firstBitDiff(a[k]!, c[k]!), `${k} (weight ${ww !== null}, bias ${bb !== null})`).toBe(-1);
        }
        const r = layerNorm64(x, rows, cols, ww, bb, g);
        close(a.out, r.out, 1e-6, 'out');
        // With one or two columns x̂ is 0 or ±1 whatever x is: the true dx is ~0 (through eps only)
        // and its float32 value is roundoff, so only the bitwise check above applies there.
        if (cols > 2) close(a.dx, r.dx, 1e-5, 'dx');
        if (a.dw !== null) close(a.dw, Array.from(r.dw, (v, j) => v + dw0[j]!), 1e-5, 'dweight (added to its start)');
        if (a.db !== null) close(a.db, Array.from(r.db, (v, j) => v + db0[j]!), 1e-6, 'dbias (added to its start)');
      }
    });
  }

  it('rejects bad shapes and aliasing before writing', () => {
    for (const be of [wasm, js]) {
      const x = t(be, [3, 4], randomF32(12, 1)), out = be.zeros([3, 4]), mean = be.zeros([3]), rstd = be.zeros([3]);
      expect(() => be.kernels.layerNorm(out, x, be.zeros([5]), null, mean, rstd)).toThrow(/layerNorm weight: expected shape \[4\], got \[5\]/);
      expect(() => be.kernels.layerNorm(out, x, null, null, be.zeros([4]), rstd)).toThrow(/layerNorm mean: expected shape \[3\]/);
      expect(() => be.kernels.layerNorm(out, x, null, null, mean, mean)).toThrow(ShapeError);
      expect(() => be.kernels.layerNorm(out, x, null, null, mean, rstd, -1)).toThrow(/eps/);
      expect(Array.from(out.data)).toEqual(new Array(12).fill(0));
      expect(() => be.kernels.layerNormBackward(out, out, x, null, mean, rstd)).toThrow(/dx must be a tensor of its own/);
    }
  });
});

/** float64 scaled causal softmax of one [z, t, t] batch. */
function softmax64(x: Float32Array, z: number, tt: number, scale: number): Float64Array {
  const out = new Float64Array(z * tt * tt);
  for (let r = 0; r < z * tt; r++) {
    const len = (r % tt) + 1;
    let m = -Infinity;
    for (let j = 0; j < len; j++) m = Math.max(m, x[r * tt + j]! * scale);
    let s = 0;
    for (let j = 0; j < len; j++) s += Math.exp(x[r * tt + j]! * scale - m);
    for (let j = 0; j < len; j++) out[r * tt + j] = Math.exp(x[r * tt + j]! * scale - m) / s;
  }
  return out;
}

/**
 * causalSoftmax then causalSoftmaxBackward in place (as autograd runs it) on each wasm
 * backend give js's bits; on a backend with threads both calls ran on the pool.
 */
function expectThreadsLikeJs(z: number, tt: number, x: Float32Array, g: Float32Array, scale: number, backends: Backend[]): void {
  const run = (be: Backend) => {
    const tx = t(be, [z, tt, tt], x), p = be.zeros([z, tt, tt]), tg = t(be, [z, tt, tt], g);
    be.kernels.causalSoftmax(p, tx, scale);
    be.kernels.causalSoftmaxBackward(tg, p, tg, scale);
    const r = [p.toFloat32Array(), tg.toFloat32Array()];
    for (const q of [tx, p, tg]) q.dispose();
    return r;
  };
  const want = run(js);
  for (const be of backends) {
    const pool = poolOf(be), before = pool?.parallelCalls ?? 0;
    const got = run(be);
    expect(firstBitDiff(got[0]!, want[0]!), `forward, ${be.info().threads} thread(s), z ${z} t ${tt}`).toBe(-1);
    expect(firstBitDiff(got[1]!, want[1]!), `backward, ${be.info().threads} thread(s), z ${z} t ${tt}`).toBe(-1);
    if (be.info().threads > 1) expect(pool!.parallelCalls - before, 'both calls ran on the pool').toBe(2);
  }
}

describe('causalSoftmax and causalSoftmaxBackward', () => {
  for (const tt of TS) {
    it(`t ${tt}: wasm == js bitwise (separate and in place); f64 agreement; zeros above the diagonal`, () => {
      const z = 3, n = z * tt * tt, scale = 1 / Math.sqrt(5);
      const x = randomF32(n, 17 + tt, 6), g = randomF32(n, 19 + tt);
      const run = (be: Backend, inPlace: boolean) => {
        const tx = t(be, [z, tt, tt], x), out = inPlace ? tx : be.zeros([z, tt, tt]);
        be.kernels.causalSoftmax(out, tx, scale);
        const tg = t(be, [z, tt, tt], g), d = inPlace ? tg : be.zeros([z, tt, tt]);
        be.kernels.causalSoftmaxBackward(d, out, tg, scale);
        const r = { p: out.toFloat32Array(), d: d.toFloat32Array() };
        for (const q of new Set([tx, out, tg, d])) q.dispose();
        return r;
      };
      const a = run(wasm, false);
      for (const [be, inPlace] of [[js, false], [wasm, true], [js, true]] as const) {
        const c = run(be, inPlace);
        expect(firstBitDiff(a.p, c.p), `forward ${be.kind} in place ${inPlace}`).toBe(-1);
        expect(firstBitDiff(a.d, c.d), `backward ${be.kind} in place ${inPlace}`).toBe(-1);
      }
      const p = softmax64(x, z, tt, Math.fround(scale));
      close(a.p, p, 1e-6, 'forward vs f64');
      // backward: scale·p_j·(g_j − Σ p·g) in f64
      const want = new Float64Array(n);
      for (let r = 0; r < z * tt; r++) {
        let d = 0;
        for (let j = 0; j < tt; j++) d += p[r * tt + j]! * g[r * tt + j]!;
        for (let j = 0; j < tt; j++) want[r * tt + j] = Math.fround(scale) * p[r * tt + j]! * (g[r * tt + j]! - d);
      }
      close(a.d, want, 1e-5, 'backward vs f64');
      for (let r = 0; r < z * tt; r++) {
        for (let j = (r % tt) + 1; j < tt; j++) { expect(a.p[r * tt + j]).toBe(0); expect(a.d[r * tt + j]).toBe(0); }
      }
    });
  }

  it('threads: 1, 2 and 3 threads give the same bits as js, above the size where the call is cut (the pool ran it)', () => {
    for (const [z, tt] of [[16, 64], [9, 61], [40, 33]] as const) {
      const n = z * tt * tt;
      expectThreadsLikeJs(z, tt, randomF32(n, 41 + tt, 5), randomF32(n, 43 + tt), 0.3, [w1, w2, w3]);
    }
  });

  it('long rows (T 64 and 96) with inputs over six orders of magnitude: the backward\'s f64 dot product in the same order as js (1 and 2 threads)', () => {
    // The backward's d = Σ p·g is an f64 sum whose order changes only its last bits, which
    // the f32 outputs p_j·(g_j − d)·scale rarely show. They show where g_j − d cancels:
    // the scores put p over six decades, g is ±10^(−6u) (six decades), and where p < 1e-3
    // g_j is f32(d) of its row (d barely moves when those g change, so after a few rounds
    // g_j − d is about f32's rounding of d, and d's last f64 bit reaches the output).
    for (const [z, tt] of [[8, 64], [4, 96]] as const) {
      const n = z * tt * tt;
      const x = randomF32(n, 61 + tt, Math.log(1e6) / 2);
      const u = randomF32(n, 62 + tt), sgn = randomF32(n, 63 + tt);
      const g = Float32Array.from(u, (v, i) => Math.sign(sgn[i]!) * 10 ** (-3 * (v + 1)));
      const pt = t(js, [z, tt, tt], x), p = js.zeros([z, tt, tt]);
      js.kernels.causalSoftmax(p, pt, 1);
      const pd = p.toFloat32Array();
      pt.dispose(); p.dispose();
      let lo = 1, hi = 0;
      for (let r = 0; r < z * tt; r++) {
        const len = r % tt + 1, o = r * tt;
        for (let j = 0; j < len; j++) { lo = Math.min(lo, pd[o + j]!); hi = Math.max(hi, pd[o + j]!); }
        for (let round = 0; round < 4; round++) {
          let d = 0;
          for (let j = 0; j < len; j++) d += pd[o + j]! * g[o + j]!;
          for (let j = 0; j < len; j++) if (pd[o + j]! < 1e-3) g[o + j] = d;
        }
      }
      expect(hi / lo, 'p spans six orders of magnitude').toBeGreaterThan(1e6);
      expectThreadsLikeJs(z, tt, x, g, 1, [w1, w2]);
    }
  });

  it('rejects non-square scores and out aliasing p', () => {
    for (const be of [wasm, js]) {
      const x = be.zeros([2, 3, 4]);
      expect(() => be.kernels.causalSoftmax(x, x, 1)).toThrow(/expected a batch of square score matrices \[z, t, t\], got \[2, 3, 4\]/);
      const p = be.zeros([1, 3, 3]), g = be.zeros([1, 3, 3]);
      expect(() => be.kernels.causalSoftmaxBackward(p, p, g, 1)).toThrow(/out may alias g, not p/);
      expect(() => be.kernels.causalSoftmax(p, p, NaN)).toThrow(/scale/);
    }
  });
});

describe('embedding and embeddingBackward', () => {
  for (const cols of COLS) {
    it(`cols ${cols}: wasm == js bitwise; lookup exact; repeated ids add in index order`, () => {
      const vocab = 7, n = 23;
      const w = randomF32(vocab * cols, 23 + cols), g = randomF32(n * cols, 29 + cols), d0 = randomF32(vocab * cols, 31);
      const ids = Int32Array.from({ length: n }, (_, i) => (i * 5 + 3) % vocab);
      const run = (be: Backend) => {
        const tw = t(be, [vocab, cols], w), out = be.zeros([n, cols]), tg = t(be, [n, cols], g), dw = t(be, [vocab, cols], d0);
        be.kernels.embedding(out, tw, ids);
        be.kernels.embeddingBackward(dw, tg, ids);
        const r = { out: out.toFloat32Array(), dw: dw.toFloat32Array() };
        for (const q of [tw, out, tg, dw]) q.dispose();
        return r;
      };
      const a = run(wasm), c = run(js);
      expect(firstBitDiff(a.out, c.out)).toBe(-1);
      expect(firstBitDiff(a.dw, c.dw)).toBe(-1);
      for (let i = 0; i < n; i++) expect(Array.from(a.out.subarray(i * cols, (i + 1) * cols))).toEqual(Array.from(w.subarray(ids[i]! * cols, (ids[i]! + 1) * cols)));
      const want = Float32Array.from(d0);
      for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) want[ids[i]! * cols + j] = Math.fround(want[ids[i]! * cols + j]! + g[i * cols + j]!);
      expect(firstBitDiff(a.dw, want)).toBe(-1);
    });
  }

  it('rejects ids out of range, of the wrong type or count, before writing', () => {
    for (const be of [wasm, js]) {
      const w = t(be, [4, 3], randomF32(12, 2)), out = be.zeros([2, 3]);
      expect(() => be.kernels.embedding(out, w, Int32Array.from([0, 4]))).toThrow(/token id 1 is 4, expected an integer in \[0, 3\]/);
      expect(() => be.kernels.embedding(out, w, Int32Array.from([-1, 0]))).toThrow(/token id 0 is -1/);
      expect(() => be.kernels.embedding(out, w, [0, 1] as unknown as Int32Array)).toThrow(/expected token ids as an Int32Array/);
      expect(() => be.kernels.embedding(out, w, Int32Array.from([0]))).toThrow(/expected 2 token ids, got 1/);
      expect(() => be.kernels.embeddingBackward(w, be.zeros([2, 3]), Int32Array.from([0, 9]))).toThrow(/token id 1 is 9/);
      expect(Array.from(out.data)).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });
});
