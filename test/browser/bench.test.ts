/**
 * The demo's benchmark page (examples/demo/bench.html) in Chromium, cross-origin isolated:
 * it runs the kernel and training-step suites in its worker with a short time budget, and
 * its results are present and sane (tested for presence and sanity, not speed: no figure
 * is held to a speed). Every case of the suites appears with a finite positive time and
 * rate; the f32x4 ceiling is measured; wasm on 1 thread, on every core and js each have rows;
 * the JSON shown equals the JSON downloaded; and the wasm-vs-js ratios agree with those of
 * the same cases timed in Node in this process, with the same budget, within a broad factor.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AxeBuilder } from '@axe-core/playwright';
import { disposeBackends, loadBackends } from '../../bench/backends.js';
import type { Row } from '../../bench/harness.js';
import { setHost } from '../../bench/host.js';
import { loadPeak } from '../../bench/peak.js';
import { PORTABLE_SUITES, RECIPE_TITLE, runSuites, timingFor, wasmOverJs } from '../../bench/portable.js';
import type { BenchReport } from '../../examples/demo/bench-protocol.js';
import { SHOTS, describeInChromium, inputReport, openDemo, probeInput, runBenchPage, type DemoPage } from './chromium.js';

/** ms per case: 2 rounds of at least 2 calls (bench/portable.ts's timingFor under 500 ms). */
const TIME = 30;
/**
 * How far the page's wasm-vs-js ratios (of the fastest calls) may be from Node's for the same
 * cases: their geometric mean over a suite's cases within a factor of 8, over all cases within
 * 4. Not case by case: the two are different engines warming up differently, and one case
 * can be far apart. Chromium 156's V8 runs some plain JS loops 3x faster than Node 20's V8
 * 11.3 at its best (js addRowVector 1024x1024: 0.92 against 2.99 ms, wasm 0.11 against
 * 0.14 ms); Node's optimizes some late within a 30 ms budget when the machine is loaded
 * (its compiler thread waits for a core: the js MLP step was 297x wasm in Node beside a CPU
 * hog at load 21, 4.7x on the page); a threaded case's fastest call is the scheduler's. Seen
 * over nine runs at load 12-25 (three beside a hog, one beside the whole npm test): all cases
 * 0.45-0.94, a suite 0.22-2.05, one case 0.02-8.1; always lower on a more loaded machine, as
 * Node's js is then further from its optimized code. The same cases are checked name by name above; what the bounds catch is
 * a page whose wasm or js runs far off Node's across a suite (wasm timed where js is named
 * gives a ratio near 1 where Node's are 3-140).
 */
const SUITE_FACTOR = 8, MEAN_FACTOR = 4;
/**
 * Input latency bound while the page runs: the worker and its thread pool keep every core of
 * this 2-core machine busy, so an input event waits for the page's thread to get a core; it
 * never waits for benchmark work (measured: see the log line).
 */
const LATENCY_MS = 250;
/** Thread counts in case names ("regula wasm 2 threads") as Node and Chromium may count cores differently. */
const norm = (s: string) => s.replace(/\b\d+ threads\b/, 'N threads');

