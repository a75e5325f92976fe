/** Messages between the page (train-panel.ts) and the training worker (worker.ts). */

export type BackendChoice = 'wasm' | 'js';
export type OptimizerChoice = 'Adam' | 'AdamW';

/** What the user set in the training panel. */
export interface TrainSettings {
  backend: BackendChoice;
  optimizer: OptimizerChoice;
  lr: number;
  weightDecay: number;
  dropout: number;
  l1: number;
}

/**
 * The panel's own messages to the worker. Start and stop go by regula's trainInWorker /
 * serveTraining (src/train/worker.ts): settings TrainSettings, progress TrainProgress,
 * result TrainResult.
 */
export type ToWorker =
  /** lr, weightDecay and l1 take effect at the next epoch of the running training (`run`: trainInWorker's run number). */
  | { type: 'update'; run: number; settings: TrainSettings }
  /** The latest model's weights as a safetensors file (answered with 'weights'). */
  | { type: 'save' }
  /** A safetensors file to load: checked, evaluated, and the next start continues from it (answered with 'loaded' or 'load-error'). */
  | { type: 'load'; bytes: Uint8Array; backend: BackendChoice };

export interface Histogram {
  /** Bin edges: lo, lo + width, ..., hi (bins + 1 values). */
  lo: number;
  hi: number;
  counts: number[];
}

export interface EpochReport {
  type: 'epoch';
  backend: BackendChoice;
  epoch: number;
  loss: number;
  valLoss: number;
  accuracy: number;
  valAccuracy: number;
  stepsPerSecond: number;
  zeros: number;
  weights: number;
  histogram: Histogram;
}

/** A run's progress reports: 'ready' once the model is built, then one report per epoch. */
export type TrainProgress =
  | { type: 'ready'; backend: BackendChoice; nTrain: number; nVal: number; architecture: string; fromFile: boolean }
  | EpochReport;

/** How a run ended: fit()'s stopReason. */
export interface TrainResult { reason: string }

/** The worker's answers to the panel's own messages. */
export type FromWorker =
  | { type: 'weights'; bytes: Uint8Array<ArrayBuffer>; epochs: number }
  | { type: 'loaded'; dropout: number; valLoss: number; valAccuracy: number; parameters: number }
  | { type: 'load-error'; message: string };
