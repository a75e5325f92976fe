/**
 * be.kernels.matmulBatched, the strided batched matmul of the attention (contract in
 * src/backend/raw.ts): against the contract loop (float32, bit for bit) and a float64 loop
 * (within the f32 summation bound), wasm on 1, 2 and 3 threads == js bit for bit, sizes
 * 1, 3, 5, 17, 64, 65 in all four transpose modes with and without accumulate, padded and
 * heads-in-a-row layouts; the causal masks (causalA, causalOut) over the same and over odd
 * attention sizes; the split over threads (pairs not a multiple of the thread count)
 * where it happens; GPT's in-place q·kᵀ and att·v on a fused c_attn output (== matmul
 * on copies of the heads), nothing written outside out's blocks, and bad input rejected
 * before anything changes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DisposedError, ShapeError, loadBackend, type Backend, type MatmulBatchedOptions } from '../src/index.js';
import { BATCHED_THREAD_MIN } from '../src/backend/wasm/matmul.js';
import { expectBits, firstBitDiff, randomF32, threadPool } from './helpers.js';

const [t1, t2, t3, js] = await Promise.all([loadBackend('wasm', { threads: 1 }), loadBackend('wasm', { threads: 2 }),
  loadBackend('wasm', { threads: 3 }), loadBackend('js')]);
const ALL = [['wasm 1 thread', t1], ['wasm 2 threads', t2], ['wasm 3 threads', t3], ['js', js]] as const;

const pool = threadPool;
// The threaded tests count which calls took the threaded path: no backing off on this busy machine.
pool(t2).adaptive = false;
pool(t3).adaptive = false;
const MODES = [[false, false], [false, true], [true, false], [true, true]] as const;

/** A full layout (every option explicit) plus the flat contents of a, b and out. */
interface Case {
  o: Required<MatmulBatchedOptions>;
  a: Float32Array; b: Float32Array; out0: Float32Array;
}

/** Elements a strided operand spans: its last touched index + 1 (+ `tail` spare elements). */
function span(off: number, batch: number, sb: number, heads: number, sh: number, rows: number, ld: number, cols: number, tail: number): number {
  return off + (batch - 1) * sb + (heads - 1) * sh + (rows - 1) * ld + cols + tail;
}

/**
 * A random layout for each operand: 'padded' (each head a padded block: ld > cols, gaps
 * between heads and batches) or 'rows' (heads side by side in a row, as the attention's
 * q/k/v inside c_attn's output and its y), with an offset.
 */
function makeCase(batch: number, heads: number, m: number, n: number, k: number, transA: boolean, transB: boolean,
  accumulate: boolean, seed: number, style: 'padded' | 'rows', causalA = false, causalOut = false): Case {
  const pad = (i: number) => (style === 'padded' ? 1 + ((seed + i) % 3) : 0);
  const lay = (rows: number, cols: number, i: number) => {
    const off = (seed + 5 * i) % 4;
    if (style === 'rows') {
      const ld = heads * cols + ((seed + i) % 2);
      return { off, ld, sh: cols, sb: rows * ld };
    }
    const ld = cols + pad(i), sh = rows * ld + pad(i + 1);
    return { off, ld, sh, sb: heads * sh + pad(i + 2) };
  };
  const rA = transA ? k : m, cA = transA ? m : k, rB = transB ? n : k, cB = transB ? k : n;
  const A = lay(rA, cA, 0), B = lay(rB, cB, 1), C = lay(m, n, 2);
  const o: Required<MatmulBatchedOptions> = {
    batch, heads, m, n, k, transA, transB, accumulate, causalA, causalOut,
    offA: A.off, lda: A.ld, sAb: A.sb, sAh: A.sh, offB: B.off, ldb: B.ld, sBb: B.sb, sBh: B.sh,
    offC: C.off, ldc: C.ld, sCb: C.sb, sCh: C.sh,
  };
  return {
    o,
    a: randomF32(span(A.off, batch, A.sb, heads, A.sh, rA, A.ld, cA, 3), seed),
    b: randomF32(span(B.off, batch, B.sb, heads, B.sh, rB, B.ld, cB, 2), seed + 1),
    out0: randomF32(span(C.off, batch, C.sb, heads, C.sh, m, C.ld, n, 5), seed + 2, 4),
  };
}

