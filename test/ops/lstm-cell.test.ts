/**
 * The fused LSTM cell op: values against the cell written with ops, gradient checks (float64, ts)
 * with either output unused, second order through createGraph, repeated and pruned backward
 * passes (the shared gradient buffers of its output views), and argument errors. The LSTM layer's
 * folded input projection is checked the same way through nn.LSTM.
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { nn } from "../../src/index.js";
import { runBackward } from "../../src/autograd/engine.js";
import { onTs } from "../nn/helpers.js";

const gen = (seed: number): eg.Generator => new eg.Generator(seed);
const randn = (shape: number[], seed: number, dtype: "float32" | "float64" = "float64", std = 1): eg.Tensor =>
  eg.randn(shape, { generator: gen(seed), dtype, std });

/** The LSTM cell written with elementwise ops (the definition the fused op must match). */
function reference(gates: eg.Tensor, c: eg.Tensor): { h: eg.Tensor; c: eg.Tensor } {
  const [i, f, g, o] = eg.split(gates, c.shape[1]!, 1) as [eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor];
  const cNext = eg.add(eg.mul(eg.sigmoid(f), c), eg.mul(eg.sigmoid(i), eg.tanh(g)));
  return { h: eg.mul(eg.sigmoid(o), eg.tanh(cNext)), c: cNext };
}

function maxDiff(a: eg.Tensor, b: eg.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

const SHAPES: [number, number][] = [
  [1, 1],
  [2, 3],
  [3, 1],
  [1, 5],
];

describe("lstmCell forward", () => {
  it("equals the cell written with ops, with and without grad (float32 and float64)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const [b, h] of [...SHAPES, [5, 13] as [number, number], [33, 40] as [number, number]]) {
        const gates = randn([b, 4 * h], b * 100 + h, dtype, 2);
        const c = randn([b, h], b * 100 + h + 1, dtype);
        const ref = eg.noGrad(() => reference(gates, c));
        const tol = dtype === "float32" ? 2e-6 : 1e-14;
        const plain = eg.lstmCell(gates, c);
        expect(maxDiff(plain.h, ref.h)).toBeLessThan(tol);
        expect(maxDiff(plain.c, ref.c)).toBeLessThan(tol);
        expect(plain.h.dtype).toBe(dtype);
        expect(plain.h.requiresGrad).toBe(false);
        const g2 = new eg.Tensor(gates.data.slice(), gates.shape, dtype);
        g2.requiresGrad = true;
        const tracked = eg.lstmCell(g2, c);
        expect(tracked.h.requiresGrad && tracked.c.requiresGrad).toBe(true);
        expect(Array.from(tracked.h.data)).toEqual(Array.from(plain.h.data));
        expect(Array.from(tracked.c.data)).toEqual(Array.from(plain.c.data));
      }
    }
  });

  it("saturates without NaN for large pre-activations", () => {
    const gates = eg.tensor([[100, -100, 50, -50, -100, 100, -50, 50]]);
    const c = eg.tensor([[3, -3]]);
    const { h, c: cNext } = eg.lstmCell(gates, c);
    const ref = reference(gates, c);
    expect(maxDiff(h, ref.h)).toBeLessThan(1e-6);
    expect(maxDiff(cNext, ref.c)).toBeLessThan(1e-6);
    expect([...h.data, ...cNext.data].every(Number.isFinite)).toBe(true);
  });
});

