import { AllocLimit, type Storage, type StorageInfo } from '../storage.js';
import { OutOfMemoryError } from '../../rules/errors.js';
import type { RawKernels } from '../raw.js';
import { matmulKernels } from './matmul.js';
import { optimKernels } from './optim.js';
import { dropoutKernels } from './dropout.js';
import { proxKernels } from './prox.js';
import { linearKernels } from './linear.js';
import { elementwiseKernels } from './elementwise.js';
import { activationKernels } from './activation.js';
import { layernormKernels } from './layernorm.js';
import { softmaxKernels } from './softmax.js';
import { embeddingKernels } from './embedding.js';
import { clipKernels } from './clip.js';

/** Every raw kernel on typed arrays: the compiler checks that the families below give all of them. */
type JsRaw = RawKernels<Float32Array, Uint32Array, Int32Array>;

/** The pure-TS backend: buffers are ordinary typed arrays. */
export class JsStorage implements Storage<Float32Array, Uint32Array, Int32Array> {
  readonly kind = 'js' as const;
  readonly raw: JsRaw = {
    ...matmulKernels,
    ...optimKernels,
    ...dropoutKernels,
    ...proxKernels,
    ...linearKernels,
    ...elementwiseKernels,
    ...activationKernels,
    ...layernormKernels,
    ...softmaxKernels,
    ...embeddingKernels,
    ...clipKernels,
  };
  private live = 0;
  /** @internal the allocation limit (tests use it to fail the k-th allocation). */
  readonly _limit = new AllocLimit();

  allocF32(n: number): Float32Array {
    let a: Float32Array;
    if (n > 0) this._limit.check('js', 4 * n, this.live);
    try {
      a = new Float32Array(n);
    } catch (e) {
      // counted only once the buffer exists: a failed allocation leaves be.memory() as it was
      throw new OutOfMemoryError(4 * n, null, `regula (js backend): out of memory: cannot allocate ${n} floats (${4 * n} bytes): ${(e as Error).message}`);
    }
    this.live += 4 * n;
    return a;
  }
  freeF32(_h: Float32Array, n: number): void { this.live -= 4 * n; }
  view(h: Float32Array): Float32Array { return h; }
  buffer(): null { return null; }
  allocRng(): Uint32Array { this._limit.check('js', 64, this.live); this.live += 64; return new Uint32Array(16); }
  freeRng(): void { this.live -= 64; }
  rngState(r: Uint32Array): Uint32Array { return r; }
  labels(a: Int32Array): Int32Array { return a; }
  heapBytes(): number { return this.live; }
  liveBytes(): number { return this.live; }
  info(): StorageInfo { return { threads: 1, sharedMemory: false, reason: 'the js backend runs on the calling thread', requested: 1, degraded: false }; }
  dispose(): void { /* no threads to stop */ }
}
