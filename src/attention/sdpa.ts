/**
 * Scaled dot-product attention, softmax(q k^T * scale) v. The output alone runs the fused op
 * (src/ops/attention.ts: one blocked kernel with an online softmax, masks and dropout computed in
 * place, O(T) memory beside the inputs). Asking for the weights takes the composite path (matmul
 * with transB, masked softmax, dropout, matmul): the weights are an (Lq, Lk) tensor anyway.
 */
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { shapesEqual, tryBroadcastShapes } from "../core/shape.js";
import { fusedAttention } from "../ops/attention.js";
import { logicalAnd, mul } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { dropout as dropoutOp, softmax } from "../ops/nn.js";
import { expand } from "../ops/shape.js";
import { assertNumber, assertTensor, optionsOf } from "../ops/util.js";
import { causalMask, type CausalAlignment } from "./masks.js";

const OP = "scaledDotProductAttention";

export interface SdpaOptions {
  /** Bool, true = attend, broadcastable to the scores (..., Lq, Lk). */
  mask?: Tensor;
  /** Adds a causal mask (ANDed with `mask` when both are given). */
  isCausal?: boolean;
  /** "start" (default): query i sees keys j <= i; "end": j <= i + Lk - Lq (KV-cache decoding). */
  causalAlignment?: CausalAlignment;
  /** Dropout probability on the attention weights, applied only when `training` (default 0). */
  dropout?: number;
  /** Multiplies q k^T; default 1/sqrt(E). */
  scale?: number;
  /** Also return the attention weights (after masking and dropout: the ones multiplied into v). */
  returnWeights?: boolean;
  generator?: Generator;
  /** Dropout is active only when true (default true, as PyTorch's functional form; modules pass their mode). */
  training?: boolean;
}

export interface SdpaResult {
  /** (..., Lq, Ev) */
  output: Tensor;
  /** (..., Lq, Lk), present when returnWeights was set. */
  weights?: Tensor;
}

/**
 * q (..., Lq, E), k (..., Lk, E), v (..., Lk, Ev); the leading (batch, head) axes broadcast. A
 * query row with no key left by the masks gets all-zero weights, output zeros and zero gradient.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: SdpaOptions = {}): SdpaResult {
  assertTensor(OP, q, "q");
  assertTensor(OP, k, "k");
  assertTensor(OP, v, "v");
  optionsOf(OP, opts);
  for (const [name, t] of [
    ["q", q],
    ["k", k],
    ["v", v],
  ] as const) {
    if (t.dtype !== "float32" && t.dtype !== "float64") throw new DTypeError(`${OP}: ${name} must be float32 or float64, got ${t.dtype}`);
    if (t.ndim < 2) throw new ShapeError(`${OP}: ${name} must have at least 2 dimensions (..., L, E), got ${fmtShape(t.shape)}`);
  }
  if (k.dtype !== q.dtype || v.dtype !== q.dtype)
    throw new DTypeError(`${OP}: q, k, v must share a dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}`);
  const [lq, e] = q.shape.slice(-2) as [number, number];
  const [lk, ek] = k.shape.slice(-2) as [number, number];
  if (ek !== e) throw new ShapeError(`${OP}: q ${fmtShape(q.shape)} and k ${fmtShape(k.shape)} must have the same feature size E`);
  if (v.shape[v.ndim - 2] !== lk)
    throw new ShapeError(`${OP}: k ${fmtShape(k.shape)} and v ${fmtShape(v.shape)} must have the same number of keys Lk`);
  const batchQK = tryBroadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2));
  if (batchQK === null || tryBroadcastShapes(batchQK, v.shape.slice(0, -2)) === null) {
    throw new ShapeError(
      `${OP}: batch dimensions of q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)} do not broadcast`,
    );
  }
  const scale = opts.scale === undefined ? 1 / Math.sqrt(e) : assertNumber(OP, opts.scale, "scale", { finite: true });
  const p = opts.dropout === undefined ? 0 : assertNumber(OP, opts.dropout, "dropout", { min: 0, max: 1 });
  if (p === 1) throw new ArgumentError(`${OP}: dropout must be < 1 (p = 1 would drop every weight)`);
  if (opts.isCausal !== undefined && typeof opts.isCausal !== "boolean")
    throw new ArgumentError(`${OP}: isCausal must be a boolean, got ${typeof opts.isCausal}`);
  const alignment = opts.causalAlignment ?? "start";
  if (alignment !== "start" && alignment !== "end")
    throw new ArgumentError(`${OP}: causalAlignment must be "start" or "end", got ${JSON.stringify(alignment)}`);

  let mask: Tensor | undefined;
  if (opts.mask !== undefined) {
    assertTensor(OP, opts.mask, "mask");
    if (opts.mask.dtype !== "bool")
      throw new DTypeError(`${OP}: mask must be bool (true = attend), got ${opts.mask.dtype}; additive float masks are not supported`);
    mask = opts.mask;
    const b = tryBroadcastShapes(mask.shape, [...batchQK, lq, lk]);
    if (b === null || b[b.length - 2] !== lq || b[b.length - 1] !== lk) {
      throw new ShapeError(
        `${OP}: mask of shape ${fmtShape(mask.shape)} does not broadcast to the scores ${fmtShape([...batchQK, lq, lk])} (..., Lq, Lk)`,
      );
    }
  }
  if (opts.returnWeights !== true) {
    const dropout = opts.training === false ? 0 : p;
    const output = fusedAttention(q, k, v, {
      scale,
      dropout,
      ...(mask ? { mask } : {}),
      ...(opts.isCausal === true ? { causal: alignment } : {}),
      ...(opts.generator ? { generator: opts.generator } : {}),
    });
    return { output };
  }
  if (opts.isCausal === true) {
    const c = causalMask(lq, lk, alignment);
    mask = mask === undefined ? c : logicalAnd(mask, c);
  }

  // q k^T without materialising k^T; the scale is applied to the (Lq, Lk) scores
  let scores = matmul(q, k, { transB: true });
  if (scale !== 1) scores = mul(scores, scale);
  if (mask !== undefined) {
    const b = tryBroadcastShapes(mask.shape, scores.shape);
    if (b === null) {
      throw new ShapeError(
        `${OP}: mask of shape ${fmtShape(mask.shape)} does not broadcast to the scores ${fmtShape(scores.shape)} (..., Lq, Lk)`,
      );
    }
    // a mask with more batch axes than q and k (e.g. per-head masks for shared heads) widens the scores
    if (!shapesEqual(b, scores.shape)) scores = expand(scores, b);
  }
  let weights = softmax(scores, -1, mask === undefined ? {} : { mask });
  if (p > 0 && opts.training !== false) weights = dropoutOp(weights, p, opts.generator === undefined ? {} : { generator: opts.generator });
  const output = matmul(weights, v);
  return opts.returnWeights === true ? { output, weights } : { output };
}
