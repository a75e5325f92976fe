/**
 * fit(): the training loop a progress display needs, over any model with forward(),
 * parameters(), train(), eval(), stateDict() and loadStateDict() (nn.Sequential has them).
 *
 * Mini-batches come from a seeded shuffle (the same seed gives the same batches on every
 * run and backend); each epoch can be scored on a validation set; early stopping watches
 * a figure with patience and minDelta and can restore the best epoch's weights. The loop
 * reuses its batch tensors, so memory stays flat across epochs.
 *
 * Divergence: a batch whose loss is NaN or ±Infinity ends training at once, before that
 * batch's optimizer step; a non-finite validation loss ends it after the epoch. Either way
 * stopReason is 'diverged', the epoch is logged with its figures as they came (non-finite)
 * and never becomes the best epoch; restoreBest still puts back the best finite epoch.
 */
import { describe } from '../rules/errors.js';
import { Tensor } from '../core/tensor.js';
import { backendOf, type Backend } from '../backend.js';
import type { LRScheduler } from '../optim/schedule.js';
import { Optimizer } from '../optim/optimizers.js';
import { mulberry32, shuffleInPlace } from '../core/rng.js';
import { takeRows } from '../data/index.js';
import { checkFunction, checkInt, checkKeys, checkNumber, checkSeed, isThenable } from '../rules/validate.js';
import { clipGradNorm } from '../nn/clip.js';
import { argmax } from './predict.js';

/** What fit() needs of a model. */
export interface FitModel {
  forward(x: Tensor): Tensor;
  parameters(): Tensor[];
  train(): unknown;
  eval(): unknown;
  stateDict(): Record<string, Float32Array>;
  loadStateDict(sd: Record<string, Float32Array>): unknown;
}

/** A data set: x is n×d row-major; y holds class labels (Int32Array, crossEntropy) or n×k targets (Float32Array, mse). */
export interface FitData {
  x: Float32Array | Tensor;
  y: Int32Array | Float32Array;
  n: number;
  d: number;
}

export interface EarlyStoppingOptions {
  /** Epochs without an improvement greater than minDelta before training stops (default 5). */
  patience?: number;
  /** The smallest decrease that counts as an improvement (default 0). */
  minDelta?: number;
  /** Put back the weights of the best epoch when training ends (default false). */
  restoreBest?: boolean;
  /** The figure watched: 'valLoss' (default; needs validation data) or 'loss' (the training loss). */
  monitor?: 'valLoss' | 'loss';
}

/** The figures of one epoch. Accuracy figures are null for mse; validation figures null without validation data. */
export interface EpochLog {
  /** 0-based. */
  epoch: number;
  /**
   * Mean training loss over the epoch's samples (as computed during the epoch, in train
   * mode); when training diverged mid-epoch, over the samples up to the diverged batch.
   */
  loss: number;
  accuracy: number | null;
  valLoss: number | null;
  valAccuracy: number | null;
  /** The learning rate of parameter group 0 during the epoch's last step. */
  lr: number;
  /** Optimizer steps per second in this epoch (training only). */
  stepsPerSecond: number;
  /** Milliseconds since fit() started. */
  elapsedMs: number;
  /** The best epoch so far by the monitored figure. */
  bestEpoch: number;
}

