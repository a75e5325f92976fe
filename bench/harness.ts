/**
 * The benchmark harness behind `npm run bench`: suites (bench/<family>.bench.ts) declare
 * groups of cases doing the same work; the harness checks every case's result once, then
 * times the cases of a group with tinybench in this one process, in interleaved rounds,
 * and reports medians, throughput and ratios against the group's baseline case.
 *
 * Runs in Node (bench/run.ts) and in the browser (the demo's benchmark page,
 * examples/demo/bench-worker.ts): no Node built-ins here or in the portable suites.
 */
import { Bench } from 'tinybench';
import type { Backends } from './backends.js';

export type Unit = 'FLOP' | 'byte' | 'elem' | 'param' | 'step';

export interface Case {
  name: string;
  /**
   * What the case runs on, for readers of the results (the benchmark page's ratios and
   * ceiling shares): regula's wasm or js backend, or the f32x4 ceiling loop (bench/peak.ts).
   * Peers (tfjs, PyTorch) leave it out.
   */
  backend?: 'wasm' | 'js' | 'ceiling';
  /** Threads the case runs on (wasm), 1 when left out. */
  threads?: number;
  /** The timed work. */
  fn: () => unknown | Promise<unknown>;
  /** Runs once before timing; throws when the case computes a wrong result. */
  check?: () => void | Promise<void>;
}

export interface Group {
  /** e.g. "matmul 256x256x256". */
  title: string;
  /** Work done by one call of fn, in `unit` (FLOPs, bytes, elements, parameters, steps). */
  work: number;
  unit: Unit;
  /** The case that ratios are taken against (default: the first). */
  baseline?: string;
  cases: Case[];
  /** Tokens one call of fn trains on (language-model steps): the rows then give tokens/s. */
  tokens?: number;
  /** Frees what the group allocated, after timing. */
  teardown?: () => void;
}

export interface Row {
  suite: string;
  group: string;
  case: string;
  medianMs: number;
  meanMs: number;
  samples: number;
  rate: number;
  rateUnit: string;
  vsBaseline: number;
  baseline: string;
  /** The fastest call (ms): the least disturbed one on a shared machine. */
  minMs: number;
  /** Calls timed together as one sample (a case faster than MIN_SAMPLE_MS, see batched()). */
  callsPerSample: number;
  backend?: 'wasm' | 'js' | 'ceiling';
  threads?: number;
  tokensPerSecond?: number;
}

export interface Suite {
  name: string;
  /**
   * The groups to time. A portable suite (one the benchmark page runs too) takes the
   * backends to time from its caller, so that Node and the page time the same cases on
   * wasm 1 thread, wasm on every core and js; without them it loads its own.
   */
  groups: (bes?: Backends) => Promise<Group[]>;
}

const RATE: Record<Unit, [number, string]> = {
  FLOP: [1e9, 'GFLOP/s'],
  byte: [1e9, 'GB/s'],
  elem: [1e6, 'Melem/s'],
  param: [1e6, 'Mparam/s'],
  step: [1, 'steps/s'],
};

/** How a group is timed beyond its time budget: the defaults are `npm run bench`'s. */
export interface RunOptions {
  /** Interleaved rounds (default 5). */
  rounds?: number;
  /** Least calls of each case per round (default 5). */
  iterations?: number;
  /** Warm-up calls of each case before the first round (default 5). */
  warmupIterations?: number;
  /** Least warm-up time of each case before the first round, ms (default: half the budget, at most 200). */
  warmupMs?: number;
  /** Run each case's result check before timing (default true). */
  check?: boolean;
}

/**
 * The shortest sample, ms. Browsers' clocks are coarse (performance.now() steps by 5 µs in a
 * cross-origin isolated Chromium page, 100 µs otherwise; Firefox 20 µs / 1 ms), so a case
 * faster than this is timed k calls per sample, k the least power of two whose calls take
 * this long; its rows give the time per call. Node's clock is fine, and uses the same rule so
 * that both time the same way.
 */
export const MIN_SAMPLE_MS = 1;

/** The case's fn as k calls per sample (see MIN_SAMPLE_MS), awaiting each only when fn is async. */
async function batched(fn: Case['fn']): Promise<{ run: Case['fn']; k: number }> {
  const t0 = performance.now();
  const first = fn();
  const isAsync = typeof (first as { then?: unknown } | null)?.then === 'function';
  if (isAsync) await first;
  // A first call of 20 samples' length is a slow case, not a slow first call (compiling, first
  // touches): no more calls to learn that it needs one a sample.
  if (performance.now() - t0 >= 20 * MIN_SAMPLE_MS) return { run: fn, k: 1 };
  const make = (k: number): Case['fn'] => (k === 1 ? fn : isAsync
    ? async () => { for (let i = 0; i < k; i++) await fn(); }
    : () => { for (let i = 0; i < k; i++) fn(); });
  // k is settled only once the case has run for CALIBRATE_MS: its first calls can be slow for
  // a while (wasm's baseline code before its optimized tier, a thread pool's sleeping workers,
  // JS before the optimizing compiler), and a k chosen then leaves the warm case's samples
  // below the clock's step (a 0 ms sample on the page, seen beside a CPU hog).
  const t1 = performance.now();
  for (let k = 1; ;) {
    const run = make(k);
    let best = Infinity; // the fastest of three: a preempted batch must not stop the doubling early
    for (let i = 0; i < 3 && best >= MIN_SAMPLE_MS; i++) {
      const t = performance.now();
      await run();
      best = Math.min(best, performance.now() - t);
    }
    if (best < MIN_SAMPLE_MS && k < 1 << 20) k *= 2;
    else if (performance.now() - t1 >= CALIBRATE_MS || k >= 1 << 20) return { run, k };
  }
}

