/** scaledDotProductAttention and the mask helpers, checked against a plain-loop reference. */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { causalMask, keyPaddingMask } from "../../src/attention/masks.js";
import { scaledDotProductAttention as sdpa } from "../../src/attention/sdpa.js";
import { maxAbsDiff, onTs } from "../nn/helpers.js";

const randn = (shape: number[], seed: number, dtype: "float32" | "float64" = "float64"): eg.Tensor =>
  eg.randn(shape, { dtype, generator: new eg.Generator(seed) });

/**
 * softmax(q k^T * scale) v for one (Lq, E), (Lk, E), (Lk, Ev) slice, in plain loops; a row the
 * mask empties gives zeros.
 */
function refSlice(q: number[][], k: number[][], v: number[][], scale: number, allow: (i: number, j: number) => boolean): number[][] {
  return q.map((qi, i) => {
    const s = k.map((kj, j) => (allow(i, j) ? qi.reduce((acc, x, c) => acc + x * kj[c]!, 0) * scale : -Infinity));
    const m = Math.max(...s);
    const e = s.map((x) => (m === -Infinity ? 0 : Math.exp(x - m)));
    const z = e.reduce((a, b) => a + b, 0);
    return v[0]!.map((_, c) => e.reduce((acc, w, j) => acc + (z === 0 ? 0 : w / z) * v[j]![c]!, 0));
  });
}

/** Rows of a tensor's matrix slice `batch` (flat batch index), shape (..., R, C). */
function rows(t: eg.Tensor, batch: number): number[][] {
  const [r, c] = t.shape.slice(-2) as [number, number];
  const out: number[][] = [];
  for (let i = 0; i < r; i++) out.push(Array.from(t.data.subarray(batch * r * c + i * c, batch * r * c + (i + 1) * c)));
  return out;
}

