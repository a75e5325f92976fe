/**
 * `npx tsx bench/recipe-shapes.ts [rounds]`: the matmuls of one nanoGPT-recipe step (bench/gpt-recipes.ts:
 * 768 tokens, d 128, vocab 65) on wasm 1 thread, each timed against bench/peak.ts's f32x4
 * mul+add loop doing the same FLOP count, call by call alternately (harness pairedRuns):
 * the median per-pair ratio peak/matmul is the shape's share of the ceiling in the same
 * seconds. Linear forward x·Wᵀ (transB), its backward dX = G·W and dW = Gᵀ·X (transA).
 */
import os from 'node:os';
import { loadBackend } from '../src/index.js';
import { randomF32 } from '../test/helpers.js';
import { pairedRuns } from './harness.js';
import { loadPeak, PEAK_FLOP_PER_ITER } from './peak.js';

const rounds = Number(process.argv[2] ?? 200);
const be = await loadBackend('wasm', { threads: Number(process.argv[3] ?? 1) });
const peak = await loadPeak();
const N = 768, C = 128, V = 65;
const layers: [string, number, number][] = [['c_attn', 3 * C, C], ['attn.c_proj', C, C], ['c_fc', 4 * C, C], ['mlp.c_proj', C, 4 * C], ['lm_head', V, C]];
console.log(`load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
let tot = 0, totPeak = 0;
for (const [name, out, inn] of layers) {
  for (const [what, m, n, k, tA, tB] of [
    ['fwd x·Wᵀ', N, out, inn, false, true], ['dX = G·W', N, inn, out, false, false], ['dW = Gᵀ·X', out, inn, N, true, false],
  ] as const) {
    const a = be.tensor(tA ? [k, m] : [m, k], randomF32(m * k, 1)), b = be.tensor(tB ? [n, k] : [k, n], randomF32(k * n, 2)), o = be.zeros([m, n]);
    const iters = Math.round((2 * m * n * k) / PEAK_FLOP_PER_ITER);
    const r = pairedRuns(() => peak(iters, 0.5), () => be.kernels.matmul(o, a, b, { transA: tA, transB: tB }), rounds, 20);
    tot += r.b; totPeak += r.a;
    console.log(`${name.padEnd(12)} ${what.padEnd(10)} ${m}x${n}x${k}: ${(r.b * 1000).toFixed(0)} µs, ${(2 * m * n * k / r.b / 1e6).toFixed(1)} GFLOP/s, ` +
      `peak ${(2 * m * n * k / r.a / 1e6).toFixed(1)}; share of peak (median per-pair) ${(1 / r.ratio * 100).toFixed(1)}%`);
    a.dispose(); b.dispose(); o.dispose();
  }
}
console.log(`all shapes (x${4} layers but lm_head): matmul ${(tot).toFixed(3)} ms vs peak ${totPeak.toFixed(3)} ms; load ${os.loadavg()[0]!.toFixed(1)}`);
be.dispose();
process.exit(0);
