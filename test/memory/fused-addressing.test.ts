// The fused NTM addressing and memory-write ops: equal to their compositions of primitive ops,
// gradient-checked in float64, differentiable twice through the composition, and the native
// float32 kernels agree with the ts reference kernels.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { circularShift, contentAddressing, eraseAndAdd, interpolate, ntmAddressing, sharpen } from "../../src/memory/addressing.js";
import { rng } from "../helpers/rng.js";
import { maxAbsDiff, onTs } from "../nn/helpers.js";

type DT = "float32" | "float64";
const uniform = (next: () => number, shape: number[], lo: number, hi: number, dtype: DT): eg.Tensor =>
  eg.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * next()),
    { shape, dtype },
  );
/** Rows of the last axis that are distributions. */
const distributions = (next: () => number, shape: number[], dtype: DT): eg.Tensor => {
  const x = uniform(next, shape, 0.05, 1, dtype);
  const n = shape[shape.length - 1]!;
  for (let r = 0; r < x.size / n; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x.data[r * n + i]!;
    for (let i = 0; i < n; i++) x.data[r * n + i]! /= s;
  }
  return x;
};

/** keys, memory, strength, gate, shift, gamma, previous for B, H, N, W, S. */
function addressingInputs(seed: number, b: number, h: number, n: number, w: number, s: number, dtype: DT): eg.Tensor[] {
  const next = rng(seed);
  return [
    uniform(next, [b, h, w], -1, 1, dtype),
    uniform(next, [b, n, w], -1, 1, dtype),
    uniform(next, [b, h], 0.5, 3, dtype),
    uniform(next, [b, h], 0.05, 0.95, dtype),
    distributions(next, [b, h, s], dtype),
    uniform(next, [b, h], 1, 3, dtype),
    distributions(next, [b, h, n], dtype),
  ];
}

const composite = (k: eg.Tensor, m: eg.Tensor, beta: eg.Tensor, g: eg.Tensor, s: eg.Tensor, gamma: eg.Tensor, prev: eg.Tensor): eg.Tensor =>
  sharpen(circularShift(interpolate(contentAddressing(k, m, beta), prev, g), s), gamma);

describe("ntmAddressing", () => {
  it("equals content addressing, interpolation, circular shift and sharpening composed", () => {
    for (const [b, h, n, w, s] of [
      [2, 2, 7, 3, 3],
      [1, 3, 5, 4, 5],
      [3, 1, 2, 2, 5], // rotations wider than the memory wrap around more than once
    ] as const) {
      const xs = addressingInputs(b * 100 + n, b, h, n, w, s, "float64");
      const fused = ntmAddressing(...(xs as [eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor]));
      const ref = composite(...(xs as [eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor]));
      expect(maxAbsDiff(fused, ref)).toBeLessThan(1e-12);
    }
  });

  it("gradchecks in float64 and matches the composition's gradients", () => {
    onTs(() => {
      const xs = addressingInputs(7, 2, 2, 6, 3, 3, "float64");
      const fn = (...a: eg.Tensor[]): eg.Tensor => ntmAddressing(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!);
      const r = eg.gradcheck(fn, xs, { atol: 1e-6, rtol: 1e-4 });
      expect(r.ok, JSON.stringify(r.worst)).toBe(true);
      const weight = uniform(rng(3), [2, 2, 6], -1, 1, "float64");
      const loss =
        (f: (...a: eg.Tensor[]) => eg.Tensor) =>
        (...a: eg.Tensor[]) =>
          eg.sum(eg.mul(f(...a), weight));
      const gf = eg.grad(loss(fn))(...xs);
      const gc = eg.grad(loss((...a) => composite(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!)))(...xs);
      gf.forEach((g, i) => expect(maxAbsDiff(g, gc[i]!), `input ${i}`).toBeLessThan(1e-10));
    });
  });

  it("has second derivatives (createGraph runs through the composition)", () => {
    onTs(() => {
      const xs = addressingInputs(11, 1, 2, 5, 3, 3, "float64");
      const fn = (k: eg.Tensor): eg.Tensor => {
        const [dk] = eg.grad((kk) => eg.sum(eg.square(ntmAddressing(kk, xs[1]!, xs[2]!, xs[3]!, xs[4]!, xs[5]!, xs[6]!))), {
          createGraph: true,
        })(k);
        return eg.sum(eg.square(dk!));
      };
      const r = eg.gradcheck(fn, [xs[0]!], { atol: 1e-6, rtol: 1e-3 });
      expect(r.ok, JSON.stringify(r.worst)).toBe(true);
    });
  });

  it("rejects mismatched shapes with the op name", () => {
    const xs = addressingInputs(1, 1, 2, 4, 3, 3, "float32");
    const [k, m, beta, g, s, gamma, prev] = xs as [eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor];
    expect(() => ntmAddressing(k, eg.zeros([1, 4, 2]), beta, g, s, gamma, prev)).toThrow(/^ntmAddressing: memory/);
    expect(() => ntmAddressing(k, m, beta, g, eg.zeros([1, 2, 2]), gamma, prev)).toThrow(/^ntmAddressing: shift/);
    expect(() => ntmAddressing(k, m, beta, g, s, gamma, eg.zeros([1, 2, 5]))).toThrow(/^ntmAddressing: previous weights/);
    expect(() => ntmAddressing(k, m, beta, eg.zeros([1, 2], { dtype: "float64" }), s, gamma, prev)).toThrow(/^ntmAddressing: gate dtype/);
  });
});

