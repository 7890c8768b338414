/**
 * The fused scaled-dot-product attention op: one kernel for the forward (blocked, online softmax),
 * one for the backward (probabilities recomputed blockwise from the saved log-sum-exp). It saves
 * q, k, v, the output and one log-sum-exp per query row: O(B H T) beside the inputs, never a
 * (Lq, Lk) matrix. Leading batch axes broadcast through per-matrix offsets, so a key/value tensor
 * shared by several query heads (grouped-query attention) is read in place, not copied; the
 * gradients of broadcast operands are summed back to their shapes.
 *
 * Dropout acts inside the kernel on the normalised weights. Its keep decisions come from a hash of
 * (seed, matrix, row, column), with the seed drawn from the generator once per call, so the
 * backward regenerates them instead of storing an (Lq, Lk) mask.
 */
import { K } from "../backend/index.js";
import { SDPA_GEOM_HEADER, sdpaDropThreshold, sdpaKeepHash, sdpaRowKey, type FloatArray } from "../backend/kernels.js";
import { allocate } from "../core/dtype.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { MAX_SIZE, shapesEqual, sizeOf, tryBroadcastShapes, type Shape } from "../core/shape.js";
import { isGradEnabled, needsGrad, record } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { logicalAnd, mul, sub } from "./elementwise.js";
import { matmul } from "./linalg.js";
import { softmax } from "./nn.js";
import { sum, sumTo } from "./reduce.js";
import { expand } from "./shape.js";
import { assertTensor, generatorOf } from "./util.js";

const OP = "fusedAttention";

export interface FusedAttentionOptions {
  /** Bool (true = attend), broadcastable to the scores (..., Lq, Lk). */
  mask?: Tensor;
  /** Causal masking computed in the kernel: "start" sees keys j <= i, "end" keys j <= i + Lk - Lq. */
  causal?: "start" | "end";
  scale: number;
  /** Dropout probability in [0, 1) on the attention weights (0: none). */
  dropout?: number;
  /** Draws the dropout seed (only when dropout > 0). */
  generator?: Generator;
}

/** How leading axes of one operand map onto the broadcast batch: its element offset per matrix. */
function batchOffsets(batch: Shape, own: Shape, matrix: number, out: Int32Array, at: number): void {
  // own is right-aligned with batch; an axis of size 1 repeats the same matrix
  const lead = batch.length - own.length;
  const strides = new Array<number>(batch.length).fill(0);
  let stride = matrix;
  for (let d = own.length - 1; d >= 0; d--) {
    if (own[d] !== 1) strides[lead + d] = stride;
    stride *= own[d]!;
  }
  const nb = sizeOf(batch);
  const index = new Array<number>(batch.length).fill(0);
  let offset = 0;
  for (let b = 0; b < nb; b++) {
    out[at + b] = offset;
    for (let d = batch.length - 1; d >= 0; d--) {
      index[d]!++;
      offset += strides[d]!;
      if (index[d]! < batch[d]!) break;
      offset -= strides[d]! * index[d]!;
      index[d] = 0;
    }
  }
}

interface Plan {
  batch: number[];
  nb: number;
  lq: number;
  lk: number;
  e: number;
  ev: number;
  geom: Int32Array;
}

