/**
 * The acceptance run of the training API: 25 AdamW steps of a 6-16-3 MLP against PyTorch
 * (test/reference/mlp.json, copied from the shared reference set), on both backends, and
 * the two backends equal bit for bit over the whole run, with and without dropout.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { nn, optim, type Backend } from '../src/index.js';
import { loadBoth, firstBitDiff } from './helpers.js';

interface Ref {
  source: string; model: string;
  x: number[]; labels: number[];
  shape: { batch: number; in: number; hidden: number; out: number };
  init: Record<'W1' | 'b1' | 'W2' | 'b2', number[]>;
  losses: number[];
  final: Record<'W1' | 'b1' | 'W2' | 'b2', number[]>;
}
const ref = JSON.parse(readFileSync(new URL('./reference/mlp.json', import.meta.url), 'utf8')) as Ref;
const { batch, in: nIn, hidden, out: nOut } = ref.shape;

/** The reference stores W as [in, out] (its model is x @ W + b); nn.Linear holds [out, in]. */
function transpose(a: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

interface Run { losses: Float32Array; state: Record<string, Float32Array> }

function train(be: Backend, dropoutSeed: number | null): Run {
  const fc1 = new nn.Linear(be, nIn, hidden, { seed: 1 });
  const fc2 = new nn.Linear(be, hidden, nOut, { seed: 2 });
  const layers: nn.Module[] = [fc1, new nn.ReLU()];
  if (dropoutSeed !== null) layers.push(new nn.Dropout(0.25, { seed: dropoutSeed }));
  layers.push(fc2);
  const model = new nn.Sequential(...layers);
  const k2 = dropoutSeed !== null ? '3' : '2';
  model.loadStateDict({
    '0.weight': transpose(ref.init.W1, nIn, hidden), '0.bias': Float32Array.from(ref.init.b1),
    [`${k2}.weight`]: transpose(ref.init.W2, hidden, nOut), [`${k2}.bias`]: Float32Array.from(ref.init.b2),
  });
  const opt = new optim.AdamW([
    { params: [fc1.weight, fc2.weight], weightDecay: 0.05 },
    { params: [fc1.bias!, fc2.bias!], weightDecay: 0 },
  ], { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8 });
  const x = be.tensor([batch, nIn], ref.x);
  const labels = Int32Array.from(ref.labels);
  const losses = new Float32Array(ref.losses.length);
  model.train();
  for (let step = 0; step < losses.length; step++) {
    opt.zeroGrad();
    const loss = be.crossEntropy(model.forward(x), labels);
    losses[step] = loss.item();
    loss.backward();
    opt.step();
  }
  const sd = model.stateDict();
  const state = { W1: transpose(sd['0.weight']!, hidden, nIn), b1: sd['0.bias']!, W2: transpose(sd[`${k2}.weight`]!, nOut, hidden), b2: sd[`${k2}.bias`]! };
  be.endStep();
  model.dispose(); opt.dispose(); x.dispose();
  return { losses, state };
}

const { wasm, js } = await loadBoth();

describe('MLP reference (PyTorch AdamW, 25 steps, decay on weights only)', () => {
  it('the reference file is the shared one', () => {
    expect(ref.source).toMatch(/^torch/);
    expect(ref.model).toMatch(/AdamW lr 0.01/);
  });

  const runs = new Map<string, Run>();
  for (const be of [wasm, js]) {
    it(`${be.kind}: every loss within 1e-5 relative and final weights within 1e-4`, () => {
      const r = train(be, null);
      runs.set(be.kind, r);
      for (let i = 0; i < ref.losses.length; i++) {
        expect(Math.abs(r.losses[i]! - ref.losses[i]!) / Math.abs(ref.losses[i]!), `loss ${i}`).toBeLessThanOrEqual(1e-5);
      }
      for (const k of ['W1', 'b1', 'W2', 'b2'] as const) {
        const got = r.state[k]!, want = ref.final[k];
        expect(got.length).toBe(want.length);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        expect(worst, k).toBeLessThanOrEqual(1e-4);
      }
      // the run moved: the weights are not the initial ones
      expect(r.losses[24]!).toBeLessThan(r.losses[0]! * 0.6);
      expect(be.memory().liveTensors).toBe(0);
    });
  }

  it('wasm and js agree bit for bit over the whole run', () => {
    const a = runs.get('wasm') ?? train(wasm, null), b = runs.get('js') ?? train(js, null);
    expect(firstBitDiff(a.losses, b.losses)).toBe(-1);
    for (const k of ['W1', 'b1', 'W2', 'b2']) expect(firstBitDiff(a.state[k]!, b.state[k]!), k).toBe(-1);
  });

  it('with dropout (p 0.25, same seed) wasm and js agree bit for bit, and dropout changes the run', () => {
    const a = train(wasm, 1234), b = train(js, 1234);
    expect(firstBitDiff(a.losses, b.losses)).toBe(-1);
    for (const k of ['W1', 'b1', 'W2', 'b2']) expect(firstBitDiff(a.state[k]!, b.state[k]!), k).toBe(-1);
    const plain = runs.get('wasm') ?? train(wasm, null);
    // the masks differ from the identity from the first step on, and the run still learns
    expect(firstBitDiff(a.losses, plain.losses)).toBe(0);
    expect(a.losses[24]!).toBeLessThan(a.losses[0]! * 0.8);
  });
});