export interface FitOptions {
  optimizer: Optimizer<{ lr?: number }>;
  loss: 'crossEntropy' | 'mse';
  epochs: number;
  /** Default 32. */
  batchSize?: number;
  /** Seed of the shuffles (default 0). */
  seed?: number;
  /** Shuffle the training set every epoch (default true). */
  shuffle?: boolean;
  /** A validation set, or the fraction of data held out (after a seeded shuffle) as one. */
  validationData?: FitData;
  validationSplit?: number;
  earlyStopping?: EarlyStoppingOptions;
  /** Stepped once per epoch (default) or once per batch. */
  scheduler?: LRScheduler;
  schedulerInterval?: 'epoch' | 'batch';
  /** Called after each epoch; may return a promise, which is awaited. */
  onEpoch?: (log: EpochLog) => void | Promise<void>;
  /**
   * Called after each batch's optimizer step (not for a batch whose loss diverged, which
   * takes no step); may return a promise, which is awaited before the next batch.
   */
  onBatch?: (log: BatchLog) => void | Promise<void>;
  /**
   * Stops training at the next batch boundary (checked before every batch, so the model
   * holds whole optimizer steps only); the result says 'aborted'. An abort from a timer or
   * an event (a Stop button) is seen once fit yields to the event loop: see yieldEvery.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds between yields to the event loop, checked after every batch: once this
   * many have passed since the last yield, fit lets timers, events, a page's input and
   * repaint, and an AbortSignal run before the next batch (default 20, a page's frame or
   * so; 0 yields after every batch). A yield is a macrotask (setImmediate in Node, a
   * MessageChannel message in browsers and workers), not a timer: it costs microseconds,
   * not the 1–4 ms a setTimeout(0) waits. The numbers do not depend on when fit yields.
   */
  yieldEvery?: number;
  /** Clips the gradients' total 2-norm to this before each step (nn.utils.clipGradNorm; default: no clipping). */
  clipGradNorm?: number;
}

/** The figures of one batch, given to onBatch. */
export interface BatchLog {
  /** 0-based. */
  epoch: number;
  /** 0-based index of the batch within its epoch. */
  batch: number;
  /** The batch's mean loss (train mode), before its optimizer step. */
  loss: number;
}

export interface FitResult {
  history: EpochLog[];
  /**
   * Optimizer steps taken, over all epochs. After an abort the model holds exactly these
   * steps (unless restoreBest put back the best epoch); an aborted epoch is not in history.
   */
  steps: number;
  /** The best epoch by the monitored figure (−1 if no epoch finished). */
  bestEpoch: number;
  /**
   * Why training ended: every epoch ran, early stopping, the signal, or 'diverged': a
   * training or validation loss was NaN or infinite (that epoch is the last in history).
   */
  stopReason: 'epochs' | 'earlyStopping' | 'aborted' | 'diverged';
  /** True when restoreBest put back the best epoch's weights. */
  restoredBest: boolean;
}


function int(v: unknown, what: string, min: number): number {
  return checkInt(v, `fit: ${what}`, min);
}

interface Checked { x: Float32Array | Tensor; y: Int32Array | Float32Array; n: number; d: number; k: number }

function checkData(data: FitData, loss: 'crossEntropy' | 'mse', what: string): Checked {
  if (data === null || typeof data !== 'object') throw new TypeError(`fit: ${what}: expected { x, y, n, d }, got ${describe(data)}`);
  const n = int(data.n, `${what}.n`, 1);
  const d = int(data.d, `${what}.d`, 1);
  const { x, y } = data;
  if (x instanceof Tensor) {
    x.assertLive(`fit: ${what}.x`);
    if (x.size !== n * d) throw new RangeError(`fit: ${what}.x: expected ${n}×${d} = ${n * d} elements, got a tensor of ${x.size}`);
  } else if (x instanceof Float32Array) {
    if (x.length !== n * d) throw new RangeError(`fit: ${what}.x: expected ${n}×${d} = ${n * d} elements, got ${x.length}`);
  } else {
    throw new TypeError(`fit: ${what}.x: expected a Float32Array or a Tensor, got ${describe(x)}`);
  }
  let k = 1;
  if (loss === 'crossEntropy') {
    if (!(y instanceof Int32Array)) throw new TypeError(`fit: ${what}.y: the crossEntropy loss needs class labels as an Int32Array, got ${describe(y)}`);
    if (y.length !== n) throw new RangeError(`fit: ${what}.y: expected ${n} labels, got ${y.length}`);
  } else {
    if (!(y instanceof Float32Array)) throw new TypeError(`fit: ${what}.y: the mse loss needs targets as a Float32Array, got ${describe(y)}`);
    if (y.length % n !== 0 || y.length === 0) throw new RangeError(`fit: ${what}.y: expected n×k targets with n = ${n}, got ${y.length} values`);
    k = y.length / n;
  }
  return { x, y, n, d, k };
}

