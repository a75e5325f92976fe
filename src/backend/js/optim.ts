import type { RawKernels } from '../raw.js';

type K = RawKernels<Float32Array, Uint32Array, Int32Array>;

import { shrink } from './prox.js';

const f = Math.fround;

/**
 * The optim kernels of the js backend (same names and order as assembly/optim.ts): the
 * same f32 operations in the same order as the wasm kernels, each rounded with
 * Math.fround, scalars rounded once on entry (derived 1 − x formed in float64 first).
 */
export const optimKernels = {
  sgdStep(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov, maximize, l1t, first) {
    const useWd = weightDecay !== 0, useMom = momentum !== 0, useL1 = l1t > 0;
    const lrS = f(lr), momS = f(momentum), dampS = f(1 - dampening), wdS = f(weightDecay), tS = f(l1t);
    for (let i = 0; i < n; i++) {
      let pv = p[i]!;
      let d = maximize ? -g[i]! : g[i]!;
      if (useWd) d = f(d + f(wdS * pv));
      if (useMom) {
        const b = first ? d : f(f(momS * buf[i]!) + f(dampS * d));
        buf[i] = b;
        d = nesterov ? f(d + f(momS * b)) : b;
      }
      pv = f(pv - f(lrS * d));
      if (useL1) pv = shrink(pv, tS);
      p[i] = pv;
    }
  },

  adamStep(p, g, m, v, vmax, n, beta1, beta2, stepSize, bc2sqrt, eps, weightDecay, decay, amsgrad, maximize, l1t) {
    const useWd = weightDecay !== 0, useL1 = l1t > 0;
    const b1S = f(beta1), c1S = f(1 - beta1), b2S = f(beta2), c2S = f(1 - beta2);
    const ssS = f(stepSize), bcS = f(bc2sqrt), epsS = f(eps), wdS = f(weightDecay), decS = f(decay), tS = f(l1t);
    for (let i = 0; i < n; i++) {
      let pv = f(p[i]! * decS);
      let gv = maximize ? -g[i]! : g[i]!;
      if (useWd) gv = f(gv + f(wdS * pv));
      const mv = f(f(b1S * m[i]!) + f(c1S * gv));
      let vv = f(f(b2S * v[i]!) + f(f(c2S * gv) * gv));
      m[i] = mv;
      v[i] = vv;
      if (amsgrad) {
        vv = Math.max(vmax[i]!, vv);
        vmax[i] = vv;
      }
      const denom = f(f(f(Math.sqrt(vv)) / bcS) + epsS);
      pv = f(pv - f(f(ssS * mv) / denom));
      if (useL1) pv = shrink(pv, tS);
      p[i] = pv;
    }
  },
} satisfies Partial<K>;
