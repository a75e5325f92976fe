/**
 * The GPT's dropout seeds against the rule documented in src/nn/gpt-layers.ts: a module with
 * seed s hands its parts splitmix32(s + k·0x9E3779B9), k = 1, 2, ... in the order of its
 * parts (GPT: transformer.drop, h.0, h.1, ...; Block: attn, mlp; CausalSelfAttention:
 * attn_dropout, resid_dropout; MLP: dropout), where splitmix32(x) is one splitmix32 step
 * from state x (src/nn/base.ts): fmix32(x + 0x9E3779B9), with fmix32 murmur3's finalizer. Each
 * dropout site's masks are caught as the GPT draws them (a wrapper around the backend's
 * dropout kernel) and compared with masks drawn independently: be.rng(the formula's seed)
 * through the dropout kernel, call after call. nn.Dropout's own stream is tested in
 * test/dropout.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadBackend, nn, type Backend, type Rng, type Tensor } from '../src/index.js';
import { firstBitDiff } from './helpers.js';

const [wasm, js] = await Promise.all([loadBackend('wasm'), loadBackend('js')]);

const GOLDEN = 0x9e3779b9n;

/** One splitmix32 step from state x: fmix32(x + 0x9E3779B9) (shifts 16, 13, 16; murmur3's multipliers), written from the doc. */
function splitmix32(x: bigint): number {
  let z = Number((x + GOLDEN) & 0xffffffffn);
  z = Number((BigInt((z ^ (z >>> 16)) >>> 0) * 0x85ebca6bn) & 0xffffffffn);
  z = Number((BigInt((z ^ (z >>> 13)) >>> 0) * 0xc2b2ae35n) & 0xffffffffn);
  return (z ^ (z >>> 16)) >>> 0;
}

/** The k-th seed (k = 1, 2, ...) that a module with seed s hands to its parts. */
const part = (s: number, k: number): number => splitmix32(BigInt(s) + BigInt(k) * GOLDEN);

interface Site { name: string; seed: number; n: number }

/** The dropout sites of one forward, in the order they draw, with the formula's seeds and draw sizes. */
function sites(seed: number, nLayer: number, B: number, T: number, nHead: number, C: number): Site[] {
  const out: Site[] = [{ name: 'transformer.drop', seed: part(seed, 1), n: B * T * C }];
  for (let i = 0; i < nLayer; i++) {
    const block = part(seed, i + 2), attn = part(block, 1), mlp = part(block, 2);
    out.push(
      { name: `h.${i}.attn.attn_dropout`, seed: part(attn, 1), n: B * nHead * T * T },
      { name: `h.${i}.attn.resid_dropout`, seed: part(attn, 2), n: B * T * C },
      { name: `h.${i}.mlp.dropout`, seed: part(mlp, 1), n: B * T * C },
    );
  }
  return out;
}

/** Records the mask of every call of be's dropout kernel (while `on`), passing every call through. */
function spy(be: Backend): { calls: { n: number; p: number; mask: Float32Array }[]; on: boolean; restore: () => void } {
  const k = be._trusted as unknown as { dropout: (out: Tensor, x: Tensor, p: number, rng: Rng, mask: Tensor | null) => Tensor };
  const orig = k.dropout;
  const s = {
    calls: [] as { n: number; p: number; mask: Float32Array }[],
    on: true,
    restore: () => { k.dropout = orig; },
  };
  k.dropout = function (out, x, p, rng, mask) {
    if (!s.on) return orig.call(this, out, x, p, rng, mask);
    const m = mask ?? be.zeros(x.shape);
    const r = orig.call(this, out, x, p, rng, m);
    s.calls.push({ n: x.size, p, mask: m.toFloat32Array() });
    if (mask === null) m.dispose();
    return r;
  };
  return s;
}

describe.each([['wasm', wasm], ['js', js]] as const)('the GPT\'s dropout masks follow the documented seed rule on %s', (_k, be) => {
  for (const seed of [7, 0xfffffff0]) {
    it(`seed ${seed}: every site of two training forwards draws the mask of be.rng(formula seed), call after call`, () => {
      const cfg = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0.3, seed };
      const B = 2, T = 8;
      const g = new nn.GPT(be, cfg);
      const s = spy(be);
      const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % cfg.vocabSize);
      try {
        g.train();
        for (let pass = 0; pass < 2; pass++) { g.forward(ids, [B, T]); be.endStep(); }
        s.on = false;
        const want = sites(seed, cfg.nLayer, B, T, cfg.nHead, cfg.nEmbd);
        expect(s.calls.length, 'dropout calls in two forwards').toBe(2 * want.length);
        // independent draws: one be.rng per site from the formula's seed, called once per forward
        const rngs = want.map((w) => be.rng(w.seed));
        for (let pass = 0; pass < 2; pass++) {
          want.forEach((w, i) => {
            const got = s.calls[pass * want.length + i]!;
            const what = `forward ${pass + 1}, ${w.name} (seed ${w.seed})`;
            expect(got.n, `${what}: size`).toBe(w.n);
            expect(got.p, `${what}: p`).toBe(cfg.dropout);
            const x = be.tensor([w.n], new Float32Array(w.n).fill(1)), out = be.zeros([w.n]), m = be.zeros([w.n]);
            be.kernels.dropout(out, x, cfg.dropout, rngs[i]!, m);
            const mask = m.toFloat32Array();
            expect(mask.includes(0) && mask.includes(1), `${what}: a mask with both`).toBe(true);
            expect(firstBitDiff(got.mask, mask), `${what}: first element that differs`).toBe(-1);
            for (const t of [x, out, m]) t.dispose();
          });
        }
        for (const r of rngs) r.dispose();
      } finally {
        s.restore();
        g.dispose();
      }
    });
  }
});
