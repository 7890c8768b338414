import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import {
  alibiBias,
  alibiSlopes,
  applyRotary,
  LearnedPositionalEmbedding,
  sinusoidalEncoding,
  SinusoidalPositionalEncoding,
} from "../../src/attention/positional.js";
import { onTs } from "../nn/helpers.js";
import { randn } from "./helpers.js";

function expectClose(actual: eg.Tensor, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.size).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual.data[i]! - expected[i]!));
  expect(worst).toBeLessThanOrEqual(tol);
}

function dot(a: eg.Tensor, b: eg.Tensor): number {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i]! * b.data[i]!;
  return s;
}

describe("sinusoidalEncoding", () => {
  it("matches hand-computed values for dim 4 (frequencies 1 and 1/100)", () => {
    const pe = sinusoidalEncoding(3, 4, { dtype: "float64" });
    expect(pe.shape).toEqual([3, 4]);
    expect(pe.dtype).toBe("float64");
    const rows = [0, 1, 2].flatMap((p) => [Math.sin(p), Math.cos(p), Math.sin(p / 100), Math.cos(p / 100)]);
    expectClose(pe, rows, 1e-15);
    expect(pe.data[4]).toBe(Math.sin(1));
    expect(pe.data[5]).toBe(Math.cos(1));
  });

  it("keeps the formula for odd dim: the last column is sin without a cos partner", () => {
    const pe = sinusoidalEncoding(2, 3, { dtype: "float64" });
    const f = Math.pow(10000, -2 / 3);
    expectClose(pe, [0, 1, 0, Math.sin(1), Math.cos(1), Math.sin(f)], 1e-15);
  });

  it("honours base and defaults to float32", () => {
    const pe = sinusoidalEncoding(4, 2, { base: 2 });
    expect(pe.dtype).toBe("float32");
    expectClose(pe, [0, 1, Math.sin(1), Math.cos(1), Math.sin(2), Math.cos(2), Math.sin(3), Math.cos(3)], 1e-7);
    const pe4 = sinusoidalEncoding(1, 4, { base: 4, offset: 3, dtype: "float64" });
    expectClose(pe4, [Math.sin(3), Math.cos(3), Math.sin(1.5), Math.cos(1.5)], 1e-15);
  });

  it("offset rows equal the same rows of the full table", () => {
    const full = sinusoidalEncoding(10, 8);
    const part = sinusoidalEncoding(5, 8, { offset: 5 });
    expect(Array.from(part.data)).toEqual(Array.from(eg.narrow(full, 0, 5, 5).data));
  });

  it("rejects bad arguments with the op name", () => {
    expect(() => sinusoidalEncoding(-1, 4)).toThrow(eg.ArgumentError);
    expect(() => sinusoidalEncoding(4, 0)).toThrow(/^sinusoidalEncoding: dim/);
    expect(() => sinusoidalEncoding(4, 4, { base: 0 })).toThrow(/^sinusoidalEncoding: base/);
    expect(() => sinusoidalEncoding(4, 4, { offset: 1.5 })).toThrow(eg.ArgumentError);
    expect(() => sinusoidalEncoding(4, 4, { dtype: "int32" as "float32" })).toThrow(eg.DTypeError);
  });
});

