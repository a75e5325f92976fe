/**
 * One training step of a small GPT (nanoGPT's architecture) — zeroGrad, forward, mean
 * cross-entropy over B·T tokens, backward, AdamW — at the anchor shape of issue 14: vocab
 * 65, T 64, nEmbd 64, 4 heads, 2 layers, batch 16, dropout 0.1, bias, untied lm_head;
 * AdamW lr 3e-4, weight decay 0.1 on the Linear weights (c_attn, c_proj, c_fc, mlp
 * c_proj, lm_head), 0 on the rest. Unit: steps (tokens/s = steps/s · 1024).
 *
 * nanoGPT's CPU recipe (d 128) is bench/transformer-recipe.bench.ts (`npm run bench --
 * transformer` runs both, `-- transformer-recipe` that one alone).
 *
 * Cases: regula wasm on 1 thread and on every core, regula js; tfjs-backend-wasm (one
 * thread, XNNPACK SIMD) running the same model written with tfjs ops (tfjs has no AdamW:
 * the decoupled decay is one multiply per decayed weight before tf.train.adam's update;
 * tfjs-layers 4.22 has no attention layer, so its layers API would need the same ops in a
 * custom layer plus its bookkeeping: hand-written ops with optimizer.minimize, i.e.
 * tf.variableGrads + applyGradients, is its fast way); PyTorch 1.13 on 1 and 2 threads when
 * python3 imports torch (bench/torch_gpt.py: the same model in torch, driven in this run).
 *
 * One fixed batch: token i of the B·T stream is (17i + 5⌊i/4⌋ + 3) mod 65, its target
 * (3·token + 1) mod 65. Checks before timing: wasm on 1 and all threads and js give the
 * same losses and parameters bit for bit over 3 steps; every case lowers the loss over 30
 * steps.
 */
import os from 'node:os';
import { loadBackend, nn, optim, type Backend, type Tensor } from '../src/index.js';
import type { Case, Group, Suite } from './harness.js';
import { loadTfWasm } from './tfjs.js';
import { findTorchPython, torchCase, torchServer } from './torch.js';
import { lowers, sameBits, type Trainer } from './trainer.js';

const V = 65, T = 64, C = 64, H = 4, L = 2, B = 16, P = 0.1, LR = 3e-4, WD = 0.1;
const N = B * T;
const tokens = Int32Array.from({ length: N }, (_, i) => (17 * i + 5 * (i >> 2) + 3) % V);
const targets = Int32Array.from(tokens, (t) => (3 * t + 1) % V);

function regula(be: Backend): Trainer {
  const model = new nn.GPT(be, { vocabSize: V, blockSize: T, nLayer: L, nHead: H, nEmbd: C, dropout: P, bias: true, tieWeights: false, seed: 1 });
  // Linear weights: every 2-D parameter but the two embeddings.
  const decay: Tensor[] = [], rest: Tensor[] = [];
  for (const [name, p] of model.namedParameters()) {
    (p.shape.length === 2 && !name.startsWith('transformer.wte') && !name.startsWith('transformer.wpe') ? decay : rest).push(p);
  }
  const opt = new optim.AdamW([{ params: decay, weightDecay: WD }, { params: rest, weightDecay: 0 }], { lr: LR });
  model.train();
  return {
    model,
    step() {
      opt.zeroGrad();
      const loss = be.crossEntropy(model.forward(tokens, [B, T]), targets);
      loss.backward();
      opt.step();
      return loss.item();
    },
    dispose() { be.endStep(); model.dispose(); opt.dispose(); },
  };
}

