/**
 * The safetensors header-length bound at its edge: a header length 1 to 8 bytes past the
 * end of the file must be refused by the header-length rule itself (a bound off by the
 * 8 bytes of the length field still refuses those files, but later, under another rule).
 */
import { describe, expect, it } from 'vitest';
import { SafetensorsError, safetensors } from '../src/index.js';

/** A file of one F32 tensor [2] whose header-length field says `length`. */
function file(length: (bytes: Uint8Array) => number): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
  const out = new Uint8Array(8 + h.length + 8);
  out.set(h, 8);
  out.set(new Uint8Array(Float32Array.of(1, 2).buffer), 8 + h.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(length(out)), true);
  return out;
}

describe('safetensors header length at the end of the file', () => {
  it('bytes.length − 8 + k for k = 1..8 (past the end): rule "header length" with its message', () => {
    for (let k = 1; k <= 8; k++) {
      const bytes = file((b) => b.length - 8 + k);
      const n = bytes.length - 8 + k;
      let err: unknown = null;
      try { safetensors.load(bytes); } catch (e) { err = e; }
      expect(err, `k = ${k}`).toBeInstanceOf(SafetensorsError);
      expect((err as SafetensorsError).rule, `k = ${k}`).toBe('header length');
      expect((err as SafetensorsError).tensor).toBeNull();
      expect((err as Error).message, `k = ${k}`).toBe(`safetensors.load: the header length is ${n} bytes, but only ${bytes.length - 8} follow the first 8`);
    }
  });

  it('the true length loads; bytes.length − 8 (all the rest is header) passes the length rule and fails a later one', () => {
    const good = safetensors.load(file((b) => b.length - 16));
    expect(Array.from(good.tensors['w']!.data)).toEqual([1, 2]);
    let err: unknown = null;
    try { safetensors.load(file((b) => b.length - 8)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as SafetensorsError).rule).not.toBe('header length');
  });
});
