/**
 * dropout on 4M elements (p = 0.5): regula wasm (16-lane SIMD xorshift; 1 thread and every
 * core) vs the js backend, with and without a mask. A portable suite (the demo's benchmark
 * page runs it too). Each case checks first that wasm and js give the same bits
 * (output, mask and RNG state after the call) from the same RNG state, and that the drop
 * rate is within 6 binomial sigmas of p.
 */
import type { Backend } from '../src/index.js';
import { loadBackends, wasmVariants, type Backends } from './backends.js';
import { firstBitDiff, randomF32 } from '../test/random.js';
import type { Group, Suite } from './harness.js';

const N = 4 * 1024 * 1024;
const P = 0.5;

function groupFor(bes: Backends, withMask: boolean): Group {
  const xd = randomF32(N, 5);
  const mk = (be: Backend) => ({ x: be.tensor([N], xd), out: be.zeros([N]), mask: be.zeros([N]), rng: be.rng(42) });
  type Bufs = ReturnType<typeof mk>;
  const j = mk(bes.js);
  const run = (be: Backend, t: Bufs) => be.kernels.dropout(t.out, t.x, P, t.rng, withMask ? t.mask : null);
  const check = (be: Backend, w: Bufs, name: string) => () => {
    const state = w.rng.state();
    j.rng.setState(state);
    run(be, w); run(bes.js, j);
    const d = firstBitDiff(w.out.data, j.out.data);
    if (d >= 0) throw new Error(`${name} output differs from js at ${d}`);
    if (withMask && firstBitDiff(w.mask.data, j.mask.data) >= 0) throw new Error(`${name} mask differs from js`);
    if (firstBitDiff(new Float32Array(w.rng.state().buffer), new Float32Array(j.rng.state().buffer)) >= 0) throw new Error('RNG states differ');
    let dropped = 0;
    const o = w.out.data;
    for (let i = 0; i < N; i++) if (o[i] === 0) dropped++;
    const sigma = Math.sqrt(N * P * (1 - P));
    if (Math.abs(dropped - N * P) > 6 * sigma) throw new Error(`dropped ${dropped} of ${N}, expected ${N * P} ± ${6 * sigma}`);
  };
  const ws = wasmVariants(bes, 'regula wasm').map((v) => ({ ...v, t: mk(v.be) }));
  return {
    title: `dropout 4M p=0.5${withMask ? ' +mask' : ''}`,
    work: N,
    unit: 'elem',
    baseline: 'regula js',
    cases: [
      ...ws.map(({ be, name, tag, t }) => ({ name, ...tag, fn: () => run(be, t), check: check(be, t, name) })),
      { name: 'regula js', backend: 'js' as const, fn: () => run(bes.js, j) },
    ],
    teardown: () => { for (const t of [...ws.map((w) => w.t), j]) { t.x.dispose(); t.out.dispose(); t.mask.dispose(); t.rng.dispose(); } },
  };
}

const suite: Suite = {
  name: 'dropout',
  async groups(given?: Backends) {
    const bes = given ?? await loadBackends();
    return [groupFor(bes, false), groupFor(bes, true)];
  },
};

export default suite;
