// The f64 four-lane sums of the transformer's kernels: the twin of assembly/sums.ts.

/** Σ x[o + j], j < n, in f64: lane j adds element 4q + j; (s0 + s1) + (s2 + s3); tail in order. */
export function sum4(x: Float32Array, o: number, n: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n4 = n & ~3;
  let j = 0;
  for (; j < n4; j += 4) {
    s0 += x[o + j]!; s1 += x[o + j + 1]!; s2 += x[o + j + 2]!; s3 += x[o + j + 3]!;
  }
  let s = (s0 + s1) + (s2 + s3);
  for (; j < n; j++) s += x[o + j]!;
  return s;
}
