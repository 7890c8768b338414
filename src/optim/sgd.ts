/** Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay (PyTorch's SGD). */
import { K } from "../backend/index.js";
import type { FloatArray, TypedArray } from "../backend/kernels.js";
import { ArgumentError } from "../core/errors.js";
import { checkBoolean, checkNumber, Optimizer, type ParamGroup, type ParamsInput, type ParamState } from "./optimizer.js";

export type SGDHyper = { lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number };
export type SGDOptions = Partial<SGDHyper> & { lr: number };

export class SGD extends Optimizer<SGDHyper> {
  /** `lr` is required, as in PyTorch; momentum, dampening and weightDecay default to 0. */
  constructor(params: ParamsInput<SGDHyper>, options: SGDOptions) {
    if (typeof options !== "object" || options === null) throw new ArgumentError("SGD: options with an lr are required");
    const lr = checkNumber("SGD", "lr", options.lr, { min: 0 });
    super("SGD", params, { lr, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 }, options, ["momentumBuffer"]);
  }

  protected validateGroup(g: SGDHyper): void {
    checkNumber(this.name, "lr", g.lr, { min: 0 });
    checkNumber(this.name, "momentum", g.momentum, { min: 0 });
    checkNumber(this.name, "dampening", g.dampening);
    checkNumber(this.name, "weightDecay", g.weightDecay, { min: 0 });
    if (checkBoolean(this.name, "nesterov", g.nesterov) && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new ArgumentError(
        `${this.name}: nesterov momentum requires momentum > 0 and dampening = 0, got momentum ${g.momentum}, dampening ${g.dampening}`,
      );
    }
  }

  protected update(p: FloatArray, g: TypedArray, group: ParamGroup<SGDHyper>, state: ParamState): void {
    const { lr, momentum, dampening, nesterov, weightDecay } = group;
    const fresh = !state.buffers.has("momentumBuffer");
    const buf = momentum === 0 ? null : this.buffer(state, "momentumBuffer", p);
    K.sgdUpdate(p, g, buf, lr, momentum, dampening, weightDecay, nesterov, fresh);
  }
}
