/**
 * Experiment 8's pieces (examples/experiments/gpt-names.ts) and the demo's attention maps
 * (examples/demo/attention.ts): the pipeline gives the same bits on wasm and js (its
 * batches and evaluation are the library's getBatch and estimateLoss, test/text.test.ts), the
 * float64 forward that draws the attention map reproduces the model's logits, and the
 * verdict follows from its figures.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { estimateLoss, loadBackend, nn, type Backend } from '../src/index.js';
import { GPT_SHAPE, GptTrainer, MODELS, gptVerdict, namesCorpus, sampleNames, trainModel, type ModelRow, type NamesCorpus } from '../examples/experiments/gpt-names.js';
import { trainModels } from '../examples/experiments/gpt-names-experiment.js';
import { attentionMaps, erf } from '../examples/demo/attention.js';

let wasm: Backend, js: Backend;
let corpus: NamesCorpus;

beforeAll(async () => {
  wasm = await loadBackend('wasm');
  js = await loadBackend('js');
  corpus = namesCorpus();
});

const bits = (xs: number[]) => Array.from(new Uint32Array(Float32Array.from(xs).buffer));

describe('names corpus as token streams', () => {
  it('the small training stream and the validation stream of the split rule', () => {
    expect(corpus.tokenizer.size).toBe(28);
    expect(corpus.train.length).toBe(17891);
    expect(corpus.val.length).toBe(5887);
    expect(corpus.trainNames.size).toBe(2528);
    expect(corpus.valNames.size).toBe(842);
    expect(corpus.train[corpus.train.length - 1]).toBe(0); // the final "\n"
    for (const n of corpus.valNames) expect(corpus.trainNames.has(n)).toBe(false);
  });
});

describe('the experiment pipeline on wasm and js', () => {
  it('gives the same bits on both backends: batch losses, validation loss and sampled names (dropout and decay on)', () => {
    const reg = MODELS[3]!;
    const run = (be: Backend) => {
      const t = new GptTrainer(be, reg, corpus);
      try {
        const losses = [];
        for (let s = 0; s < 3; s++) losses.push(t.step());
        const val = estimateLoss(t.gpt, corpus.val.subarray(0, 33 * 20));
        const names = sampleNames(t.gpt, corpus.tokenizer, 4, 5, 0.8);
        const w = Array.from(t.gpt.stateDict()['transformer.h.1.mlp.c_fc.weight']!.subarray(0, 64));
        return { losses, val, names, w };
      } finally {
        t.dispose();
      }
    };
    const a = run(wasm), b = run(js);
    expect(bits(a.losses)).toEqual(bits(b.losses));
    expect(a.val).toBe(b.val);
    expect(a.names).toEqual(b.names);
    expect(bits(a.w)).toEqual(bits(b.w));
    expect(a.losses.every((l) => Number.isFinite(l) && l > 2 && l < 4)).toBe(true);
  });

  it('sampleNames returns whole names of the vocabulary, seeded', () => {
    const t = new GptTrainer(wasm, MODELS[0]!, corpus);
    try {
      const a = sampleNames(t.gpt, corpus.tokenizer, 6, 1);
      expect(a.length).toBe(6);
      expect(a.every((n) => !n.includes('\n') && /^[a-z-]*$/.test(n))).toBe(true);
      expect(sampleNames(t.gpt, corpus.tokenizer, 6, 1)).toEqual(a);
      expect(sampleNames(t.gpt, corpus.tokenizer, 6, 2)).not.toEqual(a);
    } finally {
      t.dispose();
    }
  });
});

describe('the parallel runner of npm start (worker threads)', () => {
  /** A row without what depends on where and how fast it ran. */
  const figures = ({ seconds: _s, tokensPerSecond: _t, backend: _b, threads: _n, ...rest }: ModelRow) => rest;

  it('gives the rows of trainModel in this thread, bit for bit: wasm workers on one thread each against wasm here on every core', async () => {
    const models = [MODELS[0]!, MODELS[3]!];
    const steps = 2;
    const here = models.map((reg) => trainModel(wasm, corpus, reg, steps));
    const heard: [number, number, number][] = [];
    const there = await trainModels('wasm', models, steps, (i, step, valLoss) => heard.push([i, step, valLoss]), 2);
    expect(there.map(figures)).toEqual(here.map(figures));
    expect(there.map((r) => [r.backend, r.threads])).toEqual([['wasm', 1], ['wasm', 1]]);
    expect(here[0]!.threads).toBe(wasm.info().threads);
    // every validation point was reported as it came, per model in step order
    for (const [i, row] of here.entries()) {
      expect(heard.filter((h) => h[0] === i).map((h) => [h[1], h[2]])).toEqual(row.curve.map((c) => [c.step, c.valLoss]));
    }
    expect(here[0]!.finalValLoss).not.toBe(here[1]!.finalValLoss); // the two models differ
    expect(wasm.memory().liveTensors).toBe(0);
  }, 120_000);

  it("rejects with the worker's error, naming the model", async () => {
    await expect(trainModels('wasm', [MODELS[0]!, { name: 'bad', dropout: 1.5, weightDecay: 0 }], 1, undefined, 2))
      .rejects.toThrow(/experiment 8, model bad: .*dropout/);
    await expect(trainModels('wasm', MODELS, 1, undefined, 0)).rejects.toThrow(/concurrency as an integer ≥ 1, got 0/);
  }, 120_000);
});

