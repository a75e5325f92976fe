// optim kernels: see src/backend/raw.ts for the contract of each export.
//
// Both kernels do one fused pass over the parameters in torch 1.13's order of operations
// (torch/optim/sgd.py and adam.py, _single_tensor_*), every operation rounded to f32, no
// fused multiply-add. src/backend/js/optim.ts does the same operations in the same order.
// Scalars arrive as f64 and are rounded to f32 once on entry; the derived 1 − dampening,
// 1 − β1 and 1 − β2 are formed in f64 first (as torch forms them in Python), then rounded.
// The uniform options (momentum, weight decay, nesterov, amsgrad, l1) are decided once,
// also in f64, as torch decides them (e.g. `weight_decay != 0`).

import { shrink1, shrink4 } from './l1';

const SIGN: i32 = 0x80000000;

/**
 * One fused SGD step (torch.optim.SGD, torch 1.13) over n floats at p, g and buf, then the
 * L1 prox S_t with t = f32(l1t) when l1t > 0. Per element, every op rounded to f32:
 *   d = maximize ? −g : g
 *   if weightDecay ≠ 0:  d = d + wd·p
 *   if momentum ≠ 0:     b = first ? d : momentum·buf + (1 − dampening)·d;  buf = b
 *                        d = nesterov ? d + momentum·b : b
 *   p = p − lr·d
 * buf is neither read nor written when momentum == 0 (it may then be any pointer, e.g. p).
 * p, g and buf are distinct buffers (the facade rejects aliases). f32x4 main loop, scalar
 * tail with the same operations.
 */
export function sgdStep(p: usize, g: usize, buf: usize, n: i32, lr: f64, momentum: f64, dampening: f64,
  weightDecay: f64, nesterov: bool, maximize: bool, l1t: f64, first: bool): void {
  const useWd = weightDecay != 0;
  const useMom = momentum != 0;
  const useL1 = l1t > 0;
  const lrS = <f32>lr, momS = <f32>momentum, dampS = <f32>(1.0 - dampening), wdS = <f32>weightDecay, tS = <f32>l1t;
  const lrV = f32x4.splat(lrS), momV = f32x4.splat(momS), dampV = f32x4.splat(dampS), wdV = f32x4.splat(wdS), tV = f32x4.splat(tS);
  const negV = i32x4.splat(maximize ? SIGN : 0);
  const end4 = p + ((<usize>n & ~3) << 2);
  const end = p + (<usize>n << 2);
  for (; p < end4; p += 16, g += 16, buf += 16) {
    let pv = v128.load(p);
    let d = v128.xor(v128.load(g), negV);
    if (useWd) d = f32x4.add(d, f32x4.mul(wdV, pv));
    if (useMom) {
      const b = first ? d : f32x4.add(f32x4.mul(momV, v128.load(buf)), f32x4.mul(dampV, d));
      v128.store(buf, b);
      d = nesterov ? f32x4.add(d, f32x4.mul(momV, b)) : b;
    }
    pv = f32x4.sub(pv, f32x4.mul(lrV, d));
    if (useL1) pv = shrink4(pv, tV);
    v128.store(p, pv);
  }
  for (; p < end; p += 4, g += 4, buf += 4) {
    let pv = load<f32>(p);
    let d = load<f32>(g);
    if (maximize) d = -d;
    if (useWd) d = d + wdS * pv;
    if (useMom) {
      const b = first ? d : momS * load<f32>(buf) + dampS * d;
      store<f32>(buf, b);
      d = nesterov ? d + momS * b : b;
    }
    pv = pv - lrS * d;
    if (useL1) pv = shrink1(pv, tS);
    store<f32>(p, pv);
  }
}

