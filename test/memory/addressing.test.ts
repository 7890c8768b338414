// Addressing ops of the memory networks: hand-computed values, wraparound, zero-memory safety,
// DNC invariants, and gradient checks in float64.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import {
  allocationWeighting,
  circularShift,
  contentAddressing,
  directionalWeights,
  eraseAndAdd,
  interpolate,
  sharpen,
  updateLinkMatrix,
  updatePrecedence,
  updateUsage,
} from "../../src/memory/addressing.js";
import { rng } from "../helpers/rng.js";
import { onTs } from "../nn/helpers.js";

type DT = "float32" | "float64";
const t = (values: readonly number[], shape: number[], dtype: DT = "float32"): eg.Tensor => eg.tensor(Array.from(values), { shape, dtype });
const values = (x: eg.Tensor): number[] => Array.from(x.data);
const close = (actual: eg.Tensor, expected: readonly number[], tol = 1e-5): void => {
  expect(actual.size).toBe(expected.length);
  values(actual).forEach((v, i) => expect(Math.abs(v - expected[i]!), `element ${i}: ${v} vs ${expected[i]}`).toBeLessThan(tol));
};
const softmaxRef = (xs: readonly number[]): number[] => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
};
/** Uniform values in [lo, hi) from a seeded generator. */
const uniformT = (next: () => number, shape: number[], lo = -1, hi = 1, dtype: DT = "float64"): eg.Tensor =>
  t(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * next()),
    shape,
    dtype,
  );
/** Rows (last axis) that are distributions: positive and summing to `total`. */
const distributions = (next: () => number, shape: number[], total = 1, dtype: DT = "float64"): eg.Tensor => {
  const x = uniformT(next, shape, 0.05, 1, dtype);
  const n = shape[shape.length - 1]!;
  for (let r = 0; r < x.size / n; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x.data[r * n + i]!;
    for (let i = 0; i < n; i++) x.data[r * n + i]! *= total / s;
  }
  return x;
};
const expectGrad = (fn: (...xs: eg.Tensor[]) => eg.Tensor, xs: eg.Tensor[]): void => {
  onTs(() => {
    const r = eg.gradcheck(fn, xs, { atol: 1e-6, rtol: 1e-4 });
    expect(r.ok, JSON.stringify(r.worst)).toBe(true);
  });
};
const allFinite = (x: eg.Tensor | null): boolean => x !== null && values(x).every(Number.isFinite);

