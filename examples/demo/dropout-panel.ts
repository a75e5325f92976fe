/**
 * Panel 2: inverted dropout. A row of neurons with fixed eval-mode outputs (NEURONS of
 * examples/experiments/dropout.ts); every sample runs regula's dropout kernel over the row
 * (sampleMeans of the same experiment), and the coral bars show the running mean of the
 * training-mode outputs, with the 1/(1−p) scaling or without it.
 */
import type { Backend } from '../../src/index.js';
import { NEURONS, sampleMeans } from '../experiments/dropout.js';
import type { Ctx } from '../experiments/types.js';
import { byId, reset, scale, svg, ticks } from './svg.js';

/** Standard error of the mean of n scaled training samples of a neuron with eval value a. */
export function scaledStandardError(a: number, p: number, n: number): number {
  return (a * Math.sqrt(p / (1 - p))) / Math.sqrt(n);
}

export function initDropout(be: Backend): void {
  const ctx: Ctx = { be, quick: false, progress: () => ({ update() {}, end() {} }) };
  const pSlider = byId<HTMLInputElement>('dropout-p');
  const scaleBox = byId<HTMLInputElement>('dropout-scale');
  const plot = byId<SVGSVGElement>('dropout-plot');
  const d = NEURONS.length;
  let p = Number(pSlider.value);
  let n = 0;
  let seed = 1;
  let sumScaled = new Array<number>(d).fill(0);
  let sumUnscaled = new Array<number>(d).fill(0);
  /** The last single sample, as scaled outputs (0 = dropped). */
  let last: number[] | null = null;

  function clear(): void {
    n = 0; last = null;
    sumScaled = new Array<number>(d).fill(0);
    sumUnscaled = new Array<number>(d).fill(0);
  }

  function draw(): void {
    const scaled = scaleBox.checked;
    const means = (scaled ? sumScaled : sumUnscaled).map((s) => (n > 0 ? s / n : 0));
    const W = 420, H = 270, left = 30, right = 8, top = 64, bottom = 24;
    reset(plot, W, H);
    const maxA = Math.max(...NEURONS);
    const yMax = Math.max(maxA * 1.3, ...means.map((m) => m * 1.08));
    const sy = scale(0, yMax, H - bottom, top);
    const slot = (W - left - right) / d;
    const sx = (j: number): number => left + slot * j;
    for (const t of ticks(0, yMax, 4)) {
      svg(plot, 'line', { class: 'grid-line', x1: left, x2: W - right, y1: sy(t), y2: sy(t) });
      svg(plot, 'text', { x: left - 5, y: sy(t) + 4, 'text-anchor': 'end' }, String(t));
    }
    svg(plot, 'line', { class: 'axis', x1: left, x2: W - right, y1: sy(0), y2: sy(0) });
    const bw = Math.min(18, slot * 0.36);
    for (let j = 0; j < d; j++) {
      const a = NEURONS[j]!, cx = sx(j) + slot / 2;
      // the neuron itself: the last sample's state (coral = kept, dashed = dropped)
      const kept = last === null ? null : last[j]! !== 0;
      svg(plot, 'circle', { class: `neuron ${kept === false ? 'dropped' : 'kept'}`, cx, cy: 22, r: 13, opacity: last === null ? 0.35 : 1 });
      const shown = last === null ? a : (scaled ? last[j]! : (last[j]! !== 0 ? a : 0));
      svg(plot, 'text', { x: cx, y: 50, 'text-anchor': 'middle' }, last === null ? `${a}` : fmtShort(shown));
      const ev = svg(plot, 'rect', { class: 'bar-eval', x: cx - bw - 1, y: sy(a), width: bw, height: sy(0) - sy(a), 'data-testid': `eval-bar-${j}`, 'data-value': String(a) });
      svg(ev, 'title', {}, `neuron ${j + 1}: eval value ${a}`);
      const m = means[j]!;
      const mb = svg(plot, 'rect', { class: 'bar-mean', x: cx + 1, y: sy(m), width: bw, height: sy(0) - sy(m), 'data-testid': `mean-bar-${j}`, 'data-value': String(m) });
      svg(mb, 'title', {}, `neuron ${j + 1}: mean of ${n} training samples ${m.toFixed(3)}`);
      if (n > 0) {
        // ±2 standard errors of the running mean
        const se = scaled ? scaledStandardError(a, p, n) : (a * Math.sqrt(p * (1 - p))) / Math.sqrt(n);
        const wx = cx + 1 + bw / 2;
        svg(plot, 'line', { class: 'whisker', x1: wx, x2: wx, y1: sy(Math.max(0, m - 2 * se)), y2: sy(m + 2 * se) });
      }
      if (!scaled) {
        // what the unscaled mean tends to: (1 − p)·a
        svg(plot, 'line', { class: 'expect', x1: cx - bw - 3, x2: cx + bw + 3, y1: sy((1 - p) * a), y2: sy((1 - p) * a) });
      }
    }
    byId('dropout-count').textContent = String(n);
    const rel = n === 0 ? null : NEURONS.reduce((s, a, j) => s + Math.abs(means[j]! - a) / a, 0) / d;
    byId('dropout-note').textContent = n === 0
      ? 'Press “sample” to draw a dropout mask over the row.'
      : `After ${n} samples the coral bars are on average ${(rel! * 100).toFixed(1)}% from the gray ones` +
        (scaled ? ' (whiskers: ±2 standard errors; they shrink as 1/√n).' : ` — without the 1/(1 − p) scaling they settle at (1 − p)·a, dashed, ${(p * 100).toFixed(0)}% low.`);
  }

  function sample(count: number): void {
    if (count > 1) add(sampleMeans(ctx, p, count - 1, seed++), count - 1);
    const one = sampleMeans(ctx, p, 1, seed++);
    add(one, 1);
    last = one.scaled;
    draw();
  }

  function add(r: { scaled: number[]; unscaled: number[] }, count: number): void {
    for (let j = 0; j < d; j++) { sumScaled[j]! += r.scaled[j]! * count; sumUnscaled[j]! += r.unscaled[j]! * count; }
    n += count;
  }

  pSlider.addEventListener('input', () => {
    p = Number(pSlider.value);
    byId('dropout-p-value').textContent = p.toFixed(2);
    pSlider.setAttribute('aria-valuetext', `p ${p.toFixed(2)}`);
    clear();
    draw();
  });
  scaleBox.addEventListener('change', draw);
  byId('sample-1').addEventListener('click', () => sample(1));
  byId('sample-50').addEventListener('click', () => sample(50));
  byId('dropout-reset').addEventListener('click', () => { clear(); draw(); });
  byId('dropout-p-value').textContent = p.toFixed(2);
  draw();
}

function fmtShort(v: number): string {
  return v === 0 ? '0' : Number.isInteger(v) ? String(v) : v.toFixed(1);
}
