/**
 * Panel 4: experiment 8's transformer trained on first names in a Web Worker (gpt-worker.ts).
 * The page draws the loss curves, the names the model writes at each evaluation, the
 * training speed, and one attention head's weights over a name the user types. Weight
 * decay applies live; dropout and the backend restart the run. Runs are started and stopped
 * with regula's trainInWorker.
 */
import { trainInWorker, type TrainingRun } from '../../src/index.js';
import { GPT_SHAPE } from '../experiments/gpt-names.js';
import type { FromGptWorker, GptProgress, GptResult, GptSettings, ToGptWorker } from './gpt-protocol.js';
import { byId, frameDraw, reset, saveFile, scale, stepAxes, svg, thousands } from './svg.js';

/** The weight-decay slider's stops (AdamW's λ; decay per step is lr·λ). */
export const GPT_WDS = [0, 0.01, 0.03, 0.1, 0.3, 1, 3];
/** The characters the model knows besides "\n" (the names' alphabet). */
const ALPHABET = /[^a-z-]/g;

interface Point { step: number; loss: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function initGpt(): void {
  const worker = new Worker(new URL('./gpt-worker.ts', import.meta.url), { type: 'module', name: 'regula-gpt' });
  const send = (m: ToGptWorker): void => worker.postMessage(m);
  const backendSel = byId<HTMLSelectElement>('gpt-backend');
  const drop = byId<HTMLInputElement>('gpt-dropout');
  const wd = byId<HTMLInputElement>('gpt-wd');
  const startBtn = byId<HTMLButtonElement>('gpt-start');
  const stopBtn = byId<HTMLButtonElement>('gpt-stop');
  const status = byId('gpt-status');
  const input = byId<HTMLInputElement>('attention-input');
  const layerSel = byId<HTMLSelectElement>('attention-layer');
  const headSel = byId<HTMLSelectElement>('attention-head');
  const note = byId('attention-note');
  const downloadBtn = byId<HTMLButtonElement>('gpt-weights-download');
  const weightsStatus = byId('gpt-weights-status');

  /** The run the panel shows; reports of any other (replaced) run are ignored. */
  let current: TrainingRun<GptResult> | null = null;
  let running = false;
  let train: Point[] = [];
  let val: Point[] = [];
  let rates: number[] = [];
  const redraw = frameDraw(draw);
  let attentionId = 0;
  let lastAttention: Extract<FromGptWorker, { type: 'attention' }> | null = null;

  function settings(): GptSettings {
    return { backend: backendSel.value === 'js' ? 'js' : 'wasm', dropout: Number(drop.value), weightDecay: GPT_WDS[Number(wd.value)]! };
  }

  function showSettings(): void {
    const s = settings();
    byId('gpt-dropout-value').textContent = s.dropout.toFixed(2);
    drop.setAttribute('aria-valuetext', s.dropout.toFixed(2));
    byId('gpt-wd-value').textContent = String(s.weightDecay);
    wd.setAttribute('aria-valuetext', String(s.weightDecay));
  }

  function setRunning(on: boolean): void {
    running = on;
    startBtn.disabled = on;
    stopBtn.disabled = !on;
  }

  function start(): void {
    train = []; val = []; rates = [];
    setRunning(true);
    const s = settings();
    status.textContent = `starting on ${s.backend}…`;
    for (const id of ['gpt-step', 'gpt-train-loss', 'gpt-val-loss', 'gpt-best-val', 'gpt-tokens-per-second']) byId(id).textContent = '–';
    byId('gpt-val-loss').removeAttribute('data-value');
    byId('gpt-samples').replaceChildren();
    byId('gpt-memorized').textContent = '';
    redraw.now();
    const run = trainInWorker<GptSettings, GptProgress, GptResult>(worker, s, { onProgress: (p) => { if (run === current) report(p); } });
    current = run;
    run.result.then(({ value }) => { if (run === current) stopped(value.step); }, (e: unknown) => { if (run === current) failed(e); });
  }

  function requestAttention(): void {
    const clean = input.value.toLowerCase().replace(ALPHABET, '').slice(0, GPT_SHAPE.blockSize - 1);
    note.textContent = clean === input.value ? '' : `the model knows a–z and "-" only: showing "${clean}"`;
    send({ type: 'attention', id: ++attentionId, text: clean });
  }

