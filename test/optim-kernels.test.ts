/**
 * The fused optimizer kernels be.kernels.sgdStep / adamStep on both backends: against the
 * PyTorch 1.13 trajectories in reference/optimizers.json, wasm against js bit for bit, the
 * L1 prox's exact zeros, and bad input rejected with p, g and the state left untouched.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { DisposedError, ShapeError, type Backend, type Tensor, type AdamStepOptions, type SgdStepOptions } from '../src/index.js';
import { firstBitDiff, loadBoth, randomF32 } from './helpers.js';

interface RefCase {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  hyper: {
    lr: number; momentum?: number; dampening?: number; weightDecay: number; nesterov?: boolean; maximize: boolean;
    betas?: [number, number]; eps?: number; amsgrad?: boolean; l1?: number;
  };
  p0: number[];
  grads: number[][];
  expected: number[][];
}
const REF = JSON.parse(readFileSync(new URL('./reference/optimizers.json', import.meta.url), 'utf8')) as {
  source: string; cases: RefCase[];
};

type Kind = 'wasm' | 'js';
let bes: Record<Kind, Backend>;
beforeAll(async () => { bes = await loadBoth(); });

/** The optimizer state of one parameter tensor: momentum buffer or Adam moments. */
interface State { p: Tensor; g: Tensor; buf: Tensor; m: Tensor; v: Tensor; vmax: Tensor }

function makeState(be: Backend, p0: ArrayLike<number>, garbage = false): State {
  const n = p0.length;
  const init = (seed: number) => (garbage ? randomF32(n, seed, 3) : new Float32Array(n));
  return {
    p: be.tensor([n], p0), g: be.zeros([n]),
    // With garbage, the first step must overwrite the momentum buffer, never read it.
    buf: be.tensor([n], init(901)), m: be.zeros([n]), v: be.zeros([n]), vmax: be.zeros([n]),
  };
}

function disposeState(s: State): void {
  for (const t of Object.values(s)) t.dispose();
}

const snapshot = (s: State) => [s.p, s.g, s.buf, s.m, s.v, s.vmax].map((t) => t.data.slice());

type Step =
  | { kind: 'sgd'; o: Omit<SgdStepOptions, 'first'> }
  | { kind: 'adam'; o: Omit<AdamStepOptions, 'step'>; amsgrad: boolean };

function sgdOpts(h: RefCase['hyper']): Omit<SgdStepOptions, 'first'> {
  return { lr: h.lr, momentum: h.momentum, dampening: h.dampening, weightDecay: h.weightDecay, nesterov: h.nesterov, maximize: h.maximize, l1: h.l1 ?? 0 };
}

function adamOpts(h: RefCase['hyper'], decoupled: boolean): Omit<AdamStepOptions, 'step'> {
  return { lr: h.lr, betas: h.betas, eps: h.eps, weightDecay: h.weightDecay, amsgrad: h.amsgrad, maximize: h.maximize, l1: h.l1 ?? 0, decoupled };
}

/** Step t (0-based) of an optimizer as the optimizers drive it: SGD's first flag, Adam's step count t + 1. */
function doStep(be: Backend, s: State, st: Step, t: number): void {
  if (st.kind === 'sgd') {
    be.kernels.sgdStep(s.p, s.g, (st.o.momentum ?? 0) !== 0 ? s.buf : null, { ...st.o, first: t === 0 });
  } else {
    be.kernels.adamStep(s.p, s.g, s.m, s.v, st.amsgrad ? s.vmax : null, { ...st.o, step: t + 1 });
  }
}

function refStep(c: RefCase): Step {
  return c.optimizer === 'SGD'
    ? { kind: 'sgd', o: sgdOpts(c.hyper) }
    : { kind: 'adam', o: adamOpts(c.hyper, c.optimizer === 'AdamW'), amsgrad: c.hyper.amsgrad ?? false };
}

/**
 * Runs `steps` steps on both backends from the same start and asserts p and every state
 * tensor bit-identical after each one. Returns the final p of each backend.
 */
