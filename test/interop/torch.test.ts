/**
 * The round trip regula → safetensors → PyTorch (DistributedDataParallel, 2 processes, gloo on
 * CPU) → safetensors → regula, with examples/torch/regula_torch.py. Run by `npm run test:interop`;
 * needs Debian's python3-torch (skipped, saying so, without it; in CI a missing torch fails).
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CharTokenizer, WarmupCosineLR, fitText, loadBackend, loadGPT, loadNames, nn, optim, safetensors, saveCheckpoint, textCorpus, type Backend } from '../../src/index.js';
import { loadShakespeare } from '../../examples/experiments/shakespeare.js';
import { architectureOf } from '../../examples/torch/architecture.js';
import { digitsSplit } from '../../examples/experiments/digits.js';
import { HAVE_TORCH, IN_CI, PYTHON, TOL, torchCheck, torchSample, torchTrain } from './torch.js';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const skipReason = `python3-torch not installed (${PYTHON} cannot import torch; apt-get install python3-torch)`;
if (!HAVE_TORCH && !IN_CI) console.warn(`skipped: ${skipReason} — the PyTorch round trip did not run`);

describe.skipIf(!HAVE_TORCH && !IN_CI)('PyTorch round trip (examples/torch/regula_torch.py)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'regula-torch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('needs python3-torch', () => {
    if (!HAVE_TORCH) throw new Error(`CI needs torch: ${skipReason}`);
  });

  it.skipIf(!HAVE_TORCH)('MLP: regula → PyTorch logits within 1e-5 → 2-process DDP training → regula logits within 1e-5 of PyTorch\'s → regula keeps training', async () => {
    const be: Backend = await loadBackend('wasm');
    const d = digitsSplit();
    const build = (seed: number) => new nn.Sequential(new nn.Linear(be, 64, 64, { seed }), new nn.ReLU(), new nn.Dropout(0.1, { seed: 9 }), new nn.Linear(be, 64, 10, { seed: seed + 1 }));
    const model = build(1);
    const x = be.tensor([d.nTrain, 64], d.xTrain), xVal = be.tensor([d.nVal, 64], d.xVal);
    const labels = Int32Array.from(d.yTrain);
    const opt = new optim.AdamW(model.parameters(), { lr: 1e-2 });
    const step = (): number => {
      opt.zeroGrad();
      const loss = be.crossEntropy(model.forward(x), labels);
      const v = loss.item();
      loss.backward();
      opt.step();
      return v;
    };
    for (let i = 0; i < 20; i++) step();
    const logitsOf = (m: nn.Sequential): Float32Array => {
      m.eval();
      const l = m.forward(xVal).toFloat32Array();
      be.endStep();
      m.train();
      return l;
    };

    const modelPath = join(dir, 'mlp.safetensors'), dataPath = join(dir, 'mlp-data.safetensors');
    writeFileSync(modelPath, safetensors.save(model, { metadata: { 'regula.model': architectureOf(model) } }));
    writeFileSync(dataPath, safetensors.save({
      x: { shape: [d.nTrain, 64], data: d.xTrain }, y: { shape: [d.nTrain], data: Float32Array.from(d.yTrain) },
      'check.x': { shape: [d.nVal, 64], data: d.xVal }, 'check.logits': { shape: [d.nVal, 10], data: logitsOf(model) },
    }));
    const before = torchCheck(modelPath, dataPath);
    console.log(`MLP: PyTorch's logits vs regula's on ${d.nVal} rows: max |Δ| ${before.toExponential(2)}`);
    expect(before).toBeLessThanOrEqual(TOL);

    const t = torchTrain(dir, modelPath, dataPath, 40);
    console.log(t.log.trim().split('\n').filter((l) => /\bstep \d+ loss/.test(l)).join('\n'));
    const back = safetensors.load(readFileSync(t.out));
    expect(back.metadata['torch.world_size']).toBe('2');
    const again = build(5);
    again.loadStateDict(back.tensors);
    // PyTorch trained it: the weights moved
    expect(maxAbsDiff(again.parameters()[0]!.data, model.parameters()[0]!.data)).toBeGreaterThan(1e-4);
    const torchLogits = safetensors.load(readFileSync(t.logits)).tensors['logits']!;
    expect(torchLogits.shape).toEqual([d.nVal, 10]);
    const after = maxAbsDiff(logitsOf(again), torchLogits.data);
    console.log(`MLP after DDP training: regula's logits vs PyTorch's: max |Δ| ${after.toExponential(2)}`);
    expect(after).toBeLessThanOrEqual(TOL);

    // regula keeps training the model PyTorch wrote
    const opt2 = new optim.AdamW(again.parameters(), { lr: 1e-2 });
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) {
      opt2.zeroGrad();
      const loss = be.crossEntropy(again.forward(x), labels);
      losses.push(loss.item());
      loss.backward();
      opt2.step();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[19]!).toBeLessThan(losses[0]!);
    opt.dispose(); opt2.dispose(); model.dispose(); again.dispose(); x.dispose(); xVal.dispose();
  }, 600_000);
  it.skipIf(!HAVE_TORCH)('GPT: regula → PyTorch logits within 1e-5 → 2-process DDP training → regula logits within 1e-5 of PyTorch\'s → regula keeps training', async () => {
    const be: Backend = await loadBackend('wasm');
    const names = loadNames();
    const tok = new CharTokenizer(names.vocab);
    const stream = tok.encode(`${names.trainSmall.join('\n')}\n`);
    const config = { vocabSize: names.vocab.length, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0.1, bias: true, tieWeights: true };
    const gpt = new nn.GPT(be, { ...config, seed: 1 });
    const B = 8, T = config.blockSize;
    // a batch of windows of the stream, drawn with a fixed generator
    let s = 12345;
    const batch = (): { ids: Int32Array; targets: Int32Array } => {
      const ids = new Int32Array(B * T), targets = new Int32Array(B * T);
      for (let b = 0; b < B; b++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        const at = s % (stream.length - T - 1);
        ids.set(stream.subarray(at, at + T), b * T);
        targets.set(stream.subarray(at + 1, at + T + 1), b * T);
      }
      return { ids, targets };
    };
    const train = (m: InstanceType<typeof nn.GPT>, steps: number): number[] => {
      const opt = m.configureOptimizers({ lr: 3e-3, weightDecay: 0.1 });
      const losses: number[] = [];
      for (let i = 0; i < steps; i++) {
        const { ids, targets } = batch();
        opt.zeroGrad();
        const loss = be.crossEntropy(m.forward(ids, [B, T]), targets);
        losses.push(loss.item());
        loss.backward();
        opt.step();
      }
      opt.dispose();
      return losses;
    };
    train(gpt, 20);
    const check = batch().ids;
    const logitsOf = (m: InstanceType<typeof nn.GPT>): Float32Array => {
      m.eval();
      const l = m.forward(check, [B, T]).toFloat32Array();
      be.endStep();
      m.train();
      return l;
    };

    const modelPath = join(dir, 'gpt.safetensors'), dataPath = join(dir, 'gpt-data.safetensors');
    writeFileSync(modelPath, safetensors.save(gpt, { metadata: { 'regula.model': architectureOf(gpt), ...tok.toMetadata() } }));
    writeFileSync(dataPath, safetensors.save({
      tokens: { shape: [stream.length], data: Float32Array.from(stream) },
      'check.ids': { shape: [B, T], data: Float32Array.from(check) }, 'check.logits': { shape: [B * T, config.vocabSize], data: logitsOf(gpt) },
    }));
    const before = torchCheck(modelPath, dataPath);
    console.log(`GPT: PyTorch's logits vs regula's on ${B}×${T} tokens: max |Δ| ${before.toExponential(2)}`);
    expect(before).toBeLessThanOrEqual(TOL);

    const t = torchTrain(dir, modelPath, dataPath, 30);
    console.log(t.log.trim().split('\n').filter((l) => /\bstep \d+ loss/.test(l)).join('\n'));
    const back = safetensors.load(readFileSync(t.out));
    expect(back.metadata['torch.world_size']).toBe('2');
    // the tokenizer travels in the metadata, through PyTorch and back
    expect(CharTokenizer.fromMetadata(back.metadata).vocab).toEqual(names.vocab);
    // PyTorch's state_dict lists the tied weight under both names, as regula's
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(gpt.stateDict()).sort());
    const again = new nn.GPT(be, { ...config, seed: 7 });
    again.loadStateDict(back.tensors);
    const wte = again.stateDict()['transformer.wte.weight']!;
    expect(maxAbsDiff(wte, gpt.stateDict()['transformer.wte.weight']!)).toBeGreaterThan(1e-4);
    const torchLogits = safetensors.load(readFileSync(t.logits)).tensors['logits']!;
    const after = maxAbsDiff(logitsOf(again), torchLogits.data);
    console.log(`GPT after DDP training: regula's logits vs PyTorch's: max |Δ| ${after.toExponential(2)}`);
    expect(after).toBeLessThanOrEqual(TOL);

    const losses = train(again, 30);
    expect(losses.every(Number.isFinite)).toBe(true);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)));
    gpt.dispose(); again.dispose();
  }, 600_000);

  it.skipIf(!HAVE_TORCH)('GPT checkpoint (saveCheckpoint, as the demo\'s text panel downloads it) → PyTorch builds the model from the file alone: logits within 1e-5, the same greedy text, and samples', async () => {
    const be: Backend = await loadBackend('wasm');
    // a small model of the recipe's kind (no biases, tied embeddings, dropout 0) on the start of Tiny Shakespeare
    const corpus = textCorpus(loadShakespeare().slice(0, 50_000), { blockSize: 32 });
    const gpt = new nn.GPT(be, { vocabSize: corpus.tokenizer.size, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 48, bias: false, dropout: 0, seed: 3 });
    const optimizer = gpt.configureOptimizers({ lr: 3e-3, betas: [0.9, 0.99], weightDecay: 0.1 });
    const scheduler = new WarmupCosineLR(optimizer, { warmupIters: 10, decayIters: 300, minLr: 3e-4 });
    const r = await fitText(gpt, corpus, { optimizer, scheduler, steps: 300, batchSize: 16, clipGradNorm: 1.0, evalEvery: 150, seed: 4 });
    expect(r.history[r.history.length - 1]!.valLoss).toBeLessThan(r.history[0]!.valLoss);
    const bytes = saveCheckpoint({ gpt, tokenizer: corpus.tokenizer, optimizer, scheduler, step: r.step, sampler: r.sampler });
    // the file holds the optimizer's moments too: PyTorch must take the model's tensors only
    expect(Object.keys(safetensors.load(bytes).tensors).some((k) => k.startsWith('optimizer.'))).toBe(true);

    const B = 8, T = 32;
    const check = new Int32Array(B * T);
    for (let b = 0; b < B; b++) check.set(corpus.val.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    gpt.eval();
    const logits = gpt.forward(check, [B, T]).toFloat32Array();
    be.endStep();
    const modelPath = join(dir, 'text-checkpoint.safetensors'), dataPath = join(dir, 'text-check.safetensors');
    writeFileSync(modelPath, bytes);
    writeFileSync(dataPath, safetensors.save({
      'check.ids': { shape: [B, T], data: Float32Array.from(check) }, 'check.logits': { shape: [B * T, corpus.tokenizer.size], data: logits },
    }));
    const diff = torchCheck(modelPath, dataPath);
    console.log(`GPT checkpoint: PyTorch's logits vs regula's on ${B}×${T} validation tokens: max |Δ| ${diff.toExponential(2)} (tolerance ${TOL})`);
    expect(diff).toBeLessThanOrEqual(TOL);

    // greedy text from the same prompt: the same characters, as long as no step is within the
    // logits' tolerance of a tie (PyTorch reports the smallest gap between its two largest logits)
    const prompt = 'ROMEO:';
    const greedy = torchSample(modelPath, { prompt, chars: 60, temperature: 0 });
    console.log(`greedy, PyTorch: ${JSON.stringify(greedy.text)} (smallest top-2 logit gap ${greedy.minTop2Margin.toExponential(2)})`);
    expect(greedy.minTop2Margin).toBeGreaterThan(10 * TOL);
    expect(new Set(greedy.text).size, 'a greedy text of a few distinct characters, not one repeated').toBeGreaterThanOrEqual(5);
    const loaded = loadGPT(be, bytes); // the file alone, as the page's "load"
    try {
      const mine = loaded.tokenizer!.decode(loaded.gpt.generate(loaded.tokenizer!.encode(prompt), 60, { temperature: 0 }).subarray(prompt.length));
      expect(greedy.text).toBe(mine);
    } finally {
      loaded.gpt.dispose();
    }
    // and nanoGPT's sampling (temperature 0.8): 200 characters of the file's vocabulary
    const sampled = torchSample(modelPath, { prompt: '\n', chars: 200, temperature: 0.8 });
    console.log(`sampled by PyTorch (T 0.8): ${JSON.stringify(sampled.text)}`);
    expect(Array.from(sampled.text).length).toBe(200);
    for (const c of sampled.text) expect(corpus.tokenizer.vocab).toContain(c);
    optimizer.dispose(); gpt.dispose();
  }, 600_000);
});
