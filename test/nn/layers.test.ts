import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import type { Module as ModuleT } from "../../src/nn/index.js";
import { maxAbsDiff, onTs, setParam } from "./helpers.js";
import * as nn from "../../src/nn/index.js";

/** Builds a module from a seed, and runs it on a fixed input returning one tensor. */
interface RoundTripCase {
  name: string;
  make: (g: eg.Generator) => ModuleT;
  run: (m: ModuleT) => eg.Tensor;
}

const x = (shape: number[], seed = 99): eg.Tensor => eg.randn(shape, { generator: new eg.Generator(seed) });
type Fwd<A extends unknown[], R> = { forward(...a: A): R };
const as = <A extends unknown[], R>(m: ModuleT): Fwd<A, R> => m as unknown as Fwd<A, R>;

/** Seeds that do not drive init (norm weights start at ones) are perturbed so the round trip is not vacuous. */
function perturb<M extends ModuleT>(m: M, g: eg.Generator): M {
  for (const p of m.parameters()) for (let i = 0; i < p.size; i++) p.data[i]! += g.normal();
  return m;
}

const cases: RoundTripCase[] = [
  { name: "Linear", make: (g) => new nn.Linear(4, 3, { generator: g }), run: (m) => as<[eg.Tensor], eg.Tensor>(m).forward(x([2, 4])) },
  {
    name: "Bilinear",
    make: (g) => new nn.Bilinear(3, 2, 4, { generator: g }),
    run: (m) => as<[eg.Tensor, eg.Tensor], eg.Tensor>(m).forward(x([5, 3]), x([5, 2], 7)),
  },
  {
    name: "Embedding",
    make: (g) => new nn.Embedding(6, 3, { generator: g, paddingIdx: 1 }),
    run: (m) => as<[eg.Tensor], eg.Tensor>(m).forward(eg.tensor([[0, 1, 5]], { dtype: "int32" })),
  },
  { name: "LayerNorm", make: (g) => perturb(new nn.LayerNorm([2, 3]), g), run: (m) => as<[eg.Tensor], eg.Tensor>(m).forward(x([4, 2, 3])) },
  { name: "RMSNorm", make: (g) => perturb(new nn.RMSNorm(3), g), run: (m) => as<[eg.Tensor], eg.Tensor>(m).forward(x([4, 3])) },
  { name: "Dropout", make: () => new nn.Dropout(0.3).eval(), run: (m) => as<[eg.Tensor], eg.Tensor>(m).forward(x([4, 3])) },
  {
    name: "Sequential",
    make: (g) =>
      new nn.Sequential(new nn.Linear(3, 5, { generator: g }), perturb(new nn.LayerNorm(5), g), new nn.Linear(5, 2, { generator: g })),
    run: (m) => as<[eg.Tensor], eg.Tensor>(m).forward(x([4, 3])),
  },
  {
    name: "ModuleList",
    make: (g) => new nn.ModuleList([new nn.Linear(3, 3, { generator: g }), new nn.Linear(3, 1, { generator: g })]),
    run: (m) => {
      let y = x([2, 3]);
      for (const l of m as InstanceType<typeof nn.ModuleList<InstanceType<typeof nn.Linear>>>) y = l.forward(y);
      return y;
    },
  },
  {
    name: "RNNCell",
    make: (g) => new nn.RNNCell(3, 4, { generator: g, nonlinearity: "relu" }),
    run: (m) => as<[eg.Tensor], eg.Tensor>(m).forward(x([2, 3])),
  },
  {
    name: "LSTMCell",
    make: (g) => new nn.LSTMCell(3, 4, { generator: g }),
    run: (m) => as<[eg.Tensor], { h: eg.Tensor; c: eg.Tensor }>(m).forward(x([2, 3])).c,
  },
  { name: "GRUCell", make: (g) => new nn.GRUCell(3, 4, { generator: g }), run: (m) => as<[eg.Tensor], eg.Tensor>(m).forward(x([2, 3])) },
  {
    name: "RNN",
    make: (g) => new nn.RNN(3, 4, { generator: g, numLayers: 2 }),
    run: (m) => as<[eg.Tensor], { output: eg.Tensor }>(m).forward(x([5, 2, 3])).output,
  },
  {
    name: "LSTM",
    make: (g) => new nn.LSTM(3, 4, { generator: g, numLayers: 2, bidirectional: true, batchFirst: true }),
    run: (m) => as<[eg.Tensor], { cN: eg.Tensor }>(m).forward(x([2, 5, 3])).cN,
  },
  {
    name: "GRU",
    make: (g) => new nn.GRU(3, 4, { generator: g, bidirectional: true }),
    run: (m) => as<[eg.Tensor], { output: eg.Tensor }>(m).forward(x([5, 2, 3])).output,
  },
];

