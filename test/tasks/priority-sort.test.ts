// priority-sort (NTM section 4.5): layout, the sorted target recomputed from the input, priorities, splits, lengths, metrics.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { ArgumentError, ShapeError } from "../../src/core/errors.js";
import { createTask, priorityOrder, PrioritySortTask, summarize, type Batch } from "../../src/tasks/index.js";

/** Row b of a [B, T, C] tensor as T rows of C numbers. */
function stepsOf(t: eg.Tensor, b: number): number[][] {
  const [, steps, channels] = t.shape as [number, number, number];
  return Array.from({ length: steps }, (_, s) => Array.from(t.data.subarray((b * steps + s) * channels, (b * steps + s + 1) * channels)));
}

function rowKey(batch: Batch, b: number): string {
  return JSON.stringify([stepsOf(batch.input, b), stepsOf(batch.target, b)]);
}

describe("priority-sort", () => {
  it("lays out vectors with priorities, the delimiter and the sorted output (expected timeline built here)", () => {
    const task = new PrioritySortTask({ seed: 2, width: 3, minLength: 4, maxLength: 7, outputLength: 3 });
    expect([task.inputSize, task.outputSize]).toEqual([5, 3]);
    for (const split of ["train", "validation", "test"] as const) {
      const batch = task.batch(split, 8, 2);
      const steps = batch.input.shape[1]!;
      for (let b = 0; b < 8; b++) {
        const { vectors, priorities } = task.example(split, 16 + b);
        const L = vectors.length;
        expect(L).toBeGreaterThanOrEqual(4);
        expect(L).toBeLessThanOrEqual(7);
        // Selection sort, highest priority first: an independent statement of the target.
        const left = vectors.map((_, i) => i);
        const order: number[] = [];
        while (order.length < 3) {
          const best = left.reduce((a, i) => (priorities[i]! > priorities[a]! ? i : a));
          order.push(best);
          left.splice(left.indexOf(best), 1);
        }
        const input = vectors.map((v, t) => [...v, 0, priorities[t]!]);
        input.push([0, 0, 0, 1, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]);
        const target = [...vectors.map(() => [0, 0, 0]), [0, 0, 0], ...order.map((i) => vectors[i]!)];
        const mask = target.map((_, s) => (s > L ? 1 : 0));
        expect(input.length).toBe(L + 1 + 3);
        while (input.length < steps) {
          input.push([0, 0, 0, 0, 0]);
          target.push([0, 0, 0]);
          mask.push(0);
        }

        expect(stepsOf(batch.input, b)).toEqual(input);
        expect(stepsOf(batch.target, b)).toEqual(target);
        expect(Array.from(batch.mask.data.subarray(b * steps, (b + 1) * steps))).toEqual(mask);
        expect(batch.inputLengths.data[b]).toBe(L + 4);
        expect(batch.targetLengths.data[b]).toBe(3);
      }
    }
  });

  it("sorts the paper's 20 vectors into the 16 of highest priority, read back from the input alone", () => {
    const task = createTask("priority-sort", { seed: 4 });
    expect(task.config).toEqual({ seed: 4, width: 8, minLength: 20, maxLength: 20, outputLength: 16 });
    const batch = task.batch("train", 16, 0);
    expect(batch.input.shape).toEqual([16, 37, 10]);
    for (let b = 0; b < 16; b++) {
      const input = stepsOf(batch.input, b);
      const given = input.slice(0, 20).map((step) => ({ bits: step.slice(0, 8), priority: step[9]! }));
      const wanted = [...given].sort((x, y) => y.priority - x.priority).slice(0, 16);
      expect(stepsOf(batch.target, b).slice(21)).toEqual(wanted.map((v) => v.bits));
      expect(input[20]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    }
  });

  it("draws float32 priorities spread over [-1, 1]", () => {
    const task = new PrioritySortTask({ seed: 1 });
    const priorities = Array.from({ length: 50 }, (_, i) => task.example("train", i).priorities).flat();
    expect(priorities.length).toBe(1000);
    for (const p of priorities) {
      expect(p).toBe(Math.fround(p));
      expect(Math.abs(p)).toBeLessThanOrEqual(1);
    }
    const mean = priorities.reduce((a, p) => a + p, 0) / priorities.length;
    expect(Math.abs(mean)).toBeLessThan(0.06); // sd of the mean of 1000 U[-1, 1] draws is 0.018
    expect(Math.min(...priorities)).toBeLessThan(-0.99);
    expect(Math.max(...priorities)).toBeGreaterThan(0.99);
    expect(priorities.filter((p) => p < 0).length / 1000).toBeCloseTo(0.5, 1);
  });

  it("orders equal priorities by input position", () => {
    expect(priorityOrder([0.5, -1, 0.5, 0.9, 0.5], 4)).toEqual([3, 0, 2, 4]);
    expect(priorityOrder([0, 0, 0], 3)).toEqual([0, 1, 2]);
  });

  it("regenerates batches exactly; splits and seeds differ", () => {
    const task = new PrioritySortTask({ seed: 6, minLength: 5, maxLength: 9, outputLength: 4 });
    const again = createTask("priority-sort", task.config);
    expect(rowKey(again.batch("test", 2, 7), 1)).toBe(rowKey(task.batch("test", 2, 7), 1));
    const big = task.batch("train", 6, 0);
    const small = task.batch("train", 3, 1);
    for (let b = 0; b < 3; b++) expect(rowKey(small, b)).toBe(rowKey(big, b + 3));
    const keys = new Set(
      (["train", "validation", "test"] as const).flatMap((split) => [0, 1, 2].map((b) => rowKey(task.batch(split, 3, 0), b))),
    );
    expect(keys.size).toBe(9);
    expect(rowKey(new PrioritySortTask({ seed: 7 }).batch("train", 1, 0), 0)).not.toBe(
      rowKey(new PrioritySortTask({ seed: 6 }).batch("train", 1, 0), 0),
    );
  });

  it("keeps the splits disjoint when the bits alone would repeat", () => {
    // One 1-bit vector: 2 bit patterns, so examples differ by priority only; the priority is part of the split's content.
    const task = new PrioritySortTask({ seed: 3, width: 1, minLength: 1, maxLength: 1, outputLength: 1 });
    const train = new Set(Array.from({ length: 400 }, (_, i) => JSON.stringify(task.example("train", i))));
    for (let i = 0; i < 100; i++) expect(train.has(JSON.stringify(task.example("test", i)))).toBe(false);
    expect(train.size).toBe(400);
  });

  it("withLengths sets the number of input vectors and keeps outputLength", () => {
    const task = new PrioritySortTask({ seed: 5 });
    const long = task.withLengths(30, 40);
    expect(long.config).toEqual({ ...task.config, minLength: 30, maxLength: 40 });
    const batch = long.batch("test", 6, 0);
    for (let b = 0; b < 6; b++) {
      expect(batch.inputLengths.data[b]! - 17).toBeGreaterThanOrEqual(30);
      expect(batch.inputLengths.data[b]! - 17).toBeLessThanOrEqual(40);
      expect(batch.targetLengths.data[b]).toBe(16);
    }
    expect(() => task.withLengths(10, 20)).toThrow(/^priority-sort: outputLength \(16\) must not exceed minLength \(10\)/);
  });

  describe("metrics", () => {
    const task = new PrioritySortTask({ seed: 8 });
    const batch = task.batch("validation", 4, 0);
    const [rows, steps, width] = batch.target.shape as [number, number, number];
    const confident = (): Float32Array => Float32Array.from(batch.target.data, (bit) => (bit === 1 ? 0.6 : 0.4));

    it("scores perfect predictions over the 16 output steps", () => {
      const p = confident();
      for (let b = 0; b < rows; b++) for (let s = 0; s < 21; s++) p[(b * steps + s) * width] = 1; // the input phase is not scored
      const result = task.evaluate(eg.tensor(p, { shape: batch.target.shape }), batch);
      expect(summarize(result)).toEqual({ bitAccuracy: 1, bitErrorsPerSequence: 0, exactMatch: 1 });
      expect(result.bitAccuracy!.count).toBe(rows * 16 * 8);
    });

    it("counts the errors of outputting the vectors in input order", () => {
      const p = new Float32Array(batch.target.size);
      let expected = 0;
      for (let b = 0; b < rows; b++) {
        for (let k = 0; k < 16; k++) {
          for (let c = 0; c < width; c++) {
            const bit = batch.input.data[(b * steps + k) * (width + 2) + c]!;
            p[(b * steps + 21 + k) * width + c] = bit;
            if (bit !== batch.target.data[(b * steps + 21 + k) * width + c]) expected++;
          }
        }
      }
      expect(expected).toBeGreaterThan(50);
      const result = task.evaluate(eg.tensor(p, { shape: batch.target.shape }), batch);
      expect(result.bitErrorsPerSequence).toEqual({ sum: expected, count: rows });
      expect(result.bitAccuracy).toEqual({ sum: rows * 128 - expected, count: rows * 128 });
    });

    it("rejects predictions not shaped like the target", () => {
      expect(() => task.evaluate(eg.zeros([rows, steps + 1, width]), batch)).toThrow(/^priority-sort\.evaluate: predictions \[4, 38, 8\]/);
      expect(() => task.evaluate(eg.zeros([rows, steps, width], { dtype: "int32" }), batch)).toThrow(ShapeError);
    });
  });

  it("validates its config", () => {
    expect(() => new PrioritySortTask({ outputLength: 0 })).toThrow(
      /^priority-sort: outputLength must be an integer in \[1, 4096\], got 0$/,
    );
    expect(() => new PrioritySortTask({ minLength: 21, maxLength: 20 })).toThrow(
      /^priority-sort: minLength \(21\) must not exceed maxLength \(20\)$/,
    );
    expect(() => new PrioritySortTask({ outputLength: 21, minLength: 20 })).toThrow(ArgumentError);
    expect(() => new PrioritySortTask({ priorityRange: 2 })).toThrow(/^priority-sort: unknown option "priorityRange"/);
    expect(() => new PrioritySortTask().batch("train", 1, -1)).toThrow(/^priority-sort\.batch: batch index must be a non-negative integer/);
  });
});
