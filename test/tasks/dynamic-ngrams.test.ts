// dynamic-ngrams (NTM section 4.4): next-bit layout, Beta(1/2, 1/2) tables, the Bayes-optimal estimator, costs, splits, lengths.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { ArgumentError, ShapeError } from "../../src/core/errors.js";
import { createTask, DynamicNgramsTask, summarize, type Batch, type Split } from "../../src/tasks/index.js";

/** A hand-made batch of one row: input bits[0..L-2], target bits[1..L-1], counted from step `from`. */
function handBatch(bits: number[], from: number): Batch {
  const steps = bits.length - 1;
  return {
    input: eg.tensor(bits.slice(0, steps), { shape: [1, steps, 1] }),
    target: eg.tensor(bits.slice(1), { shape: [1, steps, 1] }),
    mask: eg.tensor(
      bits.slice(1).map((_, t) => (t >= from ? 1 : 0)),
      { shape: [1, steps] },
    ),
    inputLengths: eg.tensor([steps], { dtype: "int32" }),
    targetLengths: eg.tensor([steps - from], { dtype: "int32" }),
  };
}

/** The Bayes-optimal cost of a sequence, written directly from the formula over context strings. */
function bayesCost(bits: readonly number[], k: number): number {
  const counts = new Map<string, [number, number]>();
  let cost = 0;
  for (let t = k; t < bits.length; t++) {
    const context = bits.slice(t - k, t).join("");
    const [n0, n1] = counts.get(context) ?? [0, 0];
    const p1 = (n1 + 0.5) / (n0 + n1 + 1);
    cost -= Math.log2(bits[t] === 1 ? p1 : 1 - p1);
    counts.set(context, bits[t] === 1 ? [n0, n1 + 1] : [n0 + 1, n1]);
  }
  return cost;
}

