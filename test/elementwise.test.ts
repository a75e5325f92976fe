import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DisposedError, ShapeError, type Backend, type Tensor } from '../src/index.js';
import { exp64, log64 } from '../src/backend/js/mathf.js';
import { expectBits, firstBitDiff, loadBoth, randomF32, SIZES, testingKernel } from './helpers.js';

const { wasm, js, BACKENDS } = await loadBoth();
const U = 2 ** -24;
const f = Math.fround;


/** Runs body on a backend with fresh tensors made from `inputs`; returns every tensor's data afterwards. */
function withTensors(be: Backend, shapes: number[][], inputs: Float32Array[], body: (t: Tensor[]) => number | string | void) {
  const ts = shapes.map((s, i) => be.tensor(s, inputs[i]!));
  const value = body(ts);
  const data = ts.map((t) => t.data.slice());
  ts.forEach((t) => t.dispose());
  return { value, data };
}

// ---- ops with an exact per-element reference (one f32 rounding of a float64 expression) ----

interface Elem {
  name: string;
  /** number of inputs after out */
  arity: number;
  /** the kernel call: t[0] = out, then inputs (or aliased) */
  call: (be: Backend, out: Tensor, ins: Tensor[]) => void;
  /** expected out[i] from the input values */
  ref: (ins: number[]) => number;
  /** which inputs out may alias */
  aliases: number[];
}

const A = 0.37, NEG = -1.75;
const ELEMS: Elem[] = [
  { name: 'add', arity: 2, call: (be, o, [a, b]) => be.kernels.add(o, a!, b!), ref: ([a, b]) => f(a! + b!), aliases: [0, 1] },
  { name: 'sub', arity: 2, call: (be, o, [a, b]) => be.kernels.sub(o, a!, b!), ref: ([a, b]) => f(a! - b!), aliases: [0, 1] },
  { name: 'mul', arity: 2, call: (be, o, [a, b]) => be.kernels.mul(o, a!, b!), ref: ([a, b]) => f(a! * b!), aliases: [0, 1] },
  { name: 'scale', arity: 1, call: (be, o, [x]) => be.kernels.scale(o, x!, A), ref: ([x]) => f(x! * f(A)), aliases: [0] },
  { name: 'relu', arity: 1, call: (be, o, [x]) => be.kernels.relu(o, x!), ref: ([x]) => (x! > 0 ? x! : 0), aliases: [0] },
  { name: 'reluBackward', arity: 2, call: (be, o, [g, x]) => be.kernels.reluBackward(o, g!, x!), ref: ([g, x]) => (x! > 0 ? g! : 0), aliases: [0] },
  { name: 'mseBackward', arity: 2, call: (be, o, [a, b]) => be.kernels.mseBackward(o, a!, b!, NEG), ref: ([a, b]) => f(f(a! - b!) * f(NEG)), aliases: [0, 1] },
];

