/**
 * Stochastic hard attention: sampling matches the distribution, the REINFORCE surrogate has the
 * analytic score-function gradient and is unbiased, baselines reduce variance, a retrieval task is
 * learned from the reward alone, state dicts and errors.
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { HardAttention, hardAttention, reinforceSurrogate } from "../../src/attention/hard.js";
import { AdditiveAttention } from "../../src/attention/additive.js";
import { LuongAttention } from "../../src/attention/luong.js";
import { rng } from "../helpers/rng.js";
import { maxAbsDiff } from "../nn/helpers.js";
import { randn, retrievalBatch, softmax } from "./helpers.js";

/** Scores (N, S) repeating one row. */
const rows = (row: readonly number[], n: number, dtype: "float32" | "float64" = "float64"): eg.Tensor =>
  eg.tensor(
    Array.from({ length: n }, () => [...row]),
    { dtype },
  );

describe("hardAttention sampling and test modes", () => {
  const row = [0.5, -1, 2, 0, 1];
  const p = softmax(row);

  it("sample frequencies match the weights (chi-square, seeded)", () => {
    const n = 20000;
    const values = eg.zeros([n, 5, 1]);
    const r = hardAttention(rows(row, n, "float32"), values, { mode: "sample", generator: new eg.Generator(7) });
    expect(r.samples!.shape).toEqual([n]);
    const counts = new Array<number>(5).fill(0);
    for (const s of r.samples!.data) counts[s]!++;
    const chi2 = counts.reduce((acc, c, j) => acc + (c - n * p[j]!) ** 2 / (n * p[j]!), 0);
    // 4 degrees of freedom: P(chi2 > 18.47) = 0.001
    expect(chi2).toBeLessThan(18.47);
    p.forEach((pj, j) => expect(r.weights.data[j]).toBeCloseTo(pj, 6));
  });

  it("the output is the sampled value vector; argmax and expectation modes", () => {
    const values = randn([3, 5, 2], 3);
    const scores = randn([3, 5], 4);
    const s = hardAttention(scores, values, { generator: new eg.Generator(1) });
    for (let b = 0; b < 3; b++) {
      const j = s.samples!.data[b]!;
      for (let c = 0; c < 2; c++) expect(s.output.data[b * 2 + c]).toBe(values.data[(b * 5 + j) * 2 + c]);
      expect(s.logProb!.data[b]).toBeCloseTo(Math.log(s.weights.data[b * 5 + j]!), 5);
    }
    const a = hardAttention(scores, values, { mode: "argmax" });
    expect(Array.from(a.samples!.data)).toEqual(Array.from(eg.argmax(scores, -1).data));
    const e = hardAttention(scores, values, { mode: "expectation" });
    expect(e.samples).toBeNull();
    expect(e.logProb).toBeNull();
    expect(maxAbsDiff(e.output, eg.matmul(e.weights.unsqueeze(1), values).squeeze(1))).toBeLessThan(1e-6);
    // entropy -sum p log p per row, a masked position contributing 0 (and never sampled)
    const mask = eg.tensor([[true, true, false, true, true]]);
    const m = hardAttention(rows(row, 400), eg.zeros([400, 5, 1], { dtype: "float64" }), { mask, generator: new eg.Generator(2) });
    expect(Array.from(m.samples!.data)).not.toContain(2);
    const pm = softmax([0.5, -1, 0, 1]);
    expect(m.entropy.data[0]).toBeCloseTo(-pm.reduce((acc, x) => acc + x * Math.log(x), 0), 10);
  });

  it("steps (B, T, S): one sample per step", () => {
    const r = hardAttention(randn([2, 3, 4], 5), randn([2, 4, 6], 6), { generator: new eg.Generator(3) });
    expect(r.samples!.shape).toEqual([2, 3]);
    expect(r.output.shape).toEqual([2, 3, 6]);
    expect(r.logProb!.shape).toEqual([2, 3]);
    expect(r.entropy.shape).toEqual([2, 3]);
  });
});

