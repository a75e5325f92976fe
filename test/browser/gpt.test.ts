/**
 * The demo's fourth panel in Chromium, the quick part (the long part, training until the
 * validation loss is below 2.3 nats, is test/heavy/gpt-panel.test.ts): the GPT trains on
 * wasm in its worker and reports steps, tokens/s and evaluations; the page answers input
 * within 100 ms meanwhile; a typed name gets a causal attention map; dropout restarts the
 * run and weight decay does not; the js backend takes over; the downloaded weights are the
 * model the page shows; axe-core runs on the filled panel. Screenshots go with the other demo screenshots (test-results/demo/).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AxeBuilder } from '@axe-core/playwright';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { CharTokenizer, loadBackend, nn, safetensors } from '../../src/index.js';
import { attentionMaps, type GptShape } from '../../examples/demo/attention.js';
import { SHOTS, describeInChromium, inputReport, lateFrames, openDemo, probeInput, stopAndRead, type DemoPage } from './chromium.js';

describeInChromium('demo page: the GPT panel', () => {
  let demo: DemoPage;
  beforeAll(async () => { demo = await openDemo(); }, 90_000);
  afterAll(async () => { await demo?.close(); });

  const text = async (id: string): Promise<string> => (await demo.page.getByTestId(id).textContent())?.trim() ?? '';
  const valLoss = async (): Promise<number> => Number(await demo.page.getByTestId('gpt-val-loss').getAttribute('data-value') ?? NaN);
  const samples = async (): Promise<string[]> => demo.page.locator('[data-testid="gpt-samples"] li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset['name'] ?? ''));

  /** The attention map as drawn: T and the cell values by [row][col]. */
  async function attention(): Promise<{ T: number; w: number[][]; step: number }> {
    return demo.page.evaluate(() => {
      const cells = Array.from(document.querySelectorAll('[data-testid="attention-map"] rect[data-row]')) as SVGRectElement[];
      const T = Math.round(Math.sqrt(cells.length));
      const w = Array.from({ length: T }, () => new Array<number>(T).fill(NaN));
      for (const c of cells) w[Number(c.dataset['row'])]![Number(c.dataset['col'])] = Number(c.dataset['value']);
      return { T, w, step: Number((document.querySelector('[data-testid="attention-map"]') as SVGElement).dataset['step']) };
    });
  }

  it('trains on wasm in a worker: steps, tokens/s and a first evaluation reach the page, which answers input within 100 ms', async () => {
    const { page } = demo;
    await probeInput(page);
    await page.getByTestId('gpt-backend').selectOption('wasm');
    await page.getByTestId('gpt-start').click();
    expect(await page.getByTestId('gpt-stop').isEnabled()).toBe(true);
    const input = page.getByTestId('attention-input');
    const t0 = Date.now();
    // keep typing while the worker trains: each key must be handled promptly. At least 20
    // latencies, so that the page is judged over a run of keys, not a handful (a faster step
    // reaches step 3 after a few).
    for (let k = 0; !(Number(await text('gpt-step')) >= 3) || Number.isNaN(await valLoss()) || (await inputReport(page)).latencies.length < 20; k++) {
      if (Date.now() - t0 > 120_000) throw new Error(`no progress after 120 s: step "${await text('gpt-step')}", status "${await text('gpt-status')}"`);
      await input.press(k % 2 === 0 ? 'End' : 'ArrowLeft');
      await page.waitForTimeout(300);
    }
    // the evaluation at step 0 (the first dot of the validation curve; later ones may have
    // come by now): an untrained model is about as good as uniform guessing, ln 28 = 3.33 nats
    const first = await demo.page.locator('#gpt-loss-plot circle.dot-val').first().evaluate((c) => ({ step: Number(c.getAttribute('data-step')), loss: Number(c.getAttribute('data-loss')) }));
    expect(first.step).toBe(0);
    expect(Math.abs(first.loss - Math.log(28))).toBeLessThan(0.1);
    expect((await samples()).length).toBeGreaterThan(0);
    expect(Number((await text('gpt-tokens-per-second')).replace(/,/g, ''))).toBeGreaterThan(0);
    expect(await page.getByTestId('gpt-tokens-per-second').getAttribute('data-backend')).toBe('wasm');
    const { latencies, message } = await inputReport(page);
    expect(latencies.length).toBeGreaterThanOrEqual(20);
    // Every input event is handled within 100 ms (issue 15). The page's thread only draws what
    // the worker reports (a loss plot updated in place, an attention map recoloured); the long
    // task it had (the first toLocaleString loading locale data, ~110 ms) is gone, and the
    // message lists any that remain.
    console.log(message);
    expect(Math.max(...latencies), message).toBeLessThan(100);
  }, 180_000);

  it('typing a name draws a causal attention map: rows sum to 1, the upper triangle is zero', async () => {
    const { page } = demo;
    const input = page.getByTestId('attention-input');
    await probeInput(page);
    await input.fill('');
    await input.pressSequentially('anna-lisa', { delay: 30 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="attention-map"] rect[data-row]').length === 100);
    for (const [layer, head] of [[0, 0], [1, 3]] as const) {
      // by value: the options' labels count from 1, so selectOption('1') alone would pick the label
      await page.getByTestId('attention-layer').selectOption({ value: String(layer) });
      await page.getByTestId('attention-head').selectOption({ value: String(head) });
      const { T, w } = await attention();
      expect(T).toBe(10); // "\n" + 9 characters
      for (let i = 0; i < T; i++) {
        for (let j = i + 1; j < T; j++) expect(w[i]![j], `layer ${layer} head ${head} row ${i} col ${j}`).toBe(0);
        const row = w[i]!.slice(0, i + 1);
        expect(row.every((v) => v > 0)).toBe(true);
        expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
      }
    }
    // characters the model does not know are dropped, and the page says so
    await input.fill('Zoë');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="attention-map"] rect[data-row]').length === 9);
    expect(await page.locator('#attention-note').textContent()).toMatch(/showing "zo"/);
    // typing while the GPT trains: every key handled within 100 ms, redraws included
    const { latencies, message } = await inputReport(page);
    console.log(message);
    expect(Math.max(...latencies), message).toBeLessThan(100);
    await page.locator('#panel-gpt').screenshot({ path: join(SHOTS, 'gpt-attention.png') });
  });

  it('changing dropout restarts the run; weight decay does not', async () => {
    const { page } = demo;
    const stepBefore = Number(await text('gpt-step'));
    expect(stepBefore).toBeGreaterThan(0);
    const wd = page.getByTestId('gpt-weight-decay');
    await wd.focus();
    await page.keyboard.press('ArrowRight');
    expect(await wd.getAttribute('aria-valuetext')).toBe('0.01');
    await page.waitForTimeout(500);
    expect(Number(await text('gpt-step'))).toBeGreaterThanOrEqual(stepBefore); // the same run goes on
    const drop = page.getByTestId('gpt-dropout');
    await drop.focus();
    // what the panel shows right after its own change handler ran, read in that task of the page:
    // the new run's first reports (its step-0 evaluation comes soon) cannot land in between
    await page.evaluate(() => {
      document.querySelector('[data-testid="gpt-dropout"]')!.addEventListener('change', () => {
        (window as unknown as { atRestart: string[] }).atRestart = ['gpt-step', 'gpt-val-loss'].map((id) => document.querySelector(`[data-testid="${id}"]`)!.textContent!.trim());
      }, { once: true });
    });
    await page.keyboard.press('ArrowRight'); // input + change: a restart
    expect(await drop.inputValue()).toBe('0.05');
    expect(await page.evaluate(() => (window as unknown as { atRestart?: string[] }).atRestart)).toEqual(['–', '–']);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="gpt-step"]')?.textContent) > 0, undefined, { timeout: 60_000 });
    expect(Number(await text('gpt-step'))).toBeLessThan(stepBefore);
    expect(await page.getByTestId('gpt-stop').isEnabled()).toBe(true);
  }, 90_000);

  it('switches to the js backend, stops, and passes axe-core with the panel filled in', async () => {
    const { page } = demo;
    await page.getByTestId('gpt-backend').selectOption('js');
    await page.waitForFunction(() => document.querySelector('[data-testid="gpt-tokens-per-second"]')?.getAttribute('data-backend') === 'js', undefined, { timeout: 120_000 });
    await page.locator('#panel-gpt').screenshot({ path: join(SHOTS, 'gpt-js.png') });
    // Stop, and download at once (the same task of the page, before the worker has answered
    // the stop): the file is the stopped model, which the page shows when it says stopped, with
    // its last steps drawn (late frames, as on a loaded machine, must not hold them back).
    await lateFrames(page, 250);
    let shown: Record<string, string> = {};
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), (async () => {
      shown = await stopAndRead(page, { stop: 'gpt-stop', status: 'gpt-status', read: ['gpt-step'], alsoClick: ['gpt-weights-download'] });
    })()]);
    const stopped = Number(/^stopped after (\d+) steps$/.exec(shown['gpt-status']!)![1]);
    expect(shown['gpt-step']).toBe(String(stopped));
    expect(dl.suggestedFilename()).toBe(`regula-names-gpt-${stopped}-steps.safetensors`);
    expect(await page.getByTestId('gpt-start').isEnabled()).toBe(true);

    // the downloaded weights: the model the page's attention map now shows (the one just stopped)
    await page.getByTestId('attention-input').fill('maria');
    await page.waitForFunction((s) => (document.querySelector('[data-testid="attention-map"]') as SVGElement).dataset['step'] === String(s) &&
      document.querySelectorAll('[data-testid="attention-map"] rect[data-row]').length === 36, stopped);
    const { tensors, metadata } = safetensors.load(new Uint8Array(readFileSync((await dl.path())!)));
    expect(metadata['regula.steps']).toBe(String(stopped));
    const tokenizer = CharTokenizer.fromMetadata(metadata);
    const config = JSON.parse(metadata['regula.config']!) as GptShape & { tieWeights: boolean };
    expect(config.vocabSize).toBe(tokenizer.size);
    const js = await loadBackend('js');
    const gpt = new nn.GPT(js, config);
    try {
      gpt.loadStateDict(Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, v.data]))); // every name and shape checked
      const ids = tokenizer.encode('\nmaria');
      const { maps } = attentionMaps(gpt.stateDict(), config, ids);
      const { w } = await attention(); // layer 2, head 4 as the last test left the selectors
      const mine = maps[1]![3]!;
      for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(Math.abs(w[i]![j]! - mine[i * 6 + j]!)).toBeLessThan(1e-12);
    } finally {
      gpt.dispose();
    }
    expect(await text('gpt-weights-status')).toMatch(/^downloaded regula-names-gpt-\d+-steps\.safetensors \([\d,]+ bytes\)$/);
    const r = await new AxeBuilder({ page }).include('#panel-gpt').withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    expect(r.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    expect(demo.problems).toEqual([]);
  }, 180_000);
});
