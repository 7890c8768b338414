import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { BIT_METRIC_NAMES, bitMetrics, buildBitBatch, randomBits } from "./bit-timeline.js";
import { checkRange, resolveConfig, SEED_BOUNDS } from "./config.js";
import type { Evaluation } from "./metrics.js";
import { drawExample } from "./seeding.js";
import { checkBatchArgs, type Batch, type Split, type Task } from "./task.js";

export type AssociativeRecallConfig = { seed: number; width: number; itemLength: number; minItems: number; maxItems: number };
export const ASSOCIATIVE_RECALL_DEFAULTS: Readonly<AssociativeRecallConfig> = {
  seed: 0,
  width: 6,
  itemLength: 3,
  minItems: 2,
  maxItems: 6,
};

/** One example: its items (each itemLength * width bits, vector after vector) and which one is the query. */
export interface AssociativeRecallExample {
  items: number[][];
  /** Index of the query item; the answer is item query + 1. */
  query: number;
}

/**
 * associative-recall (Graves et al. 2014, section 4.3): see a list of items, each a short sequence
 * of bit vectors, then one of them again as a query, and output the item that followed it in the
 * list. The model has to find the query by content and then step to its neighbour.
 *
 * Config (defaults, the paper's): seed 0, width 6 (bits per vector), itemLength 3 (vectors per
 * item), minItems 2, maxItems 6. withLengths sets the item range. Items of one example are distinct,
 * so the answer is unique; the query is uniform over all items but the last.
 *
 * Input channels: bits 0..width-1, the item delimiter (channel width), the query delimiter (channel
 * width + 1). Each item is preceded by an item delimiter step; the query item is bounded by query
 * delimiter steps on both sides; then the answer is output over itemLength steps while the input is
 * blank. A row with k items spans k * (itemLength + 1) + 2 * itemLength + 2 steps. Example with
 * width 2, itemLength 1, items [10, 01, 11], query item 0:
 *
 *   step      0      1      2      3      4      5      6      7      8      9
 *   input   00|10  10|00  00|10  01|00  00|10  11|00  00|01  10|00  00|01  00|00   (bits | item query)
 *   target    00     00     00     00     00     00     00     00     00     01
 *   mask       0      0      0      0      0      0      0      0      0      1
 *
 * Metrics: bitAccuracy, bitErrorsPerSequence, exactMatch over the answer.
 */
export class AssociativeRecallTask implements Task {
  static readonly description =
    "NTM associative recall: after a list of bit-vector items and a query item, output the item that followed the query (minItems..maxItems)";
  readonly name = "associative-recall";
  readonly description = AssociativeRecallTask.description;
  readonly kind = "bits";
  readonly vocabulary: readonly string[] = [];
  readonly metricNames = BIT_METRIC_NAMES;
  readonly config: Readonly<AssociativeRecallConfig>;

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    const c = resolveConfig(
      "associative-recall",
      config,
      { ...ASSOCIATIVE_RECALL_DEFAULTS },
      { seed: SEED_BOUNDS, width: [1, 1024], itemLength: [1, 256], minItems: [2, 4096], maxItems: [2, 4096] },
    );
    checkRange("associative-recall", "minItems", c.minItems, "maxItems", c.maxItems);
    const itemBits = c.width * c.itemLength;
    if (itemBits < 31 && 2 ** itemBits < c.maxItems) {
      throw new ArgumentError(
        `associative-recall: maxItems (${c.maxItems}) exceeds the ${2 ** itemBits} distinct items of width * itemLength = ${itemBits} bits`,
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
  example(split: Split, index: number): AssociativeRecallExample {
    const [query, ...bits] = drawExample(this.name, this.config.seed, split, index, (rng) => this.sample(rng));
    const size = this.config.width * this.config.itemLength;
    const items: number[][] = [];
    for (let i = 0; i < bits.length; i += size) items.push(bits.slice(i, i + size));
    return { items, query: query! };
  }

  private sample(rng: Generator): number[] {
    const { width, itemLength, minItems, maxItems } = this.config;
    const count = rng.randint(minItems, maxItems + 1);
    const seen = new Set<string>();
    const bits: number[] = [];
    while (seen.size < count) {
      const item = randomBits(rng, width * itemLength);
      const key = item.join("");
      if (seen.has(key)) continue; // a repeated item would make the answer ambiguous
      seen.add(key);
      bits.push(...item);
    }
    return [rng.randint(0, count - 1), ...bits];
  }

  batch(split: Split, batchSize: number, index: number): Batch {
    checkBatchArgs("associative-recall.batch", split, batchSize, index);
    const { width: w, itemLength: n } = this.config;
    const examples: AssociativeRecallExample[] = [];
    for (let b = 0; b < batchSize; b++) examples.push(this.example(split, index * batchSize + b));
    return buildBitBatch(
      w + 2,
      w,
      examples.map((e) => e.items.length * (n + 1) + 2 * n + 2),
      (b, row) => {
        const { items, query } = examples[b]!;
        const writeItem = (item: readonly number[], at: number, write: (t: number, c: number, v: number) => void): void => {
          for (let i = 0; i < item.length; i++) write(at + Math.floor(i / w), i % w, item[i]!);
        };
        items.forEach((item, k) => {
          row.input(k * (n + 1), w, 1);
          writeItem(item, k * (n + 1) + 1, row.input);
        });
        const queryStart = items.length * (n + 1);
        row.input(queryStart, w + 1, 1);
        writeItem(items[query]!, queryStart + 1, row.input);
        row.input(queryStart + n + 1, w + 1, 1);
        const answerStart = queryStart + n + 2;
        writeItem(items[query + 1]!, answerStart, row.target);
        row.output(answerStart, answerStart + n);
      },
    );
  }

  evaluate(predictions: Tensor, batch: Batch): Evaluation {
    return bitMetrics("associative-recall.evaluate", predictions, batch);
  }

  /** The same task with `min..max` items per example. */
  withLengths(min: number, max: number): AssociativeRecallTask {
    return new AssociativeRecallTask({ ...this.config, minItems: min, maxItems: max });
  }
}