/** Rows `idx` of a data set (copied), for a split. */
function splitRows(c: Checked, idx: Int32Array): Checked {
  const x = takeRows(c.x instanceof Tensor ? c.x.data : c.x, c.d, idx);
  return { x, y: takeRows(c.y, c.k, idx), n: idx.length, d: c.d, k: c.k };
}

/** Batch tensors reused across batches and epochs, one set per batch size. */
class BatchPool {
  private readonly sets = new Map<number, { x: Tensor; t: Tensor | null; labels: Int32Array | null }>();
  constructor(private readonly be: Backend, private readonly d: number, private readonly k: number, private readonly cls: boolean) {}

  /** Loads rows idx[from, to) of c into the batch tensors of that size. */
  load(c: Checked, idx: Int32Array | null, from: number, to: number): { x: Tensor; t: Tensor | null; labels: Int32Array | null } {
    const b = to - from;
    let s = this.sets.get(b);
    if (s === undefined) {
      s = {
        x: this.be.zeros([b, this.d]),
        t: this.cls ? null : this.be.zeros([b, this.k]),
        labels: this.cls ? new Int32Array(b) : null,
      };
      this.sets.set(b, s);
    }
    const xs = c.x instanceof Tensor ? c.x.data : c.x;
    const xd = s.x.data;
    const td = s.t === null ? null : s.t.data;
    const d = this.d, k = this.k;
    for (let i = 0; i < b; i++) {
      const r = idx === null ? from + i : idx[from + i]!;
      xd.set(xs.subarray(r * d, (r + 1) * d), i * d);
      if (s.labels !== null) s.labels[i] = (c.y as Int32Array)[r]!;
      else td!.set((c.y as Float32Array).subarray(r * k, (r + 1) * k), i * k);
    }
    return s;
  }

  dispose(): void {
    for (const s of this.sets.values()) { s.x.dispose(); s.t?.dispose(); }
    this.sets.clear();
  }
}

/** Number of rows whose argmax (first maximum) equals the label. */
function countCorrect(logits: Float32Array, labels: Int32Array, rows: number, cols: number): number {
  let ok = 0;
  for (let i = 0; i < rows; i++) if (argmax(logits, i * cols, cols) === labels[i]) ok++;
  return ok;
}

type LossFn = (out: Tensor, batch: { t: Tensor | null; labels: Int32Array | null }) => Tensor;

function lossFn(be: Backend, loss: 'crossEntropy' | 'mse'): LossFn {
  return loss === 'crossEntropy'
    ? (out, batch) => be.crossEntropy(out, batch.labels!)
    : (out, batch) => be.mse(out, batch.t!);
}

const FIT_KEYS: Record<keyof FitOptions, true> = {
  optimizer: true, loss: true, epochs: true, batchSize: true, seed: true, shuffle: true, validationData: true, validationSplit: true,
  earlyStopping: true, scheduler: true, schedulerInterval: true, onEpoch: true, onBatch: true, signal: true, yieldEvery: true,
  clipGradNorm: true,
};
const EARLY_STOPPING_KEYS: Record<keyof EarlyStoppingOptions, true> = { patience: true, minDelta: true, restoreBest: true, monitor: true };

/**
 * Trains `model` on `data` with `options.optimizer` for `options.epochs` epochs and returns
 * the per-epoch history and the best epoch. Yields to the event loop every
 * `options.yieldEvery` milliseconds (at a batch boundary), so a page can repaint and an
 * AbortSignal can fire; the signal is checked before every batch.
 */
