/** Neural-network composites: softmax family, layer norm, dropout, losses, similarity. */
import { K } from "../backend/index.js";
import type { FloatArray } from "../backend/kernels.js";
import { isFloat } from "../core/dtype.js";
import { ArgumentError, DTypeError, fmtShape, fmtValue, ShapeError } from "../core/errors.js";
import { broadcastShapes, normAxis, shapesEqual, sizeOf, tryBroadcastShapes } from "../core/shape.js";
import type { Generator } from "../core/rng.js";
import { needsGrad, needsGradAny, record } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { add, cast, clamp, div, exp, ge, log, log1p, maximum, mul, neg, rsqrt, softplus, square, sub, where } from "./elementwise.js";
import { bernoulliMask } from "./random.js";
import { mean, norm, sum } from "./reduce.js";
import { expand, gather, indexSelect, reshape, transpose, unsqueeze } from "./shape.js";
import {
  assertBool,
  assertFloat,
  assertInt,
  assertList,
  assertNumber,
  assertTensor,
  checkIndices,
  generatorOf,
  optionsOf,
} from "./util.js";

export interface SoftmaxOptions {
  /** Divide the logits by this before normalising (> 0). */
  temperature?: number;
  /** Bool mask broadcastable to x: true = keep. A row with nothing kept gives zeros, never NaN. */
  mask?: Tensor;
}

function softmaxImpl(op: "softmax" | "logSoftmax", x: Tensor, axis: number, opts: SoftmaxOptions): Tensor {
  assertTensor(op, x);
  optionsOf(op, opts);
  assertFloat(op, x);
  const a = normAxis(op, axis, x.ndim);
  let z = x;
  if (opts.temperature !== undefined) {
    const t = assertNumber(op, opts.temperature, "temperature", { finite: true });
    if (!(t > 0)) throw new ArgumentError(`${op}: temperature must be > 0, got ${t}`);
    if (t !== 1) z = mul(z, 1 / t);
  }
  if (opts.mask !== undefined) {
    assertTensor(op, opts.mask, "mask");
    assertBool(op, opts.mask, "mask");
    // checked before where() so the error names this op; the mask may not grow the input either
    const b = tryBroadcastShapes(opts.mask.shape, x.shape);
    if (b === null || !shapesEqual(b, x.shape)) {
      throw new ShapeError(`${op}: mask of shape ${fmtShape(opts.mask.shape)} does not broadcast to input ${fmtShape(x.shape)}`);
    }
    z = where(opts.mask, z, -Infinity);
  }
  const last = a === x.ndim - 1 || x.ndim === 0;
  const src = last ? z : transpose(z, a, -1);
  const out = lastAxisSoftmax(src, op === "logSoftmax");
  return last ? out : transpose(out, a, -1);
}

function lastAxisSoftmax(x: Tensor, isLog: boolean): Tensor {
  const n = x.ndim === 0 ? 1 : x.shape[x.ndim - 1]!;
  const outer = n === 0 ? 0 : x.size / n;
  const out = Tensor.empty(x.shape, x.dtype);
  K.softmax(x.data as FloatArray, out.data as FloatArray, outer, n, isLog);
  if (needsGrad(x)) {
    record(isLog ? "logSoftmax" : "softmax", out, [x], (g) => {
      if (needsGrad(g, out)) {
        // recorded backward (higher order): written with ops
        if (isLog) return [sub(g, mul(exp(out), sum(g, -1, { keepDim: true })))];
        return [mul(out, sub(g, sum(mul(g, out), -1, { keepDim: true })))];
      }
      const dx = Tensor.empty(x.shape, x.dtype);
      K.softmaxGrad(out.data as FloatArray, g.data as FloatArray, dx.data as FloatArray, outer, n, isLog);
      return [dx];
    });
  }
  return out;
}

export function softmax(x: Tensor, axis = -1, opts: SoftmaxOptions = {}): Tensor {
  return softmaxImpl("softmax", x, axis, opts);
}

export function logSoftmax(x: Tensor, axis = -1, opts: SoftmaxOptions = {}): Tensor {
  return softmaxImpl("logSoftmax", x, axis, opts);
}

