/**
 * Autograd: every op's backward against central finite differences of a float64 forward
 * written here (on the same float32 inputs), on random shapes including sizes that are not
 * multiples of 4; gradient accumulation; backends bit-identical; bad input.
 *
 * Tolerance: the float64 differences (eps 1e-6) are exact to ~1e-9; the autograd gradient
 * is float32 with sums over at most ~70 terms, so it may be off by ~70·2⁻²⁴ ≈ 4e-6 of the
 * magnitudes summed. We accept |g − fd| ≤ 1e-4·|fd| + 1e-5·max|fd| (over the tensor).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DisposedError, ShapeError, nn, type Backend, type Tensor } from '../src/index.js';
import { loadBoth, randomF32, firstBitDiff } from './helpers.js';
import { fd } from './grad64.js';

const { wasm, js } = await loadBoth();

type F64 = Float64Array;
interface Input { shape: number[]; data: Float32Array }

/** Central differences of f at every element of every input (f64 forward). */
function numericGrads(inputs: Input[], f: (xs: F64[]) => number, eps = 1e-6): F64[] {
  const xs = inputs.map((i) => Float64Array.from(i.data));
  return xs.map((x) => fd(x, () => f(xs), eps));
}

function expectClose(got: Float32Array, want: F64, what: string): void {
  let max = 0;
  for (const v of want) max = Math.max(max, Math.abs(v));
  for (let i = 0; i < want.length; i++) {
    const tol = 1e-4 * Math.abs(want[i]!) + 1e-5 * max + 1e-12;
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) throw new Error(`${what}[${i}]: autograd ${got[i]}, finite differences ${want[i]} (tolerance ${tol})`);
  }
}

/** Builds params from inputs, runs loss = build(params).backward(), compares every grad. */
function check(be: Backend, inputs: Input[], build: (ps: Tensor[]) => Tensor, ref: (xs: F64[]) => number, what: string): void {
  const live = be.memory().liveTensors;
  const ps = inputs.map((i) => be.param(i.shape, i.data));
  const loss = build(ps);
  expect(Math.abs(loss.item() - ref(inputs.map((i) => Float64Array.from(i.data))))).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(loss.item())));
  loss.backward();
  const num = numericGrads(inputs, ref);
  ps.forEach((p, i) => expectClose(p.grad!.toFloat32Array(), num[i]!, `${what} input ${i}`));
  be.endStep();
  ps.forEach((p) => p.dispose());
  expect(be.memory().liveTensors).toBe(live);
}

// ---- float64 reference forwards ----

function mm(a: F64, b: F64, m: number, n: number, k: number, tA: boolean, tB: boolean): F64 {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[tA ? p * m + i : i * k + p]! * b[tB ? j * k + p : p * n + j]!;
    c[i * n + j] = s;
  }
  return c;
}
const mse64 = (y: F64, t: ArrayLike<number>) => { let s = 0; for (let i = 0; i < y.length; i++) s += (y[i]! - t[i]!) ** 2; return s / y.length; };
const map64 = (x: F64, f: (v: number) => number) => x.map(f);
function erf64(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse; integrate the series instead (|x| ≤ 6 here)
  let s = 0, term = x, n = 0;
  while (Math.abs(term) > 1e-17 * Math.abs(s) || n < 5) { s += term / (2 * n + 1); n++; term *= -x * x / n; if (n > 200) break; }
  return (2 / Math.sqrt(Math.PI)) * s;
}
const gelu64 = (v: number) => 0.5 * v * (1 + erf64(v / Math.SQRT2));
function ce64(z: F64, labels: Int32Array, rows: number, cols: number): number {
  let total = 0;
  for (let i = 0; i < rows; i++) {
    let mx = -Infinity;
    for (let j = 0; j < cols; j++) mx = Math.max(mx, z[i * cols + j]!);
    let se = 0;
    for (let j = 0; j < cols; j++) se += Math.exp(z[i * cols + j]! - mx);
    total += Math.log(se) + mx - z[i * cols + labels[i]!]!;
  }
  return total / rows;
}

