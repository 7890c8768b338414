import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { BIT_METRIC_NAMES, bitMetrics, buildBitBatch, randomBits } from "./bit-timeline.js";
import { checkRange, resolveConfig, SEED_BOUNDS } from "./config.js";
import type { Evaluation } from "./metrics.js";
import { drawExample } from "./seeding.js";
import { checkBatchArgs, type Batch, type Split, type Task } from "./task.js";

export type RepeatCopyConfig = {
  seed: number;
  width: number;
  minLength: number;
  maxLength: number;
  minRepeats: number;
  maxRepeats: number;
  normMinRepeats: number;
  normMaxRepeats: number;
};
export const REPEAT_COPY_DEFAULTS: Readonly<RepeatCopyConfig> = {
  seed: 0,
  width: 8,
  minLength: 1,
  maxLength: 10,
  minRepeats: 1,
  maxRepeats: 10,
  normMinRepeats: 1,
  normMaxRepeats: 10,
};

/** One example: the repeat count and the sequence's bits, vector after vector. */
export interface RepeatCopyExample {
  repeats: number;
  bits: number[];
}

/**
 * repeat-copy (Graves et al. 2014, section 4.2): see a sequence of random bit vectors, then how many
 * times to repeat it, then output the sequence that many times followed by an end marker. The
 * model must both hold the sequence and count its copies to place the end marker.
 *
 * Config (defaults): seed 0, width 8, minLength 1, maxLength 10 (vectors), minRepeats 1,
 * maxRepeats 10, normMinRepeats 1 and normMaxRepeats 10: the repeat range the count channel is
 * standardised over. Left out, they follow minRepeats/maxRepeats; they stay fixed in withLengths and
 * withRepeats, so a count means the same input value when evaluating beyond the trained range.
 *
 * Input channels: bits 0..width-1, the delimiter (channel width), the repeat count (channel
 * width + 1), standardised to zero mean and unit variance over U{normMin..normMax} as in the paper:
 * (N - (min + max) / 2) / sqrt(((max - min + 1)^2 - 1) / 12). Output channels: bits, then the end
 * marker (channel width). A row with L vectors and N repeats spans L + 2 + L * N + 1 steps. Example
 * with width 2, L = 2, N = 2, norm range 1..3 (count channel (2 - 2) / sqrt(2/3) = 0):
 *
 *   step      0       1       2       3       4     5     6     7     8
 *   input    10|0 0  01|0 0  00|1 0  00|0 0  0...  0...  0...  0...  0...   (bits | delimiter count)
 *   target    00|0    00|0    00|0    00|0   10|0  01|0  10|0  01|0  00|1   (bits | end marker)
 *   mask       0       0       0       0      1     1     1     1     1
 *
 * Metrics: bitAccuracy, bitErrorsPerSequence, exactMatch over the output phase (end marker included).
 */
export class RepeatCopyTask implements Task {
  static readonly description =
    "NTM repeat copy: output a bit-vector sequence N times then an end marker (minLength..maxLength vectors, minRepeats..maxRepeats)";
  readonly name = "repeat-copy";
  readonly description = RepeatCopyTask.description;
  readonly kind = "bits";
  readonly vocabulary: readonly string[] = [];
  readonly metricNames = BIT_METRIC_NAMES;
  readonly config: Readonly<RepeatCopyConfig>;

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    const c = resolveConfig(
      "repeat-copy",
      config,
      {
        ...REPEAT_COPY_DEFAULTS,
        // The count is standardised over the sampled range unless told otherwise.
        normMinRepeats: (config?.minRepeats as number | undefined) ?? REPEAT_COPY_DEFAULTS.minRepeats,
        normMaxRepeats: (config?.maxRepeats as number | undefined) ?? REPEAT_COPY_DEFAULTS.maxRepeats,
      },
      {
        seed: SEED_BOUNDS,
        width: [1, 1024],
        minLength: [1, 4096],
        maxLength: [1, 4096],
        minRepeats: [1, 4096],
        maxRepeats: [1, 4096],
        normMinRepeats: [1, 4096],
        normMaxRepeats: [1, 4096],
      },
    );
    checkRange("repeat-copy", "minLength", c.minLength, "maxLength", c.maxLength);
    checkRange("repeat-copy", "minRepeats", c.minRepeats, "maxRepeats", c.maxRepeats);
    if (c.normMinRepeats >= c.normMaxRepeats) {
      throw new ArgumentError(
        `repeat-copy: normMinRepeats (${c.normMinRepeats}) must be less than normMaxRepeats (${c.normMaxRepeats}); a single repeat count has no spread to standardise by (set the norm range explicitly to train on one count)`,
      );
    }
    this.config = c;
  }

  get inputSize(): number {
    return this.config.width + 2;
  }
  get outputSize(): number {
    return this.config.width + 1;
  }

  /** The count channel's value for `repeats`: standardised over U{normMinRepeats..normMaxRepeats}. */
  repeatInput(repeats: number): number {
    const { normMinRepeats: lo, normMaxRepeats: hi } = this.config;
    return (repeats - (lo + hi) / 2) / Math.sqrt(((hi - lo + 1) ** 2 - 1) / 12);
  }

  /** Example `index` of `split`. */
  example(split: Split, index: number): RepeatCopyExample {
    const [repeats, ...bits] = drawExample(this.name, this.config.seed, split, index, (rng) => this.sample(rng));
    return { repeats: repeats!, bits };
  }

  private sample(rng: Generator): number[] {
    const { width, minLength, maxLength, minRepeats, maxRepeats } = this.config;
    const length = rng.randint(minLength, maxLength + 1);
    return [rng.randint(minRepeats, maxRepeats + 1), ...randomBits(rng, length * width)];
  }

  batch(split: Split, batchSize: number, index: number): Batch {
    checkBatchArgs("repeat-copy.batch", split, batchSize, index);
    const w = this.config.width;
    const examples: RepeatCopyExample[] = [];
    for (let b = 0; b < batchSize; b++) examples.push(this.example(split, index * batchSize + b));
    const lengthOf = (e: RepeatCopyExample): number => e.bits.length / w;
    return buildBitBatch(
      w + 2,
      w + 1,
      examples.map((e) => lengthOf(e) * (e.repeats + 1) + 3),
      (b, row) => {
        const { repeats, bits } = examples[b]!;
        const length = lengthOf(examples[b]!);
        const start = length + 2; // first output step
        for (let t = 0; t < length; t++) {
          for (let i = 0; i < w; i++) {
            row.input(t, i, bits[t * w + i]!);
            for (let r = 0; r < repeats; r++) row.target(start + r * length + t, i, bits[t * w + i]!);
          }
        }
        row.input(length, w, 1);
        row.input(length + 1, w + 1, this.repeatInput(repeats));
        row.target(start + repeats * length, w, 1);
        row.output(start, start + repeats * length + 1);
      },
    );
  }

  evaluate(predictions: Tensor, batch: Batch): Evaluation {
    return bitMetrics("repeat-copy.evaluate", predictions, batch);
  }

  /** The same task with `min..max` vectors per sequence (repeats and their standardisation unchanged). */
  withLengths(min: number, max: number): RepeatCopyTask {
    return new RepeatCopyTask({ ...this.config, minLength: min, maxLength: max });
  }

  /** The same task with `min..max` repeats, the count channel still standardised over the original range. */
  withRepeats(min: number, max: number): RepeatCopyTask {
    return new RepeatCopyTask({ ...this.config, minRepeats: min, maxRepeats: max });
  }
}