/** Layer normalisation over the trailing `normalizedShape` axes, with optional affine weight and bias. */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  assertTensor("layerNorm", x);
  assertFloat("layerNorm", x);
  const ns = [...(assertList("layerNorm", normalizedShape, "normalizedShape") as number[])];
  const tail = x.shape.slice(x.ndim - ns.length);
  if (ns.length === 0 || ns.length > x.ndim || !shapesEqual(tail, ns)) {
    throw new ShapeError(`layerNorm: normalizedShape ${fmtShape(ns)} does not match the trailing axes of input ${fmtShape(x.shape)}`);
  }
  for (const [name, p] of [
    ["weight", weight],
    ["bias", bias],
  ] as const) {
    if (p === null) continue;
    assertTensor("layerNorm", p, name);
    if (!shapesEqual(p.shape, ns))
      throw new ShapeError(`layerNorm: ${name} shape ${fmtShape(p.shape)} must equal normalizedShape ${fmtShape(ns)}`);
    if (p.dtype !== x.dtype) throw new DTypeError(`layerNorm: ${name} dtype ${p.dtype} differs from input dtype ${x.dtype}`);
  }
  assertNumber("layerNorm", eps, "eps", { min: 0, finite: true });
  const n = sizeOf(ns);
  const outer = n === 0 ? 0 : x.size / n;
  const out = Tensor.empty(x.shape, x.dtype);
  const meanT = Tensor.empty([outer], x.dtype);
  const rstd = Tensor.empty([outer], x.dtype);
  K.layerNorm(
    x.data as FloatArray,
    (weight?.data as FloatArray) ?? null,
    (bias?.data as FloatArray) ?? null,
    out.data as FloatArray,
    meanT.data as FloatArray,
    rstd.data as FloatArray,
    outer,
    n,
    eps,
  );
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  if (inputs.some((t) => t.requiresGrad) && needsGrad(inputs[0]!, inputs[1], inputs[2])) {
    record("layerNorm", out, inputs, (g) => {
      if (needsGradAny([g, ...inputs])) return layerNormGradComposite(x, ns.length, weight, bias, g, eps);
      const dx = Tensor.empty(x.shape, x.dtype);
      const dw = weight ? Tensor.empty(weight.shape, x.dtype) : null;
      const db = bias ? Tensor.empty(bias.shape, x.dtype) : null;
      K.layerNormGrad(
        x.data as FloatArray,
        (weight?.data as FloatArray) ?? null,
        meanT.data as FloatArray,
        rstd.data as FloatArray,
        g.data as FloatArray,
        dx.data as FloatArray,
        (dw?.data as FloatArray) ?? null,
        (db?.data as FloatArray) ?? null,
        outer,
        n,
      );
      return [dx, ...(dw ? [dw] : []), ...(db ? [db] : [])];
    });
  }
  return out;
}

/**
 * layerNorm's backward written with ops, used only when the backward pass is itself recorded
 * (createGraph); the fused kernel computes the same values for first-order gradients.
 */
function layerNormGradComposite(
  x: Tensor,
  normDims: number,
  weight: Tensor | null,
  bias: Tensor | null,
  g: Tensor,
  eps: number,
): (Tensor | null)[] {
  const axes = Array.from({ length: normDims }, (_, i) => x.ndim - normDims + i);
  const lead = Array.from({ length: x.ndim - normDims }, (_, i) => i);
  const keep = { keepDim: true };
  const xc = sub(x, mean(x, axes, keep));
  const rstd = rsqrt(add(mean(square(xc), axes, keep), eps));
  const xhat = mul(xc, rstd);
  const gh = weight ? mul(g, weight) : g;
  // dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat))
  const dx = mul(rstd, sub(sub(gh, mean(gh, axes, keep)), mul(xhat, mean(mul(gh, xhat), axes, keep))));
  const grads: (Tensor | null)[] = [dx];
  if (weight) grads.push(sum(mul(g, xhat), lead));
  if (bias) grads.push(sum(g, lead));
  return grads;
}

export interface DropoutOptions {
  training?: boolean;
  generator?: Generator;
}

