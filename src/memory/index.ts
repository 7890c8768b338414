/** Memory-augmented networks: MemN2N (and, as they land, NTM, DNC, fast weights, Hopfield). */
export { MemN2N, memn2nSpec, type MemN2NOptions, type MemN2NForwardOptions, type MemN2NResult, type MemN2NTying } from "./memn2n.js";
export { positionEncoding, SENTENCE_ENCODINGS, type SentenceEncoding } from "./sentence-encoding.js";
export {
  contentAddressing,
  interpolate,
  circularShift,
  sharpen,
  eraseAndAdd,
  updateUsage,
  allocationWeighting,
  updateLinkMatrix,
  updatePrecedence,
  directionalWeights,
  type ContentAddressingOptions,
  type SharpenOptions,
} from "./addressing.js";
export {
  Controller,
  NTMCell,
  NTM,
  NtmTagger,
  ntmSpec,
  type ControllerKind,
  type ControllerOptions,
  type ControllerState,
  type ControllerRun,
  type MemoryInit,
  type MemoryForwardOptions,
  type NTMOptions,
  type NTMState,
  type NTMStepTrace,
  type NTMTrace,
} from "./ntm.js";
export { DNCCell, DNC, DncTagger, dncSpec, type DNCOptions, type DNCState, type DNCStepTrace, type DNCTrace } from "./dnc.js";
export {
  FastWeights,
  FastWeightsQA,
  fastWeightsSpec,
  type FastWeightsActivation,
  type FastWeightsFormulation,
  type FastWeightsOptions,
  type FastWeightsForwardOptions,
  type FastWeightsResult,
  type FastWeightsQAOptions,
} from "./fast-weights.js";
export {
  hopfieldRetrieve,
  hopfieldRetrievalDemo,
  Hopfield,
  HopfieldPooling,
  HopfieldLayer,
  type HopfieldRetrieveOptions,
  type HopfieldResult,
  type HopfieldOptions,
  type HopfieldForwardOptions,
  type HopfieldPoolingOptions,
  type HopfieldLayerOptions,
  type HopfieldDemoOptions,
  type HopfieldDemoRow,
} from "./hopfield.js";
