/** Argument checks shared by the facade, the optimizers and the layers. */
import { ShapeError, describe, fmtShape } from './errors.js';

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

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function expectShape(got: readonly number[], want: readonly number[], what: string): void {
  if (!sameShape(got, want)) throw new ShapeError(`${what}: expected shape ${fmtShape(want)}, got ${fmtShape(got)}`);
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

export function checkBool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${what}: expected true or false, got ${describe(v)}`);
  return v;
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
    const f = Math.fround(x);
    if (!Number.isFinite(f)) {
      throw new RangeError(`${what}[${i}]: expected a finite float32 value, got ${describe(x)}${Number.isFinite(x) ? ' (beyond float32\'s range, ±3.4028235e38)' : ''}`);
    }
    out[i] = f;
  }
  return out;
}
