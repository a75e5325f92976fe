/**
 * Full training steps — zeroGrad, forward, loss, backward, optimizer step — of two MLPs
 * (Linear, ReLU, Dropout 0.2, Linear; softmax cross-entropy; batch 64): 64-128-10 and
 * 784-256-10. Cases: regula wasm on 1 thread and on every core (AdamW), regula js (AdamW),
 * tfjs-backend-wasm's tf.layers `model.trainOnBatch` with Adam (tfjs has no AdamW; the
 * decay's cost is one multiply per weight, well under 1% of a step) and the same tfjs step
 * written with ops and `optimizer.minimize`; and, when `python3 -c 'import torch'` works
 * (Debian: python3-torch), PyTorch on 1 and 2 threads, driven in this run through
 * bench/torch_train.py (one subprocess per thread count, timing in the subprocess is not
 * used: the harness times the request, which runs `STEPS` steps, so every case of a group
 * does the same work per call and the pipe's round trip is shared by those steps).
 * Unit: steps. Plus a matmul 512x512x512 group: wasm 1 thread vs every core.
 *
 * Checks before timing: wasm (1 thread and all threads) and js give the same bits (losses
 * and weights after 3 steps), and every case lowers the loss on its fixed batch over 30
 * steps; the threaded matmul equals the single-thread one bit for bit.
 *
 * A portable suite: the demo's benchmark page runs its regula cases (tfjs and PyTorch are
 * peers that bench/host.ts gives in Node only).
 */
import { nn, optim, type Backend } from '../src/index.js';
import { firstBitDiff, randomF32 } from '../test/random.js';
import { loadBackends, threadsLabel, type Backends } from './backends.js';
import type { Case, Group, Suite } from './harness.js';
import { host, torchServers } from './host.js';
import { lowers, sameBits, type Trainer } from './trainer.js';

const BATCH = 64, P = 0.2;
const MODELS = [
  { IN: 64, HIDDEN: 128, OUT: 10, STEPS: 10 },
  { IN: 784, HIDDEN: 256, OUT: 10, STEPS: 2 },
] as const;
type Model = (typeof MODELS)[number];

const xOf = (m: Model) => randomF32(BATCH * m.IN, 101, 1);
const labelsOf = (m: Model) => Int32Array.from({ length: BATCH }, (_, i) => (i * 7 + 3) % m.OUT);

