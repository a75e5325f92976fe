// linear-model kernels (coordinate descent for src/linear.ts): see src/backend/raw.ts for
// the contract of each export. The js twin is src/backend/js/linear.ts.
//
// The problem's X is row-major (residual, xtDots, gatherCols read it so); the epochs and
// colDots read a column-major copy or gathered block: column j is the n floats at
// x + 4·n·j. Coordinate lists are f32 buffers of column indices (exact below 2²⁴; the
// caller keeps d below that), or the null pointer 0 for "all columns in order".
//
// The epochs' and colDots' dot products X_jᵀv use the reduction layout of elementwise's sum over the f32 products
// f32(X_ij·v_i): 8 interleaved f64 partial sums, partial k adds products k, k+8, … of the
// first 8·floor(n/8), combined ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), then the
// tail in order. Vector updates are axpy's: v_i = f32(v_i + f32(X_ij·δ)), δ an f32. The
// per-coordinate scalar logic runs in f64, with the same operations in the same order in
// both twins, so the results are bit-identical.

// @ts-ignore: decorator
@inline
function hi2(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 2, 3, 2, 3);
}

/** Σ f32(a[i]·b[i]) over n floats in f64, in sum's 8-partial-sum layout. */
// @ts-ignore: decorator
@inline
function dot(a: usize, b: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
  const end8 = a + ((<usize>n & ~7) << 2);
  const end = a + (<usize>n << 2);
  for (; a < end8; a += 32, b += 32) {
    const p0 = f32x4.mul(v128.load(a), v128.load(b));
    const p1 = f32x4.mul(v128.load(a, 16), v128.load(b, 16));
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(p0));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(hi2(p0)));
    a2 = f64x2.add(a2, f64x2.promote_low_f32x4(p1));
    a3 = f64x2.add(a3, f64x2.promote_low_f32x4(hi2(p1)));
  }
  let s = ((f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1)) + (f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1))) +
    ((f64x2.extract_lane(a2, 0) + f64x2.extract_lane(a2, 1)) + (f64x2.extract_lane(a3, 0) + f64x2.extract_lane(a3, 1)));
  for (; a < end; a += 4, b += 4) s += <f64>(load<f32>(a) * load<f32>(b));
  return s;
}

/** y[i] = f32(y[i] + f32(x[i]·alpha)) over n floats (elementwise's axpy). */
// @ts-ignore: decorator
@inline
function axpyIn(y: usize, x: usize, n: i32, alpha: f32): void {
  const av = f32x4.splat(alpha);
  const bytes = <usize>n << 2;
  const b4 = (<usize>n & ~3) << 2;
  let o: usize = 0;
  for (; o < b4; o += 16) v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(v128.load(x + o), av)));
  for (; o < bytes; o += 4) store<f32>(y + o, load<f32>(y + o) + load<f32>(x + o) * alpha);
}

/** The column index of list entry k (the entry itself when idx is 0). */
// @ts-ignore: decorator
@inline
function column(idx: usize, k: i32): i32 {
  return idx == 0 ? k : <i32>load<f32>(idx + (<usize>k << 2));
}

/**
 * The coordinate update shared by both forms: ρ = c/n + h·w, w' = S(ρ, l1)/(h + l2)
 * rounded to f32 (+0 when |ρ| ≤ l1), with c = X_jᵀr and h = ‖X_j‖²/n.
 */
// @ts-ignore: decorator
@inline
function update(c: f64, n: i32, h: f64, old: f32, l1: f64, l2: f64): f32 {
  const rho = c / <f64>n + h * <f64>old;
  const mag = abs(rho) - l1;
  return mag > 0 ? <f32>((rho < 0 ? -mag : mag) / (h + l2)) : 0;
}

/**
 * Epochs of cyclic coordinate descent on the elastic net, residual form. w (d floats) is
 * updated in place, r (n floats) = y − Xw is kept up to date (r −= Δw_j·X_j). One epoch
 * visits the m coordinates of idx in order (all d when idx = 0); coordinate j with
 * norms[j] = ‖X_j‖²/n > 0 becomes f32(S(X_jᵀr/n + norms[j]·w_j, l1)/(norms[j] + l2)).
 * Runs at most `epochs` epochs and stops after the first whose largest change
 * dmax ≤ tol·wmax (wmax the largest |w_j| visited). stats[0] = f32(dmax), stats[1] =
 * f32(wmax) of the last epoch, stats[2] = 1 when it stopped that way, else 0. Returns the
 * epochs done.
 */