describe("contentAddressing", () => {
  it("is a softmax over strength times cosine similarity", () => {
    // rows [1, 0], [0, 1], [1, 1], [-2, 0]; keys [1, 0] and [3, 3] with strengths 2 and 0.5
    const memory = t([1, 0, 0, 1, 1, 1, -2, 0], [1, 4, 2]);
    const keys = t([1, 0, 3, 3], [1, 2, 2]);
    const w = contentAddressing(keys, memory, t([2, 0.5], [1, 2]));
    expect(w.shape).toEqual([1, 2, 4]);
    const r = Math.SQRT1_2;
    close(w, [...softmaxRef([2, 0, 2 * r, -2]), ...softmaxRef([0.5 * r, 0.5 * r, 0.5, -0.5 * r])]);
  });

  it("is uniform, finite and differentiable on an all-zero memory and key", () => {
    const keys = t([0, 0, 0, 1, -2, 0.5], [1, 2, 3]);
    const memory = eg.zeros([1, 4, 3]);
    const strength = t([3, 7], [1, 2]);
    for (const x of [keys, memory, strength]) x.requiresGrad = true;
    const w = contentAddressing(keys, memory, strength);
    close(w, new Array<number>(8).fill(0.25));
    eg.sum(eg.mul(w, t([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 4]))).backward();
    expect(allFinite(keys.grad) && allFinite(memory.grad) && allFinite(strength.grad)).toBe(true);
  });

  it("batches examples and heads independently", () => {
    const next = rng(3);
    const memory = uniformT(next, [2, 5, 3], -1, 1, "float32");
    const keys = uniformT(next, [2, 3, 3], -1, 1, "float32");
    const strength = uniformT(next, [2, 3], 0, 4, "float32");
    const w = contentAddressing(keys, memory, strength);
    for (let b = 0; b < 2; b++) {
      for (let h = 0; h < 3; h++) {
        const k = values(keys).slice((b * 3 + h) * 3, (b * 3 + h + 1) * 3);
        const scores = Array.from({ length: 5 }, (_, i) => {
          const m = values(memory).slice((b * 5 + i) * 3, (b * 5 + i + 1) * 3);
          const dot = k.reduce((s, v, j) => s + v * m[j]!, 0);
          const nk = Math.hypot(...k);
          const nm = Math.hypot(...m);
          return (strength.data[b * 3 + h]! * dot) / (nk * nm);
        });
        const expected = softmaxRef(scores);
        values(w)
          .slice((b * 3 + h) * 5, (b * 3 + h + 1) * 5)
          .forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
      }
    }
  });

  it("gradchecks in float64", () => {
    const next = rng(5);
    expectGrad(
      (k, m, s) => contentAddressing(k, m, s),
      [uniformT(next, [2, 2, 3]), uniformT(next, [2, 4, 3]), uniformT(next, [2, 2], 0.5, 3)],
    );
  });

  it("rejects mismatched shapes and dtypes, naming the op", () => {
    expect(() => contentAddressing(eg.zeros([1, 2, 3]), eg.zeros([1, 4, 2]), eg.zeros([1, 2]))).toThrow(/^contentAddressing: memory/);
    expect(() => contentAddressing(eg.zeros([1, 2, 3]), eg.zeros([1, 4, 3]), eg.zeros([1, 3]))).toThrow(/^contentAddressing: strength/);
    expect(() => contentAddressing(eg.zeros([1, 2, 3]), eg.zeros([1, 4, 3], { dtype: "float64" }), eg.zeros([1, 2]))).toThrow(
      eg.DTypeError,
    );
  });
});

describe("interpolate", () => {
  it("mixes content and previous weights by the gate", () => {
    const w = interpolate(t([1, 0, 0, 0, 0, 1], [1, 2, 3]), t([0, 1, 0, 0.5, 0.5, 0], [1, 2, 3]), t([0.25, 1], [1, 2]));
    close(w, [0.25, 0.75, 0, 0, 0, 1]);
  });

  it("gradchecks in float64", () => {
    const next = rng(6);
    expectGrad(
      (c, p, g) => interpolate(c, p, g),
      [distributions(next, [2, 2, 4]), distributions(next, [2, 2, 4]), uniformT(next, [2, 2], 0, 1)],
    );
  });
});

