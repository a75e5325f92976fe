/**
 * The `nn` namespace: the layers of src/nn/base.ts and the transformer's of src/nn/gpt.ts and
 * src/nn/gpt-layers.ts (which build on base.ts, so they are joined here rather than base.ts
 * importing them back).
 */
export * from './base.js';
export { Embedding, LayerNorm, CausalSelfAttention, MLP, Block, GPT, Container, LMHead } from './gpt.js';
export type { EmbeddingOptions, LayerNormOptions, BlockOptions, GPTConfig, GenerateOptions, GPTOptimizerGroups } from './gpt.js';
export type { BT } from './gpt-layers.js';
export * as utils from './clip.js';
