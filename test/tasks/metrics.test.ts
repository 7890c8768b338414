// Metrics on hand-made predictions: perfect, with known mistakes, and combined over batches.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { ArgumentError, ShapeError } from "../../src/core/errors.js";
import { combineEvaluations, createTask, EOS, summarize, type Batch } from "../../src/tasks/index.js";

/** One-hot float scores [B, T, V] picking `ids` [B, T]. */
function oneHot(ids: Int32Array | Uint8Array | Float32Array | Float64Array, shape: readonly number[], v: number): eg.Tensor {
  const out = new Float32Array(ids.length * v);
  ids.forEach((id, i) => (out[i * v + id] = 1));
  return eg.tensor(out, { shape: [...shape, v] });
}

/** Indices of the masked positions of a token batch, in row-major order. */
function countedPositions(batch: Batch): number[] {
  return Array.from(batch.mask.data).flatMap((m, i) => (m === 1 ? [i] : []));
}

describe("token metrics", () => {
  const task = createTask("reverse", { seed: 1 });
  const batch = task.batch("validation", 8, 0);
  const [rows, steps] = batch.target.shape as [number, number];

  it("scores perfect predictions as 1, from ids or from scores", () => {
    const ids = eg.tensor(batch.target.data, { shape: batch.target.shape, dtype: "int32" });
    expect(summarize(task.evaluate(ids, batch))).toEqual({ tokenAccuracy: 1, exactMatch: 1 });
    const scores = oneHot(batch.target.data, batch.target.shape, task.vocabulary.length);
    expect(summarize(task.evaluate(scores, batch))).toEqual({ tokenAccuracy: 1, exactMatch: 1 });
  });

  it("counts a known number of wrong tokens and the rows they spoil", () => {
    const counted = countedPositions(batch);
    const wrong = new Int32Array(batch.target.data);
    // Two mistakes in row 0 (its first token and its EOS), one in row 3.
    const row0 = counted.filter((i) => Math.floor(i / steps) === 0);
    const row3 = counted.filter((i) => Math.floor(i / steps) === 3);
    for (const i of [row0[0]!, row0.at(-1)!, row3[0]!]) wrong[i] = wrong[i] === EOS ? EOS + 1 : EOS;
    const result = task.evaluate(eg.tensor(wrong, { shape: [rows, steps] }), batch);
    expect(result.tokenAccuracy).toEqual({ sum: counted.length - 3, count: counted.length });
    expect(result.exactMatch).toEqual({ sum: rows - 2, count: rows });
  });

  it("ignores whatever is predicted at padded positions", () => {
    const noisy = new Int32Array(batch.target.data);
    batch.mask.data.forEach((m, i) => (noisy[i] = m === 0 ? 5 : noisy[i]!));
    expect(summarize(task.evaluate(eg.tensor(noisy, { shape: [rows, steps] }), batch))).toEqual({ tokenAccuracy: 1, exactMatch: 1 });
  });

  it("counts target positions past a short free-running prediction as wrong", () => {
    const short = new Int32Array(rows); // one step of all-PAD predictions
    const result = task.evaluate(eg.tensor(short, { shape: [rows, 1] }), batch);
    expect(result.tokenAccuracy!.sum).toBe(0);
    expect(result.exactMatch!.sum).toBe(0);
    // Longer predictions than the target are fine: positions after EOS are not judged.
    const longer = new Int32Array(rows * (steps + 3));
    for (let b = 0; b < rows; b++) longer.set(batch.target.data.subarray(b * steps, (b + 1) * steps), b * (steps + 3));
    expect(summarize(task.evaluate(eg.tensor(longer, { shape: [rows, steps + 3] }), batch)).exactMatch).toBe(1);
  });

  it("rejects predictions of the wrong batch size, vocabulary or dtype", () => {
    expect(() => task.evaluate(eg.zeros([rows + 1, steps], { dtype: "int32" }), batch)).toThrow(ShapeError);
    expect(() => task.evaluate(eg.zeros([rows, steps, task.vocabulary.length + 1]), batch)).toThrow(/^reverse\.evaluate: predictions/);
    expect(() => task.evaluate(eg.zeros([rows, steps], { dtype: "bool" }), batch)).toThrow(ArgumentError);
    expect(() => task.evaluate(eg.zeros([rows, steps], { dtype: "int32" }), {} as Batch)).toThrow(/^reverse\.evaluate: expected a batch/);
  });
});

