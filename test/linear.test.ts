import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { linear, loadDiabetes, ShapeError, type Backend } from '../src/index.js';
import { firstBitDiff, loadBoth, randomF32 } from './helpers.js';

// Copies of ../shared/reference/{lasso,ridge}.json (scikit-learn 1.2, fit_intercept=False).
const load = (f: string) => JSON.parse(readFileSync(new URL(`./reference/${f}`, import.meta.url), 'utf8'));
const LASSO = load('lasso.json') as { source: string; X: number[][]; y: number[]; cases: { model: string; alpha: number; l1Ratio: number; coef: number[] }[] };
const RIDGE = load('ridge.json') as { source: string; X: number[][]; y: number[]; cases: { lambda: number; coef: number[] }[] };

const { wasm, js } = await loadBoth();
const BACKENDS = [['wasm', wasm], ['js', js]] as const;
const SOLVERS = ['cd', 'fista'] as const;
/** Every backend × solver pair. */
const PAIRS = BACKENDS.flatMap(([kind, be]) => SOLVERS.map((solver) => [kind, solver, be] as const));

function problem(ref: { X: number[][]; y: number[] }) {
  return { X: Float32Array.from(ref.X.flat()), y: Float32Array.from(ref.y), n: ref.X.length, d: ref.X[0]!.length };
}

/** Coefficients within 1e-3 of the largest reference coefficient, and exact zeros where the reference has them. */
function expectMatches(coef: Float32Array, ref: number[], what: string): void {
  const big = Math.max(...ref.map(Math.abs));
  ref.forEach((r, j) => {
    if (r === 0) expect(coef[j], `${what}: coef ${j} must be exactly 0`).toBe(0);
    expect(Math.abs(coef[j]! - r), `${what}: coef ${j} = ${coef[j]} vs ${r}`).toBeLessThanOrEqual(1e-3 * big);
  });
}

/** f64 objective of sklearn's elastic net. */
function objective(X: Float32Array, y: Float32Array, n: number, d: number, w: ArrayLike<number>, alpha: number, l1Ratio: number): number {
  let rr = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += X[i * d + j]! * w[j]!;
    rr += (y[i]! - s) ** 2;
  }
  let l1 = 0, l2 = 0;
  for (let j = 0; j < d; j++) { l1 += Math.abs(w[j]!); l2 += w[j]! ** 2; }
  return rr / (2 * n) + alpha * l1Ratio * l1 + (alpha * (1 - l1Ratio) / 2) * l2;
}

describe.each(PAIRS)('linear.fit on %s with %s against scikit-learn', (_kind, solver, be) => {
  it('matches lasso.json and its elastic-net cases: exact zeros where sklearn has them', () => {
    expect(LASSO.source).toMatch(/scikit-learn/);
    const { X, y, n, d } = problem(LASSO);
    for (const c of LASSO.cases) {
      const r = linear.fit(be, X, y, { n, d, alpha: c.alpha, l1Ratio: c.l1Ratio, tol: 1e-7, solver });
      expect(r.converged, `${c.model} alpha ${c.alpha}`).toBe(true);
      expectMatches(r.coef, c.coef, `${c.model} alpha ${c.alpha} l1Ratio ${c.l1Ratio}`);
      expect(r.dualGap).toBeLessThanOrEqual(1e-7 * y.reduce((a, b) => a + b * b, 0) / n);
    }
    expect(be.memory().liveTensors).toBe(0);
  });

  it('matches ridge.json: sklearn Ridge minimizes ‖y − Xw‖² + λ‖w‖², i.e. alpha = λ/n, l1Ratio = 0', () => {
    const { X, y, n, d } = problem(RIDGE);
    for (const c of RIDGE.cases) {
      const r = linear.fit(be, X, y, { n, d, alpha: c.lambda / n, l1Ratio: 0, tol: 1e-7, solver });
      expect(r.converged, `lambda ${c.lambda}`).toBe(true);
      expectMatches(r.coef, c.coef, `ridge lambda ${c.lambda}`);
      expect(r.coef.every((v) => v !== 0), 'ridge zeroes nothing').toBe(true);
      if (c.lambda === 0) expect(r.dualGap).toBeNaN(); // least squares: no finite dual
    }
  });

  it('matches the references with the default tol too (1e-6)', () => {
    const { X, y, n, d } = problem(LASSO);
    for (const c of LASSO.cases) expectMatches(linear.fit(be, X, y, { n, d, alpha: c.alpha, l1Ratio: c.l1Ratio, solver }).coef, c.coef, `default tol ${c.alpha}`);
    for (const c of RIDGE.cases) expectMatches(linear.fit(be, X, y, { n, d, alpha: c.lambda / n, l1Ratio: 0, solver }).coef, c.coef, `default tol ridge ${c.lambda}`);
  });
});

