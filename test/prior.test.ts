import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { prior } from '../src/index.js';
import { randomF32 } from './helpers.js';

describe('prior: λ from a prior and a noise variance', () => {
  it('DESIGN.md worked example: σ² = 0.01 with unit noise gives λ = 100', () => {
    expect(prior.gaussian(0.01)).toBe(100);
    expect(prior.gaussian(0.01, { noiseVariance: 1 })).toBe(100);
  });

  it('λ = s²/σ² and λ = s²/b; a narrow prior means a large λ; more noise means a larger λ', () => {
    expect(prior.gaussian(4, { noiseVariance: 2 })).toBe(0.5);
    expect(prior.laplace(0.5, { noiseVariance: 2 })).toBe(4);
    expect(prior.laplace(0.1)).toBe(10);
    expect(prior.gaussian(0.1)).toBeGreaterThan(prior.gaussian(1));
    expect(prior.gaussian(1, { noiseVariance: 3 })).toBeGreaterThan(prior.gaussian(1));
  });

  it('the inverse mappings give back the prior (property, fast-check seed 20261127)', () => {
    const pos = fc.double({ min: 1e-6, max: 1e6, noNaN: true });
    fc.assert(fc.property(pos, pos, (v, s2) => {
      const lg = prior.gaussian(v, { noiseVariance: s2 });
      const ll = prior.laplace(v, { noiseVariance: s2 });
      expect(Math.abs(prior.gaussianVariance(lg, { noiseVariance: s2 }) - v)).toBeLessThanOrEqual(1e-12 * v);
      expect(Math.abs(prior.laplaceScale(ll, { noiseVariance: s2 }) - v)).toBeLessThanOrEqual(1e-12 * v);
    }), { seed: 20261127 });
  });

  it('rejects non-positive, NaN and infinite input with clear errors', () => {
    for (const bad of [0, -1, NaN, Infinity, -Infinity, '1', null, undefined]) {
      expect(() => prior.gaussian(bad as number)).toThrow(/prior\.gaussian variance \(σ²\): expected a finite number > 0/);
      expect(() => prior.laplace(bad as number)).toThrow(/prior\.laplace scale \(b\): expected a finite number > 0/);
      expect(() => prior.gaussianVariance(bad as number)).toThrow(/lambda/);
      expect(() => prior.laplaceScale(bad as number)).toThrow(/lambda/);
      if (bad !== undefined) expect(() => prior.gaussian(1, { noiseVariance: bad as number })).toThrow(/noiseVariance: expected a finite number > 0/);
    }
    expect(() => prior.gaussian(1, 5 as never)).toThrow(TypeError);
  });
});

/** Solves A x = b (A n×n, float64) by Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((r, i) => [...r, b[i]!]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
    [M[c], M[piv]] = [M[piv]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

describe('the MAP claim: the Gaussian prior λ is the ridge penalty whose minimizer is the posterior mode', () => {
  it.each([[12, 4, 0.01, 1], [30, 7, 0.5, 0.2], [9, 9, 2, 3]])('n=%i d=%i σ²=%f s²=%f', (n, d, variance, noiseVariance) => {
    const X = Array.from(randomF32(n * d, 1000 + n), Number);
    const y = Array.from(randomF32(n, 2000 + d), (v) => 3 * v);
    const lambda = prior.gaussian(variance, { noiseVariance });
    const x = (i: number, j: number) => X[i * d + j]!;
    // Posterior mode of N(0, σ²I) prior and N(Xw, s²) likelihood: (XᵀX + (s²/σ²)I)⁻¹Xᵀy.
    const A = Array.from({ length: d }, (_, a) => Array.from({ length: d }, (_, b) => {
      let s = 0; for (let i = 0; i < n; i++) s += x(i, a) * x(i, b);
      return s + (a === b ? noiseVariance / variance : 0);
    }));
    const Xty = Array.from({ length: d }, (_, a) => { let s = 0; for (let i = 0; i < n; i++) s += x(i, a) * y[i]!; return s; });
    const w = solve(A, Xty);
    // Gradient of ½‖y − Xw‖² + (λ/2)‖w‖²: −Xᵀ(y − Xw) + λw, zero at the minimizer.
    const r = y.map((yi, i) => { let s = yi; for (let j = 0; j < d; j++) s -= x(i, j) * w[j]!; return s; });
    const grad = w.map((wj, j) => { let s = lambda * wj; for (let i = 0; i < n; i++) s -= x(i, j) * r[i]!; return s; });
    const scale = Math.max(...Xty.map(Math.abs), 1);
    for (const g of grad) expect(Math.abs(g)).toBeLessThanOrEqual(1e-10 * scale);
    // and it is a minimum: the objective rises in random directions (strictly convex)
    const obj = (v: number[]) => {
      let s = 0;
      for (let i = 0; i < n; i++) { let e = y[i]!; for (let j = 0; j < d; j++) e -= x(i, j) * v[j]!; s += 0.5 * e * e; }
      return s + 0.5 * lambda * v.reduce((a, b) => a + b * b, 0);
    };
    const f0 = obj(w);
    for (let k = 0; k < 5; k++) {
      const dir = Array.from(randomF32(d, 3000 + k), Number);
      expect(obj(w.map((v, j) => v + 1e-3 * dir[j]!))).toBeGreaterThan(f0);
    }
    // a different λ (the wrong prior) does not satisfy the optimality condition
    const wrong = w.map((wj, j) => grad[j]! + lambda * wj);
    expect(Math.max(...wrong.map(Math.abs))).toBeGreaterThan(1e-6);
  });
});
