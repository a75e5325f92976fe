/**
 * The transformer's layers (nanoGPT's model.py, karpathy/nanoGPT): Embedding, LayerNorm,
 * CausalSelfAttention, MLP, Block and the output head, with the initialization and seed
 * rules that nn.GPT (src/nn/gpt.ts) applies to all of them.
 *
 * attn: c_attn (C → 3C, q|k|v) → causal softmax(q·kᵀ/√hs) → attn_dropout → ·v → c_proj →
 * resid_dropout; mlp: c_fc (C → 4C) → exact-erf GELU → c_proj (4C → C) → dropout.
 *
 * Initialization (nanoGPT's): every Linear weight and embedding N(0, 0.02²), every
 * `c_proj.weight` N(0, (0.02/√(2·nLayer))²), biases 0, LayerNorm weight 1 and bias 0. The
 * normals come from one stream per model: mulberry32(seed) gives uniforms u1, u2 per pair,
 * z1 = √(−2·ln(1 − u1))·cos(2πu2), z2 = the same with sin; parameters draw in
 * named-parameter order, row-major, and each value is f32(std·z). The dropout layers get
 * their own seeds: a module with seed s hands out splitmix32(s + k·0x9E3779B9), k = 1, 2, ...
 * (splitmix32(x) = fmix32(x + 0x9E3779B9), one splitmix32 step from state x: src/nn/base.ts)
 * in the order of its parts (GPT: transformer.drop, h.0, h.1, ...; Block: attn, mlp;
 * CausalSelfAttention: attn_dropout, resid_dropout; MLP: dropout). All of it runs in
 * TypeScript, so both backends start from the same bits.
 *
 * forward() returns op results (src/autograd/ops.ts's memory rules).
 */
import { ShapeError, describe } from '../rules/errors.js';
import { Backend } from '../backend.js';
import { Rng, Tensor } from '../core/tensor.js';
import { mulberry32 } from '../core/rng.js';
import { Dropout, GELU, Linear, Module, nextSeed, splitmix32 } from './base.js';
import { checkKeys, checkSeed } from '../rules/validate.js';
import { idsOf } from '../rules/checks.js';

// ---- initialization --------------------------------------------------------------------------

/** A stream of standard normals (Box–Muller over mulberry32; see the file note). */
export function normals(seed: number): () => number {
  const u = mulberry32(seed);
  let spare = NaN;
  return () => {
    if (spare === spare) { const z = spare; spare = NaN; return z; }
    const r = Math.sqrt(-2 * Math.log(1 - u())), a = 2 * Math.PI * u();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

/** @internal Fills t with std·z() per element, row-major. */
export function fillNormal(t: Tensor, std: number, z: () => number): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = std * z();
}

/** The seeds a module with seed s hands to its parts (see the file note). */
export function seedStream(seed: number): () => number {
  let k = 0;
  return () => splitmix32((seed + Math.imul(++k, 0x9e3779b9)) >>> 0);
}

/** Options of the transformer's blocks and their parts. */
export interface BlockOptions {
  /** Dropout probability of every dropout layer (default 0). */
  dropout?: number;
  /** Biases in the Linears and LayerNorms (default true). */
  bias?: boolean;
  /** Seed of the dropout RNGs (default: the next seed of the process-wide stream). */
  seed?: number;
}

/** nEmbd, nHead and BlockOptions checked (before anything is allocated). */
export function blockConfig(nEmbd: unknown, nHead: unknown, o: BlockOptions, what: string): { nEmbd: number; nHead: number; dropout: number; bias: boolean; seed: number } {
  const e = posInt(nEmbd, `${what} nEmbd`), h = posInt(nHead, `${what} nHead`);
  if (e % h !== 0) throw new ShapeError(`${what}: nEmbd (${e}) must be divisible by nHead (${h})`);
  if (o === null || typeof o !== 'object') throw new TypeError(`${what}: expected options { dropout?, bias?, seed? }, got ${describe(o)}`);
  checkKeys(o, { dropout: true, bias: true, seed: true } satisfies Record<keyof BlockOptions, true>, what);
  const dropout = o.dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new RangeError(`${what}: expected dropout in [0, 1), got ${describe(dropout)}`);
  const bias = flagOpt(o.bias, true, `${what} bias`);
  const seed = o.seed === undefined ? nextSeed() : checkSeed(o.seed, `${what} seed`);
  return { nEmbd: e, nHead: h, dropout, bias, seed };
}

/** A part's constructor arguments checked (backend first), with the stream of seeds for its children. */
function partConfig(be: unknown, nEmbd: unknown, nHead: unknown, o: BlockOptions, what: string): { dropout: number; bias: boolean; seeds: () => number } {
  backendArg(be, what);
  const { dropout, bias, seed } = blockConfig(nEmbd, nHead, o, what);
  return { dropout, bias, seeds: seedStream(seed) };
}

/** @internal v as a positive safe integer, or a ShapeError naming `what`. */
export function posInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ShapeError(`${what}: expected a positive integer, got ${describe(v)}`);
  return v;
}