export async function fit(model: FitModel, data: FitData, options: FitOptions): Promise<FitResult> {
  if (model === null || typeof model !== 'object' || typeof model.forward !== 'function' || typeof model.parameters !== 'function'
    || typeof model.train !== 'function' || typeof model.eval !== 'function' || typeof model.stateDict !== 'function' || typeof model.loadStateDict !== 'function') {
    throw new TypeError(`fit: expected a model with forward(), parameters(), train(), eval(), stateDict() and loadStateDict(), got ${describe(model)}`);
  }
  if (options === null || typeof options !== 'object') throw new TypeError(`fit: expected options, got ${describe(options)}`);
  checkKeys(options, FIT_KEYS, 'fit');
  const { loss } = options;
  const optimizer = checkOptimizer(options.optimizer, 'fit');
  if (loss !== 'crossEntropy' && loss !== 'mse') throw new TypeError(`fit: options.loss: expected 'crossEntropy' or 'mse', got ${describe(loss)}`);
  const epochs = int(options.epochs, 'options.epochs', 0);
  const batchSize = int(options.batchSize ?? 32, 'options.batchSize', 1);
  const seed = checkSeed(options.seed ?? 0, 'fit: options.seed');
  const shuffle = options.shuffle ?? true;
  if (typeof shuffle !== 'boolean') throw new TypeError(`fit: options.shuffle: expected true or false, got ${describe(shuffle)}`);
  const interval = options.schedulerInterval ?? 'epoch';
  if (interval !== 'epoch' && interval !== 'batch') throw new TypeError(`fit: options.schedulerInterval: expected 'epoch' or 'batch', got ${describe(interval)}`);
  const scheduler = checkScheduler(options.scheduler, optimizer, 'fit');
  checkCallback(options.onEpoch, 'fit: options.onEpoch');
  checkCallback(options.onBatch, 'fit: options.onBatch');
  const signal = checkSignal(options.signal, 'fit');
  const yieldEvery = checkYieldEvery(options.yieldEvery, 'fit: options.yieldEvery');
  const clip = checkClip(options.clipGradNorm, 'fit');

  const params = model.parameters();
  if (!Array.isArray(params) || params.length === 0 || !(params[0] instanceof Tensor)) throw new TypeError('fit: model.parameters() returned no tensors');
  const be = backendOf(params[0]);
  const cls = loss === 'crossEntropy';

  let train = checkData(data, loss, 'data');
  let val: Checked | null = null;
  if (options.validationData !== undefined && options.validationSplit !== undefined) throw new TypeError('fit: give validationData or validationSplit, not both');
  if (options.validationData !== undefined) {
    val = checkData(options.validationData, loss, 'validationData');
    if (val.d !== train.d || val.k !== train.k) throw new RangeError(`fit: validationData has d = ${val.d}, k = ${val.k}; the training data has d = ${train.d}, k = ${train.k}`);
  }
  const rand = mulberry32(seed);
  if (options.validationSplit !== undefined) {
    const f = options.validationSplit;
    if (typeof f !== 'number' || !(f > 0 && f < 1)) throw new RangeError(`fit: options.validationSplit: expected a fraction in (0, 1), got ${describe(f)}`);
    const nVal = Math.round(train.n * f);
    if (nVal < 1 || nVal >= train.n) throw new RangeError(`fit: options.validationSplit ${f} of ${train.n} samples leaves ${nVal} for validation and ${train.n - nVal} for training; both need at least one`);
    const idx = new Int32Array(train.n).map((_, i) => i);
    shuffleInPlace(idx, rand);
    val = splitRows(train, idx.subarray(train.n - nVal));
    train = splitRows(train, idx.subarray(0, train.n - nVal));
  }
  if (cls) for (const c of val === null ? [train] : [train, val]) {
    const labels = c.y as Int32Array;
    for (let i = 0; i < labels.length; i++) if (labels[i]! < 0) throw new RangeError(`fit: ${c === train ? 'data' : 'validation data'} label ${i} is ${labels[i]}, expected a class ≥ 0`);
  }

  const es = options.earlyStopping;
  if (es !== undefined) {
    if (es === null || typeof es !== 'object') throw new TypeError(`fit: options.earlyStopping: expected { patience?, minDelta?, restoreBest?, monitor? }, got ${describe(es)}`);
    checkKeys(es, EARLY_STOPPING_KEYS, 'fit: earlyStopping');
  }
  // Without early stopping the monitor only ranks epochs for bestEpoch, so it may fall back to the training loss.
  const monitor = es?.monitor ?? (es === undefined && val === null ? 'loss' : 'valLoss');
  if (monitor !== 'valLoss' && monitor !== 'loss') throw new TypeError(`fit: earlyStopping.monitor: expected 'valLoss' or 'loss', got ${describe(monitor)}`);
  if (monitor === 'valLoss' && val === null && es !== undefined) throw new TypeError("fit: earlyStopping monitors 'valLoss' but there is no validation data (give validationData or validationSplit)");
  const patience = es === undefined ? Infinity : int(es.patience ?? 5, 'earlyStopping.patience', 0);
  const minDelta = es?.minDelta ?? 0;
  if (typeof minDelta !== 'number' || !(minDelta >= 0) || !Number.isFinite(minDelta)) throw new RangeError(`fit: earlyStopping.minDelta: expected a finite number ≥ 0, got ${describe(minDelta)}`);
  const restoreBest = es?.restoreBest ?? false;
  if (typeof restoreBest !== 'boolean') throw new TypeError(`fit: earlyStopping.restoreBest: expected true or false, got ${describe(restoreBest)}`);

  const computeLoss = lossFn(be, loss);
  const pool = new BatchPool(be, train.d, train.k, cls);
  const order = new Int32Array(train.n).map((_, i) => i);
  const history: EpochLog[] = [];
  let best = Infinity, bestEpoch = -1, wait = 0;
  let bestWeights: Record<string, Float32Array> | null = null;
  let stopReason: FitResult['stopReason'] = 'epochs';
  const t0 = performance.now();
  const pace = new Pace(signal, yieldEvery, t0);
  let classesChecked = false, totalSteps = 0;

  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      if (pace.aborted()) { stopReason = 'aborted'; break; }
      if (shuffle) shuffleInPlace(order, rand);
      model.train();
      let lossSum = 0, correct = 0, steps = 0, seen = 0;
      const te = performance.now();
      for (let from = 0, b = 0; from < train.n; from += batchSize, b++) {
        if (pace.aborted()) { stopReason = 'aborted'; break; }
        const to = Math.min(train.n, from + batchSize);
        const batch = pool.load(train, order, from, to);
        const v = trainStep(be, optimizer, clip === null ? null : { params, maxNorm: clip }, () => {
          const out = model.forward(batch.x);
          if (cls && !classesChecked) { checkClasses(out.size / (to - from), train, val); classesChecked = true; }
          if (cls) correct += countCorrect(out.data, batch.labels!, to - from, out.size / (to - from));
          return computeLoss(out, batch);
        });
        lossSum += v * (to - from);
        seen = to;
        if (!Number.isFinite(v)) { stopReason = 'diverged'; break; }
        steps++;
        totalSteps++;
        if (scheduler !== undefined && interval === 'batch') scheduler.step();
        if (options.onBatch !== undefined) { const r = options.onBatch({ epoch, batch: b, loss: v }); if (isThenable(r)) await r; } // a plain return is not awaited: no microtask per batch
        if (pace.due()) await pace.yield();
      }
      if (stopReason === 'aborted') break;
      const seconds = (performance.now() - te) / 1000;
      const lr = optimizer.paramGroups[0]?.lr ?? NaN;
      let valLoss: number | null = null, valAccuracy: number | null = null;
      if (val !== null && stopReason !== 'diverged') [valLoss, valAccuracy] = evaluate(be, model, val, pool, batchSize, loss);
      if (valLoss !== null && !Number.isFinite(valLoss)) stopReason = 'diverged';
      const figure = monitor === 'valLoss' ? valLoss! : lossSum / train.n;
      if (stopReason === 'diverged') {
        // never the best epoch
      } else if (figure < best - minDelta || bestEpoch < 0) {
        best = figure; bestEpoch = epoch; wait = 0;
        if (restoreBest) bestWeights = copyState(model.stateDict());
      } else {
        wait++;
      }
      const log: EpochLog = {
        epoch, loss: lossSum / seen, accuracy: cls ? correct / seen : null, valLoss, valAccuracy, lr,
        stepsPerSecond: seconds > 0 ? steps / seconds : Infinity, elapsedMs: performance.now() - t0, bestEpoch,
      };
      history.push(log);
      if (scheduler !== undefined && interval === 'epoch') scheduler.step();
      if (options.onEpoch !== undefined) await options.onEpoch(log);
      if (stopReason === 'diverged') break;
      if (wait >= patience) { stopReason = 'earlyStopping'; break; }
    }
  } finally {
    pool.dispose();
  }
  let restoredBest = false;
  if (restoreBest && bestWeights !== null) {
    model.loadStateDict(bestWeights);
    restoredBest = true;
  }
  return { history, steps: totalSteps, bestEpoch, stopReason, restoredBest };
}

