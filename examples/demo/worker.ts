/**
 * The training worker: regula runs here, so the page never waits on a training step.
 * fit() yields to the event loop every 20 ms at a batch boundary (its yieldEvery); that is
 * when 'stop', 'update', 'save' and a new 'start' are read, so a stop waits 20 ms and a step
 * at most, mid-epoch. 'save' writes the weights of the last completed epoch, the one whose
 * figures the page shows, never those of a part-done epoch.
 */
import { nn, optim, fit, safetensors, type LoadedTensor } from '../../src/index.js';
import { buildMlp, digitsSplit, evaluate, makeOptimizer } from '../experiments/digits.js';
import { architectureOf } from '../torch/architecture.js';
import type { BackendChoice, FromWorker, Histogram, ToWorker, TrainSettings } from './protocol.js';
import { backendCache, workerScope } from './worker-scope.js';

const { scope, post } = workerScope<ToWorker, FromWorker>();

const HIDDEN = 256;
const BATCH = 32;
const BINS = 40;
/** The split of the digits experiment: 400 images to train on, 100 to validate on. */
const data = digitsSplit();
const backend = backendCache();

/** Histogram of all weights that are not exactly zero, over [−max|w|, max|w|]; and the exact zeros. */
function weightStats(model: nn.Sequential): { zeros: number; weights: number; histogram: Histogram } {
  const arrays = model.namedParameters().filter(([k]) => k.endsWith('weight')).map(([, p]) => p.data);
  let zeros = 0, weights = 0, m = 0;
  for (const a of arrays) {
    weights += a.length;
    for (let i = 0; i < a.length; i++) { const v = Math.abs(a[i]!); if (v === 0) zeros++; else if (v > m) m = v; }
  }
  const hi = m > 0 ? m : 1, lo = -hi, counts = new Array<number>(BINS).fill(0);
  const scale = BINS / (hi - lo);
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      if (v !== 0) counts[Math.min(BINS - 1, Math.floor((v - lo) * scale))]!++;
    }
  }
  return { zeros, weights, histogram: { lo, hi, counts } };
}

interface Run { id: number; settings: TrainSettings; abort: AbortController; done: Promise<void>; opt: optim.Adam | optim.AdamW | null }
let current: Run | null = null;
/** The weights of a model as they are now (copies), with their shapes: what safetensors.save writes. */
type Weights = Record<string, { shape: readonly number[]; data: Float32Array }>;
function weightsOf(model: nn.Sequential): Weights {
  return Object.fromEntries(model.stateEntries().map(([k, p]) => [k, { shape: p.shape, data: p.toFloat32Array() }]));
}

/** The model of the latest run, kept after it stops (for 'save'), its completed epochs and their weights. */
let latest: { model: nn.Sequential; epochs: number; weights: Weights } | null = null;
/** Weights loaded from a dropped file: the next run starts from them. */
let startFrom: Record<string, LoadedTensor> | null = null;

function keepLatest(model: nn.Sequential): void {
  if (latest !== null && latest.model !== model) latest.model.dispose();
  latest = { model, epochs: 0, weights: weightsOf(model) };
}

/** The dropout of a file's architecture ('regula.model', examples/torch/architecture.ts): it decides the layer names. */
function dropoutOf(metadata: Record<string, string>, tensors: Record<string, LoadedTensor>): number {
  try {
    const spec = JSON.parse(metadata['regula.model'] ?? '') as { layers?: { type: string; p?: number }[] };
    const d = spec.layers?.find((l) => l.type === 'Dropout');
    return d?.p ?? 0;
  } catch {
    return '3.weight' in tensors ? 0.5 : 0; // no architecture in the file: dropout layers shift the names
  }
}