/** @internal An optional boolean option: d when undefined, a TypeError naming `what` when not a boolean. */
export function flagOpt(v: unknown, d: boolean, what: string): boolean {
  if (v === undefined) return d;
  if (typeof v !== 'boolean') throw new TypeError(`${what}: expected true or false, got ${describe(v)}`);
  return v;
}

/** @internal be as a Backend, or a TypeError naming the constructor `what`. */
export function backendArg(be: unknown, what: string): Backend {
  if (!(be instanceof Backend)) throw new TypeError(`${what}: expected a backend as the first argument, got ${describe(be)}`);
  return be;
}

/** A module container (nanoGPT's ModuleDict / ModuleList): named children, no forward of its own. */
export class Container extends Module {
  constructor(children: [string, Module][]) {
    super();
    this._children.push(...children);
  }
  forward(): Tensor {
    throw new TypeError('this module is a container (ModuleDict / ModuleList): call GPT.forward');
  }
}

// ---- layers ------------------------------------------------------------------------------------

/** Options of nn.Embedding. */
export interface EmbeddingOptions {
  /** Seed of the initialization RNG (default: the next seed of the process-wide stream). */
  seed?: number;
  /** Standard deviation of the N(0, std²) initialization (default 1, as torch.nn.Embedding). */
  std?: number;
}

/** A lookup table (torch.nn.Embedding): weight [num, dim]; forward(ids) → [ids.length, dim]. */
export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(readonly be: Backend, readonly num: number, readonly dim: number, options: EmbeddingOptions = {}) {
    super();
    backendArg(be, 'Embedding');
    posInt(num, 'Embedding num'); posInt(dim, 'Embedding dim');
    if (options === null || typeof options !== 'object') throw new TypeError(`Embedding: expected options { seed?, std? }, got ${describe(options)}`);
    checkKeys(options, { seed: true, std: true } satisfies Record<keyof EmbeddingOptions, true>, 'Embedding');
    const seed = options.seed === undefined ? nextSeed() : checkSeed(options.seed, 'Embedding seed');
    const std = options.std ?? 1;
    if (typeof std !== 'number' || !(std >= 0) || !Number.isFinite(std)) throw new RangeError(`Embedding: expected std as a finite number ≥ 0, got ${describe(std)}`);
    const scope = be._atomicBegin(); // on failure (out of memory) everything made so far is freed
    try {
      this.weight = be.param([num, dim]);
      fillNormal(this.weight, std, normals(seed));
      this._params.push(['weight', this.weight]);
    } catch (e) {
      throw be._atomicRollback(scope, e);
    }
    be._atomicCommit(scope);
  }

  /** Rows of weight for the ids (an Int32Array, or a tensor of integer values). */
  forward(ids: Int32Array | Tensor): Tensor {
    return this.be.embedding(this.weight, idsOf(ids, this.num, 'Embedding.forward'));
  }
}

/** Options of nn.LayerNorm. */
export interface LayerNormOptions {
  /** Whether the layer has a bias (default true; nanoGPT's `bias` config). */
  bias?: boolean;
  /** Added to the variance (default 1e-5, as torch). */
  eps?: number;
}

