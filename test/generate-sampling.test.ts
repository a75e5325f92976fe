/**
 * GPT.generate's sampling against the distribution it documents: tokens drawn from
 * softmax(logits / temperature). The other generate tests compare backends, reruns and
 * topK 1, which all still pass when the temperature is ignored; here the token counts are
 * tested against softmax(logits / T) at two temperatures, and a tiny temperature must give
 * the greedy sequence.
 */
import { describe, expect, it } from 'vitest';
import { loadBackend, nn, type Backend } from '../src/index.js';
import { randomF32 } from './helpers.js';

const [wasm, js] = await Promise.all([loadBackend('wasm'), loadBackend('js')]);

const V = 11, C = 16;
/** Draws per temperature. */
const N = 4000;
const TEMPS = [0.5, 2];
/** The total probability that a correct sampler fails any check of this test on one backend. */
const FALSE_FAILURE = 1e-6;
/**
 * Per token and side, N·KL(count/N ‖ P_j) ≥ c has probability ≤ e^(−c) (the Chernoff bound
 * for a binomial count, exact, not asymptotic); over V tokens, 2 sides and the temperatures
 * the union bound gives FALSE_FAILURE.
 */
const BOUND = Math.log(2 * V * TEMPS.length / FALSE_FAILURE);

/** KL divergence of Bernoulli(q) from Bernoulli(p), in nats (0·ln 0 = 0). */
function kl(q: number, p: number): number {
  const t = (a: number, b: number) => (a === 0 ? 0 : a * Math.log(a / b));
  return t(q, p) + t(1 - q, 1 - p);
}

/** softmax(l / T) in float64. */
function softmax(l: ArrayLike<number>, T: number): Float64Array {
  let m = -Infinity;
  for (let j = 0; j < l.length; j++) m = Math.max(m, l[j]! / T);
  const e = Float64Array.from({ length: l.length }, (_, j) => Math.exp(l[j]! / T - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** The largest N·KL(count_j/N ‖ p_j) over the tokens. */
function worst(counts: number[], p: Float64Array, n: number): number {
  return Math.max(...counts.map((c, j) => n * kl(c / n, p[j]!)));
}

/**
 * A GPT whose next-token logits do not depend on the context: blockSize 1 pins the position
 * to 0 and every token embeds to zero, so generate draws N independent tokens from one
 * distribution. lm_head is untied and wide enough that the temperature matters (logits over
 * a few units).
 */
function constantModel(be: Backend): nn.GPT {
  const g = new nn.GPT(be, { vocabSize: V, blockSize: 1, nLayer: 1, nHead: 2, nEmbd: C, tieWeights: false, seed: 5 });
  const sd = g.stateDict();
  g.loadStateDict({ ...sd, 'transformer.wte.weight': new Float32Array(V * C), 'transformer.wpe.weight': randomF32(C, 31, 1),
    'lm_head.weight': randomF32(V * C, 32, 0.8) });
  return g;
}

describe.each([['wasm', wasm], ['js', js]] as const)('generate samples from softmax(logits / temperature) on %s', (_k, be) => {
  it(`token counts of ${N} draws at T = ${TEMPS.join(' and ')} within the Chernoff bound (false failure < ${FALSE_FAILURE}); T = 1 and T off by 25% fail it`, () => {
    const g = constantModel(be);
    g.eval();
    const logits = g.forward([0], [1, 1]).toFloat32Array();
    for (let t = 1; t < V; t++) expect(Array.from(g.forward([t], [1, 1]).data), `the logits after token ${t}`).toEqual(Array.from(logits));
    be.endStep();
    const spread = Math.max(...logits) - Math.min(...logits);
    expect(spread, 'logits spread enough for the temperature to matter').toBeGreaterThan(2);
    for (const T of TEMPS) {
      const out = g.generate([0], N, { temperature: T, seed: 7 });
      const counts = new Array<number>(V).fill(0);
      for (const v of out.subarray(1)) counts[v]!++;
      expect(worst(counts, softmax(logits, T), N), `T = ${T}: counts ${counts}`).toBeLessThanOrEqual(BOUND);
      // The same counts are far outside the bound for the wrong temperature: the check has power.
      for (const wrong of [1, T * 1.25, T / 1.25]) {
        expect(worst(counts, softmax(logits, wrong), N), `T = ${T} tested as ${wrong}`).toBeGreaterThan(BOUND);
      }
    }
    g.dispose();
  });

  it('a tiny temperature gives the greedy sequence (every top-2 gap ≥ 50·T along it)', () => {
    const g = new nn.GPT(be, { vocabSize: V, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: C, tieWeights: false, seed: 9 });
    const sd = g.stateDict();
    // wider weights than nanoGPT's init, so the logits differ by units and depend on the context
    const wide: Record<string, Float32Array> = {};
    let s = 40;
    for (const [k, v] of Object.entries(sd)) wide[k] = /ln_|\.bias$/.test(k) ? v : randomF32(v.length, s++, 0.5);
    g.loadStateDict(wide);
    const prompt = [1, 2, 3], T = 1e-3;
    const greedy = g.generate(prompt, 20, { temperature: 0 });
    g.eval();
    for (let n = prompt.length; n < greedy.length; n++) {
      const ctx = greedy.slice(Math.max(0, n - 8), n);
      const l = Array.from(g.forward(ctx, [1, ctx.length]).data.subarray((ctx.length - 1) * V, ctx.length * V));
      be.endStep();
      const top = l.indexOf(Math.max(...l));
      expect(top, `step ${n}: greedy picks the argmax`).toBe(greedy[n]);
      const second = Math.max(...l.filter((_, j) => j !== top));
      // any other token has probability < V·e^(−50) at T
      expect(l[top]! - second, `step ${n}: top-2 gap`).toBeGreaterThanOrEqual(50 * T);
    }
    expect(new Set(greedy.subarray(prompt.length)).size, 'a sequence that is not one token repeated').toBeGreaterThan(2);
    for (const seed of [0, 1, 2]) {
      expect(Array.from(g.generate(prompt, 20, { temperature: T, seed })), `seed ${seed}`).toEqual(Array.from(greedy));
    }
    g.dispose();
  });
});
