/**
 * The checked kernels (`be.kernels`): what every kernel checks before it runs (the rules
 * themselves, shared with autograd and the optimizers, are in src/rules/).
 *
 * Each method checks its tensors (type, backend, disposal, shapes, aliasing) and options
 * before anything is written, then calls the trusted path (`be._trusted`,
 * src/backend/trusted.ts), which returns early on empty work and calls the backend's raw
 * kernel. The table kernels (src/backend/raw.ts `TABLE`) get their checks from their
 * signature (`tableCheck`, src/rules/checks.ts, with the rules autograd and the optimizers share);
 * the others are written out below.
 */
import { ShapeError, describe, fmtShape } from '../rules/errors.js';
import { Rng, Tensor, type TensorOwner } from './tensor.js';
import { TABLE_NAMES } from '../backend/raw.js';
import type { BatchedLayout, TensorTable, TrustedKernels } from '../backend/trusted.js';
import { checkDropout, checkLabels, checkTableRows, checkTensor, colVec, dims2, injective, matmulDims, same, squares, tableCheck } from '../rules/checks.js';
import { checkDim, checkKeys, checkNumber, expectShape, optionalBool, optionsOf, resolveAdam, resolveSgd } from '../rules/validate.js';

export interface MatmulOptions { transA?: boolean; transB?: boolean; accumulate?: boolean }

/**
 * The layout of be.kernels.matmulBatched (contract in src/backend/raw.ts). For z in
 * 0..batch·heads−1 (b = ⌊z/heads⌋, h = z mod heads), C_z (+)= op(A_z)·op(B_z) with C_z m×n at
 * element offC + b·sCb + h·sCh of out (row stride ldc), A_z at offA + b·sAb + h·sAh of a
 * (row stride lda; stored m×k, or k×m when transA), B_z at offB + b·sBb + h·sBh of b (row
 * stride ldb; stored k×n, or n×k when transB). All in elements of the tensors' flat data.
 * Defaults: heads 1, offsets 0, transposes and accumulate false, row strides the stored
 * row length (dense rows), head strides rows·ld, batch strides heads·(head stride): a
 * dense [batch, heads, rows, cols] layout.
 */
export interface MatmulBatchedOptions {
  batch: number; heads?: number; m: number; n: number; k: number;
  offA?: number; lda?: number; sAb?: number; sAh?: number;
  offB?: number; ldb?: number; sBb?: number; sBh?: number;
  offC?: number; ldc?: number; sCb?: number; sCh?: number;
  transA?: boolean; transB?: boolean; accumulate?: boolean;
  /** A_z is lower triangular as stored: output (i, j) sums only p ≤ i (p ≥ i with transA). Default false. */
  causalA?: boolean;
  /** Only the outputs j ≤ i get terms; the others are 0 (left as they are with accumulate). Default false. */
  causalOut?: boolean;
}

export interface SgdStepOptions {
  lr: number; momentum?: number; dampening?: number; weightDecay?: number;
  nesterov?: boolean; maximize?: boolean; l1?: number;
  /** True on the first step with momentum: the buffer is set to d_p rather than updated. */
  first?: boolean;
}

export interface AdamStepOptions {
  lr: number; betas?: [number, number]; eps?: number; weightDecay?: number;
  /** false: Adam (L2 added to the gradient); true: AdamW (p ← p·(1 − lr·wd) first). */
  decoupled?: boolean;
  amsgrad?: boolean; maximize?: boolean; l1?: number;
  /** The step number t ≥ 1 (after incrementing), for the bias corrections. */
  step: number;
}

const MATMUL_KEYS: Record<keyof MatmulOptions, true> = { transA: true, transB: true, accumulate: true };
const MATMUL_BATCHED_KEYS: Record<keyof MatmulBatchedOptions, true> = {
  batch: true, heads: true, m: true, n: true, k: true, offA: true, lda: true, sAb: true, sAh: true, offB: true, ldb: true, sBb: true, sBh: true,
  offC: true, ldc: true, sCb: true, sCh: true, transA: true, transB: true, accumulate: true, causalA: true, causalOut: true,
};
const SGD_STEP_KEYS: Record<keyof SgdStepOptions, true> = { lr: true, momentum: true, dampening: true, weightDecay: true, nesterov: true, maximize: true, l1: true, first: true };
const ADAM_STEP_KEYS: Record<keyof AdamStepOptions, true> = {
  lr: true, betas: true, eps: true, weightDecay: true, decoupled: true, amsgrad: true, maximize: true, l1: true, step: true,
};


