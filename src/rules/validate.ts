/** Argument rules shared by the checked kernels, autograd, the optimizers and the layers: each rule and its message once. */
import { ShapeError, describe, fmtShape } from './errors.js';
import type { AdamHyper, SgdHyper } from '../backend/trusted.js';

/** A dimension: a non-negative safe integer. */
export function checkDim(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new ShapeError(`${what}: expected a non-negative integer dimension, got ${describe(v)}`);
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
 * The keys of an options object from the user: every own key must be one of `known`, a
 * compiler-checked list (`const KEYS: Record<keyof Opts, true> = { ... }`, so an option added
 * to the interface cannot be left out of it). A misspelt option is refused, never ignored:
 * `generate: unknown option 'top_k' (expected one of temperature, topK, seed, stop)`.
 * The caller checks first that `o` is an object.
 */
export function checkKeys(o: object, known: Readonly<Record<string, true>> | readonly string[], what: string, noun = 'option'): void {
  const list: readonly string[] = Array.isArray(known) ? known : Object.keys(known);
  for (const k of Object.keys(o)) {
    if (!list.includes(k)) throw new TypeError(`${what}: unknown ${noun} '${k}' (expected one of ${list.join(', ')})`);
  }
}

/** An optional options argument: undefined gives {}, else a plain object whose keys checkKeys accepts. */
export function optionsOf<T extends object>(o: unknown, known: Record<keyof T, true>, what: string): Partial<T> {
  if (o === undefined) return {};
  if (o === null || typeof o !== 'object' || Array.isArray(o)) {
    throw new TypeError(`${what}: expected options as an object { ${Object.keys(known).map((k) => `${k}?`).join(', ')} }, got ${describe(o)}`);
  }
  checkKeys(o, known as Record<string, true>, what);
  return o as Partial<T>;
}

/** A finite number (NaN and ±Infinity rejected), optionally within [min, max] or [min, max). */
export function checkNumber(v: unknown, what: string, opts: { min?: number; max?: number; maxExclusive?: boolean; minExclusive?: boolean } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${what}: expected a finite number, got ${describe(v)}`);
  const { min, max, maxExclusive = false, minExclusive = false } = opts;
  const lo = min === undefined ? '' : `${minExclusive ? '>' : '≥'} ${min}`;
  const hi = max === undefined ? '' : `${maxExclusive ? '<' : '≤'} ${max}`;
  const range = [lo, hi].filter(Boolean).join(' and ');
  if (min !== undefined && (minExclusive ? v <= min : v < min)) throw new RangeError(`${what}: expected a number ${range}, got ${v}`);
  if (max !== undefined && (maxExclusive ? v >= max : v > max)) throw new RangeError(`${what}: expected a number ${range}, got ${v}`);
  return v;
}

/** An integer count or size: a safe integer ≥ min. */
export function checkInt(v: unknown, what: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new RangeError(`${what}: expected an integer ≥ ${min}, got ${describe(v)}`);
  return v;
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

/** An optional flag: `fallback` when undefined, else true or false. */
export function optionalBool(v: unknown, what: string, fallback = false): boolean {
  return v === undefined ? fallback : checkBool(v, what);
}

/** A 32-bit unsigned seed (layers, dropout RNGs, fit's shuffles). */
export function checkSeed(seed: unknown, what: string): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`${what}: expected an integer seed in [0, 2^32 − 1], got ${describe(seed)}`);
  }
  return seed;
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

/** input[key], else defaults[key], else fallback (a group's option, the optimizer's default, torch's default). */
function pick(input: Record<string, unknown>, defaults: Record<string, unknown>, key: string, fallback: unknown): unknown {
  if (input[key] !== undefined) return input[key];
  if (defaults[key] !== undefined) return defaults[key];
  return fallback;
}

/** SGD's options from `input` over `defaults`, every one checked (messages start with `where`); lr has no default. */
export function resolveSgd(input: Record<string, unknown>, defaults: Record<string, unknown>, where: string): SgdHyper {
  const lrRaw = pick(input, defaults, 'lr', undefined);
  if (lrRaw === undefined) throw new TypeError(`${where}: lr (learning rate) is required for SGD; give it in the options or in this group`);
  const lr = hyper.lr(lrRaw, `${where}: lr`);
  const momentum = hyper.momentum(pick(input, defaults, 'momentum', 0), `${where}: momentum`);
  const dampening = hyper.dampening(pick(input, defaults, 'dampening', 0), `${where}: dampening`);
  const weightDecay = hyper.weightDecay(pick(input, defaults, 'weightDecay', 0), `${where}: weightDecay`);
  const nesterov = checkBool(pick(input, defaults, 'nesterov', false), `${where}: nesterov`);
  const maximize = checkBool(pick(input, defaults, 'maximize', false), `${where}: maximize`);
  const l1 = hyper.l1(pick(input, defaults, 'l1', 0), `${where}: l1`);
  hyper.nesterov(nesterov, momentum, dampening, `${where}: nesterov`);
  return { lr, momentum, dampening, weightDecay, nesterov, maximize, l1 };
}

/** Adam's / AdamW's options from `input` over `defaults`, every one checked; weightDecay defaults to `defaultDecay`. */
export function resolveAdam(input: Record<string, unknown>, defaults: Record<string, unknown>, where: string, defaultDecay: number): AdamHyper {
  const lr = hyper.lr(pick(input, defaults, 'lr', 1e-3), `${where}: lr`);
  const betas = hyper.betas(pick(input, defaults, 'betas', [0.9, 0.999]), `${where}: betas`);
  const eps = hyper.eps(pick(input, defaults, 'eps', 1e-8), `${where}: eps`);
  const weightDecay = hyper.weightDecay(pick(input, defaults, 'weightDecay', defaultDecay), `${where}: weightDecay`);
  const amsgrad = checkBool(pick(input, defaults, 'amsgrad', false), `${where}: amsgrad`);
  const maximize = checkBool(pick(input, defaults, 'maximize', false), `${where}: maximize`);
  const l1 = hyper.l1(pick(input, defaults, 'l1', 0), `${where}: l1`);
  return { lr, betas, eps, weightDecay, amsgrad, maximize, l1 };
}

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
    const f = Math.fround(x);
    if (!Number.isFinite(f)) {
      throw new RangeError(`${what}[${i}]: expected a finite float32 value, got ${describe(x)}${Number.isFinite(x) ? ' (beyond float32\'s range, ±3.4028235e38)' : ''}`);
    }
    out[i] = f;
  }
  return out;
}
