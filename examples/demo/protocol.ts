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

export type ToWorker =
  | { type: 'start'; run: number; settings: TrainSettings }
  | { type: 'stop'; run: number }
  /** lr, weightDecay and l1 take effect at the next epoch of the running training. */
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
  run: number;
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

export type FromWorker =
  | { type: 'ready'; run: number; backend: BackendChoice; nTrain: number; nVal: number; architecture: string; fromFile: boolean }
  | EpochReport
  | { type: 'stopped'; run: number; reason: string }
  | { type: 'error'; run: number; message: string }
  | { type: 'weights'; bytes: Uint8Array<ArrayBuffer>; epochs: number }
  | { type: 'loaded'; dropout: number; valLoss: number; valAccuracy: number; parameters: number }
  | { type: 'load-error'; message: string };
