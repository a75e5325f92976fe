import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { optim, DisposedError, ShapeError, type Backend, type Tensor } from '../src/index.js';
import { firstBitDiff, loadBoth, randomF32 } from './helpers.js';

/** torch 1.13 trajectories (source field kept in the file). */
interface RefCase {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  hyper: Record<string, unknown>;
  p0: number[];
  grads: number[][];
  expected: number[][];
}
const REF = JSON.parse(readFileSync(new URL('./reference/optimizers.json', import.meta.url), 'utf8')) as { source: string; cases: RefCase[] };

type AnyOpt = optim.SGD | optim.Adam | optim.AdamW;

function make(kind: RefCase['optimizer'], params: Tensor[] | optim.ParamGroupInput<never>[], hyper: Record<string, unknown>): AnyOpt {
  if (kind === 'SGD') return new optim.SGD(params as Tensor[], hyper as unknown as optim.SGDOptions);
  if (kind === 'Adam') return new optim.Adam(params as Tensor[], hyper as optim.AdamOptions);
  return new optim.AdamW(params as Tensor[], hyper as optim.AdamOptions);
}

/** Runs a reference case through the class; returns p after each step. */
function runCase(be: Backend, c: RefCase): Float32Array[] {
  const p = be.param([c.p0.length], c.p0);
  const opt = make(c.optimizer, [p], c.hyper);
  const out: Float32Array[] = [];
  try {
    for (const g of c.grads) {
      p.grad!.data.set(g);
      opt.step();
      out.push(p.toFloat32Array());
    }
  } finally {
    opt.dispose();
    p.dispose();
  }
  return out;
}

let bes: { wasm: Backend; js: Backend };
beforeAll(async () => { bes = await loadBoth(); });

describe('optimizers against torch 1.13 (' + REF.source + ')', () => {
  it('has the cases the contract names', () => {
    const names = REF.cases.map((c) => c.name);
    for (const n of ['sgd-nesterov', 'adam-coupled-l2-amsgrad', 'adamw-decoupled', 'adamw-maximize', 'sgd-l1-prox', 'adamw-l1-prox']) expect(names).toContain(n);
  });

  for (const c of REF.cases) {
    it(`${c.name}: every step within 1e-5 relative on both backends, wasm and js bit-identical`, () => {
      const w = runCase(bes.wasm, c);
      const j = runCase(bes.js, c);
      c.expected.forEach((exp, t) => {
        expect(firstBitDiff(w[t]!, j[t]!), `step ${t + 1}: wasm vs js`).toBe(-1);
        const e = Float32Array.from(exp);
        const prev = t === 0 ? c.p0 : c.expected[t - 1]!;
        for (let i = 0; i < e.length; i++) {
          const got = w[t]![i]!, want = e[i]!;
          // Exact zeros from the proximal step must be exact here too.
          if (want === 0) { expect(got, `${c.name} step ${t + 1} [${i}]`).toBe(0); continue; }
          // Relative to the values the step combines: where p_t = p_{t-1} − Δ cancels to a
          // tiny p_t, float32 leaves an error of order ulp(p_{t-1}) (torch's CPU kernels fuse
          // multiply-adds, which Wasm SIMD cannot), so |p_t| alone is not the scale.
          const scale = Math.max(Math.abs(want), Math.abs(prev[i]!));
          expect(Math.abs(got - want), `${c.name} step ${t + 1} [${i}]: ${got} vs ${want}`).toBeLessThanOrEqual(1e-5 * scale);
        }
      });
    });
  }

  it('a case split over two tensors in two groups gives the same bits as one tensor', () => {
    for (const c of REF.cases) {
      for (const be of [bes.wasm, bes.js]) {
        const whole = runCase(be, c);
        const cut = Math.floor(c.p0.length / 2) + 1;
        const a = be.param([cut], c.p0.slice(0, cut));
        const b = be.param([c.p0.length - cut], c.p0.slice(cut));
        const opt = make(c.optimizer, [{ params: [a] }, { params: [b] }] as never, c.hyper);
        c.grads.forEach((g, t) => {
          a.grad!.data.set(g.slice(0, cut)); b.grad!.data.set(g.slice(cut));
          opt.step();
          const joined = new Float32Array(c.p0.length);
          joined.set(a.data); joined.set(b.data, cut);
          expect(firstBitDiff(joined, whole[t]!), `${c.name} on ${be.kind}, step ${t + 1}`).toBe(-1);
        });
        opt.dispose(); a.dispose(); b.dispose();
      }
    }
  });
});

