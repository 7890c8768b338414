import { describe, it, expect } from "vitest";
import * as eg from "../../src/index.js";

// Gradients meeting at one tensor are summed in place into a buffer the backward pass allocated
// itself; these pin down that the sums stay exact and nothing handed out is written afterwards.
describe("gradient accumulation in place", () => {
  const close = (t: eg.Tensor | null, want: number[]): void => {
    expect(t).not.toBeNull();
    Array.from(t!.data).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
  };

  it("an intermediate used at many steps gets every contribution", () => {
    const w = eg.tensor([1, 2, 3], { requiresGrad: true });
    const h = w.mul(2); // intermediate, read at five "steps"
    let loss = eg.tensor(0);
    for (let k = 1; k <= 5; k++) loss = loss.add(h.mul(k).sum());
    loss.backward();
    // d/dw sum_k k * 2w = 2 * 15
    close(w.grad, [30, 30, 30]);
  });

  it("a gradient an op hands to two inputs is not changed by later sums into either", () => {
    const w = eg.tensor([1, -1], { requiresGrad: true });
    const a = w.mul(3);
    const b = w.mul(5);
    // add passes its gradient to a and b as one tensor; a and b then get more contributions
    const s = a.add(b);
    const loss = s.mul(s.detach()).sum().add(a.mul(7).sum()).add(b.mul(11).sum()).add(a.mul(13).sum());
    loss.backward();
    // dL/da = s + 7 + 13, dL/db = s + 11, s = 8w; dL/dw = 3 dL/da + 5 dL/db
    const sv = [8, -8];
    close(
      w.grad,
      sv.map((v) => 3 * (v + 20) + 5 * (v + 11)),
    );
  });

  it("retained gradients are not written by the rest of the pass or a later one", () => {
    const w = eg.tensor([2, 4], { requiresGrad: true });
    const h = w.mul(1).retainGrad();
    const loss = h.sum().add(h.mul(2).sum()).add(h.mul(3).sum());
    loss.backward(null, { retainGraph: true });
    close(h.grad, [6, 6]);
    const held = h.grad!;
    loss.backward();
    close(held, [6, 6]);
    close(h.grad, [12, 12]);
    close(w.grad, [12, 12]);
  });

  it("grad() returns the summed gradient of an input used several times", () => {
    const [g] = eg.grad((x) => x.mul(2).sum().add(x.mul(3).sum()).add(x.mul(x).sum()))(eg.tensor([1, 2]));
    close(g!, [7, 9]);
  });

  it("createGraph sums stay differentiable (second order through a tensor used twice)", () => {
    const x = eg.tensor([1.5, -0.5], { requiresGrad: true });
    const [g] = eg.grad((t) => t.mul(t).mul(t).sum().add(t.mul(t).sum()), { createGraph: true })(x); // 3x^2 + 2x
    close(g!, [3 * 2.25 + 3, 3 * 0.25 - 1]);
    g!.sum().backward(); // 6x + 2
    close(x.grad, [11, -1]);
  });
});
