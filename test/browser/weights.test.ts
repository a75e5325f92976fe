/**
 * The demo's weights in and out, in Chromium (playwright-core, the built page as in
 * demo.test.ts): "download weights (.safetensors)" gives a file that regula in Node loads to
 * the page's own validation accuracy and that PyTorch (examples/torch/regula_torch.py, when
 * python3-torch is installed) reads to the same logits; a dropped file loads into the page
 * with its exact values; broken files are refused with the loader's message.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { fit, loadBackend, safetensors, type Backend } from '../../src/index.js';
import { buildMlp, digitsSplit, evaluate, makeOptimizer } from '../../examples/experiments/digits.js';
import { architectureOf } from '../../examples/torch/architecture.js';
import { HAVE_TORCH, IN_CI, TOL, torchCheck } from '../interop/torch.js';
import { SHOTS, describeInChromium, lateFrames, openDemo, stopAndRead, type DemoPage } from './chromium.js';

describeInChromium('demo weights (.safetensors) in Chromium', () => {
  let demo: DemoPage;
  let page: Page;
  let be: Backend;
  const dir = mkdtempSync(join(tmpdir(), 'regula-weights-'));
  const data = digitsSplit();

  beforeAll(async () => {
    be = await loadBackend('js');
    demo = await openDemo();
    page = demo.page;
  }, 90_000);

  afterAll(async () => {
    await demo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const text = async (id: string): Promise<string> => (await page.getByTestId(id).textContent())?.trim() ?? '';

  async function downloadWeights(click: () => Promise<unknown> = () => page.getByTestId('weights-download').click()): Promise<Uint8Array> {
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), click()]);
    expect(dl.suggestedFilename()).toMatch(/^regula-digits-mlp-\d+-epochs\.safetensors$/);
    return new Uint8Array(readFileSync((await dl.path())!));
  }

  /** The MLP trained for a few epochs by regula in Node, as a file (what the page is given to load). */
  async function trainedInNode(): Promise<Uint8Array> {
    const model = buildMlp(be, 0);
    const opt = makeOptimizer(model, { optimizer: 'Adam', weightDecay: 0, l1: 0, lr: 1e-3 });
    try {
      await fit(model, { x: data.xTrain, y: data.yTrain, n: data.nTrain, d: 64 }, { optimizer: opt, loss: 'crossEntropy', epochs: 3, batchSize: 32, seed: 5 });
      return safetensors.save(model, { metadata: { 'regula.model': architectureOf(model) } });
    } finally {
      opt.dispose();
      model.dispose();
    }
  }

  /** Drops bytes on the training panel as a file, as a user dragging it from their desktop. */
  async function dropFile(bytes: Uint8Array, name: string): Promise<void> {
    await page.evaluate(({ b, n }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(b)], n));
      document.getElementById('panel-train')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, { b: Array.from(bytes), n: name });
  }

  /** Waits for the page's answer to a loaded file: its validation accuracy, or the error. */
  async function loadResult(): Promise<{ accuracy: number | null; error: string | null }> {
    const status = page.getByTestId('weights-status');
    await page.waitForFunction(() => { const d = document.querySelector<HTMLElement>('[data-testid="weights-status"]')!.dataset; return d['valAccuracy'] !== undefined || d['error'] !== undefined; }, undefined, { timeout: 15_000 });
    const acc = await status.getAttribute('data-val-accuracy');
    return { accuracy: acc === null ? null : Number(acc), error: await status.getAttribute('data-error') };
  }

  /** Regula in Node (js backend: the same bits as the page's wasm) on the validation images. */
  function nodeEval(bytes: Uint8Array): { accuracy: number; logits: Float32Array } {
    const model = buildMlp(be, 0);
    model.loadStateDict(safetensors.load(bytes).tensors);
    const { accuracy } = evaluate(be, model, data.xVal, data.yVal, data.nVal);
    const x = be.tensor([data.nVal, 64], data.xVal);
    const logits = model.forward(x).toFloat32Array();
    be.endStep();
    x.dispose();
    model.dispose();
    return { accuracy, logits };
  }

  it('download: a safetensors file of the trained MLP that regula in Node loads to the page\'s validation accuracy, and PyTorch to the same logits', async () => {
    expect(await page.getByTestId('weights-download').isDisabled()).toBe(true); // nothing trained yet
    await page.getByTestId('backend-select').selectOption('wasm');
    await page.getByTestId('train-start').click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="epoch"]')?.textContent) >= 4, undefined, { timeout: 60_000 });
    // Late frames, as on a loaded machine: the page used to say "stopped after N epochs" while
    // it still showed epoch N − 1's numbers until its next frame, and a download gave epoch N.
    await lateFrames(page, 250);
    // stop, and download at once (the same task of the page): the file is the model the page shows when it says stopped
    let shown: Record<string, string> = {};
    const bytes = await downloadWeights(async () => { shown = await stopAndRead(page, { stop: 'train-stop', status: 'train-status', read: ['epoch', 'val-accuracy'], alsoClick: ['weights-download'] }); });
    const epoch = shown['epoch']!, valAccuracy = shown['val-accuracy']!;
    expect(shown['train-status']).toBe(`stopped after ${epoch} epochs`);
    const { tensors, metadata } = safetensors.load(bytes);
    expect(Object.entries(tensors).map(([k, t]) => [k, t.dtype, t.shape])).toEqual([
      ['0.weight', 'F32', [256, 64]], ['0.bias', 'F32', [256]], ['2.weight', 'F32', [256, 256]], ['2.bias', 'F32', [256]], ['4.weight', 'F32', [10, 256]], ['4.bias', 'F32', [10]],
    ]);
    expect(metadata['regula.epochs']).toBe(epoch); // the weights of the last epoch the page reported
    expect(JSON.parse(metadata['regula.model']!).layers.map((l: { type: string }) => l.type)).toEqual(['Linear', 'ReLU', 'Linear', 'ReLU', 'Linear']);
    const node = nodeEval(bytes);
    expect(node.accuracy.toFixed(3)).toBe(valAccuracy);
    expect(node.accuracy).toBeGreaterThan(0.5);

    if (HAVE_TORCH) {
      const file = join(dir, 'demo.safetensors');
      writeFileSync(file, bytes);
      const check = join(dir, 'demo-check.safetensors');
      writeFileSync(check, safetensors.save({ 'check.x': { shape: [data.nVal, 64], data: data.xVal }, 'check.logits': { shape: [data.nVal, 10], data: node.logits } }));
      const diff = torchCheck(file, check);
      console.log(`demo download in PyTorch: logits vs regula's max |Δ| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(TOL);
    } else if (IN_CI) throw new Error('CI needs python3-torch to check the downloaded file in PyTorch');
    else console.warn('skipped the PyTorch half: python3-torch not installed');
  }, 120_000);

  it('drop-to-load: a dropped file loads with its exact values; the next start continues from it; broken files are refused with the loader\'s message', async () => {
    // trained by regula in Node (this test does not depend on the one before)
    const trained = await trainedInNode();
    // an untrained model: its accuracy tells it apart from the trained one
    const fresh = buildMlp(be, 0);
    const untrained = safetensors.save(fresh, { metadata: { 'regula.model': architectureOf(fresh) } });
    fresh.dispose();

    await dropFile(untrained, 'untrained.safetensors');
    const a = await loadResult();
    expect(a.error).toBeNull();
    expect(a.accuracy).toBe(nodeEval(untrained).accuracy);

    // the file picker takes the same path
    await page.getByTestId('weights-file').setInputFiles({ name: 'trained.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(trained) });
    const b = await loadResult();
    expect(b.accuracy).toBe(nodeEval(trained).accuracy);
    expect(b.accuracy).not.toBe(a.accuracy);
    await page.locator('#panel-train').screenshot({ path: join(SHOTS, 'weights-loaded.png') });

    // what the page holds now is exactly the file: downloading it again gives the same tensors, bit for bit
    const again = safetensors.load(await downloadWeights()).tensors;
    for (const [k, t] of Object.entries(safetensors.load(trained).tensors)) {
      expect(Buffer.from(again[k]!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
    }

    // broken files: truncated, and a transposed weight
    await dropFile(trained.subarray(0, trained.length - 100), 'truncated.safetensors');
    const c = await loadResult();
    expect(c.accuracy).toBeNull();
    expect(c.error).toMatch(/^safetensors\.load: tensor "4\.weight": data_offsets \[\d+, \d+\] run past the data section/);
    const t = safetensors.load(trained).tensors;
    const transposed = safetensors.save({ ...t, '0.weight': { shape: [64, 256], data: t['0.weight']!.data } }, { metadata: safetensors.load(trained).metadata });
    await dropFile(transposed, 'transposed.safetensors');
    const d = await loadResult();
    expect(d.error).toBe("loadStateDict: '0.weight' has shape [64, 256], but the parameter has shape [256, 64]");
    expect(await text('weights-status')).toContain('could not load the file');

    // the trained file again, then start: training continues from it
    await dropFile(trained, 'trained.safetensors');
    expect((await loadResult()).accuracy).toBe(b.accuracy);
    await page.getByTestId('train-start').click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="epoch"]')?.textContent) >= 1, undefined, { timeout: 30_000 });
    expect(await text('train-status')).toContain('from the loaded weights');
    await page.getByTestId('train-stop').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]')?.textContent?.startsWith('stopped'), undefined, { timeout: 10_000 });
    expect(demo.problems).toEqual([]);
  }, 120_000);
});
