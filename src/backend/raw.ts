/**
 * The raw kernel contract shared by both backends, and the one list of kernels.
 *
 * Every kernel exists twice with the same name and argument order: in AssemblyScript
 * (`assembly/<family>.ts`, reached through `src/backend/wasm/`) and in plain TypeScript
 * (`src/backend/js/<family>.ts`). `H` is the storage handle of a float32 buffer: a byte
 * pointer into Wasm linear memory for the wasm backend, a `Float32Array` for the js
 * backend. `R` is the handle of an RNG state (16 uint32 lanes): a byte pointer, or a
 * `Uint32Array`. `I` is the handle of an int32 buffer (labels): a byte pointer or an
 * `Int32Array`. Above the storage the handles are opaque brands (`F32Handle`, ...).
 *
 * Rules every implementation follows:
 * - `out` first; sizes after buffers; scalars last.
 * - Kernels trust their input. Arguments are checked once, at the public entry
 *   (`be.kernels`, `src/core/checked-kernels.ts`, with the rules of `src/rules/checks.ts`, and the autograd
 *   ops); internal callers then use the trusted path (`be._trusted`,
 *   `src/backend/trusted.ts`), which returns early on zero-sized work and derives the
 *   scalars below, and never re-checks.
 * - Scalars arrive as JS numbers (float64). Any scalar derived from user options (bias
 *   corrections, 1 - lr*wd, thresholds) is computed once by the trusted path in float64
 *   and passed in; each kernel rounds its scalars to float32 once on entry
 *   (`Math.fround` in js, an `f32` parameter in wasm), so both backends see the same bits.
 * - Both implementations do float32 arithmetic in the same order with no fused
 *   multiply-add, so results are bit-identical. Reductions use the layout documented on
 *   each kernel.
 *
 * ## How to add a kernel
 *
 * An elementwise kernel or a reduction whose shape is one of `Signatures` (say `sub`,
 * out = a − b):
 * 1. `assembly/<family>.ts`: `export function sub(out: usize, a: usize, b: usize, n: i32): void`
 *    (f32x4 main loop, scalar tail, the same operations in the same order as the twin).
 * 2. `src/backend/js/<family>.ts`: the twin `function sub(out, a, b, n)`, added to that
 *    file's exported kernel object.
 * 3. One registration line in `TABLE` below: `sub: { sig: 'zip' },` with its doc comment.
 *    From it come the `RawKernels` type (so the compiler asks for the js twin), the wasm
 *    glue (the export is looked up at load: a missing one fails `loadBackend` with a clear
 *    error; zip/map kernels are split over threads above a size), the checked
 *    `be.kernels.sub(out, a, b)` (shapes, backend, disposal, scalars) and the trusted
 *    `be._trusted.sub(out, a, b)`.
 * 4. Its autograd op, if it has one: a method of `Ops` in `src/autograd/ops.ts` (forward, and
 *    its backward beside it through `grad()`); it becomes `be.sub(a, b)`.
 * 5. Its tests: wasm == js bit for bit over odd sizes and aliasing, a reference, and bad input.
 * A kernel of another shape (matmul, the optimizer steps, dropout, cross-entropy) is
 * declared in `ExplicitKernels`, has its glue in `src/backend/wasm/<family>.ts`, its checks
 * in `src/core/checked-kernels.ts` and its trusted entry in `src/backend/trusted.ts`.
 */

declare const brand: unique symbol;
/** The handle of a float32 buffer above the storage (opaque: only the storage looks inside). */
export type F32Handle = { readonly [brand]: 'f32' };
/** The handle of an RNG state above the storage. */
export type RngHandle = { readonly [brand]: 'rng' };
/** The handle of int32 labels above the storage. */
export type LabelsHandle = { readonly [brand]: 'labels' };

/** The kernel shapes that `TABLE` entries use (H: a float32 handle; n elements). */
export interface Signatures<H> {
  /** out[i] = f(x[i]). out may be x. */
  map: (out: H, x: H, n: number) => void;
  /** out[i] = f(a[i], b[i]). out may be a or b unless the entry says otherwise. */
  zip: (out: H, a: H, b: H, n: number) => void;
  /** out[i] = f(x[i], alpha). out may be x unless the entry says otherwise. */
  mapScalar: (out: H, x: H, n: number, alpha: number) => void;
  /** out[i] = f(a[i], b[i], alpha). out may be a or b. */
  zipScalar: (out: H, a: H, b: H, n: number, alpha: number) => void;
  /** A number from x (0 for no elements). */
  reduce: (x: H, n: number) => number;
  /** A number from a and b of equal shapes (at least one element). */
  reduce2: (a: H, b: H, n: number) => number;
}

