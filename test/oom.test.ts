/**
 * Out of memory partway through a composite operation leaves nothing half done (issue 20,
 * items 10-12), on both backends. The failure is made deterministic with the storage's
 * AllocLimit (the k-th allocation from now throws OutOfMemoryError; both backends honour
 * it before they allocate), swept over every allocation the operation makes, and once
 * with a real Wasm memory of a small declared maximum:
 * - a module constructor (GPT, Block, CausalSelfAttention, MLP, Linear, Embedding,
 *   LayerNorm) frees everything it had made, and the same constructor then succeeds with
 *   the same bits as one that never failed;
 * - backward() leaves every parameter's grad bitwise as it was, and frees its step memory;
 * - a failed GPT.forward leaves the dropout RNGs as they were: failed forwards, then clean
 *   ones, give bitwise the losses of the clean ones alone.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { Backend, OutOfMemoryError, loadBackend, nn } from '../src/index.js';
import { WasmStorage } from '../src/backend/wasm/index.js';
import { erase } from '../src/backend/storage.js';
import type { WasmExports } from '../src/backend/wasm/context.js';
import { firstBitDiff } from './helpers.js';

const [wasm, js] = await Promise.all([loadBackend('wasm', { threads: 1 }), loadBackend('js')]);
const BOTH = [wasm, js] as const;

/** Runs fn with the k-th allocation from now failing (k = 0: the first); returns the error fn threw, or null. */
function failingAt(be: Backend, k: number, fn: () => unknown): unknown {
  be._s._limit.allocations = k;
  try { fn(); return null; } catch (e) { return e; } finally { be._s._limit.allocations = null; }
}

/** How many allocations fn makes (it must succeed). */
function allocations(be: Backend, fn: () => void): number {
  const lots = 1e9;
  be._s._limit.allocations = lots;
  try { fn(); return lots - be._s._limit.allocations; } finally { be._s._limit.allocations = null; }
}

function live(be: Backend): { liveTensors: number; liveBytes: number } {
  const { liveTensors, liveBytes } = be.memory();
  return { liveTensors, liveBytes };
}

function bitsOf(m: nn.Module): Float32Array[] {
  return m.parameters().map((p) => p.data.slice());
}

function expectSameBits(a: Float32Array[], b: Float32Array[], what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(firstBitDiff(a[i]!, b[i]!), `${what}: tensor ${i}`).toBe(-1);
}

const CFG = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, seed: 5 };

describe('a module constructor that runs out of memory frees what it made (item 10)', () => {
  const makers: [string, (be: Backend) => nn.Module][] = [
    ['GPT (tied)', (be) => new nn.GPT(be, CFG)],
    ['GPT (untied, dropout)', (be) => new nn.GPT(be, { ...CFG, tieWeights: false, dropout: 0.1 })],
    ['Block', (be) => new nn.Block(be, 8, 2, { seed: 3 })],
    ['CausalSelfAttention', (be) => new nn.CausalSelfAttention(be, 8, 2, { seed: 3 })],
    ['MLP', (be) => new nn.MLP(be, 8, { seed: 3 })],
    ['Linear', (be) => new nn.Linear(be, 5, 3, { seed: 3 })],
    ['Embedding', (be) => new nn.Embedding(be, 7, 4, { seed: 3 })],
    ['LayerNorm', (be) => new nn.LayerNorm(be, 6)],
  ];
  for (const be of BOTH) {
    for (const [name, make] of makers) {
      it(`${be.kind}: ${name}, failing at every allocation it makes`, () => {
        const ref = make(be);
        const want = bitsOf(ref);
        ref.dispose();
        const before = live(be);
        const n = allocations(be, () => make(be).dispose());
        expect(n).toBeGreaterThanOrEqual(2); // a parameter and its grad at least
        for (let k = 0; k < n; k++) {
          const err = failingAt(be, k, () => make(be));
          expect(err, `failing at allocation ${k} of ${n}`).toBeInstanceOf(OutOfMemoryError);
          expect(String(err)).toMatch(/out of memory: cannot allocate \d+ bytes/);
          expect(live(be), `after failing at allocation ${k} of ${n}`).toEqual(before);
        }
        const m = make(be); // and then it works, with the bits of one that never failed
        expectSameBits(bitsOf(m), want, name);
        m.dispose();
        expect(live(be)).toEqual(before);
      });
    }
  }

  it('wasm at a real limit (a 4 MiB Wasm memory): new GPT fails with OutOfMemoryError, frees everything, a smaller GPT then fits', async () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 64 });
    const { instance } = await WebAssembly.instantiate(await readFile(new URL('../build/regula.wasm', import.meta.url)), { env: { memory } });
    const be = new Backend(erase(new WasmStorage(instance.exports as unknown as WasmExports, memory)));
    const before = live(be);
    // 2 layers of 12·256² floats (params and grads) ≈ 12.6 MB: more than 4 MiB
    let err: unknown = null;
    try { new nn.GPT(be, { vocabSize: 64, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 256, seed: 1 }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect((err as OutOfMemoryError).requested).toBeGreaterThan(0);
    expect(String(err)).toMatch(/out of Wasm memory: cannot allocate \d+ bytes/);
    expect(live(be)).toEqual(before);
    const small = new nn.GPT(be, { ...CFG, nEmbd: 64, nHead: 4 }); // fits only if the failed one's memory came back
    const ref = new nn.GPT(js, { ...CFG, nEmbd: 64, nHead: 4 });
    expectSameBits(bitsOf(small), bitsOf(ref), 'GPT after the failure');
    small.dispose(); ref.dispose();
    expect(live(be)).toEqual(before);
  });
});

