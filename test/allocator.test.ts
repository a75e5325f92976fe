/**
 * Memory at its limit, on a Wasm memory with a small declared maximum (the same code path
 * as the 4 GiB limit, which test/heavy/ exercises): a failed allocation changes nothing, a
 * scratch slot that cannot grow keeps its block, freed memory serves any later size, and
 * be.memory() stays exact after every failure on both backends.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { Backend, loadBackend, type Tensor } from '../src/index.js';
import { WasmStorage } from '../src/backend/wasm/index.js';
import { erase } from '../src/backend/storage.js';
import { WasmAllocator } from '../src/backend/wasm/allocator.js';
import type { WasmExports } from '../src/backend/wasm/context.js';
import { firstBitDiff, randomF32 } from './helpers.js';

const wasmBytes = await readFile(new URL('../build/regula.wasm', import.meta.url));
const js = await loadBackend('js');

/** A single-thread wasm backend whose memory can grow to `pages` 64 KiB pages and no further. */
async function smallBackend(pages: number): Promise<Backend> {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: pages });
  const { instance } = await WebAssembly.instantiate(wasmBytes, { env: { memory } });
  return new Backend(erase(new WasmStorage(instance.exports as unknown as WasmExports, memory)));
}

/** Allocates [n] tensors until one fails, then ever smaller ones down to 16 floats: afterwards not even 64 bytes are free. */
function fillUp(be: Backend, n: number): Tensor[] {
  const held: Tensor[] = [];
  for (let size = n; size >= 16; size = Math.floor(size / 2)) {
    for (;;) {
      try { held.push(be.zeros([size])); } catch (e) { expect(e).toBeInstanceOf(RangeError); break; }
    }
  }
  return held;
}