/** A signature's name. */
export type Sig = keyof Signatures<unknown>;

/** A `TABLE` entry: the signature, and where it differs from the signature's defaults, names and the aliasing rule. */
export interface TableEntry {
  readonly sig: Sig;
  /** Names of out and the inputs, for messages (default out, x or a, b). */
  readonly names?: readonly string[];
  /** 'none': out must not be the (first) input; 'first': out may alias the first input, not the second. */
  readonly alias?: 'none' | 'first';
  /** out is read as well as written (y += ...): a chunk cut off by a dead worker cannot simply be run again. */
  readonly readsOut?: boolean;
}

/**
 * The kernels declared by one line each (see "How to add a kernel" above); the comment on
 * each line is its contract.
 */
export const TABLE = {
  /** out = a + b elementwise. out may be a or b. */
  add: { sig: 'zip' },
  /** out = a − b elementwise. out may be a or b. */
  sub: { sig: 'zip' },
  /** out = a · b elementwise. out may be a or b. */
  mul: { sig: 'zip' },
  /** out = alpha · x. out may be x. */
  scale: { sig: 'mapScalar' },
  /** y = y + f32(alpha · x) (y updated in place; y must not be x). */
  axpy: { sig: 'mapScalar', names: ['y', 'x'], alias: 'none', readsOut: true },
  /** out = max(x, 0) (−0 and NaN map as f32x4.max(x, 0) does; see elementwise). out may be x. */
  relu: { sig: 'map' },
  /** out = x > 0 ? g : 0 (gradient of relu at x). out may be g, not x. */
  reluBackward: { sig: 'zip', names: ['out', 'g', 'x'], alias: 'first' },
  /** out = alpha · (a − b) (the MSE gradient with alpha = 2·upstream/n). out may be a or b. */
  mseBackward: { sig: 'zipScalar' },
  /** Σ x[i], returned. Reduction layout: see elementwise. */
  sum: { sig: 'reduce' },
  /** Σ x[i]², returned. Same reduction layout as sum. */
  sumSquares: { sig: 'reduce' },
  /** mean((a − b)²), returned. */
  mse: { sig: 'reduce2' },

  // ---- activations (assembly/activation.ts, src/backend/js/activation.ts) ----
  // exp, erf and tanh have no Wasm instruction: both backends run one shared f64 algorithm
  // (fixed polynomials and the Cody–Waite exp; Φ(x) from one fitted polynomial in
  // t = 5/(5 + |x|) times e^(−x²/2), no branch; see assembly/activation.ts) and round to f32
  // once, so they agree bit for bit. Measured: gelu and the GELU derivative within 0.5 ulp
  // over a dense sweep of [−16, 16] and the tails; the derivative within 0.5 ulp +
  // 3e-15·(Φ + |x|·φ) next to its zero at x ≈ −0.75179 (1.56 ulp at the nearest float).

  /** out = f32(x·Φ(x)), Φ the standard normal CDF: exact (erf) GELU, as torch's default. out may be x. */
  gelu: { sig: 'map' },
  /** out = f32(g·(Φ(x) + x·φ(x))), the GELU gradient (φ the normal density), in f64. out may be g or x. */
  geluBackward: { sig: 'zip', names: ['out', 'g', 'x'] },
  /** out = f32(tanh(x)) via f64. out may be x. */
  tanh: { sig: 'map' },
  /** out = f32(g·f32(1 − f32(y·y))), y the tanh output. out may be g or y. */
  tanhBackward: { sig: 'zip', names: ['out', 'g', 'y'] },
  /** out = 1 (x > 0), −1 (x < 0), +0 otherwise (±0, NaN): the L1 subgradient. out may be x. */
  sign: { sig: 'map' },
  /**
   * Σ|x[i]| in f32, returned. Layout: lane j (0..3) sums |x[4q + j]| over the first n & ~3
   * elements in order; s = (s0 + s1) + (s2 + s3); the tail is then added in order.
   */
  absSum: { sig: 'reduce' },

  // ---- gradient clipping (assembly/clip.ts, src/backend/js/clip.ts) ----

  /** max |x[i]|, returned (+0 for no elements; NaN when any x[i] is NaN): the infinity norm. */
  absMax: { sig: 'reduce' },
} as const satisfies Record<string, TableEntry>;

