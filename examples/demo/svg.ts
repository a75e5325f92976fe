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
