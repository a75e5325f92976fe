/**
 * Every raw kernel has a twin case here: wasm == js bit for bit on one call of each, with
 * every buffer, the RNG state and the return value compared. The cases are a Record over
 * the kernel names, so a kernel registered in src/backend/raw.ts without a case here fails
 * the compiler (tsc covers test/) and the first test below. Table kernels and the
 * elementwise factory's kernels get their case from their registration; the other explicit
 * kernels have one written out. Sizes straddle the f32x4 width (n = 37, odd rows and
 * columns); the thread splits are tested in test/threads.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadBackend, type Backend } from '../src/index.js';
import {
  ELEMENTWISE_NAMES, EXPLICIT, KERNEL_NAMES, TABLE, TABLE_NAMES,
  type ElementwiseName, type ExplicitName, type KernelName, type RawKernels, type Registration,
} from '../src/backend/raw.js';
import { firstBitDiff, randomF32 } from './helpers.js';

/** The inputs of one call: float32 buffers, int32 ids or labels, an RNG state (16 lanes), by name. */
type Inputs = Record<string, Float32Array | Int32Array | Uint32Array>;
/** One call of a kernel on a backend's handles (h: the inputs' handles by name). */
interface TwinCase {
  inputs(): Inputs;
  call(raw: RawKernels<unknown, unknown, unknown>, h: Record<string, unknown>): number | void;
  /** Scratch buffers: contents unspecified after the call (not compared). */
  scratch?: readonly string[];
}

const N = 37;
const f = (n: number, seed: number, scale = 1) => randomF32(n, seed, scale);
const abs = (a: Float32Array) => a.map(Math.abs);
/** n float64 values in 2n floats (the f64 kernels' operands). */
const f64 = (n: number, seed: number) => new Float32Array(Float64Array.from(f(n, seed)).buffer);
const rngState = () => Uint32Array.from({ length: 16 }, (_, i) => (0x9e3779b9 * (i + 1)) >>> 0);
const any = (raw: RawKernels<unknown, unknown, unknown>) => raw as unknown as Record<string, (...a: unknown[]) => number | void>;

/** A table kernel's case, from its signature. */
function tableCase(name: (typeof TABLE_NAMES)[number]): TwinCase {
  const k = (raw: RawKernels<unknown, unknown, unknown>) => any(raw)[name]!;
  switch (TABLE[name].sig) {
    case 'map': return { inputs: () => ({ out: f(N, 1), x: f(N, 2, 4) }), call: (raw, h) => k(raw)(h.out, h.x, N) };
    case 'zip': return { inputs: () => ({ out: f(N, 1), a: f(N, 2, 4), b: f(N, 3, 4) }), call: (raw, h) => k(raw)(h.out, h.a, h.b, N) };
    case 'mapScalar': return { inputs: () => ({ out: f(N, 1), x: f(N, 2, 4) }), call: (raw, h) => k(raw)(h.out, h.x, N, 0.37) };
    case 'zipScalar': return { inputs: () => ({ out: f(N, 1), a: f(N, 2, 4), b: f(N, 3, 4) }), call: (raw, h) => k(raw)(h.out, h.a, h.b, N, 0.37) };
    case 'reduce': return { inputs: () => ({ x: f(N, 2, 4) }), call: (raw, h) => k(raw)(h.x, N) };
    case 'reduce2': return { inputs: () => ({ a: f(N, 2, 4), b: f(N, 3, 4) }), call: (raw, h) => k(raw)(h.a, h.b, N) };
  }
}

/** An elementwise-factory kernel's case, from its registration: b buffers, n, a scalar. */
function elementwiseCase(name: ElementwiseName): TwinCase {
  const b = (EXPLICIT[name] as Registration).elements!;
  const bufs = ['p0', 'p1', 'p2'].slice(0, b);
  return {
    inputs: () => Object.fromEntries(bufs.map((p, i) => [p, f(N, 10 + i, 4)])),
    call: (raw, h) => any(raw)[name]!(...bufs.map((p) => h[p]), N, 0.3),
  };
}

