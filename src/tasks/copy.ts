import type { Tensor } from "../autograd/tensor.js";
import { fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { checkRange, resolveConfig, SEED_BOUNDS } from "./config.js";
import type { Evaluation } from "./metrics.js";
import { drawExample } from "./seeding.js";
import { checkBatchArgs, checkEvaluateBatch, tensorOf, type Batch, type Split, type Task } from "./task.js";

export type CopyConfig = { seed: number; width: number; minLength: number; maxLength: number };
export const COPY_DEFAULTS: Readonly<CopyConfig> = { seed: 0, width: 8, minLength: 1, maxLength: 10 };

/**
 * copy (the NTM copy task): see a sequence of random bit vectors, then a delimiter, then reproduce
 * the sequence from memory while the input is blank.
 *
 * Config (defaults): seed 0, width 8 (bits per vector), minLength 1, maxLength 10 (vectors per
 * sequence). A row of length L spans 2L + 1 steps of a [B, T, width + 1] input, T = 2 * (longest L
 * in the batch) + 1; channel `width` is the delimiter. Example with width 2, L = 2:
 *
 *   step      0     1     2     3     4
 *   input    10|0  01|0  00|1  00|0  00|0      (bits | delimiter)
 *   target    00    00    00    10    01
 *   mask       0     0     0     1     1
 *
 * Predictions are per-step bit probabilities [B, T, width]; a bit counts as 1 when above 0.5.
 * Metrics: bitAccuracy (over masked bits), bitErrorsPerSequence (the NTM paper's "cost per
 * sequence"), exactMatch.
 */
export class CopyTask implements Task {
  static readonly description =
    "NTM copy: reproduce a sequence of random bit vectors after a delimiter (width bits, minLength..maxLength vectors)";
  readonly name = "copy";
  readonly description = CopyTask.description;
  readonly kind = "bits";
  readonly vocabulary: readonly string[] = [];
  readonly metricNames: readonly string[] = ["bitAccuracy", "bitErrorsPerSequence", "exactMatch"];
  readonly config: Readonly<CopyConfig>;

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    const c = resolveConfig(
      "copy",
      config,
      { ...COPY_DEFAULTS },
      {
        seed: SEED_BOUNDS,
        width: [1, 1024],
        minLength: [1, 4096],
        maxLength: [1, 4096],
      },
    );
    checkRange("copy", "minLength", c.minLength, "maxLength", c.maxLength);
    this.config = c;
  }

  get inputSize(): number {
    return this.config.width + 1;
  }
  get outputSize(): number {
    return this.config.width;
  }

  /** Example `index` of `split` as its flat bits: length * width values, vector after vector. */
  example(split: Split, index: number): number[] {
    return drawExample(this.name, this.config.seed, split, index, (rng) => this.sample(rng));
  }

  private sample(rng: Generator): number[] {
    const { width, minLength, maxLength } = this.config;
    const bits = new Array<number>(rng.randint(minLength, maxLength + 1) * width);
    for (let i = 0; i < bits.length; i++) bits[i] = rng.nextUint32() >>> 31;
    return bits;
  }

  batch(split: Split, batchSize: number, index: number): Batch {
    checkBatchArgs("copy.batch", split, batchSize, index);
    const w = this.config.width;
    const examples: number[][] = [];
    for (let b = 0; b < batchSize; b++) examples.push(this.example(split, index * batchSize + b));
    const steps = 2 * Math.max(...examples.map((bits) => bits.length / w)) + 1;
    const input = new Float32Array(batchSize * steps * (w + 1));
    const target = new Float32Array(batchSize * steps * w);
    const mask = new Float32Array(batchSize * steps);
    const inputLengths = new Int32Array(batchSize);
    const targetLengths = new Int32Array(batchSize);
    examples.forEach((bits, b) => {
      const length = bits.length / w;
      for (let t = 0; t < length; t++) {
        for (let i = 0; i < w; i++) {
          const bit = bits[t * w + i]!;
          input[(b * steps + t) * (w + 1) + i] = bit;
          target[(b * steps + length + 1 + t) * w + i] = bit;
        }
      }
      input[(b * steps + length) * (w + 1) + w] = 1;
      mask.fill(1, b * steps + length + 1, b * steps + 2 * length + 1);
      inputLengths[b] = 2 * length + 1;
      targetLengths[b] = length;
    });
    return {
      input: tensorOf(input, [batchSize, steps, w + 1]),
      target: tensorOf(target, [batchSize, steps, w]),
      inputLengths: tensorOf(inputLengths, [batchSize]),
      targetLengths: tensorOf(targetLengths, [batchSize]),
      mask: tensorOf(mask, [batchSize, steps]),
    };
  }

  evaluate(predictions: Tensor, batch: Batch): Evaluation {
    checkEvaluateBatch("copy.evaluate", batch);
    predictions.assertAlive("copy.evaluate");
    const { target, mask } = batch;
    const sameShape = predictions.shape.length === 3 && predictions.shape.every((n, i) => n === target.shape[i]);
    if (!sameShape || (predictions.dtype !== "float32" && predictions.dtype !== "float64")) {
      throw new ShapeError(
        `copy.evaluate: predictions ${fmtShape(predictions.shape)} (${predictions.dtype}) must be float probabilities of the target's shape ${fmtShape(target.shape)}`,
      );
    }
    const [rows, steps, w] = target.shape as [number, number, number];
    let errors = 0;
    let bits = 0;
    let exact = 0;
    for (let b = 0; b < rows; b++) {
      let rowErrors = 0;
      for (let t = 0; t < steps; t++) {
        if (mask.data[b * steps + t] === 0) continue;
        for (let i = (b * steps + t) * w, end = i + w; i < end; i++) {
          if ((predictions.data[i]! > 0.5 ? 1 : 0) !== target.data[i]) rowErrors++;
        }
        bits += w;
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

  withLengths(min: number, max: number): CopyTask {
    return new CopyTask({ ...this.config, minLength: min, maxLength: max });
  }
}
