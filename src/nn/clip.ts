/**
 * `nn.utils`: gradient clipping with PyTorch's `torch.nn.utils.clip_grad_norm_` semantics
 * (1.13), on the backend's kernels.
 *
 * PyTorch 1.13, for the gradients g of the parameters that have one:
 *   total = ‖(‖g_1‖_p, ‖g_2‖_p, ...)‖_p        (p = ∞: max over all |g|)
 *   coef  = max_norm / (total + 1e-6)           (float32: reciprocal(total + 1e-6) · max_norm)
 *   every g ← g · clamp(coef, max = 1)          (also when coef ≥ 1: a multiply by 1)
 * and returns total. A non-finite total is not special unless error_if_nonfinite: an
 * infinite total gives coef 0 (finite gradients become ±0, infinite ones NaN), a NaN total
 * gives coef NaN (every gradient NaN); with error_if_nonfinite it raises before any
 * gradient changes.
 *
 * Here p is 2 or ∞. p = 2 sums squares in f64 (kernel `sumSquares`, its fixed layout)
 * over every gradient in order and rounds √Σ to float32 once; p = ∞ takes the kernel
 * `absMax` (exact). Other p would need a power kernel (no Wasm instruction; torch users
 * clip with 2 or ∞ almost always), so they are refused. So the total is torch's up to its own
 * float32 rounding of each per-tensor norm (the tests hold it to 2 ulp of PyTorch's). The
 * coefficient is float32 as torch computes it, so from the same total the same coefficient
 * and (kernel `scale`, threaded on large tensors) the same clipped gradients bit for bit.
 * A multiply by exactly 1 changes no bit, so it is skipped.
 */
import { describe } from '../rules/errors.js';
import { Tensor } from '../core/tensor.js';
import { backendOf } from '../backend.js';
import { checkTensor } from '../rules/checks.js';
import { checkNumber } from '../rules/validate.js';

/** Options of clipGradNorm. */
export interface ClipGradNormOptions {
  /** 2 (default) or Infinity. */
  normType?: number;
  /** Throw (changing nothing) when the total norm is NaN or ±Infinity (default false, as torch). */
  errorIfNonfinite?: boolean;
}

const fr = Math.fround;

/**
 * The factor clipGradNorm scales every gradient by, as PyTorch 1.13 computes it in float32:
 * min(1, f32(f32(1 / f32(total + f32(1e-6))) · f32(maxNorm))); NaN when total is NaN.
 */
export function clipCoefficient(total: number, maxNorm: number): number {
  const coef = fr(fr(1 / fr(fr(total) + fr(1e-6))) * fr(maxNorm));
  return coef > 1 ? 1 : coef;
}

/**
 * Clips the gradients of `params` (a Tensor or an array of Tensors; tensors without a
 * gradient are skipped, as torch skips `grad is None`) in place so that their total
 * `normType`-norm is at most `maxNorm`, and returns the total norm before clipping (0 when
 * no tensor has a gradient). Every argument is checked before any gradient changes.
 */
export function clipGradNorm(params: Tensor | readonly Tensor[], maxNorm: number, options: ClipGradNormOptions = {}): number {
  const list: readonly unknown[] = params instanceof Tensor ? [params] : params;
  if (!Array.isArray(list)) throw new TypeError(`clipGradNorm: expected a Tensor or an array of Tensors, got ${describe(params)}`);
  checkNumber(maxNorm, 'clipGradNorm maxNorm', { min: 0 });
  if (options === null || typeof options !== 'object') throw new TypeError(`clipGradNorm: expected options { normType?, errorIfNonfinite? }, got ${describe(options)}`);
  const normType = options.normType ?? 2;
  if (normType !== 2 && normType !== Infinity) throw new RangeError(`clipGradNorm normType: expected 2 or Infinity, got ${describe(normType)}`);
  const errorIfNonfinite = options.errorIfNonfinite ?? false;
  if (typeof errorIfNonfinite !== 'boolean') throw new TypeError(`clipGradNorm errorIfNonfinite: expected true or false, got ${describe(errorIfNonfinite)}`);

  const grads: Tensor[] = [];
  const seen = new Map<Tensor, number>();
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new TypeError(`clipGradNorm params[${i}]: expected a Tensor, got ${describe(p)}`);
    const before = seen.get(p);
    if (before !== undefined) throw new RangeError(`clipGradNorm params[${i}]: repeats params[${before}] (its gradient would count and be scaled twice)`);
    seen.set(p, i);
    checkTensor((list[0] as Tensor)._be, p, `clipGradNorm params[${i}]`);
    if (p.grad === null) return;
    checkTensor(p._be, p.grad, `clipGradNorm params[${i}].grad`);
    grads.push(p.grad);
  });
  if (grads.length === 0) return 0;
  const trusted = backendOf(grads[0]!)._trusted;

  let total: number;
  if (normType === Infinity) {
    total = 0;
    for (const g of grads) {
      const m = trusted.absMax(g);
      if (Number.isNaN(m) || m > total) total = m; // once NaN, NaN stays (torch's max propagates it)
    }
  } else {
    let s = 0;
    for (const g of grads) s += trusted.sumSquares(g);
    total = fr(Math.sqrt(s));
  }
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new RangeError(`clipGradNorm: the total norm of order ${normType} of the gradients is ${total}, so they cannot be clipped (nothing was changed; errorIfNonfinite: false scales them by the non-finite norm anyway, as torch)`);
  }
  const coef = clipCoefficient(total, maxNorm);
  if (coef !== 1) for (const g of grads) trusted.scale(g, g, coef);
  return total;
}
