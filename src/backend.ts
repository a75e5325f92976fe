import { ShapeError, describe, fmtShape } from './errors.js';
import { Rng, Tensor } from './tensor.js';
import type { Storage } from './backend/storage.js';
import { seedState, dropThreshold } from './rng.js';
import { checkDim, checkNumber, checkShape, expectShape, hyper, shapeSize, checkBool } from './validate.js';
import * as ag from './autograd.js';
import type { AutogradMatmulOptions } from './autograd.js';
import * as agt from './autograd-transformer.js';
import type { AttentionDropout } from './autograd-transformer.js';

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
export interface BackendInfo {
  kind: BackendKind;
  /** Threads a kernel call may use, the calling thread included (1: single thread). */
  threads: number;
  /** Whether the Wasm heap is a shared memory (SharedArrayBuffer). */
  sharedMemory: boolean;
  /** Why it runs on fewer threads than asked for, or null. */
  reason: string | null;
  /** Threads asked for (loadBackend's threads option, or the core count by default). */
  requested: number;
  /** True once a worker thread died or stopped answering and the backend fell back to the calling thread (reason says why). */
  degraded: boolean;
}

export interface MatmulOptions { transA?: boolean; transB?: boolean; accumulate?: boolean }

/**
 * The layout of be.kernels.matmulBatched (contract in src/backend/raw.ts). For z in
 * 0..batch·heads−1 (b = ⌊z/heads⌋, h = z mod heads), C_z (+)= op(A_z)·op(B_z) with C_z m×n at
 * element offC + b·sCb + h·sCh of out (row stride ldc), A_z at offA + b·sAb + h·sAh of a
 * (row stride lda; stored m×k, or k×m when transA), B_z at offB + b·sBb + h·sBh of b (row
 * stride ldb; stored k×n, or n×k when transB). All in elements of the tensors' flat data.
 * Defaults: heads 1, offsets 0, transposes and accumulate false, row strides the stored
 * row length (dense rows), head strides rows·ld, batch strides heads·(head stride): a
 * dense [batch, heads, rows, cols] layout.
 */
export interface MatmulBatchedOptions {
  batch: number; heads?: number; m: number; n: number; k: number;
  offA?: number; lda?: number; sAb?: number; sAh?: number;
  offB?: number; ldb?: number; sBb?: number; sBh?: number;
  offC?: number; ldc?: number; sCb?: number; sCh?: number;
  transA?: boolean; transB?: boolean; accumulate?: boolean;
}

export interface SgdStepOptions {
  lr: number; momentum?: number; dampening?: number; weightDecay?: number;
  nesterov?: boolean; maximize?: boolean; l1?: number;
  /** True on the first step with momentum: the buffer is set to d_p rather than updated. */
  first?: boolean;
}

export interface AdamStepOptions {
  lr: number; betas?: [number, number]; eps?: number; weightDecay?: number;
  /** false: Adam (L2 added to the gradient); true: AdamW (p ← p·(1 − lr·wd) first). */
  decoupled?: boolean;
  amsgrad?: boolean; maximize?: boolean; l1?: number;
  /** The step number t ≥ 1 (after incrementing), for the bias corrections. */
  step: number;
}

/**
 * A backend: tensor factory, validated kernels, RNGs and memory accounting, written once
 * over a `Storage` (wasm or js). Obtain one with `loadBackend()`.
 */
export class Backend {
  readonly kind: BackendKind;
  /** Raw kernels on tensors: in place, `out` first, no autograd; every argument validated. */
  readonly kernels: Kernels;
  /** @internal */
  readonly _s: Storage<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  private liveTensors = 0;

