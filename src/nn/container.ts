/**
 * Containers. Both store their modules under integer keys (`list[0]`), so state-dict keys are
 * `0.weight`, `1.bias`, ... exactly as PyTorch's nn.Sequential / nn.ModuleList.
 */
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError } from "../core/errors.js";
import { Module, type TensorToTensor } from "./module.js";

/** An indexable list of modules; it has no forward of its own (calling it throws). */
export class ModuleList<T extends Module = Module> extends Module {
  readonly [index: number]: T;
  #length = 0;

  constructor(modules: Iterable<T> = []) {
    super();
    for (const m of modules) this.push(m);
  }

  get length(): number {
    return this.#length;
  }

  push(m: T): this {
    if (!(m instanceof Module)) throw new ArgumentError(`${this.constructor.name}: entry ${this.#length} must be a Module`);
    Object.defineProperty(this, this.#length, { value: m, enumerable: true, writable: false, configurable: false });
    this.#length++;
    return this;
  }

  at(i: number): T {
    const j = i < 0 ? i + this.#length : i;
    if (!Number.isInteger(j) || j < 0 || j >= this.#length)
      throw new ArgumentError(`${this.constructor.name}: index ${i} out of range for length ${this.#length}`);
    return this[j]!;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.#length; i++) yield this[i]!;
  }

  forward(..._args: never[]): unknown {
    throw new ArgumentError(`${this.constructor.name}: a ModuleList has no forward; iterate over it`);
  }
}

/** Applies its modules in order, each one's output feeding the next. */
export class Sequential extends ModuleList<Module & TensorToTensor> {
  constructor(...modules: (Module & TensorToTensor)[]) {
    super(modules);
  }

  override forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this) y = m.forward(y);
    return y;
  }
}
