/** Messages between the page (text-panel.ts) and the text worker (text-worker.ts). */

/** The text to train on: Tiny Shakespeare (the worker fetches it) or the user's own. */
export type TextSource = { kind: 'shakespeare' } | { kind: 'own'; text: string };

/** How the page runs the recipe: its defaults are nanoGPT's; the browser tests shorten them (URL parameters, text-panel.ts). */
export interface TextRunOptions {
  /** Iterations of a whole run (the recipe: 2,000). */
  iters: number;
  /** Validation every this many iterations (the recipe: 250). */
  evalEvery: number;
  /** Validate on the first this many characters of the validation split (0: all of it, as the recipe). */
  evalChars: number;
  /** Characters written from the prompt at each evaluation. */
  sampleChars: number;
}

export type ToTextWorker =
  /** A new run from iteration 0 on `source` (the vocabulary comes from the text). */
  | { type: 'start'; run: number; source: TextSource; options: TextRunOptions; prompt: string }
  /** Continues the stopped (or loaded) run where it stopped, as if it had not. */
  | { type: 'resume'; run: number; options: TextRunOptions; prompt: string }
  | { type: 'stop'; run: number }
  /** The prompt of the next samples; when no run trains, a sample from it now (answered with 'sample'). */
  | { type: 'prompt'; prompt: string }
  /** The current run as a checkpoint file (saveCheckpoint; answered with 'checkpoint'). */
  | { type: 'save' }
  /** A checkpoint file to continue on `source` (resumeCheckpoint; answered with 'loaded' or 'load-error'). */
  | { type: 'load'; run: number; bytes: Uint8Array; source: TextSource; options: TextRunOptions; prompt: string };

export type FromTextWorker =
  /** The run's corpus is ready: its sizes and the model's. */
  | { type: 'ready'; run: number; step: number; vocabSize: number; trainChars: number; valChars: number; nParams: number; threads: number; kind: TextSource['kind']; source: string }
  /** Every ~100 ms of training: the mean batch loss since the last report, the step, tokens/s. */
  | { type: 'progress'; run: number; step: number; trainLoss: number; lr: number; tokensPerSecond: number }
  /** An evaluation: the validation loss at `step` (before that iteration's step, as train.py) and text written from the prompt. */
  | { type: 'eval'; run: number; step: number; valLoss: number; prompt: string; sample: string; dropped: string }
  /** A sample written while no run trains (a new prompt, a loaded checkpoint). */
  | { type: 'sample'; step: number; prompt: string; sample: string; dropped: string }
  | { type: 'stopped'; run: number; step: number; reason: 'stopped' | 'finished' | 'diverged' }
  | { type: 'error'; run: number; message: string }
  | { type: 'checkpoint'; bytes: Uint8Array<ArrayBuffer>; step: number }
  /** A loaded checkpoint: its step and the validation loss of its model on the source's validation text. */
  | { type: 'loaded'; run: number; step: number; valLoss: number; vocabSize: number; nParams: number; kind: TextSource['kind']; source: string }
  | { type: 'load-error'; message: string };
