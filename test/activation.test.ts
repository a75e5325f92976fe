import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ShapeError, type Backend, type Tensor } from '../src/index.js';
import { loadBoth, SIZES, randomF32, firstBitDiff } from './helpers.js';

const ref = JSON.parse(readFileSync(new URL('./reference/gelu.json', import.meta.url), 'utf8')) as {
  source: string; x: number[]; gelu: number[]; geluGrad: number[];
};

const { wasm, js } = await loadBoth();
const backends = [wasm, js];

/** Distance in units in the last place between two float32 values (same sign or across 0). */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const ord = (v: number) => (v < 0 ? -(v & 0x7fffffff) : v);
  return Math.abs(ord(i[0]!) - ord(i[1]!));
}

type Unary = 'gelu' | 'tanh' | 'sign';
type Binary = 'geluBackward' | 'tanhBackward';

function runUnary(be: Backend, k: Unary, x: Float32Array, alias: boolean): Float32Array {
  const tx = be.tensor([x.length], x);
  const out = alias ? tx : be.zeros([x.length]);
  be.kernels[k](out, tx);
  const r = out.toFloat32Array();
  tx.dispose(); if (!alias) out.dispose();
  return r;
}

function runBinary(be: Backend, k: Binary, g: Float32Array, x: Float32Array, alias: 'none' | 'g' | 'x'): Float32Array {
  const tg = be.tensor([g.length], g), tx = be.tensor([x.length], x);
  const out: Tensor = alias === 'g' ? tg : alias === 'x' ? tx : be.zeros([x.length]);
  be.kernels[k](out, tg, tx);
  const r = out.toFloat32Array();
  tg.dispose(); tx.dispose(); if (alias === 'none') out.dispose();
  return r;
}

describe('activation kernels: wasm and js agree bit for bit', () => {
  for (const n of SIZES) {
    it(`n = ${n} (SIMD body and scalar tail), separate and aliased out`, () => {
      // scale 8 covers both branches of erf (|x/√2| < 2 and ≥ 2) and of tanh (|x| < 0.1733, > 10 rarely)
      const x = randomF32(n, 11 + n, 8);
      const g = randomF32(n, 29 + n, 2);
      for (const k of ['gelu', 'tanh', 'sign'] as const) {
        for (const alias of [false, true]) {
          const a = runUnary(wasm, k, x, alias), b = runUnary(js, k, x, alias);
          expect(firstBitDiff(a, b), `${k} alias=${alias}`).toBe(-1);
        }
      }
      for (const k of ['geluBackward', 'tanhBackward'] as const) {
        for (const alias of ['none', 'g', 'x'] as const) {
          const a = runBinary(wasm, k, g, x, alias), b = runBinary(js, k, g, x, alias);
          expect(firstBitDiff(a, b), `${k} alias=${alias}`).toBe(-1);
        }
      }
      const tw = wasm.tensor([n], x), tj = js.tensor([n], x);
      expect(Object.is(wasm.kernels.absSum(tw), js.kernels.absSum(tj))).toBe(true);
      tw.dispose(); tj.dispose();
    });
  }

  it('agree on the reference points, tiny and huge inputs included', () => {
    const x = Float32Array.from(ref.x);
    for (const k of ['gelu', 'tanh'] as const) expect(firstBitDiff(runUnary(wasm, k, x, false), runUnary(js, k, x, false)), k).toBe(-1);
    const g = new Float32Array(x.length).fill(1);
    expect(firstBitDiff(runBinary(wasm, 'geluBackward', g, x, 'none'), runBinary(js, 'geluBackward', g, x, 'none'))).toBe(-1);
  });
});

