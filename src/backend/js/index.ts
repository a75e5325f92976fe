import type { Storage, StorageInfo } from '../storage.js';
import type { RawKernels } from '../raw.js';
import { matmulKernels } from './matmul.js';
import { optimKernels } from './optim.js';
import { dropoutKernels } from './dropout.js';
import { proxKernels } from './prox.js';
import { elementwiseKernels } from './elementwise.js';
import { activationKernels } from './activation.js';

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
    ...elementwiseKernels,
    ...activationKernels,
  };
  private live = 0;

  allocF32(n: number): Float32Array { this.live += 4 * n; return new Float32Array(n); }
  freeF32(_h: Float32Array, n: number): void { this.live -= 4 * n; }
  view(h: Float32Array): Float32Array { return h; }
  buffer(): null { return null; }
  allocRng(): Uint32Array { this.live += 64; return new Uint32Array(16); }
  freeRng(): void { this.live -= 64; }
  rngState(r: Uint32Array): Uint32Array { return r; }
  labels(a: Int32Array): Int32Array { return a; }
  heapBytes(): number { return this.live; }
  liveBytes(): number { return this.live; }
  info(): StorageInfo { return { threads: 1, sharedMemory: false, reason: 'the js backend runs on the calling thread', requested: 1 }; }
  dispose(): void { /* no threads to stop */ }
}