  /** @internal use loadBackend(). */
  constructor(storage: Storage<unknown, unknown, unknown>) {
    this._s = storage as Storage<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    this.kind = storage.kind;
    this.kernels = new Kernels(this);
  }

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
      // A view into this backend's own heap is detached if the allocation below grows it: copy first.
      if (ArrayBuffer.isView(data) && (data as unknown as Float32Array).buffer === this._s.buffer()) data = (data as unknown as Float32Array).slice();
    }
    const t = this._make(s, n, false);
    if (data !== undefined && n > 0) t.data.set(data);
    return t;
  }

  /** A zero tensor of `shape`. */
  zeros(shape: readonly number[]): Tensor {
    const s = checkShape(shape);
    return this._make(s, shapeSize(s), false);
  }

  /** A trainable tensor: requiresGrad, with a zero `grad` of the same shape. */
  param(shape: readonly number[], data?: ArrayLike<number>): Tensor {
    const t = this.tensor(shape, data);
    try {
      t.grad = this._make(t.shape, t.size, false);
    } catch (e) {
      t.dispose(); // a failed grad allocation leaves nothing behind
      throw e;
    }
    t.requiresGrad = true;
    return t;
  }

  /** A dropout RNG seeded from a 32-bit unsigned integer seed. */
  rng(seed: number): Rng {
    if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`rng(): expected an integer seed in [0, 2^32 − 1], got ${describe(seed)}`);
    }
    const h = this._s.allocRng();
    seedState(this._s.rngState(h), seed);
    return new Rng(this, h, seed);
  }

  /** Threads, shared memory, and why threads are off when they are. */
  info(): BackendInfo {
    const s = this._s as { info?: () => Omit<BackendInfo, 'kind'> };
    if (typeof s.info === 'function') return { kind: this.kind, ...s.info() };
    return { kind: this.kind, threads: 1, sharedMemory: false, reason: 'the js backend runs on the calling thread', requested: 1, degraded: false };
  }

  /**
   * Stops the backend's worker threads (wasm with threads); kernels keep working on the
   * calling thread. Tensors stay valid. Idempotent. Workers never keep Node alive anyway.
   */
  dispose(): void {
    const s = this._s as { dispose?: () => void };
    if (typeof s.dispose === 'function') s.dispose();
  }

  /** What is allocated now: live tensors, their bytes, and the heap size. */
  memory(): MemoryInfo {
    return { liveTensors: this.liveTensors, liveBytes: this._s.liveBytes(), heapBytes: this._s.heapBytes() };
  }

  /** @internal */
  _make(shape: readonly number[], size: number, requiresGrad: boolean): Tensor {
    const h = this._s.allocF32(size);
    this.liveTensors++;
    return new Tensor(this, shape, size, h, requiresGrad);
  }

  /** @internal called by Tensor.dispose(). */
  _release(t: Tensor): void {
    this._s.freeF32(t._h, t.size);
    this.liveTensors--;
  }

  // ---- autograd ops (src/autograd.ts: each op's backward is beside its forward) ----
  // Their results are op results: freed at the next step boundary unless kept (see the
  // memory rules at the top of src/autograd.ts).

  /** op(a)·op(b) with gradients; a: m×k (k×m when transA), b: k×n (n×k when transB). */
  matmul(a: Tensor, b: Tensor, options?: AutogradMatmulOptions): Tensor { return ag.matmul(this, a, b, options); }
  /** x·wᵀ + b (a torch Linear): x [rows, in], w [out, in], b [out] or null. */
  linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor { return ag.linear(this, x, w, b); }
  /** a + b: equal shapes, or [rows, cols] + [cols] (a bias added to every row). */
  add(a: Tensor, b: Tensor): Tensor { return ag.add(this, a, b); }
  /** alpha·x. */
  scale(x: Tensor, alpha: number): Tensor { return ag.scale(this, x, alpha); }
  /** max(x, 0). */
  relu(x: Tensor): Tensor { return ag.relu(this, x); }
  /** Exact (erf) GELU, x·Φ(x). */
  gelu(x: Tensor): Tensor { return ag.gelu(this, x); }
  /** tanh(x). */
  tanh(x: Tensor): Tensor { return ag.tanh(this, x); }
  /** Train-mode inverted dropout with drop probability p; rng advances (a new mask per call). */
  dropout(x: Tensor, p: number, rng: Rng): Tensor { return ag.dropout(this, x, p, rng); }
  /** LayerNorm over the last dimension of x [rows, cols]: weight and bias [cols] or null; eps default 1e-5. */
  layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor { return agt.layerNorm(this, x, weight, bias, eps); }
  /** Embedding lookup: weight [vocab, dim] rows picked by Int32Array ids → [ids.length, dim]. */
  embedding(weight: Tensor, ids: Int32Array): Tensor { return agt.embedding(this, weight, ids); }
  /**
   * Causal multi-head self-attention on a fused q|k|v projection [B·T, 3C] → [B·T, C]
   * (nanoGPT's split into nHead heads), with dropout on the attention probabilities when
   * `dropout` is given with p > 0.
   */
  causalAttention(qkv: Tensor, B: number, T: number, nHead: number, dropout: AttentionDropout | null = null): Tensor {
    return agt.causalAttention(this, qkv, B, T, nHead, dropout);
  }
  /** Mean softmax cross-entropy of logits [rows, classes] against Int32Array labels; a one-element result. */
  crossEntropy(logits: Tensor, labels: Int32Array): Tensor { return ag.crossEntropy(this, logits, labels); }
  /** mean((pred − target)²); a one-element result. */
  mse(pred: Tensor, target: Tensor): Tensor { return ag.mse(this, pred, target); }
  /** Σ x; a one-element result. */
  sum(x: Tensor): Tensor { return ag.sum(this, x); }
  /** mean(x); a one-element result. */
  mean(x: Tensor): Tensor { return ag.mean(this, x); }
  /** ½‖w‖² (gradient w); a one-element result. */
  l2Penalty(w: Tensor): Tensor { return ag.l2Penalty(this, w); }
  /** ‖w‖₁ (subgradient sign(w)); a one-element result. */
  l1Penalty(w: Tensor): Tensor { return ag.l1Penalty(this, w); }

  /**
   * A step boundary: frees every op result not kept (see src/autograd.ts). Call it after
   * forward-only work; backward() does it itself.
   */
  endStep(): void { this._endStep(null); }

  /** Returns the step pool's idle buffers to the heap (they are reused otherwise). */
  releasePool(): void {
    for (const [size, list] of this._pool) for (let i = 0; i < list.length; i++) this._s.freeF32(list[i], size);
    this._pool.clear();
  }

  /** @internal idle step buffers by element count. */
  private readonly _pool = new Map<number, any[]>(); // eslint-disable-line @typescript-eslint/no-explicit-any
  /** @internal op results of the current step (some may be kept or disposed since). */
  private _stepTensors: Tensor[] = [];

  /** @internal a pooled tensor, not managed (a temporary: dispose it when done). */
  _temp(shape: readonly number[], size: number): Tensor {
    const list = this._pool.get(size);
    const h = list !== undefined && list.length > 0 ? list.pop() : this._s.allocF32(size);
    this.liveTensors++;
    const t = new Tensor(this, shape, size, h, false);
    t._pooled = true;
    return t;
  }

  /** @internal a pooled op result, freed at the next step boundary unless kept. */
  _acquire(shape: readonly number[], size: number): Tensor {
    const t = this._temp(shape, size);
    t._managed = true;
    this._stepTensors.push(t);
    return t;
  }

  /** @internal called by Tensor.dispose() for pooled tensors. */
  _releasePooled(t: Tensor): void {
    let list = this._pool.get(t.size);
    if (list === undefined) this._pool.set(t.size, (list = []));
    list.push(t._h);
    this.liveTensors--;
  }

  /** @internal frees the step's op results except `survivor` (the loss of a backward). */
  _endStep(survivor: Tensor | null): void {
    const list = this._stepTensors;
    this._stepTensors = [];
    for (let i = 0; i < list.length; i++) {
      const t = list[i]!;
      if (t === survivor) { if (t._managed && !t.disposed) this._stepTensors.push(t); continue; }
      if (t._managed && !t.disposed) {
        t._freedBy = 'freed at a step boundary (backward() or be.endStep()); call keep() on an op result to hold it longer';
        t.dispose();
      }
    }
  }

  /** @internal Tensor.backward(). */
  _backwardFrom(root: Tensor): void { ag.backward(this, root); }

  /** @internal checks that t is a live tensor of this backend. */
  _check(t: unknown, what: string): Tensor {
    if (!(t instanceof Tensor)) throw new TypeError(`${what}: expected a Tensor, got ${describe(t)}`);
    t.assertLive(what);
    if (t._be !== this) throw new TypeError(`${what}: the tensor belongs to another backend (${t._be.kind}) than this one (${this.kind})`);
    return t;
  }
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