describe.each(SOLVERS)('linear.fit with %s: wasm and js give the same bits', (solver) => {
  it('on the reference problems and on diabetes, every option', () => {
    const { X, y, n, d } = problem(LASSO);
    const dia = loadDiabetes({ standardize: true });
    const runs: [Float32Array, Float32Array, number, number, number, number][] = [];
    for (const c of LASSO.cases) runs.push([X, y, n, d, c.alpha, c.l1Ratio]);
    for (const a of [0, 0.003, 0.05, 0.5, 3]) for (const l1 of [0, 0.3, 1]) runs.push([dia.x, dia.y, dia.n, dia.d, a, l1]);
    for (const [X_, y_, n_, d_, alpha, l1Ratio] of runs) {
      const a = linear.fit(wasm, X_, y_, { n: n_, d: d_, alpha, l1Ratio, maxIter: 300, solver });
      const b = linear.fit(js, X_, y_, { n: n_, d: d_, alpha, l1Ratio, maxIter: 300, solver });
      expect(firstBitDiff(a.coef, b.coef), `alpha ${alpha} l1Ratio ${l1Ratio}`).toBe(-1);
      expect([a.iterations, a.converged]).toEqual([b.iterations, b.converged]);
      expect(Object.is(a.dualGap, b.dualGap)).toBe(true);
    }
  });
});

describe.each(PAIRS)('linear.fit on %s with %s: solver behaviour', (_kind, solver, be) => {
  it('satisfies the optimality (KKT) conditions on random problems (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 1e6 }),
      fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 1.5, noNaN: true }),
      (n, d, seed, l1Ratio, frac) => {
        const X = randomF32(n * d, seed), y = randomF32(n, seed + 1, 3);
        let amax = 0; // max |X_jᵀy|/n in f64
        for (let j = 0; j < d; j++) { let s = 0; for (let i = 0; i < n; i++) s += X[i * d + j]! * y[i]!; amax = Math.max(amax, Math.abs(s) / n); }
        const alpha = frac * amax;
        const r = linear.fit(be, X, y, { n, d, alpha, l1Ratio, tol: 1e-8, maxIter: 20000, solver });
        // Gradient of the smooth part in f64; KKT: g_j + α(1−ρ)w_j + αρ·sign(w_j) = 0, or |g_j| ≤ αρ at w_j = 0.
        const w = r.coef;
        const res = new Float64Array(n);
        for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < d; j++) s += X[i * d + j]! * w[j]!; res[i] = y[i]! - s; }
        const scale = amax + 1e-30;
        for (let j = 0; j < d; j++) {
          let c = 0;
          for (let i = 0; i < n; i++) c += X[i * d + j]! * res[i]!;
          c /= n; // = −∂/∂w_j of the data term
          if (w[j] === 0) expect(Math.abs(c)).toBeLessThanOrEqual(alpha * l1Ratio + 1e-3 * scale);
          else expect(Math.abs(c - alpha * (1 - l1Ratio) * w[j]! - alpha * l1Ratio * Math.sign(w[j]!))).toBeLessThanOrEqual(1e-3 * scale);
        }
      }), { numRuns: 60 });
    expect(be.memory().liveTensors).toBe(0);
  });

  it('alpha ≥ alpha_max gives all zeros at once; just below it does not', () => {
    const { X, y, n, d } = problem(LASSO);
    const amax = linear.alphaMax(X, y, n, d);
    const at = linear.fit(be, X, y, { n, d, alpha: amax * 1.0001, solver });
    expect(Array.from(at.coef)).toEqual(new Array(d).fill(0));
    expect([at.iterations, at.converged]).toEqual([0, true]);
    const below = linear.fit(be, X, y, { n, d, alpha: amax * 0.95, solver });
    expect(below.coef.filter((v) => v !== 0).length).toBeGreaterThan(0);
  });

  it('a warm start at the solution stops at once with the same bits; warm starts save iterations', () => {
    const dia = loadDiabetes({ standardize: true });
    const o = { n: dia.n, d: dia.d, alpha: 0.05, solver };
    const cold = linear.fit(be, dia.x, dia.y, o);
    const again = linear.fit(be, dia.x, dia.y, { ...o, warmStart: cold.coef });
    expect(again.iterations).toBe(0);
    expect(again.converged).toBe(true);
    expect(firstBitDiff(again.coef, cold.coef)).toBe(-1);
    const near = linear.fit(be, dia.x, dia.y, { ...o, alpha: 0.045, warmStart: cold.coef });
    const nearCold = linear.fit(be, dia.x, dia.y, { ...o, alpha: 0.045 });
    expect(near.iterations).toBeLessThan(nearCold.iterations);
    expect(objective(dia.x, dia.y, dia.n, dia.d, near.coef, 0.045, 1)).toBeCloseTo(objective(dia.x, dia.y, dia.n, dia.d, nearCold.coef, 0.045, 1), 3);
  });

  it('stops at maxIter unconverged; lasso zeroes coefficients ridge only shrinks', () => {
    const dia = loadDiabetes({ standardize: true });
    const r = linear.fit(be, dia.x, dia.y, { n: dia.n, d: dia.d, alpha: 0.01, maxIter: 3, solver });
    expect([r.iterations, r.converged]).toEqual([3, false]);
    const lasso = linear.fit(be, dia.x, dia.y, { n: dia.n, d: dia.d, alpha: 0.5, l1Ratio: 1, solver });
    const ridge = linear.fit(be, dia.x, dia.y, { n: dia.n, d: dia.d, alpha: 0.5, l1Ratio: 0, solver });
    expect(lasso.coef.filter((v) => v === 0).length).toBeGreaterThanOrEqual(5);
    expect(ridge.coef.filter((v) => v === 0).length).toBe(0);
  });

  it('X = 0 gives w = 0', () => {
    const r = linear.fit(be, new Float32Array(12), Float32Array.of(1, 2, 3), { n: 3, d: 4, alpha: 0.1, solver });
    expect(Array.from(r.coef)).toEqual([0, 0, 0, 0]);
    expect(r.converged).toBe(true);
  });
});

