/**
 * GPT files and checkpoints (src/io/checkpoint.ts): the model back from the file alone, and
 * train 100 steps, save, resume in fresh objects, train 100 more == train 200, bit for bit,
 * on both backends; bad files change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mulberry32, WarmupCosineLR, fitText, loadGPT, nn, resumeCheckpoint, safetensors, saveCheckpoint, saveGPT, textCorpus, type Backend } from '../src/index.js';
import { loadBoth } from './helpers.js';

let wasm: Backend, js: Backend;
beforeAll(async () => { ({ wasm, js } = await loadBoth()); });
afterAll(() => { wasm.dispose(); js.dispose(); });

const TEXT = 'to be, or not to be, that is the question: whether \u2019tis nobler in the mind to suffer. '.repeat(10);
const corpus = textCorpus(TEXT, { blockSize: 16 });
const CFG = { vocabSize: corpus.tokenizer.size, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16, bias: false, dropout: 0, seed: 11 };

/** The recipe: a GPT, nanoGPT's AdamW groups and schedule (fresh objects each call). */
function recipe(be: Backend) {
  const gpt = new nn.GPT(be, CFG);
  const optimizer = gpt.configureOptimizers({ lr: 2e-3, betas: [0.9, 0.99], weightDecay: 0.1 });
  const scheduler = new WarmupCosineLR(optimizer, { warmupIters: 10, decayIters: 150, minLr: 2e-4 });
  return { gpt, optimizer, scheduler, done: () => { optimizer.dispose(); gpt.dispose(); } };
}
const OPTS = { batchSize: 4, clipGradNorm: 1.0, evalEvery: 50 };
const bitsOf = (sd: Record<string, Float32Array>) => Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length))]));

