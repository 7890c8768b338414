/**
 * Attention mask helpers. Every mask in the attention family is bool with one polarity:
 * true = this query may attend to this key (the convention of softmax's mask and of PyTorch's
 * scaled_dot_product_attention, and the opposite of PyTorch's nn.MultiheadAttention masks).
 */
import { Tensor } from "../autograd/tensor.js";
import { allocate } from "../core/dtype.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import { logicalNot } from "../ops/elementwise.js";

export type CausalAlignment = "start" | "end";

function nonNegInt(op: string, v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
    throw new ArgumentError(`${op}: ${what} must be an integer >= 0, got ${String(v)}`);
  return v;
}

/**
 * A (lq, lk) causal mask. "start" (top-left, PyTorch's is_causal): query i sees keys j <= i.
 * "end" (bottom-right): query i sees keys j <= i + lk - lq, so the last query sees every key; this
 * is the one for decoding with a KV cache, where the lq new queries are the last lq positions.
 */
export function causalMask(lq: number, lk: number, alignment: CausalAlignment = "start"): Tensor {
  nonNegInt("causalMask", lq, "lq");
  nonNegInt("causalMask", lk, "lk");
  if (alignment !== "start" && alignment !== "end")
    throw new ArgumentError(`causalMask: alignment must be "start" or "end", got ${JSON.stringify(alignment)}`);
  const offset = alignment === "end" ? lk - lq : 0;
  const data = allocate("bool", lq * lk);
  for (let i = 0; i < lq; i++) for (let j = 0; j < lk && j <= i + offset; j++) data[i * lk + j] = 1;
  return new Tensor(data, [lq, lk], "bool");
}

/**
 * A (B, lk) key mask, true = a real key, false = padding. From lengths (a number array or an int32
 * tensor of shape (B)): key j of row b is real when j < lengths[b]. From a bool (B, lk) tensor: that
 * tensor is read with PyTorch's key_padding_mask polarity (true = PAD) and inverted, so a mask
 * ported from PyTorch can be passed here as is.
 */
export function keyPaddingMask(spec: readonly number[] | Tensor, lk?: number): Tensor {
  const op = "keyPaddingMask";
  if (spec instanceof Tensor && spec.dtype === "bool") {
    if (spec.ndim !== 2) throw new ShapeError(`${op}: a bool padding mask must be (B, Lk), got ${fmtShape(spec.shape)}`);
    if (lk !== undefined && spec.shape[1] !== lk)
      throw new ShapeError(`${op}: padding mask ${fmtShape(spec.shape)} does not have lk = ${String(lk)} keys`);
    return logicalNot(spec);
  }
  let lengths: number[];
  if (spec instanceof Tensor) {
    if (spec.dtype !== "int32") throw new DTypeError(`${op}: lengths must be int32 (or a bool padding mask), got ${spec.dtype}`);
    if (spec.ndim !== 1) throw new ShapeError(`${op}: lengths must be 1-D (B), got ${fmtShape(spec.shape)}`);
    lengths = Array.from(spec.data);
  } else if (Array.isArray(spec)) {
    lengths = [...(spec as readonly number[])];
  } else {
    throw new ArgumentError(`${op}: expected lengths (number[] or int32 tensor) or a bool (B, Lk) tensor`);
  }
  if (lk === undefined) throw new ArgumentError(`${op}: lk (the number of keys) is required with lengths`);
  nonNegInt(op, lk, "lk");
  const data = allocate("bool", lengths.length * lk);
  lengths.forEach((len, b) => {
    nonNegInt(op, len, `lengths[${b}]`);
    if (len > lk) throw new ArgumentError(`${op}: lengths[${b}] = ${len} exceeds lk = ${lk}`);
    data.fill(1, b * lk, b * lk + len);
  });
  return new Tensor(data, [lengths.length, lk], "bool");
}
