/**
 * The transformer's autograd ops: LayerNorm, embedding lookup and causal self-attention
 * (with dropout on the attention probabilities). Each op's backward is beside its forward;
 * the memory rules are those of src/autograd/ops.ts (results are op results, freed at the
 * next step boundary).
 */
import { ShapeError, describe, fmtShape } from '../rules/errors.js';
import { Rng, Tensor } from '../core/tensor.js';
import type { Core } from '../core/core.js';
import { Ops } from './ops.js';
import { addWritten as into, grad, result, tracked } from './grad.js';
import { checkDropout, checkIds, checkTensor, colVec, dims2 } from '../rules/checks.js';
import { checkKeys, checkNumber } from '../rules/validate.js';

function vec(be: Core, t: Tensor | null, n: number, what: string): void {
  colVec(be, t, n, what);
}

/**
 * t's gradient buffer for a kernel that adds into it (zeroed when fresh), or null when t is
 * null or needs no gradient: for backward kernels that write several gradients in one pass.
 */
function addTarget(be: Core, t: Tensor | null): Tensor | null {
  let dst: Tensor | null = null;
  if (t !== null) grad(be, t, (d, add) => { if (!add) be._trusted.fill(d, 0); dst = d; });
  return dst;
}

/**
 * LayerNorm over the last dimension of x [rows, cols] (torch's layer_norm with
 * normalized_shape [cols]): (x − mean)/√(var + eps)·weight + bias; weight and bias are
 * [cols] or null (left out).
 */
function layerNorm(be: Core, x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  checkTensor(be, x, 'layerNorm x');
  const [rows, cols] = dims2(x, 'layerNorm x');
  vec(be, weight, cols, 'layerNorm weight'); vec(be, bias, cols, 'layerNorm bias');
  checkNumber(eps, 'layerNorm eps', { min: 0 });
  if (cols === 0) throw new ShapeError(`layerNorm x: expected at least one column, got ${fmtShape(x.shape)}`);
  const prev = [x];
  if (weight !== null) prev.push(weight);
  if (bias !== null) prev.push(bias);
  const trusted = be._trusted;
  const out = result(be, x.shape, x.size, 'layerNorm', prev);
  const mean = be._steps.result([rows], rows), rstd = be._steps.result([rows], rows);
  trusted.layerNorm(out, x, weight, bias, mean, rstd, eps);
  if (out.requiresGrad) {
    out._prev = [...prev, mean, rstd]; // mean and rstd need no gradient; listed so backward() checks they are alive
    out._backward = (g) => {
      // One pass writes dx and adds into dweight and dbias.
      const dw = addTarget(be, weight), db = addTarget(be, bias);
      if (x.requiresGrad) {
        into(be, x, (dx) => trusted.layerNormBackward(dx, g, x, weight, mean, rstd, dw, db));
      } else if (dw !== null || db !== null) {
        const dx = be._steps.temp(x.shape, x.size);
        trusted.layerNormBackward(dx, g, x, weight, mean, rstd, dw, db);
        dx.dispose();
      }
    };
  }
  return out;
}

/** Embedding lookup: row i of the result is weight row ids[i]; weight [vocab, dim], result [ids.length, dim]. */
function embedding(be: Core, weight: Tensor, ids: Int32Array): Tensor {
  checkTensor(be, weight, 'embedding weight');
  const [vocab, dim] = dims2(weight, 'embedding weight');
  if (!(ids instanceof Int32Array)) throw new TypeError(`embedding: expected token ids as an Int32Array, got ${describe(ids)}`);
  const n = ids.length;
  checkIds(ids, n, vocab, 'embedding');
  const trusted = be._trusted;
  const out = result(be, [n, dim], n * dim, 'embedding', [weight]);
  trusted.embedding(out, weight, ids);
  if (out.requiresGrad) {
    const own = ids.slice();
    // The kernel adds g's rows into the rows of the ids (repeated ids add up).
    out._backward = (g) => grad(be, weight, (dst, add) => {
      if (!add) trusted.fill(dst, 0);
      trusted.embeddingBackward(dst, g, own);
    });
  }
  return out;
}

/** Dropout on the attention probabilities: the probability and the layer's RNG. */
export interface AttentionDropout { p: number; rng: Rng }
const ATTENTION_DROPOUT_KEYS: Record<keyof AttentionDropout, true> = { p: true, rng: true };


/**
 * Causal multi-head self-attention on the fused projection qkv [B·T, 3C] (q | k | v, each
 * C = nHead·hs wide, head h at columns h·hs of its part, as nanoGPT's split and view):
 * y [B·T, C] with y's head h = dropout(softmax(q_h·k_hᵀ/√hs, causal))·v_h. Heads are read
 * and written in place (strided batched matmuls); the scores live in [B·nHead, T, T].
 * dropout: null or p = 0 for none (eval mode).
 */
