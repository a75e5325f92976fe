/**
 * The worker how-to (examples/worker) in Chromium, built by Vite from its own config and
 * served cross-origin isolated: a run shows its progress, stops on the stop button, and the
 * weights it sends back predict on the page (js backend) exactly as the worker (wasm)
 * measured them. A second run after the first works the same.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { describeInChromium, openSite, type DemoPage } from './chromium.js';
import { WORKER_EXAMPLE } from './serve.js';

describeInChromium('the worker how-to in Chromium', () => {
  let site: DemoPage;
  let page: Page;

  beforeAll(async () => {
    site = await openSite(WORKER_EXAMPLE, '[data-testid="train"]:not([disabled])');
    page = site.page;
  }, 90_000);

  afterAll(async () => {
    await site?.close();
  });

  const text = async (id: string): Promise<string> => (await page.getByTestId(id).textContent())?.trim() ?? '';

  /** Clicks train, then stop in the same task of the page as soon as it shows epoch `at`; returns the epochs and steps the result reports. */
  async function trainAndStop(at: number): Promise<{ epochs: number; steps: number }> {
    await page.evaluate((at) => {
      const epoch = document.querySelector('[data-testid="epoch"]')!;
      const obs = new MutationObserver(() => {
        if (Number(epoch.textContent) < at) return;
        obs.disconnect();
        document.querySelector<HTMLButtonElement>('[data-testid="stop"]')!.click();
      });
      obs.observe(epoch, { childList: true, characterData: true, subtree: true });
      document.querySelector<HTMLButtonElement>('[data-testid="train"]')!.click();
    }, at);
    await page.waitForFunction(() => /^(stopped|done|error)/.test(document.querySelector('[data-testid="status"]')?.textContent ?? ''), undefined, { timeout: 60_000 });
    const status = await text('status');
    const m = /^stopped after (\d+) epochs \((\d+) steps\)$/.exec(status);
    expect(m, `status "${status}"`).not.toBeNull();
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="result"]')?.dataset['accuracy'] !== undefined, undefined, { timeout: 30_000 });
    return { epochs: Number(m![1]), steps: Number(m![2]) };
  }

  it('trains with progress, stops on stop, and the returned weights predict on the page as in the worker', async () => {
    for (const run of [1, 2]) {
      // epoch 4 shown: a report of the 4th epoch came, so 3 were complete (reports come in order)
      const { epochs, steps } = await trainAndStop(4);
      const batches = 45; // ⌈1437 / 32⌉
      expect(epochs, `run ${run}`).toBeGreaterThanOrEqual(3);
      expect(epochs, `run ${run}`).toBeLessThan(500);
      expect(epochs, `run ${run}: ${steps} steps`).toBe(Math.floor(steps / batches));
      // progress was shown, up to the stopped run's last report
      const bar = await page.getByTestId('bar').evaluate((b: HTMLProgressElement) => [b.value, b.max]);
      expect(bar[0]).toBeGreaterThanOrEqual(3 * batches);
      expect(bar[0]).toBeLessThanOrEqual(steps);
      expect(bar[1]).toBe(500 * batches);
      const { accuracy, workerAccuracy } = await page.getByTestId('result').evaluate((e: HTMLElement) => ({ ...e.dataset }));
      expect(accuracy).toBe(workerAccuracy); // js on the page, wasm in the worker: the same bits
      expect(Number(accuracy)).toBeGreaterThan(0.8); // chance is 0.1; 3 epochs give 0.87
      expect(await page.getByTestId('train').isEnabled()).toBe(true);
      expect(await page.getByTestId('stop').isEnabled()).toBe(false);
      await page.getByTestId('result').evaluate((e: HTMLElement) => e.removeAttribute('data-accuracy')); // for the next run's wait
    }
    expect(site.problems).toEqual([]);
  }, 90_000);
});
