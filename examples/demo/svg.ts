/** A few lines of plumbing shared by the panels: SVG (no charting library needed), numbers, files. */

const NS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element with attributes (numbers rounded to 0.01 px) and appends it to parent. */
export function svg<K extends keyof SVGElementTagNameMap>(parent: Element | null, tag: K, attrs: Record<string, string | number> = {}, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, typeof v === 'number' ? String(Math.round(v * 100) / 100) : v);
  if (text !== undefined) e.textContent = text;
  if (parent !== null) parent.appendChild(e);
  return e;
}

/** Empties an <svg> and sets its coordinate system (it scales with its CSS width). */
export function reset(el: SVGSVGElement, width: number, height: number): void {
  el.replaceChildren();
  el.setAttribute('viewBox', `0 0 ${width} ${height}`);
  el.setAttribute('preserveAspectRatio', 'xMidYMid meet');
}

/** A linear map from [d0, d1] to [r0, r1]. */
export function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** About n round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, n: number): number[] {
  const raw = (hi - lo) / Math.max(1, n);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/**
 * An integer with "," between thousands (1,234,567). Not toLocaleString('en-US'): its first
 * call loads the locale data, ~110 ms on the page's thread, in the middle of training.
 */
export function thousands(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Hands bytes to the browser as a file download named `name`. */
export function saveFile(bytes: Uint8Array<ArrayBuffer>, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 0);
}

/**
 * Calls `onFile` with the file chosen in `input` or dropped on `panel` (outlined, class
 * "dropping", while a file is dragged over it), and how it came; the input is emptied, so the
 * same file can be chosen again.
 */
export function onFileChosen(panel: HTMLElement, input: HTMLInputElement, onFile: (f: File, how: 'chosen' | 'dropped') => void): void {
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f !== undefined) onFile(f, 'chosen');
    input.value = '';
  });
  panel.addEventListener('dragover', (e) => { e.preventDefault(); panel.classList.add('dropping'); });
  panel.addEventListener('dragleave', () => panel.classList.remove('dropping'));
  panel.addEventListener('drop', (e) => {
    e.preventDefault();
    panel.classList.remove('dropping');
    const f = e.dataTransfer?.files[0];
    if (f !== undefined) onFile(f, 'dropped');
  });
}

/** A loss plot's box: its size in viewBox units and the margins of the axes. */
export interface PlotBox { W: number; H: number; left: number; right: number; top: number; bottom: number }

/**
 * Empties a loss-by-step plot and draws its frame: grid lines at round losses in [yMin, yMax]
 * with their values, step ticks over [0, xMax], the x axis and its label ("step").
 */
export function stepAxes(plot: SVGSVGElement, b: PlotBox, xMax: number, yMin: number, yMax: number, sx: (v: number) => number, sy: (v: number) => number): void {
  reset(plot, b.W, b.H);
  for (const t of ticks(yMin, yMax, 4)) {
    svg(plot, 'line', { class: 'grid-line', x1: b.left, x2: b.W - b.right, y1: sy(t), y2: sy(t) });
    svg(plot, 'text', { x: b.left - 5, y: sy(t) + 4, 'text-anchor': 'end' }, t.toFixed(1));
  }
  for (const t of ticks(0, xMax, 5)) svg(plot, 'text', { x: sx(t), y: b.H - 8, 'text-anchor': 'middle' }, String(t));
  svg(plot, 'line', { class: 'axis', x1: b.left, x2: b.W - b.right, y1: sy(yMin), y2: sy(yMin) });
  svg(plot, 'text', { x: b.W - b.right, y: sy(yMin) - 6, 'text-anchor': 'end' }, 'step');
}

/** The element with this id, typed; throws if the page lacks it. */
export function byId<T extends HTMLElement | SVGElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`demo: element #${id} missing from the page`);
  return e as unknown as T;
}

/**
 * Draws at most once per animation frame: `later()` asks for a draw at the next frame (reports
 * can come faster than frames), `now()` draws at once and drops the frame asked for. A panel
 * calls `now()` when a run ends, so that by the time it says "stopped" the numbers it shows are
 * those of the last report, not a frame later.
 */
export function frameDraw(draw: () => void): { later(): void; now(): void } {
  let frame: number | null = null;
  return {
    later() { frame ??= requestAnimationFrame(() => { frame = null; draw(); }); },
    now() {
      if (frame !== null) cancelAnimationFrame(frame);
      frame = null;
      draw();
    },
  };
}
