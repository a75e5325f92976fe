/**
 * Gradient paths of the transformer's ops that the tests in gpt.test.ts do not reach:
 * attention with dropout p > 0 (finite differences in float64 at the same mask: the
 * backward's 1/(1 − p) scale), and LayerNorm where x needs no gradient but weight and bias
 * do (the branch that writes dx into a temporary).
 */
import { describe, expect, it } from 'vitest';
import { loadBackend, type Tensor } from '../src/index.js';
import { firstBitDiff, randomF32 } from './helpers.js';

const [wasm, js] = await Promise.all([loadBackend('wasm'), loadBackend('js')]);

/** Central differences of f at x (float64), entry by entry. */
function fd(x: Float64Array, f: () => number, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    x[i] = v + h; const a = f();
    x[i] = v - h; const b = f();
    x[i] = v;
    g[i] = (a - b) / (2 * h);
  }
  return g;
}

function mse64(y: Float64Array, target: Float32Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i]! - target[i]!) ** 2;
  return s / y.length;
}

function expectGrad(got: Tensor | null, want: Float64Array, what: string, tol = 1e-4): void {
  expect(got, `${what}: a gradient`).not.toBeNull();
  const d = got!.data;
  let diff = 0, scale = 0;
  for (let i = 0; i < want.length; i++) { diff = Math.max(diff, Math.abs(d[i]! - want[i]!)); scale = Math.max(scale, Math.abs(want[i]!)); }
  expect(scale, `${what}: a gradient that is not all zero`).toBeGreaterThan(0);
  expect(diff, `${what} (largest ${scale})`).toBeLessThanOrEqual(tol * scale);
}

/**
 * nanoGPT's attention core in float64 with dropout on the probabilities at a fixed mask
 * ([B·H, T, T], 1 kept / 0 dropped): y_h = (P_h ⊙ mask / (1 − p))·v_h.
 */
function attention64(qkv: Float64Array, B: number, T: number, H: number, C: number, mask: Float32Array, p: number): Float64Array {
  const hs = C / H, y = new Float64Array(B * T * C), sc = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
    const row = (s: number) => (b * T + s) * 3 * C;
    const att = new Float64Array(t + 1);
    let m = -Infinity;
    for (let s = 0; s <= t; s++) {
      let d = 0;
      for (let e = 0; e < hs; e++) d += qkv[row(t) + h * hs + e]! * qkv[row(s) + C + h * hs + e]!;
      att[s] = d * sc; m = Math.max(m, att[s]!);
    }
    let z = 0;
    for (let s = 0; s <= t; s++) z += (att[s] = Math.exp(att[s]! - m));
    const mrow = ((b * H + h) * T + t) * T;
    for (let e = 0; e < hs; e++) {
      let acc = 0;
      for (let s = 0; s <= t; s++) acc += (att[s]! / z) * (mask[mrow + s]! / (1 - p)) * qkv[row(s) + 2 * C + h * hs + e]!;
      y[(b * T + t) * C + h * hs + e] = acc;
    }
  }
  return y;
}

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
      const y64 = attention64(q64, B, T, H, C, mask, p);
      let diff = 0;
      for (let i = 0; i < y64.length; i++) diff = Math.max(diff, Math.abs(y.data[i]! - y64[i]!));
      expect(diff, 'forward at this mask').toBeLessThan(1e-5);
      be.mse(y, be.tensor([B * T, C], target)).backward();
      expectGrad(qkv.grad, fd(q64, () => mse64(attention64(q64, B, T, H, C, mask, p), target)), 'dqkv');
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
    const f = () => {
      const y = new Float64Array(rows * cols);
      for (let i = 0; i < rows; i++) {
        let mu = 0; for (let j = 0; j < cols; j++) mu += x64[i * cols + j]!; mu /= cols;
        let v = 0; for (let j = 0; j < cols; j++) v += (x64[i * cols + j]! - mu) ** 2; v /= cols;
        const r = 1 / Math.sqrt(v + 1e-5);
        for (let j = 0; j < cols; j++) y[i * cols + j] = (x64[i * cols + j]! - mu) * r * w64[j]! + b64[j]!;
      }
      return mse64(y, target);
    };
    expectGrad(plain.w.grad, fd(w64, f), 'dweight');
    expectGrad(plain.b.grad, fd(b64, f), 'dbias');
    be.endStep();
    for (const r of [plain, param]) for (const t of [r.x, r.w, r.b]) t.dispose();
  });
});
