/**
 * GPT files and training checkpoints, as safetensors.
 *
 * `saveGPT(gpt, { tokenizer })`: the weights (every state-dict key, PyTorch's names) with
 * the model's configuration (`regula.gpt`, JSON of gpt.config) and the tokenizer's
 * vocabulary (`tokenizer.vocab`) in the header's metadata. `loadGPT(be, bytes)` builds the
 * model back from the file alone.
 *
 * `saveCheckpoint({ gpt, tokenizer, optimizer, scheduler, step, sampler })` adds what a
 * stopped run needs to go on as if it had never stopped: the optimizer's state (its
 * moments as tensors `optimizer.<index>.<buffer>`, the groups and step counts as JSON
 * `regula.optimizer`), the schedule's (`regula.scheduler`), the iteration count
 * (`regula.step`) and the batch sampler's state (`regula.sampler`). `resumeCheckpoint(bytes,
 * { gpt, optimizer, scheduler })` loads it into fresh objects built by the same recipe
 * (the same GPT configuration, optimizer groups and schedule); fitText given the returned
 * `startStep` and `sampler` then takes the steps the uninterrupted run would have taken, bit
 * for bit. Dropout's random streams are not in the file: a model with dropout > 0 resumes
 * with its dropout masks restarted from their seeds (the recipe here has dropout 0).
 *
 * The bytes are untrusted: safetensors.load checks the format; the configuration must
 * agree with the tensors' shapes before a model is allocated (so a small file cannot ask
 * for a huge model), and every state is checked before anything changes.
 */
import { describe } from '../rules/errors.js';
import { Backend } from '../backend.js';
import { GPT, type GPTConfig } from '../nn/gpt.js';
import { Optimizer, type OptimizerStateDict } from '../optim/optimizers.js';
import type { LRScheduler, SchedulerStateDict } from '../optim/schedule.js';
import { Mulberry32 } from '../core/rng.js';
import { CharTokenizer, VOCAB_METADATA_KEY } from './tokenizer.js';
import { load, save } from './safetensors.js';
import { Tensor } from '../core/tensor.js';

/** Metadata keys of the files. */
export const GPT_METADATA_KEY = 'regula.gpt';
const OPTIMIZER_KEY = 'regula.optimizer', SCHEDULER_KEY = 'regula.scheduler', STEP_KEY = 'regula.step', SAMPLER_KEY = 'regula.sampler';
const OPTIMIZER_PREFIX = 'optimizer.';
/** The longest JSON accepted for a configuration or a schedule (they are a few hundred characters). */
const MAX_SMALL_JSON = 65_536;

function parseJson(metadata: Record<string, string>, key: string, who: string, max: number): unknown {
  const raw = metadata[key];
  if (typeof raw !== 'string') throw new TypeError(`${who}: the file has no "${key}" metadata (expected ${key === GPT_METADATA_KEY ? 'a GPT saved by saveGPT or saveCheckpoint' : 'a checkpoint saved by saveCheckpoint'})`);
  if (raw.length > max) throw new RangeError(`${who}: "${key}" is ${raw.length} characters, expected at most ${max}`);
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new TypeError(`${who}: "${key}" is not JSON (${(e as Error).message})`);
  }
}

function gptMetadata(gpt: GPT, tokenizer: CharTokenizer | undefined, who: string): Record<string, string> {
  if (!(gpt instanceof GPT)) throw new TypeError(`${who}: expected an nn.GPT, got ${describe(gpt)}`);
  if (tokenizer !== undefined) {
    if (!(tokenizer instanceof CharTokenizer)) throw new TypeError(`${who}: tokenizer: expected a CharTokenizer, got ${describe(tokenizer)}`);
    if (tokenizer.size !== gpt.config.vocabSize) throw new RangeError(`${who}: the tokenizer has ${tokenizer.size} characters, the model's vocabSize is ${gpt.config.vocabSize}`);
  }
  return { [GPT_METADATA_KEY]: JSON.stringify(gpt.config), ...(tokenizer === undefined ? {} : tokenizer.toMetadata()) };
}

/** The GPT's weights, configuration and (when given) tokenizer as a safetensors file. */
export function saveGPT(gpt: GPT, options: { tokenizer?: CharTokenizer } = {}): Uint8Array<ArrayBuffer> {
  if (options === null || typeof options !== 'object') throw new TypeError(`saveGPT: expected options { tokenizer? }, got ${describe(options)}`);
  return save(gpt, { metadata: gptMetadata(gpt, options.tokenizer, 'saveGPT') });
}

/** Shape of a loaded tensor or a message; for the configuration's checks. */
function shapeOf(tensors: Record<string, { shape: number[] }>, name: string): string {
  const t = tensors[name];
  return t === undefined ? 'missing' : `[${t.shape.join(', ')}]`;
}

/**
 * The configuration stored in the file, checked against its tensors' shapes before any
 * allocation: wte [vocabSize, nEmbd], wpe [blockSize, nEmbd], blocks 0..nLayer−1 present
 * (c_attn [3·nEmbd, nEmbd]) and no block nLayer.
 */
