/**
 * Inference for PyTorch users (issue 24): `predict(model, x, { batchSize, output })` returns
 * plain arrays equal bit for bit to the forward written by hand (eval mode), on both
 * backends and for any batch size; it keeps no graph and frees only its own op results
 * (the caller's live on); `be.noGrad(fn)` records no graph and gives the same bits.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, ShapeError, nn, optim, predict, type Backend, type Tensor } from '../src/index.js';
import { firstBitDiff, loadBoth, randomF32 } from './helpers.js';

let bes: { wasm: Backend; js: Backend };
beforeAll(async () => { bes = await loadBoth(); });

const N = 50, D = 6, K = 4;
const X = randomF32(N * D, 41, 2);

/** Linear → LayerNorm (non-trivial weights) → GELU → Dropout → Linear: every op with a grad-mode variant. */
function model(be: Backend) {
  const ln = new nn.LayerNorm(be, 16);
  ln.weight.data.set(randomF32(16, 43, 1.5));
  ln.bias!.data.set(randomF32(16, 44, 0.5));
  return new nn.Sequential(new nn.Linear(be, D, 16, { seed: 42 }), ln, new nn.GELU(), new nn.Dropout(0.3, { seed: 5 }), new nn.Linear(be, 16, K, { seed: 45 }));
}

