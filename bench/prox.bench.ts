/**
 * softThreshold on 4M elements (t = 0.5): regula wasm (1 thread and every core) vs the js
 * backend; a portable suite (the demo's benchmark page runs it too). The check compares wasm with js bit for bit and with a direct float64 formula
 * sign(x)·max(|x| − t, 0) rounded to f32.
 */
import { loadBackends, wasmVariants, type Backends } from './backends.js';
import { firstBitDiff, randomF32 } from '../test/random.js';
import type { Group, Suite } from './harness.js';

const N = 4 * 1024 * 1024;
const T = 0.5;

function group(bes: Backends): Group {
  const xd = randomF32(N, 9, 2);
  const j = { x: bes.js.tensor([N], xd), out: bes.js.zeros([N]) };
  const ws = wasmVariants(bes, 'regula wasm').map((v) => ({ ...v, x: v.be.tensor([N], xd), out: v.be.zeros([N]) }));
  const check = (w: (typeof ws)[number]) => () => {
    w.be.kernels.softThreshold(w.out, w.x, T);
    bes.js.kernels.softThreshold(j.out, j.x, T);
    const d = firstBitDiff(w.out.data, j.out.data);
    if (d >= 0) throw new Error(`${w.name} differs from js at ${d}`);
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
      ...ws.map((w) => ({ name: w.name, ...w.tag, fn: () => w.be.kernels.softThreshold(w.out, w.x, T), check: check(w) })),
      { name: 'regula js', backend: 'js' as const, fn: () => bes.js.kernels.softThreshold(j.out, j.x, T) },
    ],
    teardown: () => { for (const t of [...ws, j]) { t.x.dispose(); t.out.dispose(); } },
  };
}

const suite: Suite = {
  name: 'prox',
  async groups(given?: Backends) {
    return [group(given ?? await loadBackends())];
  },
};

export default suite;