export function cdResidual(w: usize, r: usize, x: usize, norms: usize, idx: usize, n: i32, m: i32,
  l1: f64, l2: f64, tol: f64, epochs: i32, stats: usize): i32 {
  let e = 0;
  let dmax = 0.0, wmax = 0.0;
  let small = false;
  while (e < epochs) {
    e++;
    dmax = 0; wmax = 0;
    for (let k = 0; k < m; k++) {
      const j = column(idx, k);
      const h = <f64>load<f32>(norms + (<usize>j << 2));
      if (h == 0) continue;
      const col = x + ((<usize>j * <usize>n) << 2);
      const wp = w + (<usize>j << 2);
      const old = load<f32>(wp);
      const wj = update(dot(col, r, n), n, h, old, l1, l2);
      if (wj != old) {
        axpyIn(r, col, n, old - wj);
        store<f32>(wp, wj);
        dmax = max(dmax, abs(<f64>wj - <f64>old));
      }
      wmax = max(wmax, abs(<f64>wj));
    }
    small = dmax <= tol * wmax;
    if (small) break;
  }
  store<f32>(stats, <f32>dmax);
  store<f32>(stats, <f32>wmax, 4);
  store<f32>(stats, small ? 1 : 0, 8);
  return e;
}

/**
 * cdResidual's epochs in the Gram form: q (d floats) = Xᵀr is kept instead of r, with G
 * (d×d row-major, G = XᵀX) giving its update q += Δ·G_j when w_j changes by −Δ; the
 * coordinate update uses X_jᵀr = q[j]. Same idx, norms, stopping rule and return as
 * cdResidual, plus a second stop: after each epoch the duality gap of the n-scaled problem
 * (a = n·α·ρ, b = n·α·(1 − ρ)) is estimated in O(d) from q, xty = Xᵀy and yy = ‖y‖² (see
 * gapEstimate), and the epochs stop when it is ≤ target (stats[2] = 2). The estimate
 * carries q's float32 drift: the caller confirms it with the exact gap. target NaN: no
 * estimate (least squares).
 */
export function cdGram(w: usize, q: usize, g: usize, norms: usize, idx: usize, xty: usize, d: i32, m: i32, n: i32,
  l1: f64, l2: f64, tol: f64, epochs: i32, yy: f64, a: f64, b: f64, target: f64, stats: usize): i32 {
  let e = 0;
  let dmax = 0.0, wmax = 0.0;
  let stop: f32 = 0;
  while (e < epochs) {
    e++;
    dmax = 0; wmax = 0;
    for (let k = 0; k < m; k++) {
      const j = column(idx, k);
      const h = <f64>load<f32>(norms + (<usize>j << 2));
      if (h == 0) continue;
      const wp = w + (<usize>j << 2);
      const old = load<f32>(wp);
      const wj = update(<f64>load<f32>(q + (<usize>j << 2)), n, h, old, l1, l2);
      if (wj != old) {
        axpyIn(q, g + ((<usize>j * <usize>d) << 2), d, old - wj);
        store<f32>(wp, wj);
        dmax = max(dmax, abs(<f64>wj - <f64>old));
      }
      wmax = max(wmax, abs(<f64>wj));
    }
    if (dmax <= tol * wmax) { stop = 1; break; }
    if (gapEstimate(w, q, xty, d, yy, a, b) <= target) { stop = 2; break; }
  }
  store<f32>(stats, <f32>dmax);
  store<f32>(stats, <f32>wmax, 4);
  store<f32>(stats, stop, 8);
  return e;
}

/**
 * The duality gap at w from q = Xᵀr alone, in f64 and in order of j: with wq = Σ w_j·q_j,
 * wy = Σ w_j·xty_j, ‖r‖² = yy − wy − wq (as wᵀGw = wy − wq) and rᵀy = yy − wy; the primal
 * ½‖r‖² + a‖w‖₁ + ½b‖w‖² minus the dual of src/linear.ts (the residual scaled into the
 * feasible set for the lasso, the exact elastic-net dual when b > 0).
 */
// @ts-ignore: decorator
@inline
function gapEstimate(w: usize, q: usize, xty: usize, d: i32, yy: f64, a: f64, b: f64): f64 {
  let wq = 0.0, wy = 0.0, s1 = 0.0, s2 = 0.0, dn = 0.0, conj = 0.0;
  for (let j = 0; j < d; j++) {
    const o = <usize>j << 2;
    const wj = <f64>load<f32>(w + o), qj = <f64>load<f32>(q + o);
    wq += wj * qj; wy += wj * <f64>load<f32>(xty + o);
    s1 += abs(wj); s2 += wj * wj;
    const x = abs(qj);
    if (x > dn) dn = x;
    if (x > a) conj += (x - a) * (x - a);
  }
  const rr = yy - wy - wq, ry = yy - wy;
  const primal = 0.5 * rr + a * s1 + 0.5 * b * s2;
  if (b > 0) return primal - (ry - 0.5 * rr - conj / (2 * b));
  const c = dn > a ? a / dn : 1.0;
  return primal - (c * ry - 0.5 * c * c * rr);
}

