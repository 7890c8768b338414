import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { AdditiveAttention } from "../../src/attention/additive.js";
import { maxAbsDiff, setParam } from "../nn/helpers.js";
import { fill, randn, retrievalLearning, rowSums, softmax } from "./helpers.js";

describe("AdditiveAttention values", () => {
  it("matches v^T tanh(W q + U k) by hand", () => {
    const m = new AdditiveAttention(2, 2, { hidden: 1 });
    fill(m.queryProj.weight, [1, 0]);
    fill(m.keyProj.weight, [0, 1]);
    fill(m.v, [2]);
    const q = eg.tensor([[0.5, -3]]);
    const keys = eg.tensor([
      [
        [7, 0],
        [-7, 1],
        [0, -2],
      ],
    ]);
    const values = eg.tensor([
      [
        [1, 0],
        [0, 1],
        [3, 3],
      ],
    ]);
    const { output, weights } = m.forward(q, keys, values);
    expect(weights.shape).toEqual([1, 3]);
    expect(output.shape).toEqual([1, 2]);
    const a = softmax([2 * Math.tanh(0.5), 2 * Math.tanh(1.5), 2 * Math.tanh(-1.5)]);
    a.forEach((x, j) => expect(weights.data[j]).toBeCloseTo(x, 6));
    expect(output.data[0]).toBeCloseTo(a[0]! + 3 * a[2]!, 6);
    expect(output.data[1]).toBeCloseTo(a[1]! + 3 * a[2]!, 6);
  });

  it("normalize: g * v/||v|| with a bias inside the tanh", () => {
    const m = new AdditiveAttention(2, 2, { hidden: 2, normalize: true });
    expect(m.g!.item()).toBeCloseTo(Math.sqrt(1 / 2), 6);
    fill(m.queryProj.weight, [1, 0, 0, 1]);
    fill(m.keyProj.weight, [0, 1, 1, 0]);
    fill(m.v, [3, 4]);
    fill(m.g!, [2]);
    fill(m.b!, [0.1, -0.2]);
    const q = [0.3, -0.4];
    const ks = [
      [1, 2],
      [-1, 0.5],
    ];
    const { weights } = m.forward(eg.tensor([q]), eg.tensor([ks]), eg.tensor([[[1], [2]]]));
    const score = (k: number[]): number => 2 * (0.6 * Math.tanh(q[0]! + k[1]! + 0.1) + 0.8 * Math.tanh(q[1]! + k[0]! - 0.2));
    softmax(ks.map(score)).forEach((x, j) => expect(weights.data[j]).toBeCloseTo(x, 6));
    // the scale of v no longer matters, only g does
    fill(m.v, [30, 40]);
    expect(maxAbsDiff(m.forward(eg.tensor([q]), eg.tensor([ks]), eg.tensor([[[1], [2]]])).weights, weights)).toBeLessThan(1e-6);
  });
});

describe("AdditiveAttention masking", () => {
  const m = new AdditiveAttention(3, 4, { hidden: 5, generator: new eg.Generator(1) });
  const q = randn([3, 3], 2);
  const keys = randn([3, 6, 4], 3);
  const values = randn([3, 6, 2], 4);

  it("weights sum to 1 over attended positions and are exactly 0 elsewhere; lengths = the same mask", () => {
    const lengths = [6, 2, 4];
    const mask = eg.tensor(lengths.map((n) => Array.from({ length: 6 }, (_, s) => s < n)));
    const byMask = m.forward(q, keys, values, { mask });
    const byLen = m.forward(q, keys, values, { lengths });
    expect(maxAbsDiff(byMask.weights, byLen.weights)).toBe(0);
    expect(maxAbsDiff(byMask.output, byLen.output)).toBe(0);
    rowSums(byMask.weights).forEach((s) => expect(s).toBeCloseTo(1, 6));
    lengths.forEach((n, b) => {
      for (let s = 0; s < 6; s++) {
        const w = byMask.weights.data[b * 6 + s]!;
        if (s >= n) expect(w).toBe(0);
        else expect(w).toBeGreaterThan(0);
      }
    });
  });

  it("a fully masked row gives zero weights and context, and finite gradients", () => {
    const qq = q.detach();
    qq.requiresGrad = true;
    const { output, weights } = m.forward(qq, keys, values, { lengths: [3, 0, 6] });
    for (let s = 0; s < 6; s++) expect(weights.data[6 + s]).toBe(0);
    expect(output.data[2]).toBe(0);
    expect(output.data[3]).toBe(0);
    output.sum().backward();
    for (const p of [qq, ...m.parameters()]) for (const g of p.grad!.data) expect(Number.isFinite(g)).toBe(true);
    m.zeroGrad();
  });

  it("rejects bad shapes, non-bool masks and bad lengths with errors naming the layer", () => {
    expect(() => m.forward(randn([3, 4], 1), keys, values)).toThrow(/^AdditiveAttention: query/);
    expect(() => m.forward(q, randn([2, 6, 4], 1), values)).toThrow(eg.ShapeError);
    expect(() => m.forward(q, keys, randn([3, 5, 2], 1))).toThrow(/values/);
    expect(() => m.forward(q, keys, values, { mask: eg.ones([3, 6]) })).toThrow(/mask must be bool/);
    expect(() => m.forward(q, keys, values, { mask: eg.tensor([[true, false]]) })).toThrow(eg.ShapeError);
    expect(() => m.forward(q, keys, values, { lengths: [1, 2, 7] })).toThrow(/lengths\[2\]/);
  });
});

