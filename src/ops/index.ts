/**
 * The public op surface. Listed explicitly: helpers the op files share with each other (filled,
 * sumTo, bernoulliMask, assertFinite, recurrentProjection, ...) skip argument validation for speed
 * and are imported from their files, never exposed.
 */
import { setGradAccumulator } from "../autograd/engine.js";
import { add } from "./elementwise.js";

// The engine accumulates gradients with the ops layer's broadcasting add.
setGradAccumulator(add);

export { tensor, full, zeros, ones, zerosLike, onesLike, fullLike, arange, linspace, eye, type CreateOptions } from "./creation.js";
export {
  cast,
  unary,
  binary,
  neg,
  abs,
  sign,
  exp,
  log,
  log1p,
  sqrt,
  rsqrt,
  square,
  reciprocal,
  sin,
  cos,
  floor,
  ceil,
  round,
  erf,
  relu,
  sigmoid,
  tanh,
  silu,
  logicalNot,
  isFinite,
  leakyRelu,
  elu,
  gelu,
  softplus,
  powScalar,
  clamp,
  add,
  sub,
  mul,
  div,
  minimum,
  maximum,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  logicalAnd,
  logicalOr,
  logicalXor,
  pow,
  where,
} from "./elementwise.js";
export { matmul, bmm, outer, einsum, type MatmulOptions } from "./linalg.js";
export {
  softmax,
  logSoftmax,
  layerNorm,
  dropout,
  nllLoss,
  crossEntropy,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  mseLoss,
  cosineSimilarity,
  normalize,
  type SoftmaxOptions,
  type DropoutOptions,
  type Reduction,
  type NllOptions,
  type CrossEntropyOptions,
} from "./nn.js";
export { rand, randn, randint, bernoulli, multinomial, categorical, type RandomOptions } from "./random.js";
export { sum, mean, max, min, argmax, argmin, prod, logSumExp, variance, std, norm, type ReduceOptions, type Axes, type VarOptions } from "./reduce.js";
export { lstmCell, type LstmCellResult } from "./rnn.js";
export {
  reshape,
  flatten,
  squeeze,
  unsqueeze,
  permute,
  transpose,
  expand,
  slice,
  narrow,
  flip,
  concat,
  stack,
  split,
  chunk,
  pad,
  roll,
  repeat,
  tril,
  triu,
  gather,
  scatterAdd,
  indexSelect,
  oneHot,
  type SliceSpec,
} from "./shape.js";
export type { TensorLike } from "./util.js";