describe("scaledDotProductAttention", () => {
  it("matches softmax(q k^T / sqrt(E)) v slice by slice, with broadcast batch axes", () => {
    const q = randn([2, 3, 4, 5], 1);
    const k = randn([1, 3, 6, 5], 2); // broadcast over the first axis
    const v = randn([3, 6, 7], 3); // broadcast over the first axis by rank
    const { output, weights } = sdpa(q, k, v, { returnWeights: true });
    expect(output.shape).toEqual([2, 3, 4, 7]);
    expect(weights!.shape).toEqual([2, 3, 4, 6]);
    for (let b = 0; b < 2; b++)
      for (let h = 0; h < 3; h++) {
        const want = refSlice(rows(q, b * 3 + h), rows(k, h), rows(v, h), 1 / Math.sqrt(5), () => true);
        expect(maxAbsDiff(eg.tensor(rows(output, b * 3 + h), { dtype: "float64" }), eg.tensor(want, { dtype: "float64" }))).toBeLessThan(
          1e-12,
        );
      }
    // the weights are probability rows
    const sums = weights!.sum(-1);
    for (const s of sums.data) expect(s).toBeCloseTo(1, 12);
    expect(sdpa(q, k, v).weights).toBeUndefined();
  });

  it("honours a custom scale and float32 inputs", () => {
    const q = randn([3, 4], 4, "float32");
    const k = randn([5, 4], 5, "float32");
    const v = randn([5, 2], 6, "float32");
    const out = sdpa(q, k, v, { scale: 0.7 }).output;
    const want = refSlice(rows(q, 0), rows(k, 0), rows(v, 0), 0.7, () => true);
    expect(maxAbsDiff(out, eg.tensor(want, { dtype: "float64" }))).toBeLessThan(1e-5);
    expect(out.dtype).toBe("float32");
  });

  it("applies a broadcast bool mask (true = attend)", () => {
    const q = randn([2, 3, 4], 7);
    const k = randn([2, 5, 4], 8);
    const v = randn([2, 5, 3], 9);
    const allowed = (b: number, j: number): boolean => j < 5 - 2 * b; // per-batch key lengths 5 and 3
    const mask = eg.tensor([[[true, true, true, true, true]], [[true, true, true, false, false]]]); // (2, 1, 5)
    const out = sdpa(q, k, v, { mask }).output;
    for (let b = 0; b < 2; b++) {
      const want = refSlice(rows(q, b), rows(k, b), rows(v, b), 0.5, (_i, j) => allowed(b, j));
      expect(maxAbsDiff(eg.tensor(rows(out, b), { dtype: "float64" }), eg.tensor(want, { dtype: "float64" }))).toBeLessThan(1e-12);
    }
  });

  it("causal 'start' (top-left) and 'end' (bottom-right) alignment with Lq != Lk", () => {
    const q = randn([3, 4], 10);
    const k = randn([6, 4], 11);
    const v = randn([6, 2], 12);
    for (const [alignment, allow] of [
      ["start", (i: number, j: number) => j <= i],
      ["end", (i: number, j: number) => j <= i + 3],
    ] as const) {
      const { output, weights } = sdpa(q, k, v, { isCausal: true, causalAlignment: alignment, returnWeights: true });
      const want = refSlice(rows(q, 0), rows(k, 0), rows(v, 0), 0.5, allow);
      expect(maxAbsDiff(output, eg.tensor(want, { dtype: "float64" }))).toBeLessThan(1e-12);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 6; j++) expect(weights!.data[i * 6 + j]! > 0).toBe(allow(i, j));
    }
    // default alignment is "start"
    expect(maxAbsDiff(sdpa(q, k, v, { isCausal: true }).output, sdpa(q, k, v, { isCausal: true, causalAlignment: "start" }).output)).toBe(
      0,
    );
    // "end" with one query (KV-cache decode step) attends to every key
    const last = sdpa(q.narrow(0, 2, 1), k, v, { isCausal: true, causalAlignment: "end" }).output;
    expect(maxAbsDiff(last, sdpa(q.narrow(0, 2, 1), k, v).output)).toBeLessThan(1e-15);
  });

  it("causal mask combines with an explicit mask by AND", () => {
    const q = randn([4, 3], 13);
    const k = randn([4, 3], 14);
    const v = randn([4, 2], 15);
    const mask = eg.tensor([false, true, true, true]); // key 0 hidden
    const out = sdpa(q, k, v, { mask, isCausal: true }).output;
    const want = refSlice(rows(q, 0), rows(k, 0), rows(v, 0), 1 / Math.sqrt(3), (i, j) => j <= i && j > 0);
    expect(maxAbsDiff(out, eg.tensor(want, { dtype: "float64" }))).toBeLessThan(1e-12);
    // query 0 sees nothing: its output row is zero
    expect(Array.from(out.data.subarray(0, 2))).toEqual([0, 0]);
  });

  it("a fully masked row gives zeros and zero, finite gradients (never NaN)", () => {
    const q = eg.randn([2, 3, 4], { dtype: "float64", generator: new eg.Generator(16), requiresGrad: true });
    const k = eg.randn([2, 5, 4], { dtype: "float64", generator: new eg.Generator(17), requiresGrad: true });
    const v = eg.randn([2, 5, 3], { dtype: "float64", generator: new eg.Generator(18), requiresGrad: true });
    const m = eg.ones([2, 3, 5], { dtype: "bool" });
    m.data.fill(0, 5, 10); // batch 0, query 1: nothing to attend to
    const { output, weights } = sdpa(q, k, v, { mask: m, returnWeights: true });
    expect(Array.from(output.data.subarray(3, 6))).toEqual([0, 0, 0]);
    expect(Array.from(weights!.data.subarray(5, 10))).toEqual([0, 0, 0, 0, 0]);
    output.square().sum().backward();
    for (const t of [q, k, v]) for (const g of t.grad!.data) expect(Number.isFinite(g)).toBe(true);
    expect(Array.from(q.grad!.data.subarray(4, 8))).toEqual([0, 0, 0, 0]);
    expect(q.grad!.abs().sum().item()).toBeGreaterThan(0);
  });

  it("gradcheck (float64, ts) with a mask, causal alignment and broadcasting", () => {
    onTs(() => {
      const mask = eg.tensor([[true, false, true, true, true]]);
      const r = eg.gradcheck(
        (q, k, v) => sdpa(q, k, v, { mask, isCausal: true, causalAlignment: "end", scale: 0.8 }).output,
        [randn([2, 3, 4], 19), randn([5, 4], 20), randn([2, 5, 3], 21)],
      );
      expect(r.ok, JSON.stringify(r)).toBe(true);
    });
  });

  it("dropout acts on the weights only in training and is reproducible with a generator", () => {
    const q = randn([4, 8], 22);
    const k = randn([16, 8], 23);
    const v = randn([16, 3], 24);
    const plain = sdpa(q, k, v, { returnWeights: true });
    const off = sdpa(q, k, v, { dropout: 0.5, training: false, returnWeights: true });
    expect(maxAbsDiff(off.output, plain.output)).toBe(0);
    const a = sdpa(q, k, v, { dropout: 0.5, returnWeights: true, generator: new eg.Generator(5) });
    const b = sdpa(q, k, v, { dropout: 0.5, returnWeights: true, generator: new eg.Generator(5) });
    expect(maxAbsDiff(a.output, b.output)).toBe(0);
    let zeros = 0;
    a.weights!.data.forEach((w, i) => {
      if (w === 0) zeros++;
      else expect(w).toBeCloseTo(plain.weights!.data[i]! * 2, 12);
    });
    expect(zeros).toBeGreaterThan(10);
    expect(zeros).toBeLessThan(54);
  });

  it("validates inputs loudly", () => {
    const q = randn([2, 3, 4], 25);
    const k = randn([2, 5, 4], 26);
    const v = randn([2, 5, 3], 27);
    const err = (fn: () => unknown, cls: typeof eg.EngramError): void => {
      expect(fn).toThrow(cls);
      expect(fn).toThrow(/^scaledDotProductAttention:/);
    };
    err(() => sdpa(q, k, v, { mask: eg.ones([2, 3, 5]) }), eg.DTypeError); // float mask
    err(() => sdpa(q, k, v, { mask: eg.ones([3, 4], { dtype: "bool" }) }), eg.ShapeError);
    err(() => sdpa(q, k, v, { mask: eg.ones([3, 3, 5], { dtype: "bool" }) }), eg.ShapeError); // batch 3 vs 2
    err(() => sdpa(q, randn([2, 5, 3], 28), v), eg.ShapeError); // E mismatch
    err(() => sdpa(q, k, randn([2, 4, 3], 29)), eg.ShapeError); // Lk mismatch
    err(() => sdpa(q, randn([3, 5, 4], 30), v), eg.ShapeError); // batch does not broadcast
    err(() => sdpa(q, eg.cast(k, "float32"), v), eg.DTypeError);
    err(() => sdpa(randn([4], 31), k, v), eg.ShapeError);
    err(() => sdpa(q, k, v, { dropout: 1 }), eg.ArgumentError);
    err(() => sdpa(q, k, v, { causalAlignment: "middle" as "start", isCausal: true }), eg.ArgumentError);
    // a mask with extra leading axes widens the output instead of failing
    expect(sdpa(q, k, v, { mask: eg.ones([3, 2, 3, 5], { dtype: "bool" }) }).output.shape).toEqual([3, 2, 3, 3]);
  });
});

