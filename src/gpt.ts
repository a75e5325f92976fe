/**
 * The lesson's transformer: nanoGPT's architecture and parameter names (karpathy/nanoGPT,
 * model.py), so a regula state dict and a PyTorch `GPT.state_dict()` are interchangeable
 * key for key and shape for shape.
 *
 *   x = drop(wte[ids] + wpe[0..T−1])                 # (B·T, C)
 *   for each block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))
 *   logits = ln_f(x)·lm_headᵀ                       # (B·T, vocab)
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
 * in the order of its parts (GPT: transformer.drop, h.0, h.1, ...; Block: attn, mlp;
 * CausalSelfAttention: attn_dropout, resid_dropout; MLP: dropout). All of it runs in TypeScript, so both backends start from the
 * same bits.
 *
 * forward() returns op results (src/autograd.ts's memory rules).
 */
import { ShapeError, describe, fmtShape } from './errors.js';
import { Backend } from './backend.js';
import { Rng, Tensor } from './tensor.js';
import { mulberry32 } from './rng.js';
import { Dropout, GELU, Linear, Module, nextSeed, splitmix32, type StateValue } from './nn.js';
import { checkSeed } from './validate.js';
import { AdamW, type AdamOptions } from './optim.js';

// ---- initialization --------------------------------------------------------------------------

/** A stream of standard normals (Box–Muller over mulberry32; see the file note). */
function normals(seed: number): () => number {
  const u = mulberry32(seed);
  let spare = NaN;
  return () => {
    if (spare === spare) { const z = spare; spare = NaN; return z; }
    const r = Math.sqrt(-2 * Math.log(1 - u())), a = 2 * Math.PI * u();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

function fillNormal(t: Tensor, std: number, z: () => number): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = std * z();
}

/** The seeds a module with seed s hands to its parts (see the file note). */
function seedStream(seed: number): () => number {
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
function blockConfig(nEmbd: unknown, nHead: unknown, o: BlockOptions, what: string): { nEmbd: number; nHead: number; dropout: number; bias: boolean; seed: number } {
  const e = posInt(nEmbd, `${what} nEmbd`), h = posInt(nHead, `${what} nHead`);
  if (e % h !== 0) throw new ShapeError(`${what}: nEmbd (${e}) must be divisible by nHead (${h})`);
  if (o === null || typeof o !== 'object') throw new TypeError(`${what}: expected options { dropout?, bias?, seed? }, got ${describe(o)}`);
  const dropout = o.dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new RangeError(`${what}: expected dropout in [0, 1), got ${describe(dropout)}`);
  const bias = flagOpt(o.bias, true, `${what} bias`);
  const seed = o.seed === undefined ? nextSeed() : checkSeed(o.seed, `${what} seed`);
  return { nEmbd: e, nHead: h, dropout, bias, seed };
}

function posInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ShapeError(`${what}: expected a positive integer, got ${describe(v)}`);
  return v;
}

function flagOpt(v: unknown, d: boolean, what: string): boolean {
  if (v === undefined) return d;
  if (typeof v !== 'boolean') throw new TypeError(`${what}: expected true or false, got ${describe(v)}`);
  return v;
}

function backendArg(be: unknown, what: string): Backend {
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
    const seed = options.seed === undefined ? nextSeed() : checkSeed(options.seed, 'Embedding seed');
    const std = options.std ?? 1;
    if (typeof std !== 'number' || !(std >= 0) || !Number.isFinite(std)) throw new RangeError(`Embedding: expected std as a finite number ≥ 0, got ${describe(std)}`);
    this.weight = be.param([num, dim]);
    fillNormal(this.weight, std, normals(seed));
    this._params.push(['weight', this.weight]);
  }

  /** Rows of weight for the ids (an Int32Array, or a tensor of integer values). */
  forward(ids: Int32Array | Tensor): Tensor {
    return this.be.embedding(this.weight, idsOf(ids, 'Embedding.forward'));
  }
}

