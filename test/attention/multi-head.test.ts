/**
 * MultiHeadAttention: PyTorch 1.13 parity (fixtures from scripts/gen-attention-fixtures.py),
 * gradients, grouped-query heads, layouts, masks, state dicts, and a small learning task.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { keyPaddingMask } from "../../src/attention/masks.js";
import { loadTorchMultiheadAttention, MultiHeadAttention } from "../../src/attention/multi-head.js";
import { maxAbsDiff, onTs, setParam } from "../nn/helpers.js";

interface Enc {
  shape: number[];
  data: number[];
}
interface Case {
  name: string;
  config: { embedDim: number; numHeads: number; kdim: number; vdim: number };
  stateDict: Record<string, Enc>;
  query: Enc;
  key: Enc;
  value: Enc;
  keyPaddingMask: Enc;
  attnMask: Enc;
  output: Enc;
  weights: Enc;
  outputNoMask: Enc;
  weightsNoMask: Enc;
}
type Dtype = "float32" | "float64";

const fixture = JSON.parse(readFileSync(new URL("../fixtures/attention/mha.json", import.meta.url), "utf8")) as { cases: Case[] };

function dec(e: Enc, dtype: Dtype | "bool"): eg.Tensor {
  const data = dtype === "float64" ? Float64Array.from(e.data) : dtype === "float32" ? Float32Array.from(e.data) : Uint8Array.from(e.data);
  return eg.tensor(data, { shape: e.shape, ...(dtype === "bool" ? { dtype: "bool" as const } : {}) });
}

const randn = (shape: readonly number[], seed: number, dtype: Dtype = "float64"): eg.Tensor =>
  eg.randn(shape, { dtype, generator: new eg.Generator(seed) });

describe.each(["float32", "float64"] as const)("PyTorch nn.MultiheadAttention parity (%s)", (dtype) => {
  const tol = dtype === "float32" ? 1e-5 : 1e-10;
  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const m = new MultiHeadAttention(c.config.embedDim, c.config.numHeads, { kdim: c.config.kdim, vdim: c.config.vdim, dtype });
    loadTorchMultiheadAttention(m, Object.fromEntries(Object.entries(c.stateDict).map(([k, v]) => [k, dec(v, dtype)])));
    const [q, k, v] = [c.query, c.key, c.value].map((t) => dec(t, dtype)) as [eg.Tensor, eg.Tensor, eg.Tensor];
    const plain = m.forward(q, k, v);
    expect(maxAbsDiff(plain.output, dec(c.outputNoMask, "float64"))).toBeLessThan(tol);
    expect(maxAbsDiff(plain.weights!, dec(c.weightsNoMask, "float64"))).toBeLessThan(tol);
    // PyTorch's masks say true = blocked; Engram's say true = attend
    const masked = m.forward(q, k, v, {
      keyPaddingMask: keyPaddingMask(dec(c.keyPaddingMask, "bool")),
      attnMask: eg.logicalNot(dec(c.attnMask, "bool")),
    });
    expect(maxAbsDiff(masked.output, dec(c.output, "float64"))).toBeLessThan(tol);
    expect(maxAbsDiff(masked.weights!, dec(c.weights, "float64"))).toBeLessThan(tol);
  });
});

describe("MultiHeadAttention", () => {
  it("loadTorchMultiheadAttention rejects missing, unknown and add_bias_kv keys", () => {
    const c = fixture.cases[0]!;
    const sd = Object.fromEntries(Object.entries(c.stateDict).map(([k, v]) => [k, dec(v, "float32")]));
    const m = new MultiHeadAttention(c.config.embedDim, c.config.numHeads);
    const { in_proj_bias: _drop, ...missing } = sd;
    expect(() => loadTorchMultiheadAttention(m, missing)).toThrow(eg.CheckpointError);
    expect(() => loadTorchMultiheadAttention(m, { ...sd, bias_k: eg.zeros([1, 1, 8]) })).toThrow(/bias_k/);
    expect(() => loadTorchMultiheadAttention(new MultiHeadAttention(8, 2, { numKVHeads: 1 }), sd)).toThrow(eg.ArgumentError);
  });

  it("weights: averaged (B, Lq, Lk) or per head (B, H, Lq, Lk); needWeights false gives null", () => {
    const m = new MultiHeadAttention(8, 4, { generator: new eg.Generator(1), dtype: "float64" });
    const x = randn([2, 3, 8], 2);
    const y = randn([2, 5, 8], 3);
    const avg = m.forward(x, y, y);
    const per = m.forward(x, y, y, { averageWeights: false });
    expect(avg.output.shape).toEqual([2, 3, 8]);
    expect(avg.weights!.shape).toEqual([2, 3, 5]);
    expect(per.weights!.shape).toEqual([2, 4, 3, 5]);
    expect(maxAbsDiff(eg.mean(per.weights!, 1), avg.weights!)).toBeLessThan(1e-15);
    const none = m.forward(x, y, y, { needWeights: false });
    expect(none.weights).toBeNull();
    // without weights the fused kernel runs, with them the composite: equal up to rounding
    expect(maxAbsDiff(none.output, avg.output)).toBeLessThan(1e-5);
  });

  it("batchFirst false takes and returns (L, B, E)", () => {
    const a = new MultiHeadAttention(6, 2, { generator: new eg.Generator(4), dtype: "float64" });
    const b = new MultiHeadAttention(6, 2, { batchFirst: false, dtype: "float64" });
    b.loadStateDict(a.stateDict());
    const x = randn([2, 4, 6], 5);
    const want = a.forward(x, x, x, { isCausal: true }).output;
    const xt = eg.transpose(x, 0, 1);
    const got = b.forward(xt, xt, xt, { isCausal: true }).output;
    expect(got.shape).toEqual([4, 2, 6]);
    expect(maxAbsDiff(eg.transpose(got, 0, 1), want)).toBeLessThan(1e-15);
  });

  it("grouped-query heads equal standard heads whose K/V projections repeat each KV head", () => {
    const [e, h, hkv, d] = [8, 4, 2, 2];
    const gqa = new MultiHeadAttention(e, h, { numKVHeads: hkv, generator: new eg.Generator(6), dtype: "float64" });
    expect(gqa.kProj.weight.shape).toEqual([hkv * d, e]);
    const std = new MultiHeadAttention(e, h, { numKVHeads: h, dtype: "float64" });
    // head i of the standard module reads KV head floor(i / (h / hkv))
    const heads = Array.from({ length: h }, (_, i) => Math.floor(i / (h / hkv)));
    const rep = (t: eg.Tensor): eg.Tensor =>
      eg.concat(
        heads.map((j) => eg.narrow(t, 0, j * d, d)),
        0,
      );
    // non-zero biases so the bias path is compared too
    for (const p of [gqa.qProj, gqa.kProj, gqa.vProj, gqa.outProj]) p.bias!.data.set(randn(p.bias!.shape, p.bias!.size).data);
    const sd = gqa.stateDict();
    for (const key of ["kProj.weight", "kProj.bias", "vProj.weight", "vProj.bias"]) sd.set(key, rep(sd.get(key)!));
    std.loadStateDict(sd);
    const x = randn([2, 5, e], 7);
    const mem = randn([2, 6, e], 8);
    const kpm = keyPaddingMask([6, 4], 6);
    const a = gqa.forward(x, mem, mem, { keyPaddingMask: kpm, averageWeights: false });
    const b = std.forward(x, mem, mem, { keyPaddingMask: kpm, averageWeights: false });
    expect(maxAbsDiff(a.output, b.output)).toBeLessThan(1e-12);
    expect(maxAbsDiff(a.weights!, b.weights!)).toBeLessThan(1e-12);
    // multi-query (one KV head) runs and keys are shared by every head
    const mqa = new MultiHeadAttention(e, h, { numKVHeads: 1, dtype: "float64" });
    expect(mqa.forward(x, mem, mem).output.shape).toEqual([2, 5, e]);
  });

  it("masks: key padding, per-head attnMask, causal; fully masked rows give zeros, not NaN", () => {
    const m = new MultiHeadAttention(4, 2, { generator: new eg.Generator(9), dtype: "float64" });
    const x = randn([2, 3, 4], 10);
    const mem = randn([2, 4, 4], 11);
    const kpm = keyPaddingMask([4, 2], 4);
    const { weights } = m.forward(x, mem, mem, { keyPaddingMask: kpm, averageWeights: false });
    // batch 1: keys 2 and 3 get no weight in any head or query
    for (let hq = 0; hq < 6; hq++) for (const j of [2, 3]) expect(weights!.data[24 + hq * 4 + j]).toBe(0);
    const perHead = eg.ones([2, 2, 3, 4], { dtype: "bool" });
    perHead.data.fill(0, 12, 24); // batch 0, head 1: nothing allowed
    const r = m.forward(x, mem, mem, { attnMask: perHead, averageWeights: false });
    expect(Array.from(r.weights!.data.subarray(12, 24)).every((w) => w === 0)).toBe(true);
    expect(Array.from(r.output.data).every(Number.isFinite)).toBe(true);
    const causal = m.forward(x, x, x, { isCausal: true }).weights!;
    expect(causal.data[1]).toBe(0); // query 0 cannot see key 1
    const err = (opts: Parameters<MultiHeadAttention["forward"]>[3], cls: typeof eg.EngramError): void =>
      expect(() => m.forward(x, mem, mem, opts)).toThrow(cls);
    err({ keyPaddingMask: eg.ones([2, 3], { dtype: "bool" }) }, eg.ShapeError);
    err({ keyPaddingMask: eg.ones([2, 4]) }, eg.DTypeError);
    err({ attnMask: eg.ones([2, 3, 3, 4], { dtype: "bool" }) }, eg.ShapeError);
    expect(() => m.forward(x, randn([2, 4, 5], 12), mem)).toThrow(/^MultiHeadAttention:/);
    expect(() => m.forward(x, mem, randn([3, 4, 4], 13))).toThrow(eg.ShapeError);
  });

  it("validates constructor arguments", () => {
    expect(() => new MultiHeadAttention(10, 3)).toThrow(/^MultiHeadAttention: embedDim 10 must be divisible/);
    expect(() => new MultiHeadAttention(8, 4, { numKVHeads: 3 })).toThrow(eg.ArgumentError);
    expect(() => new MultiHeadAttention(8, 2, { dropout: 1 })).toThrow(eg.ArgumentError);
    expect(() => new MultiHeadAttention(8, 2, { dtype: "int32" })).toThrow(eg.DTypeError);
  });

  it("state dict: keys in declaration order, round trip reproduces the output", () => {
    const a = new MultiHeadAttention(6, 3, { kdim: 4, vdim: 5, numKVHeads: 1, generator: new eg.Generator(14) });
    const keys = ["qProj", "kProj", "vProj", "outProj"].flatMap((p) => [`${p}.weight`, `${p}.bias`]);
    expect([...a.stateDict().keys()]).toEqual(keys);
    expect(a.kProj.weight.shape).toEqual([2, 4]);
    const b = new MultiHeadAttention(6, 3, { kdim: 4, vdim: 5, numKVHeads: 1, generator: new eg.Generator(15) });
    const x = randn([2, 3, 6], 16, "float32");
    const k = randn([2, 5, 4], 17, "float32");
    const v = randn([2, 5, 5], 18, "float32");
    expect(maxAbsDiff(a.forward(x, k, v).output, b.forward(x, k, v).output)).toBeGreaterThan(1e-3);
    b.loadStateDict(a.stateDict());
    expect(maxAbsDiff(a.forward(x, k, v).output, b.forward(x, k, v).output)).toBe(0);
    const noBias = new MultiHeadAttention(6, 3, { bias: false });
    expect([...noBias.stateDict().keys()]).toEqual(["qProj.weight", "kProj.weight", "vProj.weight", "outProj.weight"]);
  });

  it("dropout on the weights only in training mode", () => {
    const m = new MultiHeadAttention(8, 2, { dropout: 0.5, generator: new eg.Generator(19), dtype: "float64" });
    const x = randn([2, 6, 8], 20);
    const train1 = m.forward(x, x, x).output;
    const train2 = m.forward(x, x, x).output;
    expect(maxAbsDiff(train1, train2)).toBeGreaterThan(1e-6);
    m.eval();
    expect(maxAbsDiff(m.forward(x, x, x).output, m.forward(x, x, x).output)).toBe(0);
  });

  it("gradcheck (float64, ts) through every projection, with GQA and masks", () => {
    onTs(() => {
      const m = new MultiHeadAttention(4, 2, { numKVHeads: 1, kdim: 3, generator: new eg.Generator(21), dtype: "float64" });
      const kpm = keyPaddingMask([4, 3], 4);
      const names = ["qProj.weight", "kProj.weight", "vProj.weight", "outProj.weight", "qProj.bias", "kProj.bias", "vProj.bias"];
      const sd = m.stateDict();
      const r = eg.gradcheck(
        (q, k, v, ...ps) => {
          names.forEach((n, i) => setParam(m, n, ps[i]!));
          return m.forward(q, k, v, { keyPaddingMask: kpm, isCausal: true, causalAlignment: "end" }).output;
        },
        [
          randn([2, 3, 4], 22),
          randn([2, 4, 3], 23),
          randn([2, 4, 4], 24),
          ...names.map((n) => eg.add(sd.get(n)!, randn(sd.get(n)!.shape, n.length, "float64").mul(0.1))),
        ],
      );
      expect(r.ok, JSON.stringify(r)).toBe(true);
    });
  });

  it("learns to copy the value whose key matches the query (Adam, 200 steps)", () => {
    const gen = new eg.Generator(25);
    const [e, lk, lq, batch] = [8, 6, 3, 16];
    const m = new MultiHeadAttention(e, 2, { generator: new eg.Generator(26) });
    const opt = new eg.optim.Adam(m.parameters(), { lr: 0.03 });
    const step = (): number => {
      // keys are distinct one-hot symbols (a random choice of lk of the e symbols per example)
      const u = eg.rand([batch, e], { generator: gen }).data;
      const sym = new Int32Array(batch * lk);
      for (let b = 0; b < batch; b++) {
        const order = Array.from({ length: e }, (_, i) => i).sort((i, j) => u[b * e + i]! - u[b * e + j]!);
        sym.set(order.slice(0, lk), b * lk);
      }
      const keys = eg.oneHot(eg.tensor(sym, { shape: [batch, lk] }), e, { dtype: "float32" });
      const values = eg.randn([batch, lk, e], { generator: gen });
      const idx = eg.randint(0, lk, [batch, lq, 1], { generator: gen });
      const pick = (t: eg.Tensor): eg.Tensor => eg.gather(t, 1, eg.expand(idx, [batch, lq, e]));
      const out = m.forward(pick(keys), keys, values, { needWeights: false }).output;
      const loss = eg.mseLoss(out, pick(values));
      opt.zeroGrad();
      loss.backward();
      opt.step();
      return loss.item();
    };
    const losses = Array.from({ length: 200 }, step);
    const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
    const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
    expect(first).toBeGreaterThan(0.5);
    expect(last).toBeLessThan(0.02 * first);
  });
});