/** The names of the table kernels. */
export type TableName = keyof typeof TABLE;

/** The raw table kernels over handle type H. */
export type TableKernels<H> = { [K in TableName]: Signatures<H>[(typeof TABLE)[K]['sig']] };

/** The kernels whose shape is their own; each has glue, checks and a trusted entry of its own. */
export interface ExplicitKernels<H, R, I> {
  /**
   * out (+)= op(a) · op(b), out m×n row-major. op(a) is m×k: a is stored m×k, or k×m when
   * transA. op(b) is k×n: b is stored k×n, or n×k when transB. Each output is
   * s = (accumulate ? out[i,j] : 0); for p in 0..k-1: s = f32(s + f32(a[i,p]·b[p,j])).
   * out must not alias a or b.
   */
  matmul(out: H, a: H, b: H, m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean): void;

  /**
   * Strided batched matmul (the attention matmuls: heads read and written in place). For
   * z in 0..batch·heads−1, b = ⌊z/heads⌋, h = z mod heads: C_z (+)= op(A_z)·op(B_z), where
   * C_z is m×n at element offset offC + b·sCb + h·sCh of `out` with row stride ldc; A_z is
   * at offA + b·sAb + h·sAh of `a` with row stride lda, stored m×k, or k×m when transA;
   * B_z is at offB + b·sBb + h·sBh of `b`, row stride ldb, stored k×n, or n×k when transB.
   * Offsets and strides are in elements. Each output: s = accumulate ? out : 0; for p in
   * 0..k−1: s = f32(s + f32(a·b)) (the same order as `matmul`, so the same bits as matmul
   * on a copy of the head). k may be 0 (out = accumulate ? out : 0).
   * The facade guarantees: every element any z touches lies inside its buffer; offsets and
   * strides ≥ 0; distinct (z, i, j) name distinct elements of out (no overlapping writes,
   * so neither the order of z nor a split over threads changes a bit); out is neither a
   * nor b (a and b may be one buffer: q and k of the fused c_attn output).
   * Causal masks (the attention's triangles, so that no work goes to masked terms): with
   * causalA, each A_z is taken as lower triangular in storage (its stored elements above
   * the diagonal are never read as terms): output (i, j) sums only p ≤ i, or only p ≥ i
   * when transA. With causalOut, the outputs j > i have no terms: s = accumulate ? out : 0
   * (0 without accumulate). Either way the terms that remain are added in p order as
   * above, so a result equals the full sum whenever the skipped factors are zeros and the
   * other operand is finite (skipped zeros cannot change an f32 sum that starts from +0).
   * GPT's six attention products use them: q·kᵀ and dY·Vᵀ causalOut; P'·V, dS·K causalA;
   * P'ᵀ·dY, dSᵀ·Q causalA with transA.
   * The base offsets offA/offB/offC are an addition to the contract first written for this
   * kernel (which had b·sAb + h·sAh only): a js handle is a Float32Array, so k at +C and v
   * at +2C of one tensor need them (the wasm glue could have moved the pointer instead).
   * GPT's attention, x = c_attn output [B·T, 3C] (q | k | v), hs = C/H:
   * scores [B,H,T,T] = q·kᵀ: batch B, heads H, m T, n T, k hs, a = b = x, offA 0, offB C,
   * lda = ldb = 3C, sAb = sBb = T·3C, sAh = sBh = hs, transB; offC 0, ldc T, sCb H·T·T,
   * sCh T·T. y = att·v into [B·T, C] in place: a = att, b = x at offB 2C, ldc C, sCb T·C,
   * sCh hs.
   */
  matmulBatched(out: H, a: H, b: H, batch: number, heads: number, m: number, n: number, k: number,
    offA: number, lda: number, sAb: number, sAh: number, offB: number, ldb: number, sBb: number, sBh: number,
    offC: number, ldc: number, sCb: number, sCh: number, transA: boolean, transB: boolean, accumulate: boolean,
    causalA: boolean, causalOut: boolean): void;

