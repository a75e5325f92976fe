import type { RawKernels } from '../raw.js';
import type { WasmContext } from './context.js';

type K = RawKernels<number, number, number>;

/** The activation kernels of the wasm backend: thin calls into assembly/activation.ts. */
export function activationKernels(ctx: WasmContext): Pick<K, 'gelu' | 'geluBackward' | 'tanh' | 'tanhBackward' | 'sign' | 'absSum'> {
  const f = (name: string) => {
    const fn = ctx.exports[name];
    if (typeof fn !== 'function') throw new TypeError(`regula.wasm lacks the export ${name}: rebuild it with \`npm run build\``);
    return fn;
  };
  const gelu = f('gelu'), geluBackward = f('geluBackward'), tanh = f('tanh'), tanhBackward = f('tanhBackward');
  const sign = f('sign'), absSum = f('absSum');
  return {
    gelu(out, x, n) { gelu(out, x, n); },
    geluBackward(out, g, x, n) { geluBackward(out, g, x, n); },
    tanh(out, x, n) { tanh(out, x, n); },
    tanhBackward(out, g, y, n) { tanhBackward(out, g, y, n); },
    sign(out, x, n) { sign(out, x, n); },
    absSum(x, n) { return absSum(x, n); },
  };
}