export interface Kernels extends TensorTable {}

/**
 * The checked kernels (`be.kernels`): in place, `out` first, no autograd; every argument
 * checked before anything is written. Besides the methods below, one method per table
 * kernel (src/backend/raw.ts `TABLE`): `add(out, a, b)`, `relu(out, x)`, `scale(out, x, alpha)`,
 * `mseBackward(out, a, b, alpha)`, `sum(x)`, `mse(a, b)`, ...
 */
export class Kernels {
  /** @internal the tensors' owner (whose tensors these kernels accept) and its trusted path. */
  constructor(private readonly be: TensorOwner, private readonly t: TrustedKernels) {
    for (const name of TABLE_NAMES) (this as unknown as Record<string, unknown>)[name] = tableCheck(be, this.t, name);
  }

  /** out (+)= op(a)·op(b); a: m×k (k×m when transA), b: k×n (n×k when transB), out: m×n. */
  matmul(out: Tensor, a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
    const be = this.be;
    checkTensor(be, out, 'matmul out'); checkTensor(be, a, 'matmul a'); checkTensor(be, b, 'matmul b');
    options = optionsOf<MatmulOptions>(options, MATMUL_KEYS, 'matmul');
    const transA = optionalBool(options.transA, 'matmul transA');
    const transB = optionalBool(options.transB, 'matmul transB');
    const accumulate = optionalBool(options.accumulate, 'matmul accumulate');
    const [m, n] = matmulDims(a, b, transA, transB);
    const os = out.shape;
    if (os.length !== 2 || os[0] !== m || os[1] !== n) expectShape(os, [m, n], 'matmul out');
    if (out === a || out === b) throw new ShapeError('matmul: out must not be the same tensor as a or b');
    return this.t.matmul(out, a, b, transA, transB, accumulate);
  }

