/**
 * The Tensor data class: a contiguous row-major typed array, its shape and dtype, and the autograd
 * fields. It holds no math; ops (src/ops) create tensors and src/tensor installs the method facade
 * (x.add(y), x.matmul(w), ...) on this class's prototype.
 */
import type { TypedArray } from "../backend/kernels.js";
import { allocate, DTYPES, storageMatches, type DType } from "../core/dtype.js";
import { ArgumentError, describe, DTypeError, EngramError, fmtShape, fmtValue, ShapeError } from "../core/errors.js";
import { MAX_SIZE, sizeOf, type Shape } from "../core/shape.js";

/** One recorded op: its inputs and how to turn the output gradient into input gradients. */
export interface GradFn {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /** Returns one gradient per input (null where the input needs none). */
  backward: ((grad: Tensor) => readonly (Tensor | null)[]) | null;
}

export type NestedArray = number | boolean | NestedArray[];

let nextId = 1;

/**
 * Set by Tensor.empty right before it calls the constructor: storage it allocated itself from a
 * shape its caller validated needs no second check. The constructor clears it first thing, and
 * nothing that can throw runs between the two, so the flag never leaks to another call.
 */
let trustedStorage = false;

/**
 * The constructor's guard: kernels (native ones above all) index `data` by `shape`, so storage that
 * is shorter than the shape, or of another element type, must never reach them. A few comparisons
 * per dimension; ops validate their arguments with full messages before they get here.
 */
function checkStorage(op: string, data: unknown, shape: unknown, dtype: unknown): void {
  if (!(DTYPES as readonly unknown[]).includes(dtype)) {
    throw new DTypeError(`${op}: unknown dtype ${fmtValue(dtype)} (expected one of ${DTYPES.join(", ")})`);
  }
  if (!storageMatches(data, dtype as DType))
    throw new DTypeError(`${op}: ${dtype as DType} storage must be a typed array of that type, got ${describe(data)}`);
  if (!Array.isArray(shape)) throw new ShapeError(`${op}: shape must be an array of integers, got ${describe(shape)}`);
  const dims = shape as unknown[];
  let n = 1;
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i] as number;
    // (d | 0) === d: a number, an integer and below 2**31; with d >= 0, within [0, MAX_SIZE]
    if ((d | 0) !== d || d < 0)
      throw new ShapeError(`${op}: invalid shape ${fmtShape(shape)}: dimensions must be integers in [0, ${MAX_SIZE}]`);
    n *= d;
  }
  const length = (data as TypedArray).length;
  if (n !== length) throw new ShapeError(`${op}: storage holds ${length} elements, shape ${fmtShape(shape)} needs ${n}`);
}

export class Tensor {
  /** Unique id, stable for the tensor's lifetime (useful as a Map key in debugging tools). */
  readonly id = nextId++;
  private _data: TypedArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
  grad: Tensor | null = null;
  gradFn: GradFn | null = null;
  /** Keep `.grad` on a non-leaf tensor after backward. */
  retainsGrad = false;
  private _requiresGrad = false;
  private _disposed = false;

  /** Wraps `data` (not copied) as a tensor of `shape`; the storage must hold exactly sizeOf(shape) elements of `dtype`. */
  constructor(data: TypedArray, shape: Shape, dtype: DType) {
    if (trustedStorage) trustedStorage = false;
    else checkStorage("Tensor", data, shape, dtype);
    this._data = data;
    this.shape = shape;
    this.dtype = dtype;
    for (const hook of creationHooks) hook(this);
  }

  /** Zero-filled storage for a shape the caller has validated (ops call this for every output). */
  static empty(shape: Shape, dtype: DType): Tensor {
    const size = sizeOf(shape);
    // a last line of defence: an op that forgot to check its output size gets an EngramError, not a RangeError
    if (!(size >= 0 && size <= MAX_SIZE))
      throw new ShapeError(`Tensor.empty: shape ${fmtShape(shape)} has ${size} elements, expected 0 to ${MAX_SIZE}`);
    const data = allocate(dtype, size);
    trustedStorage = true;
    return new Tensor(data, shape, dtype);
  }

  /**
   * Flat storage. `reshape` shares it; every other op returns fresh storage. Elements may be
   * written in place; assigning a new array is checked like the constructor's argument.
   */
  get data(): TypedArray {
    return this._data;
  }
  set data(value: TypedArray) {
    this.assertAlive("data");
    checkStorage("data", value, this.shape, this.dtype);
    this._data = value;
  }

  get size(): number {
    return this._data.length;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get disposed(): boolean {
    return this._disposed;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(value: boolean) {
    if (value && this.dtype !== "float32" && this.dtype !== "float64") {
      throw new DTypeError(`requiresGrad: only float tensors can require gradients, got ${this.dtype}`);
    }
    if (!value && this.gradFn) throw new ArgumentError("requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach()");
    this._requiresGrad = value;
  }

  /** Internal: marks an op output as part of the graph. */
  setGradFn(fn: GradFn): void {
    this.gradFn = fn;
    this._requiresGrad = true;
  }

  retainGrad(): this {
    if (!this._requiresGrad) throw new ArgumentError("retainGrad: tensor does not require grad");
    this.retainsGrad = true;
    return this;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    this.assertAlive("item");
    if (this.size !== 1) throw new ArgumentError(`item: tensor of shape [${this.shape.join(", ")}] has ${this.size} elements, expected 1`);
    return this.data[0]!;
  }

  /** Nested JS arrays (booleans for bool tensors). */
  toArray(): NestedArray {
    this.assertAlive("toArray");
    const data = this.data;
    const isBool = this.dtype === "bool";
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return isBool ? data[offset] !== 0 : data[offset]!;
      const n = this.shape[dim]!;
      let step = 1;
      for (let d = dim + 1; d < this.shape.length; d++) step *= this.shape[d]!;
      const out: NestedArray[] = new Array<NestedArray>(n);
      for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * step);
      return out;
    };
    return build(0, 0);
  }

  /** Releases the storage now instead of waiting for garbage collection. Using the tensor afterwards throws. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._data = allocate(this.dtype, 0);
    this.grad = null;
    this.gradFn = null;
  }

  assertAlive(op: string): void {
    if (this._disposed) throw new EngramError(`${op}: tensor ${this.id} of shape [${this.shape.join(", ")}] was disposed`);
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(", ")}], dtype=${this.dtype}${this._requiresGrad ? ", requiresGrad" : ""})`;
  }
}

/** Observers of tensor creation (used by `scope()` to find the tensors a block made). */
export const creationHooks: ((t: Tensor) => void)[] = [];