/** Labels against the model's output width, before the first loss, naming the data set and row. */
function checkClasses(cols: number, train: Checked, val: Checked | null): void {
  for (const [c, what] of [[train, 'data'], [val, 'validation data']] as const) {
    if (c === null) continue;
    const y = c.y as Int32Array;
    for (let i = 0; i < y.length; i++) {
      if (y[i]! >= cols) throw new RangeError(`fit: ${what} label ${i} is ${y[i]}, but the model outputs ${cols} classes (expected labels in [0, ${cols - 1}])`);
    }
  }
}

function copyState(sd: Record<string, Float32Array>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(sd)) out[k] = Float32Array.from(v);
  return out;
}

/** Mean loss and accuracy (null for mse) of the model in eval mode over a data set. */
function evaluate(be: Backend, model: FitModel, c: Checked, pool: BatchPool, batchSize: number, loss: 'crossEntropy' | 'mse'): [number, number | null] {
  model.eval();
  let sum = 0, correct = 0;
  try {
    for (let from = 0; from < c.n; from += batchSize) {
      const to = Math.min(c.n, from + batchSize);
      const batch = pool.load(c, null, from, to);
      const out = model.forward(batch.x);
      const kernels = be.kernels;
      if (loss === 'crossEntropy') {
        sum += kernels.crossEntropy(out, batch.labels!) * (to - from);
        correct += countCorrect(out.data, batch.labels!, to - from, out.size / (to - from));
      } else {
        sum += kernels.mse(out, batch.t!) * (to - from);
      }
      // forward-only work: end the step so its op results go back to the pool
      be.endStep();
    }
  } finally {
    be.endStep();
    model.train();
  }
  return [sum / c.n, loss === 'crossEntropy' ? correct / c.n : null];
}

