import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ShapeError, type Backend, type Tensor } from '../src/index.js';
import { loadBoth, SIZES, randomF32, firstBitDiff, ptr } from './helpers.js';
import { gelu64, geluDeriv64, phi64 } from './erf64.js';

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

/** geluWithGrad on x: [out, d]; alias: out is x. */
function runWithGrad(be: Backend, x: Float32Array, alias: boolean): [Float32Array, Float32Array] {
  const tx = be.tensor([x.length], x), d = be.zeros([x.length]);
  const out = alias ? tx : be.zeros([x.length]);
  be.kernels.geluWithGrad(out, d, tx);
  const r: [Float32Array, Float32Array] = [out.toFloat32Array(), d.toFloat32Array()];
  tx.dispose(); d.dispose(); if (!alias) out.dispose();
  return r;
}

/** The spacing of float32 numbers at |v| (2^-149 in the subnormal range). */
function ulpOf(v: number): number {
  const a = Math.abs(v);
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** Largest |got − ref|/ulp over the points, and where. */
function worstUlp(x: Float32Array, got: Float32Array, ref: (v: number) => number): { ulp: number; at: number } {
  let ulp = 0, at = NaN;
  for (let i = 0; i < x.length; i++) {
    const r = ref(x[i]!);
    const e = Math.abs(got[i]! - r) / ulpOf(r);
    if (e > ulp) { ulp = e; at = x[i]!; }
  }
  return { ulp, at };
}

/**
 * The accuracy sweep: every 4096th float32 in [−16, 16] (both signs), every 64th in
 * [−15.5, −12] (where x·Φ(x) goes subnormal and underflows), and large, tiny and huge values.
 */
function sweepPoints(): Float32Array {
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  const xs: number[] = [];
  for (let b = 0; b <= 0x41800000; b += 4096) { u[0] = b; xs.push(f[0]!, -f[0]!); }
  for (let b = 0x41400000; b <= 0x41780000; b += 64) { u[0] = b; xs.push(-f[0]!); }
  for (const v of [20, 30, 37.5, 37.7, 40, 100, 1e4, 1e10, 3.4e38, 1e-45, 1e-38, 1e-20]) xs.push(v, -v);
  return Float32Array.from(xs);
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
      // geluWithGrad: out is gelu's bits, d is geluBackward's at g = 1 (f32(1·d) = f32(d)); wasm == js
      const ones = new Float32Array(n).fill(1);
      for (const alias of [false, true]) {
        const [wo, wd] = runWithGrad(wasm, x, alias), [jo, jd] = runWithGrad(js, x, alias);
        expect(firstBitDiff(wo, jo), `geluWithGrad out alias=${alias}`).toBe(-1);
        expect(firstBitDiff(wd, jd), `geluWithGrad d alias=${alias}`).toBe(-1);
        expect(firstBitDiff(wo, runUnary(wasm, 'gelu', x, false)), 'geluWithGrad out vs gelu').toBe(-1);
        expect(firstBitDiff(wd, runBinary(wasm, 'geluBackward', ones, x, 'none')), 'geluWithGrad d vs geluBackward(1, x)').toBe(-1);
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

  it('the float64 reference of test/erf64.ts is within 1e-13 of mpmath (relative, above 1e-300; the sweeps below measure against it)', () => {
    for (let i = 0; i < ref.x.length; i++) {
      const x = ref.x[i]!;
      // relative to the value for gelu; for the derivative Φ + x·φ, relative to Φ + |x|·φ
      // (the two terms cancel at its zero, x ≈ −0.75179, where no f64 sum is relatively exact)
      const scale = [Math.abs(ref.gelu[i]!), phi64(x) + Math.abs(x) * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI)];
      [[gelu64(x), ref.gelu[i]!], [geluDeriv64(x), ref.geluGrad[i]!]].forEach(([got, want], j) => {
        // it cuts erfc to 0 past |x|/√2 = 26.5 (values < 1e-300, far below float32's subnormals)
        if (scale[j]! < 1e-300) expect(Math.abs(got!)).toBeLessThan(1e-300);
        else expect(Math.abs(got! - want!) / scale[j]!, `x = ${x}`).toBeLessThan(1e-13);
      });
    }
  });

  it('gelu and its derivative (geluWithGrad, geluBackward at g = 1) are within 0.5 ulp (+ the reference\'s 1e-13) over a dense sweep', () => {
    const x = sweepPoints();
    const [out, d] = runWithGrad(be, x, false);
    // measured: gelu 0.500000 (the worst is a tie at x = 1e-45 that the f64 reference itself rounds), derivative 0.499998
    const g = worstUlp(x, out, gelu64), dd = worstUlp(x, d, geluDeriv64);
    expect(g.ulp, `gelu worst at x = ${g.at}`).toBeLessThanOrEqual(0.5 + 1e-5);
    expect(dd.ulp, `derivative worst at x = ${dd.at}`).toBeLessThanOrEqual(0.5 + 1e-5);
    expect(firstBitDiff(d, runBinary(be, 'geluBackward', new Float32Array(x.length).fill(1), x, 'none'))).toBe(-1);
  });

  it('next to the derivative\'s zero at x ≈ −0.75179 (where Φ and x·φ cancel) its error is 0.5 ulp + 3e-15·(Φ + |x|·φ) at most: every float32 within 20000 of it', () => {
    const f = new Float32Array([-0.7517916]), u = new Uint32Array(f.buffer), c = u[0]!;
    const x = new Float32Array(40001);
    for (let i = 0; i < x.length; i++) { u[0] = c - 20000 + i; x[i] = f[0]!; }
    const [, d] = runWithGrad(be, x, false);
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!, r = geluDeriv64(v);
      const terms = phi64(v) + Math.abs(v) * Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
      expect(Math.abs(d[i]! - r), `x = ${v}`).toBeLessThanOrEqual(0.5 * ulpOf(r) + 3e-15 * terms);
      worst = Math.max(worst, Math.abs(d[i]! - r) / ulpOf(r));
    }
    // measured: 1.5625 ulp at the float32 nearest the zero (d = 5.2e-9; 1.577 against mpmath at 50 digits)
    expect(worst).toBeLessThan(2);
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

  it('geluWithGrad rejects mismatched shapes and a d that is out or x, writing nothing', () => {
    const x = be.tensor([5], [1, 2, 3, 4, 5]), out = be.zeros([5]), d = be.zeros([5]), short = be.zeros([4]);
    expect(() => be.kernels.geluWithGrad(short, d, x)).toThrow(ShapeError);
    expect(() => be.kernels.geluWithGrad(out, short, x)).toThrow(ShapeError);
    expect(() => be.kernels.geluWithGrad(out, out, x)).toThrow(/d must not be out or x/);
    expect(() => be.kernels.geluWithGrad(out, x, x)).toThrow(/d must not be out or x/);
    expect([...out.data, ...d.data, ...short.data].every((v) => v === 0)).toBe(true);
    expect(Array.from(x.data)).toEqual([1, 2, 3, 4, 5]);
    for (const t of [x, out, d, short]) t.dispose();
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

describe('gelu kernels write nothing outside their outputs (guard words around unaligned windows)', () => {
  const G = 5; // an odd number of floats: the windows start off the 16-byte grid
  for (const n of [1, 2, 3, 5, 7, 67, 1001]) {
    it(`n = ${n}`, () => {
      const x = randomF32(n, 300 + n, 8), g = randomF32(n, 400 + n, 2);
      // [guard | out | guard | d | guard], filled with large values that no result equals
      const init = randomF32(2 * n + 3 * G, 500 + n, 1e6);
      const big = wasm.tensor([init.length], init), tx = wasm.tensor([n], x), tg = wasm.tensor([n], g);
      const o = ptr(big) + 4 * G, d = ptr(big) + 4 * (2 * G + n);
      const raw = wasm._s.raw as unknown as Record<string, (...a: number[]) => void>;
      const guards = (got: Float32Array, what: string) => {
        for (const [from, to] of [[0, G], [G + n, 2 * G + n], [2 * G + 2 * n, 3 * G + 2 * n]] as const) {
          expect(firstBitDiff(got.slice(from, to), init.slice(from, to)), `${what}: guard at ${from}`).toBe(-1);
        }
      };
      raw.geluWithGrad!(o, d, ptr(tx), n);
      let got = big.toFloat32Array();
      guards(got, 'geluWithGrad');
      const [wantOut, wantD] = runWithGrad(js, x, false);
      expect(firstBitDiff(got.slice(G, G + n), wantOut)).toBe(-1);
      expect(firstBitDiff(got.slice(2 * G + n, 2 * G + 2 * n), wantD)).toBe(-1);
      raw.gelu!(o, ptr(tx), n);
      raw.geluBackward!(d, ptr(tg), ptr(tx), n);
      got = big.toFloat32Array();
      guards(got, 'gelu, geluBackward');
      expect(firstBitDiff(got.slice(G, G + n), runUnary(js, 'gelu', x, false))).toBe(-1);
      expect(firstBitDiff(got.slice(2 * G + n, 2 * G + 2 * n), runBinary(js, 'geluBackward', g, x, 'none'))).toBe(-1);
      big.dispose(); tx.dispose(); tg.dispose();
    });
  }
});