describe('elementwise ops: exact reference and wasm == js', () => {
  for (const op of ELEMS) {
    it(`${op.name}: separate and aliased out, sizes straddling the SIMD width`, () => {
      for (const n of [...SIZES, 1 << 20]) {
        const ins = Array.from({ length: op.arity }, (_, k) => randomF32(n, 100 * n + k, 4));
        if (n >= 4) ins[0]![1] = -0;
        const want = new Float32Array(n);
        for (let i = 0; i < n; i++) want[i] = op.ref(ins.map((a) => a[i]!));
        const variants: (number | null)[] = [null, ...op.aliases];
        for (const alias of variants) {
          const results = BACKENDS.map(([kind, be]) => {
            const r = withTensors(be, [[n], ...ins.map(() => [n])], [new Float32Array(n).fill(9), ...ins], (t) => {
              const out = alias === null ? t[0]! : t[1 + alias]!;
              op.call(be, out, t.slice(1));
            });
            const out = alias === null ? r.data[0]! : r.data[1 + alias]!;
            expectBits(out, want, `${op.name} ${kind} n=${n} alias=${alias}`);
            r.data.slice(1).forEach((d, k) => { if (k !== alias) expectBits(d, ins[k]!, `${op.name} ${kind}: input ${k} unmodified`); });
            return out;
          });
          expectBits(results[0]!, results[1]!, `${op.name} wasm vs js n=${n}`);
        }
      }
    });
  }

  it.each(BACKENDS)('relu maps −0 to +0 and keeps NaN; reluBackward passes g only where x > 0 (%s)', (_, be) => {
    const r = withTensors(be, [[5], [5]], [Float32Array.of(-0, NaN, -1, 2, 0), new Float32Array(5)], (t) => { be.kernels.relu(t[1]!, t[0]!); });
    expect(Object.is(r.data[1]![0], 0)).toBe(true);
    expect(Number.isNaN(r.data[1]![1])).toBe(true);
    expect(Array.from(r.data[1]!.subarray(2))).toEqual([0, 2, 0]);
    const g = withTensors(be, [[4], [4], [4]], [Float32Array.of(5, 6, 7, 8), Float32Array.of(NaN, -0, 1e-45, -3), new Float32Array(4)],
      (t) => { be.kernels.reluBackward(t[2]!, t[0]!, t[1]!); });
    expect(Array.from(g.data[2]!)).toEqual([0, 0, 7, 0]);
  });

  it.each(BACKENDS)('axpy: y = f32(y + f32(alpha·x)), no fused multiply-add (%s)', (_, be) => {
    for (const n of SIZES) {
      const y = randomF32(n, n + 5, 3), x = randomF32(n, n + 6, 3);
      const r = withTensors(be, [[n], [n]], [y, x], (t) => { be.kernels.axpy(t[0]!, t[1]!, -0.3); });
      const want = y.map((v, i) => f(v + f(x[i]! * f(-0.3))));
      expectBits(r.data[0]!, want, `axpy n=${n}`);
      expectBits(r.data[1]!, x, 'x unmodified');
    }
    // a case where a fused multiply-add would round differently
    const r = withTensors(be, [[1], [1]], [Float32Array.of(-1), Float32Array.of(f(1 + 2 ** -12))], (t) => { be.kernels.axpy(t[0]!, t[1]!, f(1 + 2 ** -12)); });
    expect(r.data[0]![0]).toBe(f(-1 + f(f(1 + 2 ** -12) * f(1 + 2 ** -12))));
  });

  it.each(BACKENDS)('fill writes f32(value) to every element (%s)', (_, be) => {
    for (const n of SIZES) {
      const r = withTensors(be, [[n]], [new Float32Array(n)], (t) => { be.kernels.fill(t[0]!, 0.1); });
      expect(r.data[0]!.every((v) => v === f(0.1))).toBe(true);
    }
  });

  it('addRowVector and sumRows over many shapes: exact reference, wasm == js, aliasing', () => {
    const dims = [0, 1, 3, 4, 5, 7, 8, 17, 67];
    for (const rows of dims) {
      for (const cols of [...dims, 130]) {
        const xd = randomF32(rows * cols, rows * 1000 + cols, 2), bd = randomF32(cols, cols + 1, 2);
        const want = new Float32Array(rows * cols);
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) want[i * cols + j] = f(xd[i * cols + j]! + bd[j]!);
        const sums = new Float32Array(cols);
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) sums[j] = f(sums[j]! + xd[i * cols + j]!);
        const got: Float32Array[] = [];
        for (const [kind, be] of BACKENDS) {
          for (const alias of [false, true]) {
            const r = withTensors(be, [[rows, cols], [cols], [rows, cols]], [xd, bd, new Float32Array(rows * cols)], (t) => {
              be.kernels.addRowVector(alias ? t[0]! : t[2]!, t[0]!, t[1]!);
            });
            expectBits(alias ? r.data[0]! : r.data[2]!, want, `addRowVector ${kind} ${rows}x${cols} alias=${alias}`);
            if (!alias) expectBits(r.data[0]!, xd, 'x unmodified');
            expectBits(r.data[1]!, bd, 'b unmodified');
          }
          const s = withTensors(be, [[rows, cols], [cols]], [xd, new Float32Array(cols).fill(5)], (t) => { be.kernels.sumRows(t[1]!, t[0]!); });
          expectBits(s.data[1]!, sums, `sumRows ${kind} ${rows}x${cols}`);
          expectBits(s.data[0]!, xd, 'x unmodified');
          got.push(s.data[1]!);
        }
        expectBits(got[0]!, got[1]!, `sumRows wasm vs js ${rows}x${cols}`);
      }
    }
  });

  it('sumRows is within rows·2⁻²⁴·Σ|x| of the float64 column sums', () => {
    const rows = 1000, cols = 19;
    const xd = randomF32(rows * cols, 3, 10);
    for (const [, be] of BACKENDS) {
      const r = withTensors(be, [[rows, cols], [cols]], [xd, new Float32Array(cols)], (t) => { be.kernels.sumRows(t[1]!, t[0]!); });
      for (let j = 0; j < cols; j++) {
        let s = 0, m = 0;
        for (let i = 0; i < rows; i++) { s += xd[i * cols + j]!; m += Math.abs(xd[i * cols + j]!); }
        expect(Math.abs(r.data[1]![j]! - s)).toBeLessThanOrEqual(rows * U * m);
      }
    }
  });
});