const opA = (c: Case, z: number, i: number, p: number) => {
  const o = c.o, b = Math.floor(z / o.heads), h = z % o.heads, base = o.offA + b * o.sAb + h * o.sAh;
  return c.a[base + (o.transA ? p * o.lda + i : i * o.lda + p)]!;
};
const opB = (c: Case, z: number, p: number, j: number) => {
  const o = c.o, b = Math.floor(z / o.heads), h = z % o.heads, base = o.offB + b * o.sBb + h * o.sBh;
  return c.b[base + (o.transB ? j * o.ldb + p : p * o.ldb + j)]!;
};
const cIndex = (c: Case, z: number, i: number, j: number) => {
  const o = c.o, b = Math.floor(z / o.heads), h = z % o.heads;
  return o.offC + b * o.sCb + h * o.sCh + i * o.ldc + j;
};

/**
 * The terms [lo, hi) of output (i, j) under the causal masks: causalOut leaves j > i none;
 * causalA keeps p ≤ i (p ≥ i with transA).
 */
function terms(o: Required<MatmulBatchedOptions>, i: number, j: number): [number, number] {
  if (o.causalOut && j > i) return [0, 0];
  if (!o.causalA) return [0, o.k];
  return o.transA ? [Math.min(i, o.k), o.k] : [0, Math.min(i + 1, o.k)];
}

/** The contract written out as the plain loop: s = (acc ? out : 0); s = f32(s + f32(a·b)), p in order over the terms. */
function oracle(c: Case): Float32Array {
  const out = c.out0.slice(), o = c.o;
  for (let z = 0; z < o.batch * o.heads; z++) {
    for (let i = 0; i < o.m; i++) {
      for (let j = 0; j < o.n; j++) {
        let s = o.accumulate ? c.out0[cIndex(c, z, i, j)]! : 0;
        const [lo, hi] = terms(o, i, j);
        for (let p = lo; p < hi; p++) s = Math.fround(s + Math.fround(opA(c, z, i, p) * opB(c, z, p, j)));
        out[cIndex(c, z, i, j)] = s;
      }
    }
  }
  return out;
}

/**
 * Every output against the float64 sum: recursive f32 summation of k rounded products onto
 * an exact start is within γ_{k+1}·(|start| + Σ|a·b|), γ_j = j·u/(1 − j·u), u = 2⁻²⁴
 * (Higham §3.1), plus the float64 loop's own (k+1)·2⁻⁵³·Σ. Returns the first violation.
 */
function checkF64(c: Case, got: Float32Array): string | null {
  const o = c.o, u = 2 ** -24, g = ((o.k + 1) * u) / (1 - (o.k + 1) * u);
  for (let z = 0; z < o.batch * o.heads; z++) {
    for (let i = 0; i < o.m; i++) {
      for (let j = 0; j < o.n; j++) {
        let exact = o.accumulate ? c.out0[cIndex(c, z, i, j)]! : 0, mag = Math.abs(exact);
        const [lo, hi] = terms(o, i, j);
        for (let p = lo; p < hi; p++) { const x = opA(c, z, i, p) * opB(c, z, p, j); exact += x; mag += Math.abs(x); }
        const tol = g * mag + (o.k + 1) * 2 ** -53 * mag, v = got[cIndex(c, z, i, j)]!;
        if (!(Math.abs(v - exact) <= tol)) return `z ${z} [${i},${j}]: ${v}, float64 ${exact} ± ${tol}`;
      }
    }
  }
  return null;
}

/** Runs the facade on `be`; returns out's whole flat contents and a and b afterwards. */
function run(be: Backend, c: Case): { out: Float32Array; a: Float32Array; b: Float32Array } {
  const a = be.tensor([c.a.length], c.a), b = be.tensor([c.b.length], c.b), out = be.tensor([c.out0.length], c.out0);
  try {
    expect(be.kernels.matmulBatched(out, a, b, c.o)).toBe(out);
    return { out: out.data.slice(), a: a.data.slice(), b: b.data.slice() };
  } finally {
    a.dispose(); b.dispose(); out.dispose();
  }
}