describeInChromium('the benchmark page', () => {
  let demo: DemoPage;
  let report: BenchReport;
  beforeAll(async () => { demo = await openDemo({ width: 1280, height: 900 }, 'bench.html'); }, 90_000);
  afterAll(async () => { await demo?.close(); });

  it('runs both suites in its worker with a short budget: every case timed, the ceiling measured, the JSON shown and downloaded', async () => {
    const { page } = demo;
    await probeInput(page);
    const t0 = Date.now();
    const running = runBenchPage(page, { suites: ['kernels', 'training'], timeMs: TIME, check: false, filter: '' });
    let finished = false;
    void running.finally(() => { finished = true; }).catch(() => {});
    // While the worker runs, a key goes to the page each time its status names the next group:
    // the page's thread only draws, so each is handled at once (probeInput records how soon).
    const status = page.getByTestId('bench-status');
    for (let k = 0; !finished; k++) {
      const now = (await status.textContent()) ?? '';
      await page.getByTestId('bench-filter').press(k % 2 === 0 ? 'End' : 'Home');
      const next = page.waitForFunction((prev) => document.querySelector('[data-testid="bench-status"]')!.textContent !== prev, now, { timeout: 120_000, polling: 50 });
      next.catch(() => {}); // outlived by the run's end: closed with the page
      await Promise.race([running, next]);
    }
    const { state, status: said, report: shown } = await running;
    expect(state, said).toBe('done');
    const input = await inputReport(page);
    console.log(`benchmark page: ${said} (${((Date.now() - t0) / 1000).toFixed(1)} s with the clicks); ${input.message}`);
    expect(input.latencies.length).toBeGreaterThanOrEqual(10);
    expect(Math.max(...input.latencies), input.message).toBeLessThan(LATENCY_MS);

    report = shown!;
    expect(report.kind).toBe('regula benchmark page');
    expect(report.stopped).toBe(false);
    expect(report.settings).toEqual({ suites: ['kernels', 'training'], timeMs: TIME, check: false, filter: '' });
    expect(report.crossOriginIsolated).toBe(true);
    expect(report.threads).toBeGreaterThan(1);
    expect(report.threadsReason).toBeNull();
    expect(Number.isFinite(report.ceiling.gflops) && report.ceiling.gflops > 0).toBe(true);
    expect(Number(await page.getByTestId('bench-ceiling').getAttribute('data-value'))).toBe(report.ceiling.gflops);

    // every case: a finite positive time and rate from at least 2 rounds × 2 samples
    for (const r of report.rows) {
      const where = `${r.group} / ${r.case}`;
      expect(Number.isFinite(r.medianMs) && r.medianMs > 0, where).toBe(true);
      expect(r.minMs > 0 && r.minMs <= r.medianMs, where).toBe(true);
      expect(Number.isFinite(r.rate) && r.rate > 0, where).toBe(true);
      expect(r.samples, where).toBeGreaterThanOrEqual(4);
      if (r.rateUnit === 'GFLOP/s' && r.backend !== undefined) {
        expect(r.shareOfCeiling, where).toBeCloseTo(r.rate / (report.ceiling.gflops * (r.threads ?? 1)), 12);
      }
    }
    // threads on and off, and js, in every group that times js (kernels and steps alike)
    const groups = [...new Set(report.rows.map((r) => r.group))];
    let withJs = 0;
    for (const g of groups) {
      const rows = report.rows.filter((r) => r.group === g);
      if (!rows.some((r) => r.backend === 'js')) continue;
      withJs++;
      expect(rows.some((r) => r.backend === 'wasm' && r.threads === 1), g).toBe(true);
      expect(rows.some((r) => r.backend === 'wasm' && r.threads === report.threads), g).toBe(true);
    }
    expect(withJs).toBeGreaterThanOrEqual(10);
    // nanoGPT's recipe (issue 22): 1 thread and every core, ms/iteration and tokens/s of 12 × 64 tokens
    expect(report.recipe.map((f) => f.threads)).toEqual([1, report.threads]);
    for (const f of report.recipe) expect(f.tokensPerSecond * f.msPerIteration / 1000).toBeCloseTo(768, 9);
    expect(report.rows.some((r) => r.group.startsWith(RECIPE_TITLE) && r.backend === 'ceiling')).toBe(true);
    // one table row per case on the page
    expect(await page.locator('[data-testid="bench-results"] tbody tr').count()).toBe(report.rows.length);
    expect(await page.getByTestId('bench-count').textContent()).toBe(String(report.rows.length));

    // the download is the JSON shown
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('bench-download').click()]);
    expect(dl.suggestedFilename()).toMatch(/^regula-bench-.+\.json$/);
    expect(JSON.parse(readFileSync((await dl.path())!, 'utf8'))).toEqual(report);
    await page.locator('#panel-bench').screenshot({ path: join(SHOTS, 'bench.png') });
  }, 300_000);

  it('has the cases Node times, and wasm-vs-js ratios near Node\'s for the same cases and budget: each suite\'s geometric mean within 8x, all within 4x', async () => {
    expect(report).toBeDefined();
    setHost({ peak: loadPeak }); // the page's host: the ceiling, no peers
    const bes = await loadBackends();
    let node: Row[];
    try {
      node = await runSuites(['kernels', 'training'], bes, '', TIME, timingFor(TIME, false));
    } finally {
      disposeBackends(bes);
    }
    // the same cases: every suite, group and case name (thread counts aside)
    const key = (r: Row) => norm(`${r.suite} / ${r.group} / ${r.case}`);
    expect(report.rows.map(key)).toEqual(node.map(key));
    expect(new Set(node.map((r) => r.suite))).toEqual(new Set([...PORTABLE_SUITES.kernels, ...PORTABLE_SUITES.training].map((s) => s.name)));

    // the fastest calls' ratios: on this shared machine a median of a few samples can be a preempted one
    const page = wasmOverJs(report.rows, 'minMs'), here = wasmOverJs(node, 'minMs');
    expect(here.size).toBeGreaterThanOrEqual(20);
    const lines: string[] = [];
    const logs = new Map<string, number[]>(); // suite → log(page / Node) of its cases
    for (const [k, n] of here) {
      const p = [...page].find(([pk]) => norm(pk) === norm(k))?.[1];
      expect(p, k).toBeDefined();
      const q = p! / n;
      const suite = node.find((r) => `${r.group} / ${r.case}` === k)!.suite;
      logs.set(suite, [...logs.get(suite) ?? [], Math.log(q)]);
      lines.push(`${k}: page ${p!.toFixed(2)}x, Node ${n.toFixed(2)}x (${q.toFixed(2)})`);
    }
    const gmean = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + x, 0) / xs.length);
    const suites = [...logs].map(([name, xs]) => ({ name, mean: gmean(xs) }));
    const mean = gmean([...logs.values()].flat());
    console.log(`wasm over js (fastest calls), page vs Node (${TIME} ms a case); geometric means of page / Node: all ${mean.toFixed(2)}, ` +
      `${suites.map((x) => `${x.name} ${x.mean.toFixed(2)}`).join(', ')}:\n  ${lines.join('\n  ')}`);
    const recipe = (rows: readonly Row[]) => rows.filter((r) => r.group.startsWith(RECIPE_TITLE) && r.backend === 'wasm').map((r) => `${r.case} ${r.tokensPerSecond!.toFixed(0)}`).join(', ');
    console.log(`nanoGPT recipe tokens/s (a few calls, not a measurement): page ${recipe(report.rows)}; Node ${recipe(node)}`);
    expect(suites.length).toBe(6); // every suite with js rows: matmul, elementwise, dropout, prox, train, transformer
    for (const x of suites) {
      expect(x.mean, x.name).toBeGreaterThan(1 / SUITE_FACTOR);
      expect(x.mean, x.name).toBeLessThan(SUITE_FACTOR);
    }
    expect(mean).toBeGreaterThan(1 / MEAN_FACTOR);
    expect(mean).toBeLessThan(MEAN_FACTOR);
  }, 300_000);

  it('checks results in the browser when asked (matmul 128³: wasm on 1 thread and every core equal js bit for bit, all near float64), stops when asked, and passes axe-core', async () => {
    const { state, status, report: r } = await runBenchPage(demo.page, { suites: ['kernels'], timeMs: TIME, check: true, filter: 'matmul 128x128x128' });
    expect(state, status).toBe('done');
    expect(r!.settings.check).toBe(true);
    expect(r!.rows.map((x) => norm(x.case))).toEqual(['regula wasm', 'regula wasm N threads', 'regula js', 'naive JS loop']);

    // stop: the run ends after the group it is in, and says so
    const { page } = demo;
    const running = runBenchPage(page, { suites: ['kernels'], timeMs: TIME, check: false, filter: '' });
    await page.waitForFunction(() => (document.querySelector('[data-testid="bench-status"]')!.textContent ?? '').startsWith('running matmul: '), undefined, { timeout: 60_000, polling: 20 });
    await page.getByTestId('bench-stop').click();
    const stopped = await running;
    expect(stopped.state, stopped.status).toBe('stopped');
    expect(stopped.report!.stopped).toBe(true);
    const groups = new Set(stopped.report!.rows.map((x) => x.group));
    expect(groups.size).toBeGreaterThanOrEqual(1);
    expect(groups.size).toBeLessThan(13); // matmul alone has 13 groups
    expect(await page.getByTestId('bench-run').isEnabled()).toBe(true);

    const a = await new AxeBuilder({ page: demo.page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    expect(a.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    expect(demo.problems).toEqual([]);
  }, 120_000);
});
