/** Reductions over any set of axes, with keepDim, and sumTo (the one place broadcast gradients are reduced). */
import { K } from "../backend/index.js";
import { REDUCE_OPS, type ReduceOp } from "../backend/kernels.js";
import { isFloat, type DType } from "../core/dtype.js";
import { ArgumentError, fmtShape, fmtValue, ShapeError } from "../core/errors.js";
import { normAxes, normAxis, shapesEqual, type Shape } from "../core/shape.js";
import { needsGrad, noGrad, record } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { abs, cast, div, eq, exp, mul, powScalar, sqrt, square, sub, where } from "./elementwise.js";
import { expand, permute, reshape } from "./shape.js";
import { assertNumber, assertTensor, optionsOf } from "./util.js";

const R = Object.fromEntries(REDUCE_OPS.map((n, i) => [n, i])) as Record<ReduceOp, number>;

export interface ReduceOptions {
  keepDim?: boolean;
}
export type Axes = number | readonly number[] | undefined;

interface Plan {
  axes: number[];
  outer: number;
  n: number;
  inner: number;
  keepShape: number[];
  outShape: number[];
  /** permutation moving reduced axes last when they are not adjacent */
  perm: number[] | null;
}

function plan(op: string, x: Tensor, axesArg: Axes, keepDim: boolean): Plan {
  const axes = normAxes(op, axesArg, x.ndim);
  const keepShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepDim ? keepShape : x.shape.filter((_, i) => !axes.includes(i));
  const contiguous = axes.length === 0 || axes[axes.length - 1]! - axes[0]! === axes.length - 1;
  let outer = 1;
  let n = 1;
  let inner = 1;
  let perm: number[] | null = null;
  if (contiguous) {
    const first = axes[0] ?? x.ndim;
    const last = axes[axes.length - 1] ?? x.ndim - 1;
    x.shape.forEach((d, i) => {
      if (i < first) outer *= d;
      else if (i > last) inner *= d;
      else n *= d;
    });
  } else {
    perm = [...x.shape.keys()].filter((i) => !axes.includes(i)).concat(axes);
    x.shape.forEach((d, i) => (axes.includes(i) ? (n *= d) : (outer *= d)));
  }
  return { axes, outer, n, inner, keepShape, outShape, perm };
}

function runReduce(op: ReduceOp, x: Tensor, p: Plan, dtype: DType): Tensor {
  const src = p.perm ? permute(x, p.perm) : x;
  const out = Tensor.empty(p.outShape, dtype);
  K.reduce(R[op], src.data, out.data, p.outer, p.n, p.inner);
  return out;
}

function checkNonEmpty(op: string, x: Tensor, p: Plan): void {
  if (p.n === 0 && p.outer * p.inner > 0) {
    throw new ShapeError(`${op}: cannot reduce over an empty dimension of a tensor of shape ${fmtShape(x.shape)}`);
  }
}

/** Gradient g of a reduction, broadcast back to the input's shape. */
function spread(g: Tensor, p: Plan, shape: Shape): Tensor {
  return expand(reshape(g, p.keepShape), shape);
}

export function sum(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  assertTensor("sum", x);
  optionsOf("sum", opts);
  const p = plan("sum", x, axes, opts.keepDim ?? false);
  const dtype = x.dtype === "bool" ? "int32" : x.dtype;
  const out = runReduce("sum", dtype !== x.dtype ? cast(x, dtype) : x, p, dtype);
  if (needsGrad(x)) record("sum", out, [x], (g) => [spread(g, p, x.shape)]);
  return out;
}

export function mean(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  assertTensor("mean", x);
  optionsOf("mean", opts);
  const xf = isFloat(x.dtype) ? x : cast(x, "float32");
  const p = plan("mean", xf, axes, opts.keepDim ?? false);
  const out = runReduce("mean", xf, p, xf.dtype);
  if (needsGrad(xf)) record("mean", out, [xf], (g) => [mul(spread(g, p, xf.shape), 1 / p.n)]);
  return out;
}