/** Checks and evaluates a dropped file; the next start continues from it. */
async function load(bytes: Uint8Array, kind: BackendChoice): Promise<void> {
  try {
    const be = await backend(kind);
    const { tensors, metadata } = safetensors.load(bytes);
    const dropout = dropoutOf(metadata, tensors);
    const model = buildMlp(be, dropout);
    try {
      model.loadStateDict(tensors);
    } catch (e) {
      model.dispose();
      throw e;
    }
    const { loss, accuracy } = evaluate(be, model, data.xVal, data.yVal, data.nVal);
    model.train();
    keepLatest(model);
    startFrom = tensors;
    post({ type: 'loaded', dropout, valLoss: loss, valAccuracy: accuracy, parameters: model.parameters().reduce((s, p) => s + p.size, 0) });
  } catch (e) {
    post({ type: 'load-error', message: e instanceof Error ? e.message : String(e) });
  }
}

async function train(run: Run): Promise<void> {
  const s = run.settings;
  const be = await backend(s.backend);
  if (run.abort.signal.aborted) return;
  const model = buildMlp(be, s.dropout);
  if (startFrom !== null) {
    try {
      model.loadStateDict(startFrom);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  keepLatest(model);
  const opt = makeOptimizer(model, s);
  run.opt = opt;
  post({ type: 'ready', run: run.id, backend: be.kind, nTrain: data.nTrain, nVal: data.nVal, architecture: `64-${HIDDEN}-${HIDDEN}-10`, fromFile: startFrom !== null });
  try {
    const res = await fit(model, { x: data.xTrain, y: data.yTrain, n: data.nTrain, d: 64 }, {
      optimizer: opt, loss: 'crossEntropy', epochs: 100_000, batchSize: BATCH, seed: 5,
      validationData: { x: data.xVal, y: data.yVal, n: data.nVal, d: 64 },
      signal: run.abort.signal,
      onEpoch: (log) => {
        if (latest?.model === model) { latest.epochs = log.epoch + 1; latest.weights = weightsOf(model); }
        post({
          type: 'epoch', run: run.id, backend: be.kind, epoch: log.epoch, loss: log.loss, valLoss: log.valLoss!,
          accuracy: log.accuracy!, valAccuracy: log.valAccuracy!, stepsPerSecond: log.stepsPerSecond, ...weightStats(model),
        });
      },
    });
    post({ type: 'stopped', run: run.id, reason: res.stopReason });
  } finally {
    run.opt = null;
    opt.dispose(); // the model stays as `latest`, for 'save'
  }
}

async function start(id: number, settings: TrainSettings): Promise<void> {
  await stop();
  const run: Run = { id, settings, abort: new AbortController(), done: Promise.resolve(), opt: null };
  run.done = train(run).catch((e: unknown) => {
    post({ type: 'error', run: id, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  });
  current = run;
}

async function stop(): Promise<void> {
  const run = current;
  if (run === null) return;
  current = null;
  run.abort.abort();
  await run.done;
}

/** Messages are handled one after another, so a stop cannot overtake the start before it. */
let queue: Promise<void> = Promise.resolve();

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'start') queue = queue.then(() => start(m.run, m.settings));
  else if (m.type === 'stop') queue = queue.then(stop);
  else if (m.type === 'load') queue = queue.then(stop).then(() => load(m.bytes, m.backend));
  else if (m.type === 'save' && latest !== null) {
    // fit yields mid-epoch too: the file holds the last completed epoch's weights, as the page shows it
    const bytes = safetensors.save(latest.weights, { metadata: { 'regula.model': architectureOf(latest.model), 'regula.epochs': String(latest.epochs), source: 'regula demo: digits MLP' } });
    scope.postMessage({ type: 'weights', bytes, epochs: latest.epochs }, [bytes.buffer]);
  }
  else if (m.type === 'update' && current !== null && current.id === m.run && current.opt !== null) {
    // torch semantics: group options are read at every step, so a change applies from the next one
    const [weights, biases] = current.opt.paramGroups;
    weights!.lr = m.settings.lr; weights!.weightDecay = m.settings.weightDecay; weights!.l1 = m.settings.l1;
    biases!.lr = m.settings.lr;
    current.settings = m.settings;
  }
};