describe("bit metrics (copy)", () => {
  const task = createTask("copy", { seed: 2, width: 4, minLength: 2, maxLength: 6 });
  const batch = task.batch("test", 5, 0);
  const [rows, steps, width] = batch.target.shape as [number, number, number];
  const totalBits = Array.from(batch.targetLengths.data).reduce((s, n) => s + n * width, 0);

  /** Confident probabilities (0.9 / 0.1) for the target bits. */
  const confident = (): Float32Array => Float32Array.from(batch.target.data, (bit) => (bit === 1 ? 0.9 : 0.1));

  it("scores perfect predictions with accuracy 1 and no bit errors", () => {
    const result = task.evaluate(eg.tensor(confident(), { shape: batch.target.shape }), batch);
    expect(summarize(result)).toEqual({ bitAccuracy: 1, bitErrorsPerSequence: 0, exactMatch: 1 });
    expect(result.bitAccuracy!.count).toBe(totalBits);
  });

  it("counts flipped bits in the output phase, per sequence", () => {
    const p = confident();
    const outputStep = (b: number, k: number): number => b * steps + batch.targetLengths.data[b]! + 1 + k; // k-th output step of row b
    // 3 flips in row 0 (two in one step), 1 in row 4; rows 1-3 stay right.
    for (const [step, bit] of [
      [outputStep(0, 0), 0],
      [outputStep(0, 0), 3],
      [outputStep(0, 1), 2],
      [outputStep(4, 1), 1],
    ] as const) {
      p[step * width + bit] = 1 - p[step * width + bit]!;
    }
    const result = task.evaluate(eg.tensor(p, { shape: batch.target.shape }), batch);
    expect(result.bitErrorsPerSequence).toEqual({ sum: 4, count: rows });
    expect(result.bitAccuracy).toEqual({ sum: totalBits - 4, count: totalBits });
    expect(result.exactMatch).toEqual({ sum: rows - 2, count: rows });
    expect(summarize(result).bitErrorsPerSequence).toBeCloseTo(4 / 5, 12);
  });

  it("ignores outputs during the input phase and in padding", () => {
    const p = confident();
    batch.mask.data.forEach((m, step) => {
      if (m === 0) for (let bit = 0; bit < width; bit++) p[step * width + bit] = 0.99;
    });
    expect(summarize(task.evaluate(eg.tensor(p, { shape: batch.target.shape }), batch)).bitErrorsPerSequence).toBe(0);
  });

  it("thresholds at 0.5: exactly 0.5 reads as 0", () => {
    const p = Float32Array.from(batch.target.data, () => 0.5);
    let ones = 0;
    batch.target.data.forEach((bit, i) => (ones += batch.mask.data[Math.floor(i / width)]! * bit));
    expect(task.evaluate(eg.tensor(p, { shape: batch.target.shape }), batch).bitErrorsPerSequence!.sum).toBe(ones);
  });

  it("rejects predictions not shaped like the target", () => {
    expect(() => task.evaluate(eg.zeros([rows, steps, width + 1]), batch)).toThrow(/^copy\.evaluate: predictions \[5, \d+, 5\]/);
    expect(() => task.evaluate(eg.zeros([rows, steps, width], { dtype: "int32" }), batch)).toThrow(ShapeError);
  });
});

describe("combining evaluations", () => {
  it("adds sums and counts, so the mean over batches weights every token equally", () => {
    const combined = combineEvaluations([
      { tokenAccuracy: { sum: 9, count: 10 }, exactMatch: { sum: 1, count: 2 } },
      { tokenAccuracy: { sum: 0, count: 30 }, exactMatch: { sum: 0, count: 2 } },
    ]);
    expect(combined).toEqual({ tokenAccuracy: { sum: 9, count: 40 }, exactMatch: { sum: 1, count: 4 } });
    expect(summarize(combined)).toEqual({ tokenAccuracy: 9 / 40, exactMatch: 0.25 });
  });

  it("reports NaN for a metric that counted nothing", () => {
    expect(summarize({ tokenAccuracy: { sum: 0, count: 0 } }).tokenAccuracy).toBeNaN();
  });

  it("matches evaluating one big batch", () => {
    const task = createTask("sort", { seed: 3 });
    const whole = task.batch("train", 8, 0);
    const halves = [task.batch("train", 4, 0), task.batch("train", 4, 1)];
    const guess = (b: Batch): eg.Tensor => eg.full(b.target.shape, EOS, { dtype: "int32" });
    expect(combineEvaluations(halves.map((b) => task.evaluate(guess(b), b)))).toEqual(task.evaluate(guess(whole), whole));
  });
});