  /**
   * Strided batched matmul over (batch, head) pairs: the attention matmuls, reading heads in
   * place (layout and defaults: MatmulBatchedOptions; order of each sum as matmul's). Every
   * element any pair touches must lie inside its tensor, strides and offsets must be
   * non-negative integers, out's blocks must not overlap one another, and out must be
   * neither a nor b (a and b may be the same tensor).
   */
  matmulBatched(out: Tensor, a: Tensor, b: Tensor, o: MatmulBatchedOptions): Tensor {
    const be = this.be;
    checkTensor(be, out, 'matmulBatched out'); checkTensor(be, a, 'matmulBatched a'); checkTensor(be, b, 'matmulBatched b');
    if (o === null || typeof o !== 'object') throw new TypeError(`matmulBatched: expected options { batch, m, n, k, ... }, got ${describe(o)}`);
    checkKeys(o, MATMUL_BATCHED_KEYS, 'matmulBatched');
    const transA = optionalBool(o.transA, 'matmulBatched transA');
    const transB = optionalBool(o.transB, 'matmulBatched transB');
    const accumulate = optionalBool(o.accumulate, 'matmulBatched accumulate');
    const causalA = optionalBool(o.causalA, 'matmulBatched causalA'), causalOut = optionalBool(o.causalOut, 'matmulBatched causalOut');
    const dim = (v: unknown, what: string, fallback?: number) => checkDim(v === undefined ? fallback : v, `matmulBatched ${what}`);
    const batch = dim(o.batch, 'batch'), heads = dim(o.heads, 'heads', 1);
    const m = dim(o.m, 'm'), n = dim(o.n, 'n'), k = dim(o.k, 'k');
    // Stored shapes: A is rA×cA, B is rB×cB, C is m×n.
    const rA = transA ? k : m, cA = transA ? m : k, rB = transB ? n : k, cB = transB ? k : n;
    const offA = dim(o.offA, 'offA', 0), lda = dim(o.lda, 'lda', cA);
    const sAh = dim(o.sAh, 'sAh', rA * lda), sAb = dim(o.sAb, 'sAb', heads * sAh);
    const offB = dim(o.offB, 'offB', 0), ldb = dim(o.ldb, 'ldb', cB);
    const sBh = dim(o.sBh, 'sBh', rB * ldb), sBb = dim(o.sBb, 'sBb', heads * sBh);
    const offC = dim(o.offC, 'offC', 0), ldc = dim(o.ldc, 'ldc', n);
    const sCh = dim(o.sCh, 'sCh', m * ldc), sCb = dim(o.sCb, 'sCb', heads * sCh);
    if (out === a || out === b) throw new ShapeError('matmulBatched: out must not be the same tensor as a or b');
    const L: BatchedLayout = { batch, heads, m, n, k, offA, lda, sAb, sAh, offB, ldb, sBb, sBh, offC, ldc, sCb, sCh, transA, transB, accumulate, causalA, causalOut };
    if (batch === 0 || heads === 0 || m === 0 || n === 0) return out;
    // The last element each operand touches (strides ≥ 0: the largest index of every dimension).
    const reach = (t: Tensor, what: string, off: number, sb: number, sh: number, rows: number, ld: number, cols: number, stored: string) => {
      const last = off + (batch - 1) * sb + (heads - 1) * sh + (rows - 1) * ld + (cols - 1);
      if (last >= t.size) {
        throw new ShapeError(`matmulBatched ${what}: the ${batch}×${heads} blocks of ${stored} at offset ${off}, ` +
          `batch stride ${sb}, head stride ${sh}, row stride ${ld} reach element ${last}, but ${what} ${fmtShape(t.shape)} holds ${t.size}`);
      }
    };
    reach(out, 'out', offC, sCb, sCh, m, ldc, n, `${m}×${n}`);
    if (k > 0) {
      reach(a, 'a', offA, sAb, sAh, rA, lda, cA, `${rA}×${cA}${transA ? ' (transA)' : ''}`);
      reach(b, 'b', offB, sBb, sBh, rB, ldb, cB, `${rB}×${cB}${transB ? ' (transB)' : ''}`);
    }
    if (!injective([[batch, sCb], [heads, sCh], [m, ldc], [n, 1]])) {
      throw new ShapeError(`matmulBatched out: blocks (batch ${batch}, heads ${heads}, m ${m}, n ${n}) with strides ` +
        `(${sCb}, ${sCh}, ${ldc}, 1) overlap: some element of out would be written twice`);
    }
    return this.t.matmulBatched(out, a, b, L);
  }

  /**
   * out = gelu(x) (the same bits as `gelu`) and d = f32(Φ(x) + x·φ(x)), the derivative, in
   * one pass; out, d and x of one shape. out may be x; d must not be out or x.
   */
  geluWithGrad(out: Tensor, d: Tensor, x: Tensor): Tensor {
    same(this.be, 'geluWithGrad', out, x, d);
    if (d === out || d === x) throw new ShapeError('geluWithGrad: d must not be out or x');
    return this.t.geluWithGrad(out, d, x);
  }

  /** out = sign(x)·max(|x| − t, 0); out may be x. */
  softThreshold(out: Tensor, x: Tensor, t: number): Tensor {
    checkTensor(this.be, out, 'softThreshold out'); checkTensor(this.be, x, 'softThreshold x');
    expectShape(out.shape, x.shape, 'softThreshold out');
    checkNumber(t, 'softThreshold t (threshold)', { min: 0 });
    return this.t.softThreshold(out, x, t);
  }

  /**
   * Inverted dropout: out = x·m/(1 − p), m ~ Bernoulli(1 − p) drawn from rng (which
   * advances). mask, when given, receives 1 (kept) or 0 (dropped). out may be x.
   */
  dropout(out: Tensor, x: Tensor, p: number, rng: Rng, mask?: Tensor | null): Tensor {
    const be = this.be;
    checkTensor(be, out, 'dropout out'); checkTensor(be, x, 'dropout x');
    expectShape(out.shape, x.shape, 'dropout out');
    checkDropout(be, p, rng);
    const m = mask ?? null;
    if (m !== null) {
      checkTensor(be, m, 'dropout mask');
      expectShape(m.shape, x.shape, 'dropout mask');
      if (m === x || m === out) throw new ShapeError('dropout: mask must be a tensor of its own');
    }
    return this.t.dropout(out, x, p, rng, m);
  }