describe("lstmCell gradients", () => {
  it("gradcheck (float64, ts) of h and c together and of each alone", () => {
    onTs(() => {
      for (const [b, h] of SHAPES) {
        const gates = randn([b, 4 * h], 7 + b + h, "float64", 1.5);
        const c = randn([b, h], 8 + b + h);
        const outputs: ((s: eg.LstmCellResult) => eg.Tensor)[] = [(s) => eg.concat([s.h, s.c], 1), (s) => s.h, (s) => s.c];
        for (const pick of outputs) {
          const r = eg.gradcheck((g, cc) => pick(eg.lstmCell(g, cc)), [gates, c]);
          expect(r.ok, JSON.stringify(r)).toBe(true);
        }
      }
    });
  });

  it("equals the gradients of the composite on the active backend; only gates or only c may require grad", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const gates = randn([4, 24], 11, dtype, 2);
      const c = randn([4, 6], 12, dtype);
      const wh = randn([4, 6], 13, dtype);
      const wc = randn([4, 6], 14, dtype);
      const loss = (s: { h: eg.Tensor; c: eg.Tensor }): eg.Tensor => eg.add(eg.sum(eg.mul(s.h, wh)), eg.sum(eg.mul(s.c, wc)));
      const [rg, rc] = eg.grad((g, cc) => loss(reference(g, cc)))(gates, c);
      const [fg, fc] = eg.grad((g, cc) => loss(eg.lstmCell(g, cc)))(gates, c);
      const tol = dtype === "float32" ? 1e-5 : 1e-13;
      expect(maxDiff(fg!, rg!)).toBeLessThan(tol);
      expect(maxDiff(fc!, rc!)).toBeLessThan(tol);

      const gOnly = new eg.Tensor(gates.data.slice(), gates.shape, dtype);
      gOnly.requiresGrad = true;
      loss(eg.lstmCell(gOnly, c)).backward();
      expect(maxDiff(gOnly.grad!, rg!)).toBeLessThan(tol);
      const cOnly = new eg.Tensor(c.data.slice(), c.shape, dtype);
      cOnly.requiresGrad = true;
      loss(eg.lstmCell(gates, cOnly)).backward();
      expect(maxDiff(cOnly.grad!, rc!)).toBeLessThan(tol);
    }
  });

  it("second order through createGraph (float64, ts)", () => {
    onTs(() => {
      const wh = randn([2, 3], 21);
      const wc = randn([2, 3], 22);
      const first = (g: eg.Tensor, c: eg.Tensor): eg.Tensor[] =>
        eg.grad(
          (gg, cc) => {
            const s = eg.lstmCell(gg, cc);
            return eg.add(eg.sum(eg.mul(s.h, wh)), eg.sum(eg.mul(eg.square(s.c), wc)));
          },
          { createGraph: true },
        )(g, c);
      const gates = randn([2, 12], 23);
      const c = randn([2, 3], 24);
      for (const k of [0, 1]) {
        const r = eg.gradcheck((g, cc) => first(g, cc)[k]!, [gates, c]);
        expect(r.ok, `input ${k}: ${JSON.stringify(r)}`).toBe(true);
      }
      // and the first-order values of the recorded backward equal the fused kernel's
      const fused = eg.grad((gg, cc) => {
        const s = eg.lstmCell(gg, cc);
        return eg.add(eg.sum(eg.mul(s.h, wh)), eg.sum(eg.mul(eg.square(s.c), wc)));
      })(gates, c);
      const recorded = first(gates, c);
      expect(maxDiff(recorded[0]!, fused[0]!)).toBeLessThan(1e-14);
      expect(maxDiff(recorded[1]!, fused[1]!)).toBeLessThan(1e-14);
    });
  });

  it("repeated backward passes (retainGraph) accumulate exactly, whichever outputs they reach", () => {
    const gates = randn([3, 8], 31, "float32");
    gates.requiresGrad = true;
    const c = randn([3, 2], 32, "float32");
    const s = eg.lstmCell(gates, c);
    const lh = eg.sum(eg.square(s.h));
    const lc = eg.sum(eg.mul(s.c, 3));
    lh.backward(undefined, { retainGraph: true });
    const fromH = gates.grad!.data.slice();
    gates.grad = null;
    lc.backward(undefined, { retainGraph: true });
    const fromC = gates.grad!.data.slice();
    gates.grad = null;
    eg.add(lh, lc).backward(undefined, { retainGraph: true });
    const both = gates.grad!.data;
    for (let i = 0; i < both.length; i++) expect(both[i]).toBeCloseTo(fromH[i]! + fromC[i]!, 5);
    // a pass pruned by grad()'s inputs leaves nothing behind for the next one
    const cg = new eg.Tensor(c.data.slice(), c.shape, c.dtype);
    cg.requiresGrad = true;
    const s2 = eg.lstmCell(gates, cg);
    const l2 = eg.add(eg.sum(eg.square(s2.h)), eg.sum(eg.mul(s2.c, 3)));
    gates.grad = null;
    l2.backward(undefined, { retainGraph: true });
    const once = gates.grad!.data.slice();
    gates.grad = null;
    l2.backward(undefined, { retainGraph: true });
    expect(Array.from(gates.grad!.data)).toEqual(Array.from(once));
  });
});

describe("lstmCell arguments", () => {
  it("rejects bad shapes and dtypes with errors naming the op", () => {
    const g = eg.zeros([2, 8]);
    const c = eg.zeros([2, 2]);
    const cases: [() => unknown, typeof eg.EngramError][] = [
      [() => eg.lstmCell(eg.zeros([2, 6]), c), eg.ShapeError],
      [() => eg.lstmCell(eg.zeros([3, 8]), c), eg.ShapeError],
      [() => eg.lstmCell(eg.zeros([8]), c), eg.ShapeError],
      [() => eg.lstmCell(g, eg.zeros([2, 2, 1])), eg.ShapeError],
      [() => eg.lstmCell(g, eg.zeros([2, 2], { dtype: "float64" })), eg.DTypeError],
      [() => eg.lstmCell(eg.zeros([2, 8], { dtype: "int32" }), c), eg.DTypeError],
      [() => eg.lstmCell(g, [[0, 0]] as unknown as eg.Tensor), eg.ArgumentError],
    ];
    for (const [fn, type] of cases) {
      expect(fn).toThrow(type);
      expect(fn).toThrow(/^lstmCell: /);
    }
  });

  it("handles an empty batch", () => {
    const s = eg.lstmCell(eg.zeros([0, 8]), eg.zeros([0, 2]));
    expect(s.h.shape).toEqual([0, 2]);
    expect(s.c.shape).toEqual([0, 2]);
  });
});

