/**
 * regula: train regularized models in a web page or a Node script, on a WebAssembly SIMD
 * core (`wasm`) or a bit-identical pure-TypeScript one (`js`).
 */
import { Backend } from './backend.js';
import { JsStorage } from './backend/js/index.js';
import { loadWasmStorage, wasmSimdSupported, type WasmSource } from './backend/wasm/index.js';
import type { WorkerSource } from './backend/wasm/threads.js';

export { Backend, Kernels } from './backend.js';
export type { BackendKind, MemoryInfo, MatmulOptions, MatmulBatchedOptions, SgdStepOptions, AdamStepOptions, BackendInfo } from './backend.js';
export { Tensor, Rng } from './tensor.js';
export * as nn from './layers.js';
export type { Module, StateDict, StateValue, LinearOptions, DropoutOptions } from './nn.js';
export type { GPT, GPTConfig, GenerateOptions, GPTOptimizerGroups, EmbeddingOptions, LayerNormOptions } from './gpt.js';
export type { AttentionDropout } from './autograd-transformer.js';
export * as safetensors from './safetensors.js';
export type { Dtype as SafetensorsDtype, LoadedTensor, SafetensorsFile, SaveOptions as SafetensorsSaveOptions, SaveSource as SafetensorsSaveSource } from './safetensors.js';
export type { AutogradMatmulOptions } from './autograd.js';
export { ShapeError, DisposedError, BackendLoadError, SafetensorsError } from './errors.js';
export { wasmSimdSupported, defaultWasmUrl, defaultWasmThreadsUrl } from './backend/wasm/index.js';
export type { WasmSource } from './backend/wasm/index.js';
export * as linear from './linear.js';
export type { FitOptions as LinearFitOptions, FitResult as LinearFitResult, PathOptions as LinearPathOptions, PathResult as LinearPathResult, Solver as LinearSolver } from './linear.js';
export * as datasets from './data/index.js';
export { loadDigits, loadDiabetes, loadNames, namesStream, trainTestSplit, takeRows } from './data/index.js';
export type { Digits, Diabetes, DigitsOptions, DiabetesOptions, Names, SplitOptions } from './data/index.js';
export { CharTokenizer, VOCAB_METADATA_KEY } from './tokenizer.js';
export * as optim from './optim.js';
export type { SGDOptions, AdamOptions, ParamGroup, ParamGroupInput, ParamsInput, ParamState, OptimizerStateDict } from './optim.js';
export { LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR, LinearLR, LinearWarmup, SequentialLR } from './schedule.js';
export * as prior from './prior.js';
export type { PriorOptions } from './prior.js';
export { fit } from './fit.js';
export type { FitModel, FitData, FitOptions, FitResult, EpochLog, EarlyStoppingOptions } from './fit.js';

export interface LoadOptions {
  /** Where to get the Wasm binary: a URL or path, its bytes, or a compiled WebAssembly.Module. */
  wasm?: WasmSource;
  /**
   * Threads per kernel call (wasm), the calling thread included: an integer ≥ 1. Default:
   * the available cores (os.availableParallelism() / navigator.hardwareConcurrency). 1 uses
   * the single-thread binary. Where SharedArrayBuffer is missing (a page that is not
   * cross-origin isolated) the backend runs on one thread and be.info().reason says why.
   * Results are the same bits for any thread count.
   */
  threads?: number;
  /** The shared-memory binary (build/regula-mt.wasm) as a URL, bytes or module; needed with `wasm` for threads. */
  wasmThreads?: WasmSource;
  /** URL of the pool's worker module, for bundlers that do not resolve the default (./worker.js beside threads.js). */
  workerUrl?: WorkerSource;
}

/**
 * Loads a backend. 'wasm': the SIMD core (rejects with BackendLoadError, saying how to fix
 * it, when it cannot load), on `threads` threads (default: every core); 'js': pure
 * TypeScript, same results; 'auto': wasm where Wasm SIMD validates, else js.
 * `be.info()` reports threads and shared memory; `be.dispose()` stops the worker threads
 * (they never keep a Node process alive).
 */
export async function loadBackend(kind: 'wasm' | 'js' | 'auto' = 'auto', options: LoadOptions = {}): Promise<Backend> {
  if (kind !== 'wasm' && kind !== 'js' && kind !== 'auto') {
    throw new TypeError(`loadBackend: expected 'wasm', 'js' or 'auto', got ${JSON.stringify(kind)}`);
  }
  if (options === null || typeof options !== 'object') throw new TypeError(`loadBackend: expected options as an object, got ${options === null ? 'null' : typeof options}`);
  if (kind === 'js' || (kind === 'auto' && !wasmSimdSupported())) return new Backend(new JsStorage());
  return new Backend(await loadWasmStorage({ wasm: options.wasm, wasmThreads: options.wasmThreads, threads: options.threads, workerUrl: options.workerUrl }));
}
