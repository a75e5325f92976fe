import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { DisposedError, ShapeError, type Backend } from '../src/index.js';
import { expectBits, firstBitDiff, loadBoth, ptr, randomF32 } from './helpers.js';

const { wasm, js, BACKENDS } = await loadBoth();
const MODES = [[false, false], [false, true], [true, false], [true, true]] as const;

/** test/reference/matmul.json: numpy float64 products of float32 inputs, rounded to f32 (copied from the shared reference set). */
const REF = JSON.parse(readFileSync(new URL('./reference/matmul.json', import.meta.url), 'utf8')) as {
  source: string;
  cases: { m: number; k: number; n: number; transA: boolean; transB: boolean; a: number[]; b: number[]; expected: number[] }[];
};

interface Problem {
  m: number; n: number; k: number; transA: boolean; transB: boolean; accumulate: boolean;
  /** a and b as stored (k×m when transA, n×k when transB), out's initial contents. */
  a: Float32Array; b: Float32Array; out0: Float32Array;
}

function problem(m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean, seed: number): Problem {
  return { m, n, k, transA, transB, accumulate, a: randomF32(m * k, seed), b: randomF32(k * n, seed + 1), out0: randomF32(m * n, seed + 2, 4) };
}

const opA = (p: Problem, i: number, q: number) => p.a[p.transA ? q * p.m + i : i * p.k + q]!;
const opB = (p: Problem, q: number, j: number) => p.b[p.transB ? j * p.k + q : q * p.n + j]!;

/** Runs the kernel through the facade on `be`; returns out and the inputs as they are afterwards. */
function run(be: Backend, p: Problem): { out: Float32Array; a: Float32Array; b: Float32Array } {
  const a = be.tensor(p.transA ? [p.k, p.m] : [p.m, p.k], p.a);
  const b = be.tensor(p.transB ? [p.n, p.k] : [p.k, p.n], p.b);
  const out = be.tensor([p.m, p.n], p.out0);
  try {
    const ret = be.kernels.matmul(out, a, b, { transA: p.transA, transB: p.transB, accumulate: p.accumulate });
    expect(ret).toBe(out);
    return { out: out.data.slice(), a: a.data.slice(), b: b.data.slice() };
  } finally {
    a.dispose(); b.dispose(); out.dispose();
  }
}

/** The contract written out as the plain loop: s = (acc ? out : 0); s = f32(s + f32(a·b)), p in order. */
function oracle(p: Problem): Float32Array {
  const out = new Float32Array(p.m * p.n);
  for (let i = 0; i < p.m; i++) {
    for (let j = 0; j < p.n; j++) {
      let s = p.accumulate ? p.out0[i * p.n + j]! : 0;
      for (let q = 0; q < p.k; q++) s = Math.fround(s + Math.fround(opA(p, i, q) * opB(p, q, j)));
      out[i * p.n + j] = s;
    }
  }
  return out;
}

/**
 * Float64 value of (acc ? out0 : 0) + op(a)·op(b) and the tolerance for an f32 result.
 * Recursive f32 summation of k products (each rounded, then k additions) onto an exact
 * start value is within γ_{k+1}·(|out0| + Σ|a·b|) of the exact sum, γ_j = j·u/(1 − j·u),
 * u = 2⁻²⁴ (Higham, Accuracy and Stability, §3.1). This is the worst case, not a fudge
 * factor: any larger error means a wrong kernel. `extra` adds the error of an expected
 * value that was itself rounded to f32 (u·|expected|) when comparing against one.
 */
function exactWithBound(p: Problem, i: number, j: number): { exact: number; tol: number } {
  let exact = p.accumulate ? p.out0[i * p.n + j]! : 0;
  let mag = Math.abs(exact);
  for (let q = 0; q < p.k; q++) {
    const x = opA(p, i, q) * opB(p, q, j);
    exact += x;
    mag += Math.abs(x);
  }
  const u = 2 ** -24;
  const g = ((p.k + 1) * u) / (1 - (p.k + 1) * u);
  // The float64 sum above is off by at most (k+1)·2⁻⁵³·Σ, which is added too.
  return { exact, tol: g * mag + (p.k + 1) * 2 ** -53 * mag };
}


