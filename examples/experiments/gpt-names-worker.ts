/**
 * A Node worker thread of experiment 8's parallel runner (gpt-names-experiment.ts): trains
 * one model with trainModel on a backend of its own (wasm on one thread, or js), posting
 * each validation point and, at the end, the model's row.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadBackend } from '../../src/index.js';
import { namesCorpus, trainModel } from './gpt-names.js';
import type { FromModelWorker, ModelJob } from './gpt-names-experiment.js';

const post = (m: FromModelWorker): void => parentPort!.postMessage(m);

async function main(job: ModelJob): Promise<void> {
  const be = await loadBackend(job.backend, { threads: 1 });
  try {
    const row = trainModel(be, namesCorpus(), job.reg, job.steps, (step, valLoss) => post({ type: 'eval', step, valLoss }));
    post({ type: 'done', row, liveTensors: be.memory().liveTensors });
  } finally {
    be.dispose();
  }
}

main(workerData as ModelJob).catch((e: unknown) => {
  post({ type: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) });
});
