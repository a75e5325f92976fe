import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsError, ShapeError, nn, safetensors, type Backend, type Tensor } from '../src/index.js';
import { firstBitDiff, loadBoth } from './helpers.js';

const { wasm, js } = await loadBoth();

// ---- hand-made files ------------------------------------------------------------------------

const enc = new TextEncoder();

/** A file from a header (object or raw text), data bytes, and optionally a forged header length. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), opts: { length?: bigint } = {}): Uint8Array {
  const h = enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, opts.length ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function u16(...v: number[]): Uint8Array {
  const b = new Uint8Array(2 * v.length), dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setUint16(2 * i, x, true));
  return b;
}

function f64(...v: number[]): Uint8Array {
  const b = new Uint8Array(8 * v.length), dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setFloat64(8 * i, x, true));
  return b;
}

function f32(...v: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(v).buffer);
}

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const f32bits = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0]!;

// ---- round trips ----------------------------------------------------------------------------

describe.each([['wasm', wasm], ['js', js]] as const)('safetensors on %s', (_k, be: Backend) => {
  it('regula → file → regula is bit-exact for every parameter, with true shapes and metadata', () => {
    const a = new nn.Sequential(new nn.Linear(be, 28, 32, { seed: 1 }), new nn.ReLU(), new nn.Dropout(0.1, { seed: 3 }), new nn.Linear(be, 32, 5, { seed: 2 }));
    // values that a lossy path would change: −0, the smallest subnormal, the largest float32
    const w = a.parameters()[0]!.data;
    w[0] = -0; w[1] = 1.4e-45; w[2] = 3.4028234663852886e38; w[3] = -1.1754942e-38;
    const bytes = safetensors.save(a, { metadata: { format: 'pt', note: 'ünïcode ✓' } });
    const { tensors, metadata } = safetensors.load(bytes);
    expect(metadata).toEqual({ format: 'pt', note: 'ünïcode ✓' });
    expect(Object.keys(tensors)).toEqual(['0.weight', '0.bias', '3.weight', '3.bias']);
    expect(tensors['0.weight']!.shape).toEqual([32, 28]);
    expect(tensors['3.bias']!.shape).toEqual([5]);
    for (const t of Object.values(tensors)) expect(t.dtype).toBe('F32');
    const b = new nn.Sequential(new nn.Linear(be, 28, 32, { seed: 7 }), new nn.ReLU(), new nn.Dropout(0.1, { seed: 3 }), new nn.Linear(be, 32, 5, { seed: 8 }));
    b.loadStateDict(tensors);
    a.parameters().forEach((p, i) => expect(firstBitDiff(b.parameters()[i]!.data, p.data), `param ${i}`).toBe(-1));
    // and again: the file b writes is the same bytes
    expect(Buffer.from(safetensors.save(b, { metadata: { format: 'pt', note: 'ünïcode ✓' } })).equals(Buffer.from(bytes))).toBe(true);
    a.dispose(); b.dispose();
    expect(be.memory().liveTensors).toBe(0);
  });

  it('save takes a record of Tensor | { shape, data }; a tied parameter is written under each of its names', () => {
    const t = be.tensor([2, 3], [1, 2, 3, 4, 5, 6]);
    const bytes = safetensors.save({ t, raw: { shape: [3], data: [0.1, -0, 7] }, empty: { shape: [0, 4], data: new Float32Array(0) } });
    const { tensors } = safetensors.load(bytes);
    expect(tensors['t']!.shape).toEqual([2, 3]);
    expect(Array.from(tensors['t']!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(bits(tensors['raw']!.data)).toEqual([f32bits(0.1), 0x80000000, f32bits(7)]);
    expect(tensors['empty']!.shape).toEqual([0, 4]);
    expect(tensors['empty']!.data.length).toBe(0);

    class Tied extends nn.Module {
      constructor(p: Tensor) { super(); this._params.push(['wte', p], ['lm_head', p]); }
      forward(x: Tensor): Tensor { return x; }
    }
    const p = be.param([2, 2], [1, 2, 3, 4]);
    const m = new Tied(p);
    expect(m.namedParameters().map(([n]) => n)).toEqual(['wte']);
    expect(Object.keys(m.stateDict())).toEqual(['wte', 'lm_head']);
    const tied = safetensors.load(safetensors.save(m)).tensors;
    expect(Object.keys(tied)).toEqual(['wte', 'lm_head']);
    // either key alone loads; both must agree
    m.loadStateDict({ lm_head: { shape: [2, 2], data: [5, 6, 7, 8] } });
    expect(Array.from(p.data)).toEqual([5, 6, 7, 8]);
    expect(() => m.loadStateDict({ wte: [1, 1, 1, 1], lm_head: [1, 1, 2, 1] })).toThrow(/'wte' and 'lm_head' are one tied parameter, so their values must be equal; they differ at index 2 \(1 vs 2\)/);
    expect(Array.from(p.data)).toEqual([5, 6, 7, 8]);
    expect(() => m.loadStateDict({})).toThrow(/missing key\(s\) 'wte' or 'lm_head' \[2, 2\]/);
    t.dispose(); p.dispose();
  });

  it('save refuses bad input before writing anything', () => {
    const t = be.tensor([2], [1, 2]);
    const cases: [unknown, unknown, RegExp, new (...a: never[]) => Error][] = [
      [null, undefined, /expected a Module or an object/, TypeError],
      [{ '': t }, undefined, /"": expected a tensor name other than "" and "__metadata__"/, RangeError],
      [{ __metadata__: t }, undefined, /expected a tensor name other than/, RangeError],
      [{ x: { shape: [3], data: [1, 2] } }, undefined, /"x": shape \[3\] holds 3 values, but data has 2/, ShapeError],
      [{ x: { shape: [-1], data: [] } }, undefined, /shape\[0\]: expected an integer ≥ 0, got -1/, ShapeError],
      [{ x: { shape: [1], data: new Int8Array(1) } }, undefined, /expected data as a Float32Array or an array of numbers, got a Int8Array/, TypeError],
      [{ x: { shape: [2], data: [1, '2'] } }, undefined, /data\[1\]: expected a number, got "2"/, TypeError],
      [{ x: 'abc' }, undefined, /"x": expected a Tensor or \{ shape, data \}, got "abc"/, TypeError],
      [{ x: t }, { metadata: { a: 1 } }, /metadata "a": expected a string, got 1/, TypeError],
      [{ x: t }, { metadata: ['a'] }, /expected metadata as an object/, TypeError],
    ];
    for (const [src, opts, msg, type] of cases) {
      expect(() => safetensors.save(src as never, opts as never), String(msg)).toThrow(msg);
      expect(() => safetensors.save(src as never, opts as never), String(msg)).toThrow(type);
    }
    const gone = be.tensor([1], [1]);
    gone.dispose();
    expect(() => safetensors.save({ gone })).toThrow(/"gone".*disposed/);
    t.dispose();
  });
});

describe('the file format', () => {
  it('writes an F32 file as the format says: u64 LE header length, JSON padded with spaces to a multiple of 8, data in order', () => {
    for (let n = 0; n < 9; n++) {
      // names of growing length move the header's raw length through every remainder mod 8
      const name = 'w'.repeat(n + 1);
      const bytes = safetensors.save({ [name]: { shape: [2], data: [1.5, -2] }, b: { shape: [1], data: [3] } }, { metadata: { k: 'v' } });
      const len = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect(len % 8).toBe(0);
      const text = new TextDecoder().decode(bytes.subarray(8, 8 + len));
      expect(text.trimEnd()).toBe(JSON.stringify({ __metadata__: { k: 'v' }, [name]: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }));
      expect(/^[^ ]*} *$/.test(text)).toBe(true);
      expect(text.length - text.trimEnd().length).toBeLessThan(8);
      expect(Array.from(new Float32Array(bytes.slice(8 + len).buffer))).toEqual([1.5, -2, 3]);
      expect(bytes.length).toBe(8 + len + 12);
    }
  });

  it('reads F16 exactly: normals, subnormals, ±0, ±Infinity, NaN payloads', () => {
    const halves = [0x3c00, 0xc000, 0x7bff, 0x0400, 0x03ff, 0x0001, 0x8000, 0x0000, 0x7c00, 0xfc00, 0x3555, 0x7e00, 0x7c01, 0xfe01];
    const want = [1, -2, 65504, 2 ** -14, 1023 * 2 ** -24, 2 ** -24, -0, 0, Infinity, -Infinity, 0.333251953125];
    const { tensors } = safetensors.load(file({ h: { dtype: 'F16', shape: [2, 7], data_offsets: [0, 28] } }, u16(...halves)));
    const t = tensors['h']!;
    expect(t.dtype).toBe('F16');
    expect(t.shape).toEqual([2, 7]);
    want.forEach((v, i) => expect(Object.is(t.data[i], v), `half 0x${halves[i]!.toString(16)} → ${t.data[i]}, want ${v}`).toBe(true));
    // NaNs keep sign, quiet bit and payload: half 0x7e00 → 0x7fc00000, 0x7c01 → 0x7f802000, 0xfe01 → 0xffc02000
    expect(bits(t.data).slice(11)).toEqual([0x7fc00000, 0x7f802000, 0xffc02000]);
  });

  it('reads BF16 exactly (the top 16 bits of a float32)', () => {
    const raw = [0x3f80, 0xc049, 0x7f7f, 0x0001, 0x8000, 0x7f80, 0xff80, 0x7fc1];
    const { tensors } = safetensors.load(file({ b: { dtype: 'BF16', shape: [8], data_offsets: [0, 16] } }, u16(...raw)));
    expect(tensors['b']!.dtype).toBe('BF16');
    expect(bits(tensors['b']!.data)).toEqual(raw.map((r) => (r << 16) >>> 0));
    expect(Array.from(tensors['b']!.data.subarray(0, 3))).toEqual([1, -3.140625, 3.3895313892515355e38]);
  });

  it('reads F64 with round-to-nearest-even to float32, and refuses values beyond float32 range', () => {
    const u = 2 ** -23; // float32's ulp at 1
    const v = [1 / 3, 1 + u / 2, 1 + 1.5 * u, 1 + u / 2 + 2 ** -40, 2 ** -150, 1.5 * 2 ** -149, 3.4028235e38, -0, NaN, -Infinity];
    const want = [Math.fround(1 / 3), 1, 1 + 2 * u, 1 + u, 0, 2 * 2 ** -149, 3.4028234663852886e38, -0, NaN, -Infinity];
    const { tensors } = safetensors.load(file({ d: { dtype: 'F64', shape: [10], data_offsets: [0, 80] } }, f64(...v)));
    want.forEach((w, i) => expect(Object.is(tensors['d']!.data[i], w), `F64 ${v[i]} → ${tensors['d']!.data[i]}, want ${w}`).toBe(true));
    expect(() => safetensors.load(file({ d: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }, f64(1, 3.5e38))))
      .toThrow('safetensors.load: tensor "d": value [1]: expected a value within float32\'s range (±3.4028235e38), got 3.5e+38');
    // halfway between the largest float32 and 2^128 rounds (to even) to Infinity: refused too
    expect(() => safetensors.load(file({ d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, f64(3.4028235677973366e38)))).toThrow(/value \[0\]: expected a value within float32's range \(±3.4028235e38\), got 3.4028235677973366e\+38/);
  });

  it('an unaligned F32 / F64 section and a Buffer view into a larger ArrayBuffer both read', () => {
    // 2 bytes of F16 first put the F32 data at an odd-ish offset
    const bytes = file({ h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] }, w: { dtype: 'F32', shape: [2], data_offsets: [2, 10] }, d: { dtype: 'F64', shape: [1], data_offsets: [10, 18] } },
      new Uint8Array([...u16(0x3c00), ...f32(0.25, -8), ...f64(2.5)]));
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    for (const b of [bytes, big.subarray(3), Buffer.from(bytes), bytes.slice().buffer]) {
      const { tensors } = safetensors.load(b);
      expect(Array.from(tensors['w']!.data)).toEqual([0.25, -8]);
      expect(Array.from(tensors['d']!.data)).toEqual([2.5]);
      expect(Array.from(tensors['h']!.data)).toEqual([1]);
    }
  });

  it('Node: fs.writeFileSync(path, save(model)) and load(fs.readFileSync(path))', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regula-st-'));
    try {
      const m = new nn.Sequential(new nn.Linear(js, 4, 3, { seed: 4 }));
      const path = join(dir, 'model.safetensors');
      writeFileSync(path, safetensors.save(m));
      const m2 = new nn.Sequential(new nn.Linear(js, 4, 3, { seed: 5 }));
      m2.loadStateDict(safetensors.load(readFileSync(path)).tensors);
      expect(firstBitDiff(m2.parameters()[0]!.data, m.parameters()[0]!.data)).toBe(-1);
      m.dispose(); m2.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- malformed files: each named, each with the error it gets ---------------------------------

const W = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
const DATA = f32(1, 2);

/** Named malformed files and the exact error each gets (message; rule and tensor on the error). */
export const MALFORMED: { name: string; bytes: () => Uint8Array; rule: string; tensor: string | null; message: string }[] = [
  { name: 'empty file', bytes: () => new Uint8Array(0), rule: 'header length', tensor: null, message: 'expected at least 8 bytes (the header length), got a file of 0' },
  { name: 'seven bytes', bytes: () => new Uint8Array(7), rule: 'header length', tensor: null, message: 'expected at least 8 bytes (the header length), got a file of 7' },
  { name: 'header length 2^64 − 1', bytes: () => file({ w: W }, DATA, { length: 2n ** 64n - 1n }), rule: 'header length', tensor: null, message: 'the header length is 18446744073709551615 bytes; expected at most 100000000' },
  { name: 'header length 100,000,001', bytes: () => file({ w: W }, DATA, { length: 100_000_001n }), rule: 'header length', tensor: null, message: 'the header length is 100000001 bytes; expected at most 100000000' },
  { name: 'header length past the end', bytes: () => file({ w: W }, DATA, { length: 1000n }), rule: 'header length', tensor: null, message: 'the header length is 1000 bytes, but only 62 follow the first 8' },
  { name: 'header length 0', bytes: () => file({ w: W }, DATA, { length: 0n }), rule: 'header start', tensor: null, message: "expected the header to start with '{', got an empty header" },
  { name: 'header starting with a space', bytes: () => file(' {}'), rule: 'header start', tensor: null, message: "expected the header to start with '{', got byte 0x20" },
  { name: 'invalid UTF-8 in the header', bytes: () => { const b = file('{"\u00e9":1}'); b[10] = 0xff; return b; }, rule: 'header UTF-8', tensor: null, message: 'the header is not valid UTF-8' },
  { name: 'header truncated JSON', bytes: () => file('{"w": {"dtype": "F32"'), rule: 'header JSON', tensor: null, message: 'the header is not valid JSON' },
  { name: 'header is an array', bytes: () => file('[1, 2]'), rule: 'header start', tensor: null, message: "expected the header to start with '{', got byte 0x5b" },
  { name: 'entry null', bytes: () => file({ w: null }), rule: 'entry', tensor: 'w', message: 'tensor "w": expected an object { dtype, shape, data_offsets }, got null' },
  { name: 'duplicate tensor name', bytes: () => file(`{"w": ${JSON.stringify(W)}, "w": ${JSON.stringify(W)}}`, DATA), rule: 'duplicate key', tensor: 'w', message: 'tensor "w": the key "w" appears twice in the header' },
  { name: 'duplicate key inside an entry', bytes: () => file(`{"w": {"dtype": "F32", "dtype": "F16", "shape": [2], "data_offsets": [0, 8]}}`, DATA), rule: 'duplicate key', tensor: 'w', message: 'tensor "w": the key "dtype" appears twice in its entry' },
  { name: 'metadata not an object', bytes: () => file({ __metadata__: 'x', w: W }, DATA), rule: 'metadata', tensor: null, message: 'expected "__metadata__" to be an object of string → string, got "x"' },
  { name: 'metadata value a number', bytes: () => file({ __metadata__: { epoch: 3 }, w: W }, DATA), rule: 'metadata', tensor: null, message: '"__metadata__" "epoch": expected a string value, got 3' },
  { name: 'empty tensor name', bytes: () => file({ '': W }, DATA), rule: 'name', tensor: '', message: 'tensor "": expected a non-empty tensor name' },
  { name: 'entry not an object', bytes: () => file({ w: [0, 8] }, DATA), rule: 'entry', tensor: 'w', message: 'tensor "w": expected an object { dtype, shape, data_offsets }, got an array of length 2' },
  { name: 'entry missing shape, with an extra key', bytes: () => file({ w: { dtype: 'F32', data_offsets: [0, 8], stride: [1] } }, DATA), rule: 'entry', tensor: 'w', message: 'tensor "w": expected exactly the keys dtype, shape, data_offsets; missing shape; unexpected "stride"' },
  { name: 'unsupported dtype I64', bytes: () => file({ w: { ...W, dtype: 'I64', data_offsets: [0, 16] } }, new Uint8Array(16)), rule: 'dtype', tensor: 'w', message: 'tensor "w": dtype I64 is not supported; regula reads F32, F64, F16 and BF16' },
  { name: 'unknown dtype', bytes: () => file({ w: { ...W, dtype: 'float32' } }, DATA), rule: 'dtype', tensor: 'w', message: 'tensor "w": expected dtype F32, F64, F16 or BF16, got "float32"' },
  { name: 'dtype not a string', bytes: () => file({ w: { ...W, dtype: 4 } }, DATA), rule: 'dtype', tensor: 'w', message: 'tensor "w": expected dtype F32, F64, F16 or BF16, got 4' },
  { name: 'negative dimension', bytes: () => file({ w: { ...W, shape: [-2] } }, DATA), rule: 'shape', tensor: 'w', message: 'tensor "w": shape[0]: expected a non-negative safe integer, got -2' },
  { name: 'fractional dimension', bytes: () => file({ w: { ...W, shape: [2.5] } }, DATA), rule: 'shape', tensor: 'w', message: 'tensor "w": shape[0]: expected a non-negative safe integer, got 2.5' },
  { name: 'dimension 2^53', bytes: () => file('{"w": {"dtype": "F32", "shape": [9007199254740992], "data_offsets": [0, 8]}}', DATA), rule: 'shape', tensor: 'w', message: 'tensor "w": shape[0]: expected a non-negative safe integer, got 9007199254740992' },
  { name: 'shape whose product passes 2^53', bytes: () => file({ w: { ...W, shape: [2 ** 30, 2 ** 30, 2 ** 30] } }, DATA), rule: 'shape', tensor: 'w', message: 'tensor "w": shape [1073741824, 1073741824, 1073741824] holds more than 2^53 elements' },
  { name: 'shape a string', bytes: () => file({ w: { ...W, shape: '2' } }, DATA), rule: 'shape', tensor: 'w', message: 'tensor "w": expected shape as an array of non-negative integers, got "2"' },
  { name: 'data_offsets of three numbers', bytes: () => file({ w: { ...W, data_offsets: [0, 4, 8] } }, DATA), rule: 'data_offsets', tensor: 'w', message: 'tensor "w": expected data_offsets as [begin, end], got an array of length 3' },
  { name: 'negative begin', bytes: () => file({ w: { ...W, data_offsets: [-8, 0] } }, DATA), rule: 'data_offsets', tensor: 'w', message: 'tensor "w": data_offsets begin: expected a non-negative safe integer, got -8' },
  { name: 'begin after end', bytes: () => file({ w: { ...W, shape: [0], data_offsets: [8, 0] } }, DATA), rule: 'data_offsets', tensor: 'w', message: 'tensor "w": data_offsets [8, 0]: begin is after end' },
  { name: 'end past the data section (truncated file)', bytes: () => file({ w: W }, DATA).subarray(0, 8 + JSON.stringify({ w: W }).length + 5), rule: 'data_offsets', tensor: 'w', message: 'tensor "w": data_offsets [0, 8] run past the data section, which has 5 bytes' },
  { name: 'huge end', bytes: () => file({ w: { ...W, shape: [2 ** 50], data_offsets: [0, 2 ** 52] } }, DATA), rule: 'data_offsets', tensor: 'w', message: 'tensor "w": data_offsets [0, 4503599627370496] run past the data section, which has 8 bytes' },
  { name: 'byte length not count × size', bytes: () => file({ w: { ...W, shape: [3] } }, DATA), rule: 'byte length', tensor: 'w', message: 'tensor "w": data_offsets [0, 8] hold 8 bytes, but shape [3] of F32 needs 3 × 4 = 12' },
  { name: 'overlapping tensors', bytes: () => file({ a: { ...W, shape: [2], data_offsets: [0, 8] }, b: { ...W, shape: [1], data_offsets: [4, 8] } }, DATA), rule: 'data_offsets overlap', tensor: 'b', message: 'tensor "b": data_offsets [4, 8] overlap those of "a" [0, 8]' },
  { name: 'a gap between tensors', bytes: () => file({ a: { ...W, shape: [1], data_offsets: [0, 4] }, b: { ...W, shape: [1], data_offsets: [8, 12] } }, f32(1, 2, 3)), rule: 'data_offsets gap', tensor: 'b', message: 'tensor "b": data_offsets [8, 12] leave bytes [4, 8) of the data section unused after "a"' },
  { name: 'trailing bytes after the last tensor', bytes: () => file({ w: W }, f32(1, 2, 3)), rule: 'data_offsets gap', tensor: null, message: 'the tensors cover 8 bytes of the data section, which has 12 (bytes [8, 12) are unused)' },
  { name: 'F64 value beyond float32', bytes: () => file({ d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, f64(-1e39)), rule: 'F64 range', tensor: 'd', message: 'tensor "d": value [0]: expected a value within float32\'s range (±3.4028235e38), got -1e+39' },
];
describe('malformed files', () => {
  it(`${MALFORMED.length} named malformed files each get their own clear SafetensorsError`, () => {
    expect(MALFORMED.length).toBeGreaterThanOrEqual(20);
    for (const m of MALFORMED) {
      let err: unknown = null;
      try {
        safetensors.load(m.bytes());
      } catch (e) {
        err = e;
      }
      expect(err, m.name).toBeInstanceOf(SafetensorsError);
      const e = err as SafetensorsError;
      expect(e.rule, m.name).toBe(m.rule);
      expect(e.tensor, m.name).toBe(m.tensor);
      expect(e.message.startsWith(`safetensors.load: ${m.message}`), `${m.name}: ${e.message}`).toBe(true);
    }
  });

  it('a non-byte argument is a TypeError', () => {
    expect(() => safetensors.load('abc' as never)).toThrow(TypeError);
    expect(() => safetensors.load([1, 2] as never)).toThrow(/expected the file's bytes as a Uint8Array or ArrayBuffer, got an array of length 2/);
  });
});

describe('the header\'s shape is bounded before it is parsed (issue 20 item 9)', () => {
  /** The SafetensorsError load throws for these bytes (fails the test when load returns). */
  function refusal(bytes: Uint8Array): SafetensorsError {
    try { safetensors.load(bytes); } catch (e) { expect(e).toBeInstanceOf(SafetensorsError); return e as SafetensorsError; }
    throw new Error('load accepted the file');
  }
  const nested = (depth: number, open = '[', close = ']') => `{"a":${open.repeat(depth)}${close.repeat(depth)}}`;

  it('nesting: 100,000 levels of [ and of { are refused under "header depth"; 16 levels reach the entry rules', () => {
    for (const [o, c] of [['[', ']'], ['{"k":', '}']] as const) {
      const e = refusal(file(nested(100_000, o, c)));
      expect(e.rule).toBe('header depth');
      // the 16th opener after '{"a":' (5 bytes) is the 17th level
      expect(e.message).toBe(`safetensors.load: the header nests more than 16 levels of objects and arrays at byte ${5 + 15 * o.length} of the header; a safetensors header nests 3`);
    }
    expect(refusal(file(nested(safetensors.MAX_HEADER_DEPTH - 1))).rule).toBe('entry'); // 16 levels with the top object
    expect(refusal(file(nested(safetensors.MAX_HEADER_DEPTH))).rule).toBe('header depth'); // 17
    // the nesting a real file has loads
    expect(safetensors.load(file({ w: W, __metadata__: { a: 'b' } }, DATA)).tensors.w!.shape).toEqual([2]);
  });

  it('metadata keys: 65,536 load, 65,537 are refused under "metadata count"', () => {
    const meta = (n: number) => `{"__metadata__":{${Array.from({ length: n }, (_, i) => `"k${i}":"v"`).join(',')}}}`;
    const ok = safetensors.load(file(meta(safetensors.MAX_METADATA_KEYS)));
    expect(Object.keys(ok.metadata).length).toBe(safetensors.MAX_METADATA_KEYS);
    const e = refusal(file(meta(safetensors.MAX_METADATA_KEYS + 1)));
    expect(e.rule).toBe('metadata count');
    expect(e.message).toMatch(/with more than 65536 keys at byte \d+ of the header; expected at most 65536$/);
  });

  it('tensors: more than 1,000,000 keys at the top level are refused under "tensor count" before parsing', () => {
    const n = safetensors.MAX_TENSORS + 2; // with "__metadata__", MAX_TENSORS + 1 keys may come
    const e = refusal(file(`{${'"":0,'.repeat(n - 1)}"":0}`));
    expect(e.rule).toBe('tensor count');
    // MAX_TENSORS + 1 keys pass the count and reach JSON's rules (here: repeated keys)
    expect(refusal(file(`{${'"":0,'.repeat(n - 2)}"":0}`)).rule).toBe('duplicate key');
  });

  it('arrays: a shape of 1,024 ones loads, 1,025 items are refused under "array length"', () => {
    const t = (rank: number) => ({ w: { dtype: 'F32', shape: new Array(rank).fill(1), data_offsets: [0, 4] } });
    expect(safetensors.load(file(t(safetensors.MAX_ARRAY_ITEMS), f32(3))).tensors.w!.shape.length).toBe(1024);
    const e = refusal(file(t(safetensors.MAX_ARRAY_ITEMS + 1), f32(3)));
    expect(e.rule).toBe('array length');
    expect(e.message).toMatch(/an array of more than 1024 items at byte \d+ of the header/);
  });

  it('keys: a tensor name of 65,536 bytes loads, 65,537 is refused under "key length"; long metadata values are fine', () => {
    const name = (n: number) => 'é'.repeat(n / 2); // 2 bytes each: the bound is on bytes
    expect(Object.keys(safetensors.load(file({ [name(65_536)]: W }, DATA)).tensors)[0]!.length).toBe(32_768);
    const e = refusal(file({ [`${name(65_536)}x`]: W }, DATA));
    expect(e.rule).toBe('key length');
    expect(e.message).toBe('safetensors.load: a key of 65537 bytes at byte 1 of the header; expected at most 65536');
    expect(safetensors.load(file({ __metadata__: { v: 'x'.repeat(1_000_000) }, w: W }, DATA)).metadata.v!.length).toBe(1_000_000);
  });
});
