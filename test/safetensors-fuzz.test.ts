/**
 * Untrusted bytes: valid safetensors files mutated (truncated, bytes flipped, inserted or
 * cut, header fields edited, header length forged, huge lengths and offsets) must either load
 * the values an independent decoder reads from the same bytes, or throw SafetensorsError:
 * never another exception, a hang, or a float32 allocation beyond twice the file's size.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SafetensorsError, safetensors } from '../src/index.js';

const SEED = 20261127;
const RUNS = 10_000;

const enc = new TextEncoder();

function build(header: Record<string, unknown>, data: Uint8Array, length?: bigint): Uint8Array {
  const h = enc.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function bytesOf(dtype: string, values: number[]): Uint8Array {
  const size = { F32: 4, F64: 8, F16: 2, BF16: 2 }[dtype]!;
  const b = new Uint8Array(size * values.length), dv = new DataView(b.buffer);
  values.forEach((v, i) => {
    if (dtype === 'F32') dv.setFloat32(4 * i, v, true);
    else if (dtype === 'F64') dv.setFloat64(8 * i, v, true);
    else dv.setUint16(2 * i, v, true);
  });
  return b;
}

/** A valid file of several dtypes, a zero-size tensor and metadata, built without regula's writer. */
function mixed(): Uint8Array {
  const parts: [string, string, number[], number[]][] = [
    ['h', 'F16', [3], [0x3c00, 0x8001, 0x7e00]],
    ['w', 'F32', [2, 2], [1.5, -0, 3e38, -7]],
    ['z', 'F32', [0, 5], []],
    ['b', 'BF16', [2], [0x3f80, 0xc049]],
    ['d', 'F64', [2], [1 / 3, -2.5]],
  ];
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', vocab: 'abc' } };
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const [name, dtype, shape, values] of parts) {
    const b = bytesOf(dtype, values);
    header[name] = { dtype, shape, data_offsets: [at, at + b.length] };
    chunks.push(b);
    at += b.length;
  }
  const data = new Uint8Array(at);
  let o = 0;
  for (const c of chunks) { data.set(c, o); o += c.length; }
  return build(header, data);
}

const BASES = [
  mixed(),
  safetensors.save({ 'layer.weight': { shape: [3, 4], data: Array.from({ length: 12 }, (_, i) => i - 5.5) }, 'layer.bias': { shape: [3], data: [0.5, -1, 2] } }, { metadata: { step: '12' } }),
  safetensors.save({ x: { shape: [1], data: [42] } }),
];

// ---- an independent decoder: reads what a valid file says, with no checks of its own --------

function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, f = h & 1023;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function reference(bytes: Uint8Array): Map<string, { shape: number[]; values: number[] }> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { shape: number[]; values: number[] }>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const at = 8 + n + e.data_offsets[0], count = e.shape.reduce((a, b) => a * b, 1), values: number[] = [];
    for (let i = 0; i < count; i++) {
      if (e.dtype === 'F32') values.push(dv.getFloat32(at + 4 * i, true));
      else if (e.dtype === 'F64') values.push(Math.fround(dv.getFloat64(at + 8 * i, true)));
      else if (e.dtype === 'F16') values.push(halfToNumber(dv.getUint16(at + 2 * i, true)));
      else values.push(new Float32Array(new Uint32Array([dv.getUint16(at + 2 * i, true) << 16]).buffer)[0]!);
    }
    out.set(name, { shape: e.shape, values });
  }
  return out;
}

// ---- mutations -------------------------------------------------------------------------------

type Mutation = (b: Uint8Array) => Uint8Array;

const headerLen = (b: Uint8Array): number => (b.length >= 8 ? Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true)) : 0);

