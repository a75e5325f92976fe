/**
 * matmul: regula wasm (1 thread and every core) vs tfjs-backend-wasm (XNNPACK, one thread,
 * where the host has it: Node) vs the js backend vs a naive JS triple loop. Sizes are m×k×n. Every case checks its result before timing: the
 * wasm kernel against the js kernel bit for bit, tfjs and the naive loop against a float64
 * product within the f32 accumulation bound. The three target shapes also time the
 * machine's f32x4 mul+add ceiling (bench/peak.ts) in the same interleaved rounds, so each
 * run shows how far the kernel is from it at that moment. A portable suite: the demo's
 * benchmark page runs it too (bench/host.ts).
 */
import type { Backend, Tensor } from '../src/index.js';
import { firstBitDiff, randomF32 } from '../test/random.js';
import { loadBackends, wasmVariants, type Backends } from './backends.js';
import type { Case, Group, Suite } from './harness.js';
import { host } from './host.js';
import { peakCase, type Peak } from './peak-loop.js';

interface Shape { m: number; k: number; n: number; transA?: boolean; transB?: boolean }

function stored(s: Shape): { aShape: [number, number]; bShape: [number, number] } {
  return {
    aShape: s.transA ? [s.k, s.m] : [s.m, s.k],
    bShape: s.transB ? [s.n, s.k] : [s.k, s.n],
  };
}

/** Float64 product and Σ|a||b| per output, for tolerance checks. */
function reference(a: Float32Array, b: Float32Array, s: Shape): { ref: Float64Array; mag: Float64Array } {
  const { m, k, n } = s;
  const ref = new Float64Array(m * n), mag = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let r = 0, g = 0;
      for (let p = 0; p < k; p++) {
        const x = a[s.transA ? p * m + i : i * k + p]!, y = b[s.transB ? j * k + p : p * n + j]!;
        r += x * y; g += Math.abs(x * y);
      }
      ref[i * n + j] = r; mag[i * n + j] = g;
    }
  }
  return { ref, mag };
}

/** Any summation order in f32 stays within (k+1)·2⁻²⁴·Σ|a·b| of the exact product. */
function checkClose(got: ArrayLike<number>, a: Float32Array, b: Float32Array, s: Shape, what: string): void {
  const { ref, mag } = reference(a, b, s);
  const u = 2 ** -24;
  for (let i = 0; i < ref.length; i++) {
    const tol = (s.k + 1) * u * mag[i]! + 1e-30;
    if (!(Math.abs(got[i]! - ref[i]!) <= tol)) {
      throw new Error(`${what}: element ${i} is ${got[i]}, float64 product ${ref[i]} (tolerance ${tol})`);
    }
  }
}

const label = (s: Shape) => `${s.m}x${s.k}x${s.n}${s.transA ? ' tA' : ''}${s.transB ? ' tB' : ''}`;

