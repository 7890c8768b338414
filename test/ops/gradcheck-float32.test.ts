/**
 * float32 gradients on the active backend (native kernels when ENGRAM_BACKEND=native: unaryGrad,
 * softmaxGrad, layerNormGrad, GEMM, reductions, strided copies) against float64 gradients, which
 * always run on the ts reference kernels and are themselves checked by finite differences in
 * gradcheck.test.ts. Also pins the gradient conventions at special points (ties, zeros, masks).
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";

type Tensor = eg.Tensor;

let seedCounter = 100;
function randn(shape: number[]): Tensor {
  return eg.randn(shape, { dtype: "float64", generator: new eg.Generator(seedCounter++) });
}
function uniform(shape: number[], low: number, high: number): Tensor {
  return eg.rand(shape, { dtype: "float64", low, high, generator: new eg.Generator(seedCounter++) });
}

/** Gradients of sum(fn(...xs) * w) for a fixed weighting w, in the dtype of xs. */
function weightedGrads(fn: (...xs: Tensor[]) => Tensor, xs: Tensor[]): Tensor[] {
  return eg.grad((...ys: Tensor[]) => {
    const y = fn(...ys);
    const w = eg.cast(eg.reshape(eg.sin(eg.arange(0, y.size, 1, { dtype: "float64" })), y.shape), y.dtype);
    return eg.sum(eg.mul(y, w));
  })(...xs);
}

interface Case {
  name: string;
  fn: (...xs: Tensor[]) => Tensor;
  inputs: () => Tensor[];
}

const S = [4, 33]; // one row longer than a SIMD width multiple
const TARGET = eg.tensor([1, 0, 3, -100], { dtype: "int32" });
const cases: Case[] = [
  ...(
    [
      ["exp", eg.exp],
      ["sin", eg.sin],
      ["cos", eg.cos],
      ["tanh", eg.tanh],
      ["sigmoid", eg.sigmoid],
      ["silu", eg.silu],
      ["gelu", (x: Tensor) => eg.gelu(x)],
      ["gelu tanh", (x: Tensor) => eg.gelu(x, { approximate: "tanh" })],
      ["erf", eg.erf],
      ["softplus", (x: Tensor) => eg.softplus(x)],
      ["elu", (x: Tensor) => eg.elu(x, 1.2)],
      ["leakyRelu", (x: Tensor) => eg.leakyRelu(x, 0.1)],
      ["relu", eg.relu],
      ["abs", eg.abs],
      ["square", eg.square],
      ["clamp", (x: Tensor) => eg.clamp(x, -0.5, 0.7)],
    ] as [string, (x: Tensor) => Tensor][]
  ).map(([name, f]) => ({ name, fn: f, inputs: () => [randn(S)] })),
  ...(
    [
      ["log", eg.log],
      ["log1p", eg.log1p],
      ["sqrt", eg.sqrt],
      ["rsqrt", eg.rsqrt],
      ["reciprocal", eg.reciprocal],
      ["powScalar 1.7", (x: Tensor) => eg.powScalar(x, 1.7)],
    ] as [string, (x: Tensor) => Tensor][]
  ).map(([name, f]) => ({ name, fn: f, inputs: () => [uniform(S, 0.3, 2)] })),
  {
    name: "mul/div broadcast",
    fn: (a, b) => eg.div(eg.mul(a, b), eg.add(eg.square(b), 1)),
    inputs: () => [randn([3, 1, 5]), randn([4, 5])],
  },
  { name: "maximum", fn: (a, b) => eg.maximum(a, b), inputs: () => [randn(S), randn(S)] },
  {
    name: "sum/mean axes",
    fn: (x) => eg.mul(eg.sum(x, [0, 2], { keepDim: true }), eg.mean(x, 1, { keepDim: true })),
    inputs: () => [randn([3, 4, 5])],
  },
  { name: "max/min", fn: (x) => eg.add(eg.max(x, 1), eg.min(x, 1)), inputs: () => [randn(S)] },
  { name: "logSumExp", fn: (x) => eg.logSumExp(x, -1), inputs: () => [randn(S)] },
  { name: "norm", fn: (x) => eg.norm(x, 2, -1), inputs: () => [randn(S)] },
  { name: "prod", fn: (x) => eg.prod(x, 0), inputs: () => [uniform([3, 17], 0.5, 1.5)] },
  { name: "matmul", fn: (a, b) => eg.matmul(a, b), inputs: () => [randn([5, 9]), randn([9, 7])] },
  { name: "matmul transB batched", fn: (a, b) => eg.matmul(a, b, { transB: true }), inputs: () => [randn([2, 5, 9]), randn([2, 7, 9])] },
  { name: "matmul transA broadcast", fn: (a, b) => eg.matmul(a, b, { transA: true }), inputs: () => [randn([9, 5]), randn([3, 9, 4])] },
  { name: "softmax", fn: (x) => eg.softmax(x, -1), inputs: () => [randn(S)] },
  { name: "softmax axis 0", fn: (x) => eg.softmax(x, 0), inputs: () => [randn(S)] },
  { name: "logSoftmax", fn: (x) => eg.logSoftmax(x, -1), inputs: () => [randn(S)] },
  { name: "layerNorm affine", fn: (x, w, b) => eg.layerNorm(x, [33], w, b), inputs: () => [randn(S), randn([33]), randn([33])] },
  { name: "crossEntropy", fn: (x) => eg.crossEntropy(x, TARGET, { labelSmoothing: 0.1 }), inputs: () => [randn([4, 6])] },
  {
    name: "slice/flip/permute",
    fn: (x) =>
      eg.permute(
        eg.flip(
          eg.slice(x, [
            [null, null, -1],
            [1, 30, 3],
          ]),
          1,
        ),
        [1, 0],
      ),
    inputs: () => [randn(S)],
  },
  {
    name: "gather/indexSelect",
    fn: (x) =>
      eg.gather(
        eg.indexSelect(x, 1, eg.tensor([3, 3, 0, 32], { dtype: "int32" })),
        1,
        eg.tensor(
          [
            [0, 1],
            [2, 2],
            [3, 0],
            [1, 1],
          ],
          { dtype: "int32" },
        ),
      ),
    inputs: () => [randn(S)],
  },
  { name: "pad/concat", fn: (x) => eg.concat([eg.pad(x, [2, -1]), x], 1), inputs: () => [randn(S)] },
];

