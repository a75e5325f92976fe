import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { optim, StepLR, ExponentialLR, CosineAnnealingLR, LinearLR, LinearWarmup, SequentialLR, WarmupCosineLR, type Backend } from '../src/index.js';
import { firstBitDiff, loadBoth, randomF32 } from './helpers.js';

let bes: { wasm: Backend; js: Backend };
beforeAll(async () => { bes = await loadBoth(); });

/** Relative closeness for float64 schedules: the recursive forms drift from the closed forms by rounding only. */
function close(got: number, want: number, what: string): void {
  expect(Math.abs(got - want), `${what}: ${got} vs ${want}`).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(want), 1e-300));
}

/** Two groups with different base rates, so per-group handling is exercised. */
function twoGroups(be: Backend) {
  const a = be.param([2]), b = be.param([3]);
  const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
  return { opt, done: () => { opt.dispose(); a.dispose(); b.dispose(); } };
}

const BASE = [0.1, 0.5];

describe('learning-rate schedules against torch closed forms', () => {
  it('StepLR: lr = base·gamma^⌊e/stepSize⌋ (torch docs: 0.05 for e < 30, 0.005 for 30 ≤ e < 60, ...)', () => {
    const { opt, done } = twoGroups(bes.js);
    const s = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
    for (let e = 0; e <= 20; e++) {
      if (e > 0) s.step();
      BASE.forEach((b, i) => close(opt.paramGroups[i]!.lr, b * 0.5 ** Math.floor(e / 3), `e=${e} group ${i}`));
      expect(s.getLastLr()).toEqual(opt.paramGroups.map((g) => g.lr));
    }
    done();
    const p = bes.js.param([1]);
    const o = new optim.SGD([p], { lr: 0.05 });
    const d = new StepLR(o, { stepSize: 30 });
    const seen: number[] = [];
    for (let e = 0; e < 90; e++) { seen.push(o.paramGroups[0]!.lr); d.step(); }
    expect(seen[29]).toBe(0.05); close(seen[30]!, 0.005, 'e=30'); close(seen[59]!, 0.005, 'e=59'); close(seen[60]!, 0.0005, 'e=60');
    o.dispose(); p.dispose();
  });

  it('ExponentialLR: lr = base·gamma^e', () => {
    const { opt, done } = twoGroups(bes.js);
    const s = new ExponentialLR(opt, { gamma: 0.9 });
    for (let e = 0; e <= 30; e++) {
      if (e > 0) s.step();
      BASE.forEach((b, i) => close(opt.paramGroups[i]!.lr, b * 0.9 ** e, `e=${e}`));
    }
    done();
  });

  it('CosineAnnealingLR: lr = ηmin + (base − ηmin)(1 + cos(πe/T))/2, through 3 periods as torch continues', () => {
    for (const etaMin of [0, 0.01]) {
      const { opt, done } = twoGroups(bes.js);
      const s = new CosineAnnealingLR(opt, { tMax: 7, etaMin });
      for (let e = 0; e <= 21; e++) {
        if (e > 0) s.step();
        BASE.forEach((b, i) => {
          const want = etaMin + (b - etaMin) * (1 + Math.cos(Math.PI * e / 7)) / 2;
          expect(Math.abs(opt.paramGroups[i]!.lr - want), `etaMin ${etaMin} e=${e}`).toBeLessThanOrEqual(1e-12 * b);
        });
      }
      close(opt.paramGroups[0]!.lr, etaMin, 'e = 21 = 3·tMax is a trough');
      done();
    }
  });

  it('LinearLR: factor from startFactor to endFactor over totalIters, then constant', () => {
    const { opt, done } = twoGroups(bes.js);
    const s = new LinearLR(opt, { startFactor: 0.25, endFactor: 0.75, totalIters: 4 });
    for (let e = 0; e <= 10; e++) {
      if (e > 0) s.step();
      BASE.forEach((b, i) => close(opt.paramGroups[i]!.lr, b * (0.25 + 0.5 * Math.min(e, 4) / 4), `e=${e}`));
    }
    done();
    // torch defaults: startFactor 1/3, endFactor 1, totalIters 5
    const t = twoGroups(bes.js);
    const d = new LinearLR(t.opt);
    close(t.opt.paramGroups[0]!.lr, 0.1 / 3, 'default start');
    for (let e = 1; e <= 5; e++) d.step();
    close(t.opt.paramGroups[0]!.lr, 0.1, 'default end');
    t.done();
  });

  it('LinearWarmup then CosineAnnealingLR (SequentialLR) follows the piecewise closed form', () => {
    const { opt, done } = twoGroups(bes.js);
    const warm = new LinearWarmup(opt, { steps: 4, startFactor: 0.1 });
    const cos = new CosineAnnealingLR(opt, { tMax: 10, etaMin: 0.001 });
    const seq = new SequentialLR(opt, [warm, cos], [4]);
    for (let e = 0; e <= 16; e++) {
      if (e > 0) seq.step();
      BASE.forEach((b, i) => {
        const want = e < 4 ? b * (0.1 + 0.9 * e / 4) : 0.001 + (b - 0.001) * (1 + Math.cos(Math.PI * (e - 4) / 10)) / 2;
        close(opt.paramGroups[i]!.lr, want, `e=${e} group ${i}`);
      });
      expect(seq.getLastLr()).toEqual(opt.paramGroups.map((g) => g.lr));
    }
    done();
  });

  it('rejects bad schedule options', () => {
    const { opt, done } = twoGroups(bes.js);
    expect(() => new StepLR(opt, { stepSize: 0 })).toThrow(/stepSize: expected an integer ≥ 1, got 0/);
    expect(() => new StepLR(opt, { stepSize: 2, gamma: NaN })).toThrow(/gamma/);
    expect(() => new CosineAnnealingLR(opt, { tMax: 1.5 })).toThrow(/tMax/);
    expect(() => new CosineAnnealingLR(opt, { tMax: 5, etaMin: -1 })).toThrow(/etaMin/);
    expect(() => new LinearLR(opt, { startFactor: 0 })).toThrow(/startFactor/);
    expect(() => new LinearLR(opt, { endFactor: 2 })).toThrow(/endFactor/);
    expect(() => new LinearWarmup(opt, {} as never)).toThrow(/steps/);
    expect(() => new StepLR({} as never, { stepSize: 1 })).toThrow(/expected an optimizer/);
    const w = new LinearWarmup(opt, { steps: 2 });
    expect(() => new SequentialLR(opt, [w], [3])).toThrow(/0 milestones/);
    done();
  });
});

