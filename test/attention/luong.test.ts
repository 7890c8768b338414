import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { AttentionalHidden, LuongAttention, type LuongScore } from "../../src/attention/luong.js";
import { maxAbsDiff, setParam } from "../nn/helpers.js";
import { fill, randn, retrievalLearning, rowSums, softmax } from "./helpers.js";

const SCORES: LuongScore[] = ["dot", "general", "concat"];

describe("LuongAttention scores by hand", () => {
  const keys = eg.tensor([
    [
      [1, 0],
      [0, 1],
      [1, 1],
    ],
  ]);
  const values = eg.tensor([[[1], [10], [100]]]);
  const check = (m: LuongAttention, q: number[], scores: number[]): void => {
    const { output, weights, positions } = m.forward(eg.tensor([q]), keys, values);
    expect(positions).toBeNull();
    const a = softmax(scores);
    a.forEach((x, j) => expect(weights.data[j]).toBeCloseTo(x, 6));
    expect(output.data[0]).toBeCloseTo(a[0]! + 10 * a[1]! + 100 * a[2]!, 4);
  };

  it("dot: q . k", () => {
    const m = new LuongAttention(2, 2, { score: "dot" });
    expect(m.numParameters()).toBe(0);
    check(m, [1, 2], [1, 2, 3]);
  });

  it("general: q^T W_a k", () => {
    const m = new LuongAttention(2, 2, { score: "general" });
    fill(m.wa!.weight, [1, 2, 0, 1]); // W_a = [[1, 2], [0, 1]]
    // W_a k = [1, 0], [2, 1], [3, 1]; q = [1, -1]
    check(m, [1, -1], [1, 1, 2]);
  });

  it("concat: v_a^T tanh(W_a [q; k])", () => {
    const m = new LuongAttention(2, 2, { score: "concat", hidden: 2 });
    fill(m.wa!.weight, [1, 0, 0, 1, 0, 1, 1, 0]); // row 0 = q0 + k1, row 1 = q1 + k0
    fill(m.va!, [2, -1]);
    const q = [0.5, -0.25];
    const ks = [
      [1, 0],
      [0, 1],
      [1, 1],
    ];
    check(
      m,
      q,
      ks.map((k) => 2 * Math.tanh(q[0]! + k[1]!) - Math.tanh(q[1]! + k[0]!)),
    );
  });

  it("rejects bad configurations", () => {
    expect(() => new LuongAttention(2, 3, { score: "dot" })).toThrow(/^LuongAttention: score "dot" needs queryDim === keyDim/);
    expect(() => new LuongAttention(2, 2, { score: "cosine" as LuongScore })).toThrow(eg.ArgumentError);
    expect(() => new LuongAttention(2, 2, { mode: "local-p", window: 0 })).toThrow(/window/);
    const m = new LuongAttention(2, 3);
    expect(() => m.forward(eg.zeros([1, 2]), eg.zeros([1, 4, 2]), eg.zeros([1, 4, 1]))).toThrow(/keys must be/);
    expect(() => m.forward(eg.zeros([1, 2]), eg.zeros([1, 4, 3]), eg.zeros([1, 4, 1]), { projectedKeys: eg.zeros([1, 4, 3]) })).toThrow(
      /projectedKeys/,
    );
  });
});

describe("LuongAttention masking (global)", () => {
  const q = randn([3, 4], 2);
  const keys = randn([3, 6, 4], 3);
  const values = randn([3, 6, 2], 4);
  for (const score of SCORES) {
    it(`${score}: sums to 1 over attended positions, exact zeros elsewhere, a fully masked row gives zeros and finite grads`, () => {
      const m = new LuongAttention(4, 4, { score, generator: new eg.Generator(1) });
      const qq = q.detach();
      qq.requiresGrad = true;
      const mask = eg.tensor([
        [true, false, true, true, false, true],
        [false, false, false, false, false, false],
        [true, true, true, true, true, true],
      ]);
      const { output, weights } = m.forward(qq, keys, values, { mask, lengths: [6, 6, 4] });
      const sums = rowSums(weights);
      expect(sums[0]).toBeCloseTo(1, 6);
      expect(sums[1]).toBe(0);
      expect(sums[2]).toBeCloseTo(1, 6);
      for (const [b, s] of [
        [0, 1],
        [0, 4],
        [2, 4],
        [2, 5],
      ] as const)
        expect(weights.data[b * 6 + s]).toBe(0);
      expect([output.data[2], output.data[3]]).toEqual([0, 0]);
      output.sum().backward();
      for (const p of [qq, ...m.parameters()]) for (const g of p.grad!.data) expect(Number.isFinite(g)).toBe(true);
    });
  }
});