describe("float32 gradients on the active backend match float64", () => {
  for (const c of cases) {
    it(c.name, () => {
      const xs = c.inputs();
      const ref = weightedGrads(c.fn, xs);
      const got = weightedGrads(
        c.fn,
        xs.map((x) => eg.cast(x, "float32")),
      );
      got.forEach((g, k) => {
        expect(g.dtype).toBe("float32");
        const r = ref[k]!.data;
        g.data.forEach((v, i) => {
          const tol = 2e-4 + 1e-3 * Math.abs(r[i]!);
          if (Math.abs(v - r[i]!) > tol) expect.fail(`${c.name}: input ${k} element ${i}: float32 ${v} vs float64 ${r[i]}`);
        });
      });
    });
  }
});

describe("gradient conventions at special points", () => {
  const grad1 = (fn: (x: Tensor) => Tensor, x: Tensor): number[] => Array.from(eg.grad((a) => eg.sum(fn(a)))(x)[0]!.data);

  it("max and min split the gradient evenly between tied elements", () => {
    expect(grad1((a) => eg.max(a), eg.tensor([1, 3, 3, 2]))).toEqual([0, 0.5, 0.5, 0]);
    expect(
      grad1(
        (a) => eg.min(a, 1),
        eg.tensor([
          [1, 1, 1],
          [0, 2, 5],
        ]),
      ),
    ).toEqual([1 / 3, 1 / 3, 1 / 3, 1, 0, 0].map(Math.fround));
  });

  it("maximum and minimum split ties evenly between the operands", () => {
    const [ga, gb] = eg.grad((a, b) => eg.sum(eg.maximum(a, b)))(eg.tensor([1, 2, 3]), eg.tensor([1, 5, 0]));
    expect(Array.from(ga!.data)).toEqual([0.5, 0, 1]);
    expect(Array.from(gb!.data)).toEqual([0.5, 1, 0]);
  });

  it("norm has gradient 0 (not NaN) at the origin, and relu/abs have 0 at 0", () => {
    expect(grad1((a) => eg.norm(a), eg.zeros([3]))).toEqual([0, 0, 0]);
    expect(
      grad1(
        (a) => eg.norm(a, 2, 1),
        eg.tensor([
          [0, 0],
          [3, 4],
        ]),
      ),
    ).toEqual([0, 0, 0.6, 0.8].map(Math.fround));
    expect(grad1(eg.relu, eg.tensor([0, 1, -1]))).toEqual([0, 1, 0]);
    expect(grad1(eg.abs, eg.tensor([0, 1, -1]))).toEqual([0, 1, -1]);
  });

  it("a fully masked softmax row gives zeros and zero gradients, never NaN", () => {
    const mask = eg.tensor([
      [true, false, true],
      [false, false, false],
    ]);
    const x = eg.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const y = eg.softmax(x, -1, { mask });
    expect(Array.from(y.data.subarray(3))).toEqual([0, 0, 0]);
    expect(y.data[1]).toBe(0);
    const g = eg.grad((a) =>
      eg.sum(
        eg.mul(
          eg.softmax(a, -1, { mask }),
          eg.tensor([
            [1, 2, 3],
            [4, 5, 6],
          ]),
        ),
      ),
    )(x)[0]!;
    for (const v of g.data) expect(Number.isNaN(v)).toBe(false);
    expect(Array.from(g.data.subarray(3))).toEqual([0, 0, 0]);
    expect(g.data[1]).toBe(0);
  });

  it("logSumExp of an all -Infinity row has gradient 0", () => {
    expect(
      grad1(
        (a) => eg.logSumExp(a, 1),
        eg.tensor([
          [-Infinity, -Infinity],
          [0, 0],
        ]),
      ),
    ).toEqual([0, 0, 0.5, 0.5]);
  });

  it("pow's exponent gradient is 0 (not NaN) where the base is 0", () => {
    const [, gp] = eg.grad((a, b) => eg.sum(eg.pow(a, b)))(eg.tensor([0, 2]), eg.tensor([2, 3]));
    expect(gp!.data[0]).toBe(0);
    expect(gp!.data[1]).toBeCloseTo(8 * Math.log(2), 5);
  });

  it("binaryCrossEntropyWithLogits has gradient sigmoid(x) - y at x = 0", () => {
    const y = eg.tensor([0, 1, 0.25]);
    const g = eg.grad((a) => eg.binaryCrossEntropyWithLogits(a, y, { reduction: "sum" }))(eg.zeros([3]))[0]!;
    expect(Array.from(g.data)).toEqual([0.5, -0.5, 0.25]);
  });

  it("ignored targets get no gradient in crossEntropy", () => {
    const t = eg.tensor([2, -100], { dtype: "int32" });
    const g = eg.grad((a) => eg.crossEntropy(a, t))(
      eg.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    )[0]!;
    expect(Array.from(g.data.subarray(3))).toEqual([0, 0, 0]);
    expect(g.data[0]! + g.data[1]! + g.data[2]!).toBeCloseTo(0, 6);
  });
});

