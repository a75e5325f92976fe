/**
 * The `nn` namespace: the layers of src/nn.ts and the transformer's of src/gpt.ts (which
 * builds on nn.ts, so the two are joined here rather than nn.ts importing gpt.ts back).
 */
export * from './nn.js';
export { Embedding, LayerNorm, CausalSelfAttention, MLP, Block, GPT, Container, LMHead } from './gpt.js';
export type { EmbeddingOptions, LayerNormOptions, BlockOptions, GPTConfig, GenerateOptions, GPTOptimizerGroups } from './gpt.js';
