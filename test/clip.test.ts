import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nn, type Backend, type Tensor } from '../src/index.js';
import { clipCoefficient } from '../src/nn/clip.js';
import { loadBoth } from './helpers.js';

// test/reference/clip-grad-norm.json: torch.nn.utils.clip_grad_norm_ of PyTorch 1.13
// (generator: examples/torch/clip_grad_norm.py).
type Num = number | 'NaN' | 'Infinity' | '-Infinity';
interface Case { name: string; maxNorm: number; normType: 2 | 'Infinity'; grads: Num[][]; total: Num; coef: Num; clipped: Num[][] }
const REF = JSON.parse(readFileSync(new URL('./reference/clip-grad-norm.json', import.meta.url), 'utf8')) as { cases: Case[] };
const num = (v: Num): number => Math.fround(typeof v === 'number' ? v : Number(v));

let wasm: Backend, js: Backend;
beforeAll(async () => { ({ wasm, js } = await loadBoth()); });
afterAll(() => { wasm.dispose(); js.dispose(); });

/** Parameters (zeros) whose gradients hold `grads`. */
function withGrads(be: Backend, grads: ArrayLike<number>[]): Tensor[] {
  return grads.map((g) => {
    const p = be.param([g.length]);
    p.grad!.data.set(Array.from(g, (v) => Number(v)));
    return p;
  });
}

/** The bits of a float32 array (NaN payloads folded: torch and the kernels need not agree on them). */
function bits(a: Float32Array): number[] {
  return Array.from(a, (v) => (Number.isNaN(v) ? NaN : v));
}

