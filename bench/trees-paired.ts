/**
 * `npx tsx bench/trees-paired.ts <other checkout> [pairs] [case filter] [threads, e.g. 1,2]`: the training step of this tree
 * against another checkout of regula (e.g. main before a refactor, with its own `npm ci`
 * done), as paired runs in one process: the two step functions alternate call by call
 * (order swapped every pair), and the medians of each and of the per-pair ratios (this /
 * other) are printed, with the load average before and after. Cases, on wasm 1 thread and
 * 2 threads: the two MLPs of train.bench.ts (64-128-10 and 784-256-10, dropout 0.2, batch
 * 64, AdamW), the GPT of transformer.bench.ts (1,024 tokens) and nanoGPT's CPU recipe
 * (bench/gpt-recipes.ts; 768 tokens, d 128, clip 1.0). Only the cases whose name contains
 * the filter run (e.g. 'GPT'). The losses of the first
 * steps are checked equal bit for bit first: a refactor must not change them.
 *
 * Run it both ways (from each checkout, naming the other): the position is not neutral. At
 * load 16 on 2 cores the GPT step of this checkout read 1.056 and 1.059 times the other's,
 * and 1.038 times with the two checkouts swapped, so about 5% comes from being this side;
 * the geometric mean of the two directions cancels it.
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomF32 } from '../test/helpers.js';
import { pairedRuns } from './harness.js';
import { RECIPES, gptTrainer } from './gpt-recipes.js';

type Regula = typeof import('../src/index.js');
type Backend = import('../src/index.js').Backend;

const other = process.argv[2];
if (other === undefined) throw new Error('usage: npx tsx bench/trees-paired.ts <other checkout> [pairs]');
const pairs = Number(process.argv[3] ?? 200);
const filter = process.argv[4] ?? '';
const threadCounts = (process.argv[5] ?? '1,2').split(',').map(Number);

function mlp(r: Regula, be: Backend, IN: number, HIDDEN: number): () => number {
  const { nn, optim } = r;
  const fc1 = new nn.Linear(be, IN, HIDDEN, { seed: 1 }), fc2 = new nn.Linear(be, HIDDEN, 10, { seed: 2 });
  const model = new nn.Sequential(fc1, new nn.ReLU(), new nn.Dropout(0.2, { seed: 3 }), fc2);
  const opt = new optim.AdamW([{ params: [fc1.weight, fc2.weight], weightDecay: 0.01 }, { params: [fc1.bias!, fc2.bias!], weightDecay: 0 }], { lr: 1e-3 });
  const x = be.tensor([64, IN], randomF32(64 * IN, 101, 1));
  const labels = Int32Array.from({ length: 64 }, (_, i) => (i * 7 + 3) % 10);
  model.train();
  return () => { opt.zeroGrad(); const l = be.crossEntropy(model.forward(x), labels); l.backward(); opt.step(); return l.item(); };
}

function gpt(r: Regula, be: Backend): () => number {
  const V = 65, T = 64, B = 16;
  const tokens = Int32Array.from({ length: B * T }, (_, i) => (17 * i + 5 * (i >> 2) + 3) % V);
  const targets = Int32Array.from(tokens, (t) => (3 * t + 1) % V);
  const model = new r.nn.GPT(be, { vocabSize: V, blockSize: T, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0.1, bias: true, tieWeights: false, seed: 1 });
  const opt = model.configureOptimizers({ weightDecay: 0.1, lr: 3e-4 });
  model.train();
  return () => { opt.zeroGrad(); const l = be.crossEntropy(model.forward(tokens, [B, T]), targets); l.backward(); opt.step(); return l.item(); };
}

function paired(name: string, mine: () => unknown, theirs: () => unknown, n: number): void {
  const r = pairedRuns(theirs, mine, n, Math.min(20, n));
  console.log(`${name}: this ${r.b.toFixed(3)} ms, other ${r.a.toFixed(3)} ms, median paired ratio (this / other) ${r.ratio.toFixed(3)}, ratio of medians ${(r.b / r.a).toFixed(3)} (${n} pairs)`);
}

const load = () => os.loadavg().map((v) => v.toFixed(1)).join(' ');
console.log(`load ${load()}, ${os.cpus().length} cores; other: ${resolve(other)}`);
const here: Regula = await import('../src/index.js');
const there: Regula = await import(pathToFileURL(resolve(other, 'src/index.ts')).href);
for (const threads of threadCounts) {
  const [b1, b2] = [await here.loadBackend('wasm', { threads }), await there.loadBackend('wasm', { threads })];
  const cases: [string, () => () => number, () => () => number, number][] = [
    ['MLP 64-128-10 step', () => mlp(here, b1, 64, 128), () => mlp(there, b2, 64, 128), pairs * 5],
    ['MLP 784-256-10 step', () => mlp(here, b1, 784, 256), () => mlp(there, b2, 784, 256), pairs],
    ['GPT step (1,024 tokens)', () => gpt(here, b1), () => gpt(there, b2), Math.max(20, Math.round(pairs / 4))],
    ['GPT nanoGPT recipe step (768 tokens, d 128)', () => gptTrainer(here, b1, RECIPES.nanogpt).step, () => gptTrainer(there, b2, RECIPES.nanogpt).step, Math.max(20, Math.round(pairs / 4))],
  ];
  for (const [name, ma, mb, n] of cases) {
    if (!name.includes(filter)) continue;
    const a = ma(), b = mb();
    // both trainers are fresh: their first three losses must be the same bits
    const check = (f: () => number) => Float64Array.from({ length: 3 }, () => f());
    const la = check(a), lb = check(b);
    if (la.some((v, i) => !Object.is(v, lb[i]))) throw new Error(`${name}: the losses differ: ${la} vs ${lb}`);
    paired(`${name}, wasm ${threads} thread${threads > 1 ? 's' : ''}`, a, b, n);
  }
  b1.dispose(); b2.dispose();
}
console.log(`load ${load()}`);
process.exit(0);
