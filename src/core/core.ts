/**
 * @internal The narrow core interface: what the layers below the Backend facade (autograd's
 * ops, the gradient routing, backward) use of a backend. The Backend (src/backend.ts) is its
 * one implementation; typing the lower files against this instead of the Backend class keeps
 * the import graph one-way (test/structure.test.ts fails on a cycle).
 */
import type { Rng, Tensor, TensorOwner } from './tensor.js';
import type { Kernels } from './checked-kernels.js';
import type { StepMemory } from './step-memory.js';
import type { TrustedKernels } from '../backend/trusted.js';

/** @internal See the file comment. */
export interface Core extends TensorOwner {
  /** The checked kernels (`be.kernels`). */
  readonly kernels: Kernels;
  /** The trusted path: the same kernels without checks (src/backend/trusted.ts). */
  readonly _trusted: TrustedKernels;
  /** Op results and spare buffers (src/core/step-memory.ts). */
  readonly _steps: StepMemory;
  /** A new zero tensor of a checked shape, the caller's to dispose. */
  _make(shape: readonly number[], size: number): Tensor;
  /** Called before an op draws from `rng` (see Backend._keepRngsOnFailure). */
  _noteRng(rng: Rng): void;
  /** False inside Backend.noGrad(): op results record no graph. */
  readonly _gradEnabled: boolean;
}
