/**
 * The GPT worker: trains experiment 8's transformer (examples/experiments/gpt-names.ts) on the
 * small names training set, one AdamW step at a time, and reports to the page (gpt-panel.ts).
 * Start and stop come through regula's serveTraining (the page calls trainInWorker). It
 * yields to its event loop every ~50 ms of work, which is when a stop, 'update',
 * 'attention', 'save' and a new start are read (between steps: never half-updated weights).
 */
import { safetensors, serveTraining, type nn, type TrainingContext } from '../../src/index.js';
import { GPT_SHAPE, GptTrainer, TRAINING, buildGpt, namesCorpus, sampleNames } from '../experiments/gpt-names.js';
import { attentionMaps } from './attention.js';
import type { FromGptWorker, GptProgress, GptResult, GptSettings, ToGptWorker } from './gpt-protocol.js';
import { backendCache, workerScope } from './worker-scope.js';

const { scope, post } = workerScope<ToGptWorker, FromGptWorker>();

/** Names shown per evaluation, and how often (ms) the page hears about progress. */
const SAMPLES = 10;
const REPORT_MS = 100;
const YIELD_MS = 50;

const corpus = namesCorpus();
// One core fewer than the machine has: the GPT trains for minutes on end, and with every
// core busy (this thread and the pool's) the page's own thread waits for a core to answer a
// keystroke, past 100 ms on a loaded 2-core machine. The MLP trains briefly and takes all.
const backend = backendCache({ threads: Math.max(1, (navigator.hardwareConcurrency || 1) - 1) });

/** Yields to the event loop without setTimeout's 4 ms clamp. */
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
function yieldNow(): Promise<void> {
  return new Promise((resolve) => { waiting.push(resolve); channel.port2.postMessage(null); });
}

/**
 * The running training (its number and trainer) until it has ended: a 'save' or 'attention'
 * read while it stops (a download clicked right after stop) gets the stopping model, which
 * takes no more steps, and not the one before.
 */
let live: { run: number; trainer: GptTrainer } | null = null;
/** A model's weights with their shapes, and its step. */
interface Snapshot { tensors: Record<string, { shape: number[]; data: Float32Array }>; step: number }
/** The last model trained, once its run ended. */
let shown: Snapshot | null = null;

function snapshot(gpt: nn.GPT, step: number): Snapshot {
  return { tensors: Object.fromEntries(gpt.stateEntries().map(([n, p]) => [n, { shape: [...p.shape], data: p.toFloat32Array() }])), step };
}

async function train(settings: GptSettings, { run, signal, progress }: TrainingContext<GptProgress>): Promise<GptResult> {
  const be = await backend(settings.backend);
  if (signal.aborted) return { step: 0 };
  const t = new GptTrainer(be, { name: 'demo', dropout: settings.dropout, weightDecay: settings.weightDecay }, corpus);
  live = { run, trainer: t };
  try {
    progress({ type: 'ready', backend: be.kind, nParams: t.gpt.numParams(), trainNames: corpus.trainNames.size, valNames: corpus.valNames.size, trainChars: corpus.train.length });
    const evaluate = () => {
      const samples = sampleNames(t.gpt, corpus.tokenizer, SAMPLES, t.steps);
      progress({ type: 'eval', step: t.steps, valLoss: t.valLoss(), samples, memorized: samples.map((n) => corpus.trainNames.has(n)) });
    };
    evaluate();
    let lossSum = 0, lossN = 0, stepMs = 0, lastReport = performance.now(), lastYield = lastReport;
    const report = (now: number) => {
      progress({ type: 'progress', backend: be.kind, step: t.steps, trainLoss: lossSum / lossN, tokensPerSecond: (lossN * TRAINING.batchSize * GPT_SHAPE.blockSize) / (stepMs / 1000) });
      lossSum = 0; lossN = 0; stepMs = 0; lastReport = now;
    };
    while (!signal.aborted) {
      const t0 = performance.now();
      lossSum += t.step();
      lossN++;
      const t1 = performance.now();
      stepMs += t1 - t0;
      if (t1 - lastReport >= REPORT_MS) report(t1);
      if (t.steps % TRAINING.evalEvery === 0) evaluate();
      if (performance.now() - lastYield >= YIELD_MS) {
        await yieldNow();
        lastYield = performance.now();
      }
    }
    // the steps since the last report, so that the page's step and loss are the stopped model's
    if (lossN > 0) report(performance.now());
    return { step: t.steps };
  } finally {
    shown = snapshot(t.gpt, t.steps);
    live = null;
    t.dispose();
  }
}

/** Start and stop, one after another in the order they came (a stop never overtakes its start). */
serveTraining(train);

/** The weights to show: the running model's, the last trained model's, or a fresh (untrained) model's. */
async function weightsShown(): Promise<Snapshot> {
  const t = live?.trainer;
  if (t) return snapshot(t.gpt, t.steps);
  if (shown !== null) return shown;
  const g = buildGpt(await backend('js'), corpus.tokenizer.size, 0);
  try {
    shown = snapshot(g, 0);
  } finally {
    g.dispose();
  }
  return shown;
}

async function attention(id: number, text: string): Promise<void> {
  const { tensors, step } = await weightsShown();
  const ids = corpus.tokenizer.encode('\n' + text);
  const sd = Object.fromEntries(Object.entries(tensors).map(([n, v]) => [n, v.data]));
  const { maps } = attentionMaps(sd, { ...GPT_SHAPE, vocabSize: corpus.tokenizer.size }, ids);
  post({ type: 'attention', id, step, tokens: corpus.tokenizer.decode(ids).split(''), maps: maps.map((l) => l.map((m) => Array.from(m))) });
}

/** The weights the attention map shows as a safetensors file, with what it takes to use them again. */
async function save(): Promise<void> {
  const { tensors, step } = await weightsShown();
  const bytes = safetensors.save(tensors, {
    metadata: {
      ...corpus.tokenizer.toMetadata(),
      'regula.model': 'GPT',
      'regula.config': JSON.stringify({ vocabSize: corpus.tokenizer.size, ...GPT_SHAPE }),
      'regula.steps': String(step),
      source: 'regula demo: names GPT',
    },
  });
  scope.postMessage({ type: 'weights', bytes, step }, [bytes.buffer]);
}

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'update') {
    // AdamW reads its group options at every step: the decay group changes from the next one
    if (live !== null && live.run === m.run) live.trainer.opt.paramGroups[0]!.weightDecay = m.settings.weightDecay;
  } else if (m.type === 'save') {
    save().catch((err: unknown) => {
      post({ type: 'error', message: `weights: ${err instanceof Error ? err.message : String(err)}` });
    });
  } else if (m.type === 'attention') {
    attention(m.id, m.text).catch((err: unknown) => {
      post({ type: 'error', message: `attention map: ${err instanceof Error ? err.message : String(err)}` });
    });
  }
  // the runs' own messages ('regula:…') go to serveTraining's listener
};