/** Grads set to distinct non-zero values, so a half-done accumulation shows. */
function setGrads(model: nn.Module): void {
  model.parameters().forEach((p, j) => { const g = p.grad!.data; for (let i = 0; i < g.length; i++) g[i] = Math.fround(0.001 * ((i * 7 + j * 13) % 29) - 0.01); });
}

function gradBits(model: nn.Module): Float32Array[] {
  return model.parameters().map((p) => p.grad!.data.slice());
}

const IDS = Int32Array.from({ length: 16 }, (_, i) => (i * 5 + 1) % 11);
const TARGETS = Int32Array.from({ length: 16 }, (_, i) => (i * 3 + 2) % 11);

describe('backward() that runs out of memory leaves every grad as it was (item 11)', () => {
  for (const be of BOTH) {
    it(`${be.kind}: GPT, failing at every allocation of backward; step memory freed; then a clean backward gives the clean grads`, () => {
      const model = new nn.GPT(be, CFG);
      const loss = () => be.crossEntropy(model.forward(IDS, [2, 8]), TARGETS);
      setGrads(model);
      const start = gradBits(model);
      be.endStep(); be.releasePool();
      const before = live(be);
      // the allocations of one backward, with no spare step buffers to reuse
      const l0 = loss();
      be.releasePool();
      const n = allocations(be, () => l0.backward());
      const clean = gradBits(model);
      expect(clean.some((g, i) => firstBitDiff(g, start[i]!) >= 0)).toBe(true);
      setGrads(model);
      be.endStep(); be.releasePool();
      expect(n).toBeGreaterThan(10);
      for (let k = 0; k < n; k++) {
        const l = loss();
        be.releasePool(); // so backward allocates rather than reusing the forward's freed buffers
        const err = failingAt(be, k, () => l.backward());
        expect(err, `failing at allocation ${k} of ${n}`).toBeInstanceOf(OutOfMemoryError);
        expectSameBits(gradBits(model), start, `grads after failing at allocation ${k} of ${n}`);
        be.endStep(); be.releasePool();
        expect(live(be), `memory after failing at allocation ${k} of ${n}`).toEqual(before);
      }
      const l = loss();
      l.backward();
      expectSameBits(gradBits(model), clean, 'a clean backward after the failures');
      be.endStep();
      model.dispose();
    });
  }

  it('the grads a clean backward accumulates are the same bits on wasm and js', () => {
    const [a, b] = BOTH.map((be) => {
      const model = new nn.GPT(be, CFG);
      setGrads(model);
      be.crossEntropy(model.forward(IDS, [2, 8]), TARGETS).backward();
      const g = gradBits(model);
      be.endStep();
      model.dispose();
      return g;
    });
    expectSameBits(a!, b!, 'wasm vs js grads');
  });

  it('a parameter with no grad yet: a failed backward leaves it null, a clean one makes it', () => {
    for (const be of BOTH) {
      const w = be.tensor([4, 3], Float32Array.from({ length: 12 }, (_, i) => i / 10 - 0.5));
      w.requiresGrad = true;
      const x = be.tensor([2, 4], Float32Array.from({ length: 8 }, (_, i) => i / 7));
      const l = be.sum(be.matmul(x, w));
      be.releasePool();
      const n = allocations(be, () => l.backward());
      w.grad!.dispose(); w.grad = null;
      be.endStep(); be.releasePool();
      for (let k = 0; k < n; k++) {
        const lk = be.sum(be.matmul(x, w));
        be.releasePool();
        expect(failingAt(be, k, () => lk.backward())).toBeInstanceOf(OutOfMemoryError);
        expect(w.grad).toBe(null);
        be.endStep();
      }
      be.sum(be.matmul(x, w)).backward();
      // d sum(x·w) / d w[r][c] = x[0][r] + x[1][r]
      expect(Array.from(w.grad!.data)).toEqual(Array.from({ length: 12 }, (_, i) => Math.fround(x.data[Math.floor(i / 3)]! + x.data[4 + Math.floor(i / 3)]!)));
      be.endStep();
      for (const t of [w, x]) t.dispose();
    }
  });
});

