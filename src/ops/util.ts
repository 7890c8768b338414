/** Argument checking and small helpers shared by every op. */
import { checkDType, isFloat, type DType } from "../core/dtype.js";
import { ArgumentError, describe, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import { defaultGenerator, Generator } from "../core/rng.js";
import { Tensor } from "../autograd/tensor.js";

export type TensorLike = Tensor | number;

export function assertTensor(op: string, x: unknown, what = "input"): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError(`${op}: ${what} must be a Tensor, got ${describe(x)}`);
  x.assertAlive(op);
  return x;
}

/**
 * Array.isArray narrows a `readonly T[]` argument to `any[]`, which erases the element type for the
 * rest of the function; this guard keeps the declared element type.
 */
export function isList(x: unknown): x is readonly unknown[] {
  return Array.isArray(x);
}

export function assertFloat(op: string, x: Tensor, what = "input"): void {
  if (!isFloat(x.dtype))
    throw new DTypeError(`${op}: ${what} must be float32 or float64, got ${x.dtype} tensor of shape ${fmtShape(x.shape)}`);
}

export function assertInt(op: string, x: Tensor, what = "indices"): void {
  if (x.dtype !== "int32") throw new DTypeError(`${op}: ${what} must be an int32 tensor, got ${x.dtype} of shape ${fmtShape(x.shape)}`);
}

export function assertBool(op: string, x: Tensor, what = "mask"): void {
  if (x.dtype !== "bool") throw new DTypeError(`${op}: ${what} must be a bool tensor, got ${x.dtype} of shape ${fmtShape(x.shape)}`);
}

export interface NumberRule {
  integer?: boolean;
  /** Reject Infinity and -Infinity (NaN is always rejected). */
  finite?: boolean;
  min?: number;
  max?: number;
}

export function assertNumber(op: string, v: unknown, what: string, rule: NumberRule = {}): number {
  if (typeof v !== "number" || Number.isNaN(v)) throw new ArgumentError(`${op}: ${what} must be a number, got ${describe(v)}`);
  if (rule.integer && !Number.isInteger(v)) throw new ArgumentError(`${op}: ${what} must be an integer, got ${v}`);
  if (rule.finite && !Number.isFinite(v)) throw new ArgumentError(`${op}: ${what} must be finite, got ${v}`);
  if (rule.min !== undefined && v < rule.min) throw new ArgumentError(`${op}: ${what} must be >= ${rule.min}, got ${v}`);
  if (rule.max !== undefined && v > rule.max) throw new ArgumentError(`${op}: ${what} must be <= ${rule.max}, got ${v}`);
  return v;
}

/** An optional dtype option: undefined gives `fallback`, anything else must name one of `allowed`. */
export function dtypeOption<D extends DType>(op: string, value: unknown, fallback: D, allowed: readonly D[]): D {
  if (value === undefined) return fallback;
  const dtype = checkDType(op, value);
  if (!(allowed as readonly DType[]).includes(dtype))
    throw new DTypeError(`${op}: dtype must be one of ${allowed.join(", ")}, got ${dtype}`);
  return dtype as D;
}

/** A list argument (shape, sizes, pads...): must be an array; `what` names it in the message. */
export function assertList(op: string, v: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(v)) throw new ArgumentError(`${op}: ${what} must be an array, got ${describe(v)}`);
  return v;
}

/** Ops that work along one axis and have no meaning on a 0-d tensor (split, narrow, roll...), like PyTorch. */
export function assertHasDims(op: string, x: Tensor): void {
  if (x.ndim === 0) throw new ShapeError(`${op}: expected a tensor with at least 1 dimension, got shape ${fmtShape(x.shape)}`);
}

/** Checks that an int32 tensor's entries lie in [0, n) (negative entries count from the end when `wrap`). */
export function checkIndices(op: string, index: Tensor, n: number, wrap = false): Int32Array {
  const d = index.data as Int32Array;
  let out = d;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v >= 0 && v < n) continue;
    if (wrap && v < 0 && v >= -n) {
      if (out === d) out = d.slice();
      out[i] = v + n;
      continue;
    }
    throw new ArgumentError(`${op}: index ${v} is out of range for a dimension of size ${n} (indices shape ${fmtShape(index.shape)})`);
  }
  return out;
}

/** dtype a JS number takes next to a tensor of `dtype` (PyTorch: an int tensor times 0.5 is float). */
export function scalarDType(dtype: DType, v: number): DType {
  if (dtype === "bool") return Number.isInteger(v) ? "int32" : "float32";
  if (dtype === "int32" && !Number.isInteger(v)) return "float32";
  return dtype;
}

export function scalar(v: number, dtype: DType): Tensor {
  const t = Tensor.empty([], dtype);
  t.data[0] = v;
  return t;
}

/** The trailing options argument: an object (defaults fill in undefined); null or a number is a mistake worth naming. */
export function optionsOf<T>(op: string, opts: T): T {
  if (typeof opts !== "object" || opts === null) throw new ArgumentError(`${op}: options must be an object, got ${describe(opts)}`);
  return opts;
}

/** The `generator` option: the default generator when omitted. */
export function generatorOf(op: string, g: unknown): Generator {
  if (g === undefined) return defaultGenerator;
  if (!(g instanceof Generator)) throw new ArgumentError(`${op}: generator must be a Generator, got ${describe(g)}`);
  return g;
}
