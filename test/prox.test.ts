import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { DisposedError, ShapeError, type Backend } from '../src/index.js';
import { firstBitDiff, loadBoth, randomF32, SIZES } from './helpers.js';

const { wasm, js, BACKENDS } = await loadBoth();

/** test/reference/prox.json: numpy sign(x)·max(|x| − t, 0) in float32 (copied from the shared reference set). */
const REF = JSON.parse(readFileSync(new URL('./reference/prox.json', import.meta.url), 'utf8')) as {
  source: string; cases: { threshold: number; x: number[]; expected: number[] }[];
};

function st(be: Backend, xd: Float32Array, t: number, alias = false): { out: Float32Array; x: Float32Array } {
  const x = be.tensor([xd.length], xd);
  const out = alias ? x : be.zeros([xd.length]);
  be.kernels.softThreshold(out, x, t);
  const r = { out: out.data.slice(), x: x.data.slice() };
  x.dispose(); if (!alias) out.dispose();
  return r;
}

/** The definition in float64 on the f32 inputs, rounded once to f32; exact zeros as +0. */
function direct(x: number, t: number): number {
  const tt = Math.fround(t);
  return Math.abs(x) > tt ? Math.fround(Math.sign(x) * (Math.abs(x) - tt)) : 0;
}

describe.each(BACKENDS)('softThreshold on %s', (_, be) => {
  it('matches prox.json exactly (numpy float32), with +0 where numpy writes −0', () => {
    expect(REF.source).toMatch(/numpy/);
    expect(REF.cases.length).toBeGreaterThanOrEqual(5);
    for (const c of REF.cases) {
      const xd = Float32Array.from(c.x);
      for (const alias of [false, true]) {
        const { out } = st(be, xd, c.threshold, alias);
        c.expected.forEach((e, i) => {
          const want = Math.fround(e);
          // numpy's sign(x)·0 is −0 for negative x; regula's contract gives +0 for every zero.
          if (want === 0) expect(Object.is(out[i], 0), `t=${c.threshold} x=${c.x[i]}: +0, got ${out[i]}`).toBe(true);
          else expect(out[i], `t=${c.threshold} element ${i} (x=${c.x[i]})`).toBe(want);
        });
      }
    }
  });

  it('gives exact +0 for |x| ≤ t (including ±t, −0 and subnormals) and f32(|x| − t) with x\'s sign otherwise', () => {
    const t = Math.fround(0.75);
    const xd = Float32Array.from([0, -0, t, -t, 1e-45, -1e-45, 0.5, -0.5, 0.7499999, -0.75000006, 0.75000006, 3, -3, Infinity, -Infinity]);
    const { out } = st(be, xd, 0.75);
    for (let i = 0; i < xd.length; i++) expect(Object.is(out[i], direct(xd[i]!, t)), `x=${xd[i]}: got ${out[i]}`).toBe(true);
    expect(out[13]).toBe(Infinity);
    expect(out[14]).toBe(-Infinity);
    expect(Object.is(st(be, Float32Array.of(-0), 0).out[0], 0)).toBe(true);
  });

  it('propagates NaN', () => {
    const { out } = st(be, Float32Array.of(NaN, 1, NaN, -2, 0, NaN), 0.5);
    expect([0, 2, 5].every((i) => Number.isNaN(out[i]))).toBe(true);
    expect([out[1], out[3], out[4]]).toEqual([0.5, -1.5, 0]);
  });

  it('matches the definition on random values and thresholds (property, fast-check seed 20261127)', () => {
    fc.assert(fc.property(
      fc.array(fc.float({ noNaN: true }), { maxLength: 70 }),
      fc.float({ min: 0, max: 1e6, noNaN: true }),
      fc.boolean(),
      (vals, t, alias) => {
        const xd = Float32Array.from(vals);
        const { out, x } = st(be, xd, t, alias);
        for (let i = 0; i < xd.length; i++) {
          const v = xd[i]!, o = out[i]!;
          if (!Object.is(o, direct(v, t))) return false;
          if (Math.abs(o) > Math.abs(v)) return false; // shrinks
          if (o !== 0 && Math.sign(o) !== Math.sign(v)) return false; // keeps the sign or zeroes
        }
        return alias || firstBitDiff(x, xd) < 0; // input untouched when not aliased
      }), { numRuns: 300, seed: 20261127 });
  });

  it('rejects bad input and changes nothing', () => {
    const xd = randomF32(6, 1);
    const x = be.tensor([2, 3], xd);
    const out = be.tensor([2, 3], new Float32Array(6).fill(5));
    const gone = be.zeros([2, 3]); gone.dispose();
    const k = be.kernels;
    expect(() => k.softThreshold(out, x, -0.1)).toThrow(/expected a number ≥ 0, got -0.1/);
    expect(() => k.softThreshold(out, x, NaN)).toThrow(RangeError);
    expect(() => k.softThreshold(out, x, Infinity)).toThrow(RangeError);
    expect(() => k.softThreshold(out, x, '1' as never)).toThrow(RangeError);
    expect(() => k.softThreshold(be.zeros([6]), x, 0.1)).toThrow(ShapeError);
    expect(() => k.softThreshold(gone, x, 0.1)).toThrow(DisposedError);
    expect(() => k.softThreshold(out, gone, 0.1)).toThrow(DisposedError);
    expect(Array.from(out.data).every((v) => v === 5)).toBe(true);
    expect(firstBitDiff(x.data, xd)).toBe(-1);
    x.dispose(); out.dispose();
  });
});

describe('softThreshold wasm vs js', () => {
  it('same bits at sizes that straddle the SIMD width, out separate and aliased', () => {
    for (const n of [...SIZES, 1 << 22]) {
      for (const t of [0, 0.1, 0.5, 2]) {
        const xd = randomF32(n, n * 7 + 3, 3);
        if (n > 3) { xd[0] = -0; xd[1] = Math.fround(t); xd[2] = -Math.fround(t); }
        for (const alias of [false, true]) {
          const a = st(wasm, xd, t, alias), b = st(js, xd, t, alias);
          const d = firstBitDiff(a.out, b.out);
          expect(d, `n=${n} t=${t} alias=${alias}: ${a.out[d]} vs ${b.out[d]}`).toBe(-1);
          if (!alias) expect(firstBitDiff(a.x, xd)).toBe(-1);
        }
        if (n > 100000) break;
      }
    }
  });
});
