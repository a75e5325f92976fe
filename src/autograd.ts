/**
 * Autograd: reverse-mode differentiation written once above the backend (it calls only the
 * validated kernels `be.kernels.*`). Each op builds its result, then sets the result's
 * backward beside the forward, micrograd style. The ops are methods of the backend
 * (`be.matmul`, `be.add`, ...) and `loss.backward()` runs them.
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
 * Op results and backward's temporaries take their buffers from a pool in the backend,
 * keyed by element count, so a steady training loop allocates no tensor memory after its
 * first step; `be.memory()` counts the pool's idle buffers in `liveBytes` (not in
 * `liveTensors`), and `be.releasePool()` returns them.
 *
 * Gradients accumulate (`+=`) into `p.grad` of leaves with `requiresGrad`, as in torch; an
 * optimizer's `zeroGrad()` clears them. Intermediates get a gradient buffer only while
 * backward() runs: the first contribution writes it, later ones add to it.
 */
import { DisposedError, ShapeError, describe, fmtShape } from './errors.js';
import { Rng, Tensor } from './tensor.js';
import type { Backend } from './backend.js';
import { sameShape } from './validate.js';

/** Shape of the scalar results (losses): torch's 0-d tensors. */
const SCALAR: readonly number[] = Object.freeze([]);

/** Options of the autograd matmul: the transposes of a and b. */
export interface AutogradMatmulOptions { transA?: boolean; transB?: boolean }

// ---- gradient routing -------------------------------------------------------------------

/** Set by slot(): whether the returned buffer already holds a gradient to add to. */
let accumulating = false;

/**
 * Where t's gradient goes, or null when t needs none. Non-leaves get a pooled buffer on the
 * first contribution (written, not added); leaves accumulate into `grad`.
 */
function slot(t: Tensor): Tensor | null {
  if (!t.requiresGrad) return null;
  if (t._prev !== null) {
    if (t._g === null) {
      t._g = t._be._temp(t.shape, t.size);
      accumulating = false;
    } else {
      accumulating = true;
    }
    return t._g;
  }
  if (t.grad === null) t.grad = t._be.zeros(t.shape);
  accumulating = true;
  return t.grad;
}

/** t's gradient (+)= what `write(dst)` writes into a full-size buffer. */
function into(t: Tensor, write: (dst: Tensor) => void): void {
  const dst = slot(t);
  if (dst === null) return;
  if (!accumulating) { write(dst); return; }
  const be = t._be;
  const tmp = be._temp(t.shape, t.size);
  write(tmp);
  be.kernels.axpy(dst, tmp, 1);
  tmp.dispose();
}

/** t's gradient (+)= alpha·g (g of t's size). */
function addScaled(t: Tensor, g: Tensor, alpha: number): void {
  const dst = slot(t);
  if (dst === null) return;
  if (accumulating) t._be.kernels.axpy(dst, g, alpha);
  else t._be.kernels.scale(dst, g, alpha);
}

/** t's gradient (+)= op(a)·op(b), through matmul's own accumulate. */
function addMatmul(t: Tensor, a: Tensor, b: Tensor, transA: boolean, transB: boolean): void {
  const dst = slot(t);
  if (dst === null) return;
  t._be.kernels.matmul(dst, a, b, { transA, transB, accumulate: accumulating });
}

/** t's gradient (+)= value in every element. */
function addConstant(t: Tensor, value: number): void {
  into(t, (dst) => t._be.kernels.fill(dst, value));
}

/** The upstream gradient of a one-element result. */
function scalarOf(g: Tensor): number {
  return g.data[0]!;
}

