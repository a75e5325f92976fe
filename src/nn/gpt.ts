/**
 * The lesson's transformer: nanoGPT's architecture and parameter names (karpathy/nanoGPT,
 * model.py), so a regula state dict and a PyTorch `GPT.state_dict()` are interchangeable
 * key for key and shape for shape.
 *
 *   x = drop(wte[ids] + wpe[0..T−1])                 # (B·T, C)
 *   for each block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))
 *   logits = ln_f(x)·lm_headᵀ                       # (B·T, vocab)
 *
 * The layers, their initialization and their seeds are in src/nn/gpt-layers.ts (whose note
 * gives the rules); sampling (generate) is in src/nn/generate.ts. forward() returns op results
 * (src/autograd/ops.ts's memory rules).
 */
import { ShapeError, describe } from '../rules/errors.js';
import { Backend } from '../backend.js';
import { Tensor } from '../core/tensor.js';
import { Dropout, Module, type StateValue } from './base.js';
import { AdamW, type AdamOptions } from '../optim/optimizers.js';
import {
  Block, Container, Embedding, LayerNorm, LMHead, backendArg, blockConfig, fillNormal, flagOpt, normals, posInt, seedStream,
} from './gpt-layers.js';
import { generate, type GenerateOptions } from './generate.js';
import { idsOf } from '../rules/checks.js';
import { checkKeys, hyper } from '../rules/validate.js';

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

const GPT_CONFIG_KEYS: Record<keyof GPTConfig, true> = {
  vocabSize: true, blockSize: true, nLayer: true, nHead: true, nEmbd: true, dropout: true, bias: true, tieWeights: true, seed: true,
};

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
    checkKeys(config, GPT_CONFIG_KEYS, 'GPT', 'config key');
    const vocabSize = posInt(config.vocabSize, 'GPT vocabSize'), blockSize = posInt(config.blockSize, 'GPT blockSize');
    const nLayer = posInt(config.nLayer, 'GPT nLayer');
    const { nEmbd, nHead, dropout, bias, seed } = blockConfig(config.nEmbd, config.nHead,
      { dropout: config.dropout, bias: config.bias, seed: config.seed }, 'GPT');
    const tieWeights = flagOpt(config.tieWeights, true, 'GPT tieWeights');
    this.config = Object.freeze({ vocabSize, blockSize, nLayer, nHead, nEmbd, dropout, bias, tieWeights, seed });

    const scope = be._atomicBegin(); // on failure (out of memory) everything made so far is freed
    try {
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
    } catch (e) {
      throw be._atomicRollback(scope, e);
    }
    be._atomicCommit(scope);
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
    // a null-prototype copy: a '__proto__' key stays a key (and is refused as unexpected) instead of setting a prototype
    const own: Record<string, StateValue> = Object.create(null) as Record<string, StateValue>;
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
    const v = idsOf(ids, this.config.vocabSize, 'GPT.forward');
    const bt = this.shapeOf(v, shape ?? (ids instanceof Tensor && ids.shape.length === 2 ? [ids.shape[0]!, ids.shape[1]!] : undefined));
    const [B, T] = bt;
    if (this.positionsT !== T || this.positions.length !== B * T) {
      this.positions = new Int32Array(B * T);
      for (let i = 0; i < B * T; i++) this.positions[i] = i % T;
      this.positionsT = T;
    }
    // Out of memory partway: the dropout RNGs get back their states (the next forward draws the masks this one would have).
    return be._keepRngsOnFailure(() => {
      let x = this.drop.forward(be.add(this.wte.forward(v), this.wpe.forward(this.positions)));
      for (const block of this.h) x = block.forward(x, bt);
      return this.lm_head.forward(this.ln_f.forward(x));
    });
  }

  /**
   * Appends up to maxNewTokens (≤ 2^24) tokens to prompt, one at a time, in eval mode (restored
   * after): the context is cropped to the last blockSize tokens, the last position's logits
   * are divided by temperature (0, or a temperature so small that the largest quotient
   * overflows: argmax, the first of equal maxima), cut to the topK largest when given, and
   * sampled from their softmax with mulberry32(seed). NaN or infinite logits throw, naming the step. Returns the
   * prompt followed by the new tokens, ending early after the token `stop` when it is given
   * and generated. Each step ends with be.endStep(): op results from before the call are
   * freed, as at any step boundary.
   */
  generate(prompt: Int32Array | number[], maxNewTokens: number, options: GenerateOptions = {}): Int32Array {
    return generate(this, prompt, maxNewTokens, options);
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
    if (options === null || typeof options !== 'object') throw new TypeError(`configureOptimizers: expected options { weightDecay, lr?, betas?, eps? }, got ${describe(options)}`);
    const { weightDecay, ...rest } = options;
    // required, as nanoGPT's configure_optimizers(weight_decay, ...): AdamW's own default (0.01) would silently apply
    if (weightDecay === undefined) throw new TypeError('configureOptimizers: weightDecay is required (nanoGPT\'s configure_optimizers takes weight_decay; its train.py uses 0.1), got none');
    hyper.weightDecay(weightDecay, 'configureOptimizers: weightDecay');
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
