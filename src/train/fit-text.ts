/**
 * fitText(): train a GPT on a text corpus, nanoGPT's train.py loop, with what a page needs.
 *
 * Per iteration `it` (from `startStep`): evaluate when it % evalEvery == 0 (before the
 * step, as train.py; and once more after the last step), then one step of fit()'s
 * machinery (src/train/fit.ts `trainStep`: zero the gradients, loss of a getBatch window batch,
 * backward, clip, optimizer step), then the scheduler's step(). The batch windows come from
 * `sampler` (a Mulberry32; its state and the step count are what a checkpoint adds to the
 * optimizer's and scheduler's states to resume bit for bit, src/io/checkpoint.ts).
 *
 * Between steps the loop checks the AbortSignal and, once `yieldEvery` ms have passed since
 * it last did, yields to the event loop (fit()'s Pace: one macrotask), so a page running it
 * on its main thread keeps answering input; the numbers do not depend on when it yields.
 */
import { describe } from '../rules/errors.js';
import type { GPT } from '../nn/gpt.js';
import type { Optimizer } from '../optim/optimizers.js';
import type { LRScheduler } from '../optim/schedule.js';
import { Mulberry32 } from '../core/rng.js';
import { estimateLoss, getBatch } from './text.js';
import { Pace, checkCallback, checkClip, checkOptimizer, checkScheduler, checkSignal, checkYieldEvery, trainStep } from './fit.js';
import { checkInt, checkKeys, checkSeed, isThenable } from '../rules/validate.js';

/** What fitText trains on: token streams (textCorpus's train and val). */
export interface TextData {
  train: Int32Array;
  /** Needed for evalEvery. */
  val?: Int32Array;
}

export interface FitTextOptions {
  optimizer: Optimizer<{ lr?: number }>;
  /** Iterations to run (from startStep to startStep + steps). */
  steps: number;
  /** Windows per batch (default 12, nanoGPT's Shakespeare CPU recipe). */
  batchSize?: number;
  /** Stepped once per iteration, after the optimizer (e.g. WarmupCosineLR). */
  scheduler?: LRScheduler;
  /** Clips the gradients' total 2-norm to this before each step (nn.utils.clipGradNorm; nanoGPT: 1.0). */
  clipGradNorm?: number;
  /** Validation loss (estimateLoss over all of data.val) every evalEvery iterations and at the end (default: never). */
  evalEvery?: number;
  /** Seed of the batch windows (default 0); ignored when `sampler` is given. */
  seed?: number;
  /** The window generator to continue (a resumed run's); default new Mulberry32(seed). fitText advances it. */
  sampler?: Mulberry32;
  /** The iteration count so far (a resumed run's; default 0): evaluations fall on multiples of evalEvery. */
  startStep?: number;
  /** After each step: its figures. May return a promise, which is awaited. */
  onStep?: (log: TextStepLog) => void | Promise<void>;
  /** After each evaluation. May return a promise, which is awaited. */
  onEval?: (log: TextEvalLog) => void | Promise<void>;
  /** Stops training before the next step; the result says 'aborted'. */
  signal?: AbortSignal;
  /**
   * Milliseconds between yields to the event loop, checked after every step (default 20;
   * 0: after every step), as fit()'s option of that name (a macrotask, not a timer).
   */
  yieldEvery?: number;
  /** @deprecated The former name of yieldEvery (give one of them). */
  yieldMs?: number;
}

export interface TextStepLog {
  /** Iterations done (1 after the first step). */
  step: number;
  /** The batch's loss (train mode), before the step. */
  loss: number;
  /** Parameter group 0's learning rate used by this step. */
  lr: number;
  /** Training tokens per second over this call's steps so far. */
  tokensPerSecond: number;
  /** Milliseconds since fitText started. */
  elapsedMs: number;
}

export interface TextEvalLog {
  /** Iterations done when evaluated. */
  step: number;
  valLoss: number;
}

export interface FitTextResult {
  /** The iteration count at the end (startStep + the steps taken). */
  step: number;
  /** Every evaluation, in order. */
  history: TextEvalLog[];
  /** The last batch's loss (NaN when no step ran). */
  lastLoss: number;
  /** 'steps': all ran; 'aborted': the signal; 'diverged': a batch loss was NaN or infinite (no step taken on it). */
  stopReason: 'steps' | 'aborted' | 'diverged';
  /** The window generator, advanced: save sampler.state to resume. */
  sampler: Mulberry32;
  tokensPerSecond: number;
}

const FIT_TEXT_KEYS: Record<keyof FitTextOptions, true> = {
  optimizer: true, steps: true, batchSize: true, scheduler: true, clipGradNorm: true, evalEvery: true, seed: true, sampler: true,
  startStep: true, onStep: true, onEval: true, signal: true, yieldEvery: true, yieldMs: true,
};

function int(v: unknown, what: string, min: number): number {
  return checkInt(v, `fitText: ${what}`, min);
}

