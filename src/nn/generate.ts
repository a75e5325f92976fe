/**
 * GPT.generate's sampling: the checks of its arguments, the token loop, argmax and a
 * seeded top-k draw. Apart from the model (src/nn/gpt.ts) because none of it is training.
 */
import { ShapeError, describe } from '../rules/errors.js';
import { mulberry32 } from '../core/rng.js';
import { checkSeed, optionsOf } from '../rules/validate.js';
import { idsOf } from '../rules/checks.js';
import type { Tensor } from '../core/tensor.js';

/** Options of GPT.generate. */
export interface GenerateOptions {
  /** Divides the logits; 0 picks the argmax (greedy). Default 1. */
  temperature?: number;
  /** Sample among the topK largest logits only (ties with the k-th kept, as nanoGPT). */
  topK?: number;
  /** Seed of the sampling RNG (mulberry32; default 0). The same seed gives the same tokens on both backends. */
  seed?: number;
  /** A token id that ends the generation once generated (e.g. an end-of-name "\n"): the result ends with it. */
  stop?: number;
}

/**
 * What generate() uses of its model: nn.GPT has it. Typed here rather than importing
 * src/nn/gpt.ts, which imports this file for GPT.generate.
 */
export interface LanguageModel {
  readonly be: { endStep(): void };
  readonly config: { readonly blockSize: number; readonly vocabSize: number };
  readonly training: boolean;
  eval(): unknown;
  train(mode: boolean): unknown;
  /** Logits [B·T, vocabSize] of ids [B, T]. */
  forward(ids: Int32Array, shape: readonly [number, number]): Tensor;
}

const GENERATE_KEYS: Record<keyof GenerateOptions, true> = { temperature: true, topK: true, seed: true, stop: true };

/**
 * The most tokens one call may generate: 2^24 (16,777,216). The result is one Int32Array of
 * prompt + maxNewTokens ids and each token costs a full forward, so a larger request is a
 * mistake (2^31 would run for days; 2^53 − 1 cannot be allocated), refused before anything runs.
 */
export const MAX_NEW_TOKENS = 2 ** 24;

/** GPT.generate (see its doc comment there): the prompt followed by maxNewTokens new tokens (fewer after `stop`). */
export function generate(model: LanguageModel, prompt: Int32Array | number[], maxNewTokens: number, options: GenerateOptions = {}): Int32Array {
  const be = model.be;
  const { blockSize, vocabSize: V } = model.config;
  const p = idsOf(prompt, V, 'GPT.generate prompt');
  if (p.length === 0) throw new ShapeError('GPT.generate: expected a prompt of at least one token, got none');
  if (typeof maxNewTokens !== 'number' || !Number.isSafeInteger(maxNewTokens) || maxNewTokens < 0 || maxNewTokens > MAX_NEW_TOKENS) {
    throw new RangeError(`GPT.generate: expected maxNewTokens as an integer in [0, 2^24 = ${MAX_NEW_TOKENS}] (one forward per token), got ${describe(maxNewTokens)}`);
  }
  const o = optionsOf<GenerateOptions>(options, GENERATE_KEYS, 'GPT.generate');
  const temperature = o.temperature ?? 1;
  if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`GPT.generate: expected temperature as a finite number ≥ 0, got ${describe(temperature)}`);
  }
  const topK = o.topK;
  if (topK !== undefined && (typeof topK !== 'number' || !Number.isSafeInteger(topK) || topK < 1)) {
    throw new RangeError(`GPT.generate: expected topK as an integer ≥ 1, got ${describe(topK)}`);
  }
  const stop = o.stop;
  if (stop !== undefined && (typeof stop !== 'number' || !Number.isSafeInteger(stop) || stop < 0 || stop >= V)) {
    throw new RangeError(`GPT.generate: expected stop as a token id in [0, ${V - 1}], got ${describe(stop)}`);
  }
  const u = mulberry32(checkSeed(o.seed ?? 0, 'GPT.generate seed'));
  const out = new Int32Array(p.length + maxNewTokens);
  out.set(p);
  const wasTraining = model.training;
  model.eval();
  try {
    const logit = new Float64Array(V);
    for (let n = p.length; n < out.length; n++) {
      const ctx = out.subarray(Math.max(0, n - blockSize), n);
      const logits = model.forward(ctx, [1, ctx.length]);
      const d = logits.data;
      for (let j = 0; j < V; j++) {
        const x = d[(ctx.length - 1) * V + j]!;
        if (!Number.isFinite(x)) {
          throw new RangeError(`GPT.generate: the model's logit ${j} at new token ${n - p.length} (position ${n}) is ${describe(x)}, ` +
            'expected finite logits (are the weights NaN or infinite?)');
        }
        logit[j] = x;
      }
      be.endStep();
      out[n] = temperature === 0 ? argmax(logit) : sample(logit, temperature, topK, u());
      if (out[n] === stop) return out.slice(0, n + 1);
    }
  } finally {
    model.train(wasTraining);
  }
  return out;
}

/** The index of the largest value (the first of equal maxima). */
function argmax(v: Float64Array): number {
  let best = 0;
  for (let j = 1; j < v.length; j++) if (v[j]! > v[best]!) best = j;
  return best;
}

/** A draw from softmax(v/temperature) restricted to the topK largest (ties kept), with the uniform r in [0, 1). */
function sample(v: Float64Array, temperature: number, topK: number | undefined, r: number): number {
  const V = v.length;
  let cut = -Infinity;
  if (topK !== undefined && topK < V) cut = Array.from(v).sort((a, b) => b - a)[topK - 1]!;
  let m = -Infinity;
  for (let j = 0; j < V; j++) if (v[j]! >= cut && v[j]! / temperature > m) m = v[j]! / temperature;
  // A tiny temperature (5e-324) makes the largest v/temperature ±Infinity, and Infinity − Infinity
  // is NaN: take the limit of softmax(v/T) as T → 0 there, the argmax. Wherever m is finite
  // nothing changes (the same bits as before at every temperature that sampled).
  if (!Number.isFinite(m)) return argmax(v);
  const e = new Float64Array(V);
  let s = 0;
  for (let j = 0; j < V; j++) if (v[j]! >= cut) s += (e[j] = Math.exp(v[j]! / temperature - m));
  let acc = 0, last = 0;
  const target = r * s;
  for (let j = 0; j < V; j++) {
    if (e[j]! === 0) continue;
    acc += e[j]!;
    last = j;
    if (target < acc) return j;
  }
  return last;
}
