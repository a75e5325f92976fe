/**
 * nn.GPT against PyTorch 1.13 running nanoGPT's architecture (test/reference/transformer.json,
 * copied from the shared reference set; its `source` field names the generator run): three
 * configurations (tied and untied, with and without bias, T < blockSize, 1 to 3 layers, 1 to
 * 4 heads), on both backends: the initial logits and loss, every gradient, five AdamW steps
 * with nanoGPT's decay groups, and the greedy continuation.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { nn, optim, type Backend } from '../src/index.js';
import { loadBoth } from './helpers.js';

interface Case {
  name: string;
  config: { vocab_size: number; block_size: number; n_layer: number; n_head: number; n_embd: number; bias: boolean; tie_weights: boolean };
  param_order: string[];
  shapes: Record<string, number[]>;
  params0: Record<string, number[]>;
  idx: number[]; targets: number[]; B: number; T: number;
  logits0: number[]; loss0: number;
  grads0: Record<string, number[]>;
  adamw: {
    lr: number; betas: [number, number]; eps: number; weight_decay: number; decay_rule: string; steps: number;
    losses: number[]; params: Record<string, number[]>;
    degenerate: { name: string; start: number; end: number; why: string }[];
  };
  greedy: { prompt: number[]; tokens: number[]; margins: number[] };
}
const ref = JSON.parse(readFileSync(new URL('./reference/transformer.json', import.meta.url), 'utf8')) as { source: string; cases: Case[] };

const { wasm, js } = await loadBoth();

/** max |a − b| over the tensor, and max |b|. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, skip?: (i: number) => boolean): { diff: number; scale: number } {
  expect(a.length).toBe(b.length);
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    if (skip?.(i)) continue;
    diff = Math.max(diff, Math.abs(a[i]! - Math.fround(b[i]!)));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { diff, scale };
}

function build(be: Backend, c: Case): nn.GPT {
  const k = c.config;
  const gpt = new nn.GPT(be, { vocabSize: k.vocab_size, blockSize: k.block_size, nLayer: k.n_layer, nHead: k.n_head,
    nEmbd: k.n_embd, dropout: 0, bias: k.bias, tieWeights: k.tie_weights, seed: 7 });
  const sd: Record<string, Float32Array> = {};
  for (const [name, v] of Object.entries(c.params0)) sd[name] = Float32Array.from(v);
  gpt.loadStateDict(sd);
  return gpt;
}

for (const c of ref.cases) {
  describe(`GPT vs PyTorch: ${c.name}`, () => {
    for (const be of [wasm, js]) {
      it(`${be.kind}: state-dict keys and shapes are PyTorch's`, () => {
        const gpt = build(be, c);
        const keys = Object.keys(gpt.stateDict());
        const want = c.config.tie_weights ? [...c.param_order, 'lm_head.weight'] : c.param_order;
        expect(keys).toEqual(want);
        const named = gpt.namedParameters();
        expect(named.map(([n]) => n)).toEqual(c.param_order);
        for (const [n, p] of named) expect(p.shape, n).toEqual(c.shapes[n]);
        gpt.dispose();
      });

      it(`${be.kind}: logits, loss and every gradient`, () => {
        const gpt = build(be, c);
        const logits = gpt.forward(Int32Array.from(c.idx), [c.B, c.T]);
        expect(logits.shape).toEqual([c.B * c.T, c.config.vocab_size]);
        const l = maxDiff(logits.data, c.logits0);
        expect(l.diff, 'logits').toBeLessThanOrEqual(1e-5 * l.scale);
        const loss = be.crossEntropy(logits, Int32Array.from(c.targets));
        expect(Math.abs(loss.item() - c.loss0)).toBeLessThanOrEqual(1e-5 * Math.abs(c.loss0));
        loss.backward();
        for (const [n, p] of gpt.namedParameters()) {
          const g = maxDiff(p.grad!.data, c.grads0[n]!);
          expect(g.diff, `grad of ${n} (largest ${g.scale})`).toBeLessThanOrEqual(1e-4 * g.scale);
        }
        gpt.dispose();
      });

      it(`${be.kind}: ${c.adamw.steps} AdamW steps with nanoGPT's groups, then the greedy continuation`, () => {
        const gpt = build(be, c);
        const a = c.adamw;
        const { groups, decay, noDecay } = gpt.optimizerGroups(a.weight_decay);
        expect(decay.length + noDecay.length).toBe(c.param_order.length);
        for (const n of decay) expect(c.shapes[n]!.length).toBeGreaterThanOrEqual(2);
        for (const n of noDecay) expect(c.shapes[n]!.length).toBe(1);
        const opt = new optim.AdamW(groups, { lr: a.lr, betas: a.betas, eps: a.eps });
        const ids = Int32Array.from(c.idx), targets = Int32Array.from(c.targets);
        for (let s = 0; s < a.steps; s++) {
          opt.zeroGrad();
          const loss = be.crossEntropy(gpt.forward(ids, [c.B, c.T]), targets);
          expect(Math.abs(loss.item() - a.losses[s]!), `loss before step ${s + 1}`).toBeLessThanOrEqual(1e-5 * Math.abs(a.losses[s]!));
          loss.backward();
          opt.step();
        }
        for (const [n, p] of gpt.namedParameters()) {
          const deg = a.degenerate.filter((d) => d.name === n);
          const d = maxDiff(p.data, a.params[n]!, (i) => deg.some((x) => i >= x.start && i < x.end));
          expect(d.diff, `parameter ${n} after ${a.steps} steps`).toBeLessThanOrEqual(1e-4);
        }
        // The greedy continuation from the trained parameters: equal at every step whose recorded
        // top-2 margin exceeds 1e-3.
        const g = c.greedy;
        const out = gpt.generate(g.prompt, g.tokens.length, { temperature: 0 });
        expect(Array.from(out.subarray(0, g.prompt.length))).toEqual(g.prompt);
        const got = Array.from(out.subarray(g.prompt.length));
        for (let i = 0; i < got.length; i++) if (g.margins[i]! > 1e-3) expect(got[i], `token ${i} (margin ${g.margins[i]})`).toBe(g.tokens[i]);
        expect(gpt.training, 'generate() restores train mode').toBe(true);
        opt.dispose();
        gpt.dispose();
      });

    }
  });
}
