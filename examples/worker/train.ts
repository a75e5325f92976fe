/**
 * What the worker runs (worker.ts) and what the page needs to use its result (main.ts): the
 * digits data, the model, and the training function that serveTraining calls once per start.
 * In your project, import from 'regula' instead of '../../src/index.js'.
 */
import { fit, loadBackend, loadDigits, nn, optim, predict, safetensors, takeRows, trainTestSplit, type Backend, type TrainingContext } from '../../src/index.js';

/** What the page sends with a start. */
export interface Settings {
  epochs: number;
  /** Default 'wasm'. */
  backend?: 'wasm' | 'js';
  /** Milliseconds between batch reports (default 50; 0: after every batch). */
  reportEvery?: number;
}

/** What the worker reports: after a batch (at most every `reportEvery` ms), and after each epoch with its validation accuracy. */
export interface Progress {
  /** Optimizer steps so far. */
  step: number;
  epoch: number;
  /** The batch's loss, or the epoch's mean loss. */
  loss: number;
  /** After an epoch: the validation accuracy; after a batch: null. */
  valAccuracy: number | null;
}

/** Batches of 32 per epoch over the 1437 training digits. */
export const BATCHES = Math.ceil(1437 / 32);

/** What the worker sends back when the run ends, stopped or not. */
export interface Result {
  /** The trained weights as a safetensors file (moved to the page, not copied). */
  weights: Uint8Array<ArrayBuffer>;
  /** Epochs completed, and optimizer steps taken (a stop can come mid-epoch). */
  epochs: number;
  steps: number;
  /** fit()'s stopReason: 'epochs', or 'aborted' after a stop. */
  stopReason: string;
  /** The returned weights' accuracy on the validation digits. */
  valAccuracy: number;
}

/** The 1797 digits, split the same way in the worker and on the page: 1437 to train on, 360 to validate on. */
export function digits(): { x: Float32Array; y: Int32Array; n: number; xVal: Float32Array; yVal: Int32Array; nVal: number } {
  const { x, y } = loadDigits({ normalize: true });
  const { train, test } = trainTestSplit(1797, { testSize: 0.2, seed: 1 });
  return {
    x: takeRows(x, 64, train), y: takeRows(y, 1, train), n: train.length,
    xVal: takeRows(x, 64, test), yVal: takeRows(y, 1, test), nVal: test.length,
  };
}

/** A 64-32-10 MLP; the same seeds give the same initial weights on either backend. */
export function buildModel(be: Backend): nn.Sequential {
  return new nn.Sequential(new nn.Linear(be, 64, 32, { seed: 1 }), new nn.ReLU(), new nn.Linear(be, 32, 10, { seed: 2 }));
}

/** The share of rows whose largest logit is at their label. */
export function accuracy(model: nn.Sequential, x: Float32Array, y: Int32Array): number {
  const classes = predict(model, x, { d: 64, output: 'classes' });
  return classes.filter((c, i) => c === y[i]).length / y.length;
}

/** Each backend is loaded once, on first use, and kept for the next runs. */
const backends = new Map<string, Promise<Backend>>();

/** Trains until `settings.epochs` or a stop, reporting as it goes; returns the weights. */
export async function trainDigits(settings: Settings, { signal, progress }: TrainingContext<Progress>): Promise<Result> {
  const kind = settings.backend ?? 'wasm';
  if (!backends.has(kind)) backends.set(kind, loadBackend(kind));
  const be = await backends.get(kind)!;
  const data = digits();
  const model = buildModel(be);
  const optimizer = new optim.Adam(model.parameters(), { lr: 3e-3 });
  const reportEvery = settings.reportEvery ?? 50;
  let reported = -Infinity;
  try {
    const res = await fit(model, { x: data.x, y: data.y, n: data.n, d: 64 }, {
      optimizer, loss: 'crossEntropy', epochs: settings.epochs, batchSize: 32, seed: 1,
      validationData: { x: data.xVal, y: data.yVal, n: data.nVal, d: 64 },
      signal, // a stop from the page aborts it at the next batch boundary
      onBatch: ({ epoch, batch, loss }) => {
        if (performance.now() - reported < reportEvery) return; // a few reports a second are plenty
        reported = performance.now();
        progress({ step: epoch * BATCHES + batch + 1, epoch, loss, valAccuracy: null });
      },
      onEpoch: (log) => progress({ step: (log.epoch + 1) * BATCHES, epoch: log.epoch, loss: log.loss, valAccuracy: log.valAccuracy }),
    });
    return {
      weights: safetensors.save(model),
      epochs: res.history.length,
      steps: res.steps,
      stopReason: res.stopReason,
      valAccuracy: accuracy(model, data.xVal, data.yVal),
    };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
