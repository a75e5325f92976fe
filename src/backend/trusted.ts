/**
 * The trusted path: every kernel on tensors, without checks (`be._trusted`).
 *
 * Internal callers (autograd, optimizers, linear models, layers) check their arguments once
 * where they enter the library, with the rules of src/rules/ (those `be.kernels` applies,
 * src/core/checked-kernels.ts), then call these. A caller here promises what `be.kernels` would have checked: live tensors of this backend,
 * the shapes and aliasing each kernel's contract names (src/backend/raw.ts), finite or
 * valid scalars. Breaking the promise writes out of bounds or into another tensor: nothing
 * here protects against it.
 *
 * What this layer does: it returns early on zero-sized work, reads sizes from the
 * tensors' shapes, and computes the scalars derived from options (bias corrections, the
 * decoupled decay factor, the dropout threshold, lr·l1) once in float64 for both backends.
 */
import type { Rng, Tensor } from '../core/tensor.js';
import { dropThreshold } from '../core/rng.js';
import type { AnyStorage } from './storage.js';
import { TABLE, TABLE_NAMES, type TableName } from './raw.js';

/** Resolved SGD options (every option present and valid). */
export interface SgdHyper {
  lr: number; momentum: number; dampening: number; weightDecay: number;
  nesterov: boolean; maximize: boolean; l1: number;
}

/** Resolved Adam / AdamW options (every option present and valid). */
export interface AdamHyper {
  lr: number; betas: readonly [number, number] | [number, number]; eps: number; weightDecay: number;
  amsgrad: boolean; maximize: boolean; l1: number;
}

/** A matmulBatched layout with every option resolved (see MatmulBatchedOptions in src/core/checked-kernels.ts). */
export interface BatchedLayout {
  batch: number; heads: number; m: number; n: number; k: number;
  offA: number; lda: number; sAb: number; sAh: number;
  offB: number; ldb: number; sBb: number; sBh: number;
  offC: number; ldc: number; sCb: number; sCh: number;
  transA: boolean; transB: boolean; accumulate: boolean;
  causalA: boolean; causalOut: boolean;
}

/** The table kernels' signatures on tensors (sizes come from the tensors). */
export interface TensorSignatures {
  map: (out: Tensor, x: Tensor) => Tensor;
  zip: (out: Tensor, a: Tensor, b: Tensor) => Tensor;
  mapScalar: (out: Tensor, x: Tensor, alpha: number) => Tensor;
  zipScalar: (out: Tensor, a: Tensor, b: Tensor, alpha: number) => Tensor;
  reduce: (x: Tensor) => number;
  reduce2: (a: Tensor, b: Tensor) => number;
}

/** The table kernels on tensors (one method per `TABLE` entry). */
export type TensorTable = { [K in TableName]: TensorSignatures[(typeof TABLE)[K]['sig']] };

/** The trusted entry of one table kernel, from its raw kernel `f` and signature. */
function tableKernel(f: (...args: never[]) => unknown, sig: (typeof TABLE)[TableName]['sig']): TensorSignatures[typeof sig] {
  // One shape per signature; `f` is the backend's raw kernel, called with handles and sizes.
  const g = f as unknown as (...args: unknown[]) => number;
  switch (sig) {
    case 'map': return (out: Tensor, x: Tensor) => { if (x.size > 0) g(out._h, x._h, x.size); return out; };
    case 'zip': return (out: Tensor, a: Tensor, b: Tensor) => { if (a.size > 0) g(out._h, a._h, b._h, a.size); return out; };
    case 'mapScalar': return (out: Tensor, x: Tensor, alpha: number) => { if (x.size > 0) g(out._h, x._h, x.size, alpha); return out; };
    case 'zipScalar': return (out: Tensor, a: Tensor, b: Tensor, alpha: number) => { if (a.size > 0) g(out._h, a._h, b._h, a.size, alpha); return out; };
    case 'reduce': return (x: Tensor) => (x.size === 0 ? 0 : g(x._h, x.size));
    case 'reduce2': return (a: Tensor, b: Tensor) => g(a._h, b._h, a.size);
  }
}

export interface TrustedKernels extends TensorTable {}

/** The trusted path of one backend (see the file comment). */
export class TrustedKernels {
  constructor(private readonly s: AnyStorage) {
    for (const name of TABLE_NAMES) {
      (this as unknown as Record<string, unknown>)[name] = tableKernel(s.raw[name] as (...args: never[]) => unknown, TABLE[name].sig);
    }
  }

