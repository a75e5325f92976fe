/**
 * The demo's fifth panel in Chromium: nanoGPT's recipe trains in its worker on Tiny Shakespeare
 * (fetched as a demo asset) and on a pasted text; the validation loss falls; the page answers
 * input within 100 ms meanwhile; a downloaded checkpoint is the stopped run (Node reads it and
 * gets the page's validation loss bit for bit), loads back and resumes where it stopped (Node,
 * resuming the same file, reaches the page's next validation loss bit for bit); a too-short
 * text gets a clear error; axe-core finds nothing on the filled panel.
 *
 * The run is the recipe with evaluations shortened by the page's URL parameters (every 5
 * steps on the first 1,300 validation characters, samples of 30 characters): the model, the
 * batches, the optimizer and the schedule are the recipe's, so step 10 here is step 10 of
 * `npm start -- shakespeare`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AxeBuilder } from '@axe-core/playwright';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { estimateLoss, fitText, loadBackend, loadGPT, resumeCheckpoint, safetensors, textCorpus, type Backend } from '../../src/index.js';
import { RECIPE_FIT, recipeTraining } from '../../examples/experiments/shakespeare-recipe.js';
import { loadShakespeare } from '../../examples/experiments/shakespeare.js';
import { SHOTS, describeInChromium, inputReport, openDemo, probeInput, stopAndRead, type DemoPage } from './chromium.js';

const EVAL_EVERY = 5, EVAL_CHARS = 1300;
const QUERY = `?text-eval-every=${EVAL_EVERY}&text-eval-chars=${EVAL_CHARS}&text-sample-chars=30`;

/** A text of about 4,000 characters in several scripts (two-unit emoji included), with the regularities of words. */
function unicodeText(): string {
  const words = ['λόγος', 'naïve', 'über', 'straße', '日本語', 'добрый', 'día', 'café', '🙂', 'ünïcödé', 'and', 'the', 'ﬁn'];
  let s = 7, out = '';
  while (out.length < 4000) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out += words[(s >>> 16) % words.length]! + ((s >>> 8) % 9 === 0 ? '.\n' : ' ');
  }
  return out;
}