describe('reductions (f64, 8 interleaved partial sums)', () => {
  /** The documented layout, written out independently of both kernels. */
  function layoutSum(terms: (i: number) => number, n: number): number {
    const s = new Float64Array(8);
    const n8 = n - (n % 8);
    for (let i = 0; i < n8; i++) s[i % 8]! += terms(i);
    let t = ((s[0]! + s[1]!) + (s[2]! + s[3]!)) + ((s[4]! + s[5]!) + (s[6]! + s[7]!));
    for (let i = n8; i < n; i++) t += terms(i);
    return t;
  }

  it('sum, sumSquares and mse follow the documented layout bit for bit and match float64 sums', () => {
    for (const n of [...SIZES, 1 << 20]) {
      const a = randomF32(n, n + 11, 5), b = randomF32(n, n + 12, 5);
      const want = {
        sum: layoutSum((i) => a[i]!, n),
        sumSquares: layoutSum((i) => a[i]! * a[i]!, n),
        mse: n === 0 ? NaN : layoutSum((i) => (a[i]! - b[i]!) ** 2, n) / n,
      };
      for (const [kind, be] of BACKENDS) {
        const r = withTensors(be, [[n], [n]], [a, b], (t) => {
          const k = be.kernels;
          const got = { sum: k.sum(t[0]!), sumSquares: k.sumSquares(t[0]!), mse: n === 0 ? NaN : k.mse(t[0]!, t[1]!) };
          for (const key of ['sum', 'sumSquares', 'mse'] as const) {
            expect(Object.is(got[key], want[key]), `${key} ${kind} n=${n}: ${got[key]} vs ${want[key]}`).toBe(true);
          }
          // plain sequential float64 sums: any order of n f64 additions is within n·2⁻⁵³·Σ|terms|
          let s = 0, m = 0, q = 0, d2 = 0;
          for (let i = 0; i < n; i++) { s += a[i]!; m += Math.abs(a[i]!); q += a[i]! * a[i]!; d2 += (a[i]! - b[i]!) ** 2; }
          const tol = 2 * n * 2 ** -53;
          expect(Math.abs(got.sum - s)).toBeLessThanOrEqual(tol * m);
          expect(Math.abs(got.sumSquares - q)).toBeLessThanOrEqual(tol * q);
          if (n > 0) expect(Math.abs(got.mse - d2 / n)).toBeLessThanOrEqual(tol * (d2 / n) + 1e-300);
        });
        expectBits(r.data[0]!, a, 'a unmodified');
        expectBits(r.data[1]!, b, 'b unmodified');
      }
    }
  });

  it('wasm == js on random arrays (property)', () => {
    fc.assert(fc.property(fc.array(fc.float({ noNaN: true, min: Math.fround(-1e30), max: Math.fround(1e30) }), { minLength: 1, maxLength: 90 }), (vals) => {
      const a = Float32Array.from(vals), b = a.map((v) => v * 0.5 + 1);
      const get = (be: Backend) => withTensors(be, [[a.length], [a.length]], [a, b], (t) => {
        const k = be.kernels;
        return [k.sum(t[0]!), k.sumSquares(t[0]!), k.mse(t[0]!, t[1]!)].join(',');
      }).value;
      return get(wasm) === get(js);
    }), { numRuns: 300 });
  });
});

