/**
 * The page: starts a run in the worker, shows its progress, stops it on request, and uses
 * the trained weights it sends back to predict here. In your project, import from 'regula'.
 */
import { loadBackend, safetensors, trainInWorker, type TrainingRun } from '../../src/index.js';
import { BATCHES, accuracy, buildModel, digits, type Progress, type Result, type Settings } from './train.js';

/** Enough epochs to have time to press stop: an epoch takes a few milliseconds. */
const EPOCHS = 500;
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const trainButton = $<HTMLButtonElement>('train'), stopButton = $<HTMLButtonElement>('stop');
const bar = $<HTMLProgressElement>('bar'), status = $('status'), result = $('result');

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
worker.onerror = (e) => { status.textContent = `the worker failed: ${e.message}`; };
let run: TrainingRun<Result> | null = null;

function show(p: Progress): void {
  bar.value = p.step;
  $('epoch').textContent = String(p.epoch + 1);
  $('loss').textContent = p.loss.toFixed(4);
  if (p.valAccuracy !== null) $('val').textContent = p.valAccuracy.toFixed(3);
}

/** The worker's result is a model: its weights, loaded here (on the js backend), predict the validation digits. */
async function predictHere(weights: Uint8Array): Promise<number> {
  const be = await loadBackend('js');
  const model = buildModel(be).loadStateDict(safetensors.load(weights).tensors);
  try {
    const { xVal, yVal } = digits();
    return accuracy(model, xVal, yVal);
  } finally {
    model.dispose();
    be.dispose();
  }
}

trainButton.onclick = async () => {
  trainButton.disabled = true;
  stopButton.disabled = false;
  bar.max = EPOCHS * BATCHES;
  bar.value = 0;
  result.textContent = '';
  status.textContent = 'training…';
  run = trainInWorker<Settings, Progress, Result>(worker, { epochs: EPOCHS }, { onProgress: show });
  try {
    const { value, stopped } = await run.result;
    status.textContent = `${stopped ? 'stopped' : 'done'} after ${value.epochs} epochs (${value.steps} steps)`;
    const here = await predictHere(value.weights);
    result.textContent = `The returned weights (${value.weights.length} bytes) predict ${(here * 100).toFixed(1)}% of the validation digits on this page; the worker measured ${(value.valAccuracy * 100).toFixed(1)}%.`;
    result.dataset['accuracy'] = String(here);
    result.dataset['workerAccuracy'] = String(value.valAccuracy);
  } catch (e) {
    status.textContent = `error: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    run = null;
    trainButton.disabled = false;
    stopButton.disabled = true;
  }
};

stopButton.onclick = () => {
  stopButton.disabled = true;
  status.textContent = 'stopping…';
  run?.stop(); // fit() ends at its next batch boundary; the result follows
};
trainButton.disabled = false; // ready