function plan(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | undefined, causal: "start" | "end" | undefined): Plan {
  const [lq, e] = q.shape.slice(-2) as [number, number];
  const [lk, ev] = [k.shape[k.ndim - 2]!, v.shape[v.ndim - 1]!];
  let batch = tryBroadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2));
  if (batch !== null) batch = tryBroadcastShapes(batch, v.shape.slice(0, -2));
  let mShape: number[] = [];
  if (mask !== undefined && batch !== null) {
    mShape = mask.ndim >= 2 ? [...mask.shape] : [1, ...mask.shape];
    const full = tryBroadcastShapes(mShape, [...batch, lq, lk]);
    if (full === null || full[full.length - 2] !== lq || full[full.length - 1] !== lk) batch = null;
    else batch = full.slice(0, -2);
  }
  if (batch === null) {
    throw new ShapeError(
      `${OP}: q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}` +
        (mask ? ` and mask ${fmtShape(mask.shape)}` : "") +
        " do not broadcast",
    );
  }
  const nb = sizeOf(batch);
  const geom = new Int32Array(SDPA_GEOM_HEADER + 4 * nb);
  const msi = mShape.length > 0 && mShape[mShape.length - 2] !== 1 ? mShape[mShape.length - 1]! : 0;
  const msj = mShape.length > 0 && mShape[mShape.length - 1] !== 1 ? 1 : 0;
  geom.set([nb, lq, lk, e, ev, causal ? 1 : 0, causal === "end" ? lk - lq : 0, msi, msj]);
  batchOffsets(batch, q.shape.slice(0, -2), lq * e, geom, SDPA_GEOM_HEADER);
  batchOffsets(batch, k.shape.slice(0, -2), lk * e, geom, SDPA_GEOM_HEADER + nb);
  batchOffsets(batch, v.shape.slice(0, -2), lk * ev, geom, SDPA_GEOM_HEADER + 2 * nb);
  if (mask)
    batchOffsets(batch, mShape.slice(0, -2), mShape[mShape.length - 2]! * mShape[mShape.length - 1]!, geom, SDPA_GEOM_HEADER + 3 * nb);
  return { batch, nb, lq, lk, e, ev, geom };
}

/**
 * Fused attention, softmax(scale q k^T, masked) v, for q (..., Lq, E), k (..., Lk, E) and
 * v (..., Lk, Ev) with broadcasting leading axes; returns (batch..., Lq, Ev). A query row with no
 * visible key gets zeros and zero gradients.
 */
export function fusedAttention(q: Tensor, k: Tensor, v: Tensor, opts: FusedAttentionOptions): Tensor {
  for (const [name, t] of [
    ["q", q],
    ["k", k],
    ["v", v],
  ] as const) {
    assertTensor(OP, t, name);
    if (t.dtype !== "float32" && t.dtype !== "float64") throw new DTypeError(`${OP}: ${name} must be float32 or float64, got ${t.dtype}`);
    if (t.ndim < 2) throw new ShapeError(`${OP}: ${name} must have at least 2 dimensions (..., L, E), got ${fmtShape(t.shape)}`);
  }
  if (k.dtype !== q.dtype || v.dtype !== q.dtype) throw new DTypeError(`${OP}: q, k, v must share a dtype`);
  if (k.shape[k.ndim - 1] !== q.shape[q.ndim - 1] || v.shape[v.ndim - 2] !== k.shape[k.ndim - 2])
    throw new ShapeError(
      `${OP}: q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)} must be (..., Lq, E), (..., Lk, E), (..., Lk, Ev)`,
    );
  const { mask, causal, scale } = opts;
  if (mask !== undefined && (assertTensor(OP, mask, "mask"), mask.dtype !== "bool"))
    throw new DTypeError(`${OP}: mask must be bool (true = attend), got ${mask.dtype}`);
  if (!Number.isFinite(scale)) throw new ArgumentError(`${OP}: scale must be finite, got ${scale}`);
  const p = opts.dropout ?? 0;
  if (!(p >= 0 && p < 1)) throw new ArgumentError(`${OP}: dropout must be in [0, 1), got ${p}`);
  const pl = plan(q, k, v, mask, causal);
  const outShape = [...pl.batch, pl.lq, pl.ev];
  for (const n of [sizeOf(outShape), pl.nb * pl.lq * pl.e, pl.nb * pl.lk * Math.max(pl.e, pl.ev)])
    if (n > MAX_SIZE) throw new ArgumentError(`${OP}: the broadcast problem (${fmtShape(outShape)}) is too large`);
  const generator = generatorOf(OP, opts.generator);
  const seed0 = p > 0 ? generator.nextUint32() : 0;
  const seed1 = p > 0 ? generator.nextUint32() : 0;
  const dtype = q.dtype;
  const out = Tensor.empty(outShape, dtype);
  const lse = allocate(dtype, pl.nb * pl.lq) as FloatArray;
  const maskData = mask ? (mask.data as Uint8Array) : null;
  if (out.size > 0) {
    K.sdpaForward(
      q.data as FloatArray,
      k.data as FloatArray,
      v.data as FloatArray,
      maskData,
      out.data as FloatArray,
      lse,
      pl.geom,
      scale,
      p,
      seed0,
      seed1,
    );
  } else {
    lse.fill(-Infinity);
  }
  if (needsGrad(q, k, v)) {
    record(OP, out, [q, k, v], (g) => {
      if (isGradEnabled()) return attentionGradComposite(q, k, v, mask, causal, scale, p, seed0, seed1, pl, g);
      const dq = Tensor.empty([...pl.batch, pl.lq, pl.e], dtype);
      const dk = Tensor.empty([...pl.batch, pl.lk, pl.e], dtype);
      const dv = Tensor.empty([...pl.batch, pl.lk, pl.ev], dtype);
      if (out.size > 0 && pl.lk > 0) {
        K.sdpaBackward(
          q.data as FloatArray,
          k.data as FloatArray,
          v.data as FloatArray,
          maskData,
          out.data as FloatArray,
          g.data as FloatArray,
          lse,
          dq.data as FloatArray,
          dk.data as FloatArray,
          dv.data as FloatArray,
          pl.geom,
          scale,
          p,
          seed0,
          seed1,
        );
      } else {
        for (const t of [dq, dk, dv]) t.data.fill(0);
      }
      return [
        q.requiresGrad ? sumTo(dq, q.shape) : null,
        k.requiresGrad ? sumTo(dk, k.shape) : null,
        v.requiresGrad ? sumTo(dv, v.shape) : null,
      ];
    });
  }
  return out;
}