  /**
   * GELU and its derivative in one pass (the autograd op's forward): out = f32(x·Φ(x)), the
   * same bits as `gelu`, and d = f32(Φ(x) + x·φ(x)), so the backward is g·d (f32). NaN x
   * gives NaN in both. out may be x; d must not alias out or x.
   */
  geluWithGrad(out: H, d: H, x: H, n: number): void;

  /** out[i] = sign(x[i])·max(|x[i]| − t, 0), t ≥ 0; exact zeros (+0). out may be x. */
  softThreshold(out: H, x: H, n: number, t: number): void;

  /**
   * Inverted dropout: out[i] = keep ? f32(x[i]·scale) : 0, where keep is decided by the
   * RNG stream (layout in src/core/rng.ts) against `threshold` (a uint32: drop when the draw is
   * < threshold), and scale = f32(1/(1−p)) computed by the trusted path. Advances the RNG
   * state. mask (or null) receives 1 for kept and 0 for dropped. out may be x.
   */
  dropout(out: H, x: H, n: number, threshold: number, scale: number, rng: R, mask: H | null): void;

  /**
   * One fused SGD step over n parameters (torch.optim.SGD semantics), then the L1
   * proximal step p = S_{l1t}(p) when l1t > 0. buf is the momentum buffer (ignored when
   * momentum == 0). first: true on the first step with momentum (buf = d_p).
   */
  sgdStep(p: H, g: H, buf: H, n: number, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: boolean, maximize: boolean, l1t: number, first: boolean): void;

  /**
   * One fused Adam/AdamW step over n parameters (torch.optim semantics), then the L1
   * proximal step when l1t > 0. weightDecay is the coupled L2 coefficient (Adam; 0 for
   * AdamW); decay is the decoupled factor 1 − lr·wd (AdamW; 1 for Adam). stepSize =
   * lr / (1 − β1^t), bc2sqrt = sqrt(1 − β2^t). vmax is used only when amsgrad.
   */
  adamStep(p: H, g: H, m: H, v: H, vmax: H, n: number, beta1: number, beta2: number,
    stepSize: number, bc2sqrt: number, eps: number, weightDecay: number, decay: number,
    amsgrad: boolean, maximize: boolean, l1t: number): void;

  /** out = x + b broadcast over rows: out[i·cols + j] = x[i·cols + j] + b[j]. out may be x. */
  addRowVector(out: H, x: H, b: H, rows: number, cols: number): void;
  /** out[i] = value. */
  fill(out: H, n: number, value: number): void;
  /** out[j] = Σ_i x[i·cols + j], i in order 0..rows−1 (bias gradients). */
  sumRows(out: H, x: H, rows: number, cols: number): void;
  /**
   * Mean softmax cross-entropy over rows of logits (rows×cols) against int32 labels in
   * [0, cols), stable for large logits (max subtracted). Returned as a number. When exps
   * is non-null (rows×cols, not logits) it also receives e_j = f32(exp64(x_j − m)) for
   * crossEntropyBackwardExps; the loss is the same either way.
   */
  crossEntropy(logits: H, labels: I, rows: number, cols: number, exps: H | null): number;
  /** out = alpha · (softmax(logits) − onehot(labels)), rows×cols; alpha = upstream/rows. */
  crossEntropyBackward(out: H, logits: H, labels: I, rows: number, cols: number, alpha: number): void;
  /**
   * crossEntropyBackward from the exps that crossEntropy stored (e_j = f32(exp64(x_j − m)),
   * m the row max; `exps` non-null there): the same bits as crossEntropyBackward on those
   * logits, without computing an exp. out may be exps.
   */
  crossEntropyBackwardExps(out: H, exps: H, labels: I, rows: number, cols: number, alpha: number): void;

  // ---- the transformer's kernels (families 'layernorm', 'softmax', 'embedding') ----
  // Sums of these families are f64 with absSum's four-lane layout: lane j (0..3) adds
  // element 4q + j of the first n & ~3 in order, s = (s0 + s1) + (s2 + s3), then the tail
  // in order. Per-element arithmetic is f64 on f32 inputs, rounded to f32 once when stored.