/** The case on every backend: == the contract loop bit for bit (so == each other; gaps in out untouched), inputs unchanged, within the float64 bound. */
function checkAll(c: Case, what: string): void {
  const want = oracle(c);
  const bad = checkF64(c, want);
  if (bad !== null) expect.fail(`${what}: the contract loop itself is off the float64 bound at ${bad}`);
  for (const [name, be] of ALL) {
    const r = run(be, c);
    expectBits(r.out, want, `${what} on ${name}`);
    expectBits(r.a, c.a, `${what} on ${name}: a afterwards`);
    expectBits(r.b, c.b, `${what} on ${name}: b afterwards`);
  }
}

describe('matmulBatched: the contract loop, the float64 bound, wasm 1 and 2 threads == js', () => {
  it('every m, n, k in {1, 3, 5, 17}, batch 2 × heads 3, all transpose modes, with and without accumulate, both layouts', () => {
    const D = [1, 3, 5, 17];
    let seed = 1, runs = 0;
    for (const m of D) for (const n of D) for (const k of D) {
      for (const [transA, transB] of MODES) {
        for (const accumulate of [false, true]) {
          const style = seed % 2 === 0 ? 'padded' : 'rows';
          checkAll(makeCase(2, 3, m, n, k, transA, transB, accumulate, seed += 7, style),
            `${m}x${k}x${n} tA=${transA} tB=${transB} acc=${accumulate} ${style}`);
          runs++;
        }
      }
    }
    expect(runs).toBe(D.length ** 3 * 8);
  });

  it('sizes 64 and 65 (T and T+1 of the anchor) with 1, 3, 5, 16, 17: all transpose modes, with and without accumulate', () => {
    const shapes = [[64, 64, 16], [65, 65, 17], [64, 16, 64], [65, 17, 65], [17, 65, 64], [1, 65, 65], [65, 1, 3], [5, 64, 65], [64, 3, 1]] as const;
    let seed = 5000;
    for (const [m, n, k] of shapes) {
      for (const [transA, transB] of MODES) {
        for (const accumulate of [false, true]) {
          for (const style of ['padded', 'rows'] as const) {
            checkAll(makeCase(2, 2, m, n, k, transA, transB, accumulate, seed += 11, style),
              `${m}x${k}x${n} tA=${transA} tB=${transB} acc=${accumulate} ${style}`);
          }
        }
      }
    }
  });

  it('batch and heads of 1 and larger: (1, 1), (1, 4), (5, 1), (3, 4), defaults (dense [batch, heads, rows, cols])', () => {
    let seed = 9000;
    for (const [batch, heads] of [[1, 1], [1, 4], [5, 1], [3, 4]] as const) {
      for (const [transA, transB] of MODES) {
        checkAll(makeCase(batch, heads, 9, 6, 7, transA, transB, seed % 2 === 0, seed += 13, 'padded'), `${batch}×${heads} tA=${transA} tB=${transB}`);
        // The defaults: dense blocks, the same as spelling the dense layout out.
        const rA = transA ? 7 : 9, cA = transA ? 9 : 7, rB = transB ? 6 : 7, cB = transB ? 7 : 6;
        const c: Case = {
          o: {
            batch, heads, m: 9, n: 6, k: 7, transA, transB, accumulate: false,
            offA: 0, lda: cA, sAh: rA * cA, sAb: heads * rA * cA, offB: 0, ldb: cB, sBh: rB * cB, sBb: heads * rB * cB,
            offC: 0, ldc: 6, sCh: 54, sCb: heads * 54, causalA: false, causalOut: false,
          },
          a: randomF32(batch * heads * 63, seed), b: randomF32(batch * heads * 42, seed + 1), out0: randomF32(batch * heads * 54, seed + 2),
        };
        const want = oracle(c);
        for (const [name, be] of ALL) {
          const a = be.tensor([batch, heads, rA, cA], c.a), b = be.tensor([batch, heads, rB, cB], c.b), out = be.tensor([batch, heads, 9, 6], c.out0);
          be.kernels.matmulBatched(out, a, b, { batch, heads, m: 9, n: 6, k: 7, transA, transB });
          expectBits(out.data, want, `defaults ${batch}×${heads} tA=${transA} tB=${transB} on ${name}`);
          [a, b, out].forEach((t) => t.dispose());
        }
      }
    }
  });

  it('k = 0: out = 0 in its blocks (gaps untouched), or unchanged with accumulate', () => {
    for (const accumulate of [false, true]) {
      const c = makeCase(2, 3, 4, 5, 0, false, false, accumulate, 77, 'padded');
      checkAll(c, `k = 0 acc=${accumulate}`);
      if (accumulate) expectBits(oracle(c), c.out0, 'k = 0 with accumulate keeps out');
    }
  });

  it('property: random sizes ≤ 20, batch ≤ 3, heads ≤ 4, flags (masks included), layouts and scales: all backends == the contract loop, within the float64 bound', () => {
    const seed = 1234;
    console.log(`matmulBatched property: fast-check seed ${seed}`);
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 20 }), fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 1e6 }),
      fc.constantFrom('padded' as const, 'rows' as const), fc.constantFrom(1, 1e-3, 1e3), fc.boolean(), fc.boolean(),
      (batch, heads, m, n, k, transA, transB, accumulate, s, style, scale, causalA, causalOut) => {
        const c = makeCase(batch, heads, m, n, k, transA, transB, accumulate, s, style, causalA, causalOut);
        c.a = randomF32(c.a.length, s, scale);
        const want = oracle(c);
        if (checkF64(c, want) !== null) return false;
        return ALL.every(([, be]) => firstBitDiff(run(be, c).out, want) < 0);
      }), { numRuns: 150, seed });
  });
});

