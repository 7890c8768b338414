/** Adam (with optional AMSGrad) and AdamW (decoupled weight decay), following PyTorch's single-tensor updates. */
import { K } from "../backend/index.js";
import type { FloatArray, TypedArray } from "../backend/kernels.js";
import { ArgumentError } from "../core/errors.js";
import { checkBoolean, checkNumber, Optimizer, type ParamGroup, type ParamsInput, type ParamState } from "./optimizer.js";

export type AdamHyper = { lr: number; betas: readonly [number, number]; eps: number; weightDecay: number; amsgrad: boolean };
export type AdamOptions = Partial<AdamHyper>;

const BUFFERS = ["expAvg", "expAvgSq", "maxExpAvgSq"];

/** The shared Adam update; AdamW differs only in decoupling weight decay from the gradient. */
abstract class AdamBase extends Optimizer<AdamHyper> {
  protected constructor(
    name: string,
    private readonly decoupled: boolean,
    params: ParamsInput<AdamHyper>,
    weightDecay: number,
    options: AdamOptions,
  ) {
    super(name, params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay, amsgrad: false }, options, BUFFERS);
  }

  protected validateGroup(g: AdamHyper): void {
    validateAdam(this.name, g);
  }

  protected update(p: FloatArray, g: TypedArray, group: ParamGroup<AdamHyper>, state: ParamState): void {
    const [beta1, beta2] = group.betas;
    K.adamUpdate(
      p,
      g,
      this.buffer(state, "expAvg", p),
      this.buffer(state, "expAvgSq", p),
      group.amsgrad ? this.buffer(state, "maxExpAvgSq", p) : null,
      group.lr,
      beta1,
      beta2,
      group.eps,
      group.weightDecay,
      this.decoupled,
      1 - beta1 ** state.step,
      1 - beta2 ** state.step,
    );
  }
}

export class Adam extends AdamBase {
  /** Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0 (added to the gradient, L2 style). */
  constructor(params: ParamsInput<AdamHyper>, options: AdamOptions = {}) {
    super("Adam", false, params, 0, options);
  }
}

export class AdamW extends AdamBase {
  /** Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 1e-2 (applied to the weights as p *= 1 - lr * weightDecay). */
  constructor(params: ParamsInput<AdamHyper>, options: AdamOptions = {}) {
    super("AdamW", true, params, 1e-2, options);
  }
}

function validateAdam(op: string, g: AdamHyper): void {
  checkNumber(op, "lr", g.lr, { min: 0 });
  if (!Array.isArray(g.betas) || g.betas.length !== 2)
    throw new ArgumentError(`${op}: betas must be [beta1, beta2], got ${JSON.stringify(g.betas)}`);
  checkNumber(op, "betas[0]", g.betas[0], { min: 0, below: 1 });
  checkNumber(op, "betas[1]", g.betas[1], { min: 0, below: 1 });
  checkNumber(op, "eps", g.eps, { min: 0 });
  checkNumber(op, "weightDecay", g.weightDecay, { min: 0 });
  checkBoolean(op, "amsgrad", g.amsgrad);
}
