import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DisposedError, ShapeError, type Backend } from '../src/index.js';
import { dropThreshold } from '../src/core/rng.js';
import { expectBits, firstBitDiff, loadBoth, randomF32, SIZES } from './helpers.js';

const { wasm, js, BACKENDS } = await loadBoth();

// ---- an independent, straightforward reimplementation of the layout documented in src/core/rng.ts ----

/** splitmix32 of (seed + (j+1)·0x9E3779B9), 0 replaced by 0x6D2B79F5 — written from the doc. */
function docSeed(seed: number): number[] {
  const lanes: number[] = [];
  for (let j = 0; j < 16; j++) {
    let z = Number((BigInt(seed) + BigInt(j + 1) * 0x9e3779b9n) & 0xffffffffn);
    z = Number((BigInt((z ^ (z >>> 16)) >>> 0) * 0x85ebca6bn) & 0xffffffffn);
    z = Number((BigInt((z ^ (z >>> 13)) >>> 0) * 0xc2b2ae35n) & 0xffffffffn);
    z = (z ^ (z >>> 16)) >>> 0;
    lanes.push(z === 0 ? 0x6d2b79f5 : z);
  }
  return lanes;
}

/** One scalar xorshift32 step (13, 17, 5). */
function step(x: number): number {
  x = (x ^ (x << 13)) >>> 0;
  x = (x ^ (x >>> 17)) >>> 0;
  return (x ^ (x << 5)) >>> 0;
}

/**
 * The documented stream: element i uses lane i mod 16 on its (floor(i/16)+1)-th step; every
 * lane steps ceil(n/16) times. Returns keep flags and the lanes after the call.
 */
function docKeep(lanes: readonly number[], n: number, threshold: number): { keep: Uint8Array; after: number[] } {
  const keep = new Uint8Array(n);
  const after = lanes.slice();
  const steps = Math.ceil(n / 16);
  for (let j = 0; j < 16; j++) {
    let s = after[j]!;
    for (let t = 0; t < steps; t++) {
      s = step(s);
      const i = 16 * t + j;
      if (i < n) keep[i] = s >= threshold ? 1 : 0;
    }
    after[j] = s;
  }
  return { keep, after };
}


function run(be: Backend, xd: Float32Array, p: number, seedOrState: number | Uint32Array, opts: { alias?: boolean; mask?: boolean } = {}) {
  const n = xd.length;
  const x = be.tensor([n], xd);
  const out = opts.alias ? x : be.zeros([n]);
  const mask = opts.mask ? be.zeros([n]) : null;
  const rng = be.rng(1);
  if (typeof seedOrState === 'number') rng.setState(Uint32Array.from(docSeed(seedOrState)));
  else rng.setState(seedOrState);
  be.kernels.dropout(out, x, p, rng, mask);
  const res = { out: out.data.slice(), x: x.data.slice(), mask: mask?.data.slice() ?? null, state: rng.state() };
  x.dispose(); if (out !== x) out.dispose(); mask?.dispose(); rng.dispose();
  return res;
}

describe('dropout RNG stream layout (src/core/rng.ts)', () => {
  it.each(BACKENDS)('be.rng(seed) seeds the lanes as documented (%s)', (_, be) => {
    for (const seed of [0, 1, 42, 0x9e3779b9, 0xffffffff, 123456789]) {
      const r = be.rng(seed);
      expect(Array.from(r.state())).toEqual(docSeed(seed));
      r.dispose();
    }
  });

  it.each(BACKENDS)('matches a scalar per-lane xorshift of the documented layout at every size (%s)', (_, be) => {
    const p = 0.3, thr = dropThreshold(p), scale = Math.fround(1 / (1 - p));
    for (const n of [...SIZES, 4 * 1024 * 1024 + 5]) {
      const xd = randomF32(n, n + 1);
      const lanes = docSeed(7 + n);
      const { keep, after } = docKeep(lanes, n, thr);
      for (const alias of [false, true]) {
        const r = run(be, xd, p, 7 + n, { alias, mask: true });
        let bad = -1;
        for (let i = 0; i < n && bad < 0; i++) {
          const want = keep[i] ? Math.fround(xd[i]! * scale) : 0;
          if (!Object.is(r.out[i], want) || r.mask![i] !== keep[i]) bad = i;
        }
        expect(bad, `n=${n} alias=${alias}: first wrong element`).toBe(-1);
        expect(Array.from(r.state), `n=${n}: state = lanes stepped ceil(n/16) times`).toEqual(after);
        if (!alias) expectBits(r.x, xd, `n=${n}: x unmodified`);
      }
    }
  });

  it.each(BACKENDS)('consecutive calls continue the stream; the state depends only on sizes (%s)', (_, be) => {
    const rng = be.rng(99);
    let lanes = docSeed(99);
    const p = 0.5, thr = dropThreshold(p);
    for (const n of [17, 1, 32, 67, 0, 5]) {
      const x = be.tensor([n], randomF32(n, n));
      const mask = be.zeros([n]);
      be.kernels.dropout(x, x, p, rng, mask);
      const { keep, after } = docKeep(lanes, n, thr);
      expect(Array.from(mask.data)).toEqual(Array.from(keep));
      expect(Array.from(rng.state())).toEqual(after);
      lanes = after;
      x.dispose(); mask.dispose();
    }
    rng.dispose();
  });
});