  worker.onmessage = (e: MessageEvent<FromGptWorker>) => {
    const m = e.data;
    if (m.type === 'attention') {
      if (m.id === attentionId) { lastAttention = m; drawAttention(); }
      return;
    }
    if (m.type === 'weights') {
      const name = `regula-names-gpt-${m.step}-steps.safetensors`;
      saveFile(m.bytes, name);
      weightsStatus.textContent = `downloaded ${name} (${thousands(m.bytes.length)} bytes)`;
      return;
    }
    if (m.type === 'error') showError(`GPT panel: ${m.message}`);
    // the runs' own messages ('regula:…') go to trainInWorker's listener
  };

  function report(m: GptProgress): void {
    if (m.type === 'ready') {
      byId('gpt-params').textContent = thousands(m.nParams);
      status.textContent = `training on ${m.backend}: ${thousands(m.trainNames)} names (${thousands(m.trainChars)} characters), validated on ${m.valNames} others…`;
    } else if (m.type === 'progress') {
      train.push({ step: m.step, loss: m.trainLoss });
      rates.push(m.tokensPerSecond);
      if (rates.length > 10) rates.shift();
      const el = byId('gpt-tokens-per-second');
      el.textContent = thousands(median(rates));
      el.dataset['backend'] = m.backend;
      byId('gpt-step').textContent = String(m.step);
      downloadBtn.disabled = false;
      byId('gpt-train-loss').textContent = m.trainLoss.toFixed(3);
      redraw.later();
    } else {
      val.push({ step: m.step, loss: m.valLoss });
      const el = byId('gpt-val-loss');
      el.textContent = m.valLoss.toFixed(3);
      el.dataset['value'] = String(m.valLoss);
      const best = val.reduce((a, b) => (b.loss < a.loss ? b : a));
      byId('gpt-best-val').textContent = `${best.loss.toFixed(3)} (step ${best.step})`;
      showSamples(m.samples, m.memorized);
      requestAttention();
      redraw.later();
    }
  }

  function stopped(step: number): void {
    // the worker reported its last steps just before its result: draw them now (see frameDraw)
    redraw.now();
    setRunning(false);
    status.textContent = `stopped after ${step} steps`;
  }

  function showError(message: string): void {
    const err = byId('page-error');
    err.textContent = message;
    err.hidden = false;
  }

  function failed(e: unknown): void {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    redraw.now();
    setRunning(false);
    status.textContent = `error: ${message}`;
    showError(`GPT training failed: ${message}`);
  }
  worker.onerror = (e) => {
    setRunning(false);
    status.textContent = `the worker failed: ${e.message}`;
  };

  function showSamples(samples: string[], memorized: boolean[]): void {
    const list = byId('gpt-samples');
    list.replaceChildren(...samples.map((name, i) => {
      const li = document.createElement('li');
      // an untrained model rambles: show the start of a long name, keep it whole in data-name
      li.textContent = name === '' ? '(empty)' : name.length > 20 ? `${name.slice(0, 20)}…` : name;
      li.dataset['name'] = name;
      if (memorized[i]) {
        li.className = 'memorized';
        const mark = document.createElement('span');
        mark.className = 'visually-hidden';
        mark.textContent = ' (a training name)';
        li.append(mark);
      }
      return li;
    }));
    const k = memorized.filter(Boolean).length;
    byId('gpt-memorized').textContent = `${k} of ${samples.length} are names of the training set (underlined), the rest are new`;
  }

  /** The loss plot's frame for the current x range, and the elements a new report updates in place. */
  let frame: { xMax: number; empty: boolean; train: SVGPolylineElement; val: SVGPolylineElement; dots: SVGGElement } | null = null;

