/**
 * The fused Bahdanau GRU decoder loop (additiveGruDecoder): values and every gradient against the
 * same loop written with ops (additiveGruDecoderComposite), finite differences (float64, ts), the
 * native kernels against the ts ones, second order through createGraph, a repeated backward, and
 * argument errors.
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { runBackward } from "../../src/autograd/engine.js";
import { additiveGruDecoder, additiveGruDecoderComposite, type AdditiveGruDecoderWeights } from "../../src/ops/additive-decoder.js";
import { onTs } from "../nn/helpers.js";

type DType = "float32" | "float64";

interface Problem {
  x: eg.Tensor;
  h0: eg.Tensor;
  values: eg.Tensor;
  keys: eg.Tensor;
  mask: eg.Tensor | null;
  w: AdditiveGruDecoderWeights;
}

interface Sizes {
  T: number;
  B: number;
  E: number;
  H: number;
  S: number;
  A: number;
  Ha: number;
}

/** Random inputs; with `masked`, row 0 does not attend to its last position (S > 1) and row B-1 (B > 2) to none. */
function problem(z: Sizes, seed: number, dtype: DType, opts: { masked?: boolean; biases?: boolean } = {}): Problem {
  let k = seed;
  const r = (shape: number[], std = 0.7): eg.Tensor => {
    const t = eg.randn(shape, { generator: new eg.Generator(k++), dtype, std });
    t.requiresGrad = true;
    return t;
  };
  let mask: eg.Tensor | null = null;
  if (opts.masked) {
    const m = new Uint8Array(z.B * z.S).fill(1);
    m.fill(0, Math.max(1, z.S - 1), z.S);
    if (z.B > 2) m.fill(0, (z.B - 1) * z.S, z.B * z.S);
    mask = new eg.Tensor(m, [z.B, z.S], "bool");
  }
  const G = 3 * z.H;
  const biases = opts.biases ?? true;
  return {
    x: r([z.T, z.B, z.E]),
    h0: r([z.B, z.H]),
    values: r([z.B, z.S, z.A]),
    keys: r([z.B, z.S, z.Ha]),
    mask,
    w: {
      queryWeight: r([z.Ha, z.H]),
      scoreVector: r([z.Ha]),
      weightIh: r([G, z.E + z.A]),
      biasIh: biases ? r([G]) : null,
      weightHh: r([G, z.H]),
      biasHh: biases ? r([G]) : null,
    },
  };
}

function leaves(p: Problem): eg.Tensor[] {
  const { w } = p;
  return [
    p.x,
    p.h0,
    p.values,
    p.keys,
    w.queryWeight,
    w.scoreVector,
    w.weightIh,
    w.weightHh,
    ...[w.biasIh, w.biasHh].filter((t) => t !== null),
  ];
}

type Fn = typeof additiveGruDecoder;

/** Output and the gradients of sum(out * seedWeights) with respect to every leaf. */
function run(fn: Fn, p: Problem): { out: eg.Tensor; grads: eg.Tensor[] } {
  const out = fn(p.x, p.h0, p.values, p.keys, p.mask, p.w);
  const seed = eg.randn(out.shape, { generator: new eg.Generator(99), dtype: out.dtype as DType });
  const grads = runBackward(out, seed, {}, leaves(p))!.map((g, i) => g ?? eg.zerosLike(leaves(p)[i]!));
  return { out, grads };
}

