/**
 * `npx tsx bench/ab-gpt-step.ts <srcA> <srcB> [threads] [steps] [names|nanogpt]`: a paired
 * before/after comparison of a GPT training step (bench/gpt-recipes.ts: issue 14's names
 * shape, the default, or nanoGPT's CPU recipe) between two checkouts of regula, in one
 * process: srcA and srcB are paths to their src/index.ts (each loads its own build/
 * binaries, so build both first). Steps of A and B alternate (order swapped every pair), so
 * a slow minute of the shared machine hits both; prints the wall-clock medians, the 10th
 * percentiles (the least disturbed steps) and the median of the per-pair ratios A/B, plus
 * the same ratio of process CPU time (all threads: robust to being descheduled on a loaded
 * machine, so a fair one-thread comparison there; on two threads it also counts polling),
 * with the load average before and after.
 *
 * Example (main against a worktree, one thread, the recipe):
 *   git -C /path/to/main archive HEAD | tar -x -C /tmp/a && ln -s $PWD/node_modules /tmp/a/ \
 *     && (cd /tmp/a && npm run asbuild)
 *   npx tsx bench/ab-gpt-step.ts /tmp/a/src/index.ts $PWD/src/index.ts 1 60 nanogpt
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RECIPES, gptTrainer, type Recipe } from './gpt-recipes.js';

const [srcA, srcB] = [process.argv[2], process.argv[3]];
if (srcA === undefined || srcB === undefined) throw new Error('usage: npx tsx bench/ab-gpt-step.ts <srcA/index.ts> <srcB/index.ts> [threads] [steps] [names|nanogpt]');
const threads = Number(process.argv[4] ?? 1), steps = Number(process.argv[5] ?? 60);
const recipe = RECIPES[(process.argv[6] ?? 'names') as Recipe['name']];
if (recipe === undefined) throw new Error(`bench/ab-gpt-step.ts: unknown recipe ${process.argv[6]} (names or nanogpt)`);

/** The recipe's training step on the checkout at `src`. */
async function trainer(src: string): Promise<() => number> {
  const r = await import(pathToFileURL(resolve(src)).href) as typeof import('../src/index.js');
  return gptTrainer(r, await r.loadBackend('wasm', { threads }), recipe).step;
}

const a = await trainer(srcA), b = await trainer(srcB);
for (let i = 0; i < 10; i++) {
  const la = a(), lb = b();
  if (la !== lb) console.log(`note: step ${i} losses differ (${la} vs ${lb}): the checkouts compute different bits`);
}
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`load before: ${load()}`);
const ta: number[] = [], tb: number[] = [], ratio: number[] = [], cpuRatio: number[] = [];
/** Wall and CPU milliseconds of one step. */
const time = (f: () => number): [number, number] => {
  const c0 = process.cpuUsage(), t0 = performance.now();
  f();
  const wall = performance.now() - t0, c = process.cpuUsage(c0);
  return [wall, (c.user + c.system) / 1000];
};
for (let i = 0; i < steps; i++) {
  let x: [number, number], y: [number, number];
  if (i % 2 === 0) { x = time(a); y = time(b); } else { y = time(b); x = time(a); }
  ta.push(x[0]); tb.push(y[0]); ratio.push(x[0] / y[0]); cpuRatio.push(x[1] / y[1]);
}
const sorted = (v: number[]) => v.slice().sort((p, q) => p - q);
const med = (v: number[]) => sorted(v)[v.length >> 1]!, p10 = (v: number[]) => sorted(v)[Math.floor(v.length / 10)]!;
console.log(`${recipe.name}, threads ${threads}, ${steps} pairs: A median ${med(ta).toFixed(2)} ms (p10 ${p10(ta).toFixed(2)}), ` +
  `B median ${med(tb).toFixed(2)} ms (p10 ${p10(tb).toFixed(2)}); A/B: median of per-pair ratios ${med(ratio).toFixed(3)}, ` +
  `of the p10s ${(p10(ta) / p10(tb)).toFixed(3)}; CPU time A/B median per-pair ${med(cpuRatio).toFixed(3)}`);
console.log(`load after: ${load()}`);
process.exit(0);
