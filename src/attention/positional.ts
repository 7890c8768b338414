/**
 * Positional information for attention: the Transformer's sinusoidal encoding (fixed and as a
 * module), a learned position table, rotary embeddings (RoPE) and ALiBi biases. Tables that do not
 * depend on data are computed in float64 in JS and stored in the requested dtype, so float32
 * results are the correctly rounded values rather than float32 arithmetic accumulated over
 * thousands of positions.
 */
import { Tensor } from "../autograd/tensor.js";
import { allocate } from "../core/dtype.js";
import { ArgumentError, fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { add, mul, sub } from "../ops/elementwise.js";
import { concat, narrow, reshape } from "../ops/shape.js";
import { assertFloat, assertNumber, assertTensor, dtypeOption, optionsOf } from "../ops/util.js";
import { Dropout } from "../nn/dropout.js";
import { normal } from "../nn/init.js";
import { floatDType, Module, param, type ParameterFloatOptions } from "../nn/module.js";
import { empty, positiveInt } from "../nn/util.js";

type FloatDType = "float32" | "float64";

function floatTable(shape: readonly number[], dtype: FloatDType, fill: (data: Float32Array | Float64Array) => void): Tensor {
  let size = 1;
  for (const d of shape) size *= d;
  const data = allocate(dtype, size) as Float32Array | Float64Array;
  fill(data);
  return new Tensor(data, [...shape], dtype);
}

function baseOption(op: string, base: unknown): number {
  const b = assertNumber(op, base ?? 10000, "base", { finite: true });
  if (!(b > 0)) throw new ArgumentError(`${op}: base must be > 0, got ${b}`);
  return b;
}

function offsetOption(op: string, offset: unknown): number {
  return assertNumber(op, offset ?? 0, "offset", { integer: true, min: 0 });
}

/** Checks an (..., T, D) input and returns T. */
function sequenceInput(op: string, x: unknown, dim: number | null): number {
  const t = assertTensor(op, x);
  assertFloat(op, t);
  if (t.ndim < 2) throw new ShapeError(`${op}: input must have shape (..., T, D), got ${fmtShape(t.shape)}`);
  const d = t.shape[t.ndim - 1]!;
  if (dim !== null && d !== dim)
    throw new ShapeError(`${op}: input feature size ${d} does not match dim ${dim} (input shape ${fmtShape(t.shape)})`);
  return t.shape[t.ndim - 2]!;
}

// ---------------------------------------------------------------- sinusoidal

export interface SinusoidalOptions {
  /** The wavelength scale (10000 in the Transformer paper). */
  base?: number;
  /** Position of the first row (default 0): row r encodes position offset + r. */
  offset?: number;
  dtype?: FloatDType;
}

/**
 * The Transformer's fixed encoding, (length, dim): PE[p, 2i] = sin(p / base^(2i/dim)) and
 * PE[p, 2i+1] = cos(p / base^(2i/dim)), sin and cos interleaved as in the paper (tensor2tensor
 * concatenates the halves instead; the two differ by a fixed permutation of features).
 * An odd dim keeps the same formula with dim as given: the last column is a sin column without
 * its cos partner.
 */
export function sinusoidalEncoding(length: number, dim: number, opts: SinusoidalOptions = {}): Tensor {
  const op = "sinusoidalEncoding";
  optionsOf(op, opts);
  assertNumber(op, length, "length", { integer: true, min: 0 });
  assertNumber(op, dim, "dim", { integer: true, min: 1 });
  const base = baseOption(op, opts.base);
  const offset = offsetOption(op, opts.offset);
  const dtype = dtypeOption(op, opts.dtype, "float32", ["float32", "float64"]);
  return floatTable([length, dim], dtype, (data) => {
    for (let c = 0; c < dim; c += 2) {
      const invFreq = Math.pow(base, -c / dim);
      for (let r = 0; r < length; r++) {
        const angle = (offset + r) * invFreq;
        data[r * dim + c] = Math.sin(angle);
        if (c + 1 < dim) data[r * dim + c + 1] = Math.cos(angle);
      }
    }
  });
}

export interface SinusoidalPositionalEncodingOptions {
  base?: number;
  /** Rows computed up front; the table grows (doubling) when a longer input or larger offset arrives. Default 512. */
  maxLength?: number;
  /** Dropout on the sum, as in the Transformer (default 0). */
  dropout?: number;
  generator?: Generator;
  /** dtype of the initial table; it is rebuilt in the input's dtype when they differ. Default float32. */
  dtype?: FloatDType;
}

/**
 * x (..., T, D) -> dropout(x + PE[offset : offset + T]). The paper scales token embeddings by
 * sqrt(D) before this; that is the caller's choice. The table is a non-persistent buffer `pe`
 * (recomputable, so it stays out of the state dict, as is usual for PyTorch ports); the module has
 * no state-dict keys.
 */
export class SinusoidalPositionalEncoding extends Module {
  readonly dim: number;
  readonly base: number;
  dropout: Dropout;
  #pe: Tensor;

  constructor(dim: number, opts: SinusoidalPositionalEncodingOptions = {}) {
    super();
    const op = "SinusoidalPositionalEncoding";
    optionsOf(op, opts);
    this.dim = positiveInt(op, dim, "dim", 1);
    this.base = baseOption(op, opts.base);
    const maxLength = positiveInt(op, opts.maxLength ?? 512, "maxLength", 0);
    this.dropout = new Dropout(opts.dropout ?? 0, opts.generator ? { generator: opts.generator } : {});
    this.#pe = this.registerBuffer("pe", sinusoidalEncoding(maxLength, this.dim, { base: this.base, dtype: floatDType(op, opts.dtype) }), {
      persistent: false,
    });
  }

  forward(x: Tensor, opts: { offset?: number } = {}): Tensor {
    const op = "SinusoidalPositionalEncoding";
    optionsOf(op, opts);
    const t = sequenceInput(op, x, this.dim);
    const offset = offsetOption(op, opts.offset);
    const needed = offset + t;
    if (needed > this.#pe.shape[0]! || this.#pe.dtype !== x.dtype) {
      const rows = Math.max(needed, this.#pe.dtype === x.dtype ? 2 * this.#pe.shape[0]! : this.#pe.shape[0]!);
      const pe = sinusoidalEncoding(rows, this.dim, { base: this.base, dtype: x.dtype as FloatDType });
      this.#pe = this.registerBuffer("pe", pe, { persistent: false });
    }
    // (T, D) broadcasts over the leading dims
    return this.dropout.forward(add(x, narrow(this.#pe, 0, offset, t)));
  }
}

// ---------------------------------------------------------------- learned

export interface LearnedPositionalEmbeddingOptions extends ParameterFloatOptions {
  /** Standard deviation of the N(0, std) init. Default 1, as nn.Embedding (GPT-2 and BERT use 0.02). */
  std?: number;
  generator?: Generator;
}

/**
 * x (..., T, D) -> x + weight[offset : offset + T]. State dict: `weight` (maxLength, dim), the
 * layout of a PyTorch nn.Embedding used as a position table.
 */
export class LearnedPositionalEmbedding extends Module {
  readonly maxLength: number;
  readonly dim: number;
  weight: Tensor;

  constructor(maxLength: number, dim: number, opts: LearnedPositionalEmbeddingOptions = {}) {
    super();
    const op = "LearnedPositionalEmbedding";
    optionsOf(op, opts);
    this.maxLength = positiveInt(op, maxLength, "maxLength", 1);
    this.dim = positiveInt(op, dim, "dim", 1);
    const std = assertNumber(op, opts.std ?? 1, "std", { finite: true, min: 0 });
    const w = empty([this.maxLength, this.dim], floatDType(op, opts.dtype));
    this.weight = param(normal(w, 0, std, opts.generator ? { generator: opts.generator } : {}));
  }

  forward(x: Tensor, opts: { offset?: number } = {}): Tensor {
    const op = "LearnedPositionalEmbedding";
    optionsOf(op, opts);
    const t = sequenceInput(op, x, this.dim);
    const offset = offsetOption(op, opts.offset);
    if (offset + t > this.maxLength) {
      throw new ShapeError(
        `${op}: positions ${offset}..${offset + t - 1} exceed maxLength ${this.maxLength} (input shape ${fmtShape(x.shape)}, offset ${offset})`,
      );
    }
    return add(x, narrow(this.weight, 0, offset, t));
  }
}

// ---------------------------------------------------------------- rotary

export interface RotaryOptions {
  /** Position of the first step along axis -2 (the number of cached steps when decoding). Default 0. */
  offset?: number;
  base?: number;
  /**
   * Which features form a rotated pair. "half" (default, GPT-NeoX / Hugging Face Llama):
   * (x[i], x[i + D/2]). "interleaved" (the RoFormer paper, GPT-J, Meta's Llama code):
   * (x[2i], x[2i + 1]). Pair i turns by angle p / base^(2i/D) in both.
   */
  pairing?: "half" | "interleaved";
}

/**
 * Rotary position embedding of x (..., T, D), D even; the step at index t is at position offset + t.
 * Each feature pair (a, b) becomes (a cos θ - b sin θ, b cos θ + a sin θ), so the dot product of a
 * rotated query and key depends on their positions only through the difference. Written with ops,
 * so gradients flow to x; the angles are constants.
 */
export function applyRotary(x: Tensor, opts: RotaryOptions = {}): Tensor {
  const op = "applyRotary";
  optionsOf(op, opts);
  const t = sequenceInput(op, x, null);
  const d = x.shape[x.ndim - 1]!;
  if (d % 2 !== 0) throw new ShapeError(`${op}: feature size must be even, got ${d} (input shape ${fmtShape(x.shape)})`);
  const offset = offsetOption(op, opts.offset);
  const base = baseOption(op, opts.base);
  const pairing = opts.pairing ?? "half";
  if (pairing !== "half" && pairing !== "interleaved") {
    throw new ArgumentError(`${op}: pairing must be "half" or "interleaved", got ${String(pairing)}`);
  }
  const half = d / 2;
  const dtype = x.dtype as FloatDType;
  // the interleaved form views each pair as a trailing axis of 2: (..., T, D/2, 2), tables (T, D/2, 1)
  const tableShape = pairing === "half" ? [t, half] : [t, half, 1];
  const fill = (f: (a: number) => number) => (data: Float32Array | Float64Array) => {
    for (let i = 0; i < half; i++) {
      const invFreq = Math.pow(base, (-2 * i) / d);
      for (let r = 0; r < t; r++) data[r * half + i] = f((offset + r) * invFreq);
    }
  };
  const cos = floatTable(tableShape, dtype, fill(Math.cos));
  const sin = floatTable(tableShape, dtype, fill(Math.sin));
  const src = pairing === "half" ? x : reshape(x, [...x.shape.slice(0, -1), half, 2]);
  const axis = src.ndim - 1;
  const width = pairing === "half" ? half : 1;
  const a = narrow(src, axis, 0, width);
  const b = narrow(src, axis, width, width);
  const out = concat([sub(mul(a, cos), mul(b, sin)), add(mul(b, cos), mul(a, sin))], axis);
  return pairing === "half" ? out : reshape(out, x.shape);
}

// ---------------------------------------------------------------- ALiBi

/**
 * ALiBi head slopes (Press et al., 2022), as a (numHeads) tensor. For a power of two n the slopes
 * are the geometric sequence 2^(-8/n), 2^(-16/n), ..., 2^(-8). Otherwise, with m the largest power
 * of two below n, they are the m slopes for m heads followed by the first n - m of the odd-indexed
 * (1st, 3rd, ...) slopes for 2m heads, as in the paper's reference code.
 */
export function alibiSlopes(numHeads: number, opts: { dtype?: FloatDType } = {}): Tensor {
  const op = "alibiSlopes";
  optionsOf(op, opts);
  assertNumber(op, numHeads, "numHeads", { integer: true, min: 1 });
  const dtype = dtypeOption(op, opts.dtype, "float32", ["float32", "float64"]);
  const values = slopeList(numHeads);
  return floatTable([numHeads], dtype, (data) => data.set(values));
}

function geometricSlopes(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.pow(2, (-8 * (i + 1)) / n));
}

function slopeList(n: number): number[] {
  const m = 2 ** Math.floor(Math.log2(n));
  if (m === n) return geometricSlopes(n);
  const extra = geometricSlopes(2 * m).filter((_, i) => i % 2 === 0);
  return [...geometricSlopes(m), ...extra.slice(0, n - m)];
}

export interface AlibiBiasOptions {
  /**
   * How Lq queries line up with Lk keys when they differ. "end" (default, bottom-right): the last query
   * sits at the last key's position (query i is at position Lk - Lq + i), the case of decoding
   * with a KV cache. "start" (top-left): query i is at position i. The same when Lq == Lk.
   */
  causalAlignment?: "end" | "start";
  dtype?: FloatDType;
}

/**
 * Additive ALiBi biases (H, Lq, Lk): bias[h, i, j] = -slope[h] * |pos(i) - j|. Keys after the
 * query get the same distance penalty as keys before it (the symmetric, bidirectional form); a
 * causal model masks them separately. Add the result to the (B, H, Lq, Lk) attention scores.
 */
export function alibiBias(numHeads: number, lq: number, lk: number, opts: AlibiBiasOptions = {}): Tensor {
  const op = "alibiBias";
  optionsOf(op, opts);
  assertNumber(op, numHeads, "numHeads", { integer: true, min: 1 });
  assertNumber(op, lq, "lq", { integer: true, min: 0 });
  assertNumber(op, lk, "lk", { integer: true, min: 0 });
  const alignment = opts.causalAlignment ?? "end";
  if (alignment !== "end" && alignment !== "start") {
    throw new ArgumentError(`${op}: causalAlignment must be "start" or "end", got ${String(alignment)}`);
  }
  const dtype = dtypeOption(op, opts.dtype, "float32", ["float32", "float64"]);
  const slopes = slopeList(numHeads);
  const shift = alignment === "end" ? lk - lq : 0;
  return floatTable([numHeads, lq, lk], dtype, (data) => {
    let k = 0;
    for (let h = 0; h < numHeads; h++) {
      for (let i = 0; i < lq; i++) {
        // 0 - x rather than -x, so a zero distance gives +0 (not -0)
        for (let j = 0; j < lk; j++) data[k++] = 0 - slopes[h]! * Math.abs(i + shift - j);
      }
    }
  });
}
