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
