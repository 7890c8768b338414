/**
 * Stochastic "hard" attention (Xu et al. 2015, Show, Attend and Tell, section 4.1): instead of the
 * expected context sum_j a_j v_j, one position is sampled from the attention distribution and its
 * value vector is the output. Sampling is not differentiable, so the attention parameters learn from
 * the REINFORCE (score-function) estimator.
 *
 *   a = the attention distribution over the S positions (a scorer's weights, or softmax of scores)
 *   "sample" (training):        s ~ Categorical(a),  z = v_s
 *   "argmax" (test, default):   s = argmax_j a_j,    z = v_s
 *   "expectation" (test):       z = sum_j a_j v_j    (soft attention; no sample)
 *   log p(s) = log a_s,  H(a) = -sum_j a_j log a_j  (0 log 0 = 0)
 *
 * REINFORCE surrogate for a per-example reward R (e.g. -loss), treated as a constant:
 *   L = mean_b [ -(R_b - b_b) sum_t log p(s_bt) - entropyCoef * sum_t H(a_bt) ]   (+ mean_b (b_b - R_b)^2, learned baseline)
 * Its gradient with respect to the attention parameters is an unbiased estimate of
 * -grad E_s[R] - entropyCoef * grad H for any baseline b that does not depend on the sample s.
 * Add L to the task loss: the task loss trains whatever consumes z by backprop (z = v_s is
 * differentiable in the values), L trains the attention. Baselines (they reduce variance):
 *   "moving-average" (default): b = bias-corrected moving average of the batch-mean reward,
 *      m_k = decay m_{k-1} + (1 - decay) mean(R_k), b = m / (1 - decay^k) (Xu et al.: decay 0.9);
 *      the value from earlier batches is used, then updated (in training mode only).
 *   "learned": b = w . x + c on a detached feature x (`baselineInputDim`), or a learned scalar c;
 *      trained by the MSE term in L (the advantage uses b detached).
 *   "none": b = 0.
 *
 * State dict (own entries before children's, as PyTorch): moving average: buffers `baseline`
 * (scalar m, float64) and `baselineSteps` (scalar k), then `scorer.*` (the wrapped score module);
 * learned scalar: `baselineBias`, then `scorer.*`; learned linear: `scorer.*`, then
 * `baselineProj.weight` (1, Din) and `baselineProj.bias` (1).
 */
import type { Tensor } from "../autograd/tensor.js";
import { noGrad } from "../autograd/engine.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { shapesEqual, tryBroadcastShapes } from "../core/shape.js";
import { full, zeros as zerosTensor } from "../ops/creation.js";
import { add, div, gt, log, mul, neg, square, sub, where } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { softmax } from "../ops/nn.js";
import { multinomial } from "../ops/random.js";
import { argmax, mean, sum } from "../ops/reduce.js";
import { gather, oneHot, reshape, squeeze, unsqueeze } from "../ops/shape.js";
import { assertNumber, assertTensor, optionsOf } from "../ops/util.js";
import { Linear } from "../nn/linear.js";
import { zeros } from "../nn/init.js";
import { floatDType, Module, param, type ParameterFloatOptions } from "../nn/module.js";
import { empty, positiveInt } from "../nn/util.js";
import type { AttentionForwardOptions } from "./additive.js";

export type HardMode = "sample" | "argmax" | "expectation";
export type BaselineKind = "moving-average" | "learned" | "none";

export interface HardAttentionResult {
  /** The selected value vectors (B[, T], Dv), or the expected context in "expectation" mode. */
  output: Tensor;
  /** The distribution a the positions are drawn from, (B[, T], S). */
  weights: Tensor;
  /** Selected positions, int32 (B[, T]); null in "expectation" mode. */
  samples: Tensor | null;
  /** log a_s of the selected positions (B[, T]), differentiable; null in "expectation" mode. */
  logProb: Tensor | null;
  /** H(a) per row (B[, T]), differentiable. */
  entropy: Tensor;
}

export interface HardAttendOptions {
  mode?: HardMode;
  generator?: Generator;
}

const OP = "HardAttention";

/**
 * Hard attention from a distribution `weights` (B[, T], S) (rows renormalised to sum to 1) over
 * values (B, S, Dv). A row with no weight left throws, since nothing can be selected from it.
 */