  /** out (+)= op(a)·op(b) (shapes as Kernels.matmul checks them). */
  matmul(out: Tensor, a: Tensor, b: Tensor, transA: boolean, transB: boolean, accumulate: boolean): Tensor {
    const m = out.shape[0]!, n = out.shape[1]!, k = transA ? a.shape[0]! : a.shape[1]!;
    if (m === 0 || n === 0) return out;
    if (k === 0) {
      if (!accumulate) this.s.raw.fill(out._h, m * n, 0);
      return out;
    }
    this.s.raw.matmul(out._h, a._h, b._h, m, n, k, transA, transB, accumulate);
    return out;
  }

  /** The strided batched matmul over (batch, head) pairs, layout L in range and out's blocks disjoint. */
  matmulBatched(out: Tensor, a: Tensor, b: Tensor, L: BatchedLayout): Tensor {
    const { batch, heads, m, n, k, transA, transB, accumulate, causalA, causalOut } = L;
    if (batch === 0 || heads === 0 || m === 0 || n === 0 || (k === 0 && accumulate)) return out;
    const rA = transA ? k : m, rB = transB ? n : k;
    // Strides of a dimension of size 1 are never used: pass 0 (the wasm kernel takes i32).
    const one = (size: number, s: number) => (size > 1 ? s : 0);
    this.s.raw.matmulBatched(out._h, a._h, b._h, batch, heads, m, n, k,
      L.offA, one(rA, L.lda), one(batch, L.sAb), one(heads, L.sAh), L.offB, one(rB, L.ldb), one(batch, L.sBb), one(heads, L.sBh),
      L.offC, one(m, L.ldc), one(batch, L.sCb), one(heads, L.sCh), transA, transB, accumulate, causalA, causalOut);
    return out;
  }

  /** out = gelu(x) and d = its derivative at x, in one pass. */
  geluWithGrad(out: Tensor, d: Tensor, x: Tensor): Tensor {
    if (x.size > 0) this.s.raw.geluWithGrad(out._h, d._h, x._h, x.size);
    return out;
  }

  /** out = sign(x)·max(|x| − t, 0). */
  softThreshold(out: Tensor, x: Tensor, t: number): Tensor {
    if (x.size > 0) this.s.raw.softThreshold(out._h, x._h, x.size, t);
    return out;
  }

  /** Inverted dropout with drop probability p ∈ [0, 1]; mask (or null) receives 1/0. */
  dropout(out: Tensor, x: Tensor, p: number, rng: Rng, mask: Tensor | null): Tensor {
    const n = x.size, raw = this.s.raw;
    if (n === 0) return out;
    if (p === 0) {
      if (out !== x) out.data.set(x.data);
      if (mask !== null) raw.fill(mask._h, n, 1);
    } else if (p === 1) {
      raw.fill(out._h, n, 0);
      if (mask !== null) raw.fill(mask._h, n, 0);
    } else {
      raw.dropout(out._h, x._h, n, dropThreshold(p), 1 / (1 - p), rng._h, mask === null ? null : mask._h);
    }
    return out;
  }

  /** One fused SGD step (buf non-null when momentum ≠ 0; first: the buffer is new). */
  sgdStep(p: Tensor, g: Tensor, buf: Tensor | null, o: SgdHyper, first: boolean): Tensor {
    if (p.size > 0) {
      this.s.raw.sgdStep(p._h, g._h, buf === null ? p._h : buf._h, p.size, o.lr, o.momentum, o.dampening,
        o.weightDecay, o.nesterov, o.maximize, o.lr * o.l1, first);
    }
    return p;
  }

  /** One fused Adam (decoupled false) or AdamW step; step is t ≥ 1; vmax non-null when amsgrad. */
  adamStep(p: Tensor, g: Tensor, m: Tensor, v: Tensor, vmax: Tensor | null, o: AdamHyper, decoupled: boolean, step: number): Tensor {
    if (p.size === 0) return p;
    const { lr, eps, weightDecay } = o, beta1 = o.betas[0], beta2 = o.betas[1];
    const stepSize = lr / (1 - beta1 ** step);
    const bc2sqrt = Math.sqrt(1 - beta2 ** step);
    this.s.raw.adamStep(p._h, g._h, m._h, v._h, vmax === null ? v._h : vmax._h, p.size, beta1, beta2, stepSize, bc2sqrt, eps,
      decoupled ? 0 : weightDecay, decoupled ? 1 - lr * weightDecay : 1, o.amsgrad, o.maximize, lr * o.l1);
    return p;
  }

  /** out = x + b, b added to every row of x [rows, cols]. */
  addRowVector(out: Tensor, x: Tensor, b: Tensor): Tensor {
    if (x.size > 0) this.s.raw.addRowVector(out._h, x._h, b._h, x.shape[0]!, x.shape[1]!);
    return out;
  }