/** The same GPT in tfjs ops on tfjs-backend-wasm; step() returns the loss. */
async function tfjsGpt(): Promise<{ step: () => number; dispose: () => void }> {
  const tf = await loadTfWasm();
  // tfjs-core registers its ops' gradients only when asked; importing tfjs-layers does it.
  await import('@tensorflow/tfjs-layers');
  const hs = C / H;
  let seed = 1;
  const normal = (shape: number[], std: number) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', seed++));
  const zeros = (shape: number[]) => tf.variable(tf.zeros(shape));
  const ones = (shape: number[]) => tf.variable(tf.ones(shape));
  const projStd = 0.02 / Math.sqrt(2 * L);
  // Linear weights stored [in, out] (x·W).
  const wte = normal([V, C], 0.02), wpe = normal([T, C], 0.02);
  const blocks = Array.from({ length: L }, () => ({
    ln1g: ones([C]), ln1b: zeros([C]), attnW: normal([C, 3 * C], 0.02), attnB: zeros([3 * C]),
    projW: normal([C, C], projStd), projB: zeros([C]), ln2g: ones([C]), ln2b: zeros([C]),
    fcW: normal([C, 4 * C], 0.02), fcB: zeros([4 * C]), fc2W: normal([4 * C, C], projStd), fc2B: zeros([C]),
  }));
  const lnfg = ones([C]), lnfb = zeros([C]), head = normal([C, V], 0.02);
  const decayed = [...blocks.flatMap((b) => [b.attnW, b.projW, b.fcW, b.fc2W]), head];
  const idsOneHot = tf.cast(tf.oneHot(tf.tensor1d(tokens, 'int32'), V), 'float32');
  const oneHot = tf.oneHot(tf.tensor1d(targets, 'int32'), V);
  const mask = tf.tensor2d(Float32Array.from({ length: T * T }, (_, i) => ((i % T) <= Math.floor(i / T) ? 0 : -1e9)), [T, T]);
  const opt = tf.train.adam(LR, 0.9, 0.999, 1e-8);
  type T2 = import('@tensorflow/tfjs-core').Tensor;
  const ln = (x: T2, g: T2, b: T2) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
  };
  const heads = (x: T2) => tf.transpose(tf.reshape(x, [B, T, H, hs]), [0, 2, 1, 3]); // (B, nh, T, hs)
  const loss = () => {
    // Embedding lookup as a one-hot product: gather's gradient needs UnsortedSegmentSum,
    // which tfjs-backend-wasm does not have; the positions of every row are 0..T−1.
    let x = tf.dropout(tf.add(tf.reshape(tf.matMul(idsOneHot, wte), [B, T, C]), wpe), P) as T2;
    x = tf.reshape(x, [N, C]);
    for (const b of blocks) {
      const qkv = tf.reshape(tf.add(tf.matMul(ln(x, b.ln1g, b.ln1b), b.attnW), b.attnB), [B, T, 3 * C]);
      const [q, k, v] = tf.split(qkv, 3, 2);
      let att = tf.add(tf.mul(tf.matMul(heads(q!), heads(k!), false, true), 1 / Math.sqrt(hs)), mask);
      att = tf.dropout(tf.softmax(att), P);
      const y = tf.reshape(tf.transpose(tf.matMul(att, heads(v!)), [0, 2, 1, 3]), [N, C]);
      x = tf.add(x, tf.dropout(tf.add(tf.matMul(y, b.projW), b.projB), P));
      const f = tf.add(tf.matMul(ln(x, b.ln2g, b.ln2b), b.fcW), b.fcB);
      const g = tf.mul(tf.mul(f, 0.5), tf.add(1, tf.erf(tf.mul(f, Math.SQRT1_2))));
      x = tf.add(x, tf.dropout(tf.add(tf.matMul(g, b.fc2W), b.fc2B), P));
    }
    const logits = tf.matMul(ln(x, lnfg, lnfb), head);
    return tf.losses.softmaxCrossEntropy(oneHot, logits) as import('@tensorflow/tfjs-core').Scalar;
  };
  return {
    step() {
      tf.tidy(() => { for (const w of decayed) w.assign(tf.mul(w, 1 - LR * WD)); });
      const l = opt.minimize(loss, true)!;
      const r = l.dataSync()[0]!;
      l.dispose();
      return r;
    },
    dispose() {
      for (const t of [wte, wpe, lnfg, lnfb, head, idsOneHot, oneHot, mask, ...blocks.flatMap((b) => Object.values(b))]) t.dispose();
      opt.dispose();
    },
  };
}

const suite: Suite = {
  name: 'transformer',
  async groups(): Promise<Group[]> {
    const cores = os.availableParallelism();
    const nLabel = `${cores} thread${cores > 1 ? 's' : ''}`;
    const [wasm1, wasmN, js] = await Promise.all([loadBackend('wasm', { threads: 1 }), loadBackend('wasm', { threads: cores }), loadBackend('js')]);
    const py = findTorchPython();
    if (py === null) process.stderr.write('transformer: python3 with torch not found (Debian: apt-get install python3-torch); PyTorch cases skipped\n');
    // Model 0 of bench/torch_gpt.py is this shape (model 1: bench/transformer-recipe.bench.ts).
    const torch = py === null ? [] : await Promise.all([1, 2].map(async (t) => ({ t, server: await torchServer(py, 'torch_gpt.py', t) })));
    const tw1 = regula(wasm1), twN = regula(wasmN), tj = regula(js);
    const tfg = await tfjsGpt();
    const cases: Case[] = [
      {
        name: 'regula wasm 1 thread',
        fn: tw1.step,
        check: async () => {
          sameBits((i) => regula([wasm1, js, wasmN][i]!), ['wasm 1 thread', 'js', `wasm ${nLabel}`]);
          await lowers(tw1.step, 'regula wasm', 0.99, 5);
        },
      },
      { name: `regula wasm ${nLabel}`, fn: twN.step, check: () => lowers(twN.step, `regula wasm ${nLabel}`, 0.99, 5) },
      ...torch.map(({ t, server }) => torchCase(server, 'torch_gpt.py', `PyTorch ${t} thread${t > 1 ? 's' : ''}`, 0, 1, 0.99)),
      { name: 'tfjs-wasm ops + adam.minimize', fn: tfg.step, check: () => lowers(tfg.step, 'tfjs ops', 0.99, 5) },
      { name: 'regula js', fn: tj.step, check: () => lowers(tj.step, 'regula js', 0.99, 5) },
    ];
    return [{
      title: `GPT train step: vocab ${V}, T ${T}, nEmbd ${C}, ${H} heads, ${L} layers, batch ${B} (${N} tokens), dropout ${P}, AdamW`,
      work: 1, unit: 'step', baseline: 'regula wasm 1 thread', cases,
      teardown: () => {
        tw1.dispose(); twN.dispose(); tj.dispose(); tfg.dispose();
        for (const { server } of torch) server.close();
        wasmN.dispose();
      },
    }];
  },
};
export default suite;
