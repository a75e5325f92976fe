/**
 * The round trip regula → safetensors → PyTorch (DistributedDataParallel, 2 processes, gloo on
 * CPU) → safetensors → regula, with examples/torch/regula_torch.py. Run by `npm run test:interop`;
 * needs Debian's python3-torch (skipped, saying so, without it; in CI a missing torch fails).
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBackend, nn, optim, safetensors, type Backend } from '../../src/index.js';
import { architectureOf } from '../../examples/torch/architecture.js';
import { digitsSplit } from '../../examples/experiments/digits.js';
import { HAVE_TORCH, IN_CI, PYTHON, TOL, torchCheck, torchTrain } from './torch.js';

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
});