  /** One fused SGD step on p with gradient g (torch.optim.SGD), then the L1 prox when l1 > 0. */
  sgdStep(p: Tensor, g: Tensor, buf: Tensor | null, o: SgdStepOptions): Tensor {
    const be = this.be;
    checkTensor(be, p, 'sgdStep p'); checkTensor(be, g, 'sgdStep g');
    expectShape(g.shape, p.shape, 'sgdStep g');
    if (o === null || typeof o !== 'object') throw new TypeError(`sgdStep: expected options { lr, ... }, got ${describe(o)}`);
    checkKeys(o, SGD_STEP_KEYS, 'sgdStep');
    const h = resolveSgd(o as unknown as Record<string, unknown>, {}, 'sgdStep');
    const first = optionalBool(o.first, 'sgdStep: first');
    if (h.momentum !== 0) {
      if (buf === null || buf === undefined) throw new TypeError('sgdStep: momentum > 0 needs a momentum buffer tensor, got none');
      checkTensor(be, buf, 'sgdStep momentum buffer');
      expectShape(buf.shape, p.shape, 'sgdStep momentum buffer');
    }
    if (g === p || (h.momentum !== 0 && (buf === p || buf === g))) throw new ShapeError('sgdStep: p, g and the momentum buffer must be distinct tensors');
    return this.t.sgdStep(p, g, h.momentum !== 0 ? buf : null, h, first);
  }