// ---- the training machinery fit() shares with fitText() (src/train/fit-text.ts) ----

/** @internal The optimizer option of a training loop, checked. */
export function checkOptimizer(o: unknown, who: string): Optimizer<{ lr?: number }> {
  if (!(o instanceof Optimizer)) throw new TypeError(`${who}: options.optimizer: expected an optimizer (optim.SGD, Adam or AdamW), got ${describe(o)}`);
  return o as Optimizer<{ lr?: number }>;
}

/** @internal The scheduler option: undefined or a schedule made for the optimizer. */
export function checkScheduler(s: unknown, optimizer: Optimizer<{ lr?: number }>, who: string): LRScheduler | undefined {
  if (s === undefined) return undefined;
  if (s === null || typeof (s as LRScheduler).step !== 'function' || (s as LRScheduler).optimizer !== optimizer) {
    throw new TypeError(`${who}: options.scheduler: expected a schedule made for options.optimizer`);
  }
  return s as LRScheduler;
}

/** @internal An optional callback option. */
export function checkCallback(f: unknown, what: string): void {
  if (f !== undefined) checkFunction(f, what);
}

/** @internal The signal option: undefined or an AbortSignal. */
export function checkSignal(signal: unknown, who: string): AbortSignal | undefined {
  if (signal !== undefined && (signal === null || typeof (signal as AbortSignal).aborted !== 'boolean')) throw new TypeError(`${who}: options.signal: expected an AbortSignal, got ${describe(signal)}`);
  return signal as AbortSignal | undefined;
}