function opt<T>(v: T | undefined, d: T): T {
  return v === undefined ? d : v;
}

/** True when t is a live tensor of be (what Backend._check accepts), without building a message. */
function ok(t: unknown, be: Backend): boolean {
  return t instanceof Tensor && !t.disposed && t._be === be;
}

/** sameShape without a closure (hot path); expectShape still makes the message. */
function dimsEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * True when index ↦ Σ i_d·stride_d over the box [0, size_d) is one-to-one: with the
 * dimensions of size > 1 sorted by stride, each stride exceeds the largest offset the
 * smaller ones reach. Sufficient, not necessary: it accepts every layout whose dimensions
 * nest (views of one dense array, heads side by side in a row), and rejects interleaved
 * ones that might still be one-to-one.
 */
function injective(dims: [size: number, stride: number][]): boolean {
  const live = dims.filter(([size]) => size > 1).sort((x, y) => x[1] - y[1]);
  let reach = 0;
  for (const [size, stride] of live) {
    if (stride <= reach) return false;
    reach += (size - 1) * stride;
  }
  return true;
}

function dims2(t: Tensor, what: string): [number, number] {
  if (t.shape.length !== 2) throw new ShapeError(`${what}: expected a 2-D tensor, got shape ${fmtShape(t.shape)}`);
  return [t.shape[0]!, t.shape[1]!];
}

/**
 * The validated kernel facade (`be.kernels`). Every method checks its tensors (type, backend,
 * disposal, shapes) and options before anything is written, returns early on empty work,
 * then calls the backend's raw kernel.
 */
export class Kernels {
  constructor(private readonly be: Backend) {}

  private get raw() { return this.be._s.raw; }

  /** out (+)= op(a)·op(b); a: m×k (k×m when transA), b: k×n (n×k when transB), out: m×n. */
  matmul(out: Tensor, a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
    const be = this.be;
    be._check(out, 'matmul out'); be._check(a, 'matmul a'); be._check(b, 'matmul b');
    const transA = checkBool(opt(options.transA, false), 'matmul transA');
    const transB = checkBool(opt(options.transB, false), 'matmul transB');
    const accumulate = checkBool(opt(options.accumulate, false), 'matmul accumulate');
    // dims2 (which throws with the message) only when a tensor is not 2-D: no arrays per call.
    const as = a.shape, bs = b.shape;
    if (as.length !== 2) dims2(a, 'matmul a');
    if (bs.length !== 2) dims2(b, 'matmul b');
    const m = transA ? as[1]! : as[0]!, k = transA ? as[0]! : as[1]!;
    const k2 = transB ? bs[1]! : bs[0]!, n = transB ? bs[0]! : bs[1]!;
    if (k !== k2) {
      throw new ShapeError(`matmul: inner dimensions differ: op(a) is ${m}×${k} (a ${fmtShape(a.shape)}${transA ? ', transposed' : ''}), ` +
        `op(b) is ${k2}×${n} (b ${fmtShape(b.shape)}${transB ? ', transposed' : ''})`);
    }
    const os = out.shape;
    if (os.length !== 2 || os[0] !== m || os[1] !== n) expectShape(os, [m, n], 'matmul out');
    if (out === a || out === b) throw new ShapeError('matmul: out must not be the same tensor as a or b');
    if (m === 0 || n === 0) return out;
    if (k === 0) {
      if (!accumulate) this.raw.fill(out._h, m * n, 0);
      return out;
    }
    this.raw.matmul(out._h, a._h, b._h, m, n, k, transA, transB, accumulate);
    return out;
  }

