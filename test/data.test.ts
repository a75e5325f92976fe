import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { decodeBase64, diabetesRaw, loadDiabetes, loadDigits, takeRows, trainTestSplit } from '../src/data/index.js';
import { ShapeError } from '../src/index.js';

/** FNV-1a (32-bit) over the little-endian float64 bytes of the values, in order. */
function fnv64(values: ArrayLike<number>): number {
  const b = new Uint8Array(new Float64Array(Array.from(values)).buffer);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return h;
}

// Recorded from the original gzipped CSVs (/work/shared/data) with an independent Python
// parse (float(text), struct.pack('<d'), the same FNV-1a), so these tests need no ../shared.
const ORIGINAL = {
  digits: { pixelsFnv: 0x45cf3592, labelsFnv: 0x70bc5b89, pixelSum: 561718,
    row1000: [0, 0, 1, 14, 2, 0, 0, 0, 0, 0, 0, 16, 5, 0, 0, 0, 0, 0, 0, 14, 10, 0, 0, 0, 0, 0, 0, 11, 16, 1, 0, 0, 0, 0, 0, 3, 14, 6, 0, 0, 0, 0, 0, 0, 8, 12, 0, 0, 0, 0, 10, 14, 13, 16, 8, 3, 0, 0, 2, 11, 12, 15, 16, 15, 1], // + label
    counts: [178, 182, 177, 183, 181, 182, 181, 179, 174, 180] },
  diabetes: { xFnv: 0xee7998df, yFnv: 0x8551c6e9,
    row0: [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87], row200: [64, 1, 21, 92.33, 227, 146.8, 65, 3.49, 4.3307, 102],
    row441: [36, 1, 19.6, 71, 250, 133.2, 97, 3, 4.5951, 92], y: [151, 158, 57], yMean: 152.13348416289594 },
};

const SHARED = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'data');
const hasShared = existsSync(join(SHARED, 'digits.csv.gz'));
const gz = (f: string) => gunzipSync(readFileSync(join(SHARED, f))).toString('utf8').trim().split('\n');

describe('digits', () => {
  const dg = loadDigits();

  it('decodes to the original pixels and labels (recorded checksums and rows)', () => {
    expect([dg.n, dg.d, dg.x.length, dg.y.length]).toEqual([1797, 64, 1797 * 64, 1797]);
    expect(fnv64(dg.x)).toBe(ORIGINAL.digits.pixelsFnv);
    expect(fnv64(dg.y)).toBe(ORIGINAL.digits.labelsFnv);
    expect(dg.x.reduce((a, b) => a + b, 0)).toBe(ORIGINAL.digits.pixelSum);
    expect(Array.from(dg.x.subarray(1000 * 64, 1001 * 64))).toEqual(ORIGINAL.digits.row1000.slice(0, 64));
    expect(dg.y[1000]).toBe(ORIGINAL.digits.row1000[64]);
    const counts = new Array(10).fill(0);
    dg.y.forEach((l) => counts[l]++);
    expect(counts).toEqual(ORIGINAL.digits.counts);
  });

  it.skipIf(!hasShared)('equals ../shared/data/digits.csv.gz value for value (skipped when ../shared is absent)', () => {
    const rows = gz('digits.csv.gz');
    expect(rows.length).toBe(dg.n);
    rows.forEach((line, i) => {
      const v = line.split(',').map(Number);
      for (let j = 0; j < 64; j++) if (dg.x[i * 64 + j] !== v[j]) throw new Error(`pixel ${i},${j}: ${dg.x[i * 64 + j]} vs ${v[j]}`);
      if (dg.y[i] !== v[64]) throw new Error(`label ${i}: ${dg.y[i]} vs ${v[64]}`);
    });
  });

  it('normalize divides by 16; every call returns a fresh copy', () => {
    const nd = loadDigits({ normalize: true });
    expect(nd.x.every((v, i) => v === dg.x[i]! / 16)).toBe(true);
    expect(Math.max(...nd.x)).toBe(1);
    nd.x[0] = 99;
    expect(loadDigits().x[0]).toBe(dg.x[0]);
    expect(() => loadDigits({ normalize: 1 as never })).toThrow(TypeError);
  });
});