function hardAttend(op: string, weights: Tensor, values: Tensor, opts: HardAttendOptions = {}): HardAttentionResult {
  const mode = opts.mode ?? "sample";
  if (mode !== "sample" && mode !== "argmax" && mode !== "expectation")
    throw new ArgumentError(`${op}: mode must be "sample", "argmax" or "expectation", got ${JSON.stringify(mode)}`);
  if (weights.ndim !== 2 && weights.ndim !== 3)
    throw new ShapeError(`${op}: weights must be (B, S) or (B, T, S), got ${fmtShape(weights.shape)}`);
  const s = weights.shape[weights.ndim - 1]!;
  const batch = weights.shape[0]!;
  if (values.ndim !== 3 || values.shape[0] !== batch || values.shape[1] !== s)
    throw new ShapeError(
      `${op}: values must be (B, S, Dv) = (${batch}, ${s}, Dv) for weights ${fmtShape(weights.shape)}, got ${fmtShape(values.shape)}`,
    );
  const rows = weights.size / s;
  for (let r = 0; r < rows; r++) {
    let total = 0;
    for (let j = 0; j < s; j++) total += weights.data[r * s + j]!;
    if (!(total > 0) || !Number.isFinite(total))
      throw new ArgumentError(
        `${op}: row ${r} of the attention weights ${fmtShape(weights.shape)} has no attended position (sum ${total})`,
      );
  }
  const p = div(weights, sum(weights, -1, { keepDim: true }));
  // 0 log 0 = 0, with a finite gradient: log sees 1 where p = 0
  const entropy = neg(sum(mul(p, log(where(gt(p, 0), p, 1))), -1));
  const stepwise = p.ndim === 2;
  const p3 = stepwise ? unsqueeze(p, 1) : p; // (B, T, S)
  if (mode === "expectation") {
    const ctx = matmul(p3, values);
    return { output: stepwise ? squeeze(ctx, 1) : ctx, weights: p, samples: null, logProb: null, entropy };
  }
  const samples = noGrad(() =>
    mode === "argmax"
      ? argmax(p, -1)
      : reshape(multinomial(reshape(p, [rows, s]), 1, opts.generator ? { generator: opts.generator } : {}), p.shape.slice(0, -1)),
  );
  const logProb = squeeze(log(gather(p, -1, unsqueeze(samples, -1))), -1);
  const picked = matmul(
    oneHot(stepwise ? unsqueeze(samples, 1) : samples, s, { dtype: values.dtype === "float64" ? "float64" : "float32" }),
    values,
  );
  return { output: stepwise ? squeeze(picked, 1) : picked, weights: p, samples, logProb, entropy };
}

/**
 * Hard attention over raw scores (B[, T], S): a = softmax(scores) over the positions the bool mask
 * (broadcastable to the scores, true = attend) keeps. For score functions that are not modules.
 */
export function hardAttention(scores: Tensor, values: Tensor, opts: HardAttendOptions & { mask?: Tensor } = {}): HardAttentionResult {
  const op = "hardAttention";
  assertTensor(op, scores, "scores");
  assertTensor(op, values, "values");
  optionsOf(op, opts);
  if (scores.dtype !== "float32" && scores.dtype !== "float64")
    throw new DTypeError(`${op}: scores must be float32 or float64, got ${scores.dtype}`);
  if (opts.mask !== undefined) {
    assertTensor(op, opts.mask, "mask");
    // checked here so the error names this op, not the softmax inside it
    if (opts.mask.dtype !== "bool") throw new DTypeError(`${op}: mask must be bool (true = attend), got ${opts.mask.dtype}`);
    const joint = tryBroadcastShapes(opts.mask.shape, scores.shape);
    if (joint === null || !shapesEqual(joint, scores.shape))
      throw new ShapeError(`${op}: mask ${fmtShape(opts.mask.shape)} does not broadcast to the scores ${fmtShape(scores.shape)}`);
  }
  const weights = softmax(scores, -1, opts.mask === undefined ? {} : { mask: opts.mask });
  return hardAttend(op, weights, values, {
    ...(opts.mode ? { mode: opts.mode } : {}),
    ...(opts.generator ? { generator: opts.generator } : {}),
  });
}

export interface ReinforceTermOptions {
  /** Baseline b: a number or a tensor broadcastable to the reward (treated as a constant). Default 0. */
  baseline?: Tensor | number;
  /** Weight of the entropy bonus (default 0). */
  entropyCoef?: number;
}

/**
 * The REINFORCE surrogate mean_b[-(R - b) sum_t log p(s) - entropyCoef sum_t H] of a sampled result.
 * reward: (B) per example (shared by the T steps) or (B, T) per step; it and the baseline are detached.
 */
export function reinforceSurrogate(result: HardAttentionResult, reward: Tensor, opts: ReinforceTermOptions = {}): Tensor {
  const op = "reinforceSurrogate";
  optionsOf(op, opts);
  const { logProb, entropy } = checkReward(op, result, reward);
  const coef = assertNumber(op, opts.entropyCoef ?? 0, "entropyCoef", { finite: true });
  const b = opts.baseline ?? 0;
  const advantage = sub(reward.detach(), typeof b === "number" ? b : b.detach());
  return surrogate(logProb, entropy, advantage, coef);
}

