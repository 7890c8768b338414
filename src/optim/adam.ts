/** Adam (with optional AMSGrad) and AdamW (decoupled weight decay), following PyTorch's single-tensor updates. */
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
    adamStep(
      p,
      g,
      group,
      state,
      this.buffer(state, "expAvg", p),
      this.buffer(state, "expAvgSq", p),
      group.amsgrad ? this.buffer(state, "maxExpAvgSq", p) : null,
      this.decoupled,
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

/** One pass over the parameter: weight decay, both moments, bias-corrected step. */
function adamStep(
  p: FloatArray,
  g: TypedArray,
  group: AdamHyper,
  state: ParamState,
  m: FloatArray,
  v: FloatArray,
  vmax: FloatArray | null,
  decoupled: boolean,
): void {
  const { lr, eps, weightDecay: wd } = group;
  const [beta1, beta2] = group.betas;
  const stepSize = lr / (1 - beta1 ** state.step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** state.step);
  const l2 = decoupled ? 0 : wd;
  const decay = decoupled ? 1 - lr * wd : 1;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    if (decay !== 1) p[i] = p[i]! * decay;
    const gi = l2 !== 0 ? g[i]! + l2 * p[i]! : g[i]!;
    m[i] = m[i]! * beta1 + (1 - beta1) * gi;
    v[i] = v[i]! * beta2 + (1 - beta2) * gi * gi;
    let vi = v[i]!;
    if (vmax !== null) {
      // torch.maximum propagates NaN
      if (vi > vmax[i]! || vi !== vi) vmax[i] = vi;
      vi = vmax[i]!;
    }
    const denom = Math.sqrt(vi) / bc2Sqrt + eps;
    p[i] = p[i]! + -stepSize * (m[i]! / denom);
  }
}
