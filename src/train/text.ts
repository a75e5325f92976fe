/**
 * Text for character language models, nanoGPT's way (karpathy/nanoGPT,
 * data/shakespeare_char/prepare.py and train.py):
 *
 * - `textCorpus(text)`: the vocabulary is the sorted set of the text's characters, the
 *   first 90% of the characters train and the last 10% validate (a fixed split by
 *   position, `int(n * 0.9)` as prepare.py). A character is a Unicode code point, as a
 *   Python `str` counts them: a surrogate pair (an emoji, say) is one character and one
 *   token, and `n` counts code points, not UTF-16 units. Sorting is by code point, as
 *   Python's `sorted(set(data))`. A lone surrogate (not valid Unicode, but possible in a
 *   JS string) is a character of its own.
 * - `getBatch(stream, blockSize, batchSize, next)`: train.py's get_batch: batchSize windows
 *   of blockSize + 1 tokens at offsets ⌊u·(n − blockSize)⌋, u from `next()` (a uniform in
 *   [0, 1), e.g. a `Mulberry32`'s next), x the first blockSize tokens, y the last.
 * - `estimateLoss(gpt, stream)`: the exact version of train.py's estimate_loss: the mean
 *   cross-entropy (nats per token) over the whole stream cut into consecutive windows of
 *   blockSize + 1 tokens (the last partial window dropped), in eval mode, keeping no
 *   gradient; the model's mode is restored after.
 */
import { describe } from '../rules/errors.js';
import { CharTokenizer } from '../io/tokenizer.js';
import type { GPT } from '../nn/gpt.js';

/** A text as token streams: its tokenizer, the training and the validation tokens. */
export interface TextCorpus {
  tokenizer: CharTokenizer;
  /** The first ⌊n·trainFraction⌋ characters' ids. */
  train: Int32Array;
  /** The rest. */
  val: Int32Array;
}

export interface TextCorpusOptions {
  /** The fraction of the characters (by position, from the start) that trains (default 0.9, as nanoGPT). */
  trainFraction?: number;
  /**
   * The vocabulary to encode with (a tokenizer or its characters), e.g. a saved model's;
   * a character outside it is an error. Default: the text's own sorted characters.
   */
  vocab?: CharTokenizer | readonly string[];
  /** When given, both splits must hold at least one window of blockSize + 1 characters. */
  blockSize?: number;
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new RangeError(`${what}: expected an integer ≥ 1, got ${describe(v)}`);
  return v;
}

/** Throws unless `stream` is an Int32Array holding at least one window of blockSize + 1 tokens. */
function checkStream(stream: unknown, blockSize: number, what: string): Int32Array {
  if (!(stream instanceof Int32Array)) throw new TypeError(`${what}: expected the token stream as an Int32Array, got ${describe(stream)}`);
  if (stream.length < blockSize + 1) {
    throw new RangeError(`${what}: the stream has ${stream.length} tokens, shorter than one window of blockSize + 1 = ${blockSize + 1}`);
  }
  return stream;
}

/**
 * The text as a character corpus (see the module comment): `{ tokenizer, train, val }`.
 * Throws on an empty text, a character outside a given vocabulary, a split with no
 * characters, or (with `blockSize`) a split shorter than a window.
 */
export function textCorpus(text: string, options: TextCorpusOptions = {}): TextCorpus {
  if (typeof text !== 'string') throw new TypeError(`textCorpus: expected the text as a string, got ${describe(text)}`);
  if (text.length === 0) throw new RangeError('textCorpus: expected a non-empty text, got ""');
  if (options === null || typeof options !== 'object') throw new TypeError(`textCorpus: expected options { trainFraction?, vocab?, blockSize? }, got ${describe(options)}`);
  const f = options.trainFraction ?? 0.9;
  if (typeof f !== 'number' || !(f > 0 && f < 1)) throw new RangeError(`textCorpus trainFraction: expected a fraction in (0, 1), got ${describe(f)}`);
  const blockSize = options.blockSize === undefined ? 0 : positiveInt(options.blockSize, 'textCorpus blockSize');
  const v = options.vocab;
  const tokenizer = v === undefined ? CharTokenizer.fromText(text) : v instanceof CharTokenizer ? v : new CharTokenizer(v);
  const ids = tokenizer.encode(text);
  const n = ids.length;
  const nTrain = Math.floor(n * f);
  for (const [name, len] of [['training', nTrain], ['validation', n - nTrain]] as const) {
    if (len < Math.max(1, blockSize + 1)) {
      throw new RangeError(`textCorpus: the ${name} split has ${len} of the text's ${n} characters (trainFraction ${f})` +
        (blockSize > 0 ? `, shorter than one window of blockSize + 1 = ${blockSize + 1}` : '') + ': give a longer text');
    }
  }
  return { tokenizer, train: ids.slice(0, nTrain), val: ids.slice(nTrain) };
}

