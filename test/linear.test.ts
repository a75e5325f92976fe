import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { linear, loadDiabetes, ShapeError, type Backend } from '../src/index.js';
import { firstBitDiff, loadBoth, randomF32 } from './helpers.js';
import type { F32Handle } from '../src/backend/raw.js';

// Copies of ../shared/reference/{lasso,ridge}.json (scikit-learn 1.2, fit_intercept=False).
const load = (f: string) => JSON.parse(readFileSync(new URL(`./reference/${f}`, import.meta.url), 'utf8'));
const LASSO = load('lasso.json') as { source: string; X: number[][]; y: number[]; cases: { model: string; alpha: number; l1Ratio: number; coef: number[] }[] };
const RIDGE = load('ridge.json') as { source: string; X: number[][]; y: number[]; cases: { lambda: number; coef: number[] }[] };

const { wasm, js, BACKENDS } = await loadBoth();
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

/** The fast-check seed of the property tests here (fast-check prints it with any counterexample). */
const SEED = 0x11a550;

describe.each(PAIRS)('linear.fit on %s with %s: solver behaviour', (_kind, solver, be) => {
  it(`satisfies the optimality (KKT) conditions on random problems (property, fast-check seed ${SEED})`, () => {
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
      }), { numRuns: 60, seed: SEED });
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

describe('FISTA never turns finite input into NaN (issue 12, item 9)', () => {
  // n 6, d 4, seed 999990 of the KKT property: the power iteration's start vector has a
  // component of 7.6e-5 along XᵀX's top eigenvector, so its estimate stopped at the second
  // eigenvalue (0.436·1.05 against λmax 0.780) and a fixed step 1/L made FISTA diverge to NaN.
  function caseOf(n: number, d: number, seed: number) {
    const X = randomF32(n * d, seed), y = randomF32(n, seed + 1, 3);
    let amax = 0;
    for (let j = 0; j < d; j++) { let s = 0; for (let i = 0; i < n; i++) s += X[i * d + j]! * y[i]!; amax = Math.max(amax, Math.abs(s) / n); }
    return { X, y, n, d, amax };
  }

  it.each(BACKENDS)('the ridge-limit case n 6, d 4, seed 999990 converges to coordinate descent\'s solution on %s', (_kind, be) => {
    const { X, y, n, d, amax } = caseOf(6, 4, 999990);
    const o = { n, d, alpha: 0.01 * amax, l1Ratio: 0, tol: 1e-8, maxIter: 20000 };
    const f = linear.fit(be, X, y, { ...o, solver: 'fista' });
    const c = linear.fit(be, X, y, { ...o, solver: 'cd', precompute: false });
    expect(Array.from(f.coef).every(Number.isFinite)).toBe(true);
    expect(Number.isFinite(f.dualGap)).toBe(true);
    const big = Math.max(...Array.from(c.coef, Math.abs));
    for (let j = 0; j < d; j++) expect(Math.abs(f.coef[j]! - c.coef[j]!)).toBeLessThanOrEqual(1e-3 * big);
    expect(objective(X, y, n, d, f.coef, o.alpha, 0)).toBeLessThanOrEqual(objective(X, y, n, d, c.coef, o.alpha, 0) * (1 + 1e-6));
  });

  it(`gives finite coefficients no worse than cd on random badly scaled problems (property, fast-check seed ${SEED})`, () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 1e6 }),
      fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 1e-3, max: 1, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true }),
      (n, d, seed, l1Ratio, frac, spread) => {
        const { X, y, amax } = caseOf(n, d, seed);
        // Column j scaled by 10^(spread·j/d): eigenvalues spread over decades.
        for (let j = 0; j < d; j++) for (let i = 0; i < n; i++) X[i * d + j] = X[i * d + j]! * 10 ** ((spread * j) / d);
        const alpha = frac * amax + 1e-3;
        const f = linear.fit(js, X, y, { n, d, alpha, l1Ratio, tol: 1e-7, maxIter: 3000, solver: 'fista' });
        expect(Array.from(f.coef).every(Number.isFinite)).toBe(true);
        const c = linear.fit(js, X, y, { n, d, alpha, l1Ratio, tol: 1e-7, maxIter: 3000, solver: 'cd' });
        const fo = objective(X, y, n, d, f.coef, alpha, l1Ratio), co = objective(X, y, n, d, c.coef, alpha, l1Ratio);
        if (f.converged) expect(fo).toBeLessThanOrEqual(co + 1e-5 * (co + 1e-12) + 1e-6 * y.reduce((a, b) => a + b * b, 0) / n);
      }), { numRuns: 100, seed: SEED });
    expect(js.memory().liveTensors).toBe(0);
  });
});