function checkReward(op: string, result: HardAttentionResult, reward: Tensor): { logProb: Tensor; entropy: Tensor } {
  if (result === null || typeof result !== "object" || !("logProb" in result))
    throw new ArgumentError(`${op}: result must be a hard attention result`);
  const { logProb, entropy } = result;
  if (logProb === null)
    throw new ArgumentError(`${op}: the result has no sample (mode "expectation"); REINFORCE needs "sample" or "argmax"`);
  assertTensor(op, reward, "reward");
  if (reward.dtype !== "float32" && reward.dtype !== "float64")
    throw new DTypeError(`${op}: reward must be float32 or float64, got ${reward.dtype}`);
  const ok =
    (reward.ndim === 1 && reward.shape[0] === logProb.shape[0]) ||
    (reward.ndim === logProb.ndim && reward.shape.every((d, i) => d === logProb.shape[i]));
  if (!ok)
    throw new ShapeError(
      `${op}: reward must be (B) = (${logProb.shape[0]}) or match the samples ${fmtShape(logProb.shape)}, got ${fmtShape(reward.shape)}`,
    );
  return { logProb, entropy };
}

/** -(A) log p - coef H, summed over steps and averaged over the batch; A is (B) or (B, T). */
function surrogate(logProb: Tensor, entropy: Tensor, advantage: Tensor, coef: number): Tensor {
  const a = advantage.ndim < logProb.ndim ? unsqueeze(advantage, 1) : advantage;
  let perRow = neg(mul(a, logProb));
  if (coef !== 0) perRow = sub(perRow, mul(entropy, coef));
  return perRow.ndim === 1 ? mean(perRow) : mean(sum(perRow, -1));
}

/** A module that scores positions: anything whose forward returns attention weights (AdditiveAttention, LuongAttention). */
export type AttentionScorer = Module & {
  forward(query: Tensor, keys: Tensor, values: Tensor, opts?: AttentionForwardOptions): { weights: Tensor };
};

export interface HardAttentionOptions extends ParameterFloatOptions {
  /** Mode in eval(): "argmax" (default) or "expectation". Training mode samples. */
  testMode?: "argmax" | "expectation";
  /** Default "moving-average". */
  baseline?: BaselineKind;
  /** Moving-average decay (default 0.9, as Xu et al.). */
  baselineDecay?: number;
  /** Learned baseline: width of the feature vector passed to reinforce(); omitted = a learned scalar. */
  baselineInputDim?: number;
  /** Weight of the entropy bonus in the surrogate (default 0). */
  entropyCoef?: number;
  /** Generator for the samples (default: the global one). */
  generator?: Generator;
}

export interface HardAttentionForwardOptions extends AttentionForwardOptions {
  /** Overrides the mode picked by training / eval. */
  mode?: HardMode;
}

export interface ReinforceResult {
  /** The scalar to add to the task loss. */
  loss: Tensor;
  /** The baseline used, detached: (B) or (B, T) like the reward. */
  baseline: Tensor;
  /** R - b, detached. */
  advantage: Tensor;
}

export class HardAttention extends Module {
  readonly testMode: "argmax" | "expectation";
  readonly baselineKind: BaselineKind;
  readonly baselineDecay: number;
  readonly entropyCoef: number;
  readonly generator: Generator | undefined;
  scorer: AttentionScorer;
  baselineProj: Linear | null;
  baselineBias: Tensor | null;
  private readonly movingAverage: Tensor | null;
  private readonly movingSteps: Tensor | null;