describe("eraseAndAdd (fused)", () => {
  it("gradchecks in float64 with one and three heads, including erase factors of exactly 0", () => {
    onTs(() => {
      for (const heads of [1, 3]) {
        const next = rng(heads);
        const m = uniform(next, [2, 4, 3], -1, 1, "float64");
        const w = distributions(next, [2, heads, 4], "float64");
        const e = uniform(next, [2, heads, 3], 0, 1, "float64");
        const a = uniform(next, [2, heads, 3], -1, 1, "float64");
        const r = eg.gradcheck((...x: eg.Tensor[]) => eraseAndAdd(x[0]!, x[1]!, x[2]!, x[3]!), [m, w, e, a], { atol: 1e-6, rtol: 1e-4 });
        expect(r.ok, JSON.stringify(r.worst)).toBe(true);
      }
      // w e = 1 zeroes a factor: the other heads' product must not be found by dividing by it
      const m = eg.tensor([[[2, 3]]], { dtype: "float64" });
      const w = eg.tensor([[[1], [0.5]]], { dtype: "float64" });
      const e = eg.tensor(
        [
          [
            [1, 0.5],
            [0.5, 1],
          ],
        ],
        { dtype: "float64" },
      );
      const a = eg.zeros([1, 2, 2], { dtype: "float64" });
      const [, dw] = eg.grad((...x: eg.Tensor[]) => eg.sum(eraseAndAdd(x[0]!, x[1]!, x[2]!, x[3]!)))(m, w, e, a);
      // d/dw_0 of 2 (1 - w0) (1 - 0.25) + 3 (1 - 0.5 w0) (1 - 0.5) at w0 = 1: -1.5 - 0.75
      expect(dw!.data[0]).toBeCloseTo(-2.25, 12);
    });
  });
});

describe("memory kernels: native float32 equals the ts reference", () => {
  /** Output and every input gradient of fn(...xs) weighted by w, on one backend. */
  const run = (backend: "native" | "ts", fn: (...a: eg.Tensor[]) => eg.Tensor, xs: eg.Tensor[], w: eg.Tensor): eg.Tensor[] => {
    const prev = eg.backendInfo().backend;
    eg.setBackend(backend);
    try {
      return [eg.noGrad(() => fn(...xs)), ...eg.grad((...a: eg.Tensor[]) => eg.sum(eg.mul(fn(...a), w)))(...xs)];
    } finally {
      eg.setBackend(prev);
    }
  };
  it.skipIf(!eg.backendInfo().nativeAvailable)("ntmAddressing and eraseAndAdd, forward and backward, with threads on", () => {
    // batch 16 with 128 slots is split across the native thread pool
    const xs = addressingInputs(5, 16, 2, 128, 20, 3, "float32");
    const wA = uniform(rng(9), [16, 2, 128], -1, 1, "float32");
    const fnA = (...a: eg.Tensor[]): eg.Tensor => ntmAddressing(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!);
    const [nA, tA] = [run("native", fnA, xs, wA), run("ts", fnA, xs, wA)];
    nA.forEach((t, i) =>
      expect(maxAbsDiff(t, tA[i]!), `addressing tensor ${i}`).toBeLessThan(2e-5 * Math.max(1, ...Array.from(tA[i]!.data, Math.abs))),
    );
    for (const heads of [1, 2]) {
      const next = rng(20 + heads);
      const ws = [
        uniform(next, [16, 128, 20], -1, 1, "float32"),
        distributions(next, [16, heads, 128], "float32"),
        uniform(next, [16, heads, 20], 0, 1, "float32"),
        uniform(next, [16, heads, 20], -1, 1, "float32"),
      ];
      const wW = uniform(next, [16, 128, 20], -1, 1, "float32");
      const fnW = (...a: eg.Tensor[]): eg.Tensor => eraseAndAdd(a[0]!, a[1]!, a[2]!, a[3]!);
      const [nW, tW] = [run("native", fnW, ws, wW), run("ts", fnW, ws, wW)];
      nW.forEach((t, i) => expect(maxAbsDiff(t, tW[i]!), `write (${heads} heads) tensor ${i}`).toBeLessThan(1e-4));
    }
  });
});
