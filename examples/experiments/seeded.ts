import { mulberry32 } from '../../src/core/rng.js';

/** A small seeded generator for experiment inputs (mulberry32 + Box–Muller). */
export function seeded(seed: number): { uniform(): number; normal(): number } {
  const uniform = mulberry32(seed);
  const normal = () => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
  return { uniform, normal };
}