describe("forward values kept by the gradient fixes", () => {
  it("binaryCrossEntropyWithLogits stays accurate for confident logits in float32", () => {
    const x = eg.tensor([15, -15, 30, 0, -3]);
    const y = eg.tensor([1, 0, 1, 0.5, 0.25]);
    const exact = (xi: number, yi: number, pw = 1): number => pw * yi * Math.log1p(Math.exp(-xi)) + (1 - yi) * Math.log1p(Math.exp(xi));
    const got = eg.binaryCrossEntropyWithLogits(x, y, { reduction: "none" }).data;
    // float32 relative accuracy everywhere, including losses of 1e-7 and 1e-13
    [15, -15, 30, 0, -3].forEach((xi, i) => {
      const e = exact(xi, y.data[i]!);
      expect(Math.abs(got[i]! - e)).toBeLessThan(1e-6 * e);
    });
    const pw = eg.tensor([2, 3, 0.5, 2, 4]);
    const gotPw = eg.binaryCrossEntropyWithLogits(x, y, { reduction: "none", posWeight: pw }).data;
    [15, -15, 30, 0, -3].forEach((xi, i) => {
      const e = exact(xi, y.data[i]!, pw.data[i]);
      expect(Math.abs(gotPw[i]! - e)).toBeLessThan(1e-6 * e);
    });
  });

  it("concat promotes mixed dtypes instead of truncating to the first one", () => {
    const c = eg.concat([eg.tensor([1, 2], { dtype: "int32" }), eg.tensor([0.5])]);
    expect(c.dtype).toBe("float32");
    expect(c.toArray()).toEqual([1, 2, 0.5]);
    const x = eg.tensor([0.25], { dtype: "float64", requiresGrad: true });
    const s = eg.stack([eg.tensor([1]), x]);
    expect(s.dtype).toBe("float64");
    eg.sum(eg.mul(s, 3)).backward();
    expect(x.grad!.toArray()).toEqual([3]);
  });
});
