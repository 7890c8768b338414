/** Dropout as a module: active in training mode, the identity after eval(). */
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { dropout } from "../ops/nn.js";
import { Module } from "./module.js";

export class Dropout extends Module {
  readonly p: number;
  /** Masks are drawn from this generator (the default generator when absent). */
  generator: Generator | null;

  constructor(p = 0.5, opts: { generator?: Generator } = {}) {
    super();
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) throw new ArgumentError(`Dropout: p must be in [0, 1], got ${String(p)}`);
    this.p = p;
    this.generator = opts.generator ?? null;
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, ...(this.generator ? { generator: this.generator } : {}) });
  }
}
