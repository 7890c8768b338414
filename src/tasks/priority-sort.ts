import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { BIT_METRIC_NAMES, bitMetrics, buildBitBatch, randomBits } from "./bit-timeline.js";
import { checkRange, resolveConfig, SEED_BOUNDS } from "./config.js";
import type { Evaluation } from "./metrics.js";
import { drawExample } from "./seeding.js";
import { checkBatchArgs, type Batch, type Split, type Task } from "./task.js";

export type PrioritySortConfig = { seed: number; width: number; minLength: number; maxLength: number; outputLength: number };
export const PRIORITY_SORT_DEFAULTS: Readonly<PrioritySortConfig> = { seed: 0, width: 8, minLength: 20, maxLength: 20, outputLength: 16 };

/** One example: its vectors (width bits each) and their priorities, in input order. */
export interface PrioritySortExample {
  vectors: number[][];
  priorities: number[];
}

/** Indices of the `count` highest priorities, highest first; equal priorities keep input order. */
export function priorityOrder(priorities: readonly number[], count: number): number[] {
  return priorities
    .map((_, i) => i)
    .sort((a, b) => priorities[b]! - priorities[a]! || a - b)
    .slice(0, count);
}

/**
 * priority-sort (Graves et al. 2014, section 4.5): see random bit vectors, each with a scalar
 * priority, then output the outputLength highest-priority vectors in descending priority order.
 *
 * Config (defaults, the paper's): seed 0, width 8, minLength 20, maxLength 20 (input vectors),
 * outputLength 16 (at most minLength). Priorities are uniform in [-1, 1], rounded to float32 (the
 * value the model sees is the value that ranks); withLengths sets the input range and keeps
 * outputLength, so longer inputs hold more vectors to pass over.
 *
 * Input channels: bits 0..width-1, the delimiter (channel width, on the step after the last vector,
 * which starts the output phase), the priority (channel width + 1). A row with L vectors spans
 * L + 1 + outputLength steps. Example with width 2, L = 3, outputLength 2, priorities
 * (0.5, -0.25, 0.75):
 *
 *   step         0           1           2         3      4     5
 *   input   10|0 0.5   01|0 -0.25  11|0 0.75   00|1 0   0...  0...   (bits | delimiter priority)
 *   target     00          00          00         00     11    10
 *   mask        0           0           0          0      1     1
 *
 * Metrics: bitAccuracy, bitErrorsPerSequence, exactMatch over the output phase.
 */
export class PrioritySortTask implements Task {
  static readonly description =
    "NTM priority sort: output the outputLength highest-priority of minLength..maxLength bit vectors, highest first";
  readonly name = "priority-sort";
  readonly description = PrioritySortTask.description;
  readonly kind = "bits";
  readonly vocabulary: readonly string[] = [];
  readonly metricNames = BIT_METRIC_NAMES;
  readonly config: Readonly<PrioritySortConfig>;

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    const c = resolveConfig(
      "priority-sort",
      config,
      { ...PRIORITY_SORT_DEFAULTS },
      { seed: SEED_BOUNDS, width: [1, 1024], minLength: [1, 4096], maxLength: [1, 4096], outputLength: [1, 4096] },
    );
    checkRange("priority-sort", "minLength", c.minLength, "maxLength", c.maxLength);
    if (c.outputLength > c.minLength) {
      throw new ArgumentError(
        `priority-sort: outputLength (${c.outputLength}) must not exceed minLength (${c.minLength}): every input must hold that many vectors`,
      );
    }
    this.config = c;
  }

  get inputSize(): number {
    return this.config.width + 2;
  }
  get outputSize(): number {
    return this.config.width;
  }

  /** Example `index` of `split`. */
  example(split: Split, index: number): PrioritySortExample {
    const content = drawExample(this.name, this.config.seed, split, index, (rng) => this.sample(rng));
    const w = this.config.width;
    const length = content.length / (w + 1);
    const vectors: number[][] = [];
    const priorities: number[] = [];
    for (let t = 0; t < length; t++) {
      vectors.push(content.slice(t * w, (t + 1) * w));
      priorities.push(Math.fround(content[length * w + t]! / 2 ** 31 - 1));
    }
    return { vectors, priorities };
  }

  /** Content: the bits, then one 32-bit draw per vector that sets its priority. */
  private sample(rng: Generator): number[] {
    const { width, minLength, maxLength } = this.config;
    const length = rng.randint(minLength, maxLength + 1);
    const bits = randomBits(rng, length * width);
    for (let t = 0; t < length; t++) bits.push(rng.nextUint32());
    return bits;
  }

  batch(split: Split, batchSize: number, index: number): Batch {
    checkBatchArgs("priority-sort.batch", split, batchSize, index);
    const { width: w, outputLength } = this.config;
    const examples: PrioritySortExample[] = [];
    for (let b = 0; b < batchSize; b++) examples.push(this.example(split, index * batchSize + b));
    return buildBitBatch(
      w + 2,
      w,
      examples.map((e) => e.vectors.length + 1 + outputLength),
      (b, row) => {
        const { vectors, priorities } = examples[b]!;
        const length = vectors.length;
        vectors.forEach((vector, t) => {
          vector.forEach((bit, i) => row.input(t, i, bit));
          row.input(t, w + 1, priorities[t]!);
        });
        row.input(length, w, 1);
        priorityOrder(priorities, outputLength).forEach((source, k) => {
          vectors[source]!.forEach((bit, i) => row.target(length + 1 + k, i, bit));
        });
        row.output(length + 1, length + 1 + outputLength);
      },
    );
  }

  evaluate(predictions: Tensor, batch: Batch): Evaluation {
    return bitMetrics("priority-sort.evaluate", predictions, batch);
  }

  /** The same task with `min..max` input vectors (outputLength unchanged). */
  withLengths(min: number, max: number): PrioritySortTask {
    return new PrioritySortTask({ ...this.config, minLength: min, maxLength: max });
  }
}