describe("dynamic-ngrams", () => {
  it("feeds bit t and targets bit t + 1, counting only bits drawn from the table", () => {
    const task = new DynamicNgramsTask({ seed: 3, contextBits: 2, minLength: 6, maxLength: 12 });
    expect([task.inputSize, task.outputSize]).toEqual([1, 1]);
    for (const split of ["train", "validation", "test"] as const) {
      const batch = task.batch(split, 10, 1);
      const steps = batch.input.shape[1]!;
      for (let b = 0; b < 10; b++) {
        const { bits, probabilities } = task.example(split, 10 + b);
        expect(probabilities.length).toBe(4);
        const L = bits.length;
        expect(L).toBeGreaterThanOrEqual(6);
        expect(L).toBeLessThanOrEqual(12);
        const pad = (xs: number[]): number[] => [...xs, ...new Array<number>(steps - xs.length).fill(0)];
        expect(Array.from(batch.input.data.subarray(b * steps, (b + 1) * steps))).toEqual(pad(bits.slice(0, L - 1)));
        expect(Array.from(batch.target.data.subarray(b * steps, (b + 1) * steps))).toEqual(pad(bits.slice(1)));
        // step 0 predicts bit 1, whose context (bits -1, 0) is incomplete; bit 2 is the first drawn from the table
        expect(Array.from(batch.mask.data.subarray(b * steps, (b + 1) * steps))).toEqual(
          pad(bits.slice(1).map((_, t) => (t >= 1 ? 1 : 0))),
        );
        expect(batch.inputLengths.data[b]).toBe(L - 1);
        expect(batch.targetLengths.data[b]).toBe(L - 2);
      }
    }
  });

  it("draws the paper's 32 probabilities per sequence from Beta(1/2, 1/2)", () => {
    const task = createTask("dynamic-ngrams", { seed: 1 }) as DynamicNgramsTask;
    expect(task.config).toEqual({ seed: 1, contextBits: 5, minLength: 200, maxLength: 200 });
    const tables = Array.from({ length: 200 }, (_, i) => task.example("train", i).probabilities);
    expect(tables.every((t) => t.length === 32)).toBe(true);
    const all = tables.flat();
    const mean = all.reduce((a, p) => a + p, 0) / all.length;
    const variance = all.reduce((a, p) => a + (p - mean) ** 2, 0) / all.length;
    // Beta(1/2, 1/2): mean 1/2, variance 1/8, P(p < 0.1) = (2 / pi) asin(sqrt(0.1)) = 0.2048 (U-shaped, unlike uniform's 0.1)
    expect(mean).toBeCloseTo(0.5, 1);
    expect(variance).toBeGreaterThan(0.115);
    expect(variance).toBeLessThan(0.135);
    expect(all.filter((p) => p < 0.1).length / all.length).toBeGreaterThan(0.18);
    expect(all.filter((p) => p < 0.1).length / all.length).toBeLessThan(0.23);
    // Each sequence has its own table.
    expect(new Set(tables.map((t) => t[0])).size).toBe(200);
  });

  it("draws each bit from the table entry of the 5 bits before it", () => {
    const task = new DynamicNgramsTask({ seed: 2 });
    let low = 0;
    let lowOnes = 0;
    let high = 0;
    let highOnes = 0;
    for (let i = 0; i < 100; i++) {
      const { bits, probabilities } = task.example("train", i);
      for (let t = 5; t < bits.length; t++) {
        const context = parseInt(bits.slice(t - 5, t).join(""), 2); // oldest bit most significant
        if (probabilities[context]! < 0.05) {
          low++;
          lowOnes += bits[t]!;
        }
        if (probabilities[context]! > 0.95) {
          high++;
          highOnes += bits[t]!;
        }
      }
    }
    expect(low).toBeGreaterThan(500);
    expect(high).toBeGreaterThan(500);
    expect(lowOnes / low).toBeLessThan(0.04);
    expect(highOnes / high).toBeGreaterThan(0.96);
  });

  it("computes the Bayes-optimal estimator exactly on a hand example", () => {
    const task = new DynamicNgramsTask({ contextBits: 1, minLength: 4, maxLength: 4 });
    // context 0 three times: P(1) = 1/2, then 1/4 after one 0, then 1/6 after two 0s; the bits 0, 0, 1
    // cost -log2(1/2 * 3/4 * 1/6) = 4 bits.
    const batch = handBatch([0, 0, 0, 1], 0);
    expect(Array.from(task.optimalPredictions(batch).data)).toEqual([0.5, 0.25, Math.fround(1 / 6)]);
    const result = task.evaluate(eg.full([1, 3, 1], 0.5), batch);
    expect(result.optimalCostPerSequence!.sum).toBeCloseTo(4, 12);
    expect(result.costPerSequence!.sum).toBeCloseTo(3, 12); // 1 bit per counted bit for a coin flip
    // Contexts are counted separately: after 0 1 0 1, context 1 has seen one 0, context 0 one 1.
    const two = handBatch([0, 1, 0, 1, 1], 0);
    expect(Array.from(task.optimalPredictions(two).data)).toEqual([0.5, 0.5, 0.75, 0.25]);
  });

  it("matches an independent Bayes-optimal cost, and is beaten only by knowing the table", () => {
    const task = new DynamicNgramsTask({ seed: 4 });
    const batch = task.batch("test", 64, 0);
    const result = task.evaluate(eg.full(batch.target.shape, 0.5), batch);
    let independent = 0;
    let oracle = 0;
    for (let b = 0; b < 64; b++) {
      const { bits, probabilities } = task.example("test", b);
      independent += bayesCost(bits, 5);
      for (let t = 5; t < bits.length; t++) {
        const p = probabilities[parseInt(bits.slice(t - 5, t).join(""), 2)]!;
        oracle -= Math.log2(bits[t] === 1 ? p : 1 - p);
      }
    }
    expect(result.optimalCostPerSequence!.sum).toBeCloseTo(independent, 6);
    expect(result.costPerSequence).toEqual({ sum: 64 * 195, count: 64 });
    const optimal = summarize(result).optimalCostPerSequence!;
    // The estimator has to learn 32 probabilities from 195 bits: far below a coin's 195 bits, above the oracle.
    expect(optimal).toBeLessThan(0.8 * 195);
    expect(optimal).toBeGreaterThan(oracle / 64);
    // Scoring the estimator's own predictions gives its cost (up to float32 rounding of the probabilities).
    const own = summarize(task.evaluate(task.optimalPredictions(batch), batch));
    expect(own.costPerSequence).toBeCloseTo(optimal, 3);
  });

  describe("metrics", () => {
    const task = new DynamicNgramsTask({ seed: 5, minLength: 30, maxLength: 40 });
    const batch = task.batch("validation", 6, 0);
    const rows = 6;
    const counted = Array.from(batch.targetLengths.data).reduce((a, n) => a + n, 0);
    let countedOnes = 0;
    batch.mask.data.forEach((m, i) => (countedOnes += m * batch.target.data[i]!));

    it("reports costs and thresholded bit errors", () => {
      expect(task.metricNames).toEqual(["costPerSequence", "optimalCostPerSequence", "bitAccuracy", "bitErrorsPerSequence"]);
      const right = summarize(task.evaluate(batch.target, batch));
      expect(right.bitAccuracy).toBe(1);
      expect(right.bitErrorsPerSequence).toBe(0);
      expect(right.costPerSequence).toBeLessThan(1e-4); // certain and right: about 0 bits
      const wrong = task.evaluate(eg.sub(1, batch.target), batch);
      expect(wrong.bitErrorsPerSequence).toEqual({ sum: counted, count: rows });
      expect(wrong.bitAccuracy).toEqual({ sum: 0, count: counted });
      // certain and wrong: capped at -log2(1e-7) = 23.25 bits per bit, not Infinity
      expect(wrong.costPerSequence!.sum / counted).toBeCloseTo(-Math.log2(1e-7), 4);
      // a coin (0.5 reads as 0) misses exactly the ones
      expect(task.evaluate(eg.full(batch.target.shape, 0.5), batch).bitErrorsPerSequence!.sum).toBe(countedOnes);
    });

    it("ignores predictions outside the counted steps", () => {
      const p = Float32Array.from(batch.target.data, (bit, i) => (batch.mask.data[i] === 1 ? bit : 1 - bit));
      const result = summarize(task.evaluate(eg.tensor(p, { shape: batch.target.shape }), batch));
      expect(result.bitErrorsPerSequence).toBe(0);
      expect(result.costPerSequence).toBeLessThan(1e-4);
    });

    it("rejects predictions and batches of the wrong shape", () => {
      expect(() => task.evaluate(eg.zeros([rows, 5, 1]), batch)).toThrow(ShapeError);
      expect(() => task.evaluate(eg.zeros([rows, 5, 1]), batch)).toThrow(/^dynamic-ngrams\.evaluate: predictions \[6, 5, 1\]/);
      const other = new DynamicNgramsTask({ seed: 5 }).batch("test", 6, 0);
      expect(() => task.evaluate(eg.zeros(other.target.shape), { ...other, input: eg.zeros([6, 1, 1]) })).toThrow(
        /^dynamic-ngrams\.evaluate: expected a batch made by the same task's batch\(\)$/,
      );
      expect(() => task.optimalPredictions({} as Batch)).toThrow(/^dynamic-ngrams\.optimalPredictions: expected a batch/);
    });
  });

  it("regenerates batches exactly; splits and seeds differ; splits are disjoint on a small space", () => {
    const task = new DynamicNgramsTask({ seed: 6 });
    const again = createTask("dynamic-ngrams", task.config);
    expect(Array.from(again.batch("train", 3, 4).target.data)).toEqual(Array.from(task.batch("train", 3, 4).target.data));
    const key = (t: DynamicNgramsTask, split: Split, i: number): string => t.example(split, i).bits.join("");
    expect(key(task, "train", 0)).not.toBe(key(task, "test", 0));
    expect(key(task, "train", 0)).not.toBe(key(new DynamicNgramsTask({ seed: 7 }), "train", 0));
    // 2-bit context, 4..5 bits: 48 sequences
    const small = new DynamicNgramsTask({ seed: 1, contextBits: 2, minLength: 4, maxLength: 5 });
    const seen: Record<Split, Set<string>> = { train: new Set(), validation: new Set(), test: new Set() };
    for (const split of ["train", "validation", "test"] as const) for (let i = 0; i < 300; i++) seen[split].add(key(small, split, i));
    expect(seen.train.size).toBeGreaterThan(20);
    expect(seen.test.size).toBeGreaterThan(1);
    for (const k of seen.test) expect(seen.train.has(k) || seen.validation.has(k)).toBe(false);
    for (const k of seen.validation) expect(seen.train.has(k)).toBe(false);
  });

  it("withLengths sets the sequence length in bits", () => {
    const task = new DynamicNgramsTask({ seed: 8 });
    const long = task.withLengths(400, 400);
    expect(long.config).toEqual({ ...task.config, minLength: 400, maxLength: 400 });
    const batch = long.batch("test", 2, 0);
    expect(batch.input.shape).toEqual([2, 399, 1]);
    expect(Array.from(batch.targetLengths.data)).toEqual([395, 395]);
    expect(() => task.withLengths(5, 10)).toThrow(/^dynamic-ngrams: minLength \(5\) must exceed contextBits \(5\)/);
  });

  it("validates its config", () => {
    expect(() => new DynamicNgramsTask({ contextBits: 0 })).toThrow(/^dynamic-ngrams: contextBits must be an integer in \[1, 10\], got 0$/);
    expect(() => new DynamicNgramsTask({ minLength: 300 })).toThrow(
      /^dynamic-ngrams: minLength \(300\) must not exceed maxLength \(200\)$/,
    );
    expect(() => new DynamicNgramsTask({ order: 6 })).toThrow(ArgumentError);
    expect(() => new DynamicNgramsTask().batch("train", 2.5, 0)).toThrow(/^dynamic-ngrams\.batch: batchSize must be a positive integer/);
  });
});