describe.each(PAIRS)('linear.path on %s with %s', (_kind, solver, be) => {
  const dia = loadDiabetes({ standardize: true });
  const o = { n: dia.n, d: dia.d, solver };

  it("uses sklearn's grid: alpha_max = max|Xᵀy|/(n·l1Ratio) down to eps·alpha_max, geometric", () => {
    const p = linear.path(be, dia.x, dia.y, { ...o, nAlphas: 20, eps: 1e-2, l1Ratio: 0.5 });
    let amax = 0;
    for (let j = 0; j < dia.d; j++) { let s = 0; for (let i = 0; i < dia.n; i++) s += dia.x[i * dia.d + j]! * dia.y[i]!; amax = Math.max(amax, Math.abs(s)); }
    amax /= dia.n * 0.5;
    expect(p.alphas.length).toBe(20);
    expect(p.alphas[0]).toBeCloseTo(amax, 10);
    expect(p.alphas[19]! / p.alphas[0]!).toBeCloseTo(1e-2, 12);
    for (let i = 1; i < 20; i++) expect(p.alphas[i]! / p.alphas[i - 1]!).toBeCloseTo(10 ** (-2 / 19), 12);
    expect(p.zeroCounts[0]).toBe(dia.d);
  });

  it('on diabetes: zeros fall from d to 0 as alpha decreases, each point solves its fit', () => {
    // eps = 4e-3 stops above alpha ≈ 4.8e-3 ≈ 2.2e-3·alpha_max, where s3 (hdl) crosses
    // zero and briefly leaves the active set (the lasso modification of LARS in Efron et al.
    // 2004): over sklearn's default eps = 1e-3 the zero count is not monotone.
    const p = linear.path(be, dia.x, dia.y, { ...o, nAlphas: 40, eps: 4e-3 });
    expect(p.converged.every(Boolean)).toBe(true);
    expect(p.zeroCounts[0]).toBe(dia.d);
    expect(p.zeroCounts[39]).toBe(0);
    for (let i = 1; i < 40; i++) expect(p.zeroCounts[i]!).toBeLessThanOrEqual(p.zeroCounts[i - 1]!);
    for (const i of [5, 20, 39]) {
      const f = linear.fit(be, dia.x, dia.y, { ...o, alpha: p.alphas[i]! });
      const fo = objective(dia.x, dia.y, dia.n, dia.d, f.coef, p.alphas[i]!, 1);
      const po = objective(dia.x, dia.y, dia.n, dia.d, p.coefs[i]!, p.alphas[i]!, 1);
      expect(Math.abs(fo - po)).toBeLessThanOrEqual(2e-6 * dia.y.reduce((a, b) => a + b * b, 0) / dia.n);
    }
    // The zero crossing of s3 itself, on sklearn's full default grid (eps 1e-3).
    const full = linear.path(be, dia.x, dia.y, o);
    const s3 = full.coefs.map((c) => c[6]!);
    const small = s3.map((v, i) => [full.alphas[i]!, v] as const).filter(([a]) => a < 0.01);
    const firstZero = small.findIndex(([, v]) => v === 0);
    expect(firstZero).toBeGreaterThan(0);
    expect(small[firstZero - 1]![1]).toBeLessThan(0); // negative, then exactly zero, then positive
    expect(small[small.length - 1]![1]).toBeGreaterThan(0);
    expect(full.zeroCounts[99]).toBe(0);
    expect(be.memory().liveTensors).toBe(0);
  });

  it('explicit alphas are sorted decreasing; ridge paths need them', () => {
    const p = linear.path(be, dia.x, dia.y, { ...o, alphas: [0.01, 1, 0.1], l1Ratio: 0 });
    expect(Array.from(p.alphas)).toEqual([1, 0.1, 0.01]);
    expect(Array.from(p.zeroCounts)).toEqual([0, 0, 0]);
    expect(() => linear.path(be, dia.x, dia.y, { ...o, l1Ratio: 0 })).toThrow(/needs l1Ratio > 0/);
  });
});

