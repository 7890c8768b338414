/** Affine layers: Linear (y = x W^T + b) and Bilinear (y_k = x1^T A_k x2 + b_k). */
import type { Tensor } from "../autograd/tensor.js";
import type { Generator } from "../core/rng.js";
import { fmtShape, ShapeError } from "../core/errors.js";
import { add, mul } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { sum } from "../ops/reduce.js";
import { reshape, transpose, unsqueeze } from "../ops/shape.js";
import { empty, positiveInt } from "./util.js";
import { kaimingUniform, uniform } from "./init.js";
import { floatDType, Module, param, type ParameterFloatOptions } from "./module.js";

export interface LinearOptions extends ParameterFloatOptions {
  bias?: boolean;
  generator?: Generator;
}

/**
 * y = x W^T + b over the last axis: (..., inFeatures) -> (..., outFeatures).
 * State dict: `weight` (outFeatures, inFeatures), `bias` (outFeatures) — PyTorch's layout.
 * Init as PyTorch: W ~ U(-k, k), b ~ U(-k, k) with k = 1/sqrt(inFeatures).
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.inFeatures = positiveInt("Linear", inFeatures, "inFeatures", 0);
    this.outFeatures = positiveInt("Linear", outFeatures, "outFeatures", 0);
    const dtype = floatDType("Linear", opts.dtype);
    const gen = opts.generator ? { generator: opts.generator } : {};
    // kaiming_uniform(a = sqrt(5)) is PyTorch's way of writing U(-1/sqrt(fanIn), 1/sqrt(fanIn))
    this.weight = param(kaimingUniform(empty([outFeatures, inFeatures], dtype), { a: Math.sqrt(5), nonlinearity: "leakyRelu", ...gen }));
    const k = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    this.bias = opts.bias === false ? null : param(uniform(empty([outFeatures], dtype), -k, k, gen));
  }

  forward(x: Tensor): Tensor {
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(`Linear: input ${fmtShape(x.shape)} must end in inFeatures = ${this.inFeatures}`);
    }
    const y = matmul(x, this.weight, { transB: true });
    return this.bias ? add(y, this.bias) : y;
  }
}

/**
 * y_k = x1^T A_k x2 + b_k: (..., in1), (..., in2) -> (..., outFeatures), leading axes equal.
 * State dict: `weight` (outFeatures, in1, in2), `bias` (outFeatures); init U(-k, k), k = 1/sqrt(in1).
 */
export class Bilinear extends Module {
  readonly in1Features: number;
  readonly in2Features: number;
  readonly outFeatures: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(in1Features: number, in2Features: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.in1Features = positiveInt("Bilinear", in1Features, "in1Features", 1);
    this.in2Features = positiveInt("Bilinear", in2Features, "in2Features", 1);
    this.outFeatures = positiveInt("Bilinear", outFeatures, "outFeatures", 1);
    const dtype = floatDType("Bilinear", opts.dtype);
    const gen = opts.generator ? { generator: opts.generator } : {};
    const k = 1 / Math.sqrt(in1Features);
    this.weight = param(uniform(empty([outFeatures, in1Features, in2Features], dtype), -k, k, gen));
    this.bias = opts.bias === false ? null : param(uniform(empty([outFeatures], dtype), -k, k, gen));
  }

  forward(x1: Tensor, x2: Tensor): Tensor {
    const lead1 = x1.shape.slice(0, -1);
    if (
      x1.ndim === 0 ||
      x2.ndim !== x1.ndim ||
      x1.shape[x1.ndim - 1] !== this.in1Features ||
      x2.shape[x2.ndim - 1] !== this.in2Features ||
      lead1.some((d, i) => d !== x2.shape[i])
    ) {
      throw new ShapeError(
        `Bilinear: inputs ${fmtShape(x1.shape)} and ${fmtShape(x2.shape)} must be (..., ${this.in1Features}) and (..., ${this.in2Features}) with equal leading axes`,
      );
    }
    const [o, i1, i2] = [this.outFeatures, this.in1Features, this.in2Features];
    // x1 A: contract in1 against every A_k at once by viewing the weight as (in1, out * in2)
    const w = reshape(transpose(this.weight, 0, 1), [i1, o * i2]);
    const left = reshape(matmul(x1, w), [...lead1, o, i2]); // (..., out, in2)
    const y = sum(mul(left, unsqueeze(x2, -2)), -1); // (..., out)
    return this.bias ? add(y, this.bias) : y;
  }
}