/** Inverted dropout: zeroes entries with probability p and scales the rest by 1/(1-p). */
export function dropout(x: Tensor, p = 0.5, opts: DropoutOptions = {}): Tensor {
  assertTensor("dropout", x);
  assertFloat("dropout", x);
  assertNumber("dropout", p, "p", { min: 0, max: 1 });
  optionsOf("dropout", opts);
  const generator = generatorOf("dropout", opts.generator);
  if (opts.training === false || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const mask = bernoulliMask(x.shape, 1 - p, x.dtype, 1 / (1 - p), generator);
  return mul(x, mask);
}

export type Reduction = "mean" | "sum" | "none";

function reduce(op: string, loss: Tensor, reduction: Reduction, count?: Tensor): Tensor {
  switch (reduction) {
    case "none":
      return loss;
    case "sum":
      return sum(loss);
    case "mean":
      return count ? div(sum(loss), count) : mean(loss);
    default:
      throw new ArgumentError(`${op}: reduction must be "mean", "sum" or "none", got ${fmtValue(reduction)}`);
  }
}

export interface NllOptions {
  reduction?: Reduction;
  /** Target value whose positions contribute neither loss nor gradient. */
  ignoreIndex?: number;
  /** Per-class weights (C). */
  weight?: Tensor;
}

export interface CrossEntropyOptions extends NllOptions {
  /** Mixes the one-hot target with the uniform distribution: (1 - e) * onehot + e / C. */
  labelSmoothing?: number;
}

/** Moves the class axis (1) last and flattens: (N, C, d...) -> (N*d..., C). */
function classesLast(op: string, x: Tensor): Tensor {
  if (x.ndim < 1) throw new ShapeError(`${op}: input must have at least 1 dimension, got ${fmtShape(x.shape)}`);
  if (x.ndim <= 2) return x.ndim === 1 ? unsqueeze(x, 0) : x;
  const c = x.shape[1]!;
  return reshape(transpose(reshape(x, [x.shape[0]!, c, -1]), 1, 2), [-1, c]);
}

/**
 * Negative log-likelihood of class indices under log-probabilities `logp` (N, C) or (N, C, d...)
 * with target (N) or (N, d...), like torch.nn.functional.nll_loss.
 */
export function nllLoss(logp: Tensor, target: Tensor, opts: NllOptions = {}): Tensor {
  return classLoss("nllLoss", logp, target, opts, 0);
}

/**
 * Cross-entropy of logits (N, C) or (N, C, d...) against int32 class indices (N) or (N, d...), or
 * against class probabilities of the logits' shape. Supports ignoreIndex, label smoothing, class
 * weights and reductions, like torch.nn.functional.cross_entropy.
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  assertTensor("crossEntropy", logits, "logits");
  assertFloat("crossEntropy", logits, "logits");
  assertTensor("crossEntropy", target, "target");
  optionsOf("crossEntropy", opts);
  if (logits.ndim === 0) throw new ShapeError(`crossEntropy: logits must have at least 1 dimension, got ${fmtShape(logits.shape)}`);
  const smoothing = assertNumber("crossEntropy", opts.labelSmoothing ?? 0, "labelSmoothing", { min: 0, max: 1 });
  const logp = logSoftmax(logits, logits.ndim === 1 ? 0 : 1);
  if (isFloat(target.dtype)) {
    // soft targets
    if (!shapesEqual(target.shape, logits.shape)) {
      throw new ShapeError(`crossEntropy: probability target ${fmtShape(target.shape)} must match logits ${fmtShape(logits.shape)}`);
    }
    const c = logits.ndim === 1 ? logits.shape[0]! : logits.shape[1]!;
    let t = target.dtype === logits.dtype ? target : cast(target, logits.dtype);
    if (smoothing > 0) t = add(mul(t, 1 - smoothing), smoothing / c);
    let terms = mul(logp, t);
    if (opts.weight) terms = mul(terms, classWeightsView(opts.weight, logits));
    const loss = neg(sum(terms, logits.ndim === 1 ? 0 : 1));
    const reduction = opts.reduction ?? "mean";
    return reduction === "mean" && logits.ndim > 1 ? div(sum(loss), loss.size) : reduce("crossEntropy", loss, reduction);
  }
  return classLoss("crossEntropy", logp, target, opts, smoothing);
}

function classWeightsView(weight: Tensor, logits: Tensor): Tensor {
  const c = logits.ndim === 1 ? logits.shape[0]! : logits.shape[1]!;
  assertTensor("crossEntropy", weight, "weight");
  if (weight.ndim !== 1 || weight.shape[0] !== c)
    throw new ShapeError(`crossEntropy: weight must have shape [${c}], got ${fmtShape(weight.shape)}`);
  return logits.ndim <= 2 ? weight : reshape(weight, [c, ...logits.shape.slice(2).map(() => 1)]);
}

function classLoss(op: string, logp: Tensor, target: Tensor, opts: NllOptions, smoothing: number): Tensor {
  assertTensor(op, logp, "input");
  optionsOf(op, opts);
  assertFloat(op, logp, "input");
  assertTensor(op, target, "target");
  assertInt(op, target, "target");
  const expected = logp.ndim === 1 ? [] : [logp.shape[0]!, ...logp.shape.slice(2)];
  if (!shapesEqual(target.shape, expected)) {
    throw new ShapeError(
      `${op}: target shape ${fmtShape(target.shape)} does not match input ${fmtShape(logp.shape)} (expected ${fmtShape(expected)})`,
    );
  }
  const ignore = assertNumber(op, opts.ignoreIndex ?? -100, "ignoreIndex", { integer: true });
  const lp = classesLast(op, logp); // (M, C)
  const c = lp.shape[1]!;
  const flat = reshape(target, [lp.shape[0]!]);
  const keep = Tensor.empty(flat.shape, "bool");
  const safe = Tensor.empty(flat.shape, "int32");
  const td = flat.data as Int32Array;
  for (let i = 0; i < td.length; i++) {
    keep.data[i] = td[i] === ignore ? 0 : 1;
    safe.data[i] = td[i] === ignore ? 0 : td[i]!;
  }
  checkIndices(op, safe, c);
  const picked = reshape(gather(lp, 1, reshape(safe, [-1, 1])), [-1]); // (M)
  let w: Tensor | null = null;
  if (opts.weight) {
    assertTensor(op, opts.weight, "weight");
    if (opts.weight.ndim !== 1 || opts.weight.shape[0] !== c)
      throw new ShapeError(`${op}: weight must have shape [${c}], got ${fmtShape(opts.weight.shape)}`);
    w = where(keep, indexSelect(opts.weight, 0, safe), 0);
  }
  let loss = neg(picked);
  if (w) loss = mul(loss, w);
  if (smoothing > 0) {
    // PyTorch: (1 - e) * nll + (e / C) * sum over classes of -w[c] * logp[c]
    const perClass = opts.weight ? mul(lp, opts.weight) : lp;
    loss = add(mul(loss, 1 - smoothing), mul(neg(sum(perClass, 1)), smoothing / c));
  }
  loss = where(keep, loss, 0);
  const reduction = opts.reduction ?? "mean";
  if (reduction === "none") return reshape(loss, target.shape);
  const denom = w ? sum(w) : sum(cast(keep, logp.dtype));
  return reduce(op, loss, reduction, denom);
}

/** Binary cross-entropy on probabilities; log terms are clamped at -100 like PyTorch. */
export function binaryCrossEntropy(p: Tensor, y: Tensor, opts: { reduction?: Reduction; weight?: Tensor } = {}): Tensor {
  const op = "binaryCrossEntropy";
  pairCheck(op, p, y);
  optionsOf(op, opts);
  const weight = optionalWeight(op, opts.weight, p, "weight");
  const logP = clamp(log(p), -100);
  const log1mP = clamp(log1p(neg(p)), -100);
  let loss = neg(add(mul(y, logP), mul(sub(1, y), log1mP)));
  if (weight) loss = mul(loss, weight);
  return reduce(op, loss, opts.reduction ?? "mean");
}

/** An optional weight tensor that must broadcast to the input's shape without growing it. */
function optionalWeight(op: string, w: unknown, x: Tensor, what: string): Tensor | undefined {
  if (w === undefined) return undefined;
  const t = assertTensor(op, w, what);
  const b = tryBroadcastShapes(t.shape, x.shape);
  if (b === null || !shapesEqual(b, x.shape)) {
    throw new ShapeError(`${op}: ${what} of shape ${fmtShape(t.shape)} does not broadcast to input ${fmtShape(x.shape)}`);
  }
  return t;
}

/**
 * Numerically stable sigmoid + binary cross-entropy. The loss is one smooth function written two
 * ways, each free of cancellation on one side: softplus(-x) + (1 - y) x for x >= 0 and
 * softplus(x) - x y for x < 0 (softplus is evaluated stably by its kernel). Not the textbook
 * max(x, 0) - x y + log(1 + exp(-|x|)): its kinks at x = 0 give the subgradient -y there instead
 * of the true derivative sigmoid(0) - y = 0.5 - y, and zero logits are common.
 */
export function binaryCrossEntropyWithLogits(
  x: Tensor,
  y: Tensor,
  opts: { reduction?: Reduction; weight?: Tensor; posWeight?: Tensor } = {},
): Tensor {
  const op = "binaryCrossEntropyWithLogits";
  pairCheck(op, x, y);
  optionsOf(op, opts);
  const weight = optionalWeight(op, opts.weight, x, "weight");
  const posWeight = optionalWeight(op, opts.posWeight, x, "posWeight");
  const nonNeg = ge(x, 0);
  let loss: Tensor;
  if (posWeight) {
    // lw = 1 + (pw - 1) y; loss = (1 - y) x + lw softplus(-x) = lw softplus(x) - pw y x
    const lw = add(1, mul(sub(posWeight, 1), y));
    const forNonNeg = add(mul(sub(1, y), x), mul(lw, softplus(neg(x))));
    const forNeg = sub(mul(lw, softplus(x)), mul(mul(posWeight, y), x));
    loss = where(nonNeg, forNonNeg, forNeg);
  } else {
    loss = where(nonNeg, add(softplus(neg(x)), mul(sub(1, y), x)), sub(softplus(x), mul(x, y)));
  }
  if (weight) loss = mul(loss, weight);
  return reduce(op, loss, opts.reduction ?? "mean");
}

function pairCheck(op: string, a: Tensor, b: Tensor): void {
  assertTensor(op, a, "input");
  assertTensor(op, b, "target");
  assertFloat(op, a, "input");
  assertFloat(op, b, "target");
  if (!shapesEqual(a.shape, b.shape))
    throw new ShapeError(`${op}: input ${fmtShape(a.shape)} and target ${fmtShape(b.shape)} must have the same shape`);
}

export function mseLoss(a: Tensor, b: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  pairCheck("mseLoss", a, b);
  optionsOf("mseLoss", opts);
  const d = sub(a, b);
  return reduce("mseLoss", mul(d, d), opts.reduction ?? "mean");
}

/** a . b / (max(|a|, eps) * max(|b|, eps)) along axis (broadcasting a and b). */
export function cosineSimilarity(a: Tensor, b: Tensor, axis = -1, eps = 1e-8): Tensor {
  const op = "cosineSimilarity";
  assertTensor(op, a, "first operand");
  assertTensor(op, b, "second operand");
  assertFloat(op, a, "first operand");
  assertFloat(op, b, "second operand");
  assertNumber(op, eps, "eps", { min: 0, finite: true });
  // the axis refers to the broadcast shape, so both operands are brought to it first
  const shape = broadcastShapes(op, a.shape, b.shape);
  const ax = normAxis(op, axis, shape.length);
  const x = shapesEqual(a.shape, shape) ? a : expand(a, shape);
  const y = shapesEqual(b.shape, shape) ? b : expand(b, shape);
  const na = maximum(norm(x, 2, ax), eps);
  const nb = maximum(norm(y, 2, ax), eps);
  return div(sum(mul(x, y), ax), mul(na, nb));
}

/** x / max(||x||_p, eps) along axis. */
export function normalize(x: Tensor, opts: { p?: number; axis?: number; eps?: number } = {}): Tensor {
  assertTensor("normalize", x);
  assertFloat("normalize", x);
  optionsOf("normalize", opts);
  const p = opts.p ?? 2;
  if (typeof p !== "number" || !(p > 0)) throw new ArgumentError(`normalize: p must be a positive number or Infinity, got ${fmtValue(p)}`);
  const axis = normAxis("normalize", opts.axis ?? -1, x.ndim);
  const eps = assertNumber("normalize", opts.eps ?? 1e-12, "eps", { min: 0, finite: true });
  // an empty input normalises to itself; the max-norm of its empty rows would be an error
  if (p === Infinity && x.size === 0) return x;
  const n = norm(x, p, axis, { keepDim: true });
  return div(x, maximum(n, eps));
}
