/**
 * The heavy suite (`npm run test:heavy`, also run by .ci/run): the same properties as the
 * main suite at sizes and lengths too slow for `npm test`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBackend, nn, optim, type Backend, type Tensor } from '../../src/index.js';
import { WasmAllocator } from '../../src/backend/wasm/allocator.js';
import { firstBitDiff, randomF32 } from '../helpers.js';

let wasm: Backend, js: Backend;
beforeAll(async () => {
  [wasm, js] = await Promise.all([loadBackend('wasm'), loadBackend('js')]);
});

function both<T>(f: (be: Backend) => T): [T, T] {
  return [f(wasm), f(js)];
}

describe('large kernels: wasm and js give the same bits', () => {
  it.each([
    [515, 700, 261, false, false], [300, 1030, 129, true, false], [257, 513, 333, false, true], [129, 777, 200, true, true],
  ])('matmul %ix%ix%i transA %s transB %s, with and without accumulate', (m, k, n, transA, transB) => {
    const a = randomF32(m * k, 1), b = randomF32(k * n, 2), c0 = randomF32(m * n, 3);
    const [rw, rj] = both((be) => {
      const ta = be.tensor(transA ? [k, m] : [m, k], a), tb = be.tensor(transB ? [n, k] : [k, n], b);
      const out = be.tensor([m, n], c0);
      be.kernels.matmul(out, ta, tb, { transA, transB, accumulate: true });
      const acc = out.data.slice();
      be.kernels.matmul(out, ta, tb, { transA, transB });
      const plain = out.data.slice();
      [ta, tb, out].forEach((t) => t.dispose());
      return [acc, plain];
    });
    expect(firstBitDiff(rw[0]!, rj[0]!)).toBe(-1);
    expect(firstBitDiff(rw[1]!, rj[1]!)).toBe(-1);
  });

  it('every elementwise kernel on 2^22 + 13 elements', () => {
    const n = (1 << 22) + 13;
    const x = randomF32(n, 4, 3), y = randomF32(n, 5, 3);
    const [rw, rj] = both((be) => {
      const k = be.kernels;
      const tx = be.tensor([n], x), ty = be.tensor([n], y), out = be.zeros([n]);
      const res: Float32Array[] = [];
      const sums: number[] = [k.sum(tx), k.sumSquares(tx), k.mse(tx, ty)];
      for (const op of [() => k.add(out, tx, ty), () => k.mul(out, tx, ty), () => k.scale(out, tx, 0.37), () => k.relu(out, tx),
        () => k.reluBackward(out, ty, tx), () => k.softThreshold(out, tx, 0.5), () => k.mseBackward(out, tx, ty, 1e-3)]) {
        op();
        res.push(out.data.slice());
      }
      k.axpy(ty, tx, -0.25);
      res.push(ty.data.slice());
      [tx, ty, out].forEach((t) => t.dispose());
      return { res, sums };
    });
    rw.res.forEach((r, i) => expect(firstBitDiff(r, rj.res[i]!), `op ${i}`).toBe(-1));
    expect(rw.sums).toEqual(rj.sums);
  });

  it('dropout on 2^24 + 7 elements: same mask, drop rate within 5 sigma, lanes unbiased', () => {
    const n = (1 << 24) + 7;
    for (const p of [0.1, 0.5, 0.9]) {
      const masks = both((be) => {
        const x = be.zeros([n]); const out = be.zeros([n]); const mask = be.zeros([n]);
        const rng = be.rng(2024);
        be.kernels.dropout(out, x, p, rng, mask);
        const m = mask.data.slice();
        [x, out, mask].forEach((t) => t.dispose()); rng.dispose();
        return m;
      });
      expect(firstBitDiff(masks[0], masks[1])).toBe(-1);
      const m = masks[0];
      const perLane = new Float64Array(16);
      let dropped = 0;
      for (let i = 0; i < n; i++) if (m[i] === 0) { dropped++; perLane[i % 16]!++; }
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(dropped - n * p)).toBeLessThan(5 * sigma);
      const laneN = n / 16, laneSigma = Math.sqrt(laneN * p * (1 - p));
      for (let j = 0; j < 16; j++) expect(Math.abs(perLane[j]! - laneN * p), `lane ${j}`).toBeLessThan(5 * laneSigma);
    }
  });

  it('optimizer steps on 2^22 parameters over 20 steps', () => {
    const n = 1 << 22;
    const p0 = randomF32(n, 6), grads = Array.from({ length: 4 }, (_, i) => randomF32(n, 10 + i, 0.1));
    const [rw, rj] = both((be) => {
      const out: Float32Array[] = [];
      for (const make of [
        (p: Tensor) => new optim.AdamW([p], { lr: 1e-2, weightDecay: 0.1, amsgrad: true, l1: 1e-3 }),
        (p: Tensor) => new optim.Adam([p], { lr: 1e-2, weightDecay: 0.1 }),
        (p: Tensor) => new optim.SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
      ]) {
        const p = be.param([n], p0);
        const opt = make(p);
        for (let s = 0; s < 20; s++) { p.grad!.data.set(grads[s % 4]!); opt.step(); }
        out.push(p.data.slice());
        opt.dispose(); p.dispose();
      }
      return out;
    });
    rw.forEach((r, i) => expect(firstBitDiff(r, rj[i]!), `optimizer ${i}`).toBe(-1));
  });
});

describe('long training runs', () => {
  it('2,000 steps of a dropout MLP with AdamW: wasm and js identical, memory flat on both', () => {
    const run = (be: Backend) => {
      const model = new nn.Sequential(new nn.Linear(be, 20, 64, { seed: 1 }), new nn.ReLU(), new nn.Dropout(0.3, { seed: 9 }), new nn.Linear(be, 64, 5, { seed: 2 }));
      const opt = new optim.AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0.05 });
      const x = be.tensor([32, 20], randomF32(32 * 20, 77));
      const labels = Int32Array.from({ length: 32 }, (_, i) => (i * 7) % 5);
      const losses: number[] = [];
      let mem0 = be.memory();
      for (let s = 0; s < 2000; s++) {
        opt.zeroGrad();
        const loss = be.crossEntropy(model.forward(x), labels);
        loss.backward();
        opt.step();
        losses.push(loss.item());
        if (s === 10) mem0 = be.memory();
      }
      const mem1 = be.memory();
      const weights = model.parameters().map((p) => p.data.slice());
      opt.dispose(); model.dispose(); x.dispose(); be.endStep();
      return { losses, weights, mem0, mem1 };
    };
    const [w, j] = both(run);
    expect(w.losses).toEqual(j.losses);
    w.weights.forEach((p, i) => expect(firstBitDiff(p, j.weights[i]!)).toBe(-1));
    expect(w.losses[1999]!).toBeLessThan(w.losses[0]! * 0.5);
    for (const r of [w, j]) expect(r.mem1).toEqual(r.mem0);
  });
});

describe('allocator stress', () => {
  it('200,000 random allocations and frees never overlap, reuse memory, and stay bounded', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const alloc = new WasmAllocator(memory, 1024);
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const live = new Map<number, { bytes: number; tag: number }>();
    let peak = 0;
    for (let i = 0; i < 200000; i++) {
      if (live.size > 0 && (rand() < 0.5 || live.size > 300)) {
        const keys = [...live.keys()];
        const ptr = keys[Math.floor(rand() * keys.length)]!;
        const { bytes, tag } = live.get(ptr)!;
        const u = new Uint8Array(memory.buffer, ptr, bytes);
        // the block still holds its own tag: nobody else wrote into it
        expect(u[0]).toBe(tag); expect(u[bytes - 1]).toBe(tag);
        alloc.release(ptr);
        live.delete(ptr);
      } else {
        const bytes = 1 + Math.floor(rand() ** 3 * 200000);
        const ptr = alloc.alloc(bytes);
        expect(ptr % 64).toBe(0);
        const tag = i & 255;
        new Uint8Array(memory.buffer, ptr, bytes).fill(tag);
        live.set(ptr, { bytes, tag });
        peak = Math.max(peak, [...live.values()].reduce((s, b) => s + WasmAllocator.sizeClass(b.bytes), 0));
      }
    }
    for (const ptr of live.keys()) alloc.release(ptr);
    expect(alloc.liveBlocks).toBe(0);
    // reuse keeps the heap within a small multiple of the peak live bytes
    expect(alloc.usedBytes).toBeLessThan(peak * 4);
  });
});

describe('the 4 GiB limit of a Wasm heap', () => {
  it('fill it with [4096, 4096] tensors until it cannot grow: the failure changes nothing; after disposing, any size fits again', async () => {
    const be = await loadBackend('wasm', { threads: 1 });
    const ref = await loadBackend('js');
    const held: Tensor[] = [];
    let err: unknown = null;
    for (;;) {
      const before = be.memory();
      try { held.push(be.zeros([4096, 4096])); } catch (e) { err = e; expect(be.memory()).toEqual(before); break; }
    }
    expect(err).toBeInstanceOf(RangeError);
    expect(String(err)).toMatch(/out of Wasm memory: cannot allocate 67108864 bytes/);
    const heap = be.memory().heapBytes;
    expect(heap).toBeGreaterThan(3.9 * 2 ** 30);
    const small = [be.tensor([5], [1, 2, 3, 4, 5]), be.zeros([100]), be.zeros([7])];
    for (const t of held) t.dispose();
    expect(be.memory().liveTensors).toBe(3);
    // larger than any block freed, and a 512³ matmul with its packing scratch: from merged free memory
    const wide = be.zeros([4096, 4097]);
    const a = randomF32(512 * 512, 1), b = randomF32(512 * 512, 2);
    const A = be.tensor([512, 512], a), B = be.tensor([512, 512], b), out = be.zeros([512, 512]);
    be.kernels.matmul(out, A, B);
    const jo = ref.zeros([512, 512]);
    ref.kernels.matmul(jo, ref.tensor([512, 512], a), ref.tensor([512, 512], b));
    expect(firstBitDiff(out.data, jo.data)).toBe(-1);
    expect(be.memory().heapBytes).toBe(heap);
    for (const t of [wide, A, B, out, ...small]) t.dispose();
    expect(be.memory()).toEqual({ liveTensors: 0, liveBytes: 0, heapBytes: heap });
  });
});