describe.each(['wasm', 'js'] as const)('weight decay follows the learning rate on %s', (kind) => {
  it('AdamW: the decoupled shrink at step t is exactly f32(1 − lr_t·wd) under a cosine schedule', () => {
    const be = bes[kind];
    const p = be.param([9], randomF32(9, 21));
    const opt = new optim.AdamW([p], { lr: 0.2, weightDecay: 0.3 });
    const sched = new CosineAnnealingLR(opt, { tMax: 6 });
    let prev = p.toFloat32Array();
    const shrinks: number[] = [];
    for (let t = 0; t < 6; t++) {
      const lr = opt.paramGroups[0]!.lr;
      opt.step(); // grad is zero: only the decay moves p (exp_avg stays 0, so the Adam update is 0)
      const f = Math.fround(1 - lr * 0.3);
      expect(firstBitDiff(p.data, prev.map((x) => Math.fround(x * f))), `step ${t}, lr ${lr}`).toBe(-1);
      shrinks.push(f);
      prev = p.toFloat32Array();
      sched.step();
    }
    // the shrink weakens as the rate anneals
    for (let t = 1; t < 6; t++) expect(shrinks[t]!).toBeGreaterThan(shrinks[t - 1]!);
    opt.dispose(); p.dispose();
  });

  it('SGD: the coupled decay step is lr_t·wd·p under StepLR', () => {
    const be = bes[kind];
    const p = be.param([5], [1, -2, 3, -4, 5]);
    const opt = new optim.SGD([p], { lr: 0.1, weightDecay: 0.5 });
    const sched = new StepLR(opt, { stepSize: 2, gamma: 0.1 });
    for (let t = 0; t < 5; t++) {
      const lr = opt.paramGroups[0]!.lr;
      const before = p.toFloat32Array();
      opt.step();
      for (let i = 0; i < 5; i++) {
        const shrink = (before[i]! - p.data[i]!) / before[i]!;
        expect(Math.abs(shrink - lr * 0.5), `t=${t} i=${i}`).toBeLessThanOrEqual(1e-6);
      }
      sched.step();
    }
    opt.dispose(); p.dispose();
  });
});

// test/reference/nanogpt-lr.json: nanoGPT's get_lr (train.py) evaluated by Python
// (examples/torch/nanogpt_lr.py), float64 rates written exactly.
const NANOGPT_LR = JSON.parse(readFileSync(new URL('./reference/nanogpt-lr.json', import.meta.url), 'utf8')) as {
  configs: { lr: number; minLr: number; warmupIters: number; decayIters: number; iters: number[]; rates: number[]; cos: (number | null)[] }[];
};

