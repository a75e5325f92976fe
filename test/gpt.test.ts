/**
 * nn.GPT and the transformer's autograd ops beyond the PyTorch reference: finite-difference
 * gradients (float64 reference forward) for LayerNorm, the masked softmax, attention and
 * embedding; dropout (eval = dropout 0, fresh masks, drop rates on the attention
 * probabilities and on the residual outputs); a 50-step training run with dropout equal bit
 * for bit on wasm with 1 and 2 threads and js; be.memory() flat over 1,000 steps;
 * generate(); state dicts; the AdamW groups; bad input rejected before any state changes.
 */
import { describe, expect, it } from 'vitest';
import { loadBackend, nn, optim, safetensors, type Backend } from '../src/index.js';
import { randomF32, firstBitDiff } from './helpers.js';
import { attention64, expectGrad, fd, layerNorm64, mse64 } from './grad64.js';

const [wasm, wasm2, js] = await Promise.all([loadBackend('wasm', { threads: 1 }), loadBackend('wasm', { threads: 2 }), loadBackend('js')]);
const BOTH = [wasm, js] as const;

describe.each(BOTH.map((be) => [be.kind, be] as const))('finite-difference gradients (float64 reference) on %s', (_k, be) => {
  it('layerNorm: x, weight and bias', () => {
    const rows = 4, cols = 7;
    const x = be.param([rows, cols], randomF32(rows * cols, 1, 2)), w = be.param([cols], randomF32(cols, 2, 1.5)), b = be.param([cols], randomF32(cols, 3));
    const target = randomF32(rows * cols, 4);
    be.mse(be.layerNorm(x, w, b), be.tensor([rows, cols], target)).backward();
    const x64 = Float64Array.from(x.data), w64 = Float64Array.from(w.data), b64 = Float64Array.from(b.data);
    const f = () => mse64(layerNorm64(x64, rows, cols, w64, b64), target);
    expectGrad(x.grad!, fd(x64, f), 'dx');
    expectGrad(w.grad!, fd(w64, f), 'dweight');
    expectGrad(b.grad!, fd(b64, f), 'dbias');
    for (const t of [x, w, b]) t.dispose();
  });

  it('causal attention (masked softmax, both batched matmuls): every entry of the fused q|k|v', () => {
    const B = 2, T = 5, H = 2, C = 6;
    const qkv = be.param([B * T, 3 * C], randomF32(B * T * 3 * C, 5, 1.5));
    const target = randomF32(B * T * C, 6);
    const y = be.causalAttention(qkv, B, T, H);
    const q64 = Float64Array.from(qkv.data);
    const y64 = attention64(q64, B, T, H, C);
    let diff = 0;
    for (let i = 0; i < y64.length; i++) diff = Math.max(diff, Math.abs(y.data[i]! - y64[i]!));
    expect(diff, 'forward').toBeLessThan(1e-6);
    be.mse(y, be.tensor([B * T, C], target)).backward();
    expectGrad(qkv.grad!, fd(q64, () => mse64(attention64(q64, B, T, H, C), target)), 'dqkv');
    qkv.dispose();
  });

  it('masked softmax kernel: backward against differences of the float64 forward', () => {
    const z = 2, t = 6, scale = 0.37, n = z * t * t;
    const x = randomF32(n, 7, 3), r = randomF32(n, 8);
    const x64 = Float64Array.from(x);
    const f = (v: Float64Array) => {
      let s = 0;
      for (let row = 0; row < z * t; row++) {
        const len = (row % t) + 1;
        let m = -Infinity;
        for (let j = 0; j < len; j++) m = Math.max(m, v[row * t + j]! * Math.fround(scale));
        let den = 0;
        for (let j = 0; j < len; j++) den += Math.exp(v[row * t + j]! * Math.fround(scale) - m);
        for (let j = 0; j < len; j++) s += r[row * t + j]! * Math.exp(v[row * t + j]! * Math.fround(scale) - m) / den;
      }
      return s;
    };
    const p = be.zeros([z, t, t]), g = be.tensor([z, t, t], r), dx = be.zeros([z, t, t]);
    be.kernels.causalSoftmax(p, be.tensor([z, t, t], x), scale);
    be.kernels.causalSoftmaxBackward(dx, p, g, scale);
    expectGrad(dx, fd(x64, f), 'dx');
  });

  it('embedding: scatter-add with repeated ids', () => {
    const vocab = 5, dim = 3, ids = Int32Array.from([1, 4, 1, 0, 1, 4]);
    const w = be.param([vocab, dim], randomF32(vocab * dim, 9));
    const target = randomF32(ids.length * dim, 10);
    be.mse(be.embedding(w, ids), be.tensor([ids.length, dim], target)).backward();
    const w64 = Float64Array.from(w.data);
    const f = () => {
      const y = new Float64Array(ids.length * dim);
      ids.forEach((id, i) => { for (let j = 0; j < dim; j++) y[i * dim + j] = w64[id * dim + j]!; });
      return mse64(y, target);
    };
    expectGrad(w.grad!, fd(w64, f), 'dweight');
    expect(Array.from(w.grad!.data.subarray(2 * dim, 4 * dim)), 'ids 2 and 3 unused').toEqual(new Array(2 * dim).fill(0));
    w.dispose();
  });
});