describe("REINFORCE surrogate", () => {
  it("its gradient is the analytic score-function gradient, entropy bonus included", () => {
    const [B, S] = [4, 5];
    const scores = randn([B, S], 8, "float64");
    scores.requiresGrad = true;
    const reward = eg.tensor([1, -0.5, 2, 0.25], { dtype: "float64" });
    const [b, c] = [0.3, 0.1];
    const r = hardAttention(scores, eg.zeros([B, S, 1], { dtype: "float64" }), { generator: new eg.Generator(9) });
    reinforceSurrogate(r, reward, { baseline: b, entropyCoef: c }).backward();
    for (let i = 0; i < B; i++) {
      const p = Array.from(r.weights.data.subarray(i * S, (i + 1) * S));
      const h = -p.reduce((acc, x) => acc + x * Math.log(x), 0);
      const s = r.samples!.data[i]!;
      const adv = reward.data[i]! - b;
      p.forEach((pj, j) => {
        const want = (-adv * ((j === s ? 1 : 0) - pj) + c * pj * (Math.log(pj) + h)) / B;
        expect(scores.grad!.data[i * S + j]).toBeCloseTo(want, 12);
      });
    }
  });

  it("is unbiased: the mean REINFORCE gradient is the exact gradient of the expected reward", () => {
    const theta = eg.tensor([0.2, -0.4, 0.9, 0], { dtype: "float64" });
    const rewardOf = [1, 0, 0.5, -0.5];
    const p = softmax(Array.from(theta.data));
    const expected = p.reduce((acc, pj, j) => acc + pj * rewardOf[j]!, 0);
    const exact = p.map((pj, j) => pj * (rewardOf[j]! - expected)); // d E[R] / d theta
    const n = 100000;
    for (const baseline of [0, 0.25]) {
      const grad = eg.grad((t: eg.Tensor) => {
        const r = hardAttention(t.unsqueeze(0).expand([n, 4]), eg.zeros([n, 4, 1], { dtype: "float64" }), {
          generator: new eg.Generator(10),
        });
        const reward = eg.tensor(
          Array.from(r.samples!.data, (s) => rewardOf[s]!),
          { dtype: "float64" },
        );
        return reinforceSurrogate(r, reward, { baseline });
      })(theta)[0]!;
      // the surrogate is a loss: its gradient estimates -grad E[R]; per-sample terms are <= 0.75, so 4 sigma < 0.01
      exact.forEach((g, j) => expect(Math.abs(-grad.data[j]! - g)).toBeLessThan(0.01));
    }
  });
});

/** A fixed retrieval problem scored by Luong "general" attention; reward = offset - squared error of the selected value. */
function fixedProblem(seed: number): { q: eg.Tensor; k: eg.Tensor; v: eg.Tensor; y: eg.Tensor } {
  return retrievalBatch(rng(seed), 16, 5, 8, 4);
}

const rewardOf = (out: eg.Tensor, y: eg.Tensor, offset = 0): eg.Tensor => eg.sub(offset, eg.sub(out, y).square().sum(-1)).detach();

