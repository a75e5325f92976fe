/**
 * Panel 1: the 2-D MAP picture. Data loss ½‖w − w*‖²; the MAP point under λ‖w‖₁ is S_λ(w*),
 * under (λ/2)‖w‖² it is w* / (1+λ). The numbers shown are computed by regula (optim.SGD with
 * the proximal `l1` step, or with `weightDecay`, on the page's backend) and compared with
 * the closed form, as examples/experiments/geometry.ts does in Node.
 */
import type { Backend } from '../../src/index.js';
import { MAP_LR, MAP_STEPS, W_STAR, closedForm, solveMap, type Penalty } from '../experiments/geometry.js';
import { byId, reset, scale, svg, ticks } from './svg.js';

/** "0" for an exact zero (either sign), else four decimals. */
export function fmtCoord(v: number): string {
  return v === 0 ? '0' : v.toFixed(4);
}

export function initGeometry(be: Backend): void {
  const slider = byId<HTMLInputElement>('lambda-slider');
  const l1Btn = byId<HTMLButtonElement>('penalty-l1');
  const l2Btn = byId<HTMLButtonElement>('penalty-l2');
  const plot = byId<SVGSVGElement>('geometry-plot');
  let penalty: Penalty = 'l1';
  byId('w-star').textContent = W_STAR.join(', ');
  byId('w2-star').textContent = String(Math.abs(W_STAR[1]));

  // equal scales on both axes, so circles look round
  const W = 360, H = 300, pad = 26;
  const x0 = -0.9, x1 = 2.1, y0 = -0.9, y1 = 1.6;
  const sx = scale(x0, x1, pad, W - 8);
  const k = (W - 8 - pad) / (x1 - x0);
  const sy = (v: number): number => H - pad - (v - y0) * k;

  function draw(map: [number, number]): void {
    reset(plot, W, H);
    const defs = svg(plot, 'defs');
    const clip = svg(defs, 'clipPath', { id: 'geo-clip' });
    svg(clip, 'rect', { x: pad, y: sy(y1), width: W - 8 - pad, height: sy(y0) - sy(y1) });
    const g = svg(plot, 'g', { 'clip-path': 'url(#geo-clip)' });
    for (const t of ticks(x0, x1, 6)) svg(g, 'line', { class: 'grid-line', x1: sx(t), x2: sx(t), y1: sy(y0), y2: sy(y1) });
    for (const t of ticks(y0, y1, 5)) svg(g, 'line', { class: 'grid-line', x1: sx(x0), x2: sx(x1), y1: sy(t), y2: sy(t) });
    svg(g, 'line', { class: 'axis', x1: sx(x0), x2: sx(x1), y1: sy(0), y2: sy(0) });
    svg(g, 'line', { class: 'axis', x1: sx(0), x2: sx(0), y1: sy(y0), y2: sy(y1) });
    // contours of ½‖w − w*‖²: circles around w*
    for (let r = 0.25; r < 3.2; r += 0.25) svg(g, 'circle', { class: 'contour', cx: sx(W_STAR[0]), cy: sy(W_STAR[1]), r: r * k });
    // the penalty's level set through the MAP point
    if (penalty === 'l1') {
      const c = Math.abs(map[0]) + Math.abs(map[1]);
      svg(g, 'polygon', { class: 'level', points: [[c, 0], [0, c], [-c, 0], [0, -c]].map(([a, b]) => `${sx(a!)},${sy(b!)}`).join(' ') });
    } else {
      svg(g, 'circle', { class: 'level', cx: sx(0), cy: sy(0), r: Math.hypot(map[0], map[1]) * k });
    }
    // the contour that touches it, and the MAP path over λ ∈ [0, 2]
    svg(g, 'circle', { class: 'contour touch', cx: sx(W_STAR[0]), cy: sy(W_STAR[1]), r: Math.hypot(map[0] - W_STAR[0], map[1] - W_STAR[1]) * k });
    const path = Array.from({ length: 81 }, (_, i) => closedForm(penalty, (i / 80) * 2)).map(([a, b]) => `${sx(a)},${sy(b)}`).join(' ');
    svg(g, 'polyline', { class: 'path', points: path });
    svg(g, 'circle', { class: 'wstar', cx: sx(W_STAR[0]), cy: sy(W_STAR[1]), r: 6 });
    svg(g, 'text', { class: 'label-blue', x: sx(W_STAR[0]), y: sy(W_STAR[1]) - 11, 'text-anchor': 'middle' }, 'w*');
    svg(g, 'circle', { class: 'map', cx: sx(map[0]), cy: sy(map[1]), r: 6.5 });
    svg(g, 'text', { class: 'label-coral', x: sx(map[0]) + 9, y: sy(map[1]) + 16 }, 'MAP');
    for (const t of ticks(x0, x1, 6)) if (t !== 0) svg(plot, 'text', { x: sx(t), y: H - 8, 'text-anchor': 'middle' }, String(t));
    for (const t of ticks(y0, y1, 5)) if (t !== 0) svg(plot, 'text', { x: pad - 4, y: sy(t) + 4, 'text-anchor': 'end' }, String(t));
    svg(plot, 'text', { x: W - 12, y: sy(0) - 5, 'text-anchor': 'end' }, 'w₁');
    svg(plot, 'text', { x: sx(0) + 5, y: sy(y1) + 12 }, 'w₂');
  }

  function update(): void {
    const lambda = Number(slider.value);
    byId('lambda-value').textContent = lambda.toFixed(2);
    slider.setAttribute('aria-valuetext', `lambda ${lambda.toFixed(2)}`);
    const map = solveMap(be, penalty, lambda);
    const exact = closedForm(penalty, lambda);
    byId('map-w1').textContent = fmtCoord(map[0]);
    byId('map-w2').textContent = fmtCoord(map[1]);
    byId('map-closed').textContent = `(${fmtCoord(exact[0])}, ${fmtCoord(exact[1])})`;
    const gap = Math.max(Math.abs(map[0] - exact[0]), Math.abs(map[1] - exact[1]));
    const how = penalty === 'l1' ? `S_λ(w*), the soft threshold` : 'w*/(1 + λ)';
    byId('map-note').textContent =
      `regula (${be.kind}): optim.SGD, ${MAP_STEPS} ${penalty === 'l1' ? 'proximal-gradient steps with l1 = λ' : 'gradient steps with weightDecay = λ'}, lr ${MAP_LR}. ` +
      `Closed form ${how}; largest difference ${gap === 0 ? '0' : gap.toExponential(1)}.` +
      (penalty === 'l1' ? (map[1] === 0 ? ' w₂ is exactly zero: the corner of the diamond.' : ` w₂ reaches 0 at λ = ${Math.abs(W_STAR[1])}.`) : ' w₂ shrinks but never reaches 0.');
    draw(map);
  }

  function setPenalty(p: Penalty): void {
    penalty = p;
    l1Btn.setAttribute('aria-pressed', String(p === 'l1'));
    l2Btn.setAttribute('aria-pressed', String(p === 'l2'));
    update();
  }

  slider.addEventListener('input', update);
  l1Btn.addEventListener('click', () => setPenalty('l1'));
  l2Btn.addEventListener('click', () => setPenalty('l2'));
  update();
}