  /** One fused Adam (coupled L2) or AdamW (decoupled) step, then the L1 prox when l1 > 0. */
  adamStep(p: Tensor, g: Tensor, m: Tensor, v: Tensor, vmax: Tensor | null, o: AdamStepOptions): Tensor {
    const be = this.be;
    checkTensor(be, p, 'adamStep p'); checkTensor(be, g, 'adamStep g'); checkTensor(be, m, 'adamStep m'); checkTensor(be, v, 'adamStep v');
    expectShape(g.shape, p.shape, 'adamStep g');
    expectShape(m.shape, p.shape, 'adamStep m (first moment)');
    expectShape(v.shape, p.shape, 'adamStep v (second moment)');
    if (o === null || typeof o !== 'object') throw new TypeError(`adamStep: expected options { lr, step, ... }, got ${describe(o)}`);
    checkKeys(o, ADAM_STEP_KEYS, 'adamStep');
    const h = resolveAdam(o as unknown as Record<string, unknown>, {}, 'adamStep', 0);
    const decoupled = optionalBool(o.decoupled, 'adamStep: decoupled');
    const step = o.step;
    if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 1) throw new RangeError(`adamStep: expected step as an integer ≥ 1, got ${describe(step)}`);
    if (h.amsgrad) {
      if (vmax === null || vmax === undefined) throw new TypeError('adamStep: amsgrad needs a max-second-moment tensor (vmax), got none');
      checkTensor(be, vmax, 'adamStep vmax');
      expectShape(vmax.shape, p.shape, 'adamStep vmax');
    }
    if (g === p || m === p || m === g || v === p || v === g || v === m ||
      (h.amsgrad && (vmax === p || vmax === g || vmax === m || vmax === v))) {
      throw new ShapeError('adamStep: p, g, m, v (and vmax) must be distinct tensors');
    }
    return this.t.adamStep(p, g, m, v, h.amsgrad ? vmax : null, h, decoupled, step);
  }

  /** out = x + b with b (length cols) added to every row of x (rows×cols). out may be x. */
  addRowVector(out: Tensor, x: Tensor, b: Tensor): Tensor {
    same(this.be, 'addRowVector', out, x);
    checkTensor(this.be, b, 'addRowVector b');
    const [, cols] = dims2(x, 'addRowVector x');
    if (b.size !== cols || b.shape.length !== 1) throw new ShapeError(`addRowVector b: expected shape [${cols}], got ${fmtShape(b.shape)}`);
    if (b === out) throw new ShapeError('addRowVector: out must not be b');
    return this.t.addRowVector(out, x, b);
  }

  /** out[i] = value. */
  fill(out: Tensor, value: number): Tensor {
    checkTensor(this.be, out, 'fill out');
    if (typeof value !== 'number') throw new TypeError(`fill: expected a number, got ${describe(value)}`);
    return this.t.fill(out, value);
  }

  /** out[j] = Σ_i x[i, j] (x rows×cols, out [cols]). */
  sumRows(out: Tensor, x: Tensor): Tensor {
    checkTensor(this.be, out, 'sumRows out'); checkTensor(this.be, x, 'sumRows x');
    const [, cols] = dims2(x, 'sumRows x');
    expectShape(out.shape, [cols], 'sumRows out');
    return this.t.sumRows(out, x);
  }

  /**
   * Mean softmax cross-entropy of logits (rows×cols) against int32 labels. With `exps`
   * (a tensor of logits' shape, not logits) it also stores f32(exp(x − row max)) there,
   * for crossEntropyBackwardExps; the loss is the same.
   */
  crossEntropy(logits: Tensor, labels: Int32Array, exps?: Tensor | null): number {
    checkTensor(this.be, logits, 'crossEntropy logits');
    checkLabels(logits, labels, 'crossEntropy');
    const e = exps ?? null;
    if (e !== null) {
      checkTensor(this.be, e, 'crossEntropy exps');
      expectShape(e.shape, logits.shape, 'crossEntropy exps');
      if (e === logits) throw new ShapeError('crossEntropy: exps must not be logits');
    }
    return this.t.crossEntropy(logits, labels, e);
  }

  /** out = alpha·(softmax(logits) − onehot(labels)); out may be logits. */
  crossEntropyBackward(out: Tensor, logits: Tensor, labels: Int32Array, alpha: number): Tensor {
    this.softmaxGrad('crossEntropyBackward', out, logits, labels, alpha);
    return this.t.crossEntropyBackward(out, logits, labels, alpha);
  }

  /**
   * out = alpha·(softmax − onehot(labels)) from the exps crossEntropy stored: the same bits
   * as crossEntropyBackward on the logits of that call, without the exps. out may be exps.
   */
  crossEntropyBackwardExps(out: Tensor, exps: Tensor, labels: Int32Array, alpha: number): Tensor {
    this.softmaxGrad('crossEntropyBackwardExps', out, exps, labels, alpha);
    return this.t.crossEntropyBackwardExps(out, exps, labels, alpha);
  }

  /** The checks of the two cross-entropy backwards (src is logits or exps). */
  private softmaxGrad(name: string, out: Tensor, src: Tensor, labels: Int32Array, alpha: number): void {
    same(this.be, name, out, src);
    checkLabels(src, labels, name);
    checkNumber(alpha, `${name} alpha`);
  }

  // ---- the transformer's kernels (families 'layernorm', 'softmax', 'embedding') ----

  /** The [rows] statistics tensor `t` of a LayerNorm over `rows` rows. */
  private rowStat(t: Tensor, rows: number, what: string): void {
    checkTensor(this.be, t, what);
    if (t.shape.length !== 1 || t.shape[0] !== rows) expectShape(t.shape, [rows], what);
  }

  /**
   * LayerNorm over the last dimension of x [rows, cols] (torch's layer_norm): out =
   * (x − μ)/√(σ² + eps)·weight + bias per row (weight / bias null: left out). mean and rstd
   * ([rows]) receive μ and 1/√(σ² + eps) for layerNormBackward. out may be x.
   */
  layerNorm(out: Tensor, x: Tensor, weight: Tensor | null, bias: Tensor | null, mean: Tensor, rstd: Tensor, eps = 1e-5): Tensor {
    same(this.be, 'layerNorm', out, x);
    const [rows, cols] = dims2(x, 'layerNorm x');
    const w = colVec(this.be, weight, cols, 'layerNorm weight'), b = colVec(this.be, bias, cols, 'layerNorm bias');
    this.rowStat(mean, rows, 'layerNorm mean'); this.rowStat(rstd, rows, 'layerNorm rstd');
    checkNumber(eps, 'layerNorm eps', { min: 0 });
    if (mean === rstd || mean === out || rstd === out || mean === x || rstd === x) throw new ShapeError('layerNorm: mean and rstd must be tensors of their own');
    if (w === out || b === out) throw new ShapeError('layerNorm: out must not be weight or bias');
    if (cols === 0) throw new ShapeError(`layerNorm x: expected at least one column, got ${fmtShape(x.shape)}`);
    return this.t.layerNorm(out, x, w, b, mean, rstd, eps);
  }

  /**
   * LayerNorm backward: dx from the upstream g, x and the forward's mean and rstd; adds the
   * weight and bias gradients (rows in order) into dweight and dbias when given (null:
   * skipped). weight is the forward's weight (null when it had none).
   */
  layerNormBackward(dx: Tensor, g: Tensor, x: Tensor, weight: Tensor | null, mean: Tensor, rstd: Tensor,
    dweight: Tensor | null = null, dbias: Tensor | null = null): Tensor {
    same(this.be, 'layerNormBackward', dx, g, x);
    const [rows, cols] = dims2(x, 'layerNormBackward x');
    const w = colVec(this.be, weight, cols, 'layerNormBackward weight');
    const dw = colVec(this.be, dweight, cols, 'layerNormBackward dweight'), db = colVec(this.be, dbias, cols, 'layerNormBackward dbias');
    this.rowStat(mean, rows, 'layerNormBackward mean'); this.rowStat(rstd, rows, 'layerNormBackward rstd');
    const ins = [g, x, w, mean, rstd, dw, db];
    for (let i = 0; i < ins.length; i++) {
      const t = ins[i];
      if (t === null) continue;
      if (t === dx) throw new ShapeError('layerNormBackward: dx must be a tensor of its own');
      for (let j = i + 1; j < ins.length; j++) {
        if ((i >= 5 || j >= 5) && t === ins[j]) throw new ShapeError('layerNormBackward: dweight and dbias must be tensors of their own');
      }
    }
    return this.t.layerNormBackward(dx, g, x, w, mean, rstd, dw, db);
  }

  /**
   * The attention softmax: out = softmax(x·scale) over keys j ≤ t in each row t of each
   * t×t matrix of x [z, t, t] (the causal mask), 0 above the diagonal. out may be x.
   */
  causalSoftmax(out: Tensor, x: Tensor, scale: number): Tensor {
    same(this.be, 'causalSoftmax', out, x);
    squares(x, 'causalSoftmax x');
    checkNumber(scale, 'causalSoftmax scale');
    return this.t.causalSoftmax(out, x, scale);
  }

  /** The gradient of causalSoftmax with respect to x, from its output p and the upstream g. out may be g. */
  causalSoftmaxBackward(out: Tensor, p: Tensor, g: Tensor, scale: number): Tensor {
    same(this.be, 'causalSoftmaxBackward', out, p, g);
    squares(p, 'causalSoftmaxBackward p');
    checkNumber(scale, 'causalSoftmaxBackward scale');
    if (out === p) throw new ShapeError('causalSoftmaxBackward: out may alias g, not p');
    return this.t.causalSoftmaxBackward(out, p, g, scale);
  }

  /** Embedding lookup: out row i = weight row ids[i]; weight [vocab, cols], out [ids.length, cols]. */
  embedding(out: Tensor, weight: Tensor, ids: Int32Array): Tensor {
    checkTableRows(this.be, weight, out, ids, 'embedding', 'weight', 'out');
    return this.t.embedding(out, weight, ids);
  }

  /** Scatter-add, the embedding's backward: dweight row ids[i] += g row i, i in order. */
  embeddingBackward(dweight: Tensor, g: Tensor, ids: Int32Array): Tensor {
    checkTableRows(this.be, dweight, g, ids, 'embeddingBackward', 'dweight', 'g');
    return this.t.embeddingBackward(dweight, g, ids);
  }
}
