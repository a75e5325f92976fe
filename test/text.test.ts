/**
 * Text for language models (src/train/text.ts): nanoGPT's character corpus and split, the batch
 * windows, the exact loss over a whole stream; and the resumable mulberry32 behind them.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CharTokenizer, Mulberry32, estimateLoss, getBatch, nn, textCorpus, type Backend } from '../src/index.js';
import { mulberry32 } from '../src/core/rng.js';
import { loadBoth } from './helpers.js';

let wasm: Backend, js: Backend;
beforeAll(async () => { ({ wasm, js } = await loadBoth()); });
afterAll(() => { wasm.dispose(); js.dispose(); });

const SHAKESPEARE = readFileSync(new URL('../examples/data/tinyshakespeare/input.txt', import.meta.url), 'utf8');

describe('textCorpus', () => {
  it('Tiny Shakespeare: nanoGPT prepare.py\'s 65 characters and its split, 1,003,854 / 111,540', () => {
    const c = textCorpus(SHAKESPEARE, { blockSize: 64 });
    // prepare.py prints: all the unique characters: \n !$&',-.3:;?ABC...xyz, vocab size: 65,
    // train has 1,003,854 tokens, val has 111,540 tokens
    expect(c.tokenizer.vocab.join('')).toBe("\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    expect(c.train.length).toBe(1003854);
    expect(c.val.length).toBe(111540);
    expect(c.tokenizer.decode(c.train.subarray(0, 14))).toBe('First Citizen:');
    expect(c.tokenizer.decode(c.val)).toBe(SHAKESPEARE.slice(1003854));
  });

  it('counts and sorts code points as Python does: a surrogate pair is one character, sorted after U+FFxx', () => {
    // Python: sorted(set(t)) == ['a', 'b', '！', '😀'], len(t) == 7, int(7 * 0.9) == 6
    const t = 'ab😀！a😀b';
    const c = textCorpus(t);
    expect(c.tokenizer.vocab).toEqual(['a', 'b', '！', '😀']);
    expect(Array.from(c.train)).toEqual([0, 1, 3, 2, 0, 3]);
    expect(Array.from(c.val)).toEqual([1]);
    expect(c.tokenizer.decode([...c.train, ...c.val])).toBe(t);
    // a lone surrogate is a character of its own
    expect(textCorpus('x\uD800yx\uD800yxxxx').tokenizer.vocab).toEqual(['x', 'y', '\uD800']);
  });

  it('encodes with a given vocabulary, and the split follows trainFraction', () => {
    const tok = new CharTokenizer(['z', 'a', 'b']);
    const c = textCorpus('abab' + 'zzzzzz', { vocab: tok, trainFraction: 0.5 });
    expect(c.tokenizer).toBe(tok);
    expect(Array.from(c.train)).toEqual([1, 2, 1, 2, 0]);
    expect(Array.from(c.val)).toEqual([0, 0, 0, 0, 0]);
    expect(textCorpus('abba', { vocab: ['a', 'b'], trainFraction: 0.75 }).val.length).toBe(1);
  });

  it('says what is wrong with an empty text, a text shorter than a window, a foreign character, bad options', () => {
    expect(() => textCorpus('')).toThrow(/textCorpus: expected a non-empty text/);
    expect(() => textCorpus(42 as never)).toThrow(/expected the text as a string, got/);
    expect(() => textCorpus('a')).toThrow(/the training split has 0 of the text's 1 characters/);
    expect(() => textCorpus('x'.repeat(70), { blockSize: 64 })).toThrow(/the training split has 63 of the text's 70 characters \(trainFraction 0.9\), shorter than one window of blockSize \+ 1 = 65/);
    expect(() => textCorpus('x'.repeat(640), { blockSize: 64 })).toThrow(/the validation split has 64 .* shorter than one window of blockSize \+ 1 = 65/);
    expect(textCorpus('x'.repeat(650), { blockSize: 64 }).val.length).toBe(65);
    expect(() => textCorpus('abcé', { vocab: ['a', 'b', 'c'] })).toThrow(/character "é" at index 3 is not in the vocabulary of 3/);
    expect(() => textCorpus('abc', { trainFraction: 1 })).toThrow(/trainFraction: expected a fraction in \(0, 1\), got 1/);
    expect(() => textCorpus('abc', { blockSize: 0 })).toThrow(/blockSize: expected an integer ≥ 1, got 0/);
    expect(() => textCorpus('abc', { vocab: ['a', 'a'] })).toThrow(/repeats entry 0/);
  });
});

describe('getBatch', () => {
  it('fills x and y with windows of T + 1 consecutive tokens, y one ahead, inside the stream (property, seed 8)', () => {
    const seed = 8;
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 40 }), (s, B, T) => {
      const stream = Int32Array.from({ length: T + 1 + (s % 97) }, (_, i) => i);
      const { x, y } = getBatch(stream, T, B, mulberry32(s));
      expect(x.length).toBe(B * T);
      for (let b = 0; b < B; b++) {
        const o = x[b * T]!;
        expect(o).toBeGreaterThanOrEqual(0);
        expect(o + T).toBeLessThan(stream.length);
        for (let t = 0; t < T; t++) {
          expect(x[b * T + t]).toBe(o + t);
          expect(y[b * T + t]).toBe(o + t + 1);
        }
      }
    }), { seed });
  });

  it('takes offset ⌊u·(n − T)⌋ for each uniform in order (get_batch\'s randint(n − T)), both ends reachable', () => {
    const stream = Int32Array.from({ length: 10 }, (_, i) => 100 + i);
    const us = [0, 0.5, 0.999999, 0.3];
    let k = 0;
    const { x, y } = getBatch(stream, 3, 4, () => us[k++]!);
    expect(Array.from(x)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 102, 103, 104]);
    expect(Array.from(y)).toEqual([101, 102, 103, 104, 105, 106, 107, 108, 109, 103, 104, 105]);
  });

  it('rejects a stream shorter than a window, bad sizes, a bad next() and a wrong out before writing', () => {
    const out = { x: new Int32Array(6).fill(-7), y: new Int32Array(6).fill(-7) };
    const s = Int32Array.from([1, 2, 3]);
    expect(() => getBatch(s, 3, 2, Math.random, out)).toThrow(/getBatch: the stream has 3 tokens, shorter than one window of blockSize \+ 1 = 4/);
    expect(() => getBatch([1, 2, 3, 4] as never, 3, 2, Math.random, out)).toThrow(/expected the token stream as an Int32Array/);
    expect(() => getBatch(s, 0, 2, Math.random)).toThrow(/blockSize: expected an integer ≥ 1, got 0/);
    expect(() => getBatch(s, 2, 1.5, Math.random)).toThrow(/batchSize: expected an integer ≥ 1, got 1.5/);
    expect(() => getBatch(s, 2, 2, 7 as never)).toThrow(/expected next\(\) as a function/);
    expect(() => getBatch(s, 2, 2, Math.random, out)).toThrow(/two Int32Arrays of batchSize·blockSize = 4/);
    expect(() => getBatch(s, 2, 2, () => 1)).toThrow(/next\(\) returned 1, expected a uniform in \[0, 1\)/);
    expect(Array.from(out.x)).toEqual(Array(6).fill(-7));
  });
});

describe('estimateLoss', () => {
  const cfg = { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, bias: false, dropout: 0.2, seed: 5 };
  const stream = Int32Array.from({ length: 9 * 7 + 5 }, (_, i) => (i * 7 + (i >> 2)) % 11); // 7 whole windows and a partial one

  it('is the mean cross-entropy over every window of T + 1 tokens in eval mode, whatever the batching', () => {
    const gpt = new nn.GPT(wasm, cfg);
    try {
      const all = estimateLoss(gpt, stream);
      const one = estimateLoss(gpt, stream, { windowsPerBatch: 1 });
      const three = estimateLoss(gpt, stream, { windowsPerBatch: 3 });
      expect(Math.abs(all - one)).toBeLessThan(1e-6 * all);
      expect(Math.abs(all - three)).toBeLessThan(1e-6 * all);
      // by hand, in float64 from the logits: -log softmax of each target, averaged over 7·8 tokens
      gpt.eval();
      let sum = 0;
      for (let w = 0; w < 7; w++) {
        const x = stream.slice(w * 9, w * 9 + 8), y = stream.slice(w * 9 + 1, w * 9 + 9);
        const logits = gpt.forward(x, [1, 8]).data;
        for (let t = 0; t < 8; t++) {
          const row = Array.from(logits.subarray(t * 11, t * 11 + 11));
          const m = Math.max(...row);
          sum += Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) - (row[y[t]!]! - m);
        }
        wasm.endStep();
      }
      expect(Math.abs(all - sum / 56)).toBeLessThan(1e-6 * all);
      // the mode is restored: train before, train after; no gradient is kept
      gpt.train();
      estimateLoss(gpt, stream);
      expect(gpt.training).toBe(true);
      for (const p of gpt.parameters()) expect(p.grad!.data.every((v) => v === 0)).toBe(true);
    } finally {
      gpt.dispose();
    }
    expect(wasm.memory().liveTensors).toBe(0);
  });

  it('gives the same number on wasm and js', () => {
    const a = new nn.GPT(wasm, cfg), b = new nn.GPT(js, cfg);
    expect(Object.is(estimateLoss(a, stream), estimateLoss(b, stream))).toBe(true);
    a.dispose(); b.dispose();
  });

  it('rejects a stream shorter than a window and bad options', () => {
    const gpt = new nn.GPT(js, cfg);
    expect(() => estimateLoss(gpt, stream.subarray(0, 8))).toThrow(/estimateLoss: the stream has 8 tokens, shorter than one window of blockSize \+ 1 = 9/);
    expect(() => estimateLoss(gpt, stream, { windowsPerBatch: 0 })).toThrow(/windowsPerBatch: expected an integer ≥ 1/);
    expect(() => estimateLoss({} as never, stream)).toThrow(/expected an nn.GPT/);
    expect(() => estimateLoss(gpt, Int32Array.from({ length: 20 }, () => 11))).toThrow(/11/);
    expect(gpt.training).toBe(true);
    gpt.dispose();
  });
});

describe('Mulberry32', () => {
  it('is mulberry32 with its state in view: a fresh generator given the state continues the stream', () => {
    const f = mulberry32(77), g = new Mulberry32(77);
    for (let i = 0; i < 50; i++) expect(g.next()).toBe(f());
    const h = new Mulberry32(0);
    h.state = g.state;
    for (let i = 0; i < 50; i++) expect(h.next()).toBe(g.next());
  });
});