  /** out[i] = value. */
  fill(out: Tensor, value: number): Tensor {
    if (out.size > 0) this.s.raw.fill(out._h, out.size, value);
    return out;
  }

  /** out[j] = Σ_i x[i, j]. */
  sumRows(out: Tensor, x: Tensor): Tensor {
    const rows = x.shape[0]!, cols = x.shape[1]!;
    if (cols === 0) return out;
    if (rows === 0) this.s.raw.fill(out._h, cols, 0);
    else this.s.raw.sumRows(out._h, x._h, rows, cols);
    return out;
  }

  /** Mean softmax cross-entropy of logits [rows ≥ 1, cols] against labels in [0, cols); exps (or null) receives the exps. */
  crossEntropy(logits: Tensor, labels: Int32Array, exps: Tensor | null): number {
    return this.s.raw.crossEntropy(logits._h, this.s.labels(labels), logits.shape[0]!, logits.shape[1]!, exps === null ? null : exps._h);
  }

  /** out = alpha·(softmax(logits) − onehot(labels)). */
  crossEntropyBackward(out: Tensor, logits: Tensor, labels: Int32Array, alpha: number): Tensor {
    this.s.raw.crossEntropyBackward(out._h, logits._h, this.s.labels(labels), logits.shape[0]!, logits.shape[1]!, alpha);
    return out;
  }

  /** crossEntropyBackward from the exps crossEntropy stored. */
  crossEntropyBackwardExps(out: Tensor, exps: Tensor, labels: Int32Array, alpha: number): Tensor {
    this.s.raw.crossEntropyBackwardExps(out._h, exps._h, this.s.labels(labels), exps.shape[0]!, exps.shape[1]!, alpha);
    return out;
  }

  // ---- the transformer's kernels (families 'layernorm', 'softmax', 'embedding') ----

  /** LayerNorm over the last dimension of x [rows, cols ≥ 1]; mean and rstd [rows] receive the statistics. */
  layerNorm(out: Tensor, x: Tensor, weight: Tensor | null, bias: Tensor | null, mean: Tensor, rstd: Tensor, eps: number): Tensor {
    const rows = x.shape[0]!, cols = x.shape[1]!;
    if (rows > 0) this.s.raw.layerNorm(out._h, x._h, weight === null ? null : weight._h, bias === null ? null : bias._h, mean._h, rstd._h, rows, cols, eps);
    return out;
  }

  /** LayerNorm's backward into dx, adding into dweight and dbias when non-null. */
  layerNormBackward(dx: Tensor, g: Tensor, x: Tensor, weight: Tensor | null, mean: Tensor, rstd: Tensor,
    dweight: Tensor | null, dbias: Tensor | null): Tensor {
    const rows = x.shape[0]!, cols = x.shape[1]!;
    if (rows === 0 || cols === 0) return dx;
    this.s.raw.layerNormBackward(dx._h, g._h, x._h, weight === null ? null : weight._h, mean._h, rstd._h,
      dweight === null ? null : dweight._h, dbias === null ? null : dbias._h, rows, cols);
    return dx;
  }

  /** The causal softmax of x [z, t, t]·scale. */
  causalSoftmax(out: Tensor, x: Tensor, scale: number): Tensor {
    const z = x.shape[0]!, t = x.shape[1]!;
    if (z > 0 && t > 0) this.s.raw.causalSoftmax(out._h, x._h, z, t, scale);
    return out;
  }

  /** The causal softmax's gradient from its output p and the upstream g. */
  causalSoftmaxBackward(out: Tensor, p: Tensor, g: Tensor, scale: number): Tensor {
    const z = p.shape[0]!, t = p.shape[1]!;
    if (z > 0 && t > 0) this.s.raw.causalSoftmaxBackward(out._h, p._h, g._h, z, t, scale);
    return out;
  }

  /** out row i = weight row ids[i]. */
  embedding(out: Tensor, weight: Tensor, ids: Int32Array): Tensor {
    const n = out.shape[0]!, cols = weight.shape[1]!;
    if (n > 0 && cols > 0) this.s.raw.embedding(out._h, weight._h, this.s.labels(ids), n, cols);
    return out;
  }

  /** dweight row ids[i] += g row i, i in order. */
  embeddingBackward(dweight: Tensor, g: Tensor, ids: Int32Array): Tensor {
    const n = g.shape[0]!, cols = dweight.shape[1]!;
    if (n > 0 && cols > 0) this.s.raw.embeddingBackward(dweight._h, g._h, this.s.labels(ids), n, cols);
    return dweight;
  }