describe('exp64 / log64 (assembly/mathf.ts and its TS twin)', () => {
  // The kernels' exp and log rounded once to f32, in js; the wasm ones come from the test-only binary.
  const expf = (x: number) => f(exp64(f(x)));
  const logf = (x: number) => f(log64(f(x)));
  const u32 = new Uint32Array(1), f32 = new Float32Array(u32.buffer);
  /** Position on the f32 number line, for ulp distances. */
  const ord = (v: number) => { f32[0] = v; const b = u32[0]!; return b & 0x80000000 ? -(b & 0x7fffffff) : b; };

  const kernels = { vexp: testingKernel('vexp'), vlog: testingKernel('vlog') };
  function vec(name: 'vexp' | 'vlog', xs: Float32Array): Float32Array {
    return kernels[name](xs);
  }

  it('expf is within 1 ulp of Math.exp over [−110, 90] and wasm == js bit for bit', () => {
    const n = 1 << 20;
    const xs = new Float32Array(n);
    for (let i = 0; i < n; i++) xs[i] = -110 + (200 * i) / n;
    xs.set([0, -0, 1e-45, -1e-30, 88.72, 88.73, -103.9, -104, Infinity, -Infinity], 0);
    const w = vec('vexp', xs);
    let maxUlp = 0, diff = -1;
    for (let i = 0; i < n; i++) {
      const j = expf(xs[i]!);
      if (diff < 0 && !Object.is(w[i], j)) diff = i;
      maxUlp = Math.max(maxUlp, Math.abs(ord(j) - ord(f(Math.exp(xs[i]!)))));
    }
    expect(diff, `wasm ${w[diff]} vs js ${expf(xs[diff]!)} at x = ${xs[diff]}`).toBe(-1);
    expect(maxUlp).toBeLessThanOrEqual(1);
    expect(expf(0)).toBe(1);
    expect(Number.isNaN(expf(NaN))).toBe(true);
  });

  it('logf is within 1 ulp of Math.log over all f32 magnitudes and wasm == js bit for bit', () => {
    const n = 1 << 20;
    const xs = new Float32Array(n);
    for (let i = 0; i < n; i++) xs[i] = f(2 ** (-149 + (277 * i) / n));
    xs.set([1, 0, -0, -1, Infinity, f(Math.SQRT2), 0.99999994, 1.0000001, 3.4028234663852886e38], 0);
    const w = vec('vlog', xs);
    let maxUlp = 0, diff = -1;
    for (let i = 0; i < n; i++) {
      const j = logf(xs[i]!);
      if (diff < 0 && !(Object.is(w[i], j) || (Number.isNaN(w[i]) && Number.isNaN(j)))) diff = i;
      if (xs[i]! > 0) maxUlp = Math.max(maxUlp, Math.abs(ord(j) - ord(f(Math.log(xs[i]!)))));
    }
    expect(diff, `wasm ${w[diff]} vs js ${logf(xs[diff]!)} at x = ${xs[diff]}`).toBe(-1);
    expect(maxUlp).toBeLessThanOrEqual(1);
    expect(logf(1)).toBe(0);
    expect(logf(0)).toBe(-Infinity);
    expect(Number.isNaN(logf(-1))).toBe(true);
  });

  it('exp64 and log64 are accurate in float64 (relative error < 1e-13)', () => {
    let e = 0, l = 0;
    for (let i = 0; i <= 200000; i++) {
      const x = -700 + (1400 * i) / 200000;
      e = Math.max(e, Math.abs(exp64(x) / Math.exp(x) - 1));
      const y = Math.exp(x);
      l = Math.max(l, Math.abs(log64(y) - Math.log(y)) / Math.max(Math.abs(Math.log(y)), 1));
    }
    expect(e).toBeLessThan(1e-13);
    expect(l).toBeLessThan(1e-13);
    expect(exp64(-708)).toBe(0);
    expect(exp64(710)).toBe(Infinity);
  });
});