describe("AdditiveAttention decoding", () => {
  it("all T steps at once equal a step-by-step loop with cached projected keys", () => {
    const m = new AdditiveAttention(3, 4, { hidden: 6, normalize: true, generator: new eg.Generator(5) });
    const [B, T, S] = [2, 4, 5];
    const qs = randn([B, T, 3], 6);
    const keys = randn([B, S, 4], 7);
    const values = randn([B, S, 3], 8);
    const mask3 = eg.tensor(
      Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => Array.from({ length: S }, (_, s) => s <= t + b))),
    );
    const all = m.forward(qs, keys, values, { mask: mask3, lengths: [5, 3] });
    expect(all.output.shape).toEqual([B, T, 3]);
    expect(all.weights.shape).toEqual([B, T, S]);
    const cached = m.projectKeys(keys);
    for (let t = 0; t < T; t++) {
      const qt = eg.narrow(qs, 1, t, 1).reshape([B, 3]);
      const mt = eg.narrow(mask3, 1, t, 1).reshape([B, S]);
      const step = m.forward(qt, keys, values, { mask: mt, lengths: [5, 3], projectedKeys: cached });
      expect(maxAbsDiff(step.output, eg.narrow(all.output, 1, t, 1).reshape([B, 3]))).toBeLessThan(1e-6);
      expect(maxAbsDiff(step.weights, eg.narrow(all.weights, 1, t, 1).reshape([B, S]))).toBeLessThan(1e-6);
    }
  });
});

describe("AdditiveAttention gradients (float64, ts)", () => {
  let prev: "ts" | "native";
  beforeAll(() => {
    prev = eg.getBackend();
    eg.setBackend("ts");
  });
  afterAll(() => eg.setBackend(prev));

  for (const normalize of [false, true]) {
    it(`gradcheck through inputs and parameters (normalize ${normalize})`, () => {
      const m = new AdditiveAttention(3, 2, { hidden: 4, normalize, dtype: "float64", generator: new eg.Generator(9) });
      const names = m.namedParameters().map(([k]) => k);
      const mask = eg.tensor([
        [true, true, false, true],
        [true, false, false, false],
      ]);
      const fn = (q: eg.Tensor, k: eg.Tensor, v: eg.Tensor, ...ps: eg.Tensor[]): eg.Tensor => {
        names.forEach((n, i) => setParam(m, n, ps[i]!));
        return m.forward(q, k, v, { mask }).output;
      };
      const xs = [randn([2, 2, 3], 10, "float64"), randn([2, 4, 2], 11, "float64"), randn([2, 4, 3], 12, "float64")];
      const r = eg.gradcheck(fn, [...xs, ...m.parameters()]);
      expect(r.ok, JSON.stringify(r.worst)).toBe(true);
    });
  }
});

describe("AdditiveAttention state dict", () => {
  it("round-trips into a differently seeded layer with the documented keys", () => {
    const a = new AdditiveAttention(3, 4, { hidden: 5, normalize: true, generator: new eg.Generator(1) });
    for (const p of a.parameters()) p.data[0]! += 0.5; // g and b start constant: move them off their init
    const b = new AdditiveAttention(3, 4, { hidden: 5, normalize: true, generator: new eg.Generator(2) });
    const sd = a.stateDict();
    expect([...sd.keys()]).toEqual(["v", "g", "b", "queryProj.weight", "keyProj.weight"]);
    expect(sd.get("queryProj.weight")!.shape).toEqual([5, 3]);
    expect(sd.get("keyProj.weight")!.shape).toEqual([5, 4]);
    expect(sd.get("g")!.shape).toEqual([]);
    const args = [randn([2, 3], 3), randn([2, 6, 4], 4), randn([2, 6, 2], 5)] as const;
    expect(maxAbsDiff(a.forward(...args).output, b.forward(...args).output)).toBeGreaterThan(1e-3);
    b.loadStateDict(sd);
    expect(maxAbsDiff(a.forward(...args).output, b.forward(...args).output)).toBe(0);
    expect([...new AdditiveAttention(3, 4).stateDict().keys()]).toEqual(["v", "queryProj.weight", "keyProj.weight"]);
  });
});

describe("AdditiveAttention learning", () => {
  it("learns to retrieve the value stored under the key equal to the query (loss falls 10x in 200 Adam steps)", () => {
    const { before, after } = retrievalLearning(new AdditiveAttention(8, 8, { hidden: 16, generator: new eg.Generator(3) }), {
      seed: 11,
      evalSeed: 99,
    });
    expect(after).toBeLessThan(before / 10);
  });
});
