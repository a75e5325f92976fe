/**
 * Hostile input (issue 20, items 1-8, 13 and 14): each finding as it was reported, on both
 * backends, with what must happen now. Every refusal is checked to leave the model (or the
 * RNG) as it was. The items are spread over the modules, so they are kept together here,
 * one `describe` per item, in the order.
 */
import { describe, expect, it } from 'vitest';
import {
  CharTokenizer, CosineAnnealingLR, ExponentialLR, LinearLR, LinearWarmup, SafetensorsError, StepLR, fit, linear, loadBackend, loadDiabetes,
  loadDigits, nn, optim, prior, safetensors, trainTestSplit, type Backend,
} from '../src/index.js';
import { loadBoth } from './helpers.js';

const { wasm, js } = await loadBoth();
const BOTH = [wasm, js] as const;

const SMALL = { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, seed: 5 };

/** Every parameter's values, to check that a refused call changed nothing. */
function snapshot(m: nn.Module): Float32Array[] {
  return m.parameters().map((p) => p.data.slice());
}
function expectUnchanged(m: nn.Module, before: Float32Array[]): void {
  m.parameters().forEach((p, i) => expect(Array.from(p.data)).toEqual(Array.from(before[i]!)));
}

describe.each(BOTH.map((be) => [be.kind, be] as const))('hostile input on %s', (_k, be: Backend) => {
  describe('1: token ids as a tensor are held to the one id rule (no wrap modulo 2^32)', () => {
    const g = new nn.GPT(be, SMALL);
    it('GPT.forward and nn.Embedding.forward refuse 2^32, -2^32, 2^33, 2^40 and 1e10 in a tensor, saying the value as given', () => {
      const emb = new nn.Embedding(be, 11, 4, { seed: 1 });
      for (const bad of [2 ** 32, -(2 ** 32), 2 ** 33, 2 ** 40, 1e10]) {
        const ids = be.tensor([1, 2], [3, bad]);
        const want = new RegExp(`token id 1 is ${bad}, expected an integer in \\[0, 10\\]`);
        expect(() => g.forward(ids)).toThrow(want);
        expect(() => emb.forward(ids)).toThrow(want);
        // the same value in an array and (where it fits) an Int32Array gets the same message
        expect(() => g.forward([3, bad], [1, 2])).toThrow(want);
        ids.dispose();
      }
      expect(() => g.forward(Int32Array.from([3, 11]), [1, 2])).toThrow(/token id 1 is 11, expected an integer in \[0, 10\]/);
      expect(() => g.generate([3, -1], 1)).toThrow(/GPT.generate prompt: token id 1 is -1, expected an integer in \[0, 10\]/);
      // a tensor of good ids still works, and gives what the Int32Array gives
      const ok = be.tensor([1, 2], [3, 10]);
      expect(Array.from(g.forward(ok).data)).toEqual(Array.from(g.forward(Int32Array.from([3, 10])).data));
      emb.dispose(); ok.dispose();
    });
  });

  describe('2: linear.path with alpha_max = 0 (y all zero, or X all zero)', () => {
    // scikit-learn 1.2.1 (checked with /usr/bin/python3): _alpha_grid returns n_alphas copies of
    // np.finfo(float).resolution = 1e-15 when alpha_max ≤ it; lasso_path and enet_path (l1_ratio
    // 0.5) then return all-zero coefficients and dual gaps of 0 at each alpha, for y = 0 and for
    // X = 0 alike (before: NaN alphas, NaN gaps, converged false).
    const n = 10, d = 3;
    const X = Float32Array.from({ length: n * d }, (_, i) => Math.sin(1.7 * i));
    const y = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
    for (const [what, XX, yy] of [['y = 0', X, new Float32Array(n)], ['X = 0', new Float32Array(n * d), y]] as const) {
      for (const l1Ratio of [1, 0.5]) {
        it(`${what}, l1Ratio ${l1Ratio}: alphas 1e-15, zero coefficients, zero gaps, as sklearn`, () => {
          for (const solver of ['cd', 'fista'] as const) {
            const r = linear.path(be, XX, yy, { n, d, nAlphas: 4, l1Ratio, solver });
            expect(Array.from(r.alphas)).toEqual([1e-15, 1e-15, 1e-15, 1e-15]);
            for (const c of r.coefs) expect(Array.from(c)).toEqual([0, 0, 0]);
            expect(Array.from(r.dualGaps)).toEqual([0, 0, 0, 0]);
            expect(r.converged).toEqual([true, true, true, true]);
          }
        });
      }
    }
  });

  describe('3: an extra "__proto__" key in a state dict is refused as unexpected, by every Module', () => {
    it('GPT and Sequential refuse it (from JSON.parse and as a safetensors tensor name); nothing changes', () => {
      const g = new nn.GPT(be, SMALL);
      const sd = g.stateDict();
      const before = snapshot(g);
      const evil = JSON.parse('{"__proto__": [1, 2, 3]}') as Record<string, Float32Array>;
      const withProto = { ...sd, ...evil };
      expect(Object.keys(withProto)).toContain('__proto__');
      expect(() => g.loadStateDict(withProto)).toThrow(/unexpected key\(s\) '__proto__'/);
      expectUnchanged(g, before);

      // as a tensor name in a file
      const bytes = safetensors.save({ ...Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, { shape: [v.length], data: v }])), ...JSON.parse('{"__proto__": {"shape": [1], "data": [0]}}') });
      const loaded = safetensors.load(bytes).tensors;
      expect(Object.keys(loaded)).toContain('__proto__');
      const flat = Object.fromEntries(Object.entries(loaded).map(([k, t]) => [k, t.data]));
      expect(() => g.loadStateDict(flat)).toThrow(/unexpected key\(s\) '__proto__'/);
      expectUnchanged(g, before);

      const seq = new nn.Sequential(new nn.Linear(be, 2, 2, { seed: 1 }));
      expect(() => seq.loadStateDict({ ...seq.stateDict(), ...evil })).toThrow(/unexpected key\(s\) '__proto__'/);
      g.dispose(); seq.dispose();
    });
  });

  describe('4: a tiny temperature is the greedy limit', () => {
    it('temperatures 5e-324, 1e-300 and 0 give the same tokens, on both backends', () => {
      const g = new nn.GPT(be, SMALL);
      const greedy = Array.from(g.generate([1, 2], 6, { temperature: 0 }));
      expect(Array.from(g.generate([1, 2], 6, { temperature: 1e-300, seed: 4 }))).toEqual(greedy);
      expect(Array.from(g.generate([1, 2], 6, { temperature: 5e-324, seed: 4 }))).toEqual(greedy);
      expect(Array.from(g.generate([1, 2], 6, { temperature: Number.MIN_VALUE * 3, topK: 3 }))).toEqual(greedy);
      g.dispose();
    });
  });

  describe('6: NaN logits are an error, not token 0', () => {
    it('generate on a model with NaN weights throws saying which step, and restores train mode', () => {
      const g = new nn.GPT(be, SMALL);
      g.lm_head.weight.data.fill(NaN); // tied: the embedding too
      g.train();
      for (const temperature of [0, 1]) {
        expect(() => g.generate([1, 2], 3, { temperature })).toThrow(/GPT.generate: the model's logit 0 at new token 0 \(position 2\) is NaN, expected finite logits/);
      }
      expect(g.training).toBe(true);
      g.dispose();
    });
  });

  describe('7: unknown option keys are refused everywhere options come from the user', () => {
    it('generate, linear.fit / path, fit, the optimizers, the GPT config and its layers, schedules, safetensors.save, matmul, data, prior', async () => {
      const g = new nn.GPT(be, SMALL);
      const before = snapshot(g);
      expect(() => g.generate([1], 2, { top_k: 5 } as never)).toThrow(/GPT.generate: unknown option 'top_k' \(expected one of temperature, topK, seed, stop\)/);
      const X = Float32Array.from({ length: 20 }, (_, i) => Math.sin(i)), y = Float32Array.from({ length: 10 }, (_, i) => Math.cos(i));
      expect(() => linear.fit(be, X, y, { n: 10, d: 2, alpha: 0.1, max_iter: 5 } as never)).toThrow(/linear.fit: unknown option 'max_iter' \(expected one of maxIter, tol/);
      expect(() => linear.path(be, X, y, { n: 10, d: 2, n_alphas: 5 } as never)).toThrow(/linear.path: unknown option 'n_alphas'/);
      const lin = new nn.Linear(be, 2, 2, { seed: 1 });
      const opt = new optim.SGD(lin.parameters(), { lr: 0.1 });
      await expect(fit(lin, { x: X, y, n: 10, d: 2 } as never, { optimizer: opt, loss: 'mse', epochs: 1, batch_size: 4 } as never)).rejects.toThrow(/fit: unknown option 'batch_size'/);
      await expect(fit(lin, { x: X, y: Float32Array.from({ length: 20 }), n: 10, d: 2 }, { optimizer: opt, loss: 'mse', epochs: 1, earlyStopping: { patient: 3 } } as never))
        .rejects.toThrow(/fit: earlyStopping: unknown option 'patient' \(expected one of patience, minDelta, restoreBest, monitor\)/);
      expect(() => new optim.AdamW(lin.parameters(), { weight_decay: 0.1 } as never)).toThrow(/unknown option 'weight_decay'/);
      expect(() => new nn.GPT(be, { ...SMALL, n_layer: 2 } as never)).toThrow(/GPT: unknown config key 'n_layer'/);
      expect(() => new nn.Linear(be, 2, 2, { seeds: 1 } as never)).toThrow(/Linear: unknown option 'seeds' \(expected one of seed, bias\)/);
      expect(() => new nn.Dropout(0.1, { sed: 1 } as never)).toThrow(/Dropout: unknown option 'sed'/);
      expect(() => new nn.Embedding(be, 3, 2, { sd: 1 } as never)).toThrow(/Embedding: unknown option 'sd'/);
      expect(() => new nn.LayerNorm(be, 3, { epsilon: 1 } as never)).toThrow(/LayerNorm: unknown option 'epsilon'/);
      expect(() => new nn.Block(be, 8, 2, { drop: 0.1 } as never)).toThrow(/Block: unknown option 'drop'/);
      expect(() => new StepLR(opt, { stepSize: 2, gama: 0.5 } as never)).toThrow(/StepLR: unknown option 'gama'/);
      expect(() => new ExponentialLR(opt, { gamma: 0.5, last_epoch: 0 } as never)).toThrow(/ExponentialLR: unknown option 'last_epoch'/);
      expect(() => new CosineAnnealingLR(opt, { T_max: 3 } as never)).toThrow(/CosineAnnealingLR: unknown option 'T_max'/);
      expect(() => new LinearLR(opt, { total_iters: 3 } as never)).toThrow(/LinearLR: unknown option 'total_iters'/);
      expect(() => new LinearWarmup(opt, { steps: 3, warmup: 1 } as never)).toThrow(/LinearWarmup: unknown option 'warmup'/);
      expect(opt.paramGroups[0]!.initialLr).toBeUndefined(); // refused before the schedule touched the optimizer
      expect(() => safetensors.save(g, { meta: {} } as never)).toThrow(/safetensors.save: unknown option 'meta' \(expected one of metadata\)/);
      expect(() => be.matmul(lin.weight, lin.weight, { transpose: true } as never)).toThrow(/matmul: unknown option 'transpose'/);
      const q = be.zeros([2, 6]), r = be.rng(1);
      expect(() => be.causalAttention(q, 1, 2, 1, { p: 0.1, rng: r, seed: 2 } as never)).toThrow(/causalAttention dropout: unknown option 'seed' \(expected one of p, rng\)/);
      q.dispose(); r.dispose();
      const out = be.zeros([2, 2]);
      expect(() => be.kernels.matmul(out, lin.weight, lin.weight, { trans_b: true } as never)).toThrow(/matmul: unknown option 'trans_b'/);
      expect(() => loadDigits({ normalise: true } as never)).toThrow(/loadDigits: unknown option 'normalise'/);
      expect(() => loadDiabetes({ scaled: true } as never)).toThrow(/loadDiabetes: unknown option 'scaled'/);
      expect(() => trainTestSplit(10, { test_size: 0.5 } as never)).toThrow(/trainTestSplit: unknown option 'test_size'/);
      expect(() => prior.gaussian(1, { noise: 2 } as never)).toThrow(/prior.gaussian: unknown option 'noise'/);
      await expect(loadBackend(be.kind, { thread: 2 } as never)).rejects.toThrow(/loadBackend: unknown option 'thread'/);
      expectUnchanged(g, before);
      g.dispose(); lin.dispose(); out.dispose();
    });
  });

  describe('8: configureOptimizers needs weightDecay; safetensors.save refuses values beyond float32 and non-plain sources', () => {
    it('configureOptimizers({}) and ({ lr }) are refused, as the message says', () => {
      const g = new nn.GPT(be, SMALL);
      expect(() => g.configureOptimizers({} as never)).toThrow(/configureOptimizers: weightDecay is required/);
      expect(() => g.configureOptimizers({ lr: 1e-3 } as never)).toThrow(/configureOptimizers: weightDecay is required/);
      expect(() => g.configureOptimizers({ weightDecay: -1 })).toThrow(/configureOptimizers: weightDecay: expected a finite number ≥ 0, got -1/);
      expect(g.configureOptimizers({ weightDecay: 0.1 }).paramGroups.map((p) => p.weightDecay)).toEqual([0.1, 0]);
      g.dispose();
    });
    it('save refuses 1e39 (finite, beyond float32) and a Map; keeps NaN and ±Infinity that were given', () => {
      expect(() => safetensors.save({ a: { shape: [2], data: [1, 1e39] } })).toThrow(/"a": data\[1\]: expected a value within float32's range \(±3.4028235e38\), got 1e\+39/);
      expect(() => safetensors.save({ a: { shape: [1], data: [-3.5e38] } })).toThrow(/expected a value within float32's range \(±3.4028235e38\), got -3.5e\+38/);
      const t = be.tensor([1], [2]);
      expect(() => safetensors.save(new Map([['a', t]]) as never)).toThrow(/expected a Module or a plain object .* got an object \(Map\) \(pass Object.fromEntries\(map\)\)/);
      const back = safetensors.load(safetensors.save({ a: { shape: [3], data: [NaN, Infinity, 3.4028234663852886e38] }, b: t })).tensors;
      expect(Array.from(back.a!.data)).toEqual([NaN, Infinity, 3.4028234663852886e38]);
      expect(Array.from(back.b!.data)).toEqual([2]);
      t.dispose();
    });
  });

  describe('13: clear messages', () => {
    it('a dtype named after an Object.prototype member is reported under rule "dtype"', () => {
      for (const dtype of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
        const h = `{"a":{"dtype":${JSON.stringify(dtype)},"shape":[1],"data_offsets":[0,4]}}`;
        const b = new TextEncoder().encode(h);
        const bytes = new Uint8Array(8 + b.length + 4);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(b.length), true);
        bytes.set(b, 8);
        let err: unknown;
        try { safetensors.load(bytes); } catch (e) { err = e; }
        expect(err).toBeInstanceOf(SafetensorsError);
        expect((err as SafetensorsError).rule).toBe('dtype');
        expect((err as Error).message).toContain(`expected dtype F32, F64, F16 or BF16, got ${JSON.stringify(dtype)}`);
      }
    });
    it('maxNewTokens is bounded by 2^24 before anything runs', () => {
      const g = new nn.GPT(be, SMALL);
      expect(() => g.generate([1], 2 ** 53 - 1)).toThrow(/maxNewTokens \(one forward per token\): expected an integer in \[0, 16777216\], got 9007199254740991/);
      expect(() => g.generate([1], 2 ** 31)).toThrow(/got 2147483648/);
      expect(() => g.generate([1], 2 ** 24 + 1)).toThrow(/got 16777217/);
      g.dispose();
    });
    it('tied copies holding -0 and 0 are reported with their signs (the tie is bitwise)', () => {
      const g = new nn.GPT(be, SMALL);
      const before = snapshot(g);
      const sd = g.stateDict();
      const wte = sd['transformer.wte.weight']!, head = sd['lm_head.weight']!.slice();
      wte[0] = -0; head[0] = 0;
      expect(() => g.loadStateDict({ ...sd, 'transformer.wte.weight': wte, 'lm_head.weight': head }))
        .toThrow(/differ at index 0 \(-0 vs 0: equal as numbers, but a tie is one tensor, so the bits must match\)/);
      expectUnchanged(g, before);
      g.dispose();
    });
  });

  describe('14: causalAttention refuses an RNG of another backend (the one dropout rule)', () => {
    it('a foreign Rng never reaches the kernel and is left as it was', () => {
      const other = be === wasm ? js : wasm;
      const rng = other.rng(7);
      const state = rng.state();
      const qkv = be.tensor([4, 6], Array.from({ length: 24 }, (_, i) => Math.sin(i)));
      expect(() => be.causalAttention(qkv, 1, 4, 1, { p: 0.5, rng })).toThrow(/causalAttention dropout: the RNG belongs to another backend \(\w+\) than this one/);
      expect(Array.from(rng.state())).toEqual(Array.from(state));
      expect(() => be.dropout(qkv, 0.5, rng)).toThrow(/dropout: the RNG belongs to another backend/);
      rng.dispose(); qkv.dispose();
    });
  });
});

describe('5: CharTokenizer refuses a sparse vocabulary', () => {
  it('a hole is named, not read as "undefined"', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(() => new CharTokenizer([, 'a'] as string[])).toThrow(/CharTokenizer: vocabulary entry 0: expected a single character, got a hole \(a sparse array\)/);
    // eslint-disable-next-line no-sparse-arrays
    expect(() => new CharTokenizer(['a', , 'b'] as string[])).toThrow(/entry 1: .*a hole/);
    expect(() => new CharTokenizer(['a', undefined as never])).toThrow(/entry 1: expected a single character, got undefined/);
    expect(new CharTokenizer(['a', 'b']).decode([1, 0])).toBe('ba');
  });
});
