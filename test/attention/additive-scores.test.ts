/**
 * additiveScores, the fused v . tanh(q + k) of AdditiveAttention (K.additiveScores /
 * K.additiveScoresGrad): values and gradients against the broadcast composite it replaced (one
 * step and several, float32 on the active backend and float64), gradcheck (float64, ts), second
 * order through createGraph, and a backward after other calls in between (it recomputes tanh).
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { additiveScores } from "../../src/attention/additive.js";
import { onTs } from "../nn/helpers.js";

const randn = (shape: number[], seed: number, dtype: "float32" | "float64" = "float64"): eg.Tensor =>
  eg.randn(shape, { generator: new eg.Generator(seed), dtype });

/** (B, T, 1, H) + (B, 1, S, H), tanh, dot with v: the composite the op replaced. */
function reference(q: eg.Tensor, k: eg.Tensor, v: eg.Tensor): eg.Tensor {
  const [b, t] = q.shape as [number, number];
  return eg.reshape(eg.matmul(eg.tanh(eg.add(eg.unsqueeze(q, 2), eg.unsqueeze(k, 1))), v), [b, t, k.shape[1]!]);
}

function maxDiff(a: eg.Tensor, b: eg.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

describe("additiveScores", () => {
  it("values and gradients equal the composite (one step and several; float32 and float64)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const [b, t, s, h] of [
        [2, 1, 5, 3],
        [3, 4, 6, 7],
        [32, 1, 30, 128],
      ] as const) {
        const q = randn([b, t, h], b + t, dtype);
        const k = randn([b, s, h], s + h, dtype);
        const v = randn([h], h, dtype);
        const w = randn([b, t, s], 99, dtype);
        const loss = (fn: typeof reference) => (qq: eg.Tensor, kk: eg.Tensor, vv: eg.Tensor) => eg.sum(eg.mul(fn(qq, kk, vv), w));
        const tol = dtype === "float32" ? 2e-5 : 1e-12;
        expect(maxDiff(additiveScores(q, k, v), reference(q, k, v))).toBeLessThan(tol);
        const ref = eg.grad(loss(reference))(q, k, v);
        const got = eg.grad(loss(additiveScores))(q, k, v);
        ref.forEach((r, i) => expect(maxDiff(got[i]!, r) / (1 + t * s), `input ${i} (${b}, ${t}, ${s}, ${h}) ${dtype}`).toBeLessThan(tol));
      }
    }
  });

  it("only some inputs requiring grad, and calls of other sizes in between", () => {
    const q = randn([2, 1, 3], 1, "float32");
    const k = randn([2, 4, 3], 2, "float32");
    const v = randn([3], 3, "float32");
    k.requiresGrad = true;
    const out = additiveScores(q, k, v);
    // a larger call in between; the backward recomputes tanh(q + k) from the inputs
    additiveScores(randn([3, 2, 5], 4, "float32"), randn([3, 7, 5], 5, "float32"), randn([5], 6, "float32"));
    eg.sum(eg.square(out)).backward();
    const [, dk] = eg.grad((qq, kk, vv) => eg.sum(eg.square(reference(qq, kk, vv))))(q, k, v);
    expect(maxDiff(k.grad!, dk!)).toBeLessThan(1e-5);
  });

  it("gradcheck, first and second order (float64, ts)", () => {
    onTs(() => {
      for (const t of [1, 3]) {
        const xs = [randn([2, t, 3], 10 + t), randn([2, 4, 3], 11), randn([3], 12)];
        const r = eg.gradcheck((q, k, v) => additiveScores(q, k, v), xs);
        expect(r.ok, JSON.stringify(r.worst)).toBe(true);
        const w = randn([2, t, 4], 13);
        for (let i = 0; i < 3; i++) {
          const second = eg.gradcheck(
            (q, k, v) => eg.grad((a, b, c) => eg.sum(eg.mul(eg.square(additiveScores(a, b, c)), w)), { createGraph: true })(q, k, v)[i]!,
            xs,
          );
          expect(second.ok, `t ${t} input ${i}: ${JSON.stringify(second.worst)}`).toBe(true);
        }
      }
    });
  });
});
