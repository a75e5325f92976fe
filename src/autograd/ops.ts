/**
 * Autograd: reverse-mode differentiation written once above the backend. Each op checks its
 * inputs (with the rules of src/rules/checks.ts), builds its result on the trusted kernels
 * (`be._trusted`), then sets the result's backward beside the forward, micrograd style; a
 * backward sends each input its gradient through `grad()` (src/autograd/grad.ts), the one primitive
 * that writes or adds into a gradient. The ops are the methods of `Ops`, which the Backend
 * extends (`be.matmul`, `be.add`, ...); `loss.backward()` runs them (src/autograd/backward.ts).
 *
 * ## Memory rules (how long a tensor stays valid)
 *
 * 1. Tensors you create — `be.tensor`, `be.zeros`, `be.param`, layer parameters, `p.grad` —
 *    are yours: they live until you `dispose()` them (a module's `dispose()` frees its own).
 * 2. Tensors returned by ops (`be.matmul`, `be.relu`, `be.crossEntropy`, `model.forward`, ...)
 *    are op results, owned by the library. They are freed at the next *step boundary*:
 *    - `loss.backward()` is a boundary. Once the gradients are accumulated into the
 *      parameters' `grad`, it frees every op result (this graph's intermediates, and any
 *      other op result still alive) except `loss` itself, which stays readable
 *      (`loss.item()`) until the following boundary.
 *    - `be.endStep()` is a boundary: it frees every op result. Call it after forward-only
 *      work (evaluation, prediction) that is not followed by a backward().
 *    So the plain loop `zeroGrad(); forward; loss; backward(); step()` holds at most one
 *    step's tensors and needs no tidy(); an evaluation loop calls `be.endStep()` per batch.
 * 3. `t.keep()` takes an op result out of this: it is never freed by a boundary, is yours
 *    to `dispose()`, and (once its graph has been used by backward) acts as a constant.
 *    Use it to read logits after backward() or to hold a prediction across steps.
 * 4. Using a freed tensor throws DisposedError saying it was freed at a step boundary.
 *    `backward()` twice on the same loss, or on a loss whose graph lost a tensor to an
 *    earlier boundary (two losses from one forward: add them and call backward() once),
 *    throws DisposedError.
 *
 * Op results and backward's temporaries take their buffers from the backend's spare step
 * buffers (src/core/step-memory.ts), keyed by element count, so a steady training loop allocates no tensor memory after its
 * first step; `be.memory()` counts the pool's idle buffers in `liveBytes` (not in
 * `liveTensors`), and `be.releasePool()` returns them.
 *
 * Gradients accumulate (`+=`) into `p.grad` of leaves with `requiresGrad`, as in torch; an
 * optimizer's `zeroGrad()` clears them. Every tensor in the graph gets a gradient buffer
 * only while backward() runs: the first contribution writes it, later ones add to it. A
 * leaf's buffer is added into `p.grad` once the whole graph has run (as torch's engine sums
 * a leaf's contributions before AccumulateGrad), so a backward that fails partway (out of
 * memory) leaves every `p.grad` as it was.
 */
import { ShapeError, describe, fmtShape } from '../rules/errors.js';
import type { Rng, Tensor } from '../core/tensor.js';
import type { Core } from '../core/core.js';
import { checkDropout, checkLabels, checkTensor, dims2, matmulDims } from '../rules/checks.js';
import { checkKeys, checkNumber, optionalBool, sameShape } from '../rules/validate.js';
import { addConstant, addMatmul, addScaled, addWritten, grad, result, scalarOf, scalarResult, tracked } from './grad.js';
import { backward } from './backward.js';

/** Options of the autograd matmul: the transposes of a and b. */
export interface AutogradMatmulOptions { transA?: boolean; transB?: boolean }
const AUTOGRAD_MATMUL_KEYS: Record<keyof AutogradMatmulOptions, true> = { transA: true, transB: true };


/**
 * An elementwise activation y = f(x): the forward kernel `op`, and the gradient kernel
 * `backward(dst, g, at)` evaluated at the output y (fromOutput) or at the input x.
 */
