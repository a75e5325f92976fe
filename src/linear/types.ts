/**
 * The types the linear solvers share with the API (src/linear/models.ts): the solver
 * options, their resolved form (Settings) and a fit's result. In a file of their own so
 * that the solvers (cd.ts, fista.ts, ridge.ts, problem.ts) import them without importing
 * the API that imports the solvers (no import cycle).
 */

/** 'cd': cyclic coordinate descent (sklearn's algorithm); 'fista': accelerated proximal gradient. */
export type Solver = 'cd' | 'fista';

/** The solver settings that fit and path share. */
export interface SolverOptions {
  /** Most iterations (cd: epochs, over the working set when one is used, as sklearn's max_iter; fista: gradient steps; ridge: Cholesky refinement rounds, or conjugate-gradient iterations above 1000 features). Default 10000. */
  maxIter?: number;
  /**
   * Stop when the duality gap ≤ tol·‖y‖² (sklearn's scaling). Default 1e-6, tighter than
   * sklearn's 1e-4: the gap bounds the objective, coefficient errors go as its square root
   * (at 1e-4 a ridge fit can be off by 3e-3 of its largest coefficient). The float32 floor is
   * near 1e-7.
   */
  tol?: number;
  /** Iterations between convergence checks (each costs two passes over X). Default 10. */
  checkEvery?: number;
  /** The algorithm; default 'cd' (see the module notes for the measurements behind the choice). */
  solver?: Solver;
  /**
   * cd only: keep the Gram matrix XᵀX and Xᵀr (true: each coordinate costs O(d), after an
   * O(n·d²) start) or the residual r (false: each coordinate costs O(n)). 'auto' (default):
   * the Gram form when n ≥ d, for a single fit only up to d = 64 (a path reuses it across
   * alphas). With l1Ratio = 0, true or 'auto' also allows ridge's Cholesky route (d ≤ 1000);
   * above 1000 features, ridge (alpha > 0) takes conjugate gradient unless this is true.
   */
  precompute?: 'auto' | boolean;
  /**
   * cd in the residual form with an L1 part: solve on working sets with gap-safe screening
   * (default true); false runs every epoch over all d coordinates.
   */
  workingSet?: boolean;
}

/** The solver options resolved: every one present and checked (models.ts checkSolverOpts). */
export type Settings = Required<SolverOptions>;

/** One fit's result. */
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
