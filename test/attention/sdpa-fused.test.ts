/**
 * The fused attention op (src/ops/attention.ts) behind scaledDotProductAttention: against the
 * composite path (returnWeights: true) forward and backward, gradient checks, native == ts, the
 * in-kernel dropout, and the memory it keeps (no (Lq, Lk) tensor).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { scaledDotProductAttention as sdpa, type SdpaOptions } from "../../src/attention/sdpa.js";
import { attentionDropoutFactors, fusedAttention } from "../../src/ops/attention.js";
import { maxAbsDiff, onTs } from "../nn/helpers.js";

const NATIVE = eg.backendInfo().nativeAvailable;

const randn = (shape: readonly number[], seed: number, dtype: "float32" | "float64" = "float32"): eg.Tensor =>
  eg.randn([...shape], { dtype, generator: new eg.Generator(seed) });

/** A bool tensor from a predicate over flat indices (seeded pattern, never all true). */
function boolMask(shape: number[], keep: (i: number) => boolean): eg.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return eg
    .tensor(
      Array.from({ length: size }, (_, i) => keep(i)),
      { dtype: "bool" },
    )
    .reshape(shape);
}

interface Case {
  name: string;
  q: number[];
  k: number[];
  v: number[];
  opts: Omit<SdpaOptions, "mask"> & { mask?: number[] };
}

const CASES: Case[] = [
  { name: "plain (B, H) batch, Lq != Lk", q: [2, 3, 7, 5], k: [2, 3, 11, 5], v: [2, 3, 11, 4], opts: {} },
  { name: "no batch axes, size-1 dims", q: [1, 1], k: [1, 1], v: [1, 3], opts: {} },
  { name: "broadcast k/v over heads", q: [2, 4, 6, 8], k: [2, 1, 9, 8], v: [1, 1, 9, 3], opts: { scale: 0.3 } },
  { name: "GQA layout (B, Hkv, G, L, D)", q: [2, 2, 3, 5, 4], k: [2, 2, 1, 6, 4], v: [2, 2, 1, 6, 4], opts: { isCausal: true } },
  { name: "causal start, Lq > Lk (rows with no key)", q: [2, 9, 3], k: [2, 4, 3], v: [2, 4, 2], opts: { isCausal: true } },
  { name: "causal end, Lq < Lk", q: [3, 4, 6], k: [3, 10, 6], v: [3, 10, 5], opts: { isCausal: true, causalAlignment: "end" } },
  {
    name: "causal end, Lq > Lk (first rows see nothing)",
    q: [10, 3],
    k: [4, 3],
    v: [4, 3],
    opts: { isCausal: true, causalAlignment: "end" },
  },
  { name: "explicit (Lk) key mask", q: [2, 5, 4], k: [2, 8, 4], v: [2, 8, 4], opts: { mask: [8] } },
  { name: "explicit per-head mask widens the batch", q: [2, 1, 5, 4], k: [2, 1, 7, 4], v: [2, 1, 7, 2], opts: { mask: [2, 3, 5, 7] } },
  { name: "explicit (Lq, 1) mask AND causal", q: [6, 4], k: [6, 4], v: [6, 4], opts: { mask: [6, 1], isCausal: true } },
];

function maskFor(shape: number[], seed: number): eg.Tensor {
  // about one in three entries masked, and the first row of a (Lq, Lk) mask fully masked
  const last = shape[shape.length - 1]!;
  return boolMask(shape, (i) => (shape.length >= 2 && i < last ? false : (i * 7 + seed) % 3 !== 0));
}

function runCase(c: Case, dtype: "float32" | "float64", seed: number): { fused: eg.Tensor[]; composite: eg.Tensor[] } {
  const q = randn(c.q, seed, dtype);
  const k = randn(c.k, seed + 1, dtype);
  const v = randn(c.v, seed + 2, dtype);
  const { mask: maskShape, ...rest } = c.opts;
  const opts: SdpaOptions = maskShape ? { ...rest, mask: maskFor(maskShape, seed) } : rest;
  const both = (returnWeights: boolean): eg.Tensor[] => {
    const [gq, gk, gv] = [q, k, v].map((t) => new eg.Tensor(t.data.slice(), t.shape, t.dtype));
    for (const t of [gq!, gk!, gv!]) t.requiresGrad = true;
    const out = sdpa(gq!, gk!, gv!, { ...opts, returnWeights }).output;
    const w = randn(out.shape, seed + 3, dtype);
    eg.sum(eg.mul(out, w)).backward();
    return [out, gq!.grad!, gk!.grad!, gv!.grad!];
  };
  return { fused: both(false), composite: both(true) };
}

