// repeat-copy (NTM section 4.2): timeline layout, the standardised repeat count, splits, lengths and metrics.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { ArgumentError, ShapeError } from "../../src/core/errors.js";
import { createTask, RepeatCopyTask, summarize, type Batch, type Split } from "../../src/tasks/index.js";

/** Row b of a [B, T, C] tensor as T rows of C numbers. */
function stepsOf(t: eg.Tensor, b: number): number[][] {
  const [, steps, channels] = t.shape as [number, number, number];
  return Array.from({ length: steps }, (_, s) => Array.from(t.data.subarray((b * steps + s) * channels, (b * steps + s + 1) * channels)));
}

/** The whole row of a batch as one string, to compare examples across splits. */
function rowKey(batch: Batch, b: number): string {
  return JSON.stringify([stepsOf(batch.input, b), stepsOf(batch.target, b)]);
}

describe("repeat-copy", () => {
  it("lays out sequence, delimiter, count, N copies and the end marker (expected timeline built here)", () => {
    // norm range 1..3: U{1..3} has mean 2 and variance 2/3, so counts 1, 2, 3 read -sqrt(3/2), 0, sqrt(3/2)
    const task = new RepeatCopyTask({ seed: 4, width: 3, minLength: 1, maxLength: 4, minRepeats: 1, maxRepeats: 3 });
    expect(task.config.normMinRepeats).toBe(1);
    expect(task.config.normMaxRepeats).toBe(3);
    expect([task.inputSize, task.outputSize]).toEqual([5, 4]);
    const countValue: Record<number, number> = { 1: -Math.sqrt(1.5), 2: 0, 3: Math.sqrt(1.5) };
    const seenRepeats = new Set<number>();
    for (const split of ["train", "validation", "test"] as const) {
      const batch = task.batch(split, 10, 2);
      const steps = batch.input.shape[1]!;
      for (let b = 0; b < 10; b++) {
        const { repeats, bits } = task.example(split, 20 + b);
        seenRepeats.add(repeats);
        const L = bits.length / 3;
        const vector = (t: number): number[] => bits.slice(3 * t, 3 * t + 3);
        const input: number[][] = [];
        const target: number[][] = [];
        for (let t = 0; t < L; t++) input.push([...vector(t), 0, 0]);
        input.push([0, 0, 0, 1, 0], [0, 0, 0, 0, countValue[repeats]!]);
        for (let s = 0; s < L + 2; s++) target.push([0, 0, 0, 0]);
        for (let r = 0; r < repeats; r++) for (let t = 0; t < L; t++) target.push([...vector(t), 0]);
        target.push([0, 0, 0, 1]);
        const rowSteps = target.length;
        expect(rowSteps).toBe(L + 2 + L * repeats + 1);
        const mask = target.map((_, s) => (s >= L + 2 ? 1 : 0));
        while (input.length < steps) input.push([0, 0, 0, 0, 0]);
        while (target.length < steps) {
          target.push([0, 0, 0, 0]);
          mask.push(0);
        }

        const gotInput = stepsOf(batch.input, b);
        for (let s = 0; s < steps; s++) for (let c = 0; c < 5; c++) expect(gotInput[s]![c]).toBeCloseTo(input[s]![c]!, 6);
        expect(stepsOf(batch.target, b)).toEqual(target);
        expect(Array.from(batch.mask.data.subarray(b * steps, (b + 1) * steps))).toEqual(mask);
        expect(batch.inputLengths.data[b]).toBe(rowSteps);
        expect(batch.targetLengths.data[b]).toBe(L * repeats + 1);
      }
      expect(steps).toBe(Math.max(...Array.from(batch.inputLengths.data)));
    }
    expect([...seenRepeats].sort()).toEqual([1, 2, 3]);
  });

  it("standardises the count as in the paper: zero mean and unit variance over the repeat range", () => {
    const task = new RepeatCopyTask({ seed: 1 });
    // U{1..10}: mean 5.5, variance (10^2 - 1) / 12 = 8.25
    expect(task.repeatInput(1)).toBeCloseTo(-4.5 / Math.sqrt(8.25), 12);
    expect(task.repeatInput(10)).toBeCloseTo(4.5 / Math.sqrt(8.25), 12);
    // Every nonzero value of the count channel is a count (a count of 5.5 would read 0, but cannot occur).
    const values: number[] = [];
    const batch = task.batch("train", 400, 0);
    const [, steps, channels] = batch.input.shape as [number, number, number];
    for (let b = 0; b < 400; b++) {
      for (let s = 0; s < steps; s++) {
        const v = batch.input.data[(b * steps + s) * channels + 9]!;
        if (v !== 0) values.push(v);
      }
    }
    expect(values.length).toBe(400);
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.15);
    expect(variance).toBeGreaterThan(0.85);
    expect(variance).toBeLessThan(1.15);
  });

  it("regenerates batches exactly and numbers examples across batches", () => {
    const task = createTask("repeat-copy", { seed: 9 });
    const again = createTask("repeat-copy", task.config);
    expect(Array.from(again.batch("test", 4, 3).target.data)).toEqual(Array.from(task.batch("test", 4, 3).target.data));
    const big = task.batch("train", 6, 1);
    const small = task.batch("train", 3, 3);
    for (let b = 0; b < 3; b++) expect(rowKey(small, b)).toBe(rowKey(big, b + 3));
    expect(rowKey(task.batch("train", 2, 0), 0)).not.toBe(rowKey(createTask("repeat-copy", { seed: 10 }).batch("train", 2, 0), 0));
  });

  it("keeps train, validation and test disjoint on a small example space", () => {
    // width 2, lengths 1..2 (4 + 16 sequences), repeats 1..3: 60 distinct examples
    const task = new RepeatCopyTask({ seed: 2, width: 2, minLength: 1, maxLength: 2, minRepeats: 1, maxRepeats: 3 });
    const seen: Record<Split, Set<string>> = { train: new Set(), validation: new Set(), test: new Set() };
    for (const split of ["train", "validation", "test"] as const) {
      const batch = task.batch(split, 300, 0);
      for (let b = 0; b < 300; b++) seen[split].add(rowKey(batch, b));
    }
    expect(seen.train.size).toBeGreaterThan(30);
    expect(seen.test.size).toBeGreaterThan(1);
    expect(seen.train.size + seen.validation.size + seen.test.size).toBeLessThanOrEqual(60);
    for (const key of seen.test) expect(seen.train.has(key) || seen.validation.has(key)).toBe(false);
    for (const key of seen.validation) expect(seen.train.has(key)).toBe(false);
  });

  it("withLengths changes the sequence length only; withRepeats keeps the count's standardisation", () => {
    const task = new RepeatCopyTask({ seed: 3 });
    const long = task.withLengths(15, 20);
    expect(long.config).toEqual({ ...task.config, minLength: 15, maxLength: 20 });
    for (let i = 0; i < 8; i++) {
      const { bits, repeats } = long.example("test", i);
      expect(bits.length / 8).toBeGreaterThanOrEqual(15);
      expect(bits.length / 8).toBeLessThanOrEqual(20);
      expect(repeats).toBeLessThanOrEqual(10);
    }
    const many = task.withRepeats(20, 20);
    expect(many.config).toMatchObject({ minRepeats: 20, maxRepeats: 20, normMinRepeats: 1, normMaxRepeats: 10 });
    const batch = many.batch("test", 3, 0);
    const [, steps, channels] = batch.input.shape as [number, number, number];
    for (let b = 0; b < 3; b++) {
      const L = (batch.targetLengths.data[b]! - 1) / 20;
      expect(Number.isInteger(L)).toBe(true);
      // (20 - 5.5) / sqrt(8.25): beyond anything seen in training, as an out-of-range count should be
      expect(batch.input.data[(b * steps + L + 1) * channels + 9]).toBeCloseTo(14.5 / Math.sqrt(8.25), 6);
    }
    expect(task.config.maxLength).toBe(10);
  });

  describe("metrics", () => {
    const task = new RepeatCopyTask({ seed: 5, width: 4, maxLength: 5, maxRepeats: 4 });
    const batch = task.batch("validation", 6, 0);
    const [rows, steps, out] = batch.target.shape as [number, number, number];
    const counted = Array.from(batch.targetLengths.data).reduce((a, n) => a + n * out, 0);
    const confident = (): Float32Array => Float32Array.from(batch.target.data, (bit) => (bit === 1 ? 0.8 : 0.2));

    it("scores perfect predictions, ignoring whatever is output outside the output phase", () => {
      const p = confident();
      batch.mask.data.forEach((m, s) => {
        if (m === 0) p.fill(0.9, s * out, (s + 1) * out);
      });
      const result = task.evaluate(eg.tensor(p, { shape: batch.target.shape }), batch);
      expect(summarize(result)).toEqual({ bitAccuracy: 1, bitErrorsPerSequence: 0, exactMatch: 1 });
      expect(result.bitAccuracy!.count).toBe(counted);
    });

    it("counts a missed end marker and a wrong copy bit", () => {
      const p = confident();
      const lastStep = (b: number): number => b * steps + batch.inputLengths.data[b]! - 1; // the end-marker step
      p[lastStep(0) * out + 4] = 0.1; // end marker not emitted
      p[(lastStep(3) - 1) * out + 2] = 1 - p[(lastStep(3) - 1) * out + 2]!; // a bit of the last copy
      p[(lastStep(3) - 1) * out + 4] = 0.7; // an early end marker
      const result = task.evaluate(eg.tensor(p, { shape: batch.target.shape }), batch);
      expect(result.bitErrorsPerSequence).toEqual({ sum: 3, count: rows });
      expect(result.bitAccuracy).toEqual({ sum: counted - 3, count: counted });
      expect(result.exactMatch).toEqual({ sum: rows - 2, count: rows });
    });

    it("rejects predictions not shaped like the target", () => {
      expect(() => task.evaluate(eg.zeros([rows, steps, out - 1]), batch)).toThrow(ShapeError);
      expect(() => task.evaluate(eg.zeros([rows, steps, out - 1]), batch)).toThrow(/^repeat-copy\.evaluate: predictions \[6, \d+, 4\]/);
      expect(() => task.evaluate(eg.zeros([rows, steps, out]), {} as Batch)).toThrow(/^repeat-copy\.evaluate: expected a batch/);
    });
  });

  it("validates its config", () => {
    expect(() => new RepeatCopyTask({ minRepeats: 4, maxRepeats: 2 })).toThrow(
      /^repeat-copy: minRepeats \(4\) must not exceed maxRepeats \(2\)$/,
    );
    expect(() => new RepeatCopyTask({ minRepeats: 3, maxRepeats: 3 })).toThrow(
      /^repeat-copy: normMinRepeats \(3\) must be less than normMaxRepeats \(3\)/,
    );
    expect(new RepeatCopyTask({ minRepeats: 3, maxRepeats: 3, normMinRepeats: 1, normMaxRepeats: 10 }).repeatInput(3)).toBeCloseTo(
      -2.5 / Math.sqrt(8.25),
      12,
    );
    expect(() => new RepeatCopyTask({ minRepeats: 0 })).toThrow(/^repeat-copy: minRepeats must be an integer in \[1, 4096\], got 0$/);
    expect(() => new RepeatCopyTask({ repeats: 3 })).toThrow(/^repeat-copy: unknown option "repeats"/);
    expect(() => new RepeatCopyTask({ maxRepeats: "7" })).toThrow(ArgumentError);
    expect(() => new RepeatCopyTask().withLengths(5, 1)).toThrow(/^repeat-copy: minLength \(5\) must not exceed maxLength \(1\)$/);
    expect(() => new RepeatCopyTask().batch("train", 0, 0)).toThrow(/^repeat-copy\.batch: batchSize must be a positive integer/);
  });
});
