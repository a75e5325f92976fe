import { describe, expect, it } from 'vitest';
import { ShapeError, nn, safetensors, type Backend } from '../src/index.js';
import { loadBoth, randomF32, firstBitDiff } from './helpers.js';

const { wasm, js } = await loadBoth();

describe.each([['wasm', wasm], ['js', js]] as const)('nn on %s', (_k, be) => {
  it("Linear: weight [out, in], bias [out], torch's U(−1/√in, 1/√in) from mulberry32(seed)", () => {
    const l = new nn.Linear(be, 7, 5, { seed: 42 });
    expect(l.weight.shape).toEqual([5, 7]);
    expect(l.bias!.shape).toEqual([5]);
    expect(l.weight.requiresGrad && l.bias!.requiresGrad).toBe(true);
    // test/helpers randomF32 is mulberry32 with (2u − 1)·scale: the documented draw order is weight, then bias
    const want = randomF32(5 * 7 + 5, 42, 1 / Math.sqrt(7));
    expect(firstBitDiff(l.weight.toFloat32Array(), want.subarray(0, 35))).toBe(-1);
    expect(firstBitDiff(l.bias!.toFloat32Array(), want.subarray(35))).toBe(-1);
    l.dispose();
    const big = new nn.Linear(be, 50, 400, { seed: 3 });
    const w = big.weight.data, bound = 1 / Math.sqrt(50);
    let mean = 0, sq = 0;
    for (const v of w) { expect(Math.abs(v)).toBeLessThanOrEqual(bound); mean += v; sq += v * v; }
    mean /= w.length; sq /= w.length;
    expect(Math.abs(mean)).toBeLessThan(0.01 * bound * 3);
    expect(Math.abs(sq / (bound * bound / 3) - 1)).toBeLessThan(0.03); // variance of U(−b, b) is b²/3
    big.dispose();
    expect(be.memory().liveTensors).toBe(0);
  });

  it('Linear: seeds are deterministic; without a seed the manualSeed stream decides', () => {
    const a = new nn.Linear(be, 4, 3, { seed: 9 }), b = new nn.Linear(be, 4, 3, { seed: 9 }), c = new nn.Linear(be, 4, 3, { seed: 10 });
    expect(firstBitDiff(a.weight.data, b.weight.data)).toBe(-1);
    expect(firstBitDiff(a.weight.data, c.weight.data)).not.toBe(-1);
    nn.manualSeed(5);
    const d1 = new nn.Linear(be, 4, 3), d2 = new nn.Linear(be, 4, 3);
    nn.manualSeed(5);
    const e1 = new nn.Linear(be, 4, 3), e2 = new nn.Linear(be, 4, 3);
    expect(firstBitDiff(d1.weight.data, e1.weight.data)).toBe(-1);
    expect(firstBitDiff(d2.weight.data, e2.weight.data)).toBe(-1);
    expect(firstBitDiff(d1.weight.data, d2.weight.data)).not.toBe(-1);
    for (const m of [a, b, c, d1, d2, e1, e2]) m.dispose();
  });

  it('Linear without bias; forward is x·Wᵀ + b', () => {
    const l = new nn.Linear(be, 3, 2, { seed: 1, bias: false });
    expect(l.bias).toBeNull();
    expect(l.namedParameters().map(([n]) => n)).toEqual(['weight']);
    const lb = new nn.Linear(be, 3, 2, { seed: 1 });
    const x = be.tensor([2, 3], [1, 2, 3, -1, 0.5, 2]);
    const y = lb.forward(x).data, W = lb.weight.data, bb = lb.bias!.data;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += x.data[i * 3 + k]! * W[j * 3 + k]!;
      expect(y[i * 2 + j]).toBeCloseTo(s + bb[j]!, 5);
    }
    const x4 = be.tensor([2, 4]);
    expect(() => lb.forward(x4)).toThrow(ShapeError);
    be.endStep(); l.dispose(); lb.dispose(); x.dispose(); x4.dispose();
  });

  it("Sequential names children '0', '1', ... and state dicts use torch's keys", () => {
    const m = new nn.Sequential(new nn.Linear(be, 6, 16, { seed: 1 }), new nn.ReLU(), new nn.Dropout(0.5, { seed: 1 }), new nn.Linear(be, 16, 3, { seed: 2 }));
    expect(m.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([['0.weight', [16, 6]], ['0.bias', [16]], ['3.weight', [3, 16]], ['3.bias', [3]]]);
    expect(m.parameters().length).toBe(4);
    expect(m.length).toBe(4);
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual(['0.weight', '0.bias', '3.weight', '3.bias']);
    sd['0.bias']![0] = 123; // a copy
    expect(m.parameters()[1]!.data[0]).not.toBe(123);
    const other = new nn.Sequential(new nn.Linear(be, 6, 16, { seed: 7 }), new nn.GELU(), new nn.Tanh(), new nn.Linear(be, 16, 3, { seed: 8 }));
    other.loadStateDict(m.stateDict());
    other.parameters().forEach((p, i) => expect(firstBitDiff(p.data, m.parameters()[i]!.data)).toBe(-1));
    // nested Sequential: dotted prefixes
    const nested = new nn.Sequential(new nn.Sequential(new nn.Linear(be, 2, 2, { seed: 1 })), new nn.Linear(be, 2, 1, { seed: 2 }));
    expect(Object.keys(nested.stateDict())).toEqual(['0.0.weight', '0.0.bias', '1.weight', '1.bias']);
    m.dispose(); other.dispose(); nested.dispose();
    expect(be.memory().liveTensors).toBe(0);
  });

  it('loadStateDict: missing, extra and mis-shaped entries are errors naming the key; nothing changes', () => {
    const m = new nn.Sequential(new nn.Linear(be, 3, 2, { seed: 1 }), new nn.ReLU(), new nn.Linear(be, 2, 1, { seed: 2 }));
    const good = m.stateDict();
    const before = m.parameters().map((p) => p.toFloat32Array());
    const changed = Object.fromEntries(Object.entries(good).map(([k, v]) => [k, v.map((x) => x + 1)]));
    const { '2.bias': _drop, ...missing } = changed;
    expect(() => m.loadStateDict(missing)).toThrow(/missing key\(s\) '2.bias' \[1\]/);
    expect(() => m.loadStateDict({ ...changed, '1.weight': new Float32Array(1) })).toThrow(/unexpected key\(s\) '1.weight'/);
    expect(() => m.loadStateDict({ ...changed, '2.weight': new Float32Array(3) })).toThrow(ShapeError);
    expect(() => m.loadStateDict({ ...changed, '2.weight': new Float32Array(3) })).toThrow(/'2.weight' has 3 values, but the parameter has shape \[1, 2\] \(2 values\)/);
    expect(() => m.loadStateDict({ ...changed, '0.bias': 'x' as never })).toThrow(TypeError);
    expect(() => m.loadStateDict(null as never)).toThrow(TypeError);
    m.parameters().forEach((p, i) => expect(firstBitDiff(p.data, before[i]!)).toBe(-1));
    m.loadStateDict(changed);
    m.parameters().forEach((p, i) => expect(firstBitDiff(p.data, Float32Array.from(changed[Object.keys(changed)[i]!]!))).toBe(-1));
    m.dispose();
  });

  type Dict = Record<string, Float32Array>;
  const w = (f: (a: number[]) => unknown) => (good: Dict): Record<string, unknown> => ({ ...good, '2.weight': f(Array.from(good['2.weight']!)) });
  const at3 = (v: unknown) => (a: number[]) => { const c: unknown[] = a.slice(); c[3] = v; return c; };
  const untrusted: [string, (good: Dict) => Record<string, unknown>, RegExp, new (...a: never[]) => Error][] = [
    ['NaN', w(at3(NaN)), /loadStateDict: '2.weight'\[3\]: expected a finite float32 value, got NaN/, RangeError],
    ['Infinity', w(at3(Infinity)), /'2.weight'\[3\]: expected a finite float32 value, got Infinity/, RangeError],
    ['-Infinity in a Float32Array', w((a) => { const c = Float32Array.from(a); c[5] = -Infinity; return c; }), /'2.weight'\[5\]: expected a finite float32 value, got -Infinity/, RangeError],
    ['1e39 (overflows float32)', w(at3(1e39)), /'2.weight'\[3\]: expected a value within float32's range \(±3.4028235e38\), got 1e\+39/, RangeError],
    ['-1e39 in a Float64Array', w((a) => { const c = Float64Array.from(a); c[7] = -1e39; return c; }), /'2.weight'\[7\]: expected a value within float32's range \(±3.4028235e38\), got -1e\+39/, RangeError],
    ['a string value', (good) => ({ ...good, '0.bias': 'abcd' }), /'0.bias': expected a Float32Array, a Float64Array or an array of numbers, got "abcd"/, TypeError],
    ['a string element', w(at3('0.5')), /'2.weight'\[3\]: expected a number, got "0.5"/, TypeError],
    ['a {length} object', (good) => ({ ...good, '0.bias': { length: 4 } }), /'0.bias': expected a Float32Array, a Float64Array or an array of numbers, got an object/, TypeError],
    ['an Int8Array', (good) => ({ ...good, '0.bias': new Int8Array(4) }), /'0.bias': expected a Float32Array, a Float64Array or an array of numbers, got a Int8Array of length 4/, TypeError],
    ['a Uint8Array', (good) => ({ ...good, '0.bias': new Uint8Array(4) }), /got a Uint8Array of length 4/, TypeError],
    ['an Int32Array', (good) => ({ ...good, '0.bias': new Int32Array(4) }), /got a Int32Array of length 4/, TypeError],
    ['a [6, 4] weight for a [4, 6] parameter', (good) => ({ ...good, '0.weight': { shape: [6, 4], data: good['0.weight']! } }), /loadStateDict: '0.weight' has shape \[6, 4\], but the parameter has shape \[4, 6\]/, ShapeError],
    ['a shape that is not a shape', (good) => ({ ...good, '0.weight': { shape: [24, -1], data: good['0.weight']! } }), /'0.weight' shape\[1\]: expected an integer ≥ 0, got -1/, ShapeError],
    ['a NaN in { shape, data }', (good) => ({ ...good, '2.bias': { shape: [2], data: [0, NaN] } }), /'2.bias'\[1\]: expected a finite float32 value, got NaN/, RangeError],
  ];

  it.each(untrusted)('loadStateDict refuses %s with an error naming the key (and index); nothing changes', (name, make, msg, type) => {
    const m = new nn.Sequential(new nn.Linear(be, 6, 4, { seed: 1 }), new nn.ReLU(), new nn.Linear(be, 4, 2, { seed: 2 }));
    const good = m.stateDict();
    const before = m.parameters().map((p) => p.toFloat32Array());
    // every other key carries new values: a partial load would show
    const dict = make(good);
    const changed = Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v === good[k] ? good[k]!.map((x) => x + 1) : v]));
    expect(() => m.loadStateDict(changed as never), name).toThrow(msg);
    expect(() => m.loadStateDict(changed as never), name).toThrow(type);
    m.parameters().forEach((p, i) => expect(firstBitDiff(p.data, before[i]!), `${name}: parameter ${i} changed`).toBe(-1));
    m.dispose();
  });

  it('loadStateDict checks the shape a safetensors file gives; Float64Array and number arrays load rounded to float32', () => {
    const m = new nn.Sequential(new nn.Linear(be, 6, 4, { seed: 1 }), new nn.ReLU(), new nn.Linear(be, 4, 2, { seed: 2 }));
    const good = m.stateDict();
    const before = m.parameters().map((p) => p.toFloat32Array());
    // a [6, 4] tensor under '0.weight' is refused, the right one loads
    const file = (shape: number[]) => safetensors.save({ ...Object.fromEntries(m.stateEntries().map(([k, p]) => [k, p])), '0.weight': { shape, data: good['0.weight']!.map((x) => -x) } });
    expect(() => m.loadStateDict(safetensors.load(file([6, 4])).tensors)).toThrow(/'0.weight' has shape \[6, 4\], but the parameter has shape \[4, 6\]/);
    m.parameters().forEach((p, i) => expect(firstBitDiff(p.data, before[i]!)).toBe(-1));
    m.loadStateDict(safetensors.load(file([4, 6])).tensors);
    expect(firstBitDiff(m.parameters()[0]!.data, good['0.weight']!.map((x) => -x))).toBe(-1);
    m.loadStateDict({ ...good, '2.bias': Float64Array.of(0.1, -3.4028235e38), '0.bias': [1e-46, 0.1, 2, 3] });
    expect(Array.from(m.parameters()[3]!.data)).toEqual([Math.fround(0.1), -3.4028234663852886e38]);
    expect(Array.from(m.parameters()[1]!.data)).toEqual([0, Math.fround(0.1), 2, 3]);
    m.dispose();
    expect(be.memory().liveTensors).toBe(0);
  });

  it('Dropout: identity in eval mode, a fresh inverted mask per call in train mode', () => {
    const d = new nn.Dropout(0.25, { seed: 11 });
    const x = be.tensor([40, 50], new Float32Array(2000).fill(2));
    const a = d.forward(x).toFloat32Array(), b = d.forward(x).toFloat32Array();
    const zeros = a.filter((v) => v === 0).length;
    expect(zeros / 2000).toBeGreaterThan(0.2);
    expect(zeros / 2000).toBeLessThan(0.3);
    expect(a.every((v) => v === 0 || v === Math.fround(2 * Math.fround(1 / 0.75)))).toBe(true);
    expect(firstBitDiff(a, b)).not.toBe(-1);
    d.eval();
    expect(d.training).toBe(false);
    expect(d.forward(x)).toBe(x);
    d.train();
    expect(d.forward(x).toFloat32Array().filter((v) => v === 0).length).toBeGreaterThan(0);
    const seq = new nn.Sequential(new nn.ReLU(), d);
    seq.eval();
    expect(d.training).toBe(false);
    seq.train();
    expect(d.training).toBe(true);
    be.endStep(); d.dispose(); x.dispose();
    expect(be.memory().liveTensors).toBe(0);
  });

  it('activation layers match the ops; bad constructor arguments are clear errors', () => {
    const x = be.tensor([2, 3], [-2, -0.5, 0, 0.5, 1, 3]);
    expect(Array.from(new nn.ReLU().forward(x).data)).toEqual(Array.from(be.relu(x).data));
    expect(Array.from(new nn.GELU().forward(x).data)).toEqual(Array.from(be.gelu(x).data));
    expect(Array.from(new nn.Tanh().forward(x).data)).toEqual(Array.from(be.tanh(x).data));
    expect(() => new nn.ReLU().forward([1] as never)).toThrow(TypeError);
    expect(() => new nn.Linear(be, -1, 2)).toThrow(ShapeError);
    expect(() => new nn.Linear(be, 2.5, 2)).toThrow(ShapeError);
    expect(() => new nn.Linear({} as never, 2, 2)).toThrow(TypeError);
    expect(() => new nn.Linear(be, 2, 2, { seed: -3 })).toThrow(RangeError);
    expect(() => new nn.Linear(be, 2, 2, { bias: 'yes' as never })).toThrow(TypeError);
    expect(() => new nn.Dropout(1.5)).toThrow(RangeError);
    expect(() => new nn.Dropout(NaN)).toThrow(RangeError);
    expect(() => new nn.Sequential(new nn.ReLU(), {} as never)).toThrow(/argument 1 is not a Module/);
    expect(() => nn.manualSeed(0.5)).toThrow(RangeError);
    be.endStep(); x.dispose();
    expect(be.memory().liveTensors).toBe(0);
  });
});

describe('nn across backends', () => {
  it('the same seeds give the same initial weights and dropout masks, bit for bit', () => {
    const make = (be: Backend) => new nn.Sequential(new nn.Linear(be, 9, 33, { seed: 5 }), new nn.Dropout(0.4, { seed: 6 }), new nn.Linear(be, 33, 4, { seed: 7 }));
    const mw = make(wasm), mj = make(js);
    const sw = mw.stateDict(), sj = mj.stateDict();
    for (const k of Object.keys(sw)) expect(firstBitDiff(sw[k]!, sj[k]!), k).toBe(-1);
    const xd = randomF32(5 * 9, 1);
    const xw = wasm.tensor([5, 9], xd), xj = js.tensor([5, 9], xd);
    for (let i = 0; i < 3; i++) expect(firstBitDiff(mw.forward(xw).data, mj.forward(xj).data)).toBe(-1);
    wasm.endStep(); js.endStep(); mw.dispose(); mj.dispose(); xw.dispose(); xj.dispose();
  });
});
