/**
 * regula: train regularized models in a web page or a Node script, on a WebAssembly SIMD
 * core (`wasm`) or a bit-identical pure-TypeScript one (`js`).
 */
import { Backend } from './backend.js';
import { erase } from './backend/storage.js';
import { JsStorage } from './backend/js/index.js';
import { loadWasmStorage, wasmSimdSupported, type WasmSource } from './backend/wasm/index.js';
import type { StorageInfo } from './backend/storage.js';
import { BackendLoadError } from './rules/errors.js';
import { checkKeys } from './rules/validate.js';
import type { WorkerSource } from './backend/wasm/host.js';

export { Backend } from './backend.js';
export { Kernels } from './core/checked-kernels.js';
export type { BackendKind, MemoryInfo, MatmulOptions, MatmulBatchedOptions, SgdStepOptions, AdamStepOptions, BackendInfo } from './backend.js';
export { Tensor, Rng } from './core/tensor.js';
export * as nn from './nn/index.js';
export type { Module, StateDict, StateValue, LinearOptions, DropoutOptions, GPT, GPTConfig, GenerateOptions, GPTOptimizerGroups, EmbeddingOptions, LayerNormOptions } from './nn/index.js';
export type { AttentionDropout } from './autograd/transformer-ops.js';
export * as safetensors from './io/safetensors.js';
export type { Dtype as SafetensorsDtype, LoadedTensor, SafetensorsFile, SaveOptions as SafetensorsSaveOptions, SaveSource as SafetensorsSaveSource } from './io/safetensors.js';
export type { AutogradMatmulOptions } from './autograd/ops.js';
export { ShapeError, DisposedError, BackendLoadError, SafetensorsError, OutOfMemoryError } from './rules/errors.js';
export { wasmSimdSupported } from './backend/wasm/index.js';
export type { WasmSource } from './backend/wasm/index.js';
export type { WorkerSource } from './backend/wasm/host.js';
export * as linear from './linear/models.js';
export type { FitOptions as LinearFitOptions, FitResult as LinearFitResult, PathOptions as LinearPathOptions, PathResult as LinearPathResult, Solver as LinearSolver } from './linear/models.js';
export * as datasets from './data/index.js';
export { loadDigits, loadDiabetes, loadNames, namesStream, trainTestSplit, takeRows } from './data/index.js';
export type { Digits, Diabetes, DigitsOptions, DiabetesOptions, Names, SplitOptions } from './data/index.js';
export { CharTokenizer, VOCAB_METADATA_KEY } from './io/tokenizer.js';
export { textCorpus, getBatch, estimateLoss } from './train/text.js';
export type { TextCorpus, TextCorpusOptions } from './train/text.js';
export { Mulberry32 } from './core/rng.js';
export * as optim from './optim/optimizers.js';
export type { SGDOptions, AdamOptions, ParamGroup, ParamGroupInput, ParamsInput, ParamState, OptimizerStateDict } from './optim/optimizers.js';
export { LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR, LinearLR, LinearWarmup, SequentialLR, WarmupCosineLR } from './optim/schedule.js';
export type { StepLROptions, ExponentialLROptions, CosineAnnealingLROptions, LinearLROptions, LinearWarmupOptions, WarmupCosineLROptions, SchedulerStateDict } from './optim/schedule.js';
export type { AnyOptimizer } from './optim/schedule.js';
export * as prior from './linear/prior.js';
export type { PriorOptions } from './linear/prior.js';
export { fit } from './train/fit.js';
export { fitText } from './train/fit-text.js';
export { predict } from './train/predict.js';
export type { PredictModel, PredictOptions } from './train/predict.js';
export { saveGPT, loadGPT, saveCheckpoint, resumeCheckpoint, GPT_METADATA_KEY } from './io/checkpoint.js';
export type { CheckpointState } from './io/checkpoint.js';
export type { FitTextOptions, FitTextResult, TextData, TextStepLog, TextEvalLog } from './train/fit-text.js';
export type { FitModel, FitData, FitOptions, FitResult, EpochLog, BatchLog, EarlyStoppingOptions } from './train/fit.js';