function runBothBitwise(st: Step, p0: Float32Array, grads: (t: number) => ArrayLike<number>, steps: number, garbage = true): Float32Array {
  const w = makeState(bes.wasm, p0, garbage), j = makeState(bes.js, p0, garbage);
  try {
    for (let t = 0; t < steps; t++) {
      const gt = grads(t);
      w.g.data.set(gt); j.g.data.set(gt);
      doStep(bes.wasm, w, st, t); doStep(bes.js, j, st, t);
      const sw = snapshot(w), sj = snapshot(j);
      ['p', 'g', 'buf', 'm', 'v', 'vmax'].forEach((name, k) => {
        const d = firstBitDiff(sw[k]!, sj[k]!);
        if (d >= 0) expect.fail(`step ${t + 1}: ${name}[${d}] differs: wasm ${sw[k]![d]} vs js ${sj[k]![d]} (n = ${p0.length}, ${JSON.stringify(st)})`);
      });
    }
    return w.p.data.slice();
  } finally {
    disposeState(w); disposeState(j);
  }
}

describe('reference trajectories (PyTorch 1.13)', () => {
  it('has the cases the task names, with a source', () => {
    expect(REF.source).toMatch(/torch/);
    const names = REF.cases.map((c) => c.name).join(' ');
    for (const w of ['amsgrad', 'maximize', 'nesterov', 'l1-prox', 'sgd', 'adamw', 'adam-']) expect(names).toContain(w);
  });

  // Tolerance: |got − exp| ≤ 1e-5·max(|exp|, 0.1). The reference was made by torch's AVX2
  // kernels, which fuse `a + alpha·b` and `addcdiv` into FMAs (one rounding where we, and
  // Wasm SIMD, round twice): emulating those FMAs reproduces the SGD trajectories bit for
  // bit, and without them the difference is 1–2 f32 ulps of the *operands* (|p| up to ~4,
  // ulp 2.4e-7), not of the result. Where a step cancels p to near zero that stays an
  // absolute ~5e-7, so a floor relative to |exp| alone (1e-3 → 1e-8) would demand more than
  // f32 can give; 0.1 makes the floor 1e-6 (~4 ulps at the parameters' scale of O(1)),
  // and everywhere |exp| ≥ 0.1 the bound is the plain 1e-5 relative one.
  describe.each(['wasm', 'js'] as const)('%s', (kind) => {
    it.each(REF.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const be = bes[kind];
      const s = makeState(be, c.p0);
      const st = refStep(c);
      let zeros = 0;
      try {
        c.grads.forEach((gr, t) => {
          s.g.data.set(gr);
          doStep(be, s, st, t);
          const got = s.p.data;
          c.expected[t]!.forEach((e, i) => {
            const x = Math.fround(e), y = got[i]!;
            if (x === 0) {
              // torch's sign(p)·max(|p| − t, 0) writes ±0; ours is an exact +0.
              zeros++;
              if (!Object.is(y, 0)) expect.fail(`step ${t + 1}, p[${i}]: expected an exact zero, got ${y}`);
            } else if (!(Math.abs(y - x) <= 1e-5 * Math.max(Math.abs(x), 0.1))) {
              expect.fail(`step ${t + 1}, p[${i}]: got ${y}, torch ${x} (|diff| ${Math.abs(y - x)})`);
            }
          });
        });
        if (c.hyper.l1) expect(zeros, 'an l1 case must produce exact zeros').toBeGreaterThan(0);
      } finally {
        disposeState(s);
      }
    });
  });

  it.each(REF.cases.map((c) => [c.name, c] as const))('wasm and js agree bit for bit on %s', (_name, c) => {
    runBothBitwise(refStep(c), Float32Array.from(c.p0), (t) => c.grads[t]!, c.grads.length, false);
  });
});

// Every valid combination of the options, on lengths that straddle the SIMD width.
const SIZES = [0, 1, 3, 4, 5, 7, 8, 17, 67, 1000, 65537];
const STEPS = 3;

