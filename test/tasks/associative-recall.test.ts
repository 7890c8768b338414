// associative-recall (NTM section 4.3): delimiters, query, the answer read back from the input alone, splits, lengths, metrics.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { ArgumentError, ShapeError } from "../../src/core/errors.js";
import { AssociativeRecallTask, createTask, summarize, type Batch, type Split } from "../../src/tasks/index.js";

/** Row b of a [B, T, C] tensor as T rows of C numbers. */
function stepsOf(t: eg.Tensor, b: number): number[][] {
  const [, steps, channels] = t.shape as [number, number, number];
  return Array.from({ length: steps }, (_, s) => Array.from(t.data.subarray((b * steps + s) * channels, (b * steps + s + 1) * channels)));
}

function rowKey(batch: Batch, b: number): string {
  return JSON.stringify([stepsOf(batch.input, b), stepsOf(batch.target, b)]);
}

/**
 * Solves one input row the way the task is defined, without the generator: collect the items after
 * item delimiters and the query between query delimiters, find the query among the items, return
 * the next item as itemLength vectors.
 */
function solve(input: number[][], width: number, itemLength: number): number[][] {
  const items: string[] = [];
  let query: string | undefined;
  for (let s = 0; s < input.length; s++) {
    const [itemMark, queryMark] = [input[s]![width], input[s]![width + 1]];
    const read = (): string => JSON.stringify(input.slice(s + 1, s + 1 + itemLength).map((v) => v.slice(0, width)));
    if (itemMark === 1) items.push(read());
    if (queryMark === 1 && query === undefined) query = read();
  }
  const at = items.indexOf(query!);
  expect(at).toBeGreaterThanOrEqual(0);
  expect(items.lastIndexOf(query!)).toBe(at); // the answer is unique
  return JSON.parse(items[at + 1]!) as number[][];
}