describe.each(BACKENDS)('matmul on %s', (_, be) => {
  it('matches matmul.json (numpy float64, rounded to f32) within the f32 summation bound, in all four transpose modes, with and without accumulate', () => {
    expect(REF.source).toMatch(/numpy float64/);
    expect(REF.cases.length).toBeGreaterThanOrEqual(8);
    for (const c of REF.cases) {
      // op(a) and op(b) of the case, then stored in each of the four layouts.
      const A = (i: number, q: number) => c.a[c.transA ? q * c.m + i : i * c.k + q]!;
      const B = (q: number, j: number) => c.b[c.transB ? j * c.k + q : q * c.n + j]!;
      for (const [transA, transB] of MODES) {
        for (const accumulate of [false, true]) {
          const a = new Float32Array(c.m * c.k), b = new Float32Array(c.k * c.n);
          for (let i = 0; i < c.m; i++) for (let q = 0; q < c.k; q++) a[transA ? q * c.m + i : i * c.k + q] = A(i, q);
          for (let q = 0; q < c.k; q++) for (let j = 0; j < c.n; j++) b[transB ? j * c.k + q : q * c.n + j] = B(q, j);
          const p: Problem = { m: c.m, n: c.n, k: c.k, transA, transB, accumulate, a, b, out0: randomF32(c.m * c.n, c.m * 31 + c.k, 2) };
          const { out } = run(be, p);
          for (let i = 0; i < c.m; i++) {
            for (let j = 0; j < c.n; j++) {
              const e = Math.fround(c.expected[i * c.n + j]!);
              const { tol } = exactWithBound(p, i, j);
              // expected = f32(exact product), off by ≤ u·|e|; with accumulate, out0 is added to it
              // in float64 (exact enough: its error is inside the bound's 2⁻⁵³ term).
              const want = accumulate ? p.out0[i * c.n + j]! + e : e;
              const bound = tol + 2 ** -24 * Math.abs(e) * 1.0000001;
              const where = `${c.m}x${c.k}x${c.n} (stored tA=${c.transA} tB=${c.transB}) as tA=${transA} tB=${transB} acc=${accumulate} [${i},${j}]`;
              expect(Math.abs(out[i * c.n + j]! - want), `${where}: got ${out[i * c.n + j]}, want ${want} ± ${bound}`).toBeLessThanOrEqual(bound);
            }
          }
        }
      }
    }
  });

  it('equals the contract loop bit for bit (s = f32(s + f32(a·b)), p in order), across K, M and edge blocks', () => {
    // k = 257 and 600 cross the 256 K block (the order of the sum must survive the split),
    // m = 300 crosses the 64-row M block, n = 129 and m = 67 leave edge tiles.
    const shapes = [[3, 5, 7], [4, 8, 256], [5, 9, 257], [67, 33, 600], [300, 129, 257], [65, 17, 513]] as const;
    let seed = 100;
    for (const [m, n, k] of shapes) {
      for (const [transA, transB] of MODES) {
        for (const accumulate of [false, true]) {
          const p = problem(m, n, k, transA, transB, accumulate, seed += 3);
          expectBits(run(be, p).out, oracle(p), `${m}x${k}x${n} tA=${transA} tB=${transB} acc=${accumulate}`);
        }
      }
    }
  });

  it('leaves a and b unmodified and writes only out', () => {
    for (const [transA, transB] of MODES) {
      const p = problem(67, 17, 300, transA, transB, true, 7);
      const r = run(be, p);
      expectBits(r.a, p.a, 'a after matmul');
      expectBits(r.b, p.b, 'b after matmul');
    }
    // Neighbours of out (allocated around it) keep their values: no write past an edge tile.
    const before = be.tensor([37], randomF32(37, 1));
    const a = be.tensor([5, 3], randomF32(15, 2)), b = be.tensor([3, 7], randomF32(21, 3));
    const out = be.zeros([5, 7]);
    const after = be.tensor([37], randomF32(37, 4));
    be.kernels.matmul(out, a, b);
    expectBits(before.data, randomF32(37, 1), 'tensor before out');
    expectBits(after.data, randomF32(37, 4), 'tensor after out');
    [before, a, b, out, after].forEach((t) => t.dispose());
  });

  it('handles m, n or k = 0: empty out untouched, k = 0 gives zeros (or keeps out with accumulate)', () => {
    for (const [m, n, k] of [[0, 3, 4], [3, 0, 4], [0, 0, 0], [3, 4, 0]] as const) {
      for (const accumulate of [false, true]) {
        const p = problem(m, n, k, false, false, accumulate, 9);
        const { out } = run(be, p);
        expectBits(out, k === 0 && !accumulate ? new Float32Array(m * n) : p.out0, `${m}x${k}x${n} acc=${accumulate}`);
      }
    }
  });

  it('keeps signed zeros, infinities and NaN as the contract loop does', () => {
    // 0 + (−0) is +0 (fresh sum), −0 + (−0) stays −0 (accumulate onto −0); inf·0 is NaN.
    const a = Float32Array.from([-0, 1, Infinity, 0, -1, 2]);
    const b = Float32Array.from([1, 0, 0, -Infinity, 3, NaN]);
    for (const accumulate of [false, true]) {
      const p: Problem = { m: 2, n: 2, k: 3, transA: false, transB: false, accumulate, a, b, out0: Float32Array.from([-0, -0, 5, -0]) };
      const got = run(be, p).out, want = oracle(p);
      for (let i = 0; i < 4; i++) {
        expect(Number.isNaN(got[i]!) ? Number.isNaN(want[i]!) : Object.is(got[i], want[i]), `acc=${accumulate} [${i}]: got ${got[i]}, want ${want[i]}`).toBe(true);
      }
    }
    const z = run(be, { m: 1, n: 1, k: 1, transA: false, transB: false, accumulate: false, a: Float32Array.of(-0), b: Float32Array.of(1), out0: Float32Array.of(7) }).out[0];
    expect(Object.is(z, 0)).toBe(true);
    const nz = run(be, { m: 1, n: 1, k: 1, transA: false, transB: false, accumulate: true, a: Float32Array.of(-0), b: Float32Array.of(1), out0: Float32Array.of(-0) }).out[0];
    expect(Object.is(nz, -0)).toBe(true);
  });

  it('rejects bad input with ShapeError/DisposedError/TypeError and leaves out unchanged', () => {
    const out = be.tensor([2, 3], randomF32(6, 5));
    const a = be.tensor([2, 4], randomF32(8, 6)), b = be.tensor([4, 3], randomF32(12, 7));
    const keep = out.data.slice();
    const check = (f: () => unknown, err: new (...args: never[]) => Error, msg?: RegExp) => {
      expect(f).toThrow(err);
      if (msg) expect(f).toThrow(msg);
      expectBits(out.data, keep, 'out after a rejected call');
    };
    check(() => be.kernels.matmul(out, a, be.tensor([3, 3])), ShapeError, /inner dimensions differ: op\(a\) is 2×4.*op\(b\) is 3×3/);
    check(() => be.kernels.matmul(out, a, b, { transA: true }), ShapeError, /inner dimensions/);
    check(() => be.kernels.matmul(out, a, b, { transB: true }), ShapeError, /inner dimensions/);
    const wrong = be.tensor([3, 2], randomF32(6, 8));
    expect(() => be.kernels.matmul(wrong, a, b)).toThrow(/matmul out/);
    expectBits(wrong.data, randomF32(6, 8), 'wrong-shaped out after a rejected call');
    check(() => be.kernels.matmul(be.zeros([2, 4]), a, b), ShapeError);
    const sq = be.tensor([2, 2], [1, 2, 3, 4]);
    const sqKeep = sq.data.slice();
    expect(() => be.kernels.matmul(sq, sq, be.tensor([2, 2]))).toThrow(/out must not be the same tensor as a or b/);
    expect(() => be.kernels.matmul(sq, be.tensor([2, 2]), sq)).toThrow(ShapeError);
    expectBits(sq.data, sqKeep, 'aliased out after a rejected call');
    check(() => be.kernels.matmul(out, be.tensor([8], randomF32(8, 6)), b), ShapeError, /2-D tensor/);
    check(() => be.kernels.matmul(be.zeros([6]), a, b), ShapeError);
    const gone = be.tensor([4, 3], randomF32(12, 7));
    gone.dispose();
    check(() => be.kernels.matmul(out, a, gone), DisposedError);
    check(() => be.kernels.matmul(out, a, b, { transA: 1 as never }), TypeError);
    const other = be === wasm ? js : wasm;
    check(() => be.kernels.matmul(out, a, other.tensor([4, 3])), TypeError, /another backend/);
    const dead = be.zeros([2, 3]);
    dead.dispose();
    expect(() => be.kernels.matmul(dead, a, b)).toThrow(DisposedError);
    [out, a, b, sq, wrong].forEach((t) => t.dispose());
  });
});

