/**
 * predict(): inference that returns plain arrays and keeps nothing. It runs the model in
 * eval mode (dropout off; the mode is put back after), under `be.noGrad` (no graph, no saved
 * intermediates), over the rows in batches, and copies each batch's output into the result
 * before freeing the batch's op results. Only its own: the op results the caller holds (a
 * loss read later with item(), an output kept for a chart) live on, as predict frees from
 * a mark of the step memory (src/core/step-memory.ts) instead of ending the step as `be.endStep()` does.
 *
 * The rows are independent through every layer regula has (Linear, activations, LayerNorm,
 * Dropout in eval mode), so the result is the same bits for any batchSize and the same as
 * one forward of all the rows by hand.
 */
import { ShapeError, describe, fmtShape } from '../rules/errors.js';
import { Tensor } from '../core/tensor.js';
import { backendOf, type Backend } from '../backend.js';
import { checkInt, checkKeys } from '../rules/validate.js';

/** What predict() needs of a model (nn.Sequential and every nn layer have it). */
export interface PredictModel {
  forward(x: Tensor): Tensor;
  eval(): unknown;
  train(mode?: boolean): unknown;
  /** The mode predict puts back afterwards. */
  training: boolean;
}

export interface PredictOptions {
  /** Rows per forward (default 256): bounds the memory one forward takes; the results do not depend on it. */
  batchSize?: number;
  /** Features per row when x is a Float32Array (rows = x.length / d); a Tensor's shape says it. */
  d?: number;
  /**
   * What to return, row-major with one row per input row: 'values' (default) the model's
   * outputs, n×k floats; 'probabilities' the softmax of each output row, computed in float64
   * from the float32 outputs and rounded once; 'classes' each row's argmax (the first
   * largest output), n int32s. The last two need finite outputs.
   */
  output?: 'values' | 'probabilities' | 'classes';
}

const PREDICT_KEYS: Record<keyof PredictOptions, true> = { batchSize: true, d: true, output: true };
const DEFAULT_BATCH = 256;

/**
 * The model's outputs for the rows of `x` (a Tensor [n, ...] or a row-major Float32Array of
 * n×d values with options.d), as a plain array that stays valid: see the module comment.
 */
