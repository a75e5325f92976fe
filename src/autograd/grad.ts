/**
 * Gradient routing, the primitives every autograd op uses (src/autograd/ops.ts and
 * src/autograd/transformer-ops.ts): `grad()`, the one way a gradient is written or added into a
 * tensor's gradient buffer, the accumulations built on it, and the op-result constructors
 * that record the graph. backward() (src/autograd/backward.ts) runs the graph they record.
 */
import type { Tensor } from '../core/tensor.js';
import type { Core } from '../core/core.js';

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
export function grad(be: Core, t: Tensor, send: (dst: Tensor, add: boolean) => void): void {
  if (!t.requiresGrad) return;
  if (t._g === null) { t._g = be._steps.temp(t.shape, t.size); send(t._g, false); } else send(t._g, true);
}

/** t's gradient (+)= alpha·g (g of t's size). */
export function addScaled(be: Core, t: Tensor, g: Tensor, alpha: number): void {
  const trusted = be._trusted;
  grad(be, t, (dst, add) => { if (add) trusted.axpy(dst, g, alpha); else trusted.scale(dst, g, alpha); });
}

/**
 * t's gradient (+)= alpha·v, where `write(dst)` writes v into a buffer of t's size: into the
 * gradient itself when it is fresh (then scaled in place), else into a temporary added with axpy.
 */
export function addWritten(be: Core, t: Tensor, write: (dst: Tensor) => void, alpha = 1): void {
  const trusted = be._trusted;
  grad(be, t, (dst, add) => {
    if (!add) {
      write(dst);
      if (alpha !== 1) trusted.scale(dst, dst, alpha);
      return;
    }
    const tmp = be._steps.temp(t.shape, t.size);
    write(tmp);
    trusted.axpy(dst, tmp, alpha);
    tmp.dispose();
  });
}

/** t's gradient (+)= op(a)·op(b), through matmul's own accumulate. */
export function addMatmul(be: Core, t: Tensor, a: Tensor, b: Tensor, transA: boolean, transB: boolean): void {
  grad(be, t, (dst, add) => be._trusted.matmul(dst, a, b, transA, transB, add));
}

/** t's gradient (+)= value in every element. */
export function addConstant(be: Core, t: Tensor, value: number): void {
  addWritten(be, t, (dst) => be._trusted.fill(dst, value));
}

/** The upstream gradient of a one-element result. */
export function scalarOf(g: Tensor): number {
  return g.data[0]!;
}

/** Whether an op should record t's graph: t requires grad and recording is on (not inside be.noGrad). */
export function tracked(be: Core, t: Tensor): boolean {
  return t.requiresGrad && be._gradEnabled;
}

/** A new op result of `shape`; records the graph when an input requires grad (and not inside be.noGrad). */
export function result(be: Core, shape: readonly number[], size: number, op: string, prev: Tensor[]): Tensor {
  const out = be._steps.result(shape, size);
  out._op = op;
  if (!be._gradEnabled) return out;
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
export function scalarResult(be: Core, value: number, op: string, prev: Tensor[]): Tensor {
  const out = result(be, SCALAR, 1, op, prev);
  out.data[0] = value;
  return out;
}