function maxDiff(a: eg.Tensor, b: eg.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

const SIZES: Sizes[] = [
  { T: 3, B: 2, E: 3, H: 4, S: 5, A: 6, Ha: 3 },
  { T: 1, B: 1, E: 1, H: 1, S: 1, A: 1, Ha: 1 },
  { T: 4, B: 3, E: 2, H: 5, S: 2, A: 3, Ha: 7 },
];

describe("additiveGruDecoder", () => {
  it("equals the loop written with ops, values and every gradient (float64 and float32; masks; without biases)", () => {
    let seed = 1;
    for (const dtype of ["float64", "float32"] as const) {
      const tol = dtype === "float64" ? 1e-12 : 2e-5;
      for (const z of SIZES) {
        for (const opts of [{}, { masked: true }, { biases: false }]) {
          const p = problem(z, (seed += 20), dtype, opts);
          const fused = run(additiveGruDecoder, p);
          const ref = run(additiveGruDecoderComposite, p);
          expect(fused.out.shape).toEqual([z.T, z.B, z.H + z.A]);
          expect(maxDiff(fused.out, ref.out)).toBeLessThan(tol);
          fused.grads.forEach((g, i) => expect(maxDiff(g, ref.grads[i]!), `gradient ${i}`).toBeLessThan(tol * 10));
        }
      }
    }
  });

  it("gives a row with no attended position a zero context and no NaN", () => {
    const z = SIZES[2]!;
    const p = problem(z, 5, "float64", { masked: true });
    const { out, grads } = run(additiveGruDecoder, p);
    for (let t = 0; t < z.T; t++) {
      const base = (t * z.B + (z.B - 1)) * (z.H + z.A) + z.H;
      for (let j = 0; j < z.A; j++) expect(out.data[base + j]).toBe(0);
    }
    for (const g of grads) expect(Array.from(g.data).every(Number.isFinite)).toBe(true);
  });

  it("gradcheck by finite differences (float64, ts)", () => {
    onTs(() => {
      const p = problem({ T: 3, B: 3, E: 2, H: 3, S: 3, A: 2, Ha: 2 }, 300, "float64", { masked: true });
      const m = p.mask;
      const r = eg.gradcheck(
        (x, h0, values, keys, wq, v, wih, whh, bih, bhh) =>
          additiveGruDecoder(x, h0, values, keys, m, {
            queryWeight: wq,
            scoreVector: v,
            weightIh: wih,
            weightHh: whh,
            biasIh: bih,
            biasHh: bhh,
          }),
        leaves(p),
      );
      expect(r.ok, JSON.stringify(r)).toBe(true);
    });
  });

  it("the native kernels agree with the ts ones (float32, random shapes)", () => {
    if (eg.getBackend() !== "native") return;
    for (const [i, z] of [...SIZES, { T: 6, B: 5, E: 7, H: 9, S: 11, A: 8, Ha: 10 }].entries()) {
      const p = problem(z, 500 + 20 * i, "float32", { masked: true });
      const native = run(additiveGruDecoder, p);
      const ts = onTs(() => run(additiveGruDecoder, p));
      expect(maxDiff(native.out, ts.out)).toBeLessThan(1e-5);
      native.grads.forEach((g, k) => expect(maxDiff(g, ts.grads[k]!), `gradient ${k}`).toBeLessThan(1e-4));
    }
  });

  it("second order through createGraph equals the composite's (float64)", () => {
    const p = problem(SIZES[0]!, 700, "float64", { masked: true });
    const secondOrder = (fn: Fn): eg.Tensor[] => {
      const out = fn(p.x, p.h0, p.values, p.keys, p.mask, p.w);
      const [gh0, gwhh] = runBackward(eg.sum(eg.square(out)), null, { createGraph: true }, [p.h0, p.w.weightHh])!;
      return runBackward(eg.add(eg.sum(eg.square(gh0!)), eg.sum(gwhh!)), null, {}, [p.w.queryWeight, p.keys, p.h0])!.map((g) => g!);
    };
    const fused = secondOrder(additiveGruDecoder);
    const ref = secondOrder(additiveGruDecoderComposite);
    fused.forEach((g, i) => expect(maxDiff(g, ref[i]!)).toBeLessThan(1e-10));
  });

  it("a retained graph backpropagates twice to the same gradients", () => {
    const p = problem(SIZES[2]!, 800, "float64");
    const out = additiveGruDecoder(p.x, p.h0, p.values, p.keys, null, p.w);
    const loss = eg.sum(eg.square(out));
    const first = runBackward(loss, null, { retainGraph: true }, leaves(p))!;
    const second = runBackward(loss, null, {}, leaves(p))!;
    first.forEach((g, i) => expect(maxDiff(g!, second[i]!)).toBe(0));
  });

  it("rejects bad shapes and dtypes with errors naming the op", () => {
    const p = problem(SIZES[0]!, 900, "float64");
    const call = (q: Partial<Omit<Problem, "w">> & { w?: Partial<AdditiveGruDecoderWeights> }): eg.Tensor =>
      additiveGruDecoder(q.x ?? p.x, q.h0 ?? p.h0, q.values ?? p.values, q.keys ?? p.keys, q.mask ?? null, { ...p.w, ...q.w });
    expect(() => call({ x: eg.zeros([3, 2]) })).toThrow(/^additiveGruDecoder: input must be 3-D/);
    expect(() => call({ h0: eg.zeros([3, 4], { dtype: "float64" }) })).toThrow(eg.ShapeError);
    expect(() => call({ keys: eg.zeros([2, 4, 3], { dtype: "float64" }) })).toThrow(/^additiveGruDecoder: keys \[2, 4, 3\]/);
    expect(() => call({ w: { weightIh: eg.zeros([12, 3], { dtype: "float64" }) } })).toThrow(/^additiveGruDecoder: input weight/);
    expect(() => call({ w: { scoreVector: eg.zeros([3]) } })).toThrow(eg.DTypeError);
    expect(() => call({ mask: eg.ones([2, 5]) })).toThrow(/^additiveGruDecoder: mask must be bool/);
    expect(() => call({ mask: new eg.Tensor(new Uint8Array(4), [2, 2], "bool") })).toThrow(/^additiveGruDecoder: mask \[2, 2\]/);
  });
});
