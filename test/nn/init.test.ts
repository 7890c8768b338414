import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import * as nn from "../../src/nn/index.js";

const { init } = nn;

function stats(t: eg.Tensor): { mean: number; variance: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of t.data) {
    s += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = s / t.size;
  let v2 = 0;
  for (const v of t.data) v2 += (v - mean) ** 2;
  return { mean, variance: v2 / t.size, min, max };
}

const gen = (seed: number): { generator: eg.Generator } => ({ generator: new eg.Generator(seed) });

describe("nn.init", () => {
  it("computes fans like PyTorch", () => {
    expect(init.calculateFans(eg.zeros([3, 5]))).toEqual([5, 3]);
    expect(init.calculateFans(eg.zeros([8, 4, 3, 3]))).toEqual([36, 72]);
    expect(() => init.calculateFans(eg.zeros([3]))).toThrow(eg.ArgumentError);
    expect(init.calculateGain("tanh")).toBeCloseTo(5 / 3);
    expect(init.calculateGain("leakyRelu", Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3));
    expect(init.calculateGain("relu")).toBeCloseTo(Math.SQRT2);
  });

  it("xavier variances are 2 / (fanIn + fanOut) times gain^2", () => {
    const t = eg.zeros([200, 300]);
    const want = 2 / 500;
    const u = stats(init.xavierUniform(t, gen(1)));
    expect(u.variance / want).toBeGreaterThan(0.97);
    expect(u.variance / want).toBeLessThan(1.03);
    expect(Math.max(-u.min, u.max)).toBeLessThanOrEqual(Math.sqrt(6 / 500) + 1e-7);
    const n = stats(init.xavierNormal(t, { gain: 2, ...gen(2) }));
    expect(n.variance / (4 * want)).toBeGreaterThan(0.97);
    expect(n.variance / (4 * want)).toBeLessThan(1.03);
    expect(Math.abs(n.mean)).toBeLessThan(0.005);
  });

  it("kaiming variances follow mode and nonlinearity", () => {
    const t = eg.zeros([100, 400]);
    const fanIn = stats(init.kaimingNormal(t, gen(3))).variance; // relu gain: 2 / fanIn
    expect(fanIn / (2 / 400)).toBeGreaterThan(0.97);
    expect(fanIn / (2 / 400)).toBeLessThan(1.03);
    const fanOut = stats(init.kaimingUniform(t, { mode: "fanOut", nonlinearity: "tanh", ...gen(4) }));
    const want = 25 / 9 / 100;
    expect(fanOut.variance / want).toBeGreaterThan(0.97);
    expect(fanOut.variance / want).toBeLessThan(1.03);
    expect(fanOut.max).toBeLessThanOrEqual(Math.sqrt(3 * want) + 1e-7);
    expect(() => init.kaimingUniform(t, { mode: "fan_in" as never })).toThrow(eg.ArgumentError);
  });

  it.each([[[6, 6]], [[4, 9]], [[9, 4]], [[3, 2, 2]]])("orthogonal %j is (semi-)orthogonal", (shape: number[]) => {
    const t = init.orthogonal(eg.zeros(shape, { dtype: "float64" }), { gain: 1, ...gen(5) });
    const rows = shape[0]!;
    const w = t.reshape([rows, -1]);
    // rows <= cols: W W^T = I; otherwise W^T W = I
    const prod = rows <= w.shape[1]! ? eg.matmul(w, w, { transB: true }) : eg.matmul(w, w, { transA: true });
    const n = prod.shape[0]!;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(prod.data[i * n + j]!).toBeCloseTo(i === j ? 1 : 0, 12);
    const scaled = init.orthogonal(eg.zeros([5, 5]), { gain: 2, ...gen(6) });
    const p2 = eg.matmul(scaled, scaled, { transB: true });
    expect(p2.data[0]!).toBeCloseTo(4, 5);
    expect(p2.data[1]!).toBeCloseTo(0, 5);
  });

  it("uniform, normal, constant, zeros, ones fill in place and are seeded", () => {
    const a = eg.zeros([1000]);
    expect(init.uniform(a, -2, 3, gen(7))).toBe(a);
    const s = stats(a);
    expect(s.min).toBeGreaterThanOrEqual(-2);
    expect(s.max).toBeLessThan(3);
    expect(s.mean).toBeGreaterThan(0.3);
    const b = init.uniform(eg.zeros([1000]), -2, 3, gen(7));
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    const n = stats(init.normal(eg.zeros([4000]), 1, 0.5, gen(8)));
    expect(n.mean).toBeCloseTo(1, 1);
    expect(Math.sqrt(n.variance)).toBeCloseTo(0.5, 1);
    expect(Array.from(init.constant(eg.zeros([3]), 7).data)).toEqual([7, 7, 7]);
    expect(Array.from(init.ones(eg.zeros([2])).data)).toEqual([1, 1]);
    expect(Array.from(init.zeros(eg.ones([2])).data)).toEqual([0, 0]);
  });

  it("does not touch the graph or gradients and rejects non-float tensors", () => {
    const p = eg.zeros([3, 3], { requiresGrad: true });
    init.xavierUniform(p);
    expect(p.isLeaf).toBe(true);
    expect(p.grad).toBeNull();
    expect(() => init.normal(eg.zeros([2], { dtype: "int32" }))).toThrow(eg.DTypeError);
    expect(() => init.orthogonal(eg.zeros([3]))).toThrow(eg.ArgumentError);
  });
});