  /**
   * Strided batched matmul over (batch, head) pairs: the attention matmuls, reading heads in
   * place (layout and defaults: MatmulBatchedOptions; order of each sum as matmul's). Every
   * element any pair touches must lie inside its tensor, strides and offsets must be
   * non-negative integers, out's blocks must not overlap one another, and out must be
   * neither a nor b (a and b may be the same tensor).
   */
  matmulBatched(out: Tensor, a: Tensor, b: Tensor, o: MatmulBatchedOptions): Tensor {
    const be = this.be;
    be._check(out, 'matmulBatched out'); be._check(a, 'matmulBatched a'); be._check(b, 'matmulBatched b');
    if (o === null || typeof o !== 'object') throw new TypeError(`matmulBatched: expected options { batch, m, n, k, ... }, got ${describe(o)}`);
    const transA = checkBool(opt(o.transA, false), 'matmulBatched transA');
    const transB = checkBool(opt(o.transB, false), 'matmulBatched transB');
    const accumulate = checkBool(opt(o.accumulate, false), 'matmulBatched accumulate');
    const dim = (v: unknown, what: string) => checkDim(v, `matmulBatched ${what}`);
    const batch = dim(o.batch, 'batch'), heads = dim(opt(o.heads, 1), 'heads');
    const m = dim(o.m, 'm'), n = dim(o.n, 'n'), k = dim(o.k, 'k');
    // Stored shapes: A is rA×cA, B is rB×cB, C is m×n.
    const rA = transA ? k : m, cA = transA ? m : k, rB = transB ? n : k, cB = transB ? k : n;
    const offA = dim(opt(o.offA, 0), 'offA'), lda = dim(opt(o.lda, cA), 'lda');
    const sAh = dim(opt(o.sAh, rA * lda), 'sAh'), sAb = dim(opt(o.sAb, heads * sAh), 'sAb');
    const offB = dim(opt(o.offB, 0), 'offB'), ldb = dim(opt(o.ldb, cB), 'ldb');
    const sBh = dim(opt(o.sBh, rB * ldb), 'sBh'), sBb = dim(opt(o.sBb, heads * sBh), 'sBb');
    const offC = dim(opt(o.offC, 0), 'offC'), ldc = dim(opt(o.ldc, n), 'ldc');
    const sCh = dim(opt(o.sCh, m * ldc), 'sCh'), sCb = dim(opt(o.sCb, heads * sCh), 'sCb');
    if (out === a || out === b) throw new ShapeError('matmulBatched: out must not be the same tensor as a or b');
    if (batch === 0 || heads === 0 || m === 0 || n === 0) return out;
    // The last element each operand touches (strides ≥ 0: the largest index of every dimension).
    const reach = (t: Tensor, what: string, off: number, sb: number, sh: number, rows: number, ld: number, cols: number, stored: string) => {
      const last = off + (batch - 1) * sb + (heads - 1) * sh + (rows - 1) * ld + (cols - 1);
      if (last >= t.size) {
        throw new ShapeError(`matmulBatched ${what}: the ${batch}×${heads} blocks of ${stored} at offset ${off}, ` +
          `batch stride ${sb}, head stride ${sh}, row stride ${ld} reach element ${last}, but ${what} ${fmtShape(t.shape)} holds ${t.size}`);
      }
    };
    reach(out, 'out', offC, sCb, sCh, m, ldc, n, `${m}×${n}`);
    if (k > 0) {
      reach(a, 'a', offA, sAb, sAh, rA, lda, cA, `${rA}×${cA}${transA ? ' (transA)' : ''}`);
      reach(b, 'b', offB, sBb, sBh, rB, ldb, cB, `${rB}×${cB}${transB ? ' (transB)' : ''}`);
    }
    if (!injective([[batch, sCb], [heads, sCh], [m, ldc], [n, 1]])) {
      throw new ShapeError(`matmulBatched out: blocks (batch ${batch}, heads ${heads}, m ${m}, n ${n}) with strides ` +
        `(${sCb}, ${sCh}, ${ldc}, 1) overlap: some element of out would be written twice`);
    }
    if (k === 0 && accumulate) return out;
    // Strides of a dimension of size 1 are never used: pass 0 (the wasm kernel takes i32).
    const one = (size: number, s: number) => (size > 1 ? s : 0);
    this.raw.matmulBatched(out._h, a._h, b._h, batch, heads, m, n, k,
      offA, one(rA, lda), one(batch, sAb), one(heads, sAh), offB, one(rB, ldb), one(batch, sBb), one(heads, sBh),
      offC, one(m, ldc), one(batch, sCb), one(heads, sCh), transA, transB, accumulate);
    return out;
  }

  /** out = sign(x)·max(|x| − t, 0); out may be x. */
  softThreshold(out: Tensor, x: Tensor, t: number): Tensor {
    this.be._check(out, 'softThreshold out'); this.be._check(x, 'softThreshold x');
    expectShape(out.shape, x.shape, 'softThreshold out');
    checkNumber(t, 'softThreshold t (threshold)', { min: 0 });
    if (x.size > 0) this.raw.softThreshold(out._h, x._h, x.size, t);
    return out;
  }

