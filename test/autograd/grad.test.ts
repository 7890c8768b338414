/**
 * The functional API: grad(fn) (first and higher order, createGraph), backward with createGraph,
 * and gradcheck itself (it must accept correct and reject wrong backward rules).
 */
import { describe, expect, it } from "vitest";
import { record } from "../../src/autograd/engine.js";
import { Tensor } from "../../src/autograd/tensor.js";
import * as eg from "../../src/index.js";

function f64(data: eg.NestedArray, requiresGrad = false): Tensor {
  return eg.tensor(data, { dtype: "float64", requiresGrad });
}
const cube = (x: Tensor): Tensor => eg.sum(eg.powScalar(x, 3));

describe("grad(fn)", () => {
  it("returns the gradient of each input and leaves .grad alone", () => {
    const x = f64([1, 2], true);
    const y = f64([3, -1]);
    const [gx, gy] = eg.grad((a, b) => eg.sum(eg.mul(a, b)))(x, y);
    expect(gx!.toArray()).toEqual([3, -1]);
    expect(gy!.toArray()).toEqual([1, 2]);
    expect(x.grad).toBeNull();
    expect(y.grad).toBeNull();
    expect(y.requiresGrad).toBe(false);
  });

  it("gives zeros for an input fn does not use, and for a constant fn", () => {
    const [ga, gb] = eg.grad((a) => eg.sum(eg.square(a)))(f64([1, 2]), f64([5, 6, 7]));
    expect(ga!.toArray()).toEqual([2, 4]);
    expect(gb!.toArray()).toEqual([0, 0, 0]);
    const [gc] = eg.grad(() => f64(3))(f64([1, 2]));
    expect(gc!.toArray()).toEqual([0, 0]);
  });

  it("handles fn returning its input (a leaf root)", () => {
    const [g] = eg.grad((a) => a)(f64(4));
    expect(g!.item()).toBe(1);
    const [h] = eg.grad((a) => eg.reshape(a, []))(f64([4]));
    expect(h!.toArray()).toEqual([1]);
  });

  it("rejects non-scalar outputs and non-tensor arguments", () => {
    expect(() => eg.grad((a) => eg.mul(a, 2))(f64([1, 2]))).toThrow(/^grad: fn must return a one-element tensor, got shape \[2\]/);
    expect(() => eg.grad((a) => a)(3 as unknown as Tensor)).toThrow(eg.ArgumentError);
  });

  it("d2/dx2 of x^3 is 6x, d3/dx3 is 6 (nested createGraph)", () => {
    const x = f64([1, -2, 0.5]);
    const d1 = (a: Tensor): Tensor => eg.grad(cube, { createGraph: true })(a)[0]!;
    expect(d1(x).toArray()).toEqual([3, 12, 0.75]);
    const d2 = (a: Tensor): Tensor => eg.grad((b) => eg.sum(d1(b)), { createGraph: true })(a)[0]!;
    expect(d2(x).toArray()).toEqual([6, -12, 3]);
    const [d3] = eg.grad((b) => eg.sum(d2(b)))(x);
    expect(d3!.toArray()).toEqual([6, 6, 6]);
  });

  it("second derivatives through ops whose derivative uses their output (exp, tanh, softmax)", () => {
    const x = f64([0.3, -0.7]);
    const d2 = (f: (a: Tensor) => Tensor): number[] =>
      eg
        .grad((b) => eg.sum(eg.grad((a) => eg.sum(f(a)), { createGraph: true })(b)[0]!))(x)[0]!
        .toArray() as number[];
    expect(d2(eg.exp)).toEqual([Math.exp(0.3), Math.exp(-0.7)]);
    const t = [Math.tanh(0.3), Math.tanh(-0.7)];
    d2(eg.tanh).forEach((v, i) => expect(v).toBeCloseTo(-2 * t[i]! * (1 - t[i]! ** 2), 12));
    // sum(softmax) = 1 for every x, so every derivative is 0
    d2((a) => eg.softmax(a)).forEach((v) => expect(v).toBeCloseTo(0, 12));
  });

  it("without createGraph the gradient is a constant", () => {
    const [g] = eg.grad(cube)(f64([2]));
    expect(g!.requiresGrad).toBe(false);
    expect(g!.gradFn).toBeNull();
  });
});

