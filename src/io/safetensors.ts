/**
 * Weights as files in the safetensors format (https://github.com/huggingface/safetensors),
 * which PyTorch, JAX and the model hubs read and write:
 *
 *   8 bytes     N, the header's length: an unsigned 64-bit little-endian integer
 *   N bytes     the header: UTF-8 JSON, an object of tensor name → { dtype, shape, data_offsets }
 *               and an optional "__metadata__" object of string → string; padded with spaces
 *   the rest    the data section: each tensor's bytes, little-endian, row-major, at
 *               data_offsets [begin, end) relative to the section's start
 *
 * `save` writes F32 (regula's only dtype) and pads the header so the data starts at a multiple
 * of 8 bytes, as the format's reference writer does. `load` reads F32, F64, F16 and BF16 into
 * float32: F16 and BF16 values all exist in float32, so they convert exactly (NaN payloads
 * and −0 kept); F64 narrows with round-to-nearest-even (Math.fround), and a finite F64 value
 * beyond float32's range is an error rather than an Infinity nobody wrote. Every other dtype
 * is refused by name.
 *
 * In Node, files are plain bytes: `fs.writeFileSync(path, safetensors.save(model))` and
 * `safetensors.load(fs.readFileSync(path))`. In a page, `new Blob([safetensors.save(model)])`
 * downloads and `new Uint8Array(await file.arrayBuffer())` loads. This module imports nothing
 * from Node, so bundles for the browser stay clean.
 *
 * `load` treats its bytes as untrusted. It checks every rule below before it allocates
 * anything proportional to a number read from the file, so the largest allocation is about
 * twice the file's size (F16 → float32); any failure is a SafetensorsError naming the rule
 * and the tensor:
 * - the file holds 8 bytes; the header length fits in the file and is at most 100,000,000
 * - before it is parsed, a linear scan of the header's bytes bounds its shape (limits no real
 *   file reaches: a real header nests 3 deep, its arrays are shapes and data_offsets, and a
 *   model of 10,000 tensors is large): nesting at most MAX_HEADER_DEPTH (16) levels
 *   ('header depth'), at most MAX_TENSORS (1,000,000) keys in the top-level object
 *   ('tensor count'), at most MAX_METADATA_KEYS (65,536) keys in any inner object, such as
 *   "__metadata__" ('metadata count'), at most MAX_ARRAY_ITEMS (1,024) items in an array
 *   ('array length'), and keys of at most MAX_KEY_BYTES (65,536) bytes ('key length'); so
 *   JSON.parse and the duplicate-key scan below never see more than that
 * - the header is valid UTF-8, starts with '{', parses as JSON (so it is an object), and repeats
 *   no key in any object
 * - "__metadata__", when present, is an object whose values are all strings
 * - tensor names are non-empty; each entry is an object with exactly dtype, shape, data_offsets
 * - dtype is F32, F64, F16 or BF16 (other safetensors dtypes are named as unsupported)
 * - shape is an array of non-negative safe integers whose product is a safe integer
 * - data_offsets is [begin, end], safe integers with 0 ≤ begin ≤ end ≤ the data section's size
 * - end − begin = element count × dtype size
 * - sorted by begin, the tensors cover the data section exactly: no gap, no overlap, nothing after
 * - F64 values are within float32's range (or ±Infinity / NaN, which convert as they are)
 */
import { SafetensorsError, ShapeError, describe, fmtShape } from '../rules/errors.js';
import { Module } from '../nn/base.js';
import { Tensor } from '../core/tensor.js';
import { checkKeys, checkShape, shapeSize } from '../rules/validate.js';

/** The dtypes `load` reads (all converted to float32). */
export type Dtype = 'F32' | 'F64' | 'F16' | 'BF16';

/** A tensor read from a file: its dtype in the file, its shape, and its values as float32. */
export interface LoadedTensor {
  dtype: Dtype;
  shape: number[];
  data: Float32Array;
}