describe('Gram and residual forms, working sets on or off: one solution (issue 11)', () => {
  const variants = [
    { precompute: true, workingSet: false }, { precompute: false, workingSet: false }, { precompute: false, workingSet: true },
  ] as const;

  it.each(BACKENDS)('the lasso.json and ridge.json references under every variant on %s', (_kind, be) => {
    const { X, y, n, d } = problem(LASSO);
    for (const v of variants) {
      for (const c of LASSO.cases) {
        const r = linear.fit(be, X, y, { n, d, alpha: c.alpha, l1Ratio: c.l1Ratio, tol: 1e-7, ...v });
        expect(r.converged, `${JSON.stringify(v)} alpha ${c.alpha}`).toBe(true);
        expectMatches(r.coef, c.coef, `${JSON.stringify(v)} ${c.model} alpha ${c.alpha}`);
      }
    }
    const R = problem(RIDGE);
    for (const precompute of [true, false]) {
      for (const c of RIDGE.cases) {
        const r = linear.fit(be, R.X, R.y, { n: R.n, d: R.d, alpha: c.lambda / R.n, l1Ratio: 0, tol: 1e-7, precompute });
        expect(r.converged, `ridge precompute ${precompute} lambda ${c.lambda}`).toBe(true);
        expectMatches(r.coef, c.coef, `ridge precompute ${precompute} lambda ${c.lambda}`);
      }
    }
    expect(be.memory().liveTensors).toBe(0);
  });

  it('a wide problem (n 60, d 700, 5 true non-zeros): working sets reach the full solver\'s gap, zeros and objective, wasm == js', () => {
    const n = 60, d = 700;
    const X = randomF32(n * d, 77);
    const y = new Float32Array(n);
    const noise = randomF32(n, 78, 0.05);
    for (let i = 0; i < n; i++) y[i] = 2 * X[i * d + 3]! - 1.5 * X[i * d + 150]! + X[i * d + 320]! - 0.7 * X[i * d + 500]! + 0.4 * X[i * d + 699]! + noise[i]!;
    const amax = linear.alphaMax(X, y, n, d);
    const yy = y.reduce((a, b) => a + b * b, 0);
    for (const frac of [0.5, 0.1, 0.02]) {
      const o = { n, d, alpha: frac * amax, tol: 1e-7 };
      const ws = linear.fit(wasm, X, y, { ...o, workingSet: true });
      const wsJs = linear.fit(js, X, y, { ...o, workingSet: true });
      const full = linear.fit(wasm, X, y, { ...o, workingSet: false });
      expect(firstBitDiff(ws.coef, wsJs.coef), `frac ${frac}`).toBe(-1);
      expect([ws.iterations, ws.converged, ws.dualGap]).toEqual([wsJs.iterations, wsJs.converged, wsJs.dualGap]);
      expect(ws.converged && full.converged).toBe(true);
      expect(ws.dualGap).toBeLessThanOrEqual((1e-7 * yy) / n);
      const zeros = (c: Float32Array) => Array.from(c, (v, j) => (v === 0 ? j : -1)).filter((j) => j >= 0);
      // Same zero pattern away from the threshold: any coefficient zero in one and not the other is tiny.
      for (const j of zeros(ws.coef)) expect(Math.abs(full.coef[j]!)).toBeLessThanOrEqual(1e-3 * Math.max(...Array.from(full.coef, Math.abs)));
      expect(zeros(ws.coef).length).toBeGreaterThan(d / 2);
      const fo = objective(X, y, n, d, full.coef, o.alpha, 1), wo = objective(X, y, n, d, ws.coef, o.alpha, 1);
      expect(Math.abs(fo - wo)).toBeLessThanOrEqual((2e-7 * yy) / n);
    }
  });

  it('path in the Gram form and in the residual form give the same solutions on diabetes', () => {
    const dia = loadDiabetes({ standardize: true });
    const o = { n: dia.n, d: dia.d, nAlphas: 30, tol: 1e-7 };
    const g = linear.path(wasm, dia.x, dia.y, { ...o, precompute: true });
    const r = linear.path(wasm, dia.x, dia.y, { ...o, precompute: false });
    const yy = dia.y.reduce((a, b) => a + b * b, 0);
    g.alphas.forEach((alpha, i) => {
      expect(g.converged[i] && r.converged[i]).toBe(true);
      const go = objective(dia.x, dia.y, dia.n, dia.d, g.coefs[i]!, alpha, 1), ro = objective(dia.x, dia.y, dia.n, dia.d, r.coefs[i]!, alpha, 1);
      expect(Math.abs(go - ro)).toBeLessThanOrEqual((2e-7 * yy) / dia.n);
    });
  });
});

