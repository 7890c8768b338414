/** Small helpers shared by the nn layers. */
import { Tensor } from "../autograd/tensor.js";
import { allocate } from "../core/dtype.js";
import { ArgumentError } from "../core/errors.js";
import { sizeOf } from "../core/shape.js";

/** An uninitialised (zero-filled) float tensor for an initialiser to fill. */
export function empty(shape: readonly number[], dtype: "float32" | "float64"): Tensor {
  return new Tensor(allocate(dtype, sizeOf(shape)), [...shape], dtype);
}

/** Validates an integer size argument of a layer constructor. */
export function positiveInt(op: string, v: unknown, what: string, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min)
    throw new ArgumentError(`${op}: ${what} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}
