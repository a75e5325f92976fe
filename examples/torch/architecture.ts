/**
 * The architecture of a regula model as a JSON string, for a safetensors file's metadata
 * (`'regula.model'`), so that another framework can rebuild the same network before it loads
 * the weights: examples/torch/regula_torch.py reads it. An nn.Sequential of Linear, ReLU, GELU,
 * Tanh and Dropout layers, or a GPT (its config).
 */
import { nn } from '../../src/index.js';

/** Layer entries of a Sequential, in order (their positions are the state-dict prefixes). */
type Layer = { type: 'Linear'; in: number; out: number; bias: boolean } | { type: 'ReLU' | 'GELU' | 'Tanh' } | { type: 'Dropout'; p: number };

/** JSON describing `model`'s architecture; throws for a layer it cannot describe. */
export function architectureOf(model: nn.Module): string {
  if (model instanceof nn.GPT) return JSON.stringify({ type: 'GPT', config: model.config });
  if (!(model instanceof nn.Sequential)) throw new TypeError(`architectureOf: expected an nn.Sequential or an nn.GPT, got ${model.constructor.name}`);
  const layers: Layer[] = model.children().map((m, i) => {
    if (m instanceof nn.Linear) return { type: 'Linear', in: m.inFeatures, out: m.outFeatures, bias: m.bias !== null };
    if (m instanceof nn.ReLU) return { type: 'ReLU' };
    if (m instanceof nn.GELU) return { type: 'GELU' };
    if (m instanceof nn.Tanh) return { type: 'Tanh' };
    if (m instanceof nn.Dropout) return { type: 'Dropout', p: m.p };
    throw new TypeError(`architectureOf: layer ${i} (${m.constructor.name}) has no description`);
  });
  return JSON.stringify({ type: 'Sequential', layers });
}