describe('checkpoints', () => {
  it('train 100, save, resume into fresh objects, train 100 more == train 200, bit for bit, on wasm and js', async () => {
    const finals = [];
    for (const be of [wasm, js]) {
      const a = recipe(be);
      const full = await fitText(a.gpt, corpus, { ...OPTS, optimizer: a.optimizer, scheduler: a.scheduler, steps: 200, seed: 4 });

      const b = recipe(be);
      const first = await fitText(b.gpt, corpus, { ...OPTS, optimizer: b.optimizer, scheduler: b.scheduler, steps: 100, seed: 4 });
      const bytes = saveCheckpoint({ gpt: b.gpt, tokenizer: corpus.tokenizer, optimizer: b.optimizer, scheduler: b.scheduler, step: first.step, sampler: first.sampler });
      b.done();

      const c = recipe(be === wasm ? wasm : js);
      const r = resumeCheckpoint(bytes, c);
      expect(r.step).toBe(100);
      expect(r.tokenizer!.vocab).toEqual(corpus.tokenizer.vocab);
      const second = await fitText(c.gpt, corpus, { ...OPTS, optimizer: c.optimizer, scheduler: c.scheduler, steps: 100, startStep: r.step, sampler: r.sampler });

      expect(second.step).toBe(200);
      expect(bitsOf(c.gpt.stateDict())).toEqual(bitsOf(a.gpt.stateDict()));
      expect(c.optimizer.paramGroups.map((g) => g.lr)).toEqual(a.optimizer.paramGroups.map((g) => g.lr));
      expect(c.scheduler.lastEpoch).toBe(200);
      expect(second.lastLoss).toBe(full.lastLoss);
      expect(second.history.map((h) => [h.step, h.valLoss])).toEqual(full.history.filter((h) => h.step >= 100).map((h) => [h.step, h.valLoss]));
      expect(second.sampler.state).toBe(full.sampler.state);
      // the optimizer's moments too
      const sa = a.optimizer.stateDict().state, sc = c.optimizer.stateDict().state;
      expect(Object.keys(sc)).toEqual(Object.keys(sa));
      for (const k of Object.keys(sa)) {
        expect(sc[Number(k)]!.step).toBe(sa[Number(k)]!.step);
        expect(Array.from(sc[Number(k)]!.expAvgSq!)).toEqual(Array.from(sa[Number(k)]!.expAvgSq!));
      }
      finals.push(bitsOf(a.gpt.stateDict()));
      a.done(); c.done();
    }
    expect(finals[0]).toEqual(finals[1]);
  });

  it('builds the GPT back from a saveGPT file alone: configuration, weights, tokenizer', () => {
    const a = recipe(wasm);
    const bytes = saveGPT(a.gpt, { tokenizer: corpus.tokenizer });
    const meta = safetensors.load(bytes).metadata;
    expect(JSON.parse(meta['regula.gpt']!)).toEqual({ ...CFG, tieWeights: true });
    for (const be of [wasm, js]) {
      const { gpt, tokenizer } = loadGPT(be, bytes);
      expect(gpt.config).toEqual(a.gpt.config);
      expect(bitsOf(gpt.stateDict())).toEqual(bitsOf(a.gpt.stateDict()));
      expect(tokenizer!.decode(tokenizer!.encode('to be'))).toBe('to be');
      expect(Array.from(gpt.generate(corpus.tokenizer.encode('to '), 10, { temperature: 0 })))
        .toEqual(Array.from(a.gpt.generate(corpus.tokenizer.encode('to '), 10, { temperature: 0 })));
      gpt.dispose();
    }
    // a checkpoint is a GPT file too
    const ck = saveCheckpoint({ gpt: a.gpt, optimizer: a.optimizer, step: 0, sampler: new Mulberry32(1) });
    const back = loadGPT(js, ck);
    expect(bitsOf(back.gpt.stateDict())).toEqual(bitsOf(a.gpt.stateDict()));
    expect(back.tokenizer).toBeNull();
    back.gpt.dispose();
    a.done();
  });

  it('refuses tampered files and mismatched objects with a clear error, changing nothing', async () => {
    const a = recipe(js);
    await fitText(a.gpt, corpus, { ...OPTS, evalEvery: undefined, optimizer: a.optimizer, scheduler: a.scheduler, steps: 3, seed: 1 });
    const good = saveCheckpoint({ gpt: a.gpt, tokenizer: corpus.tokenizer, optimizer: a.optimizer, scheduler: a.scheduler, step: 3, sampler: new Mulberry32(5) });
    /** The file with its metadata and tensors edited. */
    const edit = (f: (meta: Record<string, string>, tensors: Record<string, { shape: number[]; data: Float32Array }>) => void) => {
      const file = safetensors.load(good);
      const tensors = Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.data) }]));
      const meta = { ...file.metadata };
      f(meta, tensors);
      return safetensors.save(tensors, { metadata: meta });
    };
    const big = edit((m) => { m['regula.gpt'] = JSON.stringify({ ...CFG, nEmbd: 4096 }); });
    const live = js.memory().liveTensors;
    expect(() => loadGPT(js, big)).toThrow(/the configuration .* says transformer.wte.weight is \[\d+, 4096\], the file holds \[\d+, 16\]/);
    expect(js.memory().liveTensors).toBe(live);
    expect(() => loadGPT(js, edit((m) => { delete m['regula.gpt']; }))).toThrow(/the file has no "regula.gpt" metadata/);
    expect(() => loadGPT(js, edit((m) => { m['regula.gpt'] = '{'; }))).toThrow(/"regula.gpt" is not JSON/);
    expect(() => loadGPT(js, edit((m) => { m['tokenizer.vocab'] = '["a"]'; }))).toThrow(/the tokenizer has 1 characters, the model's vocabSize is/);

    const b = recipe(js);
    const snapshot = () => JSON.stringify([bitsOf(b.gpt.stateDict()), b.optimizer.paramGroups.map((g) => g.lr), b.scheduler.lastEpoch, Object.keys(b.optimizer.stateDict().state).length]);
    const before = snapshot();
    const bad: [Uint8Array, RegExp][] = [
      [edit((m) => { m['regula.step'] = '-1'; }), /"regula.step": expected an iteration count, got "-1"/],
      [edit((m) => { m['regula.sampler'] = '4294967296'; }), /"regula.sampler": expected a uint32 state/],
      [edit((_, t) => { t['optimizer.0.expAvgSq']!.data[0] = -1; }), /expAvgSq/],
      [edit((_, t) => { t['optimizer.0.expAvg']!.data = new Float32Array(3); t['optimizer.0.expAvg']!.shape = [3]; }), /expAvg/],
      [edit((_, t) => { t['optimizer.99.expAvg'] = { shape: [1], data: new Float32Array(1) }; }), /optimizer.99.expAvg.*expected optimizer.<index>.<buffer> of a parameter with a step count/],
      [edit((m) => { m['regula.scheduler'] = JSON.stringify({ lastEpoch: -2, lastLr: [1, 1] }); }), /WarmupCosineLR.loadStateDict lastEpoch/],
      [edit((m) => { delete m['regula.scheduler']; }), /has no schedule state, and a scheduler was given/],
    ];
    for (const [bytes, re] of bad) {
      expect(() => resumeCheckpoint(bytes, b)).toThrow(re);
      expect(snapshot()).toBe(before);
    }
    const other = new nn.GPT(js, { ...CFG, nLayer: 1 });
    const otherOpt = other.configureOptimizers({ lr: 1e-3, weightDecay: 0 });
    expect(() => resumeCheckpoint(good, { gpt: other, optimizer: otherOpt })).toThrow(/the checkpoint's model has nLayer 2, this one 1/);
    resumeCheckpoint(good, b); // the good file loads
    expect(snapshot()).not.toBe(before);
    otherOpt.dispose(); other.dispose(); a.done(); b.done();
  });
});