  /**
   * LayerNorm over the last dimension of x (rows×cols): per row μ = Σx/cols,
   * σ² = Σ(x − μ)²/cols (biased, as torch), r = 1/√(σ² + eps), all f64;
   * out_j = f32(((x_j − μ)·r)·w_j + b_j), the ·w_j / + b_j left out when weight / bias is
   * null; mean[i] = f32(μ), rstd[i] = f32(r) for the backward. out may be x.
   */
  layerNorm(out: H, x: H, weight: H | null, bias: H | null, mean: H, rstd: H, rows: number, cols: number, eps: number): void;
  /**
   * LayerNorm backward from the forward's mean and rstd (μ, r): per row, in f64,
   * x̂_j = (x_j − μ)·r, gw_j = g_j·w_j (g_j when weight is null), a = Σ gw_j, b = Σ gw_j·x̂_j;
   * dx_j = f32(((gw_j − a/cols) − x̂_j·(b/cols))·r). Rows in order 0..rows−1 add into
   * dweight_j = f32(dweight_j + g_j·x̂_j) and dbias_j = f32(dbias_j + g_j) (when non-null).
   * dx must not alias another argument.
   */
  layerNormBackward(dx: H, g: H, x: H, weight: H | null, mean: H, rstd: H, dweight: H | null, dbias: H | null,
    rows: number, cols: number): void;
  /**
   * Scaled, causally masked softmax over z square t×t matrices stored back to back (row r
   * is query position r mod t of matrix ⌊r/t⌋; keys j > that position are masked). Per row:
   * z_j = f32(x_j·scale) for j ≤ pos; m = max z_j (j in order); e_j = f32(exp64(z_j − m))
   * (f64 difference); s = Σ e_j; out_j = f32(e_j / s); out_j = 0 for j > pos. out may be x.
   */
  causalSoftmax(out: H, x: H, z: number, t: number, scale: number): void;
  /**
   * Gradient of causalSoftmax with respect to x, from its output p and the upstream g: per
   * row, d = Σ_{j ≤ pos} p_j·g_j; out_j = f32((p_j·(g_j − d))·scale) (f64) for j ≤ pos, 0 after.
   * out may be g.
   */
  causalSoftmaxBackward(out: H, p: H, g: H, z: number, t: number, scale: number): void;
  /** out row i = weight row ids[i], i in 0..n−1, rows of cols floats; ids in range (facade). */
  embedding(out: H, weight: H, ids: I, n: number, cols: number): void;
  /** dweight row ids[i] += g row i (f32 adds), i in order 0..n−1: repeated ids add in index order. */
  embeddingBackward(dweight: H, g: H, ids: I, n: number, cols: number): void;

  // ---- linear models (family 'linear': assembly/linear.ts, src/backend/{wasm,js}/linear.ts) ----
  // The problem's X is row-major (n×d, as the user gives it: residual, xtDots, gatherCols);
  // the coordinate-descent kernels and colDots read a column-major copy or block (column j:
  // n floats at offset n·j). idx lists column indices as f32 values (exact below 2²⁴), or
  // is null for all columns in order. colDots and the epochs' dots are Σ f32(a·b) in sum's
  // 8-partial-sum f64 layout; vector updates are axpy's. The per-coordinate scalar logic is
  // f64 (l1, l2, tol are used as f64, not rounded). One thread.

