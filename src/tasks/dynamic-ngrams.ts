import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { bitMetrics, buildBitBatch, checkBitPredictions, randomBits } from "./bit-timeline.js";
import { checkRange, resolveConfig, SEED_BOUNDS } from "./config.js";
import type { Evaluation } from "./metrics.js";
import { drawExample } from "./seeding.js";
import { checkBatchArgs, checkEvaluateBatch, tensorOf, type Batch, type Split, type Task } from "./task.js";

export type DynamicNgramsConfig = { seed: number; contextBits: number; minLength: number; maxLength: number };
export const DYNAMIC_NGRAMS_DEFAULTS: Readonly<DynamicNgramsConfig> = { seed: 0, contextBits: 5, minLength: 200, maxLength: 200 };

/** One example: its lookup table (P(next bit = 1) for each context) and the bits drawn from it. */
export interface DynamicNgramsExample {
  probabilities: number[];
  bits: number[];
}

/**
 * Probabilities are kept inside [EPS, 1 - EPS] when scoring a prediction's cost, so one saturated
 * wrong output (a float32 sigmoid reaches exactly 0 or 1) costs about 23 bits instead of Infinity.
 */
const EPS = 1e-7;

/** Cost in bits of predicting P(1) = p when the bit turned out to be `bit`. */
function bitCost(p: number, bit: number): number {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return -Math.log2(bit === 1 ? q : 1 - q);
}

/**
 * dynamic-ngrams (Graves et al. 2014, section 4.4): predict the next bit of a sequence drawn from a
 * random n-gram model, a table that gives P(next bit = 1) for every context of the previous
 * contextBits bits. Each sequence has its own table of 2^contextBits probabilities drawn from
 * Beta(1/2, 1/2), so the model has to estimate the table as it reads, i.e. learn to count.
 *
 * Config (defaults, the paper's 6-gram): seed 0, contextBits 5 (32 probabilities), minLength 200,
 * maxLength 200 (bits per sequence). The first contextBits bits are uniform (they have no full
 * context yet), every later bit is drawn from the table entry of the contextBits bits before it
 * (the oldest as the most significant bit of the entry's index).
 *
 * One input channel (the current bit) and one output channel (the next bit): a sequence of L bits
 * spans L - 1 steps, input bit t and target bit t + 1 at step t. Only the bits drawn from the table
 * count: the mask covers steps contextBits - 1 .. L - 2 (L - contextBits predictions).
 *
 * Predictions are P(next bit = 1). Metrics: costPerSequence (the paper's measure, the cross-entropy
 * in bits summed over a sequence's counted steps), optimalCostPerSequence (the same cost for the
 * Bayes-optimal estimator on the same sequences: P(1 | context) = (N1 + 1/2) / (N0 + N1 + 1), with N0
 * and N1 the zeros and ones seen after that context earlier in the sequence), bitAccuracy and
 * bitErrorsPerSequence (predictions thresholded at 0.5).
 */
