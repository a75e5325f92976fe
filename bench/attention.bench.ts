/**
 * The attention's batched matmuls at issue 14's anchor shape (batch 16, 4 heads, T 64,
 * head size 16): each of the six products of causalAttention's forward and backward
 * through be.kernels.matmulBatched, with its causal mask (the product's masked triangle
 * skipped) and without (the full product), on 1 and 2 threads; then the whole op
 * (be.causalAttention forward and backward, dropout 0.1). Work is the full product's FLOPs
 * in every case, so a masked case's GFLOP/s is "full-product equivalent".
 *
 * Checks before timing: the score-shaped factor is lower triangular (as the softmax makes
 * it), so the masked product equals the full one bit for bit (scores: on j ≤ i, zeros
 * above); wasm on 1 and 2 threads equals js bit for bit.
 */
import { loadBackend, type Backend, type MatmulBatchedOptions, type Tensor } from '../src/index.js';
import { firstBitDiff, randomF32 } from '../test/random.js';
import type { Case, Group, Suite } from './harness.js';

const B = 16, H = 4, T = 64, hs = 16, C = H * hs, Z = B * H;

interface Bufs { x: Tensor; p: Tensor; dy: Tensor; s: Tensor; y: Tensor; d: Tensor }

/** A [Z, T, T] score-shaped tensor's data, zero above each diagonal. */
function lowerTriangular(seed: number): Float32Array {
  const d = randomF32(Z * T * T, seed);
  for (let z = 0; z < Z; z++) for (let i = 0; i < T; i++) d.fill(0, (z * T + i) * T + i + 1, (z * T + i + 1) * T);
  return d;
}

const X = randomF32(B * T * 3 * C, 1), P = lowerTriangular(2), DY = randomF32(B * T * C, 3);

function bufs(be: Backend): Bufs {
  return {
    x: be.tensor([B * T, 3 * C], X), p: be.tensor([Z, T, T], P), dy: be.tensor([B * T, C], DY),
    s: be.zeros([Z, T, T]), y: be.zeros([B * T, C]), d: be.zeros([B * T, 3 * C]),
  };
}

const qkv = { ldb: 3 * C, sBb: T * 3 * C, sBh: hs };
const sc = { ldc: T, sCb: H * T * T, sCh: T * T };
const dq = { ldc: 3 * C, sCb: T * 3 * C, sCh: hs };

/** The six products: name, operands, layout, and the mask that skips the causal triangle. */
const PRODUCTS: [string, (b: Bufs) => [Tensor, Tensor, Tensor], MatmulBatchedOptions, 'causalA' | 'causalOut'][] = [
  ['S = Q·Kᵀ', (b) => [b.s, b.x, b.x], { batch: B, heads: H, m: T, n: T, k: hs, lda: 3 * C, sAb: T * 3 * C, sAh: hs, offB: C, ...qkv, transB: true, ...sc }, 'causalOut'],
  ['Y = P·V', (b) => [b.y, b.p, b.x], { batch: B, heads: H, m: T, n: hs, k: T, offB: 2 * C, ...qkv, ldc: C, sCb: T * C, sCh: hs }, 'causalA'],
  ['dP = dY·Vᵀ', (b) => [b.s, b.dy, b.x], { batch: B, heads: H, m: T, n: T, k: hs, lda: C, sAb: T * C, sAh: hs, offB: 2 * C, ...qkv, transB: true, ...sc }, 'causalOut'],
  ['dV = Pᵀ·dY', (b) => [b.d, b.p, b.dy], { batch: B, heads: H, m: T, n: hs, k: T, transA: true, ldb: C, sBb: T * C, sBh: hs, offC: 2 * C, ...dq }, 'causalA'],
  ['dQ = dS·K', (b) => [b.d, b.p, b.x], { batch: B, heads: H, m: T, n: hs, k: T, offB: C, ...qkv, ...dq }, 'causalA'],
  ['dK = dSᵀ·Q', (b) => [b.d, b.p, b.x], { batch: B, heads: H, m: T, n: hs, k: T, transA: true, ...qkv, offC: C, ...dq }, 'causalA'],
];