describe("SinusoidalPositionalEncoding", () => {
  it("adds the table to (B, T, D) input, with offset for incremental decoding", () => {
    const m = new SinusoidalPositionalEncoding(6);
    const x = randn([2, 5, 6], 1);
    const y = m.forward(x);
    expect(y.shape).toEqual([2, 5, 6]);
    expectClose(y, Array.from(eg.add(x, sinusoidalEncoding(5, 6)).data), 0);
    const step = m.forward(eg.narrow(x, 1, 3, 1), { offset: 3 });
    expectClose(step, Array.from(eg.narrow(y, 1, 3, 1).data), 0);
  });

  it("keeps its table as a non-persistent buffer and grows it on demand", () => {
    const m = new SinusoidalPositionalEncoding(4, { maxLength: 2 });
    expect(m.stateDict().size).toBe(0);
    expect(m.namedBuffers().map(([k, t]) => [k, t.shape])).toEqual([["pe", [2, 4]]]);
    const x = eg.zeros([1, 3, 4]);
    const y = m.forward(x, { offset: 7 });
    expectClose(y, Array.from(sinusoidalEncoding(3, 4, { offset: 7 }).data), 0);
    const [[name, pe]] = m.namedBuffers() as [[string, eg.Tensor]];
    expect(name).toBe("pe");
    expect(pe.shape[0]).toBeGreaterThanOrEqual(10);
    expect(m.stateDict().size).toBe(0);
  });

  it("follows the input dtype", () => {
    const m = new SinusoidalPositionalEncoding(4);
    const y = m.forward(eg.zeros([2, 4], { dtype: "float64" }), { offset: 1 });
    expect(y.dtype).toBe("float64");
    expect(y.data[0]).toBe(Math.sin(1));
  });

  it("applies dropout in training only", () => {
    const m = new SinusoidalPositionalEncoding(8, { dropout: 0.5, generator: new eg.Generator(3) });
    const x = eg.ones([2, 16, 8]);
    const ref = eg.add(x, sinusoidalEncoding(16, 8));
    const train = m.forward(x);
    let zeros = 0;
    for (let i = 0; i < train.size; i++) {
      if (train.data[i] === 0) zeros++;
      else expect(train.data[i]).toBeCloseTo(2 * ref.data[i]!, 5);
    }
    expect(zeros).toBeGreaterThan(train.size / 4);
    expect(zeros).toBeLessThan((3 * train.size) / 4);
    m.eval();
    expectClose(m.forward(x), Array.from(ref.data), 0);
  });

  it("rejects a feature size that does not match dim", () => {
    const m = new SinusoidalPositionalEncoding(4);
    expect(() => m.forward(eg.zeros([2, 3, 5]))).toThrow(eg.ShapeError);
    expect(() => m.forward(eg.zeros([4]))).toThrow(/^SinusoidalPositionalEncoding: input must have shape/);
    expect(() => m.forward(eg.zeros([2, 4], { dtype: "int32" }))).toThrow(eg.DTypeError);
  });
});

describe("LearnedPositionalEmbedding", () => {
  it("adds rows offset..offset+T-1 of its table and exposes `weight`", () => {
    const m = new LearnedPositionalEmbedding(8, 3, { generator: new eg.Generator(5) });
    expect([...m.stateDict().keys()]).toEqual(["weight"]);
    expect(m.weight.shape).toEqual([8, 3]);
    const x = randn([2, 4, 3], 2);
    const y = m.forward(x, { offset: 2 });
    expectClose(y, Array.from(eg.add(x, eg.narrow(m.weight, 0, 2, 4)).data), 0);
  });

  it("sends gradient only to the rows it used", () => {
    const m = new LearnedPositionalEmbedding(6, 2, { generator: new eg.Generator(5) });
    m.forward(eg.ones([3, 2, 2]), { offset: 1 })
      .sum()
      .backward();
    expect(Array.from(m.weight.grad!.data)).toEqual([0, 0, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0]);
  });

  it("throws a ShapeError when T (plus offset) exceeds maxLength", () => {
    const m = new LearnedPositionalEmbedding(4, 2);
    expect(() => m.forward(eg.zeros([1, 5, 2]))).toThrow(eg.ShapeError);
    expect(() => m.forward(eg.zeros([1, 5, 2]))).toThrow(/^LearnedPositionalEmbedding: positions 0\.\.4 exceed maxLength 4/);
    expect(() => m.forward(eg.zeros([1, 2, 2]), { offset: 3 })).toThrow(eg.ShapeError);
    expect(m.forward(eg.zeros([1, 2, 2]), { offset: 2 }).shape).toEqual([1, 2, 2]);
    expect(() => new LearnedPositionalEmbedding(0, 2)).toThrow(eg.ArgumentError);
  });
});