interface SkCase { problem: string; alpha: number; l1Ratio: number; coef: number[]; optimum: number[]; fromOptimum: number }
// scripts/lasso-sklearn.py: scikit-learn 1.2 at its defaults (tol 1e-4) and at tol 1e-13 (the optimum).
const SK = load('lasso-sklearn.json') as { problems: Record<string, { n: number; d: number; X: number[]; y: number[] }>; cases: SkCase[] };

/** The duality gap of the n-scaled problem at w, all in float64 (sklearn's formula: the residual scaled into the dual set for the lasso, the exact elastic-net dual otherwise), and ‖y‖². */
function gap64(X: Float32Array, y: Float32Array, n: number, d: number, w: ArrayLike<number>, alpha: number, l1Ratio: number): { gap: number; yy: number } {
  const a = n * alpha * l1Ratio, b = n * alpha * (1 - l1Ratio);
  const r = new Float64Array(n), xr = new Float64Array(d);
  let rr = 0, ry = 0, yy = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += X[i * d + j]! * w[j]!;
    r[i] = y[i]! - s;
    rr += r[i]! ** 2; ry += r[i]! * y[i]!; yy += y[i]! ** 2;
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xr[j]! += X[i * d + j]! * r[i]!;
  let l1 = 0, l2 = 0, dn = 0, conj = 0;
  for (let j = 0; j < d; j++) {
    l1 += Math.abs(w[j]!); l2 += w[j]! ** 2;
    const x = Math.abs(xr[j]!);
    dn = Math.max(dn, x);
    if (x > a) conj += (x - a) ** 2;
  }
  const primal = 0.5 * rr + a * l1 + 0.5 * b * l2;
  const c = dn > a ? a / dn : 1;
  const dual = b > 0 ? ry - 0.5 * rr - conj / (2 * b) : c * ry - 0.5 * c * c * rr;
  return { gap: primal - dual, yy };
}