const MASKS = [[true, false], [false, true], [true, true]] as const;
const maskName = (cA: boolean, cO: boolean) => (cA && cO ? 'causalA+causalOut' : cA ? 'causalA' : 'causalOut');

describe('matmulBatched with the causal masks: the contract loop, the float64 bound, wasm 1, 2 and 3 threads == js', () => {
  it('every m, n, k in {1, 3, 6, 17}, batch 2 × heads 3, all transpose modes and masks, with and without accumulate', () => {
    const D = [1, 3, 6, 17];
    let seed = 3, runs = 0;
    for (const m of D) for (const n of D) for (const k of D) {
      for (const [transA, transB] of MODES) {
        for (const accumulate of [false, true]) {
          for (const [cA, cO] of MASKS) {
            const style = seed % 2 === 0 ? 'padded' : 'rows';
            checkAll(makeCase(2, 3, m, n, k, transA, transB, accumulate, seed += 7, style, cA, cO),
              `${m}x${k}x${n} tA=${transA} tB=${transB} acc=${accumulate} ${maskName(cA, cO)} ${style}`);
            runs++;
          }
        }
      }
    }
    expect(runs).toBe(D.length ** 3 * 8 * 3);
  });

  it('the attention sizes and their odd neighbours (T 64, 65, 66; head size 16, 17, 18), batch 1, all modes and masks', () => {
    const shapes = [[64, 64, 16], [65, 65, 17], [66, 66, 18], [64, 16, 64], [65, 17, 65], [66, 18, 66], [17, 65, 64], [5, 64, 65], [65, 5, 3]] as const;
    let seed = 7000;
    for (const [m, n, k] of shapes) {
      for (const [transA, transB] of MODES) {
        for (const accumulate of [false, true]) {
          for (const [cA, cO] of MASKS) {
            const style = seed % 2 === 0 ? 'padded' : 'rows';
            checkAll(makeCase(1, seed % 3 === 0 ? 1 : 2, m, n, k, transA, transB, accumulate, seed += 11, style, cA, cO),
              `${m}x${k}x${n} tA=${transA} tB=${transB} acc=${accumulate} ${maskName(cA, cO)} ${style}`);
          }
        }
      }
    }
  });

  it(`split over threads from ${BATCHED_THREAD_MIN} multiply-adds (after the masks): the same bits, and the split happens where it should`, () => {
    // Pairs not a multiple of 2 or 3; T odd; head size not a multiple of 4; above and below the threshold.
    const cases = [[3, 3, 131, 129, 57], [1, 5, 257, 65, 67], [5, 3, 66, 17, 66], [1, 1, 200, 200, 40], [2, 2, 9, 9, 5]] as const;
    let seed = 11000, threaded = 0;
    for (const [batch, heads, m, n, k] of cases) {
      for (const [transA, transB] of [[false, true], [false, false], [true, false]] as const) {
        for (const [cA, cO] of [[false, false], ...MASKS] as const) {
          const accumulate = seed % 3 === 0;
          const c = makeCase(batch, heads, m, n, k, transA, transB, accumulate, seed += 13, seed % 2 === 0 ? 'padded' : 'rows', cA, cO);
          const work = batch * heads * m * n * k * (cA ? 0.5 : 1) * (cO ? 0.5 : 1);
          const split = batch * heads >= 2 && work >= BATCHED_THREAD_MIN;
          const before = [pool(t2).parallelCalls, pool(t3).parallelCalls];
          checkAll(c, `${batch}×${heads} ${m}x${k}x${n} tA=${transA} tB=${transB} acc=${accumulate} ${cA || cO ? maskName(cA, cO) : 'no mask'}`);
          const calls = split ? 1 : 0;
          expect([pool(t2).parallelCalls - before[0]!, pool(t3).parallelCalls - before[1]!]).toEqual([calls, calls]);
          threaded += calls;
        }
      }
    }
    expect(threaded, 'cases that took the threaded path').toBeGreaterThanOrEqual(12);
  });
});

