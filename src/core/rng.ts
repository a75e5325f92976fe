/**
 * Dropout's random stream, shared by both backends.
 *
 * The generator is 16 independent xorshift32 lanes (shifts 13, 17, 5; Marsaglia 2003).
 * Stream layout, which both backends follow exactly:
 * - `be.rng(seed)` seeds lane j (j = 0..15) with fmix32(seed + (j + 1)·0x9E3779B9), splitmix32's
 *   finalizer (murmur3's fmix32: shifts 16, 13, 16, multipliers 0x85EBCA6B, 0xC2B2AE35)
 *   (a zero result is replaced by 0x6D2B79F5, since xorshift must not start at 0).
 * - A dropout call over n elements advances every lane ceil(n / 16) times. Element i is
 *   decided by lane i mod 16, on that lane's (floor(i / 16) + 1)-th step of this call; the
 *   draw is the lane's state after the step. Lanes whose last draw falls past n still step,
 *   so the state after a call depends only on the seed and the sizes of earlier calls.
 * - Element i is dropped when draw < threshold, threshold = min(floor(p·2^32), 2^32 − 1)
 *   as an unsigned 32-bit compare. p = 0 and p = 1 draw nothing (identity / all zeros).
 *
 * In Wasm the 16 lanes are four i32x4 vectors, so one loop pass decides 16 elements.
 */

export const RNG_LANES = 16;

/** splitmix32 finalizer of (seed + (j+1)·golden), the initial state of lane j. */
export function seedLane(seed: number, j: number): number {
  let z = (seed + Math.imul(j + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  z = (z ^ (z >>> 16)) >>> 0;
  return z === 0 ? 0x6d2b79f5 : z;
}

/** Fills `state` (16 lanes) from a 32-bit seed. */
export function seedState(state: Uint32Array, seed: number): void {
  for (let j = 0; j < RNG_LANES; j++) state[j] = seedLane(seed >>> 0, j);
}

/** One xorshift32 step of a uint32 state, returned as uint32. */
export function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

/** The uint32 drop threshold for probability p in (0, 1). */
export function dropThreshold(p: number): number {
  return Math.min(Math.floor(p * 4294967296), 4294967295);
}

/**
 * mulberry32: the small seeded generator behind layer initialization, fit()'s shuffles,
 * trainTestSplit, the batch windows of language-model training and the examples (not
 * dropout, which uses the lanes above). Returns uniforms u = next32 / 2^32 in [0, 1); the
 * same seed gives the same stream everywhere.
 */
export function mulberry32(seed: number): () => number {
  const g = new Mulberry32(seed);
  return () => g.next();
}

/**
 * Fisher–Yates shuffle of `a` in place, drawing j = ⌊next()·(i + 1)⌋ for i = n−1 down to 1
 * (next: uniforms in [0, 1), e.g. mulberry32(seed)): trainTestSplit's and fit's shuffle.
 */
export function shuffleInPlace(a: Int32Array, next: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = a[i]!; a[i] = a[j]!; a[j] = t;
  }
}

/**
 * mulberry32 with its state in view: `state` (a uint32) is all it carries, so a training
 * checkpoint saves it and a fresh generator given it continues the same stream.
 */
export class Mulberry32 {
  /** The generator's whole state (uint32). */
  state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next uniform in [0, 1). */
  next(): number {
    const a = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
