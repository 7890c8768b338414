/** Normalisation layers over trailing axes: LayerNorm and RMSNorm. */
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError, fmtShape, ShapeError } from "../core/errors.js";
import { shapesEqual } from "../core/shape.js";
import { add, mul, rsqrt, square } from "../ops/elementwise.js";
import { mean } from "../ops/reduce.js";
import { layerNorm } from "../ops/nn.js";
import { ones, zeros } from "./init.js";
import { floatDType, Module, param, type ParameterFloatOptions } from "./module.js";
import { empty, positiveInt } from "./util.js";

export interface NormOptions extends ParameterFloatOptions {
  eps?: number;
  /** Learn a per-element scale (and, for LayerNorm, shift). Default true. */
  elementwiseAffine?: boolean;
}

function checkShapeArg(op: string, normalizedShape: number | readonly number[]): number[] {
  const ns = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
  if (ns.length === 0) throw new ArgumentError(`${op}: normalizedShape must have at least one axis`);
  ns.forEach((d) => positiveInt(op, d, "normalizedShape entries", 1));
  return ns;
}

function checkInput(op: string, x: Tensor, ns: readonly number[]): void {
  if (x.ndim < ns.length || !shapesEqual(x.shape.slice(x.ndim - ns.length), ns)) {
    throw new ShapeError(`${op}: input ${fmtShape(x.shape)} must end in normalizedShape ${fmtShape(ns)}`);
  }
}

/**
 * (x - mean) / sqrt(var + eps) * weight + bias over the trailing normalizedShape axes (biased variance).
 * State dict: `weight`, `bias` (normalizedShape), init ones / zeros, as PyTorch.
 */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  weight: Tensor | null;
  bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], opts: NormOptions & { bias?: boolean } = {}) {
    super();
    this.normalizedShape = checkShapeArg("LayerNorm", normalizedShape);
    this.eps = opts.eps ?? 1e-5;
    const dtype = floatDType("LayerNorm", opts.dtype);
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? param(ones(empty(this.normalizedShape, dtype))) : null;
    this.bias = affine && opts.bias !== false ? param(zeros(empty(this.normalizedShape, dtype))) : null;
  }

  forward(x: Tensor): Tensor {
    checkInput("LayerNorm", x, this.normalizedShape);
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

/**
 * x / sqrt(mean(x^2) + eps) * weight over the trailing normalizedShape axes. eps defaults to the
 * machine epsilon of the input dtype (as torch.nn.RMSNorm with eps=None).
 * State dict: `weight` (normalizedShape), init ones.
 */
export class RMSNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number | null;
  weight: Tensor | null;

  constructor(normalizedShape: number | readonly number[], opts: NormOptions = {}) {
    super();
    this.normalizedShape = checkShapeArg("RMSNorm", normalizedShape);
    this.eps = opts.eps ?? null;
    const dtype = floatDType("RMSNorm", opts.dtype);
    this.weight = (opts.elementwiseAffine ?? true) ? param(ones(empty(this.normalizedShape, dtype))) : null;
  }

  forward(x: Tensor): Tensor {
    checkInput("RMSNorm", x, this.normalizedShape);
    const eps = this.eps ?? (x.dtype === "float64" ? Number.EPSILON : 2 ** -23);
    const axes = this.normalizedShape.map((_, i) => x.ndim - this.normalizedShape.length + i);
    const y = mul(x, rsqrt(add(mean(square(x), axes, { keepDim: true }), eps)));
    return this.weight ? mul(y, this.weight) : y;
  }
}
