/** Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay (PyTorch's SGD). */
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
    const { lr, momentum, dampening, nesterov, weightDecay: wd } = group;
    const n = p.length;
    if (momentum === 0) {
      for (let i = 0; i < n; i++) {
        const d = wd !== 0 ? g[i]! + wd * p[i]! : g[i]!;
        p[i] = p[i]! - lr * d;
      }
      return;
    }
    // PyTorch seeds the buffer with the first gradient itself (no dampening); on a zero buffer the
    // coefficients (0, 1) give exactly that without a per-element branch.
    const fresh = !state.buffers.has("momentumBuffer");
    const buf = this.buffer(state, "momentumBuffer", p);
    const keep = fresh ? 0 : momentum;
    const add = fresh ? 1 : 1 - dampening;
    for (let i = 0; i < n; i++) {
      const d = wd !== 0 ? g[i]! + wd * p[i]! : g[i]!;
      buf[i] = keep * buf[i]! + add * d;
      const b = buf[i]!;
      p[i] = p[i]! - lr * (nesterov ? d + momentum * b : b);
    }
  }
}
