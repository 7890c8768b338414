/**
 * Multiplicative / concat (Luong) attention for encoder-decoder models (Luong, Pham & Manning 2015).
 *
 * Scores of a decoder state q against encoder states k_s:
 *   "dot"      score = q . k_s                        (queryDim must equal keyDim)
 *   "general"  score = q^T W_a k_s                    (W_a: keyDim -> queryDim)
 *   "concat"   score = v_a^T tanh(W_a [q; k_s])       (W_a: queryDim + keyDim -> hidden; split so keys project once)
 * Modes:
 *   "global"   a = softmax_s(score) over attended positions
 *   "local-p"  p_t = S_i * sigmoid(v_p^T tanh(W_p q)) in [0, S_i] (S_i = lengths[i] when given, else S),
 *              a_s = softmax over the window |s - p_t| <= D (intersected with the mask) of score,
 *              times exp(-(s - p_t)^2 / (2 (D/2)^2)); outside the window a_s = 0. As in the paper the
 *              Gaussian factor is not renormalised, so local-p weights sum to at most 1. The window is
 *              a hard (non-differentiable) cut; p_t learns through the Gaussian factor.
 * Context c = sum_s a_s value_s. Shapes, masks and the empty-row rule are those of AdditiveAttention:
 * query (B, Dq) or (B, T, Dq), keys (B, S, Dk), values (B, S, Dv) -> context (B[, T], Dv), weights (B[, T], S).
 *
 * State dict (own vectors first, then the projections): `va` (H) for "concat", `vp` (Hp) for "local-p",
 * then `wa.weight` ((Dq, Dk) for "general", (H, Dq + Dk) for "concat") and `wp.weight` (Hp, Dq) for
 * "local-p"; "dot" global has no parameters. No biases, as in the paper.
 *
 * AttentionalHidden is the paper's output layer h~_t = tanh(W_c [c_t; h_t]); state dict `wc.weight` (out, Dv + Dq).
 */
import type { Tensor } from "../autograd/tensor.js";
import type { Generator } from "../core/rng.js";
import { ArgumentError, fmtShape, ShapeError } from "../core/errors.js";
import { abs, add, div, exp, le, logicalAnd, mul, neg, sigmoid, square, sub, tanh } from "../ops/elementwise.js";
import { arange, tensor } from "../ops/creation.js";
import { matmul } from "../ops/linalg.js";
import { softmax } from "../ops/nn.js";
import { concat, narrow, reshape, squeeze, unsqueeze } from "../ops/shape.js";
import { Linear } from "../nn/linear.js";
import { uniform } from "../nn/init.js";
import { floatDType, Module, param, type ParameterFloatOptions } from "../nn/module.js";
import { empty, positiveInt } from "../nn/util.js";
import {
  attend,
  attentionMask,
  checkAttentionInputs,
  checkLengths,
  finish,
  type AttentionForwardOptions,
  type AttentionResult,
  type AttentionShapes,
} from "./additive.js";

export type LuongScore = "dot" | "general" | "concat";
export type LuongMode = "global" | "local-p";

export interface LuongAttentionOptions extends ParameterFloatOptions {
  /** Score function (default "general"). */
  score?: LuongScore;
  /** "global" (default) or "local-p" (predicted position with a Gaussian-weighted window). */
  mode?: LuongMode;
  /** Half-width D of the local-p window (> 0, default 10 as in the paper); the Gaussian's sigma is D / 2. */
  window?: number;
  /** Width of the concat score's tanh layer (default queryDim). */
  hidden?: number;
  /** Width of the local-p position predictor W_p (default queryDim). */
  positionHidden?: number;
  generator?: Generator;
}

export interface LuongResult extends AttentionResult {
  /** local-p only: the predicted aligned positions p_t, (B) or (B, T); null in global mode. */
  positions: Tensor | null;
}

const OP = "LuongAttention";

export class LuongAttention extends Module {
  readonly queryDim: number;
  readonly keyDim: number;
  readonly score: LuongScore;
  readonly mode: LuongMode;
  readonly window: number;
  wa: Linear | null;
  va: Tensor | null;
  wp: Linear | null;
  vp: Tensor | null;

  constructor(queryDim: number, keyDim: number, opts: LuongAttentionOptions = {}) {
    super();
    this.queryDim = positiveInt(OP, queryDim, "queryDim", 1);
    this.keyDim = positiveInt(OP, keyDim, "keyDim", 1);
    this.score = opts.score ?? "general";
    this.mode = opts.mode ?? "global";
    if (!["dot", "general", "concat"].includes(this.score))
      throw new ArgumentError(`${OP}: score must be "dot", "general" or "concat", got ${String(this.score)}`);
    if (this.mode !== "global" && this.mode !== "local-p")
      throw new ArgumentError(`${OP}: mode must be "global" or "local-p", got ${String(this.mode)}`);
    if (this.score === "dot" && queryDim !== keyDim)
      throw new ArgumentError(`${OP}: score "dot" needs queryDim === keyDim, got ${queryDim} and ${keyDim}`);
    this.window = opts.window ?? 10;
    if (typeof this.window !== "number" || !Number.isFinite(this.window) || !(this.window > 0)) {
      throw new ArgumentError(`${OP}: window must be a finite number > 0, got ${String(opts.window)}`);
    }
    const dtype = floatDType(OP, opts.dtype);
    const gen = opts.generator ? { generator: opts.generator } : {};
    const lin = { bias: false, dtype, ...gen };
    const vector = (n: number): Tensor => param(uniform(empty([n], dtype), -1 / Math.sqrt(n), 1 / Math.sqrt(n), gen));
    this.wa = null;
    this.va = null;
    if (this.score === "general") this.wa = new Linear(keyDim, queryDim, lin);
    if (this.score === "concat") {
      const h = positiveInt(OP, opts.hidden ?? queryDim, "hidden", 1);
      this.wa = new Linear(queryDim + keyDim, h, lin);
      this.va = vector(h);
    }
    this.wp = null;
    this.vp = null;
    if (this.mode === "local-p") {
      const hp = positiveInt(OP, opts.positionHidden ?? queryDim, "positionHidden", 1);
      this.wp = new Linear(queryDim, hp, lin);
      this.vp = vector(hp);
    }
  }

