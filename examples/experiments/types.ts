import type { Backend } from '../../src/index.js';
import type { Cell, Progress } from '../report.js';

/** What every experiment gets. */
export interface Ctx {
  be: Backend;
  /** Smaller grids and fewer samples, for tests and --quick. */
  quick: boolean;
  /** Run experiments that have a shorter default at their full length (`npm start -- gpt`). */
  full?: boolean;
  progress(label: string, total: number, unit: string): Progress;
}

export interface Table { caption?: string; head: string[]; rows: Cell[][] }

/** What every experiment returns: tables to print, every figure, and the claim's verdict. */
export interface Result {
  id: string;
  title: string;
  /** The lesson's claim, one sentence. */
  claim: string;
  tables: Table[];
  /** Every number the tables show (and more), for --json, the demo page and the tests. */
  figures: Record<string, unknown>;
  /**
   * Whether the measured numbers bear the claim out, and the numbers that say so. `untested`
   * (a shortened run too short to test the claim, and why) marks a verdict that npm start
   * reports but does not count as a failed claim.
   */
  verdict: { holds: boolean; detail: string; untested?: string };
}

export interface Experiment {
  id: string;
  title: string;
  run(ctx: Ctx): Promise<Result>;
}