describe('a GPT.forward that runs out of memory leaves the dropout RNGs as they were (item 12)', () => {
  for (const be of BOTH) {
    it(`${be.kind}: 13 failed forwards at different points, then clean ones, give the losses of the clean ones alone`, () => {
      const cfg = { ...CFG, dropout: 0.2 };
      const losses = (model: nn.GPT, runs: number): number[] => {
        const out: number[] = [];
        for (let i = 0; i < runs; i++) { out.push(be.crossEntropy(model.forward(IDS, [2, 8]), TARGETS).item()); be.endStep(); }
        return out;
      };
      const a = new nn.GPT(be, cfg);
      const want = losses(a, 3);
      a.dispose();
      const b = new nn.GPT(be, cfg);
      losses(b, 0);
      // the allocations of the first forward (RNGs made then) and of a later one (RNGs exist)
      be.releasePool();
      const probe = new nn.GPT(be, cfg);
      const first = allocations(be, () => { probe.forward(IDS, [2, 8]); });
      be.endStep(); be.releasePool();
      const later = allocations(be, () => { probe.forward(IDS, [2, 8]); });
      be.endStep(); probe.dispose();
      expect(first).toBeGreaterThan(later);
      // points spread over a forward (each fails: a forward with RNGs already made allocates `later`, and a failed one keeps those it made)
      const points = Array.from({ length: 13 }, (_, i) => Math.floor((i + 0.5) * later / 13));
      for (const k of points) {
        be.releasePool();
        expect(failingAt(be, k, () => b.forward(IDS, [2, 8])), `failing at allocation ${k} of ${first}`).toBeInstanceOf(OutOfMemoryError);
        be.endStep();
      }
      const got = losses(b, 1);
      // and once the RNGs exist, failures inside a later forward
      for (let k = 1; k < later; k += Math.max(1, Math.floor(later / 13))) {
        be.releasePool();
        expect(failingAt(be, k, () => b.forward(IDS, [2, 8]))).toBeInstanceOf(OutOfMemoryError);
        be.endStep();
      }
      got.push(...losses(b, 2));
      expect(got).toEqual(want);
      b.dispose();
    });
  }

  it('Sequential with dropout: a failed forward leaves its RNG as it was', () => {
    for (const be of BOTH) {
      const make = () => new nn.Sequential(new nn.Linear(be, 6, 16, { seed: 1 }), new nn.Dropout(0.5, { seed: 9 }), new nn.Linear(be, 16, 6, { seed: 2 }), new nn.Dropout(0.5, { seed: 10 }));
      const x = be.tensor([4, 6], Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)));
      const run = (m: nn.Sequential) => { const y = m.forward(x).data.slice(); be.endStep(); return y; };
      const a = make();
      const want = [run(a), run(a)];
      const b = make();
      run(b); // RNGs exist now
      be.releasePool();
      const n = allocations(be, () => { b.forward(x); });
      be.endStep();
      const c = make();
      const first = run(c);
      for (let k = 1; k < n; k++) {
        be.releasePool();
        expect(failingAt(be, k, () => c.forward(x))).toBeInstanceOf(OutOfMemoryError);
        be.endStep();
      }
      expectSameBits([first, run(c)], want, `${be.kind} Sequential`);
      for (const m of [a, b, c]) m.dispose();
      x.dispose();
    }
  });
});