export function predict(model: PredictModel, x: Tensor | Float32Array, options?: PredictOptions & { output?: 'values' | 'probabilities' }): Float32Array;
export function predict(model: PredictModel, x: Tensor | Float32Array, options: PredictOptions & { output: 'classes' }): Int32Array;
export function predict(model: PredictModel, x: Tensor | Float32Array, options?: PredictOptions): Float32Array | Int32Array;
export function predict(model: PredictModel, x: Tensor | Float32Array, options: PredictOptions = {}): Float32Array | Int32Array {
  if (model === null || typeof model !== 'object' || typeof model.forward !== 'function' || typeof model.eval !== 'function'
    || typeof model.train !== 'function' || typeof model.training !== 'boolean') {
    throw new TypeError(`predict: expected a model with forward(), eval(), train() and a training flag (an nn module), got ${describe(model)}`);
  }
  if (options === null || typeof options !== 'object') throw new TypeError(`predict: expected options { batchSize?, d?, output? }, got ${describe(options)}`);
  checkKeys(options, PREDICT_KEYS, 'predict');
  const batchSize = checkInt(options.batchSize ?? DEFAULT_BATCH, 'predict: options.batchSize', 1);
  const output = options.output ?? 'values';
  if (output !== 'values' && output !== 'probabilities' && output !== 'classes') {
    throw new TypeError(`predict: options.output: expected 'values', 'probabilities' or 'classes', got ${describe(output)}`);
  }
  const withParams = model as unknown as { parameters?: () => unknown };
  const params = typeof withParams.parameters === 'function' ? withParams.parameters() : [];
  const first = Array.isArray(params) ? params[0] : undefined;
  const modelBe = first instanceof Tensor ? backendOf(first) : null;

  let be: Backend, n: number, d: number, rowShape: readonly number[];
  let src: Float32Array | null = null; // the rows when x is an array
  if (x instanceof Tensor) {
    x.assertLive('predict x');
    if (x.shape.length === 0) throw new ShapeError('predict: x: expected a tensor of rows [n, ...], got a scalar (shape [])');
    if (modelBe !== null && x._be !== modelBe) throw new TypeError(`predict: x belongs to another backend (${x._be.kind}) than the model's parameters (${modelBe.kind})`);
    be = backendOf(x);
    n = x.shape[0]!;
    rowShape = x.shape.slice(1);
    d = n === 0 ? rowShape.reduce((a, b) => a * b, 1) : x.size / n;
    if (options.d !== undefined && checkInt(options.d, 'predict: options.d', 1) !== d) {
      throw new ShapeError(`predict: options.d is ${options.d}, but x ${fmtShape(x.shape)} has ${d} values per row`);
    }
  } else if (x instanceof Float32Array) {
    if (options.d === undefined) throw new TypeError(`predict: x is a Float32Array of ${x.length} values: give options.d, the features per row`);
    d = checkInt(options.d, 'predict: options.d', 1);
    if (x.length % d !== 0) throw new ShapeError(`predict: x has ${x.length} values, not a whole number of rows of d = ${d}`);
    if (modelBe === null) throw new TypeError('predict: x is a Float32Array but the model has no parameters to say its backend: pass x as a Tensor');
    be = modelBe;
    n = x.length / d;
    rowShape = [d];
    // a view of the backend's own heap would be detached if an allocation below grows it
    src = x.buffer === be._s.buffer() ? x.slice() : x;
  } else {
    throw new TypeError(`predict: x: expected a Tensor or a Float32Array of rows, got ${describe(x)}`);
  }

  const wasTraining = model.training;
  const mark = be._steps.mark();
  let out: Float32Array | null = null;
  let k = 0;
  model.eval();
  try {
    for (let from = 0; from < n; from += batchSize) {
      const rows = Math.min(batchSize, n - from);
      let input: Tensor;
      if (src === null && rows === n) {
        input = x as Tensor; // all rows at once: the caller's tensor itself
      } else {
        input = be._steps.temp([rows, ...rowShape], rows * d);
        const all = src ?? (x as Tensor).data;
        input.data.set(all.subarray(from * d, (from + rows) * d));
      }
      try {
        const y = be.noGrad(() => model.forward(input));
        if (!(y instanceof Tensor)) throw new TypeError(`predict: model.forward returned ${describe(y)}, expected a Tensor`);
        y.assertLive('predict: model.forward result');
        if (y.shape.length === 0 || y.shape[0] !== rows) {
          throw new ShapeError(`predict: model.forward gave shape ${fmtShape(y.shape)} for ${rows} rows; expected one output row per input row [${rows}, ...]`);
        }
        const yk = y.size / rows;
        if (out === null) { k = yk; out = new Float32Array(n * k); }
        else if (yk !== k) throw new ShapeError(`predict: model.forward gave ${yk} outputs per row for rows ${from}…, ${k} for the rows before`);
        out.set(y.data, from * k);
      } finally {
        if (input !== x) input.dispose();
        be._steps.freeSince(mark, 'freed by predict() when its batch was done (predict returns copies)');
      }
    }
  } finally {
    model.train(wasTraining);
  }
  const values = out ?? new Float32Array(0);
  if (output === 'values') return values;
  if (output === 'classes') return classesOf(values, n, k);
  return probabilitiesOf(values, n, k);
}

/** The first maximum of v[from, from + len) as an index from `from` (the argmax torch and numpy give). */
export function argmax(v: ArrayLike<number>, from: number, len: number): number {
  let best = 0, bv = v[from]!;
  for (let j = 1; j < len; j++) { const x = v[from + j]!; if (x > bv) { bv = x; best = j; } }
  return best;
}

/** The row's values, checked finite (classes and probabilities have no meaning otherwise). */
function checkFiniteRow(v: Float32Array, i: number, k: number): void {
  for (let j = 0; j < k; j++) {
    const x = v[i * k + j]!;
    if (!Number.isFinite(x)) throw new RangeError(`predict: output ${j} of row ${i} is ${describe(x)}, expected finite outputs for classes or probabilities (are the weights or inputs NaN or infinite?)`);
  }
}

function classesOf(v: Float32Array, n: number, k: number): Int32Array {
  const c = new Int32Array(n);
  for (let i = 0; i < n; i++) { checkFiniteRow(v, i, k); c[i] = argmax(v, i * k, k); }
  return c;
}

/** softmax of each row: e^(x − max) / Σ e^(x − max) in float64, rounded once to float32. */
function probabilitiesOf(v: Float32Array, n: number, k: number): Float32Array {
  const p = new Float32Array(n * k);
  const e = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    checkFiniteRow(v, i, k);
    const m = v[i * k + argmax(v, i * k, k)]!;
    let s = 0;
    for (let j = 0; j < k; j++) { e[j] = Math.exp(v[i * k + j]! - m); s += e[j]!; }
    for (let j = 0; j < k; j++) p[i * k + j] = e[j]! / s;
  }
  return p;
}
