/** Tensor creation from data, constants and ranges. */
import type { TypedArray } from "../backend/kernels.js";
import { allocate, checkDType, DTYPES, dtypeOf, type DType } from "../core/dtype.js";
import { ArgumentError, fmtShape, fmtValue, ShapeError } from "../core/errors.js";
import { checkShape, sizeOf } from "../core/shape.js";
import { Tensor, type NestedArray } from "../autograd/tensor.js";
import { filled } from "./elementwise.js";
import { assertNumber, assertTensor, dtypeOption, optionsOf } from "./util.js";

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * A tensor from nested arrays, a flat typed array (with opts.shape) or a number. Numbers become
 * float32 unless `dtype` says otherwise; booleans become bool; typed arrays keep their dtype and are
 * copied.
 */
export function tensor(
  data: NestedArray | TypedArray | readonly NestedArray[],
  opts: CreateOptions & { shape?: readonly number[] } = {},
): Tensor {
  optionsOf("tensor", opts);
  if (ArrayBuffer.isView(data)) {
    const src = data;
    const dtype = opts.dtype === undefined ? dtypeOf(src, "tensor") : checkDType("tensor", opts.dtype);
    const shape = opts.shape === undefined ? [src.length] : checkShape("tensor", opts.shape);
    if (sizeOf(shape) !== src.length) throw new ShapeError(`tensor: shape ${fmtShape(shape)} does not hold ${src.length} elements`);
    const out = allocate(dtype, src.length);
    out.set(src);
    return finish(new Tensor(out, shape, dtype), opts);
  }
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const isBool = typeof probe === "boolean";
  const dtype = opts.dtype === undefined ? (isBool ? "bool" : "float32") : checkDType("tensor", opts.dtype);
  const target = opts.shape === undefined ? shape : checkShape("tensor", opts.shape);
  const out = allocate(dtype, sizeOf(checkShape("tensor", shape)));
  let at = 0;
  const walk = (v: unknown, dim: number): void => {
    if (dim === shape.length) {
      if (typeof v === "number") out[at++] = v;
      else if (typeof v === "boolean") out[at++] = v ? 1 : 0;
      else throw new ArgumentError(`tensor: expected a number or boolean, got ${v === null ? "null" : typeof v}`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new ShapeError(
        `tensor: ragged nested array: expected length ${shape[dim]} at depth ${dim}, got ${Array.isArray(v) ? v.length : typeof v}`,
      );
    }
    for (const e of v) walk(e, dim + 1);
  };
  walk(data, 0);
  if (sizeOf(target) !== out.length) throw new ShapeError(`tensor: shape ${fmtShape(target)} does not hold ${out.length} elements`);
  return finish(new Tensor(out, target, dtype), opts);
}

/** `full` under another op's name, so zeros/ones/eye report their own name in errors. */
function fullAs(op: string, shape: readonly number[], value: number, opts: CreateOptions): Tensor {
  optionsOf(op, opts);
  assertNumber(op, value, "value");
  const dtype = dtypeOption(op, opts.dtype, "float32", DTYPES);
  return finish(filled(checkShape(op, shape), value, dtype), opts);
}

export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  return fullAs("full", shape, value, opts);
}
export const zeros = (shape: readonly number[], opts: CreateOptions = {}): Tensor => fullAs("zeros", shape, 0, opts);
export const ones = (shape: readonly number[], opts: CreateOptions = {}): Tensor => fullAs("ones", shape, 1, opts);

export function zerosLike(x: Tensor, opts: CreateOptions = {}): Tensor {
  assertTensor("zerosLike", x);
  return fullAs("zerosLike", x.shape, 0, { dtype: x.dtype, ...opts });
}
export function onesLike(x: Tensor, opts: CreateOptions = {}): Tensor {
  assertTensor("onesLike", x);
  return fullAs("onesLike", x.shape, 1, { dtype: x.dtype, ...opts });
}
export function fullLike(x: Tensor, value: number, opts: CreateOptions = {}): Tensor {
  assertTensor("fullLike", x);
  return fullAs("fullLike", x.shape, value, { dtype: x.dtype, ...opts });
}

/** Values from start (inclusive) to end (exclusive) by step; arange(n) counts 0..n-1. Integer arguments give int32. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  optionsOf("arange", opts);
  if (end === undefined) {
    end = start;
    start = 0;
  }
  for (const [n, v] of [
    ["start", start],
    ["end", end],
    ["step", step],
  ] as const) {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ArgumentError(`arange: ${n} must be a finite number, got ${fmtValue(v)}`);
  }
  if (step === 0) throw new ArgumentError("arange: step must be non-zero");
  const n = Math.max(0, Math.ceil((end - start) / step));
  checkShape("arange", [n]);
  const ints = Number.isInteger(start) && Number.isInteger(step);
  // a bool range has no meaning (PyTorch refuses it too)
  const dtype = dtypeOption("arange", opts.dtype, ints ? "int32" : "float32", ["float32", "float64", "int32"]);
  const t = Tensor.empty([n], dtype);
  for (let i = 0; i < n; i++) t.data[i] = start + i * step;
  return finish(t, opts);
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  optionsOf("linspace", opts);
  assertNumber("linspace", start, "start", { finite: true });
  assertNumber("linspace", end, "end", { finite: true });
  assertNumber("linspace", steps, "steps", { integer: true, min: 0 });
  const dtype = dtypeOption("linspace", opts.dtype, "float32", ["float32", "float64", "int32"]);
  const t = Tensor.empty(checkShape("linspace", [steps]), dtype);
  const h = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) t.data[i] = i === steps - 1 && steps > 1 ? end : start + i * h;
  return finish(t, opts);
}

/** Identity matrix (n, m). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  optionsOf("eye", opts);
  const t = fullAs("eye", [n, m], 0, opts.dtype === undefined ? {} : { dtype: opts.dtype });
  for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
  return finish(t, opts);
}
