/**
 * The Backend: tensor factory, RNGs, memory accounting and the two kernel paths, written
 * once over a `Storage` (wasm or js). Its autograd ops (`be.matmul`, `be.relu`, ...) are
 * inherited from `Ops` in src/autograd/ops.ts (and `TransformerOps` in src/autograd/transformer-ops.ts); what the kernels check is in src/core/checked-kernels.ts;
 * when op results are freed is in src/core/step-memory.ts.
 */
import { ShapeError, describe, fmtShape } from './rules/errors.js';
import { Rng, Tensor } from './core/tensor.js';
import type { AnyStorage, StorageInfo } from './backend/storage.js';
import type { F32Handle } from './backend/raw.js';
import { TrustedKernels } from './backend/trusted.js';
import { Kernels } from './core/checked-kernels.js';
import { StepMemory } from './core/step-memory.js';
import type { Core } from './core/core.js';
import { TransformerOps } from './autograd/transformer-ops.js';
import { seedState } from './core/rng.js';
import { checkFunction, checkSeed, checkShape, isThenable, shapeSize } from './rules/validate.js';

export type { MatmulOptions, MatmulBatchedOptions, SgdStepOptions, AdamStepOptions } from './core/checked-kernels.js';

export type BackendKind = 'wasm' | 'js';

/** What is allocated now. */
export interface MemoryInfo {
  /** Tensors created and not yet disposed (gradients included). */
  liveTensors: number;
  /** Bytes held by live tensors and RNG states. */
  liveBytes: number;
  /** Size of the backing heap: the Wasm memory (wasm) or liveBytes (js). */
  heapBytes: number;
}

/** How a backend runs (be.info()). */
export interface BackendInfo extends StorageInfo {
  kind: BackendKind;
}

/**
 * A backend: tensor factory, checked kernels, autograd ops, RNGs and memory accounting,
 * written once over a `Storage` (wasm or js). Obtain one with `loadBackend()`.
 */
export class Backend extends TransformerOps {
  readonly kind: BackendKind;
  /** Raw kernels on tensors: in place, `out` first, no autograd; every argument checked. */
  readonly kernels: Kernels;
  /**
   * @internal The trusted path: the same kernels without checks, for internal callers that
   * checked their arguments where they entered the library (src/backend/trusted.ts).
   */
  readonly _trusted: TrustedKernels;
  /** @internal the storage (handles are opaque brands above it). */
  readonly _s: AnyStorage;
  /** @internal op results and spare buffers (src/core/step-memory.ts). */
  readonly _steps: StepMemory;
  /** @internal false inside noGrad(): op results record no graph. */
  _gradEnabled = true;
  private liveTensors = 0;
  /** Open atomic scopes (_atomicBegin): what each made so far. */
  private readonly scopes: (Tensor | Rng)[][] = [];
  /** RNG states as they were when the outermost _keepRngsOnFailure began, or null outside one. */
  private rngJournal: Map<Rng, Uint32Array> | null = null;

  /** @internal use loadBackend(). */
  constructor(storage: AnyStorage) {
    super();
    this._s = storage;
    this.kind = storage.kind;
    this._trusted = new TrustedKernels(storage);
    this._steps = new StepMemory((shape, size, h) => this._adopt(shape, size, h), storage);
    this.kernels = new Kernels(this, this._trusted);
  }

  /** @internal What the layers below the facade see of this backend (src/core/core.ts). */
  protected get _core(): Core { return this; }