/** out[k] = f32(X_jᵀv) for the m columns j of idx (all d in order when idx = 0), X column-major with n rows. */
export function colDots(out: usize, x: usize, v: usize, idx: usize, n: i32, m: i32): void {
  for (let k = 0; k < m; k++) {
    const j = column(idx, k);
    store<f32>(out + (<usize>k << 2), <f32>dot(x + ((<usize>j * <usize>n) << 2), v, n));
  }
}

/**
 * r = y − Xw over the non-zero w_j among the m listed columns (all d in order when idx = 0),
 * X row-major (n rows, d columns): r_i = y_i, then for each listed j in order with w_j ≠ 0,
 * r_i = f32(r_i + f32(X_ij·(−w_j))) (per element the arithmetic of axpy over columns). r
 * must not alias y.
 */
export function residual(r: usize, y: usize, x: usize, w: usize, idx: usize, n: i32, d: i32, m: i32): void {
  memory.copy(r, y, <usize>n << 2);
  const rowBytes = <usize>d << 2;
  // Column by column: each r_i still takes the listed columns in order.
  for (let k = 0; k < m; k++) {
    const o = <usize>column(idx, k) << 2;
    const wj = load<f32>(w + o);
    if (wj == 0) continue;
    const nw = -wj;
    let p = x + o;
    for (let i = 0; i < n; i++, p += rowBytes) {
      const rp = r + (<usize>i << 2);
      store<f32>(rp, load<f32>(rp) + load<f32>(p) * nw);
    }
  }
}

/**
 * Xᵀv for X row-major (n rows, d columns), in one pass over X: out[j] = f32(Σ_i f32(X_ij·v_i)),
 * summed in f64 in order of i. When norms ≠ 0 the same pass also gives
 * norms[j] = f32(s_j / n) with s_j = Σ_i X_ij² in f64 (in order of i, each square exact) and
 * returns Σ_j s_j in order of j (non-finite exactly when some X_ij is); else returns 0.
 * acc: scratch of 2·d floats (4·d with norms), used as f64. Rows go four at a time, the
 * f64 sums kept in acc, so X streams once in memory order.
 */
export function xtDots(out: usize, x: usize, v: usize, n: i32, d: i32, acc: usize, norms: usize): f64 {
  const withNorms = norms != 0;
  const sq = acc + (<usize>d << 3);
  memory.fill(acc, 0, <usize>d << (withNorms ? 4 : 3));
  addXtv(acc, x, v, n, d, withNorms ? sq : 0);
  let total = 0.0;
  for (let j = 0; j < d; j++) {
    store<f32>(out + (<usize>j << 2), <f32>load<f64>(acc + (<usize>j << 3)));
    if (withNorms) {
      const s = load<f64>(sq + (<usize>j << 3));
      store<f32>(norms + (<usize>j << 2), <f32>(s / <f64>n));
      total += s;
    }
  }
  return total;
}

/**
 * acc[j] += f64(f32(X_ij·v_i)) for rows i in order (rows of X row-major from x, d columns; v
 * those rows' values; acc d f64 sums). When sq ≠ 0 also sq[j] += X_ij² (f64, exact squares)
 * in the same pass. Rows go four at a time, so X streams once in memory order.
 */