describe('matmulBatched: GPT attention in place on the fused c_attn output', () => {
  // x = [B·T, 3C] (q | k | v per row); head h of q is columns h·hs..(h+1)·hs−1, of k +C, of v +2C.
  const B = 3, T = 13, H = 4, hs = 5, C = H * hs;

  /** Head h of batch b of part (0 q, 1 k, 2 v) of x as a dense T×hs copy. */
  const head = (x: Float32Array, b: number, h: number, part: number) => {
    const r = new Float32Array(T * hs);
    for (let t = 0; t < T; t++) for (let d = 0; d < hs; d++) r[t * hs + d] = x[(b * T + t) * 3 * C + part * C + h * hs + d]!;
    return r;
  };

  it('scores = q·kᵀ [B, H, T, T], y = att·v into [B·T, C], and the backward products (dq, dk, datt, dv): == matmul on copies of the heads', () => {
    const x = randomF32(B * T * 3 * C, 31), att = randomF32(B * H * T * T, 32), dy = randomF32(B * T * C, 33), dS = randomF32(B * H * T * T, 34);
    const qkv = { lda: 3 * C, sAb: T * 3 * C, sAh: hs };
    for (const [name, be] of ALL) {
      const X = be.tensor([B * T, 3 * C], x), ATT = be.tensor([B, H, T, T], att), DY = be.tensor([B * T, C], dy), DS = be.tensor([B, H, T, T], dS);
      const S = be.zeros([B, H, T, T]), Y = be.zeros([B * T, C]), DQ = be.zeros([B * T, 3 * C]), DATT = be.zeros([B, H, T, T]);
      const k = be.kernels;
      const sc = { ldc: T, sCb: H * T * T, sCh: T * T };
      // scores = q·kᵀ
      k.matmulBatched(S, X, X, { batch: B, heads: H, m: T, n: T, k: hs, offA: 0, ...qkv, offB: C, ldb: 3 * C, sBb: T * 3 * C, sBh: hs, transB: true, offC: 0, ...sc });
      // y = att·v
      k.matmulBatched(Y, ATT, X, { batch: B, heads: H, m: T, n: hs, k: T, offB: 2 * C, ldb: 3 * C, sBb: T * 3 * C, sBh: hs, ldc: C, sCb: T * C, sCh: hs });
      // datt = dy·vᵀ
      k.matmulBatched(DATT, DY, X, { batch: B, heads: H, m: T, n: T, k: hs, lda: C, sAb: T * C, sAh: hs, offB: 2 * C, ldb: 3 * C, sBb: T * 3 * C, sBh: hs, transB: true, ...sc });
      // dv = attᵀ·dy, dq = dS·k, dk = dSᵀ·q: written into their thirds of one [B·T, 3C] gradient.
      const dqkv = { ldc: 3 * C, sCb: T * 3 * C, sCh: hs };
      k.matmulBatched(DQ, ATT, DY, { batch: B, heads: H, m: T, n: hs, k: T, transA: true, lda: T, sAb: H * T * T, sAh: T * T, ldb: C, sBb: T * C, sBh: hs, offC: 2 * C, ...dqkv });
      k.matmulBatched(DQ, DS, X, { batch: B, heads: H, m: T, n: hs, k: T, offB: C, ...{ ldb: 3 * C, sBb: T * 3 * C, sBh: hs }, offC: 0, ...dqkv });
      k.matmulBatched(DQ, DS, X, { batch: B, heads: H, m: T, n: hs, k: T, transA: true, offB: 0, ...{ ldb: 3 * C, sBb: T * 3 * C, sBh: hs }, offC: C, ...dqkv });
      const got = { s: S.data.slice(), y: Y.data.slice(), datt: DATT.data.slice(), d: DQ.data.slice() };
      // The same with matmul on dense copies of each head.
      const t = (shape: number[], d: Float32Array) => be.tensor(shape, d);
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          const q = t([T, hs], head(x, b, h, 0)), kk = t([T, hs], head(x, b, h, 1)), v = t([T, hs], head(x, b, h, 2));
          const a = t([T, T], att.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T));
          const ds = t([T, T], dS.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T));
          const dyh = new Float32Array(T * hs);
          for (let r = 0; r < T; r++) for (let d = 0; d < hs; d++) dyh[r * hs + d] = dy[(b * T + r) * C + h * hs + d]!;
          const g = t([T, hs], dyh);
          const o1 = be.zeros([T, T]), o2 = be.zeros([T, hs]), o3 = be.zeros([T, T]), o4 = be.zeros([T, hs]), o5 = be.zeros([T, hs]), o6 = be.zeros([T, hs]);
          k.matmul(o1, q, kk, { transB: true }); k.matmul(o2, a, v); k.matmul(o3, g, v, { transB: true });
          k.matmul(o4, a, g, { transA: true }); k.matmul(o5, ds, kk); k.matmul(o6, ds, q, { transA: true });
          const w = `${name} b ${b} h ${h}`;
          expectBits(got.s.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T), o1.data, `${w}: scores`);
          expectBits(got.datt.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T), o3.data, `${w}: datt`);
          for (let r = 0; r < T; r++) {
            const row = b * T + r;
            expectBits(got.y.subarray(row * C + h * hs, row * C + h * hs + hs), o2.data.subarray(r * hs, r * hs + hs), `${w}: y row ${r}`);
            for (const [part, o] of [[0, o5], [1, o6], [2, o4]] as const) {
              const at = row * 3 * C + part * C + h * hs;
              expectBits(got.d.subarray(at, at + hs), o.data.subarray(r * hs, r * hs + hs), `${w}: d${'qkv'[part]} row ${r}`);
            }
          }
          [q, kk, v, a, ds, g, o1, o2, o3, o4, o5, o6].forEach((u) => u.dispose());
        }
      }
      [X, ATT, DY, DS, S, Y, DQ, DATT].forEach((u) => u.dispose());
    }
  });
});

