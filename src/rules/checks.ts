/**
 * The argument rules, each once: the ones that the checked kernels (src/core/checked-kernels.ts), autograd
 * and the optimizers share, and the table kernels' checks by signature (`tableCheck`, which
 * builds each table kernel's checked entry for `be.kernels`). Every function throws a typed
 * error saying what was expected and what came, before anything is written.
 */
import { ShapeError, describe, fmtShape } from './errors.js';
import { Rng, Tensor, type TensorOwner } from '../core/tensor.js';
import { TABLE, type TableEntry, type TableName } from '../backend/raw.js';
import type { TensorSignatures, TrustedKernels } from '../backend/trusted.js';
import { checkNumber, expectShape } from './validate.js';

// ---- rules shared with autograd and the optimizers ------------------------------------------

/** t as a live tensor of `be`: TypeError or DisposedError naming `what` otherwise. */
export function checkTensor(be: TensorOwner, t: unknown, what: string): Tensor {
  if (!(t instanceof Tensor)) throw new TypeError(`${what}: expected a Tensor, got ${describe(t)}`);
  t.assertLive(what);
  if (t._be !== be) throw new TypeError(`${what}: the tensor belongs to another backend (${t._be.kind}) than this one (${be.kind})`);
  return t;
}

/** True when t is a live tensor of be (what checkTensor accepts), without building a message. */
function ok(t: unknown, be: TensorOwner): boolean {
  return t instanceof Tensor && !t.disposed && t._be === be;
}

/** sameShape without a closure (hot path); expectShape still makes the message. */
function dimsEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The two dimensions of a 2-D tensor. */
export function dims2(t: Tensor, what: string): [number, number] {
  if (t.shape.length !== 2) throw new ShapeError(`${what}: expected a 2-D tensor, got shape ${fmtShape(t.shape)}`);
  return [t.shape[0]!, t.shape[1]!];
}

/** [m, n, k] of op(a)·op(b) for 2-D a and b, or a ShapeError when the inner dimensions differ. */
export function matmulDims(a: Tensor, b: Tensor, transA: boolean, transB: boolean): [number, number, number] {
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
  return [m, n, k];
}

/**
 * True when index ↦ Σ i_d·stride_d over the box [0, size_d) is one-to-one: with the
 * dimensions of size > 1 sorted by stride, each stride exceeds the largest offset the
 * smaller ones reach. Sufficient, not necessary: it accepts every layout whose dimensions
 * nest (views of one dense array, heads side by side in a row), and rejects interleaved
 * ones that might still be one-to-one.
 */
export function injective(dims: [size: number, stride: number][]): boolean {
  const live = dims.filter(([size]) => size > 1).sort((x, y) => x[1] - y[1]);
  let reach = 0;
  for (const [size, stride] of live) {
    if (stride <= reach) return false;
    reach += (size - 1) * stride;
  }
  return true;
}

/** Labels for 2-D logits: an Int32Array, one class in [0, cols) per row, at least one row. */
export function checkLabels(logits: Tensor, labels: unknown, what: string): [number, number] {
  const [rows, cols] = dims2(logits, `${what} logits`);
  if (!(labels instanceof Int32Array)) throw new TypeError(`${what}: expected labels as an Int32Array, got ${describe(labels)}`);
  if (labels.length !== rows) throw new ShapeError(`${what}: expected ${rows} labels (one per row of logits ${fmtShape(logits.shape)}), got ${labels.length}`);
  if (rows === 0) throw new ShapeError(`${what}: expected at least one row of logits, got ${fmtShape(logits.shape)}`);
  for (let i = 0; i < rows; i++) {
    const l = labels[i]!;
    if (l < 0 || l >= cols) throw new RangeError(`${what}: label ${i} is ${l}, expected a class in [0, ${cols - 1}]`);
  }
  return [rows, cols];
}

/** Dropout's p in [0, 1] and a live RNG of be (`what` names the caller: dropout, causalAttention's dropout). */
export function checkDropout(be: TensorOwner, p: unknown, rng: unknown, what = 'dropout'): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`${what}: expected p in [0, 1], got ${describe(p)}`);
  if (!(rng instanceof Rng)) throw new TypeError(`${what}: expected an Rng from be.rng(seed), got ${describe(rng)}`);
  rng.assertLive(`${what} rng`);
  if (rng._be !== be) throw new TypeError(`${what}: the RNG belongs to another backend (${rng._be.kind}) than this one (${be.kind})`);
}

/** An optional per-column tensor (LayerNorm weight, bias or their gradients): null, or a live tensor of shape [cols]. */
export function colVec(be: TensorOwner, t: Tensor | null | undefined, cols: number, what: string): Tensor | null {
  if (t === null || t === undefined) return null;
  checkTensor(be, t, what);
  if (t.shape.length !== 1 || t.shape[0] !== cols) expectShape(t.shape, [cols], what);
  return t;
}

/** [z, t] of a batch of square score matrices [z, t, t]. */
export function squares(x: Tensor, what: string): [number, number] {
  const s = x.shape;
  if (s.length !== 3 || s[1] !== s[2]) throw new ShapeError(`${what}: expected a batch of square score matrices [z, t, t], got ${fmtShape(s)}`);
  return [s[0]!, s[1]!];
}

/**
 * The token-id rule, once for every input form (Int32Array, array, tensor): id i is an
 * integer in [0, vocab); the message says the value as given (1e10, not its int32 wrap).
 */
export function checkId(v: unknown, i: number, vocab: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= vocab) {
    throw new RangeError(`${what}: token id ${i} is ${describe(v)}, expected an integer in [0, ${vocab - 1}]`);
  }
  return v;
}