/** What `load` returns: tensors by name (in header order) and the header's `__metadata__` (empty when absent). */
export interface SafetensorsFile {
  tensors: Record<string, LoadedTensor>;
  metadata: Record<string, string>;
}

/** Options of `save`. */
export interface SaveOptions {
  /** Strings stored in the header's `__metadata__` (e.g. a tokenizer's vocabulary, a config as JSON). */
  metadata?: Record<string, string>;
}

const SAVE_KEYS: Record<keyof SaveOptions, true> = { metadata: true };

/** What `save` accepts: a Module (every state-dict key, tied weights under each name) or name → tensor. */
export type SaveSource = Module | Record<string, Tensor | { readonly shape: readonly number[]; readonly data: Float32Array | readonly number[] }>;

/** The largest header `load` accepts, in bytes (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** The deepest nesting of objects and arrays `load` accepts in a header (a real one nests 3 deep). */
export const MAX_HEADER_DEPTH = 16;
/** The most keys `load` accepts in the header's top-level object: tensors (and "__metadata__"). */
export const MAX_TENSORS = 1_000_000;
/** The most keys `load` accepts in an object inside the header ("__metadata__"; a tensor entry has 3). */
export const MAX_METADATA_KEYS = 65_536;
/** The most items `load` accepts in an array of the header (a shape, data_offsets). */
export const MAX_ARRAY_ITEMS = 1024;
/** The longest key `load` accepts in the header, in bytes (a tensor name, a metadata key). */
export const MAX_KEY_BYTES = 65_536;

const DTYPE_SIZE: Record<Dtype, number> = { F32: 4, F64: 8, F16: 2, BF16: 2 };
/** Dtypes of the format that regula does not read, named so the error can say "unsupported" rather than "unknown". */
const OTHER_DTYPES = new Set(['BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64']);
const ENTRY_KEYS = ['dtype', 'shape', 'data_offsets'];
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

function fail(rule: string, tensor: string | null, message: string): never {
  const where = tensor === null ? '' : `tensor ${JSON.stringify(tensor)}: `;
  throw new SafetensorsError(rule, tensor, `safetensors.load: ${where}${message}`);
}

// ---- save --------------------------------------------------------------------------------------

/**
 * Writes a Module's parameters (each state-dict key with its true shape) or a record of
 * name → Tensor | { shape, data } as a safetensors file of F32 tensors, in the given order,
 * with `metadata` as the header's `__metadata__`. Bad input (a disposed tensor, data whose
 * length is not the shape's size, a finite value beyond float32's range, an empty name,
 * non-string metadata, a source that is neither a Module nor a plain object, such as a Map)
 * throws before anything is written. The header is padded with spaces to a multiple of 8 bytes.
 */
