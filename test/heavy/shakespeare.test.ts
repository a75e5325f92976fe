/**
 * The acceptance of issue 21: through the public API (with nn.utils.clipGradNorm), nanoGPT's
 * CPU recipe on Tiny Shakespeare reaches, on wasm, a validation loss within 0.03 of
 * PyTorch's three-seed mean at iteration 2,000 (examples/torch/shakespeare.py; the whole
 * validation split in windows of 65). This is `npm start -- shakespeare`'s verdict, re-derived.
 */
import { expect, it } from 'vitest';
import { loadBackend } from '../../src/index.js';
import { TOLERANCE, loadTorchReference, shakespeare } from '../../examples/experiments/shakespeare.js';

it('nanoGPT\'s Shakespeare recipe on wasm: validation loss at 2,000 within 0.03 of PyTorch\'s 3-seed mean', async () => {
  const be = await loadBackend('wasm');
  const r = await shakespeare.run({ be, quick: false, full: true, progress: () => ({ update() {}, end() {} }) });
  const f = r.figures as { curve: { step: number; valLoss: number }[] };
  const last = f.curve[f.curve.length - 1]!;
  expect(last.step).toBe(2000);
  const ref = loadTorchReference();
  expect(Math.abs(last.valLoss - ref.meanFinalValLoss)).toBeLessThanOrEqual(TOLERANCE);
  expect(r.verdict.holds).toBe(true);
  be.dispose();
}, 3_600_000);