describe.each(['wasm', 'js'] as const)('optimizer behaviour on %s', (kind) => {
  const be = () => bes[kind];

  it('torch defaults: Adam lr 1e-3, betas [0.9, 0.999], eps 1e-8, wd 0; AdamW wd 0.01; SGD needs lr', () => {
    const p = be().param([3]);
    const a = new optim.Adam([p]);
    expect(a.paramGroups[0]).toMatchObject({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, l1: 0 });
    const w = new optim.AdamW([p]);
    expect(w.paramGroups[0]!.weightDecay).toBe(0.01);
    expect(() => new optim.SGD([p], {} as optim.SGDOptions)).toThrow(/lr \(learning rate\) is required/);
    const s = new optim.SGD([p], { lr: 0.1 });
    expect(s.paramGroups[0]).toMatchObject({ lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, l1: 0 });
    p.dispose();
  });

  it('groups override options: a weightDecay-0 group stays undecayed while the other decays (AdamW, zero grads)', () => {
    const w = be().param([2, 3], randomF32(6, 1)), b = be().param([3], randomF32(3, 2));
    const w0 = w.toFloat32Array(), b0 = b.toFloat32Array();
    const opt = new optim.AdamW([{ params: [w], weightDecay: 0.05 }, { params: [b], weightDecay: 0 }], { lr: 1e-2 });
    expect(opt.paramGroups.map((g) => g.weightDecay)).toEqual([0.05, 0]);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([1e-2, 1e-2]);
    for (let t = 0; t < 5; t++) opt.step();
    expect(firstBitDiff(b.data, b0)).toBe(-1);
    const f = Math.fround(1 - 1e-2 * 0.05);
    let expected = w0;
    for (let t = 0; t < 5; t++) expected = expected.map((x) => Math.fround(x * f));
    expect(firstBitDiff(w.data, expected)).toBe(-1);
    opt.dispose(); w.dispose(); b.dispose();
  });

  it('groups override options: each group equals an optimizer of its own with those options', () => {
    const g1 = randomF32(12, 7), g2 = randomF32(5, 8);
    const mk = () => [be().param([3, 4], randomF32(12, 3)), be().param([5], randomF32(5, 4))] as const;
    const [a, b] = mk();
    const opt = new optim.Adam([{ params: [a], lr: 0.05, amsgrad: true, weightDecay: 0.1 }, { params: [b], betas: [0.5, 0.9] }], { lr: 0.01 });
    const [a2, b2] = mk();
    const oa = new optim.Adam([a2], { lr: 0.05, amsgrad: true, weightDecay: 0.1 });
    const ob = new optim.Adam([b2], { lr: 0.01, betas: [0.5, 0.9] });
    for (let t = 0; t < 4; t++) {
      for (const [p, g] of [[a, g1], [b, g2], [a2, g1], [b2, g2]] as const) p.grad!.data.set(g.map((x) => x * (t + 1)));
      opt.step(); oa.step(); ob.step();
    }
    expect(firstBitDiff(a.data, a2.data)).toBe(-1);
    expect(firstBitDiff(b.data, b2.data)).toBe(-1);
    for (const o of [opt, oa, ob]) o.dispose();
    for (const p of [a, b, a2, b2]) p.dispose();
  });

  const BAD: [string, 'SGD' | 'Adam' | 'AdamW', Record<string, unknown>, RegExp][] = [
    ['negative lr', 'SGD', { lr: -0.1 }, /lr \(learning rate\).*≥ 0, got -0\.1/],
    ['NaN lr', 'Adam', { lr: NaN }, /lr \(learning rate\): expected a finite number ≥ 0, got NaN/],
    ['Infinity lr', 'AdamW', { lr: Infinity }, /lr.*got Infinity/],
    ['negative momentum', 'SGD', { lr: 0.1, momentum: -0.5 }, /momentum/],
    ['NaN dampening', 'SGD', { lr: 0.1, dampening: NaN }, /dampening/],
    ['negative weightDecay', 'SGD', { lr: 0.1, weightDecay: -1 }, /weightDecay/],
    ['nesterov without momentum', 'SGD', { lr: 0.1, nesterov: true }, /Nesterov momentum requires/],
    ['nesterov with dampening', 'SGD', { lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 }, /Nesterov/],
    ['non-boolean maximize', 'SGD', { lr: 0.1, maximize: 1 }, /maximize: expected true or false/],
    ['negative l1', 'SGD', { lr: 0.1, l1: -0.01 }, /l1/],
    ['beta1 = 1', 'Adam', { betas: [1, 0.999] }, /beta1/],
    ['negative beta2', 'AdamW', { betas: [0.9, -0.1] }, /beta2/],
    ['betas of one', 'Adam', { betas: [0.9] }, /betas: expected \[beta1, beta2\]/],
    ['NaN beta2', 'Adam', { betas: [0.9, NaN] }, /beta2/],
    ['negative eps', 'Adam', { eps: -1e-8 }, /eps/],
    ['Infinity eps', 'AdamW', { eps: Infinity }, /eps/],
    ['negative weightDecay', 'AdamW', { weightDecay: -0.01 }, /weightDecay/],
    ['NaN weightDecay', 'Adam', { weightDecay: NaN }, /weightDecay/],
    ['non-boolean amsgrad', 'Adam', { amsgrad: 'yes' }, /amsgrad/],
    ['NaN l1', 'AdamW', { l1: NaN }, /l1/],
    ['unknown option (snake case)', 'AdamW', { weight_decay: 0.1 }, /unknown option .weight_decay./],
  ];

  it.each(BAD)('rejects %s (%s) in any group, naming the group, before any state exists', (_n, family, bad, re) => {
    const ps = [be().param([4], [1, 2, 3, 4]), be().param([2], [5, 6]), be().param([3], [7, 8, 9])];
    const before = be().memory().liveTensors;
    const base = family === 'SGD' ? { lr: 0.1 } : {};
    for (let gi = 0; gi < 3; gi++) {
      const groups = ps.map((p, i) => (i === gi ? { params: [p], ...bad } : { params: [p] }));
      const err = (() => { try { make(family, groups as never, base); } catch (e) { return e as Error; } return null; })();
      expect(err, `group ${gi}`).toBeInstanceOf(Error);
      expect(err!.message).toMatch(re);
      expect(err!.message).toContain(`paramGroups[${gi}]`);
      // as the constructor's defaults, too
      expect(() => make(family, ps, { ...base, ...bad })).toThrow(re);
    }
    expect(be().memory().liveTensors).toBe(before);
    for (const p of ps) p.dispose();
  });

  it('re-checks every group at step(): a bad lr set later changes nothing and makes no state', () => {
    const a = be().param([5], randomF32(5, 1)), b = be().param([5], randomF32(5, 2));
    a.grad!.data.set(randomF32(5, 3)); b.grad!.data.set(randomF32(5, 4));
    const opt = new optim.Adam([{ params: [a] }, { params: [b] }], { lr: 0.1 });
    const a0 = a.toFloat32Array(), before = be().memory().liveTensors;
    opt.paramGroups[1]!.lr = NaN;
    expect(() => opt.step()).toThrow(/Adam paramGroups\[1\]: lr \(learning rate\)/);
    expect(firstBitDiff(a.data, a0)).toBe(-1);
    expect(be().memory().liveTensors).toBe(before);
    expect(opt.stateDict().state).toEqual({});
    opt.paramGroups[1]!.lr = 0.1;
    opt.step();
    expect(firstBitDiff(a.data, a0)).not.toBe(-1);
    opt.dispose(); a.dispose(); b.dispose();
  });

  it('re-checks changed options after valid steps: a bad lr or betas changed in place throws and changes nothing', () => {
    const a = be().param([5], randomF32(5, 1)), b = be().param([5], randomF32(5, 2));
    a.grad!.data.set(randomF32(5, 3)); b.grad!.data.set(randomF32(5, 4));
    const opt = new optim.AdamW([{ params: [a] }, { params: [b], weightDecay: 0 }], { lr: 0.1 });
    opt.step(); opt.step(); // the options were validated and remembered
    const g1 = opt.paramGroups[1]!;
    const a0 = a.toFloat32Array(), b0 = b.toFloat32Array(), state0 = JSON.stringify(opt.stateDict().state);
    const unchanged = () => {
      expect(firstBitDiff(a.data, a0)).toBe(-1);
      expect(firstBitDiff(b.data, b0)).toBe(-1);
      expect(JSON.stringify(opt.stateDict().state)).toBe(state0);
    };
    g1.lr = -1;
    expect(() => opt.step()).toThrow(/AdamW paramGroups\[1\]: lr \(learning rate\)/);
    unchanged();
    g1.lr = 0.1;
    g1.betas[0] = 1.5; // the same array, changed in place
    expect(() => opt.step()).toThrow(/AdamW paramGroups\[1\].*beta/);
    unchanged();
    g1.betas[0] = 0.9;
    g1.weightDecay = NaN;
    expect(() => opt.step()).toThrow(/AdamW paramGroups\[1\].*weight/i);
    unchanged();
    g1.weightDecay = 0;
    opt.step();
    expect(firstBitDiff(b.data, b0)).not.toBe(-1);
    opt.dispose(); a.dispose(); b.dispose();
  });

  it('SGD re-checks momentum changed after valid steps', () => {
    const a = be().param([3], randomF32(3, 5));
    a.grad!.data.set(randomF32(3, 6));
    const opt = new optim.SGD([a], { lr: 0.1, momentum: 0.9 });
    opt.step();
    const a0 = a.toFloat32Array();
    opt.paramGroups[0]!.momentum = -0.5;
    expect(() => opt.step()).toThrow(/SGD paramGroups\[0\].*momentum/);
    expect(firstBitDiff(a.data, a0)).toBe(-1);
    opt.paramGroups[0]!.momentum = 0.9;
    opt.step();
    expect(firstBitDiff(a.data, a0)).not.toBe(-1);
    opt.dispose(); a.dispose();
  });

  it('rejects bad parameter lists', () => {
    const p = be().param([3]), q = be().param([2]);
    const plain = be().tensor([2], [1, 2]);
    expect(() => new optim.SGD([], { lr: 0.1 })).toThrow(/empty parameter list/);
    expect(() => new optim.SGD(p as never, { lr: 0.1 })).toThrow(TypeError);
    expect(() => new optim.SGD([p, plain], { lr: 0.1 })).toThrow(/params\[1\].*does not require grad/);
    expect(() => new optim.Adam([{ params: [p] }, { params: [q, p] }])).toThrow(/paramGroups\[1\]\.params\[1\].*more than one place/);
    expect(() => new optim.Adam([p, p])).toThrow(/more than one place/);
    const noGrad = be().tensor([2], [1, 2]); noGrad.requiresGrad = true;
    expect(() => new optim.AdamW([{ params: [p] }, { params: [noGrad] }])).toThrow(/paramGroups\[1\]\.params\[0\].*has no grad tensor/);
    noGrad.dispose();
    expect(() => new optim.Adam([{ params: p } as never])).toThrow(/params: expected an array/);
    expect(() => new optim.Adam([p, { params: [q] }] as never)).toThrow(/mix of tensors and parameter groups/);
    const opt = new optim.Adam([p]);
    expect(() => opt.addParamGroup({ params: [p] })).toThrow(/paramGroups\[1\].*more than one place/);
    opt.addParamGroup({ params: [q], lr: 0.5 });
    expect(opt.paramGroups[1]!.lr).toBe(0.5);
    const d = be().param([1]); d.dispose();
    expect(() => new optim.SGD([d], { lr: 1 })).toThrow(DisposedError);
    opt.dispose(); p.dispose(); q.dispose(); plain.dispose();
  });

  it('allocates state lazily (momentum buffer, exp_avg, exp_avg_sq, max_exp_avg_sq) and dispose() frees it', () => {
    const p = be().param([4, 4], randomF32(16, 5));
    p.grad!.data.set(randomF32(16, 6));
    const base = be().memory().liveTensors;
    for (const [mk, extra] of [
      [() => new optim.SGD([p], { lr: 0.1 }), 0],
      [() => new optim.SGD([p], { lr: 0.1, momentum: 0.9 }), 1],
      [() => new optim.Adam([p]), 2],
      [() => new optim.AdamW([p], { amsgrad: true }), 3],
    ] as const) {
      const opt = mk();
      expect(be().memory().liveTensors).toBe(base);
      opt.step();
      expect(be().memory().liveTensors).toBe(base + extra);
      opt.step();
      expect(be().memory().liveTensors).toBe(base + extra);
      expect(opt.stateDict().state[0]!.step).toBe(2);
      opt.dispose();
      expect(be().memory().liveTensors).toBe(base);
      expect(() => opt.step()).toThrow(DisposedError);
    }
    p.dispose();
  });

  it('skips parameters whose grad is null; zeroGrad() zeros the others', () => {
    const a = be().param([3], [1, 2, 3]), b = be().param([3], [4, 5, 6]);
    const opt = new optim.SGD([a, b], { lr: 0.5 });
    a.grad!.data.set([1, 1, 1]);
    const bg = b.grad!; b.grad = null;
    opt.step();
    expect(Array.from(a.data)).toEqual([0.5, 1.5, 2.5]);
    expect(Array.from(b.data)).toEqual([4, 5, 6]);
    expect(opt.stateDict().state[1]).toBeUndefined();
    b.grad = bg; bg.data.set([2, 2, 2]);
    opt.zeroGrad();
    expect(Array.from(a.grad!.data)).toEqual([0, 0, 0]);
    expect(Array.from(b.grad.data)).toEqual([0, 0, 0]);
    opt.dispose(); a.dispose(); b.dispose();
  });

  const ROUND: [string, (ps: Tensor[]) => AnyOpt][] = [
    ['SGD momentum + nesterov + l1', (ps) => new optim.SGD([{ params: [ps[0]!] }, { params: [ps[1]!], weightDecay: 0 }], { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01, l1: 0.1 })],
    ['Adam amsgrad + coupled L2', (ps) => new optim.Adam(ps, { lr: 0.02, amsgrad: true, weightDecay: 0.1 })],
    ['AdamW groups + maximize', (ps) => new optim.AdamW([{ params: [ps[0]!], weightDecay: 0.05 }, { params: [ps[1]!], weightDecay: 0, maximize: true }], { lr: 0.01, betas: [0.8, 0.99] })],
  ];

  it.each(ROUND)('stateDict round trip (%s): save after k steps, load into a fresh optimizer, continue = uninterrupted bits', (_n, mk) => {
    const init = [randomF32(20, 11), randomF32(7, 12)];
    const grads = Array.from({ length: 8 }, (_, t) => [randomF32(20, 100 + t), randomF32(7, 200 + t)]);
    const mkParams = () => [be().param([4, 5], init[0]), be().param([7], init[1])];
    const feed = (ps: Tensor[], t: number) => ps.forEach((p, i) => p.grad!.data.set(grads[t]![i]!));
    // uninterrupted
    const ref = mkParams(); const o1 = mk(ref);
    for (let t = 0; t < 8; t++) { feed(ref, t); o1.step(); }
    // interrupted after 3 steps
    const ps = mkParams(); const o2 = mk(ps);
    for (let t = 0; t < 3; t++) { feed(ps, t); o2.step(); }
    const sd = o2.stateDict();
    const saved = ps.map((p) => p.toFloat32Array());
    o2.step(); // disturb the live optimizer: the saved dict is a copy
    expect(sd.state[0]!.step).toBe(3);
    const fresh = [be().param([4, 5], saved[0]), be().param([7], saved[1])];
    const o3 = mk(fresh);
    const before = be().memory().liveTensors;
    o3.loadStateDict(sd as never);
    expect(be().memory().liveTensors).toBeGreaterThan(before);
    for (let t = 3; t < 8; t++) { feed(fresh, t); o3.step(); }
    fresh.forEach((p, i) => expect(firstBitDiff(p.data, ref[i]!.data), `param ${i}`).toBe(-1));
    expect(o3.stateDict().state[0]!.step).toBe(8);
    for (const o of [o1, o2, o3]) o.dispose();
    for (const p of [...ref, ...ps, ...fresh]) p.dispose();
  });

  it('loadStateDict restores group options (lr) and rejects wrong counts and shapes, changing nothing', () => {
    const mkp = () => [be().param([2, 2], [1, 2, 3, 4]), be().param([3], [5, 6, 7])];
    const ps = mkp();
    const o = new optim.Adam([{ params: [ps[0]!] }, { params: [ps[1]!] }], { lr: 0.1 });
    ps.forEach((p) => p.grad!.data.fill(0.5));
    o.step();
    o.paramGroups[1]!.lr = 0.03;
    const good = o.stateDict();
    const qs = mkp();
    const o2 = new optim.Adam([{ params: [qs[0]!] }, { params: [qs[1]!] }], { lr: 0.1 });
    qs.forEach((p) => p.grad!.data.fill(0.25));
    o2.step();
    const snap = JSON.stringify(o2.stateDict(), (_k, v) => (v instanceof Float32Array ? Array.from(v) : v));
    const live = be().memory().liveTensors;
    const bad: [string, unknown, RegExp | (new (...a: never[]) => Error)][] = [
      ['one group', { ...good, paramGroups: good.paramGroups.slice(0, 1) }, /1 parameter groups, this optimizer has 2/],
      ['wrong group size', { ...good, paramGroups: [good.paramGroups[0], { ...good.paramGroups[1]!, params: [1, 2] }] }, /2 parameters, this optimizer's group has 1/],
      ['short buffer', { ...good, state: { ...good.state, 1: { ...good.state[1]!, expAvg: new Float32Array(2) } } }, /state\[1\]\.expAvg: expected 3 elements/],
      ['index out of range', { ...good, state: { ...good.state, 5: good.state[0] } }, /state\[5\]/],
      ['bad lr', { ...good, paramGroups: [{ ...good.paramGroups[0]!, lr: -1 }, good.paramGroups[1]] }, /paramGroups\[0\]: lr/],
      ['unknown buffer', { ...good, state: { 0: { ...good.state[0]!, momentumBuffer: new Float32Array(4) } } }, /unknown entry "momentumBuffer"/],
      ['fractional step', { ...good, state: { 0: { ...good.state[0]!, step: 1.5 } } }, /step \(≤ 2\^53 − 2: the next step must count exactly\): expected an integer in \[0, 9007199254740990\], got 1.5/],
      ['one moment only', { ...good, state: { 0: { step: 1, expAvg: new Float32Array(4) } } }, /both expAvg and expAvgSq/],
      ['not an array', { ...good, state: { 0: { ...good.state[0]!, expAvgSq: [1, 2, 3, 4] } } }, /expected a Float32Array/],
    ];
    for (const [name, sd, err] of bad) {
      expect(() => o2.loadStateDict(sd as never), name).toThrow(err as RegExp);
      expect(JSON.stringify(o2.stateDict(), (_k, v) => (v instanceof Float32Array ? Array.from(v) : v)), name).toBe(snap);
      expect(be().memory().liveTensors, name).toBe(live);
    }
    expect(() => o2.loadStateDict({ ...good, state: { 0: { ...good.state[0]!, expAvg: new Float32Array(3) } } })).toThrow(ShapeError);
    o2.loadStateDict(good);
    expect(o2.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.03]);
    expect(firstBitDiff(o2.stateDict().state[1]!.expAvgSq!, good.state[1]!.expAvgSq!)).toBe(-1);
    expect(be().memory().liveTensors).toBe(live);
    for (const x of [o, o2]) x.dispose();
    for (const p of [...ps, ...qs]) p.dispose();
  });

  it('l1 leaves exact zeros: SGD with zero gradient soft-thresholds by lr·l1 per step', () => {
    const p = be().param([6], [0.3, -0.3, 0.05, -0.05, 0, 1]);
    const opt = new optim.SGD([p], { lr: 0.1, l1: 1 });
    opt.step();
    const t = Math.fround(0.1);
    const want = [0.3, -0.3, 0.05, -0.05, 0, 1].map((x) => Math.fround(Math.sign(x) * Math.max(Math.abs(Math.fround(x)) - t, 0)));
    expect(Array.from(p.data)).toEqual(want.map((x) => x + 0));
    expect(p.data[2]).toBe(0); expect(Object.is(p.data[3], -0)).toBe(false);
    opt.dispose(); p.dispose();
  });
});
