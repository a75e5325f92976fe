import { DisposedError, ShapeError, fmtShape } from './errors.js';
import type { Backend } from './backend.js';

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
  /** @internal storage handle: a byte pointer (wasm) or a Float32Array (js). */
  _h: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** @internal */
  readonly _be: Backend;
  private _view: Float32Array | null = null;
  private _disposed = false;

  /** @internal use be.tensor(), be.zeros() or be.param(). */
  constructor(be: Backend, shape: readonly number[], size: number, handle: unknown, requiresGrad = false) {
    this._be = be;
    this.shape = shape;
    this.size = size;
    this._h = handle;
    this.requiresGrad = requiresGrad;
  }

  /** A live Float32Array over the tensor's elements (see the class note on staleness). */
  get data(): Float32Array {
    this.assertLive('data');
    const v = this._view;
    const buf = this._be._s.buffer();
    if (v !== null && (buf === null || v.buffer === buf)) return v;
    return (this._view = this._be._s.view(this._h, this.size));
  }

  /** True once dispose() has been called. */
  get disposed(): boolean {
    return this._disposed;
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

  /** Frees the tensor's memory (and its gradient's). Further use throws DisposedError. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._view = null;
    this._be._release(this);
    if (this.grad !== null) this.grad.dispose();
  }

  /** @internal throws DisposedError when disposed. */
  assertLive(what: string): void {
    if (this._disposed) throw new DisposedError(`${what}: the tensor of shape ${fmtShape(this.shape)} was disposed`);
  }
}

/** A seeded dropout RNG (16 xorshift32 lanes; layout in src/rng.ts). */
export class Rng {
  /** @internal */
  _h: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  private _disposed = false;

  /** @internal use be.rng(seed). */
  constructor(readonly _be: Backend, handle: unknown, readonly seed: number) {
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

  get disposed(): boolean { return this._disposed; }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._be._s.freeRng(this._h);
  }

  /** @internal */
  assertLive(what: string): void {
    if (this._disposed) throw new DisposedError(`${what}: the RNG (seed ${this.seed}) was disposed`);
  }
}
