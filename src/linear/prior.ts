/**
 * The Bayesian reading of the penalties: a prior on the weights and a noise variance give
 * the λ whose penalized least-squares minimizer is the MAP estimate.
 *
 * With y = Xw + noise, noise ~ N(0, s²) per sample, −log posterior = (1/s²)·[½‖y − Xw‖²
 * + s²·(−log p(w))] + const, so:
 * - Gaussian prior N(0, σ²I): −log p = ‖w‖²/(2σ²) → ½‖y − Xw‖² + (λ/2)‖w‖² with λ = s²/σ².
 * - Laplace prior ∝ exp(−‖w‖₁/b): −log p = ‖w‖₁/b → ½‖y − Xw‖² + λ‖w‖₁ with λ = s²/b.
 * A narrow prior (small σ² or b) means a large λ: σ² = 0.01 with unit noise gives λ = 100.
 */
import { describe } from '../rules/errors.js';
import { checkKeys } from '../rules/validate.js';

export interface PriorOptions {
  /** The noise variance s² of the likelihood (default 1). */
  noiseVariance?: number;
}

function positive(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new RangeError(`${what}: expected a finite number > 0, got ${describe(v)}`);
  }
  return v;
}

function noise(options: PriorOptions | undefined, fn: string): number {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new TypeError(`prior.${fn}: expected options { noiseVariance }, got ${describe(options)}`);
  }
  if (options !== undefined) checkKeys(options, { noiseVariance: true } satisfies Record<keyof PriorOptions, true>, `prior.${fn}`);
  const s2 = options?.noiseVariance;
  return s2 === undefined ? 1 : positive(s2, `prior.${fn} noiseVariance`);
}

/** λ = s²/σ² for ½‖y − Xw‖² + (λ/2)‖w‖², from a Gaussian prior N(0, σ²I) on w. */
export function gaussian(variance: number, options?: PriorOptions): number {
  return noise(options, 'gaussian') / positive(variance, 'prior.gaussian variance (σ²)');
}

/** λ = s²/b for ½‖y − Xw‖² + λ‖w‖₁, from a Laplace prior ∝ exp(−‖w‖₁/b) on w. */
export function laplace(scale: number, options?: PriorOptions): number {
  return noise(options, 'laplace') / positive(scale, 'prior.laplace scale (b)');
}

/** The inverse of gaussian(): the prior variance σ² = s²/λ that λ stands for. */
export function gaussianVariance(lambda: number, options?: PriorOptions): number {
  return noise(options, 'gaussianVariance') / positive(lambda, 'prior.gaussianVariance lambda (λ)');
}

/** The inverse of laplace(): the prior scale b = s²/λ that λ stands for. */
export function laplaceScale(lambda: number, options?: PriorOptions): number {
  return noise(options, 'laplaceScale') / positive(lambda, 'prior.laplaceScale lambda (λ)');
}