/** Values bounded away from 0 (kinks of relu and |x|). */
function awayFromZero(n: number, seed: number, scale = 1): Float32Array {
  const v = randomF32(n, seed, scale);
  for (let i = 0; i < n; i++) if (Math.abs(v[i]!) < 0.05 * scale) v[i] = (v[i]! < 0 ? -0.05 : 0.05) * scale + v[i]!;
  return v;
}

const dim = fc.integer({ min: 1, max: 9 });

describe.each([['wasm', wasm], ['js', js]] as const)('gradient checks on %s', (_k, be) => {
  it('matmul in all four transpose modes, random shapes', () => {
    fc.assert(fc.property(dim, dim, dim, fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 1e6 }), (m, k, n, tA, tB, seed) => {
      const a: Input = { shape: tA ? [k, m] : [m, k], data: randomF32(m * k, seed) };
      const b: Input = { shape: tB ? [n, k] : [k, n], data: randomF32(k * n, seed + 1) };
      const t = randomF32(m * n, seed + 2);
      const tt = be.tensor([m, n], t);
      check(be, [a, b], ([pa, pb]) => be.mse(be.matmul(pa!, pb!, { transA: tA, transB: tB }), tt),
        ([xa, xb]) => mse64(mm(xa!, xb!, m, n, k, tA, tB), t), `matmul ${m}x${k}x${n} tA=${tA} tB=${tB}`);
      tt.dispose();
    }), { numRuns: 25 });
  });

  it('linear (x·wᵀ + b) with and without bias, and add with row broadcast and same shapes', () => {
    fc.assert(fc.property(dim, dim, dim, fc.integer({ min: 1, max: 1e6 }), (rows, inF, outF, seed) => {
      const x: Input = { shape: [rows, inF], data: randomF32(rows * inF, seed) };
      const w: Input = { shape: [outF, inF], data: randomF32(outF * inF, seed + 1) };
      const b: Input = { shape: [outF], data: randomF32(outF, seed + 2) };
      const t = randomF32(rows * outF, seed + 3);
      const tt = be.tensor([rows, outF], t);
      const lin = (xs: F64[], bias: boolean) => {
        const y = mm(xs[0]!, xs[1]!, rows, outF, inF, false, true);
        if (bias) for (let i = 0; i < rows; i++) for (let j = 0; j < outF; j++) y[i * outF + j] = y[i * outF + j]! + xs[2]![j]!;
        return y;
      };
      check(be, [x, w, b], ([px, pw, pb]) => be.mse(be.linear(px!, pw!, pb!), tt), (xs) => mse64(lin(xs, true), t), 'linear');
      check(be, [x, w], ([px, pw]) => be.mse(be.linear(px!, pw!), tt), (xs) => mse64(lin(xs, false), t), 'linear without bias');
      check(be, [x, w, b], ([px, pw, pb]) => be.mse(be.add(be.matmul(px!, pw!, { transB: true }), pb!), tt), (xs) => mse64(lin(xs, true), t), 'matmul + add row');
      const y: Input = { shape: [rows, outF], data: randomF32(rows * outF, seed + 4) };
      const z: Input = { shape: [rows, outF], data: randomF32(rows * outF, seed + 5) };
      check(be, [y, z], ([py, pz]) => be.mse(be.add(py!, pz!), tt), ([a, c]) => mse64(a!.map((v, i) => v + c![i]!), t), 'add same shape');
      check(be, [y, z], ([py, pz]) => be.mse(be.sub(py!, pz!), tt), ([a, c]) => mse64(a!.map((v, i) => v - c![i]!), t), 'sub');
      check(be, [y], ([py]) => be.mse(be.sub(py!, py!), tt), ([a]) => mse64(a!.map(() => 0), t), 'sub of itself (both contributions to one grad)');
      tt.dispose();
    }), { numRuns: 12 });
  });

  for (const n of [1, 3, 4, 5, 7, 17, 67]) {
    it(`relu, gelu, tanh, scale, dropout at n = ${n}`, () => {
      const x: Input = { shape: [n], data: awayFromZero(n, 100 + n, 3) };
      const t = randomF32(n, 200 + n);
      const tt = be.tensor([n], t);
      check(be, [x], ([p]) => be.mse(be.relu(p!), tt), ([v]) => mse64(map64(v!, (a) => Math.max(a, 0)), t), 'relu');
      check(be, [x], ([p]) => be.mse(be.gelu(p!), tt), ([v]) => mse64(map64(v!, gelu64), t), 'gelu');
      check(be, [x], ([p]) => be.mse(be.tanh(p!), tt), ([v]) => mse64(map64(v!, Math.tanh), t), 'tanh');
      check(be, [x], ([p]) => be.mse(be.scale(p!, -1.7), tt), ([v]) => mse64(map64(v!, (a) => -1.7 * a), t), 'scale');
      // dropout: the mask is the forward's; the float64 forward reuses it
      const probe = be.tensor([n], x.data);
      const rng = be.rng(77);
      const kept = be.dropout(probe, 0.4, rng).toFloat32Array().map((v) => (v !== 0 ? 1 : 0));
      rng.dispose(); probe.dispose(); be.endStep();
      const rng2 = be.rng(77);
      const s = 1 / (1 - 0.4);
      check(be, [x], ([p]) => be.mse(be.dropout(p!, 0.4, rng2), tt), ([v]) => mse64(v!.map((a, i) => a * kept[i]! * s), t), 'dropout');
      rng2.dispose();
      tt.dispose();
    });
  }

  it('crossEntropy against labels, random shapes', () => {
    fc.assert(fc.property(dim, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 1e6 }), (rows, cols, seed) => {
      const z: Input = { shape: [rows, cols], data: randomF32(rows * cols, seed, 4) };
      const labels = Int32Array.from({ length: rows }, (_, i) => (i * 5 + seed) % cols);
      check(be, [z], ([p]) => be.crossEntropy(p!, labels), ([v]) => ce64(v!, labels, rows, cols), `crossEntropy ${rows}x${cols}`);
    }), { numRuns: 20 });
  });

  it('mse with a target that requires grad, sum, mean, l2Penalty, l1Penalty', () => {
    for (const n of [1, 3, 5, 8, 67]) {
      const a: Input = { shape: [n], data: randomF32(n, 300 + n) };
      const b: Input = { shape: [n], data: randomF32(n, 400 + n) };
      check(be, [a, b], ([p, q]) => be.mse(p!, q!), ([u, v]) => mse64(u!, v!), 'mse both');
      check(be, [a], ([p]) => be.sum(be.tanh(p!)), ([u]) => u!.reduce((s, v) => s + Math.tanh(v), 0), 'sum');
      check(be, [a], ([p]) => be.mean(be.tanh(p!)), ([u]) => u!.reduce((s, v) => s + Math.tanh(v), 0) / n, 'mean');
      check(be, [a], ([p]) => be.l2Penalty(p!), ([u]) => 0.5 * u!.reduce((s, v) => s + v * v, 0), 'l2Penalty');
      const c: Input = { shape: [n], data: awayFromZero(n, 500 + n) };
      check(be, [c], ([p]) => be.l1Penalty(p!), ([u]) => u!.reduce((s, v) => s + Math.abs(v), 0), 'l1Penalty');
    }
  });

  it('fan-out accumulates: a tensor used twice, a loss with penalties added', () => {
    const n = 7;
    const x: Input = { shape: [3, n], data: awayFromZero(3 * n, 600, 2) };
    const w: Input = { shape: [4, n], data: randomF32(4 * n, 601) };
    const t = randomF32(3 * n, 602);
    const tt = be.tensor([3, n], t);
    check(be, [x], ([p]) => be.mse(be.add(be.relu(p!), be.tanh(p!)), tt),
      ([v]) => mse64(v!.map((a) => Math.max(a, 0) + Math.tanh(a)), t), 'relu + tanh of one input');
    const labels = Int32Array.from([0, 3, 1]);
    check(be, [x, w], ([px, pw]) => be.add(be.add(be.crossEntropy(be.matmul(be.gelu(px!), pw!, { transB: true }), labels), be.scale(be.l2Penalty(pw!), 0.1)), be.scale(be.l1Penalty(px!), 0.01)),
      ([vx, vw]) => {
        const h = vx!.map(gelu64);
        return ce64(mm(h, vw!, 3, 4, n, false, true), labels, 3, 4) + 0.05 * vw!.reduce((s, v) => s + v * v, 0) + 0.01 * vx!.reduce((s, v) => s + Math.abs(v), 0);
      }, 'crossEntropy + 0.1·l2 + 0.01·l1');
    tt.dispose();
  });

  it('gradients accumulate into p.grad across backward() calls, as in torch', () => {
    const w = be.param([5], randomF32(5, 700));
    be.l2Penalty(w).backward();
    const once = w.grad!.toFloat32Array();
    expect(Array.from(once)).toEqual(Array.from(w.data));
    be.l2Penalty(w).backward();
    expect(Array.from(w.grad!.data)).toEqual(Array.from(once).map((v) => Math.fround(v + v)));
    // a one-element parameter can be its own loss
    const s = be.param([1], [3]);
    s.backward(); s.backward();
    expect(s.grad!.data[0]).toBe(2);
    be.endStep(); w.dispose(); s.dispose();
  });
});

