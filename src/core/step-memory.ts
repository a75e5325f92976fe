/**
 * When an op result is freed: the step memory of one backend.
 *
 * Op results (the tensors autograd ops return) and backward's temporaries take their
 * buffers from a list of spare buffers keyed by element count, so a steady training loop
 * allocates no tensor memory after its first step. An op result is freed at the next step
 * boundary (`backward()` or `be.endStep()`) unless `keep()` took it out; a temporary is
 * disposed by the code that made it. Disposing either puts its buffer back on the spare
 * list; `be.releasePool()` returns the spare buffers to the heap. The rules as the user
 * sees them are at the top of src/autograd/ops.ts.
 */
import type { Tensor } from './tensor.js';
import type { AnyStorage } from '../backend/storage.js';
import type { F32Handle } from '../backend/raw.js';

/** A position in a step's op results (StepMemory.mark). */
export interface StepMark { readonly list: readonly Tensor[]; readonly from: number }

/** The spare buffers and the current step's op results of one backend. */
export class StepMemory {
  /** Idle buffers by element count. */
  private readonly spare = new Map<number, F32Handle[]>();
  /** Op results of the current step (some may be kept or disposed since). */
  private results: Tensor[] = [];

  /** `adopt` wraps a buffer in a tensor counted live (the Backend's _adopt). */
  constructor(private readonly adopt: (shape: readonly number[], size: number, h: F32Handle) => Tensor, private readonly s: AnyStorage) {}

  /** A temporary from the spare buffers (uninitialised contents): dispose it when done. */
  temp(shape: readonly number[], size: number): Tensor {
    const h = this.spare.get(size)?.pop() ?? this.s.allocF32(size);
    const t = this.adopt(shape, size, h);
    t._spare = true;
    return t;
  }

  /** An op result: a temporary freed at the next step boundary unless kept. */
  result(shape: readonly number[], size: number): Tensor {
    const t = this.temp(shape, size);
    t._managed = true;
    this.results.push(t);
    return t;
  }

  /** Takes back the buffer of a disposed temporary or op result. */
  recycle(t: Tensor): void {
    let list = this.spare.get(t.size);
    if (list === undefined) this.spare.set(t.size, (list = []));
    list.push(t._h);
  }

  /** A step boundary: frees the step's op results except `survivor` (the loss of a backward). */
  end(survivor: Tensor | null): void {
    const list = this.results;
    this.results = [];
    for (let i = 0; i < list.length; i++) {
      const t = list[i]!;
      if (t === survivor) { if (t._managed && !t.disposed) this.results.push(t); continue; }
      if (t._managed && !t.disposed) {
        t._freedBy = 'freed at a step boundary (backward() or be.endStep()); call keep() on an op result to hold it longer';
        t.dispose();
      }
    }
  }

  /** Where the current step's op results end now: freeSince(mark) frees only the ones made after. */
  mark(): StepMark {
    return { list: this.results, from: this.results.length };
  }

  /**
   * Frees the op results made since `m` (kept ones excepted) and leaves the older ones as they
   * are: a scope inside the caller's step (predict) that ends its own memory and nothing of
   * the caller's. `why` becomes the DisposedError's explanation.
   */
  freeSince(m: StepMark, why: string): void {
    const list = this.results;
    const from = list === m.list ? m.from : 0; // a boundary inside the scope freed the older ones already
    for (let i = from; i < list.length; i++) {
      const t = list[i]!;
      if (t._managed && !t.disposed) { t._freedBy = why; t.dispose(); }
    }
    list.length = from;
  }

  /** Returns the spare buffers to the heap. */
  releaseSpare(): void {
    for (const [size, list] of this.spare) for (let i = 0; i < list.length; i++) this.s.freeF32(list[i]!, size);
    this.spare.clear();
  }
}
