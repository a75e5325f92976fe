/**
 * fitText (src/train/fit-text.ts): nanoGPT's loop on the library's pieces; the same bits as the
 * loop written by hand and on both backends; abort, yield, callbacks; bad options.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mulberry32, WarmupCosineLR, fitText, getBatch, nn, textCorpus, type Backend } from '../src/index.js';
import { loadBoth, pageFrames } from './helpers.js';

let wasm: Backend, js: Backend;
beforeAll(async () => { ({ wasm, js } = await loadBoth()); });
afterAll(() => { wasm.dispose(); js.dispose(); });

const TEXT = 'the quick brown fox jumps over the lazy dog. '.repeat(12) + 'a stitch in time saves nine; '.repeat(8);
const corpus = textCorpus(TEXT, { blockSize: 16 });
const CFG = { vocabSize: corpus.tokenizer.size, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16, bias: false, dropout: 0, seed: 3 };

function setup(be: Backend) {
  const gpt = new nn.GPT(be, CFG);
  const opt = gpt.configureOptimizers({ lr: 3e-3, betas: [0.9, 0.99], weightDecay: 0.1 });
  const sched = new WarmupCosineLR(opt, { warmupIters: 3, decayIters: 20, minLr: 3e-4 });
  return { gpt, opt, sched, done: () => { opt.dispose(); gpt.dispose(); } };
}

const weights = (gpt: nn.GPT) => Object.values(gpt.stateDict()).map((a) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)));

describe('fitText', () => {
  it('is the loop written by hand (getBatch, loss, backward, clipGradNorm, step, schedule) bit for bit, on both backends', async () => {
    const runs = [];
    for (const be of [wasm, js]) {
      const a = setup(be);
      const r = await fitText(a.gpt, corpus, { optimizer: a.opt, scheduler: a.sched, steps: 12, batchSize: 4, clipGradNorm: 0.5, evalEvery: 5, seed: 9 });
      expect(r.stopReason).toBe('steps');
      expect(r.step).toBe(12);
      expect(r.history.map((h) => h.step)).toEqual([0, 5, 10, 12]);
      // by hand
      const b = setup(be);
      const g = new Mulberry32(9);
      let last = NaN;
      for (let i = 0; i < 12; i++) {
        const { x, y } = getBatch(corpus.train, 16, 4, () => g.next());
        b.opt.zeroGrad();
        const loss = be.crossEntropy(b.gpt.forward(x, [4, 16]), y);
        last = loss.item();
        loss.backward();
        nn.utils.clipGradNorm(b.gpt.parameters(), 0.5);
        b.opt.step();
        b.sched.step();
      }
      expect(weights(a.gpt)).toEqual(weights(b.gpt));
      expect(r.lastLoss).toBe(last);
      expect(r.sampler.state).toBe(g.state);
      expect(r.history[0]!.valLoss).toBeGreaterThan(r.history[3]!.valLoss);
      runs.push({ w: weights(a.gpt), h: r.history });
      a.done(); b.done();
    }
    expect(runs[0]!.w).toEqual(runs[1]!.w);
    expect(runs[0]!.h).toEqual(runs[1]!.h);
  });

  it('calls onStep after each step, stops at an abort between steps, and yields to the event loop', async () => {
    const a = setup(wasm);
    const ctl = new AbortController();
    const logs: number[] = [];
    const seen: number[] = [];
    const page = pageFrames(); // ticks once per yield (test/helpers.ts)
    const r = await fitText(a.gpt, corpus, {
      optimizer: a.opt, steps: 50, batchSize: 2, yieldEvery: 0, signal: ctl.signal,
      onStep: (log) => { logs.push(log.step); seen.push(page.ticks); expect(log.lr).toBe(a.opt.paramGroups[0]!.lr); if (log.step === 4) ctl.abort(); },
    }).finally(() => page.stop());
    expect(r.stopReason).toBe('aborted');
    expect(r.step).toBe(4);
    expect(logs).toEqual([1, 2, 3, 4]);
    expect(seen).toEqual([0, 1, 2, 3]); // yieldEvery 0: the page had a frame after every step
    a.done();
  });

  it('a Stop clicked at a frame ends training before the next step; yieldMs is yieldEvery\'s former name', async () => {
    for (const o of [{ yieldEvery: 0 }, { yieldMs: 0 }]) {
      const a = setup(js);
      const ctl = new AbortController();
      let steps = 0, atAbort = -1;
      const page = pageFrames(() => { if (steps >= 3 && atAbort < 0) { atAbort = steps; ctl.abort(); } });
      const r = await fitText(a.gpt, corpus, { optimizer: a.opt, steps: 50, batchSize: 2, signal: ctl.signal, ...o, onStep: () => { steps++; } })
        .finally(() => page.stop());
      expect(atAbort).toBe(3);
      expect(r.stopReason).toBe('aborted');
      expect(r.step).toBe(3);
      a.done();
    }
  });

  it('stops on a non-finite loss without stepping on it', async () => {
    const a = setup(js);
    const before = weights(a.gpt);
    a.gpt.ln_f.weight!.data.fill(Infinity);
    const r = await fitText(a.gpt, corpus, { optimizer: a.opt, steps: 5 });
    expect(r.stopReason).toBe('diverged');
    expect(r.step).toBe(0);
    expect(weights(a.gpt).filter((w, i) => JSON.stringify(w) !== JSON.stringify(before[i])).length).toBe(1); // only ln_f, by hand
    a.done();
  });

  it('rejects bad options before any step', async () => {
    const a = setup(js);
    const before = weights(a.gpt);
    const base = { optimizer: a.opt, steps: 3 };
    const cases: [unknown, unknown, RegExp][] = [
      [corpus, { ...base, optimizer: {} }, /options.optimizer: expected an optimizer/],
      [corpus, { ...base, steps: -1 }, /options.steps: expected an integer ≥ 0, got -1/],
      [corpus, { ...base, batchSize: 0 }, /options.batchSize: expected an integer ≥ 1/],
      [corpus, { ...base, clipGradNorm: -1 }, /clipGradNorm: expected a number ≥ 0/],
      [corpus, { ...base, evalEvery: 0 }, /evalEvery: expected an integer ≥ 1/],
      [{ train: corpus.train }, { ...base, evalEvery: 2 }, /evalEvery needs data.val/],
      [{ train: corpus.train.subarray(0, 10) }, base, /getBatch: the stream has 10 tokens, shorter than one window of blockSize \+ 1 = 17/],
      [corpus, { ...base, onStep: 3 }, /onStep: expected a function/],
      [corpus, { ...base, yieldEvery: -1 }, /fitText: options\.yieldEvery \(milliseconds between yields\): expected a number ≥ 0, got -1/],
      [corpus, { ...base, yieldMs: NaN }, /fitText: options\.yieldMs \(milliseconds between yields\): expected a finite number, got NaN/],
      [corpus, { ...base, yieldEvery: 5, yieldMs: 5 }, /give options\.yieldEvery or its former name yieldMs, not both/],
      [corpus, { ...base, signal: {} }, /options.signal: expected an AbortSignal/],
      [corpus, { ...base, sampler: 5 }, /options.sampler: expected a Mulberry32/],
      [corpus, { ...base, scheduler: new WarmupCosineLR(setup(js).opt, { warmupIters: 1, decayIters: 3, minLr: 0 }) }, /scheduler: expected a schedule made for options.optimizer/],
    ];
    for (const [data, o, re] of cases) {
      await expect(fitText(a.gpt, data as never, o as never)).rejects.toThrow(re);
      expect(weights(a.gpt)).toEqual(before);
    }
    a.done();
  });
});
