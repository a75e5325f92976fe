/**
 * Gradient paths of the transformer's ops that the tests in gpt.test.ts do not reach:
 * attention with dropout p > 0 (finite differences in float64 at the same mask: the
 * backward's 1/(1 − p) scale), and LayerNorm where x needs no gradient but weight and bias
 * do (the branch that writes dx into a temporary).
 */
import { describe, expect, it } from 'vitest';
import { loadBackend } from '../src/index.js';
import { firstBitDiff, randomF32 } from './helpers.js';
import { attention64, expectGrad, fd, layerNorm64, mse64 } from './grad64.js';

const [wasm, js] = await Promise.all([loadBackend('wasm'), loadBackend('js')]);

describe.each([['wasm', wasm], ['js', js]] as const)('attention with dropout p > 0 on %s', (_k, be) => {
  // p whose 1/(1 − p) is exact in float32 (the kernel scales by f32(1/(1 − p))), so the
  // float64 reference differs only by rounding
  for (const p of [0.2, 0.5]) {
    it(`p = ${p}: qkv.grad against float64 differences at the same mask (be.rng(seed) redrawn through the dropout kernel)`, () => {
      const B = 2, T = 5, H = 2, C = 6, Z = B * H, seed = 17;
      const qkv = be.param([B * T, 3 * C], randomF32(B * T * 3 * C, 5, 1.5));
      const target = randomF32(B * T * C, 6);
      const rng = be.rng(seed);
      const y = be.causalAttention(qkv, B, T, H, { p, rng });
      // The op's first draw from be.rng(seed) is over the [Z, T, T] probabilities: the same
      // draw from a fresh be.rng(seed) gives its mask.
      const again = be.rng(seed), ones = be.tensor([Z, T, T], new Float32Array(Z * T * T).fill(1));
      const out = be.zeros([Z, T, T]), m = be.zeros([Z, T, T]);
      be.kernels.dropout(out, ones, p, again, m);
      const mask = m.toFloat32Array();
      let kept = 0, dropped = 0;
      for (let r = 0; r < Z * T; r++) for (let s = 0; s <= r % T; s++) mask[r * T + s] === 1 ? kept++ : dropped++;
      expect(kept, 'kept probabilities').toBeGreaterThan(5);
      expect(dropped, 'dropped probabilities').toBeGreaterThan(5);
      const q64 = Float64Array.from(qkv.data);
      const y64 = attention64(q64, B, T, H, C, { mask, p });
      let diff = 0;
      for (let i = 0; i < y64.length; i++) diff = Math.max(diff, Math.abs(y.data[i]! - y64[i]!));
      expect(diff, 'forward at this mask').toBeLessThan(1e-5);
      be.mse(y, be.tensor([B * T, C], target)).backward();
      expectGrad(qkv.grad, fd(q64, () => mse64(attention64(q64, B, T, H, C, { mask, p }), target)), 'dqkv');
      be.endStep();
      for (const t of [qkv, ones, out, m]) t.dispose();
      rng.dispose(); again.dispose();
    });
  }
});

describe.each([['wasm', wasm], ['js', js]] as const)('layerNorm with x a plain tensor on %s', (_k, be) => {
  it('weight and bias get their gradients: bitwise those of the run where x is a parameter, and float64 differences', () => {
    const rows = 6, cols = 9;
    const xd = randomF32(rows * cols, 21, 2), wd = randomF32(cols, 22, 1.5), bd = randomF32(cols, 23), target = randomF32(rows * cols, 24);
    const run = (xParam: boolean) => {
      const x = xParam ? be.param([rows, cols], xd) : be.tensor([rows, cols], xd);
      const w = be.param([cols], wd), b = be.param([cols], bd);
      be.mse(be.layerNorm(x, w, b), be.tensor([rows, cols], target)).backward();
      expect(x.grad ?? null, `x.grad (x a parameter: ${xParam})`).toEqual(xParam ? expect.anything() : null);
      return { x, w, b };
    };
    const plain = run(false), param = run(true);
    for (const k of ['w', 'b'] as const) {
      expect(plain[k].grad, `${k}.grad with x a plain tensor`).not.toBeNull();
      expect(firstBitDiff(plain[k].grad!.toFloat32Array(), param[k].grad!.toFloat32Array()), `${k}.grad: x plain vs x a parameter`).toBe(-1);
    }
    const x64 = Float64Array.from(xd), w64 = Float64Array.from(wd), b64 = Float64Array.from(bd);
    const f = () => mse64(layerNorm64(x64, rows, cols, w64, b64), target);
    expectGrad(plain.w.grad, fd(w64, f), 'dweight');
    expectGrad(plain.b.grad, fd(b64, f), 'dbias');
    be.endStep();
    for (const r of [plain, param]) for (const t of [r.x, r.w, r.b]) t.dispose();
  });
});