export interface LoadOptions {
  /**
   * The single-thread Wasm binary as a URL or path, its bytes, a compiled
   * WebAssembly.Module, or an instantiation result `{ module, instance }` (as
   * `WebAssembly.instantiate(bytes)` and `@assemblyscript/loader`'s `instantiate` return;
   * regula instantiates its module on its own memory, see {@link WasmSource}). Default: the
   * binary built into the package (nothing to serve or configure). The package also exports
   * it as the file `regula/regula.wasm`.
   */
  wasm?: WasmSource;
  /**
   * Threads per kernel call (wasm), the calling thread included: an integer ≥ 1. Default:
   * the available cores (os.availableParallelism() / navigator.hardwareConcurrency). 1 uses
   * the single-thread binary. Where SharedArrayBuffer is missing (a page that is not
   * cross-origin isolated) the backend runs on one thread and be.info().reason says why.
   * Results are the same bits for any thread count.
   */
  threads?: number;
  /**
   * The shared-memory binary (file `regula/regula-mt.wasm`) as a URL, bytes, module or
   * instantiation result. Default: built in. Give it together with `wasm` to run your own files on threads.
   */
  wasmThreads?: WasmSource;
  /**
   * URL of the pool's worker module (file `regula/worker.js`). Default: the worker built
   * into the package, started from a blob: URL (Node: a data: URL); pass this where a
   * Content-Security-Policy forbids blob: workers.
   */
  workerUrl?: WorkerSource;
}

const LOAD_KEYS: Record<keyof LoadOptions, true> = { wasm: true, threads: true, wasmThreads: true, workerUrl: true };

/** The js backend loaded by 'auto' instead of wasm: be.info().reason says why. */
class FallbackJsStorage extends JsStorage {
  constructor(private readonly why: string) { super(); }
  override info(): StorageInfo { return { threads: 1, sharedMemory: false, reason: this.why, requested: 1, degraded: false }; }
}

/**
 * Loads a backend. 'wasm': the SIMD core (rejects with BackendLoadError, saying how to fix
 * it, when it cannot load), on `threads` threads (default: every core); 'js': pure
 * TypeScript, same results; 'auto': wasm when it loads, else js, with the reason in
 * `be.info().reason` (no Wasm SIMD on this host, or the BackendLoadError's message, e.g. a
 * `wasm` URL that cannot be fetched). `be.info()` reports threads and shared memory;
 * `be.dispose()` stops the worker threads (they never keep a Node process alive).
 */
export async function loadBackend(kind: 'wasm' | 'js' | 'auto' = 'auto', options: LoadOptions = {}): Promise<Backend> {
  if (kind !== 'wasm' && kind !== 'js' && kind !== 'auto') {
    throw new TypeError(`loadBackend: expected 'wasm', 'js' or 'auto', got ${JSON.stringify(kind)}`);
  }
  if (options === null || typeof options !== 'object') throw new TypeError(`loadBackend: expected options as an object, got ${options === null ? 'null' : typeof options}`);
  checkKeys(options, LOAD_KEYS, 'loadBackend');
  if (kind === 'js') return new Backend(erase(new JsStorage()));
  if (kind === 'auto' && !wasmSimdSupported()) {
    return new Backend(erase(new FallbackJsStorage("'auto' chose js: this host does not support WebAssembly SIMD")));
  }
  const o = { wasm: options.wasm, wasmThreads: options.wasmThreads, threads: options.threads, workerUrl: options.workerUrl };
  if (kind === 'wasm') return new Backend(erase(await loadWasmStorage(o)));
  try {
    return new Backend(erase(await loadWasmStorage(o)));
  } catch (e) {
    if (!(e instanceof BackendLoadError)) throw e;
    return new Backend(erase(new FallbackJsStorage(`'auto' fell back to js: ${e.message}`)));
  }
}
