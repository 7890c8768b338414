/**
 * The method facade: x.add(y), x.matmul(w).relu().sum().backward(). Every method forwards to the
 * op of the same name in src/ops; no math lives here.
 */
import { runBackward, type BackwardOptions } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import type { DType } from "../core/dtype.js";
import type { Generator } from "../core/rng.js";
import * as ops from "../ops/index.js";
import type { Axes, ReduceOptions, SliceSpec, SoftmaxOptions, TensorLike, VarOptions, MatmulOptions } from "../ops/index.js";
import { needsGrad, record } from "../autograd/engine.js";

declare module "../autograd/tensor.js" {
  interface Tensor {
    backward(seed?: Tensor | null, opts?: BackwardOptions): void;
    detach(): Tensor;
    clone(): Tensor;
    to(dtype: DType): Tensor;
    float(): Tensor;
    int(): Tensor;
    add(o: TensorLike): Tensor;
    sub(o: TensorLike): Tensor;
    mul(o: TensorLike): Tensor;
    div(o: TensorLike): Tensor;
    pow(o: TensorLike): Tensor;
    maximum(o: TensorLike): Tensor;
    minimum(o: TensorLike): Tensor;
    eq(o: TensorLike): Tensor;
    ne(o: TensorLike): Tensor;
    lt(o: TensorLike): Tensor;
    le(o: TensorLike): Tensor;
    gt(o: TensorLike): Tensor;
    ge(o: TensorLike): Tensor;
    logicalAnd(o: TensorLike): Tensor;
    logicalOr(o: TensorLike): Tensor;
    logicalNot(): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    square(): Tensor;
    reciprocal(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    relu(): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    gelu(opts?: { approximate?: "none" | "tanh" }): Tensor;
    silu(): Tensor;
    softplus(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    sum(axes?: Axes, opts?: ReduceOptions): Tensor;
    mean(axes?: Axes, opts?: ReduceOptions): Tensor;
    max(axes?: Axes, opts?: ReduceOptions): Tensor;
    min(axes?: Axes, opts?: ReduceOptions): Tensor;
    prod(axes?: Axes, opts?: ReduceOptions): Tensor;
    argmax(axis?: number, opts?: ReduceOptions): Tensor;
    argmin(axis?: number, opts?: ReduceOptions): Tensor;
    logSumExp(axes?: Axes, opts?: ReduceOptions): Tensor;
    var(axes?: Axes, opts?: VarOptions): Tensor;
    std(axes?: Axes, opts?: VarOptions): Tensor;
    norm(p?: number, axes?: Axes, opts?: ReduceOptions): Tensor;
    matmul(o: Tensor, opts?: MatmulOptions): Tensor;
    reshape(shape: readonly number[]): Tensor;
    view(shape: readonly number[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    squeeze(axes?: number | readonly number[]): Tensor;
    unsqueeze(axis: number): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    permute(perm: readonly number[]): Tensor;
    expand(shape: readonly number[]): Tensor;
    slice(specs: readonly SliceSpec[]): Tensor;
    narrow(axis: number, start: number, length: number): Tensor;
    flip(axes: number | readonly number[]): Tensor;
    gather(axis: number, index: Tensor): Tensor;
    indexSelect(axis: number, index: Tensor): Tensor;
    softmax(axis?: number, opts?: SoftmaxOptions): Tensor;
    logSoftmax(axis?: number, opts?: SoftmaxOptions): Tensor;
    dropout(p?: number, opts?: { training?: boolean; generator?: Generator }): Tensor;
  }
}

const P = Tensor.prototype;

P.backward = function (this: Tensor, seed: Tensor | null = null, opts: BackwardOptions = {}): void {
  runBackward(this, seed, opts);
};
/** Shares storage, cut from the graph. */
P.detach = function (this: Tensor): Tensor {
  return new Tensor(this.data, this.shape, this.dtype);
};
/** A copy that stays in the graph (gradient flows back unchanged). */
P.clone = function (this: Tensor): Tensor {
  const out = new Tensor(this.data.slice(), this.shape, this.dtype);
  if (needsGrad(this)) record("clone", out, [this], (g) => [g]);
  return out;
};
P.to = function (this: Tensor, dtype: DType): Tensor {
  return ops.cast(this, dtype);
};
P.float = function (this: Tensor): Tensor {
  return ops.cast(this, "float32");
};
P.int = function (this: Tensor): Tensor {
  return ops.cast(this, "int32");
};

type Binary = (a: TensorLike, b: TensorLike) => Tensor;
const binaries: Record<string, Binary> = {
  add: ops.add,
  sub: ops.sub,
  mul: ops.mul,
  div: ops.div,
  pow: ops.pow,
  maximum: ops.maximum,
  minimum: ops.minimum,
  eq: ops.eq,
  ne: ops.ne,
  lt: ops.lt,
  le: ops.le,
  gt: ops.gt,
  ge: ops.ge,
  logicalAnd: ops.logicalAnd,
  logicalOr: ops.logicalOr,
};
for (const [name, fn] of Object.entries(binaries)) {
  (P as unknown as Record<string, unknown>)[name] = function (this: Tensor, o: TensorLike) {
    return fn(this, o);
  };
}

/** Methods whose op takes the tensor first and passes the remaining arguments through. */
const passThrough = [
  "logicalNot",
  "neg",
  "abs",
  "sign",
  "exp",
  "log",
  "log1p",
  "sqrt",
  "rsqrt",
  "square",
  "reciprocal",
  "sin",
  "cos",
  "relu",
  "sigmoid",
  "tanh",
  "gelu",
  "silu",
  "softplus",
  "clamp",
  "sum",
  "mean",
  "max",
  "min",
  "prod",
  "argmax",
  "argmin",
  "logSumExp",
  "std",
  "norm",
  "matmul",
  "reshape",
  "flatten",
  "squeeze",
  "unsqueeze",
  "transpose",
  "permute",
  "expand",
  "slice",
  "narrow",
  "flip",
  "gather",
  "indexSelect",
  "softmax",
  "logSoftmax",
  "dropout",
] as const;
for (const name of passThrough) {
  const fn = ops[name] as (x: Tensor, ...rest: unknown[]) => Tensor;
  (P as unknown as Record<string, unknown>)[name] = function (this: Tensor, ...rest: unknown[]) {
    return fn(this, ...rest);
  };
}
P.var = function (this: Tensor, axes?: Axes, opts?: VarOptions): Tensor {
  return ops.variance(this, axes, opts);
};
P.view = function (this: Tensor, shape: readonly number[]): Tensor {
  return ops.reshape(this, shape);
};
