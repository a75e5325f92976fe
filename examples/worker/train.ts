/**
 * What the worker runs (worker.ts) and what the page needs to use its result (main.ts): the
 * digits data, the model, and the training function that serveTraining calls once per start.
 * In your project, import from 'regula' instead of '../../src/index.js'.
 */
import { fit, loadBackend, loadDigits, nn, optim, safetensors, takeRows, trainTestSplit, type Backend, type TrainingContext } from '../../src/index.js';

/** What the page sends with a start. */
export interface Settings {
  epochs: number;
  /** Default 'wasm'. */
  backend?: 'wasm' | 'js';
}

/** What the worker reports after each epoch. */
export interface Progress {
  epoch: number;
  loss: number;
  valAccuracy: number;
}

/** What the worker sends back when the run ends, stopped or not. */
export interface Result {
  /** The trained weights as a safetensors file (moved to the page, not copied). */
  weights: Uint8Array<ArrayBuffer>;
  /** Epochs completed. */
  epochs: number;
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
export function accuracy(be: Backend, model: nn.Sequential, x: Float32Array, y: Int32Array): number {
  model.eval();
  const xt = be.tensor([y.length, 64], x);
  try {
    const logits = model.forward(xt).data;
    let correct = 0;
    for (let i = 0; i < y.length; i++) {
      let best = 0;
      for (let j = 1; j < 10; j++) if (logits[i * 10 + j]! > logits[i * 10 + best]!) best = j;
      if (best === y[i]) correct++;
    }
    return correct / y.length;
  } finally {
    be.endStep(); // frees the forward pass's results
    xt.dispose();
    model.train();
  }
}

/** Each backend is loaded once, on first use, and kept for the next runs. */
const backends = new Map<string, Promise<Backend>>();

/** Trains until `settings.epochs` or a stop, reporting each epoch; returns the weights. */
export async function trainDigits(settings: Settings, { signal, progress }: TrainingContext<Progress>): Promise<Result> {
  const kind = settings.backend ?? 'wasm';
  if (!backends.has(kind)) backends.set(kind, loadBackend(kind));
  const be = await backends.get(kind)!;
  const data = digits();
  const model = buildModel(be);
  const optimizer = new optim.Adam(model.parameters(), { lr: 3e-3 });
  try {
    const res = await fit(model, { x: data.x, y: data.y, n: data.n, d: 64 }, {
      optimizer, loss: 'crossEntropy', epochs: settings.epochs, batchSize: 32, seed: 1,
      validationData: { x: data.xVal, y: data.yVal, n: data.nVal, d: 64 },
      signal, // a stop from the page aborts it
      onEpoch: (log) => progress({ epoch: log.epoch, loss: log.loss, valAccuracy: log.valAccuracy! }),
    });
    return {
      weights: safetensors.save(model),
      epochs: res.history.length,
      stopReason: res.stopReason,
      valAccuracy: accuracy(be, model, data.xVal, data.yVal),
    };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
