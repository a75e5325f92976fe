/**
 * Fused optimizer steps on 1M (2^20) parameters: regula wasm vs the js backend, and for
 * Adam tfjs-backend-wasm's tf.train.adam applying a gradient to a 1M variable (tfjs has
 * no AdamW, so its case runs plain Adam: the same memory traffic, one multiply less).
 * Every case checks its result first: wasm against js bit for bit, js against a float64
 * evaluation of the torch update, tfjs against regula's Adam.
 */
import { loadBackend, type Backend, type Tensor } from '../src/index.js';
import { firstBitDiff, randomF32 } from '../test/random.js';
import type { Case, Group, Suite } from './harness.js';
import { loadTfWasm } from './tfjs.js';

const N = 1 << 20;

/** |got − want| ≤ 1e-5·max(|want|, 0.1): f32 round-off against a float64 evaluation (see test/optim-kernels.test.ts). */
function checkClose(got: Float32Array, want: ArrayLike<number>, what: string): void {
  for (let i = 0; i < got.length; i++) {
    const w = want[i]!;
    if (!(Math.abs(got[i]! - w) <= 1e-5 * Math.max(Math.abs(w), 0.1))) throw new Error(`${what}: p[${i}] is ${got[i]}, expected ${w}`);
  }
}

function checkBits(a: Float32Array, b: Float32Array, what: string): void {
  const d = firstBitDiff(a, b);
  if (d >= 0) throw new Error(`${what}: element ${d} differs: ${a[d]} vs ${b[d]}`);
}

interface Adam { p: Tensor; g: Tensor; m: Tensor; v: Tensor }

async function adamGroup(bes: { wasm: Backend; js: Backend }): Promise<Group> {
  const p0 = randomF32(N, 1, 2), g0 = randomF32(N, 2, 3), m0 = randomF32(N, 3, 0.5), v0 = randomF32(N, 4, 1).map(Math.abs);
  const o = { lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0.01, decoupled: true, step: 10 };
  const made: Tensor[] = [];
  const mk = (be: Backend): Adam => {
    const s = { p: be.tensor([N], p0), g: be.tensor([N], g0), m: be.tensor([N], m0), v: be.tensor([N], v0) };
    made.push(s.p, s.g, s.m, s.v);
    return s;
  };
  const w = mk(bes.wasm), j = mk(bes.js);
  const step = (be: Backend, s: Adam) => be.kernels.adamStep(s.p, s.g, s.m, s.v, null, o);

  // float64 AdamW (torch 1.13 order) from the start state, for the js check.
  const want = new Float64Array(N);
  {
    const [b1, b2] = o.betas;
    const bc1 = 1 - b1 ** o.step, bc2 = Math.sqrt(1 - b2 ** o.step);
    for (let i = 0; i < N; i++) {
      const g = g0[i]!;
      const m = b1 * m0[i]! + (1 - b1) * g, v = b2 * v0[i]! + (1 - b2) * g * g;
      want[i] = p0[i]! * (1 - o.lr * o.weightDecay) - (o.lr / bc1) * m / (Math.sqrt(v) / bc2 + o.eps);
    }
  }
  const reset = (s: Adam) => { s.p.data.set(p0); s.m.data.set(m0); s.v.data.set(v0); };

  const tf = await loadTfWasm();
  const tw = tf.variable(tf.tensor1d(p0), true, 'optim-bench-w');
  const tg = tf.tensor1d(g0);
  const tfAdam = tf.train.adam(o.lr, o.betas[0], o.betas[1], o.eps);
  const tfStep = () => tfAdam.applyGradients([{ name: tw.name, tensor: tg }]);

  const cases: Case[] = [
    {
      name: 'regula wasm (AdamW)',
      fn: () => step(bes.wasm, w),
      check: () => {
        reset(w); reset(j);
        step(bes.wasm, w); step(bes.js, j);
        for (const k of ['p', 'm', 'v'] as const) checkBits(w[k].data, j[k].data, `wasm vs js ${k}`);
      },
    },
    { name: 'regula js (AdamW)', fn: () => step(bes.js, j), check: () => { reset(j); step(bes.js, j); checkClose(j.p.data, want, 'js AdamW'); } },
    {
      name: 'tfjs-wasm tf.train.adam (Adam, tfjs has no AdamW)',
      fn: tfStep,
      check: () => {
        // First step of a fresh tfjs Adam against regula's Adam (coupled, no decay), step 1.
        const vw = tf.variable(tf.tensor1d(p0), true, 'optim-bench-check');
        const opt = tf.train.adam(o.lr, o.betas[0], o.betas[1], o.eps);
        opt.applyGradients([{ name: vw.name, tensor: tg }]);
        const got = vw.dataSync() as Float32Array;
        const be = bes.js;
        const s = { p: be.tensor([N], p0), g: be.tensor([N], g0), m: be.zeros([N]), v: be.zeros([N]) };
        be.kernels.adamStep(s.p, s.g, s.m, s.v, null, { lr: o.lr, betas: o.betas, eps: o.eps, step: 1 });
        const ours = s.p.data.slice();
        Object.values(s).forEach((t) => t.dispose());
        vw.dispose(); opt.dispose();
        checkClose(got, ours, 'tfjs Adam vs regula Adam');
      },
    },
  ];
  return {
    title: `AdamW step, ${N} params`, work: N, unit: 'param', baseline: 'regula js (AdamW)', cases,
    teardown: () => { made.forEach((t) => t.dispose()); tw.dispose(); tg.dispose(); tfAdam.dispose(); },
  };
}

interface Sgd { p: Tensor; g: Tensor; buf: Tensor }

function sgdGroup(bes: { wasm: Backend; js: Backend }): Group {
  const p0 = randomF32(N, 5, 2), g0 = randomF32(N, 6, 3), b0 = randomF32(N, 7, 1);
  const o = { lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 1e-4 };
  const made: Tensor[] = [];
  const mk = (be: Backend): Sgd => {
    const s = { p: be.tensor([N], p0), g: be.tensor([N], g0), buf: be.tensor([N], b0) };
    made.push(s.p, s.g, s.buf);
    return s;
  };
  const w = mk(bes.wasm), j = mk(bes.js);
  const step = (be: Backend, s: Sgd) => be.kernels.sgdStep(s.p, s.g, s.buf, o);
  const reset = (s: Sgd) => { s.p.data.set(p0); s.buf.data.set(b0); };
  const want = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const d = g0[i]! + o.weightDecay * p0[i]!;
    want[i] = p0[i]! - o.lr * (o.momentum * b0[i]! + (1 - o.dampening) * d);
  }
  return {
    title: `SGD momentum step, ${N} params`, work: N, unit: 'param', baseline: 'regula js',
    cases: [
      {
        name: 'regula wasm',
        fn: () => step(bes.wasm, w),
        check: () => {
          reset(w); reset(j);
          step(bes.wasm, w); step(bes.js, j);
          checkBits(w.p.data, j.p.data, 'wasm vs js p'); checkBits(w.buf.data, j.buf.data, 'wasm vs js buf');
        },
      },
      { name: 'regula js', fn: () => step(bes.js, j), check: () => { reset(j); step(bes.js, j); checkClose(j.p.data, want, 'js SGD'); } },
    ],
    teardown: () => made.forEach((t) => t.dispose()),
  };
}

const suite: Suite = {
  name: 'optim',
  async groups() {
    const bes = { wasm: await loadBackend('wasm', { threads: 1 }), js: await loadBackend('js') };
    return [await adamGroup(bes), sgdGroup(bes)];
  },
};

export default suite;
