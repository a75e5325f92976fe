/**
 * fit() on a page's main thread in Chromium (issue 24): the page repaints while fit trains
 * (requestAnimationFrame callbacks run mid-epoch, as fit yields every yieldEvery ms), and a
 * Stop given at a frame ends fit within one batch. The old fit yielded between epochs only,
 * so every frame fell on an epoch's last batch. Uses the demo page's `window.regula`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInChromium, openDemo, type DemoPage } from './chromium.js';

describeInChromium('fit on a page\'s main thread in Chromium', () => {
  let demo: DemoPage;
  beforeAll(async () => { demo = await openDemo(); }, 90_000);
  afterAll(async () => { await demo?.close(); });

  it('frames are drawn mid-epoch while fit trains, and a Stop at the fifth frame ends it within one batch', async () => {
    const r = await demo.page.evaluate(async () => {
      const { loadBackend, fit, nn, optim } = (window as unknown as { regula: any }).regula; // eslint-disable-line @typescript-eslint/no-explicit-any
      const be = await loadBackend('wasm', { threads: 1 });
      const n = 100_000, d = 4;
      const x = new Float32Array(n * d).map((_, i) => Math.sin(i * 0.7));
      const y = new Int32Array(n).map((_, i) => i % 3);
      const model = new nn.Sequential(new nn.Linear(be, d, 16, { seed: 1 }), new nn.ReLU(), new nn.Linear(be, 16, 3, { seed: 2 }));
      const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
      const ac = new AbortController();
      const batchesPerEpoch = Math.ceil(n / 32);
      let batches = 0, lastBatch = -1, atAbort = -1;
      const frames: number[] = []; // the batch index within its epoch when each frame ran
      const frame = () => {
        frames.push(lastBatch);
        if (frames.length === 5) { atAbort = batches; ac.abort(); } else requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
      const res = await fit(model, { x, y, n, d }, {
        optimizer: opt, loss: 'crossEntropy', epochs: 50, batchSize: 32, signal: ac.signal,
        onBatch: (log: { batch: number }) => { batches++; lastBatch = log.batch; },
      });
      opt.dispose(); model.dispose(); be.dispose();
      return { stopReason: res.stopReason, steps: res.steps as number, batches, atAbort, frames, batchesPerEpoch };
    });
    expect(r.stopReason).toBe('aborted');
    expect(r.frames).toHaveLength(5);
    // the page drew while an epoch was under way (not only after an epoch's last batch)
    expect(r.frames.filter((b) => b >= 0 && b < r.batchesPerEpoch - 1).length).toBeGreaterThanOrEqual(4);
    expect(r.batches - r.atAbort).toBeLessThanOrEqual(1);
    expect(r.steps).toBe(r.batches);
  }, 120_000);
});