// @ts-ignore: decorator
@inline
function addXtv(acc: usize, x: usize, v: usize, n: i32, d: i32, sq: usize): void {
  const withNorms = sq != 0;
  const rowBytes = <usize>d << 2;
  const d4 = d & ~3;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const r0 = x + <usize>i * rowBytes, r1 = r0 + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
    const vp = v + (<usize>i << 2);
    const s0 = load<f32>(vp), s1 = load<f32>(vp, 4), s2 = load<f32>(vp, 8), s3 = load<f32>(vp, 12);
    const v0 = f32x4.splat(s0), v1 = f32x4.splat(s1), v2 = f32x4.splat(s2), v3 = f32x4.splat(s3);
    for (let j = 0; j < d4; j += 4) {
      const o = <usize>j << 2, ao = acc + (<usize>j << 3);
      const x0 = v128.load(r0 + o), x1 = v128.load(r1 + o), x2 = v128.load(r2 + o), x3 = v128.load(r3 + o);
      let lo = v128.load(ao), hi = v128.load(ao, 16);
      let p = f32x4.mul(x0, v0);
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(p)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(hi2(p)));
      p = f32x4.mul(x1, v1);
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(p)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(hi2(p)));
      p = f32x4.mul(x2, v2);
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(p)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(hi2(p)));
      p = f32x4.mul(x3, v3);
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(p)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(hi2(p)));
      v128.store(ao, lo); v128.store(ao, hi, 16);
      if (withNorms) {
        const qo = sq + (<usize>j << 3);
        lo = v128.load(qo); hi = v128.load(qo, 16);
        let e = f64x2.promote_low_f32x4(x0), f = f64x2.promote_low_f32x4(hi2(x0));
        lo = f64x2.add(lo, f64x2.mul(e, e)); hi = f64x2.add(hi, f64x2.mul(f, f));
        e = f64x2.promote_low_f32x4(x1); f = f64x2.promote_low_f32x4(hi2(x1));
        lo = f64x2.add(lo, f64x2.mul(e, e)); hi = f64x2.add(hi, f64x2.mul(f, f));
        e = f64x2.promote_low_f32x4(x2); f = f64x2.promote_low_f32x4(hi2(x2));
        lo = f64x2.add(lo, f64x2.mul(e, e)); hi = f64x2.add(hi, f64x2.mul(f, f));
        e = f64x2.promote_low_f32x4(x3); f = f64x2.promote_low_f32x4(hi2(x3));
        lo = f64x2.add(lo, f64x2.mul(e, e)); hi = f64x2.add(hi, f64x2.mul(f, f));
        v128.store(qo, lo); v128.store(qo, hi, 16);
      }
    }
    for (let j = d4; j < d; j++) {
      const o = <usize>j << 2;
      const e0 = load<f32>(r0 + o), e1 = load<f32>(r1 + o), e2 = load<f32>(r2 + o), e3 = load<f32>(r3 + o);
      const ap = acc + (<usize>j << 3);
      store<f64>(ap, (((load<f64>(ap) + <f64>(e0 * s0)) + <f64>(e1 * s1)) + <f64>(e2 * s2)) + <f64>(e3 * s3));
      if (withNorms) {
        const qp = sq + (<usize>j << 3);
        const f0 = <f64>e0, f1 = <f64>e1, f2 = <f64>e2, f3 = <f64>e3;
        store<f64>(qp, (((load<f64>(qp) + f0 * f0) + f1 * f1) + f2 * f2) + f3 * f3);
      }
    }
  }
  for (; i < n; i++) {
    const row = x + <usize>i * rowBytes;
    const s = load<f32>(v + (<usize>i << 2));
    for (let j = 0; j < d; j++) {
      const e = load<f32>(row + (<usize>j << 2));
      const ap = acc + (<usize>j << 3);
      store<f64>(ap, load<f64>(ap) + <f64>(e * s));
      if (withNorms) {
        const qp = sq + (<usize>j << 3);
        const f = <f64>e;
        store<f64>(qp, load<f64>(qp) + f * f);
      }
    }
  }
}

/**
 * u = X·p and out = Xᵀu in one pass over X row-major (n rows, d columns), the bits of
 * colDots(u, X, p) (X's rows as its columns) then xtDots(out, X, u): rows go in blocks of 8,
 * each block's u_i = f32(dot(row i, p)) then its rows added to the f64 sums in acc (2·d
 * floats of scratch) in order of i, while the block is in cache. (Conjugate gradient's XᵀXp.)
 */
export function xtxDots(out: usize, x: usize, p: usize, u: usize, n: i32, d: i32, acc: usize): void {
  memory.fill(acc, 0, <usize>d << 3);
  const rowBytes = <usize>d << 2;
  for (let i0 = 0; i0 < n; i0 += 8) {
    const rows = min(8, n - i0);
    const xb = x + <usize>i0 * rowBytes, ub = u + (<usize>i0 << 2);
    for (let i = 0; i < rows; i++) store<f32>(ub + (<usize>i << 2), <f32>dot(xb + <usize>i * rowBytes, p, d));
    addXtv(acc, xb, ub, rows, d, 0);
  }
  for (let j = 0; j < d; j++) store<f32>(out + (<usize>j << 2), <f32>load<f64>(acc + (<usize>j << 3)));
}

