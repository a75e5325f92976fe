/**
 * The demo's GPT panel trained for real in Chromium (the long part of the panel's browser
 * test; test/browser/gpt.test.ts has the quick part): on wasm, the validation loss falls
 * below 2.3 nats per character (uniform guessing: ln 28 = 3.33) and the model writes at
 * least five names of letters only; the page answers input within 100 ms all along.
 * REGULA_GPT_TIMEOUT_MS sets how long training may take (default 30 minutes: a busy
 * machine trains at a few hundred tokens/s).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { join } from 'node:path';
import { SHOTS, describeInChromium, inputReport, openDemo, probeInput, type DemoPage } from '../browser/chromium.js';

const TRAIN_TIMEOUT_MS = Number(process.env['REGULA_GPT_TIMEOUT_MS'] ?? 1_800_000);

describeInChromium('demo page: the GPT panel trains to below 2.3 nats', () => {
  let demo: DemoPage;
  beforeAll(async () => { demo = await openDemo(); }, 120_000);
  afterAll(async () => { await demo?.close(); });

  it('validation loss below 2.3 nats on wasm, at least 5 names of letters only, input handled within 100 ms', async () => {
    const { page } = demo;
    await probeInput(page);
    const text = async (id: string) => (await page.getByTestId(id).textContent())?.trim() ?? '';
    const valLoss = async () => Number(await page.getByTestId('gpt-val-loss').getAttribute('data-value') ?? NaN);
    await page.getByTestId('gpt-backend').selectOption('wasm');
    await page.getByTestId('gpt-start').click();
    const input = page.getByTestId('attention-input');
    const t0 = Date.now();
    for (let k = 0; !(await valLoss() < 2.3); k++) {
      if (Date.now() - t0 > TRAIN_TIMEOUT_MS) throw new Error(`validation loss still ${await valLoss()} after ${TRAIN_TIMEOUT_MS} ms (step ${await text('gpt-step')}, ${await text('gpt-tokens-per-second')} tokens/s)`);
      await input.press(k % 2 === 0 ? 'End' : 'ArrowLeft');
      await page.waitForTimeout(1000);
    }
    const names = await page.locator('[data-testid="gpt-samples"] li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset['name'] ?? ''));
    console.log(`GPT panel: val loss ${await valLoss()} at step ${await text('gpt-step')} after ${((Date.now() - t0) / 1000).toFixed(0)} s, ${await text('gpt-tokens-per-second')} tokens/s (wasm); names: ${names.join(', ')}`);
    expect(names.filter((n) => /^[a-z]+$/.test(n)).length).toBeGreaterThanOrEqual(5);
    await page.locator('#panel-gpt').screenshot({ path: join(SHOTS, 'gpt-trained.png') });
    const { latencies, message } = await inputReport(page);
    expect(latencies.length).toBeGreaterThan(3);
    // every input event within 100 ms, as in test/browser/gpt.test.ts
    console.log(message);
    expect(Math.max(...latencies), message).toBeLessThan(100);
    await page.getByTestId('gpt-stop').click();
    expect(demo.problems).toEqual([]);
  }, TRAIN_TIMEOUT_MS + 120_000);
});