/** A new op result of `shape`; records the graph when an input requires grad. */
function result(be: Backend, shape: readonly number[], size: number, op: string, prev: Tensor[]): Tensor {
  const out = be._acquire(shape, size);
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

function dims2(t: Tensor, what: string): [number, number] {
  if (t.shape.length !== 2) throw new ShapeError(`${what}: expected a 2-D tensor, got shape ${fmtShape(t.shape)}`);
  return [t.shape[0]!, t.shape[1]!];
}

function flag(v: unknown, what: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new TypeError(`${what}: expected true or false, got ${describe(v)}`);
  return v;
}

// ---- ops ----------------------------------------------------------------------------------

/** op(a)·op(b): a is m×k (k×m when transA), b is k×n (n×k when transB); the result is m×n. */
export function matmul(be: Backend, a: Tensor, b: Tensor, options: AutogradMatmulOptions = {}): Tensor {
  be._check(a, 'matmul a'); be._check(b, 'matmul b');
  if (options === null || typeof options !== 'object') throw new TypeError(`matmul: expected options { transA?, transB? }, got ${describe(options)}`);
  const tA = flag(options.transA, 'matmul transA'), tB = flag(options.transB, 'matmul transB');
  const [ar, ac] = dims2(a, 'matmul a'), [br, bc] = dims2(b, 'matmul b');
  const m = tA ? ac : ar, k = tA ? ar : ac, k2 = tB ? bc : br, n = tB ? br : bc;
  if (k !== k2) {
    throw new ShapeError(`matmul: inner dimensions differ: op(a) is ${m}×${k} (a ${fmtShape(a.shape)}${tA ? ', transposed' : ''}), ` +
      `op(b) is ${k2}×${n} (b ${fmtShape(b.shape)}${tB ? ', transposed' : ''})`);
  }
  const out = result(be, [m, n], m * n, 'matmul', [a, b]);
  be.kernels.matmul(out, a, b, { transA: tA, transB: tB });
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
 * A fully connected layer: x·wᵀ + b, x [rows, in], w [out, in] (torch's layout), b [out]
 * (optional). One op, so the bias is added in place and costs no extra buffer.
 */
export function linear(be: Backend, x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  be._check(x, 'linear x'); be._check(w, 'linear weight');
  const [rows, inX] = dims2(x, 'linear x');
  const [outF, inW] = dims2(w, 'linear weight');
  if (inX !== inW) throw new ShapeError(`linear: x ${fmtShape(x.shape)} has ${inX} features, but the weight ${fmtShape(w.shape)} expects ${inW} ([out, in])`);
  if (b !== null) {
    be._check(b, 'linear bias');
    if (b.shape.length !== 1 || b.shape[0] !== outF) throw new ShapeError(`linear bias: expected shape [${outF}], got ${fmtShape(b.shape)}`);
  }
  const out = result(be, [rows, outF], rows * outF, 'linear', b === null ? [x, w] : [x, w, b]);
  be.kernels.matmul(out, x, w, { transB: true });
  if (b !== null) be.kernels.addRowVector(out, out, b);
  if (out.requiresGrad) {
    out._backward = (g) => {
      addMatmul(x, g, w, false, false);
      addMatmul(w, g, x, true, false);
      if (b !== null) into(b, (dst) => be.kernels.sumRows(dst, g));
    };
  }
  return out;
}

/** a + b: same shapes, or a [rows, cols] plus a bias vector b [cols] added to every row. */
export function add(be: Backend, a: Tensor, b: Tensor): Tensor {
  be._check(a, 'add a'); be._check(b, 'add b');
  if (sameShape(a.shape, b.shape)) {
    const out = result(be, a.shape, a.size, 'add', [a, b]);
    be.kernels.add(out, a, b);
    if (out.requiresGrad) out._backward = (g) => { addScaled(a, g, 1); addScaled(b, g, 1); };
    return out;
  }
  if (a.shape.length === 2 && b.shape.length === 1 && b.shape[0] === a.shape[1]) {
    const out = result(be, a.shape, a.size, 'add', [a, b]);
    be.kernels.addRowVector(out, a, b);
    if (out.requiresGrad) {
      out._backward = (g) => {
        addScaled(a, g, 1);
        into(b, (dst) => be.kernels.sumRows(dst, g));
      };
    }
    return out;
  }
  throw new ShapeError(`add: expected equal shapes or [rows, cols] + [cols], got ${fmtShape(a.shape)} + ${fmtShape(b.shape)}`);
}

/** alpha·x (e.g. λ times a penalty). */
export function scale(be: Backend, x: Tensor, alpha: number): Tensor {
  be._check(x, 'scale x');
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new RangeError(`scale: expected a finite number alpha, got ${describe(alpha)}`);
  const out = result(be, x.shape, x.size, 'scale', [x]);
  be.kernels.scale(out, x, alpha);
  if (out.requiresGrad) out._backward = (g) => addScaled(x, g, alpha);
  return out;
}

/** max(x, 0). */
export function relu(be: Backend, x: Tensor): Tensor {
  be._check(x, 'relu x');
  const out = result(be, x.shape, x.size, 'relu', [x]);
  be.kernels.relu(out, x);
  // relu(x) > 0 exactly where x > 0, so the output serves as the mask (as torch's threshold_backward).
  if (out.requiresGrad) out._backward = (g) => into(x, (dst) => be.kernels.reluBackward(dst, g, out));
  return out;
}

/** x·Φ(x), exact (erf) GELU as torch's default. */
export function gelu(be: Backend, x: Tensor): Tensor {
  be._check(x, 'gelu x');
  const out = result(be, x.shape, x.size, 'gelu', [x]);
  be.kernels.gelu(out, x);
  if (out.requiresGrad) out._backward = (g) => into(x, (dst) => be.kernels.geluBackward(dst, g, x));
  return out;
}

/** tanh(x); the backward uses the output: g·(1 − y²). */
export function tanh(be: Backend, x: Tensor): Tensor {
  be._check(x, 'tanh x');
  const out = result(be, x.shape, x.size, 'tanh', [x]);
  be.kernels.tanh(out, x);
  if (out.requiresGrad) out._backward = (g) => into(x, (dst) => be.kernels.tanhBackward(dst, g, out));
  return out;
}

/**
 * Inverted dropout in train mode: x·m/(1 − p), m ~ Bernoulli(1 − p) from `rng` (which
 * advances: a new mask every call). The backward is g·m/(1 − p) with the same mask.
 */
export function dropout(be: Backend, x: Tensor, p: number, rng: Rng): Tensor {
  be._check(x, 'dropout x');
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`dropout: expected p in [0, 1], got ${describe(p)}`);
  if (!(rng instanceof Rng)) throw new TypeError(`dropout: expected an Rng from be.rng(seed), got ${describe(rng)}`);
  rng.assertLive('dropout rng');
  if (rng._be !== be) throw new TypeError('dropout: the RNG belongs to another backend');
  const out = result(be, x.shape, x.size, 'dropout', [x]);
  const mask = out.requiresGrad ? be._acquire(x.shape, x.size) : null;
  be.kernels.dropout(out, x, p, rng, mask);
  if (mask !== null) {
    out._prev = [x, mask]; // the mask needs no gradient; listed so backward() checks it is alive
    const s = 1 / (1 - p); // the scale the facade passes to the kernel (rounded to f32 there and in scale/axpy)
    out._backward = (g) => {
      const dst = slot(x);
      if (dst === null) return;
      if (p === 1) {
        if (!accumulating) be.kernels.fill(dst, 0);
        return;
      }
      if (!accumulating) {
        be.kernels.mul(dst, g, mask);
        be.kernels.scale(dst, dst, s);
      } else {
        const tmp = be._temp(x.shape, x.size);
        be.kernels.mul(tmp, g, mask);
        be.kernels.axpy(dst, tmp, s);
        tmp.dispose();
      }
    };
  }
  return out;
}

/** Mean softmax cross-entropy of logits [rows, classes] against Int32Array labels in [0, classes). */
export function crossEntropy(be: Backend, logits: Tensor, labels: Int32Array): Tensor {
  if (!logits.requiresGrad) {
    const value = be.kernels.crossEntropy(logits, labels); // validates logits and labels
    return scalarResult(be, value, 'crossEntropy', [logits]);
  }
  // Validated before anything is allocated; the forward keeps its exps (an op result, freed
  // at the step boundary) so the backward needs no exp of its own: the same bits as
  // crossEntropyBackward on these logits.
  be._check(logits, 'crossEntropy logits');
  be.kernels._checkLabels(logits, labels, 'crossEntropy');
  const exps = be._acquire(logits.shape, logits.size);
  const value = be.kernels.crossEntropy(logits, labels, exps);
  const out = scalarResult(be, value, 'crossEntropy', [logits]);
  out._prev = [logits, exps]; // exps needs no gradient; listed so backward() checks it is alive
  const lab = labels.slice();
  const rows = logits.shape[0]!;
  out._backward = (g) => {
    const alpha = scalarOf(g) / rows;
    into(logits, (dst) => be.kernels.crossEntropyBackwardExps(dst, exps, lab, alpha));
  };
  return out;
}

/** Mean squared error mean((pred − target)²); target may require grad too. */
export function mse(be: Backend, pred: Tensor, target: Tensor): Tensor {
  be._check(pred, 'mse pred'); be._check(target, 'mse target');
  if (!sameShape(pred.shape, target.shape)) throw new ShapeError(`mse: pred ${fmtShape(pred.shape)} and target ${fmtShape(target.shape)} differ in shape`);
  const value = be.kernels.mse(pred, target);
  const out = scalarResult(be, value, 'mse', [pred, target]);
  if (out.requiresGrad) {
    out._backward = (g) => {
      const alpha = 2 * scalarOf(g) / pred.size;
      into(pred, (dst) => be.kernels.mseBackward(dst, pred, target, alpha));
      into(target, (dst) => be.kernels.mseBackward(dst, target, pred, alpha));
    };
  }
  return out;
}

/** Σ x, a one-element result. */
export function sum(be: Backend, x: Tensor): Tensor {
  be._check(x, 'sum x');
  const out = scalarResult(be, be.kernels.sum(x), 'sum', [x]);
  if (out.requiresGrad) out._backward = (g) => addConstant(x, scalarOf(g));
  return out;
}

/** The mean of x (at least one element). */
export function mean(be: Backend, x: Tensor): Tensor {
  be._check(x, 'mean x');
  if (x.size === 0) throw new ShapeError(`mean: expected at least one element, got shape ${fmtShape(x.shape)}`);
  const out = scalarResult(be, be.kernels.sum(x) / x.size, 'mean', [x]);
  if (out.requiresGrad) out._backward = (g) => addConstant(x, scalarOf(g) / x.size);
  return out;
}

/** ½‖w‖², whose gradient is w. */
export function l2Penalty(be: Backend, w: Tensor): Tensor {
  be._check(w, 'l2Penalty w');
  const out = scalarResult(be, 0.5 * be.kernels.sumSquares(w), 'l2Penalty', [w]);
  if (out.requiresGrad) out._backward = (g) => addScaled(w, w, scalarOf(g));
  return out;
}

/** ‖w‖₁, with the subgradient sign(w) (0 at 0, as torch). */
export function l1Penalty(be: Backend, w: Tensor): Tensor {
  be._check(w, 'l1Penalty w');
  const out = scalarResult(be, be.kernels.absSum(w), 'l1Penalty', [w]);
  if (out.requiresGrad) {
    out._backward = (g) => {
      const up = scalarOf(g);
      const dst = slot(w);
      if (dst === null) return;
      if (!accumulating) {
        be.kernels.sign(dst, w);
        be.kernels.scale(dst, dst, up);
      } else {
        const tmp = be._temp(w.shape, w.size);
        be.kernels.sign(tmp, w);
        be.kernels.axpy(dst, tmp, up);
        tmp.dispose();
      }
    };
  }
  return out;
}

// ---- backward -----------------------------------------------------------------------------

let stamp = 0;

/** Runs backpropagation from `root` (see Tensor.backward) and ends the step. */
export function backward(be: Backend, root: Tensor): void {
  if (root.disposed && root._freedBy !== null) {
    throw new DisposedError(`backward(): this loss was ${root._freedBy}. A backward() frees every other op result, so ` +
      'for several losses from one forward, add them (be.add) and call backward() once');
  }
  be._check(root, 'backward()');
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
      root._g = be._temp(root.shape, 1);
      be.kernels.fill(root._g, 1);
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
    be._endStep(root);
  }
}

// ---- for the ops in other files (src/autograd-transformer.ts) ----------------------------

/** @internal the gradient-routing helpers above, for ops defined in other files. */
export const _grad = {
  result,
  into,
  /** Where t's gradient goes (null: none) and whether it already holds one to add to. */
  slot(t: Tensor): { dst: Tensor; accumulate: boolean } | null {
    const dst = slot(t);
    return dst === null ? null : { dst, accumulate: accumulating };
  },
};
