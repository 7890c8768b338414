/** Adagrad with learning-rate decay and an initial accumulator value (PyTorch's Adagrad). */
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
    const { lr, lrDecay, weightDecay: wd, eps } = group;
    const clr = lr / (1 + (state.step - 1) * lrDecay);
    const sum = this.buffer(state, "sum", p, group.initialAccumulatorValue);
    const n = p.length;
    for (let i = 0; i < n; i++) {
      const gi = wd !== 0 ? g[i]! + wd * p[i]! : g[i]!;
      sum[i] = sum[i]! + gi * gi;
      p[i] = p[i]! + -clr * (gi / (Math.sqrt(sum[i]!) + eps));
    }
  }
}