export function save(source: SaveSource, options: SaveOptions = {}): Uint8Array<ArrayBuffer> {
  if (options === null || typeof options !== 'object') throw new TypeError(`safetensors.save: expected options { metadata? }, got ${describe(options)}`);
  checkKeys(options, SAVE_KEYS, 'safetensors.save');
  const items = saveItems(source);
  const metadata = options.metadata;
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw new TypeError(`safetensors.save: expected metadata as an object of string → string, got ${describe(metadata)}`);
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`safetensors.save: metadata ${JSON.stringify(k)}: expected a string, got ${describe(v)}`);
    }
  }
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const { name, shape, size } of items) {
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: 'F32', shape, data_offsets: [offset, offset + 4 * size] })}`);
    offset += 4 * size;
  }
  let header = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(header.length / 8) * 8;
  if (padded !== header.length) {
    const h = new Uint8Array(padded).fill(0x20);
    h.set(header);
    header = h;
  }
  const out = new Uint8Array(8 + header.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const { data } of items) {
    const f = data();
    if (LITTLE_ENDIAN) out.set(new Uint8Array(f.buffer, f.byteOffset, f.byteLength), at);
    else for (let i = 0; i < f.length; i++) view.setFloat32(at + 4 * i, f[i]!, true);
    at += f.byteLength;
  }
  return out;
}

interface SaveItem { name: string; shape: readonly number[]; size: number; data: () => Float32Array }

/** Checks the whole source first; data is read only while writing (a Tensor's view is fetched then, so it cannot be stale). */
function saveItems(source: SaveSource): SaveItem[] {
  if (source === null || typeof source !== 'object') throw new TypeError(`safetensors.save: expected a Module or an object of name → Tensor | { shape, data }, got ${describe(source)}`);
  // Only a Module or a plain record (its own enumerable keys are the names): a Map, an array or
  // another class instance would give no entries or the wrong ones, so a file without the tensors.
  const proto: unknown = Object.getPrototypeOf(source);
  if (!(source instanceof Module) && proto !== Object.prototype && proto !== null) {
    throw new TypeError(`safetensors.save: expected a Module or a plain object of name → Tensor | { shape, data }, got ${describe(source)}` +
      (source instanceof Map ? ' (pass Object.fromEntries(map))' : ''));
  }
  const entries: [string, unknown][] = source instanceof Module ? source.stateEntries() : Object.entries(source);
  return entries.map(([name, v]) => {
    const what = `safetensors.save: ${JSON.stringify(name)}`;
    if (name === '' || name === '__metadata__') throw new RangeError(`${what}: expected a tensor name other than "" and "__metadata__"`);
    if (v instanceof Tensor) {
      v.assertLive(what);
      return { name, shape: v.shape, size: v.size, data: () => v.data };
    }
    if (v === null || typeof v !== 'object' || !('shape' in v) || !('data' in v)) throw new TypeError(`${what}: expected a Tensor or { shape, data }, got ${describe(v)}`);
    const shape = checkShape((v as { shape: unknown }).shape, `${what} shape`);
    const size = shapeSize(shape);
    const d = (v as { data: unknown }).data;
    if (!(d instanceof Float32Array) && !Array.isArray(d)) throw new TypeError(`${what}: expected data as a Float32Array or an array of numbers, got ${describe(d)}`);
    if (d.length !== size) throw new ShapeError(`${what}: shape ${fmtShape(shape)} holds ${size} values, but data has ${d.length}`);
    if (Array.isArray(d)) {
      const i = d.findIndex((x) => typeof x !== 'number');
      if (i >= 0) throw new TypeError(`${what}: data[${i}]: expected a number, got ${describe(d[i])}`);
      // F32 holds what it is given, NaN and ±Infinity included; a finite value beyond float32's
      // range would be written as an Infinity nobody wrote (load refuses the same in F64)
      const j = d.findIndex((x) => Number.isFinite(x) && !Number.isFinite(Math.fround(x as number)));
      if (j >= 0) throw new RangeError(`${what}: data[${j}] = ${d[j]} is beyond float32's range (±3.4028235e38)`);
    }
    return { name, shape, size, data: () => (d instanceof Float32Array ? d : Float32Array.from(d as number[])) };
  });
}

// ---- load --------------------------------------------------------------------------------------

interface Entry { name: string; dtype: Dtype; shape: number[]; count: number; begin: number; end: number }

/**
 * Reads a safetensors file (a Uint8Array, e.g. a Node Buffer, or an ArrayBuffer) into float32
 * tensors and its metadata. The bytes are untrusted: every rule of the module comment is
 * checked before anything large is allocated, and a broken rule throws SafetensorsError.
 * `model.loadStateDict(load(bytes).tensors)` loads a model, checking each shape.
 */
