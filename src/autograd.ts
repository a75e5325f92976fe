/**
 * Autograd: reverse-mode differentiation written once above the backend. Each op checks its
 * inputs (with the rules of src/kernels.ts), builds its result on the trusted kernels
 * (`be._trusted`), then sets the result's backward beside the forward, micrograd style; a
 * backward sends each input its gradient through `grad()`, the one primitive that writes
 * or adds into a gradient. The ops are the methods of `Ops`, which the Backend extends
 * (`be.matmul`, `be.add`, ...); `loss.backward()` runs them.
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
 * buffers (src/steps.ts), keyed by element count, so a steady training loop allocates no tensor memory after its
 * first step; `be.memory()` counts the pool's idle buffers in `liveBytes` (not in
 * `liveTensors`), and `be.releasePool()` returns them.
 *
 * Gradients accumulate (`+=`) into `p.grad` of leaves with `requiresGrad`, as in torch; an
 * optimizer's `zeroGrad()` clears them. Intermediates get a gradient buffer only while
 * backward() runs: the first contribution writes it, later ones add to it.
 */
import { DisposedError, ShapeError, describe, fmtShape } from './errors.js';
import type { Rng, Tensor } from './tensor.js';
import type { Backend } from './backend.js';
import { checkDropout, checkLabels, checkTensor, dims2, matmulDims } from './kernels.js';
import { checkNumber, optionalBool, sameShape } from './validate.js';

/** Shape of the scalar results (losses): torch's 0-d tensors. */
const SCALAR: readonly number[] = Object.freeze([]);

/** Options of the autograd matmul: the transposes of a and b. */
export interface AutogradMatmulOptions { transA?: boolean; transB?: boolean }

// ---- gradient routing -------------------------------------------------------------------

/**
 * The one way a gradient reaches a tensor: calls `send(dst, add)` with t's gradient buffer,
 * where add is false when dst is fresh (send writes it) and true when it already holds a
 * gradient (send adds into it). Non-leaves get a spare buffer on their first contribution;
 * leaves accumulate into `grad` (torch's +=). Nothing happens when t needs no gradient.
 */
function grad(t: Tensor, send: (dst: Tensor, add: boolean) => void): void {
  if (!t.requiresGrad) return;
  if (t._prev !== null) {
    if (t._g === null) { t._g = t._be._steps.temp(t.shape, t.size); send(t._g, false); } else send(t._g, true);
    return;
  }
  if (t.grad === null) t.grad = t._be.zeros(t.shape);
  send(t.grad, true);
}

/** t's gradient (+)= alpha·g (g of t's size). */
function addScaled(t: Tensor, g: Tensor, alpha: number): void {
  const k = t._be._trusted;
  grad(t, (dst, add) => { if (add) k.axpy(dst, g, alpha); else k.scale(dst, g, alpha); });
}

/**
 * t's gradient (+)= alpha·v, where `write(dst)` writes v into a buffer of t's size: into the
 * gradient itself when it is fresh (then scaled in place), else into a temporary added with axpy.
 */
function addWritten(t: Tensor, write: (dst: Tensor) => void, alpha = 1): void {
  const be = t._be, k = be._trusted;
  grad(t, (dst, add) => {
    if (!add) {
      write(dst);
      if (alpha !== 1) k.scale(dst, dst, alpha);
      return;
    }
    const tmp = be._steps.temp(t.shape, t.size);
    write(tmp);
    k.axpy(dst, tmp, alpha);
    tmp.dispose();
  });
}

/** t's gradient (+)= op(a)·op(b), through matmul's own accumulate. */
function addMatmul(t: Tensor, a: Tensor, b: Tensor, transA: boolean, transB: boolean): void {
  grad(t, (dst, add) => t._be._trusted.matmul(dst, a, b, transA, transB, add));
}

/** t's gradient (+)= value in every element. */
function addConstant(t: Tensor, value: number): void {
  addWritten(t, (dst) => t._be._trusted.fill(dst, value));
}

/** The upstream gradient of a one-element result. */
function scalarOf(g: Tensor): number {
  return g.data[0]!;
}

