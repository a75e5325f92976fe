/**
 * Panel 3: the digits MLP trained in a Web Worker (worker.ts). The page only sends settings
 * and draws what the worker reports after each epoch, so it stays responsive whatever the
 * worker does; a stop takes effect at the worker's next epoch boundary. Runs are started
 * and stopped with regula's trainInWorker.
 */
import { trainInWorker, type TrainingRun } from '../../src/index.js';
import type { BackendChoice, EpochReport, FromWorker, Histogram, ToWorker, TrainProgress, TrainResult, TrainSettings } from './protocol.js';
import { byId, frameDraw, onFileChosen, reset, saveFile, scale, svg, thousands, ticks } from './svg.js';

const LRS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2];
const WDS = [0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 0.5, 1];
const L1S = [0, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1];

function fmtNum(v: number): string {
  return v === 0 ? '0' : v >= 0.01 ? String(v) : v.toExponential(0).replace('e-', 'e−');
}

/** Median of the epochs' steps/s, leaving out the first epoch (warm-up) once there are more. */
function typicalRate(rates: number[]): number {
  const r = (rates.length > 1 ? rates.slice(1) : rates).slice(-7).sort((a, b) => a - b);
  return r[Math.floor(r.length / 2)]!;
}

export function initTraining(): void {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'regula-train' });
  const send = (m: ToWorker): void => worker.postMessage(m);
  const backendSel = byId<HTMLSelectElement>('backend-select');
  const optSel = byId<HTMLSelectElement>('optimizer-select');
  const lr = byId<HTMLInputElement>('lr-slider');
  const wd = byId<HTMLInputElement>('wd-slider');
  const drop = byId<HTMLInputElement>('drop-slider');
  const l1 = byId<HTMLInputElement>('l1-slider');
  const startBtn = byId<HTMLButtonElement>('train-start');
  const stopBtn = byId<HTMLButtonElement>('train-stop');
  const status = byId('train-status');
  const downloadBtn = byId<HTMLButtonElement>('weights-download');
  const fileInput = byId<HTMLInputElement>('weights-file');
  const weightsStatus = byId('weights-status');

  /** The run the panel shows; reports of any other (replaced) run are ignored. */
  let current: TrainingRun<TrainResult> | null = null;
  let running = false;
  let history: EpochReport[] = [];
  const rates: Record<BackendChoice, number | null> = { wasm: null, js: null };
  const redraw = frameDraw(draw);

  function settings(): TrainSettings {
    return {
      backend: backendSel.value as BackendChoice,
      optimizer: optSel.value === 'AdamW' ? 'AdamW' : 'Adam',
      lr: LRS[Number(lr.value)]!,
      weightDecay: WDS[Number(wd.value)]!,
      dropout: Number(drop.value),
      l1: L1S[Number(l1.value)]!,
    };
  }

  function showSettings(): void {
    const s = settings();
    const set = (input: HTMLInputElement, outId: string, text: string): void => {
      byId(outId).textContent = text;
      input.setAttribute('aria-valuetext', text);
    };
    set(lr, 'lr-value', fmtNum(s.lr));
    set(wd, 'wd-value', fmtNum(s.weightDecay));
    set(drop, 'drop-value', s.dropout.toFixed(1));
    set(l1, 'l1-value', fmtNum(s.l1));
  }

  function setRunning(on: boolean): void {
    running = on;
    startBtn.disabled = on;
    stopBtn.disabled = !on;
  }

  function start(): void {
    history = [];
    setRunning(true);
    const s = settings();
    status.textContent = `starting on ${s.backend}…`;
    byId('sps-backend').textContent = s.backend;
    byId('steps-per-second').textContent = '–';
    redraw.now();
    const run = trainInWorker<TrainSettings, TrainProgress, TrainResult>(worker, s, { onProgress: (p) => { if (run === current) report(p); } });
    current = run;
    run.result.then(() => { if (run === current) stopped(); }, (e: unknown) => { if (run === current) failed(e); });
  }

  /** Settings that need a new model or optimizer restart a running training. */
  function restartIfRunning(): void {
    if (running) start();
  }

  /** Weights leave the page as a .safetensors file (regula's safetensors.save in the worker). */
  function download(bytes: Uint8Array<ArrayBuffer>, epochs: number): void {
    const name = `regula-digits-mlp-${epochs}-epochs.safetensors`;
    saveFile(bytes, name);
    weightsStatus.textContent = `downloaded ${name} (${thousands(bytes.length)} bytes)`;
  }

  /** A file from the picker or a drop: the worker checks it (untrusted bytes) and evaluates it. */
  async function loadFile(file: File): Promise<void> {
    weightsStatus.textContent = `loading ${file.name}…`;
    delete weightsStatus.dataset['valAccuracy'];
    delete weightsStatus.dataset['error'];
    const bytes = new Uint8Array(await file.arrayBuffer());
    current = null; // reports of a running training are stale from here (the worker stops it first)
    setRunning(false);
    worker.postMessage({ type: 'load', bytes, backend: backendSel.value as BackendChoice } satisfies ToWorker, [bytes.buffer]);
  }

  worker.onmessage = (e: MessageEvent<FromWorker>) => {
    const m = e.data;
    if (m.type === 'weights') { download(m.bytes, m.epochs); return; }
    if (m.type === 'loaded') {
      drop.value = String(m.dropout);
      showSettings();
      downloadBtn.disabled = false;
      weightsStatus.dataset['valAccuracy'] = String(m.valAccuracy);
      weightsStatus.textContent = `loaded ${thousands(m.parameters)} parameters: validation accuracy ${m.valAccuracy.toFixed(3)}, loss ${m.valLoss.toFixed(4)}; start continues training from them`;
      status.textContent = 'idle (weights loaded)';
      return;
    }
    if (m.type === 'load-error') {
      weightsStatus.dataset['error'] = m.message;
      weightsStatus.textContent = `could not load the file: ${m.message}`;
    }
    // the runs' own messages ('regula:…') go to trainInWorker's listener
  };

  function report(m: TrainProgress): void {
    if (m.type === 'ready') {
      byId('arch').textContent = m.architecture;
      downloadBtn.disabled = false;
      status.textContent = `training on ${m.backend} (${m.nTrain} images, ${m.nVal} for validation)${m.fromFile ? ', from the loaded weights' : ''}…`;
    } else {
      history.push(m);
      rates[m.backend] = typicalRate(history.map((h) => h.stepsPerSecond));
      redraw.later();
    }
  }

  function stopped(): void {
    // The run's last epoch report came just before its result (the worker posts it, then
    // stops at its next yield): draw it now, so that the page never says "stopped" beside
    // the numbers of the epoch before, and what it shows is what a download gives.
    redraw.now();
    setRunning(false);
    status.textContent = `stopped after ${history.length} epochs`;
  }

  function failed(e: unknown): void {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    redraw.now();
    setRunning(false);
    status.textContent = `error: ${message}`;
    const err = byId('page-error');
    err.textContent = `Training failed: ${message}`;
    err.hidden = false;
  }
  worker.onerror = (e) => {
    setRunning(false);
    status.textContent = `the worker failed: ${e.message}`;
  };

  function draw(): void {
    const last = history[history.length - 1];
    byId('epoch').textContent = last === undefined ? '–' : String(last.epoch + 1);
    byId('train-accuracy').textContent = last === undefined ? '–' : last.accuracy.toFixed(3);
    byId('val-accuracy').textContent = last === undefined ? '–' : last.valAccuracy.toFixed(3);
    byId('val-loss').textContent = last === undefined ? '–' : last.valLoss.toFixed(4);
    if (last !== undefined) {
      const r = rates[last.backend]!;
      const el = byId('steps-per-second');
      el.textContent = r.toFixed(0);
      el.dataset['backend'] = last.backend;
      const z = byId('zero-weights');
      z.textContent = `${thousands(last.zeros)} of ${thousands(last.weights)} (${((100 * last.zeros) / last.weights).toFixed(1)}%)`;
      z.dataset['zeros'] = String(last.zeros);
    }
    for (const k of ['wasm', 'js'] as const) {
      const r = rates[k];
      const el = byId(`sps-${k}`);
      el.textContent = `${k} ${r === null ? '–' : r.toFixed(0)}`;
      if (r !== null) el.dataset['value'] = String(r);
    }
    if (rates.wasm !== null && rates.js !== null) byId('sps-table').dataset['ratio'] = (rates.wasm / rates.js).toFixed(1);
    drawLoss();
    drawHistogram(last?.histogram ?? null, last?.zeros ?? 0);
  }

  function drawLoss(): void {
    const plot = byId<SVGSVGElement>('loss-plot');
    const W = 420, H = 240, left = 38, right = 10, top = 10, bottom = 26;
    reset(plot, W, H);
    const n = history.length;
    const xMax = Math.max(10, n);
    const yMax = Math.max(0.5, ...history.slice(0, 3).flatMap((h) => [h.loss, h.valLoss])) * 1.05;
    const sx = scale(1, xMax, left, W - right);
    const sy = scale(0, yMax, H - bottom, top);
    for (const t of ticks(0, yMax, 4)) {
      svg(plot, 'line', { class: 'grid-line', x1: left, x2: W - right, y1: sy(t), y2: sy(t) });
      svg(plot, 'text', { x: left - 5, y: sy(t) + 4, 'text-anchor': 'end' }, String(+t.toFixed(2)));
    }
    for (const t of ticks(1, xMax, 5)) svg(plot, 'text', { x: sx(t), y: H - 8, 'text-anchor': 'middle' }, String(t));
    svg(plot, 'line', { class: 'axis', x1: left, x2: W - right, y1: sy(0), y2: sy(0) });
    svg(plot, 'text', { x: W - right, y: sy(0) - 6, 'text-anchor': 'end' }, 'epoch');
    if (n === 0) {
      svg(plot, 'text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, running ? 'waiting for the first epoch…' : 'press start to train');
      return;
    }
    const clipY = (v: number): number => sy(Math.min(v, yMax));
    svg(plot, 'polyline', { class: 'line-train', points: history.map((h, i) => `${sx(i + 1).toFixed(1)},${clipY(h.loss).toFixed(1)}`).join(' ') });
    svg(plot, 'polyline', { class: 'line-val', points: history.map((h, i) => `${sx(i + 1).toFixed(1)},${clipY(h.valLoss).toFixed(1)}`).join(' ') });
  }

  function drawHistogram(h: Histogram | null, zeros: number): void {
    const plot = byId<SVGSVGElement>('hist-plot');
    const W = 360, H = 240, left = 12, right = 12, top = 18, bottom = 26;
    reset(plot, W, H);
    if (h === null) {
      svg(plot, 'text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no weights yet');
      return;
    }
    const cMax = Math.max(1, ...h.counts);
    const sx = scale(h.lo, h.hi, left, W - right);
    const sy = scale(0, cMax, H - bottom, top);
    const bw = (W - left - right) / h.counts.length;
    h.counts.forEach((c, i) => {
      if (c > 0) svg(plot, 'rect', { class: 'hist', x: left + i * bw + 0.5, y: sy(c), width: Math.max(0.5, bw - 1), height: sy(0) - sy(c) });
    });
    svg(plot, 'line', { class: 'axis', x1: left, x2: W - right, y1: sy(0), y2: sy(0) });
    if (zeros > 0) {
      const top0 = sy(Math.min(zeros, cMax));
      svg(plot, 'rect', { class: 'zero-bar', x: sx(0) - 2, y: top0, width: 4, height: sy(0) - top0 });
      svg(plot, 'text', { class: 'label-coral', x: sx(0), y: top0 - 5, 'text-anchor': 'middle' }, `${thousands(zeros)} zeros`);
    }
    for (const v of [h.lo, 0, h.hi]) svg(plot, 'text', { x: sx(v), y: H - 8, 'text-anchor': v === h.lo ? 'start' : v === h.hi ? 'end' : 'middle' }, v === 0 ? '0' : v.toFixed(2));
  }

  startBtn.addEventListener('click', start);
  downloadBtn.addEventListener('click', () => send({ type: 'save' }));
  onFileChosen(byId('panel-train'), fileInput, (f) => { void loadFile(f); });
  stopBtn.addEventListener('click', () => {
    if (!running) return;
    stopBtn.disabled = true;
    status.textContent = 'stopping…';
    current?.stop();
  });
  for (const input of [lr, wd, l1]) {
    input.addEventListener('input', () => {
      showSettings();
      if (running && current !== null) send({ type: 'update', run: current.run, settings: settings() });
    });
  }
  drop.addEventListener('input', showSettings);
  drop.addEventListener('change', restartIfRunning);
  optSel.addEventListener('change', restartIfRunning);
  backendSel.addEventListener('change', () => {
    byId('sps-backend').textContent = backendSel.value;
    restartIfRunning();
  });
  showSettings();
  byId('sps-backend').textContent = backendSel.value;
  draw();
}
