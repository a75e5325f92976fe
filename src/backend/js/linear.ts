import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;
const fround = Math.fround;

/** Σ f32(a[ao + i]·b[i]) in f64, in sum's 8-partial-sum layout (assembly/linear.ts dot). */
function dot(a: Float32Array, ao: number, b: Float32Array, n: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  const n8 = n & ~7;
  let i = 0;
  for (; i < n8; i += 8) {
    const p = ao + i;
    s0 += fround(a[p]! * b[i]!); s1 += fround(a[p + 1]! * b[i + 1]!);
    s2 += fround(a[p + 2]! * b[i + 2]!); s3 += fround(a[p + 3]! * b[i + 3]!);
    s4 += fround(a[p + 4]! * b[i + 4]!); s5 += fround(a[p + 5]! * b[i + 5]!);
    s6 += fround(a[p + 6]! * b[i + 6]!); s7 += fround(a[p + 7]! * b[i + 7]!);
  }
  let s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  for (; i < n; i++) s += fround(a[ao + i]! * b[i]!);
  return s;
}

/** y[i] = f32(y[i] + f32(x[xo + i]·alpha)), alpha an f32 (assembly/linear.ts axpyIn). */
function axpyIn(y: Float32Array, x: Float32Array, xo: number, n: number, alpha: number): void {
  for (let i = 0; i < n; i++) y[i] = y[i]! + fround(x[xo + i]! * alpha);
}

/** The coordinate update of assembly/linear.ts: f32(S(c/n + h·old, l1)/(h + l2)), +0 inside the threshold. */
function update(c: number, n: number, h: number, old: number, l1: number, l2: number): number {
  const rho = c / n + h * old;
  const mag = Math.abs(rho) - l1;
  return mag > 0 ? fround((rho < 0 ? -mag : mag) / (h + l2)) : 0;
}

function cdResidual(w: Float32Array, r: Float32Array, x: Float32Array, norms: Float32Array, idx: Float32Array | null,
  n: number, m: number, l1: number, l2: number, tol: number, epochs: number, stats: Float32Array): number {
  let e = 0, dmax = 0, wmax = 0, small = false;
  while (e < epochs) {
    e++;
    dmax = 0; wmax = 0;
    for (let k = 0; k < m; k++) {
      const j = idx === null ? k : idx[k]!;
      const h = norms[j]!;
      if (h === 0) continue;
      const old = w[j]!;
      const wj = update(dot(x, j * n, r, n), n, h, old, l1, l2);
      if (wj !== old) {
        axpyIn(r, x, j * n, n, fround(old - wj));
        w[j] = wj;
        dmax = Math.max(dmax, Math.abs(wj - old));
      }
      wmax = Math.max(wmax, Math.abs(wj));
    }
    small = dmax <= tol * wmax;
    if (small) break;
  }
  stats[0] = dmax; stats[1] = wmax; stats[2] = small ? 1 : 0;
  return e;
}

function cdGram(w: Float32Array, q: Float32Array, g: Float32Array, norms: Float32Array, idx: Float32Array | null, xty: Float32Array,
  d: number, m: number, n: number, l1: number, l2: number, tol: number, epochs: number, yy: number, a: number, b: number,
  target: number, stats: Float32Array): number {
  let e = 0, dmax = 0, wmax = 0, stop = 0;
  while (e < epochs) {
    e++;
    dmax = 0; wmax = 0;
    for (let k = 0; k < m; k++) {
      const j = idx === null ? k : idx[k]!;
      const h = norms[j]!;
      if (h === 0) continue;
      const old = w[j]!;
      const wj = update(q[j]!, n, h, old, l1, l2);
      if (wj !== old) {
        axpyIn(q, g, j * d, d, fround(old - wj));
        w[j] = wj;
        dmax = Math.max(dmax, Math.abs(wj - old));
      }
      wmax = Math.max(wmax, Math.abs(wj));
    }
    if (dmax <= tol * wmax) { stop = 1; break; }
    if (gapEstimate(w, q, xty, d, yy, a, b) <= target) { stop = 2; break; }
  }
  stats[0] = dmax; stats[1] = wmax; stats[2] = stop;
  return e;
}

/** The gap at w from q = Xᵀr alone, as assembly/linear.ts gapEstimate (f64, in order of j). */
function gapEstimate(w: Float32Array, q: Float32Array, xty: Float32Array, d: number, yy: number, a: number, b: number): number {
  let wq = 0, wy = 0, s1 = 0, s2 = 0, dn = 0, conj = 0;
  for (let j = 0; j < d; j++) {
    const wj = w[j]!, qj = q[j]!;
    wq += wj * qj; wy += wj * xty[j]!;
    s1 += Math.abs(wj); s2 += wj * wj;
    const x = Math.abs(qj);
    if (x > dn) dn = x;
    if (x > a) conj += (x - a) * (x - a);
  }
  const rr = yy - wy - wq, ry = yy - wy;
  const primal = 0.5 * rr + a * s1 + 0.5 * b * s2;
  if (b > 0) return primal - (ry - 0.5 * rr - conj / (2 * b));
  const c = dn > a ? a / dn : 1;
  return primal - (c * ry - 0.5 * c * c * rr);
}