  /**
   * Inverted dropout: out = x·m/(1 − p), m ~ Bernoulli(1 − p) drawn from rng (which
   * advances). mask, when given, receives 1 (kept) or 0 (dropped). out may be x.
   */
  dropout(out: Tensor, x: Tensor, p: number, rng: Rng, mask?: Tensor | null): Tensor {
    this.be._check(out, 'dropout out'); this.be._check(x, 'dropout x');
    expectShape(out.shape, x.shape, 'dropout out');
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`dropout: expected p in [0, 1], got ${describe(p)}`);
    if (!(rng instanceof Rng)) throw new TypeError(`dropout: expected an Rng from be.rng(seed), got ${describe(rng)}`);
    rng.assertLive('dropout rng');
    if (rng._be !== this.be) throw new TypeError('dropout: the RNG belongs to another backend');
    const m = mask ?? null;
    if (m !== null) {
      this.be._check(m, 'dropout mask');
      expectShape(m.shape, x.shape, 'dropout mask');
      if (m === x || m === out) throw new ShapeError('dropout: mask must be a tensor of its own');
    }
    const n = x.size;
    if (n === 0) return out;
    if (p === 0) {
      if (out !== x) out.data.set(x.data);
      if (m !== null) this.raw.fill(m._h, n, 1);
    } else if (p === 1) {
      this.raw.fill(out._h, n, 0);
      if (m !== null) this.raw.fill(m._h, n, 0);
    } else {
      this.raw.dropout(out._h, x._h, n, dropThreshold(p), 1 / (1 - p), rng._h, m === null ? null : m._h);
    }
    return out;
  }

  /** One fused SGD step on p with gradient g (torch.optim.SGD), then the L1 prox when l1 > 0. */
  sgdStep(p: Tensor, g: Tensor, buf: Tensor | null, o: SgdStepOptions): Tensor {
    const be = this.be;
    be._check(p, 'sgdStep p'); be._check(g, 'sgdStep g');
    expectShape(g.shape, p.shape, 'sgdStep g');
    const lr = hyper.lr(o.lr);
    const momentum = hyper.momentum(opt(o.momentum, 0));
    const dampening = hyper.dampening(opt(o.dampening, 0));
    const weightDecay = hyper.weightDecay(opt(o.weightDecay, 0));
    const nesterov = checkBool(opt(o.nesterov, false), 'nesterov');
    const maximize = checkBool(opt(o.maximize, false), 'maximize');
    const l1 = hyper.l1(opt(o.l1, 0));
    const first = checkBool(opt(o.first, false), 'first');
    hyper.nesterov(nesterov, momentum, dampening);
    if (momentum !== 0) {
      if (buf === null || buf === undefined) throw new TypeError('sgdStep: momentum > 0 needs a momentum buffer tensor, got none');
      be._check(buf, 'sgdStep momentum buffer');
      expectShape(buf.shape, p.shape, 'sgdStep momentum buffer');
    }
    if (g === p || (momentum !== 0 && (buf === p || buf === g))) throw new ShapeError('sgdStep: p, g and the momentum buffer must be distinct tensors');
    if (p.size === 0) return p;
    this.raw.sgdStep(p._h, g._h, momentum !== 0 ? buf!._h : p._h, p.size, lr, momentum, dampening,
      weightDecay, nesterov, maximize, lr * l1, first);
    return p;
  }

  /** One fused Adam (coupled L2) or AdamW (decoupled) step, then the L1 prox when l1 > 0. */
  adamStep(p: Tensor, g: Tensor, m: Tensor, v: Tensor, vmax: Tensor | null, o: AdamStepOptions): Tensor {
    const be = this.be;
    be._check(p, 'adamStep p'); be._check(g, 'adamStep g'); be._check(m, 'adamStep m'); be._check(v, 'adamStep v');
    const ps = p.shape;
    if (!dimsEqual(g.shape, ps)) expectShape(g.shape, ps, 'adamStep g');
    if (!dimsEqual(m.shape, ps)) expectShape(m.shape, ps, 'adamStep m (first moment)');
    if (!dimsEqual(v.shape, ps)) expectShape(v.shape, ps, 'adamStep v (second moment)');
    const h = this.adamHyper(o);
    const decoupled = checkBool(opt(o.decoupled, false), 'decoupled');
    const amsgrad = checkBool(opt(o.amsgrad, false), 'amsgrad');
    const maximize = checkBool(opt(o.maximize, false), 'maximize');
    const l1raw = opt(o.l1, 0);
    const l1 = l1raw === this.adamL1 ? l1raw : (this.adamL1 = hyper.l1(l1raw));
    const step = o.step;
    if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 1) throw new RangeError(`adamStep: expected step as an integer ≥ 1, got ${describe(step)}`);
    if (amsgrad) {
      if (vmax === null || vmax === undefined) throw new TypeError('adamStep: amsgrad needs a max-second-moment tensor (vmax), got none');
      be._check(vmax, 'adamStep vmax');
      expectShape(vmax.shape, p.shape, 'adamStep vmax');
    }
    if (g === p || m === p || m === g || v === p || v === g || v === m ||
      (amsgrad && (vmax === p || vmax === g || vmax === m || vmax === v))) {
      throw new ShapeError('adamStep: p, g, m, v (and vmax) must be distinct tensors');
    }
    if (p.size === 0) return p;
    const { lr, beta1, beta2, eps, weightDecay } = h;
    const stepSize = lr / (1 - beta1 ** step);
    const bc2sqrt = Math.sqrt(1 - beta2 ** step);
    this.raw.adamStep(p._h, g._h, m._h, v._h, amsgrad ? vmax!._h : v._h, p.size, beta1, beta2, stepSize, bc2sqrt, eps,
      decoupled ? 0 : weightDecay, decoupled ? 1 - lr * weightDecay : 1, amsgrad, maximize, lr * l1);
    return p;
  }

  /**
   * The last few hyperparameter sets adamHyper() validated: an optimizer passes the same
   * ones every step, one set per parameter group.
   */
  private adamSeen: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }[] = [];
  /** The last l1 validated by adamStep. */
  private adamL1 = NaN;

  /**
   * lr, betas, eps and weightDecay of `o`, validated (defaults filled in). Values equal
   * (===) to a set validated before are valid and skip the checks; NaN never compares
   * equal, so anything else is checked in full, in the order and with the messages of
   * the hyper.* checks. The returned object is shared: read it, do not keep it.
   */
  private adamHyper(o: AdamStepOptions): { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number } {
    const betas = o.betas;
    const lr = o.lr, eps = opt(o.eps, 1e-8), weightDecay = opt(o.weightDecay, 0);
    const b1 = betas === undefined ? 0.9 : Array.isArray(betas) && betas.length === 2 ? betas[0] : NaN;
    const b2 = betas === undefined ? 0.999 : Array.isArray(betas) && betas.length === 2 ? betas[1] : NaN;
    const seen = this.adamSeen;
    for (let i = 0; i < seen.length; i++) {
      const c = seen[i]!;
      if (lr === c.lr && eps === c.eps && weightDecay === c.weightDecay && b1 === c.beta1 && b2 === c.beta2) return c;
    }
    hyper.lr(lr);
    const [beta1, beta2] = hyper.betas(opt(betas, [0.9, 0.999]));
    hyper.eps(eps);
    hyper.weightDecay(weightDecay);
    const c = { lr, beta1, beta2, eps, weightDecay };
    if (seen.length >= 8) seen.shift();
    seen.push(c);
    return c;
  }

  // ---- elementwise and reductions ----

  // same(what, t1, t2[, t3]): each tensor checked (live, this backend), then t3 against t2,
  // then t1 against t2, so messages read "out: expected [shape of x]". Written without a
  // rest array or closure: it runs on every elementwise call of a training step.
  private same(what: string, t1: Tensor, t2: Tensor, t3?: Tensor): void {
    const be = this.be;
    // the message is built only when a check fails (_check then throws it)
    if (!ok(t1, be)) be._check(t1, `${what} argument 1`);
    if (!ok(t2, be)) be._check(t2, `${what} argument 2`);
    if (t3 !== undefined) {
      if (!ok(t3, be)) be._check(t3, `${what} argument 3`);
      if (!dimsEqual(t3.shape, t2.shape)) expectShape(t3.shape, t2.shape, `${what} argument 3`);
    }
    if (!dimsEqual(t1.shape, t2.shape)) expectShape(t1.shape, t2.shape, `${what} argument 1`);
  }

  /** out = x + b with b (length cols) added to every row of x (rows×cols). out may be x. */
  addRowVector(out: Tensor, x: Tensor, b: Tensor): Tensor {
    this.same('addRowVector', out, x);
    this.be._check(b, 'addRowVector b');
    const [rows, cols] = dims2(x, 'addRowVector x');
    if (b.size !== cols || b.shape.length !== 1) throw new ShapeError(`addRowVector b: expected shape [${cols}], got ${fmtShape(b.shape)}`);
    if (b === out) throw new ShapeError('addRowVector: out must not be b');
    if (x.size > 0) this.raw.addRowVector(out._h, x._h, b._h, rows, cols);
    return out;
  }

  /** out = a + b. */
  add(out: Tensor, a: Tensor, b: Tensor): Tensor {
    this.same('add', out, a, b);
    if (a.size > 0) this.raw.add(out._h, a._h, b._h, a.size);
    return out;
  }

  /** out = a · b elementwise. */
  mul(out: Tensor, a: Tensor, b: Tensor): Tensor {
    this.same('mul', out, a, b);
    if (a.size > 0) this.raw.mul(out._h, a._h, b._h, a.size);
    return out;
  }

  /** out = alpha · x. */
  scale(out: Tensor, x: Tensor, alpha: number): Tensor {
    this.same('scale', out, x);
    checkNumber(alpha, 'scale alpha');
    if (x.size > 0) this.raw.scale(out._h, x._h, x.size, alpha);
    return out;
  }

  /** y += alpha · x. */
  axpy(y: Tensor, x: Tensor, alpha: number): Tensor {
    this.same('axpy', y, x);
    checkNumber(alpha, 'axpy alpha');
    if (y === x) throw new ShapeError('axpy: y must not be x');
    if (x.size > 0) this.raw.axpy(y._h, x._h, x.size, alpha);
    return y;
  }

  /** out[i] = value. */
  fill(out: Tensor, value: number): Tensor {
    this.be._check(out, 'fill out');
    if (typeof value !== 'number') throw new TypeError(`fill: expected a number, got ${describe(value)}`);
    if (out.size > 0) this.raw.fill(out._h, out.size, value);
    return out;
  }

  /** out = max(x, 0). */
  relu(out: Tensor, x: Tensor): Tensor {
    this.same('relu', out, x);
    if (x.size > 0) this.raw.relu(out._h, x._h, x.size);
    return out;
  }

  /** out = x > 0 ? g : 0. out may be g. */
  reluBackward(out: Tensor, g: Tensor, x: Tensor): Tensor {
    this.same('reluBackward', out, g, x);
    if (out === x && out !== g) throw new ShapeError('reluBackward: out may alias g, not x');
    if (x.size > 0) this.raw.reluBackward(out._h, g._h, x._h, x.size);
    return out;
  }

  /** out[j] = Σ_i x[i, j] (x rows×cols, out [cols]). */
  sumRows(out: Tensor, x: Tensor): Tensor {
    this.be._check(out, 'sumRows out'); this.be._check(x, 'sumRows x');
    const [rows, cols] = dims2(x, 'sumRows x');
    expectShape(out.shape, [cols], 'sumRows out');
    if (cols === 0) return out;
    if (rows === 0) this.raw.fill(out._h, cols, 0);
    else this.raw.sumRows(out._h, x._h, rows, cols);
    return out;
  }

  /** Σ x. */
  sum(x: Tensor): number {
    this.be._check(x, 'sum x');
    return x.size === 0 ? 0 : this.raw.sum(x._h, x.size);
  }

  /** Σ x². */
  sumSquares(x: Tensor): number {
    this.be._check(x, 'sumSquares x');
    return x.size === 0 ? 0 : this.raw.sumSquares(x._h, x.size);
  }

  /** mean((a − b)²). */
  mse(a: Tensor, b: Tensor): number {
    this.same('mse', a, b);
    if (a.size === 0) throw new ShapeError('mse: expected at least one element, got an empty tensor');
    return this.raw.mse(a._h, b._h, a.size);
  }

  /** out = alpha·(a − b). */
  mseBackward(out: Tensor, a: Tensor, b: Tensor, alpha: number): Tensor {
    this.same('mseBackward', out, a, b);
    checkNumber(alpha, 'mseBackward alpha');
    if (a.size > 0) this.raw.mseBackward(out._h, a._h, b._h, a.size, alpha);
    return out;
  }

  private checkLabels(logits: Tensor, labels: unknown, what: string): [number, number, Int32Array] {
    const [rows, cols] = dims2(logits, `${what} logits`);
    if (!(labels instanceof Int32Array)) throw new TypeError(`${what}: expected labels as an Int32Array, got ${describe(labels)}`);
    if (labels.length !== rows) throw new ShapeError(`${what}: expected ${rows} labels (one per row of logits ${fmtShape(logits.shape)}), got ${labels.length}`);
    if (rows === 0) throw new ShapeError(`${what}: expected at least one row of logits, got ${fmtShape(logits.shape)}`);
    for (let i = 0; i < rows; i++) {
      const l = labels[i]!;
      if (l < 0 || l >= cols) throw new RangeError(`${what}: label ${i} is ${l}, expected a class in [0, ${cols - 1}]`);
    }
    return [rows, cols, labels];
  }

  /**
   * Mean softmax cross-entropy of logits (rows×cols) against int32 labels. With `exps`
   * (a tensor of logits' shape, not logits) it also stores f32(exp(x − row max)) there,
   * for crossEntropyBackwardExps; the loss is the same.
   */
  crossEntropy(logits: Tensor, labels: Int32Array, exps?: Tensor | null): number {
    this.be._check(logits, 'crossEntropy logits');
    const [rows, cols] = this.checkLabels(logits, labels, 'crossEntropy');
    if (exps !== undefined && exps !== null) {
      this.be._check(exps, 'crossEntropy exps');
      if (!dimsEqual(exps.shape, logits.shape)) expectShape(exps.shape, logits.shape, 'crossEntropy exps');
      if (exps === logits) throw new ShapeError('crossEntropy: exps must not be logits');
      return this.raw.crossEntropy(logits._h, this.be._s.labels(labels), rows, cols, exps._h);
    }
    return this.raw.crossEntropy(logits._h, this.be._s.labels(labels), rows, cols, null);
  }

  /**
   * out = alpha·(softmax − onehot(labels)) from the exps crossEntropy stored: the same bits
   * as crossEntropyBackward on the logits of that call, without the exps. out may be exps.
   */
  crossEntropyBackwardExps(out: Tensor, exps: Tensor, labels: Int32Array, alpha: number): Tensor {
    return this.softmaxGrad('crossEntropyBackwardExps', out, exps, labels, alpha);
  }

  /** @internal the labels check of crossEntropy (autograd validates before it allocates). */
  _checkLabels(logits: Tensor, labels: Int32Array, what: string): void {
    this.checkLabels(logits, labels, what);
  }

  /** out = alpha·(softmax(logits) − onehot(labels)); out may be logits. */
  crossEntropyBackward(out: Tensor, logits: Tensor, labels: Int32Array, alpha: number): Tensor {
    return this.softmaxGrad('crossEntropyBackward', out, logits, labels, alpha);
  }

  /** The two cross-entropy backwards: validated the same way, src is logits or exps. */
  private softmaxGrad(name: 'crossEntropyBackward' | 'crossEntropyBackwardExps', out: Tensor, src: Tensor,
    labels: Int32Array, alpha: number): Tensor {
    this.same(name, out, src);
    const [rows, cols] = this.checkLabels(src, labels, name);
    checkNumber(alpha, `${name} alpha`);
    this.raw[name](out._h, src._h, this.be._s.labels(labels), rows, cols, alpha);
    return out;
  }

  // ---- activations (family 'activation') ----

  /** out = x·Φ(x), exact (erf) GELU. out may be x. */
  gelu(out: Tensor, x: Tensor): Tensor {
    this.same('gelu', out, x);
    if (x.size > 0) this.raw.gelu(out._h, x._h, x.size);
    return out;
  }

  /** out = g·(Φ(x) + x·φ(x)), the GELU gradient. out may be g or x. */
  geluBackward(out: Tensor, g: Tensor, x: Tensor): Tensor {
    this.same('geluBackward', out, g, x);
    if (x.size > 0) this.raw.geluBackward(out._h, g._h, x._h, x.size);
    return out;
  }

  /** out = tanh(x). out may be x. */
  tanh(out: Tensor, x: Tensor): Tensor {
    this.same('tanh', out, x);
    if (x.size > 0) this.raw.tanh(out._h, x._h, x.size);
    return out;
  }

  /** out = g·(1 − y²), y = tanh(x). out may be g or y. */
  tanhBackward(out: Tensor, g: Tensor, y: Tensor): Tensor {
    this.same('tanhBackward', out, g, y);
    if (y.size > 0) this.raw.tanhBackward(out._h, g._h, y._h, y.size);
    return out;
  }

  /** out = sign(x) ∈ {−1, 0, 1}. out may be x. */
  sign(out: Tensor, x: Tensor): Tensor {
    this.same('sign', out, x);
    if (x.size > 0) this.raw.sign(out._h, x._h, x.size);
    return out;
  }

  /** Σ|x|. */
  absSum(x: Tensor): number {
    this.be._check(x, 'absSum x');
    return x.size === 0 ? 0 : this.raw.absSum(x._h, x.size);
  }

  // ---- the transformer's kernels (families 'layernorm', 'softmax', 'embedding') ----

  /** The [rows] statistics tensor `t` of a LayerNorm over `rows` rows. */
  private rowStat(t: Tensor, rows: number, what: string): void {
    this.be._check(t, what);
    if (t.shape.length !== 1 || t.shape[0] !== rows) expectShape(t.shape, [rows], what);
  }

  /** An optional per-column tensor (LayerNorm weight, bias or their gradients): null or shape [cols]. */
  private colVec(t: Tensor | null | undefined, cols: number, what: string): Tensor | null {
    if (t === null || t === undefined) return null;
    this.be._check(t, what);
    if (t.shape.length !== 1 || t.shape[0] !== cols) expectShape(t.shape, [cols], what);
    return t;
  }

  /**
   * LayerNorm over the last dimension of x [rows, cols] (torch's layer_norm): out =
   * (x − μ)/√(σ² + eps)·weight + bias per row (weight / bias null: left out). mean and rstd
   * ([rows]) receive μ and 1/√(σ² + eps) for layerNormBackward. out may be x.
   */
  layerNorm(out: Tensor, x: Tensor, weight: Tensor | null, bias: Tensor | null, mean: Tensor, rstd: Tensor, eps = 1e-5): Tensor {
    this.same('layerNorm', out, x);
    const [rows, cols] = dims2(x, 'layerNorm x');
    const w = this.colVec(weight, cols, 'layerNorm weight'), b = this.colVec(bias, cols, 'layerNorm bias');
    this.rowStat(mean, rows, 'layerNorm mean'); this.rowStat(rstd, rows, 'layerNorm rstd');
    checkNumber(eps, 'layerNorm eps', { min: 0 });
    if (mean === rstd || mean === out || rstd === out || mean === x || rstd === x) throw new ShapeError('layerNorm: mean and rstd must be tensors of their own');
    if (w === out || b === out) throw new ShapeError('layerNorm: out must not be weight or bias');
    if (cols === 0) throw new ShapeError(`layerNorm x: expected at least one column, got ${fmtShape(x.shape)}`);
    if (rows === 0) return out;
    this.raw.layerNorm(out._h, x._h, w === null ? null : w._h, b === null ? null : b._h, mean._h, rstd._h, rows, cols, eps);
    return out;
  }

  /**
   * LayerNorm backward: dx from the upstream g, x and the forward's mean and rstd; adds the
   * weight and bias gradients (rows in order) into dweight and dbias when given (null:
   * skipped). weight is the forward's weight (null when it had none).
   */
  layerNormBackward(dx: Tensor, g: Tensor, x: Tensor, weight: Tensor | null, mean: Tensor, rstd: Tensor,
    dweight: Tensor | null = null, dbias: Tensor | null = null): Tensor {
    this.same('layerNormBackward', dx, g, x);
    const [rows, cols] = dims2(x, 'layerNormBackward x');
    const w = this.colVec(weight, cols, 'layerNormBackward weight');
    const dw = this.colVec(dweight, cols, 'layerNormBackward dweight'), db = this.colVec(dbias, cols, 'layerNormBackward dbias');
    this.rowStat(mean, rows, 'layerNormBackward mean'); this.rowStat(rstd, rows, 'layerNormBackward rstd');
    const ins = [g, x, w, mean, rstd, dw, db];
    for (let i = 0; i < ins.length; i++) {
      const t = ins[i];
      if (t === null) continue;
      if (t === dx) throw new ShapeError('layerNormBackward: dx must be a tensor of its own');
      for (let j = i + 1; j < ins.length; j++) {
        if ((i >= 5 || j >= 5) && t === ins[j]) throw new ShapeError('layerNormBackward: dweight and dbias must be tensors of their own');
      }
    }
    if (rows === 0 || cols === 0) return dx;
    this.raw.layerNormBackward(dx._h, g._h, x._h, w === null ? null : w._h, mean._h, rstd._h,
      dw === null ? null : dw._h, db === null ? null : db._h, rows, cols);
    return dx;
  }

  /** [z, t, t] of a batch of square score matrices. */
  private squares(x: Tensor, what: string): [number, number] {
    const s = x.shape;
    if (s.length !== 3 || s[1] !== s[2]) throw new ShapeError(`${what}: expected a batch of square score matrices [z, t, t], got ${fmtShape(s)}`);
    return [s[0]!, s[1]!];
  }

  /**
   * The attention softmax: out = softmax(x·scale) over keys j ≤ t in each row t of each
   * t×t matrix of x [z, t, t] (the causal mask), 0 above the diagonal. out may be x.
   */
  causalSoftmax(out: Tensor, x: Tensor, scale: number): Tensor {
    this.same('causalSoftmax', out, x);
    const [z, t] = this.squares(x, 'causalSoftmax x');
    checkNumber(scale, 'causalSoftmax scale');
    if (z === 0 || t === 0) return out;
    this.raw.causalSoftmax(out._h, x._h, z, t, scale);
    return out;
  }

  /** The gradient of causalSoftmax with respect to x, from its output p and the upstream g. out may be g. */
  causalSoftmaxBackward(out: Tensor, p: Tensor, g: Tensor, scale: number): Tensor {
    this.same('causalSoftmaxBackward', out, p, g);
    const [z, t] = this.squares(p, 'causalSoftmaxBackward p');
    checkNumber(scale, 'causalSoftmaxBackward scale');
    if (out === p) throw new ShapeError('causalSoftmaxBackward: out may alias g, not p');
    if (z === 0 || t === 0) return out;
    this.raw.causalSoftmaxBackward(out._h, p._h, g._h, z, t, scale);
    return out;
  }

  /** Checks token ids: an Int32Array of `n` integers in [0, vocab). */
  private checkIds(ids: unknown, n: number, vocab: number, what: string): Int32Array {
    if (!(ids instanceof Int32Array)) throw new TypeError(`${what}: expected token ids as an Int32Array, got ${describe(ids)}`);
    if (ids.length !== n) throw new ShapeError(`${what}: expected ${n} token ids, got ${ids.length}`);
    for (let i = 0; i < n; i++) {
      const v = ids[i]!;
      if (v < 0 || v >= vocab) throw new RangeError(`${what}: token id ${i} is ${v}, expected an id in [0, ${vocab - 1}]`);
    }
    return ids;
  }

  /** @internal the ids check of embedding (autograd and the GPT validate before they allocate). */
  _checkIds(ids: unknown, n: number, vocab: number, what: string): Int32Array {
    return this.checkIds(ids, n, vocab, what);
  }

  /** Embedding lookup: out row i = weight row ids[i]; weight [vocab, cols], out [ids.length, cols]. */
  embedding(out: Tensor, weight: Tensor, ids: Int32Array): Tensor {
    this.be._check(out, 'embedding out'); this.be._check(weight, 'embedding weight');
    const [vocab, cols] = dims2(weight, 'embedding weight');
    const [n, oc] = dims2(out, 'embedding out');
    if (oc !== cols) expectShape(out.shape, [n, cols], 'embedding out');
    this.checkIds(ids, n, vocab, 'embedding');
    if (out === weight) throw new ShapeError('embedding: out must not be weight');
    if (n === 0 || cols === 0) return out;
    this.raw.embedding(out._h, weight._h, this.be._s.labels(ids), n, cols);
    return out;
  }

  /** Scatter-add, the embedding's backward: dweight row ids[i] += g row i, i in order. */
  embeddingBackward(dweight: Tensor, g: Tensor, ids: Int32Array): Tensor {
    this.be._check(dweight, 'embeddingBackward dweight'); this.be._check(g, 'embeddingBackward g');
    const [vocab, cols] = dims2(dweight, 'embeddingBackward dweight');
    const [n, gc] = dims2(g, 'embeddingBackward g');
    if (gc !== cols) expectShape(g.shape, [n, cols], 'embeddingBackward g');
    this.checkIds(ids, n, vocab, 'embeddingBackward');
    if (g === dweight) throw new ShapeError('embeddingBackward: g must not be dweight');
    if (n === 0 || cols === 0) return dweight;
    this.raw.embeddingBackward(dweight._h, g._h, this.be._s.labels(ids), n, cols);
    return dweight;
  }
}
