/**
 * linear.fit: the lasso on diabetes (standardized, alpha = 0.1, mid-path: 4 of 10
 * coefficients zero) and on a larger synthetic problem (4000 × 200), wasm vs js and
 * coordinate descent ('cd', the default) vs accelerated proximal gradient ('fista'); plus the
 * whole 100-alpha lasso path on diabetes (cd).
 *
 * Checks before timing: wasm and js give the same bits; the solution satisfies the lasso
 * optimality conditions in float64 (|X_jᵀr/n| ≤ alpha at zeros, = alpha·sign(w_j) elsewhere,
 * within 1e-3 of max|Xᵀy|/n); both solvers reach the same objective (1e-6 relative).
 */
import { linear, loadBackend, loadDiabetes, type Backend } from '../src/index.js';
import { firstBitDiff, randomF32 } from '../test/helpers.js';
import type { Group, Suite } from './harness.js';

interface Problem { X: Float32Array; y: Float32Array; n: number; d: number }

function kktError(p: Problem, w: Float32Array, alpha: number): number {
  const { X, y, n, d } = p;
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < d; j++) s += X[i * d + j]! * w[j]!; r[i] = y[i]! - s; }
  let worst = 0, amax = 0;
  for (let j = 0; j < d; j++) {
    let c = 0, cy = 0;
    for (let i = 0; i < n; i++) { c += X[i * d + j]! * r[i]!; cy += X[i * d + j]! * y[i]!; }
    c /= n; amax = Math.max(amax, Math.abs(cy) / n);
    worst = Math.max(worst, w[j] === 0 ? Math.max(0, Math.abs(c) - alpha) : Math.abs(c - alpha * Math.sign(w[j]!)));
  }
  return worst / amax;
}

function objective(p: Problem, w: ArrayLike<number>, alpha: number): number {
  const { X, y, n, d } = p;
  let rr = 0, l1 = 0;
  for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < d; j++) s += X[i * d + j]! * w[j]!; rr += (y[i]! - s) ** 2; }
  for (let j = 0; j < d; j++) l1 += Math.abs(w[j]!);
  return rr / (2 * n) + alpha * l1;
}

function fitGroup(title: string, p: Problem, alpha: number, bes: { wasm: Backend; js: Backend }): Group {
  const info: string[] = [];
  const cases: Group['cases'] = [];
  let ref: Float32Array | null = null;
  for (const solver of ['cd', 'fista'] as const) {
    const o = { n: p.n, d: p.d, alpha, l1Ratio: 1, solver };
    const check = () => {
      const a = linear.fit(bes.wasm, p.X, p.y, o), b = linear.fit(bes.js, p.X, p.y, o);
      if (!a.converged) throw new Error(`${solver}: not converged after ${a.iterations} iterations`);
      const diff = firstBitDiff(a.coef, b.coef);
      if (diff >= 0) throw new Error(`${solver}: wasm and js differ at coefficient ${diff}`);
      const kkt = kktError(p, a.coef, alpha);
      if (!(kkt <= 1e-3)) throw new Error(`${solver}: optimality conditions violated by ${kkt} (relative)`);
      if (ref === null) ref = a.coef;
      const f = objective(p, a.coef, alpha), g = objective(p, ref, alpha);
      if (!(Math.abs(f - g) <= 1e-6 * Math.abs(g))) throw new Error(`${solver}: objective ${f}, the other solver ${g}`);
    };
    info.push(`${solver} ${linear.fit(bes.wasm, p.X, p.y, o).iterations}`);
    cases.push({ name: `${solver} wasm`, fn: () => linear.fit(bes.wasm, p.X, p.y, o), check });
    cases.push({ name: `${solver} js`, fn: () => linear.fit(bes.js, p.X, p.y, o) });
  }
  return { title: `${title} (iterations: ${info.join(', ')})`, work: 1, unit: 'step', baseline: 'cd js', cases };
}

function pathGroup(p: Problem, bes: { wasm: Backend; js: Backend }): Group {
  const o = { n: p.n, d: p.d };
  const check = () => {
    const a = linear.path(bes.wasm, p.X, p.y, o), b = linear.path(bes.js, p.X, p.y, o);
    if (!a.converged.every(Boolean)) throw new Error('a path point did not converge');
    a.coefs.forEach((c, i) => { if (firstBitDiff(c, b.coefs[i]!) >= 0) throw new Error(`wasm and js differ at alpha ${i}`); });
    if (a.zeroCounts[0] !== p.d || a.zeroCounts[99] !== 0) throw new Error(`zero counts ${a.zeroCounts[0]} … ${a.zeroCounts[99]}`);
  };
  return {
    title: 'lasso path diabetes, 100 alphas (eps 1e-3)', work: 1, unit: 'step', baseline: 'regula js',
    cases: [
      { name: 'regula wasm', fn: () => linear.path(bes.wasm, p.X, p.y, o), check },
      { name: 'regula js', fn: () => linear.path(bes.js, p.X, p.y, o) },
    ],
  };
}

const suite: Suite = {
  name: 'linear',
  async groups() {
    const bes = { wasm: await loadBackend('wasm', { threads: 1 }), js: await loadBackend('js') };
    const dia = loadDiabetes({ standardize: true });
    const diabetes = { X: dia.x, y: dia.y, n: dia.n, d: dia.d };
    // Synthetic: 4000 × 200, 10 true nonzeros, noise 0.1.
    const n = 4000, d = 200;
    const X = randomF32(n * d, 41);
    const wTrue = new Float32Array(d);
    for (let j = 0; j < 10; j++) wTrue[j * 20] = (j % 2 ? -1 : 1) * (1 + j / 5);
    const noise = randomF32(n, 43, 0.1);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < d; j++) s += X[i * d + j]! * wTrue[j]!; y[i] = s + noise[i]!; }
    return [
      fitGroup('lasso fit diabetes 442x10, alpha 0.1', diabetes, 0.1, bes),
      fitGroup('lasso fit synthetic 4000x200, alpha 0.05', { X, y, n, d }, 0.05, bes),
      pathGroup(diabetes, bes),
    ];
  },
};

export default suite;