  /**
   * Epochs of cyclic coordinate descent on the elastic net, residual form: for each listed
   * j with norms[j] = ‖X_j‖²/n > 0, ρ = X_jᵀr/n + norms[j]·w_j, w_j ← f32(S(ρ, l1)/(norms[j] + l2))
   * (+0 when |ρ| ≤ l1), r −= Δw_j·X_j. At most `epochs` epochs; stops after one whose largest
   * change ≤ tol·(largest |w_j| visited). stats (3 floats): that change, that max, 1 if it
   * stopped so. Returns the epochs done. w (d floats) and r (n) updated in place.
   */
  cdResidual(w: H, r: H, x: H, norms: H, idx: H | null, n: number, m: number, l1: number, l2: number, tol: number, epochs: number, stats: H): number;
  /**
   * cdResidual in the Gram form: q (d floats) = Xᵀr is kept instead of r, G = XᵀX (d×d)
   * updates it: q −= Δw_j·G_j. Same rule and return; also stops (stats[2] = 2) after an
   * epoch where the gap estimated in O(d) from q, xty = Xᵀy and yy = ‖y‖² (f64, in order
   * of j; see assembly/linear.ts) is ≤ target, for the n-scaled problem with L1 weight a
   * and L2 weight b. target NaN: no estimate.
   */
  cdGram(w: H, q: H, g: H, norms: H, idx: H | null, xty: H, d: number, m: number, n: number, l1: number, l2: number, tol: number,
    epochs: number, yy: number, a: number, b: number, target: number, stats: H): number;
  /** out[k] = f32(X_jᵀv) for the m listed columns j (X column-major, n rows). */
  colDots(out: H, x: H, v: H, idx: H | null, n: number, m: number): void;
  /**
   * r = y − Xw, X row-major (n×d), over the non-zero w_j among the m listed columns (all d
   * in order when idx is null): r_i = y_i, then r_i = f32(r_i + f32(X_ij·(−w_j))) for those j
   * in order. r must not alias y.
   */
  residual(r: H, y: H, x: H, w: H, idx: H | null, n: number, d: number, m: number): void;
  /**
   * out[j] = f32(Σ_i f32(X_ij·v_i)), X row-major (n×d), the sum in f64 in order of i. With
   * norms non-null the same pass sets norms[j] = f32(s_j/n), s_j = Σ_i X_ij² (f64, in order
   * of i), and returns Σ_j s_j in order of j (non-finite exactly when some X_ij is); else
   * returns 0. acc: scratch of 4·d floats (the wasm kernel keeps its f64 sums there).
   */
  xtDots(out: H, x: H, v: H, n: number, d: number, acc: H, norms: H | null): number;
  /**
   * r = y − Xw in f64 over all d columns, X row-major (n×d): per row the exact products
   * X_ij·w_j summed in four f64 sums by j mod 4 for j < d & ~3, s = (s0 + s2) + (s1 + s3),
   * then the remaining j in order; r64 (n f64 values, in 2n floats) = y − s, r = f32(r64).
   */
  residual64(r64: H, r: H, y: H, x: H, w: H, n: number, d: number): void;
  /** u = Xp and out = Xᵀu, X row-major (n×d), in one pass: the bits of colDots(u, X, p, null, d, n) then xtDots(out, X, u, n, d, acc, null). acc: scratch of 2·d floats. */
  xtxDots(out: H, x: H, p: H, u: H, n: number, d: number, acc: H): void;
  /** out (d f64 values, in 2d floats) = Xᵀv, X row-major (n×d), v n f64 values: Σ_i X_ij·v_i in f64 in order of i. */
  xtDots64(out: H, x: H, v: H, n: number, d: number): void;
  /** out (m×n) row k = column idx[k] of X row-major (n×d) (all d in order when idx is null). */
  gatherCols(out: H, x: H, idx: H | null, n: number, d: number, m: number): void;
  /** out (cols×rows) = xᵀ, x rows×cols, both row-major. out must not alias x. */
  transpose(out: H, x: H, rows: number, cols: number): void;
}

/** Every raw kernel: what each backend implements (the compiler checks both). */
export type RawKernels<H, R, I> = ExplicitKernels<H, R, I> & TableKernels<H>;

/** The names of the explicit kernels (a Record, so the compiler keeps it in step with ExplicitKernels). */
const EXPLICIT: Record<keyof ExplicitKernels<unknown, unknown, unknown>, true> = {
  matmul: true, matmulBatched: true, geluWithGrad: true, softThreshold: true, dropout: true, sgdStep: true, adamStep: true, addRowVector: true,
  fill: true, sumRows: true, crossEntropy: true, crossEntropyBackward: true, crossEntropyBackwardExps: true,
  layerNorm: true, layerNormBackward: true, causalSoftmax: true, causalSoftmaxBackward: true, embedding: true, embeddingBackward: true,
  cdResidual: true, cdGram: true, colDots: true, residual: true, xtDots: true, residual64: true, xtDots64: true, xtxDots: true, gatherCols: true, transpose: true,
};

/** A kernel's name. */
export type KernelName = keyof RawKernels<unknown, unknown, unknown>;

/** The names of every raw kernel. */
export const KERNEL_NAMES: readonly KernelName[] = [...Object.keys(EXPLICIT), ...Object.keys(TABLE)] as KernelName[];

/** The table kernels' names, in table order. */
export const TABLE_NAMES: readonly TableName[] = Object.keys(TABLE) as TableName[];
