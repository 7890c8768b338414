/**
 * Task metrics as sums and counts rather than means, so an evaluation over many batches of
 * different sizes and lengths combines exactly (a mean of per-batch token accuracies would weight
 * short batches wrongly). `summarize` turns them into the numbers to report.
 */
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError, fmtShape, ShapeError } from "../core/errors.js";
import { reshape } from "../ops/shape.js";

/** One metric: its mean is sum / count (count is tokens, bits or sequences, depending on the metric). */
export interface MetricTotal {
  sum: number;
  count: number;
}
export type Evaluation = Record<string, MetricTotal>;

/** Adds evaluations metric by metric (e.g. over all validation batches). */
export function combineEvaluations(evaluations: readonly Evaluation[]): Evaluation {
  const out: Evaluation = {};
  for (const evaluation of evaluations) {
    for (const [name, { sum, count }] of Object.entries(evaluation)) {
      const total = (out[name] ??= { sum: 0, count: 0 });
      total.sum += sum;
      total.count += count;
    }
  }
  return out;
}

/** Each metric's mean (NaN for a metric that counted nothing). */
export function summarize(evaluation: Evaluation): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, { sum, count }] of Object.entries(evaluation)) out[name] = count === 0 ? NaN : sum / count;
  return out;
}

/**
 * Token metrics: `tokenAccuracy` over the positions the mask counts, `exactMatch` over sequences
 * (every counted position right). `predicted(b, t)` is the predicted id, or -1 past the prediction's end.
 */
export function tokenMetrics(target: Tensor, mask: Tensor, predicted: (b: number, t: number) => number): Evaluation {
  const [batch, steps] = target.shape as [number, number];
  let correct = 0;
  let counted = 0;
  let exact = 0;
  for (let b = 0; b < batch; b++) {
    let rowCorrect = true;
    for (let t = 0; t < steps; t++) {
      if (mask.data[b * steps + t] === 0) continue;
      counted++;
      if (predicted(b, t) === target.data[b * steps + t]) correct++;
      else rowCorrect = false;
    }
    if (rowCorrect) exact++;
  }
  return { tokenAccuracy: { sum: correct, count: counted }, exactMatch: { sum: exact, count: batch } };
}

/**
 * Predicted ids of a token task from either int32 ids [B, Tp] or float scores [B, Tp, V] (logits or
 * probabilities; the argmax is taken). Tp may differ from the target's length, as it does after free
 * decoding: target positions past Tp count as wrong.
 */
export function predictedIds(op: string, predictions: Tensor, batch: number, vocabularySize: number): (b: number, t: number) => number {
  predictions.assertAlive(op);
  const shape = predictions.shape;
  if (predictions.dtype === "int32" && shape.length === 2 && shape[0] === batch) {
    const steps = shape[1]!;
    const data = predictions.data;
    return (b, t) => (t < steps ? data[b * steps + t]! : -1);
  }
  if (
    (predictions.dtype === "float32" || predictions.dtype === "float64") &&
    shape.length === 3 &&
    shape[0] === batch &&
    shape[2] === vocabularySize
  ) {
    const steps = shape[1]!;
    const data = predictions.data;
    return (b, t) => {
      if (t >= steps) return -1;
      const base = (b * steps + t) * vocabularySize;
      let best = 0;
      for (let v = 1; v < vocabularySize; v++) if (data[base + v]! > data[base + best]!) best = v;
      return best;
    };
  }
  if (predictions.dtype === "bool") throw new ArgumentError(`${op}: predictions must be int32 ids or float scores, got bool`);
  throw new ShapeError(
    `${op}: predictions ${fmtShape(shape)} (${predictions.dtype}) must be int32 ids [${batch}, T] or float scores [${batch}, T, ${vocabularySize}]`,
  );
}

/**
 * Metrics of a question-answering task (one answer token per example): `accuracy` and `error` over
 * the rows the mask counts. Predictions are scores [B, V] or [B, 1, V], or ids [B, 1].
 */
export function answerMetrics(
  op: string,
  predictions: Tensor,
  batch: { target: Tensor; mask: Tensor },
  vocabularySize: number,
): Evaluation {
  predictions.assertAlive(op);
  const rows = batch.target.shape[0]!;
  const V = vocabularySize;
  const scores2d = (predictions.dtype === "float32" || predictions.dtype === "float64") && predictions.ndim === 2;
  if (scores2d && (predictions.shape[0] !== rows || predictions.shape[1] !== V)) {
    throw new ShapeError(
      `${op}: predictions ${fmtShape(predictions.shape)} must be scores [${rows}, ${V}], [${rows}, 1, ${V}] or ids [${rows}, 1]`,
    );
  }
  const predicted = predictedIds(op, scores2d ? reshape(predictions, [rows, 1, V]) : predictions, rows, V);
  let correct = 0;
  let counted = 0;
  for (let b = 0; b < rows; b++) {
    if (batch.mask.data[b] === 0) continue;
    counted++;
    if (predicted(b, 0) === batch.target.data[b]) correct++;
  }
  return { accuracy: { sum: correct, count: counted }, error: { sum: counted - correct, count: counted } };
}