describe('attention maps (float64 forward from the state dict)', () => {
  it('erf matches known values', () => {
    for (const [x, v] of [[0, 0], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [-1.5, -0.9661051464753108], [2.5, 0.999593047982555], [3, 0.9999779095030014], [5, 0.9999999999984626]] as const) {
      expect(Math.abs(erf(x) - v)).toBeLessThan(1e-15);
    }
  });

  /** The experiment's model after a few steps (weights away from their initialisation). */
  let trained: Record<string, Float32Array>;
  beforeAll(() => {
    const t = new GptTrainer(wasm, MODELS[0]!, corpus);
    try {
      for (let s = 0; s < 4; s++) t.step();
      trained = t.gpt.stateDict();
    } finally {
      t.dispose();
    }
  });

  for (const cfg of [{ bias: true, tieWeights: true, nLayer: 2, nHead: 4 }, { bias: false, tieWeights: false, nLayer: 1, nHead: 2 }]) {
    it(`reproduces the model's logits, rows sum to 1, zero above the diagonal (bias ${cfg.bias}, tied ${cfg.tieWeights})`, () => {
      const gpt = new nn.GPT(wasm, { vocabSize: 28, blockSize: 32, nEmbd: 64, dropout: 0, seed: 4, ...cfg });
      try {
        // weights away from their init: the experiment's model after a few steps, where the shapes fit
        const sd = gpt.stateDict();
        for (const k of Object.keys(sd)) if (trained[k] !== undefined && trained[k]!.length === sd[k]!.length) sd[k]!.set(trained[k]!);
        if (!cfg.tieWeights) sd['lm_head.weight']!.set(trained['lm_head.weight']!.map((v, i) => v + 0.01 * Math.sin(i)));
        gpt.loadStateDict(sd);
        const ids = corpus.tokenizer.encode('\nanne-marie');
        const T = ids.length;
        gpt.eval();
        const logits = Array.from(gpt.forward(ids, [1, T]).data);
        wasm.endStep();
        const ref = attentionMaps(gpt.stateDict(), { ...GPT_SHAPE, ...cfg, vocabSize: 28 }, ids);
        const scale = Math.max(...logits.map(Math.abs));
        logits.forEach((v, i) => expect(Math.abs(v - ref.logits[i]!), `logit ${i}`).toBeLessThan(1e-4 * scale));
        expect(ref.maps.length).toBe(cfg.nLayer);
        for (const layer of ref.maps) {
          expect(layer.length).toBe(cfg.nHead);
          for (const m of layer) {
            for (let i = 0; i < T; i++) {
              let row = 0;
              for (let j = 0; j < T; j++) {
                if (j > i) expect(m[i * T + j]).toBe(0);
                else expect(m[i * T + j]!).toBeGreaterThan(0);
                row += m[i * T + j]!;
              }
              expect(Math.abs(row - 1)).toBeLessThan(1e-12);
            }
            expect(m[0]).toBe(1); // the first position can only attend to itself
          }
        }
      } finally {
        gpt.dispose();
      }
    });
  }

  it('rejects a state dict of another shape and ids out of range', () => {
    const gpt = new nn.GPT(js, { vocabSize: 28, ...GPT_SHAPE, seed: 1 });
    try {
      const sd = gpt.stateDict();
      const shape = { ...GPT_SHAPE, vocabSize: 28 };
      expect(() => attentionMaps(sd, { ...shape, nEmbd: 32 }, [0, 1])).toThrow(/'transformer.wte.weight' has 1792 values, expected 896/);
      expect(() => attentionMaps(sd, shape, [0, 28])).toThrow(/token 1 is 28/);
      expect(() => attentionMaps(sd, shape, new Array(33).fill(0))).toThrow(/expected 1 to 32 tokens, got 33/);
      const { ['transformer.ln_f.weight']: _, ...missing } = sd;
      expect(() => attentionMaps(missing, shape, [0])).toThrow(/no 'transformer.ln_f.weight'/);
    } finally {
      gpt.dispose();
    }
  });
});

describe('gptVerdict', () => {
  const row = (model: string, bestValLoss: number, finalValLoss: number, gap: number) => ({ model, bestValLoss, finalValLoss, gap });
  it('holds only when the baseline overfits and every regularizer lowers the final loss and the gap', () => {
    const base = row('none', 2.2, 2.5, 0.6);
    const good = [row('a', 2.1, 2.15, 0.1), row('b', 2.2, 2.3, 0.3), row('c', 2.0, 2.05, 0.05)];
    expect(gptVerdict([base, ...good]).holds).toBe(true);
    const v1 = gptVerdict([base, good[0]!, row('b', 2.2, 2.6, 0.3), good[2]!]);
    expect(v1.holds).toBe(false);
    expect(v1.lowerVal).toEqual(['a', 'c']);
    expect(v1.detail).toMatch(/not with b/);
    const v2 = gptVerdict([base, good[0]!, row('b', 2.2, 2.3, 0.7), good[2]!]);
    expect([v2.holds, v2.smallerGap]).toEqual([false, ['a', 'c']]);
    const v3 = gptVerdict([row('none', 2.2, 2.2, 0.6), ...good]);
    expect([v3.holds, v3.overfits]).toEqual([false, false]);
    expect(v3.detail).toMatch(/does not overfit/);
    expect(() => gptVerdict([])).toThrow(/no rows/);
  });
});