describe("state-dict round trip", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const a = c.make(new eg.Generator(1));
    const b = c.make(new eg.Generator(2));
    const ya = c.run(a);
    if (a.numParameters() > 0) expect(maxAbsDiff(ya, c.run(b))).toBeGreaterThan(1e-3);
    const res = b.loadStateDict(a.stateDict());
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(Array.from(c.run(b).data)).toEqual(Array.from(ya.data));
  });
});

describe("Linear and Bilinear", () => {
  it("Linear computes x W^T + b over leading axes with PyTorch's init bounds", () => {
    const lin = new nn.Linear(16, 3, { generator: new eg.Generator(4) });
    const k = 1 / 4;
    expect(Math.max(...Array.from(lin.weight.data).map(Math.abs))).toBeLessThanOrEqual(k);
    expect(Math.max(...Array.from(lin.bias!.data).map(Math.abs))).toBeLessThanOrEqual(k);
    const input = x([2, 5, 16]);
    const y = lin.forward(input);
    expect(y.shape).toEqual([2, 5, 3]);
    let want = lin.bias!.data[2]!;
    for (let i = 0; i < 16; i++) want += input.data[16 * 7 + i]! * lin.weight.data[2 * 16 + i]!;
    expect(y.data[7 * 3 + 2]!).toBeCloseTo(want, 5);
    expect(new nn.Linear(2, 2, { bias: false }).namedParameters().map(([n]) => n)).toEqual(["weight"]);
    expect(() => lin.forward(x([2, 15]))).toThrow(eg.ShapeError);
    expect(() => new nn.Linear(2.5, 2)).toThrow(eg.ArgumentError);
  });

  it("Bilinear matches the definition x1^T A_k x2 + b_k", () => {
    const bl = new nn.Bilinear(3, 2, 4, { generator: new eg.Generator(5) });
    const a = x([2, 3], 1);
    const b = x([2, 2], 2);
    const y = bl.forward(a, b);
    expect(y.shape).toEqual([2, 4]);
    for (let n = 0; n < 2; n++) {
      for (let k = 0; k < 4; k++) {
        let want = bl.bias!.data[k]!;
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 2; j++) want += a.data[n * 3 + i]! * bl.weight.data[k * 6 + i * 2 + j]! * b.data[n * 2 + j]!;
        expect(y.data[n * 4 + k]!).toBeCloseTo(want, 5);
      }
    }
    expect(() => bl.forward(a, x([3, 2]))).toThrow(eg.ShapeError);
  });

  it("gradcheck through Linear and Bilinear (float64, ts)", () => {
    onTs(() => {
      const lin = new nn.Linear(4, 3, { dtype: "float64", generator: new eg.Generator(6) });
      const r = eg.gradcheck(
        (input, w, b) => {
          setParam(lin, "weight", w);
          setParam(lin, "bias", b);
          return lin.forward(input).tanh();
        },
        [eg.randn([2, 3, 4], { dtype: "float64", generator: new eg.Generator(21) }), lin.weight.detach(), lin.bias!.detach()],
      );
      expect(r.ok, JSON.stringify(r)).toBe(true);
      const bl = new nn.Bilinear(3, 2, 2, { dtype: "float64" });
      const r2 = eg.gradcheck(
        (a, b, w) => {
          setParam(bl, "weight", w);
          return bl.forward(a, b);
        },
        [
          eg.randn([2, 3], { dtype: "float64", generator: new eg.Generator(22) }),
          eg.randn([2, 2], { dtype: "float64", generator: new eg.Generator(23) }),
          bl.weight.detach(),
        ],
      );
      expect(r2.ok, JSON.stringify(r2)).toBe(true);
    });
  });
});

