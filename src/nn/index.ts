/**
 * The `nn` namespace, listed once: the layers of src/nn/base.ts, the transformer's layers
 * (src/nn/gpt-layers.ts), the model (src/nn/gpt.ts) with its sampling options
 * (src/nn/generate.ts), and nn.utils (src/nn/clip.ts). src/index.ts takes its top-level
 * type names from here too.
 */
export * from './base.js';
export { Embedding, LayerNorm, CausalSelfAttention, MLP, Block, Container, LMHead } from './gpt-layers.js';
export type { EmbeddingOptions, LayerNormOptions, BlockOptions, BT } from './gpt-layers.js';
export { GPT } from './gpt.js';
export type { GPTConfig, GPTOptimizerGroups } from './gpt.js';
export type { GenerateOptions } from './generate.js';
export * as utils from './clip.js';
