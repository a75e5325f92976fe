/**
 * The value rules, each once with its message: integers (counts and dimensions), finite
 * numbers in a range, flags, seeds, dropout's p, option keys, optimizer options, untrusted
 * floats for float32 storage. One error class per kind of rule: a dimension (a size of a
 * tensor, a layer or a problem) throws ShapeError; a number, count or seed out of its range
 * RangeError; a value of the wrong type where the rule is about a type (flags, options
 * objects, arrays) TypeError.
 */
import { ShapeError, describe, fmtShape } from './errors.js';

/** The integers a rule accepts, said once: "an integer ≥ 1", "an integer in [0, 9]". */
function integers(min: number, max: number): string {
  return max === Infinity ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
}

/** A count, index or integer option (iterations, steps, threads, topK, ...): a safe integer in [min, max], else a RangeError. */
export function checkInt(v: unknown, what: string, min = 0, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new RangeError(`${what}: expected ${integers(min, max)}, got ${describe(v)}`);
  }
  return v;
}

/** A dimension (of a tensor, a layer, a problem): a safe integer ≥ min (0 or more), else a ShapeError. */
export function checkDim(v: unknown, what: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new ShapeError(`${what}: expected ${integers(min, Infinity)}, got ${describe(v)}`);
  }
  return v;
}

/** A shape: an array of non-negative integers; returns a frozen copy. */
export function checkShape(shape: unknown, what = 'shape'): readonly number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${what}: expected an array of dimensions, got ${describe(shape)}`);
  const out = shape.map((d, i) => checkDim(d, `${what}[${i}]`));
  return Object.freeze(out);
}

/** The number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws a ShapeError naming `what` unless got equals want. */
export function expectShape(got: readonly number[], want: readonly number[], what: string): void {
  if (!sameShape(got, want)) throw new ShapeError(`${what}: expected shape ${fmtShape(want)}, got ${fmtShape(got)}`);
}

/**
 * The keys an options object may have: a compiler-checked list (`const KEYS: Keys<Opts> =
 * { ... }`, so an option added to the interface cannot be left out of it), `true` for an
 * optional key and 'required' for one the caller must give (the rule that says so is the
 * caller's; the list only shapes the messages).
 */
export type Keys<T> = Record<keyof T, true | 'required'>;

/**
 * The keys of an options object from the user: every own key must be one of `known`. A
 * misspelt option is refused, never ignored:
 * `generate: unknown option 'top_k' (expected one of temperature, topK, seed, stop)`.
 * The caller checks first that `o` is an object (optionsOf does both).
 */
export function checkKeys(o: object, known: Readonly<Record<string, true | 'required'>> | readonly string[], what: string, noun = 'option'): void {
  const list: readonly string[] = Array.isArray(known) ? known : Object.keys(known);
  for (const k of Object.keys(o)) {
    if (!list.includes(k)) throw new TypeError(`${what}: unknown ${noun} '${k}' (expected one of ${list.join(', ')})`);
  }
}

/**
 * An options argument: a plain object whose keys checkKeys accepts, or undefined (giving {})
 * unless `required`. The one options-object rule of every entry point; its message lists
 * the keys (`{ seed?, bias? }`, required ones without `?`).
 */
export function optionsOf<T extends object>(o: unknown, known: Keys<T>, what: string, required = false, noun: 'option' | 'config key' = 'option'): Partial<T> {
  if (o === undefined && !required) return {};
  if (o === null || typeof o !== 'object' || Array.isArray(o)) {
    const keys = Object.entries(known).map(([k, v]) => (v === 'required' ? k : `${k}?`)).join(', ');
    throw new TypeError(`${what}: expected ${noun === 'option' ? 'options' : 'a config'} as an object { ${keys} }, got ${describe(o)}`);
  }
  checkKeys(o, known as Record<string, true | 'required'>, what, noun);
  return o as Partial<T>;
}

/** The bounds of checkNumber's options, said once: "≥ 0", "> 0", "in [0, 1)". */
function bounds(o: NumberRange): string {
  const { min, max, minExclusive = false, maxExclusive = false } = o;
  if (min !== undefined && max !== undefined) return ` in ${minExclusive ? '(' : '['}${min}, ${max}${maxExclusive ? ')' : ']'}`;
  if (min !== undefined) return ` ${minExclusive ? '>' : '≥'} ${min}`;
  if (max !== undefined) return ` ${maxExclusive ? '<' : '≤'} ${max}`;
  return '';
}

/** The range of checkNumber: bounds, each inclusive unless said exclusive. */
export interface NumberRange { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean }

/** A finite number (NaN and ±Infinity rejected), optionally within bounds; a RangeError saying the whole rule otherwise. */
export function checkNumber(v: unknown, what: string, range: NumberRange = {}): number {
  const { min, max, maxExclusive = false, minExclusive = false } = range;
  if (typeof v !== 'number' || !Number.isFinite(v) ||
    (min !== undefined && (minExclusive ? v <= min : v < min)) || (max !== undefined && (maxExclusive ? v >= max : v > max))) {
    throw new RangeError(`${what}: expected a finite number${bounds(range)}, got ${describe(v)}`);
  }
  return v;
}

/**
 * A dropout probability p in [0, 1] (nn.Dropout, the dropout kernel), or in [0, 1) with
 * `belowOne` (a model's dropout option, as the GPT's).
 */
export function checkDropoutP(p: unknown, what: string, belowOne = false): number {
  return checkNumber(p, what, { min: 0, max: 1, maxExclusive: belowOne });
}

/** A function (a callback or a body to run). */
export function checkFunction(v: unknown, what: string): (...args: never[]) => unknown {
  if (typeof v !== 'function') throw new TypeError(`${what}: expected a function, got ${describe(v)}`);
  return v as (...args: never[]) => unknown;
}

/** Whether a callback returned a promise (something with a then method) to await. */
export function isThenable(r: unknown): r is PromiseLike<unknown> {
  return r !== null && (typeof r === 'object' || typeof r === 'function') && typeof (r as PromiseLike<unknown>).then === 'function';
}

/** true or false. */
export function checkBool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${what}: expected true or false, got ${describe(v)}`);
  return v;
}

