/**
 * The suites both `npm run bench` and the demo's benchmark page (examples/demo/bench.html)
 * run, the timing both use for a time budget, and the results page and Node report alike:
 * GFLOP/s, the share of the f32x4 ceiling (bench/peak-loop.ts) measured in the same run, and
 * the nanoGPT recipe's ms/iteration and tokens/s (issue 22's Chromium point:
 * `npm run bench:browser`). Browser-safe: the Node-only peers come from bench/host.ts.
 */
import type { Backends } from './backends.js';
import type { Group, Row, RunOptions, Suite } from './harness.js';
import { runGroup } from './harness.js';
import { peakCase, type Peak } from './peak-loop.js';
import matmul from './matmul.bench.js';
import elementwise from './elementwise.bench.js';
import dropout from './dropout.bench.js';
import prox from './prox.bench.js';
import train from './train.bench.js';
import transformer from './transformer.bench.js';
import recipe, { RECIPE_TITLE } from './transformer-recipe.bench.js';

export { RECIPE_TITLE };

/** The kernel suites and the training-step suites. */
export const PORTABLE_SUITES = {
  kernels: [matmul, elementwise, dropout, prox],
  training: [train, transformer, recipe],
} as const satisfies Record<string, readonly Suite[]>;

export type SuiteSet = keyof typeof PORTABLE_SUITES;

/**
 * How a case is timed for a budget of `timeMs`: from 500 ms, `npm run bench`'s 5 rounds of at
 * least 5 samples after 5 warm-up calls (and at least 200 ms of them); below (a quick look, and
 * the browser test), 2 rounds of at least 2 samples after at least one warm-up call and
 * `timeMs` of them, so that a half-second GPT step on js stays a few calls.
 */
export function timingFor(timeMs: number, check: boolean): RunOptions {
  return timeMs >= 500 ? { rounds: 5, iterations: 5, warmupIterations: 5, check } : { rounds: 2, iterations: 2, warmupIterations: 1, warmupMs: timeMs, check };
}

/** The ceiling on its own: the f32x4 loop doing 2^27 FLOPs a call (a few ms), one core. */
export function ceilingGroup(peak: Peak): Group {
  const flops = 2 ** 27;
  return { title: CEILING_TITLE, work: flops, unit: 'FLOP', cases: [peakCase(peak, flops, 'f32x4 mul+add loop')] };
}

export const CEILING_TITLE = 'f32x4 mul+add ceiling, one core (bench/peak-loop.ts)';

/** A row with the share of the ceiling of the cores it ran on (FLOP rows of regula and the ceiling loop). */
export type ReportRow = Row & { shareOfCeiling?: number };

export interface RecipeFigure {
  case: string;
  threads: number;
  msPerIteration: number;
  tokensPerSecond: number;
}

/** Every group of the suites asked for whose title contains `filter` (all when empty): runs `each` on it, then its teardown. */
export async function runSuites(sets: readonly SuiteSet[], bes: Backends, filter: string, timeMs: number, options: RunOptions,
  hooks: { stopped?: () => boolean; started?: (suite: string, group: string) => void; done?: (rows: Row[]) => void | Promise<void> } = {}): Promise<Row[]> {
  const rows: Row[] = [];
  for (const set of sets) {
    for (const suite of PORTABLE_SUITES[set]) {
      if (hooks.stopped?.()) return rows;
      const groups = await suite.groups(bes);
      for (const g of groups) {
        if (hooks.stopped?.() || !g.title.includes(filter)) { g.teardown?.(); continue; }
        hooks.started?.(suite.name, g.title);
        const r = await runGroup(suite.name, g, timeMs, options); // tears the group down
        rows.push(...r);
        await hooks.done?.(r);
      }
    }
  }
  return rows;
}

/** The rows with their share of the ceiling (`ceilingGflops` of one core, times the row's threads). */
export function withShares(rows: readonly Row[], ceilingGflops: number): ReportRow[] {
  return rows.map((r) => (r.rateUnit === 'GFLOP/s' && r.backend !== undefined ? { ...r, shareOfCeiling: r.rate / (ceilingGflops * (r.threads ?? 1)) } : { ...r }));
}

/** The nanoGPT recipe's regula rows as ms per iteration and tokens/s. */
export function recipeFigures(rows: readonly Row[]): RecipeFigure[] {
  return rows.filter((r) => r.group.startsWith(RECIPE_TITLE) && r.backend === 'wasm')
    .map((r) => ({ case: r.case, threads: r.threads ?? 1, msPerIteration: r.medianMs, tokensPerSecond: r.tokensPerSecond ?? NaN }));
}

/**
 * wasm over js, group by group: js's time over each wasm row's (1 thread and every core), the
 * medians' or the fastest calls', for the groups that time both. Keyed "group / wasm case".
 */
export function wasmOverJs(rows: readonly Row[], of: 'medianMs' | 'minMs' = 'medianMs'): Map<string, number> {
  const out = new Map<string, number>();
  for (const js of rows.filter((r) => r.backend === 'js')) {
    for (const w of rows.filter((r) => r.group === js.group && r.backend === 'wasm')) out.set(`${w.group} / ${w.case}`, js[of] / w[of]);
  }
  return out;
}
