/**
 * Functional gradients: `grad(fn)` returns a function computing d fn / d inputs without touching
 * any `.grad` field, and `gradcheck` compares backward against central finite differences.
 */
import { isFloat } from "../core/dtype.js";
import { ArgumentError, fmtShape } from "../core/errors.js";
import { runBackward, withGradMode, type BackwardOptions } from "./engine.js";
import { Tensor } from "./tensor.js";

/**
 * grad(fn)(...xs) = the gradients of the scalar fn(...xs) with respect to each x. Inputs are
 * detached copies that require grad, so the caller's tensors and graphs are left alone. With
 * `createGraph` the returned gradients are themselves differentiable (higher-order derivatives).
 */
export function grad(fn: (...xs: Tensor[]) => Tensor, opts: BackwardOptions = {}): (...xs: Tensor[]) => Tensor[] {
  return (...xs: Tensor[]): Tensor[] => {
    xs.forEach((x, i) => {
      if (!(x instanceof Tensor)) throw new ArgumentError(`grad: argument ${i} must be a Tensor`);
    });
    const inputs = xs.map((x) => {
      const t = opts.createGraph && x.requiresGrad ? x : new Tensor(x.data, x.shape, x.dtype);
      if (!t.requiresGrad) t.requiresGrad = true;
      return t;
    });
    const y = withGradMode(true, () => fn(...inputs));
    if (!(y instanceof Tensor)) throw new ArgumentError("grad: fn must return a Tensor");
    if (y.size !== 1) throw new ArgumentError(`grad: fn must return a one-element tensor, got shape ${fmtShape(y.shape)}`);
    // an input fn does not use has a zero gradient
    const gs = y.requiresGrad ? runBackward(y, null, opts, inputs)! : inputs.map(() => null);
    return gs.map((g, i) => g ?? Tensor.empty(inputs[i]!.shape, inputs[i]!.dtype));
  };
}

export interface GradcheckOptions {
  /** Finite-difference step. */
  eps?: number;
  atol?: number;
  rtol?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** Largest |analytic - numeric| over every input element. */
  maxAbsError: number;
  /** Where the worst element is: input index and flat element index. */
  worst: { input: number; index: number; analytic: number; numeric: number } | null;
}

/**
 * Compares the analytic gradient of sum(fn(...xs) * w), for a fixed random w, with central
 * differences. Use float64 inputs on the ts backend: float32 finite differences are too noisy to
 * catch small errors.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, xs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const probe = withGradMode(false, () => fn(...xs));
  // a fixed pseudo-random weighting makes every output element matter with a distinct factor
  const w = new Float64Array(probe.size);
  for (let i = 0; i < w.length; i++) w[i] = Math.sin(i * 12.9898 + 1.3) * 0.5 + 0.75;
  const objective = (...ys: Tensor[]): number => {
    const out = withGradMode(false, () => fn(...ys));
    let s = 0;
    for (let i = 0; i < out.size; i++) s += out.data[i]! * w[i]!;
    return s;
  };
  const seed = Tensor.empty(probe.shape, probe.dtype);
  seed.data.set(w);
  // non-float inputs (indices, masks) are constants: they cannot require grad or be perturbed
  const differentiable = xs.map((x) => isFloat(x.dtype));
  const inputs = xs.map((x, k) => {
    const t = new Tensor(x.data.slice(), x.shape, x.dtype);
    if (differentiable[k]) t.requiresGrad = true;
    return t;
  });
  const y = withGradMode(true, () => fn(...inputs));
  // an output that does not depend on any input has zero analytic gradients
  const analytic = y.requiresGrad ? runBackward(y, seed, {}, inputs)! : inputs.map(() => null);
  let maxAbsError = 0;
  let worst: GradcheckResult["worst"] = null;
  let ok = true;
  inputs.forEach((x, k) => {
    if (!differentiable[k]) return;
    const data = x.data;
    for (let i = 0; i < data.length; i++) {
      const orig = data[i]!;
      data[i] = orig + eps;
      const plus = objective(...inputs);
      data[i] = orig - eps;
      const minus = objective(...inputs);
      data[i] = orig;
      const numeric = (plus - minus) / (2 * eps);
      const a = analytic[k]?.data[i] ?? 0;
      const err = Math.abs(a - numeric);
      if (err > atol + rtol * Math.abs(numeric)) ok = false;
      if (err > maxAbsError || worst === null) {
        if (err >= maxAbsError) worst = { input: k, index: i, analytic: a, numeric };
        maxAbsError = Math.max(maxAbsError, err);
      }
    }
  });
  return { ok, maxAbsError, worst };
}