function causalAttention(be: Core, qkv: Tensor, B: number, T: number, nHead: number,
  dropout: AttentionDropout | null = null): Tensor {
  checkTensor(be, qkv, 'causalAttention qkv');
  const [rows, c3] = dims2(qkv, 'causalAttention qkv');
  for (const [v, what] of [[B, 'B'], [T, 'T'], [nHead, 'nHead']] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ShapeError(`causalAttention: expected ${what} as a positive integer, got ${describe(v)}`);
  }
  if (rows !== B * T) throw new ShapeError(`causalAttention: qkv ${fmtShape(qkv.shape)} should have B·T = ${B}·${T} = ${B * T} rows`);
  if (c3 % (3 * nHead) !== 0) throw new ShapeError(`causalAttention: qkv ${fmtShape(qkv.shape)} should have 3·C columns with C divisible by nHead = ${nHead}`);
  const p = dropout === null ? 0 : dropout.p;
  if (dropout !== null) {
    if (typeof dropout !== 'object') throw new TypeError(`causalAttention: expected dropout as { p, rng } or null, got ${describe(dropout)}`);
    checkKeys(dropout, ATTENTION_DROPOUT_KEYS, 'causalAttention dropout');
    checkDropout(be, p, dropout.rng, 'causalAttention dropout');
    be._noteRng(dropout.rng as Rng); // a forward that fails later gives the rng its state back (Backend._keepRngsOnFailure)
  }
  const C = c3 / 3, hs = C / nHead, Z = B * nHead, H = nHead;
  const scale = 1 / Math.sqrt(hs);
  const trusted = be._trusted;
  // Per (b, h): Q, K, V are T×hs at row stride 3C, offsets 0, C, 2C plus h·hs; Y at row stride C.
  const qkvAt = (off: number) => ({ ld: c3, sb: T * c3, sh: hs, off });
  const q = qkvAt(0), k = qkvAt(C), v = qkvAt(2 * C);
  const sq = { ld: T, sb: H * T * T, sh: T * T, off: 0 }; // a [Z, T, T] score tensor
  const yh = { ld: C, sb: T * C, sh: hs, off: 0 };
  type L = typeof q;
  // The causal masks skip the triangle of each product that the mask makes zero (raw.ts):
  // 'out' for a score-shaped result (only j ≤ i computed), 'a' for a score-shaped left
  // factor (lower triangular: only its nonzero terms summed). Same bits as the full sums
  // on finite inputs, half the work.
  const mm = (out: Tensor, a: Tensor, b: Tensor, m: number, n: number, kk: number, lo: L, la: L, lb: L,
    transA: boolean, transB: boolean, mask: 'a' | 'out') =>
    trusted.matmulBatched(out, a, b, { batch: B, heads: H, m, n, k: kk,
      offA: la.off, lda: la.ld, sAb: la.sb, sAh: la.sh, offB: lb.off, ldb: lb.ld, sBb: lb.sb, sBh: lb.sh,
      offC: lo.off, ldc: lo.ld, sCb: lo.sb, sCh: lo.sh, transA, transB, accumulate: false,
      causalA: mask === 'a', causalOut: mask === 'out' });

  const prob = be._steps.result([Z, T, T], Z * T * T);
  mm(prob, qkv, qkv, T, T, hs, sq, q, k, false, true, 'out'); // S = Q·Kᵀ
  trusted.causalSoftmax(prob, prob, scale); // P = softmax(S/√hs, causal)
  let used = prob, mask: Tensor | null = null;
  if (p > 0) {
    used = be._steps.result([Z, T, T], Z * T * T);
    mask = tracked(be, qkv) ? be._steps.result([Z, T, T], Z * T * T) : null;
    trusted.dropout(used, prob, p, dropout!.rng, mask);
  }
  const y = result(be, [rows, C], rows * C, 'causalAttention', [qkv]);
  mm(y, used, qkv, T, hs, T, yh, sq, v, false, false, 'a'); // Y = P'·V
  if (y.requiresGrad) {
    y._prev = mask === null ? [qkv, prob, used] : [qkv, prob, used, mask];
    // dQ, dK and dV are written into their thirds of qkv's gradient by one write.
    y._backward = (g) => into(be, qkv, (d) => {
      const dp = be._steps.temp([Z, T, T], Z * T * T);
      mm(dp, g, qkv, T, T, hs, sq, yh, v, false, true, 'out'); // dP' = dY·Vᵀ
      mm(d, used, g, T, hs, T, v, sq, yh, true, false, 'a'); // dV = P'ᵀ·dY
      if (mask !== null) {
        if (p === 1) trusted.fill(dp, 0);
        else { trusted.mul(dp, dp, mask); trusted.scale(dp, dp, 1 / (1 - p)); }
      }
      trusted.causalSoftmaxBackward(dp, prob, dp, scale); // dS (the 1/√hs included)
      mm(d, dp, qkv, T, hs, T, q, sq, k, false, false, 'a'); // dQ = dS·K
      mm(d, dp, qkv, T, hs, T, k, sq, q, true, false, 'a'); // dK = dSᵀ·Q
      dp.dispose();
    });
  }
  return y;
}

/**
 * The transformer's ops as methods of the backend (`be.layerNorm`, ...): `Backend` extends
 * this, so ops.ts never imports this file (no import cycle for bundlers to warn about).
 */
export abstract class TransformerOps extends Ops {
  /** LayerNorm over the last dimension of x [rows, cols]: weight and bias [cols] or null; eps default 1e-5. */
  layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor { return layerNorm(this._core, x, weight, bias, eps); }

  /** Embedding lookup: weight [vocab, dim] rows picked by Int32Array ids → [ids.length, dim]. */
  embedding(weight: Tensor, ids: Int32Array): Tensor { return embedding(this._core, weight, ids); }

  /**
   * Causal multi-head self-attention on a fused q|k|v projection [B·T, 3C] → [B·T, C]
   * (nanoGPT's split into nHead heads), with dropout on the attention probabilities when
   * `dropout` is given with p > 0.
   */
  causalAttention(qkv: Tensor, B: number, T: number, nHead: number, dropout: AttentionDropout | null = null): Tensor {
    return causalAttention(this._core, qkv, B, T, nHead, dropout);
  }
}
