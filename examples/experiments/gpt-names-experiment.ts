/**
 * Experiment 8 of `npm start` (the pieces are in gpt-names.ts): the four models train at
 * the same time in Node worker threads, as many at once as the machine has cores, each on
 * one thread of its own backend. Every model's figures are the same bits as a sequential
 * run on either backend at any thread count (the backends' contract); only the timings
 * depend on how the models share the machine.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import {
  BATCH_SEED, GPT_SHAPE, INIT_SEED, MODELS, SAMPLING, STEPS, TRAINING,
  buildGpt, gptVerdict, namesCorpus, type ModelRow, type Regularization,
} from './gpt-names.js';
import type { Ctx, Experiment, Result } from './types.js';

/** What a worker (gpt-names-worker.ts) is asked to do. */
export interface ModelJob { backend: 'wasm' | 'js'; reg: Regularization; steps: number }

/** What a worker says: each validation point, then its row (and the tensors it left live), or an error. */
export type FromModelWorker =
  | { type: 'eval'; step: number; valLoss: number }
  | { type: 'done'; row: ModelRow; liveTensors: number }
  | { type: 'error'; message: string };

// The worker is TypeScript: it registers tsx's loader before importing it (a worker does
// not inherit the loader `tsx examples/main.ts` runs under, nor vitest's).
const TSX_API = import.meta.resolve('tsx/esm/api');
const WORKER_URL = new URL('./gpt-names-worker.ts', import.meta.url).href;
const BOOT = `import(${JSON.stringify(TSX_API)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL)}); })`;

/** One model in a worker: resolves with its row, rejects on the worker's error or an early exit. */
function trainInWorker(job: ModelJob, onEval: (step: number, valLoss: number) => void, started: (w: Worker) => void): Promise<ModelRow> {
  return new Promise((resolve, reject) => {
    const w = new Worker(BOOT, { eval: true, workerData: job, execArgv: [] });
    started(w);
    let settled = false;
    const settle = (f: () => void) => { if (!settled) { settled = true; f(); void w.terminate(); } };
    w.on('message', (m: FromModelWorker) => {
      if (m.type === 'eval') onEval(m.step, m.valLoss);
      else if (m.type === 'error') settle(() => reject(new Error(`experiment 8, model ${job.reg.name}: ${m.message}`)));
      else if (m.liveTensors !== 0) settle(() => reject(new Error(`experiment 8, model ${job.reg.name}: ${m.liveTensors} tensors still live at the end`)));
      else settle(() => resolve(m.row));
    });
    w.on('error', (e) => settle(() => reject(e)));
    w.on('exit', (code) => settle(() => reject(new Error(`experiment 8, model ${job.reg.name}: the worker exited (code ${code}) before its result`))));
  });
}

/**
 * Trains `models` for `steps` steps each, `concurrency` at a time (default: one per core, at
 * most one per model), each in a worker thread on `backend` (wasm: one thread per worker).
 * `onEval(i, step, valLoss)` hears model i's validation points as they come. Resolves with
 * the rows in the order of `models`; on the first failure stops every worker and rejects.
 */
export async function trainModels(backend: 'wasm' | 'js', models: Regularization[], steps: number, onEval: (i: number, step: number, valLoss: number) => void = () => {}, concurrency = availableParallelism()): Promise<ModelRow[]> {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError(`trainModels: expected concurrency as an integer ≥ 1, got ${concurrency}`);
  const rows: ModelRow[] = new Array(models.length);
  const running = new Set<Worker>();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < models.length) {
      const i = next++;
      let w: Worker | undefined;
      rows[i] = await trainInWorker({ backend, reg: models[i]!, steps }, (s, v) => onEval(i, s, v), (x) => { w = x; running.add(x); })
        .finally(() => { if (w) running.delete(w); });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, models.length) }, lane));
  } catch (e) {
    next = models.length; // the other lanes start nothing more
    await Promise.all([...running].map((w) => w.terminate()));
    throw e;
  }
  return rows;
}