/** LayerNorm over the last dimension (torch.nn.LayerNorm(dim), bias optional as nanoGPT's): weight 1, bias 0. */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly eps: number;

  constructor(readonly be: Backend, readonly dim: number, options: LayerNormOptions = {}) {
    super();
    backendArg(be, 'LayerNorm');
    posInt(dim, 'LayerNorm dim');
    if (options === null || typeof options !== 'object') throw new TypeError(`LayerNorm: expected options { bias?, eps? }, got ${describe(options)}`);
    checkKeys(options, { bias: true, eps: true } satisfies Record<keyof LayerNormOptions, true>, 'LayerNorm');
    const eps = options.eps ?? 1e-5;
    if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) throw new RangeError(`LayerNorm: expected eps as a finite number ≥ 0, got ${describe(eps)}`);
    this.eps = eps;
    const scope = be._atomicBegin(); // on failure (out of memory) everything made so far is freed
    try {
      this.weight = be.param([dim], new Float32Array(dim).fill(1));
      this._params.push(['weight', this.weight]);
      this.bias = flagOpt(options.bias, true, 'LayerNorm bias') ? be.param([dim]) : null;
      if (this.bias !== null) this._params.push(['bias', this.bias]);
    } catch (e) {
      throw be._atomicRollback(scope, e);
    }
    be._atomicCommit(scope);
  }

  forward(x: Tensor): Tensor {
    return this.be.layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** The [B, T] of a forward; the modules below run on [B·T, C] rows. */
export type BT = readonly [number, number];

/** nanoGPT's CausalSelfAttention: c_attn, c_proj, attn_dropout, resid_dropout. */
export class CausalSelfAttention extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  readonly attn_dropout: Dropout;
  readonly resid_dropout: Dropout;
  private readonly rngs = new Map<Backend, Rng>();

  readonly nEmbd: number;
  readonly nHead: number;

  constructor(readonly be: Backend, nEmbd: number, nHead: number, options: BlockOptions = {}) {
    super();
    const { dropout, bias, seeds } = partConfig(be, nEmbd, nHead, options, 'CausalSelfAttention');
    this.nEmbd = nEmbd; this.nHead = nHead;
    const scope = be._atomicBegin(); // on failure (out of memory) everything made so far is freed
    try {
      this.c_attn = new Linear(be, nEmbd, 3 * nEmbd, { bias, seed: 0 });
      this.c_proj = new Linear(be, nEmbd, nEmbd, { bias, seed: 0 });
      this.attn_dropout = new Dropout(dropout, { seed: seeds() });
      this.resid_dropout = new Dropout(dropout, { seed: seeds() });
      this._children.push(['c_attn', this.c_attn], ['c_proj', this.c_proj], ['attn_dropout', this.attn_dropout], ['resid_dropout', this.resid_dropout]);
    } catch (e) {
      throw be._atomicRollback(scope, e);
    }
    be._atomicCommit(scope);
  }

  /** x [B·T, C] → [B·T, C]; shape is [B, T] (default: one sequence of all rows). */
  forward(x: Tensor, shape?: BT): Tensor {
    const [B, T] = shape ?? [1, x.shape[0] ?? 0];
    const p = this.attn_dropout.p;
    let drop = null;
    if (this.training && p > 0) {
      let rng = this.rngs.get(this.be);
      if (rng === undefined || rng.disposed) this.rngs.set(this.be, (rng = this.be.rng(this.attn_dropout.seed)));
      drop = { p, rng };
    }
    return this.be._keepRngsOnFailure(() => {
      const y = this.be.causalAttention(this.c_attn.forward(x), B, T, this.nHead, drop);
      return this.resid_dropout.forward(this.c_proj.forward(y));
    });
  }

  override dispose(): void {
    super.dispose();
    for (const r of this.rngs.values()) r.dispose();
    this.rngs.clear();
  }
}

/** nanoGPT's MLP: c_fc (C → 4C), exact GELU, c_proj (4C → C), dropout. */
export class MLP extends Module {
  readonly c_fc: Linear;
  readonly gelu = new GELU();
  readonly c_proj: Linear;
  readonly dropout: Dropout;

  constructor(be: Backend, nEmbd: number, options: BlockOptions = {}) {
    super();
    const { dropout, bias, seeds } = partConfig(be, nEmbd, 1, options, 'MLP');
    const scope = be._atomicBegin(); // on failure (out of memory) everything made so far is freed
    try {
      this.c_fc = new Linear(be, nEmbd, 4 * nEmbd, { bias, seed: 0 });
      this.c_proj = new Linear(be, 4 * nEmbd, nEmbd, { bias, seed: 0 });
      this.dropout = new Dropout(dropout, { seed: seeds() });
      this._children.push(['c_fc', this.c_fc], ['gelu', this.gelu], ['c_proj', this.c_proj], ['dropout', this.dropout]);
    } catch (e) {
      throw be._atomicRollback(scope, e);
    }
    be._atomicCommit(scope);
  }

  forward(x: Tensor): Tensor {
    return this.c_fc.be._keepRngsOnFailure(() => this.dropout.forward(this.c_proj.forward(this.gelu.forward(this.c_fc.forward(x)))));
  }
}

/** nanoGPT's pre-LN Block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
export class Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLP;

  constructor(readonly be: Backend, nEmbd: number, nHead: number, options: BlockOptions = {}) {
    super();
    const { dropout, bias, seeds } = partConfig(be, nEmbd, nHead, options, 'Block');
    const scope = be._atomicBegin(); // on failure (out of memory) everything made so far is freed
    try {
      this.ln_1 = new LayerNorm(be, nEmbd, { bias });
      this.attn = new CausalSelfAttention(be, nEmbd, nHead, { dropout, bias, seed: seeds() });
      this.ln_2 = new LayerNorm(be, nEmbd, { bias });
      this.mlp = new MLP(be, nEmbd, { dropout, bias, seed: seeds() });
      this._children.push(['ln_1', this.ln_1], ['attn', this.attn], ['ln_2', this.ln_2], ['mlp', this.mlp]);
    } catch (e) {
      throw be._atomicRollback(scope, e);
    }
    be._atomicCommit(scope);
  }

  /** x [B·T, C] → [B·T, C]; shape is [B, T]. */
  forward(x: Tensor, shape?: BT): Tensor {
    const be = this.be;
    return be._keepRngsOnFailure(() => {
      const y = be.add(x, this.attn.forward(this.ln_1.forward(x), shape));
      return be.add(y, this.mlp.forward(this.ln_2.forward(y)));
    });
  }
}

/** The output projection (nanoGPT's lm_head, no bias); with tying its weight is transformer.wte.weight. */
export class LMHead extends Module {
  constructor(readonly be: Backend, readonly weight: Tensor) {
    super();
    this._params.push(['weight', weight]);
  }
  forward(x: Tensor): Tensor {
    return this.be.linear(x, this.weight, null);
  }
}
