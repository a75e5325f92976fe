/**
 * Experiment 8 of `npm start` (the transformer on names), run here in quick mode on wasm:
 * too long for `npm test`. The test re-derives every summary figure from the curves and the
 * samples, and the verdict from the summary figures, rather than trusting the experiment's.
 * And `npm start -- --backend js` trains the models in js workers: the same bits as wasm.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBackend, loadNames, type Backend } from '../../src/index.js';
import { MODELS, STEPS, TRAINING, namesCorpus, trainModel, type ModelRow } from '../../examples/experiments/gpt-names.js';
import { gptNames, trainModels } from '../../examples/experiments/gpt-names-experiment.js';
import type { Result } from '../../examples/experiments/types.js';

let be: Backend;
let r: Result;
let rows: ModelRow[];

beforeAll(async () => {
  be = await loadBackend('wasm');
  r = await gptNames.run({ be, quick: true, progress: () => ({ update() {}, end() {} }) });
  rows = (r.figures as { rows: ModelRow[] }).rows;
}, 3_600_000);

describe('experiment 8: dropout and AdamW regularize a transformer (quick mode)', () => {
  it('records every model at every evaluation, with figures that follow from the curves', () => {
    expect(rows.map((x) => x.model)).toEqual(MODELS.map((m) => m.name));
    const trainNames = new Set(loadNames().trainSmall);
    for (const row of rows) {
      expect(row.curve.map((c) => c.step)).toEqual(Array.from({ length: STEPS.quick / TRAINING.evalEvery + 1 }, (_, i) => i * TRAINING.evalEvery));
      expect(Math.abs(row.curve[0]!.valLoss - Math.log(28))).toBeLessThan(0.1); // untrained: about uniform
      const later = row.curve.slice(1);
      const best = later.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
      expect([row.bestValLoss, row.bestStep]).toEqual([best.valLoss, best.step]);
      expect(row.finalValLoss).toBe(later[later.length - 1]!.valLoss);
      expect(row.gap).toBe(row.finalValLoss - row.finalTrainLoss);
      expect(row.finalValLoss).toBeLessThan(Math.log(28) - 0.5); // it learned something
      expect(row.samples.length).toBe(6);
      expect(row.samples.every((n) => /^[a-z-]*$/.test(n))).toBe(true);
      expect(row.memorized).toBe(row.samples.filter((n) => trainNames.has(n)).length);
    }
    expect(be.memory().liveTensors).toBe(0);
  });

  it('the verdict is what the figures say', () => {
    const [base, ...reg] = rows;
    const overfits = base!.finalValLoss > base!.bestValLoss;
    const lower = reg.every((x) => x.finalValLoss < base!.finalValLoss);
    const smaller = reg.every((x) => x.gap < base!.gap);
    expect(r.verdict.holds).toBe(overfits && lower && smaller);
    for (const x of reg) expect(r.verdict.detail.includes(`${x.model} (${x.finalValLoss.toFixed(3)})`)).toBe(x.finalValLoss < base!.finalValLoss);
    // a shortened run whose baseline has not overfit says the claim was not tested, and only then
    expect(r.verdict.untested !== undefined).toBe(!overfits);
  });

  it('on js (worker threads, as `npm start -- --backend js`) every model gives the same bits as on wasm (2 steps)', async () => {
    const corpus = namesCorpus();
    const figures = ({ seconds: _s, tokensPerSecond: _t, backend: _b, threads: _n, ...rest }: ModelRow) => rest;
    const onJs = await trainModels('js', MODELS, 2);
    expect(onJs.map((x) => x.backend)).toEqual(MODELS.map(() => 'js'));
    expect(onJs.map(figures)).toEqual(MODELS.map((reg) => figures(trainModel(be, corpus, reg, 2))));
  });
});
