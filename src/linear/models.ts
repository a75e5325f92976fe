/**
 * Linear models in scikit-learn's convention (Lasso, ElasticNet, Ridge; no intercept),
 * solved on a backend with its kernels.
 *
 * Objective (as sklearn.linear_model.ElasticNet with fit_intercept=False):
 *
 *     1/(2n)·‖y − Xw‖² + alpha·l1Ratio·‖w‖₁ + alpha·(1 − l1Ratio)/2·‖w‖²
 *
 * l1Ratio = 1 is the lasso, 0 is ridge (sklearn's Ridge minimizes ‖y − Xw‖² + λ‖w‖²,
 * which is this objective with alpha = λ/n, l1Ratio = 0).
 *
 * Two solvers, both on the backend's trusted kernels (src/backend/trusted.ts: arguments are
 * checked once here), bit-identical across backends (every kernel is, and the scalar logic
 * in JS is deterministic):
 * - 'cd' (default): cyclic coordinate descent, sklearn's own algorithm, in the Gram form
 *   (Xᵀr kept through G = XᵀX) or the residual form, with working sets and gap-safe
 *   screening in the residual form (src/linear/cd.ts); ridge has its own route
 *   (src/linear/ridge.ts).
 * - 'fista': accelerated proximal gradient (Beck and Teboulle 2009) with adaptive restart
 *   (O'Donoghue and Candès 2015), src/linear/fista.ts.
 * The problem data and the duality gap live in src/linear/problem.ts. Speeds against
 * scikit-learn: `npm run bench -- linear` (README).
 *
 * Convergence: the duality gap, as sklearn's enet_coordinate_descent: gap ≤ tol·‖y‖² for
 * the n-scaled problem ½‖y − Xw‖² + n·alpha·(…), checked every `checkEvery` iterations
 * (epochs for cd), before the first, and for cd also after any epoch whose largest
 * coefficient change is ≤ tol·max|w| (sklearn's rule). cd converges only on such an epoch
 * AND the gap (as sklearn: the gap bounds the objective, not the coefficients; the change
 * rule is what lands sklearn near the optimum, src/linear/cd.ts). Every gap that decides
 * convergence is float64 at the returned float32 coefficients (src/linear/problem.ts): r =
 * y − Xw summed in float64, and Xᵀr in float64 (from the float64 residual, or from XᵀX and
 * Xᵀy in float64 for the Gram form, on small problems) or, on large ones, the kernel's
 * float32 Xᵀr widened by a certified bound on its rounding; a converged fit's float64 gap
 * is then ≤ tol·‖y‖², and no gap is negative. The float32 iteration itself stalls near a gap
 * of 1e-8·‖y‖² on some problems, so tol much below 1e-7 may not be reached
 * (the fit then stops at maxIter with converged = false). For the lasso part the dual
 * point is sklearn's rescaled residual; with an L2 part the exact elastic-net dual at the
 * residual is used (sklearn's formula degenerates at l1Ratio = 0). With alpha = 0 (least
 * squares) there is no finite dual: the fit stops when the largest coefficient change
 * in one iteration is ≤ tol·max|w| and reports dualGap = NaN. An iteration that changes
 * no coefficient at all is a fixed point of the float32 iteration: the fit stops there
 * (converged only if the gap is below tol) rather than repeat it up to maxIter.
 */
import { Backend } from '../backend.js';
import { ShapeError, describe } from '../rules/errors.js';
import { checkKeys } from '../rules/validate.js';
import { cd, cdWorkingSet } from './cd.js';
import { fista } from './fista.js';
import { MAX_LISTED, Problem, type Settings } from './problem.js';
import { ridge, ridgeCG } from './ridge.js';
import type { FitResult, Solver } from './types.js';

export type { FitResult, Solver } from './types.js';

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

export interface FitOptions extends SolverOptions {
  /** Rows of X (samples): a positive integer. */
  n: number;
  /** Columns of X (features): a positive integer. */
  d: number;
  /** Overall penalty strength, ≥ 0. */
  alpha: number;
  /** Mix of L1 in [0, 1]: 1 lasso (default), 0 ridge. */
  l1Ratio?: number;
  /** Initial coefficients (length d); default zeros. */
  warmStart?: ArrayLike<number>;
}