describe("applyRotary", () => {
  it("rotates hand-checked pairs in both conventions", () => {
    const p = 3;
    const e = (i: number): eg.Tensor => {
      const v = [0, 0, 0, 0];
      v[i] = 1;
      return eg.tensor([v], { dtype: "float64" });
    };
    // half: pairs (0, 2) at frequency 1 and (1, 3) at 1/100
    expectClose(applyRotary(e(0), { offset: p }), [Math.cos(p), 0, Math.sin(p), 0], 1e-15);
    expectClose(applyRotary(e(1), { offset: p }), [0, Math.cos(p / 100), 0, Math.sin(p / 100)], 1e-15);
    expectClose(applyRotary(e(2), { offset: p }), [-Math.sin(p), 0, Math.cos(p), 0], 1e-15);
    // interleaved: pairs (0, 1) at frequency 1 and (2, 3) at 1/100
    expectClose(applyRotary(e(0), { offset: p, pairing: "interleaved" }), [Math.cos(p), Math.sin(p), 0, 0], 1e-15);
    expectClose(applyRotary(e(3), { offset: p, pairing: "interleaved" }), [0, 0, -Math.sin(p / 100), Math.cos(p / 100)], 1e-15);
    // position 0 is the identity
    const x = randn([2, 1, 6], 4);
    expectClose(applyRotary(x), Array.from(x.data), 0);
  });

  it("keeps shape and norms", () => {
    const x = randn([2, 3, 5, 8], 7, "float64");
    const y = applyRotary(x, { offset: 11 });
    expect(y.shape).toEqual([2, 3, 5, 8]);
    const n = (t: eg.Tensor): number[] => Array.from(eg.sum(eg.mul(t, t), -1).data);
    expectClose(eg.tensor(n(y), { dtype: "float64" }), n(x), 1e-12);
  });

  it("with offset equals slicing the full sequence", () => {
    for (const pairing of ["half", "interleaved"] as const) {
      const x = randn([2, 2, 10, 6], 8);
      const full = applyRotary(x, { pairing, base: 500 });
      const tail = applyRotary(eg.narrow(x, 2, 5, 5), { offset: 5, pairing, base: 500 });
      expectClose(tail, Array.from(eg.narrow(full, 2, 5, 5).data), 1e-6);
    }
  });

  it("interleaved equals half-split on permuted features", () => {
    // half feature k < D/2 is interleaved feature 2k; half feature D/2 + k is interleaved feature 2k + 1
    const d = 8;
    const fromInterleaved = Array.from({ length: d }, (_, k) => (k < d / 2 ? 2 * k : 2 * (k - d / 2) + 1));
    const idx = eg.tensor(fromInterleaved, { dtype: "int32" });
    const x = randn([3, 7, d], 9, "float64");
    const half = applyRotary(eg.indexSelect(x, 2, idx), { offset: 2 });
    const inter = applyRotary(x, { offset: 2, pairing: "interleaved" });
    expectClose(eg.indexSelect(inter, 2, idx), Array.from(half.data), 1e-12);
  });

  it("makes q.k depend only on the relative position", () => {
    for (const pairing of ["half", "interleaved"] as const) {
      const q = randn([1, 16], 10, "float64");
      const k = randn([1, 16], 11, "float64");
      const score = (m: number, n: number): number => dot(applyRotary(q, { offset: m, pairing }), applyRotary(k, { offset: n, pairing }));
      for (const [m, n] of [
        [0, 0],
        [3, 1],
        [1, 3],
        [7, 2],
      ] as const) {
        for (const s of [1, 5, 40, 1000]) expect(Math.abs(score(m + s, n + s) - score(m, n))).toBeLessThan(1e-9);
      }
      // and it does depend on it: the property is not vacuous
      expect(Math.abs(score(3, 1) - score(1, 3))).toBeGreaterThan(1e-3);
    }
  });

  it("passes gradcheck (float64, ts backend)", () => {
    onTs(() => {
      for (const pairing of ["half", "interleaved"] as const) {
        const x = randn([2, 3, 4], 12, "float64");
        const r = eg.gradcheck((t) => applyRotary(t, { offset: 2, pairing }), [x]);
        expect(r.ok).toBe(true);
        expect(r.maxAbsError).toBeLessThan(1e-7);
      }
    });
  });

  it("rejects odd D, 1-D input, integer input and bad options", () => {
    expect(() => applyRotary(eg.zeros([2, 5]))).toThrow(eg.ShapeError);
    expect(() => applyRotary(eg.zeros([2, 5]))).toThrow(/^applyRotary: feature size must be even, got 5/);
    expect(() => applyRotary(eg.zeros([4]))).toThrow(eg.ShapeError);
    expect(() => applyRotary(eg.zeros([2, 4], { dtype: "int32" }))).toThrow(eg.DTypeError);
    expect(() => applyRotary(eg.zeros([2, 4]), { offset: -1 })).toThrow(eg.ArgumentError);
    expect(() => applyRotary(eg.zeros([2, 4]), { pairing: "split" as "half" })).toThrow(/^applyRotary: pairing/);
  });
});