describe("fused scaled-dot-product attention", () => {
  for (const c of CASES) {
    it(`matches the composite forward and gradients: ${c.name}`, () => {
      for (const dtype of ["float32", "float64"] as const) {
        const { fused, composite } = runCase(c, dtype, 11);
        const tol = dtype === "float32" ? 2e-5 : 1e-12;
        fused.forEach((t, i) => {
          expect(t.shape).toEqual(composite[i]!.shape);
          expect(Array.from(t.data).every(Number.isFinite)).toBe(true);
          expect(maxAbsDiff(t, composite[i]!)).toBeLessThan(tol);
        });
      }
    });
  }

  it("a fully masked row gives zeros and zero gradients, never NaN", () => {
    const q = randn([2, 3, 4], 1);
    const k = randn([2, 5, 4], 2);
    const v = randn([2, 5, 4], 3);
    for (const t of [q, k, v]) t.requiresGrad = true;
    const mask = boolMask([3, 5], (i) => i >= 5); // row 0 sees nothing
    const out = sdpa(q, k, v, { mask }).output;
    eg.sum(out).backward();
    for (let b = 0; b < 2; b++) {
      expect(Array.from(out.data.subarray(b * 12, b * 12 + 4))).toEqual([0, 0, 0, 0]);
      expect(Array.from(q.grad!.data.subarray(b * 12, b * 12 + 4))).toEqual([0, 0, 0, 0]);
    }
    for (const t of [out, q.grad!, k.grad!, v.grad!]) expect(Array.from(t.data).every(Number.isFinite)).toBe(true);
    // no key at all (Lk = 0): zeros
    const empty = sdpa(randn([2, 3, 4], 4), eg.zeros([2, 0, 4]), eg.zeros([2, 0, 6])).output;
    expect(empty.shape).toEqual([2, 3, 6]);
    expect(Array.from(empty.data).every((x) => x === 0)).toBe(true);
  });

  it("gradcheck (float64, ts): masks, causal end, broadcast GQA heads, dropout with a fixed seed", () => {
    onTs(() => {
      const q = randn([2, 2, 3, 4], 5, "float64");
      const k = randn([2, 1, 5, 4], 6, "float64");
      const v = randn([1, 1, 5, 3], 7, "float64");
      const mask = maskFor([3, 5], 1);
      for (const opts of [
        { mask },
        { isCausal: true, causalAlignment: "end" } as const,
        { dropout: 0.3, isCausal: true, causalAlignment: "end" } as const,
      ]) {
        const fn = (a: eg.Tensor, b: eg.Tensor, c: eg.Tensor): eg.Tensor =>
          sdpa(a, b, c, { ...opts, generator: new eg.Generator(42) }).output;
        const r = eg.gradcheck(fn, [q, k, v], { atol: 1e-7, rtol: 1e-5 });
        expect(r.ok, JSON.stringify(r)).toBe(true);
      }
    });
  });

  it("second-order gradients (createGraph) agree with the composite", () => {
    onTs(() => {
      const [q, k, v] = [randn([2, 3, 4], 1, "float64"), randn([2, 5, 4], 2, "float64"), randn([2, 5, 3], 3, "float64")];
      const grads = (returnWeights: boolean): eg.Tensor[] => {
        const f = (a: eg.Tensor, b: eg.Tensor, c: eg.Tensor): eg.Tensor =>
          eg.sum(eg.square(sdpa(a, b, c, { isCausal: true, causalAlignment: "end", returnWeights }).output));
        const gq = (a: eg.Tensor, b: eg.Tensor, c: eg.Tensor): eg.Tensor =>
          eg.sum(eg.square(eg.grad(f, { createGraph: true })(a, b, c)[0]!));
        return eg.grad(gq)(q, k, v);
      };
      const [a, b] = [grads(false), grads(true)];
      a.forEach((t, i) => expect(maxAbsDiff(t, b[i]!)).toBeLessThan(1e-10));
    });
  });

  it("dropout: seeded, the kept fraction is ~1 - p, the expected value is preserved, backward is consistent", () => {
    const p = 0.25;
    const [lq, lk] = [64, 96];
    const q = eg.zeros([2, lq, 4]); // uniform weights 1/Lk
    const k = randn([2, lk, 4], 1);
    const v = eg.ones([2, lk, 1]);
    const run = (seed: number): eg.Tensor => sdpa(q, k, v, { dropout: p, generator: new eg.Generator(seed) }).output;
    expect(maxAbsDiff(run(3), run(3))).toBe(0);
    expect(maxAbsDiff(run(3), run(4))).toBeGreaterThan(0);
    // the output row is the mean of its dropout factors: compare with the regenerated mask
    const gen = new eg.Generator(3);
    const factors = attentionDropoutFactors([2], lq, lk, p, gen.nextUint32(), gen.nextUint32(), "float32");
    const expected = eg.mean(factors, -1, { keepDim: true });
    expect(maxAbsDiff(run(3), expected)).toBeLessThan(1e-5);
    const kept = Array.from(factors.data).filter((x) => x > 0).length / factors.size;
    expect(Math.abs(kept - (1 - p))).toBeLessThan(0.02);
    expect(Math.abs(eg.mean(run(3)).item() - 1)).toBeLessThan(0.03);
    // inactive when not training
    expect(maxAbsDiff(sdpa(q, k, v, { dropout: p, training: false }).output, eg.ones([2, lq, 1]))).toBeLessThan(1e-6);
    // the backward regenerates the forward's decisions: gradients equal the composite on the same factors
    const qq = randn([2, lq, 4], 8);
    const vv = randn([2, lk, 3], 9);
    for (const t of [qq, k, vv]) t.requiresGrad = true;
    const out = sdpa(qq, k, vv, { dropout: p, generator: new eg.Generator(3) }).output;
    eg.sum(eg.square(out)).backward();
    const fused = [qq.grad!, k.grad!, vv.grad!];
    for (const t of [qq, k, vv]) t.grad = null;
    const w = sdpa(qq, k, vv, { returnWeights: true }).weights!;
    const ref = eg.matmul(eg.mul(w, factors), vv);
    expect(maxAbsDiff(out, ref)).toBeLessThan(1e-5);
    eg.sum(eg.square(ref)).backward();
    fused.forEach((g, i) => expect(maxAbsDiff(g, [qq.grad!, k.grad!, vv.grad!][i]!)).toBeLessThan(1e-4));
  });

  it("keeps no (Lq, Lk) tensor: a T = 2048 forward + backward stays far below one score matrix", () => {
    const T = 2048;
    const e = eg.getBackend() === "ts" ? 8 : 32;
    const q = randn([1, T, e], 1);
    const k = randn([1, T, e], 2);
    const v = randn([1, T, e], 3);
    for (const t of [q, k, v]) t.requiresGrad = true;
    const before = process.memoryUsage().arrayBuffers;
    const out = fusedAttention(q, k, v, { causal: "start", scale: 1 / Math.sqrt(e) });
    const afterForward = process.memoryUsage().arrayBuffers - before;
    eg.sum(out).backward();
    const afterBackward = process.memoryUsage().arrayBuffers - before;
    const scores = T * T * 4; // 16 MiB
    // out + lse, then the seed gradient, dq, dk, dv, the leaves' grads and the kernel's O(T) scratch;
    // the composite keeps the scores and the probabilities (2 x 16 MiB)
    expect(afterForward).toBeLessThan(scores / 16);
    expect(afterBackward).toBeLessThan(scores / 2);
    expect(Array.from(k.grad!.data.subarray(0, 64)).every(Number.isFinite)).toBe(true);
  });

  it("validates loudly", () => {
    const q = randn([2, 3, 4], 1);
    const k = randn([2, 5, 4], 2);
    expect(() => sdpa(q, k, k, { mask: eg.ones([3, 5]) })).toThrow(/^scaledDotProductAttention: mask must be bool/);
    expect(() => sdpa(q, k, k, { mask: eg.ones([3, 4], { dtype: "bool" }) })).toThrow(eg.ShapeError);
    expect(() => sdpa(q, k, k, { dropout: 1 })).toThrow(/dropout must be < 1/);
    expect(() => fusedAttention(q, k, k, { scale: NaN })).toThrow(/^fusedAttention: scale must be finite/);
  });

  it.runIf(NATIVE)("native == ts on random shapes, masks, causal alignments and dropout", () => {
    const prev = eg.getBackend();
    try {
      fc.assert(
        fc.property(
          fc.record({
            batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
            bcastK: fc.boolean(),
            lq: fc.integer({ min: 1, max: 70 }),
            lk: fc.integer({ min: 1, max: 300 }),
            e: fc.integer({ min: 1, max: 40 }),
            ev: fc.integer({ min: 1, max: 20 }),
            causal: fc.constantFrom(undefined, "start", "end"),
            mask: fc.boolean(),
            dropout: fc.constantFrom(0, 0.2),
            seed: fc.integer({ min: 0, max: 1000 }),
          }),
          (c) => {
            const kb = c.bcastK ? c.batch.map(() => 1) : c.batch;
            const q = randn([...c.batch, c.lq, c.e], c.seed);
            const k = randn([...kb, c.lk, c.e], c.seed + 1);
            const v = randn([...kb, c.lk, c.ev], c.seed + 2);
            const mask = c.mask ? maskFor([c.lq, c.lk], c.seed) : undefined;
            const run = (backend: "ts" | "native"): eg.Tensor[] => {
              eg.setBackend(backend);
              const [a, b, d] = [q, k, v].map((t) => new eg.Tensor(t.data.slice(), t.shape, t.dtype));
              for (const t of [a!, b!, d!]) t.requiresGrad = true;
              const out = fusedAttention(a!, b!, d!, {
                scale: 0.4,
                dropout: c.dropout,
                generator: new eg.Generator(c.seed),
                ...(c.causal ? { causal: c.causal } : {}),
                ...(mask ? { mask } : {}),
              });
              eg.sum(eg.mul(out, randn(out.shape, 5))).backward();
              return [out, a!.grad!, b!.grad!, d!.grad!];
            };
            const [ts, nat] = [run("ts"), run("native")];
            ts.forEach((t, i) => expect(maxAbsDiff(nat[i]!, t)).toBeLessThan(1e-4 * Math.max(1, Math.sqrt(c.lk))));
          },
        ),
        { numRuns: 40, seed: 0x5d9a },
      );
    } finally {
      eg.setBackend(prev);
    }
  });
});
