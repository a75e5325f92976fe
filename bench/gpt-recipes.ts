/**
 * The two GPT training steps the speed work is measured on, shared by
 * bench/transformer.bench.ts, bench/trees-paired.ts and bench/profile-gpt.ts:
 *
 * - `names`: issue 14's anchor (vocab 65, T 64, nEmbd 64, 4 heads, 2 layers, batch 16,
 *   dropout 0.1, bias, untied lm_head; AdamW lr 3e-4, weight decay 0.1 on the Linear
 *   weights, 0 on the rest).
 * - `nanogpt`: nanoGPT's CPU recipe (its README: `python train.py
 *   config/train_shakespeare_char.py --device=cpu --compile=False --block_size=64
 *   --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --dropout=0.0`): vocab 65
 *   (shakespeare_char), T 64, batch 12, 4 layers, 4 heads, nEmbd 128, no bias, tied
 *   lm_head, dropout 0; train.py's AdamW (configure_optimizers: weight decay 0.1 on every
 *   parameter of dimension ≥ 2, embeddings included, 0 on the rest; lr 1e-3, betas (0.9,
 *   0.99) from the config) and gradient clipping at 1.0 (torch.nn.utils.clip_grad_norm_;
 *   regula: the library's nn.utils.clipGradNorm, so the bench times what a user runs).
 *
 * One fixed batch for both: token i of the B·T stream is (17i + 5⌊i/4⌋ + 3) mod 65, its
 * target (3·token + 1) mod 65 (bench/torch_gpt.py uses the same).
 */
type Regula = typeof import('../src/index.js');
type Backend = import('../src/index.js').Backend;
type Tensor = import('../src/index.js').Tensor;

export interface Recipe {
  name: 'names' | 'nanogpt';
  V: number; T: number; C: number; H: number; L: number; B: number;
  dropout: number; bias: boolean; tied: boolean;
  lr: number; betas: [number, number]; weightDecay: number;
  /** nanoGPT's rule (every ≥ 2-D parameter decayed) or the Linear weights only. */
  decayEmbeddings: boolean;
  /** Global gradient-norm clip (0: none). */
  clip: number;
}

export const RECIPES: Record<Recipe['name'], Recipe> = {
  names: { name: 'names', V: 65, T: 64, C: 64, H: 4, L: 2, B: 16, dropout: 0.1, bias: true, tied: false, lr: 3e-4, betas: [0.9, 0.999], weightDecay: 0.1, decayEmbeddings: false, clip: 0 },
  nanogpt: { name: 'nanogpt', V: 65, T: 64, C: 128, H: 4, L: 4, B: 12, dropout: 0, bias: false, tied: true, lr: 1e-3, betas: [0.9, 0.99], weightDecay: 0.1, decayEmbeddings: true, clip: 1 },
};

export function batchOf(r: Recipe): { tokens: Int32Array; targets: Int32Array } {
  const tokens = Int32Array.from({ length: r.B * r.T }, (_, i) => (17 * i + 5 * (i >> 2) + 3) % r.V);
  return { tokens, targets: Int32Array.from(tokens, (t) => (3 * t + 1) % r.V) };
}

/**
 * Useful FLOPs of one training step (forward + backward), nanoGPT's estimate
 * (model.py estimate_mfu): 6·N per token for the N parameters the matmuls use (every
 * Linear and lm_head: the embedding lookups are not matmuls, wpe is left out, and a tied
 * wte counts once as lm_head) plus 12·L·T·C per token for attention's two products
 * (q·kᵀ and P·v, forward and backward, full squares as nanoGPT counts them).
 */
export function stepFlops(r: Recipe): number {
  const { V, T, C, L, B } = r;
  const n = L * 12 * C * C + V * C;
  return B * T * (6 * n + 12 * L * C * T);
}

export interface GptTrainer {
  step: () => number;
  dispose: () => void;
  model: import('../src/index.js').nn.GPT;
}

/** One training step of recipe r on backend be, with the regula module `reg` (this tree's or another checkout's). */
export function gptTrainer(reg: Regula, be: Backend, r: Recipe, seed = 1): GptTrainer {
  const { tokens, targets } = batchOf(r);
  const model = new reg.nn.GPT(be, { vocabSize: r.V, blockSize: r.T, nLayer: r.L, nHead: r.H, nEmbd: r.C, dropout: r.dropout, bias: r.bias, tieWeights: r.tied, seed });
  const decay: Tensor[] = [], rest: Tensor[] = [];
  for (const [name, p] of model.namedParameters()) {
    const d = p.shape.length >= 2 && (r.decayEmbeddings || !name.startsWith('transformer.w'));
    (d ? decay : rest).push(p);
  }
  const params = [...decay, ...rest];
  const opt = new reg.optim.AdamW([{ params: decay, weightDecay: r.weightDecay }, { params: rest, weightDecay: 0 }], { lr: r.lr, betas: r.betas });
  model.train();
  return {
    model,
    step() {
      opt.zeroGrad();
      const loss = be.crossEntropy(model.forward(tokens, [r.B, r.T]), targets);
      loss.backward();
      if (r.clip > 0) reg.nn.utils.clipGradNorm(params, r.clip);
      opt.step();
      return loss.item();
    },
    dispose() { be.endStep(); model.dispose(); opt.dispose(); },
  };
}
