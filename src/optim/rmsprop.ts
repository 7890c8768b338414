/** RMSprop as PyTorch defines it: eps is added outside the square root; optional momentum and centering. */
import { K } from "../backend/index.js";
import type { FloatArray, TypedArray } from "../backend/kernels.js";
import { checkBoolean, checkNumber, Optimizer, type ParamGroup, type ParamsInput, type ParamState } from "./optimizer.js";

export type RMSpropHyper = { lr: number; alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean };
export type RMSpropOptions = Partial<RMSpropHyper>;

export class RMSprop extends Optimizer<RMSpropHyper> {
  /** Defaults: lr 1e-2, alpha 0.99, eps 1e-8, weightDecay 0, momentum 0, centered false. */
  constructor(params: ParamsInput<RMSpropHyper>, options: RMSpropOptions = {}) {
    super("RMSprop", params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false }, options, [
      "squareAvg",
      "gradAvg",
      "momentumBuffer",
    ]);
  }

  protected validateGroup(g: RMSpropHyper): void {
    checkNumber(this.name, "lr", g.lr, { min: 0 });
    checkNumber(this.name, "alpha", g.alpha, { min: 0 });
    checkNumber(this.name, "eps", g.eps, { min: 0 });
    checkNumber(this.name, "weightDecay", g.weightDecay, { min: 0 });
    checkNumber(this.name, "momentum", g.momentum, { min: 0 });
    checkBoolean(this.name, "centered", g.centered);
  }

  protected update(p: FloatArray, g: TypedArray, group: ParamGroup<RMSpropHyper>, state: ParamState): void {
    const { lr, alpha, eps, weightDecay, momentum, centered } = group;
    const sq = this.buffer(state, "squareAvg", p);
    const avgG = centered ? this.buffer(state, "gradAvg", p) : null;
    const buf = momentum > 0 ? this.buffer(state, "momentumBuffer", p) : null;
    K.rmspropUpdate(p, g, sq, avgG, buf, lr, alpha, eps, weightDecay, momentum);
  }
}
