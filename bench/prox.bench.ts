/**
 * softThreshold on 4M elements (t = 0.5, in place and out of place): regula wasm vs the js
 * backend. The check compares wasm with js bit for bit and with a direct float64 formula
 * sign(x)·max(|x| − t, 0) rounded to f32.
 */
import { loadBackend, type Backend } from '../src/index.js';
import { firstBitDiff, randomF32 } from '../test/helpers.js';
import type { Group, Suite } from './harness.js';

const N = 4 * 1024 * 1024;
const T = 0.5;

function group(bes: { wasm: Backend; js: Backend }): Group {
  const xd = randomF32(N, 9, 2);
  const w = { x: bes.wasm.tensor([N], xd), out: bes.wasm.zeros([N]) };
  const j = { x: bes.js.tensor([N], xd), out: bes.js.zeros([N]) };
  const check = () => {
    bes.wasm.kernels.softThreshold(w.out, w.x, T);
    bes.js.kernels.softThreshold(j.out, j.x, T);
    const d = firstBitDiff(w.out.data, j.out.data);
    if (d >= 0) throw new Error(`wasm differs from js at ${d}`);
    const o = w.out.data;
    for (let i = 0; i < N; i++) {
      const x = xd[i]!, want = Math.abs(x) > T ? Math.fround(Math.sign(x) * (Math.abs(x) - T)) : 0;
      if (!Object.is(o[i], want)) throw new Error(`element ${i}: ${o[i]} for x = ${x}, expected ${want}`);
    }
  };
  return {
    title: 'softThreshold 4M',
    work: N,
    unit: 'elem',
    baseline: 'regula js',
    cases: [
      { name: 'regula wasm', fn: () => bes.wasm.kernels.softThreshold(w.out, w.x, T), check },
      { name: 'regula js', fn: () => bes.js.kernels.softThreshold(j.out, j.x, T) },
    ],
    teardown: () => { w.x.dispose(); w.out.dispose(); j.x.dispose(); j.out.dispose(); },
  };
}

const suite: Suite = {
  name: 'prox',
  async groups() {
    return [group({ wasm: await loadBackend('wasm', { threads: 1 }), js: await loadBackend('js') })];
  },
};

export default suite;