describe.each(BACKENDS)('issue 20: linear.fit at its defaults lands on the solution, as scikit-learn does (%s)', (_kind, be) => {
  const problems = Object.fromEntries(Object.entries(SK.problems).map(([k, p]) => [k, { ...p, X: Float32Array.from(p.X), y: Float32Array.from(p.y) }]));

  it('the reference problems: diabetes is loadDiabetes({ standardize: true }) to 1 ulp; one tall (the Gram form under auto), one wide (working sets)', () => {
    const dia = loadDiabetes({ standardize: true }), P = problems['diabetes']!;
    expect([P.n, P.d]).toEqual([dia.n, dia.d]);
    P.X.forEach((v, i) => expect(Math.abs(v - dia.x[i]!)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -23));
    expect(problems['tall']!.n).toBeGreaterThan(problems['tall']!.d);
    expect(problems['wide']!.n).toBeLessThan(problems['wide']!.d);
  });

  it.each(SK.cases.map((c) => [`${c.problem} alpha ${c.alpha.toPrecision(4)} l1Ratio ${c.l1Ratio}`, c] as const))('%s: the optimum within 1e-3 of its largest coefficient with its exact zeros; sklearn\'s default answer too where that is the optimum to 1e-4', (_name, c) => {
    const P = problems[c.problem]!;
    const r = linear.fit(be, P.X, P.y, { n: P.n, d: P.d, alpha: c.alpha, l1Ratio: c.l1Ratio });
    expect(r.converged).toBe(true);
    expectMatches(r.coef, c.optimum, 'optimum');
    // Where sklearn's own default stopped more than 1e-4 from the optimum (small alphas on the
    // wide problem: 1e-3 to 3e-2), its answer is an iterate, not the solution; not compared.
    if (c.fromOptimum <= 1e-4) {
      const big = Math.max(...c.coef.map(Math.abs));
      c.coef.forEach((v, j) => expect(Math.abs(r.coef[j]! - v), `sklearn coef ${j}`).toBeLessThanOrEqual(1e-3 * big));
    }
    const { gap, yy } = gap64(P.X, P.y, P.n, P.d, r.coef, c.alpha, c.l1Ratio);
    expect(gap).toBeLessThanOrEqual(1e-6 * yy);
  });

  it('a converged fit has a float64 gap ≤ tol·‖y‖², and no reported gap is negative (seeded sweep: 288 fits per tol, correlated columns, n > d and n < d)', () => {
    let fits = 0, converged = 0;
    for (const tol of [1e-6, 1e-8]) {
      for (let seed = 1; seed <= 8; seed++) {
        for (const [n, d] of [[30, 8], [80, 20], [12, 40]] as const) {
          const X = randomF32(n * d, seed * 7 + n), y = randomF32(n, seed * 11 + d, 10);
          for (let i = 0; i < n; i++) for (let j = 1; j < d; j++) X[i * d + j] = Math.fround(X[i * d + j]! + 0.8 * X[i * d]!);
          for (const l1Ratio of [1, 0.9, 0.5, 0.1]) {
            const amax = linear.alphaMax(X, y, n, d, l1Ratio);
            for (const frac of [0.5, 0.1, 0.01]) {
              const alpha = amax * frac;
              const r = linear.fit(be, X, y, { n, d, alpha, l1Ratio, tol, maxIter: 2000 });
              fits++;
              expect(r.dualGap, `${n}×${d} seed ${seed} l1Ratio ${l1Ratio} alpha ${alpha} tol ${tol}`).toBeGreaterThanOrEqual(0);
              if (!r.converged) continue;
              converged++;
              const { gap, yy } = gap64(X, y, n, d, r.coef, alpha, l1Ratio);
              expect(gap, `${n}×${d} seed ${seed} l1Ratio ${l1Ratio} alpha ${alpha} tol ${tol}`).toBeLessThanOrEqual(tol * yy);
            }
          }
        }
      }
    }
    expect(fits).toBe(576);
    // Every fit converges at the default tol, most at 1e-8 (the float32 iteration's floor is near it).
    expect(converged).toBeGreaterThanOrEqual(288 + 200);
  });

  it('above 2²⁰ entries of X (the gap from the kernel\'s float32 Xᵀr with its rounding bound): converged fits hold in float64 too', () => {
    const n = 300, d = 3600, X = randomF32(n * d, 77), y = randomF32(n, 78, 10);
    for (let i = 0; i < n; i++) for (let j = 0; j < 12; j++) y[i] = Math.fround(y[i]! + (j % 2 ? 2 : -3) * X[i * d + j * 300]!);
    for (const [l1Ratio, frac] of [[1, 0.2], [1, 0.05], [0.5, 0.05]] as const) {
      const alpha = linear.alphaMax(X, y, n, d, l1Ratio) * frac;
      const r = linear.fit(be, X, y, { n, d, alpha, l1Ratio });
      expect(r.converged).toBe(true);
      expect(r.dualGap).toBeGreaterThanOrEqual(0);
      const { gap, yy } = gap64(X, y, n, d, r.coef, alpha, l1Ratio);
      expect(gap).toBeLessThanOrEqual(1e-6 * yy);
      expect(gap).toBeLessThanOrEqual(r.dualGap * n * (1 + 1e-9));
    }
  });
});

