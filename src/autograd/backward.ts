/**
 * backward(): runs the graph the autograd ops record (src/autograd/grad.ts), from a one-element loss
 * to the gradients of its leaves, then ends the step (the memory rules of src/autograd/ops.ts).
 */
import { DisposedError, ShapeError, fmtShape } from '../rules/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { Core } from '../core/core.js';
import { checkTensor } from '../rules/checks.js';
import { sameShape } from '../rules/validate.js';
import { addConstant } from './grad.js';

let stamp = 0;

/** A leaf's grad, which backward() will add into: null (made then) or a live tensor of be with the leaf's shape. */
function checkLeafGrad(be: Core, t: Tensor): void {
  if (t._prev !== null || t.grad === null) return;
  const what = `backward(): the grad of a parameter of shape ${fmtShape(t.shape)}`;
  const g = checkTensor(be, t.grad, what);
  if (!sameShape(g.shape, t.shape)) throw new ShapeError(`${what}: expected shape ${fmtShape(t.shape)}, got ${fmtShape(g.shape)}`);
  if (g === t) throw new ShapeError(`${what}: the grad must be a tensor of its own`);
}

/** Runs backpropagation from `root` (see Tensor.backward) and ends the step. */
export function backward(be: Core, root: Tensor): void {
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
    throw new TypeError(`backward(): the tensor${root._op ? ` (from ${root._op})` : ''} does not require grad: no parameter took part in computing it, or it was computed inside be.noGrad()`);
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
      addConstant(be, root, 1);
    } else {
      root._g = be._steps.temp(root.shape, 1);
      be._trusted.fill(root._g, 1);
    }
    // Leaves keep their summed gradient in _g until every node has run.
    const leaves: Tensor[] = [];
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = t._g;
      if (g === null) continue;
      if (t._prev === null) { leaves.push(t); continue; }
      if (t._backward !== null) t._backward(g);
      t._g = null;
      g.dispose();
    }
    // Only now, with nothing left that can fail, does a leaf's grad change: first the grads
    // that do not exist yet (made all or none), then each grad += its sum (no allocation).
    const made: Tensor[] = [];
    try {
      for (const t of leaves) if (t.grad === null) made.push(be._make(t.shape, t.size));
    } catch (e) {
      for (const g of made) g.dispose();
      throw e;
    }
    let m = 0;
    for (const t of leaves) {
      if (t.grad === null) t.grad = made[m++]!;
      be._trusted.axpy(t.grad, t._g!, 1);
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
