/**
 * Additive (Bahdanau) attention for encoder-decoder models (Bahdanau, Cho & Bengio 2015).
 *
 *   score(q, k_j) = v^T tanh(W q + U k_j)                              (plain)
 *   score(q, k_j) = g * (v / ||v||)^T tanh(W q + U k_j + b)            (normalize: TF's weight-normalised form)
 *   a = softmax_j(score) over the attended positions, context c = sum_j a_j value_j
 *
 * Shapes: query (B, Dq) for one decoder step or (B, T, Dq) for all steps at once; keys (B, S, Dk);
 * values (B, S, Dv). Returns context (B, Dv) / (B, T, Dv) and weights (B, S) / (B, T, S).
 * Masks are bool, true = attend: (B, S), or (B, T, S) with a 3-D query; `lengths` (one source length
 * per row) builds the same kind of mask. A row with no attended position gives zero weights and a
 * zero context (never NaN).
 *
 * State dict (own parameters first, then the projections, as PyTorch orders them): `v` (H); with
 * normalize also `g` (scalar, init sqrt(1/H) as in TF) and `b` (H, init 0); then `queryProj.weight`
 * (H, Dq) = W and `keyProj.weight` (H, Dk) = U. W and U have no bias, as in the paper.
 */
import { K } from "../backend/index.js";
import type { FloatArray } from "../backend/kernels.js";
import { isGradEnabled, needsGrad, record } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import type { Generator } from "../core/rng.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import { add, div, logicalAnd, lt, mul, square, sub, tanh } from "../ops/elementwise.js";
import { arange, tensor } from "../ops/creation.js";
import { matmul } from "../ops/linalg.js";
import { softmax } from "../ops/nn.js";
import { norm, sum } from "../ops/reduce.js";
import { reshape, squeeze, unsqueeze } from "../ops/shape.js";
import { Linear } from "../nn/linear.js";
import { constant, uniform, zeros } from "../nn/init.js";
import { floatDType, Module, param, type ParameterFloatOptions } from "../nn/module.js";
import { empty, positiveInt } from "../nn/util.js";

export interface AttentionForwardOptions {
  /** Bool, true = attend: (B, S), or (B, T, S) when the query is (B, T, Dq). */
  mask?: Tensor;
  /** Source length per batch row; positions >= lengths[b] are not attended. Combines with `mask`. */
  lengths?: readonly number[];
  /** Keys already passed through `projectKeys` (cache them across the steps of a decoder loop). */
  projectedKeys?: Tensor;
}

export interface AttentionResult {
  /** Context vectors: (B, Dv), or (B, T, Dv) for a 3-D query. */
  output: Tensor;
  /** Attention weights: (B, S), or (B, T, S) for a 3-D query. */
  weights: Tensor;
}

/** Checked shapes of one encoder-decoder attention call, with the query viewed as (B, T, Dq). */
export interface AttentionShapes {
  query3: Tensor;
  stepwise: boolean;
  batch: number;
  steps: number;
  srcLen: number;
}

/** Validates query/keys/values and views a (B, Dq) query as (B, 1, Dq). */
export function checkAttentionInputs(op: string, query: Tensor, keys: Tensor, values: Tensor, dq: number, dk: number): AttentionShapes {
  if (query.ndim !== 2 && query.ndim !== 3)
    throw new ShapeError(`${op}: query must be (B, Dq) or (B, T, Dq), got ${fmtShape(query.shape)}`);
  if (query.shape[query.ndim - 1] !== dq) throw new ShapeError(`${op}: query ${fmtShape(query.shape)} must end in queryDim = ${dq}`);
  const batch = query.shape[0]!;
  if (keys.ndim !== 3 || keys.shape[0] !== batch || keys.shape[2] !== dk) {
    throw new ShapeError(`${op}: keys must be (B = ${batch}, S, keyDim = ${dk}), got ${fmtShape(keys.shape)}`);
  }
  const srcLen = keys.shape[1]!;
  if (values.ndim !== 3 || values.shape[0] !== batch || values.shape[1] !== srcLen) {
    throw new ShapeError(`${op}: values must be (B = ${batch}, S = ${srcLen}, Dv), got ${fmtShape(values.shape)}`);
  }
  const stepwise = query.ndim === 2;
  const query3 = stepwise ? unsqueeze(query, 1) : query;
  return { query3, stepwise, batch, steps: query3.shape[1]!, srcLen };
}

/**
 * The bool mask (B, 1 or T, S) combining `mask` and `lengths`, or undefined when every position is
 * attended. Source-length masks are built here so callers never hand-roll them.
 */
