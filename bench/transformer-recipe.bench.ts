/**
 * nanoGPT's CPU recipe (bench/gpt-recipes.ts): vocab 65, T 64, batch 12 (768 tokens), 4
 * layers, 4 heads, nEmbd 128, no bias, tied lm_head, dropout 0; AdamW lr 1e-3, betas
 * (0.9, 0.99), weight decay 0.1 on every ≥ 2-D parameter (train.py's configure_optimizers);
 * gradient clip 1.0 (regula: nn.utils.clipGradNorm; PyTorch: clip_grad_norm_). Unit FLOP: nanoGPT's estimate
 * (6N + 12·L·T·C per token), so the rate is the step's useful GFLOP/s.
 *
 * Cases: regula wasm on 1 and 2 threads, PyTorch 1.13 on 1 and 2 threads (bench/torch_gpt.py,
 * model 1, written from nanoGPT's model.py and train.py), and bench/peak.ts's f32x4 mul+add
 * loop doing the step's FLOP count: the ceiling of one core measured in the same interleaved
 * rounds, so regula's share of it is the peak row's median over regula's.
 *
 * Checks before timing: wasm on 1 and every core and js give the same losses and parameters
 * bit for bit over 3 steps; every case lowers the loss over 30 steps.
 *
 * A portable suite: the demo's benchmark page runs its regula cases and the ceiling (in the
 * browser's worker: issue 22's Chromium point, `npm run bench:browser`); PyTorch is a peer
 * that bench/host.ts gives in Node only.
 */
import * as regulaModule from '../src/index.js';
import { loadBackends, threadsLabel, type Backends } from './backends.js';
import type { Case, Group, Suite } from './harness.js';
import { host, torchServers } from './host.js';
import { lowers, sameBits } from './trainer.js';
import { RECIPES, gptTrainer, stepFlops } from './gpt-recipes.js';
import { peakCase } from './peak-loop.js';

/** Its group's title starts so (bench/browser.ts and the page pick the recipe by it). */
export const RECIPE_TITLE = 'nanoGPT CPU recipe';

const suite: Suite = {
  name: 'transformer-recipe',
  async groups(given?: Backends): Promise<Group[]> {
    const { wasm1, wasmN, js } = given ?? await loadBackends();
    const torch = await torchServers('torch_gpt.py', [], (m) => console.warn(`transformer-recipe: ${m}`));
    const R = RECIPES.nanogpt, flops = stepFlops(R);
    const rw1 = gptTrainer(regulaModule, wasm1, R), rwN = wasmN === null ? null : gptTrainer(regulaModule, wasmN, R);
    const nLabel = wasmN === null ? '' : threadsLabel(wasmN.info().threads);
    const peak = await host().peak();
    const cases: Case[] = [
      {
        name: 'regula wasm 1 thread', backend: 'wasm', threads: 1,
        fn: rw1.step,
        check: async () => {
          const bes = wasmN === null ? [wasm1, js] : [wasm1, js, wasmN];
          sameBits((i) => gptTrainer(regulaModule, bes[i]!, R), ['wasm 1 thread', 'js', `wasm ${nLabel}`].slice(0, bes.length));
          await lowers(rw1.step, 'regula wasm (nanoGPT recipe)', 0.99, 5);
        },
      },
      ...(rwN === null ? [] : [{ name: `regula wasm ${nLabel}`, backend: 'wasm' as const, threads: wasmN!.info().threads, fn: rwN.step, check: () => lowers(rwN.step, `regula wasm ${nLabel} (nanoGPT recipe)`, 0.99, 5) }]),
      ...torch.map(({ t, server, peer }) => peer.case(server, 'torch_gpt.py', `PyTorch ${t} thread${t > 1 ? 's' : ''}`, 1, 1, 0.99)),
      peakCase(peak, flops, 'f32x4 mul+add peak (1 core)'),
    ];
    return [{
      title: `${RECIPE_TITLE}: vocab ${R.V}, T ${R.T}, batch ${R.B}, ${R.L} layers, ${R.H} heads, nEmbd ${R.C}, no bias, tied; AdamW, clip ${R.clip} (${(flops / 1e9).toFixed(2)} useful GFLOP/step)`,
      work: flops, unit: 'FLOP', tokens: R.B * R.T, baseline: 'regula wasm 1 thread', cases,
      teardown: () => {
        rw1.dispose(); rwN?.dispose();
        for (const { server } of torch) server.close();
      },
    }];
  },
};
export default suite;
