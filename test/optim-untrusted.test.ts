/**
 * Optimizers against a hostile caller (issue 12, items 5, 6 and 11): a step validates every
 * parameter, grad and state it will touch before it changes any; loadStateDict treats its
 * input as untrusted (finite float32 values, non-negative second moments, every group
 * option present or defaulted as torch does, canonical integer keys, views into Wasm memory
 * copied out before anything is allocated) and leaves the optimizer as it was when it
 * throws; a group's weightDecay wins over the constructor's default.
 */
import { describe, expect, it } from 'vitest';
import { loadBackend, optim, DisposedError, ShapeError, type Backend, type Tensor } from '../src/index.js';
import { firstBitDiff, loadBoth, randomF32 } from './helpers.js';

const { wasm, js, BACKENDS } = await loadBoth();

type AnyOpt = optim.SGD | optim.Adam | optim.AdamW;
const FAMILIES: [string, (ps: Tensor[]) => AnyOpt][] = [
  ['SGD', (ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9 })],
  ['Adam', (ps) => new optim.Adam(ps, { lr: 0.1, amsgrad: true })],
  ['AdamW', (ps) => new optim.AdamW(ps, { lr: 0.1 })],
];

/** Every parameter's values and the optimizer's state, as a string to compare. */
function snapshot(opt: AnyOpt, ps: Tensor[]): string {
  return JSON.stringify([ps.map((p) => Array.from(p.data)), opt.stateDict()], (_k, v) => (v instanceof Float32Array ? Array.from(v) : v));
}

describe.each(BACKENDS)('step() changes nothing unless everything is valid (%s)', (_kind, be) => {
  const other = be === wasm ? js : wasm;
  const bad: [string, (b: Backend) => unknown, new (...a: never[]) => Error, RegExp][] = [
    ['a plain Float32Array', () => new Float32Array(3), TypeError, /params\[1\]\.grad: expected a Tensor or null, got a Float32Array/],
    ['a tensor of the other backend', () => other.zeros([3]), TypeError, /params\[1\]\.grad: the tensor belongs to another backend/],
    ['a disposed tensor', (b) => { const t = b.zeros([3]); t.dispose(); return t; }, DisposedError, /params\[1\]\.grad/],
    ['a tensor of another shape', (b) => b.zeros([4]), ShapeError, /grad shape \[4\] differs/],
  ];
  for (const [family, mk] of FAMILIES) {
    it.each(bad)(`${family}: the middle parameter's grad is %s`, (_what, makeBad, err, re) => {
      const ps = [be.param([3], [1, 2, 3]), be.param([3], [4, 5, 6]), be.param([3], [7, 8, 9])];
      ps.forEach((p, i) => p.grad!.data.set(randomF32(3, 10 + i)));
      const opt = mk(ps);
      opt.step(); // some state exists already
      const good = ps[1]!.grad!;
      ps[1]!.grad = makeBad(be) as Tensor;
      const snap = snapshot(opt, ps), live = be.memory().liveTensors;
      expect(() => opt.step()).toThrow(err);
      expect(() => opt.step()).toThrow(re);
      expect(snapshot(opt, ps)).toBe(snap);
      expect(be.memory().liveTensors).toBe(live);
      const b = ps[1]!.grad as unknown;
      if (b instanceof Object && 'dispose' in b && b !== good) (b as Tensor).dispose();
      ps[1]!.grad = good;
      opt.step();
      expect(snapshot(opt, ps)).not.toBe(snap);
      opt.dispose(); ps.forEach((p) => p.dispose());
    });
  }

  it('a state whose step count cannot grow by one is refused at load; 2^53 − 2 loads and steps', () => {
    for (const [family, mk] of FAMILIES) {
      const ps = [be.param([2], [1, 2]), be.param([2], [3, 4])];
      ps.forEach((p) => p.grad!.data.fill(0.5));
      const opt = mk(ps);
      opt.step();
      const sd = opt.stateDict();
      const snap = snapshot(opt, ps);
      const at = (step: number) => ({ ...sd, state: { ...sd.state, 1: { ...sd.state[1]!, step } } });
      expect(() => opt.loadStateDict(at(Number.MAX_SAFE_INTEGER) as never), family).toThrow(/state\[1\]\.step: expected a non-negative integer ≤ 2\^53 − 2/);
      expect(snapshot(opt, ps), family).toBe(snap);
      opt.loadStateDict(at(Number.MAX_SAFE_INTEGER - 1) as never);
      // at 2^53 − 2 one more step still counts exactly; then the next is refused before anything changes
      opt.step();
      expect(opt.stateDict().state[1]!.step).toBe(Number.MAX_SAFE_INTEGER);
      const snap2 = snapshot(opt, ps);
      expect(() => opt.step(), family).toThrow(/params\[1\]: the step count 9007199254740991 cannot grow/);
      expect(snapshot(opt, ps), family).toBe(snap2);
      opt.dispose(); ps.forEach((p) => p.dispose());
    }
  });
});