describe('matmul wasm vs js', () => {
  const DIMS = [0, 1, 3, 4, 5, 7, 8, 17, 67];

  it('bit-identical for every m, n, k in {0, 1, 3, 4, 5, 7, 8, 17, 67}, all transpose modes, with and without accumulate', () => {
    let seed = 1000, runs = 0;
    for (const m of DIMS) for (const n of DIMS) for (const k of DIMS) {
      for (const [transA, transB] of MODES) {
        for (const accumulate of [false, true]) {
          const p = problem(m, n, k, transA, transB, accumulate, seed += 3);
          const w = run(wasm, p).out, j = run(js, p).out;
          const d = firstBitDiff(w, j);
          if (d >= 0) expect.fail(`${m}x${k}x${n} tA=${transA} tB=${transB} acc=${accumulate}: element ${d} wasm ${w[d]} js ${j[d]}`);
          runs++;
        }
      }
    }
    expect(runs).toBe(DIMS.length ** 3 * 8);
  });

  it('bit-identical on large shapes crossing the K (256) and M (64) blocks: 300x257x129, 130x600x70, 256x256x256, 64x784x256', () => {
    const shapes = [[300, 129, 257], [130, 70, 600], [256, 256, 256], [64, 256, 784]] as const;
    let seed = 5000;
    for (const [m, n, k] of shapes) {
      for (const [transA, transB] of MODES) {
        const p = problem(m, n, k, transA, transB, seed % 2 === 0, seed += 3);
        expectBits(run(wasm, p).out, run(js, p).out, `${m}x${k}x${n} tA=${transA} tB=${transB}`);
      }
    }
  });

  it('property: random m, n, k ≤ 40 and flags: wasm == js bit for bit, and within the f32 bound of the float64 product', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }),
      fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 1e6 }), fc.constantFrom(1, 1e-3, 1e3),
      (m, n, k, transA, transB, accumulate, seed, scale) => {
        const p = problem(m, n, k, transA, transB, accumulate, seed);
        p.a = randomF32(m * k, seed, scale);
        const w = run(wasm, p).out, j = run(js, p).out;
        if (firstBitDiff(w, j) >= 0) return false;
        for (let i = 0; i < m; i++) {
          for (let c = 0; c < n; c++) {
            const { exact, tol } = exactWithBound(p, i, c);
            if (!(Math.abs(w[i * n + c]! - exact) <= tol)) return false;
          }
        }
        return true;
      }), { numRuns: 300 });
  });

  it('wasm writes nothing outside out, even around edge tiles (guard words before and after out)', () => {
    // The raw kernel on a window inside one big tensor: the guard zones must keep their bits.
    const G = 64;
    let seed = 7000;
    for (const [m, n, k] of [[1, 1, 1], [3, 5, 7], [5, 9, 3], [7, 17, 300], [67, 3, 5], [4, 8, 2]] as const) {
      for (const [transA, transB] of MODES) {
        for (const accumulate of [false, true]) {
          const p = problem(m, n, k, transA, transB, accumulate, seed += 3);
          const guard = randomF32(m * n + 2 * G, seed, 1e6);
          guard.set(p.out0, G);
          const big = wasm.tensor([m * n + 2 * G], guard);
          const a = wasm.tensor([p.a.length], p.a), b = wasm.tensor([p.b.length], p.b);
          (wasm._s.raw.matmul as (...a: unknown[]) => void)(ptr(big) + 4 * G, a._h, b._h, m, n, k, transA, transB, accumulate);
          const got = big.data;
          const where = `${m}x${k}x${n} tA=${transA} tB=${transB} acc=${accumulate}`;
          expectBits(got.subarray(0, G), guard.subarray(0, G), `${where}: guard before out`);
          expectBits(got.subarray(G + m * n), guard.subarray(G + m * n), `${where}: guard after out`);
          expectBits(got.slice(G, G + m * n), oracle(p), `${where}: out`);
          big.dispose(); a.dispose(); b.dispose();
        }
      }
    }
  });

  it('scratch reuse across sizes: a big call, then small ones, then a bigger one (the scratch grows) stay bit-identical', () => {
    const shapes = [[200, 300, 300], [3, 5, 7], [1, 1, 600], [70, 520, 520], [9, 9, 9]] as const;
    let seed = 9000;
    for (const [m, n, k] of shapes) {
      const p = problem(m, n, k, true, false, false, seed += 3);
      expectBits(run(wasm, p).out, run(js, p).out, `${m}x${k}x${n}`);
    }
  });
});