export function load(bytes: Uint8Array | ArrayBuffer): SafetensorsFile {
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`safetensors.load: expected the file's bytes as a Uint8Array or ArrayBuffer, got ${describe(bytes)}`);
  if (bytes.length < 8) fail('header length', null, `expected at least 8 bytes (the header length), got a file of ${bytes.length}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail('header length', null, `the header length is ${n64} bytes; expected at most ${MAX_HEADER_BYTES}`);
  const n = Number(n64);
  if (n > bytes.length - 8) fail('header length', null, `the header length is ${n} bytes, but only ${bytes.length - 8} follow the first 8`);
  if (n < 2 || bytes[8] !== 0x7b) fail('header start', null, `expected the header to start with '{', got ${n === 0 ? 'an empty header' : `byte 0x${bytes[8]!.toString(16).padStart(2, '0')}`}`);
  checkHeaderShape(bytes, 8, 8 + n);
  let text: string;
  try {
    // a copy: browsers' TextDecoder refuses views of shared memory (a wasm heap)
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.slice(8, 8 + n));
  } catch {
    fail('header UTF-8', null, 'the header is not valid UTF-8');
  }
  let header: object; // JSON text that starts with '{' is an object
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail('header JSON', null, `the header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const dup = firstDuplicateKey(text);
  if (dup !== null) fail('duplicate key', dup.tensor, `the key ${JSON.stringify(dup.key)} appears twice in ${dup.tensor === dup.key ? 'the header' : 'its entry'}`);

  const dataSize = bytes.length - 8 - n;
  const metadata: Record<string, string> = Object.create(null);
  const entries: Entry[] = [];
  for (const name of Object.keys(header)) {
    const raw = (header as Record<string, unknown>)[name];
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('metadata', null, `expected "__metadata__" to be an object of string → string, got ${describe(raw)}`);
      for (const k of Object.keys(raw)) {
        const v = (raw as Record<string, unknown>)[k];
        if (typeof v !== 'string') fail('metadata', null, `"__metadata__" ${JSON.stringify(k)}: expected a string value, got ${describe(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(checkEntry(name, raw, dataSize));
  }
  checkCoverage(entries, dataSize);
  const base = 8 + n;
  for (const e of entries) if (e.dtype === 'F64') checkF64Range(e, dv, base);

  const tensors: Record<string, LoadedTensor> = Object.create(null);
  for (const e of entries) {
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: decode(e, bytes, dv, base) };
  }
  return { tensors, metadata };
}

function checkEntry(name: string, raw: unknown, dataSize: number): Entry {
  if (name === '') fail('name', name, 'expected a non-empty tensor name');
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('entry', name, `expected an object { dtype, shape, data_offsets }, got ${describe(raw)}`);
  const keys = Object.keys(raw);
  const extra = keys.filter((k) => !ENTRY_KEYS.includes(k));
  const missing = ENTRY_KEYS.filter((k) => !keys.includes(k));
  if (missing.length > 0 || extra.length > 0) {
    fail('entry', name, `expected exactly the keys dtype, shape, data_offsets${missing.length > 0 ? `; missing ${missing.join(', ')}` : ''}${extra.length > 0 ? `; unexpected ${extra.map((k) => JSON.stringify(k)).join(', ')}` : ''}`);
  }
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  // an own-property lookup: 'toString', 'constructor' and '__proto__' are not dtypes
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_SIZE, dtype)) {
    if (typeof dtype === 'string' && OTHER_DTYPES.has(dtype)) fail('dtype', name, `dtype ${dtype} is not supported; regula reads F32, F64, F16 and BF16`);
    fail('dtype', name, `expected dtype F32, F64, F16 or BF16, got ${describe(dtype)}`);
  }
  if (!Array.isArray(shape)) fail('shape', name, `expected shape as an array of non-negative integers, got ${describe(shape)}`);
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) fail('shape', name, `shape[${i}]: expected a non-negative safe integer, got ${describe(d)}`);
  }
  if (!shape.includes(0)) {
    for (const d of shape as number[]) {
      count *= d;
      if (count > Number.MAX_SAFE_INTEGER) fail('shape', name, `shape ${fmtShape(shape)} holds more than 2^53 elements`);
    }
  } else count = 0;
  if (!Array.isArray(offsets) || offsets.length !== 2) fail('data_offsets', name, `expected data_offsets as [begin, end], got ${describe(offsets)}`);
  const [begin, end] = offsets as unknown[];
  for (const [v, which] of [[begin, 'begin'], [end, 'end']] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail('data_offsets', name, `data_offsets ${which}: expected a non-negative safe integer, got ${describe(v)}`);
  }
  const b = begin as number, e = end as number;
  if (b > e) fail('data_offsets', name, `data_offsets [${b}, ${e}]: begin is after end`);
  if (e > dataSize) fail('data_offsets', name, `data_offsets [${b}, ${e}] run past the data section, which has ${dataSize} bytes`);
  const size = DTYPE_SIZE[dtype as Dtype];
  if (e - b !== count * size) fail('byte length', name, `data_offsets [${b}, ${e}] hold ${e - b} bytes, but shape ${fmtShape(shape)} of ${dtype} needs ${count} × ${size} = ${count * size}`);
  return { name, dtype: dtype as Dtype, shape: (shape as number[]).slice(), count, begin: b, end: e };
}

/** Sorted by begin, the ranges must tile [0, dataSize): the format's rule, so no byte is read twice or hidden. */
function checkCoverage(entries: Entry[], dataSize: number): void {
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: Entry | null = null;
  for (const e of sorted) {
    if (e.begin < at) fail('data_offsets overlap', e.name, `data_offsets [${e.begin}, ${e.end}] overlap those of ${JSON.stringify(prev!.name)} [${prev!.begin}, ${prev!.end}]`);
    if (e.begin > at) fail('data_offsets gap', e.name, `data_offsets [${e.begin}, ${e.end}] leave bytes [${at}, ${e.begin}) of the data section unused${prev === null ? '' : ` after ${JSON.stringify(prev.name)}`}`);
    at = e.end;
    prev = e;
  }
  if (at !== dataSize) fail('data_offsets gap', null, `the tensors cover ${at} bytes of the data section, which has ${dataSize} (bytes [${at}, ${dataSize}) are unused)`);
}

/** A finite F64 value that float32 cannot hold would become an Infinity nobody wrote. */
function checkF64Range(e: Entry, dv: DataView, base: number): void {
  for (let i = 0; i < e.count; i++) {
    const v = dv.getFloat64(base + e.begin + 8 * i, true);
    if (Number.isFinite(v) && !Number.isFinite(Math.fround(v))) fail('F64 range', e.name, `value [${i}] = ${v} is beyond float32's range (±3.4028235e38)`);
  }
}

function decode(e: Entry, bytes: Uint8Array, dv: DataView, base: number): Float32Array {
  const out = new Float32Array(e.count);
  const at = base + e.begin;
  if (e.dtype === 'F32') {
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes.subarray(at, at + 4 * e.count));
    else for (let i = 0; i < e.count; i++) out[i] = dv.getFloat32(at + 4 * i, true);
  } else if (e.dtype === 'F64') {
    for (let i = 0; i < e.count; i++) out[i] = dv.getFloat64(at + 8 * i, true);
  } else {
    const bits = new Uint32Array(out.buffer);
    if (e.dtype === 'BF16') for (let i = 0; i < e.count; i++) bits[i] = dv.getUint16(at + 2 * i, true) << 16 >>> 0;
    else for (let i = 0; i < e.count; i++) bits[i] = f16ToF32Bits(dv.getUint16(at + 2 * i, true));
  }
  return out;
}

/** The float32 bits of an IEEE binary16 value: exact (float32 holds every half), NaN payloads kept. */
export function f16ToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let frac = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (frac << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp - 15 + 127) << 23) | (frac << 13)) >>> 0;
  if (frac === 0) return sign >>> 0;
  // subnormal half: frac·2^−24; normalize into float32's exponent range
  let e = -14;
  while ((frac & 0x400) === 0) { frac <<= 1; e--; }
  return (sign | ((e + 127) << 23) | ((frac & 0x3ff) << 13)) >>> 0;
}