export function attentionMask(op: string, s: AttentionShapes, opts: AttentionForwardOptions): Tensor | undefined {
  let m: Tensor | undefined;
  if (opts.mask !== undefined) {
    const mk = opts.mask;
    if (mk.dtype !== "bool") throw new ArgumentError(`${op}: mask must be bool (true = attend), got ${mk.dtype}`);
    if (mk.ndim === 2 && mk.shape[0] === s.batch && mk.shape[1] === s.srcLen) m = unsqueeze(mk, 1);
    else if (!s.stepwise && mk.ndim === 3 && mk.shape[0] === s.batch && mk.shape[1] === s.steps && mk.shape[2] === s.srcLen) m = mk;
    else {
      const want = s.stepwise ? `(${s.batch}, ${s.srcLen})` : `(${s.batch}, ${s.srcLen}) or (${s.batch}, ${s.steps}, ${s.srcLen})`;
      throw new ShapeError(`${op}: mask must be ${want}, got ${fmtShape(mk.shape)}`);
    }
  }
  if (opts.lengths !== undefined) {
    const lens = checkLengths(op, opts.lengths, s.batch, s.srcLen);
    const byLength = lt(
      reshape(arange(0, s.srcLen, 1, { dtype: "int32" }), [1, 1, s.srcLen]),
      tensor(lens, { dtype: "int32", shape: [s.batch, 1, 1] }),
    );
    m = m === undefined ? byLength : logicalAnd(m, byLength);
  }
  return m;
}

/** Validates per-row source lengths (integers in [0, S]) and returns them as an Int32Array. */
export function checkLengths(op: string, lengths: readonly number[], batch: number, srcLen: number): Int32Array {
  if (!Array.isArray(lengths) || lengths.length !== batch)
    throw new ArgumentError(`${op}: lengths must be an array of ${batch} source lengths`);
  const out = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    const n: unknown = lengths[i];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > srcLen)
      throw new ArgumentError(`${op}: lengths[${i}] must be an integer in [0, ${srcLen}], got ${String(n)}`);
    out[i] = n;
  }
  return out;
}

/** Masked softmax over the source axis and the weighted sum of values, squeezed back for a (B, Dq) query. */
export function attend(scores: Tensor, values: Tensor, mask: Tensor | undefined, s: AttentionShapes): AttentionResult {
  const weights = softmax(scores, -1, mask === undefined ? {} : { mask });
  return finish(weights, values, s);
}

/** Context = weights @ values, with the step axis dropped again for a 2-D query. */
export function finish(weights: Tensor, values: Tensor, s: AttentionShapes): AttentionResult {
  const output = matmul(weights, values);
  return s.stepwise ? { output: squeeze(output, 1), weights: squeeze(weights, 1) } : { output, weights };
}

/**
 * Additive attention scores v . tanh(q_t + k_s) for projected queries `q` (B, T, H), projected keys
 * `k` (B, S, H) and `v` (H): (B, T, S), one recorded node over one fused kernel each way
 * (K.additiveScores / K.additiveScoresGrad). tanh(q + k) (B, T, S, H) is never stored: the backward
 * recomputes it in the same pass that forms the gradients, which in a decoder loop (T = 1 per
 * step) spares a (B, S, H) buffer per step. Inputs are checked by the caller (AdditiveAttention.forward).
 */
export function additiveScores(q: Tensor, k: Tensor, v: Tensor): Tensor {
  const [batch, steps, hidden] = q.shape as [number, number, number];
  const srcLen = k.shape[1]!;
  const dtype = q.dtype as "float32" | "float64";
  const qd = q.data as FloatArray;
  const kd = k.data as FloatArray;
  const vd = v.data as FloatArray;
  const out = Tensor.empty([batch, steps, srcLen], dtype);
  K.additiveScores(qd, kd, vd, out.data as FloatArray, batch, steps, srcLen, hidden);
  if (!needsGrad(q, k, v)) return out;
  return record("additiveScores", out, [q, k, v], (g) => {
    if (isGradEnabled()) return additiveScoresGradComposite(q, k, v, g);
    // the kernel overwrites dq and adds into dk and dv, which start at zero
    const dq = q.requiresGrad ? Tensor.empty(q.shape, dtype) : null;
    const dk = k.requiresGrad ? Tensor.empty(k.shape, dtype) : null;
    const dv = v.requiresGrad ? Tensor.empty(v.shape, dtype) : null;
    const data = (t: Tensor | null): FloatArray | null => (t ? (t.data as FloatArray) : null);
    K.additiveScoresGrad(qd, kd, vd, g.data as FloatArray, data(dq), data(dk), data(dv), batch, steps, srcLen, hidden);
    return [dq, dk, dv];
  });
}

