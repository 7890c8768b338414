/** The nn layer: Module contract, initialisers and layers. */
export {
  Module,
  param,
  isParameter,
  type StateDict,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  type ParameterFloatOptions,
  type TensorToTensor,
} from "./module.js";
export * as init from "./init.js";
export { Linear, Bilinear, type LinearOptions } from "./linear.js";
export { Embedding, type EmbeddingOptions } from "./embedding.js";
export { LayerNorm, RMSNorm, type NormOptions } from "./norm.js";
export { Dropout } from "./dropout.js";
export { ModuleList, Sequential } from "./container.js";
export { RNNCell, LSTMCell, GRUCell, type RecurrentOptions, type LstmOptions } from "./rnn-cell.js";
export { RNN, LSTM, GRU, type RecurrentLayerOptions, type SequenceOptions, type SequenceResult, type LstmResult } from "./rnn.js";
export { torchToEngramKey, engramToTorchKey } from "./torch-names.js";