const SMALL = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, bias: true, tieWeights: true, seed: 3 };

function batch(seed: number, B: number, T: number, V: number): { ids: Int32Array; targets: Int32Array } {
  // a learnable rule: the target is a fixed function of the current token
  const ids = Int32Array.from(randomF32(B * T, seed), (u) => Math.floor((u + 1) / 2 * V) % V);
  const targets = ids.map((id) => (3 * id + 1) % V);
  return { ids, targets };
}

function trainRun(be: Backend, steps: number, dropout: number): { losses: Float32Array; params: Float32Array[] } {
  const gpt = new nn.GPT(be, { ...SMALL, dropout, tieWeights: false });
  const opt = gpt.configureOptimizers({ weightDecay: 0.1, lr: 3e-3, betas: [0.9, 0.95] });
  const losses = new Float32Array(steps);
  for (let s = 0; s < steps; s++) {
    const { ids, targets } = batch(100 + s, 4, 8, SMALL.vocabSize);
    opt.zeroGrad();
    const loss = be.crossEntropy(gpt.forward(ids, [4, 8]), targets);
    losses[s] = loss.item();
    loss.backward();
    opt.step();
  }
  const params = gpt.parameters().map((p) => p.toFloat32Array());
  opt.dispose(); gpt.dispose();
  return { losses, params };
}

describe('training', () => {
  it('50 steps with dropout 0.2: the same bits on wasm (1 and 2 threads) and js, and the loss falls', () => {
    const a = trainRun(wasm, 50, 0.2), b = trainRun(wasm2, 50, 0.2), c = trainRun(js, 50, 0.2);
    expect(wasm2.info().threads).toBe(2);
    for (const [other, name] of [[b, 'wasm 2 threads'], [c, 'js']] as const) {
      expect(firstBitDiff(a.losses, other.losses), `losses, ${name}`).toBe(-1);
      a.params.forEach((p, i) => expect(firstBitDiff(p, other.params[i]!), `parameter ${i}, ${name}`).toBe(-1));
    }
    expect(a.losses[49]!).toBeLessThan(a.losses[0]! - 0.1);
  });

  it.each(BOTH.map((be) => [be.kind, be] as const))('%s: be.memory() stays flat over 1,000 training steps with dropout', (_k, be) => {
    const gpt = new nn.GPT(be, { ...SMALL, dropout: 0.1 });
    const opt = gpt.configureOptimizers({ weightDecay: 0.1, lr: 1e-3 });
    const { ids, targets } = batch(5, 2, 8, SMALL.vocabSize);
    const step = () => { opt.zeroGrad(); const l = be.crossEntropy(gpt.forward(ids, [2, 8]), targets); l.backward(); opt.step(); return l.item(); };
    for (let i = 0; i < 3; i++) step();
    const base = be.memory();
    let last = NaN;
    for (let i = 0; i < 1000; i++) {
      last = step();
      if (i % 100 === 0) expect(be.memory(), `step ${i}`).toEqual(base);
    }
    expect(be.memory()).toEqual(base);
    expect(Number.isFinite(last)).toBe(true);
    be.endStep(); opt.dispose(); gpt.dispose();
  }, 120_000);
});