  /**
   * The query-independent half of the score, (B, S, Dk) -> (B, S, *): the keys themselves for "dot",
   * W_a k for "general", the key columns of W_a times k for "concat". Cache it across decoder steps.
   */
  projectKeys(keys: Tensor): Tensor {
    if (keys.ndim !== 3 || keys.shape[2] !== this.keyDim) {
      throw new ShapeError(`${OP}: keys must be (B, S, keyDim = ${this.keyDim}), got ${fmtShape(keys.shape)}`);
    }
    if (this.wa === null) return keys;
    if (this.score === "general") return this.wa.forward(keys);
    return matmul(keys, narrow(this.wa.weight, 1, this.queryDim, this.keyDim), { transB: true });
  }

  forward(query: Tensor, keys: Tensor, values: Tensor, opts: AttentionForwardOptions = {}): LuongResult {
    const s = checkAttentionInputs(OP, query, keys, values, this.queryDim, this.keyDim);
    const pk = opts.projectedKeys ?? this.projectKeys(keys);
    const width = this.score === "general" ? this.queryDim : this.score === "concat" ? this.va!.shape[0]! : this.keyDim;
    if (pk.ndim !== 3 || pk.shape[0] !== s.batch || pk.shape[1] !== s.srcLen || pk.shape[2] !== width) {
      throw new ShapeError(`${OP}: projectedKeys must be (${s.batch}, ${s.srcLen}, ${width}), got ${fmtShape(pk.shape)}`);
    }
    const scores = this.scores(s.query3, pk);
    const mask = attentionMask(OP, s, opts);
    if (this.mode === "global") return { ...attend(scores, values, mask, s), positions: null };
    return this.local(s, scores, values, mask, opts.lengths);
  }

  /** (B, T, Dq) x (B, S, *) -> (B, T, S) raw scores. */
  private scores(q: Tensor, pk: Tensor): Tensor {
    if (this.score !== "concat") return matmul(q, pk, { transB: true });
    const wq = narrow(this.wa!.weight, 1, 0, this.queryDim);
    const pre = add(unsqueeze(matmul(q, wq, { transB: true }), 2), unsqueeze(pk, 1)); // (B, T, S, H)
    return matmul(tanh(pre), this.va!);
  }

  private local(
    s: AttentionShapes,
    scores: Tensor,
    values: Tensor,
    mask: Tensor | undefined,
    lengths: readonly number[] | undefined,
  ): LuongResult {
    const dtype = scores.dtype;
    const lens =
      lengths === undefined ? new Array<number>(s.batch).fill(s.srcLen) : Array.from(checkLengths(OP, lengths, s.batch, s.srcLen));
    const srcLens = tensor(lens, { dtype, shape: [s.batch, 1] });
    const p = mul(srcLens, sigmoid(matmul(tanh(this.wp!.forward(s.query3)), this.vp!))); // (B, T)
    const offset = sub(reshape(arange(0, s.srcLen, 1, { dtype }), [1, 1, s.srcLen]), unsqueeze(p, 2)); // s - p_t, (B, T, S)
    const inWindow = le(abs(offset), this.window);
    const keep = mask === undefined ? inWindow : logicalAnd(inWindow, mask);
    const sigma = this.window / 2;
    const gauss = exp(div(neg(square(offset)), 2 * sigma * sigma));
    const weights = mul(softmax(scores, -1, { mask: keep }), gauss);
    return { ...finish(weights, values, s), positions: s.stepwise ? squeeze(p, 1) : p };
  }
}

/** Luong's attentional hidden state h~ = tanh(W_c [c; h]), the input to the output softmax and (input feeding) the next step. */
export class AttentionalHidden extends Module {
  readonly contextDim: number;
  readonly hiddenDim: number;
  wc: Linear;

  constructor(contextDim: number, hiddenDim: number, outDim = hiddenDim, opts: ParameterFloatOptions & { generator?: Generator } = {}) {
    super();
    this.contextDim = positiveInt("AttentionalHidden", contextDim, "contextDim", 1);
    this.hiddenDim = positiveInt("AttentionalHidden", hiddenDim, "hiddenDim", 1);
    const dtype = floatDType("AttentionalHidden", opts.dtype);
    this.wc = new Linear(contextDim + hiddenDim, positiveInt("AttentionalHidden", outDim, "outDim", 1), {
      bias: false,
      dtype,
      ...(opts.generator ? { generator: opts.generator } : {}),
    });
  }

  /** context (..., Dv) and decoder state (..., Dq) with equal leading axes -> (..., out). */
  forward(context: Tensor, hidden: Tensor): Tensor {
    const lead = context.shape.slice(0, -1);
    if (
      context.ndim === 0 ||
      hidden.ndim !== context.ndim ||
      context.shape[context.ndim - 1] !== this.contextDim ||
      hidden.shape[hidden.ndim - 1] !== this.hiddenDim ||
      lead.some((d, i) => d !== hidden.shape[i])
    ) {
      throw new ShapeError(
        `AttentionalHidden: context ${fmtShape(context.shape)} and hidden ${fmtShape(hidden.shape)} must be (..., ${this.contextDim}) and (..., ${this.hiddenDim}) with equal leading axes`,
      );
    }
    return tanh(this.wc.forward(concat([context, hidden], -1)));
  }
}
