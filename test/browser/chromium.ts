/**
 * Opens the built demo page in Debian's Chromium (playwright-core) for the browser tests
 * that came after demo.test.ts: one launcher, the same flags, and the page's problems
 * (console errors and warnings, page errors, failed or 4xx/5xx requests) collected.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, it } from 'vitest';
import { CHROMIUM } from './launch.js';

export { CHROMIUM, SHOTS, openDemo, openSite, runBenchPage, type DemoPage } from './launch.js';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const IN_CI = Boolean(process.env['CI']) && process.env['CI'] !== 'false';

/**
 * describe(title, body) when Chromium is installed; otherwise a skipped suite that says why,
 * or, in CI (where .ci/run installs Chromium), a failing one.
 */
export function describeInChromium(title: string, body: () => void): void {
  if (HAVE_CHROMIUM) describe(title, body);
  else if (IN_CI) {
    describe(`${title} (CI)`, () => {
      it('needs Chromium in CI', () => {
        throw new Error(`Chromium is required in CI but ${CHROMIUM} does not exist (.ci/run installs it with apt-get install chromium)`);
      });
    });
  } else {
    console.warn(`skipped: Chromium not installed (no ${CHROMIUM}; apt-get install chromium, or set CHROMIUM_PATH) — "${title}" did not run`);
    describe(title, () => { it.skip('skipped: Chromium not installed', () => {}); });
  }
}

/** An input event as the Event Timing API saw it (ms from the event's timeStamp). */
export interface EventTiming { name: string; target: string; delay: number; handled: number; duration: number }

/**
 * Starts (or restarts) recording how long the page takes to handle input: for each keydown, input and
 * pointerdown, event.timeStamp to the first (capturing) handler, in ms; the Event Timing API's
 * entries of events that took 16 ms or more to their next paint (when its handlers started,
 * ended, and the next paint); and the page's long tasks (over 50 ms on its thread), to say
 * what delayed an event.
 */
export async function probeInput(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { latencies?: number[]; longTasks?: number[]; eventTimings?: EventTiming[] };
    const installed = w.latencies !== undefined;
    w.latencies = [];
    w.longTasks = [];
    w.eventTimings = [];
    if (installed) return; // a second call starts the record afresh
    for (const type of ['keydown', 'input', 'pointerdown']) {
      document.addEventListener(type, (e) => { w.latencies!.push(performance.now() - e.timeStamp); }, { capture: true });
    }
    new PerformanceObserver((l) => { for (const e of l.getEntries()) w.longTasks!.push(e.duration); }).observe({ type: 'longtask' });
    new PerformanceObserver((l) => {
      for (const e of l.getEntries() as PerformanceEventTiming[]) {
        const t = e.target as HTMLElement | null;
        w.eventTimings!.push({ name: e.name, target: t?.id ?? '', delay: e.processingStart - e.startTime, handled: e.processingEnd - e.startTime, duration: e.duration });
      }
    }).observe({ type: 'event', durationThreshold: 16 } as PerformanceObserverInit);
  });
}

/** What probeInput recorded so far, and a line that says it (for a log and an assertion message). */
export async function inputReport(page: Page): Promise<{ latencies: number[]; longTasks: number[]; eventTimings: EventTiming[]; message: string }> {
  const { latencies, longTasks, eventTimings } = await page.evaluate(() => {
    const w = window as unknown as { latencies: number[]; longTasks: number[]; eventTimings: EventTiming[] };
    return { latencies: w.latencies, longTasks: w.longTasks, eventTimings: w.eventTimings };
  });
  const sorted = [...latencies].sort((a, b) => a - b);
  const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] ?? NaN;
  const message = `input latencies (${latencies.length} events, max ${Math.max(...latencies).toFixed(1)}, p95 ${p95.toFixed(1)}): ${latencies.map((x) => x.toFixed(1)).join(', ')} ms; ` +
    `the page's long tasks: ${longTasks.map((x) => x.toFixed(0)).join(', ') || 'none'} ms; ` +
    `Event Timing, events of 16 ms or more to their next paint (handlers done at / next paint at): ${eventTimings.map((e) => `${e.name}#${e.target} ${e.handled.toFixed(0)}/${e.duration.toFixed(0)}`).join(', ') || 'none'} ms`;
  return { latencies, longTasks, eventTimings, message };
}

/**
 * From now on every animation frame the page asks for comes `ms` late, as on a loaded machine
 * where the page's thread waits for a core: what a panel draws at the next frame stays undrawn
 * that long. (cancelAnimationFrame still cancels a frame not yet begun.)
 */
export async function lateFrames(page: Page, ms: number): Promise<void> {
  await page.evaluate((late) => {
    const raf = window.requestAnimationFrame.bind(window);
    window.requestAnimationFrame = (cb) => raf(() => { setTimeout(() => raf(cb), late); });
  }, ms);
}

/**
 * Clicks the button `stop` (a test id), then the buttons `alsoClick` in the same task of the
 * page (as a user clicking fast), and returns the text of the status element `status` and of
 * the elements `read` as they were at the moment the status first said "stopped": read by the
 * page in that moment (a MutationObserver), so nothing the page does later (a frame that
 * draws, a report that lands) can come between the status and the numbers shown beside it.
 */
export async function stopAndRead(page: Page, o: { stop: string; status: string; read: string[]; alsoClick?: string[]; timeout?: number }): Promise<Record<string, string>> {
  await page.evaluate(({ stop, status, read, alsoClick }) => {
    const byTest = (id: string): HTMLElement => {
      const e = document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
      if (e === null) throw new Error(`stopAndRead: no element with data-testid "${id}"`);
      return e;
    };
    const w = window as unknown as { stoppedAs?: Record<string, string> };
    delete w.stoppedAs;
    const st = byTest(status);
    const obs = new MutationObserver(() => {
      if (!(st.textContent ?? '').startsWith('stopped')) return;
      obs.disconnect();
      w.stoppedAs = Object.fromEntries([status, ...read].map((id) => [id, byTest(id).textContent?.trim() ?? '']));
    });
    obs.observe(st, { childList: true, characterData: true, subtree: true });
    byTest(stop).click();
    for (const id of alsoClick) byTest(id).click();
  }, { stop: o.stop, status: o.status, read: o.read, alsoClick: o.alsoClick ?? [] });
  try {
    const h = await page.waitForFunction(() => (window as unknown as { stoppedAs?: Record<string, string> }).stoppedAs, undefined, { timeout: o.timeout ?? 30_000 });
    return await h.jsonValue() as Record<string, string>;
  } catch (e) {
    const now = await page.getByTestId(o.status).textContent().catch(() => null);
    throw new Error(`after clicking ${o.stop}, ${o.status} never said "stopped" (it says ${JSON.stringify(now)}): ${e instanceof Error ? e.message : String(e)}`);
  }
}
