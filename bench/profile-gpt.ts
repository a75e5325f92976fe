/**
 * `npx tsx bench/profile-gpt.ts <names|nanogpt> [threads] [steps]`: runs the recipe's
 * training step (bench/gpt-recipes.ts) `steps` times after a warm-up and prints ms per
 * step and the useful GFLOP/s; run it under `node --cpu-prof` (see bench/PROFILE.md):
 *   node --import tsx --cpu-prof --cpu-prof-dir=prof bench/profile-gpt.ts nanogpt 1 100
 */
import os from 'node:os';
import * as reg from '../src/index.js';
import { RECIPES, gptTrainer, stepFlops, type Recipe } from './gpt-recipes.js';

const r = RECIPES[(process.argv[2] ?? 'nanogpt') as Recipe['name']];
if (r === undefined) throw new Error('usage: bench/profile-gpt.ts <names|nanogpt> [threads] [steps]');
const threads = Number(process.argv[3] ?? 1), steps = Number(process.argv[4] ?? 50);
const be = await reg.loadBackend('wasm', { threads });
const t = gptTrainer(reg, be, r);
for (let i = 0; i < 5; i++) t.step();
const times: number[] = [];
for (let i = 0; i < steps; i++) { const t0 = performance.now(); t.step(); times.push(performance.now() - t0); }
times.sort((a, b) => a - b);
const med = times[times.length >> 1]!;
console.log(`${r.name}, ${threads} thread(s): median ${med.toFixed(2)} ms/step, p10 ${times[Math.floor(steps / 10)]!.toFixed(2)}, ` +
  `${(stepFlops(r) / med / 1e6).toFixed(1)} GFLOP/s useful (${(stepFlops(r) / 1e9).toFixed(2)} GFLOP/step); load ${os.loadavg()[0]!.toFixed(1)}`);
t.dispose(); be.dispose();
process.exit(0);