describe("mask helpers", () => {
  it("causalMask", () => {
    const asRows = (t: eg.Tensor): number[][] => (t.toArray() as boolean[][]).map((r) => r.map(Number));
    expect(asRows(causalMask(2, 4))).toEqual([
      [1, 0, 0, 0],
      [1, 1, 0, 0],
    ]);
    expect(asRows(causalMask(2, 4, "end"))).toEqual([
      [1, 1, 1, 0],
      [1, 1, 1, 1],
    ]);
    expect(asRows(causalMask(3, 2, "end"))).toEqual([
      [0, 0],
      [1, 0],
      [1, 1],
    ]);
    expect(causalMask(3, 3).dtype).toBe("bool");
    expect(() => causalMask(-1, 2)).toThrow(/^causalMask:/);
  });

  it("keyPaddingMask from lengths and from a PyTorch-polarity bool mask", () => {
    const fromLengths = keyPaddingMask([3, 1], 4);
    expect(fromLengths.dtype).toBe("bool");
    expect(Array.from(fromLengths.data)).toEqual([1, 1, 1, 0, 1, 0, 0, 0]);
    expect(Array.from(keyPaddingMask(eg.tensor(Int32Array.from([3, 1])), 4).data)).toEqual(Array.from(fromLengths.data));
    const torchPad = eg.tensor([
      [false, false, false, true],
      [false, true, true, true],
    ]);
    expect(Array.from(keyPaddingMask(torchPad).data)).toEqual(Array.from(fromLengths.data));
    expect(() => keyPaddingMask([5], 4)).toThrow(eg.ArgumentError);
    expect(() => keyPaddingMask([2])).toThrow(/^keyPaddingMask:/);
    expect(() => keyPaddingMask(eg.ones([2]), 3)).toThrow(eg.DTypeError);
  });
});