describe('wasm memory at its limit (a 4 MiB maximum)', () => {
  it('a failed allocation changes nothing; after disposing, a larger size than any freed block fits again', async () => {
    const be = await smallBackend(64);
    const held: Tensor[] = [];
    let err: unknown = null;
    for (;;) {
      const before = be.memory();
      try { held.push(be.zeros([256, 256])); } catch (e) { err = e; expect(be.memory()).toEqual(before); break; }
    }
    expect(err).toBeInstanceOf(RangeError);
    expect(String(err)).toMatch(/out of Wasm memory: cannot allocate 262144 bytes .* Dispose tensors/);
    expect(held.length).toBeGreaterThan(8);
    const heap = be.memory().heapBytes;
    // three small tensors stay, everything else is freed
    const small = [be.tensor([5], [1, 2, 3, 4, 5]), be.zeros([100]), be.zeros([7])];
    for (const t of held) t.dispose();
    expect(be.memory()).toEqual({ liveTensors: 3, liveBytes: 64 + 448 + 64, heapBytes: heap });
    // larger than any block freed: only merged free memory holds it
    const wide = be.zeros([256, 257]);
    const wide2 = be.zeros([256, 300]);
    // a matmul whose operands and packing scratch need memory that was freed
    const a = randomF32(128 * 200, 1), b = randomF32(200 * 96, 2);
    const A = be.tensor([128, 200], a), B = be.tensor([200, 96], b), out = be.zeros([128, 96]);
    be.kernels.matmul(out, A, B);
    const jo = js.zeros([128, 96]);
    js.kernels.matmul(jo, js.tensor([128, 200], a), js.tensor([200, 96], b));
    expect(firstBitDiff(out.data, jo.data)).toBe(-1);
    expect(Array.from(small[0]!.data)).toEqual([1, 2, 3, 4, 5]);
    expect(be.memory().heapBytes).toBe(heap); // all of it from reused memory
    for (const t of [wide, wide2, A, B, out, ...small]) t.dispose();
    expect(be.memory()).toEqual({ liveTensors: 0, liveBytes: 0, heapBytes: heap });
  });

  it('a scratch slot that cannot grow keeps its block: no later tensor shares it (crossEntropy labels)', async () => {
    const be = await smallBackend(40);
    const logits = be.tensor([4, 3], randomF32(12, 3));
    const l0 = be.kernels.crossEntropy(logits, new Int32Array([0, 1, 2, 0])); // the labels slot: one 64-byte block
    const bigLogits = be.zeros([3000, 3]);
    const held = fillUp(be, 1 << 16);
    const mem = be.memory();
    const many = new Int32Array(3000).map((_, i) => i % 3);
    // 12 KB of labels: the slot must grow, and cannot
    expect(() => be.kernels.crossEntropy(bigLogits, many)).toThrow(/out of Wasm memory/);
    expect(be.memory()).toEqual(mem);
    // a 64-byte tensor made now takes the only free memory there is: a block freed by us
    held.pop()!.dispose();
    const t = be.tensor([16], randomF32(16, 4));
    const want = t.data.slice();
    // the labels slot is still its own: writing labels into it leaves t alone
    expect(be.kernels.crossEntropy(logits, new Int32Array([0, 1, 2, 0]))).toBe(l0);
    expect(be.kernels.crossEntropy(logits, new Int32Array([2, 2, 1, 1]))).not.toBe(l0);
    expect(firstBitDiff(t.data, want)).toBe(-1);
    t.dispose();
    for (const x of held) x.dispose();
    logits.dispose(); bigLogits.dispose();
    expect(be.memory().liveTensors).toBe(0);
    expect(be.memory().liveBytes).toBe(0);
  });

  it('matmul packing scratch that cannot grow: the call throws, nothing changes, later calls are right', async () => {
    const be = await smallBackend(40);
    const mm = (m: number, k: number, n: number, x: Backend) => {
      const A = x.tensor([m, k], randomF32(m * k, m)), B = x.tensor([k, n], randomF32(k * n, n)), out = x.zeros([m, n]);
      x.kernels.matmul(out, A, B);
      const r = out.data.slice();
      A.dispose(); B.dispose(); out.dispose();
      return r;
    };
    expect(firstBitDiff(mm(8, 16, 8, be), mm(8, 16, 8, js))).toBe(-1); // slots exist, small
    const A = be.tensor([4, 256], randomF32(1024, 1)), B = be.tensor([256, 1000], randomF32(256000, 2)), out = be.zeros([4, 1000]);
    const held = fillUp(be, 1 << 16);
    const mem = be.memory();
    const outBefore = out.data.slice();
    expect(() => be.kernels.matmul(out, A, B)).toThrow(/out of Wasm memory/); // packing B needs 1 MB of scratch
    expect(be.memory()).toEqual(mem);
    expect(firstBitDiff(out.data, outBefore)).toBe(-1);
    for (const x of held) x.dispose();
    be.kernels.matmul(out, A, B);
    const jo = js.zeros([4, 1000]);
    js.kernels.matmul(jo, js.tensor([4, 256], A.data), js.tensor([256, 1000], B.data));
    expect(firstBitDiff(out.data, jo.data)).toBe(-1);
    expect(firstBitDiff(mm(8, 16, 8, be), mm(8, 16, 8, js))).toBe(-1);
    for (const x of [A, B, out]) x.dispose();
    expect(be.memory().liveBytes).toBe(0);
  });

  it('param(): when the grad cannot be allocated, the parameter is not left behind', async () => {
    const be = await smallBackend(40);
    const held = fillUp(be, 1 << 16);
    held.pop()!.dispose();
    for (;;) { try { held.push(be.zeros([16])); } catch { break; } }
    held.pop()!.dispose(); // room for one 64-byte tensor, not two
    const mem = be.memory();
    expect(() => be.param([16])).toThrow(/out of Wasm memory/);
    expect(be.memory()).toEqual(mem);
    for (const x of held) x.dispose();
  });
});