function activation(be: Core, x: Tensor, op: 'relu' | 'tanh', backward: 'reluBackward' | 'tanhBackward',
  fromOutput: boolean): Tensor {
  checkTensor(be, x, `${op} x`);
  const trusted = be._trusted;
  const out = result(be, x.shape, x.size, op, [x]);
  trusted[op](out, x);
  if (out.requiresGrad) {
    const at = fromOutput ? out : x;
    out._backward = (g) => addWritten(be, x, (dst) => trusted[backward](dst, g, at));
  }
  return out;
}

// ---- ops ----------------------------------------------------------------------------------

/**
 * The autograd ops, inherited by Backend (`be.matmul(a, b)`, ...). Each checks its inputs,
 * allocates its result (an op result: see the memory rules above), runs the forward on the
 * trusted kernels and, when an input requires grad, sets the backward beside it. Their
 * results are freed at the next step boundary unless kept.
 */
export abstract class Ops {
  /** @internal What the ops run on: the backend below its facade (the Backend returns itself). */
  protected abstract get _core(): Core;

  /** op(a)·op(b) with gradients; a: m×k (k×m when transA), b: k×n (n×k when transB); the result is m×n. */
  matmul(a: Tensor, b: Tensor, options: AutogradMatmulOptions = {}): Tensor {
    const be = this._core;
    checkTensor(be, a, 'matmul a'); checkTensor(be, b, 'matmul b');
    if (options === null || typeof options !== 'object') throw new TypeError(`matmul: expected options { transA?, transB? }, got ${describe(options)}`);
    checkKeys(options, AUTOGRAD_MATMUL_KEYS, 'matmul');
    const tA = optionalBool(options.transA, 'matmul transA'), tB = optionalBool(options.transB, 'matmul transB');
    const [m, n] = matmulDims(a, b, tA, tB);
    const out = result(be, [m, n], m * n, 'matmul', [a, b]);
    be._trusted.matmul(out, a, b, tA, tB, false);
    if (out.requiresGrad) {
      out._backward = (g) => {
        // C = op(a)·op(b): dop(a) = G·op(b)ᵀ, dop(b) = op(a)ᵀ·G, transposed back to storage.
        if (tA) addMatmul(be, a, b, g, tB, true); else addMatmul(be, a, g, b, false, !tB);
        if (tB) addMatmul(be, b, g, a, true, tA); else addMatmul(be, b, a, g, !tA, false);
      };
    }
    return out;
  }