describe('matmulBatched: bad input', () => {
  describe.each(ALL)('on %s', (_, be) => {
    const other = be === js ? t1 : js;
    it('rejects out-of-bounds blocks, negative or fractional strides, overlapping out blocks, aliasing, wrong types, disposed tensors, and leaves out unchanged', () => {
      // A valid call: batch 2, heads 2, 3×4 = (3×5)·(5×4), dense.
      const a = be.tensor([60], randomF32(60, 1)), b = be.tensor([80], randomF32(80, 2)), out = be.tensor([48], randomF32(48, 3));
      const base: MatmulBatchedOptions = { batch: 2, heads: 2, m: 3, n: 4, k: 5 };
      const keep = out.data.slice();
      const check = (o: unknown, err: new (...args: never[]) => Error, msg: RegExp, tensors: [unknown, unknown, unknown] = [out, a, b]) => {
        const f = () => be.kernels.matmulBatched(tensors[0] as never, tensors[1] as never, tensors[2] as never, o as MatmulBatchedOptions);
        expect(f).toThrow(err);
        expect(f).toThrow(msg);
        expectBits(out.data, keep, `out after a rejected call (${msg})`);
      };
      // The valid call works (then restore out).
      be.kernels.matmulBatched(out, a, b, base);
      out.data.set(keep);
      check({ ...base, batch: 3 }, ShapeError, /matmulBatched out: .* reach element 71, but out \[48\] holds 48/);
      check({ ...base, offA: 1 }, ShapeError, /matmulBatched a: the 2×2 blocks of 3×5 at offset 1.* reach element 60, but a \[60\] holds 60/);
      check({ ...base, ldb: 5 }, ShapeError, /matmulBatched b: the 2×2 blocks of 5×4 at offset 0, batch stride 50, head stride 25, row stride 5 reach element 98, but b \[80\] holds 80/);
      check({ ...base, transA: true, lda: 4 }, ShapeError, /matmulBatched a: the 2×2 blocks of 5×3 \(transA\)/);
      check({ ...base, sCh: 11 }, ShapeError, /overlap: some element of out would be written twice/);
      check({ ...base, ldc: 3 }, ShapeError, /overlap/);
      check({ ...base, sCb: 0 }, ShapeError, /overlap/);
      check({ ...base, sAh: -1 }, ShapeError, /matmulBatched sAh: expected a non-negative integer/);
      check({ ...base, lda: 2.5 }, ShapeError, /matmulBatched lda: expected a non-negative integer/);
      check({ ...base, offC: -2 }, ShapeError, /matmulBatched offC/);
      check({ ...base, k: Number.NaN }, ShapeError, /matmulBatched k/);
      check({ ...base, m: undefined }, ShapeError, /matmulBatched m/);
      check({ ...base, transB: 1 }, TypeError, /matmulBatched transB: expected true or false/);
      check({ ...base, causalA: 'yes' }, TypeError, /matmulBatched causalA: expected true or false/);
      check({ ...base, causalOut: 0 }, TypeError, /matmulBatched causalOut: expected true or false/);
      check(null, TypeError, /expected options/);
      check(base, ShapeError, /out must not be the same tensor as a or b/, [out, out, b]);
      check(base, ShapeError, /out must not be the same tensor as a or b/, [out, a, out]);
      check(base, TypeError, /another backend/, [out, a, other.tensor([80])]);
      check(base, TypeError, /matmulBatched a: expected a Tensor/, [out, new Float32Array(60), b]);
      const gone = be.tensor([80]);
      gone.dispose();
      check(base, DisposedError, /matmulBatched b/, [out, a, gone]);
      // Bounds are checked on a and b only when k > 0; out's even then.
      const tiny = be.tensor([1]);
      expect(() => be.kernels.matmulBatched(out, tiny, tiny, { ...base, k: 0, accumulate: true })).not.toThrow();
      expectBits(out.data, keep, 'out after k = 0 with accumulate');
      // a and b may be one tensor (q and k of c_attn's output).
      const sq = be.tensor([3, 9], randomF32(27, 4)), o = be.zeros([3, 3]);
      be.kernels.matmulBatched(o, sq, sq, { batch: 1, m: 3, n: 3, k: 3, lda: 9, ldb: 9, offB: 3, transB: true });
      const want = new Float32Array(9);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let p = 0; p < 3; p++) s = Math.fround(s + Math.fround(sq.data[i * 9 + p]! * sq.data[j * 9 + 3 + p]!));
        want[i * 3 + j] = s;
      }
      expectBits(o.data, want, 'a = b: q·kᵀ from one tensor');
      [a, b, out, tiny, sq, o].forEach((t) => t.dispose());
    });
  });
});
