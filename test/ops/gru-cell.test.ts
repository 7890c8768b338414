/**
 * The fused GRU cell op and the GRU layer's fused recurrence: values against the cell written with
 * ops (the composite the op replaced, kept here as the reference), gradient checks (float64, ts),
 * equality with the composite's gradients on the active backend, second order through
 * createGraph, repeated and pruned backward passes, argument errors, and unbindSteps.
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { nn } from "../../src/index.js";
import { runBackward } from "../../src/autograd/engine.js";
import { onTs } from "../nn/helpers.js";

const gen = (seed: number): eg.Generator => new eg.Generator(seed);
const randn = (shape: number[], seed: number, dtype: "float32" | "float64" = "float64", std = 1): eg.Tensor =>
  eg.randn(shape, { generator: gen(seed), dtype, std });

/** PyTorch's GRU cell written with elementwise ops: the definition the fused op must match. */
function reference(xp: eg.Tensor, hp: eg.Tensor, h: eg.Tensor): eg.Tensor {
  const hidden = h.shape[1]!;
  const [xr, xz, xn] = eg.split(xp, hidden, 1) as [eg.Tensor, eg.Tensor, eg.Tensor];
  const [hr, hz, hn] = eg.split(hp, hidden, 1) as [eg.Tensor, eg.Tensor, eg.Tensor];
  const r = eg.sigmoid(eg.add(xr, hr));
  const z = eg.sigmoid(eg.add(xz, hz));
  const n = eg.tanh(eg.add(xn, eg.mul(r, hn)));
  return eg.add(eg.mul(eg.sub(1, z), n), eg.mul(z, h));
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

describe("gruCell forward", () => {
  it("equals the cell written with ops, with and without grad (float32 and float64)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const [b, h] of [...SHAPES, [5, 13] as [number, number], [33, 40] as [number, number]]) {
        const xp = randn([b, 3 * h], b * 100 + h, dtype, 2);
        const hp = randn([b, 3 * h], b * 100 + h + 1, dtype, 2);
        const h0 = randn([b, h], b * 100 + h + 2, dtype);
        const ref = eg.noGrad(() => reference(xp, hp, h0));
        const plain = eg.gruCell(xp, hp, h0);
        expect(maxDiff(plain, ref)).toBeLessThan(dtype === "float32" ? 2e-6 : 1e-14);
        expect(plain.dtype).toBe(dtype);
        expect(plain.requiresGrad).toBe(false);
        const x2 = new eg.Tensor(xp.data.slice(), xp.shape, dtype);
        x2.requiresGrad = true;
        const tracked = eg.gruCell(x2, hp, h0);
        expect(tracked.requiresGrad).toBe(true);
        expect(Array.from(tracked.data)).toEqual(Array.from(plain.data));
      }
    }
  });

  it("saturates without NaN for large pre-activations", () => {
    const xp = eg.tensor([[100, -100, 50, -50, -100, 100]]);
    const hp = eg.tensor([[-100, 100, -50, 50, 100, -100]]);
    const h = eg.tensor([[3, -3]]);
    const out = eg.gruCell(xp, hp, h);
    expect(maxDiff(out, reference(xp, hp, h))).toBeLessThan(1e-6);
    expect(Array.from(out.data).every(Number.isFinite)).toBe(true);
  });
});

describe("gruCell gradients", () => {
  it("gradcheck (float64, ts)", () => {
    onTs(() => {
      for (const [b, h] of SHAPES) {
        const xp = randn([b, 3 * h], 7 + b + h, "float64", 1.5);
        const hp = randn([b, 3 * h], 8 + b + h, "float64", 1.5);
        const h0 = randn([b, h], 9 + b + h);
        const r = eg.gradcheck((x, y, s) => eg.gruCell(x, y, s), [xp, hp, h0]);
        expect(r.ok, JSON.stringify(r)).toBe(true);
      }
    });
  });

  it("equals the gradients of the composite on the active backend; any subset of inputs may require grad", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const xp = randn([4, 18], 11, dtype, 2);
      const hp = randn([4, 18], 12, dtype, 2);
      const h = randn([4, 6], 13, dtype);
      const w = randn([4, 6], 14, dtype);
      const loss = (o: eg.Tensor): eg.Tensor => eg.sum(eg.mul(o, w));
      const ref = eg.grad((a, b, c) => loss(reference(a, b, c)))(xp, hp, h);
      const fused = eg.grad((a, b, c) => loss(eg.gruCell(a, b, c)))(xp, hp, h);
      const tol = dtype === "float32" ? 1e-5 : 1e-13;
      ref.forEach((r, i) => expect(maxDiff(fused[i]!, r), `input ${i}`).toBeLessThan(tol));
      for (let only = 0; only < 3; only++) {
        const ins = [xp, hp, h].map((t, i) => {
          const c = new eg.Tensor(t.data.slice(), t.shape, dtype);
          c.requiresGrad = i === only;
          return c;
        }) as [eg.Tensor, eg.Tensor, eg.Tensor];
        loss(eg.gruCell(...ins)).backward();
        expect(maxDiff(ins[only]!.grad!, ref[only]!), `only input ${only}`).toBeLessThan(tol);
      }
    }
  });

  it("second order through createGraph (float64, ts)", () => {
    onTs(() => {
      const w = randn([2, 3], 21);
      const first = (x: eg.Tensor, y: eg.Tensor, s: eg.Tensor): eg.Tensor[] =>
        eg.grad((a, b, c) => eg.sum(eg.mul(eg.square(eg.gruCell(a, b, c)), w)), { createGraph: true })(x, y, s);
      const xp = randn([2, 9], 23);
      const hp = randn([2, 9], 24);
      const h = randn([2, 3], 25);
      for (const k of [0, 1, 2]) {
        const r = eg.gradcheck((x, y, s) => first(x, y, s)[k]!, [xp, hp, h]);
        expect(r.ok, `input ${k}: ${JSON.stringify(r)}`).toBe(true);
      }
      const fused = eg.grad((a, b, c) => eg.sum(eg.mul(eg.square(eg.gruCell(a, b, c)), w)))(xp, hp, h);
      first(xp, hp, h).forEach((g, i) => expect(maxDiff(g, fused[i]!)).toBeLessThan(1e-14));
    });
  });
});