describe("circularShift", () => {
  /** out(i) = sum_k w((i - (k - s)) mod N) shift(k), written directly. */
  const reference = (w: readonly number[], s: readonly number[]): number[] => {
    const n = w.length;
    const half = (s.length - 1) / 2;
    return w.map((_, i) => s.reduce((acc, sk, k) => acc + w[(((i - (k - half)) % n) + n) % n]! * sk, 0));
  };

  it("rotates by -1, 0 and +1 with wraparound", () => {
    const w = t([1, 0, 0, 0, 0], [1, 1, 5]);
    close(circularShift(w, t([0, 0, 1], [1, 1, 3])), [0, 1, 0, 0, 0]);
    close(circularShift(w, t([1, 0, 0], [1, 1, 3])), [0, 0, 0, 0, 1]);
    close(circularShift(w, t([0, 1, 0], [1, 1, 3])), [1, 0, 0, 0, 0]);
    close(circularShift(t([0, 0, 0, 0, 1], [1, 1, 5]), t([0, 0, 1], [1, 1, 3])), [1, 0, 0, 0, 0]);
  });

  it("convolves with a soft shift: out(i) = 0.2 w(i+1) + 0.5 w(i) + 0.3 w(i-1)", () => {
    const w = [0.1, 0.2, 0.3, 0.4, 0];
    close(circularShift(t(w, [1, 1, 5]), t([0.2, 0.5, 0.3], [1, 1, 3])), [0.09, 0.19, 0.29, 0.29, 0.14]);
  });

  it("handles ranges larger than 1 and larger than the memory (several wraps)", () => {
    const next = rng(7);
    for (const [n, s] of [
      [6, 5],
      [5, 7],
      [3, 9],
      [1, 3],
    ] as const) {
      const w = distributions(next, [2, 3, n], 1, "float32");
      const shift = distributions(next, [2, 3, s], 1, "float32");
      const out = circularShift(w, shift);
      const expected: number[] = [];
      for (let r = 0; r < 6; r++) expected.push(...reference(values(w).slice(r * n, (r + 1) * n), values(shift).slice(r * s, (r + 1) * s)));
      close(out, expected);
    }
  });

  it("gradchecks in float64 (range 1 and range 2)", () => {
    const next = rng(8);
    expectGrad((w, s) => circularShift(w, s), [distributions(next, [2, 2, 5]), distributions(next, [2, 2, 3])]);
    expectGrad((w, s) => circularShift(w, s), [distributions(next, [1, 2, 4]), distributions(next, [1, 2, 5])]);
  });

  it("rejects an even shift size", () => {
    expect(() => circularShift(eg.zeros([1, 1, 5]), eg.zeros([1, 1, 2]))).toThrow(
      /^circularShift: shift \[1, 1, 2\] must have an odd size/,
    );
  });
});

describe("sharpen", () => {
  it("raises to gamma and renormalises", () => {
    const w = t([0.5, 0.25, 0.25, 0.2, 0.3, 0.5], [1, 2, 3]);
    close(sharpen(w, t([2, 1], [1, 2])), [2 / 3, 1 / 6, 1 / 6, 0.2, 0.3, 0.5]);
    const s = sharpen(t([0.1, 0.6, 0.3], [1, 1, 3]), t([10], [1, 1]));
    const z = 0.1 ** 10 + 0.6 ** 10 + 0.3 ** 10;
    close(s, [0.1 ** 10 / z, 0.6 ** 10 / z, 0.3 ** 10 / z]);
  });

  it("stays finite with zero weights and all-zero rows, also in the gradient", () => {
    const w = t([0, 1, 0, 0, 0, 0], [1, 2, 3]);
    const gamma = t([3, 20], [1, 2]);
    w.requiresGrad = true;
    gamma.requiresGrad = true;
    const s = sharpen(w, gamma);
    close(s, [0, 1, 0, 1 / 3, 1 / 3, 1 / 3]);
    eg.sum(eg.mul(s, t([1, 2, 3, 4, 5, 6], [1, 2, 3]))).backward();
    expect(allFinite(w.grad) && allFinite(gamma.grad)).toBe(true);
  });

  it("gradchecks in float64", () => {
    const next = rng(9);
    expectGrad((w, g) => sharpen(w, g), [distributions(next, [2, 2, 4]), uniformT(next, [2, 2], 1, 4)]);
  });
});