describe('dropout wasm vs js', () => {
  it('same bits (out, mask, state) at sizes that straddle the 16-lane block, out separate and aliased', () => {
    for (const n of [...SIZES, 4 * 1024 * 1024]) {
      for (const p of [0.1, 0.5, 0.9]) {
        for (const alias of [false, true]) {
          for (const mask of [false, true]) {
            const xd = randomF32(n, 3 * n + 1, 10);
            const a = run(wasm, xd, p, 1234, { alias, mask });
            const b = run(js, xd, p, 1234, { alias, mask });
            expectBits(a.out, b.out, `n=${n} p=${p} alias=${alias} mask=${mask}: out`);
            if (mask) expectBits(a.mask!, b.mask!, `n=${n}: mask`);
            expect(Array.from(a.state)).toEqual(Array.from(b.state));
          }
        }
        if (n > 100000) break; // the large size once, at p = 0.1
      }
    }
  });

  it('same bits for random sizes, seeds and p (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffffffff }),
      fc.double({ min: 0, max: 1, noNaN: true }), (n, seed, p) => {
        const xd = randomF32(n, seed, 5);
        const a = run(wasm, xd, p, seed, { mask: true });
        const b = run(js, xd, p, seed, { mask: true });
        return firstBitDiff(a.out, b.out) < 0 && firstBitDiff(a.mask!, b.mask!) < 0 &&
          a.state.every((v, i) => v === b.state[i]);
      }), { numRuns: 200 });
  });

  it('writes nothing past n (wasm tail): sentinels after out and mask survive', () => {
    const raw = wasm._s.raw;
    for (let n = 1; n <= 40; n++) {
      const x = wasm.tensor([n + 16], randomF32(n + 16, n));
      const out = wasm.tensor([n + 16], new Float32Array(n + 16).fill(7));
      const mask = wasm.tensor([n + 16], new Float32Array(n + 16).fill(7));
      const rng = wasm.rng(n);
      raw.dropout(out._h, x._h, n, dropThreshold(0.5), 2, rng._h, mask._h);
      expect(Array.from(out.data.subarray(n)).every((v) => v === 7), `n=${n}: out past n`).toBe(true);
      expect(Array.from(mask.data.subarray(n)).every((v) => v === 7), `n=${n}: mask past n`).toBe(true);
      x.dispose(); out.dispose(); mask.dispose(); rng.dispose();
    }
  });
});

