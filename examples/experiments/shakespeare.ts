/**
 * Experiment 9: nanoGPT's CPU recipe on Tiny Shakespeare, through the public API only
 * (textCorpus, nn.GPT, configureOptimizers, WarmupCosineLR, fitText with clipGradNorm,
 * estimateLoss, generate), against PyTorch running nanoGPT's model.py and train.py on the
 * same data rule (examples/torch/shakespeare.py, three seeds, stored in
 * test/reference/shakespeare-torch.json).
 *
 * The recipe (nanoGPT README, "I only have a macbook"): 4 layers, 4 heads, 128 wide, block
 * 64, batch 12, 2,000 iterations, lr 1e-3 with 100 warm-up iterations and cosine decay to
 * 1e-4 at 2,000, AdamW betas (0.9, 0.99), weight decay 0.1 on every matrix (and the
 * embedding), gradient clipping at 1.0, no biases, dropout 0. The validation loss is exact:
 * the whole validation split (the last 10% of the characters) in consecutive windows of 65.
 *
 * `npm start -- shakespeare` runs the 2,000 iterations (the claim: within 0.03 of PyTorch's
 * three-seed mean at iteration 2,000). The default `npm start` runs the first 250 of them
 * (the same schedule, so the same first 250 iterations) and says so; --quick runs 10.
 */
import { readFileSync } from 'node:fs';
import { fitText, textCorpus } from '../../src/index.js';
import { RECIPE, RECIPE_FIT, SEEDS, recipeModel, recipeTraining, type TorchReference } from './shakespeare-recipe.js';
import type { Ctx, Experiment, Result } from './types.js';

export { RECIPE, SEEDS, type TorchReference } from './shakespeare-recipe.js';
/** Iterations of the full run, the default `npm start` and --quick. */
export const ITERS = { full: 2000, short: 250, quick: 10 };
/** The acceptance: regula's validation loss at 2,000 within this of PyTorch's three-seed mean. */
export const TOLERANCE = 0.03;

export function loadShakespeare(): string {
  return readFileSync(new URL('../data/tinyshakespeare/input.txt', import.meta.url), 'utf8');
}

export function loadTorchReference(): TorchReference {
  return JSON.parse(readFileSync(new URL('../../test/reference/shakespeare-torch.json', import.meta.url), 'utf8')) as TorchReference;
}

export const shakespeare: Experiment = {
  id: 'shakespeare',
  title: 'nanoGPT\'s Shakespeare recipe: AdamW decay on every matrix, clipping and a cosine schedule, against PyTorch',
  async run(ctx: Ctx): Promise<Result> {
    const { be } = ctx;
    const iters = ctx.quick ? ITERS.quick : ctx.full ? ITERS.full : ITERS.short;
    const corpus = textCorpus(loadShakespeare(), { blockSize: RECIPE.blockSize });
    // --quick (the tests) evaluates on the first 65·40 validation characters; the others on all of them
    const val = ctx.quick ? corpus.val.subarray(0, 65 * 40) : corpus.val;
    const gpt = recipeModel(be, corpus.tokenizer.size);
    const { optimizer, scheduler } = recipeTraining(gpt);
    try {
      const bar = ctx.progress('   training', iters, 'iterations');
      const r = await fitText(gpt, { train: corpus.train, val }, {
        ...RECIPE_FIT, optimizer, scheduler, steps: iters,
        evalEvery: ctx.quick ? 5 : RECIPE.evalEvery, seed: SEEDS.batches,
        onStep: (log) => bar.update(log.step),
      });
      bar.end();
      const ref = loadTorchReference();
      const prompt = corpus.tokenizer.encode('\n');
      const sample = corpus.tokenizer.decode(gpt.generate(prompt, 200, { temperature: 0.8, seed: 1 }).subarray(1));
      const torchAt = (it: number) => ref.mean.find((m) => m.iter === it)?.valLoss ?? null;
      const rows = r.history.map((h) => {
        const t = torchAt(h.step);
        return [h.step, h.valLoss.toFixed(4), t === null ? '' : t.toFixed(4), t === null ? '' : (h.valLoss - t).toFixed(4)];
      });
      const final = r.history[r.history.length - 1]!;
      const torchFinal = torchAt(final.step);
      const diff = torchFinal === null ? NaN : final.valLoss - torchFinal;
      const full = iters === RECIPE.iters;
      const holds = full && Math.abs(diff) <= TOLERANCE;
      const torchTps = ref.runs.reduce((s, x) => s + x.tokensPerSecond, 0) / ref.runs.length;
      const detail = `validation loss ${final.valLoss.toFixed(4)} at iteration ${final.step}` +
        (torchFinal === null ? '' : `, PyTorch ${torchFinal.toFixed(4)} (mean of seeds ${ref.runs.map((x) => x.seed).join(', ')}: ${ref.runs.map((x) => x.curve.find((c) => c.iter === final.step)?.valLoss.toFixed(4)).join(', ')}), difference ${diff.toFixed(4)} (tolerance ±${TOLERANCE})`) +
        `; ${Math.round(r.tokensPerSecond)} tokens/s on ${be.kind} (${be.info().threads} thread${be.info().threads > 1 ? 's' : ''}), PyTorch ${Math.round(torchTps)} (1 thread, its own run)`;
      return {
        id: 'shakespeare',
        title: shakespeare.title,
        claim: 'With AdamW\'s decay on every matrix, gradient clipping and nanoGPT\'s schedule, regula trains nanoGPT\'s Shakespeare model to PyTorch\'s validation loss (within 0.03 at iteration 2,000).',
        tables: [
          { caption: `validation loss (nats per character, all ${val.length.toLocaleString('en-US')} validation characters in windows of 65)${full ? '' : `: the first ${iters} of the recipe's 2,000 iterations`}`, head: ['iteration', 'regula', 'PyTorch (3 seeds)', 'difference'], rows },
          { caption: 'a sample (temperature 0.8, 200 characters after "\\n")', head: ['regula', 'PyTorch (seed ' + ref.runs[0]!.seed + ')'], rows: [[JSON.stringify(sample).slice(1, -1).slice(0, 100), JSON.stringify(ref.runs[0]!.sample).slice(1, -1).slice(0, 100)]] },
        ],
        figures: { iters, curve: r.history, torch: ref.mean, torchRuns: ref.runs.map((x) => ({ seed: x.seed, curve: x.curve, tokensPerSecond: x.tokensPerSecond })), tokensPerSecond: r.tokensPerSecond, torchTokensPerSecond: torchTps, finalValLoss: final.valLoss, torchFinalValLoss: torchFinal, difference: diff, sample, params: gpt.numParams() },
        verdict: {
          holds, detail,
          ...(full ? {} : { untested: `a ${iters}-iteration run (the recipe's first ${iters}) cannot test the loss at 2,000; \`npm start -- shakespeare\` runs all 2,000` }),
        },
      };
    } finally {
      optimizer.dispose();
      gpt.dispose();
    }
  },
};