describe("eraseAndAdd", () => {
  it("erases then adds by the write weighting", () => {
    // M = [[1, 2], [3, 4]], w = [1, 0.5], e = [1, 0.5], a = [10, 20]
    const m = eraseAndAdd(t([1, 2, 3, 4], [1, 2, 2]), t([1, 0.5], [1, 1, 2]), t([1, 0.5], [1, 1, 2]), t([10, 20], [1, 1, 2]));
    close(m, [0 + 10, 2 * 0.5 + 20, 3 * 0.5 + 5, 4 * 0.75 + 10]);
  });

  it("with several heads multiplies the erasures and sums the adds", () => {
    const next = rng(10);
    const [b, h, n, w] = [2, 3, 4, 5];
    const memory = uniformT(next, [b, n, w], -1, 1, "float32");
    const weights = distributions(next, [b, h, n], 1, "float32");
    const erase = uniformT(next, [b, h, w], 0, 1, "float32");
    const adds = uniformT(next, [b, h, w], -1, 1, "float32");
    const out = eraseAndAdd(memory, weights, erase, adds);
    const expected: number[] = [];
    for (let bi = 0; bi < b; bi++) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < w; j++) {
          let keep = 1;
          let add = 0;
          for (let k = 0; k < h; k++) {
            const wk = weights.data[(bi * h + k) * n + i]!;
            keep *= 1 - wk * erase.data[(bi * h + k) * w + j]!;
            add += wk * adds.data[(bi * h + k) * w + j]!;
          }
          expected.push(memory.data[(bi * n + i) * w + j]! * keep + add);
        }
      }
    }
    close(out, expected);
  });

  it("gradchecks in float64 with one and two heads", () => {
    const next = rng(11);
    for (const heads of [1, 2]) {
      expectGrad(
        (m, w, e, a) => eraseAndAdd(m, w, e, a),
        [uniformT(next, [2, 3, 2]), distributions(next, [2, heads, 3]), uniformT(next, [2, heads, 2], 0, 1), uniformT(next, [2, heads, 2])],
      );
    }
  });
});