function fileConfig(file: { tensors: Record<string, { shape: number[] }>; metadata: Record<string, string> }, who: string): GPTConfig {
  const c = parseJson(file.metadata, GPT_METADATA_KEY, who, MAX_SMALL_JSON) as GPTConfig;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new TypeError(`${who}: "${GPT_METADATA_KEY}": expected a GPT configuration object, got ${describe(c)}`);
  const { vocabSize, blockSize, nLayer, nEmbd } = c;
  const want: [string, string][] = [
    ['transformer.wte.weight', `[${vocabSize}, ${nEmbd}]`],
    ['transformer.wpe.weight', `[${blockSize}, ${nEmbd}]`],
    [`transformer.h.${Number(nLayer) - 1}.attn.c_attn.weight`, `[${3 * Number(nEmbd)}, ${nEmbd}]`],
  ];
  for (const [name, shape] of want) {
    const got = shapeOf(file.tensors, name);
    if (got !== shape) throw new RangeError(`${who}: the configuration (${JSON.stringify(c)}) says ${name} is ${shape}, the file holds ${got}`);
  }
  if (file.tensors[`transformer.h.${nLayer}.attn.c_attn.weight`] !== undefined) throw new RangeError(`${who}: the configuration says ${nLayer} layers, the file holds more`);
  return c;
}

/** The file's model tensors (not the optimizer's). */
function modelTensors(tensors: Record<string, { shape: number[]; data: Float32Array }>): Record<string, { shape: number[]; data: Float32Array }> {
  return Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith(OPTIMIZER_PREFIX)));
}

/**
 * Builds the GPT stored by saveGPT or saveCheckpoint on `be`, from the file alone: its
 * configuration, its weights, and the tokenizer when the file has one (else null).
 */
export function loadGPT(be: Backend, bytes: Uint8Array): { gpt: GPT; tokenizer: CharTokenizer | null } {
  if (!(be instanceof Backend)) throw new TypeError(`loadGPT: expected a backend (from loadBackend), got ${describe(be)}`);
  const file = load(bytes);
  const config = fileConfig(file, 'loadGPT');
  const tokenizer = file.metadata[VOCAB_METADATA_KEY] === undefined ? null : CharTokenizer.fromMetadata(file.metadata);
  if (tokenizer !== null && tokenizer.size !== config.vocabSize) throw new RangeError(`loadGPT: the tokenizer has ${tokenizer.size} characters, the model's vocabSize is ${config.vocabSize}`);
  const gpt = new GPT(be, config);
  try {
    gpt.loadStateDict(modelTensors(file.tensors));
  } catch (e) {
    gpt.dispose();
    throw e;
  }
  return { gpt, tokenizer };
}

/** What saveCheckpoint stores. */
export interface CheckpointState {
  gpt: GPT;
  tokenizer?: CharTokenizer;
  optimizer: Optimizer<object>;
  scheduler?: LRScheduler;
  /** Iterations done (fitText's result.step). */
  step: number;
  /** The batch windows' generator (fitText's result.sampler). */
  sampler: Mulberry32;
}

/** The model, tokenizer, optimizer, schedule, step and sampler as one safetensors file. */
export function saveCheckpoint(state: CheckpointState): Uint8Array<ArrayBuffer> {
  if (state === null || typeof state !== 'object') throw new TypeError(`saveCheckpoint: expected { gpt, tokenizer?, optimizer, scheduler?, step, sampler }, got ${describe(state)}`);
  const meta = gptMetadata(state.gpt, state.tokenizer, 'saveCheckpoint');
  if (!(state.optimizer instanceof Optimizer)) throw new TypeError(`saveCheckpoint: optimizer: expected an optimizer, got ${describe(state.optimizer)}`);
  if (typeof state.step !== 'number' || !Number.isSafeInteger(state.step) || state.step < 0) throw new RangeError(`saveCheckpoint: step: expected an integer ≥ 0, got ${describe(state.step)}`);
  if (!(state.sampler instanceof Mulberry32)) throw new TypeError(`saveCheckpoint: sampler: expected a Mulberry32, got ${describe(state.sampler)}`);
  if (state.scheduler !== undefined && (state.scheduler === null || state.scheduler.optimizer !== state.optimizer)) throw new TypeError('saveCheckpoint: scheduler: expected a schedule made for the optimizer');
  const sd = state.optimizer.stateDict() as OptimizerStateDict<object>;
  const record: Record<string, Tensor | { shape: number[]; data: Float32Array }> = Object.fromEntries(state.gpt.stateEntries());
  const steps: Record<string, number> = {};
  for (const [i, s] of Object.entries(sd.state)) {
    steps[i] = s.step;
    for (const [k, v] of Object.entries(s)) if (v instanceof Float32Array) record[`${OPTIMIZER_PREFIX}${i}.${k}`] = { shape: [v.length], data: v };
  }
  meta[OPTIMIZER_KEY] = JSON.stringify({ paramGroups: sd.paramGroups, steps });
  if (state.scheduler !== undefined) meta[SCHEDULER_KEY] = JSON.stringify(state.scheduler.stateDict());
  meta[STEP_KEY] = String(state.step);
  meta[SAMPLER_KEY] = String(state.sampler.state);
  return save(record, { metadata: meta });
}