describe('backends agree bit for bit on gradients', () => {
  it('a GELU/Tanh MLP with dropout, penalties and both losses', () => {
    const run = (be: Backend) => {
      const model = new nn.Sequential(new nn.Linear(be, 13, 17, { seed: 4 }), new nn.GELU(), new nn.Dropout(0.3, { seed: 5 }),
        new nn.Linear(be, 17, 9, { seed: 6 }), new nn.Tanh(), new nn.Linear(be, 9, 5, { seed: 7 }));
      const x = be.tensor([11, 13], randomF32(11 * 13, 8, 2));
      const t = be.tensor([11, 5], randomF32(11 * 5, 9));
      const labels = Int32Array.from({ length: 11 }, (_, i) => i % 5);
      const ps = model.parameters();
      for (let s = 0; s < 2; s++) {
        const out = model.forward(x);
        const loss = be.add(be.add(be.crossEntropy(out, labels), be.mse(out, t)), be.add(be.scale(be.l2Penalty(ps[0]!), 1e-2), be.scale(be.l1Penalty(ps[2]!), 1e-3)));
        loss.backward();
      }
      const grads = ps.map((p) => p.grad!.toFloat32Array());
      be.endStep(); model.dispose(); x.dispose(); t.dispose();
      return grads;
    };
    const a = run(wasm), b = run(js);
    a.forEach((g, i) => expect(firstBitDiff(g, b[i]!), `param ${i}`).toBe(-1));
  });
});