// rows × cols of the row kernels, z matrices of t × t, and the linear problem n × d
const R = 5, C = 11, Z = 3, T = 7, LN = 13, LD = 6;
const labels = () => Int32Array.from({ length: R }, (_, i) => (i * 7) % C);
const ids = () => Int32Array.from({ length: R }, (_, i) => (i * 3) % 4);
const idx = () => Float32Array.from([4, 0, 5, 2]);
const gram = () => { // XᵀX of a column-major X (LD columns of LN): symmetric, positive diagonal
  const x = f(LN * LD, 60), g = new Float32Array(LD * LD);
  for (let i = 0; i < LD; i++) for (let j = 0; j < LD; j++) {
    let s = 0;
    for (let r = 0; r < LN; r++) s += x[i * LN + r]! * x[j * LN + r]!;
    g[i * LD + j] = s / LN;
  }
  return g;
};

/** The explicit kernels whose shape is their own: one case each, written out. */
const EXPLICIT_CASES: Record<Exclude<ExplicitName, ElementwiseName>, TwinCase> = {
  matmul: { inputs: () => ({ out: f(5 * 7, 1), a: f(9 * 5, 2), b: f(7 * 9, 3) }), call: (raw, h) => raw.matmul(h.out, h.a, h.b, 5, 7, 9, true, true, true) },
  matmulBatched: {
    inputs: () => ({ out: f(2 * 2 * 3 * 5, 1), a: f(2 * 2 * 3 * 4, 2), b: f(2 * 2 * 4 * 5, 3) }),
    call: (raw, h) => raw.matmulBatched(h.out, h.a, h.b, 2, 2, 3, 5, 4, 0, 4, 24, 12, 0, 5, 40, 20, 0, 5, 30, 15, false, false, true, false, false),
  },
  dropout: {
    inputs: () => ({ out: f(N, 1), x: f(N, 2), mask: f(N, 3), rng: rngState() }),
    call: (raw, h) => raw.dropout(h.out, h.x, N, 0x40000000, 4 / 3, h.rng, h.mask),
  },
  sgdStep: {
    inputs: () => ({ p: f(N, 1), g: f(N, 2), buf: f(N, 3) }),
    call: (raw, h) => raw.sgdStep(h.p, h.g, h.buf, N, 0.1, 0.9, 0.1, 0.01, false, true, 0.001, false),
  },
  adamStep: {
    inputs: () => ({ p: f(N, 1), g: f(N, 2), m: f(N, 3), v: abs(f(N, 4)), vmax: abs(f(N, 5)) }),
    call: (raw, h) => raw.adamStep(h.p, h.g, h.m, h.v, h.vmax, N, 0.9, 0.999, 0.01, 0.3, 1e-8, 0.01, 1, true, false, 0.001),
  },
  addRowVector: { inputs: () => ({ out: f(R * C, 1), x: f(R * C, 2), b: f(C, 3) }), call: (raw, h) => raw.addRowVector(h.out, h.x, h.b, R, C) },
  sumRows: { inputs: () => ({ out: f(C, 1), x: f(R * C, 2) }), call: (raw, h) => raw.sumRows(h.out, h.x, R, C) },
  crossEntropy: {
    inputs: () => ({ logits: f(R * C, 1, 8), labels: labels(), exps: f(R * C, 2) }),
    call: (raw, h) => raw.crossEntropy(h.logits, h.labels, R, C, h.exps),
  },
  crossEntropyBackward: {
    inputs: () => ({ out: f(R * C, 1), logits: f(R * C, 2, 8), labels: labels() }),
    call: (raw, h) => raw.crossEntropyBackward(h.out, h.logits, h.labels, R, C, 0.2),
  },
  crossEntropyBackwardExps: {
    inputs: () => ({ out: f(R * C, 1), exps: abs(f(R * C, 2)), labels: labels() }),
    call: (raw, h) => raw.crossEntropyBackwardExps(h.out, h.exps, h.labels, R, C, 0.2),
  },
  layerNorm: {
    inputs: () => ({ out: f(R * C, 1), x: f(R * C, 2, 3), w: f(C, 3), b: f(C, 4), mean: f(R, 5), rstd: f(R, 6) }),
    call: (raw, h) => raw.layerNorm(h.out, h.x, h.w, h.b, h.mean, h.rstd, R, C, 1e-5),
  },
  layerNormBackward: {
    inputs: () => ({ dx: f(R * C, 1), g: f(R * C, 2), x: f(R * C, 3), w: f(C, 4), mean: f(R, 5), rstd: abs(f(R, 6, 3)), dw: f(C, 7), db: f(C, 8) }),
    call: (raw, h) => raw.layerNormBackward(h.dx, h.g, h.x, h.w, h.mean, h.rstd, h.dw, h.db, R, C),
  },
  causalSoftmax: { inputs: () => ({ out: f(Z * T * T, 1), x: f(Z * T * T, 2, 6) }), call: (raw, h) => raw.causalSoftmax(h.out, h.x, Z, T, 0.5) },
  causalSoftmaxBackward: {
    inputs: () => ({ out: f(Z * T * T, 1), p: abs(f(Z * T * T, 2)), g: f(Z * T * T, 3) }),
    call: (raw, h) => raw.causalSoftmaxBackward(h.out, h.p, h.g, Z, T, 0.5),
  },
  embedding: { inputs: () => ({ out: f(R * C, 1), w: f(4 * C, 2), ids: ids() }), call: (raw, h) => raw.embedding(h.out, h.w, h.ids, R, C) },
  embeddingBackward: { inputs: () => ({ dw: f(4 * C, 1), g: f(R * C, 2), ids: ids() }), call: (raw, h) => raw.embeddingBackward(h.dw, h.g, h.ids, R, C) },
  cdResidual: {
    inputs: () => ({ w: f(LD, 1), r: f(LN, 2), x: f(LN * LD, 60), norms: abs(f(LD, 4)), idx: idx(), stats: f(3, 5) }),
    call: (raw, h) => raw.cdResidual(h.w, h.r, h.x, h.norms, h.idx, LN, 4, 0.05, 0.01, 1e-4, 5, h.stats),
  },
  cdGram: {
    inputs: () => ({ w: f(LD, 1), q: f(LD, 2), g: gram(), norms: abs(f(LD, 4)), xty: f(LD, 5), stats: f(3, 6) }),
    call: (raw, h) => raw.cdGram(h.w, h.q, h.g, h.norms, null, h.xty, LD, LD, LN, 0.05, 0.01, 1e-4, 5, 2.5, 0.05 * LN, 0.01 * LN, 1e-6, h.stats),
  },
  colDots: { inputs: () => ({ out: f(4, 1), x: f(LN * LD, 2), v: f(LN, 3), idx: idx() }), call: (raw, h) => raw.colDots(h.out, h.x, h.v, h.idx, LN, 4) },
  residual: {
    inputs: () => ({ r: f(LN, 1), y: f(LN, 2), x: f(LN * LD, 3), w: Float32Array.from(f(LD, 4), (v, i) => (i === 1 ? 0 : v)) }),
    call: (raw, h) => raw.residual(h.r, h.y, h.x, h.w, null, LN, LD, LD),
  },
  xtDots: {
    inputs: () => ({ out: f(LD, 1), x: f(LN * LD, 2), v: f(LN, 3), acc: f(4 * LD, 4), norms: f(LD, 5) }),
    call: (raw, h) => raw.xtDots(h.out, h.x, h.v, LN, LD, h.acc, h.norms),
    scratch: ['acc'],
  },
  residual64: {
    inputs: () => ({ r64: f64(LN, 1), r: f(LN, 2), y: f(LN, 3), x: f(LN * LD, 4), w: f(LD, 5) }),
    call: (raw, h) => raw.residual64(h.r64, h.r, h.y, h.x, h.w, LN, LD),
  },
  xtxDots: {
    inputs: () => ({ out: f(LD, 1), x: f(LN * LD, 2), p: f(LD, 3), u: f(LN, 4), acc: f(2 * LD, 5) }),
    call: (raw, h) => raw.xtxDots(h.out, h.x, h.p, h.u, LN, LD, h.acc),
    scratch: ['acc'],
  },
  xtDots64: { inputs: () => ({ out: f64(LD, 1), x: f(LN * LD, 2), v: f64(LN, 3) }), call: (raw, h) => raw.xtDots64(h.out, h.x, h.v, LN, LD) },
  gatherCols: { inputs: () => ({ out: f(4 * LN, 1), x: f(LN * LD, 2), idx: idx() }), call: (raw, h) => raw.gatherCols(h.out, h.x, h.idx, LN, LD, 4) },
  transpose: { inputs: () => ({ out: f(R * C, 1), x: f(R * C, 2) }), call: (raw, h) => raw.transpose(h.out, h.x, R, C) },
};