describe('WarmupCosineLR (nanoGPT\'s get_lr)', () => {
  it('gives nanoGPT\'s rate at every iteration of four configurations, stepping and in closed form', () => {
    let exact = 0, all = 0;
    const realCos = Math.cos;
    for (const c of NANOGPT_LR.configs) {
      const p = bes.js.param([1]);
      const opt = new optim.AdamW([p], { lr: c.lr });
      const s = new WarmupCosineLR(opt, { warmupIters: c.warmupIters, decayIters: c.decayIters, minLr: c.minLr });
      let epoch = 0;
      c.iters.forEach((it, k) => {
        while (epoch < it) { s.step(); epoch++; }
        const want = c.rates[k]!;
        const got = opt.paramGroups[0]!.lr;
        expect(s.closedForm(it)[0]).toBe(got);
        if (got === want) exact++;
        all++;
        // Math.cos (V8's fdlibm port) and Python's math.cos (glibc) may differ in the last bit
        // (about 2% of these iterations); with libm's cosine the formula gives nanoGPT's bits.
        const pyCos = c.cos[k]!;
        if (pyCos === null) {
          expect(got, `lr ${c.lr} it ${it}`).toBe(want);
        } else {
          expect(Math.abs(realCos(Math.PI * ((it - c.warmupIters) / (c.decayIters - c.warmupIters))) - pyCos)).toBeLessThanOrEqual(2 ** -53);
          Math.cos = () => pyCos;
          try {
            expect(s.closedForm(it)[0], `lr ${c.lr} it ${it} with libm's cos`).toBe(want);
          } finally {
            Math.cos = realCos;
          }
        }
      });
      opt.dispose(); p.dispose();
    }
    expect(exact / all).toBeGreaterThan(0.95);
  });

  it('follows the formula: warm-up lr·(it+1)/(warmup+1), minLr at decayIters and held there (no rise, unlike CosineAnnealingLR)', () => {
    const { opt, done } = twoGroups(bes.wasm);
    const s = new WarmupCosineLR(opt, { warmupIters: 4, decayIters: 12, minLr: 0.01 });
    for (let it = 0; it <= 40; it++) {
      if (it > 0) s.step();
      BASE.forEach((b, i) => {
        const want = it < 4 ? b * (it + 1) / 5 : it > 12 ? 0.01 : 0.01 + 0.5 * (1 + Math.cos(Math.PI * (it - 4) / 8)) * (b - 0.01);
        close(opt.paramGroups[i]!.lr, want, `it ${it} group ${i}`);
      });
    }
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.01, 0.01]);
    done();
  });

  it('resumes from stateDict() exactly, and rejects bad options and states before changing anything', () => {
    const a = twoGroups(bes.js), b = twoGroups(bes.js);
    const sa = new WarmupCosineLR(a.opt, { warmupIters: 3, decayIters: 20, minLr: 0.001 });
    for (let i = 0; i < 9; i++) sa.step();
    const sb = new WarmupCosineLR(b.opt, { warmupIters: 3, decayIters: 20, minLr: 0.001 });
    const saved = sa.stateDict();
    expect(saved).toEqual({ lastEpoch: 9, lastLr: sa.getLastLr() });
    const before = b.opt.paramGroups.map((g) => g.lr);
    for (const bad of [null, { lastEpoch: -1, lastLr: saved.lastLr }, { lastEpoch: 2.5, lastLr: saved.lastLr }, { lastEpoch: 3, lastLr: [0.1] }, { lastEpoch: 3, lastLr: [0.1, NaN] }]) {
      expect(() => sb.loadStateDict(bad as never)).toThrow(/WarmupCosineLR.loadStateDict/);
      expect(b.opt.paramGroups.map((g) => g.lr)).toEqual(before);
      expect(sb.lastEpoch).toBe(0);
    }
    sb.loadStateDict(JSON.parse(JSON.stringify(saved)));
    for (let i = 0; i < 30; i++) {
      expect(b.opt.paramGroups.map((g) => g.lr)).toEqual(a.opt.paramGroups.map((g) => g.lr));
      sa.step(); sb.step();
    }
    expect(() => new WarmupCosineLR(a.opt, { warmupIters: 5, decayIters: 5, minLr: 0 })).toThrow(/decayIters: expected an integer ≥ 6, got 5/);
    expect(() => new WarmupCosineLR(a.opt, { warmupIters: -1, decayIters: 5, minLr: 0 })).toThrow(/warmupIters: expected an integer ≥ 0/);
    expect(() => new WarmupCosineLR(a.opt, { warmupIters: 1, decayIters: 5, minLr: -1 })).toThrow(/minLr: expected a finite number ≥ 0/);
    expect(() => new WarmupCosineLR(a.opt, null as never)).toThrow(/expected options/);
    a.done(); b.done();
  });

  it('SequentialLR checks every schedule\'s saved state before it changes any', () => {
    const a = twoGroups(bes.js), b = twoGroups(bes.js);
    const mk = (opt: typeof a.opt) => new SequentialLR(opt, [new LinearWarmup(opt, { steps: 3 }), new CosineAnnealingLR(opt, { tMax: 10 })], [3]);
    const sa = mk(a.opt), sb = mk(b.opt);
    for (let i = 0; i < 7; i++) sa.step();
    const saved = sa.stateDict();
    const bad = { ...saved, schedulers: [saved.schedulers![0]!, { lastEpoch: -4, lastLr: [1, 1] }] };
    const before = JSON.stringify([sb.stateDict(), b.opt.paramGroups.map((g) => g.lr)]);
    expect(() => sb.loadStateDict(bad)).toThrow(/CosineAnnealingLR.loadStateDict lastEpoch/);
    expect(JSON.stringify([sb.stateDict(), b.opt.paramGroups.map((g) => g.lr)])).toBe(before);
    sb.loadStateDict(saved);
    for (let i = 0; i < 10; i++) {
      expect(b.opt.paramGroups.map((g) => g.lr)).toEqual(a.opt.paramGroups.map((g) => g.lr));
      sa.step(); sb.step();
    }
    a.done(); b.done();
  });
});
