/**
 * Gradient routing, the primitives every autograd op uses (src/autograd/ops.ts and
 * src/autograd/transformer-ops.ts): `grad()`, the one way a gradient is written or added into a
 * tensor's gradient buffer, the accumulations built on it, and the op-result constructors
 * that record the graph. backward() (src/autograd/backward.ts) runs the graph they record.
 */
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../backend.js';

/** Shape of the scalar results (losses): torch's 0-d tensors. */
const SCALAR: readonly number[] = Object.freeze([]);


/**
 * The one way a gradient reaches a tensor: calls `send(dst, add)` with t's gradient buffer,
 * where add is false when dst is fresh (send writes it) and true when it already holds a
 * gradient (send adds into it). Every tensor, leaves included, gets a spare step buffer on
 * its first contribution: a leaf's `grad` is only touched once the whole graph has run
 * (backward() adds the sums into it then, torch's +=), so a backward that fails partway
 * (out of memory) leaves every `grad` as it was. Nothing happens when t needs no gradient.
 */
export function grad(t: Tensor, send: (dst: Tensor, add: boolean) => void): void {
  if (!t.requiresGrad) return;
  if (t._g === null) { t._g = t._be._steps.temp(t.shape, t.size); send(t._g, false); } else send(t._g, true);
}

/** t's gradient (+)= alpha·g (g of t's size). */
export function addScaled(t: Tensor, g: Tensor, alpha: number): void {
  const k = t._be._trusted;
  grad(t, (dst, add) => { if (add) k.axpy(dst, g, alpha); else k.scale(dst, g, alpha); });
}

/**
 * t's gradient (+)= alpha·v, where `write(dst)` writes v into a buffer of t's size: into the
 * gradient itself when it is fresh (then scaled in place), else into a temporary added with axpy.
 */
export function addWritten(t: Tensor, write: (dst: Tensor) => void, alpha = 1): void {
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
export function addMatmul(t: Tensor, a: Tensor, b: Tensor, transA: boolean, transB: boolean): void {
  grad(t, (dst, add) => t._be._trusted.matmul(dst, a, b, transA, transB, add));
}

/** t's gradient (+)= value in every element. */
export function addConstant(t: Tensor, value: number): void {
  addWritten(t, (dst) => t._be._trusted.fill(dst, value));
}

/** The upstream gradient of a one-element result. */
export function scalarOf(g: Tensor): number {
  return g.data[0]!;
}

/** A new op result of `shape`; records the graph when an input requires grad. */
export function result(be: Backend, shape: readonly number[], size: number, op: string, prev: Tensor[]): Tensor {
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

/** A new one-element op result holding value (a loss); records the graph as result() does. */
export function scalarResult(be: Backend, value: number, op: string, prev: Tensor[]): Tensor {
  const out = result(be, SCALAR, 1, op, prev);
  out.data[0] = value;
  return out;
}
