/** Random tensors from the seeded generator (the default one unless a `generator` is passed). */
import type { DType } from "../core/dtype.js";
import { ArgumentError, fmtShape, ShapeError } from "../core/errors.js";
import { checkShape } from "../core/shape.js";
import { defaultGenerator, type Generator } from "../core/rng.js";
import { Tensor } from "../autograd/tensor.js";
import { assertFloat, assertNumber, assertTensor, dtypeOption, generatorOf, optionsOf } from "./util.js";

export interface RandomOptions {
  dtype?: "float32" | "float64";
  generator?: Generator;
  requiresGrad?: boolean;
}

function make(op: string, shape: readonly number[], opts: RandomOptions, fill: (g: Generator) => number): Tensor {
  const g = generatorOf(op, opts.generator);
  // samples are real numbers: an int32 or bool tensor of them would silently truncate
  const dtype = dtypeOption(op, opts.dtype, "float32", ["float32", "float64"]);
  const t = Tensor.empty(checkShape(op, shape), dtype);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = fill(g);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Uniform on [low, high). */
export function rand(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  optionsOf("rand", opts);
  const low = assertNumber("rand", opts.low ?? 0, "low", { finite: true });
  const high = assertNumber("rand", opts.high ?? 1, "high", { finite: true });
  return make("rand", shape, opts, (g) => low + (high - low) * g.random());
}

/** Normal with the given mean and std. */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  optionsOf("randn", opts);
  const mu = assertNumber("randn", opts.mean ?? 0, "mean", { finite: true });
  const sd = assertNumber("randn", opts.std ?? 1, "std", { min: 0, finite: true });
  return make("randn", shape, opts, (g) => mu + sd * g.normal());
}

/** Integers uniform on [low, high), int32. */
export function randint(low: number, high: number, shape: readonly number[], opts: { generator?: Generator } = {}): Tensor {
  // int32 output: bounds outside its range would wrap around
  assertNumber("randint", low, "low", { integer: true, min: -(2 ** 31), max: 2 ** 31 - 1 });
  assertNumber("randint", high, "high", { integer: true, min: -(2 ** 31) + 1, max: 2 ** 31 });
  if (high <= low) throw new ArgumentError(`randint: high (${high}) must be greater than low (${low})`);
  const g = generatorOf("randint", optionsOf("randint", opts).generator);
  const t = Tensor.empty(checkShape("randint", shape), "int32");
  for (let i = 0; i < t.size; i++) t.data[i] = g.randint(low, high);
  return t;
}

/** Entries are `scale` with probability p, else 0 (dropout masks). */
export function bernoulliMask(shape: readonly number[], p: number, dtype: DType, scale: number, generator?: Generator): Tensor {
  const t = Tensor.empty(shape, dtype);
  (generator ?? defaultGenerator).fillBernoulli(t.data, p, scale);
  return t;
}

/** Draws 0/1 with probability p, a number or a float tensor of probabilities (output takes its shape). */
export function bernoulli(p: Tensor | number, opts: { shape?: readonly number[]; generator?: Generator } = {}): Tensor {
  const g = generatorOf("bernoulli", optionsOf("bernoulli", opts).generator);
  if (typeof p === "number") {
    assertNumber("bernoulli", p, "p", { min: 0, max: 1 });
    return bernoulliMask(checkShape("bernoulli", opts.shape ?? []), p, "float32", 1, g);
  }
  assertTensor("bernoulli", p, "p");
  assertFloat("bernoulli", p, "p");
  const out = Tensor.empty(p.shape, p.dtype);
  for (let i = 0; i < p.size; i++) {
    const v = p.data[i]!;
    if (!(v >= 0 && v <= 1))
      throw new ArgumentError(`bernoulli: probabilities must lie in [0, 1], got ${v} at flat index ${i} of ${fmtShape(p.shape)}`);
    out.data[i] = g.random() < v ? 1 : 0;
  }
  return out;
}

