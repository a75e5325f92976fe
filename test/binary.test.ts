/**
 * The shared-memory binary is derived from the single-thread one (src/backend/wasm/binary.ts):
 * byte for byte the build's regula-mt.wasm, and refused, as a regula bug, for a module of
 * another shape.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { sharedMemoryVariant } from '../src/backend/wasm/binary.js';

const st = new Uint8Array(await readFile(new URL('../build/regula.wasm', import.meta.url)));
const mt = new Uint8Array(await readFile(new URL('../build/regula-mt.wasm', import.meta.url)));

describe('sharedMemoryVariant', () => {
  it('turns build/regula.wasm into build/regula-mt.wasm, byte for byte', () => {
    const got = sharedMemoryVariant(st);
    expect(got.length).toBe(mt.length);
    expect(Buffer.from(got).equals(Buffer.from(mt))).toBe(true);
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(got));
    expect(imports).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
  });

  it('skips other imports before the memory, and keeps a multi-byte minimum', () => {
    // (import "env" "f" (func (type 0))) (import "env" "g" (global i32)) (import "env" "memory" (memory 300))
    const mod = (limits: number[], sectionSize: number) => Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0,
      2, sectionSize, 3, 3, 101, 110, 118, 1, 102, 0, 0, 3, 101, 110, 118, 1, 103, 3, 127, 0,
      3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, ...limits]);
    const plain = mod([0, 0xac, 0x02], 33);
    expect(WebAssembly.validate(plain)).toBe(true);
    const shared = sharedMemoryVariant(plain);
    expect(Buffer.from(shared).equals(Buffer.from(mod([3, 0xac, 0x02, 0x80, 0x80, 0x04], 36)))).toBe(true);
    expect(WebAssembly.validate(shared)).toBe(true);
  });

  it('refuses a module whose memory import is shared already, or that has none', () => {
    expect(() => sharedMemoryVariant(mt)).toThrow(/no single-thread memory import/);
    expect(() => sharedMemoryVariant(Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0]))).toThrow(/no single-thread memory import/);
  });
});