function run(be: Backend, bf: Bufs, i: number, masked: boolean): Float32Array {
  const [name, ops, o, mask] = PRODUCTS[i]!;
  void name;
  const [out, a, b] = ops(bf);
  out.data.fill(Number.NaN);
  be.kernels.matmulBatched(out, a, b, masked ? { ...o, [mask]: true } : o);
  return out.data.slice();
}

function productGroup(i: number, w1: Backend, w2: Backend, js: Backend): Group {
  const [name, ops, o, mask] = PRODUCTS[i]!;
  const b1 = bufs(w1), b2 = bufs(w2), bj = bufs(js);
  const cases: Case[] = [];
  for (const [label, be, bf] of [['wasm 1 thread', w1, b1], ['wasm 2 threads', w2, b2]] as const) {
    const [out, a, b] = ops(bf);
    const masked = { ...o, [mask]: true };
    cases.push({
      name: `${label}, full`,
      fn: () => be.kernels.matmulBatched(out, a, b, o),
    });
    cases.push({
      name: `${label}, ${mask}`,
      fn: () => be.kernels.matmulBatched(out, a, b, masked),
      check: () => {
        const want = run(js, bj, i, true), got = run(be, bf, i, true), full = run(be, bf, i, false);
        let d = firstBitDiff(got, want);
        if (d >= 0) throw new Error(`${name} ${label}: element ${d} is ${got[d]}, js gives ${want[d]}`);
        if (mask === 'causalOut') {
          for (let e = 0; e < full.length; e++) if ((e % T) > ((e / T | 0) % T)) full[e] = 0; // scores: j > i zero
        }
        d = firstBitDiff(got, full);
        if (d >= 0) throw new Error(`${name} ${label}: the masked product differs from the full one at ${d}: ${got[d]} vs ${full[d]}`);
      },
    });
  }
  return {
    title: `attention ${name} (batch ${B}, heads ${H}, T ${T}, head size ${hs})`,
    work: 2 * Z * T * T * hs,
    unit: 'FLOP',
    baseline: 'wasm 1 thread, full',
    cases,
    teardown: () => { for (const bf of [b1, b2, bj]) for (const t of Object.values(bf)) t.dispose(); },
  };
}

/** be.causalAttention forward and backward (the upstream gradient all ones through be.sum), dropout 0.1. */
function opGroup(w1: Backend, w2: Backend): Group {
  const made: (() => void)[] = [];
  const mk = (be: Backend) => {
    const x = be.param([B * T, 3 * C], X), rng = be.rng(7);
    made.push(() => { x.dispose(); rng.dispose(); });
    return () => {
      x.grad?.data.fill(0);
      const loss = be.sum(be.causalAttention(x, B, T, H, { p: 0.1, rng }));
      loss.backward();
      return x.grad!.data;
    };
  };
  const f1 = mk(w1), f2 = mk(w2);
  return {
    title: `be.causalAttention forward + backward (batch ${B}, heads ${H}, T ${T}, head size ${hs}, dropout 0.1)`,
    work: 1, unit: 'step',
    cases: [{ name: 'wasm 1 thread', fn: f1 }, { name: 'wasm 2 threads', fn: f2 }],
    teardown: () => made.forEach((f) => f()),
  };
}

const suite: Suite = {
  name: 'attention',
  async groups() {
    const [w1, w2, js] = await Promise.all([loadBackend('wasm', { threads: 1 }), loadBackend('wasm', { threads: 2 }), loadBackend('js')]);
    return [...PRODUCTS.map((_, i) => productGroup(i, w1, w2, js)), opGroup(w1, w2)];
  },
};
export default suite;