describe.each(backends.map((be) => [be.kind, be] as const))('activation kernels on %s', (_kind, be) => {
  it(`gelu is within 1 ulp of mpmath's x·Φ(x) (${ref.x.length} points in [-40, 40])`, () => {
    expect(ref.source).toMatch(/mpmath/);
    const x = Float32Array.from(ref.x);
    const got = runUnary(be, 'gelu', x, false);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, ulps(got[i]!, Math.fround(ref.gelu[i]!)));
    expect(worst).toBeLessThanOrEqual(1);
  });

  it("geluBackward is within 1 ulp of mpmath's Φ(x) + x·φ(x), times g", () => {
    const x = Float32Array.from(ref.x);
    const ones = new Float32Array(x.length).fill(1);
    const got = runBinary(be, 'geluBackward', ones, x, 'none');
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, ulps(got[i]!, Math.fround(ref.geluGrad[i]!)));
    expect(worst).toBeLessThanOrEqual(1);
    // g scales the result: one f32 rounding of g·d, d the f64 derivative
    const g = randomF32(x.length, 5, 3);
    const scaled = runBinary(be, 'geluBackward', g, x, 'none');
    for (let i = 0; i < x.length; i += 7) expect(ulps(scaled[i]!, Math.fround(g[i]! * ref.geluGrad[i]!))).toBeLessThanOrEqual(1);
  });

  it('tanh is within 1 ulp of Math.tanh, keeps ±0 and saturates to ±1', () => {
    const x = Float32Array.from([...ref.x, ...randomF32(3000, 3, 0.2), ...randomF32(3000, 4, 12), 1e-30, -1e-30, 1e-40, 0.1732, 0.1734, 9.99, 10.01, 100]);
    const got = runUnary(be, 'tanh', x, false);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, ulps(got[i]!, Math.fround(Math.tanh(x[i]!))));
    expect(worst).toBeLessThanOrEqual(1);
    const z = runUnary(be, 'tanh', Float32Array.from([0, -0, Infinity, -Infinity, NaN]), false);
    expect(Object.is(z[0], 0)).toBe(true);
    expect(Object.is(z[1], -0)).toBe(true);
    expect([z[2], z[3]]).toEqual([1, -1]);
    expect(z[4]).toBeNaN();
  });

  it('gelu maps NaN to NaN, +inf to +inf and 0 to 0', () => {
    const z = runUnary(be, 'gelu', Float32Array.from([NaN, Infinity, 0, -1000]), false);
    expect(z[0]).toBeNaN();
    expect(z[1]).toBe(Infinity);
    expect(z[2]).toBe(0);
    expect(z[3] === 0).toBe(true);
  });

  it('tanhBackward is g·(1 − y²) with f32 rounding after each op', () => {
    const g = randomF32(67, 8, 3), y = randomF32(67, 9, 1);
    const got = runBinary(be, 'tanhBackward', g, y, 'none');
    for (let i = 0; i < 67; i++) expect(got[i]).toBe(Math.fround(g[i]! * Math.fround(1 - Math.fround(y[i]! * y[i]!))));
  });

  it('sign gives −1, 0, 1 (+0 for ±0 and NaN); absSum sums |x| in the documented lane order', () => {
    const x = Float32Array.from([3, -2, 0, -0, NaN, 1e-40, -1e-40, Infinity, -5]);
    expect(Array.from(runUnary(be, 'sign', x, false)).map((v) => (Object.is(v, -0) ? '-0' : v))).toEqual([1, -1, 0, 0, 0, 1, -1, 1, -1]);
    for (const n of [0, 1, 3, 4, 7, 67]) {
      const v = randomF32(n, 40 + n, 5);
      const t = be.tensor([n], v);
      const l = [0, 0, 0, 0];
      const n4 = n & ~3;
      for (let i = 0; i < n4; i++) l[i & 3] = Math.fround(l[i & 3]! + Math.abs(v[i]!));
      let s = Math.fround(Math.fround(l[0]! + l[1]!) + Math.fround(l[2]! + l[3]!));
      for (let i = n4; i < n; i++) s = Math.fround(s + Math.abs(v[i]!));
      expect(be.kernels.absSum(t)).toBe(s);
      let exact = 0;
      for (let i = 0; i < n; i++) exact += Math.abs(v[i]!);
      expect(Math.abs(be.kernels.absSum(t) - exact)).toBeLessThanOrEqual(1e-5 * (1 + exact));
      t.dispose();
    }
  });

  it('rejects mismatched shapes and leaves out untouched', () => {
    const a = be.tensor([5], [1, 2, 3, 4, 5]), b = be.zeros([4]), c = be.zeros([5]);
    expect(() => be.kernels.gelu(b, a)).toThrow(ShapeError);
    expect(() => be.kernels.tanh(b, a)).toThrow(ShapeError);
    expect(() => be.kernels.sign(b, a)).toThrow(ShapeError);
    expect(() => be.kernels.geluBackward(c, b, a)).toThrow(ShapeError);
    expect(() => be.kernels.tanhBackward(c, a, b)).toThrow(ShapeError);
    expect(Array.from(b.data)).toEqual([0, 0, 0, 0]);
    a.dispose(); b.dispose(); c.dispose();
    expect(() => be.kernels.absSum(a)).toThrow(/disposed/);
  });
});