const CASES: Record<KernelName, TwinCase> = {
  ...(Object.fromEntries(TABLE_NAMES.map((name) => [name, tableCase(name)])) as Record<(typeof TABLE_NAMES)[number], TwinCase>),
  ...(Object.fromEntries(ELEMENTWISE_NAMES.map((name) => [name, elementwiseCase(name)])) as Record<ElementwiseName, TwinCase>),
  ...EXPLICIT_CASES,
};

/** Runs a case on be's raw kernels: every buffer after the call (copied out) and the return value. */
function run(be: Backend, c: TwinCase): { out: Record<string, Float32Array | Int32Array | Uint32Array>; ret: number | void } {
  const s = be._s as unknown as {
    raw: RawKernels<unknown, unknown, unknown>; allocF32(n: number): unknown; freeF32(h: unknown, n: number): void; view(h: unknown, n: number): Float32Array;
    allocRng(): unknown; freeRng(r: unknown): void; rngState(r: unknown): Uint32Array; labels(a: Int32Array): unknown;
  };
  const inputs = c.inputs(), h: Record<string, unknown> = {}, out: Record<string, Float32Array | Int32Array | Uint32Array> = {};
  for (const [k, v] of Object.entries(inputs)) {
    if (v instanceof Float32Array) { h[k] = s.allocF32(v.length); s.view(h[k], v.length).set(v); }
    else if (v instanceof Uint32Array) { h[k] = s.allocRng(); s.rngState(h[k]).set(v); }
    else h[k] = s.labels(v.slice());
  }
  const ret = c.call(s.raw, h);
  for (const [k, v] of Object.entries(inputs)) {
    if (v instanceof Float32Array) { out[k] = s.view(h[k], v.length).slice(); s.freeF32(h[k], v.length); }
    else if (v instanceof Uint32Array) { out[k] = s.rngState(h[k]).slice(); s.freeRng(h[k]); }
  }
  return { out, ret };
}