/** A new op result of `shape`; records the graph when an input requires grad. */
function result(be: Backend, shape: readonly number[], size: number, op: string, prev: Tensor[]): Tensor {
  const out = be._steps.result(shape, size);
  out._op = op;
  for (let i = 0; i < prev.length; i++) {
    if (prev[i]!.requiresGrad) {
      out.requiresGrad = true;
      out._prev = prev;
      break;
    }
  }
  return out;
}

function scalarResult(be: Backend, value: number, op: string, prev: Tensor[]): Tensor {
  const out = result(be, SCALAR, 1, op, prev);
  out.data[0] = value;
  return out;
}

/**
 * An elementwise activation y = f(x): the forward kernel `op`, and the gradient kernel
 * `backward(dst, g, at)` evaluated at the output y (fromOutput) or at the input x.
 */
function activation(be: Backend, x: Tensor, op: 'relu' | 'tanh', backward: 'reluBackward' | 'tanhBackward',
  fromOutput: boolean): Tensor {
  checkTensor(be, x, `${op} x`);
  const k = be._trusted;
  const out = result(be, x.shape, x.size, op, [x]);
  k[op](out, x);
  if (out.requiresGrad) {
    const at = fromOutput ? out : x;
    out._backward = (g) => addWritten(x, (dst) => k[backward](dst, g, at));
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
  /** op(a)·op(b) with gradients; a: m×k (k×m when transA), b: k×n (n×k when transB); the result is m×n. */
  matmul(this: Backend, a: Tensor, b: Tensor, options: AutogradMatmulOptions = {}): Tensor {
    checkTensor(this, a, 'matmul a'); checkTensor(this, b, 'matmul b');
    if (options === null || typeof options !== 'object') throw new TypeError(`matmul: expected options { transA?, transB? }, got ${describe(options)}`);
    const tA = optionalBool(options.transA, 'matmul transA'), tB = optionalBool(options.transB, 'matmul transB');
    const [m, n] = matmulDims(a, b, tA, tB);
    const out = result(this, [m, n], m * n, 'matmul', [a, b]);
    this._trusted.matmul(out, a, b, tA, tB, false);
    if (out.requiresGrad) {
      out._backward = (g) => {
        // C = op(a)·op(b): dop(a) = G·op(b)ᵀ, dop(b) = op(a)ᵀ·G, transposed back to storage.
        if (tA) addMatmul(a, b, g, tB, true); else addMatmul(a, g, b, false, !tB);
        if (tB) addMatmul(b, g, a, true, tA); else addMatmul(b, a, g, !tA, false);
      };
    }
    return out;
  }

  /**
   * x·wᵀ + b (a torch Linear): x [rows, in], w [out, in] (torch's layout), b [out] or null.
   * One op, so the bias is added in place and costs no extra buffer.
   */
  linear(this: Backend, x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
    checkTensor(this, x, 'linear x'); checkTensor(this, w, 'linear weight');
    const [rows, inX] = dims2(x, 'linear x');
    const [outF, inW] = dims2(w, 'linear weight');
    if (inX !== inW) throw new ShapeError(`linear: x ${fmtShape(x.shape)} has ${inX} features, but the weight ${fmtShape(w.shape)} expects ${inW} ([out, in])`);
    if (b !== null) {
      checkTensor(this, b, 'linear bias');
      if (b.shape.length !== 1 || b.shape[0] !== outF) throw new ShapeError(`linear bias: expected shape [${outF}], got ${fmtShape(b.shape)}`);
    }
    const k = this._trusted;
    const out = result(this, [rows, outF], rows * outF, 'linear', b === null ? [x, w] : [x, w, b]);
    k.matmul(out, x, w, false, true, false);
    if (b !== null) k.addRowVector(out, out, b);
    if (out.requiresGrad) {
      out._backward = (g) => {
        addMatmul(x, g, w, false, false);
        addMatmul(w, g, x, true, false);
        if (b !== null) addWritten(b, (dst) => k.sumRows(dst, g));
      };
    }
    return out;
  }

  /** a + b: equal shapes, or [rows, cols] + [cols] (a bias added to every row). */
  add(this: Backend, a: Tensor, b: Tensor): Tensor {
    checkTensor(this, a, 'add a'); checkTensor(this, b, 'add b');
    const k = this._trusted;
    if (sameShape(a.shape, b.shape)) {
      const out = result(this, a.shape, a.size, 'add', [a, b]);
      k.add(out, a, b);
      if (out.requiresGrad) out._backward = (g) => { addScaled(a, g, 1); addScaled(b, g, 1); };
      return out;
    }
    if (a.shape.length === 2 && b.shape.length === 1 && b.shape[0] === a.shape[1]) {
      const out = result(this, a.shape, a.size, 'add', [a, b]);
      k.addRowVector(out, a, b);
      if (out.requiresGrad) out._backward = (g) => { addScaled(a, g, 1); addWritten(b, (dst) => k.sumRows(dst, g)); };
      return out;
    }
    throw new ShapeError(`add: expected equal shapes or [rows, cols] + [cols], got ${fmtShape(a.shape)} + ${fmtShape(b.shape)}`);
  }

  /** a − b (equal shapes). */
  sub(this: Backend, a: Tensor, b: Tensor): Tensor {
    checkTensor(this, a, 'sub a'); checkTensor(this, b, 'sub b');
    if (!sameShape(a.shape, b.shape)) throw new ShapeError(`sub: expected equal shapes, got ${fmtShape(a.shape)} − ${fmtShape(b.shape)}`);
    const out = result(this, a.shape, a.size, 'sub', [a, b]);
    this._trusted.sub(out, a, b);
    if (out.requiresGrad) out._backward = (g) => { addScaled(a, g, 1); addScaled(b, g, -1); };
    return out;
  }

  /** alpha·x (e.g. λ times a penalty). */
  scale(this: Backend, x: Tensor, alpha: number): Tensor {
    checkTensor(this, x, 'scale x');
    checkNumber(alpha, 'scale alpha');
    const out = result(this, x.shape, x.size, 'scale', [x]);
    this._trusted.scale(out, x, alpha);
    if (out.requiresGrad) out._backward = (g) => addScaled(x, g, alpha);
    return out;
  }

  /** max(x, 0); relu(x) > 0 exactly where x > 0, so the backward masks with the output (as torch's threshold_backward). */
  relu(this: Backend, x: Tensor): Tensor { return activation(this, x, 'relu', 'reluBackward', true); }

  /**
   * Exact (erf) GELU, x·Φ(x), as torch's default. With a gradient to send, the forward
   * also writes the derivative d = Φ(x) + x·φ(x) (geluWithGrad: it shares Φ and e^(−x²/2)
   * with the forward), and the backward is the f32 product g·d.
   */
  gelu(this: Backend, x: Tensor): Tensor {
    checkTensor(this, x, 'gelu x');
    const k = this._trusted;
    const out = result(this, x.shape, x.size, 'gelu', [x]);
    if (!out.requiresGrad) return k.gelu(out, x);
    const d = this._steps.result(x.shape, x.size);
    k.geluWithGrad(out, d, x);
    out._prev = [x, d]; // d needs no gradient; listed so backward() checks it is alive
    out._backward = (g) => addWritten(x, (dst) => k.mul(dst, g, d));
    return out;
  }

  /** tanh(x); the backward uses the output: g·(1 − y²). */
  tanh(this: Backend, x: Tensor): Tensor { return activation(this, x, 'tanh', 'tanhBackward', true); }

  /**
   * Train-mode inverted dropout with drop probability p: x·m/(1 − p), m ~ Bernoulli(1 − p)
   * from `rng` (which advances: a new mask every call). The backward is g·m/(1 − p) with
   * the same mask.
   */
  dropout(this: Backend, x: Tensor, p: number, rng: Rng): Tensor {
    checkTensor(this, x, 'dropout x');
    checkDropout(this, p, rng);
    const k = this._trusted;
    const out = result(this, x.shape, x.size, 'dropout', [x]);
    const mask = out.requiresGrad ? this._steps.result(x.shape, x.size) : null;
    k.dropout(out, x, p, rng, mask);
    if (mask !== null) {
      out._prev = [x, mask]; // the mask needs no gradient; listed so backward() checks it is alive
      // p = 1 drops everything: the gradient is zero (written when fresh, nothing to add otherwise).
      out._backward = p === 1
        ? (_g) => grad(x, (dst, add) => { if (!add) k.fill(dst, 0); })
        : (g) => addWritten(x, (dst) => k.mul(dst, g, mask), 1 / (1 - p)); // the kernel's scale (f32-rounded in scale/axpy)
    }
    return out;
  }

  /** Mean softmax cross-entropy of logits [rows, classes] against Int32Array labels in [0, classes); a one-element result. */
  crossEntropy(this: Backend, logits: Tensor, labels: Int32Array): Tensor {
    checkTensor(this, logits, 'crossEntropy logits');
    const [rows] = checkLabels(logits, labels, 'crossEntropy');
    const k = this._trusted;
    if (!logits.requiresGrad) return scalarResult(this, k.crossEntropy(logits, labels, null), 'crossEntropy', [logits]);
    // The forward keeps its exps (an op result, freed at the step boundary) so the backward
    // needs no exp of its own: the same bits as crossEntropyBackward on these logits.
    const exps = this._steps.result(logits.shape, logits.size);
    const out = scalarResult(this, k.crossEntropy(logits, labels, exps), 'crossEntropy', [logits]);
    out._prev = [logits, exps]; // exps needs no gradient; listed so backward() checks it is alive
    const lab = labels.slice();
    out._backward = (g) => {
      const alpha = scalarOf(g) / rows;
      addWritten(logits, (dst) => k.crossEntropyBackwardExps(dst, exps, lab, alpha));
    };
    return out;
  }

  /** mean((pred − target)²), a one-element result; target may require grad too. */
  mse(this: Backend, pred: Tensor, target: Tensor): Tensor {
    const value = this.kernels.mse(pred, target); // checks both, their shapes, and at least one element
    const k = this._trusted;
    const out = scalarResult(this, value, 'mse', [pred, target]);
    if (out.requiresGrad) {
      out._backward = (g) => {
        const alpha = 2 * scalarOf(g) / pred.size;
        addWritten(pred, (dst) => k.mseBackward(dst, pred, target, alpha));
        addWritten(target, (dst) => k.mseBackward(dst, target, pred, alpha));
      };
    }
    return out;
  }

  /** Σ x; a one-element result. */
  sum(this: Backend, x: Tensor): Tensor {
    const out = scalarResult(this, this.kernels.sum(x), 'sum', [x]);
    if (out.requiresGrad) out._backward = (g) => addConstant(x, scalarOf(g));
    return out;
  }

  /** mean(x) (at least one element); a one-element result. */
  mean(this: Backend, x: Tensor): Tensor {
    checkTensor(this, x, 'mean x');
    if (x.size === 0) throw new ShapeError(`mean: expected at least one element, got shape ${fmtShape(x.shape)}`);
    const out = scalarResult(this, this._trusted.sum(x) / x.size, 'mean', [x]);
    if (out.requiresGrad) out._backward = (g) => addConstant(x, scalarOf(g) / x.size);
    return out;
  }

  /** ½‖w‖², whose gradient is w; a one-element result. */
  l2Penalty(this: Backend, w: Tensor): Tensor {
    const out = scalarResult(this, 0.5 * this.kernels.sumSquares(w), 'l2Penalty', [w]);
    if (out.requiresGrad) out._backward = (g) => addScaled(w, w, scalarOf(g));
    return out;
  }

  /** @internal Tensor.backward(). */
  _backwardFrom(this: Backend, root: Tensor): void { backward(this, root); }

  /** ‖w‖₁, with the subgradient sign(w) (0 at 0, as torch); a one-element result. */
  l1Penalty(this: Backend, w: Tensor): Tensor {
    const k = this._trusted;
    const out = scalarResult(this, this.kernels.absSum(w), 'l1Penalty', [w]);
    if (out.requiresGrad) out._backward = (g) => addWritten(w, (dst) => k.sign(dst, w), scalarOf(g));
    return out;
  }
}

// ---- backward -----------------------------------------------------------------------------

let stamp = 0;

/** A leaf's grad, which backward() will add into: null (made then) or a live tensor of be with the leaf's shape. */
function checkLeafGrad(be: Backend, t: Tensor): void {
  if (t._prev !== null || t.grad === null) return;
  const what = `backward(): the grad of a parameter of shape ${fmtShape(t.shape)}`;
  const g = checkTensor(be, t.grad, what);
  if (!sameShape(g.shape, t.shape)) throw new ShapeError(`${what}: expected shape ${fmtShape(t.shape)}, got ${fmtShape(g.shape)}`);
  if (g === t) throw new ShapeError(`${what}: the grad must be a tensor of its own`);
}

/** Runs backpropagation from `root` (see Tensor.backward) and ends the step. */
export function backward(be: Backend, root: Tensor): void {
  if (root.disposed && root._freedBy !== null) {
    throw new DisposedError(`backward(): this loss was ${root._freedBy}. A backward() frees every other op result, so ` +
      'for several losses from one forward, add them (be.add) and call backward() once');
  }
  checkTensor(be, root, 'backward()');
  if (root.size !== 1) {
    throw new ShapeError(`backward(): expected a one-element tensor (a loss), got shape ${fmtShape(root.shape)} ` +
      `(${root.size} elements); reduce it with be.sum() or be.mean() first`);
  }
  if (root._graphFreed) {
    throw new DisposedError('backward(): this loss has been through backward() already, which freed its graph; ' +
      'compute the loss again (a new forward) for another backward()');
  }
  if (!root.requiresGrad) {
    throw new TypeError(`backward(): the tensor${root._op ? ` (from ${root._op})` : ''} does not require grad: no parameter took part in computing it`);
  }
  // Topological order (inputs before outputs), iteratively; every node checked live first,
  // so a failure changes nothing.
  const order: Tensor[] = [];
  const mark = ++stamp;
  const stack: Tensor[] = [root];
  const next: number[] = [0];
  root._mark = mark;
  checkLeafGrad(be, root);
  while (stack.length > 0) {
    const top = stack.length - 1;
    const t = stack[top]!;
    const prev = t._prev;
    const i = next[top]!;
    if (prev !== null && i < prev.length) {
      next[top] = i + 1;
      const p = prev[i]!;
      // inputs that need no gradient are still read by the backward (x in x·wᵀ, a dropout mask)
      if (p.disposed) {
        throw new DisposedError(`backward(): the graph of this loss uses a tensor of shape ${fmtShape(p.shape)}${p._op ? ` (from ${p._op})` : ''} ` +
          `that was ${p._freedBy ?? 'disposed'}; a backward() or be.endStep() between forward and backward frees op results — ` +
          'for several losses from one forward, add them (be.add) and call backward() once');
      }
      if (p.requiresGrad && p._mark !== mark) {
        p._mark = mark;
        checkLeafGrad(be, p);
        stack.push(p);
        next.push(0);
      }
    } else {
      stack.pop();
      next.pop();
      order.push(t);
    }
  }
  const hadGraph = root._prev !== null;
  try {
    if (!hadGraph) {
      addConstant(root, 1);
    } else {
      root._g = be._steps.temp(root.shape, 1);
      be._trusted.fill(root._g, 1);
    }
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = t._g;
      if (g === null) continue;
      if (t._backward !== null) t._backward(g);
      t._g = null;
      g.dispose();
    }
  } finally {
    for (const t of order) {
      if (t._g !== null) { t._g.dispose(); t._g = null; }
      if (t._prev !== null) {
        t._prev = null;
        t._backward = null;
        // a kept intermediate is now a constant: gradients no longer flow through it
        if (t !== root) t.requiresGrad = false;
      }
    }
    if (hadGraph) root._graphFreed = true;
    be._steps.end(root);
  }
}


// ---- for the ops in other files (src/autograd-transformer.ts) ----------------------------

/** @internal the gradient routing above, for ops defined in other files. */
export const _grad = {
  result,
  /** t's gradient (+)= what `write(dst)` writes into a buffer of t's size. */
  into: (t: Tensor, write: (dst: Tensor) => void): void => addWritten(t, write),
  /** Where t's gradient goes (null: none) and whether it already holds one to add to (grad() called synchronously). */
  slot(t: Tensor): { dst: Tensor; accumulate: boolean } | null {
    let r: { dst: Tensor; accumulate: boolean } | null = null;
    grad(t, (dst, add) => { r = { dst, accumulate: add }; });
    return r;
  },
};