  constructor(scorer: AttentionScorer, opts: HardAttentionOptions = {}) {
    super();
    optionsOf(OP, opts);
    if (!(scorer instanceof Module) || typeof scorer.forward !== "function")
      throw new ArgumentError(`${OP}: scorer must be an attention module whose forward returns { weights } (e.g. AdditiveAttention)`);
    this.scorer = scorer;
    this.testMode = opts.testMode ?? "argmax";
    if (this.testMode !== "argmax" && this.testMode !== "expectation")
      throw new ArgumentError(`${OP}: testMode must be "argmax" or "expectation", got ${JSON.stringify(opts.testMode)}`);
    this.baselineKind = opts.baseline ?? "moving-average";
    if (!["moving-average", "learned", "none"].includes(this.baselineKind))
      throw new ArgumentError(`${OP}: baseline must be "moving-average", "learned" or "none", got ${JSON.stringify(opts.baseline)}`);
    this.baselineDecay = assertNumber(OP, opts.baselineDecay ?? 0.9, "baselineDecay", { min: 0, max: 1 });
    if (this.baselineDecay === 1) throw new ArgumentError(`${OP}: baselineDecay must be < 1`);
    this.entropyCoef = assertNumber(OP, opts.entropyCoef ?? 0, "entropyCoef", { finite: true });
    this.generator = opts.generator;
    const dtype = floatDType(OP, opts.dtype);
    this.baselineProj = null;
    this.baselineBias = null;
    if (this.baselineKind === "learned") {
      if (opts.baselineInputDim === undefined) this.baselineBias = param(empty([], dtype));
      else {
        const din = positiveInt(OP, opts.baselineInputDim, "baselineInputDim", 1);
        this.baselineProj = new Linear(din, 1, { dtype, ...(opts.generator ? { generator: opts.generator } : {}) });
        zeros(this.baselineProj.weight);
        zeros(this.baselineProj.bias!);
      }
    } else if (opts.baselineInputDim !== undefined) {
      throw new ArgumentError(`${OP}: baselineInputDim needs baseline "learned", got ${JSON.stringify(this.baselineKind)}`);
    }
    this.movingAverage = null;
    this.movingSteps = null;
    if (this.baselineKind === "moving-average") {
      this.movingAverage = this.registerBuffer("baseline", zerosTensor([], { dtype: "float64" }));
      this.movingSteps = this.registerBuffer("baselineSteps", zerosTensor([], { dtype: "float64" }));
    }
  }

  /** query (B[, T], Dq), keys (B, S, Dk), values (B, S, Dv), masks as the scorer takes them. */
  forward(query: Tensor, keys: Tensor, values: Tensor, opts: HardAttentionForwardOptions = {}): HardAttentionResult {
    optionsOf(OP, opts);
    const { mode, ...scorerOpts } = opts;
    const m = mode ?? (this.training ? "sample" : this.testMode);
    const { weights } = this.scorer.forward(query, keys, values, scorerOpts);
    return hardAttend(OP, weights, values, { mode: m, ...(this.generator ? { generator: this.generator } : {}) });
  }

  /**
   * The REINFORCE surrogate (see the file comment) for `result` and reward R, (B) or (B, T); R is
   * detached. `baselineInput` (B[, T], Din) feeds a learned linear baseline (detached too). In
   * training mode the moving-average baseline is updated with mean(R) after it is used.
   */
  reinforce(result: HardAttentionResult, reward: Tensor, opts: { baselineInput?: Tensor } = {}): ReinforceResult {
    const op = `${OP}.reinforce`;
    optionsOf(op, opts);
    const { logProb, entropy } = checkReward(op, result, reward);
    const r = reward.detach();
    let baseline: Tensor;
    let fitted: Tensor | null = null; // the learned baseline with its graph, for the MSE term
    if (this.baselineKind === "learned") {
      if (this.baselineProj !== null) {
        if (opts.baselineInput === undefined) throw new ArgumentError(`${op}: the learned linear baseline needs opts.baselineInput`);
        const x = assertTensor(op, opts.baselineInput, "baselineInput");
        const din = this.baselineProj.inFeatures;
        if (x.ndim !== r.ndim + 1 || x.shape[x.ndim - 1] !== din || r.shape.some((d, i) => d !== x.shape[i]))
          throw new ShapeError(
            `${op}: baselineInput must be (${[...r.shape, din].join(", ")}) for reward ${fmtShape(r.shape)}, got ${fmtShape(x.shape)}`,
          );
        fitted = squeeze(this.baselineProj.forward(x.detach()), -1);
      } else {
        fitted = mul(full(r.shape, 1, { dtype: r.dtype }), this.baselineBias!);
      }
      baseline = fitted.detach();
    } else if (this.baselineKind === "moving-average") {
      const k = this.movingSteps!.data[0]!;
      const b = k === 0 ? 0 : this.movingAverage!.data[0]! / (1 - this.baselineDecay ** k);
      baseline = full(r.shape, b, { dtype: r.dtype });
      if (this.training) {
        let total = 0;
        for (const v of r.data) total += v;
        const d = this.baselineDecay;
        this.movingAverage!.data[0] = d * this.movingAverage!.data[0]! + (1 - d) * (total / r.size);
        this.movingSteps!.data[0] = k + 1;
      }
    } else {
      baseline = full(r.shape, 0, { dtype: r.dtype });
    }
    const advantage = sub(r, baseline);
    let loss = surrogate(logProb, entropy, advantage, this.entropyCoef);
    if (fitted !== null) loss = add(loss, mean(square(sub(fitted, r))));
    return { loss, baseline, advantage };
  }
}