/**
 * Loads a checkpoint into fresh objects made by the same recipe: the weights into `gpt`,
 * the state into `optimizer` and `scheduler` (given exactly when the checkpoint has one).
 * Everything is checked before anything changes (a failure leaves all three as they were).
 * Returns the iteration count (fitText's startStep), the batch sampler to continue, and
 * the tokenizer (null when the file has none).
 */
export function resumeCheckpoint(bytes: Uint8Array, into: { gpt: GPT; optimizer: Optimizer<object>; scheduler?: LRScheduler }): { step: number; sampler: Mulberry32; tokenizer: CharTokenizer | null } {
  const who = 'resumeCheckpoint';
  if (into === null || typeof into !== 'object') throw new TypeError(`${who}: expected { gpt, optimizer, scheduler? }, got ${describe(into)}`);
  const { gpt, optimizer, scheduler } = into;
  if (!(gpt instanceof GPT)) throw new TypeError(`${who}: gpt: expected an nn.GPT, got ${describe(gpt)}`);
  if (!(optimizer instanceof Optimizer)) throw new TypeError(`${who}: optimizer: expected an optimizer, got ${describe(optimizer)}`);
  const file = load(bytes);
  const config = fileConfig(file, who);
  for (const k of ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd', 'bias', 'tieWeights'] as const) {
    if (config[k] !== gpt.config[k]) throw new RangeError(`${who}: the checkpoint's model has ${k} ${describe(config[k])}, this one ${describe(gpt.config[k])}`);
  }
  const tokenizer = file.metadata[VOCAB_METADATA_KEY] === undefined ? null : CharTokenizer.fromMetadata(file.metadata);
  const stepRaw = file.metadata[STEP_KEY], samplerRaw = file.metadata[SAMPLER_KEY];
  const step = Number(stepRaw), samplerState = Number(samplerRaw);
  if (typeof stepRaw !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(stepRaw) || !Number.isSafeInteger(step)) throw new RangeError(`${who}: "${STEP_KEY}": expected an iteration count, got ${describe(stepRaw)}`);
  if (typeof samplerRaw !== 'string' || !/^(0|[1-9][0-9]{0,9})$/.test(samplerRaw) || samplerState > 0xffffffff) throw new RangeError(`${who}: "${SAMPLER_KEY}": expected a uint32 state, got ${describe(samplerRaw)}`);
  const opt = parseJson(file.metadata, OPTIMIZER_KEY, who, 16 * MAX_SMALL_JSON) as { paramGroups?: unknown; steps?: unknown };
  if (opt === null || typeof opt !== 'object' || !Array.isArray(opt.paramGroups) || opt.steps === null || typeof opt.steps !== 'object') {
    throw new TypeError(`${who}: "${OPTIMIZER_KEY}": expected { paramGroups, steps }, got ${describe(opt)}`);
  }
  const state: Record<string, Record<string, unknown>> = {};
  for (const [i, s] of Object.entries(opt.steps as Record<string, unknown>)) state[i] = { step: s };
  for (const [name, t] of Object.entries(file.tensors)) {
    if (!name.startsWith(OPTIMIZER_PREFIX)) continue;
    const m = /^optimizer\.([0-9]+)\.([A-Za-z]+)$/.exec(name);
    if (m === null || state[m[1]!] === undefined) throw new RangeError(`${who}: tensor ${JSON.stringify(name)}: expected optimizer.<index>.<buffer> of a parameter with a step count`);
    state[m[1]!]![m[2]!] = t.data;
  }
  const hasSched = file.metadata[SCHEDULER_KEY] !== undefined;
  if (hasSched !== (scheduler !== undefined)) throw new TypeError(`${who}: the checkpoint ${hasSched ? 'has' : 'has no'} schedule state, and ${scheduler !== undefined ? 'a' : 'no'} scheduler was given`);
  const applySched = scheduler === undefined ? () => {} : scheduler.prepareLoad(parseJson(file.metadata, SCHEDULER_KEY, who, MAX_SMALL_JSON) as SchedulerStateDict);

  // Weights, then the optimizer (each checks all before it changes); if the optimizer
  // refuses its state, the weights go back.
  const before = gpt.stateDict();
  const saved: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(before)) saved[k] = Float32Array.from(v);
  gpt.loadStateDict(modelTensors(file.tensors));
  try {
    optimizer.loadStateDict({ state, paramGroups: opt.paramGroups } as unknown as OptimizerStateDict<object>);
  } catch (e) {
    gpt.loadStateDict(saved);
    throw e;
  }
  applySched();
  const sampler = new Mulberry32(0);
  sampler.state = samplerState;
  return { step, sampler, tokenizer };
}
