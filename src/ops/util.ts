/** Argument checking and small helpers shared by every op. */
import { isFloat, type DType } from "../core/dtype.js";
import { ArgumentError, DTypeError, fmtShape } from "../core/errors.js";
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

export function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return "an array (wrap it with tensor())";
  if (typeof x === "object") return x.constructor?.name ?? "object";
  if (typeof x === "function") return "a function";
  // only primitives are left, and each has its own toString
  return `${typeof x} ${(x as string | number | boolean | bigint | symbol).toString()}`;
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

export function assertNumber(op: string, v: unknown, what: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number {
  if (typeof v !== "number" || Number.isNaN(v)) throw new ArgumentError(`${op}: ${what} must be a number, got ${describe(v)}`);
  if (opts.integer && !Number.isInteger(v)) throw new ArgumentError(`${op}: ${what} must be an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw new ArgumentError(`${op}: ${what} must be >= ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) throw new ArgumentError(`${op}: ${what} must be <= ${opts.max}, got ${v}`);
  return v;
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
