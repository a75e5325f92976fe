/**
 * What the training benchmarks (train.bench.ts, transformer.bench.ts) check before they
 * time: the same bits on every regula backend, and a loss that falls.
 */
import type { Module } from '../src/index.js';
import { firstBitDiff } from '../test/random.js';

/** A regula training step under test: step() runs one and returns the loss. */
export interface Trainer { step: () => number; model: Module; dispose: () => void }

/**
 * Three steps of fresh trainers on each backend (`make(i)` for backend i; the first is the
 * reference, e.g. wasm on 1 thread) give the same losses and parameters, bit for bit.
 */
export function sameBits(make: (i: number) => Trainer, names: readonly string[]): void {
  const ts = names.map((_, i) => make(i));
  try {
    const losses = ts.map((t) => Float32Array.from([t.step(), t.step(), t.step()]));
    const states = ts.map((t) => t.model.stateDict());
    for (let i = 1; i < ts.length; i++) {
      if (firstBitDiff(losses[0]!, losses[i]!) !== -1) throw new Error(`${names[0]} and ${names[i]} losses differ: ${losses[0]} vs ${losses[i]}`);
      for (const k of Object.keys(states[0]!)) {
        if (firstBitDiff(states[0]![k]!, states[i]![k]!) !== -1) throw new Error(`${names[0]} and ${names[i]} differ in ${k} after 3 steps`);
      }
    }
  } finally {
    for (const t of ts) t.dispose();
  }
}

/**
 * The loss falls over 30 steps on the fixed batch: the mean of the last `tail` losses is
 * below `ratio` times the first.
 */
export async function lowers(step: () => number | Promise<number>, what: string, ratio: number, tail = 1): Promise<void> {
  const first = await step();
  const ls: number[] = [];
  for (let i = 0; i < 30; i++) ls.push(await step());
  const end = ls.slice(-tail).reduce((a, x) => a + x, 0) / tail;
  if (!(Number.isFinite(first) && end < first * ratio)) {
    throw new Error(`${what}: loss went from ${first} to ${end}${tail > 1 ? ` (mean of the last ${tail})` : ''} over 30 steps on one batch`);
  }
}
