/**
 * `npx tsx bench/ab-gpt-step.ts <srcA> <srcB> [threads] [steps]`: a paired before/after
 * comparison of issue 14's GPT training step (the anchor shape of transformer.bench.ts)
 * between two checkouts of regula, in one process: srcA and srcB are paths to their
 * src/index.ts (each loads its own build/ binaries, so build both first). Steps of A and B
 * alternate (order swapped every pair), so a slow minute of the shared machine hits both;
 * prints the medians, the 10th percentiles (the least disturbed steps) and the median of
 * the per-pair ratios A/B, with the load average before and after.
 *
 * Example (main against a worktree, one thread):
 *   git -C /path/to/main archive HEAD | tar -x -C /tmp/a && ln -s $PWD/node_modules /tmp/a/ \
 *     && (cd /tmp/a && npm run asbuild)
 *   npx tsx bench/ab-gpt-step.ts /tmp/a/src/index.ts $PWD/src/index.ts 1 60
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [srcA, srcB] = [process.argv[2], process.argv[3]];
if (srcA === undefined || srcB === undefined) throw new Error('usage: npx tsx bench/ab-gpt-step.ts <srcA/index.ts> <srcB/index.ts> [threads] [steps]');
const threads = Number(process.argv[4] ?? 1), steps = Number(process.argv[5] ?? 60);

const V = 65, T = 64, C = 64, H = 4, L = 2, B = 16;
const tokens = Int32Array.from({ length: B * T }, (_, i) => (17 * i + 5 * (i >> 2) + 3) % V);
const targets = Int32Array.from(tokens, (t) => (3 * t + 1) % V);

/** One training step of the anchor model (AdamW, decay on the Linear weights) on the checkout at `src`. */
async function trainer(src: string): Promise<() => number> {
  const r = await import(pathToFileURL(resolve(src)).href) as typeof import('../src/index.js');
  const be = await r.loadBackend('wasm', { threads });
  const model = new r.nn.GPT(be, { vocabSize: V, blockSize: T, nLayer: L, nHead: H, nEmbd: C, dropout: 0.1, bias: true, tieWeights: false, seed: 1 });
  const decay: import('../src/index.js').Tensor[] = [], rest: import('../src/index.js').Tensor[] = [];
  for (const [name, p] of model.namedParameters()) (p.shape.length === 2 && !name.startsWith('transformer.w') ? decay : rest).push(p);
  const opt = new r.optim.AdamW([{ params: decay, weightDecay: 0.1 }, { params: rest, weightDecay: 0 }], { lr: 3e-4 });
  model.train();
  return () => {
    opt.zeroGrad();
    const loss = be.crossEntropy(model.forward(tokens, [B, T]), targets);
    loss.backward();
    opt.step();
    return loss.item();
  };
}

const a = await trainer(srcA), b = await trainer(srcB);
for (let i = 0; i < 10; i++) {
  const la = a(), lb = b();
  if (la !== lb) console.log(`note: step ${i} losses differ (${la} vs ${lb}): the checkouts compute different bits`);
}
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`load before: ${load()}`);
const ta: number[] = [], tb: number[] = [], ratio: number[] = [];
const time = (f: () => number) => { const t0 = performance.now(); f(); return performance.now() - t0; };
for (let i = 0; i < steps; i++) {
  let x: number, y: number;
  if (i % 2 === 0) { x = time(a); y = time(b); } else { y = time(b); x = time(a); }
  ta.push(x); tb.push(y); ratio.push(x / y);
}
const sorted = (v: number[]) => v.slice().sort((p, q) => p - q);
const med = (v: number[]) => sorted(v)[v.length >> 1]!, p10 = (v: number[]) => sorted(v)[Math.floor(v.length / 10)]!;
console.log(`threads ${threads}, ${steps} pairs: A median ${med(ta).toFixed(2)} ms (p10 ${p10(ta).toFixed(2)}), ` +
  `B median ${med(tb).toFixed(2)} ms (p10 ${p10(tb).toFixed(2)}); A/B: median of per-pair ratios ${med(ratio).toFixed(3)}, ` +
  `of the p10s ${(p10(ta) / p10(tb)).toFixed(3)}`);
console.log(`load after: ${load()}`);