/** Trains `gpt` on `data.train` (see the module comment); every option is checked before the first step. */
export async function fitText(gpt: GPT, data: TextData, options: FitTextOptions): Promise<FitTextResult> {
  if (gpt === null || typeof gpt !== 'object' || typeof gpt.forward !== 'function' || gpt.config === undefined) throw new TypeError(`fitText: expected an nn.GPT, got ${describe(gpt)}`);
  if (data === null || typeof data !== 'object') throw new TypeError(`fitText: expected data { train, val? }, got ${describe(data)}`);
  if (options === null || typeof options !== 'object') throw new TypeError(`fitText: expected options, got ${describe(options)}`);
  checkKeys(options, FIT_TEXT_KEYS, 'fitText');
  const optimizer = checkOptimizer(options.optimizer, 'fitText');
  const scheduler = checkScheduler(options.scheduler, optimizer, 'fitText');
  const signal = checkSignal(options.signal, 'fitText');
  const clip = checkClip(options.clipGradNorm, 'fitText');
  checkCallback(options.onStep, 'fitText: options.onStep');
  checkCallback(options.onEval, 'fitText: options.onEval');
  const steps = int(options.steps, 'options.steps', 0);
  const B = int(options.batchSize ?? 12, 'options.batchSize', 1);
  const evalEvery = options.evalEvery === undefined ? 0 : int(options.evalEvery, 'options.evalEvery', 1);
  const startStep = int(options.startStep ?? 0, 'options.startStep', 0);
  if (options.yieldEvery !== undefined && options.yieldMs !== undefined) throw new TypeError('fitText: give options.yieldEvery or its former name yieldMs, not both');
  const yieldEvery = options.yieldMs === undefined ? checkYieldEvery(options.yieldEvery, 'fitText: options.yieldEvery') : checkYieldEvery(options.yieldMs, 'fitText: options.yieldMs');
  let sampler: Mulberry32;
  if (options.sampler !== undefined) {
    if (!(options.sampler instanceof Mulberry32)) throw new TypeError(`fitText: options.sampler: expected a Mulberry32, got ${describe(options.sampler)}`);
    sampler = options.sampler;
  } else {
    sampler = new Mulberry32(checkSeed(options.seed ?? 0, 'fitText: options.seed'));
  }
  const T = gpt.config.blockSize;
  // the windows' checks (stream type and length), before anything runs
  const x = new Int32Array(B * T), y = new Int32Array(B * T);
  const probe = new Mulberry32(0);
  getBatch(data.train, T, B, () => probe.next(), { x, y });
  if (evalEvery > 0) {
    if (data.val === undefined) throw new TypeError('fitText: options.evalEvery needs data.val');
    if (!(data.val instanceof Int32Array) || data.val.length < T + 1) throw new RangeError(`fitText: data.val: expected an Int32Array of at least blockSize + 1 = ${T + 1} tokens, got ${describe(data.val)}`);
  }
  const params = gpt.parameters();
  const be = gpt.be;
  const next = () => sampler.next();

  const history: TextEvalLog[] = [];
  const t0 = performance.now();
  const pace = new Pace(signal, yieldEvery, t0);
  let trainMs = 0, taken = 0, lastLoss = NaN;
  let stopReason: FitTextResult['stopReason'] = 'steps';
  const evaluate = async (step: number) => {
    const log = { step, valLoss: estimateLoss(gpt, data.val!) };
    history.push(log);
    if (options.onEval !== undefined) await options.onEval(log);
  };
  const tps = () => (trainMs > 0 ? (taken * B * T) / (trainMs / 1000) : 0);

  gpt.train();
  for (let i = 0; i < steps; i++) {
    const it = startStep + i;
    if (pace.aborted()) { stopReason = 'aborted'; break; }
    if (evalEvery > 0 && it % evalEvery === 0) await evaluate(it);
    if (pace.aborted()) { stopReason = 'aborted'; break; }
    const lr = optimizer.paramGroups[0]?.lr ?? NaN;
    const s0 = performance.now();
    getBatch(data.train, T, B, next, { x, y });
    lastLoss = trainStep(be, optimizer, clip === null ? null : { params, maxNorm: clip }, () => be.crossEntropy(gpt.forward(x, [B, T]), y));
    if (!Number.isFinite(lastLoss)) { stopReason = 'diverged'; break; }
    scheduler?.step();
    trainMs += performance.now() - s0;
    taken++;
    if (options.onStep !== undefined) {
      const r = options.onStep({ step: it + 1, loss: lastLoss, lr, tokensPerSecond: tps(), elapsedMs: performance.now() - t0 });
      if (isThenable(r)) await r;
    }
    if (pace.due()) await pace.yield();
  }
  const end = startStep + taken;
  if (stopReason === 'steps' && evalEvery > 0 && (history.length === 0 || history[history.length - 1]!.step !== end)) await evaluate(end);
  return { step: end, history, lastLoss, stopReason, sampler, tokensPerSecond: tps() };
}