/**
 * Samples `numSamples` class indices per row of non-negative weights `probs` (C) or (N, C), like
 * torch.multinomial. Without replacement, numSamples must not exceed the number of non-zero weights.
 */
export function multinomial(probs: Tensor, numSamples: number, opts: { replacement?: boolean; generator?: Generator } = {}): Tensor {
  assertTensor("multinomial", probs, "probs");
  assertFloat("multinomial", probs, "probs");
  if (probs.ndim !== 1 && probs.ndim !== 2) throw new ShapeError(`multinomial: probs must be 1-D or 2-D, got ${fmtShape(probs.shape)}`);
  assertNumber("multinomial", numSamples, "numSamples", { integer: true, min: 1 });
  const replacement = optionsOf("multinomial", opts).replacement ?? false;
  const g = generatorOf("multinomial", opts.generator);
  const c = probs.shape[probs.ndim - 1]!;
  const rows = probs.ndim === 1 ? 1 : probs.shape[0]!;
  const out = Tensor.empty(checkShape("multinomial", probs.ndim === 1 ? [numSamples] : [rows, numSamples]), "int32");
  const w = new Float64Array(c);
  for (let r = 0; r < rows; r++) {
    let total = 0;
    let nonZero = 0;
    for (let j = 0; j < c; j++) {
      const v = probs.data[r * c + j]!;
      if (!(v >= 0) || !Number.isFinite(v)) throw new ArgumentError(`multinomial: weights must be finite and >= 0, got ${v} in row ${r}`);
      w[j] = v;
      total += v;
      if (v > 0) nonZero++;
    }
    if (total <= 0) throw new ArgumentError(`multinomial: row ${r} of probs ${fmtShape(probs.shape)} sums to zero`);
    if (!replacement && numSamples > nonZero) {
      throw new ArgumentError(`multinomial: cannot draw ${numSamples} samples without replacement from ${nonZero} non-zero weights`);
    }
    for (let s = 0; s < numSamples; s++) {
      let u = g.random() * total;
      let pick = c - 1;
      for (let j = 0; j < c; j++) {
        u -= w[j]!;
        if (u < 0 && w[j]! > 0) {
          pick = j;
          break;
        }
      }
      while (w[pick] === 0) pick--; // rounding at the far end
      out.data[r * numSamples + s] = pick;
      if (!replacement) {
        total -= w[pick]!;
        w[pick] = 0;
      }
    }
  }
  return out;
}

/** One sample per row from unnormalised log-probabilities (logits), via the Gumbel-max trick. */
export function categorical(logits: Tensor, opts: { generator?: Generator } = {}): Tensor {
  assertTensor("categorical", logits, "logits");
  assertFloat("categorical", logits, "logits");
  if (logits.ndim < 1) throw new ShapeError(`categorical: logits need at least 1 dimension, got ${fmtShape(logits.shape)}`);
  const g = generatorOf("categorical", optionsOf("categorical", opts).generator);
  const c = logits.shape[logits.ndim - 1]!;
  if (c === 0) throw new ShapeError(`categorical: logits have no classes (shape ${fmtShape(logits.shape)})`);
  const rows = logits.size / c;
  const out = Tensor.empty(logits.shape.slice(0, -1), "int32");
  for (let r = 0; r < rows; r++) {
    let best = -Infinity;
    let arg = -1;
    for (let j = 0; j < c; j++) {
      const l = logits.data[r * c + j]!;
      if (l !== l || l === Infinity) throw new ArgumentError(`categorical: logits must not be NaN or +Infinity (row ${r})`);
      let u = 0;
      while (u === 0) u = g.random();
      const v = l - Math.log(-Math.log(u));
      if (v > best) {
        best = v;
        arg = j;
      }
    }
    if (arg < 0) throw new ArgumentError(`categorical: row ${r} has no finite logit`);
    out.data[r] = arg;
  }
  return out;
}