export const gptNames: Experiment = {
  id: 'gpt-names',
  title: 'Dropout on the attention and MLP outputs, and AdamW on the projections, regularize a transformer',
  async run(ctx: Ctx): Promise<Result> {
    const steps = ctx.full ? STEPS.full : ctx.quick ? STEPS.quick : STEPS.short;
    const corpus = namesCorpus();
    const concurrency = Math.min(availableParallelism(), MODELS.length);
    const prog = ctx.progress('GPT on names', MODELS.length * steps, 'steps');
    const at = MODELS.map(() => ({ step: 0, valLoss: NaN }));
    const rows = await trainModels(ctx.be.kind, MODELS, steps, (i, step, valLoss) => {
      at[i] = { step, valLoss };
      const running = MODELS.flatMap((m, j) => (at[j]!.step > 0 && at[j]!.step < steps ? [`${m.name} ${at[j]!.valLoss.toFixed(3)}`] : []));
      prog.update(at.reduce((a, x) => a + x.step, 0), running.length > 0 ? `val: ${running.join(', ')}` : '');
    }, concurrency);
    prog.end();
    const v = gptVerdict(rows);
    const tokens = TRAINING.batchSize * GPT_SHAPE.blockSize;
    const shortNote = steps < STEPS.full ? ` (a shorter run than the full ${STEPS.full} steps; \`npm start -- gpt\` runs the full one)` : '';
    const nParams = (() => { const g = buildGpt(ctx.be, corpus.tokenizer.size, 0); try { return g.numParams(); } finally { g.dispose(); } })();
    return {
      id: 'gpt-names',
      title: this.title,
      claim: 'On a small corpus a two-block transformer overfits; dropout on the attention and MLP outputs and AdamW\'s decoupled weight decay on the projections keep its validation loss lower and its train/validation gap smaller.',
      tables: [{
        caption: `GPT ${GPT_SHAPE.nLayer} layers, ${GPT_SHAPE.nHead} heads, nEmbd ${GPT_SHAPE.nEmbd}, blockSize ${GPT_SHAPE.blockSize}, tied, ${nParams.toLocaleString('en-US')} parameters; ` +
          `AdamW lr ${TRAINING.lr}, betas (${TRAINING.betas.join(', ')}), decay on every matrix; ${steps} steps of ${TRAINING.batchSize} windows of ${GPT_SHAPE.blockSize + 1} tokens ` +
          `from ${corpus.trainNames.size.toLocaleString('en-US')} names (${corpus.train.length.toLocaleString('en-US')} characters)${shortNote}; ` +
          `validation: ${corpus.val.length.toLocaleString('en-US')} characters of held-out names, every ${TRAINING.evalEvery} steps; losses in nats per character`,
        head: ['regularization', 'best val', 'at step', 'final val', 'final train', 'gap', `s (${ctx.be.kind}, ${concurrency} at a time)`, 'tokens/s'],
        rows: rows.map((r) => [r.model, r.bestValLoss, r.bestStep, r.finalValLoss, r.finalTrainLoss, r.gap, r.seconds, Math.round(r.tokensPerSecond)]),
      }, {
        caption: `names each model writes (temperature ${SAMPLING.temperature}, seed ${SAMPLING.seed}; * = a name of its training set)`,
        head: ['regularization', 'samples'],
        rows: rows.map((r) => [r.model, r.samples.map((n) => (corpus.trainNames.has(n) ? `${n}*` : n)).join(', ')]),
      }],
      figures: {
        shape: GPT_SHAPE, initSeed: INIT_SEED, batchSeed: BATCH_SEED, training: TRAINING, steps, fullSteps: STEPS.full, sampling: SAMPLING,
        nParams, trainChars: corpus.train.length, valChars: corpus.val.length, tokensPerStep: tokens, rows,
      },
      verdict: {
        holds: v.holds, detail: v.detail,
        // a shortened run whose baseline has not overfit yet cannot test the claim either way
        ...(steps < STEPS.full && !v.overfits ? { untested: `the unregularized model has not overfit within ${steps} steps; \`npm start -- gpt\` runs the full ${STEPS.full}` } : {}),
      },
    };
  },
};