describe("LuongAttention local-p", () => {
  it("p_t = S * sigmoid(v_p^T tanh(W_p q)); Gaussian-weighted softmax inside [p - D, p + D], zeros outside", () => {
    const D = 2;
    const m = new LuongAttention(2, 2, { score: "dot", mode: "local-p", window: D, positionHidden: 1 });
    fill(m.wp!.weight, [1, 0]);
    fill(m.vp!, [3]);
    const S = 9;
    const keys = randn([1, S, 2], 5);
    const values = randn([1, S, 3], 6);
    const q = [0.4, -0.7];
    const { output, weights, positions } = m.forward(eg.tensor([q]), keys, values);
    const p = S / (1 + Math.exp(-3 * Math.tanh(q[0]!)));
    expect(positions!.shape).toEqual([1]);
    expect(positions!.item()).toBeCloseTo(p, 5);
    const scores = Array.from({ length: S }, (_, s) => q[0]! * keys.data[2 * s]! + q[1]! * keys.data[2 * s + 1]!);
    const inside = scores.map((_, s) => Math.abs(s - p) <= D);
    const a = softmax(scores.filter((_, s) => inside[s]));
    let at = 0;
    const expected = scores.map((_, s) => (inside[s] ? a[at++]! * Math.exp(-((s - p) ** 2) / (2 * (D / 2) ** 2)) : 0));
    expected.forEach((w, s) => {
      if (w === 0) expect(weights.data[s]).toBe(0);
      else expect(weights.data[s]).toBeCloseTo(w, 6);
    });
    for (let c = 0; c < 3; c++) {
      const want = expected.reduce((acc, w, s) => acc + w * values.data[s * 3 + c]!, 0);
      expect(output.data[c]).toBeCloseTo(want, 5);
    }
  });

  it("p_t stays in [0, S_i] for every row, including extreme queries, and nothing outside the window or the source length is attended", () => {
    const D = 1.5;
    const m = new LuongAttention(3, 3, { score: "general", mode: "local-p", window: D, generator: new eg.Generator(7) });
    const [B, T, S] = [4, 5, 12];
    const lengths = [12, 7, 3, 1];
    const q = eg.mul(randn([B, T, 3], 8), eg.tensor([[[1]], [[50]], [[-50]], [[1]]]));
    const { weights, positions } = m.forward(q, randn([B, S, 3], 9), randn([B, S, 2], 10), { lengths });
    expect(positions!.shape).toEqual([B, T]);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const p = positions!.data[b * T + t]!;
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(lengths[b]!);
        let total = 0;
        for (let s = 0; s < S; s++) {
          const w = weights.data[(b * T + t) * S + s]!;
          if (Math.abs(s - p) > D || s >= lengths[b]!) expect(w).toBe(0);
          total += w;
        }
        expect(total).toBeLessThanOrEqual(1 + 1e-6);
      }
    }
  });
});

describe("LuongAttention decoding", () => {
  for (const [score, mode] of [
    ["general", "global"],
    ["concat", "local-p"],
    ["dot", "local-p"],
  ] as const) {
    it(`${score} ${mode}: all T steps at once equal a step-by-step loop with cached projected keys`, () => {
      const m = new LuongAttention(4, 4, { score, mode, window: 2, generator: new eg.Generator(5) });
      const [B, T, S] = [2, 3, 7];
      const qs = randn([B, T, 4], 6);
      const keys = randn([B, S, 4], 7);
      const values = randn([B, S, 3], 8);
      const all = m.forward(qs, keys, values, { lengths: [7, 5] });
      expect(all.weights.shape).toEqual([B, T, S]);
      const cached = m.projectKeys(keys);
      for (let t = 0; t < T; t++) {
        const step = m.forward(eg.narrow(qs, 1, t, 1).reshape([B, 4]), keys, values, { lengths: [7, 5], projectedKeys: cached });
        expect(maxAbsDiff(step.output, eg.narrow(all.output, 1, t, 1).reshape([B, 3]))).toBeLessThan(1e-6);
        expect(maxAbsDiff(step.weights, eg.narrow(all.weights, 1, t, 1).reshape([B, S]))).toBeLessThan(1e-6);
        if (mode === "local-p") expect(maxAbsDiff(step.positions!, eg.narrow(all.positions!, 1, t, 1).reshape([B]))).toBeLessThan(1e-5);
      }
    });
  }
});