describe("ALiBi", () => {
  it("slopes for 8 heads are 1/2, 1/4, ..., 1/256", () => {
    expect(Array.from(alibiSlopes(8).data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => 2 ** -i));
  });

  it("slopes for non-powers of two follow the paper's rule", () => {
    // 6 heads: the 4-head slopes, then every other 8-head slope (1/2, 1/8)
    expect(Array.from(alibiSlopes(6).data)).toEqual([1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 2, 1 / 8]);
    expect(Array.from(alibiSlopes(3).data)).toEqual([1 / 16, 1 / 256, 1 / 4]);
    expect(Array.from(alibiSlopes(1).data)).toEqual([1 / 256]);
    const s12 = alibiSlopes(12, { dtype: "float64" });
    const expected = [...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => 2 ** -i), ...[0.5, 1.5, 2.5, 3.5].map((e) => 2 ** -e)];
    expectClose(s12, expected, 1e-15);
  });

  it("biases are -slope * distance, (H, Lq, Lk)", () => {
    const b = alibiBias(2, 3, 3, { dtype: "float64" });
    expect(b.shape).toEqual([2, 3, 3]);
    const dist = [0, 1, 2, 1, 0, 1, 2, 1, 0];
    expect(Array.from(b.data)).toEqual([...dist.map((d) => (d === 0 ? 0 : -d / 16)), ...dist.map((d) => (d === 0 ? 0 : -d / 256))]);
  });

  it("aligns queries at the end by default and at the start on request", () => {
    // one decoding query after 4 cached keys sits at position 4
    const br = alibiBias(8, 1, 5);
    expect(br.shape).toEqual([8, 1, 5]);
    expect(Array.from(eg.narrow(br, 0, 0, 1).data)).toEqual([-2, -1.5, -1, -0.5, 0]);
    const tl = alibiBias(8, 2, 4, { causalAlignment: "start" });
    expect(Array.from(eg.narrow(tl, 0, 0, 1).data)).toEqual([0, -0.5, -1, -1.5, -0.5, 0, -0.5, -1]);
  });

  it("rejects bad arguments", () => {
    expect(() => alibiSlopes(0)).toThrow(/^alibiSlopes: numHeads/);
    expect(() => alibiBias(2, -1, 3)).toThrow(eg.ArgumentError);
    expect(() => alibiBias(2, 1, 3, { causalAlignment: "center" as "start" })).toThrow(/^alibiBias: causalAlignment/);
  });
});