describe.each(BACKENDS)('loadStateDict treats its input as untrusted (%s)', (_kind, be) => {
  /** An Adam (amsgrad) with two groups and state for both parameters, and its state dict. */
  function setup() {
    const ps = [be.param([2, 2], [1, 2, 3, 4]), be.param([3], [5, 6, 7])];
    ps.forEach((p, i) => p.grad!.data.set(randomF32(p.size, 40 + i)));
    const opt = new optim.Adam([{ params: [ps[0]!] }, { params: [ps[1]!], weightDecay: 0.1 }], { lr: 0.1, amsgrad: true });
    opt.step(); opt.step();
    return { ps, opt, sd: opt.stateDict() };
  }
  type SD = ReturnType<typeof setup>['sd'];
  const withState = (sd: SD, i: number, key: string, f: (a: Float32Array) => void) => {
    const a = (sd.state[i] as unknown as Record<string, Float32Array>)[key]!.slice();
    f(a);
    return { ...sd, state: { ...sd.state, [i]: { ...sd.state[i]!, [key]: a } } };
  };
  const withGroup = (sd: SD, gi: number, f: (g: Record<string, unknown>) => void) => {
    const groups = sd.paramGroups.map((g) => ({ ...g })) as unknown as Record<string, unknown>[];
    f(groups[gi]!);
    return { ...sd, paramGroups: groups };
  };
  const bad: [string, (sd: SD) => unknown, RegExp][] = [
    ['NaN in expAvg', (sd) => withState(sd, 0, 'expAvg', (a) => { a[2] = NaN; }), /state\[0\]\.expAvg\[2\]: expected a finite float32 value, got NaN/],
    ['Infinity in expAvgSq', (sd) => withState(sd, 1, 'expAvgSq', (a) => { a[1] = Infinity; }), /state\[1\]\.expAvgSq\[1\]: expected a finite float32 value, got Infinity/],
    ['a negative second moment', (sd) => withState(sd, 1, 'expAvgSq', (a) => { a[0] = -1e-3; }), /state\[1\]\.expAvgSq\[0\]: expected a non-negative second moment/],
    ['a negative max second moment', (sd) => withState(sd, 0, 'maxExpAvgSq', (a) => { a[3] = -2; }), /maxExpAvgSq\[3\]: expected a non-negative second moment/],
    ['a group without lr', (sd) => withGroup(sd, 1, (g) => { delete g.lr; }), /paramGroups\[1\]: missing lr/],
    ['a group without weightDecay', (sd) => withGroup(sd, 0, (g) => { delete g.weightDecay; }), /paramGroups\[0\]: missing weightDecay/],
    ['a group without betas', (sd) => withGroup(sd, 0, (g) => { delete g.betas; }), /missing betas/],
    ['state key "01"', (sd) => ({ ...sd, state: { '01': sd.state[1] } }), /expected keys that are parameter indices \("0", "1", \.\.\.\), got "01"/],
    ['state key ""', (sd) => ({ ...sd, state: { '': sd.state[1] } }), /got ""/],
    ['state key " 1"', (sd) => ({ ...sd, state: { ' 1': sd.state[1] } }), /got " 1"/],
    ['state key "1.0"', (sd) => ({ ...sd, state: { '1.0': sd.state[1] } }), /got "1\.0"/],
    ["torch's layout", (sd) => ({ state: { 0: { step: 2, exp_avg: sd.state[0]!.expAvg, exp_avg_sq: sd.state[0]!.expAvgSq } }, param_groups: sd.paramGroups }), /torch's layout.*rename the keys/],
  ];
  it.each(bad)('%s: refused with a message naming it; nothing changes', (_what, mk, re) => {
    const { ps, opt, sd } = setup();
    const snap = snapshot(opt, ps), live = be.memory().liveTensors;
    expect(() => opt.loadStateDict(mk(sd) as never)).toThrow(re);
    expect(snapshot(opt, ps)).toBe(snap);
    expect(be.memory().liveTensors).toBe(live);
    opt.loadStateDict(sd); // the untouched dict still loads
    expect(snapshot(opt, ps)).toBe(snap);
    opt.dispose(); ps.forEach((p) => p.dispose());
  });

  it('amsgrad, maximize and l1 may be left out of a saved group: false, false and 0, as torch defaults them', () => {
    const { ps, opt, sd } = setup();
    const lean = withGroup(withGroup(sd, 0, (g) => { delete g.maximize; delete g.l1; }) as unknown as SD, 1, (g) => { delete g.maximize; delete g.l1; delete g.amsgrad; });
    opt.paramGroups[0]!.maximize = true;
    opt.loadStateDict(lean as never);
    expect(opt.paramGroups.map((g) => [g.amsgrad, g.maximize, g.l1])).toEqual([[true, false, 0], [false, false, 0]]);
    opt.dispose(); ps.forEach((p) => p.dispose());
  });
});

describe('loadStateDict copies its input out before allocating', () => {
  it('state given as views into the Wasm memory loads even when the allocations grow (and detach) that memory', async () => {
    const be = await loadBackend('wasm', { threads: 1 });
    const n = 1 << 21; // 8 MiB per buffer: the new state's three buffers must grow the heap
    const p = be.param([n]);
    p.grad!.data.fill(0.25);
    const opt = new optim.Adam([p], { lr: 0.01, amsgrad: true });
    const src = [be.tensor([n], randomF32(n, 1)), be.tensor([n], randomF32(n, 2).map(Math.abs)), be.tensor([n], randomF32(n, 3).map((v) => Math.abs(v) + 1))];
    const want = src.map((t) => t.toFloat32Array());
    const sd = opt.stateDict();
    sd.state[0] = { step: 5, expAvg: src[0]!.data, expAvgSq: src[1]!.data, maxExpAvgSq: src[2]!.data };
    const heap0 = be.memory().heapBytes;
    opt.loadStateDict(sd);
    expect(be.memory().heapBytes).toBeGreaterThan(heap0); // the memory grew: the views given are detached now
    const got = opt.stateDict().state[0]!;
    expect(got.step).toBe(5);
    expect(firstBitDiff(got.expAvg!, want[0]!)).toBe(-1);
    expect(firstBitDiff(got.expAvgSq!, want[1]!)).toBe(-1);
    expect(firstBitDiff(got.maxExpAvgSq!, want[2]!)).toBe(-1);
    opt.dispose(); p.dispose(); src.forEach((t) => t.dispose());
    expect(be.memory().liveTensors).toBe(0);
  });
});

describe.each(BACKENDS)("a group's weightDecay wins over the constructor's default (%s)", (_kind, be) => {
  it.each(['Adam', 'AdamW'] as const)('%s: defaults { weightDecay: 0.1 }, group b { weightDecay: 0 }: b unchanged under zero grads, w decays', (family) => {
    const w = be.param([2, 3], [1, -2, 3, -4, 5, -6]), b = be.param([3], [0.5, -0.25, 2]);
    const w0 = w.toFloat32Array(), b0 = b.toFloat32Array();
    const Opt = family === 'Adam' ? optim.Adam : optim.AdamW;
    const opt = new Opt([{ params: [w] }, { params: [b], weightDecay: 0 }], { weightDecay: 0.1, lr: 0.1 });
    for (let t = 0; t < 3; t++) { opt.zeroGrad(); opt.step(); }
    expect(firstBitDiff(b.data, b0)).toBe(-1);
    expect(Array.from(w.data).every((v, i) => Math.abs(v) < Math.abs(w0[i]!))).toBe(true);
    expect(opt.paramGroups.map((g) => g.weightDecay)).toEqual([0.1, 0]);
    opt.dispose(); w.dispose(); b.dispose();
  });
});
