/** Optimizers, gradient clipping and learning-rate schedules. */
export {
  Optimizer,
  type Hyper,
  type HyperValue,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamGroupStateDict,
  type ParamsInput,
  type ParamStateDict,
} from "./optimizer.js";
export { SGD, type SGDHyper, type SGDOptions } from "./sgd.js";
export { Adam, AdamW, type AdamHyper, type AdamOptions } from "./adam.js";
export { RMSprop, type RMSpropHyper, type RMSpropOptions } from "./rmsprop.js";
export { Adagrad, type AdagradHyper, type AdagradOptions } from "./adagrad.js";
export { clipGradNorm, clipGradValue, type ClipGradNormOptions } from "./clip.js";
export {
  LRScheduler,
  StepLR,
  PhasedLR,
  ExponentialLR,
  LinearLR,
  CosineWarmupLR,
  InverseSqrtLR,
  ReduceLROnPlateau,
  type HasParamGroups,
  type LRSchedulerStateDict,
  type ReduceLROnPlateauOptions,
  type ReduceLROnPlateauStateDict,
} from "./schedules.js";
