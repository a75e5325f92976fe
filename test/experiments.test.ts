/**
 * The lesson's claims, asserted on the numbers the `npm start` experiments produce (quick
 * mode, wasm). Each test recomputes its condition from the figures rather than trusting the
 * experiment's own verdict.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBackend, prior, type Backend } from '../src/index.js';
import { experiments } from '../examples/experiments/index.js';
import type { Ctx, Result } from '../examples/experiments/types.js';

const silent = () => ({ update() {}, end() {} });
let be: Backend;
const results = new Map<string, Result>();

async function run(id: string): Promise<Result> {
  const cached = results.get(id);
  if (cached) return cached;
  const e = experiments.find((x) => x.id === id)!;
  const ctx: Ctx = { be, quick: true, progress: silent };
  const r = await e.run(ctx);
  results.set(id, r);
  return r;
}

beforeAll(async () => {
  be = await loadBackend('wasm');
});

describe('experiments of npm start', () => {
  it('1. prior → penalty: ridge = Gaussian MAP, lasso = Laplace MAP, narrower prior → larger λ', async () => {
    const r = await run('priors');
    const f = r.figures as { noiseVariance: number; gaussian: { priorVariance: number; lambda: number; norm: number; map: number[]; coef: number[] }[]; laplace: { priorScale: number; lambda: number; map: number[]; coef: number[] }[] };
    for (const g of f.gaussian) {
      expect(g.lambda).toBeCloseTo(prior.gaussian(g.priorVariance, { noiseVariance: f.noiseVariance }), 12);
      const scale = Math.max(...g.map.map(Math.abs));
      g.map.forEach((m, j) => expect(Math.abs(m - g.coef[j]!)).toBeLessThanOrEqual(1e-3 * scale));
    }
    for (let i = 1; i < f.gaussian.length; i++) {
      expect(f.gaussian[i]!.priorVariance).toBeLessThan(f.gaussian[i - 1]!.priorVariance);
      expect(f.gaussian[i]!.lambda).toBeGreaterThan(f.gaussian[i - 1]!.lambda);
      expect(f.gaussian[i]!.norm).toBeLessThan(f.gaussian[i - 1]!.norm);
    }
    for (const l of f.laplace) {
      const scale = Math.max(...l.map.map(Math.abs));
      l.map.forEach((m, j) => {
        expect(Math.abs(m - l.coef[j]!)).toBeLessThanOrEqual(1e-3 * scale);
        expect(l.coef[j] === 0).toBe(m === 0); // exact zeros exactly where the MAP has them
      });
    }
    expect(f.laplace.some((l) => l.coef.some((c) => c === 0))).toBe(true);
  });

  it('2. lasso path: exact zeros, all d at alpha_max, rises explained by sign crossings; ridge zeroes none', async () => {
    const r = await run('lasso-path');
    const f = r.figures as { d: number; rows: { alpha: number; lassoZeros: number; lassoCoef: number[]; ridgeCoef: number[] }[] };
    expect(f.rows[0]!.lassoZeros).toBe(f.d);
    for (const row of f.rows) {
      expect(row.lassoCoef.filter((c) => c === 0).length).toBe(row.lassoZeros);
      expect(row.ridgeCoef.every((c) => c !== 0)).toBe(true);
    }
    for (let k = 1; k < f.rows.length; k++) {
      expect(f.rows[k]!.alpha).toBeLessThan(f.rows[k - 1]!.alpha);
      for (let j = 0; j < f.d; j++) {
        const before = f.rows[k - 1]!.lassoCoef[j]!;
        if (f.rows[k]!.lassoCoef[j] !== 0 || before === 0) continue;
        const after = f.rows.slice(k + 1).map((q) => q.lassoCoef[j]!).find((c) => c !== 0);
        expect(after, `coefficient ${j} became zero at alpha ${f.rows[k]!.alpha} without crossing zero`).toBeDefined();
        expect(Math.sign(after!)).toBe(-Math.sign(before));
      }
    }
    // overall, far more zeros at large alpha than at small
    expect(f.rows[f.rows.length - 1]!.lassoZeros).toBeLessThanOrEqual(1);
  });

  it('3. 2-D picture: L1 w2 exactly 0 iff λ ≥ |w2*|, L2 never 0, solver = closed form', async () => {
    const r = await run('geometry');
    const f = r.figures as { wStar: [number, number]; rows: { lambda: number; l1Solved: number[]; l1Closed: number[]; l2Solved: number[]; l2Closed: number[] }[] };
    const small = Math.abs(f.wStar[1]);
    expect(f.rows.some((x) => x.lambda >= small) && f.rows.some((x) => x.lambda < small && x.lambda > 0)).toBe(true);
    for (const row of f.rows) {
      expect(row.l1Solved[1] === 0).toBe(row.lambda >= small);
      expect(row.l2Solved[0]).not.toBe(0);
      expect(row.l2Solved[1]).not.toBe(0);
      for (const j of [0, 1]) {
        expect(Math.abs(row.l1Solved[j]! - row.l1Closed[j]!)).toBeLessThan(1e-5);
        expect(Math.abs(row.l2Solved[j]! - row.l2Closed[j]!)).toBeLessThan(1e-5);
      }
    }
  });

  it('4. AdamW shrink equal across gradient scales within 1%, Adam + L2 differs by more than 10x', async () => {
    const r = await run('adamw');
    const f = r.figures as { shrinkAdam: number[]; shrinkAdamW: number[] };
    const ratio = (xs: number[]) => Math.max(...xs) / Math.min(...xs);
    expect(f.shrinkAdamW.every((s) => s > 0)).toBe(true);
    expect(ratio(f.shrinkAdamW)).toBeLessThan(1.01);
    expect(ratio(f.shrinkAdam)).toBeGreaterThan(10);
    // and the direction: heavily-updated (large-gradient) weights shrink least under Adam + L2
    expect(f.shrinkAdam[3]!).toBeLessThan(f.shrinkAdam[0]!);
  });

  it('5. inverted dropout: scaled sample means converge to the eval values within 3 standard errors', async () => {
    const r = await run('dropout-mean');
    const f = r.figures as { p: number; neurons: number[]; rows: { samples: number; scaled: number[]; unscaled: number[] }[]; lessonNeuron: { scaledMean: number; unscaledMean: number } };
    const last = f.rows[f.rows.length - 1]!;
    const se = (a: number) => a * Math.sqrt(f.p / (1 - f.p)) / Math.sqrt(last.samples);
    const z = f.neurons.map((a, j) => (last.scaled[j]! - a) / se(a));
    expect(Math.abs(z.reduce((s, v) => s + v, 0) / Math.sqrt(z.length))).toBeLessThanOrEqual(3);
    // without the scaling the mean is (1 − p)·a: far outside 3 standard errors of a
    const zUnscaled = f.neurons.map((a, j) => (last.unscaled[j]! - a) / se(a));
    expect(zUnscaled.every((v) => v < -3)).toBe(true);
    expect(f.lessonNeuron.scaledMean).toBeGreaterThan(3.85);
    expect(f.lessonNeuron.scaledMean).toBeLessThan(4.15);
    expect(f.lessonNeuron.unscaledMean).toBeGreaterThan(1.9);
    expect(f.lessonNeuron.unscaledMean).toBeLessThan(2.1);
  });

  it('6. dropout on a linear model: MC loss = plain loss + p/(1−p)·Σ w²x² within 3 standard errors', async () => {
    const r = await run('dropout-l2');
    const f = r.figures as { x: number[]; w: number[]; y: number; rows: { p: number; mc: number; se: number }[] };
    for (const row of f.rows) {
      const wx = f.x.map((xi, j) => Math.fround(Math.fround(f.w[j]!) * Math.fround(xi)));
      const plain = (f.y - wx.reduce((s, v) => s + v, 0)) ** 2;
      const analytic = plain + (row.p / (1 - row.p)) * wx.reduce((s, v) => s + v * v, 0);
      expect(Math.abs(row.mc - analytic)).toBeLessThanOrEqual(3 * row.se);
      expect(Math.abs(row.mc - plain)).toBeGreaterThan(3 * row.se);
    }
  });

  it('7. digits: every regularized model beats the unregularized one on test loss; L1 zeroes weights', async () => {
    const r = await run('digits');
    const f = r.figures as { rows: { config: string; testLoss: number; testAccuracy: number; zeroFraction: number; bestEpoch: number }[] };
    const [base, ...reg] = f.rows;
    expect(base!.config).toBe('none');
    expect(reg.length).toBe(5);
    for (const row of reg) expect(row.testLoss, row.config).toBeLessThan(base!.testLoss);
    for (const row of f.rows) expect(row.testAccuracy).toBeGreaterThan(0.85);
    expect(f.rows.find((x) => x.config.startsWith('L1'))!.zeroFraction).toBeGreaterThan(0.2);
    expect(reg.filter((x) => !x.config.startsWith('L1')).every((x) => x.zeroFraction === 0)).toBe(true);
    expect(be.memory().liveTensors).toBe(0);
  });
});