async function group(s: Shape, which: { js?: boolean; naive?: boolean; tfjs?: boolean; peak?: Peak }, bes: Backends): Promise<Group> {
  const { m, k, n } = s;
  const { aShape, bShape } = stored(s);
  const ad = randomF32(m * k, 11), bd = randomF32(k * n, 12);
  const made: Tensor[] = [];
  const mk = (be: Backend) => {
    const t = [be.tensor(aShape, ad), be.tensor(bShape, bd), be.zeros([m, n])] as const;
    made.push(...t);
    return t;
  };
  const [ja, jb, jo] = mk(bes.js);
  const opts = { transA: !!s.transA, transB: !!s.transB };
  let jsResult: Float32Array | null = null;
  const jsOnce = () => {
    if (jsResult === null) { bes.js.kernels.matmul(jo, ja, jb, opts); jsResult = jo.data.slice(); }
    return jsResult;
  };
  const cases: Case[] = wasmVariants(bes, 'regula wasm').map(({ be, name, tag }) => {
    const [wa, wb, wo] = mk(be);
    return {
      name, ...tag,
      fn: () => be.kernels.matmul(wo, wa, wb, opts),
      check: () => {
        wo.data.fill(NaN);
        be.kernels.matmul(wo, wa, wb, opts);
        const d = firstBitDiff(wo.data, jsOnce());
        if (d >= 0) throw new Error(`${name} differs from js at element ${d}: ${wo.data[d]} vs ${jsOnce()[d]}`);
        checkClose(wo.data, ad, bd, s, name);
      },
    };
  });
  let disposeTf = () => {};
  const tfjs = which.tfjs !== false ? host().tfjs : undefined;
  if (tfjs !== undefined) {
    const tf = await tfjs();
    const ta = tf.tensor2d(ad, aShape), tb = tf.tensor2d(bd, bShape);
    disposeTf = () => { ta.dispose(); tb.dispose(); };
    const run = () => { const c = tf.matMul(ta, tb, opts.transA, opts.transB); const d = c.dataSync(); c.dispose(); return d; };
    cases.push({ name: 'tfjs-wasm', fn: run, check: () => checkClose(run() as Float32Array, ad, bd, s, 'tfjs') });
  }
  if (which.js) {
    cases.push({
      name: 'regula js', backend: 'js',
      fn: () => bes.js.kernels.matmul(jo, ja, jb, opts),
      check: () => checkClose(jsOnce(), ad, bd, s, 'js'),
    });
  }
  if (which.peak !== undefined) {
    // The ceiling, timed in the same interleaved rounds as the kernels: the register-only
    // loop of bench/peak-loop.ts doing the group's FLOP count (rounded to whole iterations).
    cases.push(peakCase(which.peak, 2 * m * k * n));
  }
  if (which.naive && !s.transA && !s.transB) {
    const out = new Float32Array(m * n);
    const naive = () => {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc += ad[i * k + p]! * bd[p * n + j]!;
          out[i * n + j] = acc;
        }
      }
    };
    cases.push({ name: 'naive JS loop', fn: naive, check: () => { naive(); checkClose(out, ad, bd, s, 'naive'); } });
  }
  return {
    title: `matmul ${label(s)}`,
    work: 2 * m * k * n,
    unit: 'FLOP',
    baseline: tfjs !== undefined ? 'tfjs-wasm' : which.js ? 'regula js' : 'regula wasm',
    cases,
    teardown: () => { for (const t of made) t.dispose(); disposeTf(); },
  };
}

const suite: Suite = {
  name: 'matmul',
  async groups(given?: Backends) {
    const bes = given ?? await loadBackends();
    const big = { js: false, naive: false };
    const peak = await host().peak();
    return [
      // The three shapes of the speed targets, each with the machine's ceiling beside it.
      await group({ m: 256, k: 256, n: 256 }, { js: true, peak }, bes),
      await group({ m: 64, k: 784, n: 256 }, { ...big, peak }, bes),
      await group({ m: 512, k: 512, n: 512 }, { ...big, peak }, bes),
      await group({ m: 256, k: 256, n: 256, transA: true }, big, bes),
      await group({ m: 256, k: 256, n: 256, transB: true }, big, bes),
      await group({ m: 128, k: 128, n: 128 }, { js: true, naive: true }, bes),
      // A training step of a 6-16-… MLP on a batch of 64: forward, and the weight/input
      // gradients (op(a)ᵀ·g with transA, g·op(b)ᵀ with transB).
      await group({ m: 64, k: 6, n: 16 }, { js: true }, bes),
      await group({ m: 6, k: 64, n: 16, transA: true }, { js: true }, bes),
      await group({ m: 64, k: 64, n: 128 }, { js: true }, bes),
      await group({ m: 64, k: 128, n: 64, transB: true }, { js: true }, bes),
      await group({ m: 128, k: 64, n: 64, transA: true }, { js: true }, bes),
      await group({ m: 64, k: 128, n: 10 }, { js: true }, bes),
      await group({ m: 64, k: 10, n: 128, transB: true }, { js: true }, bes),
    ];
  },
};

export default suite;