describe("HardAttention module", () => {
  it("baselines reduce the variance of the gradient (moving average, learned scalar)", () => {
    const { q, k, v, y } = fixedProblem(40);
    const variance = (kind: "none" | "moving-average" | "learned"): number => {
      const m = new HardAttention(new LuongAttention(8, 8, { generator: new eg.Generator(41) }), {
        baseline: kind,
        generator: new eg.Generator(42),
      });
      if (kind === "learned") {
        // fit the scalar baseline first (its own MSE term), attention frozen
        const opt = new eg.optim.Adam([m.baselineBias!], { lr: 0.2 });
        for (let i = 0; i < 150; i++) {
          const r = m.forward(q, k, v);
          opt.zeroGrad();
          m.reinforce(r, rewardOf(r.output, y, 20)).loss.backward();
          opt.step();
        }
        expect(m.baselineBias!.item()).toBeGreaterThan(10);
      }
      const w = m.scorer.parameters()[0]!;
      const grads: number[][] = [];
      for (let i = 0; i < 120; i++) {
        const r = m.forward(q, k, v);
        w.grad = null;
        m.reinforce(r, rewardOf(r.output, y, 20)).loss.backward();
        // the first moving-average steps are its warm-up
        if (i >= 20) grads.push(Array.from(w.grad!.data));
      }
      let total = 0;
      for (let j = 0; j < grads[0]!.length; j++) {
        const mu = grads.reduce((acc, g) => acc + g[j]!, 0) / grads.length;
        total += grads.reduce((acc, g) => acc + (g[j]! - mu) ** 2, 0) / grads.length;
      }
      return total;
    };
    const none = variance("none");
    expect(variance("moving-average")).toBeLessThan(0.05 * none);
    expect(variance("learned")).toBeLessThan(0.05 * none);
  });

  it("learns retrieval from the reward alone (reward rises, argmax picks the right key)", () => {
    const m = new HardAttention(new LuongAttention(8, 8, { generator: new eg.Generator(50) }), {
      entropyCoef: 0.01,
      generator: new eg.Generator(51),
    });
    const opt = new eg.optim.Adam(m.parameters(), { lr: 0.05 });
    const next = rng(52);
    const evalBatch = retrievalBatch(rng(53), 64, 5, 8, 4);
    const evalReward = (): number =>
      eg.noGrad(() => {
        m.eval();
        const r = m.forward(evalBatch.q, evalBatch.k, evalBatch.v);
        m.train();
        return rewardOf(r.output, evalBatch.y).mean().item();
      });
    const before = evalReward();
    const trainRewards: number[] = [];
    for (let step = 0; step < 150; step++) {
      const { q, k, v, y } = retrievalBatch(next, 32, 5, 8, 4);
      const r = m.forward(q, k, v);
      const reward = rewardOf(r.output, y);
      trainRewards.push(reward.mean().item());
      opt.zeroGrad();
      m.reinforce(r, reward).loss.backward();
      opt.step();
    }
    const meanOf = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(meanOf(trainRewards.slice(-20))).toBeGreaterThan(meanOf(trainRewards.slice(0, 20)) + 1);
    const after = evalReward();
    expect(before).toBeLessThan(-1);
    expect(after).toBeGreaterThan(-0.05);
  });

  it("state dict: scorer, learned baseline parameters or moving-average buffers round-trip", () => {
    const { q, k, v, y } = fixedProblem(60);
    const make = (baseline: "moving-average" | "learned"): HardAttention =>
      new HardAttention(new LuongAttention(8, 8, { score: "concat", hidden: 3, generator: new eg.Generator(61) }), {
        baseline,
        ...(baseline === "learned" ? { baselineInputDim: 8 } : {}),
        generator: new eg.Generator(62),
      });
    const ma = make("moving-average");
    // a module's own buffers come before its children's entries, as in PyTorch
    expect([...ma.stateDict().keys()]).toEqual(["baseline", "baselineSteps", "scorer.va", "scorer.wa.weight"]);
    for (let i = 0; i < 3; i++) {
      const r = ma.forward(q, k, v);
      ma.reinforce(r, rewardOf(r.output, y));
    }
    const copy = make("moving-average");
    copy.loadStateDict(ma.stateDict());
    ma.eval();
    copy.eval();
    const r = ma.forward(q, k, v);
    expect(copy.reinforce(r, rewardOf(r.output, y)).baseline.data[0]).toBeCloseTo(
      ma.reinforce(r, rewardOf(r.output, y)).baseline.data[0]!,
      12,
    );
    expect(ma.stateDict().get("baselineSteps")!.item()).toBe(3);

    const learned = make("learned");
    expect([...learned.stateDict().keys()]).toEqual(["scorer.va", "scorer.wa.weight", "baselineProj.weight", "baselineProj.bias"]);
    const res = learned.forward(q, k, v);
    learned.reinforce(res, rewardOf(res.output, y), { baselineInput: q }).loss.backward();
    // the MSE term trains the baseline; the advantage uses it detached
    expect(learned.baselineProj!.bias!.grad!.item()).not.toBe(0);
  });

  it("wraps AdditiveAttention: eval in expectation mode is the soft attention; training samples", () => {
    const scorer = new AdditiveAttention(8, 8, { hidden: 6, generator: new eg.Generator(80) });
    const m = new HardAttention(scorer, { testMode: "expectation", generator: new eg.Generator(81) });
    const { q, k, v } = fixedProblem(82);
    const soft = scorer.forward(q, k, v);
    m.eval();
    const e = m.forward(q, k, v);
    expect(e.samples).toBeNull();
    expect(maxAbsDiff(e.output, soft.output)).toBeLessThan(1e-6);
    expect(maxAbsDiff(e.weights, soft.weights)).toBeLessThan(1e-6);
    m.train();
    const s = m.forward(q, k, v);
    expect(s.samples!.shape).toEqual([16]);
    expect(s.output.shape).toEqual([16, 4]);
  });

  it("rejects bad inputs with errors naming the op", () => {
    const m = new HardAttention(new LuongAttention(8, 8, { generator: new eg.Generator(70) }));
    const { q, k, v, y } = fixedProblem(71);
    const r = m.forward(q, k, v);
    expect(() => m.reinforce(r, eg.zeros([3]))).toThrow(/^HardAttention.reinforce: reward must be \(B\) = \(16\)/);
    expect(() => m.reinforce(m.forward(q, k, v, { mode: "expectation" }), rewardOf(r.output, y))).toThrow(/no sample/);
    expect(() => m.forward(q, k, v, { mode: "soft" as "sample" })).toThrow(/^HardAttention: mode must be/);
    expect(() => m.forward(q, k, v, { lengths: new Array<number>(16).fill(0) })).toThrow(
      /^HardAttention: row 0 .* has no attended position/,
    );
    expect(() => hardAttention(eg.zeros([2, 3]), eg.zeros([2, 4, 1]))).toThrow(
      /^hardAttention: values must be \(B, S, Dv\) = \(2, 3, Dv\)/,
    );
    expect(() => hardAttention(eg.zeros([2, 3], { dtype: "int32" }), eg.zeros([2, 3, 1]))).toThrow(eg.DTypeError);
    expect(() => hardAttention(eg.zeros([2, 3]), eg.zeros([2, 3, 1]), { mask: eg.tensor([[true, false]]) })).toThrow(
      /^hardAttention: mask \[1, 2\] does not broadcast to the scores \[2, 3\]/,
    );
    expect(() => hardAttention(eg.zeros([2, 3]), eg.zeros([2, 3, 1]), { mask: eg.ones([2, 3]) })).toThrow(
      /^hardAttention: mask must be bool/,
    );
    expect(() => reinforceSurrogate(r, eg.zeros([16]), { entropyCoef: Number.NaN })).toThrow(/^reinforceSurrogate: entropyCoef/);
    expect(() => new HardAttention({} as LuongAttention)).toThrow(/^HardAttention: scorer must be/);
    expect(() => new HardAttention(new LuongAttention(2, 2), { baselineInputDim: 3 })).toThrow(/needs baseline "learned"/);
    expect(() => new HardAttention(new LuongAttention(2, 2), { baselineDecay: 1 })).toThrow(eg.ArgumentError);
    expect(() => new HardAttention(new LuongAttention(2, 2), { testMode: "sample" as "argmax" })).toThrow(/testMode/);
    const lin = new HardAttention(new LuongAttention(8, 8), { baseline: "learned", baselineInputDim: 8 });
    expect(() => lin.reinforce(r, eg.zeros([16]))).toThrow(/needs opts.baselineInput/);
    expect(() => lin.reinforce(r, eg.zeros([16]), { baselineInput: eg.zeros([16, 3]) })).toThrow(eg.ShapeError);
  });
});