/** Values that break or stretch a header field: JSON of every kind, huge and fractional numbers, dtype names. */
const fieldValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(2 ** 53, 2 ** 53 - 1, 2 ** 64, 1e300, -1, -0, 0.5, 2 ** 31, 2 ** 32 + 4, 1e21),
  fc.constantFrom('F32', 'F64', 'F16', 'BF16', 'I64', 'U8', 'BOOL', 'f32', ''),
  fc.array(fc.oneof(fc.nat(64), fc.constantFrom(2 ** 40, 2 ** 53 - 1, 2 ** 53, -1, 1.5, 1e300)), { maxLength: 4 }),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // truncation
  fc.nat().map((k) => (b: Uint8Array) => b.slice(0, k % (b.length + 1))),
  // flipped bytes: anywhere, within the header, or within the data section (a valid file with other values)
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom('any', 'header', 'data')), { minLength: 1, maxLength: 4 }).map((flips) => (b: Uint8Array) => {
    const c = b.slice();
    for (const [p, x, region] of flips) {
      const end = Math.min(c.length, 8 + headerLen(c));
      const [lo, hi] = region === 'header' ? [0, end] : region === 'data' ? [end, c.length] : [0, c.length];
      if (hi > lo) c[lo + (p % (hi - lo))] = c[lo + (p % (hi - lo))]! ^ x;
    }
    return c;
  }),
  // a forged header length: anything in 64 bits, or near the true one
  fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: -16, max: 16 }).map((d) => BigInt(d)), fc.constantFrom(2n ** 53n, 100_000_000n, 100_000_001n, 2n ** 63n))
    .map((v) => (b: Uint8Array) => {
      const c = b.slice();
      if (c.length >= 8) {
        const dv = new DataView(c.buffer);
        const next = v >= 0n && v < 17n ? BigInt(headerLen(c)) + v - 8n : v;
        dv.setBigUint64(0, next < 0n ? 0n : next, true);
      }
      return c;
    }),
  // an edited header field: a tensor's dtype / shape / data_offsets / whole entry / name, or the metadata
  fc.tuple(fc.nat(), fc.constantFrom('dtype', 'shape', 'data_offsets', 'entry', 'rename', 'metadata', 'extra', 'offset-end', 'dim'), fieldValue, fc.boolean())
    .map(([i, field, value, keepLength]) => (b: Uint8Array) => {
      const n = headerLen(b);
      let header: Record<string, Record<string, unknown>>;
      try { header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))); } catch { return b; }
      const names = Object.keys(header).filter((k) => k !== '__metadata__');
      if (names.length === 0) return b;
      const name = names[i % names.length]!;
      const e = header[name]!;
      if (field === 'entry' || e === null || typeof e !== 'object' || Array.isArray(e)) header[name] = value as never;
      else if (field === 'rename') { const v = header[name]!; delete header[name]; header[typeof value === 'string' ? value : JSON.stringify(value)] = v; }
      else if (field === 'metadata') header['__metadata__'] = value as never;
      else if (field === 'extra') e['extra'] = value;
      else if (field === 'offset-end' && Array.isArray(e['data_offsets'])) (e['data_offsets'] as unknown[])[i % 2] = typeof value === 'number' ? value : 2 ** 40;
      else if (field === 'dim' && Array.isArray(e['shape']) && (e['shape'] as unknown[]).length > 0) (e['shape'] as unknown[])[i % (e['shape'] as unknown[]).length] = typeof value === 'number' ? value : 2 ** 40;
      else e[field] = value;
      const rebuilt = build(header as never, b.subarray(8 + n));
      if (keepLength) new DataView(rebuilt.buffer).setBigUint64(0, BigInt(n), true);
      return rebuilt;
    }),
  // bytes inserted or cut (shifting everything after)
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 0, maxLength: 9 }), fc.nat(9)).map(([p, ins, cut]) => (b: Uint8Array) => {
    const at = p % (b.length + 1);
    const c = new Uint8Array(b.length - Math.min(cut, b.length - at) + ins.length);
    c.set(b.subarray(0, at));
    c.set(ins, at);
    c.set(b.subarray(Math.min(b.length, at + cut)), at + ins.length);
    return c;
  }),
);

// ---- the property ------------------------------------------------------------------------------

describe('safetensors.load on mutated files', () => {
  let allocated = 0;
  beforeAll(() => {
    const Base = Float32Array;
    // Counts float32 allocations by length (views over an existing buffer allocate nothing).
    class Counting extends Base {
      constructor(...args: unknown[]) {
        if (typeof args[0] === 'number') allocated += 4 * args[0];
        super(...(args as [number]));
      }
    }
    vi.stubGlobal('Float32Array', Counting);
  });
  afterAll(() => { vi.unstubAllGlobals(); });

  it(`${RUNS} mutated files (seed ${SEED}): the right values or a SafetensorsError, allocating at most 2× the file`, () => {
    let loaded = 0, refused = 0, maxRatio = 0;
    const rules = new Map<string, number>();
    fc.assert(fc.property(fc.constantFrom(...BASES), fc.array(mutation, { minLength: 1, maxLength: 3 }), (base, ms) => {
      const bytes = ms.reduce((b, m) => m(b), base);
      allocated = 0;
      let got: ReturnType<typeof safetensors.load>;
      try {
        got = safetensors.load(bytes);
      } catch (e) {
        if (!(e instanceof SafetensorsError)) throw new Error(`escaped: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        expect(e.message.startsWith('safetensors.load: ')).toBe(true);
        rules.set(e.rule, (rules.get(e.rule) ?? 0) + 1);
        refused++;
        expect(allocated).toBe(0); // every rule is checked before the first tensor is allocated
        return;
      }
      loaded++;
      expect(allocated).toBeLessThanOrEqual(2 * bytes.length);
      maxRatio = Math.max(maxRatio, allocated / bytes.length);
      const want = reference(bytes);
      expect(Object.keys(got.tensors).sort()).toEqual([...want.keys()].sort());
      for (const [name, w] of want) {
        const t = got.tensors[name]!;
        expect(t.shape).toEqual(w.shape);
        expect(t.data.length).toBe(w.values.length);
        w.values.forEach((v, i) => expect(Object.is(t.data[i], v) || (Number.isNaN(v) && Number.isNaN(t.data[i]!)), `${name}[${i}]`).toBe(true));
      }
    }), { seed: SEED, numRuns: RUNS });
    console.log(`safetensors fuzz (seed ${SEED}): ${loaded} loaded, ${refused} refused; float32 bytes allocated ≤ ${maxRatio.toFixed(2)}× the file; rules hit: ${[...rules].sort((a, b) => b[1] - a[1]).map(([r, c]) => `${r} ${c}`).join(', ')}`);
    expect(loaded + refused).toBe(RUNS);
    expect(loaded).toBeGreaterThan(100); // the mutations leave some files valid, so the "right values" branch is exercised
    expect(rules.size).toBeGreaterThanOrEqual(10);
  });
});
