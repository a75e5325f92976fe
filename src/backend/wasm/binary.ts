/**
 * The shared-memory binary derived from the single-thread one. build/regula.wasm and
 * build/regula-mt.wasm differ only in their memory import (asconfig.json: the mt target adds
 * `sharedMemory` and `maximumMemory`): `env.memory` with limits (min) in the first, (min,
 * max 65536 pages, shared) in the second. So the package builds in one binary and rewrites
 * that import for threads (test/backend.test.ts checks the result against
 * build/regula-mt.wasm byte for byte).
 */

/** The shared memory's declared maximum, in 64 KiB pages (4 GiB; asconfig.json's maximumMemory). */
const MAX_PAGES = 65536;

/** An unsigned LEB128 at `at`: [value, the offset after it]. */
function readLeb(b: Uint8Array, at: number): [number, number] {
  let v = 0, shift = 0;
  for (;;) {
    if (at >= b.length || shift > 28) throw new Error('a malformed LEB128');
    const x = b[at++]!;
    v += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if (x < 0x80) return [v, at];
  }
}

/** v as an unsigned LEB128. */
function leb(v: number): number[] {
  const out: number[] = [];
  do {
    let x = v & 0x7f;
    v = Math.floor(v / 128);
    if (v > 0) x |= 0x80;
    out.push(x);
  } while (v > 0);
  return out;
}

/**
 * `bytes` (a module whose import section holds `env.memory` with limits (min)) with that
 * import made shared, (min, MAX_PAGES). Throws an Error saying what it lacks when the module
 * does not have that shape (the loader reports it as a bug in regula).
 */
export function sharedMemoryVariant(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const text = new TextDecoder();
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at]!;
    const [size, body] = readLeb(bytes, at + 1);
    if (id !== 2) { at = body + size; continue; }
    // the import section: count, then (module name, field name, kind, type) per import
    let [count, p] = readLeb(bytes, body);
    for (; count > 0; count--) {
      const [ml, m0] = readLeb(bytes, p);
      const mod = text.decode(bytes.subarray(m0, m0 + ml));
      const [fl, f0] = readLeb(bytes, m0 + ml);
      const field = text.decode(bytes.subarray(f0, f0 + fl));
      const kind = bytes[f0 + fl]!;
      p = f0 + fl + 1;
      if (kind === 2 && mod === 'env' && field === 'memory') {
        if (bytes[p] !== 0) break; // limits other than (min): not the single-thread binary
        const [min, after] = readLeb(bytes, p + 1);
        const limits = [0x03, ...leb(min), ...leb(MAX_PAGES)];
        const newSize = size - (after - p) + limits.length;
        return Uint8Array.from([...bytes.subarray(0, at), 2, ...leb(newSize), ...bytes.subarray(body, p), ...limits, ...bytes.subarray(after)]);
      }
      // skip the type of another import: 0 func (type index), 1 table (reftype, limits), 2 memory (limits), 3 global (valtype, mut)
      if (kind === 0) p = readLeb(bytes, p)[1];
      else if (kind === 1 || kind === 2) {
        const flags = bytes[kind === 1 ? ++p : p]!;
        p = readLeb(bytes, p + 1)[1];
        if (flags & 1) p = readLeb(bytes, p)[1];
      } else p += 2;
    }
    break;
  }
  throw new Error('no single-thread memory import (env.memory with a minimum only) to make shared');
}
