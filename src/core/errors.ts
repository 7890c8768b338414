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

/** `[2, 3]` as text, for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
