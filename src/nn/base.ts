/**
 * Layers with torch.nn's names, layouts and defaults: `Linear` (weight [out, in], bias
 * [out], torch's default init), `ReLU`, `GELU`, `Tanh`, `Dropout` (inverted, identity in eval
 * mode) and `Sequential` (children named '0', '1', ...; state-dict keys such as '0.weight').
 *
 * Initialization RNG: a layer's initial values come from mulberry32 (a 32-bit generator)
 * seeded with the layer's `seed`; draw i gives u = next() / 2^32 in [0, 1) and the value
 * f32((2u − 1)·bound). The weight is drawn first (row-major), then the bias. A layer given
 * no seed takes the next one from a process-wide seed stream (splitmix32 of a counter),
 * which `manualSeed(s)` resets, as torch.manual_seed does for torch's default generator:
 * the same program gives the same weights on every run and on both backends.
 *
 * forward() returns op results: see the memory rules in src/autograd/ops.ts.
 */
import { ShapeError, describe, fmtShape } from '../rules/errors.js';
import { Backend, backendOf } from '../backend.js';
import { Rng, Tensor } from '../core/tensor.js';
import { mulberry32 } from '../core/rng.js';
import { checkKeys, checkSeed, checkShape, finiteFloat32Copy, sameShape } from '../rules/validate.js';

// ---- seeds ---------------------------------------------------------------------------------

let seedCounter = 0;
let seedBase = 0;

/** @internal one splitmix32 step from state x: murmur3's fmix32 finalizer of x + 0x9E3779B9 (uint32). */
export function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Resets the seed stream that layers without an explicit `seed` draw from. */
export function manualSeed(seed: number): void {
  checkSeed(seed, 'manualSeed');
  seedBase = seed >>> 0;
  seedCounter = 0;
}

/** @internal the next seed of the process-wide stream (layers given no seed). */
export function nextSeed(): number {
  return splitmix32((seedBase + Math.imul(++seedCounter, 0x632be5ab)) >>> 0);
}



// ---- Module ----------------------------------------------------------------------------------

/** A state dict: parameter name → a copy of its values (row-major float32). */
export type StateDict = Record<string, Float32Array>;

/** The values loadStateDict accepts for one key: flat values, or values with the shape they claim. */
export type StateValue = Float32Array | Float64Array | readonly number[] | { readonly shape: readonly number[]; readonly data: Float32Array | Float64Array | readonly number[] };

/** One state-dict value checked against its parameter: a float32 copy, or a clear error naming the key. */
function stateValues(v: unknown, p: Tensor, key: string): Float32Array {
  const what = `loadStateDict: '${key}'`;
  let data = v;
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && 'data' in v) {
    const shape = checkShape((v as { shape?: unknown }).shape, `${what} shape`);
    if (!sameShape(shape, p.shape)) throw new ShapeError(`${what} has shape ${fmtShape(shape)}, but the parameter has shape ${fmtShape(p.shape)}`);
    data = (v as { data: unknown }).data;
  }
  return finiteFloat32Copy(data, p.size, what, `the parameter has shape ${fmtShape(p.shape)} (${p.size} values)`);
}

/** The first index where two float32 arrays of one length differ bitwise (−0 ≠ 0), or −1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** The base of every layer: parameters, children, train/eval mode, state dicts. */
export abstract class Module {
  /** True in train mode (the default), false in eval mode. */
  training = true;
  /** @internal own parameters by name. */
  protected readonly _params: [string, Tensor][] = [];
  /** @internal child modules by name. */
  protected readonly _children: [string, Module][] = [];

  /** The layer's computation; returns an op result (see src/autograd/ops.ts). */
  abstract forward(x: Tensor): Tensor;

