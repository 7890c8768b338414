import { ArgumentError, describe, fmtShape, ShapeError } from "./errors.js";

export type Shape = readonly number[];

/** Largest element count we accept; typed arrays cannot be larger anyway. */
export const MAX_SIZE = 2 ** 31 - 1;

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Validates a user-supplied or computed output shape: non-negative integers, each at most MAX_SIZE
 * even when another dimension is 0 (an empty [0, 2**40] tensor would still make ops loop over or
 * allocate along its huge axis), with at most MAX_SIZE elements. `context` is appended to the shape
 * in messages (e.g. which arguments produced it).
 */
export function checkShape(op: string, shape: unknown, context = ""): number[] {
  if (!Array.isArray(shape)) throw new ArgumentError(`${op}: shape must be an array of integers, got ${describe(shape)}`);
  const dims = shape as unknown[];
  let n = 1;
  for (const d of dims) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${op}: invalid shape ${fmtShape(shape)}${context}: dimensions must be non-negative integers`);
    }
    if (d > MAX_SIZE) throw new ShapeError(`${op}: shape ${fmtShape(shape)}${context} has a dimension of ${d}, more than ${MAX_SIZE}`);
    n *= d;
  }
  if (n > MAX_SIZE) throw new ShapeError(`${op}: shape ${fmtShape(shape)}${context} has ${n} elements, more than ${MAX_SIZE}`);
  return shape as number[];
}

/** NumPy broadcasting of two shapes, or null when they do not broadcast. */
export function tryBroadcastShapes(a: Shape, b: Shape): number[] | null {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** NumPy broadcasting of two shapes; the result must fit in MAX_SIZE elements. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const out = tryBroadcastShapes(a, b);
  if (out === null) throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together`);
  if (sizeOf(out) > MAX_SIZE) {
    throw new ShapeError(`${op}: broadcasting ${fmtShape(a)} and ${fmtShape(b)} gives ${fmtShape(out)}, more than ${MAX_SIZE} elements`);
  }
  return out;
}

/** Strides of `shape` when broadcast to `target` (0 on broadcast axes). */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const st = stridesOf(shape);
  const off = target.length - shape.length;
  const out = new Array<number>(target.length).fill(0);
  for (let i = 0; i < shape.length; i++) out[off + i] = shape[i] === 1 && target[off + i] !== 1 ? 0 : st[i]!;
  return out;
}

/** Resolves a possibly negative axis against `ndim` (a 0-d tensor accepts 0 and -1, like PyTorch). */
export function normAxis(op: string, axis: unknown, ndim: number): number {
  if (typeof axis !== "number") throw new ArgumentError(`${op}: axis must be an integer, got ${describe(axis)}`);
  if (!Number.isInteger(axis)) throw new ArgumentError(`${op}: axis ${axis} must be an integer`);
  const n = Math.max(ndim, 1);
  if (axis < -n || axis >= n) throw new ArgumentError(`${op}: axis ${axis} is out of range for a tensor with ${ndim} dimensions`);
  return axis < 0 ? axis + n : axis;
}

/** Resolves a list of axes (undefined = all), sorted and unique. */
export function normAxes(op: string, axes: unknown, ndim: number): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  if (typeof axes === "number") return [normAxis(op, axes, ndim)];
  if (!Array.isArray(axes)) throw new ArgumentError(`${op}: axes must be an integer or an array of integers, got ${describe(axes)}`);
  const list = axes as unknown[];
  const out = list.map((a) => normAxis(op, a, ndim));
  const sorted = [...new Set(out)].sort((x, y) => x - y);
  if (sorted.length !== out.length) throw new ArgumentError(`${op}: repeated axis in [${list.join(", ")}]`);
  return sorted;
}

/**
 * Packs an elementwise layout (see backend/kernels.ts) after merging adjacent axes that are
 * contiguous for every operand, so most calls reach the kernel as 1-D or 2-D loops.
 */
export function packLayout(shape: Shape, operandStrides: readonly (readonly number[])[]): Int32Array {
  const dims: number[] = [];
  const strides: number[][] = operandStrides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue; // size-1 axes never move the index
    const last = dims.length - 1;
    if (last >= 0 && operandStrides.every((s, k) => s[i]! * d === strides[k]![last])) {
      dims[last] = dims[last]! * d;
      operandStrides.forEach((s, k) => (strides[k]![last] = s[i]!));
    } else {
      dims.push(d);
      operandStrides.forEach((s, k) => strides[k]!.push(s[i]!));
    }
  }
  // Kernels always see ndim >= 1: a scalar is one element, an empty tensor a zero-length axis.
  if (dims.length === 0 || sizeOf(shape) === 0) {
    dims.length = 0;
    dims.push(sizeOf(shape));
    strides.forEach((s) => ((s.length = 0), s.push(0)));
  }
  const nd = dims.length;
  const out = new Int32Array(1 + nd * (1 + operandStrides.length));
  out[0] = nd;
  out.set(dims, 1);
  strides.forEach((s, k) => out.set(s, 1 + nd * (k + 1)));
  return out;
}