function idsOf(ids: unknown, what: string): Int32Array {
  if (ids instanceof Int32Array) return ids;
  if (ids instanceof Tensor) {
    const d = ids.data, out = new Int32Array(d.length);
    for (let i = 0; i < d.length; i++) {
      if (!Number.isInteger(d[i])) throw new RangeError(`${what}: token id ${i} is ${d[i]}, expected an integer`);
      out[i] = d[i]!;
    }
    return out;
  }
  if (Array.isArray(ids)) {
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
        throw new RangeError(`${what}: token id ${i} is ${describe(v)}, expected an integer`);
      }
      out[i] = v;
    }
    return out;
  }
  throw new TypeError(`${what}: expected token ids as an Int32Array or an array of integers, got ${describe(ids)}`);
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
    const eps = options.eps ?? 1e-5;
    if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) throw new RangeError(`LayerNorm: expected eps as a finite number ≥ 0, got ${describe(eps)}`);
    this.eps = eps;
    this.weight = be.param([dim], new Float32Array(dim).fill(1));
    this._params.push(['weight', this.weight]);
    this.bias = flagOpt(options.bias, true, 'LayerNorm bias') ? be.param([dim]) : null;
    if (this.bias !== null) this._params.push(['bias', this.bias]);
  }

  forward(x: Tensor): Tensor {
    return this.be.layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** The [B, T] of a forward; the modules below run on [B·T, C] rows. */
type BT = readonly [number, number];

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
    backendArg(be, 'CausalSelfAttention');
    const { dropout, bias, seed } = blockConfig(nEmbd, nHead, options, 'CausalSelfAttention');
    const seeds = seedStream(seed);
    this.nEmbd = nEmbd; this.nHead = nHead;
    this.c_attn = new Linear(be, nEmbd, 3 * nEmbd, { bias, seed: 0 });
    this.c_proj = new Linear(be, nEmbd, nEmbd, { bias, seed: 0 });
    this.attn_dropout = new Dropout(dropout, { seed: seeds() });
    this.resid_dropout = new Dropout(dropout, { seed: seeds() });
    this._children.push(['c_attn', this.c_attn], ['c_proj', this.c_proj], ['attn_dropout', this.attn_dropout], ['resid_dropout', this.resid_dropout]);
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
    const y = this.be.causalAttention(this.c_attn.forward(x), B, T, this.nHead, drop);
    return this.resid_dropout.forward(this.c_proj.forward(y));
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
    backendArg(be, 'MLP');
    const { dropout, bias, seed } = blockConfig(nEmbd, 1, options, 'MLP');
    this.c_fc = new Linear(be, nEmbd, 4 * nEmbd, { bias, seed: 0 });
    this.c_proj = new Linear(be, 4 * nEmbd, nEmbd, { bias, seed: 0 });
    this.dropout = new Dropout(dropout, { seed: seedStream(seed)() });
    this._children.push(['c_fc', this.c_fc], ['gelu', this.gelu], ['c_proj', this.c_proj], ['dropout', this.dropout]);
  }

  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.c_proj.forward(this.gelu.forward(this.c_fc.forward(x))));
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
    backendArg(be, 'Block');
    const { dropout, bias, seed } = blockConfig(nEmbd, nHead, options, 'Block');
    const seeds = seedStream(seed);
    this.ln_1 = new LayerNorm(be, nEmbd, { bias });
    this.attn = new CausalSelfAttention(be, nEmbd, nHead, { dropout, bias, seed: seeds() });
    this.ln_2 = new LayerNorm(be, nEmbd, { bias });
    this.mlp = new MLP(be, nEmbd, { dropout, bias, seed: seeds() });
    this._children.push(['ln_1', this.ln_1], ['attn', this.attn], ['ln_2', this.ln_2], ['mlp', this.mlp]);
  }

  /** x [B·T, C] → [B·T, C]; shape is [B, T]. */
  forward(x: Tensor, shape?: BT): Tensor {
    const be = this.be;
    x = be.add(x, this.attn.forward(this.ln_1.forward(x), shape));
    return be.add(x, this.mlp.forward(this.ln_2.forward(x)));
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

// ---- the model ---------------------------------------------------------------------------------

/** nn.GPT's configuration (nanoGPT's GPTConfig). */
export interface GPTConfig {
  vocabSize: number;
  /** The longest context (positions 0..blockSize−1). */
  blockSize: number;
  nLayer: number;
  nHead: number;
  /** The width C; divisible by nHead. */
  nEmbd: number;
  /** Dropout probability of every dropout layer (default 0). */
  dropout?: number;
  /** Biases in the Linears and LayerNorms (default true). */
  bias?: boolean;
  /** lm_head.weight is transformer.wte.weight (default true, as nanoGPT). */
  tieWeights?: boolean;
  /** Seed of the initialization and of the dropout RNGs (default: the next seed of the process-wide stream). */
  seed?: number;
}

/** Options of GPT.generate. */
export interface GenerateOptions {
  /** Divides the logits; 0 picks the argmax (greedy). Default 1. */
  temperature?: number;
  /** Sample among the topK largest logits only (ties with the k-th kept, as nanoGPT). */
  topK?: number;
  /** Seed of the sampling RNG (mulberry32; default 0). The same seed gives the same tokens on both backends. */
  seed?: number;
  /** A token id that ends the generation once generated (e.g. an end-of-name "\n"): the result ends with it. */
  stop?: number;
}

/** nanoGPT's two AdamW parameter groups, with the names that went into each. */
export interface GPTOptimizerGroups {
  /** [{ params: decayed, weightDecay }, { params: the rest, weightDecay: 0 }], ready for new optim.AdamW(groups, options). */
  groups: [{ params: Tensor[]; weightDecay: number }, { params: Tensor[]; weightDecay: number }];
  /** Names of the decayed parameters (every parameter of dimension ≥ 2: the projection matrices and the embeddings). */
  decay: string[];
  /** Names of the others (biases and LayerNorm weights). */
  noDecay: string[];
}

/**
 * nanoGPT's GPT: `new nn.GPT(be, { vocabSize, blockSize, nLayer, nHead, nEmbd, dropout, bias,
 * tieWeights, seed })`. forward(ids, [B, T]) → logits [B·T, vocabSize]; generate(); a
 * state dict keyed as PyTorch's GPT.state_dict(); optimizerGroups() / configureOptimizers()
 * for nanoGPT's decay rule.
 */
export class GPT extends Module {
  readonly config: Readonly<Required<Omit<GPTConfig, 'seed'>>> & { readonly seed: number };
  readonly transformer: Container;
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly drop: Dropout;
  readonly h: Block[];
  readonly ln_f: LayerNorm;
  readonly lm_head: LMHead;
  private positions = new Int32Array(0);
  private positionsT = -1;

  constructor(readonly be: Backend, config: GPTConfig) {
    super();
    backendArg(be, 'GPT');
    if (config === null || typeof config !== 'object') {
      throw new TypeError(`GPT: expected a config { vocabSize, blockSize, nLayer, nHead, nEmbd, dropout?, bias?, tieWeights?, seed? }, got ${describe(config)}`);
    }
    const known = ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd', 'dropout', 'bias', 'tieWeights', 'seed'];
    for (const k of Object.keys(config)) {
      if (!known.includes(k)) throw new TypeError(`GPT: unknown config key ${JSON.stringify(k)}; expected ${known.join(', ')}`);
    }
    const vocabSize = posInt(config.vocabSize, 'GPT vocabSize'), blockSize = posInt(config.blockSize, 'GPT blockSize');
    const nLayer = posInt(config.nLayer, 'GPT nLayer');
    const { nEmbd, nHead, dropout, bias, seed } = blockConfig(config.nEmbd, config.nHead,
      { dropout: config.dropout, bias: config.bias, seed: config.seed }, 'GPT');
    const tieWeights = flagOpt(config.tieWeights, true, 'GPT tieWeights');
    this.config = Object.freeze({ vocabSize, blockSize, nLayer, nHead, nEmbd, dropout, bias, tieWeights, seed });

    const seeds = seedStream(seed);
    this.wte = new Embedding(be, vocabSize, nEmbd, { seed: 0 });
    this.wpe = new Embedding(be, blockSize, nEmbd, { seed: 0 });
    this.drop = new Dropout(dropout, { seed: seeds() });
    this.h = [];
    for (let i = 0; i < nLayer; i++) this.h.push(new Block(be, nEmbd, nHead, { dropout, bias, seed: seeds() }));
    this.ln_f = new LayerNorm(be, nEmbd, { bias });
    this.transformer = new Container([['wte', this.wte], ['wpe', this.wpe], ['drop', this.drop],
      ['h', new Container(this.h.map((b, i) => [String(i), b]))], ['ln_f', this.ln_f]]);
    this.lm_head = new LMHead(be, tieWeights ? this.wte.weight : be.param([vocabSize, nEmbd]));
    this._children.push(['transformer', this.transformer], ['lm_head', this.lm_head]);

    // nanoGPT's init, in named-parameter order (see the file note).
    const z = normals(seed);
    const projStd = 0.02 / Math.sqrt(2 * nLayer);
    for (const [name, p] of this.namedParameters()) {
      if (p.shape.length === 1) {
        p.data.fill(name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name.endsWith('ln_f.weight') ? 1 : 0);
      } else {
        fillNormal(p, name.endsWith('c_proj.weight') ? projStd : 0.02, z);
      }
    }
  }

  /** The number of parameters (each tied tensor once). */
  numParams(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  /**
   * Loads a state dict keyed as stateDict() (Module.loadStateDict: with tying,
   * 'transformer.wte.weight' and 'lm_head.weight' may come alone or together, then equal).
   * The causal-mask buffers that nanoGPT registers on torch < 2 ('transformer.h.N.attn.bias',
   * the blockSize×blockSize lower-triangular 1/0 mask) are accepted and ignored; any other
   * difference (a missing or unknown key, a size of another config) throws before anything
   * changes.
   */
  override loadStateDict(dict: Record<string, StateValue>): this {
    if (dict === null || typeof dict !== 'object') return super.loadStateDict(dict);
    const own: Record<string, StateValue> = {};
    for (const k of Object.keys(dict)) {
      const m = /^transformer\.h\.(\d+)\.attn\.bias$/.exec(k);
      if (m !== null && Number(m[1]) < this.config.nLayer && isCausalMask(dict[k], this.config.blockSize)) continue;
      own[k] = dict[k]!;
    }
    return super.loadStateDict(own);
  }

  /** The [B, T] check of forward: ids of length B·T, 1 ≤ T ≤ blockSize. */
  private shapeOf(ids: Int32Array, shape: unknown): [number, number] {
    let B: number, T: number;
    if (shape === undefined) { B = 1; T = ids.length; } else {
      if (!Array.isArray(shape) || shape.length !== 2) throw new ShapeError(`GPT.forward: expected shape [B, T], got ${describe(shape)}`);
      B = posInt(shape[0], 'GPT.forward B'); T = posInt(shape[1], 'GPT.forward T');
    }
    if (T > this.config.blockSize) throw new ShapeError(`GPT.forward: T = ${T} exceeds blockSize ${this.config.blockSize}`);
    if (T < 1) throw new ShapeError('GPT.forward: expected at least one token');
    if (ids.length !== B * T) throw new ShapeError(`GPT.forward: shape [${B}, ${T}] needs ${B * T} token ids, got ${ids.length}`);
    return [B, T];
  }

  /**
   * Logits [B·T, vocabSize] for token ids (B sequences of T, row-major; an Int32Array, an
   * array of integers, or a tensor of integer values), shape [B, T] with T ≤ blockSize
   * (default [1, ids.length]). Everything is checked before anything runs.
   */
  forward(ids: Int32Array | number[] | Tensor, shape?: readonly [number, number]): Tensor {
    const be = this.be;
    const v = idsOf(ids, 'GPT.forward');
    const bt = this.shapeOf(v, shape ?? (ids instanceof Tensor && ids.shape.length === 2 ? [ids.shape[0]!, ids.shape[1]!] : undefined));
    be.kernels._checkIds(v, v.length, this.config.vocabSize, 'GPT.forward');
    const [B, T] = bt;
    if (this.positionsT !== T || this.positions.length !== B * T) {
      this.positions = new Int32Array(B * T);
      for (let i = 0; i < B * T; i++) this.positions[i] = i % T;
      this.positionsT = T;
    }
    let x = this.drop.forward(be.add(this.wte.forward(v), this.wpe.forward(this.positions)));
    for (const block of this.h) x = block.forward(x, bt);
    return this.lm_head.forward(this.ln_f.forward(x));
  }

  /**
   * Appends up to maxNewTokens tokens to prompt, one at a time, in eval mode (restored after): the
   * context is cropped to the last blockSize tokens, the last position's logits are divided
   * by temperature (0: argmax, the first of equal maxima), cut to the topK largest when
   * given, and sampled from their softmax with mulberry32(seed). Returns the prompt followed
   * by the new tokens, ending early after the token `stop` when it is given and generated. Each step ends with be.endStep(): op results from before the call are
   * freed, as at any step boundary.
   */
  generate(prompt: Int32Array | number[], maxNewTokens: number, options: GenerateOptions = {}): Int32Array {
    const be = this.be;
    const p = idsOf(prompt, 'GPT.generate prompt');
    if (p.length === 0) throw new ShapeError('GPT.generate: expected a prompt of at least one token, got none');
    be.kernels._checkIds(p, p.length, this.config.vocabSize, 'GPT.generate prompt');
    if (typeof maxNewTokens !== 'number' || !Number.isSafeInteger(maxNewTokens) || maxNewTokens < 0) {
      throw new RangeError(`GPT.generate: expected maxNewTokens as an integer ≥ 0, got ${describe(maxNewTokens)}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError(`GPT.generate: expected options { temperature?, topK?, seed? }, got ${describe(options)}`);
    const temperature = options.temperature ?? 1;
    if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) {
      throw new RangeError(`GPT.generate: expected temperature as a finite number ≥ 0, got ${describe(temperature)}`);
    }
    const topK = options.topK;
    if (topK !== undefined && (typeof topK !== 'number' || !Number.isSafeInteger(topK) || topK < 1)) {
      throw new RangeError(`GPT.generate: expected topK as an integer ≥ 1, got ${describe(topK)}`);
    }
    const { blockSize, vocabSize: V } = this.config;
    const stop = options.stop;
    if (stop !== undefined && (typeof stop !== 'number' || !Number.isSafeInteger(stop) || stop < 0 || stop >= V)) {
      throw new RangeError(`GPT.generate: expected stop as a token id in [0, ${V - 1}], got ${describe(stop)}`);
    }
    const u = mulberry32(checkSeed(options.seed ?? 0, 'GPT.generate seed'));
    const out = new Int32Array(p.length + maxNewTokens);
    out.set(p);
    const wasTraining = this.training;
    this.eval();
    try {
      const logit = new Float64Array(V);
      for (let n = p.length; n < out.length; n++) {
        const ctx = out.subarray(Math.max(0, n - blockSize), n);
        const logits = this.forward(ctx, [1, ctx.length]);
        const d = logits.data;
        for (let j = 0; j < V; j++) logit[j] = d[(ctx.length - 1) * V + j]!;
        be.endStep();
        out[n] = temperature === 0 ? argmax(logit) : sample(logit, temperature, topK, u());
        if (out[n] === stop) return out.slice(0, n + 1);
      }
    } finally {
      this.train(wasTraining);
    }
    return out;
  }

  /**
   * nanoGPT's configure_optimizers rule as groups: weight decay on every parameter of
   * dimension ≥ 2 (all projection matrices and the embeddings), none on biases and LayerNorm
   * weights; the names say which parameter went where.
   */
  optimizerGroups(weightDecay: number): GPTOptimizerGroups {
    const decay: string[] = [], noDecay: string[] = [];
    const dp: Tensor[] = [], np: Tensor[] = [];
    for (const [n, p] of this.namedParameters()) {
      if (p.shape.length >= 2) { decay.push(n); dp.push(p); } else { noDecay.push(n); np.push(p); }
    }
    return { groups: [{ params: dp, weightDecay }, { params: np, weightDecay: 0 }], decay, noDecay };
  }

  /** new optim.AdamW over optimizerGroups(weightDecay) (options other than weightDecay apply to both groups). */
  configureOptimizers(options: AdamOptions & { weightDecay: number }): AdamW {
    if (options === null || typeof options !== 'object') throw new TypeError(`configureOptimizers: expected options { weightDecay, lr, betas?, eps? }, got ${describe(options)}`);
    const { weightDecay, ...rest } = options;
    return new AdamW(this.optimizerGroups(weightDecay).groups, rest);
  }
}

/** Whether v (flat values or { shape, data }) is nanoGPT's blockSize² causal-mask buffer. */
function isCausalMask(v: unknown, blockSize: number): boolean {
  const d = v !== null && typeof v === 'object' && 'data' in v ? (v as { data: unknown }).data : v;
  if (d === null || typeof d !== 'object' || (d as ArrayLike<number>).length !== blockSize * blockSize) return false;
  const a = d as ArrayLike<number>;
  for (let i = 0; i < blockSize; i++) {
    for (let j = 0; j < blockSize; j++) if (a[i * blockSize + j] !== (j <= i ? 1 : 0)) return false;
  }
  return true;
}

/** The index of the largest value (the first of equal maxima). */
function argmax(v: Float64Array): number {
  let best = 0;
  for (let j = 1; j < v.length; j++) if (v[j]! > v[best]!) best = j;
  return best;
}

/** A draw from softmax(v/temperature) restricted to the topK largest (ties kept), with the uniform r in [0, 1). */
function sample(v: Float64Array, temperature: number, topK: number | undefined, r: number): number {
  const V = v.length;
  let cut = -Infinity;
  if (topK !== undefined && topK < V) cut = Array.from(v).sort((a, b) => b - a)[topK - 1]!;
  let m = -Infinity;
  for (let j = 0; j < V; j++) if (v[j]! >= cut && v[j]! / temperature > m) m = v[j]! / temperature;
  const e = new Float64Array(V);
  let s = 0;
  for (let j = 0; j < V; j++) if (v[j]! >= cut) s += (e[j] = Math.exp(v[j]! / temperature - m));
  let acc = 0, last = 0;
  const target = r * s;
  for (let j = 0; j < V; j++) {
    if (e[j]! === 0) continue;
    acc += e[j]!;
    last = j;
    if (target < acc) return j;
  }
  return last;
}
