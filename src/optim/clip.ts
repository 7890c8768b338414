/** Gradient clipping over a set of parameters, in place on their `.grad` (PyTorch's clip_grad_norm_ / clip_grad_value_). */
import { Tensor } from "../autograd/tensor.js";
import type { TypedArray } from "../backend/kernels.js";
import { ArgumentError } from "../core/errors.js";
import { checkNumber } from "./optimizer.js";

export interface ClipGradNormOptions {
  /** p of the norm: any positive number, or Infinity for the largest absolute entry. Default 2. */
  normType?: number;
  /** Throw instead of clipping when the total norm is NaN or infinite. Default false. */
  errorIfNonfinite?: boolean;
}

function gradsOf(op: string, params: Tensor | readonly Tensor[]): TypedArray[] {
  const list = params instanceof Tensor ? [params] : params;
  if (!Array.isArray(list)) throw new ArgumentError(`${op}: params must be a Tensor or an array of Tensors`);
  const out: TypedArray[] = [];
  for (const p of list) {
    if (!(p instanceof Tensor)) throw new ArgumentError(`${op}: params must be Tensors`);
    if (p.grad !== null) out.push(p.grad.data);
  }
  return out;
}

/**
 * Scales all gradients together so that their joint norm (as if concatenated into one vector) is
 * at most `maxNorm`, and returns that norm before clipping. The scale is maxNorm / (norm + 1e-6),
 * applied only when it is below 1. Parameters without a gradient are skipped.
 */
export function clipGradNorm(params: Tensor | readonly Tensor[], maxNorm: number, opts: ClipGradNormOptions = {}): number {
  const op = "clipGradNorm";
  checkNumber(op, "maxNorm", maxNorm, { min: 0 });
  const normType = opts.normType ?? 2;
  if (typeof normType !== "number" || !(normType > 0))
    throw new ArgumentError(`${op}: normType must be a positive number or Infinity, got ${String(normType)}`);
  const grads = gradsOf(op, params);
  let total = 0;
  if (normType === Infinity) {
    for (const g of grads) {
      for (let i = 0; i < g.length; i++) {
        const a = Math.abs(g[i]!);
        if (a > total || a !== a) total = a;
      }
    }
  } else if (normType === 2) {
    let sum = 0;
    for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
    total = Math.sqrt(sum);
  } else {
    let sum = 0;
    for (const g of grads) for (let i = 0; i < g.length; i++) sum += Math.abs(g[i]!) ** normType;
    total = sum ** (1 / normType);
  }
  if (opts.errorIfNonfinite && !Number.isFinite(total)) {
    throw new ArgumentError(`${op}: the total gradient norm of order ${normType} is ${total}, so it cannot be clipped`);
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
  return total;
}

/** Clamps every gradient entry to [-clipValue, clipValue] in place. */
export function clipGradValue(params: Tensor | readonly Tensor[], clipValue: number): void {
  const op = "clipGradValue";
  checkNumber(op, "clipValue", clipValue, { min: 0 });
  for (const g of gradsOf(op, params)) {
    for (let i = 0; i < g.length; i++) {
      const v = g[i]!;
      if (v > clipValue) g[i] = clipValue;
      else if (v < -clipValue) g[i] = -clipValue;
    }
  }
}
