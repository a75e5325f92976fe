import type { ElementwiseName, RawKernels, Registration, TableName } from '../raw.js';
import { ELEMENTWISE_NAMES, EXPLICIT, TABLE, TABLE_NAMES } from '../raw.js';
import type { WasmContext, WasmExportName } from './context.js';
import { chunkSize, type RangeCall } from './threads.js';

type K = RawKernels<number, number, number>;

/**
 * Elementwise passes over at least this many floats are cut into contiguous chunks that
 * the threads claim (measured on 2 cores; see bench/PROFILE.md). Chunks start at multiples of 16
 * floats (64 bytes), so the SIMD loop and the scalar tail see the same elements as in one
 * call and every output gets the same bits. Reductions (sum, sumRows, mse, crossEntropy)
 * stay on one thread: their summation order is part of their contract.
 */
export const ELEMENTWISE_THREAD_MIN = 1 << 18;
/** The smallest chunk of a threaded elementwise pass (floats): a chunk is worth a claim. */
const ELEMENTWISE_CHUNK_MIN = 1 << 14;

/** Whether a table kernel is elementwise (map/zip with or without a scalar), so it may be cut into chunks. */
export function splittable(name: TableName): boolean {
  const sig = TABLE[name].sig;
  return sig !== 'reduce' && sig !== 'reduce2';
}

/** The exports the thread pool runs for this file (the glue cuts their calls into parts): from TABLE and EXPLICIT. */
export const ELEMENTWISE_THREADED: readonly WasmExportName[] = ['addRowVector', ...ELEMENTWISE_NAMES, ...TABLE_NAMES.filter(splittable)];

/**
 * The table kernels (src/backend/raw.ts TABLE), the elementwise factory's kernels
 * (`elementwise` in EXPLICIT) and addRowVector, for the wasm backend: calls into assembly/,
 * elementwise ones cut into chunks on the pool above ELEMENTWISE_THREAD_MIN.
 */
export function elementwiseKernels(ctx: WasmContext): Partial<K> {
  // One range call, reused: pointers advance 4 bytes per element, the count is the chunk's length.
  const call: RangeCall = { fn: 0, end: 0, step: 0, args: [0, 0, 0, 0, 0], start: [0, 0, 0, 0, 0], len: [0, 0, 0, 0, 0], rerunnable: false };
  /** fn(p0[, p1[, p2]], n, s0) over n floats, in chunks on the pool (ctx.pool non-null); `out`: p0 is only written. */
  const split = (name: WasmExportName, n: number, nptr: number, p0: number, p1: number, p2: number, s0: number, out: boolean): void => {
    const pool = ctx.pool!;
    const args = call.args as number[], start = call.start as number[], len = call.len as number[];
    args[0] = p0; args[1] = p1; args[2] = p2; args[nptr] = 0; args[nptr + 1] = s0;
    for (let i = 0; i < 5; i++) { start[i] = i < nptr ? 4 : 0; len[i] = i === nptr ? 1 : 0; }
    call.fn = pool.fn(name); call.end = n; call.step = chunkSize(n, pool.size, 16, ELEMENTWISE_CHUNK_MIN);
    call.rerunnable = out && (nptr < 2 || p0 !== p1) && (nptr < 3 || p0 !== p2);
    pool.run(call);
  };
  const rowCall: RangeCall = { fn: 0, end: 0, step: 0, args: [0, 0, 0, 0, 0], start: [0, 0, 0, 0, 0], len: [0, 0, 0, 1, 0], rerunnable: false };
  const big = (n: number) => n >= ELEMENTWISE_THREAD_MIN && ctx.pool !== null;

  /** The glue of one table kernel, by its signature (the export takes the same arguments). */
  const table = (name: TableName): unknown => {
    const fn = ctx.fn(name);
    const e: { sig: string; readsOut?: boolean } = TABLE[name];
    const out = e.readsOut !== true;
    switch (TABLE[name].sig) {
      case 'map': return (o: number, x: number, n: number) => { if (big(n)) split(name, n, 2, o, x, 0, 0, out); else fn(o, x, n); };
      case 'zip': return (o: number, a: number, b: number, n: number) => { if (big(n)) split(name, n, 3, o, a, b, 0, out); else fn(o, a, b, n); };
      case 'mapScalar': return (o: number, x: number, n: number, s: number) => { if (big(n)) split(name, n, 2, o, x, 0, s, out); else fn(o, x, n, s); };
      case 'zipScalar': return (o: number, a: number, b: number, n: number, s: number) => { if (big(n)) split(name, n, 3, o, a, b, s, out); else fn(o, a, b, n, s); };
      case 'reduce': return (x: number, n: number) => fn(x, n);
      case 'reduce2': return (a: number, b: number, n: number) => fn(a, b, n);
    }
  };
  const tableKernels = Object.fromEntries(TABLE_NAMES.map((name) => [name, table(name)])) as Pick<K, TableName>;

  /** The glue of a kernel of the elementwise factory (src/backend/raw.ts Elementwise): (p0[, p1[, p2]], n[, scalar]). */
  const elements = (name: ElementwiseName): unknown => {
    const r: Registration = EXPLICIT[name], fn = ctx.fn(name), out = r.readsOut !== true;
    switch (r.elements) {
      case 1: return (p0: number, n: number, s = 0) => { if (big(n)) split(name, n, 1, p0, 0, 0, s, out); else fn(p0, n, s); };
      case 2: return (p0: number, p1: number, n: number, s = 0) => { if (big(n)) split(name, n, 2, p0, p1, 0, s, out); else fn(p0, p1, n, s); };
      case 3: return (p0: number, p1: number, p2: number, n: number, s = 0) => { if (big(n)) split(name, n, 3, p0, p1, p2, s, out); else fn(p0, p1, p2, n, s); };
    }
  };
  const splitKernels = Object.fromEntries(ELEMENTWISE_NAMES.map((name) => [name, elements(name)])) as Partial<K>;

  const addRowVector = ctx.fn('addRowVector');
  return {
    ...tableKernels,
    ...splitKernels,
    addRowVector(out, x, b, rows, cols) {
      if (!big(rows * cols) || rows < 2 * ctx.pool!.size) { addRowVector(out, x, b, rows, cols); return; }
      // Rows are independent: any cut between rows computes exactly what one call does.
      const pool = ctx.pool!, args = rowCall.args as number[], start = rowCall.start as number[];
      args[0] = out; args[1] = x; args[2] = b; args[3] = 0; args[4] = cols;
      start[0] = start[1] = 4 * cols;
      rowCall.fn = pool.fn('addRowVector'); rowCall.end = rows; rowCall.step = chunkSize(rows, pool.size, 1, Math.ceil(ELEMENTWISE_CHUNK_MIN / cols));
      rowCall.rerunnable = out !== x;
      pool.run(rowCall);
    },
  };
}