const [wasm, js] = await Promise.all([loadBackend('wasm', { threads: 1 }), loadBackend('js')]);

describe('every raw kernel: wasm == js bit for bit (one twin case per kernel)', () => {
  it('has a case for every kernel of the registry, and none for a kernel it lacks', () => {
    expect(Object.keys(CASES).sort()).toEqual([...KERNEL_NAMES].sort());
  });

  it.each([...KERNEL_NAMES])('%s', (name) => {
    const c = CASES[name];
    const w = run(wasm, c), j = run(js, c);
    expect(Object.is(w.ret, j.ret), `${name} returned ${w.ret} (wasm) and ${j.ret} (js)`).toBe(true);
    for (const k of Object.keys(w.out)) {
      if (c.scratch?.includes(k)) continue;
      const a = w.out[k]!, b = j.out[k]!;
      const diff = a instanceof Float32Array ? firstBitDiff(a, b as Float32Array) : a.findIndex((v, i) => v !== b[i]);
      expect(diff, `${name}: ${k} differs at ${diff}`).toBe(-1);
    }
    // the case runs the kernel: some buffer or the return value moved off the inputs
    const before = c.inputs();
    const changed = j.ret !== undefined || Object.keys(j.out).some((k) => {
      const x = before[k]!, y = j.out[k]!;
      return x instanceof Float32Array ? firstBitDiff(x, y as Float32Array) !== -1 : x.some((v, i) => v !== y[i]);
    });
    expect(changed, `${name}: the case changed nothing`).toBe(true);
  });
});