/** @internal The clipGradNorm option: null (no clipping) or a maxNorm ≥ 0. */
export function checkClip(v: unknown, who: string): number | null {
  if (v === undefined) return null;
  return checkNumber(v, `${who}: options.clipGradNorm`, { min: 0 });
}

/** @internal The yieldEvery option (milliseconds ≥ 0; default 20). */
export function checkYieldEvery(v: unknown, what: string): number {
  return v === undefined ? DEFAULT_YIELD_MS : checkNumber(v, `${what} (milliseconds between yields)`, { min: 0 });
}

/** Milliseconds between yields to the event loop when the options give none: about a page's frame. */
const DEFAULT_YIELD_MS = 20;

/**
 * @internal How to queue `f` as a macrotask that runs as soon as what is already queued has
 * run, from what the host `g` has: setImmediate where it exists (Node, Bun, Deno), else a
 * MessageChannel message (browsers, workers: no 4 ms clamp as nested setTimeout(0) has),
 * else setTimeout.
 */
export function taskQueue(g: { setImmediate?: unknown; MessageChannel?: unknown }): (f: () => void) => void {
  if (typeof g.setImmediate === 'function') { const si = g.setImmediate as (f: () => void) => unknown; return (f) => { si(f); }; }
  if (typeof g.MessageChannel === 'function') {
    const Channel = g.MessageChannel as typeof MessageChannel;
    const waiting: (() => void)[] = [];
    let channel: MessageChannel | null = null;
    return (f) => {
      if (channel === null) {
        channel = new Channel();
        channel.port1.onmessage = () => { waiting.shift()?.(); };
      }
      waiting.push(f);
      channel.port2.postMessage(null);
    };
  }
  return (f) => { setTimeout(f, 0); };
}

const queueTask = taskQueue(globalThis as { setImmediate?: unknown; MessageChannel?: unknown });

/** Lets timers, events, a page's input and repaint, and an AbortSignal run (one macrotask). */
function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((r) => queueTask(r));
}


/**
 * @internal The batch boundaries of a training loop (fit, fitText): `aborted()` before each
 * step; after one, `if (pace.due()) await pace.yield()`: a yield to the event loop once
 * `yieldEvery` ms have passed since the last one (or since `start`).
 */
export class Pace {
  private last: number;
  constructor(private readonly signal: AbortSignal | undefined, private readonly yieldEvery: number, start: number) {
    this.last = start;
  }

  aborted(): boolean { return this.signal?.aborted === true; }

  due(): boolean { return performance.now() - this.last >= this.yieldEvery; }

  async yield(): Promise<void> {
    await yieldToEventLoop();
    this.last = performance.now();
  }
}

/**
 * @internal One optimizer step, the same in every loop: zero the gradients, compute the
 * loss, and unless it is NaN or infinite (returned as it is, with no step: the caller
 * stops), backpropagate, clip the gradients' 2-norm when asked, step. Returns the loss.
 */
export function trainStep(be: Backend, optimizer: Optimizer<{ lr?: number }>, clip: { params: Tensor[]; maxNorm: number } | null, loss: () => Tensor): number {
  optimizer.zeroGrad();
  let v: number;
  try {
    const l = loss();
    v = l.item();
    if (!Number.isFinite(v)) { be.endStep(); return v; } // no step on a non-finite gradient
    l.backward(); // a step boundary: frees this step's op results (src/autograd/ops.ts)
  } catch (e) {
    be.endStep();
    throw e;
  }
  if (clip !== null) clipGradNorm(clip.params, clip.maxNorm);
  optimizer.step();
  return v;
}