  /** Sets train mode (mode = true) or eval mode, here and in every child. Returns this. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError(`train(): expected true or false, got ${describe(mode)}`);
    this.training = mode;
    for (const [, c] of this._children) c.train(mode);
    return this;
  }

  /** Eval mode: dropout becomes the identity. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Every parameter, children's included, in registration order. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /**
   * [name, parameter] pairs with torch's dotted names ('0.weight', '0.bias', ...). A parameter
   * registered under two names (tied weights) is listed once, under the first, as torch's
   * named_parameters() does.
   */
  namedParameters(prefix = ''): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.stateEntries(prefix)) {
      if (!seen.has(p)) out.push([n, p]);
      seen.add(p);
    }
    return out;
  }

  /**
   * Every state-dict key with its parameter, in registration order: as namedParameters(), but
   * a tied parameter appears under each of its names (as in torch's state_dict()).
   */
  stateEntries(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this._params) out.push([prefix + n, p]);
    for (const [n, c] of this._children) out.push(...c.stateEntries(`${prefix}${n}.`));
    return out;
  }

  /** The child modules, in order. */
  children(): Module[] {
    return this._children.map(([, c]) => c);
  }

  /** Copies of every parameter's values, keyed by name (flat, row-major; the shapes are in stateEntries()). */
  stateDict(): StateDict {
    const sd: StateDict = {};
    for (const [n, p] of this.stateEntries()) sd[n] = p.toFloat32Array();
    return sd;
  }

  /**
   * Copies values into the parameters. The dict is untrusted input: every key must be present
   * (a tied parameter: at least one of its names; several must hold equal values), no other
   * key may appear, and each value is a Float32Array, Float64Array or array of numbers with
   * the parameter's element count, or `{ shape, data }` (as `safetensors.load` gives) whose
   * shape must equal the parameter's. Values must be finite and within float32's range.
   * Everything is checked, and copied out, before the first parameter changes: on any error
   * the model is as it was.
   */
  loadStateDict(dict: Record<string, StateValue>): this {
    if (dict === null || typeof dict !== 'object') throw new TypeError(`loadStateDict: expected an object of name → Float32Array, got ${describe(dict)}`);
    const entries = this.stateEntries();
    const names = new Map<Tensor, string[]>();
    for (const [n, p] of entries) names.set(p, [...(names.get(p) ?? []), n]);
    const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(dict, k);
    const want = new Set(entries.map(([n]) => n));
    const missing = [...names].filter(([, ns]) => !ns.some(has)).map(([p, ns]) => `${ns.map((n) => `'${n}'`).join(' or ')} ${fmtShape(p.shape)}`);
    const extra = Object.keys(dict).filter((k) => !want.has(k)).map((k) => `'${k}'`);
    if (missing.length > 0 || extra.length > 0) {
      const parts: string[] = [];
      if (missing.length > 0) parts.push(`missing key(s) ${missing.join(', ')}`);
      if (extra.length > 0) parts.push(`unexpected key(s) ${extra.join(', ')}`);
      throw new RangeError(`loadStateDict: ${parts.join('; ')}; expected exactly ${entries.map(([n]) => `'${n}'`).join(', ')}`);
    }
    const staged = new Map<Tensor, [string, Float32Array]>();
    for (const [n, p] of entries) {
      if (!has(n)) continue;
      p.assertLive(`loadStateDict: '${n}'`);
      const v = stateValues(dict[n], p, n);
      const prev = staged.get(p);
      if (prev === undefined) staged.set(p, [n, v]);
      else {
        const i = firstDifference(prev[1], v);
        if (i >= 0) throw new RangeError(`loadStateDict: '${prev[0]}' and '${n}' are one tied parameter, so their values must be equal; they differ at index ${i} (${describe(prev[1][i])} vs ${describe(v[i])}${prev[1][i] === v[i] ? ': equal as numbers, but a tie is one tensor, so the bits must match' : ''})`);
      }
    }
    for (const [p, [, v]] of staged) p.data.set(v);
    return this;
  }

  /** Frees the parameters (and RNGs) of this module and its children. */
  dispose(): void {
    for (const [, p] of this._params) p.dispose();
    for (const [, c] of this._children) c.dispose();
  }
}

// ---- layers ----------------------------------------------------------------------------------

export interface LinearOptions {
  /** Seed of the initialization RNG (default: the next seed of the process-wide stream). */
  seed?: number;
  /** Whether the layer has a bias (default true). */
  bias?: boolean;
}

const LINEAR_KEYS: Record<keyof LinearOptions, true> = { seed: true, bias: true };

