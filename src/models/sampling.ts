/**
 * Choosing the next token from logits: greedy (argmax) and sampling with temperature and top-k.
 * These run on plain numbers outside autograd (decoding never needs gradients) and in float64, so
 * a temperature near 0 gives the argmax rather than NaN from exp overflow.
 */
import { Tensor } from "../autograd/tensor.js";
import { allocate } from "../core/dtype.js";
import { ArgumentError, fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { assertFloat, assertNumber, assertTensor, generatorOf, optionsOf } from "../ops/util.js";

export interface SamplingOptions {
  /** Logits are divided by this before the softmax (default 1). 0 means greedy (argmax). */
  temperature?: number;
  /** Keep only the k most likely tokens (ties broken towards the lower id) and renormalise. Default: all. */
  topK?: number;
}

/** Checks (..., V) logits and returns V. */
function vocabularyOf(op: string, logits: unknown): number {
  const t = assertTensor(op, logits, "logits");
  assertFloat(op, t, "logits");
  if (t.ndim < 1 || t.shape[t.ndim - 1] === 0) throw new ShapeError(`${op}: logits must be (..., V) with V >= 1, got ${fmtShape(t.shape)}`);
  return t.shape[t.ndim - 1]!;
}

function checkRow(op: string, data: ArrayLike<number>, start: number, v: number, row: number): void {
  for (let j = start; j < start + v; j++) {
    const x = data[j]!;
    if (Number.isNaN(x) || x === Infinity) throw new ArgumentError(`${op}: logits must not be NaN or +Infinity (row ${row})`);
  }
}

/** Argmax over the last axis (the first maximum on ties): (..., V) -> int32 (...). */
export function greedyTokens(logits: Tensor): Tensor {
  const op = "greedyTokens";
  const v = vocabularyOf(op, logits);
  const rows = logits.size / v;
  const out = allocate("int32", rows);
  for (let r = 0; r < rows; r++) {
    checkRow(op, logits.data, r * v, v, r);
    out[r] = argmaxRow(logits.data, r * v, v);
  }
  return new Tensor(out, logits.shape.slice(0, -1), "int32");
}

function argmaxRow(data: ArrayLike<number>, start: number, v: number): number {
  let best = 0;
  for (let j = 1; j < v; j++) if (data[start + j]! > data[start + best]!) best = j;
  return best;
}

function options(op: string, opts: SamplingOptions, v: number): { temperature: number; topK: number } {
  optionsOf(op, opts);
  const temperature = assertNumber(op, opts.temperature ?? 1, "temperature", { finite: true, min: 0 });
  const topK = assertNumber(op, opts.topK ?? v, "topK", { integer: true, min: 1 });
  return { temperature, topK: Math.min(topK, v) };
}

/**
 * The distribution one row is sampled from, written into `probs` (length V): softmax(logits / T)
 * over the top k entries, zero elsewhere. With T = 0 it is one-hot at the argmax.
 */
function rowDistribution(data: ArrayLike<number>, start: number, v: number, temperature: number, topK: number, probs: Float64Array): void {
  probs.fill(0);
  if (temperature === 0) {
    probs[argmaxRow(data, start, v)] = 1;
    return;
  }
  let kept: number[];
  if (topK < v) {
    const order = Array.from({ length: v }, (_, j) => j);
    order.sort((a, b) => data[start + b]! - data[start + a]! || a - b);
    kept = order.slice(0, topK);
  } else {
    kept = Array.from({ length: v }, (_, j) => j);
  }
  let max = -Infinity;
  for (const j of kept) max = Math.max(max, data[start + j]!);
  if (max === -Infinity) {
    // every kept logit is -Infinity: nothing is preferred, so the kept tokens are equally likely
    for (const j of kept) probs[j] = 1 / kept.length;
    return;
  }
  let total = 0;
  for (const j of kept) {
    const e = Math.exp((data[start + j]! - max) / temperature);
    probs[j] = e;
    total += e;
  }
  for (const j of kept) probs[j] = probs[j]! / total;
}

/**
 * The probabilities `sampleTokens` draws from, float64 (..., V): softmax(logits / temperature)
 * restricted to the top k and renormalised (one-hot at the argmax for temperature 0).
 */
export function samplingProbabilities(logits: Tensor, opts: SamplingOptions = {}): Tensor {
  const op = "samplingProbabilities";
  const v = vocabularyOf(op, logits);
  const { temperature, topK } = options(op, opts, v);
  const out = allocate("float64", logits.size) as Float64Array;
  const row = new Float64Array(v);
  for (let r = 0; r < logits.size / v; r++) {
    checkRow(op, logits.data, r * v, v, r);
    rowDistribution(logits.data, r * v, v, temperature, topK, row);
    out.set(row, r * v);
  }
  return new Tensor(out, logits.shape, "float64");
}

/**
 * One token per row of (..., V) logits -> int32 (...), drawn from `samplingProbabilities` by
 * inverting its cumulative sum with one uniform number per row from `generator` (the default
 * generator when omitted), so a seeded generator reproduces the draw.
 */
export function sampleTokens(logits: Tensor, opts: SamplingOptions & { generator?: Generator } = {}): Tensor {
  const op = "sampleTokens";
  const v = vocabularyOf(op, logits);
  const { temperature, topK } = options(op, opts, v);
  const g = generatorOf(op, opts.generator);
  const rows = logits.size / v;
  const out = allocate("int32", rows);
  const probs = new Float64Array(v);
  for (let r = 0; r < rows; r++) {
    checkRow(op, logits.data, r * v, v, r);
    rowDistribution(logits.data, r * v, v, temperature, topK, probs);
    let u = g.random();
    let pick = -1;
    for (let j = 0; j < v; j++) {
      if (probs[j] === 0) continue;
      pick = j;
      u -= probs[j]!;
      if (u < 0) break;
    }
    // a rounding remainder at the end falls on the last token with non-zero probability
    out[r] = pick;
  }
  return new Tensor(out, logits.shape.slice(0, -1), "int32");
}
