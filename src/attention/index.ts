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