describe("DNC dynamic allocation and temporal links", () => {
  it("updates usage with retention", () => {
    // u = (u + w - u w) * prod_r (1 - f_r w_r)
    const u = updateUsage(t([0.5, 0, 1], [1, 3]), t([0.5, 1, 0], [1, 3]), t([1, 0.5], [1, 2]), t([0, 0.5, 0.5, 1, 0, 0], [1, 2, 3]));
    close(u, [0.75 * 0.5, 1 * 0.5, 1 * 0.5]);
  });

  it("allocates the least used slots first", () => {
    // sorted by usage: slot 1 (0.1), slot 0 (0.5), slot 2 (0.9)
    close(allocationWeighting(t([0.5, 0.1, 0.9], [1, 3]), { eps: 0 }), [0.5 * 0.1, 0.9, 0.1 * 0.1 * 0.5]);
    // equal usages are taken in slot order; a full memory allocates (almost) nothing
    close(allocationWeighting(t([0, 0, 0, 1, 1, 1], [2, 3])), [1 - 1e-6, 1e-6 * (1 - 1e-6), 1e-12, 0, 0, 0]);
  });

  it("links each written slot to the previously written ones, with a zero diagonal", () => {
    // p_prev = [0.5, 0.5, 0]: writing slot 2 fully links it after slots 0 and 1
    const link = updateLinkMatrix(eg.zeros([1, 3, 3]), t([0.5, 0.5, 0], [1, 3]), t([0, 0, 1], [1, 3]));
    close(link, [0, 0, 0, 0, 0, 0, 0.5, 0.5, 0]);
    // an earlier link decays by 1 - w_i - w_j
    const prev = t([0, 0.2, 0, 0.4, 0, 0.6, 0, 0.8, 0], [1, 3, 3]);
    const next = updateLinkMatrix(prev, t([0, 0, 0], [1, 3]), t([0.25, 0.5, 0], [1, 3]));
    close(next, [0, 0.2 * 0.25, 0, 0.4 * 0.25, 0, 0.6 * 0.5, 0, 0.8 * 0.5, 0]);
    close(updatePrecedence(t([0.5, 0.5, 0], [1, 3]), t([0, 0.25, 0.5], [1, 3])), [0.125, 0.375, 0.5]);
  });

  it("reads forward and backward along the links", () => {
    // slot 1 was written after slot 0, slot 2 after slot 1
    const link = t([0, 0, 0, 1, 0, 0, 0, 1, 0], [1, 3, 3]);
    const { forward, backward } = directionalWeights(link, t([0, 1, 0], [1, 1, 3]));
    close(forward, [0, 0, 1]);
    close(backward, [1, 0, 0]);
  });

  it("keeps usage in [0, 1], allocation, precedence and link sums <= 1 and a zero link diagonal", () => {
    const next = rng(12);
    const [b, n, r] = [3, 6, 2];
    let usage = eg.zeros([b, n]);
    let link = eg.zeros([b, n, n]);
    let precedence = eg.zeros([b, n]);
    let write = eg.zeros([b, n]);
    let reads = eg.zeros([b, r, n]);
    const tol = 1e-5;
    for (let step = 0; step < 25; step++) {
      usage = updateUsage(usage, write, uniformT(next, [b, r], 0, 1, "float32"), reads);
      const alloc = allocationWeighting(usage);
      // write weightings that sum to at most 1: a gated mix of allocation and a content-like distribution
      const gate = next();
      write = eg.mul(eg.add(eg.mul(alloc, 1 - gate * 0.5), eg.mul(distributions(next, [b, n], 1, "float32"), gate * 0.5)), next());
      link = updateLinkMatrix(link, precedence, write);
      precedence = updatePrecedence(precedence, write);
      reads = distributions(next, [b, r, n], 1, "float32");
      for (const v of values(usage)) expect(v >= 0 && v <= 1 + tol).toBe(true);
      for (const s of values(eg.sum(alloc, -1))) expect(s).toBeLessThanOrEqual(1 + tol);
      for (const v of values(alloc)) expect(v).toBeGreaterThanOrEqual(0);
      for (const s of values(eg.sum(precedence, -1))) expect(s).toBeLessThanOrEqual(1 + tol);
      for (const s of [...values(eg.sum(link, -1)), ...values(eg.sum(link, -2))]) expect(s).toBeLessThanOrEqual(1 + tol);
      for (let bi = 0; bi < b; bi++) for (let i = 0; i < n; i++) expect(link.data[bi * n * n + i * n + i]).toBe(0);
      for (const v of values(link)) expect(v).toBeGreaterThanOrEqual(-tol);
    }
  });

  it("gradchecks every DNC op in float64", () => {
    const next = rng(13);
    // distinct usages: the sort permutation is constant under the finite-difference steps
    const usage = t([0.1, 0.7, 0.4, 0.95, 0.55, 0.2, 0.3, 0.8], [2, 4], "float64");
    expectGrad((u) => allocationWeighting(u), [usage]);
    expectGrad(
      (u, w, f, rw) => updateUsage(u, w, f, rw),
      [uniformT(next, [2, 4], 0, 1), distributions(next, [2, 4], 0.8), uniformT(next, [2, 3], 0, 1), distributions(next, [2, 3, 4])],
    );
    expectGrad(
      (l, p, w) => updateLinkMatrix(l, p, w),
      [uniformT(next, [2, 4, 4], 0, 0.2), distributions(next, [2, 4], 0.9), distributions(next, [2, 4], 0.7)],
    );
    expectGrad((p, w) => updatePrecedence(p, w), [distributions(next, [2, 4], 0.9), distributions(next, [2, 4], 0.7)]);
    expectGrad((l, w) => directionalWeights(l, w).forward, [uniformT(next, [2, 4, 4], 0, 0.3), distributions(next, [2, 3, 4])]);
    expectGrad((l, w) => directionalWeights(l, w).backward, [uniformT(next, [2, 4, 4], 0, 0.3), distributions(next, [2, 3, 4])]);
  });

  it("refuses higher-order gradients through the allocation sort", () => {
    const u = t([0.2, 0.6], [1, 2]);
    u.requiresGrad = true;
    const [g] = eg.grad((x) => eg.sum(allocationWeighting(x)))(u);
    expect(g!.shape).toEqual([1, 2]);
    expect(() => eg.grad((x) => eg.sum(allocationWeighting(x)), { createGraph: true })(u)).toThrow(/^allocationWeighting: higher-order/);
  });
});