describe('diabetes', () => {
  const raw = diabetesRaw();

  it('decodes to the original float64 values (recorded checksums and rows)', () => {
    expect([raw.n, raw.d, raw.x.length, raw.y.length]).toEqual([442, 10, 4420, 442]);
    expect(fnv64(raw.x)).toBe(ORIGINAL.diabetes.xFnv);
    expect(fnv64(raw.y)).toBe(ORIGINAL.diabetes.yFnv);
    expect(Array.from(raw.x.subarray(0, 10))).toEqual(ORIGINAL.diabetes.row0);
    expect(Array.from(raw.x.subarray(2000, 2010))).toEqual(ORIGINAL.diabetes.row200);
    expect(Array.from(raw.x.subarray(4410))).toEqual(ORIGINAL.diabetes.row441);
    expect([raw.y[0], raw.y[200], raw.y[441]]).toEqual(ORIGINAL.diabetes.y);
  });

  it.skipIf(!hasShared)('equals ../shared/data/diabetes_*.csv.gz value for value (skipped when ../shared is absent)', () => {
    const xs = gz('diabetes_data_raw.csv.gz');
    const ys = gz('diabetes_target.csv.gz');
    expect([xs.length, ys.length]).toEqual([442, 442]);
    xs.forEach((line, i) => {
      const v = line.trim().split(/\s+/).map(Number);
      for (let j = 0; j < 10; j++) if (!Object.is(raw.x[i * 10 + j], v[j])) throw new Error(`x ${i},${j}: ${raw.x[i * 10 + j]} vs ${v[j]}`);
      if (!Object.is(raw.y[i], Number(ys[i]))) throw new Error(`y ${i}: ${raw.y[i]} vs ${ys[i]}`);
    });
  });

  it('raw float32 loader rounds the exact values', () => {
    const d = loadDiabetes();
    expect(d.featureNames).toEqual(['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6']);
    expect(d.x.every((v, i) => v === Math.fround(raw.x[i]!))).toBe(true);
    expect(d.y.every((v, i) => v === Math.fround(raw.y[i]!))).toBe(true);
  });

  it('standardize: centred unit-norm columns and centred target, as scikit-learn scaled=True', () => {
    const s = loadDiabetes({ standardize: true });
    for (let j = 0; j < 10; j++) {
      let sum = 0, ss = 0;
      for (let i = 0; i < 442; i++) { sum += s.x[i * 10 + j]!; ss += s.x[i * 10 + j]! ** 2; }
      expect(Math.abs(sum)).toBeLessThan(1e-6);
      expect(ss).toBeCloseTo(1, 6);
    }
    expect(Math.abs(s.y.reduce((a, b) => a + b, 0))).toBeLessThan(1e-3);
    expect(s.y[0]).toBe(Math.fround(151 - ORIGINAL.diabetes.yMean));
    // scikit-learn 1.2 load_diabetes() (scaled), first row, as printed in its docs (8 digits).
    const sk = [0.03807591, 0.05068012, 0.06169621, 0.02187239, -0.0442235, -0.03482076, -0.04340085, -0.00259226, 0.01990749, -0.01764613];
    sk.forEach((v, j) => expect(Math.abs(s.x[j]! - v)).toBeLessThan(1e-8));
    expect(() => loadDiabetes({ standardize: 'yes' as never })).toThrow(TypeError);
  });
});

describe('decodeBase64', () => {
  it('round-trips random bytes of every length mod 3', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
      const b64 = Buffer.from(bytes).toString('base64');
      expect(Array.from(decodeBase64(b64))).toEqual(Array.from(bytes));
    }));
    expect(() => decodeBase64('abc')).toThrow(RangeError);
    expect(() => decodeBase64('ab!=')).toThrow(/invalid character/);
  });
});

describe('trainTestSplit / takeRows', () => {
  it('splits into disjoint sorted parts that cover the requested sizes, reproducibly', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 300 }), fc.integer({ min: 0, max: 0xffffffff }), fc.double({ min: 0.01, max: 0.99, noNaN: true }),
      (n, seed, frac) => {
        const nTrain = Math.min(n - 1, Math.max(1, Math.round(frac * n)));
        const { train, test } = trainTestSplit(n, { trainSize: nTrain, seed });
        expect(train.length).toBe(nTrain);
        expect(test.length).toBe(n - nTrain);
        const all = [...train, ...test].sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
        for (let i = 1; i < train.length; i++) expect(train[i]!).toBeGreaterThan(train[i - 1]!);
        const again = trainTestSplit(n, { trainSize: nTrain, seed });
        expect(Array.from(again.test)).toEqual(Array.from(test));
      }));
  });

  it('digits: 500 train and the rest test; different seeds differ; the default is 75/25', () => {
    const a = trainTestSplit(1797, { trainSize: 500, seed: 1 });
    const b = trainTestSplit(1797, { trainSize: 500, seed: 2 });
    expect([a.train.length, a.test.length]).toEqual([500, 1297]);
    expect(Array.from(a.train)).not.toEqual(Array.from(b.train));
    const c = trainTestSplit(100);
    expect([c.train.length, c.test.length]).toEqual([75, 25]);
    const f = trainTestSplit(100, { testSize: 0.1, trainSize: 0.5 });
    expect([f.train.length, f.test.length]).toEqual([50, 10]);
  });

  it('takeRows gathers rows of any typed array', () => {
    const dg = loadDigits();
    const { train } = trainTestSplit(dg.n, { trainSize: 5, seed: 3 });
    const x = takeRows(dg.x, 64, train);
    const y = takeRows(dg.y, 1, train);
    expect(x).toBeInstanceOf(Float32Array);
    expect(y).toBeInstanceOf(Int32Array);
    train.forEach((i, r) => {
      expect(Array.from(x.subarray(r * 64, r * 64 + 64))).toEqual(Array.from(dg.x.subarray(i * 64, i * 64 + 64)));
      expect(y[r]).toBe(dg.y[i]);
    });
  });

  it('rejects bad input with clear errors', () => {
    expect(() => trainTestSplit(1)).toThrow(/trainTestSplit n: expected an integer ≥ 2, got 1/);
    expect(() => trainTestSplit(10, { seed: -1 })).toThrow(RangeError);
    expect(() => trainTestSplit(10, { trainSize: 11 })).toThrow(/≤ 10/);
    expect(() => trainTestSplit(10, { trainSize: 6, testSize: 5 })).toThrow(/add up to at most n = 10/);
    expect(() => trainTestSplit(10, { trainSize: 2.5 })).toThrow(RangeError);
    expect(() => takeRows(new Float32Array(6), 4, [0])).toThrow(ShapeError);
    expect(() => takeRows(new Float32Array(6), 3, [2])).toThrow(/expected a row in \[0, 1\]/);
  });
});
