/**
 * nanoGPT's CPU recipe for a character GPT (its README, "I only have a macbook"), as the
 * library's pieces put together once: the model (nn.GPT), nanoGPT's optimizer groups
 * (configureOptimizers), its learning-rate rule (WarmupCosineLR) and the fitText options
 * (batch, clipping). Browser-safe (no node: imports): experiment 9 (shakespeare.ts, Node)
 * and the demo page's text panel (examples/demo/text-worker.ts) build their runs here, so
 * the page trains exactly what `npm start -- shakespeare` trains.
 */
import { WarmupCosineLR, nn, type Backend, type FitTextOptions, type optim } from '../../src/index.js';

/** nanoGPT's CPU recipe. */
export const RECIPE = {
  blockSize: 64, batchSize: 12, nLayer: 4, nHead: 4, nEmbd: 128, bias: false, dropout: 0,
  lr: 1e-3, minLr: 1e-4, warmupIters: 100, decayIters: 2000, betas: [0.9, 0.99] as [number, number],
  weightDecay: 0.1, gradClip: 1.0, iters: 2000, evalEvery: 250,
};
/** The model's initialisation seed and the batch windows' seed. */
export const SEEDS = { init: 1337, batches: 1337 };

/** PyTorch's runs of the recipe (examples/torch/shakespeare.py; test/reference/shakespeare-torch.json). */
export interface TorchReference {
  source: string;
  runs: { seed: number; curve: { iter: number; valLoss: number }[]; finalValLoss: number; tokensPerSecond: number; sample: string }[];
  mean: { iter: number; valLoss: number }[];
  meanFinalValLoss: number;
}

/** The recipe's model for a vocabulary of `vocabSize` characters, initialised from SEEDS.init. */
export function recipeModel(be: Backend, vocabSize: number): nn.GPT {
  return new nn.GPT(be, {
    vocabSize, blockSize: RECIPE.blockSize, nLayer: RECIPE.nLayer, nHead: RECIPE.nHead, nEmbd: RECIPE.nEmbd,
    bias: RECIPE.bias, dropout: RECIPE.dropout, seed: SEEDS.init,
  });
}

/**
 * The recipe's optimizer (AdamW, betas (0.9, 0.99), weight decay 0.1 on every matrix and the
 * embedding) and schedule (warm-up 100, cosine to 1e-4 at 2,000) for `gpt`, at iteration 0.
 * A checkpoint's state loads into them (resumeCheckpoint).
 */
export function recipeTraining(gpt: nn.GPT): { optimizer: optim.AdamW; scheduler: WarmupCosineLR } {
  const optimizer = gpt.configureOptimizers({ lr: RECIPE.lr, betas: RECIPE.betas, weightDecay: RECIPE.weightDecay });
  const scheduler = new WarmupCosineLR(optimizer, { warmupIters: RECIPE.warmupIters, decayIters: RECIPE.decayIters, minLr: RECIPE.minLr });
  return { optimizer, scheduler };
}

/** fitText's options of the recipe besides the run's own (steps, evaluation, callbacks): the batch and the clipping. */
export const RECIPE_FIT: Pick<FitTextOptions, 'batchSize' | 'clipGradNorm'> = { batchSize: RECIPE.batchSize, clipGradNorm: RECIPE.gradClip };