export interface PathOptions extends SolverOptions {
  n: number;
  d: number;
  /** The alphas; sorted decreasing before use (as sklearn). Default: a geometric grid. */
  alphas?: ArrayLike<number>;
  /** Grid size when alphas is absent. Default 100. */
  nAlphas?: number;
  /** Grid from alpha_max down to eps·alpha_max. Default 1e-3. */
  eps?: number;
  /** Default 1 (lasso path). The automatic grid needs l1Ratio > 0. */
  l1Ratio?: number;
}

export interface PathResult {
  /** Decreasing. */
  alphas: Float64Array;
  /** coefs[k] is the solution at alphas[k] (warm-started from coefs[k−1]). */
  coefs: Float32Array[];
  /** Exact zeros in coefs[k]. */
  zeroCounts: Int32Array;
  iterations: Int32Array;
  converged: boolean[];
  dualGaps: Float64Array;
}

// ---- validation ----

const SOLVER_KEYS: Record<keyof SolverOptions, true> = { maxIter: true, tol: true, checkEvery: true, solver: true, precompute: true, workingSet: true };
const FIT_KEYS: Record<keyof FitOptions, true> = { ...SOLVER_KEYS, n: true, d: true, alpha: true, l1Ratio: true, warmStart: true };
const PATH_KEYS: Record<keyof PathOptions, true> = { ...SOLVER_KEYS, n: true, d: true, alphas: true, nAlphas: true, eps: true, l1Ratio: true };

function checkBackend(be: unknown, what: string): Backend {
  if (!(be instanceof Backend)) throw new TypeError(`${what}: expected a Backend from loadBackend(), got ${describe(be)}`);
  return be;
}

function posInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ShapeError(`${what}: expected a positive integer, got ${describe(v)}`);
  return v;
}

/**
 * v as n values of float32 range. With `deferF32`, a Float32Array's values are not scanned
 * here: the first pass over X on the backend finds a non-finite one (Problem), and this
 * check then runs in full for the message.
 */
function checkData(v: unknown, len: number, what: string, shape: string, deferF32 = false): ArrayLike<number> {
  if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`${what}: expected a Float32Array (or array of numbers) of ${shape} = ${len} values, got ${describe(v)}`);
  }
  const a = v as ArrayLike<number>;
  if (a.length !== len) throw new ShapeError(`${what}: expected ${shape} = ${len} values, got ${a.length}`);
  if (deferF32 && a instanceof Float32Array) return a;
  // The solvers work in float32: a finite float64 beyond its range would become ±Infinity.
  const bad = (i: number) => {
    const x = a[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return `expected finite numbers, got ${describe(x)} at index ${i}`;
    if (!Number.isFinite(Math.fround(x))) return `expected values within float32's range (|x| ≤ 3.4028235e38), got ${x} at index ${i}`;
    return null;
  };
  const i = a instanceof Float32Array ? firstNonFinite(a) : firstBad(a, bad);
  if (i >= 0) throw new RangeError(`${what}: ${bad(i)}`);
  return a;
}

/** The first index of a non-finite value, or −1 (a Float32Array holds float32 values already; a loop of its own stays monomorphic). */
function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/** The first index where bad() has a complaint, or −1. */
function firstBad(a: ArrayLike<number>, bad: (i: number) => string | null): number {
  for (let i = 0; i < a.length; i++) if (bad(i) !== null) return i;
  return -1;
}