const SGD_COMBOS: Omit<SgdStepOptions, 'first'>[] = [];
for (const momentum of [0, 0.9]) for (const dampening of [0, 0.25]) for (const weightDecay of [0, 0.05])
  for (const nesterov of [false, true]) for (const maximize of [false, true]) for (const l1 of [0, 0.3]) {
    if (nesterov && (momentum === 0 || dampening !== 0)) continue;
    SGD_COMBOS.push({ lr: 0.1, momentum, dampening, weightDecay, nesterov, maximize, l1 });
  }

const ADAM_COMBOS: { o: Omit<AdamStepOptions, 'step'>; amsgrad: boolean }[] = [];
for (const decoupled of [false, true]) for (const amsgrad of [false, true]) for (const maximize of [false, true])
  for (const weightDecay of [0, 0.1]) for (const l1 of [0, 0.4]) {
    ADAM_COMBOS.push({ o: { lr: 0.05, betas: [0.85, 0.99], eps: 1e-6, weightDecay, decoupled, amsgrad, maximize, l1 }, amsgrad });
  }

describe('wasm and js bit-identical on random tensors, every option combination', () => {
  it(`covers ${SGD_COMBOS.length} SGD and ${ADAM_COMBOS.length} Adam combinations`, () => {
    expect(SGD_COMBOS.length).toBe(40);
    expect(ADAM_COMBOS.length).toBe(32);
  });

  it.each(SIZES)('sgdStep, n = %i', (n) => {
    const p0 = randomF32(n, 7 + n, 2);
    for (const o of SGD_COMBOS) runBothBitwise({ kind: 'sgd', o }, p0, (t) => randomF32(n, 100 + t, 4), STEPS);
  });

  it.each(SIZES)('adamStep, n = %i', (n) => {
    const p0 = randomF32(n, 17 + n, 2);
    for (const { o, amsgrad } of ADAM_COMBOS) {
      // Gradients shrink over the steps, so amsgrad's vmax really differs from v.
      runBothBitwise({ kind: 'adam', o, amsgrad }, p0, (t) => randomF32(n, 200 + t, 4 / (1 + 3 * t)), STEPS);
    }
  });
});

describe.each(['wasm', 'js'] as const)('L1 proximal step on %s', (kind) => {
  /** sign(x)·max(|x| − t, 0) in f32, written here from the definition: +0 for every |x| ≤ t. */
  const prox = (x: number, t: number) => {
    const m = Math.max(Math.fround(Math.abs(x) - t), 0);
    return m > 0 ? Math.sign(x) * m : 0;
  };

  const cases: [string, Step, number][] = [
    ['SGD momentum', { kind: 'sgd', o: { lr: 0.1, momentum: 0.9, weightDecay: 0.01, l1: 2 } }, 0.1 * 2],
    ['Adam', { kind: 'adam', o: { lr: 0.05, l1: 4, weightDecay: 0.1 }, amsgrad: true }, 0.05 * 4],
    ['AdamW', { kind: 'adam', o: { lr: 0.05, l1: 4, weightDecay: 0.1, decoupled: true, maximize: true }, amsgrad: false }, 0.05 * 4],
  ];

  it.each(cases)('%s: the fused prox equals the step followed by S_{lr·l1}, with exact +0s', (_n, st, t) => {
    const be = bes[kind];
    const n = 1003;
    const p0 = randomF32(n, 5, 1);
    const noL1: Step = st.kind === 'sgd' ? { ...st, o: { ...st.o, l1: 0 } } : { ...st, o: { ...st.o, l1: 0 } };
    const a = makeState(be, p0), b = makeState(be, p0);
    try {
      for (let step = 0; step < 3; step++) {
        const g = randomF32(n, 50 + step, 3);
        const before = a.p.data.slice();
        a.g.data.set(g);
        doStep(be, a, st, step);
        // b: the same step without l1 from a's previous p, then the prox written out here.
        b.p.data.set(before);
        b.g.data.set(g);
        doStep(be, b, noL1, step);
        const tf = Math.fround(t);
        let zeros = 0;
        for (let i = 0; i < n; i++) {
          const want = prox(b.p.data[i]!, tf), got = a.p.data[i]!;
          if (!Object.is(got, want)) expect.fail(`step ${step + 1}, p[${i}]: fused ${got}, step then prox ${want}`);
          if (got === 0) zeros++;
        }
        expect(zeros, 'exact zeros').toBeGreaterThan(n / 10);
        // The prox touches p only: the optimizer state is the same with or without it.
        for (const k of ['buf', 'm', 'v', 'vmax'] as const) expect(firstBitDiff(a[k].data, b[k].data)).toBe(-1);
      }
    } finally {
      disposeState(a); disposeState(b);
    }
  });
});