  // Runs at most once per animation frame while training (reports come every ~100 ms): the
  // axes are rebuilt only when the x range grows, the two curves get new points, and the
  // validation dots only the new ones, so a frame's work stays small on the page's thread.
  function draw(): void {
    const plot = byId<SVGSVGElement>('gpt-loss-plot');
    const box = { W: 460, H: 240, left: 38, right: 10, top: 10, bottom: 26 }, { W, H, left, right, top, bottom } = box;
    const last = Math.max(train[train.length - 1]?.step ?? 0, val[val.length - 1]?.step ?? 0);
    const xMax = Math.max(500, Math.ceil(last / 500) * 500);
    const yMax = 3.5, yMin = 1.5;
    const sx = scale(0, xMax, left, W - right);
    const sy = scale(yMin, yMax, H - bottom, top);
    const empty = train.length === 0 && val.length === 0;
    if (frame === null || frame.xMax !== xMax || frame.empty !== empty || empty) {
      stepAxes(plot, box, xMax, yMin, yMax, sx, sy);
      if (empty) svg(plot, 'text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, running ? 'waiting for the first steps…' : 'press start to train');
      frame = { xMax, empty, train: svg(plot, 'polyline', { class: 'line-train' }), val: svg(plot, 'polyline', { class: 'line-val' }), dots: svg(plot, 'g') };
    }
    if (empty) return;
    const clip = (v: number): number => sy(Math.min(yMax, Math.max(yMin, v)));
    const points = (pts: Point[]) => pts.map((p) => `${sx(p.step).toFixed(1)},${clip(p.loss).toFixed(1)}`).join(' ');
    // a report every ~100 ms piles up: draw at most ~400 of them, so a frame costs the same after an hour
    const every = Math.ceil(train.length / 400);
    frame.train.setAttribute('points', points(every > 1 ? train.filter((_, i) => i % every === 0 || i === train.length - 1) : train));
    frame.val.setAttribute('points', points(val));
    for (const p of val.slice(frame.dots.childElementCount)) svg(frame.dots, 'circle', { class: 'dot-val', cx: sx(p.step), cy: clip(p.loss), r: 2.5, 'data-step': p.step, 'data-loss': p.loss });
  }

  /** The map's cells as drawn, for the characters they were drawn for: a new map over the same text only recolours them. */
  let grid: { text: string; cells: SVGRectElement[] } | null = null;

  function drawAttention(): void {
    const plot = byId<SVGSVGElement>('attention-map');
    const m = lastAttention;
    if (m === null) return;
    const layer = Number(layerSel.value), head = Number(headSel.value);
    const w = m.maps[layer]![head]!;
    const T = m.tokens.length;
    const label = (c: string) => (c === '\n' ? '⏎' : c);
    const size = 300, pad = 22, cell = (size - pad) / Math.max(T, 6);
    const text = m.tokens.join('');
    if (grid === null || grid.text !== text) {
      reset(plot, size, size);
      m.tokens.forEach((c, i) => {
        svg(plot, 'text', { x: pad + (i + 0.5) * cell, y: pad - 8, 'text-anchor': 'middle' }, label(c));
        svg(plot, 'text', { x: pad - 6, y: pad + (i + 0.5) * cell + 4, 'text-anchor': 'end' }, label(c));
      });
      const cells: SVGRectElement[] = [];
      for (let i = 0; i < T; i++) {
        for (let j = 0; j < T; j++) {
          cells.push(svg(plot, 'rect', { class: j > i ? 'att-cell masked' : 'att-cell', x: pad + j * cell, y: pad + i * cell, width: cell - 1, height: cell - 1, 'data-row': i, 'data-col': j }));
        }
      }
      grid = { text, cells };
    }
    plot.setAttribute('aria-label', `attention of layer ${layer + 1}, head ${head + 1} over "${m.tokens.slice(1).join('')}" after ${m.step} steps: row t shows how position t (${m.tokens.map(label).join(' ')}) weighs positions 1 to t; nothing above the diagonal`);
    plot.dataset['step'] = String(m.step);
    grid.cells.forEach((c, k) => {
      const v = w[k]!;
      c.setAttribute('fill-opacity', k % T > Math.floor(k / T) ? '1' : String(Math.round(Math.max(0.04, v) * 100) / 100));
      c.setAttribute('data-value', String(v));
    });
  }

  startBtn.addEventListener('click', start);
  // the weights the attention map shows: the running model's at its current step, or the last one trained
  downloadBtn.addEventListener('click', () => send({ type: 'save' }));
  stopBtn.addEventListener('click', () => {
    if (!running) return;
    stopBtn.disabled = true;
    status.textContent = 'stopping…';
    current?.stop();
  });
  wd.addEventListener('input', () => {
    showSettings();
    if (running && current !== null) send({ type: 'update', run: current.run, settings: settings() });
  });
  drop.addEventListener('input', showSettings);
  drop.addEventListener('change', () => { if (running) start(); });
  backendSel.addEventListener('change', () => { if (running) start(); });
  input.addEventListener('input', requestAttention);
  layerSel.addEventListener('change', drawAttention);
  headSel.addEventListener('change', drawAttention);
  showSettings();
  draw();
  requestAttention();
}
