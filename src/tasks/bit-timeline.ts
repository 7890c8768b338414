/**
 * What the bit tasks (copy, repeat-copy, associative-recall, priority-sort, dynamic-ngrams) share:
 * laying rows of different lengths onto one zero-padded [B, T, C] timeline, and scoring thresholded
 * bit predictions on the steps the mask counts.
 */
import type { Tensor } from "../autograd/tensor.js";
import { fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import type { Evaluation } from "./metrics.js";
import { checkEvaluateBatch, tensorOf, type Batch } from "./task.js";

/**
 * Writes one row of a bit batch; steps and channels are the row's own (padding needs no writes).
 * The writers are plain functions, so `row.input` can be passed around on its own.
 */
export interface BitRowWriter {
  readonly input: (step: number, channel: number, value: number) => void;
  readonly target: (step: number, channel: number, value: number) => void;
  /** Counts steps [from, to) for the loss and the metrics. */
  readonly output: (from: number, to: number) => void;
}

/**
 * A batch whose row b spans `rowSteps[b]` steps, padded to the longest row. `fill` writes each row;
 * everything it leaves alone is 0. inputLengths are the row lengths, targetLengths the counted steps.
 */
export function buildBitBatch(
  inputSize: number,
  outputSize: number,
  rowSteps: readonly number[],
  fill: (b: number, row: BitRowWriter) => void,
): Batch {
  const rows = rowSteps.length;
  const steps = Math.max(...rowSteps);
  const input = new Float32Array(rows * steps * inputSize);
  const target = new Float32Array(rows * steps * outputSize);
  const mask = new Float32Array(rows * steps);
  const inputLengths = Int32Array.from(rowSteps);
  const targetLengths = new Int32Array(rows);
  for (let b = 0; b < rows; b++) {
    const base = b * steps;
    fill(b, {
      input: (t, c, value) => {
        input[(base + t) * inputSize + c] = value;
      },
      target: (t, c, value) => {
        target[(base + t) * outputSize + c] = value;
      },
      output: (from, to) => {
        mask.fill(1, base + from, base + to);
      },
    });
    for (let t = 0; t < steps; t++) targetLengths[b]! += mask[base + t]!;
  }
  return {
    input: tensorOf(input, [rows, steps, inputSize]),
    target: tensorOf(target, [rows, steps, outputSize]),
    inputLengths: tensorOf(inputLengths, [rows]),
    targetLengths: tensorOf(targetLengths, [rows]),
    mask: tensorOf(mask, [rows, steps]),
  };
}

/** Throws unless `predictions` are float probabilities shaped like the batch's target. */
export function checkBitPredictions(op: string, predictions: Tensor, batch: Batch): void {
  checkEvaluateBatch(op, batch);
  predictions.assertAlive(op);
  const { target } = batch;
  const sameShape = predictions.shape.length === 3 && predictions.shape.every((n, i) => n === target.shape[i]);
  if (!sameShape || (predictions.dtype !== "float32" && predictions.dtype !== "float64")) {
    throw new ShapeError(
      `${op}: predictions ${fmtShape(predictions.shape)} (${predictions.dtype}) must be float probabilities of the target's shape ${fmtShape(target.shape)}`,
    );
  }
}

/**
 * The papers' bit metrics over the counted steps, a prediction reading as 1 when above 0.5:
 * bitAccuracy (over counted bits), bitErrorsPerSequence (wrong bits per sequence, the NTM paper's
 * "cost per sequence") and exactMatch (sequences without a wrong bit).
 */
export function bitMetrics(op: string, predictions: Tensor, batch: Batch): Evaluation {
  checkBitPredictions(op, predictions, batch);
  const { target, mask } = batch;
  const [rows, steps, width] = target.shape as [number, number, number];
  let errors = 0;
  let bits = 0;
  let exact = 0;
  for (let b = 0; b < rows; b++) {
    let rowErrors = 0;
    for (let t = 0; t < steps; t++) {
      if (mask.data[b * steps + t] === 0) continue;
      for (let i = (b * steps + t) * width, end = i + width; i < end; i++) {
        if ((predictions.data[i]! > 0.5 ? 1 : 0) !== target.data[i]) rowErrors++;
      }
      bits += width;
    }
    errors += rowErrors;
    if (rowErrors === 0) exact++;
  }
  return {
    bitAccuracy: { sum: bits - errors, count: bits },
    bitErrorsPerSequence: { sum: errors, count: rows },
    exactMatch: { sum: exact, count: rows },
  };
}

/** The metric names `bitMetrics` reports, in order. */
export const BIT_METRIC_NAMES: readonly string[] = ["bitAccuracy", "bitErrorsPerSequence", "exactMatch"];

/** `count` uniform random bits (the top bit of each 32-bit draw). */
export function randomBits(rng: Generator, count: number): number[] {
  const bits = new Array<number>(count);
  for (let i = 0; i < count; i++) bits[i] = rng.nextUint32() >>> 31;
  return bits;
}
