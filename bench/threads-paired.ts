/**
 * `npx tsx bench/threads-paired.ts [pairs]`: the acceptance figures of the thread pool as
 * paired runs: one thread and the default thread count alternate call by call in one
 * process (order swapped every pair), and the medians of each and of the per-pair ratios
 * are printed, with the load average before and after. Cases: the 64-256-10 MLP step at
 * batch 128 with a one-core CPU hog (a bounded busy loop in a child process) and without;
 * the 512x512x512 matmul on 1 and 2 threads without the hog. Results are checked equal
 * bit for bit first.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { loadBackend, nn, optim, type Backend } from '../src/index.js';
import { firstBitDiff, randomF32 } from '../test/helpers.js';
import { pairedRuns } from './harness.js';

const pairs = Number(process.argv[2] ?? 2000);

function mlp(be: Backend): () => number {
  const model = new nn.Sequential(new nn.Linear(be, 64, 256, { seed: 1 }), new nn.ReLU(), new nn.Linear(be, 256, 10, { seed: 2 }));
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
  const x = be.tensor([128, 64], randomF32(128 * 64, 101));
  const labels = Int32Array.from({ length: 128 }, (_, i) => (i * 7 + 3) % 10);
  return () => { opt.zeroGrad(); const l = be.crossEntropy(model.forward(x), labels); l.backward(); opt.step(); return l.item(); };
}

function paired(name: string, a: () => unknown, b: () => unknown, n: number): void {
  const r = pairedRuns(a, b, n);
  console.log(`${name}: 1 thread ${(r.a * 1000).toFixed(1)} µs, other ${(r.b * 1000).toFixed(1)} µs, median paired ratio (other / 1 thread) ${r.ratio.toFixed(3)}, ratio of medians ${(r.b / r.a).toFixed(3)}`);
}

const load = () => os.loadavg().map((v) => v.toFixed(1)).join(' ');
console.log(`load ${load()}, ${os.cpus().length} cores`);
const one = await loadBackend('wasm', { threads: 1 }), all = await loadBackend('wasm');
const s1 = mlp(one), sn = mlp(all);
for (let i = 0; i < 3; i++) if (!Object.is(s1(), sn())) throw new Error('MLP step: 1 thread and default differ');
paired('MLP 64-256-10 step, batch 128, no hog, default ' + all.info().threads + ' threads', s1, sn, pairs);
const hog = spawn(process.execPath, ['-e', 'const end = Date.now() + 600000; let x = 0; while (Date.now() < end) x++;'], { stdio: 'ignore' });
try {
  await new Promise((r) => setTimeout(r, 500));
  paired('MLP 64-256-10 step, batch 128, one-core CPU hog, default ' + all.info().threads + ' threads', s1, sn, pairs);
} finally {
  hog.kill('SIGKILL');
}
const two = await loadBackend('wasm', { threads: 2 });
const n = 512, a = randomF32(n * n, 1), b = randomF32(n * n, 2);
const mk = (be: Backend) => { const A = be.tensor([n, n], a), B = be.tensor([n, n], b), C = be.zeros([n, n]); return { C, run: () => be.kernels.matmul(C, A, B) }; };
const m1 = mk(one), m2 = mk(two);
m1.run(); m2.run();
if (firstBitDiff(m1.C.data, m2.C.data) !== -1) throw new Error('matmul: 2 threads differ from 1');
paired('matmul 512x512x512, no hog, 2 threads', m1.run, m2.run, Math.max(20, Math.round(pairs / 20)));
console.log(`load ${load()}`);
process.exit(0);