  /**
   * x·wᵀ + b (a torch Linear): x [rows, in], w [out, in] (torch's layout), b [out] or null.
   * One op, so the bias is added in place and costs no extra buffer.
   */
  linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
    const be = this._core;
    checkTensor(be, x, 'linear x'); checkTensor(be, w, 'linear weight');
    const [rows, inX] = dims2(x, 'linear x');
    const [outF, inW] = dims2(w, 'linear weight');
    if (inX !== inW) throw new ShapeError(`linear: x ${fmtShape(x.shape)} has ${inX} features, but the weight ${fmtShape(w.shape)} expects ${inW} ([out, in])`);
    if (b !== null) {
      checkTensor(be, b, 'linear bias');
      if (b.shape.length !== 1 || b.shape[0] !== outF) throw new ShapeError(`linear bias: expected shape [${outF}], got ${fmtShape(b.shape)}`);
    }
    const trusted = be._trusted;
    const out = result(be, [rows, outF], rows * outF, 'linear', b === null ? [x, w] : [x, w, b]);
    trusted.matmul(out, x, w, false, true, false);
    if (b !== null) trusted.addRowVector(out, out, b);
    if (out.requiresGrad) {
      out._backward = (g) => {
        addMatmul(be, x, g, w, false, false);
        addMatmul(be, w, g, x, true, false);
        if (b !== null) addWritten(be, b, (dst) => trusted.sumRows(dst, g));
      };
    }
    return out;
  }

  /** a + b: equal shapes, or [rows, cols] + [cols] (a bias added to every row). */
  add(a: Tensor, b: Tensor): Tensor {
    const be = this._core;
    checkTensor(be, a, 'add a'); checkTensor(be, b, 'add b');
    const trusted = be._trusted;
    if (sameShape(a.shape, b.shape)) {
      const out = result(be, a.shape, a.size, 'add', [a, b]);
      trusted.add(out, a, b);
      if (out.requiresGrad) out._backward = (g) => { addScaled(be, a, g, 1); addScaled(be, b, g, 1); };
      return out;
    }
    if (a.shape.length === 2 && b.shape.length === 1 && b.shape[0] === a.shape[1]) {
      const out = result(be, a.shape, a.size, 'add', [a, b]);
      trusted.addRowVector(out, a, b);
      if (out.requiresGrad) out._backward = (g) => { addScaled(be, a, g, 1); addWritten(be, b, (dst) => trusted.sumRows(dst, g)); };
      return out;
    }
    throw new ShapeError(`add: expected equal shapes or [rows, cols] + [cols], got ${fmtShape(a.shape)} + ${fmtShape(b.shape)}`);
  }

  /** a − b (equal shapes). */
  sub(a: Tensor, b: Tensor): Tensor {
    const be = this._core;
    checkTensor(be, a, 'sub a'); checkTensor(be, b, 'sub b');
    if (!sameShape(a.shape, b.shape)) throw new ShapeError(`sub: expected equal shapes, got ${fmtShape(a.shape)} − ${fmtShape(b.shape)}`);
    const out = result(be, a.shape, a.size, 'sub', [a, b]);
    be._trusted.sub(out, a, b);
    if (out.requiresGrad) out._backward = (g) => { addScaled(be, a, g, 1); addScaled(be, b, g, -1); };
    return out;
  }

  /** alpha·x (e.g. λ times a penalty). */
  scale(x: Tensor, alpha: number): Tensor {
    const be = this._core;
    checkTensor(be, x, 'scale x');
    checkNumber(alpha, 'scale alpha');
    const out = result(be, x.shape, x.size, 'scale', [x]);
    be._trusted.scale(out, x, alpha);
    if (out.requiresGrad) out._backward = (g) => addScaled(be, x, g, alpha);
    return out;
  }

  /** max(x, 0); relu(x) > 0 exactly where x > 0, so the backward masks with the output (as torch's threshold_backward). */
  relu(x: Tensor): Tensor { return activation(this._core, x, 'relu', 'reluBackward', true); }

  /**
   * Exact (erf) GELU, x·Φ(x), as torch's default. With a gradient to send, the forward
   * also writes the derivative d = Φ(x) + x·φ(x) (geluWithGrad: it shares Φ and e^(−x²/2)
   * with the forward), and the backward is the f32 product g·d.
   */
  gelu(x: Tensor): Tensor {
    const be = this._core;
    checkTensor(be, x, 'gelu x');
    const trusted = be._trusted;
    const out = result(be, x.shape, x.size, 'gelu', [x]);
    if (!out.requiresGrad) return trusted.gelu(out, x);
    const d = be._steps.result(x.shape, x.size);
    trusted.geluWithGrad(out, d, x);
    out._prev = [x, d]; // d needs no gradient; listed so backward() checks it is alive
    out._backward = (g) => addWritten(be, x, (dst) => trusted.mul(dst, g, d));
    return out;
  }

  /** tanh(x); the backward uses the output: g·(1 − y²). */
  tanh(x: Tensor): Tensor { return activation(this._core, x, 'tanh', 'tanhBackward', true); }

  /**
   * Train-mode inverted dropout with drop probability p: x·m/(1 − p), m ~ Bernoulli(1 − p)
   * from `rng` (which advances: a new mask every call). The backward is g·m/(1 − p) with
   * the same mask.
   */
  dropout(x: Tensor, p: number, rng: Rng): Tensor {
    const be = this._core;
    checkTensor(be, x, 'dropout x');
    checkDropout(be, p, rng);
    be._noteRng(rng); // a forward that fails later gives rng its state back (Backend._keepRngsOnFailure)
    const trusted = be._trusted;
    const out = result(be, x.shape, x.size, 'dropout', [x]);
    const mask = out.requiresGrad ? be._steps.result(x.shape, x.size) : null;
    trusted.dropout(out, x, p, rng, mask);
    if (mask !== null) {
      out._prev = [x, mask]; // the mask needs no gradient; listed so backward() checks it is alive
      // p = 1 drops everything: the gradient is zero (written when fresh, nothing to add otherwise).
      out._backward = p === 1
        ? (_g) => grad(be, x, (dst, add) => { if (!add) trusted.fill(dst, 0); })
        : (g) => addWritten(be, x, (dst) => trusted.mul(dst, g, mask), 1 / (1 - p)); // the kernel's scale (f32-rounded in scale/axpy)
    }
    return out;
  }

  /** Mean softmax cross-entropy of logits [rows, classes] against Int32Array labels in [0, classes); a one-element result. */
  crossEntropy(logits: Tensor, labels: Int32Array): Tensor {
    const be = this._core;
    checkTensor(be, logits, 'crossEntropy logits');
    const [rows] = checkLabels(logits, labels, 'crossEntropy');
    const trusted = be._trusted;
    if (!tracked(be, logits)) return scalarResult(be, trusted.crossEntropy(logits, labels, null), 'crossEntropy', [logits]);
    // The forward keeps its exps (an op result, freed at the step boundary) so the backward
    // needs no exp of its own: the same bits as crossEntropyBackward on these logits.
    const exps = be._steps.result(logits.shape, logits.size);
    const out = scalarResult(be, trusted.crossEntropy(logits, labels, exps), 'crossEntropy', [logits]);
    out._prev = [logits, exps]; // exps needs no gradient; listed so backward() checks it is alive
    const lab = labels.slice();
    out._backward = (g) => {
      const alpha = scalarOf(g) / rows;
      addWritten(be, logits, (dst) => trusted.crossEntropyBackwardExps(dst, exps, lab, alpha));
    };
    return out;
  }

  /** mean((pred − target)²), a one-element result; target may require grad too. */
  mse(pred: Tensor, target: Tensor): Tensor {
    const be = this._core;
    const value = be.kernels.mse(pred, target); // checks both, their shapes, and at least one element
    const trusted = be._trusted;
    const out = scalarResult(be, value, 'mse', [pred, target]);
    if (out.requiresGrad) {
      out._backward = (g) => {
        const alpha = 2 * scalarOf(g) / pred.size;
        addWritten(be, pred, (dst) => trusted.mseBackward(dst, pred, target, alpha));
        addWritten(be, target, (dst) => trusted.mseBackward(dst, target, pred, alpha));
      };
    }
    return out;
  }

  /** Σ x; a one-element result. */
  sum(x: Tensor): Tensor {
    const be = this._core;
    const out = scalarResult(be, be.kernels.sum(x), 'sum', [x]);
    if (out.requiresGrad) out._backward = (g) => addConstant(be, x, scalarOf(g));
    return out;
  }

  /** mean(x) (at least one element); a one-element result. */
  mean(x: Tensor): Tensor {
    const be = this._core;
    checkTensor(be, x, 'mean x');
    if (x.size === 0) throw new ShapeError(`mean: expected at least one element, got shape ${fmtShape(x.shape)}`);
    const out = scalarResult(be, be._trusted.sum(x) / x.size, 'mean', [x]);
    if (out.requiresGrad) out._backward = (g) => addConstant(be, x, scalarOf(g) / x.size);
    return out;
  }

  /** ½‖w‖², whose gradient is w; a one-element result. */
  l2Penalty(w: Tensor): Tensor {
    const be = this._core;
    const out = scalarResult(be, 0.5 * be.kernels.sumSquares(w), 'l2Penalty', [w]);
    if (out.requiresGrad) out._backward = (g) => addScaled(be, w, w, scalarOf(g));
    return out;
  }

  /** @internal Tensor.backward(). */
  _backwardFrom(root: Tensor): void { backward(this._core, root); }

  /** ‖w‖₁, with the subgradient sign(w) (0 at 0, as torch); a one-element result. */
  l1Penalty(w: Tensor): Tensor {
    const be = this._core;
    const trusted = be._trusted;
    const out = scalarResult(be, be.kernels.absSum(w), 'l1Penalty', [w]);
    if (out.requiresGrad) out._backward = (g) => addWritten(be, w, (dst) => trusted.sign(dst, w), scalarOf(g));
    return out;
  }
}
