/**
 * Inverted dropout keeps the expectation: a neuron that outputs a is kept with probability
 * 1 − p and scaled by 1/(1 − p), so its training-mode mean is a, the eval-mode value. Without
 * the scaling the mean is (1 − p)·a. Measured with regula's dropout kernel over rows of
 * neurons, for 1, 10, 50 and 500 samples.
 */
import type { Ctx, Experiment, Result } from './types.js';

export const NEURONS = [4, 1, 2.5, 0.5, 3, 1.5, 2, 0.8];

export function sampleMeans(ctx: Ctx, p: number, samples: number, seed: number): { scaled: number[]; unscaled: number[] } {
  const { be } = ctx;
  const d = NEURONS.length;
  const x = be.tensor([samples, d], Array.from({ length: samples * d }, (_, i) => NEURONS[i % d]!));
  const out = be.zeros([samples, d]);
  const mask = be.zeros([samples, d]);
  const rng = be.rng(seed);
  try {
    be.kernels.dropout(out, x, p, rng, mask);
    const o = out.data, m = mask.data;
    const scaled = NEURONS.map((_, j) => { let s = 0; for (let i = 0; i < samples; i++) s += o[i * d + j]!; return s / samples; });
    const unscaled = NEURONS.map((a, j) => { let s = 0; for (let i = 0; i < samples; i++) s += m[i * d + j]! * a; return s / samples; });
    return { scaled, unscaled };
  } finally {
    x.dispose(); out.dispose(); mask.dispose(); rng.dispose();
  }
}

export const dropoutMean: Experiment = {
  id: 'dropout-mean',
  title: 'Inverted dropout keeps the expectation',
  async run(ctx): Promise<Result> {
    const p = 0.5;
    const counts = [1, 10, 50, 500];
    const rows = counts.map((n, k) => {
      const { scaled, unscaled } = sampleMeans(ctx, p, n, 1000 + k);
      // standard error of a mean of n scaled samples: a·sqrt(p/(1−p))/√n; combined over neurons
      const z = NEURONS.map((a, j) => (scaled[j]! - a) / (a * Math.sqrt(p / (1 - p)) / Math.sqrt(n)));
      const zCombined = z.reduce((s, v) => s + v, 0) / Math.sqrt(NEURONS.length);
      const relScaled = NEURONS.reduce((s, a, j) => s + Math.abs(scaled[j]! - a) / a, 0) / NEURONS.length;
      const relUnscaled = NEURONS.reduce((s, a, j) => s + Math.abs(unscaled[j]! - a) / a, 0) / NEURONS.length;
      return { samples: n, scaled, unscaled, zCombined, relScaled, relUnscaled };
    });
    const worked = sampleMeans(ctx, 0.5, 20000, 7); // the lesson's neuron: a = 4, p = 0.5
    const last = rows[rows.length - 1]!;
    const holds = Math.abs(last.zCombined) <= 3 && Math.abs(last.relUnscaled - p) < 0.1;
    return {
      id: 'dropout-mean',
      title: this.title,
      claim: `With p = ${p}, the mean of training-mode samples approaches the eval value with the 1/(1−p) scaling and (1−p) times it without.`,
      tables: [{
        caption: `neurons ${NEURONS.join(', ')}; mean relative error of the sample means against the eval values; z: combined standard score of the scaled means`,
        head: ['samples', 'error, scaled', 'error, unscaled', 'z (scaled)'],
        rows: rows.map((r) => [r.samples, r.relScaled, r.relUnscaled, r.zCombined]),
      }, {
        caption: 'the lesson\'s neuron: output 4 under p = 0.5, 20,000 samples',
        head: ['eval value', 'train mean, unscaled', 'survivor value', 'train mean, scaled'],
        rows: [[4, worked.unscaled[0]!, 8, worked.scaled[0]!]],
      }],
      figures: { p, neurons: NEURONS, rows, lessonNeuron: { evalValue: 4, unscaledMean: worked.unscaled[0], scaledMean: worked.scaled[0], survivor: 8 } },
      verdict: {
        holds,
        detail: `at ${last.samples} samples the scaled means sit at z = ${last.zCombined.toFixed(2)} from the eval values; unscaled ones are ${(last.relUnscaled * 100).toFixed(1)}% low (expected ${p * 100}%)`,
      },
    };
  },
};