function checkAlpha(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${what}: expected a finite number ≥ 0, got ${describe(v)}`);
  return v;
}

function checkRatio(v: unknown, what: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`${what}: expected a number in [0, 1], got ${describe(v)}`);
  return v;
}

function checkSolverOpts(o: SolverOptions, what: string): Settings {
  const solver = o.solver ?? 'cd';
  if (solver !== 'cd' && solver !== 'fista') throw new TypeError(`${what} solver: expected 'cd' or 'fista', got ${describe(solver)}`);
  const maxIter = o.maxIter ?? 10000;
  if (typeof maxIter !== 'number' || !Number.isSafeInteger(maxIter) || maxIter < 1) throw new RangeError(`${what} maxIter: expected a positive integer, got ${describe(maxIter)}`);
  const tol = o.tol ?? 1e-6;
  if (typeof tol !== 'number' || !Number.isFinite(tol) || tol < 0) throw new RangeError(`${what} tol: expected a finite number ≥ 0, got ${describe(tol)}`);
  const checkEvery = o.checkEvery ?? 10;
  if (typeof checkEvery !== 'number' || !Number.isSafeInteger(checkEvery) || checkEvery < 1) throw new RangeError(`${what} checkEvery: expected a positive integer, got ${describe(checkEvery)}`);
  const precompute = o.precompute ?? 'auto';
  if (precompute !== 'auto' && precompute !== true && precompute !== false) throw new TypeError(`${what} precompute: expected 'auto', true or false, got ${describe(precompute)}`);
  const workingSet = o.workingSet ?? true;
  if (workingSet !== true && workingSet !== false) throw new TypeError(`${what} workingSet: expected true or false, got ${describe(workingSet)}`);
  return { maxIter, tol, checkEvery, solver, precompute, workingSet };
}

// ---- choosing the solver ----

/** A single fit precomputes the Gram matrix automatically only up to this many features (its n·d² cost pays off over few epochs). */
const GRAM_FIT_MAX_D = 64;
/** Ridge takes the Cholesky route up to this many features (d³/6 flops in float64), conjugate gradient above. */
const RIDGE_MAX_D = 1000;

/** Solves at alpha from w0 (null: zeros; the problem's last coefficients: its exact state is kept) with the solver the settings pick. */
function solve(p: Problem, alpha: number, l1Ratio: number, w0: ArrayLike<number> | null, o: Settings, isPath: boolean): FitResult {
  p.start(w0);
  const { n, d } = p;
  const a = n * alpha * l1Ratio, b = n * alpha * (1 - l1Ratio);
  if (o.solver === 'fista') return fista(p, alpha, l1Ratio, o);
  if (a === 0 && d <= RIDGE_MAX_D && o.precompute !== false) {
    const r = ridge(p, b, o);
    if (r !== null) return r;
  }
  if (a === 0 && b > 0 && d > RIDGE_MAX_D && o.precompute !== true) return ridgeCG(p, b, o);
  const gram = o.precompute === true || (o.precompute === 'auto' && n >= d && (isPath || d <= GRAM_FIT_MAX_D));
  if (!gram && o.workingSet && a > 0 && d < MAX_LISTED) return cdWorkingSet(p, a, b, alpha, l1Ratio, o);
  return cd(p, gram, a, b, alpha, l1Ratio, o);
}

function setup(be: unknown, X: unknown, y: unknown, o: { n?: unknown; d?: unknown }, keys: Record<string, true>, what: string) {
  checkBackend(be, what);
  if (o === null || typeof o !== 'object') throw new TypeError(`${what}: expected options { n, d, ... }, got ${describe(o)}`);
  checkKeys(o, keys, what);
  const n = posInt(o.n, `${what} n (rows of X)`);
  const d = posInt(o.d, `${what} d (columns of X)`);
  const Xa = checkData(X, n * d, `${what} X`, `n×d = ${n}×${d}`, true);
  const ya = checkData(y, n, `${what} y`, `n`);
  const badX = () => { checkData(X, n * d, `${what} X`, `n×d = ${n}×${d}`); };
  return { n, d, Xa, ya, badX };
}

/**
 * Fits sklearn's elastic net (lasso at l1Ratio 1, ridge at 0), no intercept:
 * minimizes 1/(2n)‖y − Xw‖² + alpha·l1Ratio·‖w‖₁ + alpha·(1 − l1Ratio)/2·‖w‖² on `be`.
 * X is n×d row-major, y length n. Throws ShapeError for sizes, RangeError for
 * out-of-range or non-finite values, TypeError for wrong types; nothing is allocated then.
 */
export function fit(be: Backend, X: ArrayLike<number>, y: ArrayLike<number>, options: FitOptions): FitResult {
  const { n, d, Xa, ya, badX } = setup(be, X, y, options, FIT_KEYS, 'linear.fit');
  const alpha = checkAlpha(options.alpha, 'linear.fit alpha');
  const l1Ratio = checkRatio(options.l1Ratio ?? 1, 'linear.fit l1Ratio');
  const settings = checkSolverOpts(options, 'linear.fit');
  const w0 = options.warmStart === undefined ? null : checkData(options.warmStart, d, 'linear.fit warmStart', 'd');
  const p = new Problem(be, Xa, ya, n, d, badX);
  try {
    return solve(p, alpha, l1Ratio, w0, settings, false);
  } finally {
    p.dispose();
  }
}

/** np.finfo(float).resolution: sklearn's grid floor when alpha_max is (nearly) zero. */
const ALPHA_RESOLUTION = 1e-15;

/**
 * sklearn's alpha_max for the path: the smallest alpha whose solution is all zeros,
 * max_j |X_jᵀy| / (n·l1Ratio), computed in float64.
 */
export function alphaMax(X: ArrayLike<number>, y: ArrayLike<number>, n: number, d: number, l1Ratio = 1): number {
  posInt(n, 'linear.alphaMax n (rows of X)');
  posInt(d, 'linear.alphaMax d (columns of X)');
  checkData(X, n * d, 'linear.alphaMax X', `n×d = ${n}×${d}`);
  checkData(y, n, 'linear.alphaMax y', 'n');
  if (!(l1Ratio > 0 && l1Ratio <= 1)) throw new RangeError(`linear.alphaMax: the automatic alpha grid needs l1Ratio in (0, 1], got ${describe(l1Ratio)} (pass alphas explicitly for ridge)`);
  let m = 0;
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += X[i * d + j]! * y[i]!;
    m = Math.max(m, Math.abs(s));
  }
  return m / (n * l1Ratio);
}

/**
 * The regularization path, as sklearn's lasso_path / enet_path (no intercept): fits at
 * each alpha in decreasing order, each warm-started from the previous solution, reusing
 * X on the backend and its L. Default grid: nAlphas values geometric from alpha_max down to
 * eps·alpha_max.
 */
export function path(be: Backend, X: ArrayLike<number>, y: ArrayLike<number>, options: PathOptions): PathResult {
  const { n, d, Xa, ya, badX } = setup(be, X, y, options, PATH_KEYS, 'linear.path');
  const l1Ratio = checkRatio(options.l1Ratio ?? 1, 'linear.path l1Ratio');
  const settings = checkSolverOpts(options, 'linear.path');
  let alphas: Float64Array;
  if (options.alphas !== undefined) {
    const a = options.alphas;
    if (a === null || typeof a !== 'object' || typeof a.length !== 'number' || a.length < 1) {
      throw new TypeError(`linear.path alphas: expected a non-empty array of numbers ≥ 0, got ${describe(a)}`);
    }
    alphas = Float64Array.from({ length: a.length }, (_, i) => checkAlpha(a[i], `linear.path alphas[${i}]`)).sort().reverse();
  } else {
    const nAlphas = options.nAlphas ?? 100;
    if (typeof nAlphas !== 'number' || !Number.isSafeInteger(nAlphas) || nAlphas < 1) throw new RangeError(`linear.path nAlphas: expected a positive integer, got ${describe(nAlphas)}`);
    const eps = options.eps ?? 1e-3;
    if (typeof eps !== 'number' || !(eps > 0 && eps <= 1)) throw new RangeError(`linear.path eps: expected a number in (0, 1], got ${describe(eps)}`);
    if (l1Ratio === 0) throw new RangeError('linear.path: the automatic alpha grid needs l1Ratio > 0, got 0 (pass alphas explicitly for ridge), as sklearn');
    const amax = alphaMax(Xa, ya, n, d, l1Ratio); // validates again: O(n·d), small next to the fits
    if (amax <= ALPHA_RESOLUTION) {
      // Xᵀy is (almost) zero (y all zero, or X all zero): log10(0) would make every alpha NaN.
      // scikit-learn 1.2's _alpha_grid returns n_alphas copies of np.finfo(float).resolution
      // (1e-15) when alpha_max ≤ it, and lasso_path / enet_path then give zero coefficients
      // and zero gaps at each; we do the same.
      alphas = new Float64Array(nAlphas).fill(ALPHA_RESOLUTION);
    } else {
      // np.logspace(log10(amax·eps), log10(amax), nAlphas)[::-1]
      const lo = Math.log10(amax * eps), hi = Math.log10(amax);
      alphas = Float64Array.from({ length: nAlphas }, (_, i) => (nAlphas === 1 ? amax : 10 ** (hi - ((hi - lo) * i) / (nAlphas - 1))));
    }
  }
  const p = new Problem(be, Xa, ya, n, d, badX);
  try {
    const coefs: Float32Array[] = [];
    const zeroCounts = new Int32Array(alphas.length);
    const iterations = new Int32Array(alphas.length);
    const converged: boolean[] = [];
    const dualGaps = new Float64Array(alphas.length);
    let w: Float32Array | null = null;
    alphas.forEach((alpha, i) => {
      const r = solve(p, alpha, l1Ratio, w, settings, true);
      coefs.push(r.coef);
      zeroCounts[i] = r.coef.reduce((c, x) => c + (x === 0 ? 1 : 0), 0);
      iterations[i] = r.iterations;
      converged.push(r.converged);
      dualGaps[i] = r.dualGap;
      w = r.coef;
    });
    return { alphas, coefs, zeroCounts, iterations, converged, dualGaps };
  } finally {
    p.dispose();
  }
}