/**
 * r = y − Xw in f64 over all d columns, X row-major (n rows, d columns): for each row,
 * the products X_ij·w_j (exact in f64: both are f32) go into four sums by j mod 4 (j below
 * d4 = d & ~3): s = (s0 + s2) + (s1 + s3), then s += X_ij·w_j for j ≥ d4 in order;
 * r64_i = y_i − s (f64, r64: n f64 values) and r_i = f32(r64_i). (A zero w_j adds ±0,
 * which leaves every sum's bits alone.)
 */
export function residual64(r64: usize, r: usize, y: usize, x: usize, w: usize, n: i32, d: i32): void {
  const rowBytes = <usize>d << 2;
  const d4 = d & ~3;
  for (let i = 0; i < n; i++) {
    const row = x + <usize>i * rowBytes;
    let a = f64x2.splat(0), b = f64x2.splat(0);
    for (let j = 0; j < d4; j += 4) {
      const o = <usize>j << 2;
      const xv = v128.load(row + o), wv = v128.load(w + o);
      a = f64x2.add(a, f64x2.mul(f64x2.promote_low_f32x4(xv), f64x2.promote_low_f32x4(wv)));
      b = f64x2.add(b, f64x2.mul(f64x2.promote_low_f32x4(hi2(xv)), f64x2.promote_low_f32x4(hi2(wv))));
    }
    const c = f64x2.add(a, b);
    let s = f64x2.extract_lane(c, 0) + f64x2.extract_lane(c, 1);
    for (let j = d4; j < d; j++) {
      const o = <usize>j << 2;
      s += <f64>load<f32>(row + o) * <f64>load<f32>(w + o);
    }
    const ri = <f64>load<f32>(y + (<usize>i << 2)) - s;
    store<f64>(r64 + (<usize>i << 3), ri);
    store<f32>(r + (<usize>i << 2), <f32>ri);
  }
}

/**
 * out[j] = Σ_i X_ij·v_i in f64 (out: d f64 values), X row-major (n rows, d columns), v: n
 * f64 values; each sum in order of i (each product rounded to f64). One pass over X.
 */
export function xtDots64(out: usize, x: usize, v: usize, n: i32, d: i32): void {
  memory.fill(out, 0, <usize>d << 3);
  const rowBytes = <usize>d << 2;
  const d4 = d & ~3;
  for (let i = 0; i < n; i++) {
    const row = x + <usize>i * rowBytes;
    const vi = load<f64>(v + (<usize>i << 3));
    const s = f64x2.splat(vi);
    for (let j = 0; j < d4; j += 4) {
      const xv = v128.load(row + (<usize>j << 2));
      const op = out + (<usize>j << 3);
      v128.store(op, f64x2.add(v128.load(op), f64x2.mul(f64x2.promote_low_f32x4(xv), s)));
      v128.store(op, f64x2.add(v128.load(op, 16), f64x2.mul(f64x2.promote_low_f32x4(hi2(xv)), s)), 16);
    }
    for (let j = d4; j < d; j++) {
      const op = out + (<usize>j << 3);
      store<f64>(op, load<f64>(op) + <f64>load<f32>(row + (<usize>j << 2)) * vi);
    }
  }
}

/**
 * out (m×n, row k = column idx[k] of X) gathers the m listed columns of X row-major (n rows,
 * d columns) into the column-major block the coordinate-descent kernels read.
 */
export function gatherCols(out: usize, x: usize, idx: usize, n: i32, d: i32, m: i32): void {
  const rowBytes = <usize>d << 2;
  for (let i = 0; i < n; i++) {
    const row = x + <usize>i * rowBytes;
    for (let k = 0; k < m; k++) {
      store<f32>(out + ((<usize>k * <usize>n + <usize>i) << 2), load<f32>(row + (<usize>column(idx, k) << 2)));
    }
  }
}

/**
 * out (cols×rows, row-major) = xᵀ for x rows×cols row-major, in 16×16 tiles. out must not
 * alias x. (Puts X column-major for the residual form over all columns.)
 */
export function transpose(out: usize, x: usize, rows: i32, cols: i32): void {
  for (let i0 = 0; i0 < rows; i0 += 16) {
    const i1 = min(rows, i0 + 16);
    for (let j0 = 0; j0 < cols; j0 += 16) {
      const j1 = min(cols, j0 + 16);
      for (let i = i0; i < i1; i++) {
        const src = x + ((<usize>i * <usize>cols) << 2);
        for (let j = j0; j < j1; j++) store<f32>(out + ((<usize>j * <usize>rows + <usize>i) << 2), load<f32>(src + (<usize>j << 2)));
      }
    }
  }
}
