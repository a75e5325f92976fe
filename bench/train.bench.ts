/**
 * One full training step — zeroGrad, forward, loss, backward, optimizer step — of a
 * 64-128-10 MLP (Linear, ReLU, Dropout 0.2, Linear; softmax cross-entropy), batch 64:
 * regula wasm (AdamW) vs regula js (AdamW) vs tfjs-backend-wasm's tf.layers
 * `model.trainOnBatch` with Adam (tfjs has no AdamW; the decay's cost is one multiply per
 * weight, well under 1% of a step), and for reference the same tfjs step written with ops
 * and `optimizer.minimize` (no tf.layers bookkeeping). Unit: steps.
 *
 * Checks before timing: the wasm and js steps give the same bits (losses and weights after
 * 3 steps), and every case lowers the loss on its fixed batch over 30 steps.
 */
import { loadBackend, nn, optim, type Backend, type Tensor } from '../src/index.js';
import { firstBitDiff, randomF32 } from '../test/helpers.js';
import type { Case, Group, Suite } from './harness.js';
import { loadTfWasm } from './tfjs.js';

const BATCH = 64, IN = 64, HIDDEN = 128, OUT = 10, P = 0.2;
const xData = randomF32(BATCH * IN, 101, 1);
const labels = Int32Array.from({ length: BATCH }, (_, i) => (i * 7 + 3) % OUT);

interface Trainer { step: () => number; model: nn.Sequential; dispose: () => void }

function regula(be: Backend): Trainer {
  const fc1 = new nn.Linear(be, IN, HIDDEN, { seed: 1 }), fc2 = new nn.Linear(be, HIDDEN, OUT, { seed: 2 });
  const model = new nn.Sequential(fc1, new nn.ReLU(), new nn.Dropout(P, { seed: 3 }), fc2);
  const opt = new optim.AdamW([
    { params: [fc1.weight, fc2.weight], weightDecay: 0.01 },
    { params: [fc1.bias!, fc2.bias!], weightDecay: 0 },
  ], { lr: 1e-3 });
  const x = be.tensor([BATCH, IN], xData);
  model.train();
  return {
    model,
    step() {
      opt.zeroGrad();
      const loss = be.crossEntropy(model.forward(x), labels);
      loss.backward();
      opt.step();
      return loss.item();
    },
    dispose() { be.endStep(); model.dispose(); opt.dispose(); x.dispose(); },
  };
}

function lowers(step: () => number | Promise<number>, what: string): Promise<void> {
  return (async () => {
    const first = await step();
    let last = first;
    for (let i = 0; i < 30; i++) last = await step();
    if (!(Number.isFinite(first) && last < first * 0.9)) throw new Error(`${what}: loss went from ${first} to ${last} over 30 steps on one batch`);
  })();
}

const suite: Suite = {
  name: 'train',
  async groups(): Promise<Group[]> {
    const wasm = await loadBackend('wasm'), js = await loadBackend('js');
    const tw = regula(wasm), tj = regula(js);
    const tf = await loadTfWasm();
    const tfl = await import('@tensorflow/tfjs-layers');
    const tfModel = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [IN], units: HIDDEN, activation: 'relu' }),
        tfl.layers.dropout({ rate: P }),
        tfl.layers.dense({ units: OUT, activation: 'softmax' }),
      ],
    });
    tfModel.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
    const tx = tf.tensor2d(xData, [BATCH, IN]);
    const ty = tf.tensor2d(Float32Array.from(labels), [BATCH, 1]);
    const tfStep = async () => Number(await tfModel.trainOnBatch(tx, ty));
    // The same step written with tfjs ops and optimizer.minimize (no tf.layers bookkeeping).
    const v = [tf.variable(tf.randomUniform([IN, HIDDEN], -0.125, 0.125, 'float32', 1)), tf.variable(tf.zeros([HIDDEN])),
      tf.variable(tf.randomUniform([HIDDEN, OUT], -0.088, 0.088, 'float32', 2)), tf.variable(tf.zeros([OUT]))] as const;
    const tfOpt = tf.train.adam(1e-3);
    const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), OUT);
    const tfOpsStep = () => {
      const l = tfOpt.minimize(() => {
        const h = tf.dropout(tf.relu(tf.add(tf.matMul(tx, v[0]), v[1])), P);
        return tf.losses.softmaxCrossEntropy(oneHot, tf.add(tf.matMul(h, v[2]), v[3])) as import('@tensorflow/tfjs-core').Scalar;
      }, true)!;
      const r = l.dataSync()[0]!;
      l.dispose();
      return r;
    };

    const cases: Case[] = [
      {
        name: 'regula wasm (AdamW)',
        fn: tw.step,
        check: async () => {
          const a = regula(wasm), b = regula(js);
          const la = [a.step(), a.step(), a.step()], lb = [b.step(), b.step(), b.step()];
          if (firstBitDiff(Float32Array.from(la), Float32Array.from(lb)) !== -1) throw new Error(`wasm and js losses differ: ${la} vs ${lb}`);
          const sa = a.model.stateDict(), sb = b.model.stateDict();
          for (const k of Object.keys(sa)) if (firstBitDiff(sa[k]!, sb[k]!) !== -1) throw new Error(`wasm and js differ in ${k} after 3 steps`);
          a.dispose(); b.dispose();
          await lowers(tw.step, 'regula wasm');
        },
      },
      { name: 'regula js (AdamW)', fn: tj.step, check: () => lowers(tj.step, 'regula js') },
      { name: 'tfjs-wasm layers trainOnBatch (Adam)', fn: tfStep, check: () => lowers(tfStep, 'tfjs trainOnBatch') },
      { name: 'tfjs-wasm ops + adam.minimize', fn: tfOpsStep, check: () => lowers(tfOpsStep, 'tfjs ops + minimize') },
    ];
    return [{
      title: `train step ${IN}-${HIDDEN}-${OUT} MLP, dropout ${P}, batch ${BATCH}`,
      work: 1, unit: 'step', baseline: 'tfjs-wasm layers trainOnBatch (Adam)', cases,
      teardown: () => {
        tw.dispose(); tj.dispose(); tx.dispose(); ty.dispose(); tfModel.dispose(); oneHot.dispose(); tfOpt.dispose();
        for (const t of v) t.dispose();
      },
    }];
  },
};
export default suite;