export class DynamicNgramsTask implements Task {
  static readonly description =
    "NTM dynamic n-grams: predict the next bit under a per-sequence random n-gram table; cost vs the Bayes-optimal estimator";
  readonly name = "dynamic-ngrams";
  readonly description = DynamicNgramsTask.description;
  readonly kind = "bits";
  readonly vocabulary: readonly string[] = [];
  readonly metricNames: readonly string[] = ["costPerSequence", "optimalCostPerSequence", "bitAccuracy", "bitErrorsPerSequence"];
  readonly inputSize = 1;
  readonly outputSize = 1;
  readonly config: Readonly<DynamicNgramsConfig>;

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    const c = resolveConfig(
      "dynamic-ngrams",
      config,
      { ...DYNAMIC_NGRAMS_DEFAULTS },
      { seed: SEED_BOUNDS, contextBits: [1, 10], minLength: [2, 65536], maxLength: [2, 65536] },
    );
    checkRange("dynamic-ngrams", "minLength", c.minLength, "maxLength", c.maxLength);
    if (c.minLength <= c.contextBits) {
      throw new ArgumentError(
        `dynamic-ngrams: minLength (${c.minLength}) must exceed contextBits (${c.contextBits}): only bits after a full context are predicted`,
      );
    }
    this.config = c;
  }

  /** Example `index` of `split`. The table is not part of the batch: only its bits are observed. */
  example(split: Split, index: number): DynamicNgramsExample {
    let probabilities: number[] = [];
    const bits = drawExample(this.name, this.config.seed, split, index, (rng) => {
      // The split is decided by the bits alone; the table of the accepted draw goes with them.
      probabilities = this.sampleTable(rng);
      return this.sampleBits(rng, probabilities);
    });
    return { probabilities, bits };
  }

  /** Beta(1/2, 1/2) by inversion: sin^2(pi U / 2) is arcsine-distributed for U uniform. */
  private sampleTable(rng: Generator): number[] {
    return Array.from({ length: 2 ** this.config.contextBits }, () => Math.sin((Math.PI * rng.random()) / 2) ** 2);
  }

  private sampleBits(rng: Generator, probabilities: readonly number[]): number[] {
    const { contextBits: k, minLength, maxLength } = this.config;
    const length = rng.randint(minLength, maxLength + 1);
    const bits = randomBits(rng, k);
    let context = bits.reduce((c, bit) => (c << 1) | bit, 0);
    for (let t = k; t < length; t++) {
      const bit = rng.random() < probabilities[context]! ? 1 : 0;
      bits.push(bit);
      context = ((context << 1) | bit) & ((1 << k) - 1);
    }
    return bits;
  }

  batch(split: Split, batchSize: number, index: number): Batch {
    checkBatchArgs("dynamic-ngrams.batch", split, batchSize, index);
    const k = this.config.contextBits;
    const sequences: number[][] = [];
    for (let b = 0; b < batchSize; b++) sequences.push(this.example(split, index * batchSize + b).bits);
    return buildBitBatch(
      1,
      1,
      sequences.map((bits) => bits.length - 1),
      (b, row) => {
        const bits = sequences[b]!;
        for (let t = 0; t + 1 < bits.length; t++) {
          row.input(t, 0, bits[t]!);
          row.target(t, 0, bits[t + 1]!);
        }
        row.output(k - 1, bits.length - 1);
      },
    );
  }

  /**
   * The Bayes-optimal estimator's P(next bit = 1) at every step of `batch` [B, T, 1] (0.5 where the
   * mask is 0): for each counted step, (N1 + 1/2) / (N0 + N1 + 1) over what followed the same
   * context earlier in the row.
   */
  optimalPredictions(batch: Batch): Tensor {
    return tensorOf(Float32Array.from(this.bayes("dynamic-ngrams.optimalPredictions", batch)), batch.target.shape);
  }

  private bayes(op: string, batch: Batch): Float64Array {
    checkEvaluateBatch(op, batch);
    const { input, target, mask } = batch;
    const [rows, steps] = mask.shape as [number, number];
    if (input.shape.length !== 3 || input.shape[0] !== rows || input.shape[1] !== steps || input.shape[2] !== 1 || target.shape[2] !== 1) {
      throw new ArgumentError(`${op}: expected a batch made by the same task's batch()`);
    }
    const k = this.config.contextBits;
    const p = new Float64Array(rows * steps).fill(0.5);
    const counts = new Float64Array(2 * 2 ** k);
    for (let b = 0; b < rows; b++) {
      counts.fill(0);
      let context = 0;
      for (let t = 0; t < steps; t++) {
        const i = b * steps + t;
        context = ((context << 1) | (input.data[i] === 1 ? 1 : 0)) & ((1 << k) - 1);
        if (mask.data[i] === 0) continue;
        const n0 = counts[2 * context]!;
        const n1 = counts[2 * context + 1]!;
        p[i] = (n1 + 0.5) / (n0 + n1 + 1);
        counts[2 * context + (target.data[i] === 1 ? 1 : 0)]!++;
      }
    }
    return p;
  }

  evaluate(predictions: Tensor, batch: Batch): Evaluation {
    const op = "dynamic-ngrams.evaluate";
    checkBitPredictions(op, predictions, batch);
    const optimal = this.bayes(op, batch);
    const { target, mask } = batch;
    let cost = 0;
    let optimalCost = 0;
    for (let i = 0; i < mask.size; i++) {
      if (mask.data[i] === 0) continue;
      cost += bitCost(predictions.data[i]!, target.data[i]!);
      optimalCost += bitCost(optimal[i]!, target.data[i]!);
    }
    const rows = mask.shape[0]!;
    const thresholded = bitMetrics(op, predictions, batch);
    return {
      costPerSequence: { sum: cost, count: rows },
      optimalCostPerSequence: { sum: optimalCost, count: rows },
      bitAccuracy: thresholded.bitAccuracy!,
      bitErrorsPerSequence: thresholded.bitErrorsPerSequence!,
    };
  }

  /** The same task with sequences of `min..max` bits. */
  withLengths(min: number, max: number): DynamicNgramsTask {
    return new DynamicNgramsTask({ ...this.config, minLength: min, maxLength: max });
  }
}