/** additiveScores' backward written with ops, for createGraph. */
function additiveScoresGradComposite(q: Tensor, k: Tensor, v: Tensor, g: Tensor): (Tensor | null)[] {
  const t = tanh(add(unsqueeze(q, 2), unsqueeze(k, 1))); // (B, T, S, H)
  const g4 = unsqueeze(g, -1);
  const dPre = mul(mul(g4, v), sub(1, square(t)));
  return [
    q.requiresGrad ? sum(dPre, 2) : null,
    k.requiresGrad ? sum(dPre, 1) : null,
    v.requiresGrad ? reshape(sum(reshape(mul(t, g4), [-1, v.shape[0]!]), 0), v.shape) : null,
  ];
}

export interface AdditiveAttentionOptions extends ParameterFloatOptions {
  /** Width H of the tanh layer (default queryDim). */
  hidden?: number;
  /** Weight-normalised score g * v/||v|| with a learned bias inside the tanh (default false). */
  normalize?: boolean;
  generator?: Generator;
}

export class AdditiveAttention extends Module {
  readonly queryDim: number;
  readonly keyDim: number;
  readonly hidden: number;
  readonly normalize: boolean;
  queryProj: Linear;
  keyProj: Linear;
  v: Tensor;
  g: Tensor | null;
  b: Tensor | null;

  constructor(queryDim: number, keyDim: number, opts: AdditiveAttentionOptions = {}) {
    super();
    this.queryDim = positiveInt("AdditiveAttention", queryDim, "queryDim", 1);
    this.keyDim = positiveInt("AdditiveAttention", keyDim, "keyDim", 1);
    this.hidden = positiveInt("AdditiveAttention", opts.hidden ?? queryDim, "hidden", 1);
    this.normalize = opts.normalize === true;
    const dtype = floatDType("AdditiveAttention", opts.dtype);
    const gen = opts.generator ? { generator: opts.generator } : {};
    const lin = { bias: false, dtype, ...gen };
    this.queryProj = new Linear(this.queryDim, this.hidden, lin);
    this.keyProj = new Linear(this.keyDim, this.hidden, lin);
    const k = 1 / Math.sqrt(this.hidden);
    this.v = param(uniform(empty([this.hidden], dtype), -k, k, gen));
    this.g = this.normalize ? param(constant(empty([], dtype), Math.sqrt(1 / this.hidden))) : null;
    this.b = this.normalize ? param(zeros(empty([this.hidden], dtype))) : null;
  }

  /** U k for every key: (B, S, Dk) -> (B, S, H). Independent of the query, so a decoder loop computes it once. */
  projectKeys(keys: Tensor): Tensor {
    if (keys.ndim !== 3 || keys.shape[2] !== this.keyDim) {
      throw new ShapeError(`AdditiveAttention: keys must be (B, S, keyDim = ${this.keyDim}), got ${fmtShape(keys.shape)}`);
    }
    return this.keyProj.forward(keys);
  }

  forward(query: Tensor, keys: Tensor, values: Tensor, opts: AttentionForwardOptions = {}): AttentionResult {
    const op = "AdditiveAttention";
    const s = checkAttentionInputs(op, query, keys, values, this.queryDim, this.keyDim);
    const uk = opts.projectedKeys ?? this.projectKeys(keys);
    if (uk.ndim !== 3 || uk.shape[0] !== s.batch || uk.shape[1] !== s.srcLen || uk.shape[2] !== this.hidden) {
      throw new ShapeError(`${op}: projectedKeys must be (${s.batch}, ${s.srcLen}, ${this.hidden}), got ${fmtShape(uk.shape)}`);
    }
    // every step against every key; the bias inside the tanh joins the query side
    let wq = this.queryProj.forward(s.query3); // (B, T, H)
    let v = this.v;
    if (this.g !== null && this.b !== null) {
      wq = add(wq, this.b);
      v = mul(this.g, div(this.v, norm(this.v)));
    }
    if (uk.dtype !== wq.dtype) throw new DTypeError(`${op}: projectedKeys dtype ${uk.dtype} differs from the query's ${wq.dtype}`);
    const scores = additiveScores(wq, uk, v);
    return attend(scores, values, attentionMask(op, s, opts), s);
  }
}