describe('property: wasm and js agree on random hyperparameters, shapes and values', () => {
  /** Bit equality, except that two NaNs count as equal: Wasm leaves a NaN's sign and payload to the CPU. */
  const sameBits = (a: Float32Array, b: Float32Array) => {
    for (let i = 0; i < a.length; i++) {
      if (Number.isNaN(a[i]!) && Number.isNaN(b[i]!)) continue;
      if (!Object.is(a[i], b[i])) return i;
    }
    return -1;
  };
  const vals = (n: number) => fc.array(fc.float({ min: -1e3, max: 1e3, noNaN: true }), { minLength: n, maxLength: n });
  const common = {
    lr: fc.double({ min: 0, max: 2, noNaN: true }),
    weightDecay: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
    maximize: fc.boolean(),
    l1: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 5, noNaN: true })),
  };

  function compare(st: Step, p0: number[], g: number[][], extra: number[]): void {
    const w = makeState(bes.wasm, p0), j = makeState(bes.js, p0);
    try {
      for (const s of [w, j]) { s.m.data.set(extra); s.v.data.set(extra.map(Math.abs)); s.vmax.data.set(extra.map((x) => 2 * Math.abs(x))); s.buf.data.set(extra); }
      g.forEach((gt, t) => {
        w.g.data.set(gt); j.g.data.set(gt);
        doStep(bes.wasm, w, st, t); doStep(bes.js, j, st, t);
        const sw = snapshot(w), sj = snapshot(j);
        sw.forEach((x, k) => {
          const d = sameBits(x, sj[k]!);
          if (d >= 0) throw new Error(`step ${t + 1}, tensor ${k}, element ${d}: wasm ${x[d]} vs js ${sj[k]![d]}`);
        });
      });
    } finally {
      disposeState(w); disposeState(j);
    }
  }

  const data = fc.integer({ min: 0, max: 70 }).chain((n) =>
    fc.record({ p0: vals(n), extra: vals(n), g: fc.array(vals(n), { minLength: 1, maxLength: 3 }) }));

  it('sgdStep', () => {
    fc.assert(fc.property(data, fc.record({
      ...common,
      momentum: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
      dampening: fc.oneof(fc.constant(0), fc.double({ min: -1, max: 1, noNaN: true })),
      nesterov: fc.boolean(),
    }), ({ p0, extra, g }, o) => {
      const opts = { ...o, nesterov: o.nesterov && o.momentum > 0 && o.dampening === 0 };
      compare({ kind: 'sgd', o: opts }, p0, g, extra);
    }), { numRuns: 300 });
  });

  it('adamStep', () => {
    const beta = fc.double({ min: 0, max: 0.9999, noNaN: true });
    fc.assert(fc.property(data, fc.record({
      ...common,
      betas: fc.tuple(beta, beta),
      eps: fc.oneof(fc.constant(1e-8), fc.double({ min: 0, max: 1, noNaN: true })),
      decoupled: fc.boolean(),
      amsgrad: fc.boolean(),
    }), ({ p0, extra, g }, o) => {
      compare({ kind: 'adam', o, amsgrad: o.amsgrad }, p0, g, extra);
    }), { numRuns: 300 });
  });
});

