/** Adagrad with learning-rate decay and an initial accumulator value (PyTorch's Adagrad). */
import { K } from "../backend/index.js";
import type { FloatArray, TypedArray } from "../backend/kernels.js";
import { checkNumber, Optimizer, type ParamGroup, type ParamsInput, type ParamState } from "./optimizer.js";

export type AdagradHyper = { lr: number; lrDecay: number; weightDecay: number; initialAccumulatorValue: number; eps: number };
export type AdagradOptions = Partial<AdagradHyper>;

export class Adagrad extends Optimizer<AdagradHyper> {
  /** Defaults: lr 1e-2, lrDecay 0, weightDecay 0, initialAccumulatorValue 0, eps 1e-10. */
  constructor(params: ParamsInput<AdagradHyper>, options: AdagradOptions = {}) {
    super("Adagrad", params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 }, options, ["sum"]);
  }

  protected validateGroup(g: AdagradHyper): void {
    checkNumber(this.name, "lr", g.lr, { min: 0 });
    checkNumber(this.name, "lrDecay", g.lrDecay, { min: 0 });
    checkNumber(this.name, "weightDecay", g.weightDecay, { min: 0 });
    checkNumber(this.name, "initialAccumulatorValue", g.initialAccumulatorValue, { min: 0 });
    checkNumber(this.name, "eps", g.eps, { min: 0 });
  }

  protected update(p: FloatArray, g: TypedArray, group: ParamGroup<AdagradHyper>, state: ParamState): void {
    const sum = this.buffer(state, "sum", p, group.initialAccumulatorValue);
    K.adagradUpdate(p, g, sum, group.lr, group.lrDecay, group.weightDecay, group.eps, state.step);
  }
}