  /** A float32 tensor of `shape`, with `data` copied in (zeros when omitted). */
  tensor(shape: readonly number[], data?: ArrayLike<number>): Tensor {
    const s = checkShape(shape);
    const n = shapeSize(s);
    if (data !== undefined) {
      if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
        throw new TypeError(`tensor(): expected data as an array or typed array of ${n} numbers, got ${describe(data)}`);
      }
      if (data.length !== n) {
        throw new ShapeError(`tensor(): shape ${fmtShape(s)} holds ${n} elements, but data has length ${data.length}`);
      }
      checkNumbers(data);
      return this._copyOf(s, n, data);
    }
    return this._make(s, n);
  }

  /** A zero tensor of `shape`. */
  zeros(shape: readonly number[]): Tensor {
    const s = checkShape(shape);
    return this._make(s, shapeSize(s));
  }

  /** A trainable tensor: requiresGrad, with a zero `grad` of the same shape. */
  param(shape: readonly number[], data?: ArrayLike<number>): Tensor {
    const t = this.tensor(shape, data);
    try {
      t.grad = this._make(t.shape, t.size);
    } catch (e) {
      t.dispose(); // a failed grad allocation leaves nothing behind
      throw e;
    }
    t.requiresGrad = true;
    return t;
  }

  /** A dropout RNG seeded from a 32-bit unsigned integer seed. */
  rng(seed: number): Rng {
    checkSeed(seed, 'rng()');
    const h = this._s.allocRng();
    seedState(this._s.rngState(h), seed);
    const r = new Rng(this, h, seed);
    this.scopes[this.scopes.length - 1]?.push(r);
    return r;
  }

  /**
   * @internal Begins an atomic scope (a module constructor that allocates several tensors):
   * every tensor (_make, _copyOf: parameters, grads) and RNG made until the matching
   * _atomicCommit or _atomicRollback is recorded. Use:
   *   const scope = be._atomicBegin();
   *   try { ... } catch (e) { throw be._atomicRollback(scope, e); }
   *   be._atomicCommit(scope);
   */
  _atomicBegin(): number {
    this.scopes.push([]);
    return this.scopes.length;
  }

  /** @internal Ends a scope that succeeded: what it made stays, and belongs to the enclosing scope (if any) from now on. */
  _atomicCommit(scope: number): void {
    const mine = this.closeScope(scope);
    const outer = this.scopes[this.scopes.length - 1];
    if (outer !== undefined) for (let i = 0; i < mine.length; i++) outer.push(mine[i]!);
  }

  /** @internal Ends a scope that failed: frees everything it made (newest first) and returns `error` for the caller to rethrow. */
  _atomicRollback(scope: number, error: unknown): unknown {
    const mine = this.closeScope(scope);
    for (let i = mine.length - 1; i >= 0; i--) if (!mine[i]!.disposed) mine[i]!.dispose();
    return error;
  }

  private closeScope(scope: number): (Tensor | Rng)[] {
    if (this.scopes.length !== scope) throw new Error(`regula: internal error: atomic scope ${scope} closed with ${this.scopes.length} open`);
    return this.scopes.pop()!;
  }

  /**
   * @internal Runs fn (a forward); when it throws, every RNG that drew during it (a dropout
   * mask: _noteRng) gets back the state it had before, so a failed forward (out of memory
   * partway) leaves the dropout streams where they were. Nested calls share the outermost's record.
   */
  _keepRngsOnFailure<T>(fn: () => T): T {
    if (this.rngJournal !== null) return fn();
    const journal = this.rngJournal = new Map();
    try {
      return fn();
    } catch (e) {
      for (const [r, state] of journal) if (!r.disposed) this._s.rngState(r._h).set(state);
      throw e;
    } finally {
      this.rngJournal = null;
    }
  }

  /** @internal Called before an op draws from `rng`: inside _keepRngsOnFailure, records its state the first time. */
  _noteRng(rng: Rng): void {
    const j = this.rngJournal;
    if (j !== null && !j.has(rng)) j.set(rng, this._s.rngState(rng._h).slice());
  }

  /** Threads, shared memory, and why threads are off when they are. */
  info(): BackendInfo {
    return { kind: this.kind, ...this._s.info() };
  }

  /**
   * Stops the backend's worker threads (wasm with threads); kernels keep working on the
   * calling thread. Tensors stay valid. Idempotent. Workers never keep Node alive anyway.
   */
  dispose(): void {
    this._s.dispose();
  }

  /** What is allocated now: live tensors, their bytes, and the heap size. */
  memory(): MemoryInfo {
    return { liveTensors: this.liveTensors, liveBytes: this._s.liveBytes(), heapBytes: this._s.heapBytes() };
  }

  /**
   * A step boundary: frees every op result not kept (see src/autograd/ops.ts). Call it after
   * forward-only work; backward() does it itself.
   */
  endStep(): void { this._steps.end(null); }

  /** Returns the idle step buffers to the heap (they are reused otherwise). */
  releasePool(): void { this._steps.releaseSpare(); }

  /**
   * Runs `fn` with graph recording off, as PyTorch's `torch.no_grad()`, and returns what it
   * returns. The op results made inside do not require grad and hold no graph: no backward
   * closures, no saved intermediates (softmax exps, dropout masks, GELU derivatives), so
   * forward-only work (evaluation, prediction) holds less memory, and backward() on such a
   * result throws. The values are the same bits as with recording on. It does not change
   * when op results are freed: still at the next step boundary (`be.endStep()`), unless
   * kept. Nests. Synchronous only: `fn` must not return a promise (ops after an await
   * would record again), which throws a TypeError once fn has returned it.
   */
  noGrad<T>(fn: () => T): T {
    checkFunction(fn, 'noGrad');
    const was = this._gradEnabled;
    this._gradEnabled = false;
    let r: T;
    try {
      r = fn();
    } finally {
      this._gradEnabled = was;
    }
    if (isThenable(r)) throw new TypeError('noGrad: fn returned a promise; noGrad covers synchronous code only (ops after an await would record a graph): await outside it and wrap the synchronous forward');
    return r;
  }

  /** @internal a new zero tensor of a checked shape, yours to dispose. */
  _make(shape: readonly number[], size: number): Tensor {
    return this.recorded(this._adopt(shape, size, this._s.allocF32(size)));
  }

  /** A tensor the caller owns, recorded in the open atomic scope (if any). */
  private recorded(t: Tensor): Tensor {
    this.scopes[this.scopes.length - 1]?.push(t);
    return t;
  }

  /** @internal a new tensor of a checked shape holding a copy of `data` (size values, already checked), yours to dispose. */
  _copyOf(shape: readonly number[], size: number, data: ArrayLike<number>): Tensor {
    // A view into this backend's own heap is detached if the allocation below grows it: copy first.
    if (ArrayBuffer.isView(data) && (data as unknown as Float32Array).buffer === this._s.buffer()) data = (data as unknown as Float32Array).slice();
    const t = this._adopt(shape, size, this._s.allocF32(size, false));
    if (size > 0) t.data.set(data);
    return this.recorded(t);
  }

  /** @internal wraps a buffer of `size` elements in a tensor counted live. */
  _adopt(shape: readonly number[], size: number, h: F32Handle): Tensor {
    this.liveTensors++;
    return new Tensor(this, shape, size, h, false);
  }

  /** @internal called by Tensor.dispose(). */
  _release(t: Tensor): void {
    if (t._spare) this._steps.recycle(t);
    else this._s.freeF32(t._h, t.size);
    this.liveTensors--;
  }
}

/**
 * @internal The Backend that made `t`: a tensor or RNG holds it as its TensorOwner (the
 * interface the layers below the facade see), and the layers above ask for it here.
 */
export function backendOf(t: Tensor | Rng): Backend {
  const be = t._be;
  if (be instanceof Backend) return be;
  throw new Error('regula: internal error: a tensor or RNG whose owner is not a Backend');
}

/**
 * Throws unless every element of `data` is a number (checked before anything is allocated):
 * a BigInt, string or other value would make a raw engine error or a NaN nobody put in.
 */
function checkNumbers(data: ArrayLike<number>): void {
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array || data instanceof Uint8Array ||
    data instanceof Int8Array || data instanceof Uint16Array || data instanceof Int16Array || data instanceof Uint32Array ||
    data instanceof Uint8ClampedArray) return;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as unknown;
    if (typeof v !== 'number') throw new TypeError(`tensor(): expected data of numbers, got ${typeof v} ${describe(v)} at index ${i}`);
  }
}
