/**
 * The types that the linear models' API (src/linear/models.ts) and its solvers (problem, cd,
 * fista, ridge) share, in a file of their own so the solvers do not import the API file.
 */

/** 'cd': cyclic coordinate descent (sklearn's algorithm); 'fista': accelerated proximal gradient. */
export type Solver = 'cd' | 'fista';

export interface FitResult {
  /** The coefficients, length d. Exact zeros where the L1 prox cut them. */
  coef: Float32Array;
  /** Iterations done: epochs over all coordinates (cd) or proximal gradient steps (fista). */
  iterations: number;
  /** True when the gap (or, for alpha = 0, the coefficient change) fell below tol. */
  converged: boolean;
  /** The last duality gap, in units of the objective above (gap/n); NaN when alpha = 0. */
  dualGap: number;
}
