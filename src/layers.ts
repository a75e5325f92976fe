/**
 * The `nn` namespace: the layers of src/nn.ts and the transformer's of src/gpt.ts and
 * src/gpt-layers.ts (which build on nn.ts, so they are joined here rather than nn.ts
 * importing them back).
 */
export * from './nn.js';
export { Embedding, LayerNorm, CausalSelfAttention, MLP, Block, GPT, Container, LMHead } from './gpt.js';
export type { EmbeddingOptions, LayerNormOptions, BlockOptions, GPTConfig, GenerateOptions, GPTOptimizerGroups } from './gpt.js';
export type { BT } from './gpt-layers.js';
