/**
 * Elementwise kernels, regula wasm (1 thread and every core) vs the js backend (a portable
 * suite: the demo's benchmark page runs it too): relu on 4M floats, addRowVector on
 * 1024×1024, sum on 4M, crossEntropy forward / backward on a 4096×10 batch of logits, and
 * gelu / geluWithGrad on the anchor GPT's MLP activation (1024 tokens × 256, one layer).
 * Each case checks first: wasm and js give the same bits, and relu / addRowVector match a
 * direct formula, crossEntropy a float64 log-sum-exp, gelu the float64 reference erf.
 */
import type { Backend, Tensor } from '../src/index.js';
import { loadBackends, wasmVariants, type Backends } from './backends.js';
import { firstBitDiff, randomF32 } from '../test/random.js';
import { gelu64, geluDeriv64 } from '../test/erf64.js';
import type { Group, Suite } from './harness.js';

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  const d = firstBitDiff(a, b);
  if (d >= 0) throw new Error(`${what}: wasm and js differ at element ${d} (${a[d]} vs ${b[d]})`);
}

function pairGroup(bes: Backends, title: string, work: number, make: (be: Backend) => { run: () => unknown; result: () => Float32Array | number; tensors: Tensor[] },
  verify: (r: Float32Array | number) => void): Group {
  const j = make(bes.js);
  const ws = wasmVariants(bes, 'regula wasm').map((v) => ({ ...v, w: make(v.be) }));
  return {
    title, work, unit: 'elem', baseline: 'regula js',
    cases: [
      ...ws.map(({ name, tag, w }) => ({
        name, ...tag, fn: w.run,
        check: () => {
          w.run(); j.run();
          const a = w.result(), b = j.result();
          if (typeof a === 'number') { if (!Object.is(a, b)) throw new Error(`${title}: ${name} ${a} vs js ${b}`); } else sameBits(a, b as Float32Array, title);
          verify(a);
        },
      })),
      { name: 'regula js', backend: 'js' as const, fn: j.run },
    ],
    teardown: () => { for (const t of [...ws.flatMap((v) => v.w.tensors), ...j.tensors]) t.dispose(); },
  };
}

const N = 4 * 1024 * 1024;

const suite: Suite = {
  name: 'elementwise',
  async groups(given?: Backends) {
    const bes = given ?? await loadBackends();
    const xd = randomF32(N, 21, 3);
    const R = 1024, C = 1024, bd = randomF32(C, 22);
    const ROWS = 4096, CLS = 10, logits = randomF32(ROWS * CLS, 23, 8);
    const labels = Int32Array.from({ length: ROWS }, (_, i) => (i * 7) % CLS);
    const G = 1024 * 256, gx = randomF32(G, 24, 4);
    /** |got − ref| ≤ 1 float32 ulp of ref, elementwise. */
    const near = (o: Float32Array, ref: (v: number) => number, what: string) => {
      for (let i = 0; i < G; i++) {
        const r = ref(gx[i]!);
        if (Math.abs(o[i]! - r) > 2 ** (Math.floor(Math.log2(Math.abs(r) || 2 ** -149)) - 23)) throw new Error(`${what} element ${i}: ${o[i]} vs ${r}`);
      }
    };
    return [
      pairGroup(bes, 'relu 4M', N, (be) => {
        const x = be.tensor([N], xd), out = be.zeros([N]);
        return { run: () => be.kernels.relu(out, x), result: () => out.data, tensors: [x, out] };
      }, (r) => {
        const o = r as Float32Array;
        for (let i = 0; i < N; i++) if (!Object.is(o[i], xd[i]! > 0 ? xd[i] : 0)) throw new Error(`relu element ${i}`);
      }),
      pairGroup(bes, 'addRowVector 1024x1024', R * C, (be) => {
        const x = be.tensor([R, C], xd.subarray(0, R * C)), b = be.tensor([C], bd), out = be.zeros([R, C]);
        return { run: () => be.kernels.addRowVector(out, x, b), result: () => out.data, tensors: [x, b, out] };
      }, (r) => {
        const o = r as Float32Array;
        for (let i = 0; i < R * C; i++) if (o[i] !== Math.fround(xd[i]! + bd[i % C]!)) throw new Error(`addRowVector element ${i}`);
      }),
      pairGroup(bes, 'sum 4M (f64)', N, (be) => {
        const x = be.tensor([N], xd);
        let s = 0;
        return { run: () => (s = be.kernels.sum(x)), result: () => s, tensors: [x] };
      }, (r) => {
        let s = 0, m = 0;
        for (let i = 0; i < N; i++) { s += xd[i]!; m += Math.abs(xd[i]!); }
        if (Math.abs((r as number) - s) > N * 2 ** -52 * m) throw new Error(`sum ${r} vs ${s}`);
      }),
      pairGroup(bes, 'crossEntropy 4096x10', ROWS * CLS, (be) => {
        const x = be.tensor([ROWS, CLS], logits);
        let loss = 0;
        return { run: () => (loss = be.kernels.crossEntropy(x, labels)), result: () => loss, tensors: [x] };
      }, (r) => {
        let t = 0;
        for (let i = 0; i < ROWS; i++) {
          const row = logits.subarray(i * CLS, (i + 1) * CLS);
          const m = Math.max(...row);
          t += Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) + m - row[labels[i]!]!;
        }
        if (Math.abs((r as number) - t / ROWS) > 1e-12 * (1 + t / ROWS)) throw new Error(`crossEntropy ${r} vs ${t / ROWS}`);
      }),
      pairGroup(bes, 'crossEntropyBackward 4096x10', ROWS * CLS, (be) => {
        const x = be.tensor([ROWS, CLS], logits), out = be.zeros([ROWS, CLS]);
        return { run: () => be.kernels.crossEntropyBackward(out, x, labels, 1 / ROWS), result: () => out.data, tensors: [x, out] };
      }, (r) => {
        const o = r as Float32Array;
        for (let i = 0; i < ROWS; i++) {
          let s = 0;
          for (let c = 0; c < CLS; c++) s += o[i * CLS + c]!;
          if (Math.abs(s) > 1e-10) throw new Error(`softmax gradient row ${i} sums to ${s}`);
        }
      }),
      pairGroup(bes, 'gelu 1024x256', G, (be) => {
        const x = be.tensor([G], gx), out = be.zeros([G]);
        return { run: () => be.kernels.gelu(out, x), result: () => out.data, tensors: [x, out] };
      }, (r) => near(r as Float32Array, gelu64, 'gelu')),
      pairGroup(bes, 'geluWithGrad 1024x256 (gelu and its derivative)', G, (be) => {
        const x = be.tensor([G], gx), out = be.zeros([G]), d = be.zeros([G]);
        return { run: () => be.kernels.geluWithGrad(out, d, x), result: () => d.data, tensors: [x, out, d] };
      }, (r) => near(r as Float32Array, geluDeriv64, 'geluWithGrad d')),
    ];
  },
};

export default suite;
