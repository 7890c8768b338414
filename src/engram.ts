/**
 * The public surface shared by every entry point (Node and browser). Importing it installs the
 * Tensor method facade. Backend registration differs per platform and lives in index.ts /
 * browser.ts.
 */
import "./tensor/methods.js";

export { Tensor, type NestedArray } from "./autograd/tensor.js";
export { noGrad, enableGrad, isGradEnabled, type BackwardOptions } from "./autograd/engine.js";
export { grad, gradcheck, type GradcheckOptions, type GradcheckResult } from "./autograd/grad.js";
export { EngramError, ShapeError, DTypeError, ArgumentError, CheckpointError, BackendError } from "./core/errors.js";
export { DTYPES, type DType } from "./core/dtype.js";
export { Generator, manualSeed, defaultGenerator, type GeneratorState } from "./core/rng.js";
export {
  setBackend,
  getBackend,
  backendInfo,
  setNativeGemm,
  setNativeThreads,
  type BackendName,
  type BackendInfo,
  type NativeInfo,
} from "./backend/index.js";
export * from "./ops/index.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * as tasks from "./tasks/index.js";
export { evaluateByLength, type LengthEvaluationOptions, type LengthRow, type LengthSpec } from "./train/length-generalisation.js";
export { encode as encodeSafetensors, decode as decodeSafetensors, type SafetensorsContent } from "./io/safetensors.js";
export { createModel, modelSpec, modelSpecs } from "./models/registry.js";
export type { TaskModel, ModelSpec, ModelConfig } from "./models/task-model.js";
export {
  Transformer,
  TransformerLM,
  TransformerEncoder,
  TransformerDecoder,
  TransformerCache,
  type TransformerCacheOptions,
  type TransformerOptions,
  type TransformerLMOptions,
  type GenerateOptions,
} from "./models/transformer.js";
export { TransformerEncoderLayer, TransformerDecoderLayer, type TransformerLayerOptions } from "./models/transformer-layers.js";
export {
  loadTorchTransformerEncoderLayer,
  loadTorchTransformerDecoderLayer,
  loadTorchTransformerEncoder,
  loadTorchTransformerDecoder,
  loadTorchTransformer,
} from "./models/transformer-torch.js";
export { Seq2Seq, type Seq2SeqOptions, type Seq2SeqAttention, type Seq2SeqRnn } from "./models/seq2seq.js";
export { beamSearch, type SearchOptions, type StepDecoder, type LengthPenaltyForm } from "./models/beam-search.js";
export type { WeightMap, Inspection, InspectableModel } from "./models/task-model.js";
export { greedyTokens, sampleTokens, samplingProbabilities, type SamplingOptions } from "./models/sampling.js";
export { VERSION } from "./version.js";
export { loadTorchStateDict, torchStateDict } from "./io/torch.js";
export * as attention from "./attention/index.js";
export * as memory from "./memory/index.js";
export * as viz from "./viz/index.js";