describe('crossEntropy and crossEntropyBackward', () => {
  /** float64 log-sum-exp with Math.exp / Math.log. */
  function refLoss(x: Float32Array, labels: Int32Array, rows: number, cols: number): number {
    let total = 0;
    for (let i = 0; i < rows; i++) {
      let m = -Infinity;
      for (let j = 0; j < cols; j++) m = Math.max(m, x[i * cols + j]!);
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(x[i * cols + j]! - m);
      total += Math.log(s) + m - x[i * cols + labels[i]!]!;
    }
    return total / rows;
  }
  function refGrad(x: Float32Array, labels: Int32Array, rows: number, cols: number, alpha: number): Float64Array {
    const g = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      let m = -Infinity, s = 0;
      for (let j = 0; j < cols; j++) m = Math.max(m, x[i * cols + j]!);
      for (let j = 0; j < cols; j++) s += Math.exp(x[i * cols + j]! - m);
      for (let j = 0; j < cols; j++) g[i * cols + j] = f(alpha) * (Math.exp(x[i * cols + j]! - m) / s - (j === labels[i] ? 1 : 0));
    }
    return g;
  }
  function labelsFor(rows: number, cols: number, seed: number): Int32Array {
    const r = randomF32(rows, seed);
    return Int32Array.from(r, (v) => Math.min(cols - 1, Math.floor(((v + 1) / 2) * cols)));
  }

  function runCE(be: Backend, xd: Float32Array, labels: Int32Array, rows: number, cols: number, alpha: number, alias: boolean) {
    return withTensors(be, [[rows, cols], [rows, cols]], [xd, new Float32Array(rows * cols)], (t) => {
      const loss = be.kernels.crossEntropy(t[0]!, labels);
      be.kernels.crossEntropyBackward(alias ? t[0]! : t[1]!, t[0]!, labels, alpha);
      return loss;
    });
  }

  it('matches float64 log-sum-exp and softmax − onehot; wasm == js bit for bit; out may alias logits', () => {
    const shapes: [number, number][] = [[1, 1], [1, 3], [3, 4], [5, 5], [7, 8], [4, 17], [17, 10], [67, 3], [64, 1000], [2000, 10]];
    for (const [rows, cols] of shapes) {
      for (const scale of [1, 30, 1e4]) {
        const xd = randomF32(rows * cols, rows * 31 + cols, scale);
        const labels = labelsFor(rows, cols, rows + cols);
        const alpha = 1 / rows;
        const ref = refLoss(xd, labels, rows, cols), g = refGrad(xd, labels, rows, cols, alpha);
        const outs: Float32Array[] = [];
        const losses: number[] = [];
        for (const [kind, be] of BACKENDS) {
          for (const alias of [false, true]) {
            const r = runCE(be, xd, labels, rows, cols, alpha, alias);
            const loss = r.value as number;
            expect(Number.isFinite(loss)).toBe(true);
            // exp64/log64 errors ~1e-14 relative, f64 summation over cols terms
            expect(Math.abs(loss - ref), `${kind} ${rows}x${cols} scale ${scale}: ${loss} vs ${ref}`).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(ref)));
            const out = alias ? r.data[0]! : r.data[1]!;
            // e_j rounded to f32 (2⁻²⁴ rel.), s = Σ e_j, p = e/s (≤ 3·2⁻²⁴ abs.), final f32 rounding (≤ 2⁻²⁴·|alpha|)
            for (let i = 0; i < out.length; i++) {
              if (!(Math.abs(out[i]! - g[i]!) <= 4 * U * Math.abs(alpha))) {
                expect.fail(`${kind} ${rows}x${cols} scale ${scale} alias=${alias}: grad ${i} is ${out[i]}, float64 ${g[i]}`);
              }
            }
            if (!alias) expectBits(r.data[0]!, xd, 'logits unmodified');
            outs.push(out); losses.push(loss);
          }
        }
        expectBits(outs[0]!, outs[2]!, `grad wasm vs js ${rows}x${cols}`);
        expectBits(outs[1]!, outs[3]!, `grad aliased wasm vs js ${rows}x${cols}`);
        expect(Object.is(losses[0], losses[2]), `loss wasm ${losses[0]} js ${losses[2]}`).toBe(true);
      }
    }
  });

  it('crossEntropy with exps stores f32(exp64(x − m)) and the same loss; crossEntropyBackwardExps == crossEntropyBackward bit for bit (out may be exps), wasm == js', () => {
    const shapes: [number, number][] = [[1, 1], [1, 2], [3, 4], [5, 5], [7, 8], [4, 17], [17, 10], [67, 3], [64, 1000]];
    for (const [rows, cols] of shapes) {
      for (const scale of [1, 30, 1e4]) {
        const xd = randomF32(rows * cols, rows * 17 + cols, scale);
        if (rows * cols > 3) { xd[1] = NaN; xd[2] = Infinity; } // specials take the scalar path in one row
        const labels = labelsFor(rows, cols, rows + 2 * cols);
        const alpha = 0.5 / rows;
        const want = new Float32Array(rows * cols);
        for (let i = 0; i < rows; i++) {
          let m = -Infinity;
          for (let j = 0; j < cols; j++) m = Math.max(m, xd[i * cols + j]!);
          for (let j = 0; j < cols; j++) want[i * cols + j] = exp64(xd[i * cols + j]! - m);
        }
        const got: Float32Array[] = [];
        for (const [kind, be] of BACKENDS) {
          const x = be.tensor([rows, cols], xd), e = be.zeros([rows, cols]);
          const plain = be.kernels.crossEntropy(x, labels);
          const withExps = be.kernels.crossEntropy(x, labels, e);
          expect(Object.is(plain, withExps), `${kind} ${rows}x${cols} scale ${scale}: loss ${withExps} vs ${plain}`).toBe(true);
          expectBits(e.data, want, `${kind} exps ${rows}x${cols} scale ${scale}`);
          const ref = be.zeros([rows, cols]), out = be.zeros([rows, cols]);
          be.kernels.crossEntropyBackward(ref, x, labels, alpha);
          be.kernels.crossEntropyBackwardExps(out, e, labels, alpha);
          expectBits(out.data, ref.data, `${kind} grad from exps ${rows}x${cols} scale ${scale}`);
          be.kernels.crossEntropyBackwardExps(e, e, labels, alpha); // aliased
          expectBits(e.data, ref.data, `${kind} grad from exps, aliased, ${rows}x${cols} scale ${scale}`);
          got.push(out.data.slice());
          for (const t of [x, e, ref, out]) t.dispose();
        }
        expectBits(got[0]!, got[1]!, `grad from exps wasm vs js ${rows}x${cols} scale ${scale}`);
      }
    }
  });

  it('crossEntropy exps and crossEntropyBackwardExps reject bad input and change nothing', () => {
    for (const [, be] of BACKENDS) {
      const k = be.kernels;
      const x = be.tensor([2, 3], [1, 2, 3, 4, 5, 6]), e = be.tensor([2, 3], [7, 7, 7, 7, 7, 7]), wrong = be.zeros([3, 2]);
      const gone = be.zeros([2, 3]); gone.dispose();
      const labels = Int32Array.of(0, 2);
      expect(() => k.crossEntropy(x, labels, wrong)).toThrow(ShapeError);
      expect(() => k.crossEntropy(x, labels, x)).toThrow(/exps must not be logits/);
      expect(() => k.crossEntropy(x, labels, gone)).toThrow(DisposedError);
      expect(() => k.crossEntropy(x, Int32Array.of(0, 3), e)).toThrow(RangeError);
      expect(Array.from(e.data)).toEqual([7, 7, 7, 7, 7, 7]);
      expect(() => k.crossEntropyBackwardExps(wrong, e, labels, 1)).toThrow(ShapeError);
      expect(() => k.crossEntropyBackwardExps(x, e, Int32Array.of(0, 5), 1)).toThrow(RangeError);
      expect(() => k.crossEntropyBackwardExps(x, e, labels, NaN)).toThrow(RangeError);
      expect(() => k.crossEntropyBackwardExps(x, gone, labels, 1)).toThrow(DisposedError);
      expect(Array.from(x.data)).toEqual([1, 2, 3, 4, 5, 6]);
      x.dispose(); e.dispose(); wrong.dispose();
    }
  });

  it('huge logits (±1e4) stay finite and exact: a row [1e4, −1e4, 0] with label 0 has loss ≈ e⁻¹⁰⁰⁰⁰', () => {
    for (const [, be] of BACKENDS) {
      const xd = Float32Array.of(1e4, -1e4, 0, -1e4, 1e4, 1e4);
      const r = runCE(be, xd, Int32Array.of(0, 0), 2, 3, 1, false);
      // row 0: log(1 + e^-2e4 + e^-1e4) ≈ 0; row 1: label 0 at −1e4 vs two at 1e4: 2e4 + ln 2
      expect(r.value).toBeCloseTo((0 + 2e4 + Math.LN2) / 2, 9);
      expect(Array.from(r.data[1]!)).toEqual([0, 0, 0, -1, 0.5, 0.5]);
    }
  });

  it('softmax gradient rows sum to ≈ 0 and crossEntropy ≥ 0 (property), wasm == js', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 40 }), fc.integer(), fc.double({ min: 0.1, max: 100, noNaN: true }),
      (rows, cols, seed, scale) => {
        const xd = randomF32(rows * cols, seed, scale), labels = labelsFor(rows, cols, seed + 1);
        const w = runCE(wasm, xd, labels, rows, cols, 1, false), j = runCE(js, xd, labels, rows, cols, 1, false);
        if (!Object.is(w.value, j.value) || firstBitDiff(w.data[1]!, j.data[1]!) >= 0) return false;
        if (!((w.value as number) >= 0)) return false;
        for (let i = 0; i < rows; i++) {
          let s = 0;
          for (let c = 0; c < cols; c++) s += w.data[1]![i * cols + c]!;
          if (Math.abs(s) > 4 * cols * U) return false;
        }
        return true;
      }), { numRuns: 200 });
  });
});