describe("backward with createGraph", () => {
  it("leaves a differentiable .grad that can be backpropagated again", () => {
    const x = f64([1, 2], true);
    cube(x).backward(null, { createGraph: true });
    const g = x.grad!;
    expect(g.toArray()).toEqual([3, 12]);
    expect(g.requiresGrad).toBe(true);
    x.grad = null;
    eg.sum(g).backward();
    expect(x.grad!.toArray()).toEqual([6, 12]);
  });

  it("a gradient penalty: d/dw of |dL/dx|^2", () => {
    // L = sum(w * x^2): dL/dx = 2 w x, |dL/dx|^2 = 4 w^2 x^2, d/dw = 8 w x^2
    const x = f64([1, 3], true);
    const w = f64([0.5, -2], true);
    const [gx] = eg.grad((a, b) => eg.sum(eg.mul(b, eg.square(a))), { createGraph: true })(x, w);
    eg.sum(eg.square(gx!)).backward();
    expect(w.grad!.toArray()).toEqual([4, -144]);
  });
});

describe("gradcheck", () => {
  /** y = x^2 with a backward rule that returns `factor` * x instead of 2x. */
  function squareWithBackward(factor: number): (x: Tensor) => Tensor {
    return (x) => {
      const out = eg.noGrad(() => eg.square(x));
      return record("testSquare", out, [x], (g) => [eg.mul(g, eg.mul(x, factor))]);
    };
  }

  it("accepts a correct backward rule", () => {
    const r = eg.gradcheck(squareWithBackward(2), [f64([0.5, -1.5, 2])]);
    expect(r.ok).toBe(true);
    expect(r.maxAbsError).toBeLessThan(1e-7);
  });

  it("rejects a wrong backward rule and points at the worst element", () => {
    const r = eg.gradcheck(squareWithBackward(2.01), [f64([0.5, -1.5, 2])]);
    expect(r.ok).toBe(false);
    expect(r.worst).not.toBeNull();
    expect(r.worst!.input).toBe(0);
    // the rule overstates every derivative by 0.5%
    expect(r.worst!.analytic).toBeCloseTo(1.005 * r.worst!.numeric, 6);
    expect(r.maxAbsError).toBeCloseTo(Math.abs(r.worst!.analytic - r.worst!.numeric), 12);
  });

  it("treats int and bool inputs as constants", () => {
    const index = eg.tensor([2, 0], { dtype: "int32" });
    const mask = eg.tensor([true, false, true]);
    const r = eg.gradcheck(
      (x, i, m) => eg.where(m, eg.indexSelect(eg.square(x), 0, eg.tensor([0, 1, 2], { dtype: "int32" })), eg.sum(eg.gather(x, 0, i))),
      [f64([0.3, 1.2, -0.8]), index, mask],
    );
    expect(r.ok).toBe(true);
  });

  it("handles a function that ignores its input", () => {
    expect(eg.gradcheck(() => f64([1, 2]), [f64([3])]).ok).toBe(true);
  });

  it("does not modify its inputs", () => {
    const x = f64([0.25, 0.5]);
    eg.gradcheck((a) => eg.exp(a), [x]);
    expect(x.toArray()).toEqual([0.25, 0.5]);
    expect(x.requiresGrad).toBe(false);
  });
});

describe("grad(fn) and the surrounding graph", () => {
  it("runs only the part of the graph that leads to its inputs, leaving outer graphs intact", () => {
    const w = f64([1, 2], true);
    const h = eg.mul(w, 2); // built outside fn, with its own graph
    const [g] = eg.grad((x) => eg.sum(eg.mul(x, h)))(f64([3, 4]));
    expect(g!.toArray()).toEqual([2, 4]);
    expect(w.grad).toBeNull();
    // h's graph was neither run nor freed by grad()
    eg.sum(h).backward();
    expect(w.grad!.toArray()).toEqual([2, 2]);
  });

  it("a wanted non-leaf input gets its full gradient", () => {
    const w = f64([1, -1], true);
    const h = eg.mul(w, 3);
    // h is used twice inside fn: d/dh sum(h^2 + h) = 2h + 1
    const [g] = eg.grad((a) => eg.sum(eg.add(eg.square(a), a)), { createGraph: true })(h);
    expect(g!.toArray()).toEqual([7, -5]);
  });
});