function colDots(out: Float32Array, x: Float32Array, v: Float32Array, idx: Float32Array | null, n: number, m: number): void {
  for (let k = 0; k < m; k++) out[k] = dot(x, (idx === null ? k : idx[k]!) * n, v, n);
}

function residual(r: Float32Array, y: Float32Array, x: Float32Array, w: Float32Array, idx: Float32Array | null, n: number, d: number, m: number): void {
  for (let i = 0; i < n; i++) {
    const row = i * d;
    let s = y[i]!;
    for (let k = 0; k < m; k++) {
      const j = idx === null ? k : idx[k]!;
      const wj = w[j]!;
      if (wj !== 0) s = fround(s + fround(x[row + j]! * -wj));
    }
    r[i] = s;
  }
}

function xtDots(out: Float32Array, x: Float32Array, v: Float32Array, n: number, d: number, _acc: Float32Array, norms: Float32Array | null): number {
  // The f64 sums live in a local array (the wasm twin's acc scratch is not needed here).
  const acc = new Float64Array(d), sq = norms === null ? null : new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = i * d, vi = v[i]!;
    for (let j = 0; j < d; j++) {
      const e = x[row + j]!;
      acc[j]! += fround(e * vi);
      if (sq !== null) sq[j]! += e * e;
    }
  }
  let total = 0;
  for (let j = 0; j < d; j++) {
    out[j] = acc[j]!;
    if (sq !== null) { norms![j] = sq[j]! / n; total += sq[j]!; }
  }
  return total;
}

/** f64 values stored in a Float32Array's bytes (n of them from its start; 8-byte aligned). */
function f64View(a: Float32Array, n: number): Float64Array {
  return new Float64Array(a.buffer, a.byteOffset, n);
}

/** r = y − Xw in f64 (assembly/linear.ts residual64: four sums by j mod 4, then the tail in order). */
function residual64(r64: Float32Array, r: Float32Array, y: Float32Array, x: Float32Array, w: Float32Array, n: number, d: number): void {
  const o64 = f64View(r64, n);
  const d4 = d & ~3;
  for (let i = 0; i < n; i++) {
    const row = i * d;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < d4; j += 4) {
      const p = row + j;
      s0 += x[p]! * w[j]!; s1 += x[p + 1]! * w[j + 1]!;
      s2 += x[p + 2]! * w[j + 2]!; s3 += x[p + 3]! * w[j + 3]!;
    }
    let s = (s0 + s2) + (s1 + s3);
    for (let j = d4; j < d; j++) s += x[row + j]! * w[j]!;
    const ri = y[i]! - s;
    o64[i] = ri;
    r[i] = ri;
  }
}

/** out = Xᵀv in f64, each sum in order of i (assembly/linear.ts xtDots64). */
function xtDots64(out: Float32Array, x: Float32Array, v: Float32Array, n: number, d: number): void {
  const o = f64View(out, d), v64 = f64View(v, n);
  o.fill(0);
  for (let i = 0; i < n; i++) {
    const row = i * d, vi = v64[i]!;
    for (let j = 0; j < d; j++) o[j]! += x[row + j]! * vi;
  }
}

/** u = Xp then out = Xᵀu (assembly/linear.ts xtxDots: its one pass gives these bits). */
function xtxDots(out: Float32Array, x: Float32Array, p: Float32Array, u: Float32Array, n: number, d: number, acc: Float32Array): void {
  colDots(u, x, p, null, d, n);
  xtDots(out, x, u, n, d, acc, null);
}

function gatherCols(out: Float32Array, x: Float32Array, idx: Float32Array | null, n: number, d: number, m: number): void {
  for (let i = 0; i < n; i++) for (let k = 0; k < m; k++) out[k * n + i] = x[i * d + (idx === null ? k : idx[k]!)]!;
}

function transpose(out: Float32Array, x: Float32Array, rows: number, cols: number): void {
  // Any order gives the same bits (a copy); row by row reads x in order.
  for (let i = 0; i < rows; i++) for (let j = 0, p = i * cols; j < cols; j++, p++) out[j * rows + i] = x[p]!;
}

/** The linear-model kernels of the js backend (same names and order as assembly/linear.ts). */
export const linearKernels: Pick<K, 'cdResidual' | 'cdGram' | 'colDots' | 'residual' | 'xtDots' | 'residual64' | 'xtDots64' | 'xtxDots' | 'gatherCols' | 'transpose'> = {
  cdResidual, cdGram, colDots, residual, xtDots, residual64, xtDots64, xtxDots, gatherCols, transpose,
};
