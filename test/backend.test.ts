import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { loadBackend, BackendLoadError, DisposedError, ShapeError, wasmSimdSupported, fit, nn, optim } from '../src/index.js';
import { decodeBase64 } from '../src/data/index.js';
import { WASM_BASE64, WORKER_SOURCE } from '../src/backend/wasm/embedded.generated.js';
import { KERNEL_NAMES } from '../src/backend/raw.js';
import { WasmAllocator } from '../src/backend/wasm/allocator.js';
import { WasmStorage } from '../src/backend/wasm/index.js';
import { WASM_HELPERS } from '../src/backend/wasm/context.js';

describe('loadBackend', () => {
  it('loads wasm in Node from the binary built into the package', async () => {
    expect(wasmSimdSupported()).toBe(true);
    const be = await loadBackend('wasm');
    expect(be.kind).toBe('wasm');
  });

  it("'auto' picks wasm where SIMD validates", async () => {
    expect((await loadBackend('auto')).kind).toBe('wasm');
    expect((await loadBackend('js')).kind).toBe('js');
  });

  it('accepts bytes and a compiled WebAssembly.Module', async () => {
    const bytes = await readFile(new URL('../build/regula.wasm', import.meta.url));
    expect((await loadBackend('wasm', { wasm: bytes })).kind).toBe('wasm');
    const mod = await WebAssembly.compile(bytes);
    const be = await loadBackend('wasm', { wasm: mod });
    const t = be.tensor([2], [1, 2]);
    expect(Array.from(t.data)).toEqual([1, 2]);
  });

  it('rejects a missing or wrong binary with a message that speaks to a user of the installed package', async () => {
    const err = await loadBackend('wasm', { wasm: new URL('file:///nonexistent/regula.wasm') }).catch((e) => e);
    expect(err).toBeInstanceOf(BackendLoadError);
    expect(err.message).toMatch(/given as \{ wasm: "file:\/\/\/nonexistent\/regula\.wasm" \}/);
    expect(err.message).toMatch(/regula\/regula\.wasm/);
    expect(err.message).not.toMatch(/npm run/);
    const bad = await loadBackend('wasm', { wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]) }).catch((e) => e);
    expect(bad).toBeInstanceOf(BackendLoadError);
    expect(bad.message).toMatch(/must be the binary of this regula version/);
    expect(bad.message).not.toMatch(/npm run/);
    const badMt = await loadBackend('wasm', { threads: 2, wasm: new Uint8Array(8), wasmThreads: new Uint8Array(8) }).catch((e) => e);
    expect(badMt).toBeInstanceOf(BackendLoadError);
    expect(badMt.message).toMatch(/given as \{ wasmThreads: /);
  });

  it("'auto' falls back to js when the Wasm cannot be loaded, with the reason in be.info()", async () => {
    for (const threads of [1, 2]) {
      const be = await loadBackend('auto', { threads, wasm: '/nonexistent/regula.wasm', wasmThreads: '/nonexistent/regula-mt.wasm' });
      expect(be.kind).toBe('js');
      const info = be.info();
      expect(info).toMatchObject({ kind: 'js', threads: 1, sharedMemory: false });
      expect(info.reason).toMatch(/^'auto' fell back to js: regula: cannot read the Wasm binary given as \{ wasm(Threads)?: "\/nonexistent/);
      // and it trains: the same bits as a js backend loaded directly
      const x = be.tensor([2, 3], [1, 2, 3, 4, 5, 6]);
      const w = be.param([3, 2], [0.5, -1, 2, 0.25, -0.75, 1.5]);
      const loss = be.mean(be.matmul(x, w));
      loss.backward();
      expect(loss.item()).toBe(Math.fround((1 * 0.5 + 2 * 2 + 3 * -0.75 + 1 * -1 + 2 * 0.25 + 3 * 1.5 + 4 * 0.5 + 5 * 2 + 6 * -0.75 + 4 * -1 + 5 * 0.25 + 6 * 1.5) / 4));
    }
    // 'wasm' does not fall back: the same options reject
    await expect(loadBackend('wasm', { threads: 1, wasm: '/nonexistent/regula.wasm' })).rejects.toThrow(BackendLoadError);
    // a bad option is the caller's mistake, not a load failure: 'auto' rejects too
    await expect(loadBackend('auto', { threads: 0 })).rejects.toThrow(RangeError);
  });

  it('the built-in binary and worker are the ones build/regula.wasm and worker.ts hold (scripts/embed.mjs ran; the shared-memory binary is derived: test/binary.test.ts)', async () => {
    expect(Buffer.from(decodeBase64(WASM_BASE64)).equals(await readFile(new URL('../build/regula.wasm', import.meta.url)))).toBe(true);

    // the worker text has no import, no require and no top-level await: it runs from a blob: or data: URL as it is
    expect(WORKER_SOURCE).toMatch(/parentPort\.once\('message'/);
    expect(WORKER_SOURCE).not.toMatch(/^\s*import\b|\brequire\(|\bimport\(|^\s*await\b/m);
  });

  it('rejects an unknown kind', async () => {
    await expect(loadBackend('gpu' as never)).rejects.toThrow(TypeError);
  });

  it('the shipped binary exports every raw kernel by its name and nothing else but the glue helpers', async () => {
    const module = await WebAssembly.compile(await readFile(new URL('../build/regula.wasm', import.meta.url)));
    const exported = WebAssembly.Module.exports(module).map((e) => e.name).sort();
    expect(exported).toEqual([...KERNEL_NAMES, ...Object.keys(WASM_HELPERS), 'memory'].sort());
  });

  it('a binary that lacks an export the glue calls fails at load with BackendLoadError naming it: built in, a regula bug; given, not this version\'s', async () => {
    const bytes = await readFile(new URL('../build/regula.wasm', import.meta.url));
    const memory = new WebAssembly.Memory({ initial: 2 });
    const { instance } = await WebAssembly.instantiate(bytes, { env: { memory, abort: () => undefined } });
    const info = { threads: 1, sharedMemory: false, reason: null, requested: 1, degraded: false };
    for (const missing of ['add', 'sign', 'crossEntropy', 'matmulKC', 'heapBase']) {
      const exports: Record<string, unknown> = { ...instance.exports };
      delete exports[missing];
      for (const given of [null, '{ wasm: "old/regula.wasm" }']) {
        const err = (() => { try { new WasmStorage(exports as never, memory, info, given); } catch (e) { return e as Error; } return null; })();
        expect(err, missing).toBeInstanceOf(BackendLoadError);
        expect(err!.message).toContain(`lacks the export ${missing}`);
        if (given === null) {
          expect(err!.message).toMatch(/^regula: its built-in Wasm binary lacks the export \w+\. This is a bug in regula: please report it/);
        } else {
          expect(err!.message).toMatch(/^regula: the Wasm binary given as \{ wasm: "old\/regula.wasm" \} lacks the export \w+\. It must be the binary of this regula version/);
          expect(err!.message).not.toMatch(/bug in regula/);
        }
      }
    }
  });
});

describe.each(['wasm', 'js'] as const)('tensors on %s', (kind) => {
  it('copies data in and exposes a live view', async () => {
    const be = await loadBackend(kind);
    const t = be.tensor([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    t.data[0] = 9;
    expect(t.data[0]).toBe(9);
    const z = be.zeros([0, 4]);
    expect(z.size).toBe(0);
    expect(z.data.length).toBe(0);
    t.dispose(); z.dispose();
    expect(be.memory().liveTensors).toBe(0);
  });

  it('params carry a zero grad of the same shape', async () => {
    const be = await loadBackend(kind);
    const w = be.param([3, 4]);
    expect(w.requiresGrad).toBe(true);
    expect(w.grad!.shape).toEqual([3, 4]);
    expect(Array.from(w.grad!.data).every((x) => x === 0)).toBe(true);
    expect(be.memory().liveTensors).toBe(2);
    w.dispose();
    expect(be.memory().liveTensors).toBe(0);
  });

  it('rejects bad shapes and data with clear errors', async () => {
    const be = await loadBackend(kind);
    expect(() => be.tensor([2, -1])).toThrow(ShapeError);
    expect(() => be.tensor([2, 1.5])).toThrow(/shape\[1\]: expected an integer ≥ 0, got 1.5/);
    expect(() => be.tensor([2, 3], [1, 2, 3])).toThrow(/holds 6 elements, but data has length 3/);
    expect(() => be.tensor('2' as never)).toThrow(TypeError);
    expect(() => be.rng(-1)).toThrow(RangeError);
    expect(be.memory().liveTensors).toBe(0);
  });

  it('throws DisposedError on use after dispose', async () => {
    const be = await loadBackend(kind);
    const t = be.tensor([2], [1, 2]);
    t.dispose();
    expect(() => t.data).toThrow(DisposedError);
    expect(() => be.kernels.relu(t, t)).toThrow(DisposedError);
    t.dispose(); // a second dispose is a no-op
    expect(be.memory().liveTensors).toBe(0);
  });

  it('keeps data views valid after the memory grows', async () => {
    const be = await loadBackend(kind);
    const t = be.tensor([4], [1, 2, 3, 4]);
    const before = be.memory().heapBytes;
    const big = be.zeros([8 * 1024 * 1024]); // 32 MiB forces a grow on wasm
    if (kind === 'wasm') expect(be.memory().heapBytes).toBeGreaterThan(before);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
    big.dispose(); t.dispose();
  });

  it('20,000 tensors allocated and disposed leave nothing live and the heap bounded', async () => {
    const be = await loadBackend(kind);
    const sizes = [1, 3, 17, 64, 100, 1000, 4097];
    const warm = sizes.map((n) => be.zeros([n]));
    warm.forEach((t) => t.dispose());
    const heap0 = be.memory().heapBytes;
    const held = [];
    for (let i = 0; i < 20000; i++) {
      held.push(be.zeros([sizes[i % sizes.length]!]));
      if (held.length > 5) held.shift()!.dispose();
    }
    held.forEach((t) => t.dispose());
    const mem = be.memory();
    expect(mem.liveTensors).toBe(0);
    expect(mem.liveBytes).toBe(0);
    if (kind === 'wasm') expect(mem.heapBytes).toBeLessThanOrEqual(heap0 + 65536 * 2);
  });
});

describe('WasmAllocator', () => {
  it('rounds block sizes up to the next multiple of 64 bytes (at least 64)', () => {
    for (const n of [1, 63, 64, 65, 1000, 1024, 1025, 4096, 5000, 1 << 20, (1 << 20) + 1, 123456789]) {
      const c = WasmAllocator.sizeClass(n);
      expect(c).toBeGreaterThanOrEqual(Math.max(n, 64));
      expect(c % 64).toBe(0);
      expect(c).toBeLessThan(Math.max(n, 64) + 64);
    }
  });

  it('aligns to 64 bytes, never hands out 0, reuses freed blocks, rejects a bad free', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const a = new WasmAllocator(memory, 10);
    const p = a.alloc(100);
    expect(p % 64).toBe(0);
    expect(p).toBeGreaterThan(0);
    a.release(p);
    expect(a.alloc(90)).toBe(p); // the freed block went back to the top; the same address again
    expect(() => a.release(12345)).toThrow(/not an allocated block/);
    const big = a.alloc(200000);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(big + 200000);
  });
});

describe.each(['wasm', 'js'] as const)('checks before anything is read or written (%s)', (kind) => {
  it('be.crossEntropy(null, labels) says what was expected instead of reading a property of null', async () => {
    const be = await loadBackend(kind);
    expect(() => be.crossEntropy(null as never, Int32Array.of(0))).toThrow(/crossEntropy logits: expected a Tensor, got null/);
    expect(be.memory().liveTensors).toBe(0);
  });

  it('fit() rejects a seed above 2^32 − 1 (mulberry32 would truncate it), as be.rng and the layers do', async () => {
    const be = await loadBackend(kind);
    const model = new nn.Sequential(new nn.Linear(be, 2, 2, { seed: 1 }));
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const data = { x: new Float32Array(4), y: Int32Array.of(0, 1), n: 2, d: 2 };
    for (const seed of [2 ** 32, 2 ** 32 + 7, -1, 0.5]) {
      await expect(fit(model, data, { optimizer: opt, loss: 'crossEntropy', epochs: 1, seed })).rejects.toThrow(/fit: options\.seed: expected an integer seed in \[0, 2\^32 − 1\]/);
    }
    expect(() => be.rng(2 ** 32)).toThrow(/expected an integer seed in \[0, 2\^32 − 1\]/);
    expect(() => new nn.Linear(be, 2, 2, { seed: 2 ** 32 })).toThrow(/expected an integer seed in \[0, 2\^32 − 1\]/);
    opt.dispose(); model.dispose();
  });

  it('backward() with a parameter grad the user disposed or replaced throws before any grad changes', async () => {
    const be = await loadBackend(kind);
    const other = await loadBackend(kind === 'wasm' ? 'js' : 'wasm');
    const bad: [string, () => unknown, RegExp][] = [
      ['disposed', () => { const t = be.zeros([3]); t.dispose(); return t; }, /backward\(\): the grad of a parameter of shape \[3\]: the tensor of shape \[3\] was disposed/],
      ['a Float32Array', () => new Float32Array(3), /the grad of a parameter of shape \[3\]: expected a Tensor, got a Float32Array/],
      ['of another backend', () => other.zeros([3]), /belongs to another backend/],
      ['of another shape', () => be.zeros([4]), /expected shape \[3\], got \[4\]/],
    ];
    for (const which of [0, 1]) {
      for (const [what, make, re] of bad) {
        const ps = [be.param([3], [1, 2, 3]), be.param([3], [4, 5, 6])];
        ps.forEach((p) => p.grad!.data.fill(0.5));
        const loss = be.add(be.sum(be.relu(ps[0]!)), be.sum(be.scale(ps[1]!, 2)));
        const keep = ps[which]!.grad!;
        ps[which]!.grad = make() as never;
        expect(() => loss.backward(), `${what}, parameter ${which}`).toThrow(re);
        expect(Array.from(ps[1 - which]!.grad!.data), `${what}, parameter ${which}`).toEqual([0.5, 0.5, 0.5]);
        ps[which]!.grad = keep;
        loss.backward(); // the graph is intact: the same loss goes backward once fixed
        expect(Array.from(ps[1]!.grad!.data)).toEqual([2.5, 2.5, 2.5]);
        ps.forEach((p) => p.dispose());
      }
    }
  });
});