describe('ridge with more than 1000 features: conjugate gradient (issue 11)', () => {
  /** The float64 ridge solution w = Xᵀ(XXᵀ + bI)⁻¹y (b = n·alpha), from the n×n system (Cholesky). */
  function ridgeF64(X: Float32Array, y: Float32Array, n: number, d: number, alpha: number): Float64Array {
    const K = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let k = 0; k <= i; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += X[i * d + j]! * X[k * d + j]!;
      K[i * n + k] = K[k * n + i] = s + (i === k ? n * alpha : 0);
    }
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < j; k++) K[j * n + j]! -= K[j * n + k]! ** 2;
      K[j * n + j] = Math.sqrt(K[j * n + j]!);
      for (let i = j + 1; i < n; i++) {
        let s = K[i * n + j]!;
        for (let k = 0; k < j; k++) s -= K[i * n + k]! * K[j * n + k]!;
        K[i * n + j] = s / K[j * n + j]!;
      }
    }
    const z = Float64Array.from(y);
    for (let i = 0; i < n; i++) { for (let k = 0; k < i; k++) z[i]! -= K[i * n + k]! * z[k]!; z[i]! /= K[i * n + i]!; }
    for (let i = n - 1; i >= 0; i--) { for (let k = i + 1; k < n; k++) z[i]! -= K[k * n + i]! * z[k]!; z[i]! /= K[i * n + i]!; }
    const w = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) w[j]! += X[i * d + j]! * z[i]!;
    return w;
  }

  it.each([[90, 1100, 0.01, 3], [150, 1300, 0.3, 4]])('n %i, d %i, alpha %f (seed %i): the float64 solution, gap ≤ tol·‖y‖², wasm == js', (n, d, alpha, seed) => {
    const X = randomF32(n * d, seed), y = randomF32(n, seed + 1);
    const ref = ridgeF64(X, y, n, d, alpha);
    const big = Math.max(...Array.from(ref, Math.abs));
    const yy = y.reduce((s, v) => s + v * v, 0);
    const o = { n, d, alpha, l1Ratio: 0, tol: 1e-7 };
    const a = linear.fit(wasm, X, y, o), b = linear.fit(js, X, y, o);
    expect(firstBitDiff(a.coef, b.coef)).toBe(-1);
    expect(a.iterations).toBe(b.iterations);
    expect(a.converged).toBe(true);
    expect(a.dualGap * n).toBeLessThanOrEqual(1e-7 * yy);
    for (let j = 0; j < d; j++) expect(Math.abs(a.coef[j]! - ref[j]!), `coef ${j}`).toBeLessThanOrEqual(1e-4 * big);
  });

  it.each([[90, 1100, 0.01, 3], [150, 1300, 0.3, 4], [60, 1500, 1, 5]])('n %i, d %i, alpha %f (seed %i): the gap estimate ‖g‖²/(2b) sends CG to its exact check early; the float64 gap holds', (n, d, alpha, seed) => {
    const X = randomF32(n * d, seed), y = randomF32(n, seed + 1);
    for (const tol of [1e-4, 1e-7]) {
      // checkEvery far above the iterations needed: every check before maxIter is one the estimate asked for
      const o = { n, d, alpha, l1Ratio: 0, tol, checkEvery: 1000, maxIter: 2000 };
      const a = linear.fit(wasm, X, y, o), b = linear.fit(js, X, y, o);
      expect(firstBitDiff(a.coef, b.coef)).toBe(-1);
      expect(a.iterations).toBe(b.iterations);
      expect(a.converged).toBe(true);
      expect(a.iterations).toBeLessThan(100);
      const { gap, yy } = gap64(X, y, n, d, a.coef, alpha, 0);
      expect(gap).toBeLessThanOrEqual(tol * yy);
      expect(a.dualGap * n).toBeGreaterThanOrEqual(0);
      expect(Math.abs(a.dualGap * n - gap)).toBeLessThanOrEqual(1e-9 * yy);
    }
  });
});