/** How long a fast case runs while its calls per sample are chosen (ms). */
const CALIBRATE_MS = 20;

export async function runGroup(suite: string, g: Group, timeMs: number, options: number | RunOptions = {}): Promise<Row[]> {
  const o = typeof options === 'number' ? { rounds: options } : options;
  const rounds = o.rounds ?? 5, iterations = o.iterations ?? 5, warmupIterations = o.warmupIterations ?? 5;
  if (o.check ?? true) for (const c of g.cases) {
    try {
      await c.check?.();
    } catch (e) {
      throw new Error(`bench ${suite} / ${g.title} / ${c.name}: result check failed before timing: ${(e as Error).message}`);
    }
  }
  // Interleaved rounds: the cases of a group take turns (order reversed every other round)
  // and the medians come from all rounds' samples together, so a slow phase of this shared
  // host (a neighbour on the sibling hyperthread) hits every case alike instead of
  // whichever case happened to be running then. Ratios stay within one run.
  const samples = new Map<string, number[]>(g.cases.map((c) => [c.name, []]));
  const batches = new Map<string, { run: Case['fn']; k: number }>();
  for (const c of g.cases) batches.set(c.name, await batched(c.fn));
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({
      time: timeMs / rounds, warmupTime: round === 0 ? o.warmupMs ?? Math.min(200, timeMs / 2) : 0,
      warmupIterations: round === 0 ? warmupIterations : Math.min(1, warmupIterations), iterations, retainSamples: true,
    });
    const order = round % 2 === 0 ? g.cases : [...g.cases].reverse();
    for (const c of order) bench.add(c.name, batches.get(c.name)!.run);
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`bench ${suite} / ${g.title} / ${task.name}: ${r.state}${'error' in r ? `: ${String(r.error)}` : ''}`);
      const into = samples.get(task.name)!, k = batches.get(task.name)!.k;
      for (const x of r.latency.samples ?? []) into.push(x / k);
    }
  }
  const medians = new Map<string, number>();
  const rows: Row[] = [];
  for (const c of g.cases) {
    const xs = samples.get(c.name)!.sort((x, y) => x - y);
    const median = xs.length % 2 === 1 ? xs[xs.length >> 1]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2;
    const mean = xs.reduce((acc, x) => acc + x, 0) / xs.length;
    medians.set(c.name, median);
    const [div, unit] = RATE[g.unit];
    rows.push({
      suite, group: g.title, case: c.name, medianMs: median, meanMs: mean,
      samples: xs.length, rate: g.work / (median / 1000) / div, rateUnit: unit,
      vsBaseline: NaN, baseline: g.baseline ?? g.cases[0]!.name, minMs: xs[0]!, callsPerSample: batches.get(c.name)!.k,
      ...(c.backend === undefined ? {} : { backend: c.backend, threads: c.threads ?? 1 }),
      ...(g.tokens === undefined || c.backend === 'ceiling' ? {} : { tokensPerSecond: g.tokens / (median / 1000) }),
    });
  }
  const base = medians.get(g.baseline ?? g.cases[0]!.name)!;
  for (const row of rows) row.vsBaseline = base / row.medianMs;
  g.teardown?.();
  return rows;
}

export function formatRows(rows: Row[]): string {
  const head = ['group', 'case', 'median', 'rate', 'x baseline'];
  const body = rows.map((r) => [
    r.group, r.case, fmtMs(r.medianMs), `${fmtNum(r.rate)} ${r.rateUnit}`,
    r.case === r.baseline ? '1 (baseline)' : `${r.vsBaseline.toFixed(2)}x vs ${r.baseline}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** A time for people: ns, µs or ms. */
export function fmtMs(ms: number): string {
  if (ms < 1e-3) return `${(ms * 1e6).toFixed(0)} ns`;
  if (ms < 1) return `${(ms * 1e3).toFixed(1)} µs`;
  return `${ms.toFixed(2)} ms`;
}

/** A rate for people: 3 significant digits or so. */
export function fmtNum(x: number): string {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/**
 * Paired timing: `a` and `b` alternate call by call, `n` pairs after `warm` pairs, the order
 * swapped every pair (so neither always runs on a cache the other warmed). Returns the
 * median time of each (ms) and the median of the per-pair ratios b/a.
 */
export function pairedRuns(a: () => unknown, b: () => unknown, n: number, warm = 20): { a: number; b: number; ratio: number } {
  for (let i = 0; i < warm; i++) { a(); b(); }
  const ta: number[] = [], tb: number[] = [], r: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0, da = 0, db = 0;
    if (i % 2 === 0) { s = performance.now(); a(); da = performance.now() - s; s = performance.now(); b(); db = performance.now() - s; }
    else { s = performance.now(); b(); db = performance.now() - s; s = performance.now(); a(); da = performance.now() - s; }
    ta.push(da); tb.push(db); r.push(db / da);
  }
  const med = (v: number[]) => v.slice().sort((x, y) => x - y)[v.length >> 1]!;
  return { a: med(ta), b: med(tb), ratio: med(r) };
}
