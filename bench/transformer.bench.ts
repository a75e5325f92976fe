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
 * The step is bench/gpt-recipes.ts's `names` recipe (gptTrainer), the one the profile and
 * the paired scripts time too. One fixed batch: token i of the B·T stream is
 * (17i + 5⌊i/4⌋ + 3) mod 65, its target (3·token + 1) mod 65. Checks before timing: wasm on
 * 1 and all threads and js give the same losses and parameters bit for bit over 3 steps;
 * every case lowers the loss over 30 steps.
 *
 * A portable suite: the demo's benchmark page runs its regula cases (tfjs and PyTorch are
 * peers that bench/host.ts gives in Node only).
 */
import * as regulaModule from '../src/index.js';
import { loadBackends, threadsLabel, type Backends } from './backends.js';
import type { Case, Group, Suite } from './harness.js';
import { host, torchServers } from './host.js';
import { lowers, sameBits } from './trainer.js';
import { RECIPES, batchOf, gptTrainer } from './gpt-recipes.js';

const R = RECIPES.names;
const { V, T, C, H, L, B } = R, P = R.dropout, LR = R.lr, WD = R.weightDecay;
const N = B * T;
const { tokens, targets } = batchOf(R);

const regula = (be: regulaModule.Backend) => gptTrainer(regulaModule, be, R);

/** The same GPT in tfjs ops on tfjs-backend-wasm; step() returns the loss. */
async function tfjsGpt(tf: typeof import('@tensorflow/tfjs-core')): Promise<{ step: () => number; dispose: () => void }> {
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
  async groups(given?: Backends): Promise<Group[]> {
    const { wasm1, wasmN, js } = given ?? await loadBackends();
    const nLabel = wasmN === null ? '' : threadsLabel(wasmN.info().threads);
    // Model 0 of bench/torch_gpt.py is this shape (model 1: bench/transformer-recipe.bench.ts).
    const torch = await torchServers('torch_gpt.py', [], (m) => console.warn(`transformer: ${m}`));
    const tw1 = regula(wasm1), twN = wasmN === null ? null : regula(wasmN), tj = regula(js);
    const { tfjs, tfjsLayers } = host();
    // tfjs-core registers its ops' gradients only when asked; loading tfjs-layers does it.
    const tfg = tfjs === undefined || tfjsLayers === undefined ? null : (await tfjsLayers(), await tfjsGpt(await tfjs()));
    const cases: Case[] = [
      {
        name: 'regula wasm 1 thread', backend: 'wasm', threads: 1,
        fn: tw1.step,
        check: async () => {
          const bes = wasmN === null ? [wasm1, js] : [wasm1, js, wasmN];
          sameBits((i) => regula(bes[i]!), ['wasm 1 thread', 'js', `wasm ${nLabel}`].slice(0, bes.length));
          await lowers(tw1.step, 'regula wasm', 0.99, 5);
        },
      },
      ...(twN === null ? [] : [{ name: `regula wasm ${nLabel}`, backend: 'wasm' as const, threads: wasmN!.info().threads, fn: twN.step, check: () => lowers(twN.step, `regula wasm ${nLabel}`, 0.99, 5) }]),
      ...torch.map(({ t, server, peer }) => peer.case(server, 'torch_gpt.py', `PyTorch ${t} thread${t > 1 ? 's' : ''}`, 0, 1, 0.99)),
      ...(tfg === null ? [] : [{ name: 'tfjs-wasm ops + adam.minimize', fn: tfg.step, check: () => lowers(tfg.step, 'tfjs ops', 0.99, 5) }]),
      { name: 'regula js', backend: 'js', fn: tj.step, check: () => lowers(tj.step, 'regula js', 0.99, 5) },
    ];
    return [{
      title: `GPT train step: vocab ${V}, T ${T}, nEmbd ${C}, ${H} heads, ${L} layers, batch ${B} (${N} tokens), dropout ${P}, AdamW`,
      work: 1, unit: 'step', tokens: N, baseline: 'regula wasm 1 thread', cases,
      teardown: () => {
        tw1.dispose(); twN?.dispose(); tj.dispose(); tfg?.dispose();
        for (const { server } of torch) server.close();
      },
    }];
  },
};
export default suite;