describe.each([['wasm', wasm], ['js', js]] as const)('bad input on %s', (_k, be) => {
  it('shape mismatches in every op throw ShapeError and allocate nothing', () => {
    const a = be.param([2, 3]), b = be.param([4, 5]), v3 = be.param([3]), v4 = be.param([4]);
    const w43 = be.param([4, 3]), e0 = be.zeros([0]), e02 = be.zeros([0, 2]), rng = be.rng(1);
    const live = be.memory().liveTensors;
    expect(() => be.matmul(a, b)).toThrow(/inner dimensions differ/);
    expect(() => be.matmul(a, a)).toThrow(ShapeError);
    expect(() => be.matmul(a, v3)).toThrow(/2-D/);
    expect(() => be.matmul(a, a, { transA: 1 as never })).toThrow(TypeError);
    expect(() => be.linear(a, b)).toThrow(/3 features/);
    expect(() => be.linear(a, w43, v3)).toThrow(/bias: expected shape \[4\]/);
    expect(() => be.add(a, b)).toThrow(/equal shapes or \[rows, cols\] \+ \[cols\]/);
    expect(() => be.add(a, v4)).toThrow(ShapeError);
    expect(() => be.sub(a, v4)).toThrow(/sub: expected equal shapes, got/);
    expect(() => be.mse(a, b)).toThrow(ShapeError);
    expect(() => be.mse(e0, e0)).toThrow(ShapeError);
    expect(() => be.mean(e02)).toThrow(ShapeError);
    expect(() => be.crossEntropy(v3, Int32Array.of(0))).toThrow(/2-D/);
    expect(() => be.dropout(a, 1.5, rng)).toThrow(RangeError);
    expect(() => be.dropout(a, 0.5, 7 as never)).toThrow(TypeError);
    expect(() => be.scale(a, NaN)).toThrow(RangeError);
    expect(() => be.relu([1, 2] as never)).toThrow(TypeError);
    expect(be.memory().liveTensors).toBe(live);
    for (const t of [a, b, v3, v4, w43, e0, e02, rng]) t.dispose();
  });

  it('labels: wrong count, out of range, wrong type', () => {
    const z = be.param([3, 4]);
    expect(() => be.crossEntropy(z, Int32Array.of(0, 1))).toThrow(/expected 3 labels/);
    expect(() => be.crossEntropy(z, Int32Array.of(0, 4, 1))).toThrow(/label 1 is 4, expected a class in \[0, 3\]/);
    expect(() => be.crossEntropy(z, Int32Array.of(0, -1, 1))).toThrow(RangeError);
    expect(() => be.crossEntropy(z, [0, 1, 2] as never)).toThrow(TypeError);
    expect(() => be.crossEntropy(z, Float32Array.of(0, 1, 2) as never)).toThrow(/Int32Array/);
    z.dispose();
  });

  it('backward on a non-scalar, twice, without grad, or after a boundary freed its graph', () => {
    const w = be.param([2, 2], [1, -2, 3, -4]);
    const y = be.relu(w);
    expect(() => y.backward()).toThrow(/one-element tensor.*shape \[2, 2\]/);
    const loss = be.sum(y);
    loss.backward();
    expect(() => loss.backward()).toThrow(DisposedError);
    expect(() => loss.backward()).toThrow(/already/);
    const c = be.sum(be.tensor([2], [1, 2]));
    expect(() => c.backward()).toThrow(/does not require grad/);
    const h = be.relu(w);
    const l2 = be.sum(h);
    be.endStep();
    expect(() => l2.backward()).toThrow(DisposedError);
    const h2 = be.tanh(w);
    const la = be.sum(h2), lb = be.mean(h2);
    la.backward();
    const before = w.grad!.toFloat32Array();
    expect(() => lb.backward()).toThrow(/add them \(be\.add\) and call backward\(\) once/);
    expect(Array.from(w.grad!.data)).toEqual(Array.from(before));
    // an input that needs no gradient but is read by the backward, disposed before backward(): nothing changes
    const x = be.tensor([3, 2], [1, 2, 3, 4, 5, 6]);
    const l3 = be.sum(be.linear(x, w));
    x.dispose();
    expect(() => l3.backward()).toThrow(DisposedError);
    expect(Array.from(w.grad!.data)).toEqual(Array.from(before));
    // a kept dropout output whose mask went with a boundary
    const r = be.rng(3);
    const d = be.dropout(w, 0.5, r).keep();
    be.endStep();
    expect(() => be.sum(d).backward()).toThrow(/dropout|disposed|freed/);
    expect(Array.from(w.grad!.data)).toEqual(Array.from(before));
    d.dispose(); r.dispose();
    be.endStep(); w.dispose();
  });
});