  // ---- linear models (family 'linear'; see raw.ts). X is row-major [n, d]; the cd kernels read a column-major [·, n] copy. ----

  /** Epochs of coordinate descent, residual form, over the first m entries of idx (all columns of x [·, n] when null); returns the epochs done (the kernel handles m = 0). */
  cdResidual(w: Tensor, r: Tensor, x: Tensor, norms: Tensor, idx: Tensor | null, m: number,
    l1: number, l2: number, tol: number, epochs: number, stats: Tensor): number {
    return this.s.raw.cdResidual(w._h, r._h, x._h, norms._h, idx === null ? null : idx._h, r.size, m, l1, l2, tol, epochs, stats._h);
  }

  /** Epochs of coordinate descent in the Gram form (q = Xᵀr, G = XᵀX [d, d]) over the first m entries of idx (all when null). */
  cdGram(w: Tensor, q: Tensor, g: Tensor, norms: Tensor, idx: Tensor | null, xty: Tensor, m: number, n: number,
    l1: number, l2: number, tol: number, epochs: number, yy: number, a: number, b: number, target: number, stats: Tensor): number {
    return this.s.raw.cdGram(w._h, q._h, g._h, norms._h, idx === null ? null : idx._h, xty._h, q.size, m, n, l1, l2, tol, epochs, yy, a, b, target, stats._h);
  }

  /** out[k] = X_jᵀv for the first m listed columns j (all when idx is null) of x [·, n] column-major. */
  colDots(out: Tensor, x: Tensor, v: Tensor, idx: Tensor | null, m: number): Tensor {
    if (m > 0) this.s.raw.colDots(out._h, x._h, v._h, idx === null ? null : idx._h, v.size, m);
    return out;
  }

  /** r = y − Xw, x [n, d], over the non-zero w_j among the first m entries of idx (all d when null). */
  residual(r: Tensor, y: Tensor, x: Tensor, w: Tensor, idx: Tensor | null, m: number): Tensor {
    this.s.raw.residual(r._h, y._h, x._h, w._h, idx === null ? null : idx._h, r.size, w.size, m);
    return r;
  }

  /** out = Xᵀv for x [n, d] in one pass; with norms, also ‖X_j‖²/n and the total of the squares (returned). acc: [1, ≥ 4d] scratch. */
  xtDots(out: Tensor, x: Tensor, v: Tensor, acc: Tensor, norms: Tensor | null): number {
    return this.s.raw.xtDots(out._h, x._h, v._h, x.shape[0]!, x.shape[1]!, acc._h, norms === null ? null : norms._h);
  }

  /** r64 = y − Xw in f64 (n f64 values in r64 [1, ≥ 2n]) and r = f32(r64), x [n, d], over all d columns (raw.ts residual64's order). */
  residual64(r64: Tensor, r: Tensor, y: Tensor, x: Tensor, w: Tensor): Tensor {
    this.s.raw.residual64(r64._h, r._h, y._h, x._h, w._h, x.shape[0]!, x.shape[1]!);
    return r;
  }

  /** u [1, n] = Xp and out [1, d] = Xᵀu for x [n, d] in one pass (colDots then xtDots's bits). acc: [1, ≥ 2d] scratch. */
  xtxDots(out: Tensor, x: Tensor, p: Tensor, u: Tensor, acc: Tensor): Tensor {
    this.s.raw.xtxDots(out._h, x._h, p._h, u._h, x.shape[0]!, x.shape[1]!, acc._h);
    return out;
  }

  /** out (d f64 values in [1, ≥ 2d]) = Xᵀv in f64 for x [n, d], v n f64 values (in [1, ≥ 2n]), each sum in order of i. */
  xtDots64(out: Tensor, x: Tensor, v: Tensor): Tensor {
    this.s.raw.xtDots64(out._h, x._h, v._h, x.shape[0]!, x.shape[1]!);
    return out;
  }

  /** out [≥ m, n] row k = column idx[k] of x [n, d], for the first m entries of idx (all d when null). */
  gatherCols(out: Tensor, x: Tensor, idx: Tensor | null, m: number): Tensor {
    if (m > 0) this.s.raw.gatherCols(out._h, x._h, idx === null ? null : idx._h, x.shape[0]!, x.shape[1]!, m);
    return out;
  }

  /** out [cols, rows] = xᵀ for x [rows, cols]. */
  transpose(out: Tensor, x: Tensor): Tensor {
    if (x.size > 0) this.s.raw.transpose(out._h, x._h, x.shape[0]!, x.shape[1]!);
    return out;
  }
}
