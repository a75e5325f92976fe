import { DisposedError, ShapeError, fmtShape } from '../rules/errors.js';
import type { F32Handle, RngHandle } from '../backend/raw.js';
import type { AnyStorage } from '../backend/storage.js';

/**
 * @internal What a tensor or RNG needs of the backend that owns it: its storage, where a
 * disposed tensor goes, and where loss.backward() goes. The Backend implements it (backward
 * comes from autograd, above this file), so nothing here imports the Backend; the rest of
 * what the layers below the facade use is `Core` (src/core/core.ts).
 */
export interface TensorOwner {
  readonly kind: 'wasm' | 'js';
  /** the storage (handles are opaque brands above it). */
  readonly _s: AnyStorage;
  /** called by Tensor.dispose(). */
  _release(t: Tensor): void;
  /** Tensor.backward() (src/autograd/backward.ts). */
  _backwardFrom(root: Tensor): void;
}

/**
 * A float32 tensor, row-major, owned by one backend. On the wasm backend its elements live
 * in Wasm linear memory; `data` is a live view that is re-made whenever the memory has
 * grown, so it is always valid to read and write, but a view kept in a variable across
 * an allocation may go stale: read `t.data` again rather than holding on to it.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  /** When true, gradients are accumulated into `grad` (a tensor of the same shape). */
  requiresGrad: boolean;
  /** The gradient (parameters only): zeros until backward adds to it; writable. */
  grad: Tensor | null = null;
  /** @internal storage handle (a byte pointer on wasm, a Float32Array on js; opaque here). */
  _h: F32Handle;
  /** @internal the backend that made it. */
  readonly _be: TensorOwner;
  #view: Float32Array | null = null;
  #disposed = false;

  // ---- autograd and step memory (src/autograd/ops.ts); all @internal ----
  /** @internal the inputs of the op that made this tensor; null for leaves and after backward(). */
  _prev: Tensor[] | null = null;
  /** @internal adds this tensor's gradient `g` into its inputs' gradients (the op's backward). */
  _backward: ((g: Tensor) => void) | null = null;
  /** @internal the op that made this tensor, for messages. */
  _op: string | null = null;
  /** @internal this node's gradient while backward() runs (a leaf's sum, added into grad at the end). */
  _g: Tensor | null = null;
  /** @internal an op result that the library frees at the next step boundary (see keep()). */
  _managed = false;
  /** @internal the buffer comes from the backend's spare step buffers and goes back there on dispose() (src/core/step-memory.ts). */
  _spare = false;
  /** @internal set by backward() on its root: its graph is gone. */
  _graphFreed = false;
  /** @internal traversal stamp of backward(). */
  _mark = 0;
  /** @internal why the library freed this tensor, for the DisposedError message. */
  _freedBy: string | null = null;

  /** @internal use be.tensor(), be.zeros() or be.param(). */
  constructor(be: TensorOwner, shape: readonly number[], size: number, handle: F32Handle, requiresGrad = false) {
    this._be = be;
    this.shape = shape;
    this.size = size;
    this._h = handle;
    this.requiresGrad = requiresGrad;
  }

  /** A live Float32Array over the tensor's elements (see the class note on staleness). */
  get data(): Float32Array {
    this.assertLive('data');
    const v = this.#view;
    const buf = this._be._s.buffer();
    if (v !== null && (buf === null || v.buffer === buf)) return v;
    return (this.#view = this._be._s.view(this._h, this.size));
  }

  /** True once dispose() has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** The single element of a one-element tensor. */
  item(): number {
    this.assertLive('item()');
    if (this.size !== 1) throw new ShapeError(`item(): expected a tensor with one element, got shape ${fmtShape(this.shape)} (${this.size} elements)`);
    return this.data[0]!;
  }

  /** A copy of the elements as a plain Float32Array. */
  toFloat32Array(): Float32Array {
    return this.data.slice();
  }

  /**
   * Backpropagation from this one-element tensor (a loss): adds d(this)/d(p) into `p.grad`
   * of every parameter it depends on (gradients accumulate, as in torch), then frees the
   * graph's intermediates. The rules of how long op results live are in src/autograd/ops.ts.
   */
  backward(): void {
    this._be._backwardFrom(this);
  }

  /**
   * Takes this op result out of the library's step memory: it is no longer freed at step
   * boundaries (backward(), be.endStep()) and is yours to dispose(). Returns this. A no-op on
   * tensors you created (they are always yours).
   */
  keep(): this {
    this.assertLive('keep()');
    this._managed = false;
    return this;
  }

  /** Frees the tensor's memory (and its gradient's). Further use throws DisposedError. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#view = null;
    this._managed = false;
    this._prev = null;
    this._backward = null;
    this._be._release(this);
    if (this.grad !== null) this.grad.dispose();
  }

  /** @internal throws DisposedError when disposed. */
  assertLive(what: string): void {
    if (this.#disposed) {
      throw new DisposedError(`${what}: the tensor of shape ${fmtShape(this.shape)} was ${this._freedBy ?? 'disposed'}`);
    }
  }
}

/** A seeded dropout RNG (16 xorshift32 lanes; layout in src/core/rng.ts). */
export class Rng {
  /** @internal the storage handle of the 16 lane states (opaque here). */
  _h: RngHandle;
  /** @internal the backend that made it. */
  readonly _be: TensorOwner;
  #disposed = false;

  /** @internal use be.rng(seed). */
  constructor(be: TensorOwner, handle: RngHandle, readonly seed: number) {
    this._be = be;
    this._h = handle;
  }

  /** A copy of the 16 lane states. */
  state(): Uint32Array {
    this.assertLive('state()');
    return this._be._s.rngState(this._h).slice();
  }

  /** Sets the 16 lane states (to resume a stream saved with state()). */
  setState(state: Uint32Array): void {
    this.assertLive('setState()');
    if (!(state instanceof Uint32Array) || state.length !== 16 || state.some((x) => x === 0)) {
      throw new RangeError('Rng.setState: expected a Uint32Array of 16 non-zero lane states');
    }
    this._be._s.rngState(this._h).set(state);
  }

  get disposed(): boolean { return this.#disposed; }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this._be._s.freeRng(this._h);
  }

  /** @internal */
  assertLive(what: string): void {
    if (this.#disposed) throw new DisposedError(`${what}: the RNG (seed ${this.seed}) was disposed`);
  }
}
