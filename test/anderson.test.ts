/**
 * Anderson extrapolation (src/linear/anderson.ts) through its own class, on a linear
 * contraction w ← w + η(Xᵀy − Gw) (gradient steps on ½wᵀGw − wᵀXᵀy, whose fixed point is
 * G⁻¹Xᵀy). The lasso tests cannot see a wrong extrapolation: each one is kept only when it
 * lowers the objective, so the answers stay right and only the speed suffers.
 */
import { describe, expect, it } from 'vitest';
import { Anderson } from '../src/linear/anderson.js';
import { randomF32 } from './helpers.js';
import { solveSpd } from '../examples/experiments/linalg64.js';

/** The iterates per extrapolation (K + 1 = 6: K = 5 differences, skglm's choice). */
const K = 5;

/** A d×d SPD matrix (MᵀM/d + 0.3·I, float32) and a vector, from a seed. */
function problem(d: number, seed: number): { G: Float32Array; xty: Float32Array } {
  const M = randomF32(d * d, seed);
  const G = new Float32Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += M[k * d + i]! * M[k * d + j]!;
    G[i * d + j] = s / d + (i === j ? 0.3 : 0);
  }
  return { G, xty: randomF32(d, seed + 1, 2) };
}

/** One step of the contraction, in float32 as the solver's w: w ← w + η(xty − Gw). */
function step(w: Float32Array, G: Float32Array, xty: Float32Array, eta: number): void {
  const d = w.length, r = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = xty[i]!;
    for (let k = 0; k < d; k++) s -= G[i * d + k]! * w[k]!;
    r[i] = s;
  }
  for (let i = 0; i < d; i++) w[i] = w[i]! + eta * r[i]!;
}

/** max|a − b| / max|b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0, s = 0;
  for (let i = 0; i < b.length; i++) { e = Math.max(e, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return e / s;
}

/** Runs the contraction from 0, pushing every iterate; returns the iterates (w_0..w_K) and the Anderson state. */
function iterate(d: number, seed: number) {
  const { G, xty } = problem(d, seed);
  let tr = 0;
  for (let i = 0; i < d; i++) tr += G[i * d + i]!;
  const eta = 1 / tr; // below 2/λmax: a contraction
  const acc = new Anderson(d);
  const w = new Float32Array(d);
  acc.reset(w);
  const its = [Float64Array.from(w)];
  for (let k = 1; k <= K; k++) {
    step(w, G, xty, eta);
    its.push(Float64Array.from(w));
    expect(acc.push(w), `push of iterate ${k}: full only at the ${K}th step`).toBe(k === K);
  }
  return { G, xty, w, its, acc, fixed: solveSpd(Float64Array.from(G), Float64Array.from(xty), d) };
}

/**
 * A linear contraction w ← Aw + b in dimension d (A random, scaled to ‖A‖∞ = 0.8) with the
 * fixed point w* (float32), from w = 0; G = I and Xᵀy = w*, so the objective ½wᵀw − wᵀw*
 * is lowest at w*. Returns the Anderson state after the K steps and the last iterate.
 */
function contraction(d: number, seed: number) {
  const M = randomF32(d * d, seed);
  let norm = 0;
  for (let i = 0; i < d; i++) { let s = 0; for (let j = 0; j < d; j++) s += Math.abs(M[i * d + j]!); norm = Math.max(norm, s); }
  const A = Float64Array.from(M, (v) => (v * 0.8) / norm);
  const fixed = randomF32(d, seed + 1, 2);
  const b = new Float64Array(d);
  for (let i = 0; i < d; i++) { let s = fixed[i]!; for (let j = 0; j < d; j++) s -= A[i * d + j]! * fixed[j]!; b[i] = s; }
  const G = new Float32Array(d * d);
  for (let i = 0; i < d; i++) G[i * d + i] = 1;
  const acc = new Anderson(d), w = new Float32Array(d), next = new Float64Array(d);
  acc.reset(w);
  for (let k = 1; k <= K; k++) {
    for (let i = 0; i < d; i++) { let s = b[i]!; for (let j = 0; j < d; j++) s += A[i * d + j]! * w[j]!; next[i] = s; }
    w.set(next);
    expect(acc.push(w), `push of iterate ${k}: full only at the ${K}th step`).toBe(k === K);
  }
  return { G, xty: fixed, w, acc, fixed };
}

describe('Anderson extrapolation on a linear contraction', () => {
  for (const d of [3, 4]) {
    it(`dimension ${d} ≤ K − 1 = ${K - 1}: the extrapolation from the ${K + 1} iterates lands on the fixed point (1e-6 relative)`, () => {
      for (const seed of [1, 2, 3]) {
        const { G, xty, w, acc, fixed } = contraction(d, 10 * seed + d);
        // In exact arithmetic K differences in dimension < K are dependent, so a combination
        // of the iterates with weights summing to 1 is the fixed point; in float32 it is
        // within the iterates' rounding.
        const before = relErr(w, fixed);
        expect(before, `seed ${seed}: the last iterate is still far`).toBeGreaterThan(5e-4);
        const q = new Float32Array(d);
        expect(acc.extrapolate(w, q, G, xty, 0, 0, 0), `seed ${seed}: extrapolated`).toBe(true);
        expect(relErr(w, fixed), `seed ${seed}: from ${before.toExponential(2)}`).toBeLessThan(1e-6);
        // q = Xᵀy − Gw at the new w (float64, rounded once)
        for (let i = 0; i < d; i++) expect(q[i], `seed ${seed}: q[${i}]`).toBe(Math.fround(xty[i]! - w[i]!));
      }
    });
  }

  it('dimension 8: the extrapolation is Σ c_k·w_(k+1), c = (UᵀU)⁻¹1 / 1ᵀ(UᵀU)⁻¹1, U the differences (float64 reference)', () => {
    const d = 8;
    for (const seed of [4, 5, 6]) {
      const { G, xty, w, its, acc, fixed } = iterate(d, seed);
      const before = relErr(w, fixed);
      const C = new Float64Array(K * K);
      for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += (its[i + 1]![k]! - its[i]![k]!) * (its[j + 1]![k]! - its[j]![k]!);
        C[i * K + j] = s;
      }
      const z = solveSpd(C, new Float64Array(K).fill(1), K);
      const zs = z.reduce((a, b) => a + b, 0);
      const want = new Float64Array(d), older = new Float64Array(d);
      for (let k = 0; k < K; k++) for (let j = 0; j < d; j++) {
        want[j]! += (z[k]! / zs) * its[k + 1]![j]!;
        older[j]! += (z[k]! / zs) * its[k]![j]!;
      }
      // the combination of the newer iterates is the better one, and far from the older's
      expect(relErr(want, fixed), `seed ${seed}`).toBeLessThan(relErr(older, fixed));
      expect(relErr(older, want), `seed ${seed}: w_k instead of w_(k+1) would be seen`).toBeGreaterThan(1e-4);
      expect(acc.extrapolate(w, new Float32Array(d), G, xty, 0, 0, 0), `seed ${seed}: extrapolated`).toBe(true);
      expect(relErr(w, want), `seed ${seed}`).toBeLessThan(1e-6);
      expect(relErr(w, fixed), `seed ${seed}: closer to the fixed point than the last iterate`).toBeLessThan(before);
    }
  });
});
