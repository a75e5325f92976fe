/**
 * Panel 5: nanoGPT's CPU recipe (4 layers, 4 heads, width 128, block 64) on Tiny Shakespeare
 * or on a text the user pastes or drops, trained in a Web Worker (text-worker.ts). The page
 * draws the training and validation curves beside PyTorch's validation curve for the same
 * recipe (test/reference/shakespeare-torch.json, a demo asset), the text the model writes
 * from the user's prompt at each evaluation, and tokens/s; it stops, resumes, downloads the
 * run as a checkpoint file and loads one back.
 *
 * The recipe's defaults can be shortened with URL parameters (the browser tests do; the
 * panel says so when they are set): text-iters, text-eval-every, text-eval-chars (validate
 * on the first this many validation characters) and text-sample-chars.
 */
import { RECIPE, type TorchReference } from '../experiments/shakespeare-recipe.js';
import type { FromTextWorker, TextRunOptions, TextSource, ToTextWorker } from './text-protocol.js';
import { byId, frameDraw, onFileChosen, saveFile, scale, stepAxes, svg, thousands } from './svg.js';

/** PyTorch's three seeds of the recipe on Tiny Shakespeare: fetched as a demo asset. */
const TORCH_REFERENCE_URL = new URL('../../test/reference/shakespeare-torch.json', import.meta.url);

interface Point { step: number; loss: number }

