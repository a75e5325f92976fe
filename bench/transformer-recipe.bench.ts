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
 * Checks before timing: wasm on 1 and 2 threads and js give the same losses and parameters
 * bit for bit over 3 steps; every case lowers the loss over 30 steps.
 */
import { loadBackend } from '../src/index.js';
import * as regulaModule from '../src/index.js';
import type { Group, Suite } from './harness.js';
import { findTorchPython, torchCase, torchServer } from './torch.js';
import { lowers, sameBits } from './trainer.js';
import { RECIPES, gptTrainer, stepFlops } from './gpt-recipes.js';
import { loadPeak, PEAK_FLOP_PER_ITER } from './peak.js';

const suite: Suite = {
  name: 'transformer-recipe',
  async groups(): Promise<Group[]> {
    const [wasm1, wasm2, js] = await Promise.all([loadBackend('wasm', { threads: 1 }), loadBackend('wasm', { threads: 2 }), loadBackend('js')]);
    const py = findTorchPython();
    if (py === null) process.stderr.write('transformer-recipe: python3 with torch not found (Debian: apt-get install python3-torch); PyTorch cases skipped\n');
    const torch = py === null ? [] : await Promise.all([1, 2].map(async (t) => ({ t, server: await torchServer(py, 'torch_gpt.py', t) })));
    const R = RECIPES.nanogpt, flops = stepFlops(R);
    const rw1 = gptTrainer(regulaModule, wasm1, R), rw2 = gptTrainer(regulaModule, wasm2, R);
    const peak = await loadPeak(), iters = Math.round(flops / PEAK_FLOP_PER_ITER);
    return [{
      title: `nanoGPT CPU recipe: vocab ${R.V}, T ${R.T}, batch ${R.B}, ${R.L} layers, ${R.H} heads, nEmbd ${R.C}, no bias, tied; AdamW, clip ${R.clip} (${(flops / 1e9).toFixed(2)} useful GFLOP/step)`,
      work: flops, unit: 'FLOP', baseline: 'regula wasm 1 thread',
      cases: [
        {
          name: 'regula wasm 1 thread',
          fn: rw1.step,
          check: async () => {
            sameBits((i) => gptTrainer(regulaModule, [wasm1, js, wasm2][i]!, R), ['wasm 1 thread', 'js', 'wasm 2 threads']);
            await lowers(rw1.step, 'regula wasm (nanoGPT recipe)', 0.99, 5);
          },
        },
        { name: 'regula wasm 2 threads', fn: rw2.step, check: () => lowers(rw2.step, 'regula wasm 2 threads (nanoGPT recipe)', 0.99, 5) },
        ...torch.map(({ t, server }) => torchCase(server, 'torch_gpt.py', `PyTorch ${t} thread${t > 1 ? 's' : ''}`, 1, 1, 0.99)),
        { name: 'f32x4 mul+add peak (1 core)', fn: () => peak(iters, 0.5), check: () => { if (!Number.isFinite(peak(10, 0.5))) throw new Error('peak loop'); } },
      ],
      teardown: () => {
        rw1.dispose(); rw2.dispose();
        for (const { server } of torch) server.close();
        wasm1.dispose(); wasm2.dispose();
      },
    }];
  },
};
export default suite;
