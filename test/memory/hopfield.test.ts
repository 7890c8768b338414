// Modern Hopfield networks: one-step retrieval from noisy queries, the mean (global fixed point) at
// small beta, a metastable subset average, the three layers, gradients, and the retrieval demo.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { Hopfield, HopfieldLayer, HopfieldPooling, hopfieldRetrievalDemo, hopfieldRetrieve } from "../../src/memory/hopfield.js";
import { onTs, setParam } from "../nn/helpers.js";

/** N random +-1 patterns of length d, as rows of a float64 (N, d) tensor. */
function patterns(N: number, d: number, seed: number): eg.Tensor {
  const g = new eg.Generator(seed);
  return eg.tensor(
    Array.from({ length: N * d }, () => (g.random() < 0.5 ? -1 : 1)),
    { shape: [N, d], dtype: "float64" },
  );
}

const rowSumsAreOne = (w: eg.Tensor): void => {
  const n = w.shape[w.ndim - 1]!;
  for (let r = 0; r < w.size / n; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      expect(w.data[r * n + i]).toBeGreaterThanOrEqual(0);
      s += w.data[r * n + i]!;
    }
    expect(Math.abs(s - 1)).toBeLessThan(1e-6);
  }
};

describe("hopfieldRetrieve", () => {
  const X = patterns(20, 64, 1);

  it("retrieves every stored pattern exactly in one step from half-masked queries at high beta", () => {
    const query = X.clone();
    for (let n = 0; n < 20; n++) for (let i = 0; i < 32; i++) query.data[n * 64 + 2 * i] = 0; // every other entry masked
    const { output, weights } = hopfieldRetrieve(query, X, { beta: 2 });
    expect(output.shape).toEqual([20, 64]);
    expect(weights.shape).toEqual([20, 20]);
    for (let i = 0; i < X.size; i++) expect(Math.abs(output.data[i]! - X.data[i]!)).toBeLessThan(1e-6);
    rowSumsAreOne(weights);
  });

  it("returns the mean of all stored patterns at small beta (the global fixed point)", () => {
    const mean = X.mean(0);
    const { output, weights } = hopfieldRetrieve(X, X, { beta: 1e-6 });
    for (let n = 0; n < 20; n++) for (let i = 0; i < 64; i++) expect(Math.abs(output.data[n * 64 + i]! - mean.data[i]!)).toBeLessThan(1e-3);
    for (const w of weights.data) expect(Math.abs(w - 1 / 20)).toBeLessThan(1e-4);
  });

  it("settles on the average of two overlapping patterns (a metastable state)", () => {
    // x0 and x1 differ in two of 256 entries; x2.. are unrelated. Starting from x0 at beta = 0.05
    // the update cannot separate x0 from x1 (their scores differ by 0.2) but rejects the rest (by ~10).
    const d = 256;
    const base = patterns(6, d, 2);
    for (const i of [0, 1]) base.data[d + i] = -base.data[i]!;
    for (let i = 2; i < d; i++) base.data[d + i] = base.data[i]!;
    const { output, weights } = hopfieldRetrieve(base.narrow(0, 0, 1), base, { beta: 0.05, steps: 3 });
    expect(weights.data[0]! + weights.data[1]!).toBeGreaterThan(0.99);
    expect(Math.abs(weights.data[0]! - weights.data[1]!)).toBeLessThan(0.02);
    for (let i = 2; i < d; i++) expect(Math.abs(output.data[i]! - base.data[i]!)).toBeLessThan(0.02);
    for (const i of [0, 1]) expect(Math.abs(output.data[i]!)).toBeLessThan(0.02); // x0 and x1 disagree there: the average is ~0
  });

  it("reads separate values and respects a mask", () => {
    const keys = eg.tensor(
      [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
      { dtype: "float64" },
    );
    const values = eg.tensor([[10], [20], [30]], { dtype: "float64" });
    const mask = eg.tensor([[true, false, true]], { dtype: "bool" });
    const { output, weights } = hopfieldRetrieve(eg.tensor([[0, 5]], { dtype: "float64" }), keys, { beta: 1, values, mask });
    const e = [Math.exp(0), Math.exp(5)];
    expect(weights.data[1]).toBe(0);
    expect(output.data[0]).toBeCloseTo((10 * e[0]! + 30 * e[1]!) / (e[0]! + e[1]!), 10);
  });

  it("rejects bad arguments, naming the op", () => {
    expect(() => hopfieldRetrieve(X, X, { beta: 0 })).toThrow(/^hopfieldRetrieve: beta must be a finite number > 0, got 0/);
    expect(() => hopfieldRetrieve(X, X, { beta: 1, steps: 0 })).toThrow(/^hopfieldRetrieve: steps must be an integer >= 1/);
    expect(() => hopfieldRetrieve(X, patterns(3, 8, 1), { beta: 1 })).toThrow(/^hopfieldRetrieve: state \[20, 64\] and stored \[3, 8\]/);
  });
});

describe("Hopfield layers", () => {
  const g = (seed: number): eg.Generator => new eg.Generator(seed);
  const x = (shape: number[], seed: number): eg.Tensor => eg.randn(shape, { dtype: "float64", generator: g(seed) });

  it("Hopfield is softmax(beta R W_Q (Y W_K)^T) Y W_V, with beta = 1/sqrt(hidden) by default", () => {
    const h = new Hopfield(3, { storedSize: 4, hiddenSize: 5, outputSize: 2, dtype: "float64", generator: g(1) });
    expect(h.beta).toBeCloseTo(1 / Math.sqrt(5), 15);
    expect(h.namedParameters().map(([k]) => k)).toEqual(["queryProj.weight", "keyProj.weight", "valueProj.weight"]);
    const R = x([2, 3, 3], 2);
    const Y = x([2, 6, 4], 3);
    const { output, weights } = h.forward(R, Y);
    expect(output.shape).toEqual([2, 3, 2]);
    expect(weights.shape).toEqual([2, 3, 6]);
    rowSumsAreOne(weights);
    const q = R.matmul(h.queryProj.weight, { transB: true });
    const k = Y.matmul(h.keyProj.weight, { transB: true });
    const v = Y.matmul(h.valueProj.weight, { transB: true });
    const expected = eg.softmax(q.matmul(k, { transB: true }).mul(h.beta), -1).matmul(v);
    for (let i = 0; i < expected.size; i++) expect(output.data[i]).toBeCloseTo(expected.data[i]!, 12);
  });

  it("HopfieldPooling pools a padded bag with learned queries; padding gets no weight", () => {
    const pool = new HopfieldPooling(4, { numQueries: 2, hiddenSize: 3, outputSize: 5, dtype: "float64", generator: g(4) });
    expect(pool.namedParameters().map(([k]) => k)).toEqual(["queries", "keyProj.weight", "valueProj.weight"]);
    const bag = x([2, 5, 4], 5);
    const mask = eg.tensor([[[true, true, true, false, false]], [[true, true, true, true, true]]], { dtype: "bool" });
    const { output, weights } = pool.forward(bag, { mask });
    expect(output.shape).toEqual([2, 2, 5]);
    rowSumsAreOne(weights);
    for (const q of [0, 1]) for (const n of [3, 4]) expect(weights.data[q * 5 + n]).toBe(0);
    // changing a padded instance changes nothing
    const other = bag.clone();
    other.data.fill(7, 3 * 4, 5 * 4);
    const again = pool.forward(other, { mask }).output;
    for (let i = 0; i < 10; i++) expect(again.data[i]).toBe(output.data[i]);
  });

  it("HopfieldLayer looks up learned patterns and values", () => {
    const layer = new HopfieldLayer(3, { numPatterns: 7, hiddenSize: 4, outputSize: 2, dtype: "float64", generator: g(6) });
    expect(layer.namedParameters().map(([k]) => k)).toEqual(["patterns", "values", "queryProj.weight"]);
    const { output, weights } = layer.forward(x([2, 5, 3], 7));
    expect(output.shape).toEqual([2, 5, 2]);
    expect(weights.shape).toEqual([2, 5, 7]);
    rowSumsAreOne(weights);
  });

  it("several update steps iterate in key space before reading the values", () => {
    const h = new Hopfield(3, { steps: 3, beta: 0.7, dtype: "float64", generator: g(8) });
    const R = x([1, 2, 3], 9);
    const Y = x([1, 4, 3], 10);
    const q = R.matmul(h.queryProj.weight, { transB: true });
    const k = Y.matmul(h.keyProj.weight, { transB: true });
    let xi = q;
    for (let s = 0; s < 2; s++) xi = eg.softmax(xi.matmul(k, { transB: true }).mul(0.7), -1).matmul(k);
    const expected = eg.softmax(xi.matmul(k, { transB: true }).mul(0.7), -1).matmul(Y.matmul(h.valueProj.weight, { transB: true }));
    const got = h.forward(R, Y).output;
    for (let i = 0; i < expected.size; i++) expect(got.data[i]).toBeCloseTo(expected.data[i]!, 12);
  });

  it("pass float64 gradient checks (inputs and every parameter)", () => {
    onTs(() => {
      const h = new Hopfield(3, { hiddenSize: 2, outputSize: 2, steps: 2, bias: true, dtype: "float64", generator: g(11) });
      const keys = h.namedParameters().map(([k]) => k);
      expect(keys).toHaveLength(6);
      const r = eg.gradcheck(
        (R, Y, ...ps) => {
          keys.forEach((k, i) => setParam(h, k, ps[i]!));
          return h.forward(R, Y).output;
        },
        [x([2, 2, 3], 12), x([2, 3, 3], 13), ...h.parameters().map((p) => p.detach())],
        { atol: 1e-6, rtol: 1e-4 },
      );
      expect(r.ok, JSON.stringify(r.worst)).toBe(true);
      const pool = new HopfieldPooling(3, { numQueries: 2, hiddenSize: 2, dtype: "float64", generator: g(14) });
      const poolKeys = pool.namedParameters().map(([k]) => k);
      const r2 = eg.gradcheck(
        (bag, ...ps) => {
          poolKeys.forEach((k, i) => setParam(pool, k, ps[i]!));
          return pool.forward(bag).output;
        },
        [x([2, 4, 3], 15), ...pool.parameters().map((p) => p.detach())],
        { atol: 1e-6, rtol: 1e-4 },
      );
      expect(r2.ok, JSON.stringify(r2.worst)).toBe(true);
    });
  });

  it("rejects wrong shapes and options", () => {
    const h = new Hopfield(3, { storedSize: 4 });
    expect(() => h.forward(eg.zeros([2, 1, 3]), eg.zeros([2, 5, 3]))).toThrow(
      /^Hopfield\.forward: stored \[2, 5, 3\] must be \(batch, count, 4\)/,
    );
    expect(() => h.forward(eg.zeros([2, 1, 3]), eg.zeros([3, 5, 4]))).toThrow(/differ in batch size/);
    expect(() => new Hopfield(3, { beta: -1 })).toThrow(/^Hopfield: beta must be a finite number > 0/);
    expect(() => new HopfieldPooling(3, { numQueries: 0 })).toThrow(/^HopfieldPooling: numQueries must be an integer >= 1/);
  });
});

describe("hopfieldRetrievalDemo", () => {
  it("reports exact retrieval at high beta and a blend at low beta, for masked and flipped queries", () => {
    const rows = hopfieldRetrievalDemo({ patterns: 16, dim: 64, betas: [0.005, 1], noises: [0, 0.5], seed: 3 });
    expect(rows.map((r) => [r.beta, r.noise])).toEqual([
      [0.005, 0],
      [0.005, 0.5],
      [1, 0],
      [1, 0.5],
    ]);
    const at = (beta: number, noise: number): (typeof rows)[number] => rows.find((r) => r.beta === beta && r.noise === noise)!;
    expect(at(1, 0).accuracy).toBe(1);
    expect(at(1, 0.5).accuracy).toBe(1);
    expect(at(1, 0.5).bitErrorRate).toBe(0);
    expect(at(0.005, 0.5).accuracy).toBeLessThan(0.5);
    expect(at(0.005, 0.5).bitErrorRate).toBeGreaterThan(0.1);
    const flipped = hopfieldRetrievalDemo({ patterns: 16, dim: 64, betas: [1], noises: [0.25, 0.6], corruption: "flip", seed: 3 });
    expect(flipped[0]!.accuracy).toBe(1);
    // flipping more than half of a pattern makes its negation the closer one: retrieval fails
    expect(flipped[1]!.accuracy).toBeLessThan(0.5);
  });

  it("is deterministic for a seed and validates its options", () => {
    const a = hopfieldRetrievalDemo({ patterns: 8, dim: 16, betas: [0.1], noises: [0.5], seed: 9 });
    expect(hopfieldRetrievalDemo({ patterns: 8, dim: 16, betas: [0.1], noises: [0.5], seed: 9 })).toEqual(a);
    expect(() => hopfieldRetrievalDemo({ noises: [1.5] })).toThrow(/^hopfieldRetrievalDemo: noises must be in \[0, 1\], got 1.5/);
    expect(() => hopfieldRetrievalDemo({ corruption: "blur" as never })).toThrow(/corruption must be "mask" or "flip"/);
  });
});