describe('WasmAllocator against a memory that runs out', () => {
  it('random allocations and frees with failures at the limit: blocks never overlap, a failure changes nothing, all of it comes back', () => {
    for (const seed of [1, 2, 3, 4]) {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 48 });
      const alloc = new WasmAllocator(memory, 1000);
      let s = seed;
      const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
      const live = new Map<number, { bytes: number; tag: number }>();
      let failures = 0;
      for (let i = 0; i < 6000; i++) {
        if (live.size > 0 && rand() < 0.45) {
          const keys = [...live.keys()];
          const ptr = keys[Math.floor(rand() * keys.length)]!;
          const { bytes, tag } = live.get(ptr)!;
          const u = new Uint8Array(memory.buffer, ptr, bytes);
          expect(u[0] === tag && u[bytes - 1] === tag, `seed ${seed}, step ${i}: block ${ptr} was overwritten`).toBe(true);
          alloc.release(ptr);
          live.delete(ptr);
        } else {
          const bytes = 1 + Math.floor(rand() ** 2 * 400_000);
          const state = [alloc.liveBlocks, alloc.liveBytes, alloc.usedBytes, alloc.freeBlocks];
          let ptr: number;
          try { ptr = alloc.alloc(bytes); } catch (e) {
            expect(e, `seed ${seed}`).toBeInstanceOf(RangeError);
            expect([alloc.liveBlocks, alloc.liveBytes, alloc.usedBytes, alloc.freeBlocks], `seed ${seed}, step ${i}`).toEqual(state);
            failures++;
            continue;
          }
          expect(ptr % 64).toBe(0);
          const tag = (i % 255) + 1;
          new Uint8Array(memory.buffer, ptr, bytes).fill(tag);
          live.set(ptr, { bytes, tag });
        }
      }
      expect(failures, `seed ${seed}: the limit was reached`).toBeGreaterThan(10);
      for (const [ptr, { bytes, tag }] of live) {
        expect(new Uint8Array(memory.buffer, ptr, bytes).every((v) => v === tag), `seed ${seed}`).toBe(true);
        alloc.release(ptr);
      }
      expect([alloc.liveBlocks, alloc.liveBytes, alloc.usedBytes, alloc.freeBlocks], `seed ${seed}`).toEqual([0, 0, 0, 0]);
      // the whole memory is one block again
      const all = memory.buffer.byteLength - 1024;
      const p = alloc.alloc(all);
      expect(p).toBe(1024);
      alloc.release(p);
    }
  });
});

describe('be.memory() after failures, both backends', () => {
  for (const kind of ['wasm', 'js'] as const) {
    it(`${kind}: a failed huge allocation and non-number data leave the accounting exact, with regula's errors`, async () => {
      const be = await loadBackend(kind, { threads: 1 });
      const before = be.memory();
      expect(() => be.zeros([2 ** 33])).toThrow(RangeError);
      expect(() => be.zeros([2 ** 33])).toThrow(/regula/);
      expect(be.memory()).toEqual(before);
      expect(() => be.tensor([2], [1n, 2n] as unknown as number[])).toThrow(/expected data of numbers, got bigint 1 at index 0/);
      expect(() => be.tensor([2], [1, '2'] as unknown as number[])).toThrow(/got string "2" at index 1/);
      expect(() => be.param([2], [1, {}] as unknown as number[])).toThrow(TypeError);
      expect(be.memory()).toEqual(before);
      const t = be.tensor([2], [1, 2]);
      expect(be.memory().liveTensors).toBe(before.liveTensors + 1);
      t.dispose();
      expect(be.memory()).toEqual(before);
    });
  }

  it('wasm: a tensor made from a view of its own heap is copied before the heap grows (no detached buffer)', async () => {
    const be = await loadBackend('wasm', { threads: 1 });
    const heap = be.memory().heapBytes;
    const src = be.tensor([heap / 4], randomF32(heap / 4, 6)); // makes the heap at least twice as large
    const heap2 = be.memory().heapBytes;
    const fromView = be.tensor([heap2 / 4], new Float32Array(heap2 / 4)); // grow once more
    fromView.dispose();
    const copy = be.tensor([heap2 / 2], new Float32Array(heap2 / 2).fill(1)); // and again, so src.data below is a view that growth detaches
    copy.dispose();
    const n = be.memory().heapBytes / 4 + 1;
    const view = be.zeros([n]);
    view.data.set(randomF32(n, 7));
    const made = be.tensor([n], view.data); // needs more memory than the heap has: it grows while reading `view.data`
    expect(be.memory().heapBytes).toBeGreaterThan(4 * n);
    expect(firstBitDiff(made.data, randomF32(n, 7))).toBe(-1);
    for (const x of [src, view, made]) x.dispose();
  });
});