describe("gruCell arguments", () => {
  it("rejects bad shapes and dtypes with errors naming the op", () => {
    const x = eg.zeros([2, 6]);
    const h = eg.zeros([2, 2]);
    const cases: [() => unknown, typeof eg.EngramError][] = [
      [() => eg.gruCell(eg.zeros([2, 8]), x, h), eg.ShapeError],
      [() => eg.gruCell(x, eg.zeros([3, 6]), h), eg.ShapeError],
      [() => eg.gruCell(eg.zeros([6]), x, h), eg.ShapeError],
      [() => eg.gruCell(x, x, eg.zeros([2, 2, 1])), eg.ShapeError],
      [() => eg.gruCell(x, x, eg.zeros([2, 2], { dtype: "float64" })), eg.DTypeError],
      [() => eg.gruCell(x, eg.zeros([2, 6], { dtype: "float64" }), h), eg.DTypeError],
      [() => eg.gruCell(eg.zeros([2, 6], { dtype: "int32" }), x, h), eg.DTypeError],
      [() => eg.gruCell(x, x, [[0, 0]] as unknown as eg.Tensor), eg.ArgumentError],
    ];
    for (const [fn, type] of cases) {
      expect(fn).toThrow(type);
      expect(fn).toThrow(/^gruCell: /);
    }
  });

  it("handles an empty batch", () => {
    expect(eg.gruCell(eg.zeros([0, 6]), eg.zeros([0, 6]), eg.zeros([0, 2])).shape).toEqual([0, 2]);
  });
});

/** A single-layer GRU written step by step with the composite cell, on copies of `gru`'s parameters. */
function stepByStep(gru: nn.GRU, x: eg.Tensor, h0: eg.Tensor, sfx = "_l0"): { params: eg.Tensor[]; x: eg.Tensor; out: eg.Tensor } {
  const p = (k: string): eg.Tensor => {
    const t = gru.stateDict().get(k)!;
    const d = new eg.Tensor(t.data.slice(), t.shape, t.dtype);
    d.requiresGrad = true;
    return d;
  };
  const params = [p(`weightIh${sfx}`), p(`weightHh${sfx}`), p(`biasIh${sfx}`), p(`biasHh${sfx}`)];
  const [wIh, wHh, bIh, bHh] = params as [eg.Tensor, eg.Tensor, eg.Tensor, eg.Tensor];
  const xr = new eg.Tensor(x.data.slice(), x.shape, x.dtype);
  xr.requiresGrad = true;
  const [T, B] = x.shape as [number, number];
  let h = eg.reshape(h0, [B, gru.hiddenSize]);
  const outs: eg.Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const xt = eg.reshape(eg.narrow(xr, 0, t, 1), [B, gru.inputSize]);
    h = reference(eg.add(eg.matmul(xt, wIh, { transB: true }), bIh), eg.add(eg.matmul(h, wHh, { transB: true }), bHh), h);
    outs.push(h);
  }
  return { params, x: xr, out: eg.stack(outs, 0) };
}