/**
 * Fills `out.x` and `out.y` (each batchSize·blockSize, allocated when `out` is omitted)
 * with batchSize windows of blockSize + 1 consecutive tokens of `stream`, at offsets
 * ⌊next()·(stream.length − blockSize)⌋ drawn in order (x the first blockSize tokens, y the
 * last), and returns them.
 */
export function getBatch(stream: Int32Array, blockSize: number, batchSize: number, next: () => number, out?: { x: Int32Array; y: Int32Array }): { x: Int32Array; y: Int32Array } {
  const T = positiveInt(blockSize, 'getBatch blockSize');
  const B = positiveInt(batchSize, 'getBatch batchSize');
  checkStream(stream, T, 'getBatch');
  if (typeof next !== 'function') throw new TypeError(`getBatch: expected next() as a function returning uniforms in [0, 1), got ${describe(next)}`);
  const o = out ?? { x: new Int32Array(B * T), y: new Int32Array(B * T) };
  if (!(o.x instanceof Int32Array) || !(o.y instanceof Int32Array) || o.x.length !== B * T || o.y.length !== B * T) {
    throw new RangeError(`getBatch out: expected { x, y }, two Int32Arrays of batchSize·blockSize = ${B * T}, got ${describe(o.x)} and ${describe(o.y)}`);
  }
  const starts = stream.length - T;
  for (let b = 0; b < B; b++) {
    const u = next();
    if (!(u >= 0 && u < 1)) throw new RangeError(`getBatch: next() returned ${describe(u)}, expected a uniform in [0, 1)`);
    const at = Math.floor(u * starts);
    o.x.set(stream.subarray(at, at + T), b * T);
    o.y.set(stream.subarray(at + 1, at + T + 1), b * T);
  }
  return o;
}

/**
 * The mean cross-entropy (nats per token) of `gpt` over `stream` cut into consecutive
 * windows of blockSize + 1 tokens (blockSize = gpt.config.blockSize; the last partial
 * window dropped), in eval mode, keeping no gradient; the model's mode is restored after.
 * Windows go through the model `windowsPerBatch` at a time (default 64); the mean is over
 * every predicted token (batch means weighted by their token counts, summed in float64),
 * so the same model and stream give the same number on either backend and any thread count.
 */
export function estimateLoss(gpt: GPT, stream: Int32Array, options: { windowsPerBatch?: number } = {}): number {
  if (gpt === null || typeof gpt !== 'object' || typeof gpt.forward !== 'function' || gpt.config === undefined) throw new TypeError(`estimateLoss: expected an nn.GPT, got ${describe(gpt)}`);
  const T = gpt.config.blockSize;
  checkStream(stream, T, 'estimateLoss');
  if (options === null || typeof options !== 'object') throw new TypeError(`estimateLoss: expected options { windowsPerBatch? }, got ${describe(options)}`);
  const perBatch = positiveInt(options.windowsPerBatch ?? 64, 'estimateLoss windowsPerBatch');
  const be = gpt.be;
  const windows = Math.floor(stream.length / (T + 1));
  const wasTraining = gpt.training;
  gpt.eval();
  let sum = 0;
  try {
    for (let w0 = 0; w0 < windows; w0 += perBatch) {
      const B = Math.min(perBatch, windows - w0);
      const x = new Int32Array(B * T), y = new Int32Array(B * T);
      for (let b = 0; b < B; b++) {
        const o = (w0 + b) * (T + 1);
        x.set(stream.subarray(o, o + T), b * T);
        y.set(stream.subarray(o + 1, o + T + 1), b * T);
      }
      sum += be.kernels.crossEntropy(gpt.forward(x, [B, T]), y) * B * T;
      // forward-only work: end the step so its op results go back to the pool
      be.endStep();
    }
  } finally {
    be.endStep();
    gpt.train(wasTraining);
  }
  return sum / (windows * T);
}
