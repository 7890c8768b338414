/**
 * The backward engine: hand-computed gradients of small expressions, accumulation (reuse, fan-out,
 * repeated backward), graph freeing and retainGraph, requiresGrad propagation, detach, noGrad,
 * retainGrad, seeds, and a 100,000-node chain. Runs on whichever backend ENGRAM_BACKEND selects.
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";

type Tensor = eg.Tensor;

function scalar(v: number, requiresGrad = true): Tensor {
  return eg.tensor(v, { dtype: "float64", requiresGrad });
}
function f64(data: eg.NestedArray[], requiresGrad = true): Tensor {
  return eg.tensor(data, { dtype: "float64", requiresGrad });
}
function gradOf(t: Tensor): eg.NestedArray {
  expect(t.grad).not.toBeNull();
  return t.grad!.toArray();
}

describe("hand-computed gradients", () => {
  it("f = (a*b + a)^2 / b", () => {
    const a = scalar(3);
    const b = scalar(-2);
    const c = a.mul(b).add(a); // -3
    const f = c.mul(c).div(b); // 9 / -2
    expect(f.item()).toBe(-4.5);
    f.backward();
    // f = a^2 (b+1)^2 / b: df/da = 2a (b+1)^2 / b, df/db = a^2 (2 (b+1) b - (b+1)^2) / b^2
    expect(a.grad!.item()).toBeCloseTo(-3, 12);
    expect(b.grad!.item()).toBeCloseTo(6.75, 12);
  });

  it("a tanh neuron: o = tanh(x1 w1 + x2 w2 + b)", () => {
    const [x1, x2, w1, w2] = [scalar(2), scalar(0), scalar(-3), scalar(1)];
    const b = scalar(Math.atanh(Math.SQRT1_2) + 6); // makes the pre-activation atanh(1/sqrt 2)
    const o = eg.tanh(x1.mul(w1).add(x2.mul(w2)).add(b));
    expect(o.item()).toBeCloseTo(Math.SQRT1_2, 12);
    o.backward();
    // do/dn = 1 - o^2 = 0.5
    expect(x1.grad!.item()).toBeCloseTo(-1.5, 12);
    expect(w1.grad!.item()).toBeCloseTo(1, 12);
    expect(x2.grad!.item()).toBeCloseTo(0.5, 12);
    expect(w2.grad!.item()).toBeCloseTo(0, 12);
    expect(b.grad!.item()).toBeCloseTo(0.5, 12);
  });

  it("y = exp(2x) log(1 + x) + relu(x - 1) + relu(1 - x)", () => {
    const v = 0.5;
    const x = scalar(v);
    const y = eg
      .exp(x.mul(2))
      .mul(eg.log1p(x))
      .add(eg.relu(x.sub(1)))
      .add(eg.relu(eg.sub(1, x)));
    y.backward();
    const expected = 2 * Math.exp(2 * v) * Math.log1p(v) + Math.exp(2 * v) / (1 + v) - 1;
    expect(x.grad!.item()).toBeCloseTo(expected, 12);
  });

  it("a diamond: d = (2a) * (3a) gives 12a", () => {
    const a = f64([1, -2, 0.5]);
    const d = a.mul(2).mul(a.mul(3)).sum();
    d.backward();
    expect(gradOf(a)).toEqual([12, -24, 6]);
  });

  it("matmul, softmax and a loss: dL/dlogits = softmax - onehot", () => {
    const x = f64(
      [
        [1, 2],
        [0.5, -1],
      ],
      false,
    );
    const w = f64([
      [0.3, -0.2, 0.1],
      [0.05, 0.4, -0.3],
    ]);
    const logits = x.matmul(w);
    const target = eg.tensor([2, 0], { dtype: "int32" });
    logits.retainGrad();
    eg.crossEntropy(logits, target, { reduction: "sum" }).backward();
    const p = eg.softmax(logits.detach()).toArray() as number[][];
    const expected = p.map((row, i) => row.map((v, j) => v - (j === [2, 0][i] ? 1 : 0)));
    const got = logits.grad!.toArray() as number[][];
    got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 12)));
    // dL/dw = x^T (p - onehot)
    const dw = eg.matmul(x, eg.tensor(expected, { dtype: "float64" }), { transA: true }).toArray() as number[][];
    (gradOf(w) as number[][]).forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(dw[i]![j]!, 12)));
  });
});

describe("accumulation", () => {
  it("b = a + a; c = b * b gives dc/da = 8a", () => {
    const a = scalar(3);
    const b = a.add(a);
    const c = b.mul(b);
    c.backward();
    expect(a.grad!.item()).toBe(24);
  });

  it("a tensor used by two ops receives both contributions", () => {
    const x = f64([1, 2, 3]);
    const w = f64([4, 5, 6], false);
    const v = f64([-1, 0.5, 2], false);
    x.mul(w).add(x.mul(v)).sum().backward();
    expect(gradOf(x)).toEqual([3, 5.5, 8]);
  });

  it("add hands its gradient to both inputs without aliasing their .grad", () => {
    const x = f64([1, 2]);
    const z = f64([3, 4]);
    x.add(z).sum().backward();
    expect(x.grad).not.toBe(z.grad);
    x.grad!.data[0] = 100;
    expect(z.grad!.toArray()).toEqual([1, 1]);
  });

  it("grads accumulate across two backward calls", () => {
    const x = f64([1, -2]);
    x.square().sum().backward();
    expect(gradOf(x)).toEqual([2, -4]);
    x.square().sum().backward();
    expect(gradOf(x)).toEqual([4, -8]);
    x.grad = null;
    x.mul(3).sum().backward();
    expect(gradOf(x)).toEqual([3, 3]);
  });

  it("a broadcast operand gets its gradient summed back to its shape", () => {
    const a = f64([[1], [2]]); // [2, 1]
    const b = f64([10, 20, 30]); // [3]
    a.mul(b).sum().backward();
    expect(gradOf(a)).toEqual([[60], [60]]);
    expect(gradOf(b)).toEqual([3, 3, 3]);
  });
});

describe("graph lifetime", () => {
  it("retainGraph allows a second backward; without it the second backward throws", () => {
    const x = f64([1, 2]);
    const y = x.exp().sum();
    y.backward(null, { retainGraph: true });
    y.backward();
    const e = [Math.exp(1), Math.exp(2)];
    const g = gradOf(x) as number[];
    g.forEach((v, i) => expect(v).toBeCloseTo(2 * e[i]!, 12));
    expect(() => y.backward()).toThrow(eg.EngramError);
    expect(() => y.backward()).toThrow(/backward: the graph through .* was already freed; pass \{ retainGraph: true \}/);
  });

  it("a freed graph is detected even when the second backward starts from another output", () => {
    const x = f64([1, 2]);
    const h = x.mul(2);
    h.sum().backward();
    expect(() => h.mul(3).sum().backward()).toThrow(/already freed/);
  });
});

describe("requiresGrad, detach, noGrad", () => {
  it("propagates requiresGrad through ops from any input", () => {
    const a = f64([1, 2], false);
    const b = f64([3, 4]);
    expect(a.add(1).requiresGrad).toBe(false);
    expect(a.add(1).isLeaf).toBe(true);
    const c = a.mul(b);
    expect(c.requiresGrad).toBe(true);
    expect(c.isLeaf).toBe(false);
    expect(c.gradFn?.name).toBe("mul");
    // an op between two tensors that do not need grad records nothing
    expect(a.mul(a).gradFn).toBeNull();
  });

  it("only float tensors can require grad, and a non-leaf cannot stop requiring it", () => {
    expect(() => eg.tensor([1, 2], { dtype: "int32", requiresGrad: true })).toThrow(eg.DTypeError);
    expect(() => eg.tensor([1, 2], { dtype: "int32", requiresGrad: true })).toThrow(/^requiresGrad: only float tensors/);
    const y = f64([1]).mul(2);
    expect(() => (y.requiresGrad = false)).toThrow(eg.ArgumentError);
    const leaf = f64([1]);
    leaf.requiresGrad = false;
    expect(leaf.requiresGrad).toBe(false);
  });

  it("an input that does not require grad gets no .grad", () => {
    const x = f64([1, 2]);
    const c = f64([5, 6], false);
    x.mul(c).sum().backward();
    expect(c.grad).toBeNull();
    expect(gradOf(x)).toEqual([5, 6]);
  });

  it("detach shares storage and cuts the graph", () => {
    const x = f64([2, 3]);
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.data).toBe(x.data);
    // y = stopgrad(x) * x: dy/dx = stopgrad(x)
    x.detach().mul(x).sum().backward();
    expect(gradOf(x)).toEqual([2, 3]);
  });

  it("noGrad records nothing, restores the mode after a throw, and enableGrad re-enables inside it", () => {
    const x = f64([1, 2]);
    const y = eg.noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(() =>
      eg.noGrad(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(eg.isGradEnabled()).toBe(true);
    const z = eg.noGrad(() => eg.enableGrad(() => x.mul(2)));
    expect(z.requiresGrad).toBe(true);
    expect(eg.noGrad(() => eg.isGradEnabled())).toBe(false);
  });

  it("backward on a tensor that does not require grad throws", () => {
    const x = f64([1, 2], false);
    expect(() => x.sum().backward()).toThrow(eg.ArgumentError);
    expect(() => x.sum().backward()).toThrow(/^backward: tensor does not require grad/);
  });
});

describe("retainGrad", () => {
  it("keeps .grad on a non-leaf only when asked", () => {
    const x = f64([1, 2, 3]);
    const h = x.mul(2);
    const k = h.add(1);
    h.retainGrad();
    k.square().sum().backward();
    // d/dh (h + 1)^2 = 2 (h + 1)
    expect(gradOf(h)).toEqual([6, 10, 14]);
    expect(k.grad).toBeNull();
    expect(gradOf(x)).toEqual([12, 20, 28]);
  });

  it("retained grads accumulate over backward calls", () => {
    const x = f64([1, 2]);
    const h = x.mul(3).retainGrad();
    const y = h.sum();
    y.backward(null, { retainGraph: true });
    y.backward();
    expect(gradOf(h)).toEqual([2, 2]);
  });

  it("throws on a tensor that does not require grad", () => {
    expect(() => f64([1], false).retainGrad()).toThrow(/^retainGrad: tensor does not require grad/);
  });
});

describe("seeds", () => {
  it("backward with a seed gradient computes a vector-Jacobian product", () => {
    const x = f64([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const y = x.square();
    y.backward(
      f64(
        [
          [1, 0, -1],
          [0.5, 2, 0],
        ],
        false,
      ),
    );
    expect(gradOf(x)).toEqual([
      [2, 0, -6],
      [4, 20, 0],
    ]);
  });

  it("a non-scalar output needs a seed", () => {
    const y = f64([1, 2]).mul(2);
    expect(() => y.backward()).toThrow(eg.ArgumentError);
    expect(() => y.backward()).toThrow(/^backward: gradient can be implicit only for one-element outputs, got shape \[2\]/);
  });

  it("a seed of the wrong shape or dtype is rejected before anything runs", () => {
    const x = f64([1, 2, 3]);
    const y = x.mul(2);
    expect(() => y.backward(f64([1, 2], false))).toThrow(eg.ArgumentError);
    expect(() => y.backward(f64([1, 2], false))).toThrow("backward: seed gradient shape [2] does not match output shape [3]");
    expect(() => y.backward(f64([[1, 2, 3]], false))).toThrow(/shape \[1, 3\] does not match output shape \[3\]/);
    expect(() => y.backward(eg.tensor([1, 1, 1]))).toThrow(eg.DTypeError);
    expect(() => y.backward(eg.tensor([1, 1, 1]))).toThrow(/^backward: seed gradient dtype float32 does not match output dtype float64/);
    expect(x.grad).toBeNull();
    // the graph is still intact after the rejected calls
    y.backward(f64([1, 1, 1], false));
    expect(gradOf(x)).toEqual([2, 2, 2]);
  });

  it("a one-element leaf can be the root", () => {
    const x = scalar(5);
    x.backward();
    expect(x.grad!.item()).toBe(1);
  });
});

describe("deep graphs", () => {
  it("backward through a 100,000-node chain does not overflow the stack", () => {
    const x = scalar(1);
    let t = x;
    for (let i = 0; i < 100_000; i++) t = i % 2 === 0 ? t.mul(1.0001) : t.add(0.5);
    t.backward();
    // only the multiplications scale the gradient: 50,000 of them
    expect(x.grad!.item()).toBeCloseTo(Math.pow(1.0001, 50_000), 6);
  });

  it("a 100,000-node chain mixing tensor ops (float32, active backend)", () => {
    const x = eg.tensor([0.5, -0.25], { requiresGrad: true });
    const w = eg.tensor([1, 1], { requiresGrad: true });
    let t = x;
    for (let i = 0; i < 50_000; i++) t = t.mul(w).tanh();
    t.sum().backward();
    expect(x.grad).not.toBeNull();
    for (const v of x.grad!.data) expect(Number.isFinite(v)).toBe(true);
    for (const v of w.grad!.data) expect(Number.isFinite(v)).toBe(true);
  });
});