function extreme(op: "max" | "min", x: Tensor, axes: Axes, opts: ReduceOptions): Tensor {
  assertTensor(op, x);
  optionsOf(op, opts);
  const p = plan(op, x, axes, opts.keepDim ?? false);
  checkNonEmpty(op, x, p);
  const out = runReduce(op, x, p, x.dtype);
  if (needsGrad(x)) {
    record(op, out, [x], (g) => {
      // ties share the gradient evenly (PyTorch's amax/amin rule)
      const hit = cast(eq(x, spread(out, p, x.shape)), g.dtype);
      const count = sum(hit, p.axes, { keepDim: true });
      return [mul(spread(g, p, x.shape), div(hit, count))];
    });
  }
  return out;
}

export const max = (x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor => extreme("max", x, axes, opts);
export const min = (x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor => extreme("min", x, axes, opts);

function argExtreme(op: "argmax" | "argmin", x: Tensor, axis: number | undefined, opts: ReduceOptions): Tensor {
  assertTensor(op, x);
  optionsOf(op, opts);
  // one axis only: plan() would also take a list, which has no argmax meaning
  if (axis !== undefined) normAxis(op, axis, x.ndim);
  if (axis === undefined) {
    const flat = reshape(x, [x.size]);
    const p = plan(op, flat, 0, false);
    checkNonEmpty(op, x, p);
    const out = runReduce(op, flat, p, "int32");
    return opts.keepDim
      ? reshape(
          out,
          x.shape.map(() => 1),
        )
      : out;
  }
  const p = plan(op, x, axis, opts.keepDim ?? false);
  checkNonEmpty(op, x, p);
  return runReduce(op, x, p, "int32");
}

/** Index of the first maximum along `axis` (over the flattened tensor when omitted). */
export const argmax = (x: Tensor, axis?: number, opts: ReduceOptions = {}): Tensor => argExtreme("argmax", x, axis, opts);
export const argmin = (x: Tensor, axis?: number, opts: ReduceOptions = {}): Tensor => argExtreme("argmin", x, axis, opts);

export function prod(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  assertTensor("prod", x);
  optionsOf("prod", opts);
  const p = plan("prod", x, axes, opts.keepDim ?? false);
  const dtype = x.dtype === "bool" ? "int32" : x.dtype;
  const xs = dtype !== x.dtype ? cast(x, dtype) : x;
  const out = runReduce("prod", xs, p, dtype);
  if (needsGrad(x)) {
    record("prod", out, [x], (g) => {
      // d prod / d x_i = product of the other entries; computed directly so zeros are handled exactly
      const src = p.perm ? permute(x, p.perm) : x;
      let others: Tensor;
      if (needsGrad(g, x)) {
        others = recordedExclusiveProducts(src, p);
      } else {
        others = Tensor.empty(src.shape, src.dtype);
        exclusiveProducts(src.data, others.data, p.outer, p.n, p.inner);
      }
      const back = p.perm ? permute(others, inversePerm(p.perm)) : others;
      return [mul(spread(g, p, x.shape), back)];
    });
  }
  return out;
}

function exclusiveProducts(x: ArrayLike<number>, out: { [i: number]: number }, outer: number, n: number, inner: number): void {
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < inner; j++) {
      let acc = 1;
      for (let r = 0; r < n; r++) {
        const t = (o * n + r) * inner + j;
        out[t] = acc;
        acc *= x[t]!;
      }
      acc = 1;
      for (let r = n - 1; r >= 0; r--) {
        const t = (o * n + r) * inner + j;
        out[t]! *= acc;
        acc *= x[t]!;
      }
    }
}

/**
 * The products of the other entries written with ops, for a recorded backward (createGraph): entry r
 * of each (outer, n, inner) fibre is the product over n of a copy with position r replaced by 1.
 * Costs n times the memory of x, which only higher-order gradients pay.
 */
function recordedExclusiveProducts(src: Tensor, p: Plan): Tensor {
  const { outer, n, inner } = p;
  const eye = Tensor.empty([1, n, n, 1], "bool");
  for (let r = 0; r < n; r++) eye.data[r * n + r] = 1;
  const rows = expand(reshape(src, [outer, 1, n, inner]), [outer, n, n, inner]);
  return reshape(prod(where(eye, 1, rows), 2), src.shape);
}

export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** log(sum(exp(x))) computed stably; its gradient is the softmax. */
export function logSumExp(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  assertTensor("logSumExp", x);
  optionsOf("logSumExp", opts);
  const xf = isFloat(x.dtype) ? x : cast(x, "float32");
  const p = plan("logSumExp", xf, axes, opts.keepDim ?? false);
  const out = runReduce("logSumExp", xf, p, xf.dtype);
  if (needsGrad(xf)) {
    record("logSumExp", out, [xf], (g) => {
      const y = spread(out, p, xf.shape);
      // a row of -inf has no mass: its gradient is 0, not NaN
      const w = where(eq(y, -Infinity), 0, exp(sub(xf, y)));
      return [mul(spread(g, p, xf.shape), w)];
    });
  }
  return out;
}

export interface VarOptions extends ReduceOptions {
  /** Bessel's correction: 1 gives the unbiased estimate (PyTorch's default), 0 the population variance. */
  correction?: number;
}

export function variance(x: Tensor, axes?: Axes, opts: VarOptions = {}): Tensor {
  return varianceAs("var", x, axes, opts);
}

export function std(x: Tensor, axes?: Axes, opts: VarOptions = {}): Tensor {
  return sqrt(varianceAs("std", x, axes, opts));
}

function varianceAs(op: string, x: Tensor, axes: Axes, opts: VarOptions): Tensor {
  assertTensor(op, x);
  optionsOf(op, opts);
  const correction = assertNumber(op, opts.correction ?? 1, "correction", { min: 0 });
  const xf = isFloat(x.dtype) ? x : cast(x, "float32");
  const p = plan(op, xf, axes, true);
  const mu = mean(xf, p.axes, { keepDim: true });
  const ss = sum(square(sub(xf, mu)), p.axes, { keepDim: opts.keepDim ?? false });
  return mul(ss, 1 / Math.max(p.n - correction, 0));
}

/** p-norm over axes (all by default): p = 2 (default), 1, Infinity or any positive number. */
export function norm(x: Tensor, p = 2, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  assertTensor("norm", x);
  optionsOf("norm", opts);
  if (typeof p !== "number" || !(p > 0)) throw new ArgumentError(`norm: p must be a positive number or Infinity, got ${fmtValue(p)}`);
  const xf = isFloat(x.dtype) ? x : cast(x, "float32");
  // validated here so that errors name norm, not the sum or max it is built from
  const pl = plan("norm", xf, axes, opts.keepDim ?? false);
  axes = pl.axes;
  if (p === Infinity) {
    // like torch.linalg.vector_norm: max has no identity, so an empty reduction is an error
    checkNonEmpty("norm", xf, pl);
    return max(abs(xf), axes, opts);
  }
  if (p === 1) return sum(abs(xf), axes, opts);
  if (p === 2) return norm2(xf, axes, opts);
  return powScalar(sum(powScalar(abs(xf), p), axes, opts), 1 / p);
}

/** Euclidean norm with the subgradient 0 at the origin (a plain sqrt(sum(x^2)) gives NaN there). */
function norm2(x: Tensor, axes: Axes, opts: ReduceOptions): Tensor {
  const out = noGrad(() => sqrt(sum(square(x), axes, opts)));
  if (!needsGrad(x)) return out;
  const p = plan("norm", x, axes, opts.keepDim ?? false);
  return record("norm", out, [x], (g) => {
    const yk = spread(out, p, x.shape);
    return [mul(spread(g, p, x.shape), where(eq(yk, 0), 0, div(x, yk)))];
  });
}

/** Sums a broadcast gradient back down to `shape` (leading axes and axes of size 1). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const s = sum(g, axes, { keepDim: true });
  return reshape(s, shape);
}