describe.each(BACKENDS)('bad input on %s throws and changes nothing', (_, be) => {
  it('shapes, labels, scalars, disposed tensors', () => {
    const k = be.kernels;
    const xd = randomF32(6, 1);
    const x = be.tensor([2, 3], xd);
    const out = be.tensor([2, 3], new Float32Array(6).fill(4));
    const v3 = be.tensor([3], [1, 2, 3]);
    const v6 = be.zeros([6]);
    const gone = be.zeros([2, 3]); gone.dispose();
    expect(() => k.add(out, x, v6)).toThrow(ShapeError);
    expect(() => k.mul(v6, x, x)).toThrow(/mul argument 1: expected shape \[2, 3\], got \[6\]/);
    expect(() => k.addRowVector(out, x, v6)).toThrow(/expected shape \[3\], got \[6\]/);
    expect(() => k.addRowVector(v3, v3, v3)).toThrow(ShapeError);
    expect(() => k.sumRows(v6, x)).toThrow(/expected shape \[3\]/);
    expect(() => k.sumRows(v3, v6)).toThrow(/2-D/);
    expect(() => k.axpy(x, x, 1)).toThrow(/y must not be x/);
    expect(() => k.scale(out, x, NaN)).toThrow(RangeError);
    expect(() => k.mseBackward(out, x, x, Infinity)).toThrow(RangeError);
    expect(() => k.mse(v6, x)).toThrow(ShapeError);
    expect(() => k.reluBackward(x, out, x)).toThrow(/out may alias g, not x/);
    expect(() => k.relu(gone, x)).toThrow(DisposedError);
    expect(() => k.sum(gone)).toThrow(DisposedError);
    expect(() => k.add(out, gone, x)).toThrow(DisposedError);
    expect(() => k.crossEntropy(x, Int32Array.of(0, 3))).toThrow(/label 1 is 3, expected a class in \[0, 2\]/);
    expect(() => k.crossEntropy(x, Int32Array.of(-1, 0))).toThrow(RangeError);
    expect(() => k.crossEntropy(x, Int32Array.of(0))).toThrow(/expected 2 labels/);
    expect(() => k.crossEntropy(x, [0, 1] as never)).toThrow(/Int32Array, got an array/);
    expect(() => k.crossEntropy(x, Float32Array.of(0, 1) as never)).toThrow(TypeError);
    expect(() => k.crossEntropy(v6, Int32Array.of(0))).toThrow(/2-D/);
    expect(() => k.crossEntropy(gone, Int32Array.of(0, 1))).toThrow(DisposedError);
    expect(() => k.crossEntropyBackward(out, x, Int32Array.of(0, 5), 1)).toThrow(RangeError);
    expect(() => k.crossEntropyBackward(out, x, Int32Array.of(0, 1), NaN)).toThrow(RangeError);
    expect(() => k.crossEntropyBackward(v6, x, Int32Array.of(0, 1), 1)).toThrow(ShapeError);
    expect(() => k.crossEntropy(be.zeros([0, 3]), new Int32Array(0))).toThrow(/at least one row/);
    expect(Array.from(out.data).every((v) => v === 4)).toBe(true);
    expectBits(x.data, xd, 'x');
    expect(Array.from(v3.data)).toEqual([1, 2, 3]);
    for (const t of [x, out, v3, v6]) t.dispose();
  });

  it('zero-sized work returns early', () => {
    const k = be.kernels;
    const e = be.zeros([0]), m = be.zeros([0, 4]), b4 = be.tensor([4], [1, 2, 3, 4]);
    expect(k.sum(e)).toBe(0);
    expect(k.sumSquares(e)).toBe(0);
    k.add(e, e, e); k.relu(e, e); k.addRowVector(m, m, b4);
    const s = be.tensor([4], [9, 9, 9, 9]);
    k.sumRows(s, m);
    expect(Array.from(s.data)).toEqual([0, 0, 0, 0]);
    for (const t of [e, m, b4, s]) t.dispose();
  });
});