// @ts-ignore: decorator
@inline function adamLoop(p: usize, g: usize, m: usize, v: usize, vmax: usize, n: i32,
  beta1: f64, beta2: f64, stepSize: f64, bc2sqrt: f64, eps: f64, weightDecay: f64, decay: f64,
  maximize: bool, l1t: f64, AMS: bool, WD: bool, L1: bool): void {
  const b1S = <f32>beta1, c1S = <f32>(1.0 - beta1), b2S = <f32>beta2, c2S = <f32>(1.0 - beta2);
  const ssS = <f32>stepSize, bcS = <f32>bc2sqrt, epsS = <f32>eps, wdS = <f32>weightDecay, decS = <f32>decay, tS = <f32>l1t;
  const b1V = f32x4.splat(b1S), c1V = f32x4.splat(c1S), b2V = f32x4.splat(b2S), c2V = f32x4.splat(c2S);
  const ssV = f32x4.splat(ssS), bcV = f32x4.splat(bcS), epsV = f32x4.splat(epsS), wdV = f32x4.splat(wdS);
  const decV = f32x4.splat(decS), tV = f32x4.splat(tS);
  const negV = i32x4.splat(maximize ? SIGN : 0);
  const end4 = p + ((<usize>n & ~3) << 2);
  const end = p + (<usize>n << 2);
  for (; p < end4; p += 16, g += 16, m += 16, v += 16, vmax += 16) {
    let pv = f32x4.mul(v128.load(p), decV);
    let gv = v128.xor(v128.load(g), negV);
    if (WD) gv = f32x4.add(gv, f32x4.mul(wdV, pv));
    const mv = f32x4.add(f32x4.mul(b1V, v128.load(m)), f32x4.mul(c1V, gv));
    let vv = f32x4.add(f32x4.mul(b2V, v128.load(v)), f32x4.mul(f32x4.mul(c2V, gv), gv));
    v128.store(m, mv);
    v128.store(v, vv);
    if (AMS) {
      vv = f32x4.max(v128.load(vmax), vv);
      v128.store(vmax, vv);
    }
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), bcV), epsV);
    pv = f32x4.sub(pv, f32x4.div(f32x4.mul(ssV, mv), denom));
    if (L1) pv = shrink4(pv, tV);
    v128.store(p, pv);
  }
  for (; p < end; p += 4, g += 4, m += 4, v += 4, vmax += 4) {
    let pv = load<f32>(p) * decS;
    let gv = load<f32>(g);
    if (maximize) gv = -gv;
    if (WD) gv = gv + wdS * pv;
    const mv = b1S * load<f32>(m) + c1S * gv;
    let vv = b2S * load<f32>(v) + c2S * gv * gv;
    store<f32>(m, mv);
    store<f32>(v, vv);
    if (AMS) {
      vv = max<f32>(load<f32>(vmax), vv);
      store<f32>(vmax, vv);
    }
    const denom = sqrt<f32>(vv) / bcS + epsS;
    pv = pv - ssS * mv / denom;
    if (L1) pv = shrink1(pv, tS);
    store<f32>(p, pv);
  }
}

/**
 * One fused Adam / AdamW step (torch.optim.Adam / AdamW, torch 1.13, single-tensor path)
 * over n floats at p, g, m (exp_avg), v (exp_avg_sq) and vmax (max_exp_avg_sq), then the
 * L1 prox S_t with t = f32(l1t) when l1t > 0. Per element, every op rounded to f32:
 *   p = p·decay                      (AdamW's 1 − lr·wd; Adam passes 1, an exact no-op)
 *   g' = maximize ? −g : g;  if weightDecay ≠ 0: g' = g' + wd·p   (Adam's coupled L2)
 *   m = β1·m + (1 − β1)·g';  v = β2·v + ((1 − β2)·g')·g'
 *   if amsgrad: vmax = max(vmax, v), and vmax stands for v below
 *   denom = sqrt(v)/bc2sqrt + eps;  p = p − (stepSize·m)/denom
 * vmax is neither read nor written unless amsgrad (it may then be any pointer, e.g. v).
 * p, g, m, v and vmax are distinct buffers (the facade rejects aliases); g is only read.
 * f32x4 main loop, scalar tail.
 * The flag combinations (amsgrad, coupled decay, l1) each get their own loop.
 */
export function adamStep(p: usize, g: usize, m: usize, v: usize, vmax: usize, n: i32, beta1: f64, beta2: f64,
  stepSize: f64, bc2sqrt: f64, eps: f64, weightDecay: f64, decay: f64, amsgrad: bool, maximize: bool, l1t: f64): void {
  const wd = weightDecay != 0;
  const l1 = l1t > 0;
  if (amsgrad) {
    if (wd) {
      if (l1) adamLoop(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, maximize, l1t, true, true, true);
      else adamLoop(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, maximize, l1t, true, true, false);
    } else {
      if (l1) adamLoop(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, maximize, l1t, true, false, true);
      else adamLoop(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, maximize, l1t, true, false, false);
    }
  } else {
    if (wd) {
      if (l1) adamLoop(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, maximize, l1t, false, true, true);
      else adamLoop(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, maximize, l1t, false, true, false);
    } else {
      if (l1) adamLoop(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, maximize, l1t, false, false, true);
      else adamLoop(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, maximize, l1t, false, false, false);
    }
  }
}
