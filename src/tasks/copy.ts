import type { Tensor } from "../autograd/tensor.js";
import type { Generator } from "../core/rng.js";
import { BIT_METRIC_NAMES, bitMetrics, buildBitBatch, randomBits } from "./bit-timeline.js";
import { checkRange, resolveConfig, SEED_BOUNDS } from "./config.js";
import type { Evaluation } from "./metrics.js";
import { drawExample } from "./seeding.js";
import { checkBatchArgs, type Batch, type Split, type Task } from "./task.js";

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
  readonly metricNames = BIT_METRIC_NAMES;
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
    return randomBits(rng, rng.randint(minLength, maxLength + 1) * width);
  }

  batch(split: Split, batchSize: number, index: number): Batch {
    checkBatchArgs("copy.batch", split, batchSize, index);
    const w = this.config.width;
    const examples: number[][] = [];
    for (let b = 0; b < batchSize; b++) examples.push(this.example(split, index * batchSize + b));
    return buildBitBatch(
      w + 1,
      w,
      examples.map((bits) => (2 * bits.length) / w + 1),
      (b, row) => {
        const bits = examples[b]!;
        const length = bits.length / w;
        for (let t = 0; t < length; t++) {
          for (let i = 0; i < w; i++) {
            row.input(t, i, bits[t * w + i]!);
            row.target(length + 1 + t, i, bits[t * w + i]!);
          }
        }
        row.input(length, w, 1);
        row.output(length + 1, 2 * length + 1);
      },
    );
  }

  evaluate(predictions: Tensor, batch: Batch): Evaluation {
    return bitMetrics("copy.evaluate", predictions, batch);
  }

  withLengths(min: number, max: number): CopyTask {
    return new CopyTask({ ...this.config, minLength: min, maxLength: max });
  }
}
