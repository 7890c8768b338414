/** The attention family: positional encodings, attention functions and modules. */
export {
  sinusoidalEncoding,
  SinusoidalPositionalEncoding,
  LearnedPositionalEmbedding,
  applyRotary,
  alibiSlopes,
  alibiBias,
  type SinusoidalOptions,
  type SinusoidalPositionalEncodingOptions,
  type LearnedPositionalEmbeddingOptions,
  type RotaryOptions,
  type AlibiBiasOptions,
} from "./positional.js";
export { AdditiveAttention, type AdditiveAttentionOptions, type AttentionForwardOptions, type AttentionResult } from "./additive.js";
export {
  LuongAttention,
  AttentionalHidden,
  type LuongAttentionOptions,
  type LuongResult,
  type LuongScore,
  type LuongMode,
} from "./luong.js";
export { scaledDotProductAttention, type SdpaOptions, type SdpaResult } from "./sdpa.js";
export { causalMask, keyPaddingMask, type CausalAlignment } from "./masks.js";
export {
  MultiHeadAttention,
  loadTorchMultiheadAttention,
  type MultiHeadAttentionOptions,
  type MultiHeadForwardOptions,
  type MultiHeadResult,
} from "./multi-head.js";
export { KVCache, type KVCacheOptions, type CachedKV } from "./kv-cache.js";
export {
  HardAttention,
  hardAttention,
  reinforceSurrogate,
  type AttentionScorer,
  type BaselineKind,
  type HardAttendOptions,
  type HardAttentionForwardOptions,
  type HardAttentionOptions,
  type HardAttentionResult,
  type HardMode,
  type ReinforceResult,
  type ReinforceTermOptions,
} from "./hard.js";
export {
  HierarchicalAttention,
  HierarchicalStream,
  BlockAttention,
  type HierarchicalAttentionOptions,
  type HierarchicalForwardOptions,
  type HierarchicalResult,
  type HierarchicalStepResult,
} from "./hierarchical.js";