describe.each(BOTH.map((be) => [be.kind, be] as const))('dropout on %s', (_k, be) => {
  it('eval mode equals dropout 0; train mode draws fresh masks every step', () => {
    const { ids } = batch(7, 2, 8, 11);
    const a = new nn.GPT(be, { ...SMALL, dropout: 0.3 }), b = new nn.GPT(be, { ...SMALL, dropout: 0 });
    const la = a.eval().forward(ids, [2, 8]).toFloat32Array(), lb = b.forward(ids, [2, 8]).toFloat32Array();
    expect(firstBitDiff(la, lb)).toBe(-1);
    a.train();
    const t1 = a.forward(ids, [2, 8]).toFloat32Array(), t2 = a.forward(ids, [2, 8]).toFloat32Array();
    expect(firstBitDiff(t1, la)).not.toBe(-1);
    expect(firstBitDiff(t1, t2), 'a second step draws new masks').not.toBe(-1);
    be.endStep(); a.dispose(); b.dispose();
  });

  it('the attention probabilities are dropped at rate p and the survivors scaled by 1/(1 − p)', () => {
    // v_s = e_s (one head, C = T): y row t is then the dropped probability row t itself.
    const T = 64, B = 8, C = T, p = 0.25;
    const qkv = new Float32Array(B * T * 3 * C);
    const r = randomF32(B * T * 2 * C, 11, 0.5);
    for (let i = 0; i < B * T; i++) {
      qkv.set(r.subarray(i * 2 * C, (i + 1) * 2 * C), i * 3 * C);
      qkv[i * 3 * C + 2 * C + (i % T)] = 1;
    }
    const x = be.tensor([B * T, 3 * C], qkv);
    const plain = be.causalAttention(x, B, T, 1).toFloat32Array();
    const rng = be.rng(5);
    const dropped = be.causalAttention(x, B, T, 1, { p, rng }).toFloat32Array();
    let causal = 0, zeros = 0;
    for (let i = 0; i < B * T; i++) {
      for (let j = 0; j <= i % T; j++) {
        const k = i * C + j;
        causal++;
        if (dropped[k] === 0) zeros++;
        else expect(dropped[k]).toBe(Math.fround(plain[k]! * Math.fround(1 / (1 - p))));
      }
    }
    const rate = zeros / causal; // 16,640 draws: the standard error is 0.0034
    expect(Math.abs(rate - p)).toBeLessThan(0.02);
    be.endStep(); x.dispose(); rng.dispose();
  });

  it('the residual outputs (attention and MLP) are dropped at rate p', () => {
    const rows = 256, C = 32, p = 0.4;
    const x = be.tensor([rows, C], randomF32(rows * C, 12));
    const attn = new nn.CausalSelfAttention(be, C, 4, { dropout: p, seed: 99 });
    const mlp = new nn.MLP(be, C, { dropout: p, seed: 98 });
    for (const [name, out] of [['attention', attn.forward(x, [4, 64])], ['MLP', mlp.forward(x)]] as const) {
      const d = out.data;
      let zeros = 0;
      for (let i = 0; i < d.length; i++) if (d[i] === 0) zeros++;
      expect(Math.abs(zeros / d.length - p), `${name} zero fraction`).toBeLessThan(0.03); // 8,192 draws: σ = 0.0054
    }
    be.endStep(); attn.dispose(); mlp.dispose(); x.dispose();
  });
});

