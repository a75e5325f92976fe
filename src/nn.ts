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
 * forward() returns op results: see the memory rules in src/autograd.ts.
 */
import { ShapeError, describe, fmtShape } from './errors.js';
import { Backend } from './backend.js';
import { Rng, Tensor } from './tensor.js';
import { mulberry32 } from './rng.js';
import { checkSeed } from './validate.js';

// ---- seeds ---------------------------------------------------------------------------------

let seedCounter = 0;
let seedBase = 0;

function splitmix32(x: number): number {
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

function nextSeed(): number {
  return splitmix32((seedBase + Math.imul(++seedCounter, 0x632be5ab)) >>> 0);
}



// ---- Module ----------------------------------------------------------------------------------

/** A state dict: parameter name → a copy of its values (row-major float32). */
export type StateDict = Record<string, Float32Array>;

/** The base of every layer: parameters, children, train/eval mode, state dicts. */
export abstract class Module {
  /** True in train mode (the default), false in eval mode. */
  training = true;
  /** @internal own parameters by name. */
  protected readonly _params: [string, Tensor][] = [];
  /** @internal child modules by name. */
  protected readonly _children: [string, Module][] = [];

  /** The layer's computation; returns an op result (see src/autograd.ts). */
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

  /** [name, parameter] pairs with torch's dotted names ('0.weight', '0.bias', ...). */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this._params) out.push([prefix + n, p]);
    for (const [n, c] of this._children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** The child modules, in order. */
  children(): Module[] {
    return this._children.map(([, c]) => c);
  }

  /** Copies of every parameter's values, keyed by name. */
  stateDict(): StateDict {
    const sd: StateDict = {};
    for (const [n, p] of this.namedParameters()) sd[n] = p.toFloat32Array();
    return sd;
  }

  /**
   * Copies values into the parameters. Every key must be present with the parameter's
   * element count, and no other key may appear; on any error nothing is changed.
   */
  loadStateDict(dict: Record<string, ArrayLike<number>>): this {
    if (dict === null || typeof dict !== 'object') throw new TypeError(`loadStateDict: expected an object of name → Float32Array, got ${describe(dict)}`);
    const named = this.namedParameters();
    const want = new Set(named.map(([n]) => n));
    const missing = named.filter(([n]) => !Object.prototype.hasOwnProperty.call(dict, n)).map(([n, p]) => `'${n}' ${fmtShape(p.shape)}`);
    const extra = Object.keys(dict).filter((k) => !want.has(k)).map((k) => `'${k}'`);
    if (missing.length > 0 || extra.length > 0) {
      const parts: string[] = [];
      if (missing.length > 0) parts.push(`missing key(s) ${missing.join(', ')}`);
      if (extra.length > 0) parts.push(`unexpected key(s) ${extra.join(', ')}`);
      throw new RangeError(`loadStateDict: ${parts.join('; ')}; expected exactly ${named.map(([n]) => `'${n}'`).join(', ')}`);
    }
    for (const [n, p] of named) {
      const v = dict[n];
      if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number') {
        throw new TypeError(`loadStateDict: '${n}': expected a Float32Array of ${p.size} values (shape ${fmtShape(p.shape)}), got ${describe(v)}`);
      }
      if (v.length !== p.size) {
        throw new ShapeError(`loadStateDict: '${n}' has ${v.length} values, but the parameter has shape ${fmtShape(p.shape)} (${p.size} values)`);
      }
    }
    for (const [n, p] of named) p.data.set(dict[n]!);
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
    this.weight = be.param([outFeatures, inFeatures], draw(outFeatures * inFeatures));
    this._params.push(['weight', this.weight]);
    this.bias = hasBias ? be.param([outFeatures], draw(outFeatures)) : null;
    if (this.bias !== null) this._params.push(['bias', this.bias]);
  }

  forward(x: Tensor): Tensor {
    return this.be.linear(x, this.weight, this.bias);
  }
}

function backendOf(x: unknown, what: string): Backend {
  if (!(x instanceof Tensor)) throw new TypeError(`${what}: expected a Tensor, got ${describe(x)}`);
  return x._be;
}

/** max(x, 0). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor { return backendOf(x, 'ReLU.forward').relu(x); }
}

/** Exact (erf) GELU, as torch.nn.GELU(). */
export class GELU extends Module {
  forward(x: Tensor): Tensor { return backendOf(x, 'GELU.forward').gelu(x); }
}

/** tanh. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor { return backendOf(x, 'Tanh.forward').tanh(x); }
}

export interface DropoutOptions {
  /** Seed of the layer's own dropout RNG (default: the next seed of the process-wide stream). */
  seed?: number;
}

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
    this.p = p;
    this.seed = options.seed === undefined ? nextSeed() : checkSeed(options.seed, 'Dropout seed');
  }

  forward(x: Tensor): Tensor {
    const be = backendOf(x, 'Dropout.forward');
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

  forward(x: Tensor): Tensor {
    let y = x;
    for (const [, m] of this._children) y = m.forward(y);
    return y;
  }
}