/** The forward by hand: eval mode, all rows at once, graph recording on (as a user writes it). */
function manual(be: Backend, m: nn.Sequential): Float32Array {
  m.eval();
  const x = be.tensor([N, D], X);
  const out = m.forward(x).toFloat32Array();
  be.endStep();
  x.dispose();
  m.train();
  return out;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe.each(['wasm', 'js'] as const)('predict on %s', (kind) => {
  const be = () => bes[kind];

  it('equals the forward by hand bit for bit, for any batch size, from a Tensor or a Float32Array; puts the mode back', () => {
    const m = model(be());
    const want = manual(be(), m);
    expect(m.training).toBe(true);
    const x = be().tensor([N, D], X);
    for (const batchSize of [1, 7, 16, 50, 256]) {
      const fromTensor = predict(m, x, { batchSize });
      const fromArray = predict(m, X, { d: D, batchSize });
      expect(fromTensor).toBeInstanceOf(Float32Array);
      expect(fromTensor.length).toBe(N * K);
      expect(firstBitDiff(fromTensor, want), `batchSize ${batchSize}`).toBe(-1);
      expect(firstBitDiff(fromArray, want), `batchSize ${batchSize}`).toBe(-1);
      expect(m.training).toBe(true);
    }
    m.eval();
    expect(firstBitDiff(predict(m, x), want)).toBe(-1);
    expect(m.training).toBe(false); // an eval-mode model stays in eval mode
    x.dispose(); m.dispose();
  });

  it("classes are the manual output's argmax; probabilities its softmax (within an ulp of exp(x − logsumexp), rows sum to 1)", () => {
    const m = model(be());
    const want = manual(be(), m);
    const classes = predict(m, X, { d: D, output: 'classes' });
    const probs = predict(m, X, { d: D, output: 'probabilities', batchSize: 9 });
    expect(classes).toBeInstanceOf(Int32Array);
    for (let i = 0; i < N; i++) {
      const row = Array.from(want.subarray(i * K, (i + 1) * K));
      expect(classes[i]).toBe(row.indexOf(Math.max(...row)));
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      let sum = 0;
      for (let j = 0; j < K; j++) {
        const p = probs[i * K + j]!, ref = Math.exp(row[j]! - lse);
        expect(Math.abs(p - ref)).toBeLessThanOrEqual(2 ** -23 * ref + Number.MIN_VALUE);
        sum += p;
      }
      expect(Math.abs(sum - 1)).toBeLessThan(K * 2 ** -24);
    }
    m.dispose();
  });

  it('keeps no graph and leaks nothing: be.memory() is the same after 200 calls as before the first', () => {
    const m = model(be());
    const x = be().tensor([N, D], X);
    predict(m, x, { batchSize: 16 }); // warm-up: the step buffers it reuses
    be().endStep();
    const base = be().memory();
    for (let i = 0; i < 200; i++) {
      predict(m, i % 2 === 0 ? x : X, { batchSize: 16, d: D, output: i % 3 === 0 ? 'classes' : 'values' });
      if (i % 50 === 0) expect(be().memory(), `call ${i}`).toEqual(base);
    }
    expect(be().memory()).toEqual(base);
    x.dispose(); m.dispose();
  });

  it('frees only its own op results: the caller\'s loss, a kept output and their graph live on, and backward gives the same gradients', () => {
    const grads = (withPredict: boolean) => {
      const m = model(be());
      const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
      const x = be().tensor([8, D], X.subarray(0, 8 * D));
      const labels = Int32Array.from({ length: 8 }, (_, i) => i % K);
      opt.zeroGrad();
      const logits = m.forward(x);
      const kept = be().relu(logits).keep();
      const loss = be().crossEntropy(logits, labels);
      const before = loss.item();
      if (withPredict) {
        const p = predict(m, X, { d: D, batchSize: 16 });
        expect(p.length).toBe(N * K);
        expect(m.training).toBe(true);
      }
      expect(logits.disposed).toBe(false);
      expect(loss.item()).toBe(before);
      loss.backward();
      const g = m.parameters().map((t) => bits(t.grad!.toFloat32Array()));
      const k = bits(kept.toFloat32Array());
      kept.dispose(); be().endStep(); x.dispose(); opt.dispose(); m.dispose();
      return { g, k, before };
    };
    expect(grads(true)).toEqual(grads(false));
  });

  it('rejects bad input with a clear error, before anything changes', () => {
    const m = model(be());
    const other = bes[kind === 'wasm' ? 'js' : 'wasm'].tensor([N, D], X);
    const x = be().tensor([N, D], X), scalar = be().tensor([], [1]);
    const noParams = new nn.Sequential(new nn.ReLU());
    // a model whose forward does not give one row per input row
    const inner = new nn.Linear(be(), D, K, { seed: 1 });
    const summing = { training: true, eval() { this.training = false; }, train(mode = true) { this.training = mode; }, forward: (t: Tensor) => be().sum(inner.forward(t)), parameters: () => inner.parameters() };
    // weights that make every output NaN
    const nan = model(be());
    nan.parameters()[0]!.data[0] = NaN;
    be().endStep();
    const mem = be().memory();
    const cases: [() => unknown, ErrorConstructor | typeof ShapeError, RegExp][] = [
      [() => predict({ forward: (t: Tensor) => t } as never, x), TypeError, /predict: expected a model with forward\(\), eval\(\), train\(\) and a training flag/],
      [() => predict(m, [1, 2, 3] as never, { d: 3 }), TypeError, /predict: x: expected a Tensor or a Float32Array of rows, got/],
      [() => predict(m, X), TypeError, /predict: x is a Float32Array of 300 values: give options.d/],
      [() => predict(m, X, { d: 7 }), ShapeError, /predict: x has 300 values, not a whole number of rows of d = 7/],
      [() => predict(m, x, { d: 5 }), ShapeError, /predict: options.d is 5, but x \[50, 6\] has 6 values per row/],
      [() => predict(m, x, { batchSize: 0 }), RangeError, /predict: options.batchSize: expected an integer ≥ 1, got 0/],
      [() => predict(m, x, { batchSize: 2.5 }), RangeError, /predict: options.batchSize: expected an integer ≥ 1, got 2.5/],
      [() => predict(m, x, { output: 'logits' } as never), TypeError, /predict: options.output: expected 'values', 'probabilities' or 'classes', got "logits"/],
      [() => predict(m, x, { batch_size: 8 } as never), TypeError, /predict: unknown option 'batch_size' \(expected one of batchSize, d, output\)/],
      [() => predict(m, other), TypeError, /predict: x belongs to another backend/],
      [() => predict(m, scalar), ShapeError, /predict: x: expected a tensor of rows \[n, \.\.\.\], got a scalar/],
      [() => predict(noParams, X, { d: D }), TypeError, /has no parameters to say its backend: pass x as a Tensor/],
      [() => predict(summing, x, { batchSize: 8 }), ShapeError, /predict: model.forward gave shape \[\] for 8 rows; expected one output row per input row \[8, \.\.\.\]/],
      // classes and probabilities need finite outputs (the values are given as they are, below)
      [() => predict(nan, x, { output: 'classes' }), RangeError, /predict: output 0 of row 0 is NaN, expected finite outputs for classes or probabilities/],
      [() => predict(nan, x, { output: 'probabilities' }), RangeError, /predict: output 0 of row 0 is NaN/],
    ];
    for (const [f, type, re] of cases) {
      expect(f).toThrow(type);
      expect(f).toThrow(re);
      expect([m.training, summing.training, nan.training]).toEqual([true, true, true]);
      expect(be().memory().liveTensors).toBe(mem.liveTensors); // nothing left behind by the failed call
    }
    expect(predict(nan, x).some(Number.isNaN)).toBe(true);
    nan.dispose(); inner.dispose(); noParams.dispose(); scalar.dispose(); x.dispose(); other.dispose(); m.dispose();
  });
});

describe.each(['wasm', 'js'] as const)('be.noGrad on %s', (kind) => {
  const be = () => bes[kind];

  it('records no graph, keeps no saved intermediates, gives the same bits, and backward() on its result throws', () => {
    const m = model(be());
    m.eval();
    const x = be().tensor([N, D], X);
    be().endStep();
    const n0 = be().memory().liveTensors;
    const withGraph = m.forward(x);
    const nGraph = be().memory().liveTensors - n0;
    const ref = withGraph.toFloat32Array();
    expect(withGraph.requiresGrad).toBe(true);
    be().endStep();
    const y = be().noGrad(() => m.forward(x));
    const nNoGrad = be().memory().liveTensors - n0;
    expect(firstBitDiff(y.toFloat32Array(), ref)).toBe(-1);
    expect(y.requiresGrad).toBe(false);
    expect(y._prev).toBe(null);
    expect(y._backward).toBe(null);
    expect(nNoGrad).toBeLessThan(nGraph); // GELU's saved derivative is not made
    const loss = be().noGrad(() => be().crossEntropy(m.forward(x), new Int32Array(N)));
    expect(loss.requiresGrad).toBe(false);
    expect(() => loss.backward()).toThrow(/backward\(\): the tensor \(from crossEntropy\) does not require grad/);
    // op results are still freed at the step boundary
    be().endStep();
    expect(() => y.data).toThrow(DisposedError);
    expect(be().memory().liveTensors).toBe(n0);
    x.dispose(); m.dispose();
  });

  it('nests, puts recording back after a throw, and refuses a promise and a non-function', async () => {
    const w = be().param([2, 2], [1, 2, 3, 4]);
    const rec = () => be().relu(w).requiresGrad;
    expect(be().noGrad(() => [rec(), be().noGrad(rec), rec()])).toEqual([false, false, false]);
    expect(rec()).toBe(true);
    expect(() => be().noGrad(() => { throw new Error('inside'); })).toThrow('inside');
    expect(rec()).toBe(true);
    expect(() => be().noGrad(async () => 1)).toThrow(/noGrad: fn returned a promise; noGrad covers synchronous code only/);
    expect(rec()).toBe(true);
    expect(() => be().noGrad(3 as never)).toThrow(/noGrad: expected a function, got 3/);
    be().endStep();
    w.dispose();
  });
});

it('wasm and js give the same bits', () => {
  const [a, b] = [bes.wasm, bes.js].map((be) => { const m = model(be); const r = predict(m, X, { d: D, batchSize: 13 }); m.dispose(); return r; });
  expect(firstBitDiff(a!, b!)).toBe(-1);
});