describe.each(BOTH.map((be) => [be.kind, be] as const))('nn.GPT on %s', (_k, be) => {
  it('generate: greedy and seeded sampling (the same tokens on both backends), context cropped to blockSize', () => {
    const mk = (b: Backend) => new nn.GPT(b, { ...SMALL, seed: 21 });
    const g = mk(be), other = mk(be === wasm ? js : wasm);
    const prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]; // longer than blockSize 8
    const greedy = g.generate(prompt, 12, { temperature: 0 });
    expect(Array.from(greedy.subarray(0, 10))).toEqual(prompt);
    expect(greedy.length).toBe(22);
    // greedy step 1 is the argmax of the logits of the last 8 tokens
    g.eval();
    const l = g.forward(Int32Array.from(prompt.slice(2)), [1, 8]).data;
    const last = Array.from(l.subarray(7 * 11, 8 * 11));
    expect(greedy[10]).toBe(last.indexOf(Math.max(...last)));
    be.endStep(); g.train();
    for (const opts of [{ temperature: 1, seed: 4 }, { temperature: 0.7, topK: 3, seed: 9 }]) {
      const s1 = g.generate(prompt, 20, opts), s2 = other.generate(prompt, 20, opts);
      expect(Array.from(s1)).toEqual(Array.from(s2));
      expect(Array.from(g.generate(prompt, 20, opts))).toEqual(Array.from(s1));
      for (const v of s1) expect(v >= 0 && v < 11).toBe(true);
    }
    const a = g.generate(prompt, 30, { temperature: 1, seed: 1 }), b = g.generate(prompt, 30, { temperature: 1, seed: 2 });
    expect(Array.from(a)).not.toEqual(Array.from(b));
    // topK 1 is the argmax
    expect(Array.from(g.generate(prompt, 12, { temperature: 1, topK: 1, seed: 3 }))).toEqual(Array.from(greedy));
    // stop: the same draws, cut after the first new `stop` token (none: all maxNewTokens)
    const full = Array.from(a), fresh = full.slice(prompt.length);
    const stop = fresh[5]!, k = prompt.length + fresh.indexOf(stop);
    expect(Array.from(g.generate(prompt, 30, { temperature: 1, seed: 1, stop }))).toEqual(full.slice(0, k + 1));
    const absent = Array.from({ length: 11 }, (_, i) => i).find((t) => !fresh.slice(0, 4).includes(t))!;
    expect(Array.from(g.generate(prompt, 4, { temperature: 1, seed: 1, stop: absent }))).toEqual(full.slice(0, prompt.length + 4));
    g.dispose(); other.dispose();
  });

  it('state dicts: tied keys, loading either or both, torch < 2 mask buffers, another config rejected with nothing changed', () => {
    const g = new nn.GPT(be, { ...SMALL, seed: 1 });
    const sd = g.stateDict();
    expect(Object.keys(sd)[0]).toBe('transformer.wte.weight');
    expect(Object.keys(sd).at(-1)).toBe('lm_head.weight');
    expect(firstBitDiff(sd['lm_head.weight']!, sd['transformer.wte.weight']!)).toBe(-1);
    expect(g.namedParameters().map(([n]) => n)).not.toContain('lm_head.weight');
    const h = new nn.GPT(be, { ...SMALL, seed: 2 });
    const before = h.stateDict();
    const onlyHead = { ...sd };
    delete onlyHead['transformer.wte.weight'];
    h.loadStateDict(onlyHead);
    expect(firstBitDiff(h.wte.weight.data, sd['transformer.wte.weight']!)).toBe(-1);
    h.loadStateDict(before);
    const mask = new Float32Array(64).map((_, i) => ((i % 8) <= Math.floor(i / 8) ? 1 : 0));
    h.loadStateDict({ ...sd, 'transformer.h.0.attn.bias': mask, 'transformer.h.1.attn.bias': mask });
    expect(firstBitDiff(h.stateDict()['transformer.h.1.mlp.c_fc.weight']!, sd['transformer.h.1.mlp.c_fc.weight']!)).toBe(-1);
    h.loadStateDict(before);
    const unequal = { ...sd, 'lm_head.weight': sd['lm_head.weight']!.map((v) => v + 1) };
    expect(() => h.loadStateDict(unequal)).toThrow(/'transformer.wte.weight' and 'lm_head.weight' are one tied parameter, so their values must be equal/);
    const big = new nn.GPT(be, { ...SMALL, nEmbd: 24, seed: 1 }).stateDict();
    expect(() => h.loadStateDict(big)).toThrow(/'transformer.wte.weight' has 264 values, but the parameter has shape \[11, 16\]/);
    const deeper = new nn.GPT(be, { ...SMALL, nLayer: 3, seed: 1 }).stateDict();
    expect(() => h.loadStateDict(deeper)).toThrow(/unexpected key\(s\) 'transformer.h.2.ln_1.weight'/);
    const after = h.stateDict();
    for (const k of Object.keys(before)) expect(firstBitDiff(after[k]!, before[k]!), k).toBe(-1);
    g.dispose(); h.dispose();
  });

  it('a safetensors file of the model has every state-dict key with its true shape and loads back', () => {
    const g = new nn.GPT(be, { ...SMALL, seed: 11 }), h = new nn.GPT(be, { ...SMALL, seed: 12 });
    const file = safetensors.load(safetensors.save(g));
    const sd = g.stateDict();
    expect(Object.keys(file.tensors).sort()).toEqual(Object.keys(sd).sort());
    for (const [n, p] of g.stateEntries()) expect(file.tensors[n]!.shape, n).toEqual(p.shape);
    h.loadStateDict(file.tensors);
    const back = h.stateDict();
    for (const k of Object.keys(sd)) expect(firstBitDiff(back[k]!, sd[k]!), k).toBe(-1);
    g.dispose(); h.dispose();
  });

  it('nanoGPT init and AdamW groups: decay on every matrix and embedding, none on biases and LayerNorm', () => {
    const g = new nn.GPT(be, { ...SMALL, nLayer: 4, tieWeights: false, seed: 8 });
    const std = (n: string) => { const d = g.stateDict()[n]!; let s = 0; for (const v of d) s += v * v; return Math.sqrt(s / d.length); };
    expect(std('transformer.h.0.mlp.c_fc.weight')).toBeCloseTo(0.02, 2);
    expect(std('transformer.h.3.mlp.c_proj.weight')).toBeCloseTo(0.02 / Math.sqrt(8), 2);
    expect(Array.from(g.stateDict()['transformer.h.0.ln_1.weight']!)).toEqual(new Array(16).fill(1));
    expect(Array.from(g.stateDict()['transformer.h.0.attn.c_attn.bias']!)).toEqual(new Array(48).fill(0));
    const { groups, decay, noDecay } = g.optimizerGroups(0.1);
    expect(decay).toEqual(['transformer.wte.weight', 'transformer.wpe.weight',
      ...[0, 1, 2, 3].flatMap((i) => ['attn.c_attn.weight', 'attn.c_proj.weight', 'mlp.c_fc.weight', 'mlp.c_proj.weight'].map((s) => `transformer.h.${i}.${s}`)),
      'lm_head.weight']);
    expect(noDecay.every((n) => /(bias|ln_\d\.weight|ln_f\.weight)$/.test(n))).toBe(true);
    expect(groups[0].weightDecay).toBe(0.1);
    expect(groups[1].weightDecay).toBe(0);
    expect(groups[0].params.length + groups[1].params.length).toBe(g.parameters().length);
    const opt = g.configureOptimizers({ weightDecay: 0.1, lr: 1e-3 });
    expect(opt).toBeInstanceOf(optim.AdamW);
    opt.dispose(); g.dispose();
  });

  it('bad input: a clear error before any state changes', () => {
    expect(() => new nn.GPT(be, { ...SMALL, nEmbd: 10, nHead: 3 })).toThrow(/nEmbd \(10\) must be divisible by nHead \(3\)/);
    expect(() => new nn.GPT(be, { ...SMALL, dropout: 1 })).toThrow(/GPT dropout: expected a finite number in \[0, 1\)/);
    expect(() => new nn.GPT(be, { ...SMALL, vocab: 3 } as never)).toThrow(/unknown config key .vocab./);
    const live = be.memory().liveTensors;
    const g = new nn.GPT(be, { ...SMALL, dropout: 0.5, seed: 4 });
    const rngState = () => { g.train(); const x = g.forward(Int32Array.from([1, 2]), [1, 2]).toFloat32Array(); be.endStep(); return x; };
    const ref = new nn.GPT(be, { ...SMALL, dropout: 0.5, seed: 4 });
    const sd = g.stateDict();
    expect(() => g.forward(Int32Array.from([1, 11]), [1, 2])).toThrow(/token id 1 is 11, expected an integer in \[0, 10\]/);
    expect(() => g.forward([1, 2.5], [1, 2])).toThrow(/token id 1 is 2.5, expected an integer/);
    expect(() => g.forward(new Int32Array(9), [1, 9])).toThrow(/T = 9 exceeds blockSize 8/);
    expect(() => g.forward(new Int32Array(6), [2, 2])).toThrow(/shape \[2, 2\] needs 4 token ids, got 6/);
    expect(() => g.forward(new Float32Array(2) as never, [1, 2])).toThrow(/expected token ids as an Int32Array, an array of integers/);
    expect(() => g.generate([1, 20], 3)).toThrow(/token id 1 is 20/);
    expect(() => g.generate([1], 3, { temperature: -1 })).toThrow(/temperature/);
    expect(() => g.generate([1], 3, { topK: 0 })).toThrow(/topK/);
    expect(() => g.generate([1], 3, { stop: 11 })).toThrow(/GPT.generate stop \(a token id\): expected an integer in \[0, 10\], got 11/);
    expect(() => g.generate([], 3)).toThrow(/at least one token/);
    // nothing moved: parameters, and the dropout streams (the next forward equals a fresh model's first)
    const after = g.stateDict();
    for (const k of Object.keys(sd)) expect(firstBitDiff(after[k]!, sd[k]!), k).toBe(-1);
    const x1 = rngState();
    ref.train();
    const x2 = ref.forward(Int32Array.from([1, 2]), [1, 2]).toFloat32Array(); be.endStep();
    expect(firstBitDiff(x1, x2)).toBe(-1);
    g.dispose(); ref.dispose();
    be.releasePool();
    expect(be.memory().liveTensors).toBe(live);
  });
});

describe('shapes of the layers', () => {
  it('nn.Embedding and nn.LayerNorm as torch (N(0, 1) init, weight 1, bias 0, optional bias)', () => {
    const e = new nn.Embedding(js, 100, 50, { seed: 1 });
    let s = 0; for (const v of e.weight.data) s += v * v;
    expect(Math.sqrt(s / 5000)).toBeCloseTo(1, 1);
    expect(e.forward(Int32Array.from([3, 3])).shape).toEqual([2, 50]);
    const ln = new nn.LayerNorm(js, 6, { bias: false });
    expect(ln.namedParameters().map(([n]) => n)).toEqual(['weight']);
    expect(() => new nn.LayerNorm(js, 6, { eps: -1 })).toThrow(/LayerNorm eps: expected a finite number ≥ 0/);
    js.endStep(); e.dispose(); ln.dispose();
  });
});