describe.each(['wasm', 'js'] as const)('bad input on %s: rejected, nothing written', (kind) => {
  const n = 9;
  let be: Backend;
  let s: State;
  let before: Float32Array[];
  const setup = () => {
    be = bes[kind];
    s = makeState(be, randomF32(n, 3));
    s.g.data.set(randomF32(n, 4));
    s.buf.data.set(randomF32(n, 5)); s.m.data.set(randomF32(n, 6));
    s.v.data.set(randomF32(n, 7).map(Math.abs)); s.vmax.data.set(randomF32(n, 8).map(Math.abs));
    before = snapshot(s);
  };
  const unchanged = () => snapshot(s).forEach((x, k) => expect(firstBitDiff(x, before[k]!), `tensor ${k}`).toBe(-1));

  const sgdBad: [string, (s: State) => Parameters<Backend['kernels']['sgdStep']>, new (...a: never[]) => Error][] = [
    ['negative lr', (s) => [s.p, s.g, null, { lr: -0.1 }], RangeError],
    ['NaN lr', (s) => [s.p, s.g, null, { lr: NaN }], RangeError],
    ['infinite lr', (s) => [s.p, s.g, null, { lr: Infinity }], RangeError],
    ['negative momentum', (s) => [s.p, s.g, s.buf, { lr: 0.1, momentum: -0.5 }], RangeError],
    ['NaN momentum', (s) => [s.p, s.g, s.buf, { lr: 0.1, momentum: NaN }], RangeError],
    ['negative weight decay', (s) => [s.p, s.g, null, { lr: 0.1, weightDecay: -1e-4 }], RangeError],
    ['NaN dampening', (s) => [s.p, s.g, s.buf, { lr: 0.1, momentum: 0.9, dampening: NaN }], RangeError],
    ['negative l1', (s) => [s.p, s.g, null, { lr: 0.1, l1: -1 }], RangeError],
    ['nesterov without momentum', (s) => [s.p, s.g, s.buf, { lr: 0.1, nesterov: true }], RangeError],
    ['nesterov with dampening', (s) => [s.p, s.g, s.buf, { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }], RangeError],
    ['momentum without a buffer', (s) => [s.p, s.g, null, { lr: 0.1, momentum: 0.9 }], TypeError],
    ['a non-boolean flag', (s) => [s.p, s.g, null, { lr: 0.1, maximize: 1 as never }], TypeError],
    ['g of another shape', (s) => [s.p, be.zeros([n - 1]), null, { lr: 0.1 }], ShapeError],
    ['a buffer of another shape', (s) => [s.p, s.g, be.zeros([n, 1]), { lr: 0.1, momentum: 0.9 }], ShapeError],
    ['g aliasing p', (s) => [s.p, s.p, null, { lr: 0.1 }], ShapeError],
    ['the buffer aliasing g', (s) => [s.p, s.g, s.g, { lr: 0.1, momentum: 0.9 }], ShapeError],
    ['a disposed g', (s) => { const d = be.zeros([n]); d.dispose(); return [s.p, d, null, { lr: 0.1 }]; }, DisposedError],
    ['a disposed buffer', (s) => { const d = be.zeros([n]); d.dispose(); return [s.p, s.g, d, { lr: 0.1, momentum: 0.9 }]; }, DisposedError],
    ['a tensor of the other backend', (s) => [s.p, bes[kind === 'wasm' ? 'js' : 'wasm'].zeros([n]), null, { lr: 0.1 }], TypeError],
  ];

  it.each(sgdBad)('sgdStep: %s', (_what, args, err) => {
    setup();
    try {
      expect(() => be.kernels.sgdStep(...args(s))).toThrow(err);
      unchanged();
    } finally {
      disposeState(s);
    }
  });

  const adamBad: [string, (s: State) => Parameters<Backend['kernels']['adamStep']>, new (...a: never[]) => Error][] = [
    ['negative lr', (s) => [s.p, s.g, s.m, s.v, null, { lr: -1e-3, step: 1 }], RangeError],
    ['negative eps', (s) => [s.p, s.g, s.m, s.v, null, { lr: 1e-3, eps: -1e-8, step: 1 }], RangeError],
    ['NaN eps', (s) => [s.p, s.g, s.m, s.v, null, { lr: 1e-3, eps: NaN, step: 1 }], RangeError],
    ['negative weight decay', (s) => [s.p, s.g, s.m, s.v, null, { lr: 1e-3, weightDecay: -0.01, decoupled: true, step: 1 }], RangeError],
    ['beta1 = 1', (s) => [s.p, s.g, s.m, s.v, null, { lr: 1e-3, betas: [1, 0.999], step: 1 }], RangeError],
    ['beta2 = 1', (s) => [s.p, s.g, s.m, s.v, null, { lr: 1e-3, betas: [0.9, 1], step: 1 }], RangeError],
    ['negative beta1', (s) => [s.p, s.g, s.m, s.v, null, { lr: 1e-3, betas: [-0.1, 0.999], step: 1 }], RangeError],
    ['NaN beta2', (s) => [s.p, s.g, s.m, s.v, null, { lr: 1e-3, betas: [0.9, NaN], step: 1 }], RangeError],
    ['betas not a pair', (s) => [s.p, s.g, s.m, s.v, null, { lr: 1e-3, betas: [0.9] as never, step: 1 }], TypeError],
    ['step 0', (s) => [s.p, s.g, s.m, s.v, null, { lr: 1e-3, step: 0 }], RangeError],
    ['a fractional step', (s) => [s.p, s.g, s.m, s.v, null, { lr: 1e-3, step: 1.5 }], RangeError],
    ['negative l1', (s) => [s.p, s.g, s.m, s.v, null, { lr: 1e-3, l1: -0.5, step: 1 }], RangeError],
    ['amsgrad without vmax', (s) => [s.p, s.g, s.m, s.v, null, { lr: 1e-3, amsgrad: true, step: 1 }], TypeError],
    ['vmax of another shape', (s) => [s.p, s.g, s.m, s.v, be.zeros([n + 1]), { lr: 1e-3, amsgrad: true, step: 1 }], ShapeError],
    ['m of another shape', (s) => [s.p, s.g, be.zeros([3, 3]), s.v, null, { lr: 1e-3, step: 1 }], ShapeError],
    ['m aliasing v', (s) => [s.p, s.g, s.v, s.v, null, { lr: 1e-3, step: 1 }], ShapeError],
    ['vmax aliasing v', (s) => [s.p, s.g, s.m, s.v, s.v, { lr: 1e-3, amsgrad: true, step: 1 }], ShapeError],
    ['g aliasing p (AdamW would decay the gradient too)', (s) => [s.p, s.p, s.m, s.v, null, { lr: 1e-3, decoupled: true, step: 1 }], ShapeError],
    ['a disposed v', (s) => { const d = be.zeros([n]); d.dispose(); return [s.p, s.g, s.m, d, null, { lr: 1e-3, step: 1 }]; }, DisposedError],
    ['a disposed vmax', (s) => { const d = be.zeros([n]); d.dispose(); return [s.p, s.g, s.m, s.v, d, { lr: 1e-3, amsgrad: true, step: 1 }]; }, DisposedError],
  ];

  it.each(adamBad)('adamStep: %s', (_what, args, err) => {
    setup();
    try {
      expect(() => be.kernels.adamStep(...args(s))).toThrow(err);
      unchanged();
    } finally {
      disposeState(s);
    }
  });

  it('unused state is neither read nor written: buf without momentum, vmax without amsgrad', () => {
    setup();
    try {
      be.kernels.sgdStep(s.p, s.g, s.buf, { lr: 0.1, weightDecay: 0.1 });
      be.kernels.adamStep(s.p, s.g, s.m, s.v, s.vmax, { lr: 0.1, step: 3 });
      expect(firstBitDiff(s.buf.data, before[2]!)).toBe(-1);
      expect(firstBitDiff(s.vmax.data, before[5]!)).toBe(-1);
      expect(firstBitDiff(s.p.data, before[0]!)).toBeGreaterThanOrEqual(0);
    } finally {
      disposeState(s);
    }
  });

  it('empty tensors are a no-op', () => {
    const e = makeState(bes[kind], []);
    try {
      expect(bes[kind].kernels.sgdStep(e.p, e.g, e.buf, { lr: 0.1, momentum: 0.9, first: true })).toBe(e.p);
      expect(bes[kind].kernels.adamStep(e.p, e.g, e.m, e.v, e.vmax, { lr: 0.1, amsgrad: true, step: 1 })).toBe(e.p);
    } finally {
      disposeState(e);
    }
  });
});
