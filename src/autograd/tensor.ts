/**
 * The Tensor data class: a contiguous row-major typed array, its shape and dtype, and the autograd
 * fields. It holds no math; ops (src/ops) create tensors and src/tensor installs the method facade
 * (x.add(y), x.matmul(w), ...) on this class's prototype.
 */
import type { TypedArray } from "../backend/kernels.js";
import { allocate, type DType } from "../core/dtype.js";
import { ArgumentError, DTypeError, EngramError } from "../core/errors.js";
import { sizeOf, type Shape } from "../core/shape.js";

/** One recorded op: its inputs and how to turn the output gradient into input gradients. */
export interface GradFn {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /** Returns one gradient per input (null where the input needs none). */
  backward: ((grad: Tensor) => readonly (Tensor | null)[]) | null;
}

export type NestedArray = number | boolean | NestedArray[];

let nextId = 1;

export class Tensor {
  /** Unique id, stable for the tensor's lifetime (useful as a Map key in debugging tools). */
  readonly id = nextId++;
  /** Flat storage. `reshape` shares it; every other op returns fresh storage. */
  data: TypedArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
  grad: Tensor | null = null;
  gradFn: GradFn | null = null;
  /** Keep `.grad` on a non-leaf tensor after backward. */
  retainsGrad = false;
  private _requiresGrad = false;
  private _disposed = false;

  constructor(data: TypedArray, shape: Shape, dtype: DType) {
    this.data = data;
    this.shape = shape;
    this.dtype = dtype;
    for (const hook of creationHooks) hook(this);
  }

  static empty(shape: Shape, dtype: DType): Tensor {
    return new Tensor(allocate(dtype, sizeOf(shape)), shape, dtype);
  }

  get size(): number {
    return this.data.length;
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
    this.data = allocate(this.dtype, 0);
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
