/** Messages between the benchmark page (bench-page.ts) and its worker (bench-worker.ts), and the report it exports. */
import type { RecipeFigure, ReportRow, SuiteSet } from '../../bench/portable.js';
import type { Row } from '../../bench/harness.js';

export interface BenchSettings {
  /** Suites to run: the kernels, the training steps, or both. */
  suites: SuiteSet[];
  /** Time budget of each case, ms (bench/portable.ts's timingFor says how it is split). */
  timeMs: number;
  /** Check every case's result before timing it (wasm = js bit for bit, the loss falls). */
  check: boolean;
  /** Only the groups whose title contains this (all when empty). */
  filter: string;
}

/** The results as the page shows them and the JSON file holds them. */
export interface BenchReport {
  kind: 'regula benchmark page';
  version: 1;
  date: string;
  userAgent: string;
  /** navigator.hardwareConcurrency. */
  cores: number;
  crossOriginIsolated: boolean;
  /** Threads of the "every core" wasm backend (1: threads were off, `threadsReason` says why). */
  threads: number;
  threadsReason: string | null;
  settings: BenchSettings;
  /** The f32x4 mul+add ceiling of one core, measured first in this run. */
  ceiling: { gflops: number; medianMs: number };
  /** Every case timed (bench/harness.ts's rows), FLOP rows with their share of the ceiling. */
  rows: ReportRow[];
  /** nanoGPT's CPU recipe (issue 22), when it ran. */
  recipe: RecipeFigure[];
  /** Whether the run was stopped before the end. */
  stopped: boolean;
  durationMs: number;
}

export type ToBenchWorker = { type: 'run'; settings: BenchSettings } | { type: 'stop' };

export type FromBenchWorker =
  | { type: 'env'; threads: number; threadsReason: string | null; crossOriginIsolated: boolean }
  | { type: 'ceiling'; gflops: number; medianMs: number }
  | { type: 'group'; suite: string; title: string }
  | { type: 'rows'; rows: Row[] }
  | { type: 'done'; report: BenchReport }
  | { type: 'error'; message: string };
