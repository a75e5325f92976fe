/**
 * `npx tsx bench/ab-pool.ts <names|nanogpt> <variants> [rounds] [steps per round]`: the
 * recipe's training step (bench/gpt-recipes.ts) under thread-pool settings, paired in one
 * process. Variants, comma-separated: `1t` (a one-thread backend), or settings of the
 * two-thread backend joined by `+`: `spin=<ms>` (its workers poll that long after a job
 * before they block: ThreadPool.spinMs; default 0.1), `cspin=<ms>` (the caller polls that
 * long for a worker's chunk before it blocks: callerSpinMs; default 0.1) and `rows=<n>` (the threaded
 * matmul's row block, MATMUL_TUNING.rowBlock; default 64), `per=<n>` (chunks per thread
 * of every threaded kernel, POOL_TUNING.perThread; default 4). Each round runs every variant's steps in turn (the order rotates
 * every round), so a slow minute of the shared machine hits all of them; prints each
 * variant's median and 10th percentile ms/step, the median per-round ratio to the first
 * variant, and the pool's counters (share of chunks the workers ran, calls the workers
 * missed entirely, waits), with the load average before and after.
 *
 *   npx tsx bench/ab-pool.ts nanogpt 1t,spin=0.1,spin=2 30 3
 */
import os from 'node:os';
import * as reg from '../src/index.js';
import { threadPool } from '../test/helpers.js';
import { RECIPES, gptTrainer, type Recipe } from './gpt-recipes.js';
import { MATMUL_TUNING } from '../src/backend/wasm/matmul.js';
import { POOL_TUNING } from '../src/backend/wasm/threads.js';

const r = RECIPES[(process.argv[2] ?? 'nanogpt') as Recipe['name']];
const names = (process.argv[3] ?? '1t,spin=0.1').split(',');
const rounds = Number(process.argv[4] ?? 30), per = Number(process.argv[5] ?? 3);
if (r === undefined) throw new Error('usage: bench/ab-pool.ts <names|nanogpt> <variants> [rounds] [steps per round]');

const be1 = await reg.loadBackend('wasm', { threads: 1 }), be2 = await reg.loadBackend('wasm', { threads: 2 });
const pool = threadPool(be2);
const t1 = gptTrainer(reg, be1, r), t2 = gptTrainer(reg, be2, r);
interface Variant { name: string; run: () => number; times: number[]; stats: { worker: number; caller: number; missed: number; calls: number; waits: number } }
const variants: Variant[] = names.map((name) => {
  const v: Variant = { name, run: () => 0, times: [], stats: { worker: 0, caller: 0, missed: 0, calls: 0, waits: 0 } };
  if (name === '1t') { v.run = t1.step; return v; }
  // key=value settings joined by '+', applied before each of the variant's steps.
  const set: (() => void)[] = [];
  for (const kv of name.split('+')) {
    const m = /^(spin|cspin|rows|per)=([\d.]+)$/.exec(kv);
    if (m === null) throw new Error(`bench/ab-pool.ts: unknown setting ${kv} (spin=<ms>, cspin=<ms>, rows=<row block>, per=<chunks per thread>)`);
    const x = Number(m[2]);
    set.push(m[1] === 'spin' ? () => { pool.spinMs = x; } : m[1] === 'cspin' ? () => { pool.callerSpinMs = x; }
      : m[1] === 'rows' ? () => { MATMUL_TUNING.rowBlock = x; } : () => { POOL_TUNING.perThread = x; });
  }
  v.run = () => { pool.spinMs = 0.1; pool.callerSpinMs = 0.1; MATMUL_TUNING.rowBlock = 64; POOL_TUNING.perThread = 4; for (const f of set) f(); return t2.step(); };
  return v;
});
for (let i = 0; i < 5; i++) { t1.step(); t2.step(); }
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`${r.name}: ${rounds} rounds of ${per} steps per variant; load before ${load()}`);
const ratios = variants.map(() => [] as number[]);
for (let round = 0; round < rounds; round++) {
  const mine = new Array<number>(variants.length).fill(0);
  for (let j = 0; j < variants.length; j++) {
    const vi = (j + round) % variants.length, v = variants[vi]!;
    const s0 = { ...pool.stats }, c0 = pool.parallelCalls;
    v.run(); // the first step after a switch lets the new spin setting take effect; not timed
    let sum = 0;
    for (let s = 0; s < per; s++) { const t0 = performance.now(); v.run(); const dt = performance.now() - t0; v.times.push(dt); sum += dt; }
    mine[vi] = sum / per;
    v.stats.worker += pool.stats.workerChunks - s0.workerChunks; v.stats.caller += pool.stats.callerChunks - s0.callerChunks;
    v.stats.missed += pool.stats.missed - s0.missed; v.stats.calls += pool.parallelCalls - c0; v.stats.waits += pool.stats.waits - s0.waits;
  }
  variants.forEach((_, i) => ratios[i]!.push(mine[i]! / mine[0]!));
}
const sorted = (v: number[]) => v.slice().sort((p, q) => p - q);
const med = (v: number[]) => sorted(v)[v.length >> 1]!, p10 = (v: number[]) => sorted(v)[Math.floor(v.length / 10)]!;
for (const [i, v] of variants.entries()) {
  const s = v.stats, pooled = s.calls > 0 ? `; workers ran ${(100 * s.worker / Math.max(1, s.worker + s.caller)).toFixed(0)}% of chunks, missed ${(100 * s.missed / s.calls).toFixed(0)}% of ${(s.calls / (rounds * (per + 1))).toFixed(0)} calls/step, ${(s.waits / (rounds * (per + 1))).toFixed(1)} waits/step` : '';
  console.log(`${v.name.padEnd(10)} median ${med(v.times).toFixed(2)} ms (p10 ${p10(v.times).toFixed(2)}); per-round ratio to ${variants[0]!.name}: ${med(ratios[i]!).toFixed(3)}${pooled}`);
}
console.log(`load after ${load()}`);
t1.dispose(); t2.dispose(); be1.dispose(); be2.dispose();
process.exit(0);