/** Bitwise equality of two float32 arrays (no NaNs in them). */
function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('nn.utils.clipGradNorm', () => {
  it('matches PyTorch 1.13: the total within 2 ulp, its coefficient and the clipped gradients bit for bit', () => {
    for (const be of [wasm, js]) {
      let sameTotal = 0;
      for (const c of REF.cases) {
        const normType = c.normType === 'Infinity' ? Infinity : c.normType;
        const ps = withGrads(be, c.grads.map((g) => g.map(num)));
        const total = nn.utils.clipGradNorm(ps, c.maxNorm, { normType });
        const want = num(c.total);
        if (Number.isFinite(want)) {
          expect(Math.abs(total - want), `${be.kind} ${c.name}: total ${total} vs ${want}`).toBeLessThanOrEqual(2 * 2 ** -23 * want);
        } else {
          expect(total, `${be.kind} ${c.name}`).toBe(want);
        }
        // torch's coefficient from torch's total, exactly
        expect(clipCoefficient(want, c.maxNorm), c.name).toBe(num(c.coef));
        if (Object.is(total, want)) {
          sameTotal++;
          ps.forEach((p, i) => expect(bits(p.grad!.data), `${be.kind} ${c.name} grad ${i}`).toEqual(c.clipped[i]!.map(num)));
        } else {
          const coef = clipCoefficient(total, c.maxNorm);
          ps.forEach((p, i) => expect(bits(p.grad!.data)).toEqual(c.grads[i]!.map((v) => Math.fround(num(v) * coef))));
        }
        ps.forEach((p) => p.dispose());
      }
      // the infinity norm is exact and most 2-norms round to torch's float32
      expect(sameTotal).toBeGreaterThan(REF.cases.length * 0.75);
    }
  });

  it('gives the same bits on wasm and js, SIMD body, tails and the threaded scale included', () => {
    let seed = 12345;
    const rand = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32 - 0.5; };
    const sizes = [1, 3, 4, 5, 7, 8, 17, 67, 300, (1 << 18) + 5];
    for (const normType of [2, Infinity]) {
      const grads = sizes.map((n) => Float32Array.from({ length: n }, () => rand() * 3));
      const pw = withGrads(wasm, grads), pj = withGrads(js, grads);
      const tw = nn.utils.clipGradNorm(pw, 0.5, { normType });
      const tj = nn.utils.clipGradNorm(pj, 0.5, { normType });
      expect(Object.is(tw, tj)).toBe(true);
      expect(tw).toBeGreaterThan(0.5);
      pw.forEach((p, i) => expect(sameBytes(p.grad!.data, pj[i]!.grad!.data), `size ${sizes[i]}`).toBe(true));
      // the clipped norm is maxNorm up to rounding
      const after = nn.utils.clipGradNorm(pw, 1e9, { normType });
      expect(Math.abs(after - 0.5)).toBeLessThan(1e-5);
      [...pw, ...pj].forEach((p) => p.dispose());
    }
  });

  it('absMax: max |x| on both backends over sizes that straddle the SIMD width; NaN anywhere wins', () => {
    for (const n of [0, 1, 3, 4, 5, 7, 8, 17, 67]) {
      const xs = Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 13) - 6.5);
      if (n > 2) xs[n - 2] = -0;
      const want = xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      for (const be of [wasm, js]) {
        const t = be.tensor([n], xs);
        expect(Object.is(be.kernels.absMax(t), want)).toBe(true);
        for (const at of n > 0 ? [0, n - 1, n >> 1] : []) {
          const saved = t.data[at]!;
          t.data[at] = NaN;
          expect(be.kernels.absMax(t), `${be.kind} n ${n} NaN at ${at}`).toBeNaN();
          t.data[at] = saved;
        }
        t.dispose();
      }
    }
  });

  it('skips tensors without a gradient, returns 0 for none, and leaves gradients under maxNorm as they are', () => {
    for (const be of [wasm, js]) {
      const plain = be.tensor([3], [100, 100, 100]);
      expect(nn.utils.clipGradNorm([plain], 1)).toBe(0);
      expect(nn.utils.clipGradNorm([], 1)).toBe(0);
      const [p] = withGrads(be, [[3, -4, -0]]);
      expect(nn.utils.clipGradNorm([plain, p!], 10)).toBe(5);
      expect(Array.from(p!.grad!.data)).toEqual([3, -4, -0]);
      expect(Object.is(p!.grad!.data[2], -0)).toBe(true);
      // a single tensor, as torch accepts
      expect(nn.utils.clipGradNorm(p!, 1, { normType: Infinity })).toBe(4);
      expect(Array.from(p!.grad!.data)).toEqual([3, -4, -0].map((v) => Math.fround(v * clipCoefficient(4, 1))));
      plain.dispose(); p!.dispose();
    }
  });

  it('with errorIfNonfinite, a NaN or infinite total throws and changes nothing; without, it scales as torch', () => {
    for (const be of [wasm, js]) {
      for (const bad of [Infinity, NaN]) {
        const ps = withGrads(be, [[1, 2, 3], [4, bad, 6]]);
        const before = ps.map((p) => p.grad!.data.slice());
        expect(() => nn.utils.clipGradNorm(ps, 1, { errorIfNonfinite: true })).toThrow(/total norm of order 2 of the gradients is (Infinity|NaN)/);
        ps.forEach((p, i) => expect(bits(p.grad!.data)).toEqual(bits(before[i]!)));
        expect(Object.is(nn.utils.clipGradNorm(ps, 1), bad)).toBe(true);
        // Infinity: coefficient 0 (finite grads 0, the infinite one NaN); NaN: every grad NaN
        expect(bits(ps[0]!.grad!.data)).toEqual(bad === Infinity ? [0, 0, 0] : [NaN, NaN, NaN]);
        expect(bits(ps[1]!.grad!.data)).toEqual(bad === Infinity ? [0, NaN, 0] : [NaN, NaN, NaN]);
        ps.forEach((p) => p.dispose());
      }
    }
  });

  it('rejects bad arguments with a clear error before any gradient changes', () => {
    const [p, q] = withGrads(wasm, [[3, 4], [0, 12]]);
    const [other] = withGrads(js, [[1, 1]]);
    const snapshot = () => [...p!.grad!.data, ...q!.grad!.data];
    const before = snapshot();
    const cases: [() => unknown, RegExp][] = [
      [() => nn.utils.clipGradNorm('x' as never, 1), /expected a Tensor or an array of Tensors, got/],
      [() => nn.utils.clipGradNorm([p!, 7 as never], 1), /params\[1\]: expected a Tensor, got 7/],
      [() => nn.utils.clipGradNorm([p!, q!, p!], 1), /params\[2\]: repeats params\[0\]/],
      [() => nn.utils.clipGradNorm([p!, other!], 1), /params\[1\].*another backend/],
      [() => nn.utils.clipGradNorm([p!, q!], -1), /maxNorm: expected a number ≥ 0, got -1/],
      [() => nn.utils.clipGradNorm([p!, q!], NaN), /maxNorm: expected a finite number, got NaN/],
      [() => nn.utils.clipGradNorm([p!, q!], 1, { normType: 3 }), /normType: expected 2 or Infinity, got 3/],
      [() => nn.utils.clipGradNorm([p!, q!], 1, { errorIfNonfinite: 'yes' as never }), /errorIfNonfinite: expected true or false/],
      [() => nn.utils.clipGradNorm([p!, q!], 1, null as never), /expected options/],
    ];
    for (const [f, re] of cases) {
      expect(f).toThrow(re);
      expect(snapshot()).toEqual(before);
    }
    const d = wasm.param([2]);
    d.dispose();
    expect(() => nn.utils.clipGradNorm([p!, d], 1)).toThrow(/params\[1\].*disposed/);
    expect(snapshot()).toEqual(before);
    p!.dispose(); q!.dispose(); other!.dispose();
  });
});