function regula(be: Backend, md: Model): Trainer {
  const fc1 = new nn.Linear(be, md.IN, md.HIDDEN, { seed: 1 }), fc2 = new nn.Linear(be, md.HIDDEN, md.OUT, { seed: 2 });
  const model = new nn.Sequential(fc1, new nn.ReLU(), new nn.Dropout(P, { seed: 3 }), fc2);
  const opt = new optim.AdamW([
    { params: [fc1.weight, fc2.weight], weightDecay: 0.01 },
    { params: [fc1.bias!, fc2.bias!], weightDecay: 0 },
  ], { lr: 1e-3 });
  const x = be.tensor([BATCH, md.IN], xOf(md));
  const labels = labelsOf(md);
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

/** Runs `n` steps per call. */
const times = (n: number, step: () => unknown) => () => { for (let i = 0; i < n; i++) step(); };

// ---- the suite -----------------------------------------------------------------------------

/** The same MLP step in tfjs-backend-wasm, two ways (tf.layers trainOnBatch, and ops + adam.minimize), when the host has tfjs. */
async function tfjsCases(md: Model): Promise<{ cases: Case[]; dispose: () => void } | null> {
  const { tfjs, tfjsLayers } = host();
  if (tfjs === undefined || tfjsLayers === undefined) return null;
  const tf = await tfjs(), tfl = await tfjsLayers();
  const { IN, HIDDEN, OUT, STEPS } = md;
  const xData = xOf(md), labels = labelsOf(md);
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
  const r1 = 1 / Math.sqrt(IN), r2 = 1 / Math.sqrt(HIDDEN);
  const v = [tf.variable(tf.randomUniform([IN, HIDDEN], -r1, r1, 'float32', 1)), tf.variable(tf.zeros([HIDDEN])),
    tf.variable(tf.randomUniform([HIDDEN, OUT], -r2, r2, 'float32', 2)), tf.variable(tf.zeros([OUT]))] as const;
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
  return {
    cases: [
      { name: 'tfjs-wasm layers trainOnBatch (Adam)', fn: async () => { for (let i = 0; i < STEPS; i++) await tfStep(); }, check: () => lowers(tfStep, 'tfjs trainOnBatch', 0.9) },
      { name: 'tfjs-wasm ops + adam.minimize', fn: times(STEPS, tfOpsStep), check: () => lowers(tfOpsStep, 'tfjs ops + minimize', 0.9) },
    ],
    dispose: () => { tx.dispose(); ty.dispose(); tfModel.dispose(); oneHot.dispose(); tfOpt.dispose(); for (const t of v) t.dispose(); },
  };
}

const suite: Suite = {
  name: 'train',
  async groups(given?: Backends): Promise<Group[]> {
    const { wasm1, wasmN, js } = given ?? await loadBackends();
    const nLabel = wasmN === null ? '' : threadsLabel(wasmN.info().threads);
    const specs = MODELS.map((m) => `${m.IN},${m.HIDDEN},${m.OUT}`);
    const torch = await torchServers('torch_train.py', specs, (m) => console.warn(m));

    const groups: Group[] = [];
    for (const [index, md] of MODELS.entries()) {
      const { IN, HIDDEN, OUT, STEPS } = md;
      const tw1 = regula(wasm1, md), twN = wasmN === null ? null : regula(wasmN, md), tj = regula(js, md);
      const tf = await tfjsCases(md);
      const cases: Case[] = [
        {
          name: 'regula wasm 1 thread (AdamW)', backend: 'wasm', threads: 1,
          fn: times(STEPS, tw1.step),
          check: async () => {
            const bes = wasmN === null ? [wasm1, js] : [wasm1, js, wasmN];
            sameBits((i) => regula(bes[i]!, md), ['wasm 1 thread', 'js', `wasm ${nLabel}`].slice(0, bes.length));
            await lowers(tw1.step, 'regula wasm', 0.9);
          },
        },
        ...(twN === null ? [] : [{ name: `regula wasm ${nLabel} (AdamW)`, backend: 'wasm' as const, threads: wasmN!.info().threads, fn: times(STEPS, twN.step), check: () => lowers(twN.step, `regula wasm ${nLabel}`, 0.9) }]),
        ...torch.map(({ t, server, peer }) => peer.case(server, 'torch_train.py', `PyTorch ${t} thread${t > 1 ? 's' : ''} (AdamW)`, index, md.STEPS, 0.9)),
        { name: 'regula js (AdamW)', backend: 'js', fn: times(STEPS, tj.step), check: () => lowers(tj.step, 'regula js', 0.9) },
        ...(tf?.cases ?? []),
      ];
      groups.push({
        title: `train step ${IN}-${HIDDEN}-${OUT} MLP, dropout ${P}, batch ${BATCH} (${STEPS} steps per call)`,
        work: STEPS, unit: 'step', baseline: 'regula wasm 1 thread (AdamW)', cases,
        teardown: () => {
          tw1.dispose(); twN?.dispose(); tj.dispose(); tf?.dispose();
          if (index === MODELS.length - 1) for (const { server } of torch) server.close();
        },
      });
    }

    // matmul 512³ on one thread and on every core: the pool's speedup on a large product.
    if (wasmN === null) return groups;
    const S = 512;
    const ad = randomF32(S * S, 11), bd = randomF32(S * S, 12);
    const mm = [wasm1, wasmN].map((be) => ({ be, a: be.tensor([S, S], ad), b: be.tensor([S, S], bd), out: be.zeros([S, S]) }));
    groups.push({
      title: `matmul ${S}x${S}x${S}, wasm threads`,
      work: 2 * S * S * S, unit: 'FLOP', baseline: 'regula wasm 1 thread',
      cases: mm.map(({ be, a, b, out }, i) => ({
        name: i === 0 ? 'regula wasm 1 thread' : `regula wasm ${nLabel}`, backend: 'wasm', threads: be.info().threads,
        fn: () => be.kernels.matmul(out, a, b),
        check: () => {
          be.kernels.matmul(out, a, b);
          if (i === 1) {
            const d = firstBitDiff(out.data, mm[0]!.out.data);
            if (d !== -1) throw new Error(`${nLabel} differ from 1 thread at element ${d}`);
          }
        },
      })),
      teardown: () => { for (const { a, b, out } of mm) { a.dispose(); b.dispose(); out.dispose(); } },
    });
    return groups;
  },
};
export default suite;