/** Token ids: an Int32Array of `n` integers in [0, vocab). */
export function checkIds(ids: unknown, n: number, vocab: number, what: string): Int32Array {
  if (!(ids instanceof Int32Array)) throw new TypeError(`${what}: expected token ids as an Int32Array, got ${describe(ids)}`);
  if (ids.length !== n) throw new ShapeError(`${what}: expected ${n} token ids, got ${ids.length}`);
  for (let i = 0; i < n; i++) {
    const v = ids[i]!;
    if (v < 0 || v >= vocab) checkId(v, i, vocab, what);
  }
  return ids;
}

/**
 * Token ids in any accepted form (an Int32Array, an array of numbers, a tensor of integer
 * values) as an Int32Array, each checked by the one id rule (checkId) before conversion:
 * nothing wraps modulo 2^32.
 */
export function idsOf(ids: unknown, vocab: number, what: string): Int32Array {
  if (ids instanceof Int32Array) return checkIds(ids, ids.length, vocab, what);
  let d: ArrayLike<unknown>;
  if (ids instanceof Tensor) { ids.assertLive(what); d = ids.data; } else if (Array.isArray(ids)) d = ids;
  else throw new TypeError(`${what}: expected token ids as an Int32Array, an array of integers or a tensor of integer values, got ${describe(ids)}`);
  const out = new Int32Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = checkId(d[i], i, vocab, what);
  return out;
}

/**
 * An embedding's operands: `table` [vocab, cols], `rows` [n, cols] and n ids in [0, vocab),
 * the two tensors live, of be and distinct; `what`, `tName`, `rName` name them in messages.
 */
export function checkTableRows(be: TensorOwner, table: Tensor, rows: Tensor, ids: unknown, what: string, tName: string, rName: string): void {
  checkTensor(be, rows, `${what} ${rName}`); checkTensor(be, table, `${what} ${tName}`);
  const [vocab, cols] = dims2(table, `${what} ${tName}`);
  const [n, rc] = dims2(rows, `${what} ${rName}`);
  if (rc !== cols) expectShape(rows.shape, [n, cols], `${what} ${rName}`);
  checkIds(ids, n, vocab, what);
  if (rows === table) throw new ShapeError(`${what}: ${rName} must not be ${tName}`);
}

// ---- the table kernels' checks, by signature -------------------------------------------------

/**
 * same(be, what, t1, t2[, t3]): each tensor checked (live, this backend), then t3 against t2,
 * then t1 against t2, so messages read "out: expected [shape of x]". Written without a rest
 * array or closure: it runs on every checked elementwise call.
 */
export function same(be: TensorOwner, what: string, t1: Tensor, t2: Tensor, t3?: Tensor): void {
  // the message is built only when a check fails (checkTensor then throws it)
  if (!ok(t1, be)) checkTensor(be, t1, `${what} argument 1`);
  if (!ok(t2, be)) checkTensor(be, t2, `${what} argument 2`);
  if (t3 !== undefined) {
    if (!ok(t3, be)) checkTensor(be, t3, `${what} argument 3`);
    if (!dimsEqual(t3.shape, t2.shape)) expectShape(t3.shape, t2.shape, `${what} argument 3`);
  }
  if (!dimsEqual(t1.shape, t2.shape)) expectShape(t1.shape, t2.shape, `${what} argument 1`);
}

/** The checked entry of table kernel `name`: its signature's checks, then the trusted call. */
export function tableCheck(be: TensorOwner, t: TrustedKernels, name: TableName): TensorSignatures[TableEntry['sig']] {
  const e: TableEntry = TABLE[name];
  const names = e.names ?? (e.sig === 'map' || e.sig === 'mapScalar' ? ['out', 'x'] : ['out', 'a', 'b']);
  const aliasFirst = e.alias === 'first', aliasNone = e.alias === 'none';
  switch (e.sig) {
    case 'map': {
      const run = t[name] as TensorSignatures['map'];
      return (out: Tensor, x: Tensor) => { same(be, name, out, x); return run(out, x); };
    }
    case 'zip': {
      const run = t[name] as TensorSignatures['zip'];
      return (out: Tensor, a: Tensor, b: Tensor) => {
        same(be, name, out, a, b);
        if (aliasFirst && out === b && out !== a) throw new ShapeError(`${name}: ${names[0]} may alias ${names[1]}, not ${names[2]}`);
        return run(out, a, b);
      };
    }
    case 'mapScalar': {
      const run = t[name] as TensorSignatures['mapScalar'];
      return (out: Tensor, x: Tensor, alpha: number) => {
        same(be, name, out, x);
        checkNumber(alpha, `${name} alpha`);
        if (aliasNone && out === x) throw new ShapeError(`${name}: ${names[0]} must not be ${names[1]}`);
        return run(out, x, alpha);
      };
    }
    case 'zipScalar': {
      const run = t[name] as TensorSignatures['zipScalar'];
      return (out: Tensor, a: Tensor, b: Tensor, alpha: number) => {
        same(be, name, out, a, b);
        checkNumber(alpha, `${name} alpha`);
        return run(out, a, b, alpha);
      };
    }
    case 'reduce': {
      const run = t[name] as TensorSignatures['reduce'];
      return (x: Tensor) => { checkTensor(be, x, `${name} x`); return run(x); };
    }
    case 'reduce2': {
      const run = t[name] as TensorSignatures['reduce2'];
      return (a: Tensor, b: Tensor) => {
        same(be, name, a, b);
        if (a.size === 0) throw new ShapeError(`${name}: expected at least one element, got an empty tensor`);
        return run(a, b);
      };
    }
  }
}