describeInChromium('demo page: the text panel (nanoGPT\'s recipe on any text)', () => {
  let demo: DemoPage;
  let wasm: Backend;
  beforeAll(async () => {
    wasm = await loadBackend('wasm');
    demo = await openDemo(undefined, QUERY);
  }, 90_000);
  afterAll(async () => { await demo?.close(); });

  const text = async (id: string): Promise<string> => (await demo.page.getByTestId(id).textContent())?.trim() ?? '';
  const num = (s: string): number => Number(s.replace(/,/g, ''));
  /** The validation points drawn so far (the plot's dots), in order. */
  const valDots = async (): Promise<{ step: number; loss: number }[]> => demo.page.locator('#text-loss-plot circle.dot-val')
    .evaluateAll((cs) => cs.map((c) => ({ step: Number(c.getAttribute('data-step')), loss: Number(c.getAttribute('data-loss')) })));
  /** Waits for the validation loss shown to be of step `atLeast` or later, pressing keys in the prompt meanwhile when `typing`. */
  async function untilEval(atLeast: number, typing: boolean): Promise<void> {
    const { page } = demo;
    const t0 = Date.now();
    for (let k = 0; ; k++) {
      const at = await page.getByTestId('text-val-loss').getAttribute('data-step');
      if (at !== null && Number(at) >= atLeast && (!typing || (await inputReport(page)).latencies.length >= 20)) return;
      if (Date.now() - t0 > 240_000) throw new Error(`no evaluation at step ${atLeast} after 240 s: step "${await text('text-step')}", status "${await text('text-status')}", error "${await text('text-error')}"`);
      if (typing) await page.getByTestId('text-prompt').press(k % 2 === 0 ? 'End' : 'ArrowLeft');
      else await page.waitForFunction((n) => Number(document.querySelector('[data-testid="text-val-loss"]')?.getAttribute('data-step') ?? -1) >= n, atLeast, { timeout: 240_000 });
      await page.waitForTimeout(typing ? 300 : 0);
    }
  }

  let stoppedAt = -1;
  let checkpoint = '';

  it('trains on Tiny Shakespeare in a worker: the validation loss falls from ln 65, text comes from the prompt, and input is handled within 100 ms', async () => {
    const { page } = demo;
    expect(await page.getByTestId('text-shortened').textContent()).toMatch(/validation every 5 on the first 1,300 validation characters/);
    await page.getByTestId('text-start').click();
    expect(await page.getByTestId('text-stop').isEnabled()).toBe(true);
    // input is measured while the worker trains: from its first step on (the start before it
    // fetches and encodes the 1.1 MB and compiles the Wasm module, in the worker)
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="text-step"]')?.textContent?.replace(/,/g, '')) >= 1, undefined, { timeout: 120_000 });
    await probeInput(page);
    // the prompt of the next evaluation's sample (change: Enter)
    await page.getByTestId('text-prompt').fill('JULIET:');
    await page.getByTestId('text-prompt').press('Enter');
    await untilEval(3 * EVAL_EVERY, true);
    const dots = await valDots();
    expect(dots.map((d) => d.step).slice(0, 4)).toEqual([0, 5, 10, 15]);
    // untrained: about uniform over the 65 characters; then, with the same batches as npm start, it falls
    expect(Math.abs(dots[0]!.loss - Math.log(65))).toBeLessThan(0.1);
    for (let i = 1; i < 4; i++) expect(dots[i]!.loss, `validation loss at step ${dots[i]!.step}`).toBeLessThan(dots[i - 1]!.loss);
    // PyTorch's curve is drawn beside it
    expect(await page.getByTestId('text-torch-curve').getAttribute('points')).toMatch(/^[\d.]+,[\d.]+ [\d.]+,[\d.]+/);
    const sample = page.getByTestId('text-samples');
    expect(await sample.getAttribute('data-prompt')).toBe('JULIET:');
    expect((await sample.textContent())!.length).toBe('JULIET:'.length + 30);
    expect(num(await text('text-tokens-per-second'))).toBeGreaterThan(0);
    expect(num(await text('text-step'))).toBeGreaterThanOrEqual(15);
    const { latencies, eventTimings, message } = await inputReport(page);
    console.log(message);
    expect(Math.max(...latencies), message).toBeLessThan(100);
    expect(Math.max(0, ...eventTimings.map((e) => e.handled)), message).toBeLessThan(100);
    await page.locator('#panel-text').screenshot({ path: join(SHOTS, 'text-shakespeare.png') });

    // stop, and download at once (the same task of the page): the file is the stopped run
    let shown: Record<string, string> = {};
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), (async () => {
      shown = await stopAndRead(page, { stop: 'text-stop', status: 'text-status', read: ['text-step'], alsoClick: ['text-download'], timeout: 60_000 });
    })()]);
    stoppedAt = Number(/^stopped after (\d+) steps$/.exec(shown['text-status']!)![1]);
    expect(num(shown['text-step']!)).toBe(stoppedAt);
    expect(dl.suggestedFilename()).toBe(`regula-shakespeare-gpt-${stoppedAt}-steps.safetensors`);
    checkpoint = (await dl.path())!;
    expect(await page.getByTestId('text-resume').isEnabled()).toBe(true);
  }, 300_000);

  it('the downloaded checkpoint is the stopped run; it loads back and resumes: the step and the loss go on where they stopped', async () => {
    const { page } = demo;
    expect(stoppedAt).toBeGreaterThanOrEqual(15);
    const bytes = new Uint8Array(readFileSync(checkpoint));
    expect(safetensors.load(bytes).metadata['regula.step']).toBe(String(stoppedAt));
    const corpus = textCorpus(loadShakespeare(), { blockSize: 64 });
    const val = corpus.val.subarray(0, EVAL_CHARS);
    const { gpt, tokenizer } = loadGPT(wasm, bytes);
    const { optimizer, scheduler } = recipeTraining(gpt);
    try {
      expect(tokenizer!.vocab).toEqual(corpus.tokenizer.vocab);
      const nodeLoss = estimateLoss(gpt, val);

      // the file as the browser saved it (its name too: the picker takes any name)
      await page.getByTestId('text-load').setInputFiles({ name: `regula-shakespeare-gpt-${stoppedAt}-steps.safetensors`, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
      await page.waitForFunction((s) => document.querySelector('[data-testid="text-file-status"]')?.getAttribute('data-step') === String(s), stoppedAt, { timeout: 60_000 })
        .catch(async (e: unknown) => { throw new Error(`the checkpoint did not load: file status "${await text('text-file-status')}", error "${await text('text-error')}", status "${await text('text-status')}" (${String(e)})`); });
      expect(await text('text-file-status')).toMatch(new RegExp(`^loaded a checkpoint at step ${stoppedAt} \\(vocabulary of 65\\)`));
      // the page's model (wasm, its threads) and Node's (wasm, one thread): the same bits
      expect(Number(await page.getByTestId('text-val-loss').getAttribute('data-value'))).toBe(nodeLoss);
      expect(await page.getByTestId('text-resume').isEnabled()).toBe(true);

      // resume: the page goes on from stoppedAt; Node resumes the same file to the next evaluation
      const next = (Math.floor(stoppedAt / EVAL_EVERY) + 1) * EVAL_EVERY;
      await probeInput(page);
      await page.getByTestId('text-resume').click();
      await untilEval(next, false);
      const firstStep = await page.evaluate(() => Number(document.querySelector('[data-testid="text-step"]')!.textContent!.replace(/,/g, '')));
      expect(firstStep).toBeGreaterThan(stoppedAt);
      const r0 = resumeCheckpoint(bytes, { gpt, optimizer, scheduler });
      expect(r0.step).toBe(stoppedAt);
      const r = await fitText(gpt, { train: corpus.train, val }, { ...RECIPE_FIT, optimizer, scheduler, steps: next - stoppedAt, startStep: stoppedAt, sampler: r0.sampler, evalEvery: EVAL_EVERY });
      const nodeNext = r.history.find((h) => h.step === next)!.valLoss;
      const pageNext = (await valDots()).find((d) => d.step === next)!.loss;
      expect(pageNext).toBe(nodeNext);
      expect(pageNext).toBeLessThan(nodeLoss);
      const shown = await stopAndRead(page, { stop: 'text-stop', status: 'text-status', read: ['text-step'], timeout: 60_000 });
      expect(num(shown['text-step']!)).toBeGreaterThanOrEqual(next);
    } finally {
      optimizer.dispose();
      gpt.dispose();
    }
  }, 300_000);

  it('refuses a too-short text with a clear error and changes nothing; trains on a pasted Unicode text, whose vocabulary is its own', async () => {
    const { page } = demo;
    const stepBefore = await text('text-step');
    // 100 characters (code points: the emoji is one): 90 to train, 10 to validate, fewer than a window of 65
    const short = 'Zu kurz, trop court, 太短 🙂 '.repeat(3) + '.'.repeat(22);
    const n = Array.from(short).length, nVal = n - Math.floor(n * 0.9);
    expect([n, nVal]).toEqual([100, 10]);
    await page.getByTestId('text-input').fill(short);
    expect(await page.getByTestId('text-source').inputValue()).toBe('own');
    await page.getByTestId('text-start').click();
    const err = page.getByTestId('text-error');
    await err.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await err.textContent()).toBe(`Could not train on this text: textCorpus: the validation split has ${nVal} of the text's ${n} characters (trainFraction 0.9), shorter than one window of blockSize + 1 = 65: give a longer text`);
    expect(await err.getAttribute('role')).toBe('alert');
    expect(await text('text-step')).toBe(stepBefore); // the stopped run is still there
    expect(await page.getByTestId('text-resume').isEnabled()).toBe(true);
    expect(await page.getByTestId('text-start').isEnabled()).toBe(true);

    const own = unicodeText();
    const vocab = new Set(Array.from(own));
    await page.getByTestId('text-input').fill(own);
    await page.getByTestId('text-prompt').fill('café Ω');
    await page.getByTestId('text-start').click();
    await err.waitFor({ state: 'hidden' });
    // the new run's numbers replace the last run's when it is ready
    await page.waitForFunction(() => document.querySelector('[data-testid="text-status"]')?.textContent?.startsWith('training on your text'), undefined, { timeout: 60_000 });
    await untilEval(2 * EVAL_EVERY, false);
    const dots = await valDots();
    expect(dots.map((d) => d.step).slice(0, 3)).toEqual([0, 5, 10]);
    expect(Math.abs(dots[0]!.loss - Math.log(vocab.size))).toBeLessThan(0.1);
    expect(dots[2]!.loss).toBeLessThan(dots[0]!.loss);
    expect(await text('text-status')).toMatch(new RegExp(`^training on your text: [\\d,]+ characters \\(vocabulary of ${vocab.size}\\)`));
    // no PyTorch curve for a text it never saw; the prompt keeps the characters the text has
    expect(await page.getByTestId('text-torch-curve').count()).toBe(0);
    const sample = page.getByTestId('text-samples');
    expect(await sample.getAttribute('data-prompt')).toBe('café ');
    expect(await text('text-prompt-note')).toBe('not in the text\'s vocabulary, left out of the prompt: Ω');
    for (const c of (await sample.textContent())!) expect(vocab.has(c), `sampled ${JSON.stringify(c)}`).toBe(true);
    const shown = await stopAndRead(page, { stop: 'text-stop', status: 'text-status', read: ['text-step'], alsoClick: [], timeout: 60_000 });
    expect(shown['text-status']).toMatch(/^stopped after \d+ steps$/);
    await page.locator('#panel-text').screenshot({ path: join(SHOTS, 'text-own.png') });
  }, 300_000);

  it('passes axe-core with the panel filled in, and the page logged no problem', async () => {
    const r = await new AxeBuilder({ page: demo.page }).include('#panel-text').withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    expect(r.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    expect(demo.problems).toEqual([]);
  });
});
