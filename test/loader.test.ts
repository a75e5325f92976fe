/**
 * regula loads its binaries with plain WebAssembly (no loader: src/backend/wasm/index.ts).
 * Projects whose build already loads AssemblyScript modules through @assemblyscript/loader
 * (a devDependency here only) can hand loadBackend what the loader's instantiate returns;
 * training on it must give the same bits as the default path.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { instantiate } from '@assemblyscript/loader';
import { loadBackend, nn, optim, BackendLoadError, type Backend } from '../src/index.js';
import { randomF32 } from './helpers.js';

const read = (name: string) => readFile(new URL(`../build/${name}`, import.meta.url));

/** 12 AdamW steps of a 6-16-3 MLP on fixed data: every loss and the final weights, as bits. */
function train(be: Backend): Uint32Array {
  const m = new nn.Sequential(new nn.Linear(be, 6, 16, { seed: 5 }), new nn.ReLU(), new nn.Linear(be, 16, 3, { seed: 6 }));
  const opt = new optim.AdamW(m.parameters(), { lr: 1e-2, weightDecay: 0.05 });
  const x = be.tensor([20, 6], randomF32(120, 11));
  const y = Int32Array.from({ length: 20 }, (_, i) => (i * 7) % 3);
  const out: number[] = [];
  for (let s = 0; s < 12; s++) {
    opt.zeroGrad();
    const loss = be.crossEntropy(m.forward(x), y);
    loss.backward();
    opt.step();
    out.push(loss.item());
    be.endStep();
  }
  const bits = new Uint32Array(new Float32Array(out).buffer).slice();
  const weights = m.parameters().map((p) => new Uint32Array(Float32Array.from(p.data).buffer));
  m.dispose();
  opt.dispose();
  return Uint32Array.from([...bits, ...weights.flatMap((w) => Array.from(w))]);
}

describe('@assemblyscript/loader', () => {
  it("trains on the shipped binary instantiated by the loader, with the default path's bits", async () => {
    const st = await instantiate(await read('regula.wasm'), { env: { memory: new WebAssembly.Memory({ initial: 2 }) } });
    const viaLoader = await loadBackend('wasm', { wasm: st, threads: 1 });
    expect(viaLoader.kind).toBe('wasm');
    expect(viaLoader.info().threads).toBe(1);
    const builtIn = await loadBackend('wasm');
    const a = train(viaLoader), b = train(builtIn);
    expect(a.length).toBe(12 + 6 * 16 + 16 + 16 * 3 + 3);
    expect(a).toEqual(b);
    viaLoader.dispose();
    builtIn.dispose();
  });

  it('runs on threads from both loader results (the shared-memory one instantiated on a shared memory)', async () => {
    const st = await instantiate(await read('regula.wasm'), { env: { memory: new WebAssembly.Memory({ initial: 2 }) } });
    const mt = await instantiate(await read('regula-mt.wasm'),
      { env: { memory: new WebAssembly.Memory({ initial: 2, maximum: 256, shared: true }) } });
    const be = await loadBackend('wasm', { wasm: st, wasmThreads: mt, threads: 2 });
    expect(be.info()).toMatchObject({ threads: 2, sharedMemory: true, reason: null });
    const js = await loadBackend('js');
    expect(train(be)).toEqual(train(js));
    be.dispose();
  });

  it('refuses what is not a binary, a module or an instantiation result, before loading anything', async () => {
    const st = await instantiate(await read('regula.wasm'), { env: { memory: new WebAssembly.Memory({ initial: 2 }) } });
    const cases: [object, RegExp][] = [
      [{ wasm: st.instance }, /expected \{ wasm \} as .* got a WebAssembly\.Instance \(regula instantiates the binary on its own memory: pass the module/],
      [{ wasm: st.exports }, /expected \{ wasm \} as a URL or path, bytes \(an ArrayBuffer or typed array\), a WebAssembly\.Module or an instantiation result \{ module, instance \}, got an object/],
      [{ wasm: { module: 'regula.wasm' } }, /expected \{ wasm \} as .* got an object \(Object\)/],
      // wasmThreads is checked even where a single-thread load would never read it.
      [{ wasm: st, wasmThreads: 42, threads: 1 }, /expected \{ wasmThreads \} as .* got 42$/],
    ];
    for (const kind of ['wasm', 'auto'] as const) {
      for (const [options, message] of cases) {
        const err = await loadBackend(kind, options as never).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TypeError);
        expect((err as Error).message).toMatch(message);
      }
    }
  });

  it("names a result that is not regula's binary as { module, instance } in the load error", async () => {
    const other = await instantiate(await read('regula-testing.wasm'), { env: { memory: new WebAssembly.Memory({ initial: 2 }) } });
    const err = await loadBackend('wasm', { wasm: other, threads: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendLoadError);
    expect((err as Error).message).toMatch(/^regula: the Wasm binary given as \{ wasm: \{ module, instance \} \} (lacks the export|failed to instantiate)/);
  });
});