describe("associative-recall", () => {
  it("lays out items, delimiters, the query and the answer (expected timeline built here)", () => {
    const task = new AssociativeRecallTask({ seed: 3, width: 2, itemLength: 2, minItems: 2, maxItems: 4 });
    expect([task.inputSize, task.outputSize]).toEqual([4, 2]);
    for (const split of ["train", "validation", "test"] as const) {
      const batch = task.batch(split, 8, 1);
      const steps = batch.input.shape[1]!;
      for (let b = 0; b < 8; b++) {
        const { items, query } = task.example(split, 8 + b);
        const k = items.length;
        expect(k).toBeGreaterThanOrEqual(2);
        expect(k).toBeLessThanOrEqual(4);
        expect(query).toBeGreaterThanOrEqual(0);
        expect(query).toBeLessThan(k - 1);
        expect(new Set(items.map((item) => item.join(""))).size).toBe(k);
        const vectors = (item: number[]): number[][] => [item.slice(0, 2), item.slice(2, 4)];
        const input: number[][] = [];
        for (const item of items) input.push([0, 0, 1, 0], ...vectors(item).map((v) => [...v, 0, 0]));
        input.push([0, 0, 0, 1], ...vectors(items[query]!).map((v) => [...v, 0, 0]), [0, 0, 0, 1]);
        const answerStart = input.length;
        const target: number[][] = input.map(() => [0, 0]);
        target.push(...vectors(items[query + 1]!));
        input.push([0, 0, 0, 0], [0, 0, 0, 0]);
        const mask = target.map((_, s) => (s >= answerStart ? 1 : 0));
        expect(input.length).toBe(k * 3 + 2 * 2 + 2); // k * (itemLength + 1) + 2 * itemLength + 2
        while (input.length < steps) {
          input.push([0, 0, 0, 0]);
          target.push([0, 0]);
          mask.push(0);
        }

        expect(stepsOf(batch.input, b)).toEqual(input);
        expect(stepsOf(batch.target, b)).toEqual(target);
        expect(Array.from(batch.mask.data.subarray(b * steps, (b + 1) * steps))).toEqual(mask);
        expect(batch.inputLengths.data[b]).toBe(answerStart + 2);
        expect(batch.targetLengths.data[b]).toBe(2);
      }
    }
  });

  it("targets the item after the query, as read back from the input (paper settings)", () => {
    const task = createTask("associative-recall", { seed: 8 });
    expect(task.config).toEqual({ seed: 8, width: 6, itemLength: 3, minItems: 2, maxItems: 6 });
    const batch = task.batch("train", 40, 0);
    const steps = batch.input.shape[1]!;
    for (let b = 0; b < 40; b++) {
      const answer = solve(stepsOf(batch.input, b), 6, 3);
      const counted = stepsOf(batch.target, b).filter((_, s) => batch.mask.data[b * steps + s] === 1);
      expect(counted).toEqual(answer);
    }
  });

  it("queries every item but the last, and uses every item count", () => {
    const task = new AssociativeRecallTask({ seed: 4 });
    const queries = new Map<number, Set<number>>();
    for (let i = 0; i < 400; i++) {
      const { items, query } = task.example("train", i);
      if (!queries.has(items.length)) queries.set(items.length, new Set());
      queries.get(items.length)!.add(query);
    }
    expect([...queries.keys()].sort()).toEqual([2, 3, 4, 5, 6]);
    for (const [k, seen] of queries) expect([...seen].sort()).toEqual(Array.from({ length: k - 1 }, (_, i) => i));
  });

  it("regenerates batches exactly, and seeds and splits differ", () => {
    const task = new AssociativeRecallTask({ seed: 6 });
    const again = createTask("associative-recall", task.config);
    expect(rowKey(again.batch("validation", 3, 5), 2)).toBe(rowKey(task.batch("validation", 3, 5), 2));
    const big = task.batch("test", 8, 0);
    const small = task.batch("test", 4, 1);
    for (let b = 0; b < 4; b++) expect(rowKey(small, b)).toBe(rowKey(big, b + 4));
    expect(rowKey(task.batch("train", 1, 0), 0)).not.toBe(rowKey(task.batch("test", 1, 0), 0));
    expect(rowKey(task.batch("train", 1, 0), 0)).not.toBe(rowKey(new AssociativeRecallTask({ seed: 7 }).batch("train", 1, 0), 0));
  });

  it("keeps train, validation and test disjoint on a small example space", () => {
    // items of 2 bits (4 patterns), 2..3 distinct items, the query position: 12 * 1 + 24 * 2 = 60 examples
    const task = new AssociativeRecallTask({ seed: 1, width: 1, itemLength: 2, minItems: 2, maxItems: 3 });
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

  it("withLengths sets the item count (the paper tests up to 12+ items after training on 2..6)", () => {
    const task = new AssociativeRecallTask({ seed: 2 });
    const long = task.withLengths(10, 12);
    expect(long.config).toEqual({ ...task.config, minItems: 10, maxItems: 12 });
    const batch = long.batch("test", 12, 0);
    for (let b = 0; b < 12; b++) {
      const k = (batch.inputLengths.data[b]! - 2 * 3 - 2) / 4;
      expect([10, 11, 12]).toContain(k);
      expect(batch.targetLengths.data[b]).toBe(3);
    }
    expect(task.config.maxItems).toBe(6);
  });

  describe("metrics", () => {
    const task = new AssociativeRecallTask({ seed: 5 });
    const batch = task.batch("test", 5, 0);
    const [rows, steps, width] = batch.target.shape as [number, number, number];
    const confident = (): Float32Array => Float32Array.from(batch.target.data, (bit) => (bit === 1 ? 0.9 : 0.1));

    it("scores perfect predictions over the 3 answer vectors only", () => {
      const p = confident();
      batch.mask.data.forEach((m, s) => {
        if (m === 0) p.fill(0.7, s * width, (s + 1) * width);
      });
      const result = task.evaluate(eg.tensor(p, { shape: batch.target.shape }), batch);
      expect(summarize(result)).toEqual({ bitAccuracy: 1, bitErrorsPerSequence: 0, exactMatch: 1 });
      expect(result.bitAccuracy!.count).toBe(rows * 18);
    });

    it("counts wrong answer bits per sequence", () => {
      const p = confident();
      const answerStep = (b: number, k: number): number => b * steps + batch.inputLengths.data[b]! - 3 + k;
      for (const [step, bit] of [
        [answerStep(1, 0), 0],
        [answerStep(1, 2), 5],
        [answerStep(2, 1), 3],
      ] as const) {
        p[step * width + bit] = 1 - p[step * width + bit]!;
      }
      const result = task.evaluate(eg.tensor(p, { shape: batch.target.shape }), batch);
      expect(result.bitErrorsPerSequence).toEqual({ sum: 3, count: rows });
      expect(result.bitAccuracy).toEqual({ sum: rows * 18 - 3, count: rows * 18 });
      expect(result.exactMatch).toEqual({ sum: rows - 2, count: rows });
      // Recalling the query item itself instead of its successor is wrong (distinct items differ somewhere).
      const echo = Float32Array.from(batch.target.data);
      for (let b = 0; b < rows; b++) {
        const queryStart = batch.inputLengths.data[b]! - 3 - 4; // query vectors sit before the closing delimiter
        for (let k = 0; k < 3; k++) {
          for (let c = 0; c < width; c++) {
            echo[(b * steps + batch.inputLengths.data[b]! - 3 + k) * width + c] =
              batch.input.data[(b * steps + queryStart + k) * (width + 2) + c]!;
          }
        }
      }
      expect(task.evaluate(eg.tensor(echo, { shape: batch.target.shape }), batch).exactMatch).toEqual({ sum: 0, count: rows });
    });

    it("rejects predictions not shaped like the target", () => {
      expect(() => task.evaluate(eg.zeros([rows, steps, width + 2]), batch)).toThrow(
        /^associative-recall\.evaluate: predictions \[5, \d+, 8\]/,
      );
      expect(() => task.evaluate(eg.zeros([rows, steps, width], { dtype: "int32" }), batch)).toThrow(ShapeError);
    });
  });

  it("validates its config", () => {
    expect(() => new AssociativeRecallTask({ minItems: 1 })).toThrow(
      /^associative-recall: minItems must be an integer in \[2, 4096\], got 1$/,
    );
    expect(() => new AssociativeRecallTask({ minItems: 5, maxItems: 3 })).toThrow(
      /^associative-recall: minItems \(5\) must not exceed maxItems \(3\)$/,
    );
    expect(() => new AssociativeRecallTask({ width: 1, itemLength: 2, maxItems: 5 })).toThrow(
      /^associative-recall: maxItems \(5\) exceeds the 4 distinct items of width \* itemLength = 2 bits$/,
    );
    expect(() => new AssociativeRecallTask({ items: 3 })).toThrow(ArgumentError);
    expect(() => new AssociativeRecallTask().batch("dev" as Split, 1, 0)).toThrow(/^associative-recall\.batch: split must be one of/);
  });
});