describe("Embedding", () => {
  it("looks up rows; the padding row starts at zero and receives no gradient", () => {
    const emb = new nn.Embedding(5, 3, { paddingIdx: -1, generator: new eg.Generator(7) });
    expect(emb.paddingIdx).toBe(4);
    expect(Array.from(emb.weight.data.subarray(12, 15))).toEqual([0, 0, 0]);
    emb.weight.data.fill(0.5, 12, 15); // a loaded, non-zero padding row is still looked up as is
    const ids = eg.tensor(
      [
        [4, 2],
        [2, 4],
      ],
      { dtype: "int32" },
    );
    const y = emb.forward(ids);
    expect(y.shape).toEqual([2, 2, 3]);
    expect(Array.from(y.data.subarray(0, 3))).toEqual([0.5, 0.5, 0.5]);
    expect(Array.from(y.data.subarray(3, 6))).toEqual(Array.from(emb.weight.data.subarray(6, 9)));
    y.mul(y).sum().backward();
    const g = emb.weight.grad!;
    expect(Array.from(g.data.subarray(12, 15))).toEqual([0, 0, 0]);
    for (let i = 0; i < 3; i++) expect(g.data[6 + i]!).toBeCloseTo(4 * emb.weight.data[6 + i]!, 5);
    expect(Array.from(g.data.subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => emb.forward(eg.tensor([1.5]))).toThrow(eg.DTypeError);
    expect(() => emb.forward(eg.tensor([5], { dtype: "int32" }))).toThrow(eg.ArgumentError);
    expect(() => new nn.Embedding(5, 3, { paddingIdx: 5 })).toThrow(eg.ArgumentError);
  });
});

describe("norms and dropout", () => {
  it("LayerNorm normalises the trailing axes; RMSNorm divides by the root mean square", () => {
    const ln = new nn.LayerNorm(4);
    const y = ln.forward(eg.tensor([[1, 2, 3, 4]]));
    const mean = 2.5;
    const sd = Math.sqrt(1.25 + 1e-5);
    expect(Array.from(y.data).map((v) => +v.toFixed(5))).toEqual([1, 2, 3, 4].map((v) => +((v - mean) / sd).toFixed(5)));
    expect(new nn.LayerNorm(4, { elementwiseAffine: false }).parameters()).toHaveLength(0);
    expect(() => ln.forward(eg.zeros([2, 3]))).toThrow(eg.ShapeError);
    const rms = new nn.RMSNorm([2, 2], { eps: 0 });
    rms.weight!.data.set([1, 2, 3, 4]);
    const r = rms.forward(
      eg.tensor([
        [
          [1, 1],
          [1, 3],
        ],
      ]),
    );
    const scale = 1 / Math.sqrt(3);
    expect(Array.from(r.data).map((v) => +v.toFixed(5))).toEqual([1 * scale, 2 * scale, 3 * scale, 12 * scale].map((v) => +v.toFixed(5)));
  });

  it("gradcheck through LayerNorm and RMSNorm (float64, ts)", () => {
    onTs(() => {
      const ln = new nn.LayerNorm(3, { dtype: "float64" });
      const rms = new nn.RMSNorm(3, { dtype: "float64", eps: 1e-6 });
      const r = eg.gradcheck(
        (input, w, b, w2) => {
          setParam(ln, "weight", w);
          setParam(ln, "bias", b);
          setParam(rms, "weight", w2);
          return rms.forward(ln.forward(input).mul(2).add(1));
        },
        [
          eg.randn([4, 3], { dtype: "float64", generator: new eg.Generator(24) }),
          eg.randn([3], { dtype: "float64", generator: new eg.Generator(25) }),
          eg.randn([3], { dtype: "float64", generator: new eg.Generator(26) }),
          eg.randn([3], { dtype: "float64", generator: new eg.Generator(27) }),
        ],
      );
      expect(r.ok, JSON.stringify(r)).toBe(true);
    });
  });

  it("Dropout scales kept entries by 1/(1-p) in training and is the identity in eval", () => {
    const d = new nn.Dropout(0.25, { generator: new eg.Generator(8) });
    const input = eg.ones([4000]);
    const y = d.forward(input);
    const kept = Array.from(y.data).filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
    expect(kept.length / 4000).toBeGreaterThan(0.72);
    expect(kept.length / 4000).toBeLessThan(0.78);
    d.eval();
    expect(d.forward(input)).toBe(input);
    expect(() => new nn.Dropout(1.5)).toThrow(eg.ArgumentError);
  });
});
