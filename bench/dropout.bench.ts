/**
 * dropout on 4M elements (p = 0.5): regula wasm (16-lane SIMD xorshift) vs the js backend,
 * with and without a mask. Each case checks first that wasm and js give the same bits
 * (output, mask and RNG state after the call) from the same RNG state, and that the drop
 * rate is within 6 binomial sigmas of p.
 */
import { loadBackend, type Backend } from '../src/index.js';
import { firstBitDiff, randomF32 } from '../test/helpers.js';
import type { Group, Suite } from './harness.js';

const N = 4 * 1024 * 1024;
const P = 0.5;

function groupFor(bes: { wasm: Backend; js: Backend }, withMask: boolean): Group {
  const xd = randomF32(N, 5);
  const mk = (be: Backend) => ({ x: be.tensor([N], xd), out: be.zeros([N]), mask: be.zeros([N]), rng: be.rng(42) });
  const w = mk(bes.wasm), j = mk(bes.js);
  const run = (be: Backend, t: typeof w) => be.kernels.dropout(t.out, t.x, P, t.rng, withMask ? t.mask : null);
  const check = () => {
    const state = w.rng.state();
    j.rng.setState(state);
    run(bes.wasm, w); run(bes.js, j);
    const d = firstBitDiff(w.out.data, j.out.data);
    if (d >= 0) throw new Error(`wasm output differs from js at ${d}`);
    if (withMask && firstBitDiff(w.mask.data, j.mask.data) >= 0) throw new Error('wasm mask differs from js');
    if (firstBitDiff(new Float32Array(w.rng.state().buffer), new Float32Array(j.rng.state().buffer)) >= 0) throw new Error('RNG states differ');
    let dropped = 0;
    const o = w.out.data;
    for (let i = 0; i < N; i++) if (o[i] === 0) dropped++;
    const sigma = Math.sqrt(N * P * (1 - P));
    if (Math.abs(dropped - N * P) > 6 * sigma) throw new Error(`dropped ${dropped} of ${N}, expected ${N * P} ± ${6 * sigma}`);
  };
  return {
    title: `dropout 4M p=0.5${withMask ? ' +mask' : ''}`,
    work: N,
    unit: 'elem',
    baseline: 'regula js',
    cases: [
      { name: 'regula wasm', fn: () => run(bes.wasm, w), check },
      { name: 'regula js', fn: () => run(bes.js, j) },
    ],
    teardown: () => { for (const t of [w, j]) { t.x.dispose(); t.out.dispose(); t.mask.dispose(); t.rng.dispose(); } },
  };
}

const suite: Suite = {
  name: 'dropout',
  async groups() {
    const bes = { wasm: await loadBackend('wasm', { threads: 1 }), js: await loadBackend('js') };
    return [groupFor(bes, false), groupFor(bes, true)];
  },
};

export default suite;
