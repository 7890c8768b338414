/**
 * Every error Engram raises on bad input is an EngramError. Messages start with the op name and
 * show the shapes involved, e.g. `matmul: shapes [2, 3] and [4, 5] are not aligned (3 != 4)`.
 */
export class EngramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
export class ShapeError extends EngramError {}
export class DTypeError extends EngramError {}
export class ArgumentError extends EngramError {}
export class CheckpointError extends EngramError {}
export class BackendError extends EngramError {}

/**
 * `[2, 3]` as text, for error messages. Entries are converted one by one so that a bad shape (one
 * holding null, a string or a symbol) can still be shown in the message that rejects it.
 */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.map((d) => (typeof d === "number" ? String(d) : fmtValue(d))).join(", ")}]`;
}

/** A short description of any value, for "must be X, got Y" messages. */
export function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return "an array (wrap it with tensor())";
  if (typeof x === "object") return (x.constructor as { name?: string } | undefined)?.name ?? "object";
  if (typeof x === "function") return "a function";
  if (typeof x === "string") return `string ${JSON.stringify(x)}`;
  // only primitives are left, and each has its own toString
  return `${typeof x} ${(x as number | boolean | bigint | symbol).toString()}`;
}

/**
 * A value written as in code (strings quoted, arrays bracketed) for messages. Safe for any input:
 * JSON.stringify throws on BigInt and loops on cyclic arrays, so nesting is cut at two levels.
 */
export function fmtValue(x: unknown, depth = 0): string {
  if (typeof x === "string") return JSON.stringify(x);
  if (Array.isArray(x)) return depth >= 2 ? "[...]" : `[${(x as unknown[]).map((e) => fmtValue(e, depth + 1)).join(", ")}]`;
  if (typeof x === "number" || typeof x === "boolean" || typeof x === "bigint") return String(x);
  return describe(x);
}
