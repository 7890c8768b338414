/** Next-token choice: greedy, temperature and top-k sampling. */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { greedyTokens, sampleTokens, samplingProbabilities } from "../../src/models/sampling.js";

const logitsOf = (rows: number[][]): eg.Tensor => eg.tensor(rows, { dtype: "float64" });
const softmax = (xs: readonly number[], t = 1): number[] => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp((x - m) / t));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
};

describe("greedyTokens", () => {
  it("takes the argmax of the last axis, the first one on ties, keeping the leading shape", () => {
    const logits = eg.tensor([
      [
        [0.1, 2, -1],
        [3, 3, 1],
      ],
      [
        [-5, -4, -4.5],
        [0, 0, 0.5],
      ],
    ]);
    const ids = greedyTokens(logits);
    expect(ids.dtype).toBe("int32");
    expect(ids.shape).toEqual([2, 2]);
    expect(Array.from(ids.data)).toEqual([1, 0, 1, 2]);
  });

  it("rejects NaN, +Infinity, int logits and an empty vocabulary", () => {
    expect(() => greedyTokens(eg.tensor([[0, NaN]]))).toThrow(/^greedyTokens: .*NaN/);
    expect(() => greedyTokens(eg.tensor([[0, Infinity]]))).toThrow(eg.ArgumentError);
    expect(() => greedyTokens(eg.tensor([[1, 2]], { dtype: "int32" }))).toThrow(eg.DTypeError);
    expect(() => greedyTokens(eg.zeros([2, 0]))).toThrow(eg.ShapeError);
  });
});

describe("sampleTokens", () => {
  const gen = (seed: number): eg.Generator => new eg.Generator(seed);
  const logits = eg.randn([64, 10], { generator: gen(1) });
  const greedy = Array.from(greedyTokens(logits).data);

  it("temperature 0 and temperature -> 0 equal greedy decoding", () => {
    expect(Array.from(sampleTokens(logits, { temperature: 0, generator: gen(2) }).data)).toEqual(greedy);
    expect(Array.from(sampleTokens(logits, { temperature: 1e-6, generator: gen(3) }).data)).toEqual(greedy);
  });

  it("top-k = 1 equals greedy decoding at any temperature", () => {
    expect(Array.from(sampleTokens(logits, { topK: 1, temperature: 5, generator: gen(4) }).data)).toEqual(greedy);
    // a tie goes to the lower id, as in greedyTokens
    expect(Array.from(sampleTokens(logitsOf([[1, 3, 3, 0]]), { topK: 1, generator: gen(5) }).data)).toEqual([1]);
  });

  it("top-k restricts the support to the k largest logits", () => {
    const row = [0.5, 2, -1, 1.5, 0, 1.9, -3, 0.2];
    const batch = logitsOf(Array.from({ length: 2000 }, () => row));
    const seen = new Set(sampleTokens(batch, { topK: 3, temperature: 2, generator: gen(6) }).data);
    expect([...seen].sort()).toEqual([1, 3, 5]);
    const p = Array.from(samplingProbabilities(logitsOf([row]), { topK: 3 }).data);
    const kept = softmax([2, 1.5, 1.9]);
    expect(p[1]).toBeCloseTo(kept[0]!, 12);
    expect(p[3]).toBeCloseTo(kept[1]!, 12);
    expect(p[5]).toBeCloseTo(kept[2]!, 12);
    expect(p.filter((x) => x === 0)).toHaveLength(5);
  });

  it("is reproducible with a seeded generator and varies with the seed", () => {
    const a = Array.from(sampleTokens(logits, { generator: gen(7) }).data);
    expect(Array.from(sampleTokens(logits, { generator: gen(7) }).data)).toEqual(a);
    expect(Array.from(sampleTokens(logits, { generator: gen(8) }).data)).not.toEqual(a);
  });

  it.each([0.5, 1, 3])("empirical frequencies match softmax(logits / T) (T = %s)", (temperature) => {
    const row = [1, 0.2, -0.5, 2, 0];
    const n = 20000;
    const ids = sampleTokens(logitsOf(Array.from({ length: n }, () => row)), { temperature, generator: gen(9) }).data;
    const counts = new Array<number>(row.length).fill(0);
    for (const id of ids) counts[id]!++;
    const want = softmax(row, temperature);
    // 5 standard deviations of a binomial proportion: a failure is a real mismatch, not noise
    want.forEach((p, j) => expect(Math.abs(counts[j]! / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 1e-9));
  });

  it("handles -Infinity logits (masked tokens are never drawn) and keeps the leading shape", () => {
    const masked = eg.tensor([
      [
        [-Infinity, 0, -Infinity],
        [0, -Infinity, 1],
      ],
    ]);
    const ids = sampleTokens(masked, { generator: gen(10) });
    expect(ids.shape).toEqual([1, 2]);
    expect(ids.data[0]).toBe(1);
    expect(ids.data[1]).not.toBe(1);
  });

  it("validates its options", () => {
    expect(() => sampleTokens(logits, { temperature: -1 })).toThrow(/^sampleTokens: temperature must be >= 0/);
    expect(() => sampleTokens(logits, { topK: 0 })).toThrow(eg.ArgumentError);
    expect(() => sampleTokens(logits, { topK: 1.5 })).toThrow(eg.ArgumentError);
    expect(() => sampleTokens(logits, { generator: 3 as unknown as eg.Generator })).toThrow(eg.ArgumentError);
    expect(() => samplingProbabilities(logits, { temperature: Infinity })).toThrow(eg.ArgumentError);
  });
});