describe("LSTM layer on the fused cell", () => {
  it("gradients of every parameter equal the step-by-step cell written with ops (float64)", () => {
    const lstm = new nn.LSTM(3, 4, { dtype: "float64", generator: gen(41) });
    const x = randn([5, 2, 3], 42);
    x.requiresGrad = true;
    const h0 = randn([1, 2, 4], 43);
    const c0 = randn([1, 2, 4], 44);
    const w = randn([5, 2, 4], 45);
    const { output, cN } = lstm.forward(x, { h0, c0 });
    eg.add(eg.sum(eg.mul(output, w)), eg.sum(cN)).backward();

    const p = (k: string): eg.Tensor => {
      const t = lstm.stateDict().get(k)!;
      const d = new eg.Tensor(t.data.slice(), t.shape, t.dtype);
      d.requiresGrad = true;
      return d;
    };
    const [wIh, wHh, bIh, bHh] = [p("weightIh_l0"), p("weightHh_l0"), p("biasIh_l0"), p("biasHh_l0")];
    const xr = new eg.Tensor(x.data.slice(), x.shape, x.dtype);
    xr.requiresGrad = true;
    let h = eg.reshape(h0, [2, 4]);
    let c = eg.reshape(c0, [2, 4]);
    const outs: eg.Tensor[] = [];
    for (let t = 0; t < 5; t++) {
      const xt = eg.reshape(eg.narrow(xr, 0, t, 1), [2, 3]);
      const gates = eg.add(eg.add(eg.matmul(xt, wIh, { transB: true }), bIh), eg.add(eg.matmul(h, wHh, { transB: true }), bHh));
      ({ h, c } = reference(gates, c));
      outs.push(h);
    }
    eg.add(eg.sum(eg.mul(eg.stack(outs, 0), w)), eg.sum(c)).backward();
    expect(maxDiff(x.grad!, xr.grad!)).toBeLessThan(1e-12);
    const params = new Map(lstm.namedParameters());
    for (const [k, ref] of [
      ["weightIh_l0", wIh],
      ["weightHh_l0", wHh],
      ["biasIh_l0", bIh],
      ["biasHh_l0", bHh],
    ] as const) {
      expect(maxDiff(params.get(k)!.grad!, ref.grad!), k).toBeLessThan(1e-12);
    }
  });

  it("second order through the layer: gradcheck of a createGraph gradient of W_hh (float64, ts)", () => {
    onTs(() => {
      const lstm = new nn.LSTM(2, 2, { dtype: "float64", generator: gen(61) });
      const fields = lstm as unknown as Record<string, eg.Tensor>;
      const x = randn([3, 2, 2], 62);
      const wHh = fields["weightHh_l0"]!;
      const dLoss = (w: eg.Tensor): eg.Tensor =>
        eg.grad(
          (ww) => {
            fields["weightHh_l0"] = ww;
            return eg.sum(eg.square(lstm.forward(x).output));
          },
          { createGraph: true },
        )(w)[0]!;
      const r = eg.gradcheck(dLoss, [wHh]);
      fields["weightHh_l0"] = wHh;
      expect(r.ok, JSON.stringify(r)).toBe(true);
    });
  });

  it("a backward pruned by grad() inputs does not disturb the next one", () => {
    const lstm = new nn.LSTM(2, 3, { generator: gen(51) });
    const x = randn([4, 2, 2], 52, "float32");
    const c0 = randn([1, 2, 3], 53, "float32");
    c0.requiresGrad = true;
    const { output } = lstm.forward(x, { c0 });
    const loss = eg.sum(eg.square(output));
    loss.backward(undefined, { retainGraph: true });
    const expected = new Map([...lstm.namedParameters()].map(([k, t]) => [k, t.grad!.data.slice()]));
    lstm.zeroGrad();
    c0.grad = null;
    // only c0 wanted: the parameters' part of the graph is skipped
    runBackward(loss, null, { retainGraph: true }, [c0]);
    loss.backward(undefined, { retainGraph: true });
    for (const [k, t] of lstm.namedParameters()) expect(Array.from(t.grad!.data), k).toEqual(Array.from(expected.get(k)!));
  });
});
