/**
 * Opens the built demo in Debian's Chromium (playwright-core): one launcher and the same flags
 * for the browser tests (test/browser/chromium.ts re-exports it) and for `npm run
 * bench:browser` (bench/browser.ts), so nothing here imports vitest.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { BenchReport, BenchSettings } from '../../examples/demo/bench-protocol.js';
import { DEMO, ROOT, ensureBuilt, serve, type Site } from './serve.js';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** Where the demo screenshots go (with demo.test.ts's). */
export const SHOTS = join(ROOT, 'test-results/demo');

/** The demo page, loaded and ready (body[data-ready]), and how to close it. */
export interface DemoPage {
  page: Page;
  context: BrowserContext;
  url: string;
  /** Everything that went wrong on the page so far. */
  problems: string[];
  close(): Promise<void>;
}

/**
 * Builds the demo if stale, serves dist-demo/ cross-origin isolated, and opens it in Chromium,
 * with `path` appended to the page's URL: another page of the demo ('bench.html') or a query
 * ('?text-iters=20').
 */
export function openDemo(viewport = { width: 1280, height: 900 }, path = ''): Promise<DemoPage> {
  return openSite(DEMO, 'body[data-ready="true"]', viewport, path);
}

/** Builds `site` if stale, serves it cross-origin isolated, opens it (URL + `path`) in Chromium, and waits for the selector `ready`. */
export async function openSite(site: Site, ready: string, viewport = { width: 1280, height: 900 }, path = ''): Promise<DemoPage> {
  ensureBuilt(site);
  const { server, url } = await serve(site.dist);
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'regula-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--no-default-browser-check'],
    viewport,
  });
  const problems: string[] = [];
  context.on('weberror', (e) => problems.push(`page error: ${e.error().message}`));
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`); });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  mkdirSync(SHOTS, { recursive: true });
  await page.goto(url + path);
  await page.waitForSelector(ready, { timeout: 15_000 });
  return {
    page, context, url, problems,
    async close() {
      await context.close();
      server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * On the benchmark page (bench.html): sets the form to `s`, clicks run, and waits (up to
 * `timeoutMs`) for the run to end. Returns how it ended (the status's state and text) and the
 * report the page shows as JSON (null unless it ended "done" or "stopped").
 */
export async function runBenchPage(page: Page, s: BenchSettings, timeoutMs = 240_000): Promise<{ state: string; status: string; report: BenchReport | null }> {
  await page.getByTestId('suite-kernels').setChecked(s.suites.includes('kernels'));
  await page.getByTestId('suite-training').setChecked(s.suites.includes('training'));
  await page.getByTestId('bench-time').fill(String(s.timeMs));
  await page.getByTestId('bench-filter').fill(s.filter);
  await page.getByTestId('bench-check').setChecked(s.check);
  await page.getByTestId('bench-run').click();
  const h = await page.waitForFunction(() => {
    const st = document.querySelector<HTMLElement>('[data-testid="bench-status"]')!.dataset['state'];
    return st === 'done' || st === 'error' || st === 'stopped' ? st : null;
  }, undefined, { timeout: timeoutMs, polling: 100 });
  const state = await h.jsonValue() as string;
  const status = (await page.getByTestId('bench-status').textContent()) ?? '';
  const text = state === 'error' ? '' : (await page.getByTestId('bench-json').textContent()) ?? '';
  return { state, status, report: text === '' ? null : JSON.parse(text) as BenchReport };
}
