/**
 * The plain training loop leaks nothing without a tidy(): 1,500 steps of zeroGrad, forward
 * (with dropout), loss, backward, AdamW step keep be.memory() flat after warm-up, and the
 * documented lifetimes hold (loss readable until the next boundary, keep(), endStep()).
 */
import { describe, expect, it } from 'vitest';
import { DisposedError, nn, optim, type Backend } from '../src/index.js';
import { loadBoth, randomF32 } from './helpers.js';

const { wasm, js } = await loadBoth();

function setup(be: Backend) {
  const fc1 = new nn.Linear(be, 20, 32, { seed: 1 }), fc2 = new nn.Linear(be, 32, 5, { seed: 2 });
  const model = new nn.Sequential(fc1, new nn.ReLU(), new nn.Dropout(0.3, { seed: 9 }), fc2);
  const opt = new optim.AdamW([{ params: [fc1.weight, fc2.weight], weightDecay: 0.01 }, { params: [fc1.bias!, fc2.bias!], weightDecay: 0 }], { lr: 1e-3 });
  const x = be.tensor([16, 20], randomF32(16 * 20, 3));
  const labels = Int32Array.from({ length: 16 }, (_, i) => i % 5);
  return { model, opt, x, labels, dispose() { model.dispose(); opt.dispose(); x.dispose(); } };
}

describe.each([['wasm', wasm], ['js', js]] as const)('memory on %s', (_k, be) => {
  it('1,500 training steps with dropout and AdamW keep be.memory() flat after warm-up', () => {
    const s = setup(be);
    const step = () => {
      s.opt.zeroGrad();
      const loss = be.crossEntropy(s.model.forward(s.x), s.labels);
      loss.backward();
      s.opt.step();
      return loss;
    };
    for (let i = 0; i < 5; i++) step(); // warm-up: optimizer state, step pool, RNG
    const base = be.memory();
    let last = NaN;
    for (let i = 0; i < 1500; i++) {
      const loss = step();
      last = loss.item();
      if (i % 100 === 0) expect(be.memory(), `step ${i}`).toEqual(base);
    }
    expect(be.memory()).toEqual(base);
    expect(Number.isFinite(last)).toBe(true);
    be.endStep();
    s.dispose();
    be.releasePool();
    expect(be.memory().liveTensors).toBe(0);
    expect(be.memory().liveBytes).toBe(0);
  });

  it('the loss stays readable until the next boundary; intermediates are freed by backward()', () => {
    const s = setup(be);
    s.opt.zeroGrad();
    const h = s.model.forward(s.x);
    const loss = be.crossEntropy(h, s.labels);
    loss.backward();
    expect(Number.isFinite(loss.item())).toBe(true);
    expect(h.disposed).toBe(true);
    expect(() => h.data).toThrow(DisposedError);
    expect(() => h.data).toThrow(/step boundary.*keep\(\)/);
    be.endStep();
    expect(loss.disposed).toBe(true);
    expect(() => loss.item()).toThrow(DisposedError);
    s.dispose();
  });

  it('keep() holds an op result across boundaries until you dispose it', () => {
    const s = setup(be);
    const logits = s.model.forward(s.x).keep();
    const loss = be.crossEntropy(logits, s.labels);
    const before = logits.toFloat32Array();
    loss.backward();
    be.endStep();
    expect(logits.disposed).toBe(false);
    expect(Array.from(logits.data)).toEqual(Array.from(before));
    // after backward the kept tensor is a constant: no graph, no gradient
    expect(logits.requiresGrad).toBe(false);
    const n = be.memory().liveTensors;
    logits.dispose();
    expect(be.memory().liveTensors).toBe(n - 1);
    s.dispose();
  });

  it('forward-only work is freed by be.endStep(): an eval loop stays flat', () => {
    const s = setup(be);
    s.model.eval();
    be.endStep();
    const base = be.memory();
    for (let i = 0; i < 200; i++) {
      const out = s.model.forward(s.x);
      expect(out.shape).toEqual([16, 5]);
      be.endStep();
      if (i > 0) expect(be.memory()).toEqual(base);
    }
    s.dispose();
  });
});
