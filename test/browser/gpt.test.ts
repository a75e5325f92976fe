/**
 * The demo's fourth panel in Chromium, the quick part (the long part, training until the
 * validation loss is below 2.3 nats, is test/heavy/gpt-panel.test.ts): the GPT trains on
 * wasm in its worker and reports steps, tokens/s and evaluations; the page answers input
 * within 100 ms meanwhile; a typed name gets a causal attention map; dropout restarts the
 * run and weight decay does not; the js backend takes over; axe-core runs on the filled
 * panel. Screenshots go with the other demo screenshots (test-results/demo/).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AxeBuilder } from '@axe-core/playwright';
import { join } from 'node:path';
import { SHOTS, describeInChromium, openDemo, type DemoPage } from './chromium.js';

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

  /** Installs a keydown/input latency probe: event.timeStamp to handler, in ms. */
  async function latencyProbe(): Promise<void> {
    await demo.page.evaluate(() => {
      const w = window as unknown as { latencies: number[] };
      w.latencies = [];
      for (const type of ['keydown', 'input', 'pointerdown']) {
        document.addEventListener(type, (e) => { w.latencies.push(performance.now() - e.timeStamp); }, { capture: true });
      }
    });
  }
  const latencies = async (): Promise<number[]> => demo.page.evaluate(() => (window as unknown as { latencies: number[] }).latencies);

  it('trains on wasm in a worker: steps, tokens/s and a first evaluation reach the page, which answers input within 100 ms', async () => {
    const { page } = demo;
    await latencyProbe();
    await page.getByTestId('gpt-backend').selectOption('wasm');
    await page.getByTestId('gpt-start').click();
    expect(await page.getByTestId('gpt-stop').isEnabled()).toBe(true);
    const input = page.getByTestId('attention-input');
    const t0 = Date.now();
    // keep typing while the worker trains: each key must be handled promptly. At least 20
    // latencies, so that the 95% share below is a share (a faster step reaches step 3 in a
    // handful of keys, where one OS stall alone would be 10%).
    for (let k = 0; !(Number(await text('gpt-step')) >= 3) || Number.isNaN(await valLoss()) || (await latencies()).length < 20; k++) {
      if (Date.now() - t0 > 120_000) throw new Error(`no progress after 120 s: step "${await text('gpt-step')}", status "${await text('gpt-status')}"`);
      await input.press(k % 2 === 0 ? 'End' : 'ArrowLeft');
      await page.waitForTimeout(300);
    }
    // the evaluation at step 0: an untrained model is about as good as uniform guessing, ln 28 = 3.33 nats
    expect(Math.abs((await valLoss()) - Math.log(28))).toBeLessThan(0.1);
    expect((await samples()).length).toBeGreaterThan(0);
    expect(Number((await text('gpt-tokens-per-second')).replace(/,/g, ''))).toBeGreaterThan(0);
    expect(await page.getByTestId('gpt-tokens-per-second').getAttribute('data-backend')).toBe('wasm');
    const lat = await latencies();
    expect(lat.length).toBeGreaterThan(3);
    // Input is handled within 100 ms; on this shared 2-core machine (load ~20) the OS alone
    // sometimes parks the page's thread for a few hundred ms, so: 95% within 100 ms, all within 500 ms.
    const within = lat.filter((x) => x < 100).length / lat.length;
    const msg = `input latencies ${lat.map((x) => x.toFixed(1)).join(', ')} ms`;
    console.log(msg);
    expect(within, msg).toBeGreaterThanOrEqual(0.95);
    expect(Math.max(...lat), msg).toBeLessThan(500);
  }, 180_000);

  it('typing a name draws a causal attention map: rows sum to 1, the upper triangle is zero', async () => {
    const { page } = demo;
    const input = page.getByTestId('attention-input');
    await input.fill('');
    await input.pressSequentially('anna-lisa', { delay: 30 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="attention-map"] rect[data-row]').length === 100);
    for (const [layer, head] of [[0, 0], [1, 3]] as const) {
      await page.getByTestId('attention-layer').selectOption(String(layer));
      await page.getByTestId('attention-head').selectOption(String(head));
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
    await page.keyboard.press('ArrowRight'); // input + change: a restart
    expect(await drop.inputValue()).toBe('0.05');
    expect(await text('gpt-step')).toBe('–');
    expect(await text('gpt-val-loss')).toBe('–');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="gpt-step"]')?.textContent) > 0, undefined, { timeout: 60_000 });
    expect(Number(await text('gpt-step'))).toBeLessThan(stepBefore);
    expect(await page.getByTestId('gpt-stop').isEnabled()).toBe(true);
  }, 90_000);

  it('switches to the js backend, stops, and passes axe-core with the panel filled in', async () => {
    const { page } = demo;
    await page.getByTestId('gpt-backend').selectOption('js');
    await page.waitForFunction(() => document.querySelector('[data-testid="gpt-tokens-per-second"]')?.getAttribute('data-backend') === 'js', undefined, { timeout: 120_000 });
    await page.locator('#panel-gpt').screenshot({ path: join(SHOTS, 'gpt-js.png') });
    await page.getByTestId('gpt-stop').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="gpt-status"]')?.textContent?.startsWith('stopped'), undefined, { timeout: 30_000 });
    expect(await page.getByTestId('gpt-start').isEnabled()).toBe(true);
    const r = await new AxeBuilder({ page }).include('#panel-gpt').withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    expect(r.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    expect(demo.problems).toEqual([]);
  }, 180_000);
});