/**
 * The bounds on the header's shape (the module comment), checked in one pass over its bytes
 * [from, to) before anything parses them, in memory bounded by MAX_HEADER_DEPTH. Bytes of
 * UTF-8 multi-byte characters are never ASCII, so '"', '\\' and the brackets are found
 * on the bytes as in the text. The header may be invalid JSON here (then JSON.parse says
 * so afterwards): the scan only counts.
 */
function checkHeaderShape(bytes: Uint8Array, from: number, to: number): void {
  const items = new Float64Array(MAX_HEADER_DEPTH + 1); // per open bracket: items (object keys or array values) so far
  const isObject = new Uint8Array(MAX_HEADER_DEPTH + 1);
  const empty = new Uint8Array(MAX_HEADER_DEPTH + 1); // 1 until the bracket's first item starts
  let depth = 0;
  const at = (i: number) => `at byte ${i - from} of the header`;
  const count = (d: number, i: number): void => {
    const n = ++items[d]!;
    if (isObject[d] === 0) {
      if (n > MAX_ARRAY_ITEMS) fail('array length', null, `an array of more than ${MAX_ARRAY_ITEMS} items ${at(i)}; a shape or data_offsets holds a few`);
    } else if (d === 1) {
      if (n > MAX_TENSORS + 1) fail('tensor count', null, `more than ${MAX_TENSORS} tensors in the header ${at(i)}; expected at most ${MAX_TENSORS}`);
    } else if (n > MAX_METADATA_KEYS) {
      fail('metadata count', null, `an object inside the header (such as "__metadata__") with more than ${MAX_METADATA_KEYS} keys ${at(i)}; expected at most ${MAX_METADATA_KEYS}`);
    }
  };
  const first = (i: number): void => { if (depth > 0 && empty[depth] === 1) { empty[depth] = 0; count(depth, i); } };
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (c === 0x22) { // a string: find its end; a key is one in an object followed by ':'
      const start = i;
      first(i);
      for (i++; i < to && bytes[i] !== 0x22; i++) if (bytes[i] === 0x5c) i++;
      if (depth > 0 && isObject[depth] === 1 && i - start - 1 > MAX_KEY_BYTES) {
        let j = i + 1;
        while (j < to && (bytes[j] === 0x20 || bytes[j] === 0x09 || bytes[j] === 0x0a || bytes[j] === 0x0d)) j++;
        if (bytes[j] === 0x3a) fail('key length', null, `a key of ${i - start - 1} bytes ${at(start)}; expected at most ${MAX_KEY_BYTES}`);
      }
    } else if (c === 0x7b || c === 0x5b) {
      first(i);
      if (++depth > MAX_HEADER_DEPTH) fail('header depth', null, `the header nests more than ${MAX_HEADER_DEPTH} levels of objects and arrays ${at(i)}; a safetensors header nests 3`);
      items[depth] = 0; isObject[depth] = c === 0x7b ? 1 : 0; empty[depth] = 1;
    } else if (c === 0x7d || c === 0x5d) {
      if (depth > 0) depth--;
    } else if (c === 0x2c) {
      if (depth > 0) count(depth, i);
    } else if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x3a) {
      first(i); // a first item that is a number, true, false or null
    }
  }
}

/**
 * JSON.parse keeps the last of two equal keys silently; the format forbids them (two tensors
 * of one name), so the parsed text is scanned once more. Returns the first repeated key and
 * the tensor concerned (the key itself at the top level). `text` is valid JSON here.
 */
function firstDuplicateKey(text: string): { key: string; tensor: string | null } | null {
  const stack: (Set<string> | null)[] = []; // per open bracket: the object's keys so far, null for arrays
  let topKey: string | null = null; // the top-level key whose value is being scanned
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b) stack.push(new Set());
    else if (c === 0x5b) stack.push(null);
    else if (c === 0x7d || c === 0x5d) stack.pop();
    else if (c === 0x22) {
      const start = i;
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      let j = i + 1;
      while (j < text.length && (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r')) j++;
      const keys = stack[stack.length - 1];
      if (text[j] !== ':' || keys === null || keys === undefined) continue;
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (keys.has(key)) return { key, tensor: stack.length === 1 ? key : topKey };
      keys.add(key);
      if (stack.length === 1) topKey = key;
    }
  }
  return null;
}