describe("GRU layer on the fused recurrence", () => {
  it("gradients of every parameter, the input and h0 equal the step-by-step composite (float64)", () => {
    const gru = new nn.GRU(3, 4, { dtype: "float64", generator: gen(41) });
    const x = randn([5, 2, 3], 42);
    x.requiresGrad = true;
    const h0 = randn([1, 2, 4], 43);
    h0.requiresGrad = true;
    const w = randn([5, 2, 4], 45);
    const { output, hN } = gru.forward(x, { h0 });
    eg.add(eg.sum(eg.mul(output, w)), eg.sum(eg.square(hN))).backward();

    const h0r = new eg.Tensor(h0.data.slice(), h0.shape, h0.dtype);
    h0r.requiresGrad = true;
    const ref = stepByStep(gru, x, h0r);
    const last = eg.narrow(ref.out, 0, 4, 1);
    eg.add(eg.sum(eg.mul(ref.out, w)), eg.sum(eg.square(last))).backward();
    expect(maxDiff(output, ref.out)).toBeLessThan(1e-13);
    expect(maxDiff(x.grad!, ref.x.grad!)).toBeLessThan(1e-12);
    expect(maxDiff(h0.grad!, h0r.grad!)).toBeLessThan(1e-12);
    const params = new Map(gru.namedParameters());
    ["weightIh_l0", "weightHh_l0", "biasIh_l0", "biasHh_l0"].forEach((k, i) => {
      expect(maxDiff(params.get(k)!.grad!, ref.params[i]!.grad!), k).toBeLessThan(1e-12);
    });
  });

  it("without biases, and with only h0 requiring grad", () => {
    const gru = new nn.GRU(2, 3, { dtype: "float64", bias: false, generator: gen(46) });
    for (const p of gru.parameters()) p.requiresGrad = false;
    const x = randn([4, 2, 2], 47);
    const h0 = randn([1, 2, 3], 48);
    h0.requiresGrad = true;
    eg.sum(eg.square(gru.forward(x, { h0 }).output)).backward();
    const numeric = onTs(() => eg.gradcheck((h) => gru.forward(x, { h0: h }).output, [h0]));
    expect(numeric.ok, JSON.stringify(numeric)).toBe(true);
    expect(h0.grad).not.toBeNull();
  });

  it("gradcheck through a bidirectional GRU with lengths, and second order of W_hh via createGraph (float64, ts)", () => {
    onTs(() => {
      const gru = new nn.GRU(2, 2, { dtype: "float64", bidirectional: true, generator: gen(61) });
      const fields = gru as unknown as Record<string, eg.Tensor>;
      const x = randn([3, 2, 2], 62);
      const keys = ["weightIh_l0", "weightHh_l0", "biasHh_l0", "weightHh_l0_reverse"];
      const orig = keys.map((k) => fields[k]!);
      const r1 = eg.gradcheck((...ps) => {
        keys.forEach((k, i) => (fields[k] = ps[i]!));
        return gru.forward(x, { lengths: [3, 2] }).output;
      }, orig);
      keys.forEach((k, i) => (fields[k] = orig[i]!));
      expect(r1.ok, JSON.stringify(r1)).toBe(true);
      const dLoss = (w: eg.Tensor): eg.Tensor =>
        eg.grad(
          (ww) => {
            fields["weightHh_l0"] = ww;
            return eg.sum(eg.square(gru.forward(x).output));
          },
          { createGraph: true },
        )(w)[0]!;
      const r2 = eg.gradcheck(dLoss, [orig[1]!]);
      fields["weightHh_l0"] = orig[1]!;
      expect(r2.ok, JSON.stringify(r2)).toBe(true);
    });
  });

  it("a backward pruned by grad() inputs does not disturb the next one", () => {
    const gru = new nn.GRU(2, 3, { generator: gen(51) });
    const x = randn([4, 2, 2], 52, "float32");
    const h0 = randn([1, 2, 3], 53, "float32");
    h0.requiresGrad = true;
    const loss = eg.sum(eg.square(gru.forward(x, { h0 }).output));
    loss.backward(undefined, { retainGraph: true });
    const expected = new Map([...gru.namedParameters()].map(([k, t]) => [k, t.grad!.data.slice()]));
    gru.zeroGrad();
    runBackward(loss, null, { retainGraph: true }, [h0]);
    loss.backward(undefined, { retainGraph: true });
    for (const [k, t] of gru.namedParameters()) expect(Array.from(t.grad!.data), k).toEqual(Array.from(expected.get(k)!));
  });
});

describe("unbindSteps", () => {
  it("views every slice without copying and sums the slices' gradients exactly, skipped steps included", () => {
    const x = randn([4, 2, 3], 71);
    x.requiresGrad = true;
    const steps = eg.unbindSteps(x);
    expect(steps.map((s) => s.shape)).toEqual([
      [2, 3],
      [2, 3],
      [2, 3],
      [2, 3],
    ]);
    expect(steps[2]!.data.buffer).toBe(x.data.buffer);
    const w = randn([2, 3], 72);
    // step 1 unused: its gradient rows stay zero
    eg.add(eg.add(eg.sum(eg.mul(steps[0]!, w)), eg.sum(eg.square(steps[2]!))), eg.sum(steps[3]!)).backward();
    const ref = new eg.Tensor(x.data.slice(), x.shape, x.dtype);
    ref.requiresGrad = true;
    const parts = eg.split(ref, 1, 0).map((p) => eg.reshape(p, [2, 3]));
    eg.add(eg.add(eg.sum(eg.mul(parts[0]!, w)), eg.sum(eg.square(parts[2]!))), eg.sum(parts[3]!)).backward();
    expect(maxDiff(x.grad!, ref.grad!)).toBe(0);
    expect(() => eg.unbindSteps(eg.tensor(1))).toThrow(/^unbindSteps: /);
  });
});