describe("LuongAttention gradients (float64, ts)", () => {
  let prev: "ts" | "native";
  beforeAll(() => {
    prev = eg.getBackend();
    eg.setBackend("ts");
  });
  afterAll(() => eg.setBackend(prev));

  const cases = [...SCORES.map((score) => [score, "global"] as const), ["general", "local-p"] as const, ["concat", "local-p"] as const];
  for (const [score, mode] of cases) {
    it(`gradcheck ${score} ${mode} through inputs and parameters`, () => {
      const m = new LuongAttention(3, 3, { score, mode, window: 3, hidden: 4, dtype: "float64", generator: new eg.Generator(9) });
      const names = m.namedParameters().map(([k]) => k);
      const mask = eg.tensor([
        [true, true, false, true, true],
        [true, false, false, true, false],
      ]);
      const fn = (q: eg.Tensor, k: eg.Tensor, v: eg.Tensor, ...ps: eg.Tensor[]): eg.Tensor => {
        names.forEach((n, i) => setParam(m, n, ps[i]!));
        return m.forward(q, k, v, { mask }).output;
      };
      const xs = [randn([2, 2, 3], 10, "float64"), randn([2, 5, 3], 11, "float64"), randn([2, 5, 2], 12, "float64")];
      if (mode === "local-p") {
        // the hard window edge is not differentiable: make sure no position sits within eps of it
        const p = m.forward(xs[0]!, xs[1]!, xs[2]!, { mask }).positions!;
        for (const x of p.data) for (let s = 0; s < 5; s++) expect(Math.abs(Math.abs(s - x) - 3)).toBeGreaterThan(1e-4);
      }
      const r = eg.gradcheck(fn, [...xs, ...m.parameters()]);
      expect(r.ok, JSON.stringify(r.worst)).toBe(true);
      if (mode === "local-p") {
        // p_t gets a gradient through the Gaussian factor
        const gp = eg.grad((wp: eg.Tensor) => {
          setParam(m, "wp.weight", wp);
          return m.forward(xs[0]!, xs[1]!, xs[2]!, { mask }).output.sum();
        })(m.wp!.weight)[0]!;
        expect(Math.max(...Array.from(gp.data, Math.abs))).toBeGreaterThan(1e-6);
      }
    });
  }
});

describe("LuongAttention state dict and AttentionalHidden", () => {
  it("round-trips into a differently seeded layer with the documented keys", () => {
    const a = new LuongAttention(3, 4, {
      score: "concat",
      mode: "local-p",
      hidden: 5,
      positionHidden: 2,
      window: 2,
      generator: new eg.Generator(1),
    });
    const b = new LuongAttention(3, 4, {
      score: "concat",
      mode: "local-p",
      hidden: 5,
      positionHidden: 2,
      window: 2,
      generator: new eg.Generator(2),
    });
    const sd = a.stateDict();
    expect([...sd.entries()].map(([k, t]) => [k, t.shape])).toEqual([
      ["va", [5]],
      ["vp", [2]],
      ["wa.weight", [5, 7]],
      ["wp.weight", [2, 3]],
    ]);
    const args = [randn([2, 3], 3), randn([2, 6, 4], 4), randn([2, 6, 2], 5)] as const;
    expect(maxAbsDiff(a.forward(...args).output, b.forward(...args).output)).toBeGreaterThan(1e-4);
    b.loadStateDict(sd);
    expect(maxAbsDiff(a.forward(...args).output, b.forward(...args).output)).toBe(0);
    expect([...new LuongAttention(3, 4).stateDict().entries()].map(([k, t]) => [k, t.shape])).toEqual([["wa.weight", [3, 4]]]);
  });

  it("AttentionalHidden computes tanh(W_c [c; h])", () => {
    const h = new AttentionalHidden(2, 1, 2);
    expect([...h.stateDict().entries()].map(([k, t]) => [k, t.shape])).toEqual([["wc.weight", [2, 3]]]);
    fill(h.wc.weight, [1, 0, 2, 0, -1, 1]);
    const out = h.forward(eg.tensor([[0.5, 0.25]]), eg.tensor([[-0.1]]));
    expect(out.data[0]).toBeCloseTo(Math.tanh(0.5 - 0.2), 6);
    expect(out.data[1]).toBeCloseTo(Math.tanh(-0.25 - 0.1), 6);
    expect(() => h.forward(eg.zeros([1, 2]), eg.zeros([2, 1]))).toThrow(/^AttentionalHidden:/);
  });
});

describe("LuongAttention learning", () => {
  it("general score learns to retrieve the value stored under the key equal to the query (loss falls 10x in 200 Adam steps)", () => {
    const { before, after } = retrievalLearning(new LuongAttention(8, 8, { score: "general", generator: new eg.Generator(3) }), {
      seed: 12,
      evalSeed: 98,
    });
    expect(after).toBeLessThan(before / 10);
  });
});