/** An optional flag (option): `fallback` when undefined, else true or false. */
export function optionalBool(v: unknown, what: string, fallback = false): boolean {
  return v === undefined ? fallback : checkBool(v, what);
}

/** A 32-bit unsigned seed (layers, dropout RNGs, fit's shuffles, data splits). */
export function checkSeed(seed: unknown, what: string): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`${what}: expected an integer seed in [0, 2^32 − 1], got ${describe(seed)}`);
  }
  return seed;
}

/**
 * The token-id rule, once for every input form (Int32Array, array, tensor): id i is an
 * integer in [0, vocab); the message says the value as given (1e10, not its int32 wrap).
 */
export function checkId(v: unknown, i: number, vocab: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= vocab) {
    throw new RangeError(`${what}: token id ${i} is ${describe(v)}, expected an integer in [0, ${vocab - 1}]`);
  }
  return v;
}

/** True when x is a finite number that float32 cannot hold (Math.fround makes it ±Infinity). */
export function beyondFloat32(x: number): boolean {
  return Number.isFinite(x) && !Number.isFinite(Math.fround(x));
}

/** The float32-range rule's message, once for every reader of untrusted floats (state dicts, safetensors, linear data). */
export function float32RangeMessage(where: string, x: number): string {
  return `${where}: expected a value within float32's range (±3.4028235e38), got ${describe(x)}`;
}

/** Hyperparameters of the optimizers, checked as torch.optim checks them (plus finiteness). */
export const hyper = {
  lr: (v: unknown, where = 'lr') => checkNumber(v, `${where} (learning rate)`, { min: 0 }),
  eps: (v: unknown, where = 'eps') => checkNumber(v, where, { min: 0 }),
  weightDecay: (v: unknown, where = 'weightDecay') => checkNumber(v, where, { min: 0 }),
  momentum: (v: unknown, where = 'momentum') => checkNumber(v, where, { min: 0 }),
  dampening: (v: unknown, where = 'dampening') => checkNumber(v, where),
  l1: (v: unknown, where = 'l1') => checkNumber(v, where, { min: 0 }),
  betas(v: unknown, where = 'betas'): [number, number] {
    if (!Array.isArray(v) || v.length !== 2) throw new TypeError(`${where}: expected [beta1, beta2], got ${describe(v)}`);
    return [
      checkNumber(v[0], `${where}[0] (beta1)`, { min: 0, max: 1, maxExclusive: true }),
      checkNumber(v[1], `${where}[1] (beta2)`, { min: 0, max: 1, maxExclusive: true }),
    ];
  },
  /** torch: "Nesterov momentum requires a momentum and zero dampening". */
  nesterov(nesterov: boolean, momentum: number, dampening: number, where = 'nesterov'): void {
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new RangeError(`${where}: Nesterov momentum requires momentum > 0 and dampening = 0, got momentum ${momentum} and dampening ${dampening}`);
    }
  },
};

/**
 * Untrusted values for float32 storage (state dicts): a Float32Array, a Float64Array or an
 * array of numbers, of length `n`, every value finite and within float32's range (1e39 would
 * become Infinity). Returns a float32 copy; throws naming `what` and the first bad index.
 * Other typed arrays (Int8Array, ...), strings and array-likes are refused: their values are
 * not floats, or not numbers at all.
 */
export function finiteFloat32Copy(v: unknown, n: number, what: string, want = `expected ${n}`): Float32Array {
  if (!(v instanceof Float32Array || v instanceof Float64Array || Array.isArray(v))) {
    throw new TypeError(`${what}: expected a Float32Array, a Float64Array or an array of numbers, got ${describe(v)}`);
  }
  if (v.length !== n) throw new ShapeError(`${what} has ${v.length} values, but ${want}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = (v as ArrayLike<unknown>)[i];
    if (typeof x !== 'number') throw new TypeError(`${what}[${i}]: expected a number, got ${describe(x)}`);
    if (!Number.isFinite(x)) throw new RangeError(`${what}[${i}]: expected a finite float32 value, got ${describe(x)}`);
    if (beyondFloat32(x)) throw new RangeError(float32RangeMessage(`${what}[${i}]`, x));
    out[i] = x;
  }
  return out;
}