/**
 * The backward written with recorded ops (for createGraph): the (Lq, Lk) probabilities and the
 * dropout factors are materialised here, which only second-order use pays for.
 */
function attentionGradComposite(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor | undefined,
  causal: "start" | "end" | undefined,
  scale: number,
  p: number,
  seed0: number,
  seed1: number,
  pl: Plan,
  g: Tensor,
): (Tensor | null)[] {
  const scoresShape = [...pl.batch, pl.lq, pl.lk];
  let full = mask;
  if (causal) {
    const shift = causal === "end" ? pl.lk - pl.lq : 0;
    const c = allocate("bool", pl.lq * pl.lk);
    for (let i = 0; i < pl.lq; i++) for (let j = 0; j < pl.lk && j <= i + shift; j++) c[i * pl.lk + j] = 1;
    const ct = new Tensor(c, [pl.lq, pl.lk], "bool");
    full = full ? logicalAnd(full, ct) : ct;
  }
  let scores = mul(matmul(q, k, { transB: true }), scale);
  if (!shapesEqual(scores.shape, scoresShape)) scores = expand(scores, scoresShape);
  const probs = softmax(scores, -1, full ? { mask: full } : {});
  const keep = p > 0 ? attentionDropoutFactors(pl.batch, pl.lq, pl.lk, p, seed0, seed1, q.dtype as "float32" | "float64") : null;
  const weights = keep ? mul(probs, keep) : probs;
  const dWeights = matmul(g, v, { transB: true });
  const dProbs = keep ? mul(dWeights, keep) : dWeights;
  const dScores = mul(mul(probs, sub(dProbs, sum(mul(dProbs, probs), -1, { keepDim: true }))), scale);
  return [
    q.requiresGrad ? sumTo(matmul(dScores, k), q.shape) : null,
    k.requiresGrad ? sumTo(matmul(dScores, q, { transA: true }), k.shape) : null,
    v.requiresGrad ? sumTo(matmul(weights, g, { transA: true }), v.shape) : null,
  ];
}

/** The (batch..., Lq, Lk) dropout factors (0 or 1/(1-p)) that a fused call with these seeds applies. */
export function attentionDropoutFactors(
  batch: Shape,
  lq: number,
  lk: number,
  p: number,
  seed0: number,
  seed1: number,
  dtype: "float32" | "float64",
): Tensor {
  const nb = sizeOf(batch);
  const data = allocate(dtype, nb * lq * lk);
  const threshold = sdpaDropThreshold(p);
  for (let b = 0; b < nb; b++)
    for (let i = 0; i < lq; i++) {
      const row = sdpaRowKey(seed0, seed1, b, i);
      for (let j = 0; j < lk; j++) data[(b * lq + i) * lk + j] = sdpaKeepHash(row, j) >= threshold ? 1 / (1 - p) : 0;
    }
  return new Tensor(data, [...batch, lq, lk], dtype);
}
