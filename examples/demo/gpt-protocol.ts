/** Messages between the page (gpt-panel.ts) and the GPT worker (gpt-worker.ts). */
import type { BackendChoice } from './protocol.js';

/** What the user set in the GPT panel. */
export interface GptSettings {
  backend: BackendChoice;
  /** Dropout on the attention probabilities and the attention and MLP outputs; a change restarts the run. */
  dropout: number;
  /** AdamW's decoupled weight decay on every matrix; applies live from the next step. */
  weightDecay: number;
}

/**
 * The panel's own messages to the worker. Start and stop go by regula's trainInWorker /
 * serveTraining (src/train/worker.ts): settings GptSettings, progress GptProgress, result GptResult.
 */
export type ToGptWorker =
  /** weightDecay takes effect at the next step of the running training (`run`: trainInWorker's run number). */
  | { type: 'update'; run: number; settings: GptSettings }
  /** The attention maps of the current model (or the untrained one) over "\n" + text. */
  | { type: 'attention'; id: number; text: string }
  /** The weights of the model the attention map shows, as a safetensors file (answered with 'weights'). */
  | { type: 'save' };

/** A run's progress reports. */
export type GptProgress =
  | { type: 'ready'; backend: BackendChoice; nParams: number; trainNames: number; valNames: number; trainChars: number }
  /** Every ~100 ms of training: the mean batch loss since the last report and the training speed. */
  | { type: 'progress'; backend: BackendChoice; step: number; trainLoss: number; tokensPerSecond: number }
  /** Every evalEvery steps (and at step 0): the validation loss, freshly sampled names, and which of them are training names. */
  | { type: 'eval'; step: number; valLoss: number; samples: string[]; memorized: boolean[] };

/** How a run ended: the steps it took. */
export interface GptResult { step: number }

/** The worker's answers to the panel's own messages. */
export type FromGptWorker =
  /** An 'attention' or 'save' request failed. */
  | { type: 'error'; message: string }
  /** tokens: the characters of "\n" + text; maps[layer][head]: T×T row-major, 0 above the diagonal. */
  | { type: 'attention'; id: number; step: number; tokens: string[]; maps: number[][][] }
  /** safetensors bytes: every state-dict tensor with its shape; the vocabulary, the config and the step in the metadata. */
  | { type: 'weights'; bytes: Uint8Array<ArrayBuffer>; step: number };