describe.each(BACKENDS)('dropout semantics on %s', (_, be) => {
  it('drop rate within 5 binomial sigmas; survivors are exactly f32(x·f32(1/(1−p))); dropped are +0', () => {
    const n = 1 << 20;
    const xd = randomF32(n, 77, 4);
    for (const p of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]) {
      const r = run(be, xd, p, 5, { mask: true });
      const scale = Math.fround(1 / (1 - p));
      let dropped = 0, bad = -1;
      for (let i = 0; i < n; i++) {
        const m = r.mask![i]!;
        if (m === 0) { dropped++; if (!Object.is(r.out[i], 0)) bad = i; } else if (m !== 1 || r.out[i] !== Math.fround(xd[i]! * scale)) bad = i;
      }
      expect(bad, `p=${p}`).toBe(-1);
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(dropped - n * p), `p=${p}: dropped ${dropped} of ${n}`).toBeLessThanOrEqual(5 * sigma);
    }
  });

  it('the worked example: p = 0.5 scales a survivor 4 to 8', () => {
    const r = run(be, new Float32Array(64).fill(4), 0.5, 3, { mask: true });
    for (let i = 0; i < 64; i++) expect(r.out[i]).toBe(r.mask![i] === 1 ? 8 : 0);
  });

  it('a new mask each call, the same mask for the same seed', () => {
    const n = 1000;
    const x = be.tensor([n], new Float32Array(n).fill(1));
    const out = be.zeros([n]);
    const m1 = be.zeros([n]), m2 = be.zeros([n]), m3 = be.zeros([n]);
    const r1 = be.rng(2024), r2 = be.rng(2024);
    be.kernels.dropout(out, x, 0.5, r1, m1);
    be.kernels.dropout(out, x, 0.5, r1, m2);
    be.kernels.dropout(out, x, 0.5, r2, m3);
    expect(firstBitDiff(m1.data, m2.data)).toBeGreaterThanOrEqual(0);
    expect(firstBitDiff(m1.data, m3.data)).toBe(-1);
    for (const t of [x, out, m1, m2, m3]) t.dispose();
    r1.dispose(); r2.dispose();
  });

  it('p = 0 is the identity and p = 1 gives zeros; neither draws from the RNG', () => {
    const xd = randomF32(37, 1);
    const x = be.tensor([37], xd);
    const out = be.tensor([37], new Float32Array(37).fill(9));
    const mask = be.zeros([37]);
    const rng = be.rng(8);
    const s0 = rng.state();
    be.kernels.dropout(out, x, 0, rng, mask);
    expectBits(out.data, xd, 'p=0');
    expect(Array.from(mask.data).every((v) => v === 1)).toBe(true);
    be.kernels.dropout(out, x, 1, rng, mask);
    expect(Array.from(out.data).every((v) => Object.is(v, 0))).toBe(true);
    expect(Array.from(mask.data).every((v) => v === 0)).toBe(true);
    expect(Array.from(rng.state())).toEqual(Array.from(s0));
    expectBits(x.data, xd, 'x unmodified');
    x.dispose(); out.dispose(); mask.dispose(); rng.dispose();
  });

  it('rejects bad input and changes nothing (tensors, RNG state)', () => {
    const xd = randomF32(20, 4);
    const x = be.tensor([4, 5], xd);
    const out = be.tensor([4, 5], new Float32Array(20).fill(3));
    const mask = be.tensor([4, 5], new Float32Array(20).fill(3));
    const rng = be.rng(11);
    const s0 = rng.state();
    const other = (be === wasm ? js : wasm).rng(11);
    const wrong = be.zeros([20]);
    const gone = be.zeros([4, 5]); gone.dispose();
    const goneRng = be.rng(1); goneRng.dispose();
    const k = be.kernels;
    expect(() => k.dropout(out, x, -0.1, rng)).toThrow(RangeError);
    expect(() => k.dropout(out, x, 1.5, rng)).toThrow(/expected p in \[0, 1\], got 1.5/);
    expect(() => k.dropout(out, x, NaN, rng)).toThrow(/got NaN/);
    expect(() => k.dropout(out, x, '0.5' as never, rng)).toThrow(RangeError);
    expect(() => k.dropout(wrong, x, 0.5, rng)).toThrow(ShapeError);
    expect(() => k.dropout(out, x, 0.5, rng, wrong)).toThrow(ShapeError);
    expect(() => k.dropout(out, x, 0.5, rng, out)).toThrow(/mask must be a tensor of its own/);
    expect(() => k.dropout(out, x, 0.5, {} as never)).toThrow(TypeError);
    expect(() => k.dropout(out, x, 0.5, other)).toThrow(/another backend/);
    expect(() => k.dropout(out, x, 0.5, goneRng)).toThrow(DisposedError);
    expect(() => k.dropout(gone, x, 0.5, rng)).toThrow(DisposedError);
    expect(() => k.dropout(out, gone, 0.5, rng)).toThrow(DisposedError);
    expect(() => k.dropout(out, x, 0.5, rng, gone)).toThrow(DisposedError);
    expect(Array.from(rng.state())).toEqual(Array.from(s0));
    expect(Array.from(out.data).every((v) => v === 3)).toBe(true);
    expect(Array.from(mask.data).every((v) => v === 3)).toBe(true);
    expectBits(x.data, xd, 'x');
    for (const t of [x, out, mask, wrong]) t.dispose();
    rng.dispose(); other.dispose();
  });
});