/** The run's options: the recipe's, or what the URL sets (a positive integer each; anything else is ignored). */
export function runOptions(search: string): TextRunOptions & { shortened: boolean } {
  const q = new URLSearchParams(search);
  const int = (name: string, fallback: number, min: number): number => {
    const raw = q.get(name);
    const v = raw === null ? NaN : Number(raw);
    return Number.isSafeInteger(v) && v >= min ? v : fallback;
  };
  const o = { iters: int('text-iters', RECIPE.iters, 1), evalEvery: int('text-eval-every', RECIPE.evalEvery, 1), evalChars: int('text-eval-chars', 0, RECIPE.blockSize + 1), sampleChars: int('text-sample-chars', 200, 1) };
  return { ...o, shortened: o.iters !== RECIPE.iters || o.evalEvery !== RECIPE.evalEvery || o.evalChars !== 0 || o.sampleChars !== 200 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function initText(): void {
  const worker = new Worker(new URL('./text-worker.ts', import.meta.url), { type: 'module', name: 'regula-text' });
  const send = (m: ToTextWorker, transfer: Transferable[] = []): void => worker.postMessage(m, transfer);
  const sourceSel = byId<HTMLSelectElement>('text-source');
  const input = byId<HTMLTextAreaElement>('text-input');
  const promptInput = byId<HTMLInputElement>('text-prompt');
  const startBtn = byId<HTMLButtonElement>('text-start');
  const stopBtn = byId<HTMLButtonElement>('text-stop');
  const resumeBtn = byId<HTMLButtonElement>('text-resume');
  const downloadBtn = byId<HTMLButtonElement>('text-download');
  const loadInput = byId<HTMLInputElement>('text-load');
  const status = byId('text-status');
  const fileStatus = byId('text-file-status');
  const error = byId('text-error');
  const options = runOptions(location.search);
  const { shortened, ...runOpts } = options;

  let run = 0;
  /** 'idle': nothing to resume; 'running'; 'stopped': a run (or a loaded checkpoint) to resume. */
  let state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  /** Whether the worker holds a run to resume (one that started, or a loaded checkpoint). */
  let hasRun = false;
  /** Whether the shown run is on Tiny Shakespeare (PyTorch's curve applies), and its steps done. */
  let onShakespeare = true;
  let step = 0;
  let train: Point[] = [];
  let val: Point[] = [];
  let rates: number[] = [];
  let reference: TorchReference['mean'] | null = null;
  const redraw = frameDraw(draw);

  if (shortened) {
    byId('text-shortened').textContent = `Shortened by the page's URL: ${runOpts.iters} iterations, validation every ${runOpts.evalEvery}` +
      `${runOpts.evalChars > 0 ? ` on the first ${thousands(runOpts.evalChars)} validation characters` : ''}, ${runOpts.sampleChars} characters per sample.`;
  }

  function setState(s: typeof state): void {
    state = s;
    startBtn.disabled = s === 'running' || s === 'stopping';
    stopBtn.disabled = s !== 'running';
    resumeBtn.disabled = s !== 'stopped' || !hasRun || step >= runOpts.iters;
    // enabled while stopping too: a download clicked with the stop is the stopped run (the
    // worker reads 'save' after 'stop', and fitText takes no step once stopped)
    downloadBtn.disabled = !hasRun;
    loadInput.disabled = s === 'stopping';
  }

  function showError(message: string | null): void {
    error.hidden = message === null;
    error.textContent = message ?? '';
  }

  function source(): TextSource {
    return sourceSel.value === 'own' ? { kind: 'own', text: input.value } : { kind: 'shakespeare' };
  }

  function clearNumbers(): void {
    for (const id of ['text-step', 'text-train-loss', 'text-val-loss', 'text-torch-val', 'text-tokens-per-second', 'text-lr']) byId(id).textContent = '–';
    byId('text-val-loss').removeAttribute('data-value');
    byId('text-val-loss').removeAttribute('data-step');
    byId('text-tokens-per-second').removeAttribute('data-value');
  }

  /** A new run: the curves and numbers go when the worker says it is ready (a text it refuses leaves the last run as it was). */
  function start(): void {
    run++;
    const s = source();
    showError(null);
    setState('running');
    status.textContent = s.kind === 'shakespeare' ? 'fetching Tiny Shakespeare and starting…' : 'starting on your text…';
    send({ type: 'start', run, source: s, options: runOpts, prompt: promptInput.value });
  }

  /** Forgets the shown run (a new one is ready, or a checkpoint loaded). */
  function clearRun(shakespeare: boolean): void {
    train = []; val = []; rates = []; step = 0;
    onShakespeare = shakespeare;
    hasRun = true;
    clearNumbers();
    byId('text-samples').replaceChildren();
    byId('text-prompt-note').textContent = '';
  }

  function resume(): void {
    run++;
    rates = [];
    showError(null);
    setState('running');
    status.textContent = `resuming at step ${step}…`;
    send({ type: 'resume', run, options: runOpts, prompt: promptInput.value });
  }

  function stop(): void {
    if (state !== 'running') return;
    setState('stopping');
    status.textContent = 'stopping…';
    send({ type: 'stop', run });
  }

  /** A checkpoint file from the picker or a drop: the worker checks it (untrusted bytes) and makes it the run to resume. */
  async function loadCheckpoint(file: File): Promise<void> {
    fileStatus.textContent = `loading ${file.name}…`;
    delete fileStatus.dataset['step'];
    showError(null);
    const bytes = new Uint8Array(await file.arrayBuffer());
    run++; // reports of a running training are stale from here
    setState('stopping');
    send({ type: 'load', run, bytes, source: source(), options: runOpts, prompt: promptInput.value }, [bytes.buffer]);
  }

  function showVal(p: Point): void {
    const el = byId('text-val-loss');
    el.textContent = p.loss.toFixed(3);
    el.dataset['value'] = String(p.loss);
    el.dataset['step'] = String(p.step);
    const t = onShakespeare ? reference?.find((r) => r.iter === p.step) : undefined;
    byId('text-torch-val').textContent = t === undefined ? '–' : `${t.valLoss.toFixed(3)} (step ${p.step})`;
  }

  function showSample(at: number, prompt: string, sample: string, dropped: string): void {
    const pre = byId('text-samples');
    const p = document.createElement('strong');
    p.textContent = prompt;
    pre.replaceChildren(p, document.createTextNode(sample));
    pre.dataset['step'] = String(at);
    pre.dataset['prompt'] = prompt;
    byId('text-samples-title').textContent = `what it writes at step ${thousands(at)} (temperature 0.8, the prompt in bold)`;
    byId('text-prompt-note').textContent = dropped === '' ? '' : `not in the text's vocabulary, left out of the prompt: ${dropped}`;
  }

  worker.onmessage = (e: MessageEvent<FromTextWorker>) => {
    const m = e.data;
    if (m.type === 'checkpoint') {
      const name = `regula-${onShakespeare ? 'shakespeare' : 'text'}-gpt-${m.step}-steps.safetensors`;
      saveFile(m.bytes, name);
      fileStatus.textContent = `downloaded ${name} (${thousands(m.bytes.length)} bytes): the model, its vocabulary, AdamW's moments, the schedule, the step and the batch sampler`;
      return;
    }
    if (m.type === 'sample') { showSample(m.step, m.prompt, m.sample, m.dropped); return; }
    if (m.type === 'load-error') {
      fileStatus.textContent = `could not load the file: ${m.message}`;
      showError(`Could not load the checkpoint: ${m.message}`);
      setState(hasRun ? 'stopped' : 'idle');
      return;
    }
    if (m.run !== run) return; // a report of a run that was replaced
    if (m.type === 'ready') {
      if (m.step === 0) clearRun(m.kind === 'shakespeare');
      setState(state);
      redraw.now();
      byId('text-params').textContent = thousands(m.nParams);
      status.textContent = `training on ${m.source}: ${thousands(m.trainChars)} characters (vocabulary of ${m.vocabSize}), validated on ${thousands(m.valChars)}, ${m.threads} thread${m.threads > 1 ? 's' : ''}…`;
    } else if (m.type === 'progress') {
      step = m.step;
      train.push({ step: m.step, loss: m.trainLoss });
      rates.push(m.tokensPerSecond);
      if (rates.length > 10) rates.shift();
      const tps = byId('text-tokens-per-second');
      tps.textContent = thousands(median(rates));
      tps.dataset['value'] = String(median(rates));
      byId('text-step').textContent = thousands(m.step);
      byId('text-train-loss').textContent = m.trainLoss.toFixed(3);
      byId('text-lr').textContent = m.lr.toExponential(2);
      redraw.later();
    } else if (m.type === 'eval') {
      const p = { step: m.step, loss: m.valLoss };
      if (val.length > 0 && val[val.length - 1]!.step === m.step) val[val.length - 1] = p; // a resumed run evaluates its first step again
      else val.push(p);
      showVal(p);
      showSample(m.step, m.prompt, m.sample, m.dropped);
      redraw.later();
    } else if (m.type === 'loaded') {
      clearRun(m.kind === 'shakespeare');
      step = m.step;
      val.push({ step: m.step, loss: m.valLoss });
      showVal(val[0]!);
      byId('text-step').textContent = thousands(m.step);
      byId('text-params').textContent = thousands(m.nParams);
      fileStatus.dataset['step'] = String(m.step);
      fileStatus.textContent = `loaded a checkpoint at step ${thousands(m.step)} (vocabulary of ${m.vocabSize}): validation loss ${m.valLoss.toFixed(4)} on ${m.source}; resume continues it`;
      status.textContent = `loaded: step ${thousands(m.step)}, ready to resume`;
      setState('stopped');
      redraw.now();
    } else if (m.type === 'stopped') {
      step = m.step;
      byId('text-step').textContent = thousands(m.step);
      // the worker reported its last steps just before this: draw them now (see frameDraw)
      redraw.now();
      setState(hasRun ? 'stopped' : 'idle');
      status.textContent = !hasRun ? 'idle' : m.reason === 'finished' ? `finished: ${thousands(m.step)} steps` : m.reason === 'diverged' ? `stopped after ${m.step} steps: the loss was not finite` : `stopped after ${m.step} steps`;
    } else {
      redraw.now();
      setState(hasRun ? 'stopped' : 'idle');
      status.textContent = hasRun ? `stopped after ${step} steps` : 'idle';
      showError(`Could not train on this text: ${m.message}`);
    }
  };
  worker.onerror = (e) => {
    hasRun = false;
    setState('idle');
    status.textContent = `the worker failed: ${e.message}`;
  };

  /** The loss plot's frame (axes) for the current ranges, and the elements a report updates in place. */
  let frame: { key: string; train: SVGPolylineElement; val: SVGPolylineElement; dots: SVGGElement } | null = null;

  // At most once per animation frame; the axes are rebuilt only when a range changes, so a
  // frame's work stays small on the page's thread (as panel 4's plot).
  function draw(): void {
    const plot = byId<SVGSVGElement>('text-loss-plot');
    const box = { W: 460, H: 240, left: 38, right: 10, top: 10, bottom: 26 }, { W, H, left, right, top, bottom } = box;
    const last = Math.max(train[train.length - 1]?.step ?? 0, val[val.length - 1]?.step ?? 0);
    const xMax = Math.min(Math.max(runOpts.iters, 1), Math.max(250, Math.ceil(last / 250) * 250));
    // losses in nats: from 1.5 (or the lowest drawn) to 4.5 (or above the first ones), in halves
    const first = [...val, ...train.slice(0, 3)].map((p) => p.loss).filter(Number.isFinite);
    const yMax = Math.max(4.5, Math.ceil(Math.max(0, ...first) * 2 + 0.2) / 2);
    const yMin = Math.max(0, Math.min(1.5, Math.floor(Math.min(Infinity, ...[...val, ...train].map((p) => p.loss).filter(Number.isFinite)) * 2) / 2));
    const sx = scale(0, xMax, left, W - right);
    const sy = scale(yMin, yMax, H - bottom, top);
    const empty = train.length === 0 && val.length === 0;
    const ref = onShakespeare ? reference : null;
    const key = `${xMax} ${yMin} ${yMax} ${empty} ${ref !== null} ${state}`;
    if (frame === null || frame.key !== key) {
      stepAxes(plot, box, xMax, yMin, yMax, sx, sy);
      if (ref !== null) {
        const pts = ref.filter((r) => r.iter <= xMax);
        svg(plot, 'polyline', { class: 'line-ref', 'data-testid': 'text-torch-curve', points: pts.map((r) => `${sx(r.iter).toFixed(1)},${sy(Math.min(yMax, r.valLoss)).toFixed(1)}`).join(' ') });
      }
      if (empty) svg(plot, 'text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, state === 'running' ? 'waiting for the first steps…' : 'press start to train');
      frame = { key, train: svg(plot, 'polyline', { class: 'line-train' }), val: svg(plot, 'polyline', { class: 'line-val' }), dots: svg(plot, 'g') };
    }
    if (empty) return;
    const y = (v: number): string => sy(Math.min(yMax, Math.max(yMin, v))).toFixed(1);
    const points = (pts: Point[]) => pts.map((p) => `${sx(p.step).toFixed(1)},${y(p.loss)}`).join(' ');
    // reports every ~100 ms pile up: draw at most ~400 of them, so a frame costs the same after an hour
    const every = Math.ceil(train.length / 400);
    frame.train.setAttribute('points', points(every > 1 ? train.filter((_, i) => i % every === 0 || i === train.length - 1) : train));
    frame.val.setAttribute('points', points(val));
    // the dots: rebuilt when a resumed run replaced the last one, else only the new ones
    if (frame.dots.childElementCount > val.length || (val.length > 0 && frame.dots.lastElementChild?.getAttribute('data-step') === String(val[val.length - 1]!.step) && frame.dots.lastElementChild.getAttribute('data-loss') !== String(val[val.length - 1]!.loss))) frame.dots.replaceChildren();
    for (const p of val.slice(frame.dots.childElementCount)) svg(frame.dots, 'circle', { class: 'dot-val', cx: sx(p.step), cy: y(p.loss), r: 2.5, 'data-step': p.step, 'data-loss': String(p.loss) });
  }

  fetch(TORCH_REFERENCE_URL).then(async (r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    reference = ((await r.json()) as TorchReference).mean;
    redraw.later();
  }).catch((e: unknown) => {
    byId('text-shortened').textContent = `PyTorch's reference curve could not be fetched (${e instanceof Error ? e.message : String(e)}).`;
  });

  startBtn.addEventListener('click', start);
  stopBtn.addEventListener('click', stop);
  resumeBtn.addEventListener('click', resume);
  downloadBtn.addEventListener('click', () => send({ type: 'save' }));
  // the prompt of the next samples (Enter or leaving the field); when nothing trains, a sample now
  promptInput.addEventListener('change', () => { if (state !== 'idle') send({ type: 'prompt', prompt: promptInput.value }); });
  // typing or pasting a text chooses it
  input.addEventListener('input', () => { if (input.value !== '' && sourceSel.value !== 'own') sourceSel.value = 'own'; });
  // the file chosen with "load a checkpoint", or a dropped .safetensors file, is a checkpoint;
  // any other dropped file is a text to train on
  onFileChosen(byId('panel-text'), loadInput, (f, how) => {
    if (how === 'chosen' || f.name.endsWith('.safetensors')) { if (state !== 'stopping') void loadCheckpoint(f); return; }
    void f.text().then((t) => {
      input.value = t;
      sourceSel.value = 'own';
      fileStatus.textContent = `${f.name}: ${thousands(Array.from(t).length)} characters, press start to train on them`;
    });
  });
  setState('idle');
  draw();
}