describe('linear kernels: wasm and js give the same bits (odd sizes, lists, all columns)', () => {
  type Raw = Backend['_s']['raw'];
  /** Up to eight handles, in the order of `datas`. */
  type Handles = [F32Handle, F32Handle, F32Handle, F32Handle, F32Handle, F32Handle, F32Handle, F32Handle];
  /** Runs f on both backends over tensors made from the same data; returns every tensor's data after. */
  function both(datas: Float32Array[], f: (raw: Raw, h: Handles) => number | void): [Float32Array[], Float32Array[], unknown[]] {
    const outs: Float32Array[][] = [], rets: unknown[] = [];
    for (const be of [wasm, js]) {
      const ts = datas.map((d) => be.tensor([1, Math.max(1, d.length)], d.length ? d : [0]));
      rets.push(f(be._s.raw, ts.map((t) => t._h) as Handles));
      outs.push(ts.map((t) => t.data.slice()));
      for (const t of ts) t.dispose();
    }
    return [outs[0]!, outs[1]!, rets];
  }
  const same = (a: Float32Array[], b: Float32Array[]) => a.forEach((x, i) => expect(firstBitDiff(x, b[i]!), `buffer ${i}`).toBe(-1));

  it.each([[1, 1], [3, 2], [7, 5], [8, 3], [9, 4], [17, 6], [67, 9], [130, 33]])('n %i, d %i', (n, d) => {
    const x = randomF32(n * d, n * 31 + d), y = randomF32(n, n + 5), w = randomF32(d, d + 9, 0.5);
    w[0] = 0;
    const idx = Float32Array.from({ length: Math.ceil(d / 2) }, (_, k) => (k * 2 + 1) % d);
    const m = idx.length;
    // transpose, xtDots (with and without norms) and gatherCols, from row-major X
    let [a, b, rets] = both([new Float32Array(n * d), x, new Float32Array(d), new Float32Array(d), y, new Float32Array(4 * d), new Float32Array(d)],
      (raw, [xc, xr, nr, xty, yy, acc, xty2]) => {
        raw.transpose(xc, xr, n, d);
        raw.xtDots(xty2, xr, yy, n, d, acc, null);
        return raw.xtDots(xty, xr, yy, n, d, acc, nr);
      });
    const notScratch = (t: Float32Array[]) => t.filter((_, i) => i !== 5); // acc: the wasm kernel's scratch
    same(notScratch(a), notScratch(b));
    expect(rets[0]).toBe(rets[1]);
    const xc = a[0]!;
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) expect(xc[j * n + i]).toBe(x[i * d + j]);
    let total = 0;
    for (let j = 0; j < d; j++) {
      let s = 0, t = 0;
      for (let i = 0; i < n; i++) { s += xc[j * n + i]! ** 2; t += Math.fround(xc[j * n + i]! * y[i]!); }
      total += s;
      expect(a[2]![j]).toBe(Math.fround(s / n));
      expect(a[3]![j]).toBe(Math.fround(t));
      expect(a[6]![j]).toBe(a[3]![j]);
    }
    expect(rets[0]).toBe(total);
    const norms = a[2]!;
    [a, b] = both([new Float32Array(m * n), x, idx], (raw, [out, xr, ix]) => raw.gatherCols(out, xr, ix, n, d, m));
    same(a, b);
    for (let k = 0; k < m; k++) for (let i = 0; i < n; i++) expect(a[0]![k * n + i]).toBe(x[i * d + idx[k]!]);
    // residual over all columns (row-major X) and colDots (all columns and a list, column-major X)
    [a, b] = both([new Float32Array(n), y, x, w, new Float32Array(d), idx, new Float32Array(m), xc], (raw, [r, yy, X, ww, out, ix, out2, Xc]) => {
      raw.residual(r, yy, X, ww, null, n, d, d); raw.colDots(out, Xc, r, null, n, d); raw.colDots(out2, Xc, r, ix, n, m);
    });
    same(a, b);
    // the same residual from the list of the non-zero coefficients
    const nzList = Float32Array.from(Array.from(w.keys()).filter((j) => w[j] !== 0));
    const [c] = both([new Float32Array(n), y, x, w, nzList], (raw, [r, yy, X, ww, ix]) => raw.residual(r, yy, X, ww, ix, n, d, nzList.length));
    expect(firstBitDiff(c[0]!, a[0]!)).toBe(-1);
    for (let i = 0; i < n; i++) {
      let s = y[i]!;
      for (let j = 0; j < d; j++) s -= x[i * d + j]! * w[j]!;
      expect(Math.abs(a[0]![i]! - s)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(s)));
    }
    for (let k = 0; k < m; k++) expect(a[6]![k]).toBe(a[4]![idx[k]!]);
    // the coordinate-descent epochs, residual and Gram forms, lasso and elastic net
    const G = new Float32Array(d * d);
    for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) { let s = 0; for (let i = 0; i < n; i++) s += xc[j * n + i]! * xc[k * n + i]!; G[j * d + k] = s; }
    const xty = new Float32Array(d);
    for (let j = 0; j < d; j++) { let s = 0; for (let i = 0; i < n; i++) s += xc[j * n + i]! * y[i]!; xty[j] = s; }
    const yy = y.reduce((s, v) => s + v * v, 0);
    for (const [l1, l2] of [[0.05, 0], [0.02, 0.03]] as const) {
      const r0 = new Float32Array(n);
      for (let i = 0; i < n; i++) { let s = y[i]!; for (let j = 0; j < d; j++) s -= x[i * d + j]! * w[j]!; r0[i] = s; }
      let rets: unknown[];
      [a, b, rets] = both([Float32Array.from(w), r0, xc, Float32Array.from(norms, (v, j) => (j === 1 ? 0 : v)), idx, new Float32Array(3)], (raw, [ww, r, X, nr, ix, st]) =>
        raw.cdResidual(ww, r, X, nr, l1 === 0.05 ? null : ix, n, l1 === 0.05 ? d : m, l1, l2, 1e-3, 7, st));
      same(a, b);
      expect(rets[0]).toBe(rets[1]);
      const q0 = new Float32Array(d);
      for (let j = 0; j < d; j++) { let s = 0; for (let i = 0; i < n; i++) s += xc[j * n + i]! * r0[i]!; q0[j] = s; }
      [a, b, rets] = both([Float32Array.from(w), q0, G, norms, idx, xty, new Float32Array(3)], (raw, [ww, q, g, nr, ix, xy, st]) =>
        raw.cdGram(ww, q, g, nr, l1 === 0.05 ? null : ix, xy, d, l1 === 0.05 ? d : m, n, l1, l2, 1e-3, 7, yy, n * 0.05, n * l2, 1e-3 * yy, st));
      same(a, b);
      expect(rets[0]).toBe(rets[1]);
    }
  });

  // The float64 residual and Xᵀr behind every exact gap: sizes on both sides of the SIMD width (4 f32, 2 f64).
  // Conjugate gradient's XᵀXp in one pass: row blocks of 8 and 4, columns on both sides of the SIMD widths (4 and 8).
  it.each([[1, 1], [3, 4], [4, 7], [7, 8], [8, 9], [9, 3], [13, 17], [17, 33], [70, 130]])('xtxDots: n %i, d %i is colDots then xtDots, bit for bit', (n, d) => {
    const x = randomF32(n * d, n * 5 + d), v = randomF32(d, d + 3);
    const [a, b] = both([new Float32Array(d), x, v, new Float32Array(n), new Float32Array(4 * d), new Float32Array(d), new Float32Array(n)], (raw, [out, X, p, u, acc, out2, u2]) => {
      raw.xtxDots(out, X, p, u, n, d, acc);
      raw.colDots(u2, X, p, null, d, n);
      raw.xtDots(out2, X, u2, n, d, acc, null);
    });
    const notScratch = (t: Float32Array[]) => t.filter((_, i) => i !== 4);
    same(notScratch(a), notScratch(b));
    expect(firstBitDiff(a[0]!, a[5]!)).toBe(-1);
    expect(firstBitDiff(a[3]!, a[6]!)).toBe(-1);
    // and against float64 XᵀXp within float32 rounding
    for (let j = 0; j < d; j++) {
      let s = 0, abs = 0;
      for (let i = 0; i < n; i++) {
        let ui = 0, ua = 0;
        for (let k = 0; k < d; k++) { ui += x[i * d + k]! * v[k]!; ua += Math.abs(x[i * d + k]! * v[k]!); }
        s += x[i * d + j]! * ui; abs += Math.abs(x[i * d + j]!) * ua;
      }
      expect(Math.abs(a[0]![j]! - s)).toBeLessThanOrEqual(4e-7 * (d + 2) * abs);
    }
  });

  it.each([[1, 1], [2, 3], [3, 4], [5, 5], [4, 7], [7, 8], [6, 9], [33, 13], [64, 130]])('residual64 and xtDots64: n %i, d %i', (n, d) => {
    const x = randomF32(n * d, n * 7 + d), y = randomF32(n, n + 11, 3), w = randomF32(d, d + 13, 2);
    if (d > 1) w[1] = 0;
    const f64 = (a: Float32Array, len: number) => new Float64Array(a.buffer, a.byteOffset, len);
    const [a, b] = both([new Float32Array(2 * n), new Float32Array(n), y, x, w, new Float32Array(2 * d)], (raw, [r64, r, yy, X, ww, out]) => {
      raw.residual64(r64, r, yy, X, ww, n, d);
      raw.xtDots64(out, X, r64, n, d);
    });
    same(a, b);
    const r64 = f64(a[0]!, n), xtr = f64(a[5]!, d);
    const d4 = d & ~3;
    for (let i = 0; i < n; i++) {
      // the documented order: four sums by j mod 4 below d & ~3, then the rest in order
      const s4 = [0, 0, 0, 0];
      for (let j = 0; j < d4; j++) s4[j % 4]! += x[i * d + j]! * w[j]!;
      let s = (s4[0]! + s4[2]!) + (s4[1]! + s4[3]!);
      for (let j = d4; j < d; j++) s += x[i * d + j]! * w[j]!;
      expect(r64[i]).toBe(y[i]! - s);
      expect(a[1]![i]).toBe(Math.fround(r64[i]!));
      // against float64 summed in order of j: the products are exact, so only the two orders' roundings differ
      let t = 0, abs = 0;
      for (let j = 0; j < d; j++) { t += x[i * d + j]! * w[j]!; abs += Math.abs(x[i * d + j]! * w[j]!); }
      expect(Math.abs(r64[i]! - (y[i]! - t))).toBeLessThanOrEqual(2 * (d + 1) * 2 ** -53 * (abs + Math.abs(y[i]!)));
      if (d < 4) expect(r64[i]).toBe(y[i]! - t);
    }
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[i * d + j]! * r64[i]!;
      expect(xtr[j]).toBe(s);
    }
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
    // Finite in float64, infinite in float32 (issue 12, item 7: cd returned zeros with gap NaN, fista NaN coefficients).
    ['X beyond float32', () => linear.fit(js, Float64Array.of(0, 0, 0, 0, 0, 1e39, 0, 0, 0, 0, 0, 0), y, ok), RangeError, /X: expected values within float32's range \(\|x\| ≤ 3.4028235e38\), got 1e\+39 at index 5/],
    ['X beyond float32, fista', () => linear.fit(js, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -4e38], y, { ...ok, solver: 'fista' }), RangeError, /X: .*float32's range.*got -4e\+38 at index 11/],
    ['y beyond float32', () => linear.fit(js, X, [0, 1e300, 0], ok), RangeError, /y: .*float32's range.*got 1e\+300 at index 1/],
    ['warmStart beyond float32', () => linear.fit(js, X, y, { ...ok, warmStart: [0, 0, 5e38, 0] }), RangeError, /warmStart: .*float32's range.*at index 2/],
    ['path X beyond float32', () => linear.path(js, Float64Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1e39), Float32Array.of(1, 2, 3), { n: 3, d: 4 }), RangeError, /path X: .*float32's range/],
    ['precompute', () => linear.fit(js, X, y, { ...ok, precompute: 'yes' as never }), TypeError, /precompute: expected 'auto', true or false, got "yes"/],
    ['workingSet', () => linear.fit(js, X, y, { ...ok, workingSet: 1 as never }), TypeError, /workingSet: expected true or false, got 1/],
  ];
  it('a Float32Array X is checked in the first pass on the backend: the same message, nothing left allocated (wasm and js, fit and path)', () => {
    const bad = new Float32Array(12);
    bad[7] = -Infinity;
    for (const be of [wasm, js]) {
      const before = be.memory().liveTensors;
      expect(() => linear.fit(be, bad, y, ok)).toThrow(/linear.fit X: expected finite numbers, got -Infinity at index 7/);
      expect(() => linear.path(be, bad, y, { n: 3, d: 4, alphas: [0.1] })).toThrow(/linear.path X: expected finite numbers, got -Infinity at index 7/);
      expect(be.memory().liveTensors).toBe(before);
    }
  });

  it.each(cases)('%s', (_name, f, type, msg) => {
    const before = js.memory().liveTensors;
    let err: unknown;
    try { f(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(msg);
    expect(js.memory().liveTensors).toBe(before);
  });
});
