/**
 * The attention weights of a GPT over a short text, computed in float64 from its state dict
 * (nanoGPT's names and layout), for the demo's attention map. It is a complete forward pass
 * (embeddings, pre-LN blocks, exact-erf GELU, ln_f, the head), so a test can check it
 * against the model's own logits: the maps shown are the ones the model uses.
 */

/** The GPT shape the state dict belongs to. */
export interface GptShape { nLayer: number; nHead: number; nEmbd: number; blockSize: number; vocabSize: number; bias: boolean }

/** Float64 forward of one sequence: per layer and head a T×T row-major attention matrix, and the logits T×vocab. */
export interface AttentionResult {
  /** maps[layer][head][t·T + s]: how much position t attends to position s (0 for s > t). */
  maps: Float64Array[][];
  logits: Float64Array;
}

/** erf(x) to about 1e-15: its Taylor series below |x| = 2.5, the continued fraction of erfc above. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n!(2n+1))
    let term = a, sum = a;
    for (let n = 1; n < 60; n++) {
      term *= (-a * a) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = exp(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), evaluated bottom-up
  let f = a;
  for (let n = 60; n >= 1; n--) f = a + n / 2 / f;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

function get(sd: Record<string, ArrayLike<number>>, key: string, size: number): ArrayLike<number> {
  const v = sd[key];
  if (v === undefined) throw new RangeError(`attention: the state dict has no '${key}'`);
  if (v.length !== size) throw new RangeError(`attention: '${key}' has ${v.length} values, expected ${size}`);
  return v;
}

/** out[t] = LayerNorm(x[t]) (eps 1e-5, biased variance), rows of C. */
function layerNorm(x: Float64Array, T: number, C: number, w: ArrayLike<number>, b: ArrayLike<number> | null): Float64Array {
  const out = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    let mean = 0, v = 0;
    for (let c = 0; c < C; c++) mean += x[t * C + c]!;
    mean /= C;
    for (let c = 0; c < C; c++) v += (x[t * C + c]! - mean) ** 2;
    const r = 1 / Math.sqrt(v / C + 1e-5);
    for (let c = 0; c < C; c++) out[t * C + c] = (x[t * C + c]! - mean) * r * w[c]! + (b === null ? 0 : b[c]!);
  }
  return out;
}

/** out[t] = W x[t] + b with W [out, in] (torch's Linear layout). */
function linear(x: Float64Array, T: number, nIn: number, nOut: number, w: ArrayLike<number>, b: ArrayLike<number> | null): Float64Array {
  const out = new Float64Array(T * nOut);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < nOut; o++) {
      let s = b === null ? 0 : b[o]!;
      for (let i = 0; i < nIn; i++) s += w[o * nIn + i]! * x[t * nIn + i]!;
      out[t * nOut + o] = s;
    }
  }
  return out;
}

/**
 * Runs the GPT of `sd` (keys as nn.GPT.stateDict(): tied or not) on `ids` (1 ≤ length ≤
 * blockSize) in float64 and returns every attention map and the logits.
 */
export function attentionMaps(sd: Record<string, ArrayLike<number>>, shape: GptShape, ids: ArrayLike<number>): AttentionResult {
  const { nLayer, nHead, nEmbd: C, blockSize, vocabSize, bias } = shape;
  const T = ids.length;
  if (T < 1 || T > blockSize) throw new RangeError(`attention: expected 1 to ${blockSize} tokens, got ${T}`);
  const hs = C / nHead;
  const wte = get(sd, 'transformer.wte.weight', vocabSize * C);
  const wpe = get(sd, 'transformer.wpe.weight', blockSize * C);
  const opt = (key: string, size: number) => (bias ? get(sd, key, size) : null);
  let x = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    const id = ids[t]!;
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new RangeError(`attention: token ${t} is ${id}, expected an id in [0, ${vocabSize - 1}]`);
    for (let c = 0; c < C; c++) x[t * C + c] = wte[id * C + c]! + wpe[t * C + c]!;
  }
  const maps: Float64Array[][] = [];
  for (let l = 0; l < nLayer; l++) {
    const p = `transformer.h.${l}.`;
    const h1 = layerNorm(x, T, C, get(sd, `${p}ln_1.weight`, C), opt(`${p}ln_1.bias`, C));
    const qkv = linear(h1, T, C, 3 * C, get(sd, `${p}attn.c_attn.weight`, 3 * C * C), opt(`${p}attn.c_attn.bias`, 3 * C));
    const y = new Float64Array(T * C);
    const layerMaps: Float64Array[] = [];
    for (let h = 0; h < nHead; h++) {
      const att = new Float64Array(T * T);
      for (let t = 0; t < T; t++) {
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let d = 0; d < hs; d++) dot += qkv[t * 3 * C + h * hs + d]! * qkv[s * 3 * C + C + h * hs + d]!;
          att[t * T + s] = dot / Math.sqrt(hs);
          if (att[t * T + s]! > max) max = att[t * T + s]!;
        }
        let sum = 0;
        for (let s = 0; s <= t; s++) { att[t * T + s] = Math.exp(att[t * T + s]! - max); sum += att[t * T + s]!; }
        for (let s = 0; s <= t; s++) att[t * T + s]! /= sum;
        for (let d = 0; d < hs; d++) {
          let v = 0;
          for (let s = 0; s <= t; s++) v += att[t * T + s]! * qkv[s * 3 * C + 2 * C + h * hs + d]!;
          y[t * C + h * hs + d] = v;
        }
      }
      layerMaps.push(att);
    }
    maps.push(layerMaps);
    const a = linear(y, T, C, C, get(sd, `${p}attn.c_proj.weight`, C * C), opt(`${p}attn.c_proj.bias`, C));
    for (let i = 0; i < T * C; i++) x[i]! += a[i]!;
    const h2 = layerNorm(x, T, C, get(sd, `${p}ln_2.weight`, C), opt(`${p}ln_2.bias`, C));
    const f = linear(h2, T, C, 4 * C, get(sd, `${p}mlp.c_fc.weight`, 4 * C * C), opt(`${p}mlp.c_fc.bias`, 4 * C));
    for (let i = 0; i < f.length; i++) f[i] = 0.5 * f[i]! * (1 + erf(f[i]! / Math.SQRT2));
    const m = linear(f, T, 4 * C, C, get(sd, `${p}mlp.c_proj.weight`, C * 4 * C), opt(`${p}mlp.c_proj.bias`, C));
    const next = new Float64Array(T * C);
    for (let i = 0; i < T * C; i++) next[i] = x[i]! + m[i]!;
    x = next;
  }
  const xf = layerNorm(x, T, C, get(sd, 'transformer.ln_f.weight', C), opt('transformer.ln_f.bias', C));
  const head = sd['lm_head.weight'] === undefined ? wte : get(sd, 'lm_head.weight', vocabSize * C);
  return { maps, logits: linear(xf, T, C, vocabSize, head, null) };
}