describe('bad input is a clear error and allocates nothing', () => {
  const X = new Float32Array(12), y = new Float32Array(3);
  const ok = { n: 3, d: 4, alpha: 0.1 };
  const cases: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    ['alpha < 0', () => linear.fit(js, X, y, { ...ok, alpha: -1 }), RangeError, /alpha: expected a finite number ≥ 0, got -1/],
    ['alpha NaN', () => linear.fit(js, X, y, { ...ok, alpha: NaN }), RangeError, /alpha.*got NaN/],
    ['l1Ratio > 1', () => linear.fit(js, X, y, { ...ok, l1Ratio: 1.5 }), RangeError, /l1Ratio: expected a number in \[0, 1\], got 1.5/],
    ['l1Ratio < 0', () => linear.fit(js, X, y, { ...ok, l1Ratio: -0.1 }), RangeError, /l1Ratio/],
    ['X too short', () => linear.fit(js, new Float32Array(11), y, ok), ShapeError, /X: expected n×d = 3×4 = 12 values, got 11/],
    ['y wrong length', () => linear.fit(js, X, new Float32Array(4), ok), ShapeError, /y: expected n = 3 values, got 4/],
    ['NaN in X', () => linear.fit(js, Float32Array.of(0, 0, 0, 0, 0, NaN, 0, 0, 0, 0, 0, 0), y, ok), RangeError, /X: expected finite numbers, got NaN at index 5/],
    ['Infinity in y', () => linear.fit(js, X, Float32Array.of(0, Infinity, 0), ok), RangeError, /y: expected finite numbers, got Infinity at index 1/],
    ['n not an integer', () => linear.fit(js, X, y, { ...ok, n: 2.5 }), ShapeError, /n \(rows of X\): expected a positive integer, got 2.5/],
    ['d = 0', () => linear.fit(js, X, y, { ...ok, d: 0 }), ShapeError, /d \(columns of X\)/],
    ['X not an array', () => linear.fit(js, 'x' as never, y, ok), TypeError, /X: expected a Float32Array/],
    ['not a backend', () => linear.fit({} as Backend, X, y, ok), TypeError, /expected a Backend/],
    ['warmStart length', () => linear.fit(js, X, y, { ...ok, warmStart: new Float32Array(3) }), ShapeError, /warmStart: expected d = 4 values, got 3/],
    ['maxIter 0', () => linear.fit(js, X, y, { ...ok, maxIter: 0 }), RangeError, /maxIter/],
    ['tol < 0', () => linear.fit(js, X, y, { ...ok, tol: -1 }), RangeError, /tol/],
    ['unknown solver', () => linear.fit(js, X, y, { ...ok, solver: 'lbfgs' as never }), TypeError, /solver: expected 'cd' or 'fista', got "lbfgs"/],
    ['path alphas < 0', () => linear.path(js, X, y, { n: 3, d: 4, alphas: [0.1, -1] }), RangeError, /alphas\[1\]/],
    ['path eps', () => linear.path(js, X, y, { n: 3, d: 4, eps: 0 }), RangeError, /eps/],
    ['path NaN in y', () => linear.path(js, X, Float32Array.of(NaN, 0, 0), { n: 3, d: 4 }), RangeError, /y: expected finite/],
    ['alphaMax X size', () => linear.alphaMax(new Float32Array(5), y, 3, 2), ShapeError, /alphaMax X: expected n×d = 3×2 = 6 values, got 5/],
    ['alphaMax l1Ratio 0', () => linear.alphaMax(new Float32Array(6), y, 3, 2, 0), RangeError, /l1Ratio in \(0, 1\], got 0/],
  ];
  it.each(cases)('%s', (_name, f, type, msg) => {
    const before = js.memory().liveTensors;
    let err: unknown;
    try { f(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(msg);
    expect(js.memory().liveTensors).toBe(before);
  });
});