/**
 * y = x·Wᵀ + b with W [out, in] and b [out], as torch.nn.Linear. Initialization as torch's
 * default (kaiming_uniform with a = √5, which is U(−1/√in, 1/√in), and the same bound for
 * the bias), drawn from mulberry32(seed).
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(readonly be: Backend, inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    if (!(be instanceof Backend)) throw new TypeError(`Linear: expected a backend as the first argument, got ${describe(be)}`);
    for (const [v, what] of [[inFeatures, 'inFeatures'], [outFeatures, 'outFeatures']] as const) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ShapeError(`Linear: expected ${what} as a non-negative integer, got ${describe(v)}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError(`Linear: expected options { seed?, bias? }, got ${describe(options)}`);
    checkKeys(options, LINEAR_KEYS, 'Linear');
    const seed = options.seed === undefined ? nextSeed() : checkSeed(options.seed, 'Linear seed');
    const hasBias = options.bias ?? true;
    if (typeof hasBias !== 'boolean') throw new TypeError(`Linear: expected bias as true or false, got ${describe(hasBias)}`);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    const next = mulberry32(seed);
    const draw = (n: number) => {
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = (2 * next() - 1) * bound;
      return v;
    };
    const scope = be._atomicBegin(); // on failure (out of memory) everything made so far is freed
    try {
      this.weight = be.param([outFeatures, inFeatures], draw(outFeatures * inFeatures));
      this._params.push(['weight', this.weight]);
      this.bias = hasBias ? be.param([outFeatures], draw(outFeatures)) : null;
      if (this.bias !== null) this._params.push(['bias', this.bias]);
    } catch (e) {
      throw be._atomicRollback(scope, e);
    }
    be._atomicCommit(scope);
  }

  forward(x: Tensor): Tensor {
    return this.be.linear(x, this.weight, this.bias);
  }
}

function inputBackend(x: unknown, what: string): Backend {
  if (!(x instanceof Tensor)) throw new TypeError(`${what}: expected a Tensor, got ${describe(x)}`);
  return backendOf(x);
}

/** max(x, 0). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor { return inputBackend(x, 'ReLU.forward').relu(x); }
}

/** Exact (erf) GELU, as torch.nn.GELU(). */
export class GELU extends Module {
  forward(x: Tensor): Tensor { return inputBackend(x, 'GELU.forward').gelu(x); }
}

/** tanh. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor { return inputBackend(x, 'Tanh.forward').tanh(x); }
}

export interface DropoutOptions {
  /** Seed of the layer's own dropout RNG (default: the next seed of the process-wide stream). */
  seed?: number;
}

const DROPOUT_KEYS: Record<keyof DropoutOptions, true> = { seed: true };

/**
 * Inverted dropout: in train mode x·m/(1 − p) with a fresh mask m ~ Bernoulli(1 − p) per
 * call, drawn from the layer's own RNG (be.rng(seed), made on the first forward on a
 * backend); in eval mode the identity (returns x itself).
 */
export class Dropout extends Module {
  readonly p: number;
  readonly seed: number;
  private readonly rngs = new Map<Backend, Rng>();

  constructor(p = 0.5, options: DropoutOptions = {}) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`Dropout: expected p in [0, 1], got ${describe(p)}`);
    if (options === null || typeof options !== 'object') throw new TypeError(`Dropout: expected options { seed? }, got ${describe(options)}`);
    checkKeys(options, DROPOUT_KEYS, 'Dropout');
    this.p = p;
    this.seed = options.seed === undefined ? nextSeed() : checkSeed(options.seed, 'Dropout seed');
  }

  forward(x: Tensor): Tensor {
    const be = inputBackend(x, 'Dropout.forward');
    if (!this.training || this.p === 0) return x;
    let rng = this.rngs.get(be);
    if (rng === undefined || rng.disposed) this.rngs.set(be, (rng = be.rng(this.seed)));
    return be.dropout(x, this.p, rng);
  }

  override dispose(): void {
    for (const r of this.rngs.values()) r.dispose();
    this.rngs.clear();
  }
}

/** Applies its children in order; they are named '0', '1', ... as in torch. */
export class Sequential extends Module {
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      if (!(m instanceof Module)) throw new TypeError(`Sequential: argument ${i} is not a Module, got ${describe(m)}`);
      this._children.push([String(i), m]);
    });
  }

  /** The number of children. */
  get length(): number { return this._children.length; }

  /** The i-th child. */
  at(i: number): Module | undefined { return this._children[i]?.[1]; }

  /** Out of memory partway, the dropout RNGs of its layers get back their states. */
  forward(x: Tensor): Tensor {
    const run = () => {
      let y = x;
      for (const [, m] of this._children) y = m.forward(y);
      return y;
    };
    return x instanceof Tensor ? backendOf(x)._keepRngsOnFailure(run) : run();
  }
}
