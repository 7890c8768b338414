import { DTypeError, fmtValue } from "./errors.js";

/** float64 exists for gradient checks on the ts backend; bool is the result of comparisons. */
export type DType = "float32" | "float64" | "int32" | "bool";

export type DataFor<D extends DType> = D extends "float32"
  ? Float32Array
  : D extends "float64"
    ? Float64Array
    : D extends "int32"
      ? Int32Array
      : Uint8Array;

export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "bool"];

export function isFloat(dtype: DType): dtype is "float32" | "float64" {
  return dtype === "float32" || dtype === "float64";
}

export function allocate(dtype: DType, size: number): Float32Array | Float64Array | Int32Array | Uint8Array {
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "float64":
      return new Float64Array(size);
    case "int32":
      return new Int32Array(size);
    case "bool":
      return new Uint8Array(size);
    default:
      // unreachable for typed callers; a dtype that slipped past validation must not become `undefined` storage
      throw new DTypeError(`allocate: unknown dtype ${fmtValue(dtype)}`);
  }
}

/** True when `data` is the typed array that stores `dtype` (the Tensor constructor's check). */
export function storageMatches(data: unknown, dtype: DType): boolean {
  switch (dtype) {
    case "float32":
      return data instanceof Float32Array;
    case "float64":
      return data instanceof Float64Array;
    case "int32":
      return data instanceof Int32Array;
    case "bool":
      return data instanceof Uint8Array;
    default:
      return false;
  }
}

export function dtypeOf(data: ArrayLike<number>, op = "dtypeOf"): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint8Array) return "bool";
  throw new DTypeError(
    `${op}: unsupported array type ${Object.prototype.toString.call(data)} (expected Float32Array, Float64Array, Int32Array or Uint8Array)`,
  );
}

/** PyTorch-style promotion restricted to our dtypes: bool < int32 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  const rank: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };
  return rank[a] >= rank[b] ? a : b;
}

export function checkDType(op: string, value: unknown): DType {
  if (typeof value === "string" && (DTYPES as readonly string[]).includes(value)) return value as DType;
  throw new DTypeError(`${op}: unknown dtype ${fmtValue(value)} (expected one of ${DTYPES.join(", ")})`);
}
